"""A badly conditioned two-way design: gravity against R fixest on the same data.

Two fixed effects whose levels link up like a chain (``f2 = f1 // 4 + U{0..9}``: each
level of ``f2`` shares rows with about 40 neighbouring levels of ``f1``), the case where
every iterative demeaning needs many passes (firm-worker panels look like this). OLS of
``log(y + 1)`` and PPML of ``y`` on ``x`` with both effects, heteroskedasticity-robust
SEs, 2 threads, each engine in its own process (R fixest when
``../shared/bench/r-oracle/install.sh`` has built it: ``R_FIXEST_LIB``). Never part of
``make test``.

    python benchmarks/chain_design.py --rows 200000 --reps 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
RUN_FIXEST = HERE.parent.parent / "shared" / "bench" / "r-oracle" / "run_fixest.R"


def make(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    f1 = rng.integers(0, rows // 10, rows)
    f2 = f1 // 4 + rng.integers(0, 10, rows)
    x = rng.normal(size=rows) + 0.01 * f1 / 1000
    y = rng.poisson(np.exp(0.3 * x + 0.5 * np.sin(f1) + 0.5 * np.cos(f2))).astype(float)
    return pd.DataFrame({"y": y, "x": x, "f1": f1, "f2": f2})


def run_gravity(d: pd.DataFrame, model: str, reps: int) -> dict:
    import gravity as gv

    warnings.simplefilter("ignore")
    if model == "ols":
        d = d.assign(ly=np.log1p(d["y"]))

    def fit():  # type: ignore[no-untyped-def]
        return (gv.ols("ly ~ x | f1 + f2", d, vcov="hetero") if model == "ols"
                else gv.ppml("y ~ x | f1 + f2", d, vcov="hetero"))

    fit()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        r = fit()
        times.append(time.perf_counter() - t0)
    return {"median_s": statistics.median(times), "coef": float(r.params.iloc[0])}


def run_fixest(csv: Path, model: str, reps: int) -> dict | None:
    lib = os.environ.get("R_FIXEST_LIB")
    if not lib or not RUN_FIXEST.exists():
        return None
    formula = "log(y + 1) ~ x | f1 + f2" if model == "ols" else "y ~ x | f1 + f2"
    out = subprocess.run(["Rscript", str(RUN_FIXEST), str(csv), formula, "--method",
                          "feols" if model == "ols" else "fepois", "--vcov", "hetero",
                          "--reps", str(reps + 1), "--nthreads", "2"],
                         check=True, capture_output=True, text=True,
                         env=dict(os.environ, OMP_NUM_THREADS="2"))
    res = json.loads(out.stdout.strip().splitlines()[-1])
    secs = list(res["seconds"])[1:]
    coef = res["coef"]  # a list when R's jsonlite unboxes a one-coefficient vector
    first = list(coef.values())[0] if isinstance(coef, dict) else coef[0]
    return {"median_s": statistics.median(secs), "coef": float(first),
            "iterations": res.get("iterations")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--engine", choices=["gravity"], help=argparse.SUPPRESS)
    ap.add_argument("--model", choices=["ols", "ppml"], help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.engine:  # the child process of one gravity run
        print(json.dumps(run_gravity(pd.read_csv(args.data), args.model, args.reps)))
        return
    d = make(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "chain.csv"
        d.to_csv(csv, index=False)
        print(f"rows {len(d):,}; levels f1 {d.f1.nunique():,}, f2 {d.f2.nunique():,}")
        for model in ("ols", "ppml"):
            out = subprocess.run([sys.executable, __file__, "--engine", "gravity", "--model",
                                  model, "--data", str(csv), "--reps", str(args.reps)],
                                 check=True, capture_output=True, text=True,
                                 env=dict(os.environ, NUMBA_NUM_THREADS="2"))
            g = json.loads(out.stdout.strip().splitlines()[-1])
            f = run_fixest(csv, model, args.reps)
            line = f"{model}: gravity {g['median_s']:.2f} s (coef {g['coef']:.9f})"
            if f is not None:
                line += (f"; R fixest {f['median_s']:.2f} s (coef {f['coef']:.9f}, "
                         f"iterations {f['iterations']}); gravity / fixest "
                         f"{g['median_s'] / f['median_s']:.2f}")
            print(line, flush=True)


if __name__ == "__main__":
    main()
