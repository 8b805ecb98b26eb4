r"""Detection of separated observations in Poisson models.

An observation with ``y_i = 0`` is *separated* when some direction of the linear
predictor, ``z = X gamma + D alpha``, satisfies ``z_i = 0`` wherever ``y > 0`` and
``z_i >= 0`` wherever ``y = 0``, strictly positive at ``i``: moving along ``-z`` raises
the likelihood forever, the MLE of ``mu_i`` is zero and some coefficients diverge
(Santos Silva and Tenreyro 2010; Correia, Guimaraes and Zylkin 2019,
"Verifying the existence of maximum likelihood estimates for generalized linear
models", arXiv:1903.01633). Dropping the separated observations leaves the
estimates of the identified coefficients unchanged and makes the MLE exist.

Three methods, as in ppmlhdfe:

* ``"fe"``: fixed-effect groups whose outcome is zero everywhere (the direction is
  the group's indicator), iterated with singleton removal -- see
  :func:`gravity.estimation.design.prune_fixed_effects`;
* ``"simplex"``: the linear programme ``max sum_{y=0} z_i`` subject to
  ``z = A gamma``, ``z_i = 0`` for ``y > 0`` and ``0 <= z_i <= 1`` for ``y = 0``, solved by
  HiGHS (scipy) in the null space of the ``y > 0`` rows (no LP at all when that
  is empty). ``A`` holds the regressors and, when there are few enough
  (``max_dummy_columns``), the fixed-effect indicators; with large fixed
  effects only the regressors enter (a valid but partial check, as ppmlhdfe's);
  repeated until no new observation is found;
* ``"relu"``: the iterative rectifier of Correia, Guimaraes and Zylkin (2019,
  section 4): starting from ``u = 1{y = 0}``, regress ``u`` on the regressors and
  the fixed effects by weighted least squares with weight ``M`` (large) on
  ``y > 0`` and 1 on ``y = 0``, set ``u_i = max(zhat_i, 0)`` on ``y = 0`` and 0 elsewhere,
  and repeat until ``zhat >= -tol`` on ``y = 0``; observations with ``zhat_i > tol``
  are separated. It scales to any number of fixed effects (each step is one
  within-transformation, warm-started from the last). Each step also tries a
  certificate that nothing is separated (a vector orthogonal to ``[X, D]`` and
  positive on every ``y = 0`` row, :func:`_certifies_no_separation`): on panels
  without separation the check stops after its first step.

A Poisson fit with the default checks does not start with them: its last IRLS step
usually gives the same kind of certificate for free (:func:`no_separation_margin`),
and the checks above run only when it does not (:mod:`gravity.estimation.feglm`).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..errors import ConvergenceWarning
from ..hdfe import Demeaner
from ..hdfe.cross import weighted_cross
from .collinearity import centred_squares_rows
from .design import ModelData, prune_fixed_effects

#: separation methods of :func:`gravity.ppml` (and the binary models)
METHODS = ("fe", "simplex", "relu")
#: a row is separated when its share of the separating direction exceeds this
SIMPLEX_TOL = 1e-7
RELU_TOL = 1e-5
#: fixed-effect indicators enter the linear programme up to this many columns
MAX_DUMMY_COLUMNS = 2_000


def separation_methods(separation: object) -> frozenset[str]:
    """Validate ``separation=``: ``None``, a method name or a collection of them."""
    if separation is None:
        return frozenset()
    if isinstance(separation, str):
        separation = (separation,)
    try:
        methods = frozenset(separation)  # type: ignore[call-overload]
    except TypeError:
        raise ValueError(f"separation must be None, a method name or a tuple of them, "
                         f"got {separation!r}") from None
    unknown = methods - set(METHODS)
    if unknown:
        raise ValueError(f"unknown separation method(s) {sorted(map(str, unknown))}; "
                         "use 'fe', 'simplex', 'relu'")
    return methods


def _design(X: np.ndarray, fe_codes: list[np.ndarray] | None,
            max_dummy_columns: int) -> sp.csr_matrix | None:
    n = X.shape[0]
    cols = [sp.csr_matrix(X)] if X.shape[1] else []
    n_fe_cols = sum(int(c.max()) + 1 for c in (fe_codes or []))
    if fe_codes and n_fe_cols <= max_dummy_columns:
        for c in fe_codes:
            cols.append(sp.csr_matrix((np.ones(n), (np.arange(n), c)),
                                      shape=(n, int(c.max()) + 1)))
    return sp.hstack(cols).tocsr() if cols else None


def _null_space(A: sp.csr_matrix, rtol: float = 1e-10) -> np.ndarray:
    """Basis (columns) of the null space of sparse ``A``, from the eigenvectors of its
    column-scaled Gram matrix with eigenvalues below ``rtol`` times the largest."""
    if A.shape[1] == 0:
        return np.empty((0, 0))
    norms = np.sqrt(np.asarray(A.multiply(A).sum(axis=0)).ravel())
    scale = np.where(norms > 0, norms, 1.0)
    gram = (A.T @ A).toarray() / np.outer(scale, scale)
    vals, vecs = np.linalg.eigh(gram)
    basis = vecs[:, vals <= rtol * max(vals.max(), 1.0)]
    return basis / scale[:, None]


def _separating_rows(B: Any, rows: np.ndarray, tol: float) -> np.ndarray:
    """The rows (of ``rows``) where ``s = B delta`` is positive at the solution of the
    linear programme ``max sum_i s_i`` subject to ``0 <= s_i <= 1`` (HiGHS; ``B``
    dense or sparse); empty when the programme has no positive solution."""
    from scipy.optimize import linprog  # 38 MiB: loaded only when a candidate is left

    stack = sp.vstack if sp.issparse(B) else np.vstack
    res = linprog(-np.asarray(B.sum(axis=0)).ravel(), A_ub=stack([-B, B]),
                  b_ub=np.concatenate([np.zeros(rows.size), np.ones(rows.size)]),
                  bounds=(None, None), method="highs")
    if res.status != 0 or res.x is None:
        return rows[:0]
    return rows[np.asarray(B @ res.x).ravel() > tol]


def simplex_separation(
    X: np.ndarray,
    y: np.ndarray,
    fe_codes: list[np.ndarray] | None = None,
    tol: float = SIMPLEX_TOL,
    max_dummy_columns: int = MAX_DUMMY_COLUMNS,
) -> np.ndarray:
    """Boolean mask of separated observations found by linear programming.

    A separating direction ``z = A gamma`` must vanish on the ``y > 0`` rows, so
    ``gamma`` lies in the null space ``N`` of ``A_pos``; when that space is empty
    (the usual case: ``A_pos`` has full column rank) nothing is separated and no LP
    is solved. Otherwise the LP is solved in the reduced coordinates ``delta``
    (``gamma = N delta``): ``max sum_{y=0} z_i`` with ``0 <= z_i <= 1``, ``z = A_0 N delta``.
    Fixed-effect indicators enter ``A`` when they have at most ``max_dummy_columns``
    columns in total.
    """
    n = y.size
    separated = np.zeros(n, dtype=bool)
    zero = y == 0
    if not zero.any():
        return separated
    A = _design(X, fe_codes, max_dummy_columns)
    if A is None:
        return separated
    active = np.ones(n, dtype=bool)
    for _ in range(50):
        z_rows = np.flatnonzero(active & zero)
        if z_rows.size == 0:
            break
        basis = _null_space(A[active & ~zero])
        if basis.shape[1] == 0:
            break
        B0 = np.asarray(A[z_rows] @ basis)
        B0[np.abs(B0) < 1e-12 * max(1.0, float(np.abs(B0).max()))] = 0.0
        if not np.any(B0):
            break
        new = _separating_rows(B0, z_rows, tol)
        if new.size == 0:
            break
        separated[new] = True
        active[new] = False
    return separated


def relu_separation(
    X: np.ndarray,
    y: np.ndarray,
    fe: Demeaner | None,
    tol: float = RELU_TOL,
    maxiter: int = 1000,
    fixef_tol: float = 1e-9,
    big: float | None = None,
) -> tuple[np.ndarray, int, bool]:
    """Boolean mask of separated observations by the iterative rectifier.

    Returns ``(separated, iterations, converged)``. ``big`` is the weight of the
    ``y > 0`` rows (default ``max(1e6, N^2)``).
    """
    n = y.size
    zero = y == 0
    if not zero.any():
        return np.zeros(n, dtype=bool), 0, True
    if big is None:
        big = max(1e6, float(n) ** 2)  # weight on y > 0 rows: forces zhat ~ 0 there
    w = np.where(zero, 1.0, big)
    Xc = X if X.shape[1] else np.empty((n, 0))
    u = zero.astype(float)
    ut_first = None
    x_scale: np.ndarray | None = None
    raw_ss: np.ndarray | None = None
    if fe is None:
        Xc = np.column_stack([np.ones(n), Xc]) if not _has_constant(Xc) else Xc
        xt = Xc
    else:
        # the regressors and the first u in one demeaning (same weights), in one
        # (K + 1, N) working array (no (N, K + 1) copy besides it)
        both = np.empty((Xc.shape[1] + 1, n))
        both[:-1] = Xc.T
        both[-1] = u
        # from the regressors' contiguous rows before demeaning: their centred sums of
        # squares (absorbed columns) and largest absolute values (the certificate)
        raw_ss = centred_squares_rows(both[:-1], w)
        x_scale = max_abs_rows(both[:-1])
        fe.demean_inplace(both, w, tol=fixef_tol)
        xt, ut_first = both[:-1].T, both[-1]
    keep_cols, gram = _independent_columns(xt, w, raw_ss=raw_ss if fe is not None else None)
    if len(keep_cols) < xt.shape[1]:
        xt = xt[:, keep_cols]
        gram = gram[np.ix_(keep_cols, keep_cols)]
    fe_part = np.zeros(n)  # fixed-effect part of the last u (warm start of the demeaning)
    zhat = u
    converged = False
    it = 0
    for it in range(1, maxiter + 1):  # noqa: B007 (returned)
        if fe is not None:
            ut = ut_first if it == 1 else fe.demean(u - fe_part, w, tol=fixef_tol)[0]
            fe_part = u - ut
        else:
            ut = u
        if xt.shape[1]:
            beta = np.linalg.lstsq(gram, xt.T @ (w * ut), rcond=None)[0]
            resid = ut - xt @ beta
        else:
            resid = ut
        zhat = u - resid  # weighted projection of u on the span of X and D
        top = float(u.max())
        if top <= 1e-12:  # u vanished: nothing is separated
            converged = True
            zhat = np.zeros(n)
            break
        if _certifies_no_separation(resid, zero, u, w, fixef_tol, Xc, fe, x_scale):
            converged = True
            zhat = np.zeros(n)
            break
        # fixed point: u (>= 0 on y = 0, 0 on y > 0) lies in the span, up to tol
        if float(np.max(np.abs(resid[zero]))) <= tol * top and \
                float(np.max(np.abs(zhat[~zero]), initial=0.0)) <= tol * top:
            converged = True
            break
        u = np.where(zero, np.maximum(zhat, 0.0), 0.0)
    top = max(float(zhat[zero].max()), 1e-300)
    separated = zero & (zhat > 10 * tol * top) if converged else np.zeros(n, dtype=bool)
    return separated, it, converged


def _certifies_no_separation(resid: np.ndarray, zero: np.ndarray, u: np.ndarray,
                              w: np.ndarray, fixef_tol: float, X: np.ndarray,
                              fe: Demeaner | None, x_scale: np.ndarray | None = None
                              ) -> bool:
    r"""True when ``t = W (u - zhat)`` shows that no observation is separated.

    ``t`` is orthogonal to the span of ``A = [X, D]`` (it is ``W`` times a weighted
    least-squares residual). If ``t_i > 0`` on every ``y = 0`` row, then for any
    direction ``z = A gamma`` with ``z = 0`` on ``y > 0`` and ``z >= 0`` on ``y = 0``,
    ``0 = t'z = sum_{y=0} t_i z_i`` forces ``z = 0`` (Gordan's alternative): no
    separating direction exists. Numerically, the residual must exceed
    ``10 fixef_tol ||u||_W`` on every such row, and ``t`` must be orthogonal to every
    fixed-effect indicator and regressor (scaled to unit maximum) to ``1e-4`` times
    ``sum_{y=0} t_i``: an inexact projection (extreme weights can stop the demeaning
    early) does not certify. On gravity panels without separation this holds at the
    first step.
    """
    rz = resid[zero]
    margin = 10.0 * fixef_tol * float(np.sqrt(w @ (u * u))) + 1e-12
    if float(rz.min()) <= margin:
        return False
    t = w * resid
    bound = 1e-4 * float(rz.sum())
    if X.shape[1]:
        # max |X| per column (given by the caller, from contiguous rows)
        scale = max_abs_rows(X.T) if x_scale is None else x_scale
        dots = np.abs(t @ X)
        if np.any((scale > 0) & (dots > bound * scale)):
            return False
    sums = _fixed_effect_sums(fe, t) if fe is not None else None
    return sums is None or float(np.abs(sums).max(initial=0.0)) <= bound


def no_separation_margin(resid: np.ndarray, w: np.ndarray, zero: np.ndarray, X: np.ndarray,
                         fe: Demeaner | None, x_scale: np.ndarray | None = None,
                         out: np.ndarray | None = None) -> float:
    r"""How clearly the last step of a Poisson IRLS rules out separation: the
    certificate of :func:`_certifies_no_separation`, read off the fit.

    The step solved the weighted least-squares problem of the working response
    ``z = eta + (y - mu) / mu`` on ``A = [X, D]`` with weights ``w`` (``mu`` times prior
    weights): its residual ``r`` makes ``t = -W r`` orthogonal to the columns of ``A``.
    Where ``y = 0``, ``z_i = eta_i - 1``, so near convergence (``zhat ~ eta``)
    ``r_i ~ -1`` and ``t_i = w_i |r_i| > 0``. Were ``t`` exactly orthogonal, Gordan's
    alternative would rule out any direction ``z = A gamma`` that is zero on ``y > 0``
    and non-negative and non-zero on ``y = 0`` (Correia, Guimaraes and Zylkin 2019,
    section 3): ``0 = t'z = sum_{y=0} t_i z_i > 0``.

    Numerically ``t`` is orthogonal only up to ``e = A't`` (the demeaning's and the
    solve's inexactness), so ``t'z = e'gamma``. Scale a separating direction to
    ``max z = 1`` and each regressor to unit maximum; then ``t'z >= min_{y=0} t_i``
    while ``|e'gamma| <= ||e||_1 ||gamma||_inf``. The returned margin
    ``m = min_{y=0} t_i / ||e||_1`` (0 when some ``t_i <= 0``) therefore rules out
    every separating direction with ``||gamma||_inf <= m``. With one or two fixed
    effects and no regressor in the direction that bound is no restriction (a level
    set of the fixed effects' values is again separating, with coefficients 0 and 1);
    with three or more, or with regressors, a separating direction may need larger
    coefficients, and the margin is a tolerance, as the simplex and ReLU checks' are.
    Rows with a tiny ``mu`` carry a tiny ``t_i``, which the projection does not
    resolve: the margin collapses where an observation is separated (its ``mu``
    goes to 0) and where a fitted value is merely very small; the full checks then
    decide. ``x_scale``: ``max |x_k|`` per regressor when the caller has it; ``out``: an
    N-vector to hold ``t`` (no fresh allocation, whose first touch is costly at scale).
    """
    if not zero.any():
        return np.inf
    t = np.multiply(w, resid, out=out)
    np.negative(t, out=t)
    least = float(np.min(t, where=zero, initial=np.inf))
    if not least > 0.0:
        return 0.0
    err = 0.0
    if X.shape[1]:
        scale = max_abs_rows(X.T) if x_scale is None else x_scale
        err += float((np.abs(t @ X)[scale > 0] / scale[scale > 0]).sum())
    if fe is not None:
        sums = _fixed_effect_sums(fe, t)
        if sums is None:  # (a demeaner without group sums: no certificate)
            return 0.0
        err += float(np.abs(sums).sum())
    return least / err if err > 0.0 else np.inf


def max_abs_rows(R: np.ndarray) -> np.ndarray:
    """``max_i |r_ji|`` for every row ``j`` of the ``(K, N)`` ``R`` (contiguous rows: the
    regressors as the working arrays hold them; for an (N, K) array pass its ``.T``,
    read column by column)."""
    if R.flags.c_contiguous:
        return np.maximum(R.max(axis=1, initial=0.0), -R.min(axis=1, initial=0.0))
    return np.array([max(float(r.max(initial=0.0)), -float(r.min(initial=0.0))) for r in R])


def _fixed_effect_sums(fe: Demeaner, t: np.ndarray) -> np.ndarray | None:
    """The sums of ``t`` over every group of every fixed effect, concatenated (one pass
    where the demeaner has group sums); None for a demeaner without codes."""
    group_sums = getattr(fe, "group_weights", None)
    if group_sums is not None:
        return np.asarray(group_sums(t))
    codes = getattr(fe, "codes", None)
    if codes is None:
        return None
    return np.concatenate([np.bincount(c, weights=t) for c in codes])


def _has_constant(X: np.ndarray) -> bool:
    return bool(X.shape[1]) and bool(np.any(np.all(X == X[:1], axis=0)))


def _independent_columns(xt: np.ndarray, w: np.ndarray, tol: float = 1e-9,
                         raw_ss: np.ndarray | None = None) -> tuple[list[int], np.ndarray]:
    """Columns of the demeaned ``xt`` that are linearly independent, and the weighted
    Gram matrix ``xt' W xt`` of all of them. With ``raw_ss`` (the weighted centred sums
    of squares of the columns before demeaning), a column whose weighted sum of squares
    fell below ``tol`` times it is absorbed by the fixed effects: what is left is
    rounding noise, which the scale-free test below would otherwise keep."""
    chosen: list[int] = []
    # the weighted Gram matrix once (one pass over the rows); each candidate set is a
    # sub-matrix of it
    gram = weighted_cross(xt.T, w)
    for j in range(xt.shape[1]):
        if raw_ss is not None:
            before = float(raw_ss[j])
            if before == 0.0 or float(gram[j, j]) <= tol * before:
                continue
        cand = chosen + [j]
        m = gram[np.ix_(cand, cand)]
        d = np.sqrt(np.diag(m))
        if d[-1] == 0:
            continue
        corr = m / np.outer(d, d)
        if np.linalg.eigvalsh(corr).min() > tol:
            chosen.append(j)
    return chosen, gram


def binary_separation(
    X: np.ndarray,
    y: np.ndarray,
    fe_codes: list[np.ndarray] | None = None,
    tol: float = SIMPLEX_TOL,
    max_dummy_columns: int = MAX_DUMMY_COLUMNS,
) -> np.ndarray:
    """Boolean mask of separated observations of a binary-choice model.

    The MLE of a logit, probit or cloglog does not exist when some direction
    ``z = A gamma`` satisfies ``z_i >= 0`` where ``y = 1`` and ``z_i <= 0`` where
    ``y = 0`` with ``z != 0`` somewhere (Albert and Anderson 1984; Correia, Guimaraes
    and Zylkin 2019 treat both sides of a binary outcome): moving along ``z`` drives the
    fitted probabilities of the rows with ``z_i != 0`` to 1 or 0. The linear programme
    ``max sum_i q_i z_i`` with ``0 <= q_i z_i <= 1`` (``q = 2y - 1``) finds such a
    direction; its rows with ``|z_i| > tol`` are separated, and the estimates of the
    identified coefficients equal those of a fit on the other rows. Repeated until no
    row is found. ``A`` holds the regressors and, up to ``max_dummy_columns``, the
    fixed-effect indicators (all-0 and all-1 groups are pruned before).
    """
    n = y.size
    separated = np.zeros(n, dtype=bool)
    A = _design(X, fe_codes, max_dummy_columns)
    if A is None or A.shape[1] == 0:
        return separated
    q = 2.0 * y - 1.0
    active = np.ones(n, dtype=bool)
    for _ in range(50):
        rows = np.flatnonzero(active)
        if rows.size == 0:
            break
        B = (sp.diags(q[rows]) @ A[rows]).tocsc()
        scale = np.sqrt(np.asarray(B.multiply(B).sum(axis=0)).ravel())
        keep = np.flatnonzero(scale > 0)
        if keep.size == 0:
            break
        B = (B[:, keep] @ sp.diags(1.0 / scale[keep])).tocsr()
        new = _separating_rows(B, rows, tol)
        if new.size == 0:
            break
        separated[new] = True
        active[new] = False
    return separated


def _with_intercept(md: ModelData) -> np.ndarray:
    return np.column_stack([np.ones(md.nobs), md.X]) if md.intercept_as_fe else md.X


#: demeaning tolerance of the certificate attempt (its orthogonality test rejects an
#: inexact projection; a failed attempt runs the full checks at the ReLU's tolerance)
CERTIFICATE_FIXEF_TOL = 1e-6
#: weight of the ``y > 0`` rows in the certificate attempt: any positive weights give a
#: valid certificate; moderate ones keep the rounding of ``W r`` (and so the
#: orthogonality test) small where ``N^2`` would amplify it
CERTIFICATE_WEIGHT = 1e6


def _certified(md: ModelData) -> bool:
    """True when the first step of the ReLU proves that nothing is separated (see
    :func:`_certifies_no_separation`): then neither the linear programme nor further
    rectifier steps can find anything, and both are skipped."""
    fe = md.fixed_effects if not md.intercept_as_fe else None
    X = md.X if fe is not None else _with_intercept(md)
    sep, _, ok = relu_separation(X, md.y, fe, maxiter=1, fixef_tol=CERTIFICATE_FIXEF_TOL,
                                 big=CERTIFICATE_WEIGHT)
    return ok and not sep.any()


def _lp_is_exact(md: ModelData) -> bool:
    """True when the simplex check holds every fixed-effect indicator (exact check)."""
    return sum(int(c.max()) + 1 for c in (md.user_fe_codes or []) if c.size) \
        <= MAX_DUMMY_COLUMNS


def drop_separated(md: ModelData, methods: frozenset[str], drop_singletons: bool = True,
                   binary: bool = False) -> None:
    """Apply the simplex and ReLU checks (Poisson) or the binary check to a
    :class:`ModelData`, dropping what they find (reasons ``separated_simplex``,
    ``separated_relu``) and re-pruning fixed effects until nothing changes."""
    if not binary and methods & {"simplex", "relu"} and md.nobs and _certified(md):
        return
    for _ in range(100):
        changed = False
        if binary:
            if methods & {"simplex", "relu"} and md.nobs:
                sep = binary_separation(_with_intercept(md), md.y, md.user_fe_codes)
                if sep.any():
                    md.subset(~sep, "separated_simplex")
                    changed = True
        else:
            # with every fixed-effect indicator in the linear programme the simplex
            # check is exact and the ReLU has nothing to add
            exact = _lp_is_exact(md)
            if "simplex" in methods and md.nobs:
                sep = simplex_separation(_with_intercept(md), md.y, md.user_fe_codes)
                if sep.any():
                    md.subset(~sep, "separated_simplex")
                    changed = True
            if "relu" in methods and md.nobs and not ("simplex" in methods and exact):
                fe = md.fixed_effects if not md.intercept_as_fe else None
                X = md.X if fe is not None else _with_intercept(md)
                sep, iterations, ok = relu_separation(X, md.y, fe)
                if not ok and _lp_is_exact(md):
                    # the rectifier can crawl on small, badly conditioned designs: the
                    # exact linear programme answers instead
                    sep, ok = simplex_separation(_with_intercept(md), md.y,
                                                 md.user_fe_codes), True
                if not ok:
                    warnings.warn(f"the ReLU separation check did not converge in "
                                  f"{iterations} iterations: separated observations may "
                                  "remain undetected", ConvergenceWarning, stacklevel=4)
                if sep.any():
                    md.subset(~sep, "separated_relu")
                    changed = True
        if changed and md.nobs:
            prune_fixed_effects(md, drop_singletons=drop_singletons and not md.intercept_as_fe,
                                drop_all_zero="fe" in methods, drop_all_one=binary and
                                "fe" in methods)
        else:
            break
