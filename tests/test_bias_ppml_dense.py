"""The three-way PPML bias estimate against a dense re-derivation on tiny panels.

Oracle: the second-order expansion of the pair-concentrated Poisson likelihood written
out with dense matrices and no shortcut: the regressors projected on the full
exporter-time, importer-time and pair dummy matrix (``lambda``-weighted least squares,
pseudo-inverse), and for every exporter (importer) ``g`` with incidental parameters
``phi_g`` (its ``T`` time effects), ``c = softmax(phi)`` within a pair and ``Y = sum_t
y``,

    term1_g = -sum_j (H_gj(y) x~_gj)' H_g^+ e_gj,   H_gj(y) = Y (diag c - c c'),
    term2_g = 1/2 tr(H_g^+ C_g H_g^+ S_g),        C_g = -sum_j Y sum_t x~_gjt d2c_t,

with ``d2c_t`` the full ``T x T`` Hessian of ``c_t`` in ``phi`` (the third derivative
of log-sum-exp), ``S_g = sum_j e_gj e_gj'``; bias ``= W^{-1} sum_g g_n/(g_n - 1)
(term1_g + term2_g)`` over exporters and importers. The package (like
``ppml_fe_bias``) uses the shortcut ``-(diag(x~) H + H diag(x~))`` for ``C``, equal
only after summing over partners (``sum_j lambda_gjt x~_gjt = 0``): this test checks
that identity too, on balanced and unbalanced panels with one and two regressors.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import gravity as gv
from gravity.estimation import bias_correct

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from ppml_bias_montecarlo import paper_panel  # noqa: E402

FML = "y ~ {x} | exp^year + imp^year + exp^imp"


def _dummies(codes: np.ndarray) -> np.ndarray:
    _, inv = np.unique(codes, return_inverse=True)
    return np.eye(inv.max() + 1)[inv]


def _softmax_hessian(c: np.ndarray) -> np.ndarray:
    """``d2c[t, a, b] = d^2 c_t / d phi_a d phi_b`` for ``c = softmax(phi)``."""
    eye = np.eye(c.size)
    da = eye - c[None, :]  # da[t, a] = delta_ta - c_a
    return c[:, None, None] * (da[:, :, None] * da[:, None, :]
                               - (c[:, None] * (eye - c[None, :]))[None])


def dense_bias(d: pd.DataFrame, xcols: list[str], mu: np.ndarray) -> np.ndarray:
    periods = np.sort(d["year"].unique())
    tn = periods.size
    z = np.hstack([_dummies(d["exp"] * 1000 + d["year"]), _dummies(d["imp"] * 1000 + d["year"]),
                   _dummies(d["exp"] * 1000 + d["imp"])])
    x = d[xcols].to_numpy()
    zw = z.T * mu
    xt = x - z @ np.linalg.pinv(zw @ z) @ (zw @ x)
    w = (xt * mu[:, None]).T @ xt
    y = d["y"].to_numpy()
    total = np.zeros(len(xcols))
    for side, other in (("exp", "imp"), ("imp", "exp")):
        groups = d[side].unique()
        for g in groups:
            h_g = np.zeros((tn, tn))
            s_g = np.zeros((tn, tn))
            a_terms = []  # (H(y) x~, e) per partner, in full-T coordinates
            c_g = np.zeros((len(xcols), tn, tn))
            for _, rows in d[d[side] == g].groupby(other).indices.items():
                rows = d.index[d[side] == g][rows]
                slot = np.searchsorted(periods, d.loc[rows, "year"].to_numpy())
                lam = mu[rows]
                cc = lam / lam.sum()
                yy = y[rows].sum()
                h = np.zeros((tn, tn))
                h[np.ix_(slot, slot)] = yy * (np.diag(cc) - np.outer(cc, cc))
                e = np.zeros(tn)
                e[slot] = y[rows] - yy * cc
                h_g += h
                s_g += np.outer(e, e)
                d2c = _softmax_hessian(cc)
                for k in range(len(xcols)):
                    xk = np.zeros(tn)
                    xk[slot] = xt[rows, k]
                    c_g[k][np.ix_(slot, slot)] -= yy * np.einsum("t,tab->ab", xt[rows, k], d2c)
                    a_terms.append((k, h @ xk, e))
            hp = np.linalg.pinv(h_g, rcond=1e-12, hermitian=True)
            factor = len(groups) / (len(groups) - 1.0)
            for k, hx, e in a_terms:
                total[k] -= factor * hx @ hp @ e
            for k in range(len(xcols)):
                total[k] += factor * 0.5 * np.trace(hp @ c_g[k] @ hp @ s_g)
    return np.linalg.solve(w, total)


@pytest.mark.parametrize("dgp,xcols,drop", [
    (4, ["x"], 0.0),  # the paper's mixed-variance design, balanced
    (1, ["x", "x2"], 0.0),  # two regressors
    (4, ["x", "x2"], 0.12),  # unbalanced: 12% of the rows missing
])
def test_bias_equals_dense_expansion(dgp, xcols, drop):
    d = paper_panel(6, 4, seed=7, dgp=dgp)
    rng = np.random.default_rng(1)
    d["x2"] = 0.5 * d["x"] + rng.normal(size=len(d))
    if drop:
        d = d.sample(frac=1 - drop, random_state=3).sort_index().reset_index(drop=True)
    f = gv.ppml(FML.format(x=" + ".join(xcols)), d, vcov={"CRV1": "exp^imp"}, ssc="glm",
                separation=("fe",), tol=1e-13, fixef_tol=1e-13)
    d = d.loc[f.in_sample].reset_index(drop=True)
    got = bias_correct(f).bias[xcols].to_numpy()
    want = dense_bias(d, xcols, np.asarray(f.predict(d)))
    assert np.all(np.abs(want) > 1e-4)  # a bias of a size the comparison can see
    np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-10)
