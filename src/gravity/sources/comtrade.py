"""UN Comtrade bulk / API CSV reader (exports, or imports mirrored to exports).

Accepted layouts:

* the current API / bulk files: ``refYear, reporterCode, reporterISO,
  reporterDesc, flowCode, partnerCode, partnerISO, partnerDesc, partner2Code,
  cmdCode, customsCode, motCode, ..., primaryValue`` (``cifvalue``,
  ``fobvalue``);
* the legacy bulk files: ``Year, Trade Flow Code`` (1 import, 2 export),
  ``Reporter Code, Partner Code, Commodity Code, Trade Value (US$)``.

Values are in **USD**. Only all-goods totals are used (``cmdCode == "TOTAL"``),
partner 0 (World) and the breakdowns by second partner, customs procedure and
mode of transport are left out (their "all" codes are kept) so nothing is
counted twice. ``flow="X"`` returns the reporters' exports
(exporter = reporter); ``flow="M"`` returns the mirror: the reporters' imports
with exporter = partner, importer = reporter (CIF values).
Country codes are UN M49 / Comtrade numeric codes (842 USA, 490 Taiwan, ...).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import pandas as pd

from gravity.countries import harmonise
from gravity.errors import CoverageError, UnknownCountryError
from gravity.sources.fileio import read_csv
from gravity.sources.validate import (
    attach,
    check_nonnegative,
    check_unique,
    check_years,
    file_provenance,
    integers,
    numeric,
    read_info,
    requested_years,
    require_columns,
    rows_of,
)

__all__ = ["read_comtrade"]

LEGACY = {
    "Year": "refYear", "Reporter Code": "reporterCode", "Partner Code": "partnerCode",
    "Commodity Code": "cmdCode", "Trade Value (US$)": "primaryValue", "Reporter": "reporterDesc",
    "Partner": "partnerDesc", "Reporter ISO": "reporterISO", "Partner ISO": "partnerISO",
}


def read_comtrade(
    path: str | Path,
    *,
    flow: Literal["X", "M"] = "X",
    years: Iterable[int] | None = None,
    value: str = "primaryValue",
) -> pd.DataFrame:
    """Read a Comtrade CSV into ``exporter, importer, year, trade`` (USD).

    ``attrs["gravity_coverage"]`` lists the reporters (ISO3, year) of the file:
    a flow absent for a covered reporter is a zero, for an uncovered one missing;
    a flow reported with an empty value stays missing (NaN).

    Columns are read by name. Raises :class:`UnknownCountryError`,
    :class:`NegativeValueError`, :class:`DuplicateKeyError`,
    :class:`CoverageError` and :class:`FileFormatError` (truncated, corrupt or
    non-UTF-8 file, a year that is not an integer, a value that is not a
    finite number), naming the file, column and rows.
    """
    path = Path(path)
    fname = path.name
    years = requested_years(years)
    raw, info = read_csv(path)
    raw = raw.rename(columns={k: v for k, v in LEGACY.items() if k in raw.columns})
    if "Trade Flow Code" in raw:
        raw["flowCode"] = raw["Trade Flow Code"].map({"1": "M", "2": "X", "3": "RX", "4": "RM"})
    require_columns(raw, ["refYear", "reporterCode", "partnerCode", "flowCode", "cmdCode", value], file=fname)
    n_read = len(raw)
    raw["refYear"] = integers(raw["refYear"], file=fname, column="refYear")
    raw[value] = numeric(raw[value], file=fname, column=value)
    dropped: dict[str, int] = {}
    sel = (raw["flowCode"] == flow) & (raw["cmdCode"].str.upper() == "TOTAL")
    for col, allcode in (("partner2Code", "0"), ("motCode", "0"), ("customsCode", "C00")):
        if col in raw:
            sel &= raw[col].str.strip().isin([allcode, ""])
    if not sel.any():
        raise CoverageError(f"no rows with flowCode == {flow!r} and cmdCode == 'TOTAL'", column="cmdCode", file=fname)
    dropped["other flows, products or breakdowns"] = int((~sel).sum())
    raw = raw.loc[sel]
    world = raw["partnerCode"].str.strip().isin(["0"])
    dropped["partner World"] = int(world.sum())
    years_all = raw["refYear"]
    check_years(years, years_all.unique(), file=fname, column="refYear")
    rep, r1 = harmonise(raw["reporterCode"].str.strip(), kind="numeric", source=fname + " reporterCode")
    par, r2 = harmonise(raw["partnerCode"].str.strip(), kind="numeric", source=fname + " partnerCode")
    unknown = sorted(set(r1.unmatched) | set(r2.unmatched))
    if unknown:
        bad = raw["reporterCode"].isin(unknown) | raw["partnerCode"].isin(unknown)
        raise UnknownCountryError(f"unknown country codes {unknown}", column="reporterCode,partnerCode",
                                  rows=rows_of(raw, bad.to_numpy()), file=fname)
    df = pd.DataFrame({
        "reporter": rep.to_numpy(), "partner": par.to_numpy(),
        "year": years_all.to_numpy(), "trade": raw[value].to_numpy(dtype=float),
    }, index=raw.index)  # the file's data rows, for the errors below
    coverage = df.loc[df["reporter"].notna(), ["reporter", "year"]].drop_duplicates()
    coverage = coverage.rename(columns={"reporter": "iso3"}).reset_index(drop=True)
    keep = df["partner"].notna().to_numpy() & ~world.to_numpy()
    dropped["aggregate partners (areas nes, special categories)"] = int((~keep).sum()) - int(world.sum())
    df = df.loc[keep]
    if years is not None:
        df = df.loc[df["year"].isin(list(years))]
        coverage = coverage.loc[coverage["year"].isin(list(years))]
    if flow == "X":
        df = df.rename(columns={"reporter": "exporter", "partner": "importer"})
    else:
        df = df.rename(columns={"reporter": "importer", "partner": "exporter"})
    df = df[["exporter", "importer", "year", "trade"]]
    df = df.astype({"exporter": "string", "importer": "string"})
    check_nonnegative(df, "trade", file=fname)
    check_unique(df, ["exporter", "importer", "year"], file=fname)
    df = df.reset_index(drop=True)
    prov = file_provenance(path, source="UN Comtrade", reader="gravity.sources.comtrade.read_comtrade",
                           flow=flow, rows_read=n_read, rows_out=len(df), dropped=dropped,
                           coverage_side="exporter" if flow == "X" else "importer",
                           countries={"reporter": r1.to_dict(), "partner": r2.to_dict()},
                           units_out="usd", trade_missing=int(df["trade"].isna().sum()),
                           **read_info(info))
    out = attach(df.sort_values(["year", "exporter", "importer"], ignore_index=True), prov, coverage,
                 side="exporter" if flow == "X" else "importer")
    return out
