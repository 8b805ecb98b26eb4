"""Country harmonisation to ISO 3166-1 alpha-3 codes.

Every source speaks its own country language: BACI and UN Comtrade use numeric
codes (UN M49 with trade-specific variants such as 842 "USA, Puerto Rico and US
Virgin Islands", 490 "Other Asia, nes" for Taiwan), the CEPII GeoDist file uses
legacy ISO3 codes (``ROM``, ``ZAR``, ``TMP``, ``YUG``, ``PAL``), the World Bank
and the IMF mix ISO3 codes with aggregates ("EUU", "WLD") and write names their
own way ("Korea, Rep.", "China, P.R.: Mainland").

:func:`harmonise` maps any of these to ISO3 with the maintained
`country_converter` library (its table of ISO codes, numeric codes and name
regular expressions) and a short list of trade-data conventions that no library
carries (:data:`TRADE_NUMERIC`, :data:`LEGACY_ISO3`). It works on the unique
values only (vectorised) and returns a :class:`MatchReport` saying what could
not be matched, so that nothing is dropped silently.

Conventions (documented choices, not facts):

* historical entities are mapped to their continuing state when one exists
  (Serbia and Montenegro / Yugoslavia -> ``SRB``, former Sudan -> ``SDN``,
  Federal Republic of Germany -> ``DEU``), and kept under their own
  ISO3-like code otherwise (Belgium-Luxembourg ``BLX``, Czechoslovakia ``CSK``,
  USSR ``SUN``, Netherlands Antilles ``ANT``, SACU ``ZA1``);
* "Other Asia, nes" (numeric 490, BACI ``S19``) is Taiwan, ``TWN``;
* the trade-statistics numeric codes that include dependencies map to the main
  country (842 -> ``USA``, 251 -> ``FRA``, 699 -> ``IND``, 757 -> ``CHE``,
  579 -> ``NOR``);
* aggregates (World, regions, income groups, "Areas, nes") are unmatched by
  design and reported with ``kind="aggregate"``.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from gravity.errors import UnknownCountryError

__all__ = [
    "LEGACY_ISO3",
    "TRADE_NUMERIC",
    "MatchReport",
    "harmonise",
    "iso3_codes",
    "to_iso3",
]

Kind = Literal["auto", "iso3", "iso2", "numeric", "name"]

#: Numeric codes used by UN Comtrade / BACI that are not ISO 3166 numeric codes
#: of the country they stand for, or that stand for historical entities.
TRADE_NUMERIC: dict[int, str] = {
    842: "USA",  # USA, Puerto Rico and US Virgin Islands
    251: "FRA",  # France and Monaco
    699: "IND",  # India (trade code)
    757: "CHE",  # Switzerland and Liechtenstein
    579: "NOR",  # Norway, Svalbard and Jan Mayen
    490: "TWN",  # Other Asia, nes (Taiwan)
    158: "TWN",
    58: "BLX",  # Belgium-Luxembourg (until 1998)
    891: "SRB",  # Serbia and Montenegro (until 2005) -> continuing state
    890: "SRB",  # Yugoslavia (former) -> continuing state
    736: "SDN",  # Sudan (until 2011)
    280: "DEU",  # Federal Republic of Germany (until 1990)
    200: "CSK",  # Czechoslovakia
    810: "SUN",  # USSR
    530: "ANT",  # Netherlands Antilles
    532: "ANT",  # Netherlands Antilles (BACI code)
    711: "ZA1",  # Southern African Customs Union (until 1999)
    720: "YMD",  # Democratic Yemen (former)
    886: "YEM",  # Yemen (former Arab Rep.) -> continuing state
}

#: "nes" / world / special-category numeric codes of trade statistics: aggregates.
TRADE_AGGREGATE_NUMERIC = frozenset(
    {0, 97, 129, 221, 290, 471, 472, 473, 492, 527, 536, 568, 577, 636, 637, 697,
     838, 839, 849, 879, 899}
)

#: Legacy or non-standard alpha-3 codes found in published files.
LEGACY_ISO3: dict[str, str] = {
    "ROM": "ROU",  # Romania (CEPII GeoDist)
    "ZAR": "COD",  # Zaire / DR Congo (CEPII GeoDist)
    "TMP": "TLS",  # East Timor (CEPII GeoDist)
    "PAL": "PSE",  # Palestine (CEPII GeoDist)
    "YUG": "SRB",  # Yugoslavia (CEPII GeoDist) -> continuing state
    "SCG": "SRB",  # Serbia and Montenegro -> continuing state
    "SER": "SRB",
    "KSV": "XKX",  # Kosovo (IMF)
    "UVK": "XKX",  # Kosovo (IMF/World Bank variants)
    "S19": "TWN",  # BACI "Other Asia, nes"
    "DDR": "DDR",  # German Democratic Republic, kept as historical
    "CSK": "CSK",
    "SUN": "SUN",
    "BLX": "BLX",
    "ANT": "ANT",
    "ZA1": "ZA1",
    "YMD": "YMD",
}

#: Two-letter codes that are not ISO 3166 alpha-2 but appear in published lists.
LEGACY_ISO2: dict[str, str] = {"EL": "GRC", "UK": "GBR", "XK": "XKX"}

#: Historical ISO3-like codes kept under their own name (no continuing state).
HISTORICAL = frozenset({"BLX", "CSK", "SUN", "ANT", "ZA1", "YMD", "DDR"})

_AGGREGATE_PATTERN = re.compile(
    r"\bworld\b|\bincome\b|\bcountries\b|\bareas?\b|\bregions?\b|\bunion\b|\btotal\b|"
    r"\bnes\b|n\.e\.s|not specified|special categories|bunkers|free zones|aggregate|"
    r"\bida\b|\bibrd\b|\boecd\b|asia &|europe &|america &|africa eastern|africa western|"
    r"sub-saharan|fragile|small states|dividend|\beuro\b|\bopec\b|\bg7\b|\bg20\b|"
    r"emerging|advanced economies",
    re.IGNORECASE,
)


@dataclass
class MatchReport:
    """What a harmonisation matched and what it did not.

    Attributes
    ----------
    source : str
        Label of the source (file or reader) the codes came from.
    n_values : int
        Number of distinct input values.
    unmatched : dict[str, int]
        Distinct input values that could not be mapped, with their row counts.
    aggregates : dict[str, int]
        Unmatched values recognised as aggregates (world, regions, income groups).
    remapped : dict[str, str]
        Values mapped through a documented convention (legacy or trade codes).
    """

    source: str = ""
    n_values: int = 0
    unmatched: dict[str, int] = field(default_factory=dict)
    aggregates: dict[str, int] = field(default_factory=dict)
    remapped: dict[str, str] = field(default_factory=dict)

    @property
    def n_unmatched_rows(self) -> int:
        """Rows whose code could not be mapped (aggregates included)."""
        return int(sum(self.unmatched.values()) + sum(self.aggregates.values()))

    def to_dict(self) -> dict:
        """JSON-serialisable form (for provenance)."""
        return {
            "source": self.source,
            "n_values": self.n_values,
            "unmatched": dict(self.unmatched),
            "aggregates": dict(self.aggregates),
            "remapped": dict(self.remapped),
        }

    def __str__(self) -> str:
        parts = [f"{self.source}: {self.n_values} distinct values"]
        if self.remapped:
            parts.append(f"remapped by convention: {self.remapped}")
        if self.aggregates:
            parts.append(f"aggregates left out: {sorted(self.aggregates)}")
        if self.unmatched:
            parts.append(f"UNMATCHED: {sorted(self.unmatched)}")
        return "; ".join(parts)


@functools.lru_cache(maxsize=1)
def _converter():
    """A ``country_converter.CountryConverter`` built from its own table.

    The table is read with ``keep_default_na=False`` so that Namibia's ISO2 code
    "NA" stays a string (country_converter 1.3 fails to initialise under
    pandas 3 otherwise).
    """
    import country_converter as coco
    from country_converter.country_converter import COUNTRY_DATA_FILE

    data = pd.read_csv(
        COUNTRY_DATA_FILE, sep="\t", encoding="utf-8", dtype=str,
        keep_default_na=False, na_values=[""],
    )
    data["ISO2"] = data["ISO2"].fillna("(?!)")  # never-matching pattern
    for col in ("ISOnumeric", "UNcode", "FAOcode", "GBDcode", "GEOnumeric", "DACcode", "GWcode"):
        if col in data:
            data[col] = pd.to_numeric(data[col], errors="coerce").astype("Int64")
    for col in ("obsolete", "UNmember"):
        data[col] = pd.to_numeric(data[col], errors="coerce")
    logging.getLogger("country_converter").setLevel(logging.ERROR)
    return coco.CountryConverter(country_data=data, include_obsolete=True)


@functools.lru_cache(maxsize=1)
def _tables() -> tuple[frozenset[str], dict[str, str], dict[int, str]]:
    cc = _converter()
    d = cc.data
    iso3 = frozenset(d["ISO3"].dropna().astype(str)) | HISTORICAL
    iso2 = {str(a).upper(): str(b) for a, b in zip(d["ISO2"], d["ISO3"], strict=True)
            if isinstance(a, str) and len(a) == 2}
    num = {int(a): str(b) for a, b in zip(d["ISOnumeric"], d["ISO3"], strict=True)
           if not pd.isna(a)}
    return iso3, iso2, num


def iso3_codes() -> frozenset[str]:
    """The set of ISO3 codes the harmonisation can return (plus historical codes)."""
    return _tables()[0]


def _map_unique(values: np.ndarray, kind: Kind) -> tuple[dict, dict[str, str]]:
    """Map distinct raw values to ISO3; returns mapping and conventions used."""
    iso3, iso2, num = _tables()
    out: dict = {}
    remapped: dict[str, str] = {}
    names: list = []
    for v in values:  # distinct values only (a few hundred at most)
        s = str(v).strip()
        k = kind
        if k == "auto":
            if re.fullmatch(r"\d+(\.0+)?", s):
                k = "numeric"
            elif re.fullmatch(r"[A-Za-z]{3}", s) and s.upper() in (iso3 | set(LEGACY_ISO3)):
                k = "iso3"
            elif re.fullmatch(r"[A-Za-z]{2}", s):
                k = "iso2"
            else:
                k = "name"
        if k == "numeric":
            try:
                n = int(float(s))
            except ValueError:
                out[v] = None
                continue
            if n in TRADE_AGGREGATE_NUMERIC:
                out[v] = None
            elif n in TRADE_NUMERIC:
                out[v] = TRADE_NUMERIC[n]
                remapped[s] = TRADE_NUMERIC[n]
            else:
                out[v] = num.get(n)
        elif k == "iso3":
            u = s.upper()
            if u in LEGACY_ISO3 and LEGACY_ISO3[u] != u:
                out[v] = LEGACY_ISO3[u]
                remapped[s] = LEGACY_ISO3[u]
            else:
                out[v] = u if u in iso3 else None
        elif k == "iso2":
            u = s.upper()
            if u in LEGACY_ISO2:
                out[v] = LEGACY_ISO2[u]
                remapped[s] = LEGACY_ISO2[u]
            else:
                out[v] = iso2.get(u)
        else:
            names.append(v)
    if names:
        clean = [str(n).strip() for n in names]
        keep = [not _AGGREGATE_PATTERN.search(c) or bool(re.search(r"other asia", c, re.I))
                for c in clean]
        to_conv = [c for c, kept in zip(clean, keep, strict=True) if kept]
        conv = _converter().convert(to_conv, src="regex", to="ISO3", not_found=None) if to_conv else []
        if isinstance(conv, str):
            conv = [conv]
        it = iter(conv)
        for raw, c, kept in zip(names, clean, keep, strict=True):
            r = next(it) if kept else None
            if isinstance(r, list) or r not in iso3:  # ambiguous or not found
                r = None
            if r is None and re.search(r"other asia", c, re.I):
                r = "TWN"
                remapped[c] = "TWN"
            out[raw] = r
    return out, remapped


def _is_aggregate_number(key: str) -> bool:
    try:
        return int(float(key)) in TRADE_AGGREGATE_NUMERIC
    except ValueError:
        return False


def harmonise(
    values: Iterable | pd.Series,
    *,
    kind: Kind = "auto",
    source: str = "",
) -> tuple[pd.Series, MatchReport]:
    """Map country codes or names to ISO3.

    Parameters
    ----------
    values : iterable or Series
        Raw codes or names (numeric codes as int or str).
    kind : {"auto", "iso3", "iso2", "numeric", "name"}
        What the values are. "auto" decides per value (digits -> numeric,
        3 letters -> ISO3, 2 letters -> ISO2, otherwise a name).
    source : str
        Label used in the report.

    Returns
    -------
    (Series, MatchReport)
        ISO3 codes aligned with ``values`` (``<NA>`` where unmatched) and the
        report of what was unmatched.
    """
    s = values if isinstance(values, pd.Series) else pd.Series(list(values))
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    mapping, remapped = _map_unique(np.asarray(uniques, dtype=object), kind)
    mapped_u = np.array([mapping.get(u) for u in uniques], dtype=object)
    result = pd.Series(
        np.where(codes >= 0, mapped_u[np.maximum(codes, 0)] if len(uniques) else None, None),
        index=s.index, dtype="string",
    )
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    report = MatchReport(source=source, n_values=len(uniques), remapped=remapped)
    for u, m, c in zip(uniques, mapped_u, counts, strict=True):
        if m is None:
            key = str(u)
            if _AGGREGATE_PATTERN.search(key) or _is_aggregate_number(key):
                report.aggregates[key] = int(c)
            else:
                report.unmatched[key] = int(c)
    return result, report


def to_iso3(
    values: Iterable | pd.Series,
    *,
    kind: Kind = "auto",
    strict: bool = True,
    file: str | None = None,
    column: str | None = None,
) -> pd.Series:
    """Map to ISO3 and raise :class:`UnknownCountryError` listing unmatched values.

    Aggregates are not an error (they are set to ``<NA>``); with ``strict=False``
    unknown values are set to ``<NA>`` too.
    """
    out, report = harmonise(values, kind=kind, source=file or "")
    if strict and report.unmatched:
        s = values if isinstance(values, pd.Series) else pd.Series(list(values))
        bad = s.astype(str).str.strip().isin(list(report.unmatched))
        raise UnknownCountryError(
            f"unknown country codes {sorted(report.unmatched)}",
            column=column, file=file, rows=np.flatnonzero(bad.to_numpy()),
        )
    return out
