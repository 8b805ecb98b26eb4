"""IMF Financial Development Index reader (Svirydzenka 2016).

Published layout: ``ifs, code, country, imf_region, imf_income, year, FD, FI,
FM, FID, FIA, FIE, FMD, FMA, FME`` (``code`` ISO3, indices in [0, 1]).
Returned columns: ``iso3, year, fd, fi, fm, fid, fia, fie, fmd, fma, fme``.
The vintage matters (editions differ in the third decimal): it is recorded
in the provenance through the file's hash.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gravity.countries import harmonise
from gravity.errors import UnitsError
from gravity.sources._validate import (
    attach,
    check_unique,
    file_provenance,
    numeric,
    require_columns,
)

__all__ = ["read_imf_fd", "FD_INDICES"]

FD_INDICES = ["FD", "FI", "FM", "FID", "FIA", "FIE", "FMD", "FMA", "FME"]


def read_imf_fd(path: str | Path) -> pd.DataFrame:
    """Read the IMF FD index file into ``iso3, year, fd, fi, fm, ...`` (lower case)."""
    path = Path(path)
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    fname = path.name
    code_col = "code" if "code" in raw else ("ISO3" if "ISO3" in raw else "code")
    require_columns(raw, [code_col, "year", "FD"], file=fname)
    # group averages (income groups, regions, "All countries") repeat their label as code
    group = (raw[code_col] == raw.get("country", "")).to_numpy()
    iso, report = harmonise(raw[code_col].str.strip(), kind="iso3", source=fname)
    for k in raw.loc[group, code_col].unique():
        if k in report.unmatched:
            report.aggregates[k] = report.unmatched.pop(k)
    if report.unmatched:
        from gravity.errors import UnknownCountryError

        bad = raw[code_col].isin(list(report.unmatched)).to_numpy()
        raise UnknownCountryError(f"unknown country codes {sorted(report.unmatched)}",
                                  column=code_col, rows=np.flatnonzero(bad), file=fname)
    keep = iso.notna().to_numpy() & ~group
    out = pd.DataFrame({"iso3": iso[keep].astype("string").to_numpy(),
                        "year": pd.to_numeric(raw.loc[keep, "year"]).astype("int64").to_numpy()})
    for c in FD_INDICES:
        if c in raw:
            out[c.lower()] = numeric(raw.loc[keep, c]).to_numpy()
    idx = out[[c.lower() for c in FD_INDICES if c in raw]].to_numpy()
    bad = np.flatnonzero(((idx < -1e-9) | (idx > 1 + 1e-9)).any(axis=1))
    if bad.size:
        raise UnitsError("index values outside [0, 1]", column="FD", rows=bad, file=fname)
    check_unique(out, ["iso3", "year"], file=fname)
    out = out.sort_values(["iso3", "year"], ignore_index=True)
    prov = file_provenance(path, source="IMF Financial Development Index", reader="gravity.sources.imf_fd.read_imf_fd",
                           rows_read=len(raw), rows_out=len(out), countries=report.to_dict(),
                           dropped={"group averages (income groups, regions, all countries)": int(group.sum())})
    return attach(out, prov)
