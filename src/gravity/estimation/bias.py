r"""Analytical incidental-parameter bias correction of binary models with fixed effects.

With fixed effects in both dimensions the MLE has a bias of order ``1/T + 1/N``.
The correction of Fernandez-Val and Weidner (2016, "Individual and time effects in
nonlinear panel models with large N, T", J. Econometrics 192) for two-way ``(i, t)``
effects, and of Hinz, Stammann and Wanner (2020, "State dependence and unobserved
heterogeneity in the extensive margin of trade") for the three-way network case
``(i x t, j x t, i x j)``, computed as ``alpaca::biasCorr`` with bandwidth ``L = 0``
(strictly exogenous regressors):

.. math::

   w_i = h_i mu'_i,\quad z_i = h_i mu''_i,\quad h_i = mu'_i / (mu_i (1 - mu_i)),\qquad
   \hat b = -\frac{1}{2 n} \sum_q \sum_{g \in q}
       \frac{\sum_{i \in g} \tilde x_i z_i}{\sum_{i \in g} w_i},\qquad
   \hat\beta^{bc} = \hat\beta - (H / n)^{-1} \hat b,\quad H = X~' W X~

(``classic``: the first two fixed effects; ``network``: up to three). The fixed
effects are then re-estimated with ``x'beta^bc`` as an offset and the variance
recomputed at the corrected values. The spectral (``L > 0``) term for predetermined
regressors is not implemented.

The variance is the first-order one (the MLE's, at the corrected values; alpaca's
``biasCorr``); checked against the dense dummy-variable sandwich in
``tests/test_bias_binary_variance.py``. In short panels it overstates the spread of the
corrected coefficient: the estimated bias moves with the estimate, so that
``d beta^bc / d beta`` (:func:`corrected_slopes`) is well below one (about 0.4-0.7 for
a treatment dummy with three-way effects, 20 countries, 11 periods) and the corrected
estimate varies less than the MLE; the first-order variance ignores this and is
conservative (``benchmarks/results/cloglog_bias_se.md``). For the corrected average
partial effects (:mod:`gravity.estimation.apes`) this shrinkage is offset by the slope of
the APE's own bias term, so that their SE is close to their spread at 20 countries and
11-14% below it at 40 (``benchmarks/results/margins_ape_se.md``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, overload

import numpy as np
import pandas as pd

from ..errors import EstimationError
from ..hdfe import DemeanConfig
from .assemble import with_warnings
from .design import ModelData
from .feglm import fit_glm
from .irls import IRLSSettings, inverse_gram
from .ppml_bias import BiasCorrectedPoissonResults, ppml_bias_correct
from .record import FitRecord, FitSettings
from .results import BinaryResults, PoissonResults, RegressionResults

#: tolerances of the re-estimation of the fixed effects at the corrected slopes
REFIT_TOL = 1e-12
REFIT_FIXEF_TOL = 1e-10

PANEL_STRUCTURES = {"classic": (1, 2), "network": (2, 3)}


def _check(res: RegressionResults, panel_structure: str) -> BinaryResults:
    if not isinstance(res, BinaryResults):
        raise EstimationError(
            f"the analytical bias correction applies to logit, probit and cloglog fits "
            f"with fixed effects and to PPML with exporter-time, importer-time (and pair) "
            f"effects; this is a {res.model.upper()} fit")
    if panel_structure not in PANEL_STRUCTURES:
        raise ValueError("panel_structure must be 'classic' or 'network'")
    q = len(res.record.fe_codes)
    lo, hi = PANEL_STRUCTURES[panel_structure]
    if not lo <= q <= hi:
        need = "i + t" if panel_structure == "classic" else "i^t + j^t [+ i^j]"
        raise EstimationError(f"'{panel_structure}' bias correction needs the fixed effects "
                              f"{need}; the model has {q}")
    if res.bias_corrected:
        raise EstimationError("the fit is already bias-corrected")
    return res


def bias_term(res: RegressionResults, panel_structure: str = "classic") -> np.ndarray:
    """The bias estimate ``b`` (alpaca's ``bias_term``): ``beta^bc = beta - (H/n)^{-1} b``."""
    fit = _check(res, panel_structure)
    r = fit.record
    fam = r.family
    h = fam.score_factor(r.eta)
    w = r.prior_weights * np.maximum(fam.mu_eta(r.eta), 1e-300) * h
    z = r.prior_weights * fam.mu_eta2(r.eta) * h
    xt = r.xt
    assert xt is not None
    b = np.zeros(xt.shape[0])
    for codes in r.fe_codes[: PANEL_STRUCTURES[panel_structure][1]]:
        g = int(codes.max()) + 1
        den = np.bincount(codes, weights=w, minlength=g)
        for k in range(xt.shape[0]):
            num = np.bincount(codes, weights=xt[k] * z, minlength=g)
            b[k] -= float(np.sum(num / den)) / (2.0 * r.nobs)
    return b


@overload
def bias_correct(res: BinaryResults, panel_structure: str | None = None,
                 variance: str = "auto") -> BinaryResults: ...


@overload
def bias_correct(res: PoissonResults, panel_structure: str | None = None,
                 variance: str = "auto") -> BiasCorrectedPoissonResults: ...


@overload
def bias_correct(res: RegressionResults, panel_structure: str | None = None,
                 variance: str = "auto") -> RegressionResults: ...


def bias_correct(res: RegressionResults, panel_structure: str | None = None,
                 variance: str = "auto") -> RegressionResults:
    """Analytical bias correction of a fixed-effect fit.

    * logit, probit, cloglog (module docstring; ``panel_structure="classic"``, the
      default, or ``"network"``): a new result whose ``params`` and variance are
      evaluated at the corrected coefficients, with the fixed effects re-estimated
      given them; ``params_uncorrected`` keeps the MLE.
    * PPML with exporter-time, importer-time and pair effects (or the first two only):
      the Weidner-Zylkin (2021) bias and variance corrections
      (:func:`gravity.estimation.ppml_bias.ppml_bias_correct`; ``variance="exact"``,
      ``"approx"`` or ``"auto"``; ``panel_structure`` may name ``"three-way"`` or
      ``"two-way"``).

    Any other model is an :class:`~gravity.errors.EstimationError`.
    """
    if isinstance(res, PoissonResults):
        if panel_structure not in (None, "three-way", "two-way"):
            raise EstimationError("for PPML, panel_structure is 'three-way' or 'two-way', "
                                  f"not {panel_structure!r}")
        return ppml_bias_correct(res, variance=variance, model=panel_structure)
    panel_structure = panel_structure or "classic"
    fit = _check(res, panel_structure)
    out = with_warnings(lambda: _correct(fit, panel_structure))
    # the corrected fit keeps the warnings of the fit it corrects, then its own
    rec = replace(out.record, warnings=tuple(fit.warnings) + tuple(out.record.warnings))
    return BinaryResults(rec, out._vr, out._spec, out._ssc)


def _model_data(r: FitRecord, tol: float) -> ModelData:
    return ModelData(formula=r.formula, y=r.y, X=r.X, names=list(r.names),
                     fe_codes=list(r.fe_codes), weights=r.prior_weights, offset=r.offset,
                     mask=r.mask.copy(), dropped=dict(r.dropped),
                     n_input=r.n_input, dropped_rows=dict(r.dropped_positions),
                     demean_config=DemeanConfig(tol=tol))


def _at_slopes(fit: BinaryResults, beta: np.ndarray, md: ModelData, settings: FitSettings,
               extra: dict[str, Any] | None = None) -> BinaryResults:
    """The fit with the slopes held at ``beta`` (an offset), the fixed effects
    re-estimated given them, and ``X~``, the weights, the bread and the scores evaluated
    there."""
    r = fit.record
    out = fit_glm(md, pd.DataFrame(), r.family, r.spec, fit.ssc,
                  IRLSSettings(tol=REFIT_TOL, maxiter=100), settings,
                  extra_offset=r.X @ beta, estimate_slopes=False, beta=beta, extra=extra,
                  iterations=r.iterations, reuse=r)
    rec = out.record
    h = r.family.score_factor(rec.eta)
    w_new = r.prior_weights * np.maximum(r.family.mu_eta(rec.eta), 1e-300) * h
    xt_new = np.array(r.X.T, dtype=np.float64, order="C")  # a copy: demeaned in place
    fe = md.fixed_effects
    if fe is not None and xt_new.shape[0]:
        fe.demean_inplace(xt_new, w_new, tol=REFIT_FIXEF_TOL, maxiter=10_000)
    score_base = r.prior_weights * h * (r.y - rec.fitted)
    rec = replace(rec, xt=xt_new, irls_weights=w_new, bread=inverse_gram(xt_new, w_new),
                  stored_scores=None, score_base=score_base, fe_levels=r.fe_levels,
                  dropped_regressors=r.dropped_regressors)
    return BinaryResults(rec, None, fit._spec, fit._ssc)


def corrected_slopes(res: RegressionResults, beta: np.ndarray,
                     panel_structure: str = "classic") -> np.ndarray:
    """The correction as a function of the slopes: ``beta^bc(beta) = beta - (H/n)^{-1}
    b(beta)`` with the fixed effects re-estimated at ``beta`` and the bias term and
    ``H`` evaluated there (at the MLE: :func:`bias_correct`'s estimate). Its Jacobian
    ``d beta^bc / d beta`` measures how much the correction shrinks the sampling spread
    of the estimate in a finite panel, which the first-order variance ignores."""
    fit = _check(res, panel_structure)
    md = _model_data(fit.record, REFIT_FIXEF_TOL)
    at = _at_slopes(fit, np.asarray(beta, dtype=float), md, fit.record.settings)
    r = at.record
    assert r.xt is not None and r.irls_weights is not None
    hess = (r.xt * r.irls_weights) @ r.xt.T
    return r.beta - np.linalg.solve(hess / r.nobs, bias_term(at, panel_structure))


def _correct(fit: BinaryResults, panel_structure: str) -> BinaryResults:
    r = fit.record
    b = bias_term(fit, panel_structure)
    xt, w = r.xt, r.irls_weights
    assert xt is not None and w is not None
    hess = (xt * w) @ xt.T
    beta_bc = r.beta - np.linalg.solve(hess / r.nobs, b)
    md = _model_data(r, REFIT_FIXEF_TOL)
    s = r.settings
    fit_settings = FitSettings(weights=s.weights, offset=s.offset, separation=s.separation,
                               bias_correction=panel_structure, tol=s.tol,
                               fixef_tol=s.fixef_tol, demean_method=s.demean_method)
    extra = {"bias_corrected": True, "panel_structure": panel_structure,
             "params_uncorrected": fit.params.copy(),
             "bias_term": pd.Series(b, index=fit.params.index)}
    # the variance at the corrected values: X demeaned with the weights there
    return _at_slopes(fit, beta_bc, md, fit_settings, extra)
