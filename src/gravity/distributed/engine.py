"""Split estimation on a ``dask.distributed`` cluster, or group by group from Parquet.

:func:`estimate_many` is :func:`gravity.estimation.multiple.estimate_many` with an
engine choice:

* ``engine="sequential"`` (default): in this process; with ``dataset=`` each group is
  read from the Parquet dataset in turn (the panel is never in memory at once);
* ``engine="dask"`` (or a ``client=``): one task per group on a ``dask.distributed``
  cluster -- the ``client`` given (a ``Client`` or a scheduler address), else a
  ``LocalCluster`` started for the call (``n_workers`` processes, one thread each,
  ``memory_limit`` per worker, closed at the end). Each task reads its group's rows
  from a Parquet dataset partitioned by the split column (:mod:`.dataset`): the
  ``dataset=`` given, or one written from ``data`` to a temporary folder (on a
  cluster of several machines, pass a ``dataset=`` on storage they share). A task
  lost with its worker is retried (``retries``); a task that still fails records
  every model of its group as a :class:`~gravity.estimation.multiple.FailedFit`.

A task runs exactly the sequential code on exactly the same rows (dtypes and index
labels kept), so the collection gathered equals the sequential one, in the same
order. The numba kernels of a task use ``numba_threads`` threads (default 1: the
workers already share the cores).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd

from ..estimation.multiple import (
    FULL_SAMPLE,
    Entry,
    FailedFit,
    FitKey,
    MultipleResults,
    check_row_options,
    check_split,
    fit_sample,
    model_function,
    split_groups,
)
from ..estimation.multiple import estimate_many as estimate_in_process
from ..multiformula import ModelSpec, expand_formula
from ..progress import progress
from .dataset import SplitGroup, open_split_dataset, read_group, write_split_dataset

ENGINES = ("sequential", "dask")


def fit_group(group: SplitGroup, column: str, specs: list[ModelSpec], model: str,
              options: dict[str, Any], id_sample: int, numba_threads: int | None = None
              ) -> list[tuple[FitKey, Entry]]:
    """The task of one group: read its rows, fit every model (runs on a worker)."""
    frame = read_group(group, column)
    with numba_thread_count(numba_threads):
        return fit_sample(frame, specs, model, options, column, group.value, id_sample)


@contextmanager
def numba_thread_count(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` threads in numba's kernels and in the BLAS and OpenMP
    pools (threadpoolctl), then restore them (``None``: unchanged). Many small fits
    spend most of their CPU time waking and spinning idle pool threads: one thread
    each costs about 8 times less CPU (benchmarks/results/split_dask.md)."""
    if n is None:
        yield
        return
    import numba
    from threadpoolctl import threadpool_limits

    before = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(n), numba.config.NUMBA_NUM_THREADS)))  # type: ignore[attr-defined]
    try:
        with threadpool_limits(limits=int(n)):
            yield
    finally:
        numba.set_num_threads(before)


def _task(group: SplitGroup, id_sample: int, *, column: str, specs: list[ModelSpec],
          model: str, options: dict[str, Any], numba_threads: int
          ) -> list[tuple[FitKey, Entry]]:
    return fit_group(group, column, specs, model, options, id_sample, numba_threads)


def _failed_group(group: SplitGroup, column: str, specs: list[ModelSpec], id_sample: int,
                  exc: BaseException) -> list[tuple[FitKey, Entry]]:
    out: list[tuple[FitKey, Entry]] = []
    for spec in specs:
        key = FitKey(column, group.value, spec, id_sample)
        out.append((key, FailedFit(key, type(exc).__name__, str(exc))))
    return out


def estimate_many(
    formula: str,
    data: pd.DataFrame | None = None,
    model: str = "ppml",
    split: str | None = None,
    fsplit: str | None = None,
    engine: str | None = None,
    client: Any = None,
    dataset: str | None = None,
    n_workers: int = 2,
    memory_limit: str = "4GiB",
    retries: int = 2,
    numba_threads: int | None = None,
    show_progress: bool | None = None,
    **options: Any,
) -> MultipleResults:
    """Multiple estimation, split by a column, in this process or on a Dask cluster.

    Parameters
    ----------
    formula, model, split, fsplit, **options
        As :func:`gravity.estimation.multiple.estimate_many` (``c()``, ``sw()``,
        ``csw()`` formulas; one sample per value of ``split``).
    data : DataFrame (optional with ``dataset=``)
    engine : ``"sequential"`` (default) or ``"dask"`` (implied by ``client=``)
    client : a ``distributed.Client`` or a scheduler address (``"tcp://host:8786"``)
    dataset : a Parquet dataset partitioned by the split column (``split=value``
        directories, e.g. from :func:`gravity.sources.build_baci_products`): groups
        are read from it, one at a time; their values as the files hold them (with
        their type: numbers sort as numbers), or the directory names as text when the
        files do not keep the column (a Hive dataset written elsewhere)
    n_workers, memory_limit : the ``LocalCluster`` started when no client is given
        (one thread per worker; the memory limit per worker)
    retries : times a task is retried when its worker is lost
    numba_threads : threads of the numba kernels and of the BLAS/OpenMP pools while
        fitting (default: 1 with a split -- in a Dask task the workers already share
        the cores, and many small fits run far cheaper on one thread each -- and
        unchanged for one sample)
    show_progress : progress bar over the groups (default: on a terminal)
    """
    engine = engine or ("dask" if client is not None else "sequential")
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    col, full = check_split(split, fsplit)
    if engine == "sequential" and dataset is None:
        if data is None:
            raise ValueError("give data= (a DataFrame) or dataset= (a Parquet dataset)")
        threads = numba_threads if numba_threads is not None or col is None else 1
        with numba_thread_count(threads):
            return estimate_in_process(formula, data, model=model, split=split,
                                       fsplit=fsplit, show_progress=show_progress, **options)
    if col is None:
        raise ValueError("engine='dask' and dataset= need split= (or fsplit=): the column "
                         "whose groups are fitted one per task")
    if dataset is None and data is None:
        raise ValueError("give data= (a DataFrame) or dataset= (a Parquet dataset)")
    if full and data is None:
        raise ValueError("fsplit= needs data= (the whole sample is fitted in this process)")
    check_row_options(options, col)
    specs = expand_formula(formula)
    model_function(model)
    entries: list[tuple[FitKey, Entry]] = []
    if full:
        assert data is not None
        entries += fit_sample(data, specs, model, options, col, FULL_SAMPLE, 0)
    tmp = None
    try:
        if dataset is not None:
            groups = open_split_dataset(dataset, col)
        else:
            assert data is not None
            found = split_groups(data, col, options.get("missing", "raise"))
            if engine == "dask":
                tmp = tempfile.mkdtemp(prefix="gravity-split-")
                groups = write_split_dataset(data, col, tmp, groups=found)
            else:  # pragma: no cover - sequential without dataset returned above
                groups = []
        first = int(full)
        if engine == "sequential":
            for i, g in enumerate(progress(groups, desc=f"{col} groups", total=len(groups),
                                           show=show_progress)):
                try:
                    entries += fit_group(g, col, specs, model, options, first + i,
                                         1 if numba_threads is None else numba_threads)
                except Exception as exc:  # an unreadable group: recorded
                    entries += _failed_group(g, col, specs, first + i, exc)
        else:
            entries += _run_dask(groups, col, specs, model, options, first, client,
                                 n_workers, memory_limit, retries,
                                 1 if numba_threads is None else numba_threads,
                                 show_progress)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return MultipleResults(entries)


def _run_dask(groups: list[SplitGroup], column: str, specs: list[ModelSpec], model: str,
              options: dict[str, Any], first: int, client: Any, n_workers: int,
              memory_limit: str, retries: int, numba_threads: int,
              show_progress: bool | None) -> list[tuple[FitKey, Entry]]:
    from distributed import Client, LocalCluster, as_completed

    own_cluster = None
    own_client = client is None or isinstance(client, str)  # made here: closed here
    if client is None:
        own_cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1,
                                   memory_limit=memory_limit, processes=True,
                                   dashboard_address=":0")
        client = Client(own_cluster)
    elif isinstance(client, str):
        client = Client(client)
    try:
        futures = client.map(_task, groups, list(range(first, first + len(groups))),
                             column=column, specs=specs, model=model, options=options,
                             numba_threads=numba_threads, retries=retries, pure=False)
        position = {f.key: (g, first + i) for i, (f, g) in enumerate(zip(futures, groups,
                                                                          strict=True))}
        done: dict[int, list[tuple[FitKey, Entry]]] = {}
        for fut in progress(as_completed(futures), desc=f"{column} groups",
                            total=len(futures), show=show_progress):
            g, i = position[fut.key]
            try:
                done[i] = fut.result()
            except Exception as exc:  # lost beyond the retries, or unreadable
                done[i] = _failed_group(g, column, specs, i, exc)
            fut.release()
        return [e for i in sorted(done) for e in done[i]]
    finally:
        if own_client:
            client.close()
        if own_cluster is not None:
            own_cluster.close()
