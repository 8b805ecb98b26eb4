"""CEPII GeoDist reader (``dist_cepii`` dyadic file and ``geo_cepii`` country file).

Dyadic columns: ``iso_o, iso_d, contig, comlang_off, comlang_ethno, colony,
comcol, curcol, col45, smctry, dist, distcap, distw, distwces`` (km). GeoDist
uses legacy codes (``ROM``, ``ZAR``, ``TMP``, ``PAL``, ``YUG``) that are mapped
to current ISO3 (``YUG`` -> ``SRB``: see :mod:`gravity.countries`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from gravity.countries import LEGACY_ISO3
from gravity.sources._validate import (
    attach,
    check_nonnegative,
    check_unique,
    file_provenance,
    require_columns,
)

__all__ = ["read_geodist", "read_geodist_geo"]

DIST_COLUMNS = ["contig", "comlang_off", "comlang_ethno", "colony", "comcol", "curcol", "col45",
                "smctry", "dist", "distcap", "distw", "distwces"]


def _read(path: Path) -> pd.DataFrame:
    if path.suffix.lower() == ".dta":
        return pd.read_stata(path, convert_categoricals=False)
    return pd.read_csv(path, na_values=[".", ""], keep_default_na=False)


def read_geodist(path: str | Path) -> pd.DataFrame:
    """Read the GeoDist dyadic file: ``exporter, importer`` + distances and dummies."""
    path = Path(path)
    raw = _read(path)
    require_columns(raw, ["iso_o", "iso_d", "dist", "contig", "comlang_off", "colony"], file=path.name)
    df = raw.rename(columns={"iso_o": "exporter", "iso_d": "importer"})
    for side in ("exporter", "importer"):
        df[side] = df[side].astype("string").str.strip().replace(LEGACY_ISO3)
    cols = ["exporter", "importer"] + [c for c in DIST_COLUMNS if c in df.columns]
    df = df[cols].reset_index(drop=True)
    for c in cols[2:]:
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    check_unique(df, ["exporter", "importer"], file=path.name)
    check_nonnegative(df, "dist", file=path.name)
    prov = file_provenance(path, source="CEPII GeoDist", reader="gravity.sources.geodist.read_geodist",
                           rows_read=len(raw), rows_out=len(df), units={"dist*": "km"})
    return attach(df, prov)


def read_geodist_geo(path: str | Path) -> pd.DataFrame:
    """Read the GeoDist country file (one row per country and city; ``cap == 1`` rows kept)."""
    path = Path(path)
    raw = _read(path)
    require_columns(raw, ["iso3", "area", "landlocked", "lat", "lon"], file=path.name)
    df = raw.copy()
    if "cap" in df:  # one row per country: its capital
        df = df.sort_values("cap", ascending=False).drop_duplicates("iso3")
    df["iso3"] = df["iso3"].astype("string").str.strip().replace(LEGACY_ISO3)
    cols = [c for c in ["iso3", "iso2", "country", "area", "landlocked", "continent", "lat", "lon"] if c in df]
    df = df[cols].sort_values("iso3").reset_index(drop=True)
    check_unique(df, ["iso3"], file=path.name)
    return attach(df, file_provenance(path, source="CEPII GeoDist (geo)", rows_read=len(raw), rows_out=len(df)))
