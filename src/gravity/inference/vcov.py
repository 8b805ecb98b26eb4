r"""Variance-covariance estimators with fixest-compatible small-sample corrections.

All estimators share the sandwich form ``V = c * B M B`` with bread
``B = (X~' W X~)^{-1}`` (``X~``: regressors after the within-transformation,
``W``: the final IRLS / regression weights) and a meat ``M`` built from the
scores ``s_i`` (OLS: ``w_i x~_i u_i``; Poisson: ``w_i x~_i (y_i - mu_i)``).

* ``"iid"``: OLS ``V = sigma^2 B`` with ``sigma^2 = sum w u^2 / (N - 1)``; Poisson
  ``V = B`` (dispersion fixed at one). Times ``adj``.
* ``"hetero"`` (HC1): ``M = sum_i s_i s_i'``, times ``N / (N - K)`` when ``adj``.
* ``{"CRV1": "g1+g2"}``: one-way ``M = sum_g (sum_{i in g} s_i)(...)'``, times
  ``G/(G-1)`` (``cluster_adj``) and ``(N-1)/(N-K)`` (``adj``). Multi-way
  clustering follows Cameron, Gelbach and Miller (2011):
  ``V = sum_{S} (-1)^{|S|+1} V_S`` over the non-empty subsets ``S`` of the
  cluster variables (``V_S`` clusters by the intersection), with every term
  scaled by ``min(G)/(min(G)-1)`` (``cluster_df="min"``, fixest's default) or by
  its own ``G_S/(G_S-1)`` (``"conventional"``); negative eigenvalues of the sum
  are set to zero (fixest's ``vcov.fix``).

``K`` in ``(N-1)/(N-K)`` counts the regressors plus, with ``fixef_k="nested"``
(default, as fixest), the coefficients of every fixed effect that is not nested
in a cluster variable: ``sum_q G_q - (Q - 1)`` over all Q fixed effects, less the
levels of each nested fixed effect plus one for each (as fixest and pyfixest
count them). ``fixef_k="full"`` counts all, ``"none"`` none.

Conventions (``ssc=``):

* ``"fixest"`` (default): ``adj=True, fixef_k="nested", cluster_adj=True``
  -- fixest's and pyfixest's default, equal to Stata ``reghdfe``/``regress,
  cluster()`` for OLS.
* ``"glm"``: ``adj=False, cluster_adj=True`` -- ``V = G/(G-1) B M B``, the convention
  of maximum-likelihood commands such as Stata's ``glm``/``ppml`` with
  ``cluster()`` and of the R code that accompanies Yotov et al. (2016).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from ..errors import GravityWarning, InputError, MissingColumnError
from ..hdfe.components import fixed_effect_parameters
from ..hdfe.factors import factorize_term, is_nested, recode


@dataclass(frozen=True)
class SSC:
    """Small-sample correction switches (fixest's ``ssc()``)."""

    adj: bool = True
    fixef_k: str = "nested"
    cluster_adj: bool = True
    cluster_df: str = "min"
    fixef_exact: bool = False

    def __post_init__(self) -> None:
        if self.fixef_k not in ("nested", "full", "none"):
            raise ValueError("fixef_k must be 'nested', 'full' or 'none'")
        if self.cluster_df not in ("min", "conventional"):
            raise ValueError("cluster_df must be 'min' or 'conventional'")


def ssc(
    adj: bool = True, fixef_k: str = "nested", cluster_adj: bool = True,
    cluster_df: str = "min", fixef_exact: bool = False,
) -> SSC:
    """Build a small-sample correction (see the module docstring). ``fixef_exact``:
    count the fixed-effect coefficients with the connected components of the first two
    fixed effects (fixest's ``fixef.force_exact``; :mod:`gravity.hdfe.components`)."""
    return SSC(adj=adj, fixef_k=fixef_k, cluster_adj=cluster_adj, cluster_df=cluster_df,
               fixef_exact=fixef_exact)


_SSC_PRESETS = {
    "fixest": SSC(),
    "default": SSC(),
    "glm": SSC(adj=False),
    "cluster_only": SSC(adj=False),
    "stata_glm": SSC(adj=False),
    "none": SSC(adj=False, cluster_adj=False),
}


def resolve_ssc(value: SSC | str | dict | None) -> SSC:
    if value is None:
        return SSC()
    if isinstance(value, SSC):
        return value
    if isinstance(value, str):
        try:
            return _SSC_PRESETS[value]
        except KeyError:
            raise ValueError(
                f"unknown ssc '{value}'; use one of {sorted(_SSC_PRESETS)} or gravity.ssc(...)"
            ) from None
    if isinstance(value, dict):
        try:
            return SSC(**value)
        except TypeError as exc:
            raise ValueError(f"invalid ssc={value!r}: {exc}") from None
    raise ValueError(f"ssc must be gravity.ssc(...), a preset name or a dict, got {value!r}")


@dataclass(frozen=True)
class VcovSpec:
    """A parsed ``vcov=`` argument."""

    kind: str  # "iid", "hetero" or "CRV1"
    clusters: tuple[tuple[str, ...], ...] = ()

    @property
    def label(self) -> str:
        if self.kind == "CRV1":
            return "CRV1: " + " + ".join("^".join(c) for c in self.clusters)
        return self.kind

    def columns(self) -> set[str]:
        return {c for term in self.clusters for c in term}


def parse_vcov(vcov: Any, fixed_effects: tuple[tuple[str, ...], ...]) -> VcovSpec:
    """Parse ``"iid"``, ``"hetero"``/``"HC1"``, ``{"CRV1": "a+b"}`` or ``None``.

    ``None`` follows fixest: cluster by the first fixed effect when there is one,
    ``"iid"`` otherwise.
    """
    if vcov is None:
        if fixed_effects:
            return VcovSpec("CRV1", (fixed_effects[0],))
        return VcovSpec("iid")
    if isinstance(vcov, str):
        key = vcov.strip()
        if key.lower() == "iid":
            return VcovSpec("iid")
        if key.lower() in ("hetero", "hc1", "robust"):
            return VcovSpec("hetero")
        raise ValueError(
            f"unknown vcov '{vcov}': use 'iid', 'hetero' or {{'CRV1': 'cluster_var'}}"
        )
    if isinstance(vcov, dict) and len(vcov) == 1:
        (kind, spec), = vcov.items()
        if kind.upper() not in ("CRV1", "CLUSTER"):
            raise ValueError(f"unsupported vcov type '{kind}': only CRV1 clustering")
        if isinstance(spec, str):
            terms = [t.strip() for t in spec.split("+")]
        else:
            terms = list(spec)
        if not terms or any(not t for t in terms):
            raise ValueError(f"empty cluster variable in vcov={vcov}")
        return VcovSpec("CRV1", tuple(tuple(t.split("^")) for t in terms))
    raise ValueError(f"cannot understand vcov={vcov!r}")


def cluster_codes(data: pd.DataFrame, spec: VcovSpec,
                  mask: np.ndarray | None = None) -> list[np.ndarray]:
    """Dense integer codes for each cluster term on the rows selected by ``mask``
    (all rows when None); missing values there raise :class:`InputError`."""
    out = []
    for term in spec.clusters:
        for col in term:
            if col not in data.columns:
                raise MissingColumnError("cluster variable not found in data", column=col)
            na = data[col].isna().to_numpy()
            if mask is not None:
                na = na & mask
            if na.any():
                raise InputError("missing values in cluster variable", column=col,
                                 rows=data.index[na])
        codes = factorize_term(data, term)
        out.append(codes if mask is None else recode(codes[mask])[0])
    return out


def count_df_k(
    n_regressors: int,
    fe_codes: list[np.ndarray],
    clusters: list[np.ndarray],
    rule: SSC,
) -> int:
    """Number of parameters K in ``(N-1)/(N-K)`` (see module docstring)."""
    if not fe_codes or rule.fixef_k == "none":
        return n_regressors
    levels = [int(c.max()) + 1 for c in fe_codes]
    k_fe = fixed_effect_parameters(fe_codes, exact=rule.fixef_exact)
    if rule.fixef_k == "full" or not clusters:
        return n_regressors + k_fe
    nested = [q for q, c in enumerate(fe_codes) if any(is_nested(c, cl) for cl in clusters)]
    return n_regressors + k_fe - sum(levels[q] for q in nested) + len(nested)


def _cluster_meat(scores: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """sum over clusters of (summed scores)(summed scores)'."""
    g = int(codes.max()) + 1
    summed = np.column_stack(
        [np.bincount(codes, weights=scores[:, k], minlength=g) for k in range(scores.shape[1])]
    )
    return summed.T @ summed


def _intersect(codes: list[np.ndarray]) -> np.ndarray:
    out = codes[0]
    for c in codes[1:]:
        out = out * (int(c.max()) + 1) + c
        out = pd.factorize(out)[0]
    return np.asarray(out, dtype=np.int64)


@dataclass
class VcovResult:
    matrix: np.ndarray
    df_k: int
    n_clusters: tuple[int, ...]
    df_t: float  # degrees of freedom for t tests (inf = normal)


def compute_vcov(
    *,
    spec: VcovSpec,
    bread: np.ndarray,
    scores: np.ndarray,
    nobs: int,
    n_regressors: int,
    fe_codes: list[np.ndarray],
    clusters: list[np.ndarray],
    rule: SSC,
    sigma2: float | None,
) -> VcovResult:
    """Sandwich variance with small-sample corrections.

    ``sigma2`` is the residual variance ``sum w u^2 / (N - 1)`` for OLS
    ``"iid"``, and ``None`` for Poisson (dispersion one).
    """
    n = nobs
    df_k = count_df_k(n_regressors, fe_codes, clusters if spec.kind == "CRV1" else [], rule)
    if n - df_k <= 0 and rule.adj:
        warnings.warn(f"no residual degrees of freedom ({n} observations for {df_k} "
                      "parameters): standard errors computed without the (N-1)/(N-K) "
                      "adjustment", GravityWarning, stacklevel=4)
        rule = SSC(adj=False, fixef_k=rule.fixef_k, cluster_adj=rule.cluster_adj,
                   cluster_df=rule.cluster_df, fixef_exact=rule.fixef_exact)
    if bread.shape[0] == 0:  # fixed effects only: nothing to report
        n_groups = tuple(int(c.max()) + 1 for c in clusters) if spec.kind == "CRV1" else ()
        return VcovResult(bread, df_k, n_groups, float(max(n - df_k, 1)))
    if spec.kind == "iid":
        v = bread * (sigma2 if sigma2 is not None else 1.0)
        if rule.adj:
            v = v * (n - 1) / (n - df_k)
        return VcovResult(v, df_k, (), float(max(n - df_k, 1)))
    if spec.kind == "hetero":
        meat = scores.T @ scores
        v = bread @ meat @ bread
        if rule.adj:
            v = v * n / (n - df_k)
        return VcovResult(v, df_k, (), float(max(n - df_k, 1)))
    # CRV1, one- or multi-way
    adj = (n - 1) / (n - df_k) if rule.adj else 1.0
    n_groups = tuple(int(c.max()) + 1 for c in clusters)
    g_min = min(n_groups)
    total = np.zeros_like(bread)
    for r in range(1, len(clusters) + 1):
        sign = 1.0 if r % 2 == 1 else -1.0
        for subset in combinations(range(len(clusters)), r):
            codes = _intersect([clusters[i] for i in subset])
            g = int(codes.max()) + 1
            if rule.cluster_adj:
                gg = g_min if rule.cluster_df == "min" else g
                factor = gg / (gg - 1) if gg > 1 else 1.0
            else:
                factor = 1.0
            total += sign * factor * (bread @ _cluster_meat(scores, codes) @ bread)
    v = adj * total
    if len(clusters) > 1:
        vals, vecs = np.linalg.eigh((v + v.T) / 2)
        if vals.min() < 0:
            v = (vecs * np.maximum(vals, 0.0)) @ vecs.T
    return VcovResult(v, df_k, n_groups, float(g_min - 1))
