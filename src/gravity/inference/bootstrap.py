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
the residuals orthogonal to the fixed effects).

Otherwise (:func:`wild_bootstrap_projected`, type ``"11"``) the fixed effects are
projected out exactly, without dummies, by the Frisch-Waugh-Lovell theorem: with
``X~ = M_D X``, ``A = (X~'X~)^{-1}``, ``c = A e_j``, restricted residuals ``u~`` and
cluster scores ``s_h = X~_h' u~_h``, a draw ``v`` gives the numerator
``sum_h v_h c's_h`` and the bootstrap cluster scores
``Z_g = sum_h v_h (c'X~_g'[M_D(1_h u~)]_g - c'X~_g'X~_g A s_h)``: one demeaning per
cluster (``M_D(1_h u~)``), then ``G x G`` algebra per draw, as the "fast and wild"
algorithm. The draws are those of :mod:`wildboottest` for the same seed, so the
results equal the bootstrap with the fixed effects as dummies.
"""

from __future__ import annotations

from collections.abc import Callable
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


def draws(n_clusters: int, B: int, weights_type: str, seed: int | None
          ) -> tuple[np.ndarray, bool]:
    """The ``(G, B)`` weights :mod:`wildboottest` draws for this seed (all ``2^G`` sign
    patterns for Rademacher weights when fewer than ``B``), and whether enumerated."""
    from wildboottest.weights import draw_weights

    full = weights_type == "rademacher" and 2**n_clusters < B
    if seed is None:
        seed = int(np.random.randint(low=1, high=2**32 - 1, dtype=np.int64))
    v, _ = draw_weights(t=weights_type, full_enumeration=full, N_G_bootcluster=n_clusters,
                        boot_iter=int(B), rng=np.random.default_rng(seed=seed))
    return np.asarray(v, dtype=np.float64), full


def wild_bootstrap_projected(xt: np.ndarray, yt: np.ndarray, clusters: np.ndarray,
                             column: int, param: str,
                             demean: Callable[[np.ndarray], np.ndarray], B: int = 9999,
                             weights_type: str = "rademacher", impose_null: bool = True,
                             seed: int | None = None) -> tuple[WildBootstrap, np.ndarray]:
    """WCR11/WCU11 with fixed effects not nested in the clusters (module docstring).

    ``xt`` ``(N, K)`` and ``yt``: regressors and outcome after the within-transformation;
    ``demean`` applies ``M_D`` to the rows of a ``(G, N)`` array. Returns the result and
    the bootstrap t statistics (for tests).
    """
    if isinstance(B, bool) or not isinstance(B, (int, np.integer)) or B < 1:
        raise ValueError(f"B must be a positive integer, got {B!r}")
    n, k = xt.shape
    codes = np.asarray(clusters, dtype=np.int64)
    g_count = int(codes.max()) + 1
    if g_count < 2:
        raise EstimationError("the wild cluster bootstrap needs at least two clusters")
    A = np.linalg.inv(xt.T @ xt)
    beta = A @ (xt.T @ yt)
    c = A[:, column]
    if impose_null:  # restricted least squares: b_j = 0
        beta_r = beta - c * beta[column] / c[column]
    else:
        beta_r = beta
    u = yt - xt @ beta_r
    u_hat = yt - xt @ beta

    def by_cluster(values: np.ndarray) -> np.ndarray:
        return np.bincount(codes, weights=values, minlength=g_count)

    q = xt @ c
    S = np.column_stack([by_cluster(xt[:, j] * u) for j in range(k)])  # (G, K): s_h
    F = np.column_stack([by_cluster(xt[:, j] * q) for j in range(k)])  # (G, K): X_g'X_g c
    work = np.zeros((g_count, n))
    work[codes, np.arange(n)] = u  # row h: 1_h * u
    projected = demean(work)  # row h: M_D (1_h * u)
    E = np.column_stack([by_cluster(q * projected[h]) for h in range(g_count)])  # E[g, h]
    H = E - F @ A @ S.T
    C = S @ c
    v, full = draws(g_count, B, weights_type, seed)
    numer = C @ v
    denom = np.sum((H @ v) ** 2, axis=0)
    t_boot = numer / np.sqrt(denom)
    score_hat = by_cluster(q * u_hat)  # c' X~_g' u^_g
    t_stat = float(beta[column] / np.sqrt(np.sum(score_hat**2)))
    pvalue = float(np.mean(np.abs(t_stat) < np.abs(t_boot)))
    return WildBootstrap(param=param, statistic=t_stat, pvalue=pvalue, draws=v.shape[1],
                         n_clusters=g_count, weights_type=weights_type,
                         impose_null=impose_null, bootstrap_type="11",
                         full_enumeration=full), t_boot


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
