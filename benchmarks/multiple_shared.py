#!/usr/bin/env python3
"""Work shared by the least-squares models of one multiple estimation.

``c(y1, y2, y3) ~ csw(x1, x2, x3) | f1 + f2`` (nine OLS models) on one simulated
sample: ``gravity.estimate_many`` (each distinct column demeaned once,
:mod:`gravity.estimation.shared`) against the nine formulas fitted one by one with
``gravity.ols``. The second fixed effect is nested in blocks of the first with some
noise (``f2 = f1 // 4 + U{0..9}``), so that the demeaning needs hundreds of
conjugate-gradient steps, as with exporter-year and importer-year effects; CPU
seconds of this process (one numba thread), and the largest difference between the
two sets of coefficients and standard errors (the algorithm makes them identical).

Usage::

    python benchmarks/multiple_shared.py --rows 2e5
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np
import pandas as pd

FORMULA = "c(y1, y2, y3) ~ csw(x1, x2, x3) | f1 + f2"


def make_data(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    f1 = rng.integers(0, max(2, n // 20), n)
    d = pd.DataFrame({"f1": f1, "f2": f1 // 4 + rng.integers(0, 10, n)})
    for j in (1, 2, 3):
        d[f"x{j}"] = rng.normal(size=n) + 0.1 * (d["f1"] % 7)
    for j in (1, 2, 3):
        d[f"y{j}"] = d["x1"] - 0.5 * d["x2"] + rng.normal(size=n) + 0.01 * d["f2"]
    return d


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=float, default=2e5)
    ap.add_argument("--out", default=None, help="append the lines to this markdown file")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    import numba

    import gravity
    from gravity.multiformula import expand_formula

    numba.set_num_threads(1)
    d = make_data(int(args.rows))
    gravity.ols("y1 ~ x1 | f1 + f2", d.head(30_000))  # warm-up (numba)
    specs = expand_formula(FORMULA)
    lines = [f"uptime before: {os.popen('uptime').read().strip()}"]
    c0 = time.process_time()
    singles = [gravity.ols(s.formula, d) for s in specs]
    c_single = time.process_time() - c0
    c0 = time.process_time()
    many = gravity.estimate_many(FORMULA, d, model="ols")
    c_many = time.process_time() - c0
    d_coef = max(float(np.max(np.abs(a.params.to_numpy() - b.params.to_numpy())))
                 for a, b in zip(many, singles, strict=True))
    d_se = max(float(np.max(np.abs(a.bse.to_numpy() - b.bse.to_numpy())))
               for a, b in zip(many, singles, strict=True))
    lines.append(f"{len(d):,} rows, {len(specs)} OLS models ({FORMULA}), demeaning "
                 f"{singles[0].record.iterations} CG steps per column: separate fits "
                 f"{c_single:.2f} s CPU, estimate_many {c_many:.2f} s CPU "
                 f"({c_single / c_many:.2f}x less); max |coef diff| {d_coef:.1e}, "
                 f"max |SE diff| {d_se:.1e}")
    lines.append(f"uptime after: {os.popen('uptime').read().strip()}")
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "a") as fh:
            fh.write(f"\n`python benchmarks/multiple_shared.py {' '.join(sys.argv[1:])}`\n\n"
                     f"```\n{text}\n```\n")


if __name__ == "__main__":
    main()
