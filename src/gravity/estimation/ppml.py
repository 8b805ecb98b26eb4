r"""Poisson pseudo-maximum likelihood with high-dimensional fixed effects.

The estimator of Santos Silva and Tenreyro (2006) solves
``sum_i w_i x_i (y_i - mu_i) = 0`` with ``mu_i = exp(x_i'beta + sum_q alpha_q + o_i)``.
It is computed by iteratively re-weighted least squares (McCullagh and Nelder
1989): with working weights ``mu_i`` and working response
``z_i = eta_i - o_i + (y_i - mu_i)/mu_i`` each step is a weighted least-squares
problem with the fixed effects absorbed by the weighted within-transformation
(Guimaraes 2014; Correia, Guimaraes and Zylkin 2020, "Fast Poisson estimation
with high-dimensional fixed effects"). The demeaning of each step is
warm-started from the previous one and its tolerance tightened as IRLS
converges, as ppmlhdfe does.

Convergence (both required, at the final demeaning tolerance): the relative
change of the deviance ``|D_k - D_{k-1}| / max(min(D_k, D_{k-1}), 0.1) < tol`` and
of the coefficients ``max |b_k - b_{k-1}| / (1 + |b_k|) < 10 tol``. Step-halving
guards against a deviance increase. Rows that are separated (fixed-effect groups
with all-zero outcome; regressor separation by the simplex and ReLU methods,
see :mod:`gravity.separation`) are dropped first and reported.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import gammaln, xlogy

from ..errors import ConvergenceError, ConvergenceWarning, EstimationError, SeparationWarning
from ..formula import parse_formula
from ..inference.vcov import SSC, parse_vcov, resolve_ssc
from ..results import RegressionResults
from ._results import finish
from .design import detect_collinearity, prepare

_ETA_MAX = 700.0


def poisson_deviance(y: np.ndarray, mu: np.ndarray, w: np.ndarray) -> float:
    """``2 sum w [y log(y/mu) - (y - mu)]``."""
    return float(2.0 * np.sum(w * (xlogy(y, y) - xlogy(y, mu) - (y - mu))))


def poisson_loglik(y: np.ndarray, mu: np.ndarray, w: np.ndarray) -> float:
    return float(np.sum(w * (xlogy(y, mu) - mu - gammaln(y + 1.0))))


def ppml(
    formula: str,
    data: pd.DataFrame,
    vcov: Any = None,
    weights: str | np.ndarray | None = None,
    offset: str | np.ndarray | None = None,
    ssc: SSC | str | dict | None = None,
    separation: tuple[str, ...] | str | None = ("fe", "simplex", "relu"),
    missing: str = "raise",
    drop_singletons: bool = True,
    tol: float = 1e-8,
    maxiter: int = 100,
    fixef_tol: float = 1e-8,
    fixef_maxiter: int = 10_000,
    on_nonconvergence: str = "warn",
) -> RegressionResults:
    """PPML with any number of high-dimensional fixed effects.

    Parameters
    ----------
    formula : ``"trade ~ ln_dist + cntg | exp_year + imp_year + pair"``
    data : DataFrame; the outcome must be non-negative (zeros are kept)
    vcov : ``"iid"``, ``"hetero"``, ``{"CRV1": "pair"}``, ``{"CRV1": "exporter+importer"}``;
        default: clustered by the first fixed effect (fixest), ``"iid"`` without
    weights : column or array of prior (frequency) weights
    offset : column or array added to the linear predictor with coefficient one
    ssc : ``"fixest"`` (default: ``G/(G-1) (N-1)/(N-K)``) or ``"glm"``
        (``G/(G-1)`` only, as Stata ``glm``/``ppml``)
    separation : methods to detect separated observations: any of ``"fe"``
        (all-zero fixed-effect groups), ``"simplex"``, ``"relu"``; ``None`` for none
    missing : ``"raise"`` (default) or ``"drop"``
    drop_singletons : drop singleton groups (default True, as ppmlhdfe)
    tol, maxiter : IRLS tolerance (deviance) and iteration cap
    fixef_tol, fixef_maxiter : demeaning tolerance at convergence, and cap
    on_nonconvergence : ``"warn"`` (default: :class:`ConvergenceWarning`) or ``"raise"``
    """
    methods = _separation_methods(separation)
    f = parse_formula(formula)
    spec = parse_vcov(vcov, f.fixed_effects)
    rule = resolve_ssc(ssc)
    md = prepare(f, data, weights=weights, offset=offset, extra_columns=spec.columns(),
                 missing=missing, poisson="fe" in methods, drop_singletons=drop_singletons)
    if "fe" not in methods and np.any(md.y < 0):  # pragma: no cover - prepare checks
        raise EstimationError("negative outcome")
    if methods & {"simplex", "relu"}:
        from ..separation import drop_separated

        drop_separated(md, methods, drop_singletons=drop_singletons)
    if md.dropped.get("separated_fe") or md.dropped.get("separated_simplex") or \
            md.dropped.get("separated_relu"):
        n_sep = sum(v for k, v in md.dropped.items() if k.startswith("separated"))
        warnings.warn(f"{n_sep} separated observations dropped "
                      f"({', '.join(f'{k}: {v}' for k, v in md.dropped.items() if k.startswith('separated'))})",
                      SeparationWarning, stacklevel=2)
    return _irls(md, data, spec, rule, tol, maxiter, fixef_tol, fixef_maxiter,
                 on_nonconvergence)


def _separation_methods(separation) -> set[str]:
    if separation is None:
        return set()
    if isinstance(separation, str):
        separation = (separation,)
    methods = set(separation)
    unknown = methods - {"fe", "simplex", "relu"}
    if unknown:
        raise ValueError(f"unknown separation method(s) {sorted(unknown)}; "
                         "use 'fe', 'simplex', 'relu'")
    return methods


def _irls(md, data, spec, rule, tol, maxiter, fixef_tol, fixef_maxiter, on_nonconvergence):
    y, X = md.y, md.X
    n = md.nobs
    pw = np.ones(n) if md.weights is None else md.weights
    off = np.zeros(n) if md.offset is None else md.offset
    fe = md.fixed_effects
    pwy = pw * y
    sum_pwy = float(pwy.sum())
    c_ylogy = float(pw @ xlogy(y, y))

    def deviance(eta: np.ndarray, mu: np.ndarray) -> float:
        # 2 sum w [y log y - y eta - y + mu], with eta = log(mu)
        return 2.0 * (c_ylogy - float(pwy @ eta) - sum_pwy + float(pw @ mu))

    mean_y = sum_pwy / float(pw.sum())
    mu = 0.5 * (y + mean_y)  # as ppmlhdfe and pyfixest
    eta = np.log(mu)
    dev = deviance(eta, mu)
    beta = np.zeros(X.shape[1])
    # working array (1 + K, N): row 0 the working response, rows 1.. the regressors,
    # both kept demeaned between iterations (warm start)
    work = np.empty((1 + X.shape[1], n))
    work[1:] = X.T
    fe_z = np.zeros(n)  # fixed-effect part of the last working response
    inner_tol = max(fixef_tol, 1e-4) if fe is not None else fixef_tol
    dropped_names: list[str] = []
    converged = False
    demean_ok = True
    eps_dev = np.inf
    it = 0
    for it in range(1, maxiter + 1):
        w = pw * mu
        z = eta - off + (y - mu) / mu
        if fe is not None:
            np.subtract(z, fe_z, out=work[0])
            info = fe.demean_inplace(work, w, tol=inner_tol, maxiter=fixef_maxiter)
            demean_ok = bool(info.converged.all())
        else:
            work[0] = z
        if it == 1:
            drop = detect_collinearity(md, work[1:].T, X, w)
            if drop:
                dropped_names = [md.names[j] for j in drop]
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
        np.minimum(eta_new, _ETA_MAX, out=eta_new)
        mu_new = np.exp(eta_new)
        dev_new = deviance(eta_new, mu_new)
        halvings = 0
        while it > 1 and (not np.isfinite(dev_new) or dev_new > dev * (1 + 1e-10) + 1e-10) \
                and halvings < 30:
            halvings += 1
            eta_new = 0.5 * (eta_new + eta)
            beta_new = 0.5 * (beta_new + beta)
            mu_new = np.exp(eta_new)
            dev_new = deviance(eta_new, mu_new)
        eps_dev = abs(dev_new - dev) / max(min(dev_new, dev), 0.1)
        eps_beta = float(np.max(np.abs(beta_new - beta) / (1.0 + np.abs(beta_new)))) \
            if beta.size else 0.0
        eta, mu, dev, beta = eta_new, mu_new, dev_new, beta_new
        at_final_tol = inner_tol <= fixef_tol
        if eps_dev < tol and eps_beta < 10 * tol and at_final_tol:
            converged = True
            break
        if fe is not None:
            inner_tol = max(fixef_tol, min(inner_tol, 0.01 * eps_dev))
    if not converged:
        msg = (f"PPML did not converge in {it} iterations: last relative change in deviance "
               f"{eps_dev:.3g} (tol {tol:g}); deviance {dev:.10g}")
        if on_nonconvergence == "raise":
            raise ConvergenceError(msg)
        warnings.warn(msg, ConvergenceWarning, stacklevel=3)
    if not demean_ok:
        warnings.warn(f"fixed-effect demeaning did not reach tol {fixef_tol:g} in "
                      f"{fixef_maxiter} iterations", ConvergenceWarning, stacklevel=3)
    # variance at the solution: re-demean X with the final weights (warm start)
    w = pw * mu
    xt = np.ascontiguousarray(work[1:])
    if fe is not None:
        fe.demean_inplace(xt, w, tol=fixef_tol, maxiter=fixef_maxiter)
    xw = xt * w
    bread = np.linalg.inv(xw @ xt.T) if xt.shape[0] else np.zeros((0, 0))
    scores = (xt * (pw * (y - mu))).T
    ll = poisson_loglik(y, mu, pw)
    mu0 = np.full(n, mean_y)
    stats = {
        "deviance": poisson_deviance(y, mu, pw),
        "null_deviance": poisson_deviance(y, mu0, pw),
        "loglik": ll,
        "null_loglik": poisson_loglik(y, mu0, pw),
    }
    return finish(
        model="ppml", md=md, data=data, beta=beta, bread=bread, scores=scores, spec=spec,
        rule=rule, sigma2=None, dropped_regressors=dropped_names, iterations=it,
        converged=converged, eta=eta, fitted=mu, fe_component=eta - off - X @ beta,
        stats=stats,
    )
