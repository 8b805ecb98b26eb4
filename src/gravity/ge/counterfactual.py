"""One interface to both solvers: :func:`counterfactual`.

``solver="exact"`` solves the equilibrium equations by Newton's method in logs
(:mod:`gravity.ge.equilibrium`, residuals below ``tol``, default ``1e-12``);
``solver="geppml"`` runs the book's iterated constrained PPML with its stopping rule
(:mod:`gravity.ge.geppml`, ``tol=0.01``), and reports, in ``info``, the largest gap
(percentage points) between its percent changes and the exact solution's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..estimation.results import RegressionResults
from .baseline import Baseline, Change
from .equilibrium import (
    IMBALANCES,
    full_residual,
    one_blas_thread,
    solve_conditional,
    solve_full,
)
from .geppml import geppml
from .result import GEResult


def counterfactual(
    model: Baseline | RegressionResults,
    change: Change | None = None,
    *,
    costs: np.ndarray | None = None,
    kind: str = "full",
    solver: str = "exact",
    tol: float | None = None,
    maxiter: int | None = None,
    show_progress: bool | None = None,
    imbalances: str = "scaled",
    **baseline_kwargs: Any,
) -> GEResult:
    """General-equilibrium effects of a change in trade costs.

    ``model``: a :class:`~gravity.ge.Baseline`, or a fitted PPML with
    ``data=``, ``reference=``, ``sigma=`` (and the other arguments of
    :meth:`Baseline.from_fit`) in ``baseline_kwargs``. ``change``: new values of cost
    regressors (see :meth:`Baseline.counterfactual_costs`), or ``costs``: the new cost
    index ``T'`` (N x N) directly. ``kind``: ``"conditional"`` (resistances adjust,
    output and expenditure fixed) or ``"full"`` (factory-gate prices adjust too).
    ``imbalances`` (exact solver): how expenditure follows output, ``"scaled"``
    (expenditure/output ratios held; the book's ``phi``) or ``"additive"`` (deficits
    held as shares of world output), see :func:`gravity.ge.equilibrium.expenditure`.
    """
    base = model if isinstance(model, Baseline) else _baseline(model, baseline_kwargs)
    if kind not in ("conditional", "full"):
        raise InputError("kind must be 'conditional' or 'full'", column="kind")
    if (change is None) == (costs is None):
        raise InputError("give exactly one of change= and costs=")
    T1 = base.counterfactual_costs(change) if change is not None \
        else _check_costs(costs, base.n)
    if solver == "exact":
        return _exact(base, T1, kind, tol or 1e-12, maxiter or 100, imbalances)
    if solver == "geppml":
        run = geppml(base.frame, base.T, T1, base.Y, base.E,
                     base.frame["_trade"].to_numpy(), base.ref, base.sigma,
                     tol=0.01 if tol is None else tol, maxiter=maxiter or 50,
                     full=kind == "full", show_progress=show_progress)
        res = GEResult(base.countries, base.sigma, base.reference, run.baseline,
                       run.conditional, run.full if kind == "full" else None, "geppml",
                       info={"stopping_rule": f"sd and max of the price-change step <= "
                             f"{0.01 if tol is None else tol}",
                             "history": run.history})
        exact = _exact(base, T1, kind, 1e-12, 100, imbalances)
        gap = solver_gap(res, exact)
        res.info["max_gap_vs_exact_pp"] = float(gap["abs_gap_pp"].max())
        return res
    raise InputError("solver must be 'exact' or 'geppml'", column="solver")


def _baseline(fit: RegressionResults, kw: dict[str, Any]) -> Baseline:
    missing = [k for k in ("data", "reference", "sigma") if k not in kw]
    if missing:
        raise InputError(f"counterfactual(fit, ...) needs {missing} (or pass a Baseline)")
    data = kw.pop("data")
    return Baseline.from_fit(fit, data, **kw)


def _check_costs(costs: Any, n: int) -> np.ndarray:
    T = np.asarray(costs, dtype=float)
    if T.shape != (n, n) or not np.all(np.isfinite(T)) or (T < 0).any():
        raise InputError(f"costs must be a finite non-negative {n} x {n} matrix",
                         column="costs")
    return T


def _exact(base: Baseline, T1: np.ndarray, kind: str, tol: float,
           maxiter: int, imbalances: str = "scaled") -> GEResult:
    if imbalances not in IMBALANCES:
        raise InputError(f"imbalances must be one of {IMBALANCES}", column="imbalances")
    with one_blas_thread():
        return _exact_solve(base, T1, kind, tol, maxiter, imbalances)


def _exact_solve(base: Baseline, T1: np.ndarray, kind: str, tol: float,
                 maxiter: int, imbalances: str) -> GEResult:
    b = solve_conditional(base.T, base.Y, base.E, base.ref, tol=tol, maxiter=maxiter)
    c = solve_conditional(T1, base.Y, base.E, base.ref, tol=tol, maxiter=maxiter)
    full = None
    info: dict[str, Any] = {}
    if kind == "full":
        u0 = np.log(base.Y * base.E[base.ref] / b.OMR)
        full = solve_full(T1, base.Y, base.E, base.ref, base.sigma, u0, tol=tol,
                          maxiter=maxiter, start=c, imbalances=imbalances)
        info["full_residual"] = full_residual(full, b, T1, base.sigma, base.ref, imbalances)
        info["imbalances"] = imbalances
    return GEResult(base.countries, base.sigma, base.reference, b, c, full, "exact",
                    info=info)


def solver_gap(a: GEResult, b: GEResult, direction: str = "counterfactual") -> pd.DataFrame:
    """Percent changes of two results side by side (same world), with the absolute gap
    in percentage points, for every scenario both have."""
    rows = []
    for kind in a.kinds:
        if kind not in b.kinds:
            continue
        ca, cb = a.changes(kind, direction), b.changes(kind, direction)
        d = (ca - cb).abs().reset_index().melt(id_vars="country", var_name="variable",
                                               value_name="abs_gap_pp")
        d.insert(1, "scenario", kind)
        rows.append(d)
    return pd.concat(rows, ignore_index=True)
