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
* ``b_spj``: the split-panel jackknife's bias estimate (Weidner and Zylkin's other
  remedy; exporters and importers each split in two halves, ``mean of the four
  sub-panel estimates - beta_hat``; corrected estimate ``beta_hat - b_spj``), for
  comparison: it measures the bias the estimator actually has at ``N`` and ``N / 2``
  instead of the first-order formula.

Written independently of ``gravity.estimation.ppml_bias`` (plain NumPy on balanced
``N x N x T`` arrays; the weighted demeaning by alternating projections) so that it
also checks the package's bias at the fitted means (``b_hat`` against the same
formula here, ``b_check``).

Usage: ``python benchmarks/ppml_bias_oracle.py --designs paper4:20x5 paper1:20x5
--reps 200`` (prints a table; ``--out FILE`` writes it as markdown and the draws to
``FILE`` with suffix ``.csv``; ``--from-csv`` summarises saved draws;
``--no-package`` takes ``b_hat`` from this file's formula, for large N; ``--tails``
prints how concentrated ``Var(y | x)`` is in each design; ``--terms`` splits ``b_pop``
in its two terms).
Results: ``benchmarks/results/ppml_bias_montecarlo.md`` (last section).
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
        # H_g^+ without a cut-off: H_g 1 = 0 exactly, so with J = 1 1' / T and a = tr(H_g)
        # / T, H_g^+ = (H_g + a J)^{-1} - J / a (well conditioned; a pseudo-inverse
        # with a relative cut-off can keep the numerically non-zero null eigenvalue)
        jm = np.full((t, t), 1.0 / t)
        sc = np.trace(hg, axis1=1, axis2=2)[:, None, None] / t
        hp = np.linalg.inv(hg + sc * jm) - jm / sc
        total += -np.einsum("gts,gst->", ag, hp)
        total += 0.5 * np.einsum("gab,gbc,gcd,gda->", hp, gg, hp, sg)
    return total / float((lam * xt**2).sum())


def population_bias(w: dict[str, np.ndarray], parts: str = "both") -> float:
    """``b_pop`` of one draw (module docstring); ``parts="A"`` or ``"G"`` keeps only the
    first (``-tr(A H^+)``) or the second (``1/2 tr(H^+ G H^+ S)``) term."""
    lam, x, s2 = w["lam"], w["x"], w["s2"]
    t = lam.shape[-1]
    xt = demean3(x, lam)
    cc = lam / lam.sum(-1, keepdims=True)
    lag = np.abs(np.arange(t)[:, None] - np.arange(t)[None, :])
    sig = lam[..., :, None] * lam[..., None, :] * np.expm1(
        RHO**lag * np.sqrt(s2[..., :, None] * s2[..., None, :]))
    m = np.eye(t) - cc[..., :, None]  # M = I - c 1'
    ms = np.einsum("ijab,ijbc->ijac", m, sig)
    s_pop = np.einsum("ijac,ijdc->ijad", ms, m)
    a_pop = ms.sum(-1) / lam.sum(-1, keepdims=True)  # E[e sum_s y_s] / sum lambda
    return wz_formula(lam, xt, a_pop * (parts != "G"), s_pop * (parts != "A"))


def oracle_row(dgp: int, n: int, t: int, seed: int, package: bool = True) -> dict:
    import gravity as gv
    from gravity.estimation import bias_correct

    w = paper_world(n, t, seed, dgp)
    lam, x, y = w["lam"], w["x"], w["y"]
    i, j, tt = np.meshgrid(np.arange(n), np.arange(n), np.arange(t), indexing="ij")
    d = pd.DataFrame({"exp": i.ravel(), "imp": j.ravel(), "year": tt.ravel(),
                      "x": x.ravel(), "y": y.ravel()})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = gv.ppml("y ~ x | exp^year + imp^year + exp^imp", d, vcov={"CRV1": "exp^imp"},
                    ssc="glm", separation=("fe",), tol=1e-12)
        b_hat = float(bias_correct(f).bias["x"]) if package else np.nan
        # split-panel jackknife (exporters and importers each split in halves; the
        # countries are exchangeable draws): 2 beta_hat - mean of the four sub-panels
        half = np.arange(n) < n // 2
        subs = []
        for ea in (True, False):
            for ia in (True, False):
                keep = (half[d["exp"]] == ea) & (half[d["imp"]] == ia)
                fs = gv.ppml("y ~ x | exp^year + imp^year + exp^imp", d[keep],
                             separation=("fe",), tol=1e-12)
                subs.append(float(fs.params["x"]))
    df_factor = n / (n - 1.0)
    # at the true means
    xt = demean3(x, lam)
    cc = lam / lam.sum(-1, keepdims=True)
    e_true = y - cc * y.sum(-1, keepdims=True)
    # A_ij = e_ij (H_ij(y) x~_ij)' with H_ij(y) = (sum_t y / sum_t lambda) H_ij(lambda)
    a_true = e_true * (y.sum(-1) / lam.sum(-1))[..., None]
    plug = wz_formula(lam, xt, a_true, e_true[..., :, None] * e_true[..., None, :])
    pop = population_bias(w)
    # at the fitted means (the package's estimate, recomputed here)
    mu = np.asarray(f.predict()).reshape(n, n, t)
    xh = demean3(x, mu)
    eh = y - mu
    check = df_factor * wz_formula(mu, xh, eh, eh[..., :, None] * eh[..., None, :])
    return {"dgp": f"paper{dgp}", "N": n, "T": t, "seed": seed,
            "beta_hat": float(f.params["x"]), "se": float(f.bse["x"]),
            "b_hat": b_hat if package else check, "b_check": check,
            "b_plugin_true": df_factor * plug, "b_pop": pop,
            "b_spj": float(np.mean(subs)) - float(f.params["x"])}


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    """Per design, in units of the Monte Carlo SD of ``beta_hat``: the actual bias,
    the Monte Carlo means of the three bias figures and of the jackknife's, and the
    remaining bias of the analytically and jackknife-corrected estimates (each over
    its own SD)."""
    rows = []
    for (dgp, n, t), g in df.groupby(["dgp", "N", "T"], sort=False):
        sd = g["beta_hat"].std()
        bc, jk = g["beta_hat"] - g["b_hat"], g["beta_hat"] - g["b_spj"]
        rows.append({
            "design": dgp, "N": n, "T": t, "reps": len(g), "SD": sd,
            "bias/SD": (g["beta_hat"].mean() - BETA) / sd,
            "b_pop/SD": g["b_pop"].mean() / sd,
            "b_plugin_true/SD (median)": f"{g['b_plugin_true'].mean() / sd:.2f} "
                                         f"({g['b_plugin_true'].median() / sd:.2f})",
            "b_hat/SD": g["b_hat"].mean() / sd,
            "b_spj/SD": g["b_spj"].mean() / sd,
            "bias/SD analytical": (bc.mean() - BETA) / bc.std(),
            "bias/SD jackknife": (jk.mean() - BETA) / jk.std(),
            "SD jackknife/SD": jk.std() / sd,
            "max |b_hat - b_check|": (g["b_hat"] - g["b_check"]).abs().max(),
        })
    return pd.DataFrame(rows)


def tail_shares(dgp: int, n: int, t: int, draws: int = 20) -> dict:
    """How concentrated the conditional variance is: the share of ``sum Var(y | x)``
    carried by the top 1% and 10% of observations, and the realised ``sum (y -
    lambda)^2`` over its expectation (mean and median over ``draws`` draws)."""
    top1, top10, ratio = [], [], []
    for seed in range(1000, 1000 + draws):
        w = paper_world(n, t, seed, dgp)
        v = np.sort((w["lam"] ** 2 * np.expm1(w["s2"])).ravel())[::-1]
        top1.append(v[: v.size // 100].sum() / v.sum())
        top10.append(v[: v.size // 10].sum() / v.sum())
        ratio.append(float(((w["y"] - w["lam"]) ** 2).sum() / v.sum()))
    return {"design": f"paper{dgp}", "N": n, "T": t, "draws": draws,
            "top 1% share": np.mean(top1), "top 10% share": np.mean(top10),
            "realised/expected SSR: median": np.median(ratio),
            "realised/expected SSR: mean": np.mean(ratio)}


def term_split(dgp: int, n: int, t: int, draws: int = 40) -> dict:
    """Mean ``b_pop`` over ``draws`` draws and its two terms."""
    ws = [paper_world(n, t, seed, dgp) for seed in range(1000, 1000 + draws)]
    return {"design": f"paper{dgp}", "N": n, "T": t, "draws": draws,
            "b_pop": np.mean([population_bias(w) for w in ws]),
            "first term (A)": np.mean([population_bias(w, "A") for w in ws]),
            "second term (G, S)": np.mean([population_bias(w, "G") for w in ws])}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--designs", nargs="+", default=["paper4:20x5", "paper1:20x5"])
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--out", default=None)
    ap.add_argument("--tails", action="store_true",
                    help="only the concentration of Var(y | x) in the designs (20 draws)")
    ap.add_argument("--terms", action="store_true",
                    help="only the first-order bias at the true moments split in its two "
                         "terms (40 draws)")
    ap.add_argument("--from-csv", nargs="+", default=None,
                    help="summarise the draws saved by earlier runs (their .csv)")
    ap.add_argument("--no-package", action="store_true",
                    help="b_hat from this file's formula at the fitted means (b_check), "
                         "without the package's correction (faster at large N)")
    a = ap.parse_args(argv)
    if a.tails or a.terms:
        tab = pd.DataFrame([(tail_shares if a.tails else term_split)(int(spec.split(":")[0][5:]),
                                        *(int(v) for v in spec.split(":")[1].split("x")))
                            for spec in a.designs])
        print(tab.to_markdown(index=False, floatfmt=".2f" if a.tails else ".4f"))
        return
    if a.from_csv:
        tab = summarise(pd.concat([pd.read_csv(f) for f in a.from_csv]))
        print(tab.to_markdown(index=False, floatfmt=".3g"))
        return
    t0 = time.time()
    rows = []
    for spec in a.designs:
        dgp, size = spec.split(":")
        n, t = (int(v) for v in size.split("x"))
        rows += [oracle_row(int(dgp[5:]), n, t, 1000 + s, not a.no_package) for s in range(a.reps)]
    df = pd.DataFrame(rows)
    tab = summarise(df)
    took = time.time() - t0
    text = tab.to_markdown(index=False, floatfmt=".3g")
    print(text, f"\n[{took:.0f} s]")
    if a.out:
        df.to_csv(Path(a.out).with_suffix(".csv"), index=False)
        Path(a.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
