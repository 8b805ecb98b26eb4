r"""Leverage-inflated scores for a cluster-robust variance whose clusters are the levels
of one fixed effect (pairs in a three-way gravity panel), for weighted least squares
and GLMs estimated by IRLS.

A fitted model's score residuals are shrunk by the estimation of the slopes and the
fixed effects: to first order ``v^ = (I - Q) v`` with ``Q = W Z (Z'WZ)^- Z'`` the
hat matrix of all regressors and dummies ``Z`` in the metric of the IRLS weights ``W``
(``v`` the score in the linear predictor, ``h (y - mu)`` for a GLM). A cluster's block
``Q_c`` does not vanish as the number of clusters grows when the other fixed effects
have few observations each, so that the cluster-robust sandwich built on ``v^`` is
biased downward. The corrections inflate each cluster's residuals by
``(I - Q_c)^{-1}``:

* one-sided (Weidner and Zylkin 2021, "Bias and consistency in three-way gravity
  models", J. Int. Econ. 132, for PPML; :mod:`gravity.estimation.ppml_bias`):
  ``sum_c a_c' (I - Q_c)^{-1} v_c v_c' a_c`` (symmetrised);
* two-sided (Mancl and DeRouen 2001, "A covariance estimator for GEE with improved
  small-sample properties", Biometrics 57; the GLM analogue of CV3/HC3, MacKinnon,
  Nielsen and Webb 2023): ``sum_c a_c' (I - Q_c)^{-1} v_c v_c' (I - Q_c)^{-T} a_c``.

With the clusters' own fixed effect concentrated out, each cluster has the weighted
Hessian ``H_c = diag(w_c) - w_c w_c' / sum w_c`` and (Weidner and Zylkin 2021, their
variance correction)

.. math::  Q_c = H_c (\tilde x_c (\tilde X'W\tilde X)^{-1} \tilde x_c'
           + d_c V_{FE} d_c'),\qquad V_{FE} = \Big(\sum_c d_c' H_c d_c\Big)^{+},

``d_c`` the dummies of the other fixed effects on the cluster's rows. ``I - Q_c`` is
then invertible and ``1' (I - Q_c)^{-1} v_c = 1' v_c = 0`` (the first-order condition
of the cluster's effect): the inflated scores still sum to zero in each cluster.
Checked against the dense hat matrix of all dummies in
``tests/test_bias_cluster_leverage.py``.
"""

from __future__ import annotations

import numpy as np

from ..errors import EstimationError

#: the largest number of levels of the fixed effects besides the clusters' (dense algebra)
MAX_OTHER_LEVELS = 4000


def _padded(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Rows sorted by cluster: ``(order, slot, n_clusters, width)``; the row
    ``order[k]`` sits in cluster ``codes[order[k]]`` at position ``slot[k]``."""
    order = np.argsort(codes, kind="stable")
    c = codes[order]
    g = int(c.max()) + 1
    counts = np.bincount(c, minlength=g)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    slot = np.arange(c.size) - starts[c]
    return order, slot, g, int(counts.max())


def inflated_scores(v: np.ndarray, w: np.ndarray, xt: np.ndarray, bread: np.ndarray,
                    fe_codes: list[np.ndarray], cluster_fe: int) -> np.ndarray:
    """``v~ = (I - Q_c)^{-1} v`` cluster by cluster (module docstring).

    ``v``: score residuals (N,); ``w``: IRLS weights (N,); ``xt``: (K, N) regressors
    demeaned by every fixed effect with the weights ``w``; ``bread``:
    ``(X~' W X~)^{-1}``; ``fe_codes``: the fixed effects' codes; ``cluster_fe``: the
    index of the fixed effect whose levels are the clusters.
    """
    cl = fe_codes[cluster_fe]
    others = [c for q, c in enumerate(fe_codes) if q != cluster_fe]
    sizes = [int(c.max()) + 1 for c in others]
    f = int(sum(sizes))
    if f > MAX_OTHER_LEVELS:
        raise EstimationError(
            f"the leverage-corrected cluster variance needs a dense {f} x {f} matrix of "
            f"the fixed effects besides the clusters (at most {MAX_OTHER_LEVELS})")
    order, slot, g, t = _padded(cl)
    cc = cl[order]

    def pad(a: np.ndarray) -> np.ndarray:
        out = np.zeros((g, t) + a.shape[1:])
        out[cc, slot] = a[order]
        return out

    wp, vp = pad(w), pad(v)
    xp = pad(np.ascontiguousarray(xt.T))  # (G, T, K)
    h = wp[:, :, None] * np.eye(t)[None] - wp[:, :, None] * wp[:, None, :] / np.maximum(
        wp.sum(axis=1), 1e-300)[:, None, None]
    lev = np.einsum("ctk,kl,csl->cts", xp, bread, xp)
    if others:
        offs = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        idx = [pad((c + o).astype(np.float64)).astype(np.int64)
               for c, o in zip(others, offs, strict=True)]  # (G, T) each
        flat = np.zeros(f * f)
        for ra in idx:
            for cb in idx:
                flat += np.bincount((ra[:, :, None] * f + cb[:, None, :]).ravel(),
                                    weights=h.ravel(), minlength=f * f)
        vfe = np.linalg.pinv(flat.reshape(f, f), rcond=1e-11, hermitian=True)
        for ra in idx:
            for cb in idx:
                lev += vfe[ra[:, :, None], cb[:, None, :]]
    m = np.eye(t)[None] - h @ lev
    vt = np.linalg.solve(m, vp[:, :, None])[:, :, 0]
    out = np.empty_like(v, dtype=np.float64)
    out[order] = vt[cc, slot]
    return out


def cluster_meat(a: np.ndarray, v: np.ndarray, v_inflated: np.ndarray | None,
                 codes: np.ndarray, two_sided: bool = False) -> np.ndarray:
    """``sum_c (a_c' v~_c)(a_c' v_c)'`` symmetrised (one-sided), ``sum_c (a_c' v~_c)
    (a_c' v~_c)'`` (two-sided) or ``sum_c (a_c' v_c)(a_c' v_c)'`` (``v_inflated`` None),
    for the influence rows ``a`` (N, m); no small-sample factor."""
    g = int(codes.max()) + 1
    u = np.zeros((g, a.shape[1]))
    np.add.at(u, codes, a * v[:, None])
    if v_inflated is None:
        return u.T @ u
    ut = np.zeros_like(u)
    np.add.at(ut, codes, a * v_inflated[:, None])
    if two_sided:
        return ut.T @ ut
    meat = ut.T @ u
    return 0.5 * (meat + meat.T)
