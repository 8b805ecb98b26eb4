"""The leverage-corrected APE variance of the hypothesis helpers (issue 15): the
authors' approximation for many fixed effects against the exact dense form, and the
leverage inflation of the SE, on null worlds of :mod:`gravity.simulate`.

For each design: the helpers' default entry fit (cloglog, exp-year + imp-year + pair
effects, pair-clustered, network bias correction) of the two hypotheses of
``margins_ape_se.py``; the one-sided leverage-corrected SE of the corrected APE, exact
(dense ``V_FE``) and approximate (one sweep of alternating projections inside each
pair), their ratio, the ratio to the first-order SE, and the seconds of each.

    python benchmarks/margins_ape_leverage.py --designs 20x2010 40x2008 60x2012 100x2012
"""

from __future__ import annotations

import argparse
import time
import warnings

HYPS = (("BRI entry", "bri_ij + ln_tariff + fd_x_dist_c", "bri_ij"),
        ("pecking order", "fd_x_dist + fd_x_size + ln_tariff", "fd_x_dist"))


def design_rows(countries: int, first_year: int, seed: int) -> list[str]:
    from margins_montecarlo import _world, entry_data

    from gravity.estimation import average_partial_effects, bias_correct, feglm_binary
    from gravity.simulate import SimParams

    warnings.simplefilter("ignore")
    p0 = SimParams(bri_flow=0.0, bri_entry=0.0, fd_entry=0.0, fd_dist_entry=0.0)
    panel, _ = _world(seed, p0, countries, range(first_year, 2021))
    d = entry_data(panel)
    out = []
    for hyp, rhs, term in HYPS:
        r = feglm_binary(f"entry ~ {rhs} | exp_year + imp_year + pair", d, family="cloglog",
                         vcov={"CRV1": "pair"})
        rc = bias_correct(r, "network")
        first = average_partial_effects(rc).loc[term, "std_error"]
        se, sec = {}, {}
        for how in ("exact", "approx"):
            t0 = time.perf_counter()
            a = average_partial_effects(rc, leverage="one-sided", leverage_method=how)
            sec[how] = time.perf_counter() - t0
            assert a.attrs["leverage"] == f"one-sided ({how})"
            se[how] = a.loc[term, "std_error"]
        f = 2 * countries * (2021 - first_year)
        out.append(f"| {countries} | {2021 - first_year} | {f} | {rc.nobs:,} | {hyp} | "
                   f"{se['exact'] / first:.4f} | {se['approx'] / se['exact']:.4f} | "
                   f"{sec['exact']:.2f} | {sec['approx']:.2f} |")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--designs", nargs="+", default=["20x2010", "40x2008", "60x2012"])
    ap.add_argument("--seed", type=int, default=5000)
    a = ap.parse_args()
    print("| countries | years | exp-year + imp-year effects | rows | hypothesis | "
          "exact / first-order SE | approx / exact SE | exact s | approx s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for dsg in a.designs:
        n, y = (int(v) for v in dsg.split("x"))
        for line in design_rows(n, y, a.seed):
            print(line, flush=True)


if __name__ == "__main__":
    main()
