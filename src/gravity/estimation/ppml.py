r"""Poisson pseudo-maximum likelihood with high-dimensional fixed effects.

The estimator of Santos Silva and Tenreyro (2006) solves
``sum_i w_i x_i (y_i - mu_i) = 0`` with ``mu_i = exp(x_i'beta + sum_q alpha_q + o_i)``.
It is computed by iteratively re-weighted least squares (McCullagh and Nelder
1989): with working weights ``mu_i`` and working response
``z_i = eta_i - o_i + (y_i - mu_i)/mu_i`` each step is a weighted least-squares
problem with the fixed effects absorbed by the weighted within-transformation
(Guimaraes 2014; Correia, Guimaraes and Zylkin 2020, "Fast Poisson estimation
with high-dimensional fixed effects"), by the package's IRLS engine
(:mod:`gravity.estimation.irls`: warm-started demeaning, tightening tolerance,
convergence on deviance and coefficients, step-halving). Rows that are separated (fixed-effect groups
with all-zero outcome; regressor separation by the simplex and ReLU methods,
see :mod:`gravity.separation`) are dropped first and reported.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import gammaln, xlogy

from ..errors import SeparationWarning
from ..formula import parse_formula
from ..inference.vcov import SSC, parse_vcov, resolve_ssc
from ..results import RegressionResults
from ._results import finish
from .design import prepare
from .irls import irls

_ETA_MAX = 700.0


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
                 missing=missing, poisson=True, drop_singletons=drop_singletons,
                 drop_all_zero="fe" in methods)
    if methods & {"simplex", "relu"}:
        from ..separation import drop_separated

        drop_separated(md, methods, drop_singletons=drop_singletons)
    separated = {k: v for k, v in md.dropped.items() if k.startswith("separated")}
    if separated:
        detail = ", ".join(f"{k}: {v}" for k, v in separated.items())
        warnings.warn(f"{sum(separated.values())} separated observations dropped ({detail})",
                      SeparationWarning, stacklevel=2)
    return _fit(md, data, spec, rule, tol, maxiter, fixef_tol, fixef_maxiter,
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


class PoissonFamily:
    """Poisson family for :func:`gravity.estimation.irls.irls` (log link).

    Working weights ``mu``, score ``y - mu``; the deviance
    ``2 sum w [y log y - y eta - y + mu]`` uses ``eta = log mu`` and constants
    computed once. Starting values ``mu = (y + mean y) / 2`` as ppmlhdfe and pyfixest.
    """

    label = "PPML"

    def __init__(self, y: np.ndarray, pw: np.ndarray) -> None:
        self.y, self.pw = y, pw
        self.pwy = pw * y
        self.sum_pwy = float(self.pwy.sum())
        self.c_ylogy = float(pw @ xlogy(y, y))
        self.mean_y = self.sum_pwy / float(pw.sum())
        self._last: tuple[np.ndarray, np.ndarray] | None = None  # (eta, exp(eta))

    def mu(self, eta: np.ndarray) -> np.ndarray:
        """``exp(eta)``, reused when called again with the same array."""
        if self._last is not None and self._last[0] is eta:
            return self._last[1]
        mu = np.exp(eta)
        self._last = (eta, mu)
        return mu

    def initial_eta(self) -> np.ndarray:
        return np.log(0.5 * (self.y + self.mean_y))

    def working(self, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mu = self.mu(eta)
        return mu, self.y - mu

    def deviance(self, eta: np.ndarray) -> float:
        return 2.0 * (self.c_ylogy - float(self.pwy @ eta) - self.sum_pwy
                      + float(self.pw @ self.mu(eta)))

    def loglik_saturated(self) -> float:
        """``sum w [y log y - y - log y!]``: the log-likelihood is this minus deviance / 2."""
        return self.c_ylogy - self.sum_pwy - float(self.pw @ gammaln(self.y + 1.0))

    def variance_weights(self, eta: np.ndarray) -> np.ndarray:
        return self.mu(eta)

    def clip(self, eta: np.ndarray) -> np.ndarray:
        return np.minimum(eta, _ETA_MAX, out=eta)


def _fit(md, data, spec, rule, tol, maxiter, fixef_tol, fixef_maxiter, on_nonconvergence):
    y = md.y
    n = md.nobs
    pw = np.ones(n) if md.weights is None else md.weights
    off = np.zeros(n) if md.offset is None else md.offset
    family = PoissonFamily(y, pw)
    res = irls(md, family, tol=tol, maxiter=maxiter, fixef_tol=fixef_tol,
               fixef_maxiter=fixef_maxiter, on_nonconvergence=on_nonconvergence)
    eta, beta, xt = res.eta, res.beta, res.xt
    mu = family.mu(eta)
    xw = xt * res.weights
    bread = np.linalg.inv(xw @ xt.T) if xt.shape[0] else np.zeros((0, 0))
    scores = (xt * (pw * (y - mu))).T
    deviance = family.deviance(eta)
    null_deviance = family.deviance(np.full(n, np.log(family.mean_y)))
    ll_sat = family.loglik_saturated()
    stats = {
        "deviance": deviance,
        "null_deviance": null_deviance,
        "loglik": ll_sat - deviance / 2.0,
        "null_loglik": ll_sat - null_deviance / 2.0,
    }
    return finish(
        model="ppml", md=md, data=data, beta=beta, bread=bread, scores=scores, spec=spec,
        rule=rule, sigma2=None, dropped_regressors=res.dropped_names,
        iterations=res.iterations, converged=res.converged, eta=eta, fitted=mu,
        fe_component=eta - off - md.X @ beta, stats=stats,
    )
