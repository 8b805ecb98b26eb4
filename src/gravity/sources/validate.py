"""Checks shared by the readers and the panel builder: columns, keys, values, coverage, units.

Every check raises a typed error from :mod:`gravity.errors` naming the file,
the column and the first offending rows (0-based data rows, header excluded).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gravity.countries import iso3_codes
from gravity.errors import (
    CoverageError,
    DuplicateKeyError,
    FileFormatError,
    InputError,
    MissingColumnError,
    MissingValueError,
    NegativeValueError,
    UnitsError,
    UnknownCountryError,
)

#: Cells that publishers use for a missing number.
MISSING_TOKENS = ("", "..", "...", ".", "-", "NA", "N/A", "n/a", "NaN", "nan", "NAN")
_INTEGER = re.compile(r"[+-]?\d+(?:\.0*)?")
_ISO3 = re.compile(r"[A-Z]{3}")
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?(?:[eE][+-]?\d+)?")

def rows_of(obj: pd.DataFrame | pd.Series, mask: np.ndarray) -> list[int]:
    """Rows where ``mask`` holds: the index labels when the index is integer (a reader keeps
    the file's 0-based data rows there), else the positions."""
    pos = np.flatnonzero(mask)
    if pd.api.types.is_integer_dtype(obj.index.dtype):
        return obj.index.to_numpy()[pos].astype(np.int64).tolist()
    return pos.astype(np.int64).tolist()


#: Multipliers from a declared unit to US dollars.
UNIT_FACTORS: dict[str, float] = {
    "usd": 1.0,
    "thousand_usd": 1e3,
    "million_usd": 1e6,
    "billion_usd": 1e9,
}


def unit_factor(units: str, *, file: str | None = None, column: str | None = None) -> float:
    """Factor that converts ``units`` to USD; :class:`UnitsError` if unknown."""
    try:
        return UNIT_FACTORS[units]
    except KeyError:
        raise UnitsError(
            f"unknown units {units!r}; expected one of {sorted(UNIT_FACTORS)}",
            file=file, column=column,
        ) from None


def require_columns(df: pd.DataFrame, columns: Iterable[str], *, file: str | None = None) -> None:
    """Raise :class:`MissingColumnError` naming every required column not in ``df``."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise MissingColumnError(
            f"missing required column(s) {missing}; found {list(df.columns)[:30]}",
            column=missing[0], file=file,
        )


def check_unique(df: pd.DataFrame, keys: Sequence[str], *, file: str | None = None) -> None:
    """Raise :class:`DuplicateKeyError` if rows share the key ``keys``."""
    dup = df.duplicated(subset=list(keys), keep=False).to_numpy()
    if dup.any():
        first = df.iloc[int(np.flatnonzero(dup)[0])][list(keys)].to_dict()
        rows = rows_of(df, dup)
        raise DuplicateKeyError(
            f"{len(rows)} rows share a key {tuple(keys)} that must be unique (e.g. {first})",
            column=",".join(keys), rows=rows, file=file,
        )


def check_nonnegative(df: pd.DataFrame, column: str, *, file: str | None = None) -> None:
    """Raise :class:`NegativeValueError` if ``column`` has negative values."""
    neg = (df[column].to_numpy(dtype=float, na_value=np.nan) < 0)
    if neg.any():
        raise NegativeValueError(
            f"{int(neg.sum())} negative values (flows and sizes must be >= 0)",
            column=column, rows=rows_of(df, neg), file=file,
        )


def requested_years(years: Iterable[Any] | None) -> list[int] | None:
    """A reader's ``years=`` argument as a list of int; :class:`InputError` for non-integers
    (``2018.5`` would otherwise select 2018, or nothing)."""
    if years is None:
        return None
    values = list(years)
    try:
        return [int(y) for y in integers(pd.Series(values, dtype=object), column="years")]
    except FileFormatError as e:
        raise InputError(f"requested years must be integers, got {values[:10]}", column="years",
                         rows=e.rows) from None


def check_years(
    requested: Iterable[int] | None,
    available: Iterable[int],
    *,
    file: str | None = None,
    column: str = "year",
) -> None:
    """Raise :class:`CoverageError` if requested years are not in ``available``."""
    if requested is None:
        return
    avail = set(int(y) for y in available)
    missing = sorted(set(int(y) for y in requested) - avail)
    if missing:
        span = f"{min(avail)}-{max(avail)}" if avail else "none"
        raise CoverageError(
            f"years {missing} outside the coverage of the source ({span})",
            column=column, file=file,
        )


def check_plausible_total(
    values: pd.Series | np.ndarray,
    *,
    upper: float,
    what: str,
    units: str,
    file: str | None = None,
    column: str | None = None,
) -> None:
    """Raise :class:`UnitsError` if a converted value exceeds a physical upper bound.

    Used to catch a file whose values are already in USD being read as thousand
    USD (which multiplies them by 1000): no country exports more than
    ``upper`` US dollars in a year.
    """
    arr = np.asarray(values, dtype=float)
    if arr.size and np.nanmax(arr) > upper:
        rows = np.flatnonzero(arr > upper)
        raise UnitsError(
            f"{what} up to {np.nanmax(arr):.3g} USD after reading the values as {units!r}: "
            f"above the plausible maximum {upper:.3g}; are the values in another unit?",
            column=column, rows=rows, file=file,
        )


def sha256(path: str | Path, chunk: int = 1 << 22) -> str:
    """SHA-256 of a file (streamed)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def file_provenance(path: str | Path, *, source: str, version: str | None = None, **extra) -> dict:
    """Provenance record of one input file."""
    p = Path(path)
    rec = {
        "source": source,
        "file": p.name,
        "path": str(p),
        "bytes": p.stat().st_size,
        "sha256": sha256(p),
        "version": version,
    }
    rec.update(extra)
    return rec


def attach(
    df: pd.DataFrame,
    provenance: dict,
    coverage: pd.DataFrame | None = None,
    side: str = "both",
    partners: list[str] | None = None,
) -> pd.DataFrame:
    """Store provenance (and, for flows, the source's coverage) in ``df.attrs``.

    ``coverage`` is a frame of covered ``(iso3, year)``; ``side`` says which
    side of a flow it constrains: "exporter" (reporters' exports), "importer"
    (mirror imports) or "both" (BACI: both countries must be in the data).
    ``partners`` restricts the coverage to flows whose other side is one of
    them (a file of one country's exports covers only that exporter).
    Stored as plain lists so that pandas can compare ``attrs``.
    """
    df.attrs["gravity_provenance"] = provenance
    if coverage is not None:
        df.attrs["gravity_coverage"] = {
            "side": side,
            "iso3": [str(x) for x in coverage["iso3"]],
            "year": [int(y) for y in coverage["year"]],
            "partners": None if partners is None else [str(x) for x in partners],
        }
    return df


def coverage_of(df: pd.DataFrame) -> tuple[pd.DataFrame, str, list[str] | None] | None:
    """The ``(iso3, year)`` coverage frame, side and partners stored by :func:`attach`."""
    cov = df.attrs.get("gravity_coverage")
    if not cov:
        return None
    frame = pd.DataFrame({"iso3": pd.Series(cov["iso3"], dtype="string"),
                          "year": pd.Series(cov["year"], dtype="int64")})
    return frame, cov.get("side", "both"), cov.get("partners")


def _examples(values: pd.Series, limit: int = 5) -> list[str]:
    return [str(v) for v in pd.unique(values.astype(str))[:limit]]


def numeric(
    s: pd.Series,
    *,
    file: str | None = None,
    column: str | None = None,
    thousands: bool = True,
) -> pd.Series:
    """Parse published numbers into float.

    :data:`MISSING_TOKENS` ('..', '', 'NA', 'NaN', ...) are missing (NaN);
    thousands separators are removed (``thousands=True``; only in well-formed
    groups such as ``1,234,567.8``: ``1,5`` is an error). Anything else that
    is not a number, and infinite values, raise :class:`FileFormatError`
    naming the column and rows (never a silent NaN).
    """
    name = column if column is not None else str(s.name)
    if pd.api.types.is_bool_dtype(s):
        out = s.astype(float)
    elif pd.api.types.is_numeric_dtype(s):
        out = pd.Series(s.to_numpy(dtype=float, na_value=np.nan), index=s.index, name=s.name)
    else:
        t = s.astype("string").str.strip()
        if thousands:  # only well-formed groups: "1,5" (a decimal comma) stays an error
            grouped = t.str.fullmatch(_THOUSANDS).fillna(False).to_numpy(dtype=bool)
            t = t.where(~grouped, t.str.replace(",", "", regex=False))
        t = t.mask(t.isin(list(MISSING_TOKENS)))
        parsed = pd.to_numeric(t, errors="coerce")
        out = pd.Series(np.asarray(parsed.to_numpy(dtype=float, na_value=np.nan)),
                        index=s.index, name=s.name)
        bad = (out.isna() & t.notna()).to_numpy()
        if bad.any():
            raise FileFormatError(
                f"{int(bad.sum())} values are not numbers, e.g. {_examples(s[bad])}",
                column=name, rows=rows_of(s, bad), file=file,
            )
    inf = np.isinf(out.to_numpy(dtype=float))
    if inf.any():
        raise FileFormatError(f"{int(inf.sum())} values are infinite (not a finite number)",
                              column=name, rows=rows_of(s, inf), file=file)
    return out


def integers(
    s: pd.Series,
    *,
    file: str | None = None,
    column: str | None = None,
    allow_missing: bool = False,
) -> pd.Series:
    """Parse integer values (years, numeric codes) into ``int64`` (``Int64`` with ``allow_missing``).

    Text must be digits (``"2018"``; ``"2018.0"`` is accepted); ``"2018.5"``,
    ``"abc"``, infinite or fractional floats and, unless ``allow_missing``,
    missing values raise :class:`FileFormatError` naming the column and rows.
    """
    name = column if column is not None else str(s.name)
    if pd.api.types.is_bool_dtype(s):
        bad = np.ones(len(s), bool)
        values = np.zeros(len(s))
        missing = np.zeros(len(s), bool)
    elif pd.api.types.is_numeric_dtype(s):
        values = s.to_numpy(dtype=float, na_value=np.nan)
        missing = np.isnan(values)
        with np.errstate(invalid="ignore"):
            bad = ~missing & (~np.isfinite(values) | (values != np.round(values)))
    else:
        t = s.astype("string").str.strip()
        missing = (t.isna() | t.isin(list(MISSING_TOKENS))).to_numpy()
        ok = t.str.fullmatch(_INTEGER).fillna(False).to_numpy(dtype=bool)
        bad = ~missing & ~ok
        values = pd.to_numeric(t.where(ok), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    if not allow_missing:
        bad = bad | missing
    if bad.any():
        raise FileFormatError(
            f"{int(bad.sum())} values are not integers (e.g. a year must be like 2018), "
            f"e.g. {_examples(s[bad])}", column=name, rows=rows_of(s, bad), file=file,
        )
    if allow_missing:
        return pd.Series(pd.array(np.where(missing, np.nan, values), dtype="Float64"),
                         index=s.index, name=s.name).astype("Int64")
    return pd.Series(values.astype(np.int64), index=s.index, name=s.name)


def check_finite(df: pd.DataFrame, column: str, *, file: str | None = None) -> None:
    """Raise :class:`InputError` if ``column`` holds infinite values (NaN is allowed)."""
    v = df[column].to_numpy(dtype=float, na_value=np.nan)
    inf = np.isinf(v)
    if inf.any():
        raise InputError(f"{int(inf.sum())} infinite values", column=column,
                         rows=rows_of(df, inf), file=file)


def check_not_missing(df: pd.DataFrame, columns: Iterable[str], *, file: str | None = None) -> None:
    """Raise :class:`MissingValueError` if a key column has missing values."""
    for c in columns:
        miss = df[c].isna().to_numpy()
        if miss.any():
            raise MissingValueError(f"{int(miss.sum())} missing values in a key column",
                                    column=c, rows=rows_of(df, miss), file=file)


def check_iso3_format(df: pd.DataFrame, columns: Iterable[str], *, file: str | None = None) -> None:
    """Raise :class:`UnknownCountryError` if a code column holds values that are not 3 capital letters."""
    for c in columns:
        ok = df[c].astype("string").str.fullmatch(_ISO3).fillna(False).to_numpy(dtype=bool)
        if not ok.all():
            raise UnknownCountryError(
                f"{int((~ok).sum())} values are not ISO3 codes, e.g. {_examples(df[c][~ok])}",
                column=c, rows=rows_of(df, ~ok), file=file,
            )


def check_known_codes(df: pd.DataFrame, columns: Iterable[str], *, file: str | None = None) -> None:
    """Raise :class:`UnknownCountryError` for codes not in :func:`gravity.countries.iso3_codes`."""
    from gravity.countries import iso3_codes
    known = iso3_codes()
    for c in columns:
        bad = ~df[c].astype("string").isin(list(known)).to_numpy(dtype=bool)
        if bad.any():
            raise UnknownCountryError(
                f"unknown country codes {sorted(set(_examples(df[c][bad], 20)))}",
                column=c, rows=rows_of(df, bad), file=file,
            )


def unknown_codes(values: Iterable[pd.Series]) -> dict[str, int]:
    """Codes (with row counts) that are not in :func:`gravity.countries.iso3_codes`."""
    known = iso3_codes()
    s = pd.concat([pd.Series(v, dtype="string") for v in values], ignore_index=True)
    counts = s[~s.isin(list(known))].value_counts()
    return {str(k): int(v) for k, v in counts.items()}


def read_info(info: dict[str, Any]) -> dict[str, Any]:
    """Provenance fields of a file read by :func:`gravity.sources.fileio.read_csv`."""
    return {"encoding": info.get("encoding"), "lines": info.get("lines")}
