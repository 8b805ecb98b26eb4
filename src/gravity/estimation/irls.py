r"""Iteratively re-weighted least squares with high-dimensional fixed effects.

One engine for every GLM of the package (:mod:`gravity.estimation.families`). Each
step solves the weighted least-squares problem of the working response
``z = eta - o + s / w`` on the regressors and the fixed effects, with working
weights ``w`` and score ``s`` supplied by the family (McCullagh and Nelder 1989;
Newton weights when the family gives the observed information). The fixed effects
are absorbed by the weighted within-transformation of :mod:`gravity.hdfe`; as in
ppmlhdfe and fixest (Correia, Guimaraes and Zylkin 2020; Stammann 2018), each
demeaning is warm-started from the previous iteration (the working response minus
its last fixed-effect component, the last demeaned regressors) and its tolerance
starts loose (``1e-4``) and tightens with the change in deviance (``1e-3`` times
the last relative change) down to the configured tolerance. In the first step the regressors are demeaned to full
precision, and regressors absorbed by the fixed effects or collinear under the
first IRLS weights are dropped (:mod:`gravity.estimation.collinearity`).

Convergence (both required, at the final demeaning tolerance): the relative change
of the deviance ``|D_k - D_{k-1}| / max(min(D_k, D_{k-1}), 0.1) < tol`` and of the
coefficients ``max |b_k - b_{k-1}| / (1 + |b_k|) < beta_tol``. Step-halving guards
against a deviance increase. At the solution the regressors are demeaned once more
with the family's variance weights, for the variance estimator. Each weighted
least-squares system is solved on columns scaled to unit norm (equilibration), so
that the regressors' units do not limit the precision.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np

from ..errors import ConvergenceError, ConvergenceWarning, EstimationError
from ..hdfe import DemeanInfo
from ..hdfe.cross import weighted_cross
from .arrays import constant
from .collinearity import (
    absorbed_exactly,
    centred_squares_rows,
    drop_collinear,
    may_be_collinear,
)
from .design import ModelData
from .families import BoundFamily
from .separation import max_abs_rows, no_separation_margin

#: the demeaning tolerance of the next IRLS step: this factor times the last relative
#: change in deviance (floored at the configured tolerance). Measured with the
#: coefficient-space engine: 1e-2 needs the same IRLS steps as 1e-3 and 11-16% fewer
#: passes over the data (benchmark panel 300x55; Yotov et al. chapter 1 PPMLs)
INNER_TOL_FACTOR = 1e-2
#: loosest demeaning tolerance (the second IRLS step; the first demeans the working
#: response with the regressors, at the screen's tolerance)
INNER_TOL_START = 1e-3
#: the regressors are demeaned at least this precisely for the collinearity check
COLLINEARITY_DEMEAN_TOL = 1e-8
#: the first IRLS step demeans the working response and the regressors to this
#: tolerance; the collinearity screen (:func:`.collinearity.may_be_collinear`) then
#: decides whether the regressors need :data:`COLLINEARITY_DEMEAN_TOL` before the exact
#: check. Without a near-collinear regressor this saves about 8 of the first step's
#: 21 passes on the benchmark panels (the final variance re-demeans the regressors at
#: the configured tolerance in any case)
SCREEN_DEMEAN_TOL = 1e-5


#: a fit probed for the no-separation certificate (``certify``) is abandoned when its
#: deviance has settled (relative change below this) ...
PROBE_DEVIANCE_SETTLED = 1e-6
#: ... while a coefficient still moves by more than this (and ten times the
#: coefficient tolerance) in a step: the slopes drift along a separating direction. (A
#: row with ``y = 0`` whose linear predictor falls by 1 per step is no such sign: rows
#: whose group has only tiny positive flows do the same on their way to a finite MLE.)
PROBE_BETA_DRIFT = 1e-4
#: the certificate holds when its margin exceeds this: a separating direction whose
#: coefficients reach three times its largest value would still be ruled out
CERTIFICATE_MARGIN = 3.0
#: a certificate margin below that but above this is worth re-demeaning the residual
#: tighter (at most twice, to no less than :data:`CERTIFICATE_POLISH_TOL`); below it,
#: rows with tiny fitted values are unresolved and the full separation checks decide
CERTIFICATE_POLISH_MIN = 1e-3
CERTIFICATE_POLISH_TOL = 1e-13

_log = logging.getLogger("gravity.irls")  # verbose=True (estimation.notice)


@dataclass(frozen=True)
class IRLSSettings:
    """Outer-loop settings: deviance tolerance, coefficient tolerance, iteration cap,
    and what to do on non-convergence (``"warn"`` or ``"raise"``)."""

    tol: float = 1e-8
    maxiter: int = 100
    beta_tol: float | None = None
    on_nonconvergence: str = "warn"

    def __post_init__(self) -> None:
        check_tolerance("tol", self.tol)
        if self.beta_tol is not None:
            check_tolerance("beta_tol", self.beta_tol)
        if isinstance(self.maxiter, bool) or not isinstance(self.maxiter, int) \
                or self.maxiter < 1:
            raise ValueError(f"maxiter must be a positive integer, got {self.maxiter!r}")
        if self.on_nonconvergence not in ("warn", "raise"):
            raise ValueError("on_nonconvergence must be 'warn' or 'raise', got "
                             f"{self.on_nonconvergence!r}")


def check_tolerance(name: str, value: object) -> None:
    """A tolerance must be a finite number in (0, 1)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not np.isfinite(value) or not 0 < value < 1:
        raise ValueError(f"{name} must be a number in (0, 1), got {value!r}")


@dataclass
class IRLSResult:
    beta: np.ndarray
    eta: np.ndarray
    xt: np.ndarray  # (K, N) regressors demeaned with the final variance weights
    weights: np.ndarray  # prior x variance weights at the solution
    iterations: int
    converged: bool
    dropped_names: list[str]
    #: with ``certify``: the last step proves that nothing is separated
    #: (:func:`.separation.no_separation_margin`)
    certified: bool = False
    #: with ``certify``: the fit was abandoned (its coefficients drift along what may
    #: be a separating direction, or its deviance is not finite)
    aborted: bool = False


def solve_normal(xt: np.ndarray, w: np.ndarray, zt: np.ndarray) -> np.ndarray:
    """``(X~' W X~)^{-1} X~' W z~`` for (K, N) ``xt``, on unit-norm columns."""
    gram = weighted_cross(xt, w)
    xwz = weighted_cross(xt, w, zt[None, :])[:, 0]
    scale = np.sqrt(np.maximum(np.diag(gram), 1e-300))
    try:
        chol = np.linalg.cholesky(gram / np.outer(scale, scale))  # fails unless positive
        sol = np.linalg.solve(chol.T, np.linalg.solve(chol, xwz / scale))
    except (np.linalg.LinAlgError, ValueError) as exc:
        raise EstimationError(
            "the weighted regressors are numerically collinear at this step "
            f"({exc}); drop near-duplicate regressors or rescale them") from None
    return sol / scale


def inverse_gram(xt: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``(X~' W X~)^{-1}`` for (K, N) ``xt``, computed on unit-norm columns."""
    if xt.shape[0] == 0:
        return np.zeros((0, 0))
    gram = weighted_cross(xt, w)
    scale = np.sqrt(np.maximum(np.diag(gram), 1e-300))
    try:
        inv = np.linalg.inv(gram / np.outer(scale, scale))
    except (np.linalg.LinAlgError, ValueError) as exc:
        raise EstimationError(f"the information matrix is singular ({exc})") from None
    return inv / np.outer(scale, scale)


def demean_or_fail(md: ModelData, work: np.ndarray, w: np.ndarray, tol: float,
                   settings: IRLSSettings, final: bool) -> DemeanInfo | None:
    """Demean the rows of ``work`` in place; with ``final``, warn on non-convergence
    (or raise with ``on_nonconvergence="raise"``)."""
    fe = md.fixed_effects
    if fe is None or work.shape[0] == 0:
        return None
    info = fe.demean_inplace(work, w, tol=tol, maxiter=md.demean_config.maxiter)
    if final and not bool(info.converged.all()):
        report_demeaning(md, settings)
    return info


def report_demeaning(md: ModelData, settings: IRLSSettings) -> None:
    """The demeaning did not reach its tolerance: warn, or raise with
    ``on_nonconvergence="raise"``."""
    msg = (f"fixed-effect demeaning did not reach tol {md.demean_config.tol:g} in "
           f"{md.demean_config.maxiter} iterations (demeaning did not converge)")
    if settings.on_nonconvergence == "raise":
        raise ConvergenceError(msg)
    warnings.warn(msg, ConvergenceWarning, stacklevel=5)


def irls(
    md: ModelData,
    family: BoundFamily,
    settings: IRLSSettings,
    *,
    extra_offset: np.ndarray | float | None = None,
    estimate_slopes: bool = True,
    certify: bool = False,
) -> IRLSResult:
    """Fit ``family`` on the estimation sample ``md`` (see the module docstring).

    ``extra_offset`` is added to the offset; with ``estimate_slopes=False`` only the
    fixed effects are estimated (slopes held in ``extra_offset``). With ``certify``
    (Poisson, before the separation checks) the result says whether the last step
    certifies that no observation is separated; the fit is abandoned, with no warning,
    when its deviance is not finite or has settled while the coefficients still drift
    (:data:`PROBE_BETA_DRIFT`: moving along a separating direction), and the caller
    then runs the checks and fits again.
    """
    tol, maxiter = settings.tol, settings.maxiter
    beta_tol = 10 * tol if settings.beta_tol is None else settings.beta_tol
    fixef_tol = md.demean_config.tol
    n = md.nobs
    pw = constant(n, 1.0) if md.weights is None else md.weights
    # the offset (a scalar when constant: no N-vector arithmetic for it)
    off: np.ndarray | float = 0.0 if md.offset is None else md.offset
    if extra_offset is not None:
        off = off + extra_offset
    X = md.X if estimate_slopes else np.empty((n, 0))
    fe = md.fixed_effects
    eta = family.initial_eta()
    dev = family.deviance(eta)
    beta = np.zeros(X.shape[1])
    # working array (1 + K, N): row 0 the working response, rows 1.. the regressors,
    # both kept demeaned between iterations (warm start)
    work = np.empty((1 + X.shape[1], n))
    work[1:] = X.T
    fe_z = np.zeros(n)  # fixed-effect part of the last working response
    inner_tol = max(fixef_tol, INNER_TOL_START) if fe is not None else fixef_tol
    dropped: list[str] = []
    demean_ok = True
    converged = False
    eps_dev = np.inf
    screen = True  # the collinearity screen's answer (first step)
    zero = md.y == 0 if certify else None
    # the regressors before any is dropped (the certificate)
    given = X, list(md.names) if X.shape[1] else []
    # (max |x_k| from the contiguous rows, for the certificate)
    x_scale = max_abs_rows(work[1:]) if certify else None
    ss_raw: np.ndarray | None = None
    it = 0
    for it in range(1, maxiter + 1):
        wn, score = family.working(eta)
        w = wn if md.weights is None else pw * wn
        z = score / wn
        z += eta
        if not (np.isscalar(off) and off == 0.0):
            z -= off
        if it == 1 and X.shape[1] and fe is not None:
            # the regressors' centred sums of squares, from their contiguous rows
            # before they are demeaned (the collinearity tests' denominators)
            ss_raw = centred_squares_rows(work[1:], w)
        if fe is not None:
            step_tol = max(min(fixef_tol, COLLINEARITY_DEMEAN_TOL), min(
                SCREEN_DEMEAN_TOL, inner_tol)) if it == 1 else inner_tol
            np.subtract(z, fe_z, out=work[0])
            # the first time z and the regressors to the screen's tolerance (the engine
            # demeans columns together), the regressors to full precision only when
            # the collinearity screen asks for it
            info = fe.demean_inplace(work, w, tol=step_tol, maxiter=md.demean_config.maxiter)
            demean_ok = bool(info.converged[:1].all() if it == 1 else info.converged.all())
            if it == 1 and X.shape[1]:
                screen = may_be_collinear(md, work[1:].T, w, ss_raw)
                if screen:
                    fe.demean_inplace(work[1:], w,
                                      tol=min(fixef_tol, COLLINEARITY_DEMEAN_TOL),
                                      maxiter=md.demean_config.maxiter)
        else:
            work[0] = z
        if it == 1 and X.shape[1] and (fe is None or screen):
            # (without a fixed effect the regressors are not demeaned: exact at once;
            # with them, a negative screen means the exact check drops nothing)
            before = list(md.names)
            names = drop_collinear(md, work[1:].T, w, ss_raw)
            if names:
                dropped = names
                keep = [j for j, nm in enumerate(before) if nm not in names]
                work = np.ascontiguousarray(work[[0] + [1 + j for j in keep]])
                X = md.X
                beta = beta[keep]
        zt, xt = work[0], work[1:]
        if fe is not None:
            np.subtract(z, zt, out=fe_z)
        if xt.shape[0]:
            beta_new = solve_normal(xt, w, zt)
        elif fe is not None:  # fixed effects only
            beta_new = beta
        else:
            raise EstimationError("nothing to estimate: no regressors and no fixed effects")
        if len(md.fe_codes) == 1 and not md.slope_codes:
            # one fixed effect (and no varying slope): its part from group sums of w z = w (eta - o) + s, which
            # stay moderate where s / w is huge (tiny weights): no cancellation
            xb = X @ beta_new if X.shape[1] else 0.0
            codes = md.fe_codes[0]
            g = int(codes.max()) + 1
            num = np.bincount(codes, weights=w * (eta - off - xb) + pw * score, minlength=g)
            eta_new = (num / np.bincount(codes, weights=w, minlength=g))[codes] + xb + off
        else:
            eta_new = z - zt
            eta_new += off
            if xt.shape[0]:
                eta_new += beta_new @ xt
        eta_new = family.clip(eta_new)
        dev_new = family.deviance(eta_new)
        halvings = 0
        while it > 1 and (not np.isfinite(dev_new) or dev_new > dev * (1 + 1e-10) + 1e-10) \
                and halvings < 30:
            halvings += 1
            eta_new = 0.5 * (eta_new + eta)
            beta_new = 0.5 * (beta_new + beta)
            dev_new = family.deviance(eta_new)
        eps_dev = abs(dev_new - dev) / max(min(dev_new, dev), 0.1)
        eps_beta = float(np.max(np.abs(beta_new - beta) / (1.0 + np.abs(beta_new)))) \
            if beta.size else 0.0
        if certify and (not np.isfinite(dev_new) or (
                eps_dev < PROBE_DEVIANCE_SETTLED and
                eps_beta > max(PROBE_BETA_DRIFT, 10 * beta_tol))):
            return IRLSResult(beta_new, eta_new, work[1:], w, it, False, dropped,
                              aborted=True)
        eta, dev, beta = eta_new, dev_new, beta_new
        if _log.isEnabledFor(logging.INFO):
            _log.info("IRLS iteration %d: deviance %.10g, relative change %.3g, max "
                      "coefficient change %.3g, step halvings %d", it, dev, eps_dev,
                      eps_beta, halvings)
        if eps_dev < tol and eps_beta < beta_tol and inner_tol <= fixef_tol:
            converged = True
            break
        if fe is not None:
            inner_tol = max(fixef_tol, min(inner_tol, INNER_TOL_FACTOR * eps_dev))
    certified = False
    if zero is not None and converged and demean_ok and not md.slope_codes and all(
            absorbed_exactly(given[0][:, given[1].index(name)], md.fe_codes)
            for name in dropped):
        # (work's first row and fe_z are not needed again: the certificate's buffers)
        certified = _certify(md, given[0], x_scale, work, beta, w, zero, fixef_tol, fe_z)
    if not converged:
        msg = (f"{family.label.upper()} did not converge in {it} iterations: last relative "
               f"change in deviance {eps_dev:.3g} (tol {tol:g}); deviance {dev:.10g}")
        if settings.on_nonconvergence == "raise":
            raise ConvergenceError(msg)
        warnings.warn(msg, ConvergenceWarning, stacklevel=4)
    # variance at the solution: re-demean X with the final weights (warm start)
    w = family.variance_weights(eta) if md.weights is None \
        else pw * family.variance_weights(eta)
    xt = np.ascontiguousarray(work[1:])
    final_info = demean_or_fail(md, xt, w, fixef_tol, settings, final=False)
    if not demean_ok or (final_info is not None and not bool(final_info.converged.all())):
        report_demeaning(md, settings)
    return IRLSResult(beta, eta, xt, w, it, converged, dropped, certified=certified)


def _certify(md: ModelData, X: np.ndarray, x_scale: np.ndarray | None, work: np.ndarray,
             beta: np.ndarray, w: np.ndarray, zero: np.ndarray, fixef_tol: float,
             scratch: np.ndarray) -> bool:
    """Whether the last step's residual certifies that nothing is separated
    (:func:`.separation.no_separation_margin` above :data:`CERTIFICATE_MARGIN`; ``X``
    all the regressors given). The caller asks only when every regressor dropped in
    the fit is constant within a fixed effect: a regressor dropped as nearly collinear
    can carry a separating direction with huge coefficients (``(x2 - x1) / delta``),
    which no margin rules out. When the margin falls short only by the demeaning's
    inexactness, the residual is demeaned once more, about three times tighter than
    the shortfall (warm: a few passes), and tested again; once more, ten times
    tighter, if it still falls short. The residual is formed in ``work``'s first row
    and ``t`` in ``scratch`` (no fresh N-vectors: at millions of rows their first touch
    costs more than the arithmetic)."""
    fe = md.fixed_effects
    block = work[:1]  # r = z~ - X~ b, in place
    if work.shape[0] > 1:
        np.matmul(beta, work[1:], out=scratch)
        np.subtract(block[0], scratch, out=block[0])
    margin = no_separation_margin(block[0], w, zero, X, fe, x_scale, out=scratch)
    tol = fixef_tol
    for factor in (0.3, 0.1):
        if fe is None or not CERTIFICATE_POLISH_MIN < margin <= CERTIFICATE_MARGIN:
            break
        # the orthogonality error falls about with the tolerance (a little faster)
        tol = max(factor * margin / CERTIFICATE_MARGIN * tol, CERTIFICATE_POLISH_TOL)
        fe.demean_inplace(block, w, tol=tol, maxiter=md.demean_config.maxiter)
        margin = no_separation_margin(block[0], w, zero, X, fe, x_scale, out=scratch)
    return margin > CERTIFICATE_MARGIN
