"""Why the SE of a bias-corrected three-way cloglog coefficient exceeds its Monte Carlo
spread (issue 15, item 3).

Design (independent of the package's world simulator): ``N`` countries, ``T`` periods,
``y_ijt ~ Bernoulli(1 - exp(-exp(eta)))`` with
``eta = beta x_ijt + 0.5 z_ijt + a_it + g_jt + h_ij``, ``a, g ~ N(0, 0.5^2)``,
``h ~ N(-0.5, 1)``, ``x`` a treatment dummy switched on at a random period for 30% of
the pairs, ``z ~ N(0, 1) + 0.3 a_it`` continuous; ``beta = 0`` (a null world, so the
rejection rate is the size). Each replication fits the cloglog with exporter-time,
importer-time and pair effects clustered by pair (``ssc="glm"``: ``G/(G-1)`` only),
uncorrected and with the network bias correction, and the corrected average partial
effects. For the first ``--jac`` replications it also evaluates the Jacobian of the
correction, ``d beta^bc / d beta`` (:func:`gravity.estimation.bias.corrected_slopes`,
central differences): the corrected estimate is ``beta^bc(beta_hat)``, so to first
order its spread is the uncorrected spread times that slope, which the usual
(first-order, alpaca-style) variance of the corrected fit does not include.

Usage: ``python benchmarks/cloglog_bias_se.py --n 20 --t 11 --reps 200 --jac 20
[--write]`` (results to ``benchmarks/results/cloglog_bias_se.md``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

FML = "y ~ x + z | exp^year + imp^year + exp^imp"


def panel(n: int, t: int, seed: int, beta: float = 0.0) -> pd.DataFrame:
    """One draw of the design (module docstring)."""
    rng = np.random.default_rng(seed)
    i, j, tt = np.meshgrid(np.arange(n), np.arange(n), np.arange(t), indexing="ij")
    keep = i != j
    i, j, tt = i[keep], j[keep], tt[keep]
    a, g = rng.normal(0, 0.5, (n, t)), rng.normal(0, 0.5, (n, t))
    h = rng.normal(-0.5, 1.0, (n, n))
    start = np.where(rng.uniform(size=(n, n)) < 0.3, rng.integers(1, t, (n, n)), t)
    x = (tt >= start[i, j]).astype(float)
    z = rng.normal(size=i.size) + 0.3 * a[i, tt]
    eta = beta * x + 0.5 * z + a[i, tt] + g[j, tt] + h[i, j]
    y = (rng.uniform(size=i.size) < 1 - np.exp(-np.exp(eta))).astype(float)
    return pd.DataFrame({"exp": i, "imp": j, "year": tt, "x": x, "z": z, "y": y})


def replicate(n: int, t: int, seed: int, jac: bool) -> dict:
    from gravity.estimation import average_partial_effects, cloglog
    from gravity.estimation.bias import corrected_slopes

    d = panel(n, t, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = cloglog(FML, d, vcov={"CRV1": "exp^imp"}, ssc="glm")
        c = cloglog(FML, d, vcov={"CRV1": "exp^imp"}, ssc="glm", bias_correction="network")
        ape = average_partial_effects(c)
        out = {"b0": r.params["x"], "se0": r.bse["x"], "b": c.params["x"], "se": c.bse["x"],
               "z0": r.params["z"], "sez0": r.bse["z"], "z": c.params["z"],
               "sez": c.bse["z"], "ape": ape.loc["x", "estimate"],
               "ape_se": ape.loc["x", "std_error"], "nobs": c.nobs, "jx": np.nan,
               "jz": np.nan}
        if jac:
            b0, eps = r.params.to_numpy(), 1e-4
            cols = [(corrected_slopes(r, b0 + eps * e, "network")
                     - corrected_slopes(r, b0 - eps * e, "network")) / (2 * eps)
                    for e in np.eye(len(b0))]
            out["jx"], out["jz"] = cols[0][0], cols[1][1]
    return out


def summarise(d: pd.DataFrame, n: int, t: int) -> pd.DataFrame:
    jx, jz = d["jx"].mean(), d["jz"].mean()
    rows = [
        ("x (dummy, true 0): uncorrected", d["b0"], d["se0"], 0.0, np.nan),
        ("x (dummy, true 0): bias-corrected", d["b"], d["se"], 0.0, jx),
        ("z (continuous, true 0.5): uncorrected", d["z0"], d["sez0"], 0.5, np.nan),
        ("z (continuous, true 0.5): bias-corrected", d["z"], d["sez"], 0.5, jz),
        ("x: corrected APE on P(y = 1) (true 0)", d["ape"], d["ape_se"], 0.0, np.nan),
    ]
    out = []
    for name, est, se, true, jac in rows:
        out.append({"N x T": f"{n} x {t}", "estimator": name, "reps": len(est),
                    "mean": round(est.mean(), 4), "sd": round(est.std(ddof=1), 4),
                    "mean SE": round(se.mean(), 4),
                    "SE/sd": round(se.mean() / est.std(ddof=1), 3),
                    "coverage 95%": round(float((np.abs(est - true) <= 1.96 * se).mean()), 3),
                    "mean d beta^bc/d beta": round(jac, 3) if np.isfinite(jac) else "",
                    "SE x slope / sd": round(jac * se.mean() / est.std(ddof=1), 3)
                    if np.isfinite(jac) else ""})
    return pd.DataFrame(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=20)
    p.add_argument("--t", type=int, default=11)
    p.add_argument("--reps", type=int, default=200)
    p.add_argument("--jac", type=int, default=20)
    p.add_argument("--write", action="store_true")
    p.add_argument("--out", default=str(Path(__file__).parent / "results"
                                        / "cloglog_bias_se.md"))
    args = p.parse_args()
    from gravity.progress import progress

    t0, load = time.time(), os.getloadavg()[0]
    rows = [replicate(args.n, args.t, 7000 + s, s < args.jac)
            for s in progress(range(args.reps), desc="cloglog", total=args.reps)]
    table = summarise(pd.DataFrame(rows), args.n, args.t).to_markdown(index=False)
    cmd = "python benchmarks/cloglog_bias_se.py " + " ".join(sys.argv[1:])
    text = (f"Generated by `{cmd}` ({time.time() - t0:.0f} s, one process, load average "
            f"at start {load:.2f} on 2 shared cores).\n\n{table}\n")
    print(text)
    if args.write:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
