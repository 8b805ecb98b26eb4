"""Monte Carlo of the Weidner-Zylkin (2021) correction of three-way PPML.

Two data-generating processes, for a grid of N (countries) and T (periods) as in the
paper's design:

* ``wz``: an agreement-dummy design of our own (not the paper's DGP, which is ``paper1``-``paper4``), ``lambda_ijt = exp(beta x_ijt + a_it + g_jt + h_ij)``
  with ``a, g, h ~ N(0, 0.5^2)``, ``x_ijt`` an agreement dummy switched on at a random
  period for pairs drawn with a probability that rises with ``h_ij`` (so x is
  correlated with the pair effect), ``beta = 1``, and multiplicative noise
  ``y = lambda w``, ``w ~ Gamma(1, 1)`` (``Var(y | x) = lambda^2``: the heteroskedastic
  case in which the incidental-parameter bias of three-way PPML shows).
* ``pois``: a design in which the bias shows: ``x_ijt ~ N(0, 1) + (a_it + g_jt) / 2``
  (continuous, correlated with the exporter-time and importer-time effects),
  ``a, g, h ~ N(0, 1)``, ``lambda = exp(x + a + g + h - 1)``, ``y ~ Poisson(lambda)``
  (many small counts and zeros), ``beta = 1``.
* ``paper1`` .. ``paper4``: the simulation design of Weidner and Zylkin (2021, sec. 4),
  as a public replication of it states it (all ``N^2`` pairs, domestic included):
  ``a_it, g_jt, h_ij ~ N(0, (1/16)^2)``, ``pi = a + g + h``; ``x_ij0 = h_ij + N(0, 0.5^2)``,
  ``x_ijt = x_ij,t-1 / 2 + pi_ijt + N(0, 0.5^2)`` (a persistent regressor correlated
  with all three effects; ``x_ij0`` is discarded); ``lambda = exp(x + pi)`` (beta = 1);
  ``y = lambda w`` with log-normal ``w`` of mean 1 and variance ``sigma^2``, serially
  correlated (``log w`` driven by an AR(1) with coefficient 0.3), and
  ``sigma^2 = 1 / lambda^2`` (1: ``Var(y) = 1``), ``1 / lambda`` (2: ``Var(y) =
  lambda``, Poisson-like), ``1`` (3: ``Var(y) = lambda^2``), ``0.5 / lambda + 0.5
  exp(2x)`` (4: mixed).
* ``world``: the package's structural simulator (:func:`gravity.simulate.simulate_world`,
  default ``SimParams``; ``trade ~ ln_tariff + bri_ij + fd_x_dist_c | exp_year + imp_year
  + pair``; reported coefficient ``bri_ij``, true 0.2).

Reported per design: mean bias of the plain and corrected estimates as a share of the
Monte Carlo SD, the mean SE over the SD, and the coverage of the nominal 95% intervals
(plain: pair-clustered SE; corrected: bias-corrected estimate with the corrected SE).

Usage: ``python benchmarks/ppml_bias_montecarlo.py --reps 500 --designs wz:20x5 ...``;
results to ``benchmarks/results/ppml_bias_montecarlo.md`` with ``--write``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

BETA = 1.0
FE_SD = 0.5


def wz_panel(n: int, t: int, seed: int) -> pd.DataFrame:
    """One draw of the ``wz`` design (module docstring)."""
    rng = np.random.default_rng(seed)
    i, j, tt = np.meshgrid(np.arange(n), np.arange(n), np.arange(t), indexing="ij")
    keep = i != j
    i, j, tt = i[keep], j[keep], tt[keep]
    a = rng.normal(0.0, FE_SD, size=(n, t))
    g = rng.normal(0.0, FE_SD, size=(n, t))
    h = rng.normal(0.0, FE_SD, size=(n, n))
    p_treat = 1.0 / (1.0 + np.exp(-(h / FE_SD - 0.5)))
    treated = rng.uniform(size=(n, n)) < p_treat
    start = rng.integers(0, t + 1, size=(n, n))  # t: never within the window
    x = (treated[i, j] & (tt >= start[i, j])).astype(float)
    lam = np.exp(BETA * x + a[i, tt] + g[j, tt] + h[i, j])
    y = lam * rng.gamma(1.0, 1.0, size=lam.size)
    return pd.DataFrame({"exp": i, "imp": j, "year": tt, "x": x, "y": y})


def pois_panel(n: int, t: int, seed: int) -> pd.DataFrame:
    """One draw of the ``pois`` design (module docstring)."""
    rng = np.random.default_rng(seed)
    i, j, tt = np.meshgrid(np.arange(n), np.arange(n), np.arange(t), indexing="ij")
    keep = i != j
    i, j, tt = i[keep], j[keep], tt[keep]
    a = rng.normal(size=(n, t))
    g = rng.normal(size=(n, t))
    h = rng.normal(size=(n, n))
    x = rng.normal(size=i.size) + 0.5 * (a[i, tt] + g[j, tt])
    lam = np.exp(BETA * x + a[i, tt] + g[j, tt] + h[i, j] - 1.0)
    y = rng.poisson(lam).astype(float)
    return pd.DataFrame({"exp": i, "imp": j, "year": tt, "x": x, "y": y})


def paper_world(n: int, t: int, seed: int, dgp: int = 1) -> dict[str, np.ndarray]:
    """One draw of the paper's design ``paper<dgp>`` (module docstring) as balanced
    ``(exporter, importer, period)`` arrays: ``x``, ``y``, the true mean ``lam`` and
    ``s2``, the variance of ``log w`` (``w = y / lam``; ``corr(log w_t, log w_s) =
    0.3^|t-s|``)."""
    rng = np.random.default_rng(seed)
    sd_fe = 1.0 / 16.0
    a = rng.normal(0.0, sd_fe, (n, t))
    g = rng.normal(0.0, sd_fe, (n, t))
    h = rng.normal(0.0, sd_fe, (n, n))
    pi = a[:, None, :] + g[None, :, :] + h[:, :, None]  # (exporter, importer, period)
    x = np.empty((n, n, t))
    z = np.empty((n, n, t))
    x_prev = h + rng.normal(0.0, 0.5, (n, n))
    z_prev = rng.normal(size=(n, n))
    for s in range(t):  # periods (T small), vectorised over pairs
        x_prev = x_prev / 2 + pi[:, :, s] + rng.normal(0.0, 0.5, (n, n))
        z_prev = 0.3 * z_prev + np.sqrt(1 - 0.09) * rng.normal(size=(n, n))
        x[:, :, s], z[:, :, s] = x_prev, z_prev
    lam = np.exp(BETA * x + pi)
    sigma2 = {1: 1.0 / lam**2, 2: 1.0 / lam, 3: np.ones_like(lam),
              4: 0.5 / lam + 0.5 * np.exp(2 * x)}[dgp]
    s2 = np.log1p(sigma2)
    y = lam * np.exp(-0.5 * s2 + np.sqrt(s2) * z)
    return {"x": x, "y": y, "lam": lam, "s2": s2}


def paper_panel(n: int, t: int, seed: int, dgp: int = 1) -> pd.DataFrame:
    """One draw of the paper's design ``paper<dgp>`` (module docstring)."""
    w = paper_world(n, t, seed, dgp)
    i, j, tt = np.meshgrid(np.arange(n), np.arange(n), np.arange(t), indexing="ij")
    return pd.DataFrame({"exp": i.ravel(), "imp": j.ravel(), "year": tt.ravel(),
                         "x": w["x"].ravel(), "y": w["y"].ravel()})


def world_panel(n: int, t: int, seed: int) -> pd.DataFrame:
    from gravity.simulate import add_structural_covariates, load_capitals, simulate_world

    iso = [c for c in load_capitals()["iso3"] if c != "CHN"]
    countries = ["CHN"] + iso[: n - 1]
    years = np.unique(np.linspace(2010, 2022, t).round().astype(int)).tolist()
    panel, truth = simulate_world(seed=seed, countries=countries, years=years)
    add_structural_covariates(panel, truth)
    return panel


def one_rep(args: tuple[str, int, int, int]) -> dict:
    import gravity as gv
    from gravity.estimation import bias_correct

    dgp, n, t, seed = args
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dgp in ("wz", "pois") or dgp.startswith("paper"):
            d = (wz_panel(n, t, seed) if dgp == "wz" else pois_panel(n, t, seed)
                 if dgp == "pois" else paper_panel(n, t, seed, int(dgp[5:])))
            f = gv.ppml("y ~ x | exp^year + imp^year + exp^imp", d,
                        vcov={"CRV1": "exp^imp"}, ssc="glm", separation=("fe",))
            term, true = "x", BETA
        else:
            d = world_panel(n, t, seed)
            f = gv.ppml("trade ~ ln_tariff + bri_ij + fd_x_dist_c | exp_year + imp_year + pair",
                        d, vcov={"CRV1": "pair"}, ssc="glm", separation=("fe",))
            term, true = "bri_ij", 0.2
        t0 = time.perf_counter()
        c = bias_correct(f)
        dt = time.perf_counter() - t0
    return {"dgp": dgp, "N": n, "T": t, "seed": seed, "true": true,
            "b": f.params[term], "se": f.bse[term], "b_bc": c.params[term],
            "se_bc": c.bse[term], "method": c.extra["variance_method"], "t_corr": dt}


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (dgp, n, t), g in df.groupby(["dgp", "N", "T"], sort=False):
        true = g["true"].iloc[0]
        sd, sd_bc = g["b"].std(), g["b_bc"].std()
        rows.append({
            "design": dgp, "N": n, "T": t, "reps": len(g),
            "bias/SD plain": (g["b"].mean() - true) / sd,
            "bias/SD corrected": (g["b_bc"].mean() - true) / sd_bc,
            "SE/SD plain": g["se"].mean() / sd,
            "SE/SD corrected": g["se_bc"].mean() / sd_bc,
            "coverage plain": np.mean(np.abs(g["b"] - true) <= 1.959964 * g["se"]),
            "coverage corrected": np.mean(np.abs(g["b_bc"] - true) <= 1.959964 * g["se_bc"]),
            "variance": g["method"].iloc[0],
            "s/correction": g["t_corr"].mean(),
        })
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--designs", nargs="+",
                    default=["wz:20x2", "wz:20x5", "wz:20x10", "wz:50x5", "wz:100x5",
                             "world:20x5", "world:40x5"])
    ap.add_argument("--reps", type=int, default=500)
    ap.add_argument("--reps-small", type=int, default=200,
                    help="replications of every design but the first")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--out", default="benchmarks/results/ppml_bias_montecarlo.md")
    a = ap.parse_args(argv)
    t0 = time.time()
    jobs = []
    for k, spec in enumerate(a.designs):
        dgp, size = spec.split(":")
        n, t = (int(v) for v in size.split("x"))
        reps = a.reps if k == 0 else a.reps_small
        jobs += [(dgp, n, t, 1000 + s) for s in range(reps)]
    with ProcessPoolExecutor(a.workers) as ex:
        out = list(ex.map(one_rep, jobs, chunksize=4))
    df = pd.DataFrame(out)
    tab = summarise(df)
    took = time.time() - t0
    text = tab.to_markdown(index=False, floatfmt=".3f")
    print(text, f"\n[{took:.0f} s]")
    if a.write:
        cmd = "python benchmarks/ppml_bias_montecarlo.py " + " ".join(sys.argv[1:])
        Path(a.out).write_text(HEADER.format(cmd=cmd, took=took, workers=a.workers)
                               + text + "\n")


HEADER = """# Monte Carlo: Weidner-Zylkin bias correction of three-way PPML

Generated by `{cmd}` ({took:.0f} s, {workers} worker(s), one numba thread).

Designs (see the docstring of `benchmarks/ppml_bias_montecarlo.py`): `wz` is the
agreement-dummy design of our own (`lambda = exp(x + a_it + g_jt + h_ij)`, x an agreement dummy
correlated with the pair effect, multiplicative Gamma(1, 1) noise, beta = 1);
`paper1`-`paper4` are the paper's own design (Weidner and Zylkin 2021, sec. 4, as a
public replication states it: all N^2 pairs, effects N(0, (1/16)^2), a persistent x
correlated with all three effects, log-normal AR(1) noise with Var(y) = 1, lambda,
lambda^2 or a mix); `world`
is the package's structural simulator (default `SimParams`, coefficient of `bri_ij`,
true 0.2). Three-way PPML clustered by pair (`ssc="glm"`: G/(G-1)); corrected:
`gravity.estimation.bias_correct` (bias-corrected estimate, leverage-corrected
variance; `variance` = the method `"auto"` chose). Bias is reported as a share of the
Monte Carlo SD of the estimator, coverage of nominal 95% intervals.

"""


if __name__ == "__main__":
    main()
