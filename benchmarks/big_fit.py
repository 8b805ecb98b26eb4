#!/usr/bin/env python3
"""A large single PPML as users hit it: tens of millions of rows, three fixed effects of
about a million levels each (fixest's issue tracker reports such a fit running for
hours). gravity vs R fixest in the same run, each in its own process.

The panel: ``--rows`` rows, three fixed effects ``f1, f2, f3`` of ``--levels`` levels
each (rows assigned at random: every level has about rows/levels observations), two
regressors and ``y ~ Poisson(exp(a1 + a2 + a3 + 0.5 x1 - 0.3 x2))``; model
``y ~ x1 + x2 | f1 + f2 + f3`` clustered by ``f1``, both engines with the all-zero
fixed-effect rule only (fixest's). Reported: the wall time of the estimation call
(reading excluded), the peak resident memory of the whole process (``/usr/bin/time``),
IRLS iterations, and the difference of the coefficients.

Usage::

    python benchmarks/big_fit.py --rows 20e6 --levels 1e6
    python benchmarks/big_fit.py --rows 2e6 --levels 1e5 --engines gravity
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from _report import report

HERE = Path(__file__).resolve().parent
PANELS = HERE / "_panels"
FORMULA = "y ~ x1 + x2 | f1 + f2 + f3"
R_ORACLE = HERE.parent.parent / "shared" / "bench" / "r-oracle" / "run_fixest.R"


def make(rows: int, levels: int, seed: int = 0) -> tuple[Path, Path]:
    """Write the panel as Parquet (gravity) and CSV (fixest), in chunks."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    stem = PANELS / f"big_{rows}_{levels}"
    pqt, csv = stem.with_suffix(".parquet"), stem.with_suffix(".csv")
    if pqt.exists() and csv.exists():
        return pqt, csv
    PANELS.mkdir(exist_ok=True)
    rng = np.random.default_rng(seed)
    eff = [rng.normal(0, 0.5, levels) for _ in range(3)]
    schema = pa.schema([("f1", pa.int32()), ("f2", pa.int32()), ("f3", pa.int32()),
                        ("x1", pa.float64()), ("x2", pa.float64()), ("y", pa.float64())])
    chunk = 2_000_000
    with pq.ParquetWriter(pqt, schema) as pw, pacsv.CSVWriter(csv, schema) as cw:
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            f = [rng.integers(0, levels, n, dtype=np.int32) for _ in range(3)]
            x1, x2 = rng.normal(size=n), rng.normal(size=n)
            mu = np.exp(eff[0][f[0]] + eff[1][f[1]] + eff[2][f[2]] + 0.5 * x1 - 0.3 * x2)
            y = rng.poisson(mu).astype(np.float64)
            t = pa.table({"f1": f[0], "f2": f[1], "f3": f[2], "x1": x1, "x2": x2, "y": y},
                         schema=schema)
            pw.write_table(t)
            cw.write_table(t)
    return pqt, csv


def gravity_worker(path: str) -> None:
    import warnings

    import pandas as pd

    import gravity

    warnings.simplefilter("ignore")
    df = pd.read_parquet(path)
    t0 = time.perf_counter()
    r = gravity.ppml(FORMULA, df, vcov={"CRV1": "f1"}, separation="fe")
    sec = time.perf_counter() - t0
    print(json.dumps({"seconds": sec, "coef": r.params.tolist(), "se": r.bse.tolist(),
                      "nobs": r.nobs, "iterations": r.iterations}))


def timed(cmd: list[str], env: dict | None = None) -> tuple[dict | None, float, str]:
    done = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, capture_output=True,
                          text=True, env=env, check=False)
    try:
        peak = int(done.stderr.strip().splitlines()[-1]) / 1024
    except (ValueError, IndexError):
        peak = float("nan")
    if done.returncode != 0:
        return None, peak, done.stderr[-1500:]
    return json.loads(done.stdout.strip().splitlines()[-1]), peak, ""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=float, default=20e6)
    ap.add_argument("--levels", type=float, default=1e6)
    ap.add_argument("--engines", default="gravity,fixest")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=None)
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        gravity_worker(args.worker)
        return
    rows, levels = int(args.rows), int(args.levels)
    t0 = time.perf_counter()
    pqt, csv = make(rows, levels)
    lines = [f"uptime: {os.popen('uptime').read().strip()}",
             f"panel: {rows:,} rows, 3 fixed effects of {levels:,} levels "
             f"(written in {time.perf_counter() - t0:.0f} s)",
             f"{'engine':>8} {'seconds':>9} {'peak MiB':>9} {'iter':>5}  coefficients"]
    results = {}
    for engine in args.engines.split(","):
        if engine == "gravity":
            env = {**os.environ, "NUMBA_NUM_THREADS": str(args.threads)}
            res, peak, err = timed([sys.executable, __file__, "--worker", str(pqt)], env)
        else:
            lib = os.environ.get("R_FIXEST_LIB", str(Path.home() / ".cache" / "r-fixest"))
            if shutil.which("Rscript") is None or not R_ORACLE.exists():
                lines.append("fixest: Rscript or run_fixest.R missing, skipped")
                continue
            res, peak, err = timed(["Rscript", str(R_ORACLE), str(csv), FORMULA,
                                    "--vcov", "cluster:f1", "--nthreads", str(args.threads),
                                    "--fixef_tol", "1e-8"],
                                   {**os.environ, "R_FIXEST_LIB": lib})
            if res is not None:
                res["seconds"] = float(np.median(res.get("seconds", [np.nan])))
                res["coef"] = list(res["coef"].values()) if isinstance(res["coef"], dict) \
                    else res["coef"]
        if res is None:
            lines.append(f"{engine:>8} failed (peak {peak:.0f} MiB): {err.strip()[-300:]}")
            continue
        results[engine] = res
        coef = ", ".join(f"{c:.6f}" for c in res["coef"])
        lines.append(f"{engine:>8} {res['seconds']:9.1f} {peak:9.0f} "
                     f"{res.get('iterations', '')!s:>5}  {coef}")
    if len(results) == 2:
        d = np.max(np.abs(np.array(results["gravity"]["coef"])
                          - np.array(results["fixest"]["coef"])))
        lines.append(f"max |coef gravity - fixest| = {d:.1e}; fixest / gravity time "
                     f"{results['fixest']['seconds'] / results['gravity']['seconds']:.2f}x")
    report(lines, args.out, uptime=False)


if __name__ == "__main__":
    main()
