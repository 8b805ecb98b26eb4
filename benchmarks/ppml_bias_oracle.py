"""Where the bias of three-way PPML in the paper's design comes from: the package's
estimated bias against the first-order bias the Weidner-Zylkin formula gives at the
true parameters and the true moments of the noise.

For each draw of ``paper<dgp>`` (``benchmarks/ppml_bias_montecarlo.py``), three numbers
besides the estimate ``beta_hat``:

* ``b_hat``: the package's bias estimate (:func:`gravity.estimation.bias_correct`):
  the formula at the fitted means, with the realised residual outer products.
* ``b_plugin_true``: the same formula at the true means ``lambda`` (true slopes and
  effects), with the realised residuals ``e = y - c sum_t y`` of the concentrated
  likelihood (``c = lambda_ij / sum_t lambda_ijt``): what the estimate would be
  without estimation noise in ``lambda``.
* ``b_pop``: the formula with the expectations in place of the realised outer
  products, known in closed form for the log-normal noise:
  ``Cov(y_t, y_s | x) = lambda_t lambda_s (exp(0.3^|t-s| sqrt(s2_t s2_s)) - 1)``,
  ``E[e e'] = M Sigma M'`` and ``E[e sum_s y_s] = M Sigma 1`` with ``M = I - c 1'``.
  Its Monte Carlo mean is the first-order (``1/N``) bias the theory predicts.

Written independently of ``gravity.estimation.ppml_bias`` (plain NumPy on balanced
``N x N x T`` arrays; the weighted demeaning by alternating projections) so that it
also checks the package's bias at the fitted means (``b_hat`` against the same
formula here, ``b_check``).

Usage: ``python benchmarks/ppml_bias_oracle.py --designs paper4:20x5 paper1:20x5
--reps 200`` (prints a table; ``--out FILE`` writes it as markdown).
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ppml_bias_montecarlo import BETA, paper_world  # noqa: E402

RHO = 0.3  # AR(1) coefficient of log w in the paper's design


def demean3(v: np.ndarray, lam: np.ndarray, tol: float = 1e-13) -> np.ndarray:
    """``v`` (``N x N x T``) minus its ``lam``-weighted projection on exporter-time,
    importer-time and pair dummies (alternating projections to convergence)."""
    out = v.copy()
    for _ in range(10_000):
        prev = out.copy()
        for axis in ((1,), (0,), (2,)):  # (i, t), (j, t), (i, j) groups
            out -= (lam * out).sum(axis=axis, keepdims=True) / lam.sum(axis=axis,
                                                                       keepdims=True)
        if np.max(np.abs(out - prev)) < tol:
            return out
    raise RuntimeError("demeaning did not converge")


def wz_formula(lam: np.ndarray, xt: np.ndarray, a_vec: np.ndarray,
               s: np.ndarray) -> float:
    r"""Weidner-Zylkin bias of one slope, ``W^{-1} sum_{g in i, j} [-tr(A_g H_g^+) +
    1/2 tr(H_g^+ G_g H_g^+ S_g)]``, no degrees-of-freedom factor. ``lam``, ``xt``:
    ``N x N x T``; ``a_vec``: the left factor of ``A_ij = a_ij (H_ij x~_ij)'`` (``e_ij``
    or its expectation against ``sum_t y_ijt / sum_t lambda_ijt``); ``s``:
    ``N x N x T x T`` outer products (realised or expected)."""
    n, _, t = lam.shape
    eye = np.eye(t)
    h = lam[..., None] * eye - lam[..., :, None] * lam[..., None, :] / lam.sum(
        -1)[..., None, None]
    hx = np.einsum("ijts,ijs->ijt", h, xt)
    a = a_vec[..., :, None] * hx[..., None, :]
    g = -(xt[..., :, None] * h + h * xt[..., None, :])
    total = 0.0
    for axis in (1, 0):  # exporter groups (sum over j), importer groups (sum over i)
        hg, ag, gg, sg = (m.sum(axis=axis) for m in (h, a, g, s))
        hp = np.linalg.pinv(hg, hermitian=True)
        total += -np.einsum("gts,gst->", ag, hp)
        total += 0.5 * np.einsum("gab,gbc,gcd,gda->", hp, gg, hp, sg)
    return total / float((lam * xt**2).sum())


def oracle_row(dgp: int, n: int, t: int, seed: int, package: bool = True) -> dict:
    import gravity as gv
    from gravity.estimation import bias_correct

    w = paper_world(n, t, seed, dgp)
    lam, x, y, s2 = w["lam"], w["x"], w["y"], w["s2"]
    i, j, tt = np.meshgrid(np.arange(n), np.arange(n), np.arange(t), indexing="ij")
    d = pd.DataFrame({"exp": i.ravel(), "imp": j.ravel(), "year": tt.ravel(),
                      "x": x.ravel(), "y": y.ravel()})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = gv.ppml("y ~ x | exp^year + imp^year + exp^imp", d, vcov={"CRV1": "exp^imp"},
                    ssc="glm", separation=("fe",), tol=1e-12)
        b_hat = float(bias_correct(f).bias["x"]) if package else np.nan
    df_factor = n / (n - 1.0)
    # at the true means
    xt = demean3(x, lam)
    cc = lam / lam.sum(-1, keepdims=True)
    e_true = y - cc * y.sum(-1, keepdims=True)
    # A_ij = e_ij (H_ij(y) x~_ij)' with H_ij(y) = (sum_t y / sum_t lambda) H_ij(lambda)
    a_true = e_true * (y.sum(-1) / lam.sum(-1))[..., None]
    plug = wz_formula(lam, xt, a_true, e_true[..., :, None] * e_true[..., None, :])
    lag = np.abs(np.arange(t)[:, None] - np.arange(t)[None, :])
    sig = lam[..., :, None] * lam[..., None, :] * np.expm1(
        RHO**lag * np.sqrt(s2[..., :, None] * s2[..., None, :]))
    m = np.eye(t) - cc[..., :, None]  # M = I - c 1'
    ms = np.einsum("ijab,ijbc->ijac", m, sig)
    s_pop = np.einsum("ijac,ijdc->ijad", ms, m)
    a_pop = ms.sum(-1) / lam.sum(-1, keepdims=True)  # E[e sum_s y_s] / sum lambda
    pop = wz_formula(lam, xt, a_pop, s_pop)
    # at the fitted means (the package's estimate, recomputed here)
    mu = np.asarray(f.predict()).reshape(n, n, t)
    xh = demean3(x, mu)
    eh = y - mu
    check = df_factor * wz_formula(mu, xh, eh, eh[..., :, None] * eh[..., None, :])
    return {"dgp": f"paper{dgp}", "N": n, "T": t, "seed": seed,
            "beta_hat": float(f.params["x"]), "se": float(f.bse["x"]),
            "b_hat": b_hat if package else check, "b_check": check,
            "b_plugin_true": df_factor * plug, "b_pop": pop}


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (dgp, n, t), g in df.groupby(["dgp", "N", "T"], sort=False):
        sd = g["beta_hat"].std()
        mc = sd / np.sqrt(len(g))
        rows.append({
            "design": dgp, "N": n, "T": t, "reps": len(g), "SD": sd,
            "bias (MC mean)": g["beta_hat"].mean() - BETA, "+/- MC s.e.": mc,
            "mean b_pop": g["b_pop"].mean(), "mean b_plugin_true": g["b_plugin_true"].mean(),
            "mean b_hat": g["b_hat"].mean(),
            "median b_plugin_true": g["b_plugin_true"].median(),
            "max |b_hat - b_check|": (g["b_hat"] - g["b_check"]).abs().max(),
            "corr(b_hat, beta_hat)": np.corrcoef(g["b_hat"], g["beta_hat"])[0, 1],
        })
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--designs", nargs="+", default=["paper4:20x5", "paper1:20x5"])
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--out", default=None)
    ap.add_argument("--no-package", action="store_true",
                    help="b_hat from this file's formula at the fitted means (b_check), "
                         "without the package's correction (faster at large N)")
    a = ap.parse_args(argv)
    t0 = time.time()
    rows = []
    for spec in a.designs:
        dgp, size = spec.split(":")
        n, t = (int(v) for v in size.split("x"))
        rows += [oracle_row(int(dgp[5:]), n, t, 1000 + s, not a.no_package) for s in range(a.reps)]
    df = pd.DataFrame(rows)
    tab = summarise(df)
    took = time.time() - t0
    text = tab.to_markdown(index=False, floatfmt=".4g")
    print(text, f"\n[{took:.0f} s]")
    if a.out:
        df.to_csv(Path(a.out).with_suffix(".csv"), index=False)
        Path(a.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
