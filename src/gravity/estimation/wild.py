"""The wild cluster bootstrap of a least-squares fit (:meth:`LinearResults.wildboottest`).

Chooses the computation of :mod:`gravity.inference.bootstrap`: :mod:`wildboottest` on
the demeaned design when the fixed effects are nested in the clusters (or there are
none), the exact projection of the fixed effects for type ``"11"`` otherwise, and the
fixed effects as dummies for the other types.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import EstimationError, InputError
from ..hdfe import make_demeaner
from ..hdfe.factors import is_nested
from ..inference.bootstrap import (
    WildBootstrap,
    design_with_dummies,
    wild_bootstrap_projected,
    wild_cluster_bootstrap,
)
from ..inference.vcov import VcovSpec

if TYPE_CHECKING:
    from .results import LinearResults


def wild_bootstrap(res: LinearResults, param: str, cluster: str | None, B: int,
                   weights_type: str, impose_null: bool, bootstrap_type: str,
                   seed: int | None, data: pd.DataFrame | None) -> WildBootstrap:
    """See :meth:`gravity.estimation.results.LinearResults.wildboottest`."""
    r = res.record
    if param not in r.names:
        raise InputError(f"'{param}' is not a coefficient of the model", column=param)
    if r.formula.slopes:
        raise EstimationError("the wild bootstrap is not available with varying slopes")
    if float(np.ptp(r.prior_weights)) > 0:
        raise EstimationError("the wild cluster bootstrap is for unweighted least squares")
    if cluster is None:
        if res._spec.kind != "CRV1" or len(res._spec.clusters) != 1:
            raise InputError("name the cluster variable: cluster='...'")
        term = res._spec.clusters[0]
    else:
        term = tuple(cluster.split("^"))
    codes = res._codes([term], VcovSpec("CRV1", (term,)), data)[0]
    d = res._linear_design()
    assert d is not None
    column = list(r.names).index(param)
    nested = all(is_nested(c, codes) for c in d.fe_codes)
    if not nested and bootstrap_type == "11":  # fixed effects projected out exactly
        demeaner = make_demeaner(list(d.fe_codes))

        def project(W: np.ndarray) -> np.ndarray:
            W = np.ascontiguousarray(W)
            demeaner.demean_inplace(W, tol=min(r.settings.fixef_tol, 1e-10))
            return W

        boot = wild_bootstrap_projected(
            np.ascontiguousarray(d.xt.T), d.beta @ d.xt + d.resid, codes, column, param,
            project, B=B, weights_type=weights_type, impose_null=impose_null,
            seed=seed)[0]
    else:
        if not d.fe_codes:
            X, y = r.X, r.y
        elif nested:
            X, y = d.xt.T, d.beta @ d.xt + d.resid
        else:
            X, y = design_with_dummies(r.X, list(d.fe_codes)), r.y
        boot = wild_cluster_bootstrap(
            np.ascontiguousarray(X), y, codes, column, param, B=B,
            weights_type=weights_type, impose_null=impose_null,
            bootstrap_type=bootstrap_type, seed=seed, adj=res._ssc.adj,
            cluster_adj=res._ssc.cluster_adj)
    # the reported t: CRV1 with this fit's small-sample correction (fixest's K);
    # the p-value does not depend on that factor (it scales every draw alike)
    spec = VcovSpec("CRV1", (term,))
    t = res.params[param] / np.sqrt(res._compute_vcov(spec, res._ssc, data).matrix[
        column, column])
    return replace(boot, statistic=float(t))
