r"""Iteratively re-weighted least squares with high-dimensional fixed effects.

One engine for every GLM of the package (Poisson/PPML, logit, probit, cloglog).
Each step solves the weighted least-squares problem of the working response
``z = eta - o + s / w`` on the regressors and the fixed effects, with working
weights ``w`` and score ``s`` supplied by the family (McCullagh and Nelder 1989;
Newton weights when the family gives the observed information). The fixed effects
are absorbed by the weighted within-transformation of
:mod:`gravity.hdfe.demean`; as in ppmlhdfe and fixest (Correia, Guimaraes and
Zylkin 2020; Stammann 2018), each demeaning is warm-started from the previous
iteration (the working response minus its last fixed-effect component, the last
demeaned regressors) and its tolerance starts loose (``1e-4``) and tightens with
the change in deviance down to ``fixef_tol``.

Convergence (both required, at the final demeaning tolerance): the relative change
of the deviance ``|D_k - D_{k-1}| / max(min(D_k, D_{k-1}), 0.1) < tol`` and of the
coefficients ``max |b_k - b_{k-1}| / (1 + |b_k|) < beta_tol``. Step-halving guards
against a deviance increase. At the solution the regressors are demeaned once more
with the family's variance weights, for the variance estimator.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..errors import ConvergenceError, ConvergenceWarning, EstimationError
from .design import ModelData, detect_collinearity

#: the demeaning tolerance of the next IRLS step: this factor times the last relative
#: change in deviance (floored at ``fixef_tol``)
INNER_TOL_FACTOR = 1e-2


class Family(Protocol):
    """What IRLS needs from a GLM family (bound to one outcome and prior weights)."""

    label: str

    def initial_eta(self) -> np.ndarray: ...

    def working(self, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Working weights ``w`` (without prior weights) and score ``s``: z = eta - o + s/w."""

    def deviance(self, eta: np.ndarray) -> float: ...

    def variance_weights(self, eta: np.ndarray) -> np.ndarray:
        """Weights (without prior weights) of the information matrix at the solution."""

    def clip(self, eta: np.ndarray) -> np.ndarray: ...


@dataclass
class IRLSResult:
    beta: np.ndarray
    eta: np.ndarray
    xt: np.ndarray  # (K, N) regressors demeaned with the final variance weights
    weights: np.ndarray  # prior x variance weights at the solution
    iterations: int
    converged: bool
    dropped_names: list[str]


def irls(
    md: ModelData,
    family: Family,
    *,
    tol: float,
    maxiter: int,
    fixef_tol: float,
    fixef_maxiter: int,
    on_nonconvergence: str = "warn",
    beta_tol: float | None = None,
    extra_offset: np.ndarray | None = None,
    estimate_slopes: bool = True,
) -> IRLSResult:
    """Fit ``family`` on the estimation sample ``md`` (see the module docstring).

    ``extra_offset`` is added to the offset; with ``estimate_slopes=False`` only the
    fixed effects are estimated (slopes held in ``extra_offset``).
    """
    beta_tol = 10 * tol if beta_tol is None else beta_tol
    n = md.nobs
    pw = np.ones(n) if md.weights is None else md.weights
    off = np.zeros(n) if md.offset is None else md.offset
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
    inner_tol = max(fixef_tol, 1e-4) if fe is not None else fixef_tol
    dropped: list[str] = []
    converged = False
    demean_ok = True
    eps_dev = np.inf
    it = 0
    for it in range(1, maxiter + 1):
        wn, score = family.working(eta)
        w = pw * wn
        z = eta - off + score / wn
        if fe is not None:
            np.subtract(z, fe_z, out=work[0])
            info = fe.demean_inplace(work, w, tol=inner_tol, maxiter=fixef_maxiter)
            demean_ok = bool(info.converged.all())
        else:
            work[0] = z
        if it == 1 and X.shape[1]:
            drop = detect_collinearity(md, work[1:].T, X, w)
            if drop:
                dropped = [md.names[j] for j in drop]
                keep = [j for j in range(X.shape[1]) if j not in drop]
                work = np.ascontiguousarray(work[[0] + [1 + j for j in keep]])
                md.drop_columns(drop)
                X = md.X
                beta = beta[keep]
        zt, xt = work[0], work[1:]
        if fe is not None:
            np.subtract(z, zt, out=fe_z)
        if xt.shape[0]:
            xw = xt * w
            beta_new = np.linalg.solve(xw @ xt.T, xw @ zt)
            eta_new = z - zt + beta_new @ xt + off
        elif fe is not None:  # fixed effects only
            beta_new = beta
            eta_new = z - zt + off
        else:
            raise EstimationError("nothing to estimate: no regressors and no fixed effects")
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
        eta, dev, beta = eta_new, dev_new, beta_new
        if eps_dev < tol and eps_beta < beta_tol and inner_tol <= fixef_tol:
            converged = True
            break
        if fe is not None:
            inner_tol = max(fixef_tol, min(inner_tol, INNER_TOL_FACTOR * eps_dev))
    if not converged:
        msg = (f"{family.label} did not converge in {it} iterations: last relative change "
               f"in deviance {eps_dev:.3g} (tol {tol:g}); deviance {dev:.10g}")
        if on_nonconvergence == "raise":
            raise ConvergenceError(msg)
        warnings.warn(msg, ConvergenceWarning, stacklevel=4)
    if not demean_ok:
        warnings.warn(f"fixed-effect demeaning did not reach tol {fixef_tol:g} in "
                      f"{fixef_maxiter} iterations", ConvergenceWarning, stacklevel=4)
    # variance at the solution: re-demean X with the final weights (warm start)
    w = pw * family.variance_weights(eta)
    xt = np.ascontiguousarray(work[1:])
    if fe is not None and xt.shape[0]:
        fe.demean_inplace(xt, w, tol=fixef_tol, maxiter=fixef_maxiter)
    return IRLSResult(beta, eta, xt, w, it, converged, dropped)
