"""Split estimation on a ``dask.distributed`` cluster (one fit per group)."""
