"""CEPII Gravity database reader (``Gravity_V202211.dta`` / ``.csv`` / release zip).

The published file has one row per origin-destination-year (``iso3_o``,
``iso3_d``, ``year``; 87 columns in V202211, domestic pairs included) with
distances in km, dummies, and macro series **in thousands**: ``gdp_o``/``gdp_d``
in thousand current USD, ``pop_o``/``pop_d`` in thousands of people and the
``tradeflow_*`` columns in thousand current USD.

:func:`read_cepii_gravity` returns the canonical names and **converts units**:
``gdp_*`` to USD, ``pop_*`` to persons and ``tradeflow_*`` to USD (all x 1000).
``colony`` is CEPII's ``col_dep_ever`` (pair ever in a colonial or dependency
relationship).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from gravity.countries import LEGACY_ISO3
from gravity.sources._validate import (
    attach,
    check_nonnegative,
    check_unique,
    check_years,
    file_provenance,
    require_columns,
)

__all__ = ["read_cepii_gravity", "CEPII_RENAME"]

#: CEPII column -> canonical panel column.
CEPII_RENAME: dict[str, str] = {
    "iso3_o": "exporter",
    "iso3_d": "importer",
    "col_dep_ever": "colony",
    "distw_harmonic": "distw",
}
CANONICAL = [
    "exporter", "importer", "year", "dist", "distw", "distcap", "contig", "comlang_off",
    "comlang_ethno", "colony", "comcol", "col45", "fta_wto", "wto_o", "wto_d", "eu_o", "eu_d",
    "gdp_o", "gdp_d", "pop_o", "pop_d",
    "tradeflow_comtrade_o", "tradeflow_comtrade_d", "tradeflow_baci", "manuf_tradeflow_baci",
    "tradeflow_imf_o", "tradeflow_imf_d",
]
THOUSANDS = ["gdp_o", "gdp_d", "pop_o", "pop_d", "gdp_ppp_o", "gdp_ppp_d",
             "tradeflow_comtrade_o", "tradeflow_comtrade_d", "tradeflow_baci",
             "manuf_tradeflow_baci", "tradeflow_imf_o", "tradeflow_imf_d"]
_VERSION = re.compile(r"V(\d{6})", re.IGNORECASE)


def _read_raw(path: Path, years: Iterable[int] | None) -> pd.DataFrame:
    suf = path.suffix.lower()
    if suf == ".dta":
        return pd.read_stata(path, convert_categoricals=False)
    if suf == ".zip":
        with zipfile.ZipFile(path) as z:
            name = next(n for n in z.namelist() if n.lower().endswith(".csv") and "gravity" in n.lower())
            from gravity.sources._download import cache_dir

            target = cache_dir() / Path(name).name
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                z.extract(name, target.parent)
                (target.parent / name).rename(target)
        path = target
    import duckdb

    where = ""
    if years is not None:
        where = "WHERE year IN (" + ",".join(str(int(y)) for y in years) + ")"
    con = duckdb.connect()
    try:
        return con.execute(
            f"SELECT * FROM read_csv_auto('{str(path)}', header=true, sample_size=-1) {where}"
        ).df()
    finally:
        con.close()


def read_cepii_gravity(
    path: str | Path,
    *,
    years: Iterable[int] | None = None,
    countries: Iterable[str] | None = None,
    keep_all: bool = False,
    existing_only: bool = True,
) -> pd.DataFrame:
    """Read the CEPII Gravity database into canonical pair-year columns.

    Parameters
    ----------
    path : path to ``Gravity_V*.dta``, ``Gravity_V*.csv`` or ``Gravity_csv_V*.zip``.
    years, countries : optional filters (ISO3 codes for both sides).
    keep_all : keep every other CEPII column under its own name.
    existing_only : drop rows where ``country_exists_o`` or ``_d`` is 0
        (CEPII carries non-existing countries as empty rows).

    Returns
    -------
    DataFrame with ``exporter, importer, year, dist, distw, contig, comlang_off,
    colony, fta_wto, gdp_o, gdp_d (USD), pop_o, pop_d (persons), tradeflow_*
    (USD)`` and more (see :data:`CANONICAL`).
    """
    path = Path(path)
    raw = _read_raw(path, years)
    fname = path.name
    require_columns(raw, ["iso3_o", "iso3_d", "year", "dist", "contig", "comlang_off"], file=fname)
    n_read = len(raw)
    dropped: dict[str, int] = {}
    if years is not None:
        check_years(years, raw["year"].unique(), file=fname)
        raw = raw.loc[raw["year"].isin(list(years))]
    if existing_only and "country_exists_o" in raw:
        ok = (raw["country_exists_o"] == 1) & (raw["country_exists_d"] == 1)
        dropped["country does not exist in year (country_exists == 0)"] = int((~ok).sum())
        raw = raw.loc[ok]
    df = raw.rename(columns=CEPII_RENAME)
    for side in ("exporter", "importer"):
        df[side] = df[side].astype("string").str.strip().replace(LEGACY_ISO3)
    if countries is not None:
        keep = set(countries)
        sel = df["exporter"].isin(keep) & df["importer"].isin(keep)
        dropped["outside the requested countries"] = int((~sel).sum())
        df = df.loc[sel]
    df["year"] = df["year"].astype("int64")
    for c in THOUSANDS:
        if c in df:
            df[c] = df[c].astype(float) * 1000.0
    for c in ("dist", "distw", "distcap"):
        if c in df:
            df[c] = df[c].astype(float)
    cols = [c for c in CANONICAL if c in df.columns]
    if keep_all:
        cols += [c for c in df.columns if c not in cols]
    df = df[cols].reset_index(drop=True)
    check_unique(df, ["exporter", "importer", "year"], file=fname)
    for c in ("tradeflow_baci", "tradeflow_imf_o", "tradeflow_imf_d", "gdp_o", "pop_o"):
        if c in df:
            check_nonnegative(df, c, file=fname)
    m = _VERSION.search(fname)
    prov = file_provenance(
        path, source="CEPII Gravity", version=("V" + m.group(1)) if m else None,
        reader="gravity.sources.cepii_gravity.read_cepii_gravity",
        rows_read=n_read, rows_out=len(df), dropped=dropped,
        units={"gdp": "usd (x1000 from thousand USD)", "pop": "persons (x1000)",
               "tradeflow_*": "usd (x1000 from thousand USD)", "dist": "km"},
    )
    return attach(df, prov)


def flows_from_cepii(df: pd.DataFrame, column: str = "tradeflow_baci") -> pd.DataFrame:
    """Take one ``tradeflow_*`` column of a CEPII frame as the panel's ``trade`` (USD).

    CEPII has no true zeros: missing flows stay missing (NaN).
    """
    out = df[["exporter", "importer", "year"]].copy()
    out["trade"] = df[column].to_numpy(dtype=float)
    prov = dict(df.attrs.get("gravity_provenance", {}))
    prov["trade_column"] = column
    # CEPII has no true zeros: a missing flow stays missing (no zero filling)
    none = pd.DataFrame({"iso3": pd.Series([], dtype="string"), "year": pd.Series([], dtype="int64")})
    return attach(out, prov, none, side="none")
