"""World Bank World Development Indicators reader (wide-year CSV).

Two published layouts are accepted:

* the bulk download (``WDICSV.csv`` / ``WDIData.csv``, or the ``WDI_CSV.zip``):
  ``Country Name, Country Code, Indicator Name, Indicator Code, 1960, 1961, ...``;
* the DataBank export: ``Country Name, Country Code, Series Name, Series Code,
  2005 [YR2005], ...`` with ``..`` for missing values (and a footer of notes).

Series codes are renamed to the canonical names of :data:`SERIES` (GDP in
current USD, population in persons, domestic credit to the private sector in
percent of GDP); other series keep their code with dots replaced by
underscores. Aggregates (World, regions, income groups) are dropped and
listed in the provenance's country report.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from gravity.countries import harmonise
from gravity.errors import CoverageError, FileFormatError, UnknownCountryError
from gravity.sources.fileio import read_csv
from gravity.sources.validate import (
    attach,
    check_nonnegative,
    check_unique,
    check_years,
    file_provenance,
    numeric,
    read_info,
    requested_years,
    require_columns,
    rows_of,
)

__all__ = ["SERIES", "read_wdi"]

#: WDI series code -> canonical column.
SERIES: dict[str, str] = {
    "NY.GDP.MKTP.CD": "gdp",
    "SP.POP.TOTL": "pop",
    "FS.AST.PRVT.GD.ZS": "credit",
    "NY.GDP.PCAP.CD": "gdp_pc",
}
_YEAR = re.compile(r"^(\d{4})(?: \[YR\d{4}\])?$")

#: WDI codes of aggregates that are not countries.
WDI_AGGREGATES = frozenset(
    "AFE AFW ARB CEB CSS EAP EAR EAS ECA ECS EMU EUU FCS HIC HPC IBD IBT IDA IDB IDX INX LAC "
    "LCN LDC LIC LMC LMY LTE MEA MIC MNA NAC OED OSS PRE PSS PST SAS SSA SSF SST TEA TEC TLA "
    "TMN TSA TSS UMC WLD".split()
)


#: DataBank exports end with notes ("Data from database: ...", "Last Updated: ...").
DATABANK_FOOTER = re.compile(r"(Data from database|Last Updated|Source|Note)\b", re.IGNORECASE)


def _open(path: Path) -> tuple[pd.DataFrame, dict]:
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as z:
                name = next((n for n in z.namelist() if re.search(r"WDI(CSV|Data)\.csv$", n)), None)
        except zipfile.BadZipFile as e:
            raise FileFormatError(f"corrupt or truncated zip archive ({e})", file=path.name) from None
        if name is None:
            raise FileFormatError("no WDICSV.csv / WDIData.csv in the zip archive", file=path.name)
        return read_csv(path, member=name, footer=DATABANK_FOOTER)
    return read_csv(path, footer=DATABANK_FOOTER)


def read_wdi(
    path: str | Path,
    *,
    series: Iterable[str] | None = None,
    years: Iterable[int] | None = None,
    countries: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Read WDI into a country-year table: ``iso3, year`` + one column per series.

    Parameters
    ----------
    path : WDI bulk CSV / zip or DataBank CSV (UTF-8, BOM allowed).
    series : series codes to keep (default: every code in :data:`SERIES` present).
    years, countries : optional filters.

    Notes
    -----
    Units: as published (``gdp`` current USD, ``pop`` persons, ``credit`` % of GDP).
    Columns are read by name; ``..`` and empty cells are missing. Aggregates
    (:data:`WDI_AGGREGATES`) are dropped and listed; any other code that is not
    a country raises :class:`UnknownCountryError`. A truncated or corrupt
    file, a row with the wrong number of fields (the DataBank footer of notes
    excepted) or a value that is not a number raises :class:`FileFormatError`.
    """
    path = Path(path)
    years = requested_years(years)
    raw, info = _open(path)
    fname = path.name
    raw = raw.rename(columns={"Indicator Code": "Series Code", "Indicator Name": "Series Name"})
    require_columns(raw, ["Country Code", "Series Code"], file=fname)
    # DataBank footer: rows without a series code ("Data from database: ...")
    raw = raw.loc[raw["Series Code"].str.strip() != ""]
    year_cols = {c: int(m.group(1)) for c in raw.columns if (m := _YEAR.match(c))}
    if not year_cols:
        raise CoverageError("no year columns (e.g. '2015' or '2015 [YR2015]')", file=fname)
    codes = raw["Series Code"].str.strip()
    wanted = list(series) if series is not None else [c for c in SERIES if c in set(codes)]
    absent = [c for c in wanted if c not in set(codes)]
    if absent:
        raise CoverageError(f"series {absent} not in the file", column="Series Code", file=fname)
    raw = raw.loc[codes.isin(wanted)]
    check_years(years, year_cols.values(), file=fname)
    iso, report = harmonise(raw["Country Code"].str.strip(), kind="iso3", source=fname)
    is_agg = raw["Country Code"].str.strip().isin(WDI_AGGREGATES).to_numpy()
    for k in list(report.unmatched):
        if k in WDI_AGGREGATES:
            report.aggregates[k] = report.unmatched.pop(k)
    if report.unmatched:
        bad = (iso.isna().to_numpy() & ~is_agg)
        raise UnknownCountryError(
            f"unknown country codes {sorted(report.unmatched)} (neither countries nor WDI aggregates)",
            column="Country Code", rows=rows_of(raw, bad), file=fname,
        )
    values = pd.DataFrame({c: numeric(raw[c], file=fname, column=c) for c in year_cols}, index=raw.index)
    keep = iso.notna().to_numpy() & ~is_agg
    long = values.loc[keep].assign(iso3=iso[keep].to_numpy(),
                                   **{"Series Code": raw.loc[keep, "Series Code"].to_numpy()}).melt(
        id_vars=["iso3", "Series Code"], value_vars=list(year_cols), var_name="ycol", value_name="value"
    )
    long["year"] = long["ycol"].map(year_cols).astype("int64")
    long["series"] = long["Series Code"].str.strip().map(lambda c: SERIES.get(c, c.replace(".", "_")))
    check_unique(long, ["iso3", "series", "year"], file=fname)
    wide = long.pivot(index=["iso3", "year"], columns="series", values="value").reset_index()
    wide.columns.name = None
    if years is not None:
        wide = wide.loc[wide["year"].isin(list(years))]
    if countries is not None:
        wide = wide.loc[wide["iso3"].isin(list(countries))]
    wide["iso3"] = wide["iso3"].astype("string")
    for c in ("gdp", "pop"):
        if c in wide:
            check_nonnegative(wide, c, file=fname)
    wide = wide.sort_values(["iso3", "year"], ignore_index=True)
    prov = file_provenance(
        path, source="World Bank WDI", reader="gravity.sources.wdi.read_wdi",
        series=wanted, rows_read=len(raw), rows_out=len(wide),
        dropped={"aggregates (rows of series)": int(is_agg.sum()),
                 "unmatched country codes": 0},
        countries=report.to_dict(),
        units={"gdp": "current usd", "pop": "persons", "credit": "% of GDP"},
        **read_info(info),
    )
    return attach(wide, prov)
