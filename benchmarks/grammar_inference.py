#!/usr/bin/env python3
"""Timings of the formula grammar and the variance options (issue 17, part A).

On a simulated three-way gravity panel (exporters x importers x years, Poisson
flows with exporter-year, importer-year and pair effects): OLS of ``log(1 + y)`` with
``exp_year + imp_year + pair`` and the variance options HC2, HC3 (exact hat values
with the fixed effects), CRV3 (exporter clusters, fixed effects not nested: one
re-projection per cluster), panel Newey-West and Driscoll-Kraay, the wild cluster
bootstrap (exporter clusters, fixed effects projected out exactly); then pair-specific
trends ``pair[trend]`` in OLS, and a PPML event study with ``i()`` and lags. (PPML
with pair trends is left out: pairs whose flows die out along their trend are
separated, which only the slow ReLU check detects with slopes.)
Writes ``benchmarks/results/grammar_inference.md``.

Usage::

    python benchmarks/grammar_inference.py                      # 60 x 60 x 10
    python benchmarks/grammar_inference.py --countries 100 --years 15
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

import gravity as gv


def panel(countries: int, years: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    e, i, t = np.meshgrid(np.arange(countries), np.arange(countries), np.arange(years),
                          indexing="ij")
    ok = e != i
    e, i, t = e[ok], i[ok], t[ok]
    ln_dist = np.log(rng.uniform(100, 10_000, (countries, countries)))[e, i]
    rta = ((rng.uniform(size=(countries, countries)) < 0.3)[e, i]
           & (t >= rng.integers(0, years, e.size))).astype(float)
    x = rng.normal(size=e.size)
    eta = (rng.normal(size=(countries, years))[e, t] + rng.normal(size=(countries, years))[i, t]
           + rng.normal(0, 0.5, (countries, countries))[e, i] - 0.8 * ln_dist + 0.3 * rta
           - 0.2 * x + 9.0)
    d = pd.DataFrame({"exporter": e, "importer": i, "year": 2000 + t, "x": x, "rta": rta,
                      "y": rng.poisson(np.exp(eta)).astype(float)})
    d["exp_year"] = d["exporter"] * 10_000 + d["year"]
    d["imp_year"] = d["importer"] * 10_000 + d["year"]
    d["pair"] = d["exporter"] * 10_000 + d["importer"]
    d["trend"] = (d["year"] - 2000).astype(float)
    return d


def timed(label: str, rows: list[tuple[str, float, str]], fn):
    start = time.perf_counter()
    out = fn()
    rows.append((label, time.perf_counter() - start, ""))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--countries", type=int, default=60)
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results"
                                         / "grammar_inference.md"))
    args = ap.parse_args()
    d = panel(args.countries, args.years)
    rows: list[tuple[str, float, str]] = []
    fml = "log(1 + y) ~ x + rta | exp_year + imp_year + pair"
    gv.ols("log(1 + y) ~ x | exporter", d.head(500))  # compile the kernels first
    res = timed("OLS, 3-way fixed effects", rows, lambda: gv.ols(
        fml, d, vcov={"CRV1": "exporter"}, panel_id=("pair", "year")))
    for label, vc in [("HC2", "HC2"), ("HC3", "HC3"), ("CRV3 (exporter)", {"CRV3": "exporter"}),
                      ("Newey-West (pair, year; lag 2)", {"NW": "pair+year", "lag": 2}),
                      ("Driscoll-Kraay (year)", "DK")]:
        v = timed(f"  vcov {label}", rows, lambda vc=vc: res.with_vcov(vc, data=d))
        rows[-1] = (rows[-1][0], rows[-1][1], f"SE(rta) = {v.bse['rta']:.5f}")
    wb = timed("  wild cluster bootstrap, 9,999 draws", rows,
               lambda: res.wildboottest("rta", B=9999, seed=1))
    rows[-1] = (rows[-1][0], rows[-1][1], f"p = {wb.pvalue:.4f}, {wb.n_clusters} clusters")
    trend = timed("OLS, exp_year + imp_year + pair[trend]", rows, lambda: gv.ols(
        "log(1 + y) ~ x + rta | exp_year + imp_year + pair[trend]", d))
    rows[-1] = (rows[-1][0], rows[-1][1], f"rta = {trend.params['rta']:.5f}")
    first = d["trend"].where(d["rta"] > 0).groupby(d["pair"]).transform("min")
    d["event"] = np.where(first.notna(), (d["trend"] - first).clip(-4, 4), -99)
    es = timed("Event study: i(event, ref=c(-1, -99)) + l(x, 1:2)", rows, lambda: gv.ppml(
        "y ~ i(event, ref=c(-1, -99)) + l(x, 1:2) | exp_year + imp_year + pair", d,
        panel_id=("pair", "year")))
    rows[-1] = (rows[-1][0], rows[-1][1], f"{len(es.params)} coefficients, N = {es.nobs:,}")
    lines = [
        "# Grammar and variance options: timings",
        "",
        f"Simulated panel: {args.countries} exporters x {args.countries} importers x "
        f"{args.years} years, {len(d):,} rows; {platform.processor() or platform.machine()}, "
        f"numba threads as set by NUMBA_NUM_THREADS. Command: "
        f"`python benchmarks/grammar_inference.py --countries {args.countries} "
        f"--years {args.years}`.",
        "",
        "| step | seconds | result |",
        "| --- | ---: | --- |",
    ] + [f"| {label} | {sec:.2f} | {note} |" for label, sec, note in rows]
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
