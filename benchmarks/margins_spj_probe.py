#!/usr/bin/env python3
"""Where the pecking-order coefficient's bias comes from: the cloglog MLE, its network
bias correction (Hinz, Stammann and Wanner; ``bias_correct(fit, "network")``) and the
split-panel jackknife over time (Dhaene and Jochmans 2015: ``2 b - (b_1 + b_2) / 2``
with ``b_1``, ``b_2`` the fits on the first and second half of the years, the middle
year in both when their number is odd), which removes the ``O(1/T)`` bias of the pair
effects only.

Coverage worlds of :mod:`gravity.simulate` at the default parameters (true
``fd_dist_entry`` 0.3), entry on ``fd_x_dist + fd_x_size + ln_tariff | exp_year +
imp_year + pair`` as ``margins_ape_se.py`` fits it. One line of JSON per world
(``--jsonl``), and the summary over the file(s) with ``--summarise``.

    python benchmarks/margins_spj_probe.py --countries 40 --first-year 2008 --seeds 1000:1200 --jsonl p40.jsonl
    python benchmarks/margins_spj_probe.py --summarise p40.jsonl p20.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
TERM = "fd_x_dist"
FORMULA = "entry ~ fd_x_dist + fd_x_size + ln_tariff | exp_year + imp_year + pair"


def world_row(seed: int, countries: int, first_year: int) -> dict:
    from margins_montecarlo import _world, entry_data

    from gravity.estimation import bias_correct, feglm_binary
    from gravity.simulate import SimParams

    warnings.simplefilter("ignore")
    t0 = time.time()
    p = SimParams()
    panel, _ = _world(seed, p, countries, range(first_year, 2021))
    d = entry_data(panel)

    def fit(sample):  # type: ignore[no-untyped-def]
        return feglm_binary(FORMULA, sample, family="cloglog", vcov={"CRV1": "pair"},
                            separation=None)

    full = fit(d)
    years = sorted(d["year"].unique())
    h = len(years) // 2
    b1 = float(fit(d[d["year"] <= years[h]]).params[TERM])
    b2 = float(fit(d[d["year"] >= years[len(years) - 1 - h]]).params[TERM])
    b = float(full.params[TERM])
    return {"seed": seed, "countries": countries, "true": p.fd_dist_entry, "mle": b,
            "bc": float(bias_correct(full, "network").params[TERM]), "half1": b1,
            "half2": b2, "spj": 2 * b - 0.5 * (b1 + b2), "seconds": time.time() - t0}


def summarise(paths: list[str]) -> str:
    lines = ["| countries | worlds | estimator | mean error (MC se) | SD | RMSE |",
             "|---|---|---|---|---|---|"]
    for path in paths:
        rows = [json.loads(line) for line in open(path)]
        for key, label in (("mle", "MLE"), ("bc", "network-corrected"),
                           ("spj", "split-panel jackknife (time)")):
            v = np.array([r[key] for r in rows])
            err = v - np.array([r["true"] for r in rows])
            lines.append(f"| {rows[0]['countries']} | {len(rows)} | {label} | "
                         f"{err.mean():+.3f} ({v.std() / np.sqrt(len(v)):.3f}) | "
                         f"{v.std():.3f} | {np.sqrt(np.mean(err ** 2)):.3f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--countries", type=int, default=40)
    ap.add_argument("--first-year", type=int, default=2008)
    ap.add_argument("--seeds", default="1000:1200")
    ap.add_argument("--jsonl", default="spj.jsonl")
    ap.add_argument("--summarise", nargs="+")
    args = ap.parse_args()
    if args.summarise:
        print(summarise(args.summarise))
        return
    lo, hi = map(int, args.seeds.split(":"))
    with open(args.jsonl, "a") as out:
        for seed in range(lo, hi):
            out.write(json.dumps(world_row(seed, args.countries, args.first_year)) + "\n")
            out.flush()


if __name__ == "__main__":
    main()
