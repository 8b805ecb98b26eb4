"""WITS / UNCTAD TRAINS tariff export reader (reporter-partner-year averages).

Published layout of a WITS "Tariff and Trade Analysis" download::

    Selected Nomen,Native Nomen,Reporter,Reporter Name,Product,Product Name,Partner,
    Partner Name,Tariff Year,Trade Year,Trade Source,DutyType,Simple Average,
    Weighted Average,Standard Deviation,Minimum Rate,Maximum Rate,Nbr of Total Lines,...

``Reporter`` (the country that sets the tariff, i.e. the **importer**) and
``Partner`` (the **exporter**) are numeric UN codes (000 = World). ``DutyType``
is ``AHS`` (effectively applied), ``MFN``, ``BND`` or ``PRF``. Rates are in
**percent**. Only all-product rows are read (``Product`` "Total", "TOTAL" or
"999999", or a file with one product per key).

Returned columns: ``importer, exporter, year`` and ``tariff_<dutytype>_simple``,
``tariff_<dutytype>_weighted`` for each duty type present (lower case).
Partner World rows come back with ``exporter == "WLD"``: the builder uses
them for pairs without a bilateral row (MFN rates apply to every partner).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gravity.countries import harmonise
from gravity.errors import UnitsError, UnknownCountryError
from gravity.sources.fileio import read_csv
from gravity.sources.validate import (
    attach,
    check_unique,
    file_provenance,
    integers,
    numeric,
    read_info,
    require_columns,
    rows_of,
)

__all__ = ["read_wits_tariffs"]

TOTAL_PRODUCTS = {"total", "999999", "all products", "tot"}


def read_wits_tariffs(path: str | Path) -> pd.DataFrame:
    """Read a WITS/TRAINS tariff CSV into importer-exporter-year average rates (percent).

    Columns are read by name. Raises :class:`UnknownCountryError`,
    :class:`UnitsError`, :class:`DuplicateKeyError` and
    :class:`FileFormatError` (truncated, corrupt or non-UTF-8 file, a year that
    is not an integer, a rate that is not a finite number).
    """
    path = Path(path)
    fname = path.name
    raw, info = read_csv(path)
    require_columns(raw, ["Reporter", "Partner", "Tariff Year", "DutyType", "Simple Average",
                          "Weighted Average"], file=fname)
    n_read = len(raw)
    raw["Tariff Year"] = integers(raw["Tariff Year"], file=fname, column="Tariff Year")
    for c in ("Simple Average", "Weighted Average"):
        raw[c] = numeric(raw[c], file=fname, column=c)
    if "Product" in raw:
        tot = raw["Product"].str.strip().str.lower().isin(TOTAL_PRODUCTS)
        if tot.any():
            raw = raw.loc[tot]
    world = raw["Partner"].str.strip().isin(["0", "000", "WLD"])
    rep, r1 = harmonise(raw["Reporter"].str.strip().str.lstrip("0"), kind="auto", source=fname + " Reporter")
    par, r2 = harmonise(raw["Partner"].str.strip().str.lstrip("0").where(~world, "WLD"), kind="auto",
                        source=fname + " Partner")
    par = par.where(~world.to_numpy(), "WLD")
    unknown = sorted(set(r1.unmatched) | (set(r2.unmatched) - {"WLD"}))
    if unknown:
        bad = raw["Reporter"].str.lstrip("0").isin(unknown) | raw["Partner"].str.lstrip("0").isin(unknown)
        raise UnknownCountryError(f"unknown country codes {unknown}", column="Reporter,Partner",
                                  rows=np.flatnonzero(bad.to_numpy()), file=fname)
    long = pd.DataFrame({
        "importer": rep.to_numpy(), "exporter": par.to_numpy(),
        "year": raw["Tariff Year"].to_numpy(),
        "duty": raw["DutyType"].str.strip().str.lower().to_numpy(),
        "simple": raw["Simple Average"].to_numpy(dtype=float),
        "weighted": raw["Weighted Average"].to_numpy(dtype=float),
    }, index=raw.index)
    keep = long["importer"].notna() & long["exporter"].notna()
    long = long.loc[keep.to_numpy()]
    rates = long[["simple", "weighted"]].to_numpy()
    bad = ((rates < 0) | (rates > 1000)).any(axis=1)
    if bad.any():
        raise UnitsError("tariff rates outside [0, 1000] percent", column="Simple Average",
                         rows=rows_of(long, bad), file=fname)
    if np.nanmax(rates, initial=0.0) <= 1.0 and len(long) > 3:
        raise UnitsError("all rates <= 1: WITS publishes percent, not fractions", column="Simple Average",
                         file=fname)
    check_unique(long, ["importer", "exporter", "year", "duty"], file=fname)
    wide = long.pivot(index=["importer", "exporter", "year"], columns="duty", values=["simple", "weighted"])
    wide.columns = [f"tariff_{d}_{m}" for m, d in wide.columns]
    wide = wide.reset_index()
    wide["importer"] = wide["importer"].astype("string")
    wide["exporter"] = wide["exporter"].astype("string")
    prov = file_provenance(path, source="WITS/TRAINS", reader="gravity.sources.wits.read_wits_tariffs",
                           rows_read=n_read, rows_out=len(wide), units="percent",
                           countries={"reporter": r1.to_dict(), "partner": r2.to_dict()},
                           dropped={"not all-product rows": n_read - len(raw),
                                    "aggregate reporter/partner": int((~keep).sum())},
                           **read_info(info))
    return attach(wide.sort_values(["year", "importer", "exporter"], ignore_index=True), prov)
