r"""Wild cluster bootstrap for least squares with few clusters, on :mod:`wildboottest`.

The wild cluster restricted bootstrap (WCR; Cameron, Gelbach and Miller 2008;
Roodman, MacKinnon, Nielsen and Webb 2019, "Fast and wild") tests ``H0: b_j = 0``:
the model is re-estimated under the null, and bootstrap outcomes
``y* = X b~ + v_g u~`` (one weight ``v_g`` per cluster: Rademacher by default; every
one of the ``2^G`` sign patterns when ``2^G`` is below the number of draws) give
the distribution of the CRV1 t statistic. The p-value is the share of bootstrap
|t| above the sample's.

The computation is the maintained :mod:`wildboottest` package's ``WildboottestCL``
(the engine behind pyfixest's ``wildboottest``), run on the regressors after the
within-transformation. That equals the bootstrap with the fixed effects as dummies
when every fixed effect is nested in the clusters (each bootstrap draw then keeps
the residuals orthogonal to the fixed effects); otherwise the fixed effects are
passed as dummy columns (one level dropped from each but the first).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import EstimationError

#: the most dummy columns a non-nested fixed effect may add to the bootstrap design
MAX_DUMMIES = 2000


@dataclass(frozen=True)
class WildBootstrap:
    """The result of a wild cluster bootstrap test of ``param = 0``."""

    param: str
    statistic: float  # the sample's t statistic (CRV1)
    pvalue: float
    draws: int
    n_clusters: int
    weights_type: str
    impose_null: bool
    bootstrap_type: str
    full_enumeration: bool

    def __str__(self) -> str:
        kind = "WCR" if self.impose_null else "WCU"
        enum = ", full enumeration" if self.full_enumeration else ""
        return (f"Wild cluster bootstrap ({kind}{self.bootstrap_type}, {self.weights_type}, "
                f"{self.draws} draws{enum}, {self.n_clusters} clusters): {self.param} = 0, "
                f"t = {self.statistic:.4f}, p = {self.pvalue:.4f}")


def design_with_dummies(X: np.ndarray, fe_codes: list[np.ndarray]) -> np.ndarray:
    """``X`` followed by the fixed effects as dummies (first level dropped from every
    fixed effect but the first)."""
    cols = [X]
    for q, c in enumerate(fe_codes):
        g = int(c.max()) + 1
        d = np.zeros((c.size, g))
        d[np.arange(c.size), c] = 1.0
        cols.append(d if q == 0 else d[:, 1:])
    out = np.column_stack(cols)
    if out.shape[1] - X.shape[1] > MAX_DUMMIES:
        raise EstimationError(
            f"the wild bootstrap with fixed effects not nested in the clusters needs them "
            f"as dummies ({out.shape[1] - X.shape[1]} columns, more than {MAX_DUMMIES})")
    return out


def wild_cluster_bootstrap(X: np.ndarray, y: np.ndarray, clusters: np.ndarray, column: int,
                           param: str, B: int = 9999, weights_type: str = "rademacher",
                           impose_null: bool = True, bootstrap_type: str = "11",
                           seed: int | None = None, adj: bool = True,
                           cluster_adj: bool = True) -> WildBootstrap:
    """Test ``b[column] = 0`` in ``y = X b + u`` (see the module docstring)."""
    try:
        from wildboottest.wildboottest import WildboottestCL
    except ImportError as exc:  # pragma: no cover - optional dependency
        raise ImportError("the wild cluster bootstrap needs the 'wildboottest' package "
                          "(pip install wildboottest)") from exc
    if bootstrap_type not in ("11", "13", "31", "33"):
        raise ValueError(f"bootstrap_type must be '11', '13', '31' or '33', got "
                         f"{bootstrap_type!r}")
    if isinstance(B, bool) or not isinstance(B, (int, np.integer)) or B < 1:
        raise ValueError(f"B must be a positive integer, got {B!r}")
    g = int(np.unique(clusters).size)
    if g < 2:
        raise EstimationError("the wild cluster bootstrap needs at least two clusters")
    R = np.zeros(X.shape[1])
    R[column] = 1.0
    boot: Any = WildboottestCL(X=X, Y=y, cluster=clusters, R=R, B=int(B), seed=seed,
                               parallel=False)
    boot.get_scores(bootstrap_type=bootstrap_type, impose_null=impose_null, adj=adj,
                    cluster_adj=cluster_adj)
    _, draws, full = boot.get_weights(weights_type=weights_type)
    boot.get_numer()
    boot.get_denom()
    boot.get_tboot()
    boot.get_vcov()
    boot.get_tstat()
    boot.get_pvalue(pval_type="two-tailed")
    t = float(np.asarray(boot.t_stat).ravel()[0])
    return WildBootstrap(param=param, statistic=t, pvalue=float(boot.pvalue),
                         draws=int(draws), n_clusters=g, weights_type=str(weights_type),
                         impose_null=impose_null, bootstrap_type=bootstrap_type,
                         full_enumeration=bool(full))
