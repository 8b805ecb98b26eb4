r"""Hat values (leverages) of least squares with fixed effects, for HC2 and HC3.

The hat matrix of ``y = X b + D a + u`` (weights ``W``) is the W-projection on
``[X, D]``. By the Frisch-Waugh-Lovell theorem it splits into the projection on the
fixed effects and the projection on the demeaned regressors ``X~ = M_D X``:

.. math::  h_i = h^D_i + w_i \tilde x_i' (\tilde X' W \tilde X)^{-1} \tilde x_i .

These are the hat values of the full model with the fixed effects as dummies (as
fixest's exact ``vcov_hetero(type = "HC2")``), computed without the dummies:

* one fixed effect: ``h^D_i = w_i / W_{g(i)}`` (the group's weight);
* several: the fixed effect with most levels, ``D_1``, is projected out in closed
  form and the others, ``R = [D_2, ...]``, enter through ``R~ = M_1 R``:
  ``h^D_i = w_i / W_{1,g(i)} + w_i r~_i' (R~' W R~)^+ r~_i``. ``R~' W R~`` has the
  size of the other fixed effects' levels (a Laplacian-like matrix, pseudo-inverted
  by its eigen-decomposition: it is singular when the design is not connected) and
  ``r~_i = e_{k(i)} - C_{g(i)}`` with ``C = diag(1/W_1) D_1' W R``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..errors import EstimationError

#: the largest number of levels of the fixed effects after the first (dense algebra)
MAX_OTHER_LEVELS = 6000


def fixed_effect_leverage(codes: list[np.ndarray], w: np.ndarray) -> np.ndarray:
    """``h^D``: the diagonal of the W-projection on the fixed-effect dummies."""
    n = w.size
    if not codes:
        return np.zeros(n)
    sizes = [int(c.max()) + 1 for c in codes]
    first = int(np.argmax(sizes))
    c1 = codes[first]
    w1 = np.bincount(c1, weights=w, minlength=sizes[first])
    h = w / w1[c1]
    others = [c for q, c in enumerate(codes) if q != first]
    if not others:
        return h
    offsets = np.cumsum([0] + [int(c.max()) + 1 for c in others])
    g_r = int(offsets[-1])
    if g_r > MAX_OTHER_LEVELS:
        raise EstimationError(
            f"HC2/HC3 with these fixed effects need a dense {g_r} x {g_r} matrix (more "
            f"than {MAX_OTHER_LEVELS} levels besides the largest fixed effect): use "
            "'hetero' or a clustered variance")
    rows = np.concatenate([np.arange(n)] * len(others))
    cols = np.concatenate([c + off for c, off in zip(others, offsets[:-1], strict=True)])
    R = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, g_r))
    D1 = sp.csr_matrix((np.ones(n), (np.arange(n), c1)), shape=(n, sizes[first]))
    A = (D1.T @ sp.diags(w) @ R).tocsr()  # G1 x G_R
    C = sp.diags(1.0 / w1) @ A
    S = (R.T @ sp.diags(w) @ R).toarray() - (A.T @ C).toarray()
    vals, vecs = np.linalg.eigh((S + S.T) / 2)
    keep = vals > vals.max(initial=0.0) * 1e-10
    S_pinv = (vecs[:, keep] / vals[keep]) @ vecs[:, keep].T
    CS = np.asarray(C @ S_pinv)  # G1 x G_R
    cc = np.asarray(C.multiply(CS).sum(axis=1)).ravel()  # C_g' S+ C_g
    ks = [c + off for c, off in zip(others, offsets[:-1], strict=True)]
    quad = np.zeros(n)
    for a in ks:
        for b in ks:
            quad += S_pinv[a, b]
        quad -= 2.0 * CS[c1, a]
    quad += cc[c1]
    return h + w * quad


def leverage(xt: np.ndarray, bread: np.ndarray, w: np.ndarray,
             fe_codes: list[np.ndarray]) -> np.ndarray:
    """Hat values ``h_i`` of the full model (see the module docstring); ``xt`` is
    ``(K, N)``: the demeaned regressors (or all regressors without fixed effects)."""
    hx = w * np.sum((bread @ xt) * xt, axis=0) if xt.shape[0] else np.zeros(w.size)
    return hx + fixed_effect_leverage(fe_codes, w)
