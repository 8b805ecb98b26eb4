"""Penn World Table reader (9.x / 10.x; CSV, Stata or Excel as published).

Columns kept: ``iso3, year`` and the PWT series present (``rgdpe, rgdpo, pop,
emp, cgdpe, cgdpo, rgdpna, xr, csh_x, csh_m``, ...). Units are converted:
``pop`` and ``emp`` from millions to persons, the GDP series (``rgdp*``,
``cgdp*``) from million USD to USD. ``xr`` (national currency per USD) and the
shares are unchanged.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from gravity.sources._validate import attach, check_unique, file_provenance, require_columns

__all__ = ["read_pwt"]

MILLIONS = ["pop", "emp", "rgdpe", "rgdpo", "cgdpe", "cgdpo", "rgdpna", "cda", "cn", "ck"]


def read_pwt(path: str | Path) -> pd.DataFrame:
    """Read Penn World Table into a country-year table with converted units."""
    path = Path(path)
    suf = path.suffix.lower()
    if suf == ".dta":
        raw = pd.read_stata(path, convert_categoricals=False)
    elif suf in (".xlsx", ".xls"):
        raw = pd.read_excel(path, sheet_name="Data")
    else:
        raw = pd.read_csv(path)
    code = "isocode" if "isocode" in raw else "countrycode"
    require_columns(raw, [code, "year"], file=path.name)
    df = raw.rename(columns={code: "iso3"})
    df["iso3"] = df["iso3"].astype("string").str.strip()
    df["year"] = df["year"].astype("int64")
    keep = ["iso3", "year"] + [c for c in df.columns if c not in ("iso3", "year", "country", "currency_unit")]
    df = df[keep].copy()
    for c in df.columns[2:]:
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
        if c in MILLIONS:
            df[c] = df[c] * 1e6
    check_unique(df, ["iso3", "year"], file=path.name)
    prov = file_provenance(path, source="Penn World Table", reader="gravity.sources.pwt.read_pwt",
                           rows_read=len(raw), rows_out=len(df),
                           units={"pop, emp": "persons (x1e6)", "rgdp*, cgdp*": "usd (x1e6)"})
    return attach(df.sort_values(["iso3", "year"], ignore_index=True), prov)
