r"""Average partial effects of binary models with fixed effects, their analytical bias
correction and standard errors (Fernandez-Val and Weidner 2016, "Individual and time
effects in nonlinear panel models with large N, T", J. Econometrics 192, sec. 4; Hinz,
Stammann and Wanner 2020 for the network case; computed as ``alpaca::getAPEs``).

Partial effects: for a continuous regressor ``Delta_ik = beta_k f(eta_i)``; for a 0/1
regressor ``Delta_ik = F(eta_i^{(1)}) - F(eta_i^{(0)})`` (``eta`` with ``x_k`` set to 1 and
0); ``delta_k = n^{-1} sum_i Delta_ik``. With ``w = h f``, ``z = h f'``, ``v = h (y - F)``
(``h = f / (F (1 - F))``), ``x~`` the regressors demeaned by the fixed effects with
weights ``w``, ``Delta1`` and ``Delta2`` the first and second derivatives of ``Delta``
in ``eta``, and ``P Psi`` the weighted projection of ``Psi = -Delta1 / w`` on the fixed
effects:

* Jacobian ``J = d delta / d beta`` with the fixed effects re-adjusting:
  ``J_{.k} = n^{-1} sum x~_i Delta1_ik + e_k n^{-1} sum f`` (continuous) or
  ``n^{-1} sum (x_i^{(-k)} - (x_i - x~_i)) Delta1_ik + e_k n^{-1} sum f(eta^{(1)})`` (0/1);
* bias (fits corrected by :func:`gravity.estimation.bias_correct`; ``classic``: the
  first two fixed effects, ``network``: up to three)
  ``b = (2 n)^{-1} sum_q sum_{g in q} sum_{i in g} (Delta2_i + P Psi_i z_i) / sum_{i in g} w_i``,
  ``delta^bc = delta - b``;
* variance ``V = sum_c Gamma_c Gamma_c'`` with
  ``Gamma_i = n^{-1} v_i (x~_i' (H / n)^{-1} J - P Psi_i)`` (``H = x~' W x~``), summed
  within the fit's clusters ``c`` (``G / (G - 1)``) or over observations
  (``vcov="hetero"``: alpaca's default). It accounts for the estimation of the slopes and
  of the fixed effects, conditionally on the covariates (alpaca's ``n.pop = NULL``).

This is the first-order variance (alpaca's): equal to the delta method over the slopes
and the fixed effects together at the fit's point, checked against the dense
dummy-variable computation in ``tests/test_bias_apes_variance.py``. In short panels its
accuracy for the corrected APE rests on a balance of three finite-sample effects that
it leaves out (measured on null worlds of the three-way cloglog with
``benchmarks/margins_ape_se.py``, ``benchmarks/results/margins_ape_se.md``): the
spread of the MLE exceeds its cluster-robust SE; the coefficient correction shrinks
that spread (``d beta^bc / d beta = s`` below one); the APE's own bias term ``b``
moves with ``beta`` and scales the estimate (``delta^bc = kappa delta`` with ``kappa``
above one; ``b`` is perfectly correlated with ``delta`` there). Under a null, the SE
over the spread is about ``r / (s kappa)`` with ``r`` the MLE's SE over its spread:
1.05-1.11 at 20 countries (11 years), 0.86-0.89 at 40 (13 years), where tests on it
reject a true null 8-9% of the time (``margins_montecarlo.md``). Putting
``s`` and the slope of ``b`` into ``J`` (the delta method of the whole corrected map)
makes it ``r``, smaller still; the slope of ``b`` alone makes it the corrected
coefficient's (conservative, 1.5-1.7 at 20 countries).

``leverage=`` replaces the pair-clustered scores by scores inflated by each cluster's
leverage (Weidner and Zylkin 2021, the variance correction of their three-way PPML,
one-sided; Mancl and DeRouen 2001, two-sided, the GLM analogue of the jackknife CV3
that MacKinnon, Nielsen and Webb 2023 recommend; :mod:`gravity.inference.cluster_leverage`).
The one-sided form raises the SE by 24% at 20 countries, 14% at 30, 9% at 40 and 6% at
60, the two-sided one by about twice that; both vanish as the panel grows. They correct
the part of the MLE's shortfall ``r`` that comes from estimating the exporter-year and
importer-year effects (with the two-sided form the MLE's SE over its spread is
0.94-0.99 at 40 countries). The hypothesis helpers use the two-sided form
(:data:`gravity.margins.hypotheses.ENTRY_APE_LEVERAGE`): in null worlds at 40
countries their tests reject 4.3% (BRI entry) and 5.3% (pecking order) of the time, against
8.3% and 9.3% with the first-order SE and 5.5% and 6.9% with the one-sided form; at 30
and 20 countries they are conservative (0-3%; ``margins_montecarlo.md``). The default
here stays the first-order variance, alpaca's.

``method="delta"`` keeps the earlier approximation: the delta method in ``beta`` holding
the estimated fixed effects fixed, without bias correction.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import EstimationError, GravityWarning
from ..hdfe import DemeanConfig, make_demeaner
from ..inference.cluster_leverage import cluster_meat, inflated_scores, resolve_method
from ..inference.delta import delta_method
from ..inference.distributions import normal
from .results import BinaryResults, RegressionResults

DEMEAN_TOL = 1e-10


def _mu_eta3(name: str, eta: np.ndarray) -> np.ndarray:
    """``f''(eta)``, the second derivative of the density of the link."""
    if name == "logit":
        p = 1.0 / (1.0 + np.exp(-eta))
        f = p * (1.0 - p)
        return f * (1.0 - 6.0 * f)
    if name == "probit":
        return (eta * eta - 1.0) * normal.pdf(eta)
    if name == "cloglog":
        lam = np.exp(np.minimum(eta, 30.0))
        return lam * np.exp(-lam) * ((1.0 - lam) ** 2 - lam)
    raise EstimationError(f"no partial effects for the {name} family")


def _tidy(names: list[str], est: np.ndarray, vcov: np.ndarray, extra: dict[str, Any]
          ) -> pd.DataFrame:
    se = np.sqrt(np.maximum(np.diag(vcov), 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        zval = est / se
    q = normal.ppf(0.975)
    out = pd.DataFrame({"estimate": est, "std_error": se, "statistic": zval,
                        "p_value": 2 * normal.sf(np.abs(zval)),
                        "conf_low": est - q * se, "conf_high": est + q * se},
                       index=pd.Index(names, name="term"))
    out.attrs.update(extra)
    out.attrs["vcov"] = pd.DataFrame(vcov, index=names, columns=names)
    return out


def average_partial_effects(res: RegressionResults,
                            binary: Sequence[str] | None = None,
                            method: str = "analytical",
                            bias_correction: bool | None = None,
                            vcov: str | None = None,
                            leverage: str | None = None,
                            leverage_method: str = "auto") -> pd.DataFrame:
    """Average partial effects with standard errors (module docstring).

    ``binary``: regressors treated as discrete 0/1 (default: every regressor whose
    values are only 0 and 1). ``method``: ``"analytical"`` (default) or ``"delta"``.
    ``bias_correction``: correct the APEs for the incidental-parameter bias (default:
    when the fit is bias-corrected, with its ``panel_structure``). ``vcov``: ``None``
    (the fit's clusters, observations if it is not clustered) or ``"hetero"``.
    ``leverage``: ``None`` (default: the first-order variance, alpaca's),
    ``"one-sided"`` (Weidner and Zylkin 2021) or ``"two-sided"`` (Mancl and DeRouen
    2001): the scores inflated by each cluster's leverage
    (:mod:`gravity.inference.cluster_leverage`; exact up to
    ``cluster_leverage.APPROX_ABOVE`` levels of the other fixed effects, the authors'
    approximation above); needs a fit clustered by one of its fixed effects.
    :func:`leverage_applies` says whether a fit allows it.
    ``leverage_method``: ``"exact"``, ``"approx"`` or ``"auto"`` (as ``variance=`` of
    :func:`gravity.estimation.ppml_bias_correct`).

    Returns a tidy table (``estimate``, ``std_error``, ``statistic``, ``p_value``,
    ``conf_low``, ``conf_high``); ``attrs`` hold ``vcov``, ``bias`` (when corrected),
    ``estimate_uncorrected``, ``method`` and, with ``leverage``, ``leverage`` (its
    form and method) and ``std_error_first_order``.
    """
    if not isinstance(res, BinaryResults):
        raise EstimationError("average partial effects are computed for logit, probit and "
                              f"cloglog fits, not {res.model.upper()}")
    if method not in ("analytical", "delta"):
        raise ValueError("method must be 'analytical' or 'delta'")
    if leverage not in (None, "one-sided", "two-sided"):
        raise ValueError("leverage must be None, 'one-sided' or 'two-sided'")
    if leverage_method not in ("auto", "exact", "approx"):
        raise ValueError("leverage_method must be 'auto', 'exact' or 'approx'")
    r = res.record
    names = [n for n in r.names if n != "(Intercept)"]
    cols = [list(r.names).index(n) for n in names]
    X = r.X[:, cols]
    if binary is None:
        binary = [n for k, n in enumerate(names) if np.isin(X[:, k], (0.0, 1.0)).all()]
    is_bin = np.array([n in binary for n in names])
    _warn_shared_variables(names)
    if method == "delta":
        if leverage is not None:
            raise EstimationError("the leverage correction is for the analytical APE "
                                  "variance (method='analytical')")
        return _delta(res, names, cols, is_bin)
    if not r.fe_codes or r.xt is None or r.xt.shape[0] != len(r.names):
        raise EstimationError("analytical APE standard errors need a model with fixed "
                              "effects; use method='delta'")
    if bias_correction is None:
        bias_correction = res.bias_corrected
    structure = res.extra.get("panel_structure", "classic")
    return _analytical(res, names, X, is_bin, bool(bias_correction), structure, vcov,
                       leverage, leverage_method)


def _warn_shared_variables(names: list[str]) -> None:
    """APEs move one column at a time (``beta_k f(eta)``, as alpaca's ``getAPEs``): a
    variable that also enters another column (``x`` and ``x:z``, ``I(x**2)``, ``i(g, x)``)
    has no APE of its own here. Say so instead of reporting a partial answer silently."""
    plain = [n for n in names if n.isidentifier()]
    shared = sorted({v for v in plain for n in names
                     if n != v and re.search(rf"(?<![\w.]){re.escape(v)}(?![\w])", n)})
    if shared:
        warnings.warn(
            f"average partial effects: {', '.join(shared)} also enter(s) other columns "
            "(interactions or transforms); each column's APE moves that column alone, "
            "not the variable through every term it enters", GravityWarning, stacklevel=3)


def _delta(res: BinaryResults, names: list[str], cols: list[int], is_bin: np.ndarray
           ) -> pd.DataFrame:
    r = res.record
    fam = r.family
    base = r.fe_component + r.offset
    pw = r.prior_weights

    def apes(beta_s: pd.Series) -> np.ndarray:
        beta = np.asarray(beta_s, dtype=np.float64)
        eta = base + r.X @ beta
        out = np.empty(len(names))
        dens = fam.mu_eta(eta)
        for j, k in enumerate(cols):  # regressors
            if is_bin[j]:
                e0 = eta - r.X[:, k] * beta[k]
                out[j] = pw @ (fam.inverse_link(e0 + beta[k]) - fam.inverse_link(e0)) / pw.sum()
            else:
                out[j] = beta[k] * (pw @ dens) / pw.sum()
        return out

    dm = delta_method(apes, res.params, res.vcov)
    return _tidy(names, np.asarray(dm.estimate, dtype=float), np.asarray(dm.vcov, dtype=float),
                 {"method": "delta"})


def _analytical(res: BinaryResults, names: list[str], X: np.ndarray, is_bin: np.ndarray,
                correct: bool, structure: str, vcov: str | None,
                leverage: str | None, leverage_method: str = "auto") -> pd.DataFrame:
    est, infl, v, extra = _ape_parts(res, names, X, is_bin, correct, structure)
    gamma = infl * v[:, None]
    p = len(names)
    r = res.record
    spec = res._spec
    clustered = vcov is None and spec.kind == "CRV1" and len(spec.clusters) == 1
    if leverage is not None and not clustered:
        raise EstimationError(
            "the leverage-corrected APE variance needs a fit clustered by one variable "
            f"(vcov={{'CRV1': <pair>}}); this one is {res.vcov_type}"
            + (" and vcov='hetero' was asked" if vcov == "hetero" else ""))
    if clustered:
        codes = _cluster_codes(r, spec.clusters[0])
        g = int(codes.max()) + 1
        sums = np.zeros((g, p))
        np.add.at(sums, codes, gamma)
        vmat = sums.T @ sums * g / (g - 1.0)
        extra["clusters"] = g
        if leverage is not None:
            first = vmat
            vmat = _leverage_variance(res, infl, v, codes, spec.clusters[0],
                                      leverage == "two-sided", leverage_method,
                                      extra) * g / (g - 1.0)
            extra["std_error_first_order"] = pd.Series(
                np.sqrt(np.maximum(np.diag(first), 0.0)), index=names)
    elif vcov in (None, "hetero"):
        vmat = gamma.T @ gamma
    else:
        raise ValueError("vcov must be None (the fit's clusters) or 'hetero'")
    return _tidy(names, est, vmat, extra)


def _leverage_variance(res: BinaryResults, infl: np.ndarray, v: np.ndarray,
                       codes: np.ndarray, cluster_name: tuple[str, ...], two_sided: bool,
                       method: str, extra: dict[str, Any]) -> np.ndarray:
    """``sum_c (a_c' v~_c)(a_c' v_c)'`` (one-sided, symmetrised) or ``sum_c (a_c'
    v~_c)(a_c' v~_c)'`` (two-sided), ``v~`` the scores inflated by the leverage of the
    cluster's rows (:func:`gravity.inference.cluster_leverage.inflated_scores`); no
    small-sample factor. The clusters must be the levels of one of the fixed effects."""
    r = res.record
    q = _fixed_effect_of(r.fe_codes, codes)
    if q is None:
        raise EstimationError(
            f"the leverage-corrected APE variance needs clusters that are the levels of "
            f"one of the fixed effects ({', '.join(res.fe_names)}); the fit is clustered "
            f"by {'^'.join(cluster_name)}")
    assert r.xt is not None
    w = _irls_weights(r)
    bread = np.linalg.inv((r.xt * w) @ r.xt.T)
    how = resolve_method(list(r.fe_codes), q, method)
    vt = inflated_scores(v, w, r.xt, bread, list(r.fe_codes), q, method=how)
    extra["leverage"] = f"{'two' if two_sided else 'one'}-sided ({how})"
    return cluster_meat(infl, v, vt, codes, two_sided)


def _irls_weights(r: Any) -> np.ndarray:
    """The IRLS weights ``w = f h`` (prior weights included) of a binary fit's record."""
    fam = r.family
    return r.prior_weights * np.maximum(fam.mu_eta(r.eta), 1e-300) * fam.score_factor(r.eta)


def leverage_applies(res: RegressionResults) -> bool:
    """Whether ``average_partial_effects(res, leverage=...)`` is defined: a binary fit
    with fixed effects, clustered by one variable whose levels are those of one of its
    fixed effects (the pairs of a three-way panel)."""
    if not isinstance(res, BinaryResults):
        return False
    r, spec = res.record, res._spec
    if spec.kind != "CRV1" or len(spec.clusters) != 1 or not r.fe_codes:
        return False
    return _fixed_effect_of(r.fe_codes, _cluster_codes(r, spec.clusters[0])) is not None


def _cluster_codes(r: Any, name: tuple[str, ...]) -> np.ndarray:
    """The codes of the fit's cluster variable ``name`` (a fixed effect or a recorded
    cluster column)."""
    known = dict(zip(r.fe_terms, r.fe_codes, strict=True))
    known.update(r.cluster_map)
    return known[name]


def _fixed_effect_of(fe_codes: Sequence[np.ndarray], codes: np.ndarray) -> int | None:
    """The index of the fixed effect whose levels are exactly the clusters ``codes``
    (the same partition of the rows), or ``None``."""
    g = int(codes.max()) + 1
    for q, fe in enumerate(fe_codes):  # fixed effects
        n = int(fe.max()) + 1
        if n == g and np.unique(fe.astype(np.int64) * g + codes).size == g:
            return q
    return None


def _ape_parts(res: BinaryResults, names: list[str], X: np.ndarray, is_bin: np.ndarray,
               correct: bool, structure: str
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    """The (corrected) APEs, the influence rows ``a_i = n^{-1} (x~_i' (H / n)^{-1} J -
    P Psi_i)`` (N, p) and the score residuals ``v`` (N,) of ``Gamma_i = a_i v_i``
    (module docstring), and the table's ``attrs``."""
    r = res.record
    fam = r.family
    eta, y, pw = r.eta, r.y, r.prior_weights
    n = r.nobs
    h = fam.score_factor(eta)
    f = fam.mu_eta(eta)
    w = _irls_weights(r)
    z = pw * fam.mu_eta2(eta) * h
    v = pw * h * (y - fam.inverse_link(eta))
    assert r.xt is not None
    keep = [list(r.names).index(nm) for nm in names]
    mx_all = r.xt.T  # (n, K) demeaned with the weights w
    mx = mx_all[:, keep]
    px = X - mx
    beta_all = r.beta
    beta = beta_all[keep]
    p = len(names)
    delta = np.empty((n, p))
    d1 = np.empty((n, p))
    d2 = np.empty((n, p))
    jac = np.zeros((len(r.names), p))
    for j in range(p):  # regressors
        if is_bin[j]:
            e0 = eta - X[:, j] * beta[j]
            e1 = e0 + beta[j]
            f1 = fam.mu_eta(e1)
            delta[:, j] = fam.inverse_link(e1) - fam.inverse_link(e0)
            d1[:, j] = f1 - fam.mu_eta(e0)
            d2[:, j] = fam.mu_eta2(e1) - fam.mu_eta2(e0)
            col = -(px * d1[:, [j]]).sum(axis=0) / n
            full = np.zeros(len(r.names))
            full[keep] = col
            others = [k for k in range(len(r.names)) if k != keep[j]]
            full[others] += (r.X[:, others] * d1[:, [j]]).sum(axis=0) / n
            full[keep[j]] += f1.sum() / n
            jac[:, j] = full
        else:
            delta[:, j] = beta[j] * f
            d1[:, j] = beta[j] * fam.mu_eta2(eta)
            d2[:, j] = beta[j] * _mu_eta3(fam.name, eta)
            jac[:, j] = (mx_all * d1[:, [j]]).sum(axis=0) / n
            jac[keep[j], j] += f.sum() / n
    est = delta.mean(axis=0)
    psi = -d1 / w[:, None]
    m_psi, _ = make_demeaner(list(r.fe_codes), DemeanConfig(tol=DEMEAN_TOL)).demean(
        psi, w, tol=DEMEAN_TOL, maxiter=100_000)
    p_psi = psi - m_psi
    extra: dict[str, Any] = {"method": "analytical",
                             "estimate_uncorrected": pd.Series(est.copy(), index=names)}
    if correct:
        q = {"classic": 2, "network": 3}.get(structure, 2)
        num = d2 + p_psi * z[:, None]
        b = np.zeros(p)
        for codes in r.fe_codes[:q]:
            g = int(codes.max()) + 1
            den = np.bincount(codes, weights=w, minlength=g)
            for j in range(p):  # regressors
                b[j] += np.sum(np.bincount(codes, weights=num[:, j], minlength=g) / den)
        b /= 2.0 * n
        est = est - b
        extra["bias"] = pd.Series(b, index=names)
        extra["panel_structure"] = structure
    hess = (r.xt * w) @ r.xt.T
    infl = (mx_all @ np.linalg.solve(hess / n, jac) - p_psi) / n
    return est, infl, v, extra
