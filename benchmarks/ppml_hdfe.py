#!/usr/bin/env python3
"""PPML-HDFE speed and memory: gravity vs pyfixest in the same run.

Panels come from ``../shared/bench/make_panel.py`` (the ones behind ANCHORS.md):
``y ~ rta + x | exp_year + imp_year + pair``, clustered by pair, ~40% zeros.
gravity runs its default separation checks (fe, simplex, relu, as ppmlhdfe) unless
``--separation fe`` (pyfixest's default check) is given.
Each engine runs in its own subprocess (so that peak RSS is its own), fits the
model ``--reps`` times after one warm-up fit (numba / first-call costs are
reported separately as ``first_s``), and reports the median wall time of the
estimation call alone (file reading excluded), peak RSS, and coefficients.

Usage::

    python benchmarks/ppml_hdfe.py                 # 1e5, 1e6 and 5e6 rows
    python benchmarks/ppml_hdfe.py --sizes 150x5 200x25 --reps 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PANELS = HERE / "_panels"
MAKE_PANEL = HERE.parent.parent / "shared" / "bench" / "make_panel.py"
FORMULA = "y ~ rta + x | exp_year + imp_year + pair"
SIZES = {"150x5": (150, 5), "200x25": (200, 25), "300x55": (300, 55)}


def ensure_panel(c: int, t: int) -> Path:
    path = PANELS / f"panel_C{c}_T{t}.parquet"
    if not path.exists():
        PANELS.mkdir(exist_ok=True)
        if not MAKE_PANEL.exists():
            sys.exit(f"{MAKE_PANEL} not found: the benchmark panels come from ../shared/bench")
        subprocess.run([sys.executable, str(MAKE_PANEL), "--C", str(c), "--T", str(t),
                        "--outdir", str(PANELS), "--format", "parquet"], check=True,
                       stdout=subprocess.DEVNULL)
    return path


def worker(engine: str, path: str, reps: int, separation: str = "default") -> None:
    import warnings

    import pandas as pd

    warnings.simplefilter("ignore")
    df = pd.read_parquet(path)
    if engine == "gravity":
        import gravity as gv

        sep = ("fe", "simplex", "relu") if separation == "default" else tuple(separation.split(","))

        def fit():
            r = gv.ppml(FORMULA, df, vcov={"CRV1": "pair"}, separation=sep)
            return r.params.to_numpy(), r.bse.to_numpy(), r.nobs
    else:
        import pyfixest as pf

        def fit():
            r = pf.fepois(FORMULA, df, vcov={"CRV1": "pair"})
            return r.coef().to_numpy(), r.se().to_numpy(), r._N

    t0 = time.perf_counter()
    coef, se, nobs = fit()
    first = time.perf_counter() - t0
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        coef, se, nobs = fit()
        times.append(time.perf_counter() - t0)
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"engine": engine, "first_s": first, "median_s": statistics.median(times),
                      "times": times, "peak_rss_mib": rss_mib, "coef": coef.tolist(),
                      "se": se.tolist(), "nobs": int(nobs)}))


def run(engine: str, path: Path, reps: int, threads: int, separation: str) -> dict:
    env = dict(os.environ, NUMBA_NUM_THREADS=str(threads), RAYON_NUM_THREADS=str(threads),
               OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS="1")
    out = subprocess.run([sys.executable, __file__, "--worker", engine, str(path), str(reps),
                          separation],
                         check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--engines", nargs="+", default=["gravity", "pyfixest"])
    ap.add_argument("--separation", default="default",
                    help="gravity's separation checks: 'default' (fe,simplex,relu, as ppmlhdfe) "
                         "or a comma list such as 'fe' (pyfixest's default)")
    ap.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker[0], args.worker[1], int(args.worker[2]), args.worker[3])
        return
    rows = []
    print(f"{'panel':<8}{'rows used':>11}{'engine':>10}{'median s':>10}{'first s':>9}"
          f"{'peak MiB':>10}{'max|dcoef|':>12}")
    for size in args.sizes:
        c, t = SIZES[size]
        path = ensure_panel(c, t)
        res = {e: run(e, path, args.reps, args.threads, args.separation) for e in args.engines}
        base = res[args.engines[-1]]
        for e, r in res.items():
            dcoef = max(abs(a - b) for a, b in zip(r["coef"], base["coef"], strict=True))
            print(f"{size:<8}{r['nobs']:>11,}{e:>10}{r['median_s']:>10.2f}{r['first_s']:>9.2f}"
                  f"{r['peak_rss_mib']:>10.0f}{dcoef:>12.1e}")
        if "gravity" in res and "pyfixest" in res:
            ratio = res["pyfixest"]["median_s"] / res["gravity"]["median_s"]
            print(f"{'':<8}pyfixest / gravity time ratio: {ratio:.2f}  "
                  f"(> 1 means gravity is faster)")
            rows.append((size, ratio))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
