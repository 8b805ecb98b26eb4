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

import numpy as np
import pandas as pd

from gravity.countries import harmonise
from gravity.errors import CoverageError, UnknownCountryError
from gravity.sources._validate import (
    attach,
    check_nonnegative,
    check_unique,
    check_years,
    file_provenance,
    numeric,
    require_columns,
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
    a flow absent for a covered reporter is a zero, for an uncovered one missing.
    """
    path = Path(path)
    fname = path.name
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    raw = raw.rename(columns={k: v for k, v in LEGACY.items() if k in raw.columns})
    if "Trade Flow Code" in raw:
        raw["flowCode"] = raw["Trade Flow Code"].map({"1": "M", "2": "X", "3": "RX", "4": "RM"})
    require_columns(raw, ["refYear", "reporterCode", "partnerCode", "flowCode", "cmdCode", value], file=fname)
    n_read = len(raw)
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
    years_all = pd.to_numeric(raw["refYear"]).astype("int64")
    check_years(years, years_all.unique(), file=fname, column="refYear")
    rep, r1 = harmonise(raw["reporterCode"].str.strip(), kind="numeric", source=fname + " reporterCode")
    par, r2 = harmonise(raw["partnerCode"].str.strip(), kind="numeric", source=fname + " partnerCode")
    unknown = sorted(set(r1.unmatched) | set(r2.unmatched))
    if unknown:
        bad = raw["reporterCode"].isin(unknown) | raw["partnerCode"].isin(unknown)
        raise UnknownCountryError(f"unknown country codes {unknown}", column="reporterCode,partnerCode",
                                  rows=np.flatnonzero(bad.to_numpy()), file=fname)
    df = pd.DataFrame({
        "reporter": rep.to_numpy(), "partner": par.to_numpy(),
        "year": years_all.to_numpy(), "trade": numeric(raw[value]).to_numpy(),
    })
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
    df = df[["exporter", "importer", "year", "trade"]].reset_index(drop=True)
    df["exporter"] = df["exporter"].astype("string")
    df["importer"] = df["importer"].astype("string")
    check_nonnegative(df, "trade", file=fname)
    check_unique(df, ["exporter", "importer", "year"], file=fname)
    prov = file_provenance(path, source="UN Comtrade", reader="gravity.sources.comtrade.read_comtrade",
                           flow=flow, rows_read=n_read, rows_out=len(df), dropped=dropped,
                           coverage_side="exporter" if flow == "X" else "importer",
                           countries={"reporter": r1.to_dict(), "partner": r2.to_dict()},
                           units_out="usd")
    out = attach(df.sort_values(["year", "exporter", "importer"], ignore_index=True), prov, coverage,
                 side="exporter" if flow == "X" else "importer")
    return out
