"""The work of one Dask task: several groups of a split dataset, read and fitted.

A task carries a *chunk* of consecutive groups (:func:`plan_chunks`) so that the fixed
cost of a task -- the scheduler's round trips, the thread-pool limits, the result
message -- is paid once for many small fits; every group is still read and fitted on
its own and gets its own entries (a group that cannot be read or fitted is recorded
as :class:`~gravity.estimation.multiple.FailedFit` by itself, the others go on).

Each group is read with pyarrow directly (one thread, only the columns the models
use, the index labels kept) and fitted by exactly the sequential code
(:func:`gravity.estimation.multiple.fit_sample`), so the numbers equal the
sequential engine's.

Worker processes and the allocator: Dask starts its worker processes with
``MALLOC_TRIM_THRESHOLD_=65536``. Setting any of glibc's malloc thresholds turns off
its dynamic mmap threshold, so every array of 128 KiB or more (16,384 doubles: one
column of a typical product) is mapped and unmapped afresh, and its pages are
faulted in again each time: a 15,000-row PPML then costs twice the CPU (half of it in
the kernel; ``benchmarks/results/split_dask.md``). :data:`WORKER_ENVIRON` raises the
mmap and trim thresholds of the worker processes that :func:`local_cluster` starts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ..estimation.multiple import Entry, FailedFit, FitKey, factor_columns, fit_sample
from ..formula import parse_formula
from ..multiformula import ModelSpec
from .dataset import SplitGroup, read_group

#: environment of the worker processes started by :func:`local_cluster`: glibc keeps
#: arrays up to 32 MiB in its heap (no mmap/munmap and page faults per array) and
#: returns freed memory above 64 MiB at the top of the heap to the system
WORKER_ENVIRON = {"MALLOC_MMAP_THRESHOLD_": "33554432", "MALLOC_TRIM_THRESHOLD_": "67108864"}
#: Dask settings of :func:`local_cluster`: no statistical profiler in the workers (a
#: stack sample every 10 ms), the dashboards' system monitor every 5 s, the event-loop
#: health tick every second (instead of 0.5 s and 20 ms) and the memory monitors of the
#: workers and of their nannies (which live in this process) every second instead of
#: every 100 ms: the spill, pause and terminate thresholds of ``memory_limit`` are then
#: checked once a second. Measured on an idle 2-worker cluster: 10% of a core with
#: Dask's defaults (workers and this process's scheduler, nannies and client), 2.5-3.6%
#: with the first three, 1.3-1.6% with all four
QUIET_CONFIG: dict[str, Any] = {"distributed.worker.profile.enabled": False,
                                "distributed.admin.system-monitor.interval": "5s",
                                "distributed.admin.tick.interval": "1s",
                                "distributed.worker.memory.monitor-interval": "1s"}
#: rows of data a task should carry (about a second of PPML with two fixed effects)
TASK_ROWS = 250_000
#: tasks per worker at least (so that the last tasks balance the load)
TASKS_PER_WORKER = 4
#: near the end, a task carries at most ``1 / (TAIL_SHARE * workers)`` of the rows left
#: (so the last tasks shrink to one group, and no worker waits long for the other)
TAIL_SHARE = 2


def local_cluster(n_workers: int = 2, memory_limit: str = "4GiB", **kwargs: Any) -> Any:
    """A ``distributed.LocalCluster`` of ``n_workers`` processes with one thread each,
    ``memory_limit`` per worker and :data:`WORKER_ENVIRON` (the allocator settings under
    which many small fits cost no more than in this process) and the quieter
    monitoring of :data:`QUIET_CONFIG`; ``kwargs`` go to
    ``LocalCluster``. Pass ``Client(local_cluster())`` as ``client=`` to keep one
    cluster for several calls (close both afterwards).

    Dask's nanny writes the workers' variables (``OMP_NUM_THREADS=1``...) into this
    process's environment before it spawns them, and takes a variable from there when
    it is already set: they are set here for the spawn, then this process's
    environment is restored (so later subprocesses are not slowed down by them).
    """
    import os

    import dask
    from distributed import LocalCluster

    kwargs = {"threads_per_worker": 1, "processes": True, "dashboard_address": ":0",
              **kwargs}
    keys = set(dask.config.get("distributed.nanny.pre-spawn-environ")) | set(WORKER_ENVIRON)
    before = {k: os.environ.get(k) for k in keys | {"PYTHONHASHSEED"}}
    os.environ.update(WORKER_ENVIRON)
    config: dict[str, Any] = {f"distributed.nanny.pre-spawn-environ.{k}": v
                              for k, v in WORKER_ENVIRON.items()}
    config.update(QUIET_CONFIG)
    try:
        with dask.config.set(config):
            return LocalCluster(n_workers=n_workers, memory_limit=memory_limit, **kwargs)
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def plan_chunks(rows: Sequence[int | None], workers: int, chunk_size: int | None = None
                ) -> list[list[int]]:
    """Positions of the groups, cut into consecutive chunks (one task each).

    ``chunk_size``: groups per task; by default chunks of about :data:`TASK_ROWS` rows,
    but never fewer than :data:`TASKS_PER_WORKER` tasks per worker (so that large
    groups still spread over the workers), and towards the end chunks of at most
    ``1 / (TAIL_SHARE * workers)`` of the rows left (guided self-scheduling,
    Polychronopoulos and Kuck 1987): the last tasks carry one group each, so the
    workers finish together instead of one waiting for the other's last chunk. Groups
    of unknown size count as ``TASK_ROWS / 20`` rows.
    """
    n = len(rows)
    if n == 0:
        return []
    if chunk_size is not None:
        if int(chunk_size) < 1:
            raise ValueError(f"chunk_size must be a positive number of groups, got {chunk_size}")
        size = int(chunk_size)
        return [list(range(i, min(i + size, n))) for i in range(0, n, size)]
    known = [r if r is not None else TASK_ROWS // 20 for r in rows]
    workers = max(1, workers)
    most = max(1, math.ceil(n / (TASKS_PER_WORKER * workers)))
    left = sum(known)
    chunks: list[list[int]] = []
    current: list[int] = []
    load = 0
    for i, r in enumerate(known):
        if not current:  # a new chunk: its size limit from the rows still to assign
            limit = min(TASK_ROWS, left / (TAIL_SHARE * workers))
        current.append(i)
        load += r
        left -= r
        if load >= limit or len(current) >= most:
            chunks.append(current)
            current, load = [], 0
    if current:
        chunks.append(current)
    return chunks


def needed_columns(specs: Sequence[ModelSpec], options: dict[str, Any], column: str
                   ) -> set[str] | None:
    """The columns the models read: their variables, fixed effects and slopes, the
    cluster and panel columns of ``vcov``, the ``weights``/``offset``/``exposure``
    columns and ``panel_id``, and the split column. ``None`` (read every column) when
    an option names columns in a way not parsed here, or a formula quotes a name."""
    names = {column}
    for s in specs:
        if re.search(r"[`'\"]", s.formula):  # quoted names (Q("a b")): read them all
            return None
        names |= parse_formula(s.formula).columns()
    names |= factor_columns(specs, options.get("vcov"), options.get("panel_id"))
    vcov = options.get("vcov")
    if isinstance(vcov, dict):
        for v in vcov.values():
            if isinstance(v, str):
                names |= set(re.findall(r"[A-Za-z_.][A-Za-z0-9_.]*", v))
            elif isinstance(v, (list, tuple)):
                names |= {str(c) for c in v}
            else:
                return None
    elif vcov is not None and not isinstance(vcov, str):
        return None
    for key in ("weights", "offset", "exposure", "panel_id", "cluster"):
        v = options.get(key)
        if v is None:
            continue
        if isinstance(v, str):
            names.add(v)
        elif isinstance(v, (list, tuple)) and all(isinstance(c, str) for c in v):
            names |= set(v)
        else:
            return None
    return names


@contextmanager
def thread_limits(n: int | None) -> Iterator[None]:
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


def failed_group(group: SplitGroup, column: str, specs: Sequence[ModelSpec],
                 id_sample: int, exc: BaseException) -> list[tuple[FitKey, Entry]]:
    """Every model of a group that could not be read (or whose task was lost)."""
    out: list[tuple[FitKey, Entry]] = []
    for spec in specs:
        key = FitKey(column, group.value, spec, id_sample)
        out.append((key, FailedFit(key, type(exc).__name__, str(exc))))
    return out


def fit_groups(groups: Sequence[SplitGroup], ids: Sequence[int], column: str,
               specs: Sequence[ModelSpec], model: str, options: dict[str, Any],
               numba_threads: int | None = None, columns: set[str] | None = None,
               lean: bool = False) -> list[list[tuple[FitKey, Entry]]]:
    """The task of a chunk: read and fit each group in turn (on a worker, or in this
    process for the sequential engine reading a dataset); one list of entries per
    group, a group that cannot be read recorded alone; ``lean``: lean results (made
    lean on the worker, so that only about 2 KB per fit travels back)."""
    out: list[list[tuple[FitKey, Entry]]] = []
    with thread_limits(numba_threads):
        for group, i in zip(groups, ids, strict=True):
            try:
                frame = read_group(group, column, columns=columns)
            except Exception as exc:  # an unreadable partition: this group only
                out.append(failed_group(group, column, specs, i, exc))
                continue
            out.append(fit_sample(frame, specs, model, options, column, group.value, i,
                                  lean=lean))
    return out
