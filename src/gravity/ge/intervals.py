"""Intervals for GE effects from the estimation uncertainty of the cost coefficients.

Parametric bootstrap (Krinsky & Robb 1986; Anderson, Larch & Yotov 2018 use the
same idea for GEPPML): draw the cost coefficients ``b_d ~ N(b, V)`` from the fit's
covariance (clustered if the fit is), rebuild the baseline and counterfactual cost
indexes with ``b_d`` (the data, output, expenditure and any pair fixed effects held
at their estimates), solve the equilibrium exactly for each draw, and report
percentile intervals of every percent change. Draws are solved in parallel threads
when ``workers > 1`` (the linear algebra releases the GIL).

:func:`ge_bootstrap` replaces the normal draws by a pair (cluster) bootstrap: the
clusters of the estimation data are resampled with replacement, the PPML is refitted
on each resample, and its coefficients feed the same exact solver (Efron & Tibshirani
1993; the cluster bootstrap of Cameron, Gelbach & Miller 2008).
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from ..errors import InputError, MissingColumnError
from ..estimation import ppml
from ..estimation.results import RegressionResults
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
    return _percentiles(result, baseline, change, B, level, direction, workers,
                        show_progress, "normal draws from the covariance")


def ge_bootstrap(
    result: GEResult, baseline: Baseline, change: Change, fit: RegressionResults,
    data: pd.DataFrame, *, cluster: str, reps: int = 100, level: float = 0.95,
    seed: int | None = 0, direction: str = "counterfactual", workers: int | None = None,
    show_progress: bool | None = None, **ppml_kwargs: object,
) -> GEResult:
    """Like :func:`ge_intervals`, with the cost coefficients of ``reps`` PPML refits
    of ``fit.formula`` on cluster-bootstrap resamples of ``data`` (the fit's estimation
    data; whole ``cluster`` groups, e.g. country pairs, drawn with replacement)."""
    if cluster not in data.columns:
        raise MissingColumnError("data lacks the cluster column", column=cluster)
    if not 0 < level < 1:
        raise InputError("level must be in (0, 1)", column="level")
    codes, uniq = pd.factorize(data[cluster])
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(len(uniq) + 1))
    rng = np.random.default_rng(seed)
    names = list(baseline.coef.index)
    kw = {"tol": 1e-10, "vcov": "iid", **ppml_kwargs}
    B = []
    for _ in progress(range(reps), desc="GE bootstrap refits", show=show_progress):
        pick = rng.integers(0, len(uniq), len(uniq))
        lens = starts[pick + 1] - starts[pick]
        shift = np.repeat(starts[pick] - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens)
        rows = order[np.arange(lens.sum()) + shift]
        refit = ppml(fit.formula, data.iloc[rows].reset_index(drop=True), **kw)  # type: ignore[arg-type]
        B.append(refit.params.reindex(names).to_numpy())
    Bm = np.vstack(B)
    ok = np.all(np.isfinite(Bm), axis=1)
    out = _percentiles(result, baseline, change, Bm[ok], level, direction, workers,
                       show_progress, f"pair bootstrap by {cluster}")
    out.info["failed_draws"] += int((~ok).sum())
    return out


def _percentiles(result: GEResult, baseline: Baseline, change: Change, B: np.ndarray,
                 level: float, direction: str, workers: int | None,
                 show_progress: bool | None, method: str) -> GEResult:
    draws = len(B)
    kind = "full" if result.full is not None else "conditional"

    def one(b: np.ndarray) -> np.ndarray | None:
        try:
            r = counterfactual(baseline.with_coef(b), change, kind=kind, solver="exact")
        except Exception:  # noqa: BLE001 - a draw without an equilibrium is counted
            return None
        return np.concatenate([r.change_vector(direction), r.bilateral_vector(direction)])

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
    lo, hi = np.quantile(S, [a, 1 - a], axis=0)
    med = np.median(S, axis=0)
    keys = result.tidy(direction)[["country", "scenario", "variable"]].copy()
    m = len(keys)
    keys["lower"], keys["upper"], keys["median"] = lo[:m], hi[:m], med[:m]
    c = np.asarray(result.countries)
    n = len(c)
    pairs = pd.DataFrame({
        "scenario": np.repeat(list(result.kinds), n * n),
        "exporter": np.tile(np.repeat(c, n), len(result.kinds)),
        "importer": np.tile(c, n * len(result.kinds)),
        "lower": lo[m:], "upper": hi[m:], "median": med[m:]})
    info = dict(result.info, draws=len(ok), failed_draws=draws - len(ok),
                interval_level=level, interval_method=method)
    return dataclasses.replace(result, intervals=keys, bilateral_intervals=pairs, info=info)
