"""Leverage-inflated scores of a pair-clustered three-way binary fit
(:mod:`gravity.inference.cluster_leverage`) against the dense hat matrix.

Oracle: ``Z = [X, D_exp-year, D_imp-year, D_pair]`` as dummy columns, the IRLS weights
``W``, ``P = W Z (Z'WZ)^+ Z'`` and each pair's block ``P_pp``. The inflated scores
``v~_p`` must solve ``(I - P_pp) v~_p = v_p`` with ``1' v~_p = 0`` (the system is
singular along ``w_p``, and ``1' v~_p = 0`` selects the solution; Weidner and Zylkin
2021's pair blocks with the pair effect concentrated out).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gravity.estimation import feglm_binary
from gravity.inference.cluster_leverage import cluster_meat, inflated_scores

N, T = 7, 10


def three_way_panel(seed: int, drop: float, n: int = N, periods: int = T) -> pd.DataFrame:
    """A cloglog entry panel of ``n`` countries and ``periods`` periods with
    exporter-time (``it``), importer-time (``jt``) and pair codes, a share ``drop`` of
    rows removed at random."""
    rng = np.random.default_rng(seed)
    i, j, t = (a.ravel() for a in np.meshgrid(np.arange(n), np.arange(n),
                                              np.arange(periods), indexing="ij"))
    keep = i != j
    i, j, t = i[keep], j[keep], t[keep]
    x = rng.normal(size=i.size) + 0.3 * i
    d = (rng.uniform(size=i.size) < 0.3).astype(float)
    eta = 0.4 * x + 0.3 * d + rng.normal(0, 0.3, n)[i] - 0.9 + rng.normal(0, 0.2, periods)[t]
    y = (rng.uniform(size=i.size) < -np.expm1(-np.exp(eta))).astype(float)
    df = pd.DataFrame({"y": y, "x": x, "d": d, "it": i * periods + t, "jt": j * periods + t,
                       "pair": i * n + j, "exporter": i})
    return df.loc[rng.uniform(size=len(df)) >= drop].reset_index(drop=True)


def irls_arrays(res) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A binary fit's scores in eta ``v``, IRLS weights ``w`` and ``(X~'WX~)^{-1}``."""
    r = res.record
    fam = r.family
    h = fam.score_factor(r.eta)
    w = np.maximum(fam.mu_eta(r.eta), 1e-300) * h
    v = h * (r.y - fam.inverse_link(r.eta))
    return v, w, np.linalg.inv((r.xt * w) @ r.xt.T)


@pytest.mark.parametrize(("seed", "drop"), [(1, 0.0), (2, 0.15)])
def test_inflated_scores_solve_the_dense_pair_blocks(seed: int, drop: float) -> None:
    df = three_way_panel(seed, drop)
    res = feglm_binary("y ~ x + d | it + jt + pair", df, family="cloglog",
                       vcov={"CRV1": "pair"})
    r = res.record
    v, w, bread = irls_arrays(res)
    vt = inflated_scores(v, w, r.xt, bread, list(r.fe_codes), 2)

    dummies = [np.eye(int(c.max()) + 1)[c] for c in r.fe_codes]
    Z = np.column_stack([r.X, *dummies])
    P = (w[:, None] * Z) @ np.linalg.pinv(Z.T @ (w[:, None] * Z), rcond=1e-12) @ Z.T
    pair = r.fe_codes[2]
    assert pair.max() + 1 > 20
    checked = 0
    for p in range(int(pair.max()) + 1):
        rows = np.flatnonzero(pair == p)
        lhs = vt[rows] - P[np.ix_(rows, rows)] @ vt[rows]
        np.testing.assert_allclose(lhs, v[rows], rtol=0, atol=1e-9)
        assert abs(vt[rows].sum()) < 1e-9
        checked += rows.size > 1
    assert checked > 10
    # the inflation is not the identity, and it raises the variance
    a = r.xt.T @ bread
    plain = cluster_meat(a, v, None, pair)
    one = cluster_meat(a, v, vt, pair)
    two = cluster_meat(a, v, vt, pair, two_sided=True)
    assert np.all(np.diag(plain) < np.diag(one)) and np.all(np.diag(one) < np.diag(two))
