"""China's exports by destination from partners' imports (UN Comtrade mirror file).

Layout of the file (one row per year and partner, ranked)::

    refYear,flowCode,partnerDesc,partner_rank,reporterDesc,cmdCode,partner_sum,partner_perc,partner_upper_sum

``flowCode == "M"``: the *reporter* (``reporterDesc``) is the importing
country and ``partnerDesc`` is China; ``partner_sum`` is the reporter's
imports from China in USD (CIF). The row whose reporter is "China" records
China's re-imports of its own goods and is dropped. Values in USD.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gravity.countries import harmonise
from gravity.errors import CoverageError, UnknownCountryError
from gravity.sources.fileio import read_csv
from gravity.sources.validate import (
    attach,
    check_nonnegative,
    check_unique,
    file_provenance,
    integers,
    numeric,
    read_info,
    require_columns,
)

__all__ = ["read_china_mirror", "top_partner_share"]


def read_china_mirror(path: str | Path) -> pd.DataFrame:
    """Read the mirror file into ``exporter="CHN", importer, year, trade`` (USD)."""
    path = Path(path)
    fname = path.name
    raw, info = read_csv(path)
    require_columns(raw, ["refYear", "flowCode", "reporterDesc", "partner_sum"], file=fname)
    raw["refYear"] = integers(raw["refYear"], file=fname, column="refYear")
    raw["partner_sum"] = numeric(raw["partner_sum"], file=fname, column="partner_sum")
    if (raw["flowCode"] != "M").any():
        raise CoverageError("mirror file must hold imports (flowCode 'M') only", column="flowCode",
                            rows=np.flatnonzero((raw["flowCode"] != "M").to_numpy()), file=fname)
    reimport = raw["reporterDesc"].str.strip() == "China"
    iso, rep = harmonise(raw["reporterDesc"], kind="name", source=fname)
    if rep.unmatched:
        bad = raw["reporterDesc"].isin(list(rep.unmatched)).to_numpy()
        raise UnknownCountryError(f"unknown reporters {sorted(rep.unmatched)}", column="reporterDesc",
                                  rows=np.flatnonzero(bad), file=fname)
    keep = ~reimport.to_numpy() & iso.notna().to_numpy()
    out = pd.DataFrame({
        "exporter": pd.Series("CHN", index=raw.index[keep], dtype="string"),
        "importer": pd.Series(iso[keep].astype("string").to_numpy(), index=raw.index[keep]),
        "year": raw.loc[keep, "refYear"].to_numpy(),
        "trade": raw.loc[keep, "partner_sum"].to_numpy(dtype=float),
    }, index=raw.index[keep])
    check_nonnegative(out, "trade", file=fname)
    check_unique(out, ["exporter", "importer", "year"], file=fname)
    cov = out[["importer", "year"]].drop_duplicates().rename(columns={"importer": "iso3"})
    prov = file_provenance(path, source="UN Comtrade mirror (China's exports by partner)",
                           reader="gravity.sources.china_mirror.read_china_mirror",
                           rows_read=len(raw), rows_out=len(out), units_out="usd",
                           dropped={"reporter China (re-imports)": int(reimport.sum()),
                                    "aggregate reporters": int((~iso.notna() & ~reimport).sum())},
                           countries=rep.to_dict(), **read_info(info))
    res = attach(out.sort_values(["year", "trade"], ascending=[True, False], ignore_index=True), prov,
                 cov.reset_index(drop=True), side="importer",
                 partners=["CHN"])
    return res


def top_partner_share(flows: pd.DataFrame, year: int, n: int = 5, exporter: str = "CHN") -> float:
    """Share (0-1) of ``exporter``'s top-``n`` destinations in its total exports in ``year``."""
    s = flows.loc[(flows["exporter"] == exporter) & (flows["year"] == year), "trade"]
    if s.empty:
        raise CoverageError(f"no flows of {exporter} in {year}", column="year")
    return float(s.nlargest(n).sum() / s.sum())
