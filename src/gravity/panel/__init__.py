"""Gravity panel: builder, canonical schema, derived columns and Parquet I/O."""

from gravity.panel.builder import build_panel
from gravity.panel.io import read_panel, write_panel
from gravity.panel.schema import COLUMNS, KEYS, REQUIRED, validate_panel

__all__ = ["COLUMNS", "KEYS", "REQUIRED", "build_panel", "read_panel", "validate_panel", "write_panel"]
