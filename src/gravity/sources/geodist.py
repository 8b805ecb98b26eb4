"""CEPII GeoDist reader (``dist_cepii`` dyadic file and ``geo_cepii`` country file).

Dyadic columns: ``iso_o, iso_d, contig, comlang_off, comlang_ethno, colony,
comcol, curcol, col45, smctry, dist, distcap, distw, distwces`` (km). GeoDist
uses legacy codes (``ROM``, ``ZAR``, ``TMP``, ``PAL``, ``YUG``) that are mapped
to current ISO3 (``YUG`` -> ``SRB``: see :mod:`gravity.countries`).

Files are read as Stata (``.dta``) or CSV (``.csv``, ``.csv.gz``); columns by
name, ``.`` and empty cells are missing. GeoDist is one of the
:data:`gravity.sources.fileio.LATIN1_PUBLISHERS`: a CSV that is not UTF-8 is
read as latin-1 (recorded as ``encoding`` in the provenance).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from gravity.countries import LEGACY_ISO3
from gravity.sources.fileio import read_csv, read_stata
from gravity.sources.validate import (
    attach,
    check_iso3_format,
    check_known_codes,
    check_nonnegative,
    check_unique,
    file_provenance,
    numeric,
    read_info,
    require_columns,
)

__all__ = ["read_geodist", "read_geodist_geo"]

DIST_COLUMNS = ["contig", "comlang_off", "comlang_ethno", "colony", "comcol", "curcol", "col45",
                "smctry", "dist", "distcap", "distw", "distwces"]


def _read(path: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    if path.suffix.lower() == ".dta":
        return read_stata(path), {}
    df, info = read_csv(path, latin1=True)
    return df, read_info(info)


def _codes(df: pd.DataFrame, columns: list[str], fname: str) -> None:
    for c in columns:
        df[c] = df[c].astype("string").str.strip().replace(LEGACY_ISO3)
    check_iso3_format(df, columns, file=fname)
    check_known_codes(df, columns, file=fname)


def read_geodist(path: str | Path) -> pd.DataFrame:
    """Read the GeoDist dyadic file: ``exporter, importer`` + distances and dummies.

    Raises :class:`MissingColumnError`, :class:`DuplicateKeyError`,
    :class:`NegativeValueError`, :class:`UnknownCountryError` and
    :class:`FileFormatError` (truncated or corrupt file, text or infinite
    values in a number column), naming the file, column and rows.
    """
    path = Path(path)
    raw, info = _read(path)
    require_columns(raw, ["iso_o", "iso_d", "dist", "contig", "comlang_off", "colony"], file=path.name)
    df = raw.rename(columns={"iso_o": "exporter", "iso_d": "importer"})
    cols = ["exporter", "importer"] + [c for c in DIST_COLUMNS if c in df.columns]
    df = df[cols].reset_index(drop=True)
    _codes(df, ["exporter", "importer"], path.name)
    for c in cols[2:]:
        df[c] = numeric(df[c], file=path.name, column=c, thousands=False)
    check_unique(df, ["exporter", "importer"], file=path.name)
    check_nonnegative(df, "dist", file=path.name)
    prov = file_provenance(path, source="CEPII GeoDist", reader="gravity.sources.geodist.read_geodist",
                           rows_read=len(raw), rows_out=len(df), units={"dist*": "km"}, **info)
    return attach(df, prov)


def read_geodist_geo(path: str | Path) -> pd.DataFrame:
    """Read the GeoDist country file (one row per country and city; ``cap == 1`` rows kept)."""
    path = Path(path)
    raw, info = _read(path)
    require_columns(raw, ["iso3", "area", "landlocked", "lat", "lon"], file=path.name)
    df = raw.copy()
    _codes(df, ["iso3"], path.name)
    for c in ("area", "landlocked", "lat", "lon", "cap"):
        if c in df:
            df[c] = numeric(df[c], file=path.name, column=c, thousands=False)
    if "cap" in df:  # one row per country: its capital
        df = df.sort_values("cap", ascending=False, kind="stable").drop_duplicates("iso3")
    cols = [c for c in ["iso3", "iso2", "country", "area", "landlocked", "continent", "lat", "lon"] if c in df]
    df = df[cols].sort_values("iso3").reset_index(drop=True)
    check_unique(df, ["iso3"], file=path.name)
    return attach(df, file_provenance(path, source="CEPII GeoDist (geo)", rows_read=len(raw),
                                      rows_out=len(df), **info))
