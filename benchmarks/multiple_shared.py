#!/usr/bin/env python3
"""Work shared by the models of one multiple estimation.

``c(y1, y2, y3) ~ csw(x1, x2, x3) | f1 + f2`` (nine OLS models) on one simulated
sample: ``gravity.estimate_many`` (each distinct column demeaned once, the
fixed-effect codes and the pruning of singletons computed once,
:mod:`gravity.estimation.shared`) against the nine formulas fitted one by one with
``gravity.ols``. The PPML case is
``c(y, y2) ~ csw(ln_dist, rta) | exporter^year + importer^year`` split by product on
the product panel of ``split_dask.py`` (``--products``; four models per product,
``y2 = 2 y`` has the zeros of ``y``, so all four prune the same sample); it shares the
codes and the pruning only (its demeaning weights change at every IRLS step), so the
preparation of the samples alone (``gravity.estimation.design.prepare``, where that
work is) is also timed, model by model and in one shared block per product. The second fixed effect is nested in blocks of the first with some
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
from _report import report

FORMULA = "c(y1, y2, y3) ~ csw(x1, x2, x3) | f1 + f2"
PPML_FORMULA = "c(y, y2) ~ csw(ln_dist, rta) | exporter^year + importer^year"


def make_data(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    f1 = rng.integers(0, max(2, n // 20), n)
    d = pd.DataFrame({"f1": f1, "f2": f1 // 4 + rng.integers(0, 10, n)})
    for j in (1, 2, 3):
        d[f"x{j}"] = rng.normal(size=n) + 0.1 * (d["f1"] % 7)
    for j in (1, 2, 3):
        d[f"y{j}"] = d["x1"] - 0.5 * d["x2"] + rng.normal(size=n) + 0.01 * d["f2"]
    return d


def timed(fn):  # type: ignore[no-untyped-def]
    c0 = time.process_time()
    out = fn()
    return out, time.process_time() - c0


def max_diff(many, singles, attr: str) -> float:  # type: ignore[no-untyped-def]
    return max(float(np.max(np.abs(getattr(a, attr).to_numpy() - getattr(b, attr).to_numpy())))
               for a, b in zip(many, singles, strict=True))


def ppml_case(products: int, repeats: int = 3) -> str:
    """PPML, product by product: separate fits against estimate_many, and the
    preparation of the samples alone."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from split_dask import make_panel

    import gravity
    from gravity.estimation.design import prepare
    from gravity.estimation.shared import shared_demeaning
    from gravity.multiformula import expand_formula

    panel = make_panel(products, 100, 5, 0.3)
    panel["y2"] = 2.0 * panel["y"]
    groups = [g for _, g in panel.groupby("product", sort=True)]
    specs = expand_formula(PPML_FORMULA)
    opts = {"separation": "fe"}
    gravity.ppml(specs[0].formula, groups[0], **opts)  # warm-up
    singles, c_single = timed(lambda: [gravity.ppml(s.formula, g, **opts)
                                       for g in groups for s in specs])
    def many_fits():  # type: ignore[no-untyped-def]
        return gravity.estimate_many(PPML_FORMULA, panel, split="product", **opts)

    # the same call without sharing the codes and the pruning (the code before), in
    # alternation with it, to compare within one run
    from unittest import mock

    from gravity.estimation import design
    from gravity.hdfe.factors import factorize_term

    plain = (mock.patch.object(design, "factor_codes", factorize_term),
             mock.patch.object(design, "shared_prune", design.prune_fixed_effects))
    c_many = c_plain = 0.0
    for _ in range(repeats):
        many, c = timed(many_fits)
        c_many += c
        with plain[0], plain[1]:
            _, c = timed(many_fits)
        c_plain += c

    def prep() -> list:  # type: ignore[type-arg]
        return [prepare(s.formula, g, nonnegative=True, drop_all_zero=True)
                for g in groups for s in specs]

    _, p_single = timed(prep)
    hits: dict[str, int] = {}
    p_many = 0.0
    for g in groups:
        with shared_demeaning() as cache:
            p_many += timed(lambda g=g: [prepare(s.formula, g, nonnegative=True,
                                                 drop_all_zero=True) for s in specs])[1]
        for k, v in cache.shared_hits.items():
            hits[k] = hits.get(k, 0) + v
    n = len(singles)
    c_many, c_plain = c_many / repeats, c_plain / repeats
    return (f"{len(panel):,} rows, {products} products, {len(specs)} PPML models each "
            f"({PPML_FORMULA}, split by product, separation fe; y2 = 2 y): separate fits "
            f"{c_single / n * 1e3:.1f} ms CPU per model, estimate_many "
            f"{c_many / n * 1e3:.1f} ms ({c_single / c_many:.3f}x less), estimate_many "
            f"without sharing the codes and the pruning {c_plain / n * 1e3:.1f} ms "
            f"(mean of {repeats} runs each, alternated); preparing the "
            f"samples (design.prepare): separately {p_single / n * 1e3:.2f} ms per model, "
            f"shared {p_many / n * 1e3:.2f} ms ({p_single / p_many:.2f}x less; shared "
            f"hits {hits} of {n} models); max |coef diff| "
            f"{max_diff(many, singles, 'params'):.1e}, max |SE diff| "
            f"{max_diff(many, singles, 'bse'):.1e}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=float, default=2e5)
    ap.add_argument("--out", default=None, help="append the lines to this markdown file")
    ap.add_argument("--products", type=int, default=20,
                    help="products of the PPML case (the panel of split_dask.py; 0: none)")
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
    if args.products:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):  # as estimate_many with a split: the separate
            lines.append(ppml_case(args.products))  # fits too, on one BLAS thread
    report(lines, args.out)


if __name__ == "__main__":
    main()
