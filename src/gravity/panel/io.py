"""Parquet output of a panel with its build provenance in the file's metadata."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

__all__ = ["read_panel", "write_panel", "PROVENANCE_KEY"]

PROVENANCE_KEY = b"gravity.provenance"


def write_panel(df: pd.DataFrame, path: str | Path, provenance: dict | None = None) -> Path:
    """Write ``df`` to Parquet with ``provenance`` (JSON) under :data:`PROVENANCE_KEY`."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean = df.copy()
    clean.attrs = {}
    table = pa.Table.from_pandas(clean, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[PROVENANCE_KEY] = json.dumps(provenance or {}, default=str).encode()
    pq.write_table(table.replace_schema_metadata(meta), path, compression="zstd")
    return path


def read_panel(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """Read a panel written by :func:`write_panel`: ``(DataFrame, provenance)``."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    meta = table.schema.metadata or {}
    prov = json.loads(meta.get(PROVENANCE_KEY, b"{}"))
    return table.to_pandas(), prov
