"""Split estimation on a ``dask.distributed`` cluster (consecutive groups per task), reading each
group's rows from a Parquet dataset partitioned by the split column.

:func:`estimate_many` (also ``gravity.estimate_many``): multiple estimation with
``engine="sequential"`` or ``engine="dask"`` / ``client=``; :func:`write_split_dataset`
and :func:`open_split_dataset` for the dataset; :func:`local_cluster` for a cluster of
worker processes set up for many small fits. ``dask`` is imported only when a
cluster is used.
"""

from .dataset import SplitGroup, open_split_dataset, read_group, write_split_dataset
from .engine import ENGINES, estimate_many
from .tasks import fit_groups, local_cluster, plan_chunks

__all__ = ["estimate_many", "fit_groups", "local_cluster", "plan_chunks", "ENGINES",
           "SplitGroup", "open_split_dataset",
           "read_group", "write_split_dataset"]
