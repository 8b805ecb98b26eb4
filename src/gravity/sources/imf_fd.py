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
)

__all__ = ["read_imf_fd", "FD_INDICES"]

FD_INDICES = ["FD", "FI", "FM", "FID", "FIA", "FIE", "FMD", "FMA", "FME"]


def read_imf_fd(path: str | Path) -> pd.DataFrame:
    """Read the IMF FD index file into ``iso3, year, fd, fi, fm, ...`` (lower case).

    Columns are read by name. Raises :class:`UnknownCountryError`,
    :class:`UnitsError` (an index outside [0, 1]), :class:`DuplicateKeyError`
    and :class:`FileFormatError` (truncated, corrupt or non-UTF-8 file, a year
    that is not an integer, an index that is not a finite number).
    """
    path = Path(path)
    raw, info = read_csv(path)
    fname = path.name
    code_col = "code" if "code" in raw else ("ISO3" if "ISO3" in raw else "code")
    require_columns(raw, [code_col, "year", "FD"], file=fname)
    years = integers(raw["year"], file=fname, column="year")
    values = {c.lower(): numeric(raw[c], file=fname, column=c) for c in FD_INDICES if c in raw}
    # group averages (income groups, regions, "All countries") repeat their label as code
    group = (raw[code_col] == raw.get("country", "")).to_numpy()
    iso, report = harmonise(raw[code_col].str.strip(), kind="iso3", source=fname)
    for k in raw.loc[group, code_col].unique():
        if k in report.unmatched:
            report.aggregates[k] = report.unmatched.pop(k)
    if report.unmatched:
        bad = raw[code_col].isin(list(report.unmatched)).to_numpy()
        raise UnknownCountryError(f"unknown country codes {sorted(report.unmatched)}",
                                  column=code_col, rows=np.flatnonzero(bad), file=fname)
    keep = iso.notna().to_numpy() & ~group
    idx = np.column_stack([v.to_numpy() for v in values.values()])
    bad_rows = np.flatnonzero(keep & ((idx < -1e-9) | (idx > 1 + 1e-9)).any(axis=1))
    if bad_rows.size:
        raise UnitsError("index values outside [0, 1]", column="FD", rows=bad_rows, file=fname)
    out = pd.DataFrame({"iso3": iso[keep].astype("string").to_numpy(),
                        "year": years[keep].to_numpy()})
    for c, v in values.items():
        out[c] = v[keep].to_numpy()
    check_unique(out, ["iso3", "year"], file=fname)
    out = out.sort_values(["iso3", "year"], ignore_index=True)
    prov = file_provenance(path, source="IMF Financial Development Index", reader="gravity.sources.imf_fd.read_imf_fd",
                           rows_read=len(raw), rows_out=len(out), countries=report.to_dict(),
                           dropped={"group averages (income groups, regions, all countries)": int(group.sum())},
                           **read_info(info))
    return attach(out, prov)
