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

``V_FE`` is dense (``F x F`` for ``F`` levels of the other fixed effects: time
``O(F^3)``). Above ``APPROX_ABOVE`` levels the authors' approximation replaces the
fixed-effect part of ``Q_c`` by one sweep of alternating projections that stays inside
the cluster (:func:`_fe_hat_approx`; ``ppml_fe_bias``, option ``approx``), and the
singular system ``(I - Q_c) v~_c = v_c`` is solved with ``c 1'`` added (``c = w_c / sum
w_c``), which selects the solution with ``1' v~_c = 0``. Measured against the exact form:
0.2-0.5% apart at 40-60 countries, 2-2.5% at 20 (``benchmarks/margins_ape_leverage.py``;
for PPML, ``benchmarks/results/ppml_bias_variance.md``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import EstimationError

#: the largest number of levels of the fixed effects besides the clusters' for the exact
#: variance (dense algebra)
MAX_OTHER_LEVELS = 4000
#: above this number of levels of the other fixed effects, ``method="auto"`` uses the
#: approximation (the switch of :mod:`gravity.estimation.ppml_bias` and ``ppml_fe_bias``)
APPROX_ABOVE = 1500


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


def resolve_method(fe_codes: list[np.ndarray], cluster_fe: int, method: str = "auto") -> str:
    """``"exact"`` or ``"approx"``: ``method`` itself, or for ``"auto"`` exact up to
    :data:`APPROX_ABOVE` levels of the fixed effects besides the clusters'."""
    if method not in ("auto", "exact", "approx"):
        raise ValueError("method must be 'auto', 'exact' or 'approx'")
    if method != "auto":
        return method
    f = sum(int(c.max()) + 1 for q, c in enumerate(fe_codes) if q != cluster_fe)
    return "approx" if f > APPROX_ABOVE else "exact"


def inflated_scores(v: np.ndarray, w: np.ndarray, xt: np.ndarray, bread: np.ndarray,
                    fe_codes: list[np.ndarray], cluster_fe: int,
                    method: str = "auto") -> np.ndarray:
    """``v~ = (I - Q_c)^{-1} v`` cluster by cluster (module docstring).

    ``v``: score residuals (N,); ``w``: IRLS weights (N,); ``xt``: (K, N) regressors
    demeaned by every fixed effect with the weights ``w``; ``bread``:
    ``(X~' W X~)^{-1}``; ``fe_codes``: the fixed effects' codes; ``cluster_fe``: the
    index of the fixed effect whose levels are the clusters. ``method``: ``"exact"``
    (the dense ``V_FE``), ``"approx"`` (one symmetric sweep of alternating projections,
    :func:`_fe_hat_approx`) or ``"auto"`` (:func:`resolve_method`).
    """
    method = resolve_method(fe_codes, cluster_fe, method)
    cl = fe_codes[cluster_fe]
    others = [c for q, c in enumerate(fe_codes) if q != cluster_fe]
    sizes = [int(c.max()) + 1 for c in others]
    f = int(sum(sizes))
    if method == "exact" and f > MAX_OTHER_LEVELS:
        raise EstimationError(
            f"the exact leverage-corrected cluster variance needs a dense {f} x {f} matrix "
            f"of the fixed effects besides the clusters (at most {MAX_OTHER_LEVELS}); use "
            "method='approx'")
    order, slot, g, t = _padded(cl)
    cc = cl[order]

    def pad(a: np.ndarray) -> np.ndarray:
        out = np.zeros((g, t) + a.shape[1:])
        out[cc, slot] = a[order]
        return out

    wp, vp = pad(w), pad(v)
    xp = pad(np.ascontiguousarray(xt.T))  # (G, T, K)
    x_lev = np.einsum("ctk,kl,csl->cts", xp, bread, xp)  # x~_c (X~'WX~)^{-1} x~_c'
    eye = np.eye(t)[None]
    if method == "approx":
        valid = pad(np.ones(v.size)) > 0
        m = eye - _fe_hat_approx(w, wp, others, pad, valid) - wp[:, :, None] * x_lev \
            + _cluster_hat(wp, valid)
    else:
        h = _hessian_blocks(wp)
        m = eye - h @ (x_lev + _fe_leverage(h, others, sizes, pad))
    vt = np.linalg.solve(m, vp[:, :, None])[:, :, 0]
    out = np.empty_like(v, dtype=np.float64)
    out[order] = vt[cc, slot]
    return out


def _hessian_blocks(wp: np.ndarray) -> np.ndarray:
    """``H_c = diag(w_c) - w_c w_c' / sum w_c``: each cluster's Hessian with its own
    effect concentrated out (G, T, T)."""
    t = wp.shape[1]
    return wp[:, :, None] * np.eye(t)[None] - wp[:, :, None] * wp[:, None, :] / np.maximum(
        wp.sum(axis=1), 1e-300)[:, None, None]


def _fe_leverage(h: np.ndarray, others: list[np.ndarray], sizes: list[int],
                 pad: Any) -> np.ndarray:
    """``d_c V_FE d_c'`` for every cluster (G, T, T), ``V_FE`` the Moore-Penrose inverse
    of the dense information ``sum_c d_c' H_c d_c`` of the other fixed effects."""
    out = np.zeros_like(h)
    if not others:
        return out
    f = int(sum(sizes))
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
            out += vfe[ra[:, :, None], cb[:, None, :]]
    return out


def _cluster_hat(wp: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """The cluster effect's hat block ``c 1'`` (``c = w_c / sum w_c``) on the cluster's
    rows (G, T, T)."""
    c = wp / np.maximum(wp.sum(axis=1, keepdims=True), 1e-300)
    return c[:, :, None] * valid[:, None, :]


def _fe_hat_approx(w: np.ndarray, wp: np.ndarray, others: list[np.ndarray], pad: Any,
                   valid: np.ndarray) -> np.ndarray:
    r"""Each cluster's block of the fixed-effect hat matrix, approximated as Weidner and
    Zylkin (2021) do for PPML (``ppml_fe_bias``, option ``approx``; used by
    :mod:`gravity.estimation.ppml_bias` too): the projection on all
    fixed effects is replaced by one sweep of alternating projections, ``I - (I - Q_c)
    prod_o (I - Q_o) (I - Q_c)``, each ``Q_g`` the hat block of one fixed effect
    restricted to the cluster's rows, ``(Q_g)_{ts} = 1{g_t = g_s} w_t / sum_{g} w``.
    With exporter-time and importer-time effects and pair clusters every path of the
    product stays inside the pair, so nothing larger than a ``T x T`` block is formed:
    time and memory ``O(G T^3)``. ``wp``: the weights ``w`` padded by cluster."""
    t = wp.shape[1]
    eye = np.eye(t)[None]
    both = valid[:, :, None] & valid[:, None, :]
    m_c = eye - _cluster_hat(wp, valid)
    prod = m_c
    for codes in others:  # the other fixed effects
        tot = np.bincount(codes, weights=w)
        share = np.divide(w, tot[codes], out=np.zeros_like(w), where=tot[codes] > 0)
        cp = pad(codes.astype(np.float64))
        same = (cp[:, :, None] == cp[:, None, :]) & both
        q = same * pad(share)[:, :, None]
        prod = prod @ (eye - q)
    return eye - prod @ m_c


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
