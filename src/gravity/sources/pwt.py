"""Penn World Table reader (9.x / 10.x; CSV, Stata or Excel as published).

Columns kept: ``iso3, year`` and the PWT series present (``rgdpe, rgdpo, pop,
emp, cgdpe, cgdpo, rgdpna, xr, csh_x, csh_m``, ...). Units are converted:
``pop`` and ``emp`` from millions to persons, the GDP series (``rgdp*``,
``cgdp*``) from million USD to USD. ``xr`` (national currency per USD) and the
shares are unchanged. Columns are read by name; PWT's indicator columns
(``i_*``, e.g. ``i_xr`` "Benchmark"/"Extrapolated") are kept as published,
columns of text only are left out (listed in the provenance), and every other
series must hold numbers (empty cells are missing): a series with a cell
that is not a number raises :class:`FileFormatError`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from gravity.sources.fileio import read_csv, read_excel, read_stata
from gravity.sources.validate import (
    MISSING_TOKENS,
    attach,
    check_known_codes,
    check_unique,
    file_provenance,
    integers,
    numeric,
    read_info,
    require_columns,
)

__all__ = ["read_pwt"]

MILLIONS = ["pop", "emp", "rgdpe", "rgdpo", "cgdpe", "cgdpo", "rgdpna", "cda", "cn", "ck"]
#: Text columns of PWT (not series).
TEXT = ("country", "currency_unit")


def _is_text(s: pd.Series) -> bool:
    """A column of text (no cell is a number), not a series with a bad cell."""
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        return False
    t = s.astype("string").str.strip()
    t = t[~t.isin(list(MISSING_TOKENS))]
    return bool(len(t)) and bool(pd.to_numeric(t, errors="coerce").isna().all())


def read_pwt(path: str | Path) -> pd.DataFrame:
    """Read Penn World Table into a country-year table with converted units.

    Raises :class:`MissingColumnError`, :class:`DuplicateKeyError`,
    :class:`UnknownCountryError` and :class:`FileFormatError` (truncated,
    corrupt or non-UTF-8 file, a year that is not an integer, a series cell
    that is not a finite number), naming the file, column and rows.
    """
    path = Path(path)
    suf = path.suffix.lower()
    info: dict[str, Any] = {}
    if suf == ".dta":
        raw = read_stata(path)
    elif suf in (".xlsx", ".xls"):
        raw = read_excel(path, "Data")
    else:
        raw, meta = read_csv(path)
        info = read_info(meta)
    code = "isocode" if "isocode" in raw else "countrycode"
    require_columns(raw, [code, "year"], file=path.name)
    df = raw.rename(columns={code: "iso3"})
    df["iso3"] = df["iso3"].astype("string").str.strip()
    check_known_codes(df, ["iso3"], file=path.name)
    df["year"] = integers(df["year"], file=path.name, column="year")
    text = [c for c in df.columns if c not in ("iso3", "year", *TEXT) and not str(c).startswith("i_")
            and _is_text(df[c])]
    keep = ["iso3", "year"] + [c for c in df.columns if c not in ("iso3", "year", *TEXT, *text)]
    df = df[keep].copy()
    for c in df.columns[2:]:
        if str(c).startswith("i_"):
            continue  # indicator (categorical) columns, as published
        df[c] = numeric(df[c], file=path.name, column=str(c), thousands=False)
        if c in MILLIONS:
            df[c] = df[c] * 1e6
    check_unique(df, ["iso3", "year"], file=path.name)
    prov = file_provenance(path, source="Penn World Table", reader="gravity.sources.pwt.read_pwt",
                           rows_read=len(raw), rows_out=len(df),
                           units={"pop, emp": "persons (x1e6)", "rgdp*, cgdp*": "usd (x1e6)"},
                           text_columns_left_out=[str(c) for c in text], **info)
    return attach(df.sort_values(["iso3", "year"], ignore_index=True), prov)
