r"""Regressors absorbed by the fixed effects or collinear with each other.

Run on the regressors after the weighted within-transformation ``X~ = M_w X`` (with
the weights of the first IRLS step, demeaned to at least ``1e-8`` relative precision,
after every change of the sample):

* a column is *absorbed* when its weighted sum of squares after demeaning is below
  ``tol`` times its sum of squares around the weighted mean before (the fixed effects,
  or the intercept, explain it); the fixed effects within which it is constant are
  named;
* remaining exact linear dependence is found by an incremental Cholesky
  decomposition of ``X~' W X~`` on columns scaled to unit norm, dropping a column
  whose residual sum of squares given the earlier kept columns is below ``tol``
  times its own, the later column going first as fixest does.

Because the columns are centred (by the fixed effects or the intercept) before the
test, a regressor's level does not matter: ``1e12 + N(0, 1)`` is not constant.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import CollinearityWarning
from ..hdfe.cross import weighted_cross
from .arrays import constant

#: relative tolerance of both tests (fixest's ``collin.tol`` is 1e-10 on a similar scale)
COLLINEARITY_TOL = 1e-9
#: the screen's tolerance: on regressors demeaned only to :data:`SCREEN_DEMEAN_TOL`, a
#: regressor whose share of variation left by the fixed effects, or by the fixed effects
#: and the other regressors (``1 - R^2``), is above this is certainly not collinear at
#: :data:`COLLINEARITY_TOL`
SCREEN_TOL = 1e-3


def _constant_within(x: np.ndarray, codes: np.ndarray) -> bool:
    g = int(codes.max()) + 1
    lo = np.full(g, np.inf)
    hi = np.full(g, -np.inf)
    np.minimum.at(lo, codes, x)
    np.maximum.at(hi, codes, x)
    scale = max(1.0, float(np.abs(x).max()))
    return bool(np.all(hi - lo <= 1e-12 * scale))


def absorbed_exactly(x: np.ndarray, fe_codes: list[np.ndarray]) -> bool:
    """Whether ``x`` is constant (to rounding) within the groups of one of the fixed
    effects: it then lies in their span exactly, not only to a tolerance."""
    return any(_constant_within(x, codes) for codes in fe_codes if codes.size)


def centred_squares_rows(R: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    """``sum_i w_i (r_ji - rbar_j)^2`` for every row ``j`` of the ``(K, N)`` ``R``
    (``rbar_j`` the weighted mean), centred before squaring (no cancellation), through
    one reused buffer of :data:`BLOCK` rows (no N-vector). The regressors before
    demeaning, as the working arrays hold them, are contiguous rows; an (N, K) array's
    columns are the rows of its ``.T``."""
    k, n = R.shape
    out = np.zeros(k)
    if n == 0:
        return out
    wsum = float(n) if w is None else float(w.sum())
    buf = np.empty(min(n, BLOCK))
    for j in range(k):
        mean = (float(R[j].sum()) if w is None else float(w @ R[j])) / wsum
        total = 0.0
        for lo in range(0, n, BLOCK):
            hi = min(n, lo + BLOCK)
            b = buf[:hi - lo]
            np.subtract(R[j, lo:hi], mean, out=b)
            np.multiply(b, b, out=b)
            total += float(b.sum()) if w is None else float(w[lo:hi] @ b)
        out[j] = total
    return out


#: rows per block of :func:`centred_squares_rows`' buffer (2 MiB)
BLOCK = 1 << 18


def find_collinear(
    names: list[str],
    X_tilde: np.ndarray,
    X_raw: np.ndarray,
    w: np.ndarray | None,
    fe_codes: list[np.ndarray],
    fe_labels: list[str],
    tol: float = COLLINEARITY_TOL,
    ss_before: np.ndarray | None = None,
) -> tuple[list[int], list[str]]:
    """Indices of regressors to drop and one message per dropped regressor.

    ``ss_before``: the weighted centred sums of squares of ``X_raw``'s columns when the
    caller has them (:func:`centred_squares_rows`). ``X_tilde`` and ``X_raw`` are (N, K) (or (K, N) transposed views are fine: columns
    are read one at a time); ``fe_labels`` names each fixed effect in ``fe_codes``
    (``"the intercept"`` for the internal one-level effect).
    """
    k = X_tilde.shape[1]
    if k == 0:
        return [], []
    ww = constant(X_tilde.shape[0], 1.0) if w is None else w
    drop: list[int] = []
    messages: list[str] = []
    gram_all = weighted_cross(np.asarray(X_tilde).T, ww)
    ss_after = np.diag(gram_all).copy()
    if fe_codes:
        before = centred_squares_rows(np.asarray(X_raw).T, w) if ss_before is None \
            else ss_before
        for j in range(k):
            ss_raw = float(before[j])
            if ss_raw == 0 or ss_after[j] <= tol * ss_raw:
                xj = X_raw[:, j]
                absorbing = [lab for lab, codes in zip(fe_labels, fe_codes, strict=True)
                             if _constant_within(xj, codes)]
                by = (" by " + ", ".join(f"'{a}'" if a != "the intercept" else a
                                         for a in absorbing)) if absorbing \
                    else " by the fixed effects jointly"
                drop.append(j)
                messages.append(f"'{names[j]}' is absorbed{by}")
    else:
        for j in range(k):
            if ss_after[j] == 0:
                drop.append(j)
                messages.append(f"'{names[j]}' is zero in every observation")
    keep = [j for j in range(k) if j not in drop]
    if keep:
        norms = np.sqrt(ss_after[keep])
        gram = gram_all[np.ix_(keep, keep)] / np.outer(norms, norms)
        chosen: list[int] = []
        for pos, j in enumerate(keep):
            cols = [keep.index(c) for c in chosen]
            resid = 1.0
            if cols:
                sub = gram[np.ix_(cols, cols)]
                b = gram[cols, pos]
                try:
                    resid = 1.0 - float(b @ np.linalg.solve(sub, b))
                except np.linalg.LinAlgError:
                    resid = 0.0
            if resid <= tol:
                drop.append(j)
                messages.append(f"'{names[j]}' is collinear with "
                                + (", ".join(f"'{names[c]}'" for c in chosen)))
            else:
                chosen.append(j)
    order = np.argsort(drop)
    return [drop[i] for i in order], [messages[i] for i in order]


def may_be_collinear(md, X_tilde: np.ndarray, w: np.ndarray | None,
                     ss_before: np.ndarray | None = None) -> bool:
    """The screen: whether some regressor of ``md`` comes within :data:`SCREEN_TOL` of
    collinearity (the tests of :func:`find_collinear` at that tolerance) on regressors
    demeaned loosely. Demeaning errors move the two shares by far less than
    :data:`SCREEN_TOL`, so ``False`` means that the exact test (regressors demeaned to
    ``1e-8``) drops nothing; ``True`` calls for it."""
    labels = ["the intercept"] if md.intercept_as_fe else [
        "^".join(t) for t in md.formula.fixed_effects]
    return bool(find_collinear(md.names, X_tilde, md.X, w, md.fe_codes, labels,
                               tol=SCREEN_TOL, ss_before=ss_before)[0])


def drop_collinear(md, X_tilde: np.ndarray, w: np.ndarray | None,
                   ss_before: np.ndarray | None = None) -> list[str]:
    """Find and drop collinear regressors of a :class:`ModelData` (columns of ``X_tilde``
    are dropped by the caller), warning with a :class:`CollinearityWarning` naming them.
    Returns the names dropped."""
    labels = ["the intercept"] if md.intercept_as_fe else [
        "^".join(t) for t in md.formula.fixed_effects]
    drop, messages = find_collinear(md.names, X_tilde, md.X, w, md.fe_codes, labels,
                                    ss_before=ss_before)
    if not drop:
        return []
    names = [md.names[j] for j in drop]
    warnings.warn("dropped regressors: " + "; ".join(messages), CollinearityWarning,
                  stacklevel=5)
    md.drop_columns(drop)
    return names
