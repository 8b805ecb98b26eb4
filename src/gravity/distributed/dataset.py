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


def write_split_dataset(data: pd.DataFrame, column: str, root: str | Path,
                        groups: list[tuple[Any, Any]] | None = None) -> list[SplitGroup]:
    """Write ``data`` as a Parquet dataset partitioned by ``column`` under ``root``.

    ``groups``: the ``(value, row positions)`` of each group (default: computed with
    :func:`gravity.estimation.multiple.split_groups`). Returns the groups in order.
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
        pq.write_table(table, d / "part-0.parquet")
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
