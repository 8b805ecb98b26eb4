#!/usr/bin/env python3
"""The fixed costs of a Dask task of the split engine, one by one, each A/B in one run
(the variants alternated, CPU seconds: the machine is shared).

* ``idle``: CPU of an idle 2-worker :func:`~gravity.distributed.local_cluster` (this
  process: scheduler, nannies, client; and each worker), with the memory monitors every
  100 ms (Dask's default) and every second (``QUIET_CONFIG``);
* ``gather``: this process's CPU per 0.84 MB result fetched through the scheduler
  (Dask's default) and straight from the workers;
* ``read``: :func:`~gravity.distributed.read_group` per product, the plain-frame path
  against pyarrow's ``to_pandas``;
* ``pickle``: the pickled size of a product's results, and the time to pickle and
  unpickle them (out of band, as Dask does);
* ``returned``: the engine with the results returned against a task that drops them
  (what a result costs at most: workers and this process, per product).

Usage::

    python benchmarks/split_costs.py idle gather read pickle returned --products 120
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
FORMULA = "y ~ ln_dist + rta | exporter^year + importer^year"


def _cpu(p: Any) -> float:
    t = p.cpu_times()
    return float(t.user + t.system)


def idle(rounds: int, secs: float = 15.0) -> list[str]:
    import psutil
    from distributed import Client

    from gravity.distributed import local_cluster, tasks

    quiet = dict(tasks.QUIET_CONFIG)
    out = []
    for _ in range(rounds):
        for label, interval in (("memory monitors every 100 ms", "100ms"),
                                ("memory monitors every second", "1s")):
            tasks.QUIET_CONFIG["distributed.worker.memory.monitor-interval"] = interval
            cluster = local_cluster(n_workers=2)
            tasks.QUIET_CONFIG.update(quiet)
            client = Client(cluster)
            time.sleep(2)
            me = psutil.Process()
            workers = [psutil.Process(p) for p in client.run(os.getpid).values()]
            a = [_cpu(me)] + [_cpu(w) for w in workers]
            time.sleep(secs)
            b = [_cpu(me)] + [_cpu(w) for w in workers]
            d = [100 * (y - x) / secs for x, y in zip(a, b, strict=True)]
            out.append(f"idle cluster, {label}: this process {d[0]:.2f}% of a core, workers "
                       f"{d[1]:.2f}% and {d[2]:.2f}%, in all {sum(d):.2f}%")
            client.close()
            cluster.close()
    return out


def _payload(i: int) -> list[Any]:
    rng = np.random.default_rng(i)
    return [(i, [rng.normal(size=15000) for _ in range(7)]) for _ in range(16)]


def gather(rounds: int) -> list[str]:
    import psutil
    from distributed import Client, as_completed

    from gravity.distributed import local_cluster

    cluster = local_cluster(n_workers=2)
    clients = {"through the scheduler": Client(cluster, direct_to_workers=False),
               "straight from the workers": Client(cluster, direct_to_workers=True)}
    me = psutil.Process()
    res: dict[str, list[float]] = {k: [] for k in clients}
    for r in range(rounds + 1):
        items = list(clients.items())
        for k, c in items if r % 2 == 0 else items[::-1]:
            t = _cpu(me)
            for f in as_completed([c.submit(_payload, i, pure=False) for i in range(40)]):
                f.result()
                f.release()
            if r:  # the first round warms up
                res[k].append((_cpu(me) - t) / (40 * 16) * 1e3)
    for c in clients.values():
        c.close()
    cluster.close()
    return [f"results gathered {k}: this process {np.mean(v):.3f} ms of CPU per 0.84 MB "
            f"(runs {' '.join(f'{x:.2f}' for x in v)})" for k, v in res.items()]


def read(groups: list[Any], columns: set[str] | None, rounds: int) -> list[str]:
    import gravity.distributed.dataset as D

    plain = D._plain_frame
    res: dict[str, list[float]] = {"plain frame": [], "to_pandas": []}
    for r in range(2 * rounds):
        for k in (["plain frame", "to_pandas"] if r % 2 == 0 else ["to_pandas", "plain frame"]):
            D._plain_frame = plain if k == "plain frame" else (lambda t: None)  # type: ignore[assignment]
            t = time.thread_time()
            for g in groups:
                D.read_group(g, "product", columns=columns)
            res[k].append((time.thread_time() - t) / len(groups) * 1e3)
    D._plain_frame = plain  # type: ignore[assignment]
    return [f"read_group, {k}: median {np.median(v):.3f} ms of CPU per product "
            f"(runs {' '.join(f'{x:.2f}' for x in v)})" for k, v in res.items()]


def pickled(frames: list[Any], rounds: int) -> list[str]:
    from gravity.estimation.multiple import fit_sample
    from gravity.multiformula import expand_formula

    specs = expand_formula(FORMULA)
    ents = [fit_sample(f, specs, "ppml", {"separation": ("fe",)}, "product", i, i)
            for i, f in enumerate(frames[:10])]
    size = np.mean([len(pickle.dumps(e, protocol=5)) for e in ents])
    times = []
    for _ in range(rounds * 3):
        t = time.thread_time()
        blobs = []
        for e in ents:
            bufs: list[Any] = []
            blobs.append((pickle.dumps(e, protocol=5, buffer_callback=bufs.append), bufs))
        t1 = time.thread_time()
        for b, bufs in blobs:
            pickle.loads(b, buffers=bufs)
        times.append(((t1 - t) / len(ents) * 1e3, (time.thread_time() - t1) / len(ents) * 1e3))
    a = np.array(times)
    return [f"a product's results pickled: {size / 1e6:.3f} MB; pickle (out of band) "
            f"median {np.median(a[:, 0]):.3f} ms, unpickle {np.median(a[:, 1]):.3f} ms"]


def returned(ds: str, products: int, rounds: int) -> list[str]:
    import psutil
    from distributed import Client

    import gravity
    import gravity.distributed.engine as E
    from gravity.distributed import local_cluster

    cluster = local_cluster(n_workers=2)
    client = Client(cluster)
    original = E._task

    def dropping(groups: Any, ids: Any, **kw: Any) -> Any:
        from gravity.distributed.engine import _task

        return [[] for _ in _task(groups, ids, **{**kw, "one_buffer": False})]

    def run() -> Any:
        return gravity.estimate_many(FORMULA, dataset=ds, split="product", client=client,
                                     show_progress=False, separation=("fe",))

    run()
    me = psutil.Process()
    res: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    for r in range(2 * rounds):
        for keep in ([True, False] if r % 2 == 0 else [False, True]):
            E._task = original if keep else dropping  # type: ignore[assignment]
            w0 = sum(client.run(time.process_time).values())
            m0 = _cpu(me)
            run()
            res[keep].append(((sum(client.run(time.process_time).values()) - w0) / products
                              * 1e3, (_cpu(me) - m0) / products * 1e3))
    E._task = original  # type: ignore[assignment]
    client.close()
    cluster.close()
    out = []
    for keep, v in res.items():
        a = np.array(v)
        out.append(f"the engine, results {'returned' if keep else 'dropped in the task'}: "
                   f"workers {a[:, 0].mean():.2f} ms (sd {a[:, 0].std():.2f}), this process "
                   f"{a[:, 1].mean():.2f} ms (sd {a[:, 1].std():.2f}) of CPU per product")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("parts", nargs="+",
                    choices=["idle", "gather", "read", "pickle", "returned"])
    ap.add_argument("--products", type=int, default=120)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    from split_dask import profiling_dataset

    from gravity.distributed.tasks import needed_columns
    from gravity.estimation.multiple import split_groups
    from gravity.multiformula import expand_formula

    uptime, df, groups, ds = profiling_dataset(args.products, "gravity-split-costs-")
    lines = [uptime]
    for part in args.parts:
        if part == "idle":
            lines += idle(args.rounds)
        elif part == "gather":
            lines += gather(args.rounds)
        elif part == "read":
            cols = needed_columns(expand_formula(FORMULA), {"separation": ("fe",)}, "product")
            lines += read(groups, cols, args.rounds)
        elif part == "pickle":
            frames = [df.take(r).set_axis(r.astype(np.int64))
                      for _, r in split_groups(df, "product")]
            lines += pickled(frames, args.rounds)
        else:
            lines += returned(str(ds), args.products, args.rounds)
        print(lines[-1], flush=True)
    lines.append(f"uptime after: {os.popen('uptime').read().strip()}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
