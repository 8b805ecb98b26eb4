#!/usr/bin/env python3
"""One PPML per product: sequential gravity, gravity on a LocalCluster, R fixest's
``split=``, in the same run.

A simulated product-level panel (``--products`` HS6-like codes, ``--countries`` x
``--countries`` countries, ``--years`` years, each product traded on a random share of
the pairs, every traded pair observed each year, zeros included) and the model
``y ~ ln_dist + rta | exporter^year + importer^year`` fitted on each product
(clustered by exporter-year, the default of both packages).

Reported: the wall time of the estimation call of each engine (data already in memory
for sequential gravity and fixest, already written as a Parquet dataset partitioned
by product for the cluster; the cluster's start-up apart), the time of the same fits
called one by one on pre-split frames (so the per-group overhead of
``estimate_many`` is its total minus theirs, over the groups), the largest difference
between any product's coefficients in the collection and in its separate single fit,
and between gravity and fixest.

CPU seconds are also reported, because they do not depend on what else the machine
runs: the sequential process's, the cluster's workers' (``client.run`` of
``time.process_time``) and this process's during the cluster call (the client and
the scheduler of the LocalCluster live here). From them, the speed-up that the
cluster would reach on an otherwise idle machine with ``--workers`` cores:
``sequential CPU / max((workers CPU + client CPU) / workers, client CPU)``.

Usage::

    python benchmarks/split_dask.py                       # 1000 products, 100 countries, 5 years
    python benchmarks/split_dask.py --products 100 --no-fixest
    python benchmarks/split_dask.py --lean   # lean results in both engines

``--lean`` makes both engines return lean results (fixest's ``lean = TRUE``: no
row-level arrays; the coefficients and SEs are the same bits), so they are compared
like with like; by default both return full results (fixest's ``split=`` returns full
objects). The output names which.

R fixest runs once per thread count of ``--fixest-threads`` (default 1 and 2: on a
loaded machine its OpenMP threads can spend more CPU waiting than working).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import shutil
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from _report import report

HERE = Path(__file__).resolve().parent
FORMULA = "y ~ ln_dist + rta | exporter^year + importer^year"
R_SCRIPT = HERE / "fixest_split.R"


def make_panel(products: int, countries: int, years: int, density: float,
               seed: int = 0) -> pd.DataFrame:
    """Sparse product panel: product k is traded on a share ~ U(density/2, 3 density/2)
    of the pairs; a traded pair appears every year; y ~ Poisson(mu)."""
    rng = np.random.default_rng(seed)
    c = countries
    e, i = np.meshgrid(np.arange(c), np.arange(c), indexing="ij")
    off = e != i
    e, i = e[off], i[off]
    n_pairs = e.size
    ln_dist = np.log(rng.uniform(100, 15000, (c, c)))[e, i]
    share = rng.uniform(density / 2, 3 * density / 2, products)
    active = rng.uniform(size=(products, n_pairs)) < share[:, None]
    k, p = np.nonzero(active)
    k = np.repeat(k, years)
    p = np.repeat(p, years)
    t = np.tile(np.arange(years), k.size // years)
    size_e = rng.normal(0, 1, (c, years))
    size_i = rng.normal(0, 1, (c, years))
    beta = rng.normal(-0.9, 0.2, products)
    rta_pair = rng.uniform(size=n_pairs) < 0.3
    start = rng.integers(0, years, n_pairs)
    rta = (rta_pair[p] & (t >= start[p])).astype(np.float64)
    eta = 6.0 + size_e[e[p], t] + size_i[i[p], t] + beta[k] * ln_dist[p] + 0.3 * rta
    y = rng.poisson(np.exp(eta - 0.0)).astype(np.float64)
    return pd.DataFrame({
        "product": (100000 + k).astype(np.int32), "exporter": e[p].astype(np.int16),
        "importer": i[p].astype(np.int16), "year": (2015 + t).astype(np.int16), "y": y,
        "ln_dist": ln_dist[p], "rta": rta})


def profiling_dataset(products: int, prefix: str) -> tuple[str, pd.DataFrame, list, Path]:
    """The set-up of the profiling scripts (``split_costs``, ``split_profile``,
    ``split_transport``): warnings off (also in the workers), one numba thread, the
    default simulated panel of ``products`` products written as a dataset partitioned by
    product in a new temporary folder. Returns the uptime line, the panel, its groups
    and the dataset's path."""
    warnings.simplefilter("ignore")
    os.environ["PYTHONWARNINGS"] = "ignore"
    import numba

    from gravity.distributed import write_split_dataset

    numba.set_num_threads(1)
    uptime = f"uptime before: {os.popen('uptime').read().strip()}"
    df = make_panel(products, 100, 5, 0.3)
    ds = Path(tempfile.mkdtemp(prefix=prefix)) / "ds"
    groups = write_split_dataset(df, "product", ds)
    return uptime, df, groups, ds


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_fixest(csv: Path, nthreads: int, env: dict[str, str]) -> dict | None:
    lib = os.environ.get("R_FIXEST_LIB", str(Path.home() / ".cache" / "r-fixest"))
    if shutil.which("Rscript") is None or not Path(lib).exists():
        print("fixest: Rscript or the fixest library is missing, skipped")
        return None
    cmd = ["/usr/bin/time", "-f", "%M", "Rscript", str(R_SCRIPT), str(csv), FORMULA,
           "product", "--nthreads", str(nthreads)]
    done = subprocess.run(cmd, capture_output=True, text=True,
                          env={**env, "R_FIXEST_LIB": lib}, check=False)
    if done.returncode != 0:
        print("fixest failed:", done.stderr[-2000:])
        return None
    out = json.loads(done.stdout)
    out["peak_mib"] = int(done.stderr.strip().splitlines()[-1]) / 1024
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--products", type=int, default=1000)
    ap.add_argument("--countries", type=int, default=100)
    ap.add_argument("--years", type=int, default=5)
    ap.add_argument("--density", type=float, default=0.3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--fixest-threads", default="1,2",
                    help="fixest's thread counts, each run in turn (comma-separated)")
    ap.add_argument("--no-fixest", action="store_true")
    ap.add_argument("--separation", default="fe",
                    help="gravity's separation checks (default fe: fixest's own rule)")
    ap.add_argument("--numba-threads", type=int, default=1,
                    help="numba and BLAS threads of sequential gravity (workers: 1 each)")
    ap.add_argument("--out", default=None, help="append the table to this markdown file")
    ap.add_argument("--chunk-size", type=int, default=None,
                    help="groups per Dask task (default: estimate_many's plan)")
    ap.add_argument("--lean", action="store_true",
                    help="lean results (no row-level arrays) in both engines, sequential "
                         "and Dask (like with like); default: full results in both")
    args = ap.parse_args()
    env = dict(os.environ)  # for R: never the variables Dask sets for its workers
    warnings.simplefilter("ignore")
    os.environ["PYTHONWARNINGS"] = "ignore"  # the workers' too
    import numba
    import psutil

    import gravity
    from gravity.distributed import local_cluster, write_split_dataset

    numba.set_num_threads(args.numba_threads)
    sep = tuple(args.separation.split(","))

    tmp = Path(tempfile.mkdtemp(prefix="gravity-bench-split-"))
    lines = [f"uptime before: {os.popen('uptime').read().strip()}"]
    try:
        t0 = time.perf_counter()
        df = make_panel(args.products, args.countries, args.years, args.density)
        lines.append(f"panel: {len(df):,} rows, {args.products} products, "
                     f"{args.countries}x{args.countries} countries, {args.years} years, "
                     f"zeros {np.mean(df['y'] == 0):.1%} ({time.perf_counter() - t0:.1f} s)")
        t0 = time.perf_counter()
        groups = write_split_dataset(df, "product", tmp / "ds")
        lines.append(f"Parquet dataset partitioned by product: {len(groups)} groups "
                     f"({time.perf_counter() - t0:.1f} s)")
        csv = tmp / "panel.csv"
        if not args.no_fixest:
            df.to_csv(csv, index=False)
        # warm-up (numba compilation / cache load), excluded
        gravity.estimate_many(FORMULA, df[df["product"] < 100003], split="product",
                              separation=sep)

        t0, c0 = time.perf_counter(), time.process_time()
        seq = gravity.estimate_many(FORMULA, df, split="product", separation=sep,
                                    numba_threads=args.numba_threads, lean=args.lean)
        t_seq, c_seq = time.perf_counter() - t0, time.process_time() - c0
        kind = "lean" if args.lean else "full"
        size = np.mean([len(pickle.dumps(seq[j])) for j in range(min(20, len(seq)))])
        lines.append(f"results: {kind} in both engines ({size / 1e3:,.1f} KB pickled per "
                     f"product, the first 20)")
        lines.append(f"sequential gravity (separation {args.separation}, "
                     f"{args.numba_threads} numba thread(s)): {t_seq:.2f} s (CPU {c_seq:.1f} s), {len(seq.failed)} failed fits, "
                     f"peak RSS {peak_mib():.0f} MiB")

        frames = [df.take(rows) for _, rows in gravity.estimation.multiple.split_groups(
            df, "product")]
        from threadpoolctl import threadpool_limits

        t0, c0 = time.perf_counter(), time.process_time()
        # the same fits one by one, with the same threads as estimate_many
        with threadpool_limits(limits=args.numba_threads):
            singles = [gravity.ppml(FORMULA, f, separation=sep).params.to_numpy()
                       for f in frames]  # only the coefficients are kept (memory)
        t_single, c_single = time.perf_counter() - t0, time.process_time() - c0
        # and as a user's separate call (all threads), every 10th product
        plain = {j: gravity.ppml(FORMULA, frames[j], separation=sep).params.to_numpy()
                 for j in range(0, len(frames), 10)}
        del frames
        d_single = max(float(np.max(np.abs(a.params.to_numpy() - b)))
                       for a, b in zip(seq, singles, strict=True))
        d_plain = max(float(np.max(np.abs(seq[j].params.to_numpy() - b)))
                      for j, b in plain.items())
        overhead = (c_seq - c_single) / len(singles)
        seq_coef, seq_keys = seq.coef(), [str(k.sample) for k in seq.keys]
        seq_coef_rows = [r.params for r in seq]
        seq_se_rows = [r.bse for r in seq]
        del seq
        lines.append(f"the same fits one by one: {t_single:.2f} s (CPU {c_single:.1f} s); "
                     f"per-group overhead of estimate_many {1000 * overhead:.2f} ms of CPU; "
                     f"max |coef - single fit| {d_single:.1e}; max |coef - plain gv.ppml| "
                     f"(every 10th product) {d_plain:.1e}")

        from distributed import Client

        t0 = time.perf_counter()
        cluster = local_cluster(n_workers=args.workers, memory_limit="4GiB")
        client = Client(cluster)
        gravity.estimate_many(FORMULA, dataset=str(tmp / "ds"), split="product",
                              client=client, show_progress=False, separation=sep,
                              chunk_size=args.chunk_size,
                              lean=args.lean)  # warm-up of the workers
        t_start = time.perf_counter() - t0
        me = psutil.Process()
        cpu0 = sum(client.run(time.process_time).values())
        m0 = sum(me.cpu_times()[:2])
        t0 = time.perf_counter()
        par = gravity.estimate_many(FORMULA, dataset=str(tmp / "ds"), split="product",
                                    client=client, separation=sep,
                                    chunk_size=args.chunk_size, lean=args.lean)
        t_dask = time.perf_counter() - t0
        c_dask = sum(client.run(time.process_time).values()) - cpu0
        c_main = sum(me.cpu_times()[:2]) - m0
        client.close()
        cluster.close()
        d_dask = max(float(np.max(np.abs(a.params.to_numpy() - b)))
                     for a, b in zip(par, singles, strict=True))
        same = all(np.array_equal(a.params.to_numpy(), b.to_numpy()) and
                   np.array_equal(a.bse.to_numpy(), c.to_numpy())
                   for a, b, c in zip(par, seq_coef_rows, seq_se_rows, strict=True))
        del par
        k = len(singles)
        w = args.workers
        idle = c_seq / max((c_dask + c_main) / w, c_main)
        lines.append(f"gravity on a {w}-worker LocalCluster: {t_dask:.2f} s "
                     f"(start-up and warm-up {t_start:.1f} s, excluded); speed-up "
                     f"{t_seq / t_dask:.2f}x; max |coef - single fit| {d_dask:.1e}; "
                     f"coefficients and SEs identical to the sequential collection: {same}")
        lines.append(f"CPU per group: sequential {1000 * c_seq / k:.1f} ms; cluster workers "
                     f"{1000 * c_dask / k:.1f} ms + this process (client and scheduler) "
                     f"{1000 * c_main / k:.1f} ms; speed-up on an idle {w}-core machine "
                     f"(from CPU) {idle:.2f}x")
        for threads in ([] if args.no_fixest else
                        [int(t) for t in str(args.fixest_threads).split(",")]):
            fx = run_fixest(csv, threads, env)
            if fx is not None:
                coef = np.array([[np.nan if v is None else v for v in row]
                                 for row in fx["coef"]], dtype=float)
                ours = seq_coef[fx["terms"]].to_numpy()
                ok = [float(s) for s in fx["samples"]] == [float(k) for k in seq_keys]
                if not ok:
                    print("fixest samples differ:", fx["samples"][:5])
                d_fx = float(np.nanmax(np.abs(coef - ours))) if ok else float("nan")
                lines.append(f"R fixest split= ({threads} thread(s)): "
                             f"{fx['seconds']:.2f} s (CPU {fx['cpu_seconds']:.1f} s; reading "
                             f"the CSV {fx['read_seconds']:.1f} s excluded), peak RSS "
                             f"{fx['peak_mib']:.0f} MiB; fixest / sequential gravity: wall "
                             f"{fx['seconds'] / t_seq:.2f}x, CPU "
                             f"{fx['cpu_seconds'] / c_seq:.2f}x; max |coef gravity - fixest| "
                             f"{d_fx:.1e}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report(lines, args.out)


if __name__ == "__main__":
    main()
