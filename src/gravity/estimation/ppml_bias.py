r"""Bias and variance corrections of PPML with exporter-time, importer-time and pair fixed
effects (Weidner and Zylkin 2021, "Bias and consistency in three-way gravity models",
Journal of International Economics 132; the Stata package ``ppml_fe_bias``).

Notation: pairs ``p = (i, j)`` (``P`` of them), periods ``t = 1..T``, fitted means
``lambda_pt``, residuals ``e_pt = y_pt - lambda_pt``, regressors ``x~`` demeaned by
all fixed effects with weights ``lambda``, Hessian ``W = sum lambda x~ x~'``. With the
pair effect concentrated out, each pair has the ``T x T`` Hessian
``H_p = diag(lambda_p) - lambda_p lambda_p' / sum_t lambda_pt``; ``H_i = sum_j H_ij``
and ``H_j = sum_i H_ij`` (pseudo-inverses ``H_i^+``, ``H_j^+``).

**Bias** (three-way model; the slope is consistent for fixed ``T`` but its bias is of
order ``1/N``, the order of its standard error):

.. math::

   b_k = W^{-1} \Big[\tfrac{N_i}{N_i - 1}\sum_i \big(-\mathrm{tr}(A_{ik} H_i^+)
         + \tfrac12 \mathrm{tr}(H_i^+ G_{ik} H_i^+ S_i)\big) + (\text{same over } j)\Big],

   A_{ik} = \sum_j e_{ij} (H_{ij} x~_{ijk})',\quad
   G_{ik} = -\sum_j (\mathrm{diag}(x~_{ijk}) H_{ij} + H_{ij} \mathrm{diag}(x~_{ijk})),\quad
   S_i = \sum_j e_{ij} e_{ij}',

and ``beta^bc = beta - b`` (the ``N/(N-1)`` factors are the package's degrees-of-freedom
adjustment).

**Variance**: the pair-clustered sandwich is biased downward because the residuals are
shrunk by the leverage of the fixed effects and slopes. Each pair's residual
outer product is inflated by the inverse of one minus its leverage block,

.. math::

   \hat V = W^{-1} \Big[\sum_p x~_p' (I_T - H_p (x~_p W^{-1} x~_p' + d_p V_{FE} d_p'))^{-1}
            e_p e_p' x~_p\Big] W^{-1},\qquad V_{FE} = \Big(\sum_p d_p' H_p d_p\Big)^-,

with ``d_p`` the ``T x (N_i T + N_j T)`` exporter-time and importer-time dummies of the
pair and ``(.)^-`` any generalised inverse (the variance does not depend on which).
Equivalently, ``H_p (x~_p W^{-1} x~_p' + d_p V_FE d_p')`` is the pair's ``T x T`` block
of the hat matrix ``Lambda Z (Z' Lambda Z)^- Z'`` of all regressors and dummies, up to a
term ``u 1'`` that ``1' e_p = 0`` makes irrelevant.

``variance=``:

* ``"exact"`` builds the dense ``F x F`` information matrix of the ``F = (N_i + N_j) T``
  exporter-time and importer-time effects and its generalised inverse: time ``O(F^3)``,
  memory ``O(F^2)``.
* ``"approx"`` is the authors' approximation (``ppml_fe_bias``, option ``approx``):
  the fixed-effect block of the hat matrix is replaced by one symmetric sweep of
  alternating projections on the three fixed effects
  (:func:`gravity.inference.cluster_leverage.inflated_scores`), which stays inside each pair: time and memory ``O(P T^3)``, no large matrix.
* ``"auto"`` (default): exact up to ``APPROX_ABOVE = 1500`` exporter-time plus
  importer-time effects, the approximation above (the authors' own switch).

Measured (``benchmarks/ppml_bias_variance.py`` -> ``benchmarks/results/
ppml_bias_variance.md``): from 1,000 to 3,000 time effects the exact variance step
takes seconds to about a minute and 40-350 MiB (growing as ``F^3`` and ``F^2``), the
approximation under 0.4 s; the approximate SE is 0.2-0.5% below the exact one in the
agreement-dummy (``wz``) design at N >= 60, 1-2.5% below at N = 20-40, 3-9% below in a design with
many small counts (``pois``, N = 20-50), and 2.2% above on the published example
(0.0428782 vs 0.0419559), always well above the uncorrected SE.

**Limits** (measured, ``benchmarks/results/ppml_bias_montecarlo.md``): the correction
estimates the first-order (``1/N``) bias. Where that is the estimator's bias (the
paper's designs with ``Var(y | x) = 1`` or ``lambda``) it removes most of it (0.68 ->
0.18 SD at N = 20, 0.74 -> 0.02 SD at N = 50). Where ``Var(y | x)`` is carried by a few
observations (the paper's mixed design, ``0.5 lambda + 0.5 lambda^2 exp(2x)``: the top
1% of observations carry half of it) the first-order term overstates the estimator's
bias about 2-3 fold at N = 20-100 and its estimate from the residuals understates it,
so about half an SD of bias remains (``benchmarks/ppml_bias_oracle.py``).

The same small-sample factor as the fit's own pair-clustered variance (``G/(G-1)``
with ``ssc="glm"``) is applied; :meth:`BiasCorrectedPoissonResults.with_vcov` changes
it (``ssc=``).

The corrected fit keeps the uncorrected fit's sample; its fixed effects are
re-estimated with ``x'beta^bc`` as an offset, so that ``fixed_effects()``,
``predict()`` and GE counterfactuals use the corrected slopes.

**Two-way model** (exporter-time and importer-time effects only): the slope has no
asymptotic bias; only the variance is corrected, with ``H_p = diag(lambda_p)`` and the
same leverage formula (clusters: the fit's cluster variable, or each observation when
the fit is heteroskedasticity-robust).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix

from ..errors import EstimationError, GravityWarning
from ..hdfe import DemeanConfig, make_demeaner
from ..inference.cluster_leverage import APPROX_ABOVE as LEVERAGE_APPROX_ABOVE
from ..inference.cluster_leverage import inflated_scores
from ..inference.vcov import (
    SSC,
    VcovResult,
    VcovSpec,
    cluster_codes,
    compute_vcov,
    parse_vcov,
    resolve_ssc,
)
from .assemble import recorded_warnings
from .record import FitRecord
from .results import PoissonResults, RegressionResults

#: above this number of exporter-time plus importer-time effects, ``variance="auto"``
#: uses the authors' approximation (``ppml_fe_bias`` switches at the same size; measured
#: in ``benchmarks/results/ppml_bias_variance.md``: the exact step takes seconds there
#: and grows as ``F^3``, the approximation is within 0.5% of it at that size)
APPROX_ABOVE = LEVERAGE_APPROX_ABOVE
DEMEAN_TOL = 1e-12


class BiasCorrectedPoissonResults(PoissonResults):
    """A PPML fit after :func:`ppml_bias_correct`: ``params`` are the bias-corrected
    slopes (three-way) and the variance is the leverage-corrected pair-clustered
    variance. ``extra`` holds ``params_uncorrected``, ``bias``, ``bse_uncorrected``,
    ``variance_method`` and ``model`` (``"three-way"`` or ``"two-way"``)."""

    @property
    def bias_corrected(self) -> bool:
        return True

    @property
    def params_uncorrected(self) -> pd.Series:
        return self._record.extra["params_uncorrected"]

    @property
    def bias(self) -> pd.Series:
        return self._record.extra["bias"]

    def with_vcov(self, vcov: Any = None, ssc: Any = None,
                  data: pd.DataFrame | None = None) -> RegressionResults:
        """The corrected variance with another small-sample correction (``ssc=``), or
        with the clustering restated (``vcov=``): only the clustering the correction
        is defined for is accepted -- the pair (three-way model; any column or
        fixed effect that identifies the same pairs, e.g. ``{"CRV1": "exp^imp"}``, a
        ``pair`` column with ``data=``), or the fit's own pair cluster or
        ``"hetero"`` (two-way model). Any other variance is an
        :class:`~gravity.errors.EstimationError`: the leverage correction is derived
        for that clustering only."""
        if vcov is None and ssc is None:
            return self
        r = self._record
        spec = self._spec if vcov is None else parse_vcov(vcov, r.fe_terms,
                                                          r.settings.panel_id)
        rule = self._ssc if ssc is None else resolve_ssc(ssc)
        if vcov is not None and not self._same_clusters(spec, data):
            model = r.extra["model"]
            want = (f"clustered by pair ({self._spec.label})" if self._spec.clustered
                    else "heteroskedasticity-robust")
            raise EstimationError(
                f"the bias-corrected variance of this {model} PPML fit is defined for the "
                f"variance it corrects, {want}; vcov={vcov!r} is not available on the "
                "corrected fit (only ssc= can change). Use the uncorrected fit for "
                "other variances")
        vr = _scaled(r.extra["vcov_unscaled"], spec if spec.clustered else self._spec,
                     rule, r, r.extra["variance_clusters"])
        return type(self)(r, vr, spec, rule)

    def _same_clusters(self, spec: VcovSpec, data: pd.DataFrame | None) -> bool:
        if spec.kind != self._spec.kind or len(spec.clusters) != len(self._spec.clusters):
            return False
        if not spec.clustered:
            return True
        if len(spec.clusters) != 1:
            return False
        term = spec.clusters[0]
        r = self._record
        codes = _known_codes(r, term)
        if codes is None:
            if data is None:
                raise EstimationError(f"the cluster variable {'^'.join(term)!r} is neither a "
                                      "fixed effect nor the fit's cluster: pass data=, the "
                                      "estimation data")
            codes = cluster_codes(data, spec, r.mask)[0]
        return _same_partition(codes, r.extra["variance_clusters"])


def _known_codes(r: FitRecord, term: tuple[str, ...]) -> np.ndarray | None:
    """Codes of a cluster term the record holds (a fixed effect or the fit's cluster)."""
    known = {tuple(sorted(t)): c for t, c in zip(r.fe_terms, r.fe_codes, strict=True)}
    known.update({tuple(sorted(t)): c for t, c in r.cluster_map.items()})
    return known.get(tuple(sorted(term)))


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two codings of the rows define the same groups."""
    n_ab = np.unique(np.column_stack([a, b]), axis=0).shape[0]
    return n_ab == np.unique(a).size == np.unique(b).size


def _scaled(unscaled: np.ndarray, spec: VcovSpec, rule: SSC, r: FitRecord,
            clusters: np.ndarray) -> VcovResult:
    """``unscaled`` times the small-sample factor the fit's own variance of ``spec`` and
    ``rule`` applies (``G/(G-1)``, ``(N-1)/(N-K)`` with fixed effects nested in the
    clusters not counted): the factor is read off :func:`compute_vcov` on a unit
    sandwich, so that it follows the package's rules exactly."""
    k = len(r.names)
    unit = np.zeros((r.nobs, 1))
    unit[0, 0] = 1.0
    ref = compute_vcov(spec=spec, bread=np.eye(1), scores=unit, nobs=r.nobs, n_regressors=k,
                       fe_codes=list(r.fe_codes), clusters=[clusters] if spec.clustered
                       else [], rule=rule, sigma2=None)
    return VcovResult(matrix=float(ref.matrix[0, 0]) * unscaled, df_k=ref.df_k,
                      n_clusters=ref.n_clusters, df_t=ref.df_t)


@dataclass(frozen=True)
class _Layout:
    """Rows of the sample arranged as a balanced ``P x T`` array (absent slots empty)."""

    pair: np.ndarray  # (n,) pair code of each row
    slot: np.ndarray  # (n,) period code of each row
    exp_of_pair: np.ndarray  # (P,)
    imp_of_pair: np.ndarray  # (P,)
    n_pairs: int
    n_periods: int
    n_exp: int
    n_imp: int


def _components(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Label of each row's connected component in the bipartite graph of ``a``/``b`` levels."""
    from scipy.sparse.csgraph import connected_components  # loaded only when asked

    na, nb = int(a.max()) + 1, int(b.max()) + 1
    g = coo_matrix((np.ones(a.size), (a, b + na)), shape=(na + nb, na + nb))
    _, lab = connected_components(g, directed=False)
    _, out = np.unique(lab[a], return_inverse=True)
    return out.astype(np.int64)


def _recode(x: np.ndarray) -> tuple[np.ndarray, int]:
    u, inv = np.unique(x, return_inverse=True)
    return inv.astype(np.int64), len(u)


def _check_names(terms: tuple[tuple[str, ...], ...], three: bool) -> None:
    """When the effects are interactions of columns, their columns must have the
    exporter-time, importer-time(, exporter-importer) pattern."""
    if not all(len(t) == 2 for t in terms):
        return
    it, jt = set(terms[0]), set(terms[1])
    shared = it & jt
    ok = len(shared) == 1 and it != jt
    if ok and three:
        ok = set(terms[2]) == (it | jt) - shared
    if not ok:
        want = "i^t + j^t + i^j" if three else "i^t + j^t"
        raise EstimationError(f"the fixed effects {['^'.join(t) for t in terms]} do not have "
                              f"the exporter-time, importer-time{', pair' if three else ''} "
                              f"structure ({want}) the correction needs")


def _layout(r: FitRecord, three: bool, clusters: np.ndarray | None) -> _Layout:
    it, jt = r.fe_codes[0], r.fe_codes[1]
    slot = _components(it, jt)
    if three:
        pair = r.fe_codes[2]
        exp_row, imp_row = _components(it, pair), _components(jt, pair)
    else:
        pair = clusters if clusters is not None else np.arange(r.nobs)
        pair, _ = _recode(pair)
    n_pairs = int(pair.max()) + 1
    n_periods = int(slot.max()) + 1
    key = pair * n_periods + slot
    if np.unique(key).size != key.size and not three:
        raise EstimationError("the two-way variance correction needs the fit clustered by "
                              "pair (one row per pair and period) or 'hetero'; the fit's "
                              "clusters have several rows in a period: fit with "
                              "vcov={'CRV1': <pair>}")
    if np.unique(key).size != key.size:
        raise EstimationError("a pair has more than one observation in a period: the "
                              "correction needs one row per exporter, importer and period "
                              "(fixed effects exporter-time, importer-time, pair)")
    if three:
        # each fixed effect must be the (i, t), (j, t), (i, j) cell it claims to be
        for codes, a, b in ((it, exp_row, slot), (jt, imp_row, slot),
                            (pair, exp_row, imp_row)):
            cells = np.unique(np.column_stack([a, b]), axis=0).shape[0]
            if cells != int(codes.max()) + 1:
                raise EstimationError(
                    "the fixed effects are not exporter-time, importer-time and pair "
                    "effects in that order (e.g. 'exp^year + imp^year + exp^imp')")
        first = np.zeros(n_pairs, dtype=np.int64)
        first[pair[::-1]] = np.arange(r.nobs)[::-1]
        exp_of_pair, n_exp = _recode(exp_row[first])
        imp_of_pair, n_imp = _recode(imp_row[first])
    else:
        exp_of_pair = imp_of_pair = np.zeros(n_pairs, dtype=np.int64)
        n_exp, n_imp = int(it.max()) + 1, int(jt.max()) + 1
    return _Layout(pair, slot, exp_of_pair, imp_of_pair, n_pairs, n_periods, n_exp, n_imp)


def _balanced(lay: _Layout, v: np.ndarray) -> np.ndarray:
    out = np.zeros((lay.n_pairs, lay.n_periods) + v.shape[1:])
    out[lay.pair, lay.slot] = v
    return out


def _group_sum(a: np.ndarray, groups: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros((n,) + a.shape[1:])
    np.add.at(out, groups, a)
    return out


def _refit_fixed_effects(r: FitRecord, beta: np.ndarray) -> FitRecord:
    """The fixed effects re-estimated given the slopes ``beta`` (an offset)."""
    from .design import ModelData
    from .feglm import fit_glm
    from .irls import IRLSSettings

    md = ModelData(formula=r.formula, y=r.y, X=r.X, names=list(r.names),
                   fe_codes=list(r.fe_codes), weights=None, offset=r.offset,
                   mask=r.mask.copy(), dropped=dict(r.dropped),
                   n_input=r.n_input, dropped_rows=dict(r.dropped_positions),
                   demean_config=DemeanConfig(tol=DEMEAN_TOL))
    out = fit_glm(md, pd.DataFrame(), r.family, r.spec, r.ssc,
                  IRLSSettings(tol=1e-12, maxiter=200), r.settings,
                  extra_offset=r.X @ beta, estimate_slopes=False, beta=beta,
                  iterations=r.iterations, reuse=r)
    n = out.record
    # the fitted values and the fixed-effect part follow from eta and beta (derived)
    return replace(r, beta=beta, eta=n.eta, stats=n.stats)


def _pinv_blocks(h: np.ndarray) -> np.ndarray:
    """Moore-Penrose inverses of a stack of symmetric ``T x T`` blocks."""
    return np.linalg.pinv(h, rcond=1e-12, hermitian=True)


@dataclass(frozen=True)
class _Arrays:
    lam: np.ndarray  # (P, T)
    e: np.ndarray  # (P, T)
    x: np.ndarray  # (P, T, K) demeaned regressors
    h: np.ndarray  # (P, T, T) pair Hessians
    hess: np.ndarray  # (K, K)
    xt: np.ndarray  # (K, n) demeaned regressors by row


def _arrays(r: FitRecord, lay: _Layout, three: bool) -> _Arrays:
    mu = r.fitted
    xt = np.array(r.X.T, dtype=np.float64, order="C")  # a copy: demeaned in place
    make_demeaner(list(r.fe_codes), DemeanConfig(tol=DEMEAN_TOL)).demean_inplace(
        xt, mu, tol=DEMEAN_TOL, maxiter=100_000)
    lam = _balanced(lay, mu)
    e = _balanced(lay, r.y - mu)
    x = _balanced(lay, xt.T)
    h = lam[:, :, None] * np.eye(lay.n_periods)[None]
    if three:
        h = h - lam[:, :, None] * lam[:, None, :] / lam.sum(axis=1)[:, None, None]
    hess = (xt * mu) @ xt.T
    return _Arrays(lam, e, x, h, hess, xt)


def _bias(a: _Arrays, lay: _Layout) -> np.ndarray:
    """The bias ``b`` of the three-way slopes (module docstring)."""
    ss = a.e[:, :, None] * a.e[:, None, :]
    total = np.zeros(a.x.shape[2])
    for groups, n in ((lay.exp_of_pair, lay.n_exp), (lay.imp_of_pair, lay.n_imp)):
        h_inv = _pinv_blocks(_group_sum(a.h, groups, n))
        s_g = _group_sum(ss, groups, n)
        for k in range(a.x.shape[2]):  # regressors
            xk = a.x[:, :, k]
            hx = np.einsum("pts,ps->pt", a.h, xk)
            a_g = _group_sum(a.e[:, :, None] * hx[:, None, :], groups, n)
            g = -(xk[:, :, None] * a.h + a.h * xk[:, None, :])
            g_g = _group_sum(g, groups, n)
            b1 = np.einsum("grt,gtr->", a_g, h_inv)
            b2 = np.einsum("gab,gbc,gcd,gda->", h_inv, g_g, h_inv, s_g)
            total[k] += n / (n - 1.0) * (-b1 + 0.5 * b2)
    return np.linalg.solve(a.hess, total)


def _fe_leverage_twoway(r: FitRecord, lay: _Layout) -> np.ndarray:
    """Two-way model: the effects of different periods do not interact, so
    ``d_p V_FE d_p'`` is diagonal, ``V_FE`` block-diagonal by period."""
    it, jt = r.fe_codes[0], r.fe_codes[1]
    diag_row = np.zeros(r.nobs)
    mu = r.fitted
    for t in range(lay.n_periods):  # periods
        rows = np.flatnonzero(lay.slot == t)
        ci, ni = _recode(it[rows])
        cj, nj = _recode(jt[rows])
        cj = cj + ni
        info = np.zeros((ni + nj, ni + nj))
        for ra, cb in ((ci, ci), (cj, cj), (ci, cj), (cj, ci)):
            np.add.at(info, (ra, cb), mu[rows])
        v = np.linalg.pinv(info, rcond=1e-11, hermitian=True)
        diag_row[rows] = v[ci, ci] + 2 * v[ci, cj] + v[cj, cj]
    d = _balanced(lay, diag_row)
    return d[:, :, None] * np.eye(lay.n_periods)[None]


def _sandwich(a: _Arrays, le: np.ndarray) -> np.ndarray:
    """``W^{-1} [sum_p x~_p' e~_p e_p' x~_p] W^{-1}`` (symmetrised) with ``e~_p`` the
    leverage-inflated residuals (``e~ = e``: the plain pair-clustered sandwich), no
    small-sample factor."""
    u = np.einsum("ptk,pt->pk", a.x, a.e)
    ul = np.einsum("ptk,pt->pk", a.x, le)
    meat = ul.T @ u
    meat = 0.5 * (meat + meat.T)
    w_inv = np.linalg.inv(a.hess)
    return w_inv @ meat @ w_inv


def _leverage_inflation(a: _Arrays, fe_lev: np.ndarray) -> np.ndarray:
    """``(I - H_p (x~_p W^{-1} x~_p' + d_p V_FE d_p'))^{-1}`` for every pair."""
    w_inv = np.linalg.inv(a.hess)
    xvx = np.einsum("ptk,kl,psl->pts", a.x, w_inv, a.x)
    eye = np.eye(a.h.shape[1])[None]
    return np.linalg.inv(eye - a.h @ (xvx + fe_lev))


def _apply(m: np.ndarray, e: np.ndarray) -> np.ndarray:
    return np.einsum("pts,ps->pt", m, e)


def _inflated_residuals(r: FitRecord, a: _Arrays, lay: _Layout, method: str) -> np.ndarray:
    """``e~_p = (I - Q_p)^{-1} e_p`` for every pair of the three-way model, ``Q_p`` the
    pair's block of the hat matrix of the slopes and all three fixed effects in the
    metric ``lambda`` (the module docstring's ``H_p (x~_p W^{-1} x~_p' + d_p V_FE
    d_p')``), exact (the dense ``V_FE``) or with the authors' approximation of its
    fixed-effect part (one sweep of alternating projections inside each pair):
    :func:`gravity.inference.cluster_leverage.inflated_scores` with the PPML scores
    ``y - lambda`` and weights ``lambda``, the pairs as clusters."""
    mu = r.fitted
    vt = inflated_scores(r.y - mu, mu, a.xt, np.linalg.inv(a.hess), list(r.fe_codes), 2,
                         method=method)
    return _balanced(lay, vt)


def ppml_bias_correct(res: RegressionResults, variance: str = "auto",
                      model: str | None = None) -> BiasCorrectedPoissonResults:
    """Weidner-Zylkin (2021) correction of a PPML fit (module docstring).

    ``res``: a :func:`gravity.ppml` fit with fixed effects exporter-time,
    importer-time and pair, in that order (``model="three-way"``: bias and variance
    corrected), or exporter-time and importer-time (``"two-way"``: variance only);
    default from the number of fixed effects. ``variance``: ``"exact"``,
    ``"approx"`` or ``"auto"`` (exact up to ``APPROX_ABOVE`` exporter-time plus
    importer-time effects). Returns a :class:`BiasCorrectedPoissonResults`.
    """
    if not isinstance(res, PoissonResults):
        raise EstimationError(f"the Weidner-Zylkin correction applies to PPML fits; this is "
                              f"a {res.model.upper()} fit")
    if isinstance(res, BiasCorrectedPoissonResults):
        raise EstimationError("the fit is already bias-corrected")
    r = res.record
    q = len(r.fe_codes)
    model = model or {3: "three-way", 2: "two-way"}.get(q)
    if model not in ("three-way", "two-way") or q != (3 if model == "three-way" else 2):
        raise EstimationError(
            "the Weidner-Zylkin correction needs exporter-time, importer-time and pair "
            f"fixed effects (three-way) or exporter-time and importer-time (two-way); "
            f"the model has {q} fixed effect(s)" + (f" ({', '.join(res.fe_names)})" if q else ""))
    if variance not in ("auto", "exact", "approx"):
        raise ValueError("variance must be 'auto', 'exact' or 'approx'")
    if not np.all(r.prior_weights == 1.0):
        raise EstimationError("the Weidner-Zylkin correction is implemented for unweighted "
                              "PPML fits only")
    if not r.names:
        raise EstimationError("the model has no regressor to correct")
    three = model == "three-way"
    _check_names(r.fe_terms, three)
    clusters = None
    if three:
        pair_term = "^".join(r.fe_terms[2])
        plain = res.with_vcov({"CRV1": pair_term})
    else:
        if res._spec.kind == "CRV1" and len(res._spec.clusters) == 1:
            clusters = r.cluster_map.get(res._spec.clusters[0])
            if clusters is None:
                clusters = dict(zip(r.fe_terms, r.fe_codes, strict=True))[res._spec.clusters[0]]
        elif res._spec.kind != "hetero":
            raise EstimationError("the two-way variance correction is for pair-clustered "
                                  "(or, one period, heteroskedasticity-robust) fits: fit "
                                  "with vcov={'CRV1': <pair>} or 'hetero'")
        plain = res
    lay = _layout(r, three, clusters)
    a = _arrays(r, lay, three)
    n_fe = (lay.n_exp + lay.n_imp) * lay.n_periods
    method = variance if variance != "auto" else (
        "approx" if three and n_fe > APPROX_ABOVE else "exact")
    if not three:
        method = "exact"
        le = _apply(_leverage_inflation(a, _fe_leverage_twoway(r, lay)), a.e)
    else:
        le = _inflated_residuals(r, a, lay, method)
    spec = plain._spec
    raw = _sandwich(a, a.e)
    unscaled = _sandwich(a, le)
    names = pd.Index(r.names)
    bias = _bias(a, lay) if three else np.zeros(len(names))
    beta = r.beta - bias
    label = (f"Weidner-Zylkin (2021) {model} PPML: "
             + ("bias and " if three else "") + f"variance ({method})")
    extra = {**r.extra, "bias_corrected": True, "model": model, "variance_method": method,
             "params_uncorrected": res.params.copy(),
             "bias": pd.Series(bias, index=names),
             "bse_uncorrected": pd.Series(np.sqrt(np.diag(
                 _scaled(raw, spec, plain.ssc, r, lay.pair).matrix)), index=names),
             "n_time_effects": n_fe, "vcov_unscaled": unscaled,
             "variance_clusters": lay.pair}
    rec = _refit_fixed_effects(r, beta) if three else r
    with recorded_warnings() as log:
        own = res._spec
        codes = _known_codes(r, own.clusters[0]) if own.kind == "CRV1" and len(
            own.clusters) == 1 else None
        if three and (codes is None or not _same_partition(codes, lay.pair)):
            warnings.warn(f"the bias-corrected variance is clustered by pair ({spec.label}), "
                          f"the clustering the correction is derived for; the fit's own "
                          f"variance was {own.label}", GravityWarning, stacklevel=3)
    rec = replace(rec, extra=extra, settings=replace(r.settings, bias_correction=label),
                  warnings=tuple(r.warnings) + tuple(log))
    vr = _scaled(unscaled, spec, plain.ssc, r, lay.pair)
    return BiasCorrectedPoissonResults(rec, vr, spec, plain.ssc)
