"""Split estimation on a ``dask.distributed`` cluster (one task per group), reading each
group's rows from a Parquet dataset partitioned by the split column.

:func:`estimate_many` (also ``gravity.estimate_many``): multiple estimation with
``engine="sequential"`` or ``engine="dask"`` / ``client=``; :func:`write_split_dataset`
and :func:`open_split_dataset` for the dataset. ``dask`` is imported only when a
cluster is used.
"""

from .dataset import SplitGroup, open_split_dataset, read_group, write_split_dataset
from .engine import ENGINES, estimate_many, fit_group

__all__ = ["estimate_many", "fit_group", "ENGINES", "SplitGroup", "open_split_dataset",
           "read_group", "write_split_dataset"]
