r"""Generalised linear models with high-dimensional fixed effects: :func:`feglm` and the
thin public estimators on it (:func:`ppml`, :func:`logit`, :func:`probit`,
:func:`cloglog`).

**PPML** (Santos Silva and Tenreyro 2006) solves ``sum_i w_i x_i (y_i - mu_i) = 0``
with ``mu_i = exp(x_i'beta + sum_q alpha_q + o_i)``; **binary models** maximise the
Bernoulli likelihood with ``P(y = 1) = F(eta)`` (Stammann 2018, alpaca's ``feglm``).
All run on the IRLS engine of :mod:`gravity.estimation.irls`. Rows that are
separated -- fixed-effect groups whose outcome is all zero (or, for binary outcomes,
all one), and observations separated by the regressors (simplex and ReLU methods for
Poisson, the two-sided linear programme for binary outcomes; Correia, Guimaraes and
Zylkin 2019) -- are dropped and reported. Binary models run their checks before the
fit. A Poisson fit runs first (after the fixed-effect check) and asks its last IRLS
step for a certificate that nothing is separated
(:func:`gravity.estimation.separation.no_separation_margin`); only without one do the
simplex and ReLU checks run, and the fit is redone only when they drop rows (or when
the first fit was abandoned as it drifted along a separating direction).

The Poisson outcome is divided by its weighted mean before the iterations (the offset
absorbs the scale), as ppmlhdfe standardises: the slopes, their variance and the
stopping rule do not depend on the units of ``y``. Standard errors: the sandwich of
:mod:`gravity.inference.vcov` with bread ``(X~' W X~)^{-1}`` (expected information)
and scores ``x~_i (y_i - mu_i) h_i`` (``h = mu' / V(mu)``, 1 for canonical links).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from ..errors import EstimationError, InputError, SeparationWarning
from ..formula import parse_formula
from ..hdfe import DemeanConfig
from ..inference.vcov import SSC, parse_vcov, resolve_ssc
from .arrays import constant
from .assemble import build_result, held_warnings, release, with_warnings
from .design import ModelData, prepare, require_observations
from .families import Family, Poisson, get_family
from .irls import IRLSResult, IRLSSettings, irls
from .notice import first_compile_notice, irls_log
from .record import FitRecord, FitSettings, LoglikFromDeviance
from .results import BinaryResults, PoissonResults, RegressionResults
from .separation import drop_separated, separation_methods
from .terms import panel_time_step, panel_tuple
from .threads import single_blas_thread

DEFAULT_SEPARATION = ("fe", "simplex", "relu")


def feglm(
    formula: str,
    data: pd.DataFrame,
    family: str | Family = "poisson",
    vcov: Any = None,
    weights: Any = None,
    offset: Any = None,
    ssc: SSC | str | dict | None = None,
    separation: Any = DEFAULT_SEPARATION,
    missing: str = "raise",
    drop_singletons: bool = True,
    tol: float = 1e-8,
    maxiter: int = 100,
    fixef_tol: float = 1e-8,
    fixef_maxiter: int = 10_000,
    on_nonconvergence: str = "warn",
    beta_tol: float | None = None,
    demean_method: str = "cg",
    panel_id: Any = None,
    exposure: Any = None,
    verbose: bool = False,
    lean: bool = False,
) -> RegressionResults:
    """A GLM with any number of high-dimensional fixed effects.

    Parameters
    ----------
    formula : ``"trade ~ ln_dist + cntg | exp_year + imp_year + pair"`` (fixest grammar)
    data : DataFrame
    family : ``"poisson"``, ``"logit"``, ``"probit"``, ``"cloglog"``, ``"gaussian"``
        or a :class:`~gravity.estimation.families.Family`
    vcov : ``"iid"``, ``"hetero"``, ``{"CRV1": "pair"}``, ``{"CRV1": "exporter+importer"}``,
        ``"NW"``/``"DK"`` (``{"NW": "pair+year", "lag": 2}``; HC2, HC3 and CRV3 are for
        least squares); default: clustered by the panel's unit with ``panel_id``, else
        by the first fixed effect (fixest), ``"iid"`` without
    weights : column, Series (aligned on the index) or array of prior weights
    offset : column, Series or array added to the linear predictor with coefficient one,
        or a formula such as ``"~log(pop)"`` (fixest)
    exposure : column, Series or array whose log is added to the offset (statsmodels'
        ``exposure=``: a Poisson rate per unit of exposure)
    panel_id : ``(unit, time)`` columns of the panel, for ``l()``/``f()`` lags and leads
        and the ``"NW"``/``"DK"`` variances (fixest's ``panel.id``)
    ssc : ``"fixest"`` (default: ``G/(G-1) (N-1)/(N-K)``), ``"glm"`` (``G/(G-1)`` only,
        as Stata ``glm``/``ppml``) or :func:`gravity.ssc`
    separation : methods to detect separated observations: any of ``"fe"``,
        ``"simplex"``, ``"relu"``; ``None`` for none (binary models: ``"simplex"`` or
        ``"relu"`` run the two-sided linear programme)
    missing : ``"raise"`` (default) or ``"drop"``
    drop_singletons : drop singleton groups (default True, as ppmlhdfe)
    tol, maxiter : IRLS tolerance (deviance) and iteration cap; beta_tol : coefficient
        tolerance (default ``10 tol``)
    fixef_tol, fixef_maxiter, demean_method : demeaning tolerance at convergence, cap
        and algorithm (``"cg"``, or ``"map"``: the NumPy reference)
    on_nonconvergence : ``"warn"`` (:class:`ConvergenceWarning`) or ``"raise"``
        (:class:`ConvergenceError`, also when the demeaning does not converge)
    verbose : log every IRLS iteration (deviance, relative change, largest coefficient
        change, step halvings) on stderr
    lean : return the result without its row-level arrays (fixest's ``lean = TRUE``:
        :meth:`~gravity.estimation.results.RegressionResults.lean`): the same
        coefficients, variance, statistics and tables; the methods that need the rows
        raise :class:`~gravity.errors.LeanResultError`
    """
    fam = get_family(family)
    if fam.name == "ols":
        from .ols import ols

        return ols(formula, data, vcov=vcov, weights=weights, ssc=ssc, missing=missing,
                   drop_singletons=drop_singletons, fixef_tol=fixef_tol,
                   fixef_maxiter=fixef_maxiter, on_nonconvergence=on_nonconvergence,
                   demean_method=demean_method, panel_id=panel_id, lean=lean)
    settings = IRLSSettings(tol=tol, maxiter=maxiter, beta_tol=beta_tol,
                            on_nonconvergence=on_nonconvergence)
    config = DemeanConfig(tol=fixef_tol, maxiter=fixef_maxiter, method=demean_method)
    methods = separation_methods(separation)
    with first_compile_notice(), irls_log(verbose), single_blas_thread():
        res = with_warnings(lambda: _feglm(formula, data, fam, vcov, weights, offset, ssc,
                                           methods, missing, drop_singletons, settings,
                                           config, panel_id, exposure))
    return res.lean() if lean else res


def _feglm(formula: str, data: pd.DataFrame, fam: Family, vcov: Any, weights: Any,
           offset: Any, ssc: Any, methods: frozenset[str], missing: str,
           drop_singletons: bool, settings: IRLSSettings, config: DemeanConfig,
           panel_id: Any = None, exposure: Any = None) -> RegressionResults:
    f = parse_formula(formula)
    panel = panel_tuple(panel_id)
    spec = parse_vcov(vcov, f.fixed_effects, panel)
    rule = resolve_ssc(ssc)
    # all-zero groups: Poisson with the "fe" check; binary models always prune groups
    # whose outcome is all 0 or all 1 (their effect is -/+ infinity)
    drop_all_zero = fam.binary or (fam.nonnegative and "fe" in methods)
    md = prepare(f, data, weights=weights, offset=offset, extra_columns=spec.columns(),
                 missing=missing, nonnegative=fam.nonnegative, binary=fam.binary,
                 drop_singletons=drop_singletons, drop_all_zero=drop_all_zero,
                 drop_all_one=fam.binary, demean_config=config, panel_id=panel,
                 exposure=exposure)
    if f.slopes and "relu" not in methods:
        warnings.warn("with varying slopes, observations separated along a group's slope "
                      "(flows that die out along a trend) are detected only by the 'relu' "
                      "separation check, which is not run", SeparationWarning, stacklevel=4)
    fit_settings = FitSettings(
        weights=_label(weights, "weights"), offset=_offset_label(offset, exposure),
        separation=tuple(m for m in DEFAULT_SEPARATION if m in methods),
        tol=settings.tol, fixef_tol=config.tol, demean_method=config.method,
        panel_id=panel, time_step=panel_time_step(data, panel))
    checks = bool(methods & {"simplex", "relu"})
    if checks and not fam.binary and md.nobs and not md.slope_codes:
        return _fit_certified(md, data, fam, spec, rule, settings, fit_settings, methods,
                              drop_singletons)
    if checks:
        _check_separation(md, methods, drop_singletons, fam.binary)
    _warn_separated(md)
    return fit_glm(md, data, fam, spec, rule, settings, fit_settings)


def _fit_certified(md: ModelData, data: pd.DataFrame, fam: Family, spec: Any, rule: SSC,
                   settings: IRLSSettings, fit_settings: FitSettings,
                   methods: frozenset[str], drop_singletons: bool) -> RegressionResults:
    """Poisson with the simplex or ReLU check: fit first, and run the checks only when
    the fit's last step does not certify that nothing is separated
    (:func:`.irls.irls` with ``certify``). The checks then see the sample as it was
    before the fit (which may have dropped collinear regressors); the fit is redone,
    its warnings dropped, when they drop rows or when it was abandoned."""
    given = md.X, md.names
    with held_warnings() as held:
        try:
            probe: IRLSResult | None = _scaled_irls(md, fam, settings, certify=True)
        except EstimationError:  # (e.g. a singular step along a separating direction)
            probe = None
    if probe is None or not probe.certified:
        reduced = md.X, md.names
        md.X, md.names = given
        before = md.nobs
        _check_separation(md, methods, drop_singletons, binary=False)
        if probe is None or probe.aborted or md.nobs != before:
            _warn_separated(md)
            return fit_glm(md, data, fam, spec, rule, settings, fit_settings)
        md.X, md.names = reduced
    _warn_separated(md)  # (the fixed-effect check's: the others dropped nothing)
    release(held)
    return _assemble_glm(md, data, fam, probe, spec, rule, fit_settings)


def _check_separation(md: ModelData, methods: frozenset[str], drop_singletons: bool,
                      binary: bool) -> None:
    drop_separated(md, methods, drop_singletons=drop_singletons, binary=binary)
    # after separation a Poisson outcome may be constant where the fixed effects fit it
    # exactly (ppmlhdfe's answer); a binary one has nothing left to explain
    require_observations(md, variation=binary)


def _warn_separated(md: ModelData) -> None:
    separated = {k: v for k, v in md.dropped.items() if k.startswith("separated")}
    if separated:
        detail = ", ".join(f"{k}: {v}" for k, v in separated.items())
        warnings.warn(f"{sum(separated.values())} separated observations dropped ({detail})",
                      SeparationWarning, stacklevel=5)


def _offset_label(offset: Any, exposure: Any) -> str | None:
    """The offset's label; a column name alone is kept as it is (predict reads it
    from newdata)."""
    if exposure is None:
        return _label(offset, "offset")
    parts = [p for p in (_label(offset, "offset"), _label(exposure, "exposure")) if p]
    return "offset: " + " + ".join(parts) + " (log)"


def _label(v: Any, what: str) -> str | None:
    if v is None:
        return None
    return v if isinstance(v, str) else f"{what} (array)"


def fit_glm(md: ModelData, data: pd.DataFrame, fam: Family, spec: Any, rule: SSC,
            settings: IRLSSettings, fit_settings: FitSettings,
            extra_offset: np.ndarray | None = None, estimate_slopes: bool = True,
            beta: np.ndarray | None = None, extra: dict[str, Any] | None = None,
            iterations: int | None = None, reuse: FitRecord | None = None
            ) -> RegressionResults:
    """Run IRLS on a prepared sample and assemble the result (shared by :func:`feglm`
    and the bias correction, which holds the slopes fixed in ``extra_offset``)."""
    res = _scaled_irls(md, fam, settings, extra_offset=extra_offset,
                       estimate_slopes=estimate_slopes)
    return _assemble_glm(md, data, fam, res, spec, rule, fit_settings, beta=beta,
                         extra=extra, iterations=iterations, reuse=reuse)


def _scaled_irls(md: ModelData, fam: Family, settings: IRLSSettings,
                 extra_offset: np.ndarray | None = None, estimate_slopes: bool = True,
                 certify: bool = False) -> IRLSResult:
    """IRLS on ``md``; a Poisson outcome divided by its weighted mean (the offset takes
    ``-log`` of it), and the solution's linear predictor and weights put back in the
    outcome's units."""
    n = md.nobs
    pw = constant(n, 1.0) if md.weights is None else md.weights
    y0, off0 = md.y, md.offset
    scale = 1.0
    shift: np.ndarray | float | None = extra_offset
    if isinstance(fam, Poisson):
        # y / scale and the offset - log(scale) (a scalar: no N-vector for it)
        scale = float(pw @ md.y) / float(pw.sum())
        md.y = md.y / scale
        shift = -np.log(scale) if extra_offset is None else extra_offset - np.log(scale)
    try:
        res = irls(md, fam.bind(md.y, pw), settings, extra_offset=shift,
                   estimate_slopes=estimate_slopes, certify=certify)
    finally:
        md.y, md.offset = y0, off0
    if scale != 1.0:  # (the IRLS arrays are its own: rescaled in place)
        res.eta += np.log(scale)
        res.weights *= scale  # the variance weights scale with mu (Poisson)
    return res


def _assemble_glm(md: ModelData, data: pd.DataFrame, fam: Family, res: IRLSResult,
                  spec: Any, rule: SSC, fit_settings: FitSettings,
                  beta: np.ndarray | None = None, extra: dict[str, Any] | None = None,
                  iterations: int | None = None, reuse: FitRecord | None = None
                  ) -> RegressionResults:
    """The result of an IRLS solution on ``md``: scores, deviance, log-likelihood, and
    the record (:func:`.assemble.build_result`)."""
    n = md.nobs
    pw = constant(n, 1.0) if md.weights is None else md.weights
    # the IRLS arrays are taken over (no second copy of each)
    eta, weights, xt = res.eta, res.weights, res.xt
    b = res.beta if beta is None else beta
    dropped_names, iterations, converged = res.dropped_names, iterations or res.iterations, \
        res.converged
    y = md.y
    mu = fam.inverse_link(eta)
    score_base = y - mu
    if not isinstance(fam, Poisson):  # h = mu' / V(mu) is 1 for the canonical link
        score_base *= fam.score_factor(eta)
    if md.weights is not None:
        score_base *= pw
    bound = fam.bind(y, pw)
    eta0 = np.full(n, fam.null_eta(y, pw))
    deviance, null_deviance = bound.deviance(eta), bound.deviance(eta0)
    loglik: float | LoglikFromDeviance
    null_loglik: float | LoglikFromDeviance
    if type(fam).deviance is Family.deviance:
        # l = l_saturated - D / 2, computed on first use (log y! of every outcome)
        loglik, null_loglik = LoglikFromDeviance(deviance), LoglikFromDeviance(null_deviance)
    else:
        loglik, null_loglik = fam.loglik(y, eta, pw), fam.loglik(y, eta0, pw)
    del eta0, bound
    stats = {"deviance": deviance, "null_deviance": null_deviance,
             "loglik": loglik, "null_loglik": null_loglik}
    return build_result(
        md=md, data=data, family=fam, beta=b, eta=eta, xt=xt, weights=weights,
        score_base=score_base, spec=spec, rule=rule, settings=fit_settings, sigma2=None,
        dropped_regressors=dropped_names, iterations=iterations,
        converged=converged, stats=stats, keep_design=fam.binary, extra=extra,
        reuse=reuse)


def ppml(
    formula: str,
    data: pd.DataFrame,
    vcov: Any = None,
    weights: Any = None,
    offset: Any = None,
    ssc: SSC | str | dict | None = None,
    separation: Any = DEFAULT_SEPARATION,
    missing: str = "raise",
    drop_singletons: bool = True,
    tol: float = 1e-8,
    maxiter: int = 100,
    fixef_tol: float = 1e-8,
    fixef_maxiter: int = 10_000,
    on_nonconvergence: str = "warn",
    demean_method: str = "cg",
    panel_id: Any = None,
    exposure: Any = None,
    verbose: bool = False,
    bias_correction: bool | str | None = None,
    bias_variance: str = "auto",
    lean: bool = False,
) -> PoissonResults:
    """PPML with any number of high-dimensional fixed effects: :func:`feglm` with the
    Poisson family (see its parameters). The outcome must be non-negative (zeros kept).

    ``bias_correction``: ``True`` (or ``"auto"``), ``"three-way"`` or ``"two-way"``
    returns the Weidner-Zylkin (2021) correction of the fit, the same object as
    ``bias_correct(ppml(...))`` (:func:`gravity.estimation.ppml_bias.ppml_bias_correct`;
    fixed effects exporter-time, importer-time and pair -- bias and variance corrected,
    variance clustered by pair -- or exporter-time and importer-time -- variance only);
    ``True`` reads the model from the number of fixed effects. ``bias_variance``:
    ``"auto"``, ``"exact"`` or ``"approx"`` (the authors' large-N approximation).
    ``lean``: the result without its row-level arrays (see :func:`feglm`), made lean
    after the correction.
    """
    if bias_correction not in (None, False, True, "auto", "three-way", "two-way"):
        raise InputError(f"bias_correction must be True, 'three-way' or 'two-way' (or None), "
                         f"not {bias_correction!r}")
    if bias_variance not in ("auto", "exact", "approx"):
        raise InputError(f"bias_variance must be 'auto', 'exact' or 'approx', not "
                         f"{bias_variance!r}")
    res = feglm(formula, data, "poisson", vcov=vcov, weights=weights, offset=offset,
                ssc=ssc, separation=separation, missing=missing,
                drop_singletons=drop_singletons, tol=tol, maxiter=maxiter,
                fixef_tol=fixef_tol, fixef_maxiter=fixef_maxiter,
                on_nonconvergence=on_nonconvergence, demean_method=demean_method,
                panel_id=panel_id, exposure=exposure, verbose=verbose)
    assert isinstance(res, PoissonResults)
    if bias_correction is not None and bias_correction is not False:
        from .ppml_bias import ppml_bias_correct

        model = bias_correction if isinstance(bias_correction, str) and \
            bias_correction != "auto" else None
        res = ppml_bias_correct(res, variance=bias_variance, model=model)
    return res.lean() if lean else res


def _binary(family: str, formula: str, data: pd.DataFrame, **kwargs: Any) -> BinaryResults:
    bias_correction = kwargs.pop("bias_correction", None)
    lean = bool(kwargs.pop("lean", False))
    kwargs.setdefault("tol", 1e-10)
    kwargs.setdefault("maxiter", 200)
    kwargs.setdefault("fixef_tol", 1e-10)
    kwargs.setdefault("beta_tol", 1e-10)
    res = feglm(formula, data, family, **kwargs)
    assert isinstance(res, BinaryResults)
    if bias_correction is not None:
        from .bias import bias_correct

        res = bias_correct(res, panel_structure=bias_correction)
    return res.lean() if lean else res


def logit(formula: str, data: pd.DataFrame, **kwargs: Any) -> BinaryResults:
    """Fixed-effect logit, ``P(y = 1) = 1 / (1 + exp(-eta))``: :func:`feglm` with the
    logit family (``bias_correction="classic"``/``"network"``: :func:`bias_correct`;
    ``lean=True``: made lean after it)."""
    return _binary("logit", formula, data, **kwargs)


def probit(formula: str, data: pd.DataFrame, **kwargs: Any) -> BinaryResults:
    """Fixed-effect probit, ``P(y = 1) = Phi(eta)``: :func:`feglm` with the probit family."""
    return _binary("probit", formula, data, **kwargs)


def cloglog(formula: str, data: pd.DataFrame, **kwargs: Any) -> BinaryResults:
    """Fixed-effect complementary log-log model, ``P(y = 1) = 1 - exp(-exp(eta))``: the
    exact entry equation of a Poisson number of exporters, ``P(N > 0) = 1 - exp(-lambda)``
    with ``ln lambda = eta`` (:mod:`gravity.simulate`), so its slopes are the effects on
    ``ln lambda`` (the expected number of exporting firms)."""
    return _binary("cloglog", formula, data, **kwargs)


def feglm_binary(formula: str, data: pd.DataFrame, family: str = "logit",
                 **kwargs: Any) -> BinaryResults:
    """Logit, probit or cloglog by name (``family=``); see :func:`logit`."""
    if family not in ("logit", "probit", "cloglog"):
        raise ValueError(f"family must be 'logit', 'probit' or 'cloglog', got {family!r}")
    return _binary(family, formula, data, **kwargs)
