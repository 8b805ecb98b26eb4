#!/usr/bin/env python3
"""Monte Carlo for the extensive-margin estimators (issue 6).

Part 1 -- incidental-parameter bias of the two-way fixed-effect logit and the
Fernandez-Val--Weidner (2016) analytical correction (:func:`gravity.margins.bias_correct`):
``y_it = 1{x_it beta + a_i + g_t + e_it > 0}``, logistic ``e``, ``beta = 1``,
``x_it = 0.5 x_i,t-1 + a_i + g_t + N(0,1)`` (correlated with the effects), ``N`` units,
``T`` periods. Reports mean bias, relative bias, sd and coverage of the 95% interval
(iid variance) for the MLE and the corrected estimator.

Part 2 -- BRI recovery and size in :func:`gravity.simulate.simulate_world` (structural
world, real BRI dates): PPML of flows on ``bri_ij`` with exporter-year, importer-year
and pair effects (:func:`gravity.margins.bri_hypothesis`), clustered by pair. Coverage of
the true ``bri_flow`` over ``--reps`` worlds, and rejection rates at 5% when
``bri_flow = bri_entry = 0`` (and ``fd_dist_entry = 0``) over ``--reps-size`` worlds, for
flows (PPML), entry (LPM) and the pecking-order interaction (LPM).

Usage::

    python benchmarks/margins_montecarlo.py                       # full (slow)
    python benchmarks/margins_montecarlo.py --reps 50 --reps-size 100 --reps-bc 200
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd


def logit_panel(rng: np.random.Generator, n: int, t: int, beta: float = 1.0) -> pd.DataFrame:
    a = rng.normal(size=n)
    g = rng.normal(scale=0.5, size=t)
    x = np.empty((n, t))
    prev = np.zeros(n)
    for s in range(t):  # loop over periods (T small), vectorised over units
        prev = 0.5 * prev + 0.5 * a + g[s] + rng.normal(size=n)
        x[:, s] = prev
    eta = beta * x + a[:, None] + g[None, :]
    y = (rng.random((n, t)) < 1.0 / (1.0 + np.exp(-eta))).astype(float)
    i, tt = np.meshgrid(np.arange(n), np.arange(t), indexing="ij")
    return pd.DataFrame({"y": y.ravel(), "x": x.ravel(), "i": i.ravel(), "t": tt.ravel()})


def part_bias(reps: int, n: int, t: int, seed: int = 0) -> pd.DataFrame:
    from gravity.margins import bias_correct, logit

    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(reps):
        df = logit_panel(rng, n, t)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = logit("y ~ x | i + t", df, vcov="iid", ssc="none")
            rc = bias_correct(r, "classic")
        for name, res in (("MLE", r), ("bias-corrected", rc)):
            ci = res.conf_int().loc["x"]
            rows.append({"estimator": name, "est": res.params["x"], "se": res.bse["x"],
                         "cover": ci["lower"] <= 1.0 <= ci["upper"]})
    d = pd.DataFrame(rows)
    out = d.groupby("estimator").agg(mean=("est", "mean"), sd=("est", "std"),
                                     mean_se=("se", "mean"), coverage=("cover", "mean"))
    out["bias"] = out["mean"] - 1.0
    out.insert(0, "N x T", f"{n} x {t}")
    return out


def _world(seed: int, params, countries: int, years: range):
    from gravity.simulate import simulate_world
    from gravity.simulate.world import load_capitals

    iso = list(load_capitals()["iso3"][:countries])
    if "CHN" not in iso:
        iso[-1] = "CHN"
    panel, truth = simulate_world(params, seed=seed, countries=iso, years=years)
    return panel, truth


def part_bri(reps: int, reps_size: int, countries: int, years: range) -> dict[str, pd.DataFrame]:
    from gravity.margins import bri_hypothesis, finance_hypothesis
    from gravity.simulate import SimParams

    rec = []
    for r in range(reps):
        panel, truth = _world(1000 + r, SimParams(), countries, years)
        h = bri_hypothesis(panel, exporter=None).table
        fl = h.iloc[1]
        rec.append({"truth": truth.params.bri_flow, "est": fl["estimate"],
                    "cover": fl["conf_low"] <= truth.params.bri_flow <= fl["conf_high"],
                    "entry_lpm": h.iloc[0]["estimate"],
                    "entry_att_truth": truth.bri_entry_att(panel)})
    rec = pd.DataFrame(rec)
    size = []
    p0 = SimParams(bri_flow=0.0, bri_entry=0.0, fd_dist_entry=0.0)
    for r in range(reps_size):
        panel, _ = _world(5000 + r, p0, countries, years)
        h = bri_hypothesis(panel, exporter=None).table
        f = finance_hypothesis(panel).table.set_index("term")
        size.append({"flows_ppml": h.iloc[1]["p_value"] < 0.05,
                     "entry_lpm": h.iloc[0]["p_value"] < 0.05,
                     "pecking_fd_x_dist": f.loc["fd_x_dist", "p_value"] < 0.05})
    size = pd.DataFrame(size)
    return {"recovery": rec, "size": size}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps-bc", type=int, default=200)
    ap.add_argument("--designs", default="56x4,56x8,100x10")
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--reps-size", type=int, default=100)
    ap.add_argument("--countries", type=int, default=20)
    ap.add_argument("--first-year", type=int, default=2008)
    ap.add_argument("--last-year", type=int, default=2020)
    ap.add_argument("--skip-bri", action="store_true")
    a = ap.parse_args()
    t0 = time.time()
    tabs = []
    for dsg in a.designs.split(","):
        n, t = (int(v) for v in dsg.split("x"))
        tabs.append(part_bias(a.reps_bc, n, t))
    print("== Part 1: two-way FE logit, beta = 1, reps =", a.reps_bc)
    print(pd.concat(tabs).round(4).to_string())
    print(f"[{time.time() - t0:.0f} s]")
    if a.skip_bri:
        return
    yrs = range(a.first_year, a.last_year + 1)
    out = part_bri(a.reps, a.reps_size, a.countries, yrs)
    rec = out["recovery"]
    print(f"== Part 2: simulated worlds ({a.countries} countries, {yrs.start}-{yrs.stop - 1})")
    print(f"BRI flows (PPML, exp-year + imp-year + pair, CRV1 pair), truth "
          f"{rec['truth'].iloc[0]}: mean {rec['est'].mean():.4f}, sd {rec['est'].std():.4f}, "
          f"coverage {rec['cover'].mean():.3f} over {len(rec)} worlds")
    print(f"BRI entry (LPM): mean {rec['entry_lpm'].mean():.4f} vs mean true ATT on "
          f"P(X>0) {rec['entry_att_truth'].mean():.4f}")
    print(f"Size at 5% (true effects 0, {len(out['size'])} worlds): "
          + ", ".join(f"{k} {v:.3f}" for k, v in out["size"].mean().items()))
    print(f"[{time.time() - t0:.0f} s]")


if __name__ == "__main__":
    main()
