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
from gravity.sources._validate import (
    attach,
    check_unique,
    file_provenance,
    numeric,
    require_columns,
)

__all__ = ["read_wits_tariffs"]

TOTAL_PRODUCTS = {"total", "999999", "all products", "tot"}


def read_wits_tariffs(path: str | Path) -> pd.DataFrame:
    """Read a WITS/TRAINS tariff CSV into importer-exporter-year average rates (percent)."""
    path = Path(path)
    fname = path.name
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    raw.columns = [c.strip() for c in raw.columns]
    require_columns(raw, ["Reporter", "Partner", "Tariff Year", "DutyType", "Simple Average",
                          "Weighted Average"], file=fname)
    n_read = len(raw)
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
        "year": pd.to_numeric(raw["Tariff Year"]).astype("int64").to_numpy(),
        "duty": raw["DutyType"].str.strip().str.lower().to_numpy(),
        "simple": numeric(raw["Simple Average"]).to_numpy(),
        "weighted": numeric(raw["Weighted Average"]).to_numpy(),
    })
    keep = long["importer"].notna() & long["exporter"].notna()
    long = long.loc[keep.to_numpy()].reset_index(drop=True)
    rates = long[["simple", "weighted"]].to_numpy()
    bad = np.flatnonzero(((rates < 0) | (rates > 1000)).any(axis=1))
    if bad.size:
        raise UnitsError("tariff rates outside [0, 1000] percent", column="Simple Average", rows=bad, file=fname)
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
                                    "aggregate reporter/partner": int((~keep).sum())})
    return attach(wide.sort_values(["year", "importer", "exporter"], ignore_index=True), prov)
