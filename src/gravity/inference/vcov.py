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

* ``"HC2"``, ``"HC3"`` (least squares): ``M = sum_i s_i s_i' / (1 - h_i)^p`` with
  ``p = 1, 2`` and ``h_i`` the hat values of the full model, fixed effects included
  (:mod:`gravity.inference.leverage`); no small-sample factor (MacKinnon and White
  1985; as fixest's ``vcov_hetero`` and statsmodels).
* ``{"CRV3": "g"}`` (least squares): the leave-one-cluster-out jackknife
  (:mod:`gravity.inference.jackknife`), times the CRV1 factors.
* ``"NW"``, ``"DK"`` (``{"NW": "unit+time", "lag": L}``, or the estimator's
  ``panel_id``): panel Newey-West and Driscoll-Kraay (:mod:`gravity.inference.hac`),
  times ``(N-1)/(N-K)`` and ``T/(T-1)`` (``T`` periods; pyfixest's convention), with
  ``T - 1`` degrees of freedom for t tests.

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

from ..errors import EstimationError, GravityWarning, InputError, MissingColumnError
from ..hdfe.components import fixed_effect_parameters
from ..hdfe.factors import factorize_term, is_nested, recode
from ..hdfe.timeindex import time_index
from .hac import default_lag, driscoll_kraay_meat, newey_west_meat
from .jackknife import LinearDesign, jackknife_sum
from .leverage import leverage

#: variance types that need the least-squares design (:class:`LinearDesign`)
LINEAR_ONLY = ("HC2", "HC3", "CRV3")
#: key of the time periods of ``"NW"``/``"DK"`` among a record's cluster codes
TIME_KEY = "@time"


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

    kind: str  # "iid", "hetero", "HC2", "HC3", "CRV1", "CRV3", "NW" or "DK"
    clusters: tuple[tuple[str, ...], ...] = ()
    panel: tuple[str, str] | None = None  # (unit, time) of "NW" and "DK"
    lag: int | None = None

    @property
    def clustered(self) -> bool:
        return self.kind in ("CRV1", "CRV3")

    @property
    def label(self) -> str:
        if self.clustered:
            return f"{self.kind}: " + " + ".join("^".join(c) for c in self.clusters)
        if self.panel is not None:
            lag = "" if self.lag is None else f", lag {self.lag}"
            if self.kind == "DK":
                return f"DK: {self.panel[1]}{lag}"
            return f"{self.kind}: {self.panel[0]} + {self.panel[1]}{lag}"
        return self.kind

    def columns(self) -> set[str]:
        return {c for term in self.clusters for c in term} | set(self.panel or ())


_HAC = {"nw": "NW", "newey_west": "NW", "newey-west": "NW", "dk": "DK",
        "driscoll_kraay": "DK", "driscoll-kraay": "DK"}


def _panel(spec: Any, vcov: Any, kind: str = "NW") -> tuple[str, str]:
    cols = [c.strip() for c in spec.replace("~", "").split("+")] if isinstance(spec, str) \
        else [str(c) for c in spec]
    if kind == "DK" and len(cols) == 1 and cols[0]:  # fixest's DK ~ period
        return cols[0], cols[0]
    if len(cols) != 2 or not all(cols):
        raise ValueError(f"vcov={vcov!r}: name the panel as 'unit+time' or (unit, time)"
                         + (" (or the time alone for DK)" if kind == "DK" else ""))
    return cols[0], cols[1]


def parse_vcov(vcov: Any, fixed_effects: tuple[tuple[str, ...], ...],
               panel_id: Any = None) -> VcovSpec:
    """Parse ``"iid"``, ``"hetero"``/``"HC1"``, ``"HC2"``, ``"HC3"``,
    ``{"CRV1": "a+b"}``, ``{"CRV3": "g"}``, ``"NW"``/``"DK"`` (on ``panel_id``) or
    ``{"NW": "unit+time", "lag": 2}``, or ``None``.

    ``None`` follows fixest: cluster by the panel's unit when ``panel_id`` is given
    (the panel has precedence), else by the first fixed effect when there is one,
    ``"iid"`` otherwise.
    """
    if vcov is None:
        if panel_id is not None:
            return VcovSpec("CRV1", ((_panel(panel_id, panel_id)[0],),))
        if fixed_effects:
            return VcovSpec("CRV1", (fixed_effects[0],))
        return VcovSpec("iid")
    if isinstance(vcov, str):
        key = vcov.strip()
        if key.lower() == "iid":
            return VcovSpec("iid")
        if key.lower() in ("hetero", "hc1", "robust"):
            return VcovSpec("hetero")
        if key.upper() in ("HC2", "HC3"):
            return VcovSpec(key.upper())
        if key.lower() in _HAC:
            if panel_id is None:
                raise ValueError(f"vcov='{vcov}' needs the panel: pass panel_id=(unit, time) "
                                 f"to the estimator or vcov={{'{_HAC[key.lower()]}': "
                                 "'unit+time'}")
            return VcovSpec(_HAC[key.lower()], panel=_panel(panel_id, vcov))  # unit, time
        raise ValueError(
            f"unknown vcov '{vcov}': use 'iid', 'hetero', 'HC2', 'HC3', 'NW', 'DK', "
            "{'CRV1': 'cluster_var'} or {'CRV3': 'cluster_var'}"
        )
    if isinstance(vcov, dict) and 1 <= len(vcov) <= 2:
        opts = dict(vcov)
        lag = opts.pop("lag", None)
        if len(opts) != 1:
            raise ValueError(f"cannot understand vcov={vcov!r}")
        (kind, spec), = opts.items()
        if lag is not None and (isinstance(lag, bool) or not isinstance(lag, (int, np.integer))
                                or lag < 0):
            raise ValueError(f"vcov lag must be a non-negative integer, got {lag!r}")
        if kind.lower() in _HAC:
            panel = _panel(spec if spec else panel_id, vcov, _HAC[kind.lower()])
            return VcovSpec(_HAC[kind.lower()], panel=panel,
                            lag=None if lag is None else int(lag))
        if lag is not None:
            raise ValueError(f"lag= applies to 'NW' and 'DK' only, not vcov={vcov!r}")
        if kind.upper() not in ("CRV1", "CLUSTER", "CRV3"):
            raise ValueError(f"unsupported vcov type '{kind}': use CRV1, CRV3, NW or DK")
        if isinstance(spec, str):
            terms = [t.strip() for t in spec.split("+")]
        else:
            terms = list(spec)
        if not terms or any(not t for t in terms):
            raise ValueError(f"empty cluster variable in vcov={vcov}")
        kind = "CRV3" if kind.upper() == "CRV3" else "CRV1"
        if kind == "CRV3" and len(terms) > 1:
            raise ValueError("CRV3 takes one cluster variable (one-way clustering)")
        return VcovSpec(kind, tuple(tuple(t.split("^")) for t in terms))
    raise ValueError(f"cannot understand vcov={vcov!r}")


def spec_codes(data: pd.DataFrame, spec: VcovSpec, mask: np.ndarray
               ) -> dict[tuple[str, ...], np.ndarray]:
    """Codes a variance needs on the sample rows: one array per cluster term, and for
    ``"NW"``/``"DK"`` the unit codes and the time periods (key ``(TIME_KEY, time)``)."""
    out = {term: recode(factorize_term(data, term)[mask])[0] for term in spec.clusters}
    if spec.panel is not None:
        unit, time = spec.panel
        out[(unit,)] = recode(factorize_term(data, (unit,))[mask])[0]
        out[(TIME_KEY, time)] = time_index(data[time])[mask]
    return out


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


@dataclass(frozen=True)
class FactoredScores:
    """Scores ``x~_ik s_i`` kept as their factors, the ``(K, N)`` demeaned regressors
    ``xt`` and the score factor ``s`` (least squares: the weighted residual): the
    clustered variance forms one column ``x~_k * s`` at a time (no ``(N, K)`` array);
    ``numpy.asarray`` forms all of them."""

    xt: np.ndarray
    s: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.xt.shape[1]), int(self.xt.shape[0]))

    def column(self, k: int) -> np.ndarray:
        return self.xt[k] * self.s

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = (self.xt * self.s).T
        return out if dtype is None else out.astype(dtype)


def _cluster_meat(scores: np.ndarray | FactoredScores, codes: np.ndarray) -> np.ndarray:
    """sum over clusters of (summed scores)(summed scores)'. The per-cluster sums are
    accumulated over blocks of :data:`MEAT_BLOCK` rows: neither a score column nor the
    codes as ``intp`` (what ``bincount`` takes) is ever formed at full length."""
    g = int(codes.max()) + 1
    n, k = scores.shape
    summed = np.zeros((g, k))
    for lo in range(0, n, MEAT_BLOCK):
        hi = min(n, lo + MEAT_BLOCK)
        block = codes[lo:hi].astype(np.intp, copy=False)
        for j in range(k):
            col = (scores.xt[j, lo:hi] * scores.s[lo:hi] if isinstance(scores, FactoredScores)
                   else scores[lo:hi, j])
            summed[:, j] += np.bincount(block, weights=col, minlength=g)
    return summed.T @ summed


#: rows per block of :func:`_cluster_meat` (2 MiB per float64 column)
MEAT_BLOCK = 1 << 18


def _intersect(codes: list[np.ndarray]) -> np.ndarray:
    if len(codes) == 1:  # one cluster: its codes as they are (no int64 copy)
        return codes[0]
    out = np.asarray(codes[0], dtype=np.int64)  # int32 codes: no overflow of products
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
    scores: np.ndarray | FactoredScores,
    nobs: int,
    n_regressors: int,
    fe_codes: list[np.ndarray],
    clusters: list[np.ndarray],
    rule: SSC,
    sigma2: float | None,
    panel: tuple[np.ndarray, np.ndarray] | None = None,
    design: LinearDesign | None = None,
    extra_k: int = 0,
) -> VcovResult:
    """Sandwich variance with small-sample corrections.

    ``sigma2`` is the residual variance ``sum w u^2 / (N - 1)`` for OLS
    ``"iid"``, and ``None`` for Poisson (dispersion one). ``panel``: unit codes and
    periods (``"NW"``, ``"DK"``); ``design``: the least-squares design (``"HC2"``,
    ``"HC3"``, ``"CRV3"``); ``extra_k``: parameters besides the regressors and the
    fixed effects (varying slopes), counted in ``K``.
    """
    n = nobs
    # the variances other than CRV1 use the whole (N, K) array of scores
    dense: np.ndarray = np.asarray(scores) if spec.kind != "CRV1" else np.empty((0, 0))
    # fixed effects nested in the clusters are not counted in K (fixest's
    # fixef.K = "nested"); for the panel variances the "clusters" are the panel's units
    # and periods (Newey-West) or its periods (Driscoll-Kraay), as in R fixest 0.12.2
    nesting = clusters if spec.clustered else []
    if spec.kind in ("NW", "DK") and panel is not None:
        nesting = [panel[0], panel[1]] if spec.kind == "NW" else [panel[1]]
    df_k = count_df_k(n_regressors, fe_codes, nesting, rule) + extra_k
    if n - df_k <= 0 and rule.adj:
        warnings.warn(f"no residual degrees of freedom ({n} observations for {df_k} "
                      "parameters): standard errors computed without the (N-1)/(N-K) "
                      "adjustment", GravityWarning, stacklevel=4)
        rule = SSC(adj=False, fixef_k=rule.fixef_k, cluster_adj=rule.cluster_adj,
                   cluster_df=rule.cluster_df, fixef_exact=rule.fixef_exact)
    if bread.shape[0] == 0:  # fixed effects only: nothing to report
        n_groups = tuple(int(c.max()) + 1 for c in clusters) if spec.clustered else ()
        return VcovResult(bread, df_k, n_groups, float(max(n - df_k, 1)))
    if spec.kind == "iid":
        v = bread * (sigma2 if sigma2 is not None else 1.0)
        if rule.adj:
            v = v * (n - 1) / (n - df_k)
        return VcovResult(v, df_k, (), float(max(n - df_k, 1)))
    if spec.kind == "hetero":
        meat = dense.T @ dense
        v = bread @ meat @ bread
        if rule.adj:
            v = v * n / (n - df_k)
        return VcovResult(v, df_k, (), float(max(n - df_k, 1)))
    if spec.kind in LINEAR_ONLY and design is None:
        raise EstimationError(f"vcov '{spec.kind}' is available for least squares (ols, "
                              "lpm) only")
    if spec.kind in ("HC2", "HC3"):
        assert design is not None
        h = leverage(design.xt, bread, design.weights, list(design.fe_codes))
        power = 1.0 if spec.kind == "HC2" else 2.0
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(h < 1 - 1e-10, (1.0 - h) ** (-power / 2), 0.0)
        s = dense * scale[:, None]
        return VcovResult(bread @ (s.T @ s) @ bread, df_k, (), float(max(n - df_k, 1)))
    if spec.kind in ("NW", "DK"):
        if panel is None:
            raise EstimationError(f"vcov '{spec.kind}' needs the panel's unit and time codes")
        units, periods = panel
        lag = default_lag(periods) if spec.lag is None else spec.lag
        if spec.kind == "NW":  # lags count the observed periods, gaps bridged (fixest)
            periods = np.unique(periods, return_inverse=True)[1].astype(np.int64)
        meat = newey_west_meat(dense, units, periods, lag) if spec.kind == "NW" \
            else driscoll_kraay_meat(dense, periods, lag)
        t_count = int(np.unique(periods).size)
        v = bread @ meat @ bread
        if rule.adj:
            v = v * (n - 1) / (n - df_k)
        if rule.cluster_adj and t_count > 1:
            v = v * t_count / (t_count - 1)
        return VcovResult(v, df_k, (), float(max(t_count - 1, 1)))
    if spec.kind == "CRV3":
        assert design is not None
        g = int(clusters[0].max()) + 1
        factor = (g / (g - 1) if g > 1 else 1.0) if rule.cluster_adj else 1.0
        adj = (n - 1) / (n - df_k) if rule.adj else 1.0
        v = adj * factor * jackknife_sum(design, clusters[0])
        return VcovResult(v, df_k, (g,), float(g - 1))
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
