"""The hypothesis helper's default entry row on a larger simulated panel: the seconds
of the whole ``bri_hypothesis`` call, the leverage method ``"auto"`` chose, the
approximate against the exact two-sided SE and the peak RSS (issue 15;
``benchmarks/results/margins_ape_se.md``).

    python benchmarks/margins_helper_scale.py --countries 100 --first-year 2005
"""

from __future__ import annotations

import argparse
import resource
import time
import warnings


def main() -> None:
    from margins_montecarlo import PAIR_CONTROLS, _world

    from gravity.estimation import average_partial_effects
    from gravity.margins import bri_hypothesis
    from gravity.simulate import SimParams

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--countries", type=int, default=100)
    ap.add_argument("--first-year", type=int, default=2005)
    ap.add_argument("--seed", type=int, default=5000)
    a = ap.parse_args()
    warnings.simplefilter("ignore")
    p0 = SimParams(bri_flow=0.0, bri_entry=0.0, fd_entry=0.0, fd_dist_entry=0.0)
    panel, _ = _world(a.seed, p0, a.countries, range(a.first_year, 2021))
    t0 = time.perf_counter()
    h = bri_hypothesis(panel, exporter=None, controls=PAIR_CONTROLS)
    sec = time.perf_counter() - t0
    row = h.table.iloc[0]
    print(f"{a.countries} countries, {a.first_year}-2020, {len(panel):,} rows: "
          f"bri_hypothesis {sec:.1f} s; {row['clustering']}")
    fit = h.fits["entry_all"]
    se = {}
    for how in ("approx", "exact"):
        t0 = time.perf_counter()
        ape = average_partial_effects(fit, leverage="two-sided", leverage_method=how)
        se[how] = ape.loc["bri_ij", "std_error"]
        print(f"{how}: SE {se[how]:.6f} ({time.perf_counter() - t0:.2f} s)")
    first = average_partial_effects(fit).loc["bri_ij", "std_error"]
    print(f"approx / exact {se['approx'] / se['exact']:.4f}; two-sided / first-order "
          f"{se['exact'] / first:.3f}; peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
