r"""CRV3: the leave-one-cluster-out jackknife variance of least squares.

``V = c * sum_g (b_{-g} - b)(b_{-g} - b)'`` where ``b_{-g}`` is the estimate without
cluster ``g`` (MacKinnon, Nielsen and Webb 2023, "Cluster-robust inference: a guide to
empirical practice"; pyfixest's ``{"CRV3": g}``, centred at the full-sample
estimate) and ``c`` the small-sample factor of CRV1 (``G/(G-1) (N-1)/(N-K)``).

When every fixed effect is nested in the clusters (or there is none), dropping a
cluster leaves the other rows' within-transformation unchanged and

.. math::  b_{-g} = (\tilde X'W\tilde X - \tilde X_g'W_g\tilde X_g)^{-1}
           (\tilde X'W\tilde y - \tilde X_g'W_g\tilde y_g)

in closed form. Otherwise the fixed effects are re-projected on every leave-out
sample (one demeaning per cluster): the estimate that refitting would give.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import EstimationError
from ..hdfe import make_demeaner
from ..hdfe.factors import is_nested, recode


@dataclass(frozen=True)
class LinearDesign:
    """What HC2/HC3 and CRV3 need from a least-squares fit.

    ``xt``: (K, N) regressors after the within-transformation (all regressors, the
    intercept included, in a model without fixed effects); ``resid``: residuals
    ``y~ - x~'b``; ``X``/``y``: the regressors and outcome before it; ``weights``.
    """

    xt: np.ndarray
    weights: np.ndarray
    resid: np.ndarray
    beta: np.ndarray
    X: np.ndarray
    y: np.ndarray
    fe_codes: tuple[np.ndarray, ...]


def _solve(gram: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    return np.linalg.lstsq(gram, rhs, rcond=None)[0]


def jackknife_sum(design: LinearDesign, clusters: np.ndarray) -> np.ndarray:
    """``sum_g (b_{-g} - b)(b_{-g} - b)'`` (see the module docstring)."""
    d = design
    b = d.beta
    k = b.size
    g_count = int(clusters.max()) + 1
    if g_count < 2:
        raise EstimationError("CRV3 needs at least two clusters")
    out = np.zeros((k, k))
    nested = all(is_nested(c, clusters) for c in d.fe_codes)
    if nested:
        xw = d.xt * d.weights
        yt = d.beta @ d.xt + d.resid
        gram = xw @ d.xt.T
        cross = xw @ yt
        # per-cluster Gram matrices and cross products by bincount: (G, K, K), (G, K)
        gram_g = np.empty((g_count, k, k))
        for i in range(k):
            for j in range(i, k):
                gram_g[:, i, j] = gram_g[:, j, i] = np.bincount(
                    clusters, weights=xw[i] * d.xt[j], minlength=g_count)
        cross_g = np.column_stack([np.bincount(clusters, weights=xw[i] * yt,
                                               minlength=g_count) for i in range(k)])
        left, right = gram[None] - gram_g, cross[None] - cross_g
        try:
            bg = np.linalg.solve(left, right[..., None])[..., 0]
        except np.linalg.LinAlgError:
            bg = np.stack([_solve(lg, rg) for lg, rg in zip(left, right, strict=True)])
        dev = bg - b
        return dev.T @ dev
    for g in range(g_count):
        keep = clusters != g
        codes = [recode(c[keep])[0] for c in d.fe_codes]
        w = d.weights[keep]
        work = np.ascontiguousarray(np.column_stack([d.y[keep], d.X[keep]]).T)
        make_demeaner(codes).demean_inplace(work, w)
        xt, yt = work[1:], work[0]
        bg = _solve((xt * w) @ xt.T, (xt * w) @ yt)
        out += np.outer(bg - b, bg - b)
    return out
