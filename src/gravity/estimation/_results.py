"""Assemble a :class:`~gravity.results.RegressionResults` from a finished fit."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..inference.vcov import SSC, VcovSpec, cluster_codes, compute_vcov
from ..results import RegressionResults
from .design import ModelData


def finish(
    *,
    model: str,
    md: ModelData,
    data: pd.DataFrame,
    beta: np.ndarray,
    bread: np.ndarray,
    scores: np.ndarray,
    spec: VcovSpec,
    rule: SSC,
    sigma2: float | None,
    dropped_regressors: list[str],
    iterations: int,
    converged: bool,
    eta: np.ndarray,
    fitted: np.ndarray,
    fe_component: np.ndarray,
    stats: dict[str, Any],
) -> RegressionResults:
    clusters = cluster_codes(data, spec, md.mask) if spec.kind == "CRV1" else []
    vr = compute_vcov(spec=spec, bread=bread, scores=scores, nobs=md.nobs,
                      n_regressors=len(md.names), fe_codes=md.fe_codes, clusters=clusters,
                      rule=rule, sigma2=sigma2)
    names = pd.Index(md.names)
    return RegressionResults(
        model=model,
        formula=md.formula.raw,
        depvar=md.formula.outcome,
        params=pd.Series(beta, index=names),
        vcov=pd.DataFrame(vr.matrix, index=names, columns=names),
        vcov_type=spec.label,
        ssc=rule,
        nobs=md.nobs,
        n_input=md.n_input,
        dropped=dict(md.dropped),
        dropped_regressors=dropped_regressors,
        fe_names=md.formula.fe_names,
        fe_sizes=tuple(int(c.max()) + 1 for c in md.fe_codes),
        df_k=vr.df_k,
        df_t=vr.df_t if model == "ols" else np.inf,
        n_clusters=vr.n_clusters,
        iterations=iterations,
        converged=converged,
        **stats,
        _internals={
            "data": data,
            "mask": md.mask.copy(),
            "dropped_rows": {k: data.index[v] for k, v in md.dropped_rows.items()},
            "index": md.index,
            "y": md.y,
            "eta": eta,
            "fitted": fitted,
            "fe_component": fe_component,
            "fe_codes": md.fe_codes,
            "fixed_effects_terms": md.formula.fixed_effects,
            "formula_obj": md.formula,
            "bread": bread,
            "scores": scores,
            "sigma2": sigma2,
            "vcov_spec": spec,
        },
    )
