"""Split estimation on a ``dask.distributed`` cluster, or group by group from Parquet.

:func:`estimate_many` is :func:`gravity.estimation.multiple.estimate_many` with an
engine choice:

* ``engine="sequential"`` (default): in this process; with ``dataset=`` each group is
  read from the Parquet dataset in turn (the panel is never in memory at once);
* ``engine="dask"`` (or a ``client=``): the groups go to a ``dask.distributed``
  cluster -- the ``client`` given (a ``Client`` or a scheduler address), else a
  :func:`~.tasks.local_cluster` started for the call (``n_workers`` processes, one
  thread each, ``memory_limit`` per worker, closed at the end), several consecutive
  groups per task (:func:`~.tasks.plan_chunks`: about a quarter of a million rows, at
  least four tasks per worker; ``chunk_size=`` groups otherwise). Each task reads its
  groups' rows, only the columns the models use, from a Parquet dataset partitioned
  by the split column (:mod:`.dataset`): the ``dataset=`` given, or one written from
  ``data`` to a temporary folder (on a cluster of several machines, pass a
  ``dataset=`` on storage they share). A group that cannot be read or fitted is
  recorded alone; a task lost with its worker is retried (``retries``), then its
  groups are sent again one per task, so that only a group that still fails is
  recorded (every model of it as a :class:`~gravity.estimation.multiple.FailedFit`).

A task runs exactly the sequential code on exactly the same rows (dtypes and index
labels kept), so the collection gathered equals the sequential one, in the same
order. The numba kernels of a task use ``numba_threads`` threads (default 1: the
workers already share the cores).

The per-task cost was measured (``benchmarks/results/split_dask.md``): Dask's
default allocator setting for worker processes doubled the CPU of each small fit
(see :mod:`.tasks`), one task per group added a scheduler round trip, a thread-pool
setup and a result message per group; chunks and :func:`~.tasks.local_cluster`
remove both. The results of a chunk are fetched straight from the worker when the
cluster is a ``LocalCluster`` (:func:`gather_direct`), then as one pickled buffer
(one message frame instead of about 25 per product), and are compactly packed
(:mod:`gravity.estimation.packing`).
"""

from __future__ import annotations

import pickle
import shutil
import tempfile
from typing import Any

import numpy as np
import pandas as pd

from ..estimation.multiple import (
    FULL_SAMPLE,
    Entry,
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
from .dataset import SplitGroup, open_split_dataset, write_split_dataset
from .tasks import (
    failed_group,
    fit_groups,
    local_cluster,
    needed_columns,
    plan_chunks,
    thread_limits,
)

ENGINES = ("sequential", "dask")


#: a task's results travel as one pickled buffer (see :func:`_task`) when they are
#: fetched straight from the workers: relayed by the scheduler, one large buffer cost
#: this process more than the separate frames (``benchmarks/results/split_dask.md``)
SHIP_AS_ONE_BUFFER = True


def _task(groups: list[SplitGroup], ids: list[int], *, column: str,
          specs: list[ModelSpec], model: str, options: dict[str, Any],
          numba_threads: int, columns: set[str] | None, one_buffer: bool = True,
          lean: bool = False) -> Any:
    """Fit a chunk of groups on a worker. With ``one_buffer`` the results are pickled
    here into one byte buffer (every array copied into it), which Dask sends as one
    frame: otherwise each array of each result is a frame of its own (about 25 per
    product), and the receiving event loop pays for every frame
    (``benchmarks/results/split_dask.md``). :func:`_unship` restores the results."""
    out = fit_groups(groups, ids, column, specs, model, options, numba_threads, columns,
                     lean)
    if not one_buffer:
        return out
    try:
        blob = pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # something plain pickle cannot take: Dask's own serialisation
        return out
    return np.frombuffer(blob, dtype=np.uint8)


def _unship(result: Any) -> list[list[tuple[FitKey, Entry]]]:
    """The results of :func:`_task`, unpickled from its buffer when it sent one."""
    if isinstance(result, np.ndarray):
        out: list[list[tuple[FitKey, Entry]]] = pickle.loads(result.data)
        return out
    return list(result)


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
    chunk_size: int | None = None,
    show_progress: bool | None = None,
    lean: bool = False,
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
        (:func:`gravity.distributed.local_cluster`: one thread per worker; the memory
        limit per worker)
    retries : times a task is retried when its worker is lost (then its groups are
        retried one per task)
    chunk_size : groups per Dask task (default: about 250,000 rows per task, at least
        four tasks per worker)
    numba_threads : threads of the numba kernels and of the BLAS/OpenMP pools while
        fitting (default: 1 with a split -- in a Dask task the workers already share
        the cores, and many small fits run far cheaper on one thread each -- and
        unchanged for one sample)
    show_progress : progress bar over the groups (default: on a terminal)
    lean : lean results (fixest's ``lean = TRUE``: no row-level arrays; see
        :meth:`gravity.estimation.results.RegressionResults.lean`), made lean where
        they are fitted (on the workers: about 2 KB per fit travels back instead of
        the full record, 0.6 MB for a 15,000-row PPML). Default False with every
        engine (fixest's ``split=`` returns full objects), so that the Dask
        collection is the sequential one, object for object; pass ``lean=True`` for
        thousands of groups whose tables are all that is needed
    """
    engine = engine or ("dask" if client is not None else "sequential")
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    col, full = check_split(split, fsplit)
    if engine == "sequential" and dataset is None:
        if data is None:
            raise ValueError("give data= (a DataFrame) or dataset= (a Parquet dataset)")
        threads = numba_threads if numba_threads is not None or col is None else 1
        with thread_limits(threads):
            return estimate_in_process(formula, data, model=model, split=split,
                                       fsplit=fsplit, show_progress=show_progress,
                                       lean=lean, **options)
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
    if full:  # the whole sample first, with the threads of the in-process engine
        assert data is not None
        with thread_limits(1 if numba_threads is None else numba_threads):
            entries += fit_sample(data, specs, model, options, col, FULL_SAMPLE, 0,
                                  lean=lean)
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
        threads = 1 if numba_threads is None else numba_threads
        columns = needed_columns(specs, options, col)
        if engine == "sequential":
            with thread_limits(threads):
                for i, g in enumerate(progress(groups, desc=f"{col} groups",
                                               total=len(groups), show=show_progress)):
                    entries += fit_groups([g], [first + i], col, specs, model, options,
                                          None, columns, lean)[0]
        else:
            entries += _run_dask(groups, col, specs, model, options, first, client,
                                 n_workers, memory_limit, retries, threads, columns,
                                 chunk_size, show_progress, lean)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return MultipleResults(entries)


def _run_dask(groups: list[SplitGroup], column: str, specs: list[ModelSpec], model: str,
              options: dict[str, Any], first: int, client: Any, n_workers: int,
              memory_limit: str, retries: int, numba_threads: int,
              columns: set[str] | None, chunk_size: int | None,
              show_progress: bool | None, lean: bool = False
              ) -> list[tuple[FitKey, Entry]]:
    from distributed import Client, as_completed

    own_cluster = None
    own_client = client is None or isinstance(client, str)  # made here: closed here
    if client is None:
        own_cluster = local_cluster(n_workers=n_workers, memory_limit=memory_limit)
        client = Client(own_cluster)
    elif isinstance(client, str):
        client = Client(client)
    direct = gather_direct(client)
    try:
        workers = sum(client.nthreads().values()) or n_workers
        chunks = plan_chunks([g.rows for g in groups], workers, chunk_size)
        kwargs = {"column": column, "specs": specs, "model": model, "options": options,
                  "numba_threads": numba_threads, "columns": columns,
                  "one_buffer": SHIP_AS_ONE_BUFFER and bool(direct), "lean": lean}

        def submit(chunk: list[int]) -> Any:
            fut = client.submit(_task, [groups[j] for j in chunk],
                                [first + j for j in chunk], retries=retries, pure=False,
                                **kwargs)
            sent[fut.key] = chunk
            return fut

        sent: dict[Any, list[int]] = {}
        pending = as_completed([submit(c) for c in chunks])
        done: dict[int, list[tuple[FitKey, Entry]]] = {}
        for fut in progress(pending, desc=f"{column} groups", total=len(chunks),
                            show=show_progress, unit="task"):
            chunk = sent.pop(fut.key)
            try:
                parts = _unship(client.gather(fut, direct=direct))
                for j, part in zip(chunk, parts, strict=True):
                    done[j] = part
            except Exception as exc:  # lost beyond the retries
                if len(chunk) > 1:  # again one group per task: only the culprit fails
                    for j in chunk:
                        pending.add(submit([j]))
                else:
                    done[chunk[0]] = failed_group(groups[chunk[0]], column, specs,
                                                  first + chunk[0], exc)
            fut.release()
        return [e for j in sorted(done) for e in done[j]]
    finally:
        if own_client:
            client.close()
        if own_cluster is not None:
            own_cluster.close()


def gather_direct(client: Any) -> bool | None:
    """Whether to fetch results straight from the workers: the client's own setting
    (``direct_to_workers``) when it has one, else yes for a ``LocalCluster`` (its
    workers are on this machine), else Dask's default (through the scheduler). Through
    the scheduler, a result is received and sent again by the scheduler, which lives
    in this process for a ``LocalCluster``: 0.3 ms of this process's CPU per MB
    (``benchmarks/results/split_dask.md``)."""
    from distributed import LocalCluster

    if client.direct_to_workers is not None:
        return bool(client.direct_to_workers)
    return True if isinstance(getattr(client, "cluster", None), LocalCluster) else None
