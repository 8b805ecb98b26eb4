#!/usr/bin/env python3
"""Lean against full results on the same split, alternated: size of a product's
result, CPU per product of the sequential engine, of a 2-worker cluster's workers and
of this process, and the wall-clock speed-up of the cluster, like with like.

The panel of ``split_dask.py`` (``--products``), written once as a Parquet dataset
partitioned by product; one :func:`~gravity.distributed.local_cluster` for the whole
run (started and warmed up first, excluded). Each round runs, for lean and full in
turn (ABBA order across rounds, so a change of the machine's load touches both
alike): the sequential engine from memory (``estimate_many(df, split=...)``), then
the cluster reading the dataset (``client=``). CPU: ``time.process_time`` of this
process for the sequential engine; for the cluster, the workers' (``client.run``) and
this process's (``psutil``: client and scheduler live here).

Also measured once: the pickled size of a product's result (lean and full), the
time to pickle and unpickle it, and the CPU of ``.lean()`` itself.

Usage::

    python benchmarks/split_lean.py --products 300 --rounds 2
"""

from __future__ import annotations

import argparse
import pickle
import shutil
import statistics
import sys
import time
from pathlib import Path

from _report import report

HERE = Path(__file__).resolve().parent
FORMULA = "y ~ ln_dist + rta | exporter^year + importer^year"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--products", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default=None, help="append the output to this markdown file")
    args = ap.parse_args()
    sys.path.insert(0, str(HERE))
    from split_dask import profiling_dataset

    uptime, df, groups, ds = profiling_dataset(args.products, "gravity-bench-lean-")
    import numpy as np
    import psutil
    from distributed import Client

    import gravity
    from gravity.distributed import local_cluster

    sep = ("fe",)
    k = len(groups)
    lines = [uptime, f"panel: {len(df):,} rows, {k} products"]
    try:
        # one result per product, lean and full: sizes and (un)pickling
        sample = gravity.estimate_many(FORMULA, df[df["product"] < 100000 + 40],
                                       split="product", separation=sep)
        full = [r for r in sample]
        c0 = time.process_time()
        lean = [r.lean() for r in full]
        c_lean = (time.process_time() - c0) / len(full)
        for name, rs in (("full", full), ("lean", lean)):
            t0 = time.process_time()
            blobs = [pickle.dumps(r, protocol=pickle.HIGHEST_PROTOCOL) for r in rs]
            t_dump = (time.process_time() - t0) / len(rs)
            t0 = time.process_time()
            for b in blobs:
                pickle.loads(b)
            t_load = (time.process_time() - t0) / len(rs)
            lines.append(f"{name} result of a product ({np.mean([r.nobs for r in rs]):,.0f} "
                         f"rows on average, {len(rs)} products): pickled "
                         f"{np.mean([len(b) for b in blobs]) / 1e3:,.1f} KB, pickle "
                         f"{1000 * t_dump:.3f} ms, unpickle {1000 * t_load:.3f} ms")
        lines.append(f".lean() of a full result: {1000 * c_lean:.3f} ms of CPU")
        del sample, full, lean

        cluster = local_cluster(n_workers=args.workers, memory_limit="4GiB")
        client = Client(cluster)
        gravity.estimate_many(FORMULA, dataset=str(ds), split="product", client=client,
                              show_progress=False, separation=sep)  # warm-up
        me = psutil.Process()
        runs: dict[str, list[tuple[float, float, float, float, float]]] = {
            "lean": [], "full": []}
        order = []
        for r in range(args.rounds):
            order += ["lean", "full"] if r % 2 == 0 else ["full", "lean"]
        check = {}
        for mode in order:
            flag = mode == "lean"
            c0, t0 = time.process_time(), time.perf_counter()
            seq = gravity.estimate_many(FORMULA, df, split="product", separation=sep,
                                        numba_threads=1, lean=flag)
            c_seq, t_seq = time.process_time() - c0, time.perf_counter() - t0
            w0 = sum(client.run(time.process_time).values())
            m0 = sum(me.cpu_times()[:2])
            t0 = time.perf_counter()
            par = gravity.estimate_many(FORMULA, dataset=str(ds), split="product",
                                        client=client, show_progress=False,
                                        separation=sep, lean=flag)
            t_par = time.perf_counter() - t0
            c_w = sum(client.run(time.process_time).values()) - w0
            c_m = sum(me.cpu_times()[:2]) - m0
            same = (seq.coef().equals(par.coef()) and seq.se().equals(par.se())
                    and all(x.is_lean == flag for x in par))
            check[mode] = (seq.coef(), seq.se())
            runs[mode].append((c_seq, c_w, c_m, t_seq, t_par))
            lines.append(f"{mode}: sequential {1000 * c_seq / k:.1f} ms CPU/product "
                         f"({t_seq:.1f} s); cluster workers {1000 * c_w / k:.1f} + this "
                         f"process {1000 * c_m / k:.2f} ms CPU/product ({t_par:.1f} s); "
                         f"wall speed-up {t_seq / t_par:.2f}x; from CPU "
                         f"{c_seq / max((c_w + c_m) / args.workers, c_m):.2f}x; Dask "
                         f"collection = sequential: {same}")
            del seq, par
        client.close()
        cluster.close()
        equal = all(check["lean"][i].equals(check["full"][i]) for i in range(2))
        lines.append(f"lean coefficients and SEs identical to the full ones: {equal}")
        lines.append("mean per product (ms of CPU) | sequential | workers | this process "
                     "| (workers + this) / sequential | wall speed-up")
        for mode, rs in runs.items():
            seq_, w_, m_ = (statistics.mean(r[i] for r in rs) / k * 1000 for i in range(3))
            wall = statistics.mean(r[3] / r[4] for r in rs)
            lines.append(f"{mode} | {seq_:.1f} | {w_:.1f} | {m_:.2f} | "
                         f"{(w_ + m_) / seq_:.3f} | {wall:.2f}x")
    finally:
        shutil.rmtree(ds.parent, ignore_errors=True)
    report(lines, args.out)


if __name__ == "__main__":
    main()
