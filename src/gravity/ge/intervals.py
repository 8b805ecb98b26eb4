"""Intervals for GE effects from the estimation uncertainty of the cost coefficients.

Parametric bootstrap (Krinsky & Robb 1986; Anderson, Larch & Yotov 2018 use the
same idea for GEPPML): draw the cost coefficients ``b_d ~ N(b, V)`` from the fit's
covariance (clustered if the fit is), rebuild the baseline and counterfactual cost
indexes with ``b_d`` (the data, output, expenditure and any pair fixed effects held
at their estimates), solve the equilibrium exactly for each draw, and report
percentile intervals of every percent change. Draws are solved in parallel threads
when ``workers > 1`` (the linear algebra releases the GIL).
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from ..errors import InputError
from ..progress import progress
from .baseline import Baseline, Change
from .counterfactual import counterfactual
from .result import GEResult


def ge_intervals(
    result: GEResult, baseline: Baseline, change: Change, vcov: pd.DataFrame, *,
    draws: int = 200, level: float = 0.95, seed: int | None = 0,
    direction: str = "counterfactual", workers: int | None = None,
    show_progress: bool | None = None,
) -> GEResult:
    """``result`` with ``intervals``: percentile intervals (``lower``, ``upper``) at
    ``level`` of every country-level percent change over ``draws`` draws of the cost
    coefficients from ``vcov`` (e.g. ``fit.vcov``, clustered by pair); the draws'
    median is in ``median``. Failed draws (no equilibrium) are counted in
    ``info["failed_draws"]``."""
    names = list(baseline.coef.index)
    missing = [n for n in names if n not in vcov.index]
    if missing:
        raise InputError(f"vcov lacks the cost coefficients {missing}", column="vcov")
    V = vcov.loc[names, names].to_numpy(dtype=float)
    if not 0 < level < 1:
        raise InputError("level must be in (0, 1)", column="level")
    rng = np.random.default_rng(seed)
    B = rng.multivariate_normal(baseline.coef.to_numpy(), V, size=draws, method="eigh")
    kind = "full" if result.full is not None else "conditional"

    def one(b: np.ndarray) -> np.ndarray | None:
        try:
            r = counterfactual(baseline.with_coef(b), change, kind=kind, solver="exact")
        except Exception:  # noqa: BLE001 - a draw without an equilibrium is counted
            return None
        return r.tidy(direction)["pct_change"].to_numpy()

    if workers and workers > 1:
        with ThreadPoolExecutor(workers) as ex:
            out = list(progress(ex.map(one, B), desc="GE draws", total=draws,
                                show=show_progress))
    else:
        out = [one(b) for b in progress(B, desc="GE draws", total=draws, show=show_progress)]
    ok = [o for o in out if o is not None]
    if len(ok) < 2:
        raise InputError("fewer than two draws gave an equilibrium")
    S = np.vstack(ok)
    a = (1 - level) / 2
    keys = result.tidy(direction)[["country", "scenario", "variable"]].copy()
    keys["lower"] = np.quantile(S, a, axis=0)
    keys["upper"] = np.quantile(S, 1 - a, axis=0)
    keys["median"] = np.median(S, axis=0)
    info = dict(result.info, draws=len(ok), failed_draws=draws - len(ok),
                interval_level=level)
    return dataclasses.replace(result, intervals=keys, info=info)
