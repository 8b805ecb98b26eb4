"""IMF Direction of Trade Statistics (DOTS) bulk CSV reader.

Published layout (IMF data portal bulk download)::

    "Country Name","Country Code","Indicator Name","Indicator Code",
    "Counterpart Country Name","Counterpart Country Code","Attribute","1980","1980Q1","1980M1",...

``Country Code`` is the IMF's own numeric code, so countries are matched by
**name** (``China, P.R.: Mainland``, ``Korea, Rep. of``, ...). Indicators:
``TXG_FOB_USD`` (goods exports, FOB) and ``TMG_CIF_USD`` (goods imports,
CIF). Only ``Attribute == "Value"`` rows and annual columns are read. DOTS
publishes **millions of USD**; ``units`` says otherwise if your extract differs.

``flow="exports"`` returns exporter = reporting country; ``flow="imports"``
returns the mirror (importer = reporting country, exporter = counterpart).
"""

from __future__ import annotations

import re
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
    numeric,
    read_info,
    requested_years,
    require_columns,
    rows_of,
    unit_factor,
)

__all__ = ["read_dots"]

INDICATORS = {"exports": "TXG_FOB_USD", "imports": "TMG_CIF_USD"}
_ANNUAL = re.compile(r"^\d{4}$")


def read_dots(
    path: str | Path,
    *,
    flow: Literal["exports", "imports"] = "exports",
    years: Iterable[int] | None = None,
    units: str = "million_usd",
) -> pd.DataFrame:
    """Read DOTS into ``exporter, importer, year, trade`` (USD).

    ``attrs["gravity_coverage"]``: (ISO3, year) of reporters with at least one
    value that year. Blank cells of a covered reporter become zeros in the
    panel; uncovered reporters stay missing.

    Columns are read by name. Raises :class:`UnknownCountryError`,
    :class:`NegativeValueError`, :class:`DuplicateKeyError`,
    :class:`CoverageError`, :class:`UnitsError` and :class:`FileFormatError`
    (truncated, corrupt or non-UTF-8 file, a value that is not a finite number).
    """
    path = Path(path)
    fname = path.name
    factor = unit_factor(units, file=fname)
    years = requested_years(years)
    raw, info = read_csv(path)
    require_columns(raw, ["Country Name", "Indicator Code", "Counterpart Country Name"], file=fname)
    n_read = len(raw)
    sel = raw["Indicator Code"].str.strip() == INDICATORS[flow]
    if "Attribute" in raw:
        sel &= raw["Attribute"].str.strip() == "Value"
    if not sel.any():
        raise CoverageError(f"no rows of indicator {INDICATORS[flow]}", column="Indicator Code", file=fname)
    raw = raw.loc[sel]
    ycols = [c for c in raw.columns if _ANNUAL.match(c)]
    if not ycols:
        raise CoverageError("no annual columns ('1980', '1981', ...)", file=fname)
    check_years(years, [int(c) for c in ycols], file=fname)
    if years is not None:
        ycols = [c for c in ycols if int(c) in set(int(y) for y in years)]
    rep, r1 = harmonise(raw["Country Name"], kind="name", source=fname + " Country Name")
    par, r2 = harmonise(raw["Counterpart Country Name"], kind="name", source=fname + " Counterpart")
    unknown = sorted(set(r1.unmatched) | set(r2.unmatched))
    if unknown:
        bad = raw["Country Name"].isin(unknown) | raw["Counterpart Country Name"].isin(unknown)
        raise UnknownCountryError(f"unknown country names {unknown}", column="Country Name",
                                  rows=rows_of(raw, bad.to_numpy()), file=fname)
    keep = rep.notna().to_numpy() & par.notna().to_numpy()
    wide = pd.DataFrame({c: numeric(raw.loc[keep, c], file=fname, column=c) for c in ycols})
    wide["reporter"] = rep[keep].to_numpy()
    wide["partner"] = par[keep].to_numpy()
    long = wide.melt(id_vars=["reporter", "partner"], var_name="year", value_name="trade")
    long["year"] = long["year"].astype("int64")
    long = long.loc[long["trade"].notna()]
    long["trade"] = long["trade"] * factor
    coverage = long[["reporter", "year"]].drop_duplicates().rename(columns={"reporter": "iso3"})
    if flow == "exports":
        long = long.rename(columns={"reporter": "exporter", "partner": "importer"})
    else:
        long = long.rename(columns={"reporter": "importer", "partner": "exporter"})
    long = long[["exporter", "importer", "year", "trade"]].astype({"exporter": "string", "importer": "string"})
    long = long.loc[long["exporter"] != long["importer"]].reset_index(drop=True)
    check_nonnegative(long, "trade", file=fname)
    check_unique(long, ["exporter", "importer", "year"], file=fname)
    prov = file_provenance(path, source="IMF DOTS", reader="gravity.sources.dots.read_dots",
                           flow=flow, indicator=INDICATORS[flow], units_in=units, units_out="usd",
                           rows_read=n_read, rows_out=len(long),
                           dropped={"other indicators/attributes": int((~sel).sum()),
                                    "aggregate reporter or partner (rows)": int((~keep).sum())},
                           countries={"reporter": r1.to_dict(), "partner": r2.to_dict()},
                           **read_info(info))
    out = attach(long.sort_values(["year", "exporter", "importer"], ignore_index=True), prov,
                 coverage.reset_index(drop=True), side="exporter" if flow == "exports" else "importer")
    return out
