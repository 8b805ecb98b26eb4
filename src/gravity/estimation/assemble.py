"""From a finished fit to its :class:`FitRecord` and result object.

Also: the recording of warnings (every warning raised while fitting is kept on the
result and still reaches the caller), and the recovery of the intercept of a model
without fixed effects (estimated as a one-level fixed effect, see
:mod:`gravity.estimation.design`): the fixed-effect part of the linear predictor is
the intercept ``b0``; the variance is computed for the centred parametrisation
``eta = c + (X - x-bar) b`` (``x-bar``: the regressors' weighted means at the final
weights, where the information matrix is block-diagonal) and mapped back with
``T = [[1, -x-bar'], [0, I]]`` (``b0 = c - x-bar' b``): the bread and scores become
``T B T'`` and ``S T^{-1}``, so that every variance estimator gives ``T V T'``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from ..inference.vcov import SSC, VcovSpec, spec_codes
from .arrays import constant
from .design import INTERCEPT, ModelData
from .families import Family
from .irls import inverse_gram
from .record import FitRecord, FitSettings, LoglikFromDeviance, fe_part
from .results import RESULT_CLASSES, RegressionResults

R = TypeVar("R", bound=RegressionResults)


@contextmanager
def held_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """Record every warning raised inside the block and hold it back: the caller
    raises them again (:func:`release`) or drops them (a fit that is redone)."""
    with warnings.catch_warnings(record=True) as log:
        warnings.simplefilter("always")
        yield log


def release(log: list[warnings.WarningMessage]) -> None:
    """Raise held warnings again, for the caller's filters."""
    for w in log:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


@contextmanager
def recorded_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """Record every warning raised inside the block, then raise them again for the
    caller's filters (recording is not silencing)."""
    with held_warnings() as log:
        yield log
    release(log)


def with_warnings(fit: Callable[[], R]) -> R:
    """Run ``fit`` and return its result with the warnings it raised attached."""
    with recorded_warnings() as log:
        res = fit()
    return type(res)(replace(res.record, warnings=tuple(log)), res._vr, res._spec, res._ssc)


def level_labels(data: pd.DataFrame, term: tuple[str, ...], mask: np.ndarray,
                 codes: np.ndarray, rows: np.ndarray | None = None) -> pd.Index:
    """Labels of each level (by code) of a fixed-effect term on the sample rows
    (``rows``: ``flatnonzero(mask)`` when the caller has it)."""
    first = np.full(int(codes.max()) + 1, -1, dtype=np.int64)
    rows = np.flatnonzero(mask) if rows is None else rows
    first[codes[::-1]] = rows[::-1]  # the last write is the first row of each level
    if len(term) == 1:
        return pd.Index(data[term[0]].to_numpy()[first], name=term[0])
    return pd.MultiIndex.from_arrays([data[c].to_numpy()[first] for c in term],
                                     names=list(term))


def _all_level_labels(data: pd.DataFrame, terms: tuple[tuple[str, ...], ...],
                      mask: np.ndarray, codes: tuple[np.ndarray, ...]
                      ) -> tuple[pd.Index, ...]:
    rows = np.flatnonzero(mask) if codes else None
    return tuple(level_labels(data, t, mask, c, rows)
                 for t, c in zip(terms, codes, strict=True))


def cluster_map(data: pd.DataFrame, spec: VcovSpec, mask: np.ndarray,
                panel_id: tuple[str, str] | None = None,
                known: Mapping[tuple[str, ...], np.ndarray] | None = None
                ) -> dict[tuple[str, ...], np.ndarray]:
    """Cluster codes of ``spec`` on the sample, and the panel's unit codes and periods
    when the fit declared ``panel_id`` (so that ``with_vcov("NW")`` works later).

    ``known``: codes already computed on the same sample (the fixed effects': dense,
    numbered in order of first appearance, exactly what :func:`spec_codes` makes); a
    cluster term among them is not factorised again (clustering by a fixed effect,
    ``vcov={"CRV1": "pair"}`` with a pair effect, is the common case)."""
    known = known or {}
    todo = replace(spec, clusters=tuple(t for t in spec.clusters if t not in known))
    out = spec_codes(data, todo, mask)
    out.update({t: known[t] for t in spec.clusters if t in known})
    if panel_id is not None and spec.panel is None:
        out.update(spec_codes(data, VcovSpec("NW", panel=panel_id), mask))
    return out


def slope_record(md: ModelData, data: pd.DataFrame, reuse: FitRecord | None
                 ) -> dict[str, Any]:
    """What the results need of the varying slopes: their number (degrees of freedom),
    group codes, variables and group labels (fixed effects and predictions)."""
    levels = reuse.extra["slopes"]["levels"] if reuse is not None else [
        level_labels(data, t.fe, md.mask, c)
        for t, c in zip(md.formula.slopes, md.slope_codes, strict=True)]
    return {"slope_parameters": md.slope_parameters,
            "slopes": {"codes": list(md.slope_codes), "values": list(md.slope_values),
                       "levels": levels}}


def build_result(
    *,
    md: ModelData,
    data: pd.DataFrame,
    family: Family,
    beta: np.ndarray,
    eta: np.ndarray,
    xt: np.ndarray,
    weights: np.ndarray,
    score_base: np.ndarray,
    spec: VcovSpec,
    rule: SSC,
    settings: FitSettings,
    sigma2: float | None,
    dropped_regressors: list[str],
    iterations: int,
    converged: bool,
    stats: Mapping[str, float | LoglikFromDeviance | None],
    keep_design: bool = False,
    extra: Mapping[str, Any] | None = None,
    reuse: FitRecord | None = None,
) -> RegressionResults:
    """Assemble the record: bread ``(X~' W X~)^{-1}``, scores ``x~_i score_base_i``.
    ``reuse``: a record of the same sample whose level labels and cluster codes are
    taken (``data`` is then not read). With ``keep_design`` the record keeps ``xt`` and
    ``score_base`` and derives the scores from them."""
    n = md.nobs
    pw = constant(n, 1.0) if md.weights is None else md.weights
    off = constant(n, 0.0) if md.offset is None else md.offset
    X, names = md.X, list(md.names)
    bread = inverse_gram(xt, weights)
    # scores x~_i s_i: derived from xt and s on use when the record keeps xt
    scores: np.ndarray | None = None if keep_design else (xt * score_base).T
    fe_codes = tuple(md.user_fe_codes)
    if md.intercept_as_fe:
        fe_component = fe_part(eta, X, beta, md.offset)
        wsum = float(weights.sum())
        xbar = (weights @ X) / wsum if X.shape[1] else np.zeros(0)
        b0 = float(np.mean(fe_component))  # eta = b0 + X b + o
        k = X.shape[1]
        T = np.eye(k + 1)
        T[0, 1:] = -xbar
        T_inv = np.eye(k + 1)
        T_inv[0, 1:] = xbar
        B = np.zeros((k + 1, k + 1))
        B[0, 0] = 1.0 / wsum
        B[1:, 1:] = bread
        bread = T @ B @ T.T
        scores = np.column_stack([score_base, (xt * score_base).T]) @ T_inv
        beta = np.concatenate([[b0], beta])
        X = np.column_stack([np.ones(n), X])
        names = [INTERCEPT] + names
        xt = np.empty((0, n))
    record = FitRecord(
        family=family, formula=md.formula, names=tuple(names), beta=np.asarray(beta),
        bread=bread, stored_scores=scores, sigma2=sigma2, spec=spec, ssc=rule, settings=settings,
        nobs=n, n_input=md.n_input, input_index=data.index if reuse is None else reuse.input_index, mask=md.mask.copy(),
        dropped=dict(md.dropped), dropped_positions=dict(md.dropped_rows),
        dropped_regressors=tuple(dropped_regressors), y=md.y, X=X, eta=eta,
        prior_weights=pw, offset=off, fe_free=md.intercept_as_fe,
        score_base=score_base if keep_design and scores is None else None,
        fe_terms=md.formula.fixed_effects, fe_codes=fe_codes,
        fe_levels=reuse.fe_levels if reuse is not None else _all_level_labels(
            data, md.formula.fixed_effects, md.mask, fe_codes),
        cluster_map=reuse.cluster_map if reuse is not None else cluster_map(
            data, spec, md.mask, settings.panel_id,
            known=dict(zip(md.formula.fixed_effects, fe_codes, strict=True))),
        iterations=iterations,
        converged=converged, stats=dict(stats),
        xt=xt if keep_design else None, irls_weights=weights if keep_design else None,
        extra=dict(extra or {}) | (slope_record(md, data, reuse) if md.slope_codes else {}),
    )
    return RESULT_CLASSES[family.name](record)
