#!/usr/bin/env python3
"""GE solvers on the book's two chapter-2 applications (issue 14).

Yotov et al. (2016, ch. 2): "trade without borders" (2006 cross-section) and NAFTA
(1986-2006 panel with pair fixed effects, GE on 1994), from
``../shared/data/yotov2016``; the published results from
``../shared/reference/yotov2016_ch2_published.csv``. Reports, per application: the
time of the exact solver (median of 5 runs, baseline and counterfactual solved) and
its largest residual, the GEPPML run (time, iterations, largest difference to the
published columns), the gap between the two solvers, the multi-sector solver with
one sector against the one-sector solver, and the time of 200 interval draws (1 and
2 threads). Writes ``benchmarks/results/ge_solvers.md``.

Usage (the solvers run with one BLAS thread, see ``gravity.ge.equilibrium.one_blas_thread``;
``OPENBLAS_NUM_THREADS=1`` also limits the PPML fits)::

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=src .venv/bin/python benchmarks/ge_solvers.py
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

import gravity as gv
from gravity import ge
from gravity.datasets import load_yotov2016

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
NAFTA = ["CAN", "MEX", "USA"]


def no_nafta(f: pd.DataFrame) -> pd.DataFrame:
    inside = f["exporter"].isin(NAFTA) & f["importer"].isin(NAFTA) \
        & (f["exporter"] != f["importer"])
    return f.assign(rta=np.where(inside, 0, f["rta"]))


def applications(raw: pd.DataFrame) -> dict:
    d1 = raw[raw["year"] == 2006].copy()
    d1["INTL_BRDR"] = (d1["exporter"] != d1["importer"]).astype(float)
    fit1 = gv.ppml("trade ~ ln_DIST + cntg + INTL_BRDR | exporter + importer", d1,
                   vcov={"CRV1": "pair_id"}, tol=1e-12)
    base1 = ge.Baseline.from_fit(fit1, d1, reference="DEU", sigma=7)
    d2 = raw[raw["year"].isin([1986, 1990, 1994, 1998, 2002, 2006])].reset_index(drop=True)
    d2["exp_year"] = d2["exporter"] + d2["year"].astype(str)
    d2["imp_year"] = d2["importer"] + d2["year"].astype(str)
    d2["pair"] = np.where(d2["exporter"] == d2["importer"], "domestic",
                          d2["pair_id"].astype(str))
    fit2 = gv.ppml("trade ~ rta | exp_year + imp_year + pair", d2,
                   vcov={"CRV1": "pair_id"}, tol=1e-10)
    costs = ge.pair_cost_index(fit2, d2, pair="pair", domestic="domestic", year=1994,
                               fill="ln_DIST + cntg + lang + clny", cluster="pair_id")
    base2 = ge.Baseline.from_fit(fit2, costs.data, reference="DEU", sigma=7,
                                 fixed_ln_t="pair_ln_t")
    return {"app1_trade_without_borders": (fit1, base1, {"INTL_BRDR": 0.0}, "counterfactual"),
            "app2_nafta_removal": (fit2, base2, no_nafta, "baseline")}


def main() -> None:
    raw = load_yotov2016(SHARED / "data" / "yotov2016" / "agtpa_applications.csv.gz",
                         download=False)
    raw["ln_DIST"] = np.log(raw["dist"])
    pub = {a: g.pivot(index="country", columns="variable", values="value") for a, g in
           pd.read_csv(SHARED / "reference" / "yotov2016_ch2_published.csv")
           .groupby("application")}
    lines = ["# GE solvers on Yotov et al. (2016), chapter 2", "",
             f"Machine: {platform.machine()}, Python {platform.python_version()}, "
             f"{os.cpu_count()} cores shared with other jobs (load average "
             f"{os.getloadavg()[0]:.1f}); OPENBLAS_NUM_THREADS="
             f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}. Run with "
             "`OPENBLAS_NUM_THREADS=1 PYTHONPATH=src .venv/bin/python "
             "benchmarks/ge_solvers.py`.", ""]
    for app, (fit, base, change, direction) in applications(raw).items():
        ge.counterfactual(base, change)  # warm-up
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            exact = ge.counterfactual(base, change)
            times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        book = ge.counterfactual(base, change, solver="geppml")
        t_book = time.perf_counter() - t0
        bt = book.book_table(direction)
        diff = max(float(np.max(np.abs(bt[c] - pub[app].loc[bt.index, c]))) for c in bt)
        gap = ge.solver_gap(book, exact)
        full = gap[gap["scenario"] == "full"].groupby("variable")["abs_gap_pp"]
        add = ge.solver_gap(book, ge.counterfactual(base, change, imbalances="additive"))
        add = add[(add["scenario"] == "full") & (add["variable"] == "real_gdp")]["abs_gap_pp"]
        t0 = time.perf_counter()
        ms = ge.multisector_counterfactual({"all": base}, {"all": change})
        t_ms = time.perf_counter() - t0
        ms_gap = float(np.max(np.abs(ms.countries["real_gdp"]
                                     - exact.changes("full")["real_gdp"])))
        t_iv = {}
        for w in (1, 2):
            t0 = time.perf_counter()
            ge.ge_intervals(exact, base, change, fit.vcov, draws=200, workers=w)
            t_iv[w] = time.perf_counter() - t0
        lines += [f"## {app}", "",
                  "| measure | value |", "|---|---|",
                  f"| exact solver, median time (baseline + conditional + full) | "
                  f"{np.median(times):.3f} s |",
                  f"| exact solver, Newton iterations (full) / largest residual | "
                  f"{exact.full.iterations} / {exact.info['full_residual']:.1e} |",
                  f"| GEPPML (book), time / iterations | {t_book:.2f} s / "
                  f"{book.full.iterations} |",
                  f"| GEPPML, largest difference to the published columns | {diff:.1e} pp |",
                  f"| exact vs GEPPML, real GDP: median / max gap | "
                  f"{full.median()['real_gdp']:.3f} / {full.max()['real_gdp']:.3f} pp |",
                  f"| exact (imbalances='additive') vs GEPPML, real GDP: median / max gap | "
                  f"{add.median():.3f} / {add.max():.3f} pp |",
                  f"| exact vs GEPPML, exports: median / max gap | "
                  f"{full.median()['exports']:.3f} / {full.max()['exports']:.3f} pp |",
                  f"| multi-sector solver, one sector: time / max real-GDP gap to one-sector |"
                  f" {t_ms:.2f} s / {ms_gap:.1e} pp |",
                  f"| 200 interval draws, 1 thread / 2 threads | {t_iv[1]:.1f} s / "
                  f"{t_iv[2]:.1f} s |", ""]
    lines += [
        "## Notes", "",
        "* The exact solver solves the model in which expenditure follows output through the "
        "book's ratios `phi = E/Y` scaled by one world factor (default) or with deficits held "
        "as shares of world output (`imbalances='additive'`). The book's loop never imposes "
        "either on the flows it refits, so its fixed point is not exactly either model; the "
        "largest gaps are for Hong Kong (expenditure 3.9 times output), whose exports are "
        "small next to its imports.",
        "* `shared/reference/structural_gravity.md` quotes gaps of a median 1.3 and at most "
        "about 4 percentage points in no-borders real GDP for \"an exactly solved "
        "equilibrium\"; neither treatment of imbalances here reproduces that spread (we find "
        "a median below 0.1 pp), so the model behind that statement must differ.",
        "* The book's loop is not a contraction in general: on a small simulated world it "
        "oscillates with growing amplitude once past the 0.01 rule "
        "(`tests/test_ge_core.py`); `solver='geppml'` then warns.", ""]
    out = ROOT / "benchmarks" / "results" / "ge_solvers.md"
    out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
