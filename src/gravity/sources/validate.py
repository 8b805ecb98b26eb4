"""Checks shared by the readers: columns, keys, signs, coverage, units.

Every check raises a typed error from :mod:`gravity.errors` naming the file,
the column and the first offending rows (0-based data rows, header excluded).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from gravity.errors import (
    CoverageError,
    DuplicateKeyError,
    MissingColumnError,
    NegativeValueError,
    UnitsError,
)

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
        rows = np.flatnonzero(dup)
        first = df.iloc[rows[0]][list(keys)].to_dict()
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
            column=column, rows=np.flatnonzero(neg), file=file,
        )


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


def numeric(s: pd.Series) -> pd.Series:
    """Parse published numbers: '..', '', 'NA' are missing; thousands separators removed."""
    if pd.api.types.is_numeric_dtype(s):
        return s.astype(float)
    t = s.astype("string").str.strip().str.replace(",", "", regex=False)
    t = t.mask(t.isin(["..", "", "NA", "n/a", "-", "..."]))
    return pd.to_numeric(t, errors="coerce").astype(float)
