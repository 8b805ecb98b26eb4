r"""Least squares with high-dimensional fixed effects (``reghdfe`` / ``feols``).

By the Frisch-Waugh-Lovell theorem the slope coefficients of
``y = X beta + D alpha + u`` equal those of the regression of ``M y`` on ``M X``
where ``M`` is the (weighted) annihilator of the fixed-effect design ``D``,
computed by :mod:`gravity.hdfe`. Variances: see :mod:`gravity.inference.vcov`.
The linear probability model (:func:`lpm`) is this estimator on a 0/1 outcome.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import EstimationError
from ..formula import parse_formula
from ..hdfe import DemeanConfig
from ..inference.vcov import SSC, parse_vcov, resolve_ssc
from .arrays import constant
from .assemble import build_result, with_warnings
from .collinearity import centred_squares_rows, drop_collinear
from .design import prepare
from .families import Gaussian
from .irls import IRLSSettings, report_demeaning, solve_normal
from .notice import first_compile_notice
from .record import FitSettings
from .results import LinearResults
from .shared import demean_work
from .terms import panel_time_step, panel_tuple
from .threads import single_blas_thread


def ols(
    formula: str,
    data: pd.DataFrame,
    vcov: Any = None,
    weights: Any = None,
    ssc: SSC | str | dict | None = None,
    missing: str = "raise",
    drop_singletons: bool = True,
    fixef_tol: float = 1e-8,
    fixef_maxiter: int = 10_000,
    on_nonconvergence: str = "warn",
    demean_method: str = "cg",
    panel_id: Any = None,
    lean: bool = False,
) -> LinearResults:
    """OLS/WLS with any number of high-dimensional fixed effects.

    Parameters
    ----------
    formula : ``"y ~ x1 + x2 | fe1 + fe2^fe3"`` (fixest grammar, see
        :mod:`gravity.formula`); without fixed effects an intercept is included
        unless ``0``/``-1`` is written.
    data : DataFrame
    vcov : ``"iid"``, ``"hetero"`` (HC1), ``"HC2"``, ``"HC3"``, ``{"CRV1": "pair"}``,
        ``{"CRV1": "exporter+importer"}``, ``{"CRV3": "pair"}``, ``"NW"``/``"DK"``
        (on ``panel_id``; ``{"NW": "pair+year", "lag": 2}``, ``{"DK": "year"}``).
        Default as fixest: clustered by the panel's unit with ``panel_id``, else by
        the first fixed effect, ``"iid"`` without fixed effects
        (:mod:`gravity.inference.vcov`).
    weights : column name, Series or array of analytic weights (minimise ``sum w u^2``)
    ssc : small-sample correction: ``"fixest"`` (default) or ``"glm"``
        (``G/(G-1)`` only), or :func:`gravity.ssc`
    missing : ``"raise"`` (default) or ``"drop"`` rows with missing values
    drop_singletons : drop singleton fixed-effect groups (default True)
    fixef_tol, fixef_maxiter, demean_method : demeaning tolerance, cap and algorithm
    on_nonconvergence : ``"warn"`` or ``"raise"`` when the demeaning does not converge
    panel_id : ``(unit, time)`` columns of the panel: for ``l()``/``f()`` lags and
        leads and the ``"NW"``/``"DK"`` variances (fixest's ``panel.id``)
    lean : return the result without its row-level arrays (fixest's ``lean = TRUE``;
        :meth:`~gravity.estimation.results.RegressionResults.lean`)
    """
    return _least_squares(formula, data, vcov, weights, ssc, missing, drop_singletons,
                          fixef_tol, fixef_maxiter, on_nonconvergence, demean_method,
                          binary=False, panel_id=panel_id, lean=lean)


def lpm(formula: str, data: pd.DataFrame, vcov: Any = None, weights: Any = None,
        ssc: SSC | str | dict | None = None, missing: str = "raise",
        drop_singletons: bool = True, fixef_tol: float = 1e-8, fixef_maxiter: int = 10_000,
        on_nonconvergence: str = "warn", demean_method: str = "cg",
        panel_id: Any = None, lean: bool = False) -> LinearResults:
    """Linear probability model with high-dimensional fixed effects: :func:`ols` on a
    0/1 outcome (checked: :class:`InputError` naming the rows otherwise)."""
    return _least_squares(formula, data, vcov, weights, ssc, missing, drop_singletons,
                          fixef_tol, fixef_maxiter, on_nonconvergence, demean_method,
                          binary=True, panel_id=panel_id, lean=lean)


def _least_squares(formula: str, data: pd.DataFrame, vcov: Any, weights: Any, ssc: Any,
                   missing: str, drop_singletons: bool, fixef_tol: float,
                   fixef_maxiter: int, on_nonconvergence: str, demean_method: str,
                   binary: bool, panel_id: Any = None, lean: bool = False) -> LinearResults:
    settings = IRLSSettings(on_nonconvergence=on_nonconvergence)
    config = DemeanConfig(tol=fixef_tol, maxiter=fixef_maxiter, method=demean_method)
    with first_compile_notice(), single_blas_thread():
        res = with_warnings(lambda: _ols(formula, data, vcov, weights, ssc, missing,
                                         drop_singletons, settings, config, binary=binary,
                                         panel_id=panel_id))
    assert isinstance(res, LinearResults)
    return res.lean() if lean else res


def _ols(formula: str, data: pd.DataFrame, vcov: Any, weights: Any, ssc: Any, missing: str,
         drop_singletons: bool, settings: IRLSSettings, config: DemeanConfig,
         binary: bool, panel_id: Any = None) -> LinearResults:
    f = parse_formula(formula)
    panel = panel_tuple(panel_id)
    spec = parse_vcov(vcov, f.fixed_effects, panel)
    rule = resolve_ssc(ssc)
    md = prepare(f, data, weights=weights, extra_columns=spec.columns(), missing=missing,
                 drop_singletons=drop_singletons, binary=binary, demean_config=config,
                 panel_id=panel)
    w = md.weights
    ww = constant(md.nobs, 1.0) if w is None else w
    fe = md.fixed_effects
    work = np.empty((1 + md.X.shape[1], md.nobs))  # rows: y, then the regressors
    work[0] = md.y
    work[1:] = md.X.T
    iterations = 0
    has_fe = fe is not None
    # the regressors' centred sums of squares from their contiguous rows, before they
    # are demeaned (the collinearity tests' denominators)
    ss_raw = centred_squares_rows(work[1:], w) if has_fe else None
    if fe is not None:
        info = demean_work(fe, work, w, config)  # columns shared in estimate_many
        iterations = int(info.iterations.max())
        if not bool(info.converged.all()):
            report_demeaning(md, settings)
        # the demeaner (its own copy of the codes, in the engine's order) is not
        # needed again: released before the record is built (memory)
        del fe
        md._fe = None
    yt = work[0]
    before = list(md.names)
    dropped = drop_collinear(md, work[1:].T, w, ss_raw)
    if dropped:
        keep = [1 + j for j, nm in enumerate(before) if nm not in dropped]
        work = np.ascontiguousarray(work[[0] + keep])
    xt = work[1:]
    if xt.shape[0] == 0 and not has_fe:
        raise EstimationError("nothing to estimate: no regressors and no fixed effects")
    beta = solve_normal(xt, ww, yt) if xt.shape[0] else np.zeros(0)

    def wss(v: np.ndarray) -> float:  # sum of w v^2 (no product with unit weights)
        return float(v @ v) if w is None else float(ww @ (v * v))

    tss_within = wss(yt) if not md.intercept_as_fe and has_fe else None
    # the residual u = y~ - X~ b overwrites y~ in the working array, which the record
    # keeps (with X~ in the rows below it): no other N-vector for it
    u = yt
    if xt.shape[0]:
        u -= beta @ xt
    rss = wss(u)
    n = md.nobs
    if md.intercept_as_fe or has_fe:
        ybar = (ww @ md.y) / ww.sum()
        tss = wss(md.y - ybar)
    else:
        tss = wss(md.y)
    if tss_within == 0.0 or (md.intercept_as_fe and tss == 0.0):
        raise EstimationError(
            f"the outcome '{f.outcome}' does not vary within the fixed effects"
            + (" (it is constant)" if tss == 0.0 else "") + ": there is nothing to explain")
    fit_settings = FitSettings(weights=None if weights is None else (
        weights if isinstance(weights, str) else "weights (array)"),
        fixef_tol=config.tol, demean_method=config.method, panel_id=panel,
        time_step=panel_time_step(data, panel))
    eta = md.y - u
    return build_result(  # type: ignore[return-value]
        md=md, data=data, family=Gaussian(), beta=beta, eta=eta, xt=xt, weights=ww,
        score_base=u if w is None else ww * u, spec=spec, rule=rule, settings=fit_settings,
        sigma2=rss / (n - 1) if n > 1 else float("nan"), dropped_regressors=dropped,
        iterations=iterations, converged=True, keep_design=True,
        stats={"rss": rss, "tss": tss, "tss_within": tss_within})
