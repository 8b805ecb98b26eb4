"""Exact against approximate bias-corrected variance of three-way PPML: time, memory and
accuracy as the number of exporter-time plus importer-time effects grows.

``variance="exact"`` inverts the dense ``F x F`` information matrix of the
exporter-time and importer-time effects (``F = (N_i + N_j) T``): time ``O(F^3)``,
memory ``O(F^2)``. ``variance="approx"`` is the authors' approximation
(``ppml_fe_bias``'s ``approx``: one sweep of alternating projections, local to each
pair): time and memory ``O(P T^3)`` with ``P`` pairs. The threshold of
``variance="auto"`` (``gravity.estimation.ppml_bias.APPROX_ABOVE``) is chosen from
this table.

Per design (the ``wz`` and ``pois`` designs of ``ppml_bias_montecarlo.py``, several
seeds): seconds of the whole ``bias_correct`` with ``variance="approx"`` (the fit
excluded: demeaning, bias, refit of the fixed effects, variance), seconds and peak
memory of the variance step alone with each method (``tracemalloc``: NumPy's
allocations; LAPACK's work arrays are not counted), and the ratio of the approximate
to the exact corrected SE (min, mean, max over seeds) next to the plain pair-clustered
SE over the exact one.

Usage: ``python benchmarks/ppml_bias_variance.py [--designs 20x5 40x5 ...] [--seeds 3]
[--write]`` (results to ``benchmarks/results/ppml_bias_variance.md``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ppml_bias_montecarlo import pois_panel, wz_panel  # noqa: E402

DESIGNS = ["wz:20x5", "wz:40x5", "wz:30x10", "wz:60x10", "wz:100x5", "wz:75x10",
           "wz:100x10", "wz:100x15", "pois:20x5", "pois:50x5", "pois:20x10"]
PANELS = {"wz": wz_panel, "pois": pois_panel}


def _variance_step(fit, method: str) -> tuple[float, float]:
    """Seconds and peak traced MiB of the variance step alone (the fixed-effect
    leverage and the inflated residuals; the demeaning, the bias and the refit that
    both methods share are left out)."""
    from gravity.estimation import ppml_bias as pb

    r = fit.record
    lay = pb._layout(r, True, None)
    a = pb._arrays(r, lay, True)

    def step() -> None:
        if method == "exact":
            pb._leverage_inflation(a, pb._fe_leverage_exact(a, lay))
        else:
            pb._inflated_residuals_approx(a, pb._fe_projection_approx(a, lay))

    t0 = time.perf_counter()
    step()
    sec = time.perf_counter() - t0
    tracemalloc.start()
    step()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return sec, peak


def run(design: str, seeds: int) -> dict:
    import gravity as gv
    from gravity.estimation import bias_correct

    kind, size = design.split(":")
    n, t = (int(v) for v in size.split("x"))
    ratio, plain, rows = [], [], []
    cost: list[float] = []
    for s in range(seeds):
        d = PANELS[kind](n, t, seed=1000 + s)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f = gv.ppml("y ~ x | exp^year + imp^year + exp^imp", d,
                        vcov={"CRV1": "exp^imp"}, ssc="glm", separation=("fe",))
            t0 = time.perf_counter()
            se_ap = float(bias_correct(f, variance="approx").bse.iloc[0])
            total = time.perf_counter() - t0
            se_ex = float(bias_correct(f, variance="exact").bse.iloc[0])
            if s == 0:
                cost = [total, *_variance_step(f, "exact"), *_variance_step(f, "approx")]
        ratio.append(se_ap / se_ex)
        plain.append(float(f.bse.iloc[0]) / se_ex)
        rows.append(f.nobs)
    return {"design": kind, "N": n, "T": t, "time effects": 2 * n * t,
            "rows": int(np.mean(rows)), "seeds": seeds,
            "s correction (approx)": round(cost[0], 2),
            "s variance exact": round(cost[1], 2), "s variance approx": round(cost[3], 3),
            "MiB exact": round(cost[2], 1), "MiB approx": round(cost[4], 1),
            "SE approx/exact min": round(min(ratio), 4),
            "mean": round(float(np.mean(ratio)), 4), "max": round(max(ratio), 4),
            "SE plain/exact": round(float(np.mean(plain)), 3)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--designs", nargs="*", default=DESIGNS)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--write", action="store_true")
    p.add_argument("--out", default=str(Path(__file__).parent / "results"
                                        / "ppml_bias_variance.md"))
    args = p.parse_args()
    out = []
    t0 = time.time()
    load = os.getloadavg()
    for d in args.designs:
        out.append(run(d, args.seeds))
        print(out[-1], flush=True)
    table = pd.DataFrame(out).to_markdown(index=False)
    cmd = "python benchmarks/ppml_bias_variance.py " + " ".join(sys.argv[1:])
    text = (f"Generated by `{cmd}` ({time.time() - t0:.0f} s; load average at start "
            f"{load[0]:.2f}, 2 cores shared; one numba thread).\n\n{table}\n")
    print(text)
    if args.write:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
