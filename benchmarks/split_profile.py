#!/usr/bin/env python3
"""Where a Dask worker's CPU goes, product by product, against this process.

The panel of ``split_dask.py`` (``--products`` products), written as a Parquet dataset
partitioned by product. The same groups are fitted (``y ~ ln_dist + rta |
exporter^year + importer^year``, separation ``fe``, one thread) four ways, and the CPU
of every step is taken with ``time.thread_time()`` (the fitting thread only) around
it:

* ``in process, from memory``: what the sequential engine does (``data.take`` of the
  group's rows, :func:`~gravity.estimation.multiple.fit_sample`);
* ``in process, from the dataset``: :func:`~gravity.distributed.read_group` and
  ``fit_sample``, then the result pickled (what a worker sends back);
* ``on one worker, one task at a time``: the same steps in tasks of a
  :func:`~gravity.distributed.local_cluster`, sent one after the other to one worker
  (the other core idle but for this process's waiting): the worker's environment
  without two fits running at once;
* ``on the workers``: the same steps in tasks of a
  :func:`~gravity.distributed.local_cluster` (chunks as
  :func:`~gravity.distributed.plan_chunks` cuts them), the entries not returned (so
  the task's result costs nothing), and the whole process CPU of the workers
  (``client.run(time.process_time)``) around the run: the difference with the steps
  is what Dask's machinery costs in the worker (messages, event loop, monitors);
* ``the engine``: :func:`gravity.estimate_many` with ``client=`` on the same cluster,
  workers' process CPU per product, and this process's (client and scheduler).

And without Dask (``--contention``): the groups fitted from memory by one plain
process (``multiprocessing``, spawned), then by two at once (each all the groups):
what two fits running at the same time on the machine's cores cost each other.

The runs alternate (``--rounds``), so that a change of the machine's load touches
each alike. ``--cprofile`` also prints the top functions of one worker task and of the
same groups in this process.

Usage::

    python benchmarks/split_profile.py --products 200
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from _report import report

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
FORMULA = "y ~ ln_dist + rta | exporter^year + importer^year"
OPTIONS: dict[str, Any] = {"separation": ("fe",)}
STEPS = ("read", "fit", "pickle")


def profiled_groups(groups: list[Any], ids: list[int], frames: list[Any] | None,
                    cprofile: bool = False) -> dict[str, Any]:
    """The steps of a task, timed (thread CPU seconds) group by group; the entries are
    dropped. ``frames``: the groups' rows in memory (no read, no pickle)."""
    from gravity.distributed.dataset import read_group
    from gravity.distributed.tasks import needed_columns, thread_limits
    from gravity.estimation.multiple import fit_sample
    from gravity.multiformula import expand_formula

    specs = expand_formula(FORMULA)
    columns = needed_columns(specs, OPTIONS, "product")
    cpu = dict.fromkeys(STEPS, 0.0)
    nbytes = 0
    prof = None
    if cprofile:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    t_all = time.thread_time()
    with thread_limits(1):
        for k, (g, i) in enumerate(zip(groups, ids, strict=True)):
            t0 = time.thread_time()
            frame = read_group(g, "product", columns=columns) if frames is None else frames[k]
            t1 = time.thread_time()
            entries = fit_sample(frame, specs, "ppml", OPTIONS, "product", g.value, i)
            t2 = time.thread_time()
            if frames is None:
                nbytes += len(pickle.dumps(entries, protocol=5))
            t3 = time.thread_time()
            cpu["read"] += t1 - t0
            cpu["fit"] += t2 - t1
            cpu["pickle"] += t3 - t2
    out: dict[str, Any] = {"cpu": cpu, "total": time.thread_time() - t_all,
                           "groups": len(groups), "bytes": nbytes}
    if prof is not None:
        import io
        import pstats

        prof.disable()
        text = io.StringIO()
        pstats.Stats(prof, stream=text).sort_stats("tottime").print_stats(18)
        out["profile"] = text.getvalue()
    return out


def plain_process(products: int, queue: Any, barrier: Any) -> None:
    """Fit the groups from memory in this (spawned) process once the others are ready;
    put the CPU per product (ms) in ``queue``."""
    import numba
    from split_dask import make_panel

    from gravity.estimation.multiple import split_groups

    numba.set_num_threads(1)
    df = make_panel(products, 100, 5, 0.3)
    frames = [df.take(r) for _, r in split_groups(df, "product")]
    groups = [type("G", (), {"value": i})() for i in range(len(frames))]
    profiled_groups(groups[:3], [0, 1, 2], frames[:3])  # warm-up
    barrier.wait()
    part = profiled_groups(groups, list(range(len(frames))), frames)
    queue.put(1e3 * part["total"] / part["groups"])


def plain_processes(k: int, products: int) -> list[float]:
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    queue, barrier = ctx.Queue(), ctx.Barrier(k)
    procs = [ctx.Process(target=plain_process, args=(products, queue, barrier))
             for _ in range(k)]
    for p in procs:
        p.start()
    out = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    return out


def add(acc: dict[str, Any], part: dict[str, Any]) -> None:
    for k in STEPS:
        acc["cpu"][k] = acc["cpu"].get(k, 0.0) + part["cpu"][k]
    for k in ("total", "groups", "bytes"):
        acc[k] = acc.get(k, 0) + part[k]


def line(name: str, acc: dict[str, Any], extra: str = "") -> str:
    n = max(1, acc["groups"])
    steps = ", ".join(f"{k} {1e3 * acc['cpu'][k] / n:.2f}" for k in STEPS)
    return (f"{name}: {1e3 * acc['total'] / n:.2f} ms of CPU per product ({steps})"
            + extra)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--products", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--cprofile", action="store_true")
    ap.add_argument("--contention", action="store_true",
                    help="also one and two plain processes (no Dask)")
    ap.add_argument("--out", default=None, help="append the lines to this markdown file")
    args = ap.parse_args()
    import psutil
    from distributed import Client
    from split_dask import profiling_dataset

    import gravity
    from gravity.distributed import local_cluster, plan_chunks
    from gravity.estimation.multiple import split_groups

    uptime, df, groups, ds = profiling_dataset(args.products, "gravity-split-profile-")
    lines = [uptime]
    ids = list(range(len(groups)))
    rows = [r for _, r in split_groups(df, "product")]
    lines.append(f"panel: {len(df):,} rows, {len(groups)} products")
    cluster = local_cluster(n_workers=args.workers, memory_limit="4GiB")
    client = Client(cluster)
    chunks = plan_chunks([g.rows for g in groups], args.workers)
    me = psutil.Process()
    gravity.estimate_many(FORMULA, df[df["product"] < 100004], split="product",
                          **OPTIONS)  # warm-up here
    client.gather([client.submit(profiled_groups, [groups[j] for j in c],
                                 [ids[j] for j in c], None, pure=False)
                   for c in chunks[:args.workers]])  # and on the workers
    acc: dict[str, dict[str, Any]] = {k: {"cpu": {}} for k in ("mem", "ds", "one", "dask")}
    first = next(iter(client.scheduler_info()["workers"]))
    dask_process = engine_workers = engine_main = 0.0
    for _ in range(args.rounds):
        frames = [df.take(r) for r in rows]
        add(acc["mem"], profiled_groups(groups, ids, frames))
        del frames
        add(acc["ds"], profiled_groups(groups, ids, None))
        for c in chunks:
            add(acc["one"], client.submit(profiled_groups, [groups[j] for j in c],
                                          [ids[j] for j in c], None, workers=[first],
                                          pure=False).result())
        c0 = sum(client.run(time.process_time).values())
        futs = [client.submit(profiled_groups, [groups[j] for j in c], [ids[j] for j in c],
                              None, pure=False) for c in chunks]
        for part in client.gather(futs):
            add(acc["dask"], part)
        dask_process += sum(client.run(time.process_time).values()) - c0
        c0 = sum(client.run(time.process_time).values())
        m0 = sum(me.cpu_times()[:2])
        gravity.estimate_many(FORMULA, dataset=str(ds), split="product",
                              client=client, show_progress=False, **OPTIONS)
        engine_workers += sum(client.run(time.process_time).values()) - c0
        engine_main += sum(me.cpu_times()[:2]) - m0
    n = args.rounds * len(groups)
    lines.append(line("in process, from memory (take + fit)", acc["mem"]))
    lines.append(line("in process, from the dataset (read + fit + pickle)", acc["ds"],
                      f"; result {acc['ds']['bytes'] / acc['ds']['groups'] / 1e6:.2f} MB "
                      "pickled per product"))
    lines.append(line("on one worker, one task at a time (result not returned)",
                      acc["one"]))
    lines.append(line("on the workers, the same steps in tasks (result not returned)",
                      acc["dask"], f"; worker processes in all {1e3 * dask_process / n:.2f} "
                      "ms per product"))
    lines.append(f"the engine (estimate_many, client=): worker processes "
                 f"{1e3 * engine_workers / n:.2f} ms of CPU per product, this process "
                 f"(client, scheduler) {1e3 * engine_main / n:.2f} ms")
    if args.cprofile:
        c = chunks[0]
        part = client.submit(profiled_groups, [groups[j] for j in c], [ids[j] for j in c],
                             None, True, pure=False).result()
        here = profiled_groups([groups[j] for j in c], [ids[j] for j in c], None, True)
        print("== one worker task ==\n" + part["profile"])
        print("== the same groups in this process ==\n" + here["profile"])
    client.close()
    cluster.close()
    if args.contention:
        one: list[float] = []
        two: list[float] = []
        for _ in range(args.rounds):
            one += plain_processes(1, args.products)
            two += plain_processes(2, args.products)
        lines.append(f"plain processes (no Dask), from memory: one alone "
                     f"{np.mean(one):.2f} ms of CPU per product, two at once "
                     f"{np.mean(two):.2f} ms each (runs: {', '.join(f'{v:.1f}' for v in one)}"
                     f" alone; {', '.join(f'{v:.1f}' for v in two)} in pairs)")
    report(lines, args.out)


if __name__ == "__main__":
    main()
