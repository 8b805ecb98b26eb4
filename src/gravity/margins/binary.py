r"""Binary-choice models for the extensive margin with high-dimensional fixed effects.

**Logit and probit** (:func:`feglm_binary`, :func:`logit`, :func:`probit`):
``P(y_i = 1) = F(eta_i)``, ``eta_i = x_i'beta + sum_q alpha_q + o_i`` with ``F`` the
logistic or standard normal cdf. The maximum-likelihood estimate is computed by
iteratively re-weighted least squares (Newton-Raphson: observed-information
weights, see :func:`_newton_terms`) with the fixed effects
concentrated out by the weighted within-transformation
(:class:`gravity.hdfe.demean.FixedEffects`), as R's ``alpaca::feglm`` (Stammann
2018, "Fast and feasible estimation of generalized linear models with
high-dimensional k-way fixed effects"): with working weights ``w = -d^2 l/d eta^2``
and working response ``z = eta - o + (d l / d eta) / w``, each step regresses
``M_w z`` on ``M_w X`` by WLS (for the logit ``w = mu (1 - mu)``, identical to
Fisher scoring with ``w = mu'^2 / (mu (1 - mu))``).
Convergence: relative change of the deviance ``-2 log L`` below ``tol`` and
largest relative change of the coefficients ``|db| / (1 + |b|)`` below 1e-10 (the
deviance alone is a weak criterion), with
step-halving if the deviance increases. Fixed-effect groups whose outcome is all 0 or all 1
are perfectly predicted (their effect is -/+ infinity); they are dropped first,
alternating with singletons, and reported (``dropped["separated_fe"]``, rows in
``dropped_rows``). Standard errors: sandwich of :mod:`gravity.inference.vcov` with
bread ``(X~'WX~)^{-1}`` (expected information, as alpaca and ``glm``) and scores
``x~_i (y_i - mu_i) mu'_i / (mu_i (1 - mu_i))``; with ``vcov="iid"`` and
``ssc="none"`` the variance is the inverse information.

**Bias correction** (:func:`bias_correct`): with fixed effects in both dimensions
the MLE has an incidental-parameter bias of order ``1/T + 1/N``. The analytical
correction of Fernandez-Val and Weidner (2016, "Individual and time effects in
nonlinear panel models with large N, T", J. Econometrics 192) for two-way
``(i, t)`` effects, and of Hinz, Stammann and Wanner (2020, "State dependence and
unobserved heterogeneity in the extensive margin of trade") for the three-way
network case ``(i x t, j x t, i x j)``, is computed exactly as ``alpaca::biasCorr``
with bandwidth ``L = 0`` (strictly exogenous regressors):

.. math::

   v_i = h_i (y_i - mu_i),\quad w_i = h_i mu'_i,\quad z_i = h_i mu''_i,\quad
   h_i = mu'_i / (mu_i (1 - mu_i))

(``h = 1`` for the logit), ``X~ = M_w X`` and, for each fixed effect ``q`` used,

.. math::

   \hat b = -\frac{1}{2 n} \sum_q \sum_{g \in q}
       \frac{\sum_{i \in g} \tilde x_i z_i}{\sum_{i \in g} w_i},\qquad
   \hat\beta^{bc} = \hat\beta - (H / n)^{-1} \hat b,\quad H = X~' W X~

This is FVW's ``B/T + D/N`` for ``L = 0``: their numerator
``E[d_pi l D_{beta pi} l] + E[D_{beta pi^2} l] / 2`` reduces, for a binary GLM, to
``-h mu'' x~ / 2`` and their denominator ``E[d_pi^2 l]`` to ``-w``. alpaca computes
the same group sums (``groupSums(MX * z, w, .) / (2 nt)``); the sign here is the one
derived from FVW (the logit MLE is biased away from zero and the correction shrinks
it, as the Monte Carlo in ``benchmarks/margins_montecarlo.py`` confirms).

(``classic``: the first two fixed effects, ``i`` and ``t``; ``network``: all of up
to three, ``i x t``, ``j x t``, ``i x j``). The fixed effects are then re-estimated
with ``x'beta^bc`` as an offset and the variance recomputed at the corrected values.
The spectral (``L > 0``) term for predetermined regressors is **not** implemented.

**Average partial effects** (:func:`average_partial_effects`): for a continuous
regressor ``APE_k = n^{-1} sum_i beta_k f(eta_i)``; for a 0/1 regressor
``n^{-1} sum_i [F(eta_i|x_k=1) - F(eta_i|x_k=0)]``. Standard errors by the delta
method in ``beta`` holding the estimated fixed effects fixed (an approximation: it
ignores the sampling variation of the fixed effects and of the covariate average,
unlike alpaca's ``getAPEs``); the APEs themselves are not bias-corrected beyond
using the bias-corrected ``beta`` and fixed effects when given a corrected fit.

**Linear probability model** (:func:`lpm`): :func:`gravity.ols` on a 0/1 outcome.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit, log_ndtr, ndtr

from ..errors import (
    EstimationError,
    InputError,
    SeparationWarning,
)
from ..estimation._results import finish
from ..estimation.design import ModelData, prepare, prune_fixed_effects
from ..estimation.irls import irls
from ..formula import parse_formula
from ..inference.delta import delta_method
from ..inference.vcov import SSC, parse_vcov, resolve_ssc
from ..results import RegressionResults

__all__ = ["feglm_binary", "logit", "probit", "cloglog", "lpm", "bias_correct",
           "average_partial_effects", "BinaryResults"]

_SQRT2PI = np.sqrt(2.0 * np.pi)


# ---------------------------------------------------------------- families
_FAMILIES = ("logit", "probit", "cloglog")
#: cloglog: the linear predictor is clipped here (lambda = exp(eta) ~ 1e13) to avoid overflow
_ETA_MAX = 30.0


def _lam(eta: np.ndarray) -> np.ndarray:
    return np.exp(np.minimum(eta, _ETA_MAX))


def _cdf(family: str, eta: np.ndarray) -> np.ndarray:
    if family == "cloglog":
        return -np.expm1(-_lam(eta))
    return expit(eta) if family == "logit" else ndtr(eta)


def _link(family: str, mu: np.ndarray) -> np.ndarray:
    """Inverse of :func:`_cdf` (starting values, null model)."""
    mu = np.asarray(mu, dtype=np.float64)
    if family == "logit":
        return np.log(mu / (1 - mu))
    if family == "cloglog":
        return np.log(-np.log1p(-mu))
    return np.sqrt(2.0) * _erfinv(2 * mu - 1)


def _pdf(family: str, eta: np.ndarray) -> np.ndarray:
    if family == "logit":
        p = expit(eta)
        return p * (1.0 - p)
    if family == "cloglog":
        lam = _lam(eta)
        return lam * np.exp(-lam)
    return np.exp(-0.5 * eta * eta) / _SQRT2PI


def _dpdf(family: str, eta: np.ndarray) -> np.ndarray:
    """Second derivative of the inverse link, ``mu''(eta)``."""
    if family == "logit":
        p = expit(eta)
        return p * (1.0 - p) * (1.0 - 2.0 * p)
    if family == "cloglog":
        lam = _lam(eta)
        return lam * np.exp(-lam) * (1.0 - lam)
    return -eta * np.exp(-0.5 * eta * eta) / _SQRT2PI


def _loglik(family: str, y: np.ndarray, eta: np.ndarray, pw: np.ndarray) -> float:
    if family == "logit":
        lp, lq = -np.logaddexp(0.0, -eta), -np.logaddexp(0.0, eta)
    elif family == "cloglog":
        lam = _lam(eta)
        lp, lq = np.log(np.maximum(-np.expm1(-lam), 1e-300)), -lam
    else:
        lp, lq = log_ndtr(eta), log_ndtr(-eta)
    return float(pw @ (y * lp + (1.0 - y) * lq))


def _derivs(family: str, eta: np.ndarray):
    """mu, mu' and h = mu' / V(mu), computed in logs for the probit tails (h = 1 for the
    logit, the canonical link)."""
    if family == "logit":
        mu = expit(eta)
        d = np.maximum(mu * (1.0 - mu), 1e-300)
        return mu, d, np.ones_like(eta)
    if family == "cloglog":
        lam = _lam(eta)
        q = np.maximum(-np.expm1(-lam), 1e-300)  # 1 - exp(-lambda)
        d = np.maximum(lam * np.exp(-lam), 1e-300)
        return q, d, lam / q  # h = mu' / (mu (1 - mu)) = lambda / (1 - exp(-lambda))
    mu = ndtr(eta)
    log_f = -0.5 * eta * eta - 0.5 * np.log(2.0 * np.pi)
    d = np.maximum(np.exp(log_f), 1e-300)
    h = np.exp(log_f - log_ndtr(eta) - log_ndtr(-eta))
    return mu, d, h


def _newton_terms(family: str, y: np.ndarray, eta: np.ndarray):
    """Observed-information IRLS terms: ``-d2 l / d eta2`` and ``d l / d eta``.

    Logit: ``mu (1 - mu)`` and ``y - mu`` (observed = expected information).
    Probit: with ``q = 2y - 1`` and the signed inverse Mills ratio
    ``lambda = q phi(q eta) / Phi(q eta)``: ``lambda (lambda + eta)`` and ``lambda``
    (Newton-Raphson; Fisher scoring can oscillate near the optimum when the observed
    information exceeds twice the expected one, as happens with many fixed effects).
    """
    if family == "logit":
        mu = expit(eta)
        return np.maximum(mu * (1.0 - mu), 1e-300), y - mu
    if family == "cloglog":
        # l = y log(1 - e^-lam) - (1 - y) lam, lam = e^eta
        lam = _lam(eta)
        el = np.exp(-lam)
        q = np.maximum(-np.expm1(-lam), 1e-300)
        g1 = lam * el / q  # d log(1 - e^-lam) / d eta
        info1 = lam * el * (lam + np.expm1(-lam)) / (q * q)
        score = np.where(y > 0, g1, -lam)
        info = np.where(y > 0, info1, lam)
        return np.maximum(info, 1e-300), score
    q = 2.0 * y - 1.0
    u = q * eta
    lam = q * np.exp(-0.5 * u * u - 0.5 * np.log(2.0 * np.pi) - log_ndtr(u))
    return np.maximum(lam * (lam + eta), 1e-300), lam


@dataclass
class BinaryResults(RegressionResults):
    """:class:`~gravity.results.RegressionResults` of a logit / probit / cloglog fit.

    ``model`` is ``"logit"``, ``"probit"`` or ``"cloglog"``; ``predict(type="response")`` returns
    probabilities; ``extra`` holds ``"bias_corrected"``, ``"params_uncorrected"``
    and ``"bias_term"`` after :func:`bias_correct`.
    """

    def summary(self) -> str:
        body = RegressionResults.summary(_as_ppml_text(self))
        return body.replace("PPML estimation", f"{self.model.upper()} estimation")

    def predict(self, newdata: pd.DataFrame | None = None, type: str = "response") -> np.ndarray:
        eta = RegressionResults.predict(self, newdata, type="link")
        return eta if type == "link" else _cdf(self.model, eta)

    def with_vcov(self, vcov: Any = None, ssc: SSC | str | dict | None = None) -> BinaryResults:
        new = RegressionResults.with_vcov(self, vcov, ssc)
        return BinaryResults(**new.__dict__)


def _as_ppml_text(res: BinaryResults) -> RegressionResults:
    """A shallow copy labelled so that the shared summary prints deviance and log L."""
    d = dict(res.__dict__)
    d["model"] = "ppml"
    return RegressionResults(**d)


# ---------------------------------------------------------------- sample
def _check_binary(md: ModelData, data: pd.DataFrame) -> None:
    bad = ~np.isin(md.y, (0.0, 1.0))
    if bad.any():
        raise InputError("binary outcome must be 0 or 1", column=md.formula.outcome,
                         rows=md.index[bad])


def drop_perfect_prediction(md: ModelData, drop_singletons: bool = True) -> int:
    """Drop fixed-effect groups with an all-0 or all-1 outcome (perfectly predicted),
    alternating with singleton removal until nothing changes; reason ``separated_fe``."""
    return prune_fixed_effects(md, drop_singletons=drop_singletons, drop_all_zero=True,
                               drop_all_one=True)


# ---------------------------------------------------------------- estimation
def feglm_binary(
    formula: str,
    data: pd.DataFrame,
    family: str = "logit",
    vcov: Any = None,
    weights: str | np.ndarray | None = None,
    offset: str | np.ndarray | None = None,
    ssc: SSC | str | dict | None = None,
    bias_correction: str | None = None,
    missing: str = "raise",
    drop_singletons: bool = True,
    tol: float = 1e-10,
    maxiter: int = 200,
    fixef_tol: float = 1e-10,
    fixef_maxiter: int = 10_000,
    on_nonconvergence: str = "warn",
) -> BinaryResults:
    """Logit or probit with any number of high-dimensional fixed effects.

    Parameters
    ----------
    formula : ``"entry ~ bri_ij | exp_year + imp_year + pair"`` (fixest grammar)
    data : DataFrame; the outcome must be 0/1 (:class:`InputError` naming rows otherwise)
    family : ``"logit"``, ``"probit"`` or ``"cloglog"`` (``1 - exp(-exp(eta))``)
    vcov, ssc : as :func:`gravity.ppml` (default: clustered by the first fixed effect)
    weights : prior weights; offset : added to the linear predictor
    bias_correction : ``None``, ``"classic"`` (two-way ``i``, ``t``) or ``"network"``
        (``i x t``, ``j x t`` [, ``i x j``]); see :func:`bias_correct`
    tol, maxiter : deviance tolerance and IRLS iteration cap
    fixef_tol, fixef_maxiter : demeaning tolerance and cap
    """
    if family not in _FAMILIES:
        raise ValueError("family must be 'logit', 'probit' or 'cloglog'")
    f = parse_formula(formula)
    spec = parse_vcov(vcov, f.fixed_effects)
    rule = resolve_ssc(ssc)
    md = prepare(f, data, weights=weights, offset=offset, extra_columns=spec.columns(),
                 missing=missing, poisson=False, drop_singletons=drop_singletons)
    _check_binary(md, data)
    if drop_perfect_prediction(md, drop_singletons):
        warnings.warn(f"{md.dropped.get('separated_fe', 0)} observations in fixed-effect "
                      "groups with an all-0 or all-1 outcome dropped (perfectly predicted)",
                      SeparationWarning, stacklevel=2)
    if md.nobs == 0:
        raise EstimationError("no observations left after dropping perfectly predicted "
                              "groups: " + str(md.dropped))
    if np.all(md.y == md.y[0]):
        raise EstimationError(f"the outcome '{f.outcome}' is constant: nothing to estimate")
    fit = _irls(md, family, None, tol, maxiter, fixef_tol, fixef_maxiter, on_nonconvergence)
    res = _assemble(md, data, family, fit, spec, rule)
    if bias_correction is not None:
        res = bias_correct(res, panel_structure=bias_correction)
    return res


def logit(formula: str, data: pd.DataFrame, **kwargs: Any) -> BinaryResults:
    """Fixed-effect logit: :func:`feglm_binary` with ``family="logit"``."""
    return feglm_binary(formula, data, family="logit", **kwargs)


def probit(formula: str, data: pd.DataFrame, **kwargs: Any) -> BinaryResults:
    """Fixed-effect probit: :func:`feglm_binary` with ``family="probit"``."""
    return feglm_binary(formula, data, family="probit", **kwargs)


def cloglog(formula: str, data: pd.DataFrame, **kwargs: Any) -> BinaryResults:
    """Fixed-effect complementary log-log model, ``P(y = 1) = 1 - exp(-exp(eta))``:
    :func:`feglm_binary` with ``family="cloglog"``. It is the exact entry equation of a
    Poisson number of exporters, ``P(N > 0) = 1 - exp(-lambda)`` with
    ``ln lambda = eta`` (:mod:`gravity.simulate`), so its slopes are the effects on
    ``ln lambda`` (the expected number of exporting firms)."""
    return feglm_binary(formula, data, family="cloglog", **kwargs)


def lpm(formula: str, data: pd.DataFrame, **kwargs: Any) -> RegressionResults:
    """Linear probability model with high-dimensional fixed effects: :func:`gravity.ols`
    on a 0/1 outcome (checked: :class:`InputError` naming the rows otherwise)."""
    from ..estimation.ols import ols

    f = parse_formula(formula)
    if f.outcome in data.columns:
        y = pd.to_numeric(data[f.outcome], errors="coerce")
        bad = (y.notna() & ~y.isin([0, 1])).to_numpy()
        if bad.any():
            raise InputError("binary outcome must be 0 or 1", column=f.outcome,
                             rows=data.index[bad])
    return ols(formula, data, **kwargs)


@dataclass
class _Fit:
    beta: np.ndarray
    eta: np.ndarray
    xt: np.ndarray  # (K, N) demeaned X at the final weights
    iterations: int
    converged: bool
    dropped_names: list[str]


class BinaryFamily:
    """Logit, probit or cloglog for :func:`gravity.estimation.irls.irls`: Newton
    (observed-information) working weights and scores from :func:`_newton_terms`,
    deviance ``-2 log L``, expected-information weights ``mu' h`` at the solution,
    starting values ``mu = (y + 1/2) / 2``."""

    def __init__(self, family: str, y: np.ndarray, pw: np.ndarray) -> None:
        self.family, self.y, self.pw = family, y, pw
        self.label = family

    def initial_eta(self) -> np.ndarray:
        return _link(self.family, (self.y + 0.5) / 2.0)

    def working(self, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return _newton_terms(self.family, self.y, eta)

    def deviance(self, eta: np.ndarray) -> float:
        return -2.0 * _loglik(self.family, self.y, eta, self.pw)

    def variance_weights(self, eta: np.ndarray) -> np.ndarray:
        _, d, h = _derivs(self.family, eta)
        return d * h

    def clip(self, eta: np.ndarray) -> np.ndarray:
        return eta


def _irls(md: ModelData, family: str, fixed_xb: np.ndarray | None, tol: float, maxiter: int,
          fixef_tol: float, fixef_maxiter: int, on_nonconvergence: str,
          beta_tol: float = 1e-10) -> _Fit:
    """The package's IRLS engine with a binary family. With ``fixed_xb`` the slopes are
    held at ``x'beta`` (offset) and only the fixed effects are estimated (used after
    bias correction)."""
    pw = np.ones(md.nobs) if md.weights is None else md.weights
    res = irls(md, BinaryFamily(family, md.y, pw), tol=tol, maxiter=maxiter,
               fixef_tol=fixef_tol, fixef_maxiter=fixef_maxiter,
               on_nonconvergence=on_nonconvergence, beta_tol=beta_tol,
               extra_offset=fixed_xb, estimate_slopes=fixed_xb is None)
    return _Fit(res.beta, res.eta, res.xt, res.iterations, res.converged, res.dropped_names)


def _erfinv(x: np.ndarray) -> np.ndarray:
    from scipy.special import erfinv

    return erfinv(x)


def _assemble(md: ModelData, data: pd.DataFrame, family: str, fit: _Fit, spec, rule,
              iterations: int | None = None) -> BinaryResults:
    y = md.y
    pw = np.ones(md.nobs) if md.weights is None else md.weights
    off = np.zeros(md.nobs) if md.offset is None else md.offset
    mu, d, h = _derivs(family, fit.eta)
    w = pw * d * h
    xt = fit.xt
    bread = np.linalg.inv((xt * w) @ xt.T) if xt.shape[0] else np.zeros((0, 0))
    scores = (xt * (pw * h * (y - mu))).T
    ybar = float(pw @ y / pw.sum())
    eta0 = np.full(md.nobs, float(_link(family, np.array(ybar))))
    ll = _loglik(family, y, fit.eta, pw)
    ll0 = _loglik(family, y, eta0, pw)
    stats = {"deviance": -2.0 * ll, "null_deviance": -2.0 * ll0, "loglik": ll,
             "null_loglik": ll0}
    res = finish(model=family, md=md, data=data, beta=fit.beta, bread=bread, scores=scores,
                 spec=spec, rule=rule, sigma2=None, dropped_regressors=fit.dropped_names,
                 iterations=iterations or fit.iterations, converged=fit.converged,
                 eta=fit.eta, fitted=mu, fe_component=fit.eta - off - md.X @ fit.beta,
                 stats=stats)
    out = BinaryResults(**res.__dict__)
    out._internals.update({"md": md, "family": family, "xt": xt, "weights_irls": w,
                           "prior_weights": pw, "offset": off, "rule": rule})
    out.extra["bias_corrected"] = False
    return out


# ---------------------------------------------------------------- bias correction
def bias_term(res: BinaryResults, panel_structure: str = "classic") -> np.ndarray:
    """The bias estimate ``b`` of :func:`bias_correct` (alpaca's ``bias_term``),
    such that ``beta^bc = beta - (H/n)^{-1} b``."""
    i = res._internals
    md: ModelData = i["md"]
    family = res.model
    if panel_structure not in ("classic", "network"):
        raise ValueError("panel_structure must be 'classic' or 'network'")
    q = len(md.fe_codes)
    if panel_structure == "classic" and q not in (1, 2):
        raise EstimationError(f"'classic' bias correction needs one or two fixed effects "
                              f"(i, t); the model has {q}")
    if panel_structure == "network" and q not in (2, 3):
        raise EstimationError("'network' bias correction needs the fixed effects "
                              f"i^t + j^t [+ i^j]; the model has {q}")
    pw = i["prior_weights"]
    mu, d, h = _derivs(family, res._internals["eta"])
    w = pw * d * h
    z = pw * _dpdf(family, res._internals["eta"]) * h
    xt = i["xt"]  # (K, N), demeaned with w
    nt = md.nobs
    b = np.zeros(xt.shape[0])
    for codes in md.fe_codes[: (2 if panel_structure == "classic" else 3)]:
        g = int(codes.max()) + 1
        den = np.bincount(codes, weights=w, minlength=g)
        for k in range(xt.shape[0]):
            num = np.bincount(codes, weights=xt[k] * z, minlength=g)
            b[k] -= float(np.sum(num / den)) / (2.0 * nt)
    return b


def bias_correct(res: BinaryResults, panel_structure: str = "classic") -> BinaryResults:
    """Analytical incidental-parameter bias correction (see the module docstring):
    Fernandez-Val and Weidner (2016) (``"classic"``: fixed effects ``i + t``) or Hinz,
    Stammann and Wanner (2020) (``"network"``: ``i^t + j^t [+ i^j]``), as
    ``alpaca::biasCorr(object, L = 0)``. Returns a new result whose ``params`` and
    variance are evaluated at the corrected coefficients, with the fixed effects
    re-estimated given them; ``extra["params_uncorrected"]`` keeps the MLE."""
    if res.extra.get("bias_corrected"):
        raise EstimationError("the fit is already bias-corrected")
    i = res._internals
    md: ModelData = i["md"]
    b = bias_term(res, panel_structure)
    xt = i["xt"]
    w = i["weights_irls"]
    nt = md.nobs
    hess = (xt * w) @ xt.T
    beta_bc = res.params.to_numpy() - np.linalg.solve(hess / nt, b)
    fit = _irls(md, res.model, md.X @ beta_bc, 1e-12, 100, 1e-10, 10_000, "warn")
    # re-demean X with the weights at the corrected linear predictor
    mu, d, h = _derivs(res.model, fit.eta)
    w_new = i["prior_weights"] * d * h
    xt_new = np.ascontiguousarray(md.X.T)
    if md.fixed_effects is not None and xt_new.shape[0]:
        md.fixed_effects.demean_inplace(xt_new, w_new, tol=1e-10, maxiter=10_000)
    fit = _Fit(beta_bc, fit.eta, xt_new, fit.iterations, fit.converged,
               list(res.dropped_regressors))
    out = _assemble(md, i["data"], res.model, fit, i["vcov_spec"], res.ssc,
                    iterations=res.iterations)
    out.extra.update({"bias_corrected": True, "panel_structure": panel_structure,
                      "params_uncorrected": res.params.copy(),
                      "bias_term": pd.Series(b, index=res.params.index)})
    return out


# ---------------------------------------------------------------- partial effects
def average_partial_effects(res: BinaryResults, binary: list[str] | None = None) -> pd.DataFrame:
    """Average partial effects with delta-method standard errors (fixed effects held
    at their estimates; see the module docstring).

    ``binary`` lists regressors treated as discrete 0/1 (default: every regressor
    whose values are only 0 and 1). Returns a tidy table (``estimate``,
    ``std_error``, ``statistic``, ``p_value``, ``conf_low``, ``conf_high``).
    """
    i = res._internals
    md: ModelData = i["md"]
    family = res.model
    X = md.X
    names = list(res.params.index)
    base = i["fe_component"] + i["offset"]
    pw = i["prior_weights"]
    if binary is None:
        binary = [n for k, n in enumerate(names) if np.isin(X[:, k], (0.0, 1.0)).all()]

    def apes(beta_s: pd.Series) -> np.ndarray:
        beta = np.asarray(beta_s, dtype=np.float64)
        eta = base + X @ beta
        out = np.empty(len(names))
        dens = _pdf(family, eta)
        for k, n in enumerate(names):
            if n in binary:
                e0 = eta - X[:, k] * beta[k]
                out[k] = pw @ (_cdf(family, e0 + beta[k]) - _cdf(family, e0)) / pw.sum()
            else:
                out[k] = beta[k] * (pw @ dens) / pw.sum()
        return out

    dm = delta_method(apes, res.params, res.vcov)
    ci = dm.conf_int()
    table = pd.DataFrame({"estimate": dm.estimate, "std_error": dm.se,
                          "statistic": dm.zvalue, "p_value": dm.pvalue,
                          "conf_low": ci[:, 0], "conf_high": ci[:, 1]},
                         index=pd.Index(names, name="term"))
    return table
