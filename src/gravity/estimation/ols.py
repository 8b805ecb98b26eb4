r"""Least squares with high-dimensional fixed effects (``reghdfe`` / ``feols``).

By the Frisch-Waugh-Lovell theorem the slope coefficients of
``y = X beta + D alpha + u`` equal those of the regression of ``M y`` on ``M X``
where ``M`` is the (weighted) annihilator of the fixed-effect design ``D``,
computed by :mod:`gravity.hdfe.demean`. Variances: see
:mod:`gravity.inference.vcov`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConvergenceWarning, EstimationError
from ..formula import parse_formula
from ..inference.vcov import SSC, parse_vcov, resolve_ssc
from ..results import RegressionResults
from ._results import finish
from .design import detect_collinearity, prepare


def ols(
    formula: str,
    data: pd.DataFrame,
    vcov: Any = None,
    weights: str | np.ndarray | None = None,
    ssc: SSC | str | dict | None = None,
    missing: str = "raise",
    drop_singletons: bool = True,
    fixef_tol: float = 1e-8,
    fixef_maxiter: int = 10_000,
) -> RegressionResults:
    """OLS/WLS with any number of high-dimensional fixed effects.

    Parameters
    ----------
    formula : ``"y ~ x1 + x2 | fe1 + fe2^fe3"`` (fixest grammar, see
        :mod:`gravity.formula`); without fixed effects an intercept is included
        unless ``0``/``-1`` is written.
    data : DataFrame
    vcov : ``"iid"``, ``"hetero"`` (HC1), ``{"CRV1": "pair"}`` or
        ``{"CRV1": "exporter+importer"}``. Default as fixest: clustered by the
        first fixed effect, ``"iid"`` without fixed effects.
    weights : column name or array of analytic weights (minimise ``sum w u^2``)
    ssc : small-sample correction: ``"fixest"`` (default) or ``"glm"``
        (``G/(G-1)`` only), or :func:`gravity.ssc`
    missing : ``"raise"`` (default) or ``"drop"`` rows with missing values
    drop_singletons : drop singleton fixed-effect groups (default True)
    fixef_tol, fixef_maxiter : demeaning tolerance and iteration cap

    Returns
    -------
    RegressionResults
    """
    f = parse_formula(formula)
    spec = parse_vcov(vcov, f.fixed_effects)
    rule = resolve_ssc(ssc)
    md = prepare(f, data, weights=weights, extra_columns=spec.columns(), missing=missing,
                 drop_singletons=drop_singletons)
    w = md.weights
    ww = np.ones(md.nobs) if w is None else w
    fe = md.fixed_effects
    Z = np.column_stack([md.y, md.X])
    iterations, converged = 0, True
    if fe is not None:
        Zt, info = fe.demean(Z, w, tol=fixef_tol, maxiter=fixef_maxiter)
        iterations = int(info.iterations.max())
        converged = bool(info.converged.all())
        if not converged:
            import warnings

            warnings.warn(f"demeaning did not converge in {fixef_maxiter} iterations "
                          f"(tol {fixef_tol})", ConvergenceWarning, stacklevel=2)
    else:
        Zt = Z
    yt, Xt = Zt[:, 0], Zt[:, 1:]
    drop = detect_collinearity(md, Xt, md.X, w)
    dropped_names = [md.names[j] for j in drop]
    if drop:
        keep = [j for j in range(Xt.shape[1]) if j not in drop]
        Xt = Xt[:, keep]
        md.drop_columns(drop)
    if Xt.shape[1] == 0 and fe is None:
        raise EstimationError("nothing to estimate: no regressors and no fixed effects")
    xw = Xt * ww[:, None]
    xtx = xw.T @ Xt
    if Xt.shape[1]:
        bread = np.linalg.inv(xtx)
        beta = np.linalg.solve(xtx, xw.T @ yt)
    else:  # fixed effects only (or every regressor absorbed)
        bread = np.zeros((0, 0))
        beta = np.zeros(0)
    u = yt - Xt @ beta
    rss = float(ww @ (u * u))
    n = md.nobs
    sigma2 = rss / (n - 1)
    scores = Xt * (ww * u)[:, None]
    fitted = md.y - u
    xb = md.X @ beta
    ybar = (ww @ md.y) / ww.sum()
    centred = bool(fe is not None or f.intercept)
    tss = float(ww @ ((md.y - ybar) ** 2)) if centred else float(ww @ md.y**2)
    tss_within = float(ww @ yt**2) if fe is not None else None
    return finish(
        model="ols", md=md, data=data, beta=beta, bread=bread, scores=scores, spec=spec,
        rule=rule, sigma2=sigma2, dropped_regressors=dropped_names, iterations=iterations,
        converged=converged, eta=fitted, fitted=fitted, fe_component=fitted - xb,
        stats={"rss": rss, "tss": tss, "tss_within": tss_within},
    )
