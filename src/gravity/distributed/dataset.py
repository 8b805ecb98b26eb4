"""A Parquet dataset partitioned by the split column: one directory per group.

Layout (Hive style, as written by DuckDB's ``COPY ... (PARTITION_BY k)``, pyarrow's
``write_dataset`` or :func:`write_split_dataset`)::

    root/product=010121/part-0.parquet
    root/product=010122/part-0.parquet

Each worker reads only its group's directory (:func:`read_group`), so no process but
the writer ever holds the whole panel. :func:`write_split_dataset` writes a DataFrame
this way keeping the split column, the dtypes and the index labels in each file (the
pandas metadata of pyarrow), so a group read back equals ``data`` restricted to it.
In a dataset written by another tool the split column is usually only in the
directory names: it is added back from them, as text (``"010121"`` keeps its leading
zero).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import numpy as np
import pandas as pd

from ..errors import InputError, MissingColumnError


@dataclass(frozen=True)
class SplitGroup:
    """One group of a split dataset: its value, its directory and (when known from the
    files' metadata) its number of rows."""

    value: Any
    path: str
    rows: int | None = None


def _dir_name(column: str, value: Any) -> str:
    return f"{column}={quote(str(value), safe='')}"


#: the Parquet compression of :func:`write_split_dataset` by default: none. Its datasets
#: are read group by group by the fits, and decoding a 15,000-row group's snappy pages
#: took 1.33 ms of CPU against 0.86 ms uncompressed (median of 7 alternated rounds of 40
#: groups; dictionary encoding kept: the files are 1.5 times larger, 250 KB against
#: 163 KB; ``benchmarks/results/split_dask.md``)
COMPRESSION = "none"


def write_split_dataset(data: pd.DataFrame, column: str, root: str | Path,
                        groups: list[tuple[Any, Any]] | None = None,
                        compression: str = COMPRESSION) -> list[SplitGroup]:
    """Write ``data`` as a Parquet dataset partitioned by ``column`` under ``root``.

    ``groups``: the ``(value, row positions)`` of each group (default: computed with
    :func:`gravity.estimation.multiple.split_groups`). ``compression``: Parquet's
    (``"none"`` by default, :data:`COMPRESSION`: the cheapest to read back;
    ``"snappy"`` or ``"zstd"`` for smaller files to keep). Returns the groups in order.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ..estimation.multiple import split_groups

    if column not in data.columns:
        raise MissingColumnError("split column not in the data", column=column)
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    groups = list(groups if groups is not None else split_groups(data, column))
    names = pd.Series([_dir_name(column, v).casefold() for v, _ in groups])
    clash = names.duplicated(keep=False).to_numpy()
    if clash.any():  # 9 and "9", or "A" and "a": one directory would hold both groups
        raise InputError("split values that differ only in type or case would share one "
                         f"partition directory: {[v for (v, _), c in zip(groups, clash, strict=True) if c]}",
                         column=column)
    out = []
    for value, rows in groups:
        d = root / _dir_name(column, value)
        d.mkdir(exist_ok=True)
        table = pa.Table.from_pandas(data.take(rows), preserve_index=True)
        pq.write_table(table, d / "part-0.parquet", compression=compression)
        out.append(SplitGroup(value, str(d), len(rows)))
    return out


def open_split_dataset(root: str | Path, column: str) -> list[SplitGroup]:
    """The groups of a dataset partitioned by ``column`` (directories ``column=value``),
    sorted by value: the value as the files hold it when they keep the column (datasets
    written by :func:`write_split_dataset`), else the directory name as text."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"no Parquet dataset at {root}")
    prefix = f"{column}="
    dirs = sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith(prefix))
    if not dirs:
        others = sorted({p.name.split("=")[0] for p in root.iterdir() if "=" in p.name})
        raise InputError(f"the dataset at {root.name} is not partitioned by '{column}'"
                         + (f" (it is by {others})" if others else ""), column=column,
                         file=str(root.name))
    groups = [_stored_group(p, column, unquote(p.name[len(prefix):])) for p in dirs]
    try:  # the values as the data hold them (9 before 10), as the in-memory engines sort
        return sorted(groups, key=lambda g: g.value)
    except TypeError:  # mixed types: as text
        return sorted(groups, key=lambda g: str(g.value))


def _stored_group(directory: Path, column: str, text: str) -> SplitGroup:
    """The group of a partition directory: the split value as its files hold it (a
    gravity-written dataset keeps the column, with its type), else the directory name
    as text (a Hive dataset); its rows from the files' metadata (None if unreadable:
    the group fails, and is recorded, when it is read)."""
    import pyarrow.parquet as pq

    files = sorted(directory.glob("*.parquet"))
    if not files:
        return SplitGroup(text, str(directory), 0)
    value: Any = text
    rows: int | None = 0
    try:
        for i, f in enumerate(files):
            meta = pq.ParquetFile(f)
            n = meta.metadata.num_rows
            rows = (rows or 0) + n
            if i == 0 and column in meta.schema_arrow.names and n > 0:
                stored = meta.read_row_group(0, columns=[column]).column(0)[0].as_py()
                value = text if stored is None or str(stored) != text else stored
    except Exception:  # an unreadable file
        rows = None
    return SplitGroup(value, str(directory), rows)


def read_group(group: SplitGroup, column: str, columns: Iterable[str] | None = None
               ) -> pd.DataFrame:
    """One group's rows as a DataFrame (the split column added from the directory name
    when the files do not hold it). ``columns``: the names wanted (with the index kept
    by the files); ``None`` reads every column, and so does a name the files lack (the
    fit then names it in its own error)."""
    import pyarrow.parquet as pq

    files = sorted(Path(group.path).glob("*.parquet"))
    if not files:
        raise FileNotFoundError(f"no Parquet file for {column}={group.value} in {group.path}")
    tables = [_read_file(pq.ParquetFile(f), columns, column) for f in files]
    if len(tables) == 1:
        frame = _plain_frame(tables[0])
        if frame is None:
            frame = tables[0].to_pandas(use_threads=False)
    else:
        frame = pd.concat([t.to_pandas(use_threads=False) for t in tables],
                          ignore_index=True)
    if column not in frame.columns:
        frame[column] = group.value
    return frame


def _read_file(pf: Any, columns: Iterable[str] | None, split: str) -> Any:
    """One file as an Arrow table, on one thread (a partition is small, and the workers
    already share the cores): the ``columns`` it holds in its own order, with the index
    columns of its pandas metadata; every column when ``columns`` is None or names one
    the file lacks (other than the split column, often only in the directory name)."""
    if columns is not None:
        names = pf.schema_arrow.names
        want = set(columns)
        if all(c in names for c in want if c != split):
            return pf.read(columns=[c for c in names if c in want], use_threads=False,
                           use_pandas_metadata=True)
    return pf.read(use_threads=False, use_pandas_metadata=True)


#: the NumPy types whose Arrow columns convert without a copy or a change of type
_PLAIN = frozenset({"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                    "uint64", "float32", "float64"})


def _plain_frame(table: Any) -> pd.DataFrame | None:
    """The DataFrame that ``table.to_pandas()`` gives, built directly from the columns'
    NumPy arrays when the table is plain: pandas metadata naming every column by its
    own (text) name, numeric or boolean columns without missing values whose pandas and
    NumPy types are their Arrow type's, and an index that is one such int64 column
    (unnamed or named by text) or a range. ``None`` otherwise (the caller then uses
    ``to_pandas``). Same frame, about 0.5 ms less per 15,000-row group: pandas' generic
    reconstruction (types, metadata, blocks) is skipped
    (``benchmarks/results/split_dask.md``)."""
    meta = table.schema.pandas_metadata
    if not meta or len(meta.get("column_indexes") or []) > 1:
        return None
    levels = meta.get("column_indexes") or []
    if levels and (levels[0].get("name") is not None
                   or levels[0].get("numpy_type") not in ("str", "object")):
        return None
    by_field = {c.get("field_name"): c for c in meta.get("columns", [])}
    index_cols = meta.get("index_columns", [])
    if len(index_cols) != 1:
        return None
    arrays: dict[str, Any] = {}
    for name, col in zip(table.column_names, table.columns, strict=True):
        info = by_field.get(name)
        kind = _numpy_name(col.type)
        if (info is None or col.null_count or kind not in _PLAIN
                or info.get("pandas_type") != kind or info.get("numpy_type") != kind
                or info.get("metadata") is not None or col.num_chunks > 1):
            return None
        if name != index_cols[0] and info.get("name") != name:
            return None
        arrays[name] = col.to_numpy()
    spec = index_cols[0]
    if isinstance(spec, dict):
        if spec.get("kind") != "range" or not isinstance(spec.get("name"), (str, type(None))):
            return None
        index: pd.Index = pd.RangeIndex(spec["start"], spec["stop"], spec["step"],
                                        name=spec.get("name"))
    else:
        values = arrays.pop(spec, None)
        label = by_field.get(spec, {}).get("name")
        if (values is None or values.dtype != "int64"
                or not isinstance(label, (str, type(None)))):
            return None
        index = pd.Index(values, name=label)
    if len(index) != table.num_rows:
        return None
    return pd.DataFrame(arrays, index=index, copy=False)


def _numpy_name(kind: Any) -> str | None:
    """The NumPy type name of a numeric or boolean Arrow type (None for the others)."""
    import pyarrow as pa

    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)
            or pa.types.is_boolean(kind)):
        return None
    return str(np.dtype(kind.to_pandas_dtype()).name)
