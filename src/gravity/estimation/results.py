"""Results of a fitted model, with statsmodels- and fixest-style accessors.

One class per kind: :class:`LinearResults` (OLS, LPM), :class:`PoissonResults`
(PPML) and :class:`BinaryResults` (logit, probit, cloglog), all on the common
:class:`RegressionResults`. A result holds an immutable :class:`FitRecord` and its
variance; statistics are computed once and cached; :meth:`with_vcov` returns an
object of the same class; nothing of the caller's DataFrame is kept.

:meth:`RegressionResults.lean`: the same numbers without the row-level arrays
(fixest's ``lean = TRUE``; :mod:`gravity.estimation.lean`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import Any, Self

import numpy as np
import pandas as pd

from ..errors import (
    EstimationError,
    GravityWarning,
    InputError,
    LeanResultError,
    MissingColumnError,
)
from ..hdfe.recover import recover_fixed_effects
from ..hdfe.slopes import recover_with_slopes
from ..inference.bootstrap import WildBootstrap
from ..inference.delta import DeltaMethodResult, delta_method
from ..inference.distributions import reference
from ..inference.jackknife import LinearDesign
from ..inference.vcov import (
    LINEAR_ONLY,
    SSC,
    TIME_KEY,
    VcovResult,
    VcovSpec,
    cluster_codes,
    compute_vcov,
    parse_vcov,
    resolve_ssc,
    spec_codes,
)
from ..inference.wald import WaldTest, wald_test
from .design import regressor_columns
from .lean import LeanExtra, LeanRecord, lean_message, lean_record
from .record import FitRecord, LoglikFromDeviance
from .summary import REASONS, Summary
from .terms import make_panel
from .wild import wild_bootstrap


class RegressionResults:
    """A fitted model with high-dimensional fixed effects.

    Attributes mirror statsmodels (``params``, ``bse``, ``tvalues``, ``pvalues``,
    ``conf_int()``, ``nobs``, ``summary()``) and fixest (``tidy()``,
    ``fixed_effects()``, ``predict()``). ``warnings`` lists every warning raised while
    fitting.
    """

    def __init__(self, record: FitRecord, vcov: VcovResult | None = None,
                 spec: VcovSpec | None = None, ssc: SSC | None = None) -> None:
        self._record = record
        self._spec = spec or record.spec
        self._ssc = ssc or record.ssc
        self._vr = vcov if vcov is not None else self._compute_vcov(self._spec, self._ssc)

    # ---------------------------------------------------------------- record
    @property
    def record(self) -> FitRecord:
        """The immutable fit record."""
        return self._record

    @property
    def model(self) -> str:
        return self._record.kind

    @property
    def is_lean(self) -> bool:
        """True for a lean result (:meth:`lean`): no row-level arrays."""
        return isinstance(self._record, LeanRecord)

    def lean(self) -> Self:
        """This result without its row-level arrays (fixest's ``lean = TRUE``), same
        class. Kept bit for bit: coefficients, this result's variance (``bse``, t, p,
        ``conf_int``, ``n_clusters``), ``nobs``, dropped-row counts, fit statistics
        (log-likelihoods evaluated now, while the outcome is there), ``summary()``,
        ``tidy()``, ``etable``, ``warnings``, ``wald_test``, ``delta_method``. The
        methods that need the rows (``resid``, ``fittedvalues``, ``predict``,
        ``fixed_effects()``, ``with_vcov``, ``in_sample``, ``dropped_rows``) raise
        :class:`~gravity.errors.LeanResultError` (:mod:`gravity.estimation.lean`)."""
        if self.is_lean:
            return self
        stats = {k: self._stat(k) for k in self._record.stats}
        return type(self)(lean_record(self._record, stats), self._vr, self._spec, self._ssc)

    def _need_rows(self, what: str) -> None:
        """Raise :class:`LeanResultError` for ``what`` on a lean result."""
        if self.is_lean:
            raise LeanResultError(lean_message(f"{type(self).__name__}.{what}"))

    @property
    def formula(self) -> str:
        return self._record.formula.raw

    @property
    def depvar(self) -> str:
        return self._record.formula.outcome

    @property
    def nobs(self) -> int:
        return self._record.nobs

    @property
    def n_input(self) -> int:
        return self._record.n_input

    @property
    def dropped(self) -> dict[str, int]:
        return dict(self._record.dropped)

    @property
    def dropped_regressors(self) -> list[str]:
        return list(self._record.dropped_regressors)

    @property
    def fe_names(self) -> tuple[str, ...]:
        return self._record.fe_names

    @property
    def fe_sizes(self) -> tuple[int, ...]:
        return self._record.fe_sizes

    @property
    def iterations(self) -> int:
        return self._record.iterations

    @property
    def converged(self) -> bool:
        return self._record.converged

    @property
    def warnings(self) -> list[Any]:
        """The warnings raised while fitting (``warnings.WarningMessage`` records:
        ``.category``, ``.message``)."""
        return list(self._record.warnings)

    @property
    def extra(self) -> dict[str, Any]:
        """Model-specific details (a lean result's: without its row-level entries,
        reading one raises :class:`LeanResultError`)."""
        e = self._record.extra
        return e.copy() if isinstance(e, LeanExtra) else dict(e)

    @property
    def in_sample(self) -> np.ndarray:
        """Boolean mask over the input rows: True for the rows used in estimation."""
        self._need_rows("in_sample")
        return self._record.mask.copy()

    def _stat(self, name: str) -> float | None:
        v = self._record.stats.get(name)
        if isinstance(v, LoglikFromDeviance):
            if "_loglik_saturated" not in self.__dict__:
                rec = self._record
                self.__dict__["_loglik_saturated"] = rec.family.loglik_saturated(
                    rec.y, rec.prior_weights)
            return float(self.__dict__["_loglik_saturated"] - 0.5 * v.deviance)
        return None if v is None else float(v)

    @property
    def deviance(self) -> float | None:
        return self._stat("deviance")

    @property
    def null_deviance(self) -> float | None:
        return self._stat("null_deviance")

    @property
    def loglik(self) -> float | None:
        return self._stat("loglik")

    @property
    def null_loglik(self) -> float | None:
        return self._stat("null_loglik")

    rss = tss = tss_within = None  # least squares only

    # ---------------------------------------------------------------- variance
    def _compute_vcov(self, spec: VcovSpec, rule: SSC, data: pd.DataFrame | None = None
                      ) -> VcovResult:
        r = self._record
        clusters = self._cluster_codes(spec, data) if spec.clustered else []
        panel = None
        if spec.panel is not None:
            unit, time = spec.panel
            codes = self._codes([(unit,), (TIME_KEY, time)], spec, data)
            panel = (codes[0], codes[1])
        design = None
        if spec.kind in LINEAR_ONLY:
            if r.formula.slopes:
                raise EstimationError(f"vcov '{spec.kind}' is not available with varying "
                                      "slopes: use 'hetero' or CRV1")
            design = self._linear_design()
        return compute_vcov(spec=spec, bread=r.bread, scores=r.score_factors, nobs=r.nobs,
                            n_regressors=len(r.names), fe_codes=list(r.fe_codes),
                            clusters=clusters, rule=rule, sigma2=r.sigma2, panel=panel,
                            design=design, extra_k=int(r.extra.get("slope_parameters", 0)))

    def _linear_design(self) -> LinearDesign | None:
        """The least-squares design (HC2, HC3, CRV3); None for other models."""
        return None

    def _cluster_codes(self, spec: VcovSpec, data: pd.DataFrame | None) -> list[np.ndarray]:
        return self._codes(list(spec.clusters), spec, data)

    def _codes(self, keys: list[tuple[str, ...]], spec: VcovSpec, data: pd.DataFrame | None
               ) -> list[np.ndarray]:
        r = self._record
        if data is not None:
            if len(data) != r.n_input:
                raise InputError(f"data= must be the estimation data ({r.n_input} rows), "
                                 f"got {len(data)} rows")
            cluster_codes(data, VcovSpec("CRV1", tuple((c,) for c in spec.columns())),
                          r.mask)  # checks the columns: present, no missing value
            known = spec_codes(data, spec, r.mask)
        else:
            known = dict(r.cluster_map)
            known.update(zip(r.fe_terms, r.fe_codes, strict=True))
        missing = [term for term in keys if term not in known]
        if missing:
            what = "panel" if spec.panel is not None else "cluster"
            raise MissingColumnError(
                f"the fit keeps only its fixed-effect, cluster and panel codes: pass "
                f"data=<the estimation data> (or panel_id= to the estimator) to use this "
                f"{what} variable", column="^".join(c for c in missing[0] if c != TIME_KEY))
        return [known[term] for term in keys]

    @property
    def vcov(self) -> pd.DataFrame:
        names = list(self._record.names)
        return pd.DataFrame(self._vr.matrix, index=names, columns=names)

    @property
    def vcov_type(self) -> str:
        return self._spec.label

    @property
    def ssc(self) -> SSC:
        return self._ssc

    @property
    def df_k(self) -> int:
        return self._vr.df_k

    @property
    def df_t(self) -> float:
        return np.inf

    @property
    def n_clusters(self) -> tuple[int, ...]:
        return self._vr.n_clusters

    def with_vcov(self, vcov: Any = None, ssc: SSC | str | dict | None = None,
                  data: pd.DataFrame | None = None) -> RegressionResults:
        """The same fit with another variance estimator or small-sample correction
        (same class). Clustering by a column that is neither a fixed effect nor the
        fit's cluster variable needs ``data=``, the estimation data. A lean result
        (:meth:`lean`) keeps only its own variance: called without arguments it is
        returned as it is, anything else raises :class:`LeanResultError`."""
        if self.is_lean and vcov is None and ssc is None and data is None:
            return self
        self._need_rows("with_vcov()")
        spec = parse_vcov(vcov, self._record.fe_terms, self._record.settings.panel_id) \
            if vcov is not None else self._spec
        rule = resolve_ssc(ssc) if ssc is not None else self._ssc
        return type(self)(self._record, self._compute_vcov(spec, rule, data), spec, rule)

    # ---------------------------------------------------------------- statistics
    @cached_property
    def params(self) -> pd.Series:
        return pd.Series(self._record.beta, index=pd.Index(self._record.names))

    @cached_property
    def bse(self) -> pd.Series:
        return pd.Series(np.sqrt(np.maximum(np.diag(self._vr.matrix), 0.0)),
                         index=self.params.index)

    @cached_property
    def tvalues(self) -> pd.Series:
        return self.params / self.bse

    @property
    def _dist(self) -> Any:
        return reference(self.df_t)

    @cached_property
    def pvalues(self) -> pd.Series:
        return pd.Series(2 * self._dist.sf(np.abs(self.tvalues.to_numpy())),
                         index=self.params.index)

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Confidence intervals (t with ``df_t`` degrees of freedom for OLS, normal else)."""
        q = self._dist.ppf(1 - alpha / 2)
        b, s = self.params, self.bse
        return pd.DataFrame({"lower": b - q * s, "upper": b + q * s})

    @property
    def pseudo_r2(self) -> float | None:
        """McFadden pseudo R2 ``1 - ll/ll0`` (ll0: the constant-only model)."""
        if self.loglik is None or self.null_loglik is None or self.null_loglik == 0:
            return None
        return 1.0 - self.loglik / self.null_loglik

    @property
    def r2(self) -> float | None:
        return None

    @property
    def r2_within(self) -> float | None:
        return None

    # ---------------------------------------------------------------- rows
    @property
    def dropped_rows(self) -> dict[str, pd.Index]:
        """Labels of the input rows dropped, by reason (``missing``, ``singleton``,
        ``separated_fe``, ``separated_simplex``, ``separated_relu``, ...)."""
        self._need_rows("dropped_rows")
        idx = self._record.input_index
        return {k: idx[v] for k, v in self._record.dropped_positions.items()}

    @property
    def separated(self) -> pd.Index:
        """Labels of the input rows dropped as separated (any method)."""
        self._need_rows("separated")
        parts = [v for k, v in self.dropped_rows.items() if k.startswith("separated")]
        if not parts:
            return self._record.input_index[:0]
        return parts[0].append(parts[1:]).sort_values()

    @property
    def resid(self) -> pd.Series:
        """Response residuals ``y - fitted`` on the estimation sample."""
        self._need_rows("resid")
        r = self._record
        return pd.Series(r.y - r.fitted, index=r.index)

    @property
    def fittedvalues(self) -> pd.Series:
        """Fitted means ``g^{-1}(eta)`` on the estimation sample."""
        self._need_rows("fittedvalues")
        r = self._record
        return pd.Series(r.fitted, index=r.index)

    # ---------------------------------------------------------------- tables
    def tidy(self, alpha: float = 0.05) -> pd.DataFrame:
        """One row per coefficient: estimate, std_error, statistic, p_value, conf_low/high."""
        ci = self.conf_int(alpha)
        return pd.DataFrame({"estimate": self.params, "std_error": self.bse,
                             "statistic": self.tvalues, "p_value": self.pvalues,
                             "conf_low": ci["lower"], "conf_high": ci["upper"]}
                            ).rename_axis("term")

    def _footer(self) -> list[str]:
        return [f"Deviance: {self.deviance:.6g}  Log-likelihood: {self.loglik:.6g}  "
                f"Pseudo R2: {self.pseudo_r2 if self.pseudo_r2 is not None else float('nan'):.5f}"]

    def summary(self) -> Summary:
        """The summary table (prints as text, renders as HTML in a notebook)."""
        r = self._record
        head = [f"Formula: {self.formula}",
                f"Observations: {self.nobs:,}" + (
                    f"  (of {self.n_input:,} rows)" if self.n_input != self.nobs else "")]
        if self.fe_names:
            head.append("Fixed effects: " + ", ".join(
                f"{n} ({s:,})" for n, s in zip(self.fe_names, self.fe_sizes, strict=True)))
        if r.formula.slopes:
            head.append("Varying slopes: " + ", ".join(s.label for s in r.formula.slopes))
        vc = f"Standard errors: {self.vcov_type}"
        if self.n_clusters:
            vc += " (" + ", ".join(f"{g:,} clusters" for g in self.n_clusters) + ")"
        head.append(vc)
        head.append(f"Small-sample correction: {_ssc_label(self._ssc)}")
        head += r.settings.lines()
        for reason, n in self.dropped.items():
            head.append(f"Dropped: {n:,} observations, {REASONS.get(reason, reason)}")
        if self.dropped_regressors:
            head.append("Dropped regressors: " + ", ".join(self.dropped_regressors))
        tail = self._footer()
        tail.append(f"Iterations: {self.iterations}  Converged: {self.converged}")
        if r.warnings:
            tail.append(f"Warnings: {len(r.warnings)} (see .warnings)")
        stat = "z" if not np.isfinite(self.df_t) else "t"
        return Summary(f"{self.model.upper()} estimation, dep. var.: {self.depvar}",
                       tuple(head), self.tidy(), tuple(tail), stat)

    def __str__(self) -> str:
        return str(self.summary())

    def __repr__(self) -> str:
        terms = ", ".join(f"{k}={v:.4g}" for k, v in list(self.params.items())[:4])
        more = ", ..." if len(self.params) > 4 else ""
        return (f"<{type(self).__name__} {self.model.upper()} '{self.formula}': "
                f"N={self.nobs:,}, {terms}{more}>")

    def _repr_html_(self) -> str:  # pragma: no cover - notebook display
        return self.summary()._repr_html_()

    # ---------------------------------------------------------------- inference
    def delta_method(self, func: Callable[[pd.Series], Any],
                     gradient: np.ndarray | None = None) -> DeltaMethodResult:
        """Delta method for ``func(params)`` (see :func:`gravity.inference.delta_method`)."""
        return delta_method(func, self.params, self.vcov, gradient=gradient)

    def wald_test(self, terms: Sequence[str] | None = None, R: Any = None,
                  q: Any = None) -> WaldTest:
        """Wald test of ``R b = q`` (default: the listed ``terms`` are jointly zero);
        terms the model dropped are left out and named (:class:`WaldTest`)."""
        return wald_test(self.params, self.vcov, terms, R, q, self.dropped_regressors)

    # ---------------------------------------------------------------- fixed effects
    @cached_property
    def _fe_values(self) -> list[np.ndarray]:
        r = self._record
        if r.formula.slopes:
            s = r.extra["slopes"]
            fes, slopes = recover_with_slopes(r.fe_component, list(r.fe_codes), s["codes"],
                                              s["values"])
            return fes + [b[:, j] for b in slopes for j in range(b.shape[1])]
        return recover_fixed_effects(r.fe_component, list(r.fe_codes))

    def fixed_effects(self) -> dict[str, pd.Series]:
        """Estimated fixed-effect coefficients, one Series per fixed effect.

        Recovered from the per-observation fixed-effect component of the linear
        predictor (exact up to ``1e-10``). As in fixest, only sums are identified:
        every fixed effect but the first is normalised so that its first level is zero.
        Varying slopes come as ``fe[[x]]`` entries (fixest's names): one slope per group.
        """
        self._need_rows("fixed_effects()")
        r = self._record
        out = {"^".join(term): pd.Series(self._fe_values[q], index=r.fe_levels[q])
               for q, term in enumerate(r.fe_terms)}
        k = len(r.fe_terms)
        for b, t in enumerate(r.formula.slopes):  # fixest's names: pair[[trend]]
            for var in t.variables:
                out[f"{'^'.join(t.fe)}[[{var}]]"] = pd.Series(
                    self._fe_values[k], index=r.extra["slopes"]["levels"][b])
                k += 1
        return out

    def predict(self, newdata: pd.DataFrame | None = None, type: str = "response",
                offset: Any = None) -> np.ndarray:
        """Predictions: ``type="link"`` (linear predictor) or ``"response"``.

        With ``newdata``: fixed effects are looked up by their labels, and rows whose
        level was not in the estimation sample get NaN (counted in a warning); a model
        fitted with an offset column takes it from ``newdata``, one fitted with an
        offset array needs ``offset=``.
        """
        if type not in ("response", "link"):
            raise ValueError("type must be 'response' or 'link'")
        self._need_rows("predict()")
        r = self._record
        if newdata is None:
            eta = r.eta
        else:
            eta = self._linear_predictor(newdata, offset)
        if type == "link":
            return np.asarray(eta)
        return np.asarray(r.family.inverse_link(np.asarray(eta)))

    def _linear_predictor(self, newdata: pd.DataFrame, offset: Any) -> np.ndarray:
        r = self._record
        panel = make_panel(newdata, r.settings.panel_id, r.settings.time_step) \
            if r.formula.has_lags else None
        X, names, _ = regressor_columns(r.formula, newdata, panel)
        col = {n: k for k, n in enumerate(names)}
        # an i() level absent from newdata is a column of zeros there
        X = np.column_stack([X, np.zeros(len(newdata))])
        absent = [n for n in self.params.index if n not in col and "::" not in n]
        if absent:
            raise MissingColumnError("newdata does not give this regressor", column=absent[0])
        xb = X[:, [col.get(n, X.shape[1] - 1) for n in self.params.index]] \
            @ self.params.to_numpy()
        fe_part = np.zeros(len(newdata))
        unseen = np.zeros(len(newdata), dtype=bool)
        for name, values in self.fixed_effects().items():
            fe, _, var = name.removesuffix("]]").partition("[[")
            term = fe.split("^")
            miss = [c for c in term + ([var] if var else []) if c not in newdata.columns]
            if miss:
                raise MissingColumnError("newdata lacks a fixed-effect column",
                                         column=miss[0])
            keys = pd.Index(newdata[term[0]]) if len(term) == 1 else \
                pd.MultiIndex.from_frame(newdata[term])
            pos = values.index.get_indexer(keys)
            unseen |= pos < 0
            value = np.where(pos >= 0, values.to_numpy()[np.maximum(pos, 0)], np.nan)
            if var:  # a varying slope: its group's coefficient times the variable
                value = value * newdata[var].to_numpy(dtype=np.float64)
            fe_part = fe_part + value
        if unseen.any():
            warnings.warn(f"{int(unseen.sum())} of {len(newdata)} rows of newdata have a "
                          "fixed-effect level not in the estimation sample: predicted NaN",
                          GravityWarning, stacklevel=3)
        off = np.zeros(len(newdata))
        source = r.settings.offset
        if offset is not None:
            off = np.asarray(offset, dtype=np.float64)
            if off.shape != (len(newdata),):
                raise InputError(f"offset must have one value per row of newdata "
                                 f"({len(newdata)})", column="offset")
        elif source is not None:
            if source.startswith("~"):
                from .terms import evaluate

                off = evaluate(source[1:].strip(), newdata, "offset")
            elif source in newdata.columns:
                off = newdata[source].to_numpy(dtype=np.float64)
            elif source == "offset (array)":
                raise InputError("the model was fitted with an offset array: pass "
                                 "offset=<array for newdata> to predict", column="offset")
            else:
                raise MissingColumnError("newdata lacks the model's offset column",
                                         column=source)
        return xb + fe_part + off


def _ssc_label(rule: SSC) -> str:
    parts = [f"adj={rule.adj}", f"fixef_k={rule.fixef_k}", f"cluster_adj={rule.cluster_adj}"]
    if rule.cluster_df != "min":
        parts.append(f"cluster_df={rule.cluster_df}")
    if rule.fixef_exact:
        parts.append("fixef_exact=True")
    return ", ".join(parts)


class LinearResults(RegressionResults):
    """Least squares (OLS, WLS, the linear probability model)."""

    @property
    def df_t(self) -> float:
        return self._vr.df_t

    @property
    def rss(self) -> float | None:  # type: ignore[override]
        return self._stat("rss")

    @property
    def tss(self) -> float | None:  # type: ignore[override]
        return self._stat("tss")

    @property
    def tss_within(self) -> float | None:  # type: ignore[override]
        return self._stat("tss_within")

    @property
    def r2(self) -> float | None:
        if self.rss is None or not self.tss:
            return None
        return 1.0 - self.rss / self.tss

    @property
    def r2_within(self) -> float | None:
        if self.rss is None or not self.tss_within or not self.fe_names:
            return None
        return 1.0 - self.rss / self.tss_within

    def _footer(self) -> list[str]:
        r2, r2w = self.r2, self.r2_within
        return [(f"R2: {r2:.5f}" if r2 is not None else "R2: n/a")
                + (f"  Within R2: {r2w:.5f}" if r2w is not None else "")
                + f"  RSS: {self.rss:.6g}"]


    def _linear_design(self) -> LinearDesign | None:
        r = self._record
        if r.xt is not None and r.xt.shape[0] == len(r.names):
            xt, fe_codes = r.xt, r.fe_codes
        else:  # no fixed effects: the regressors, intercept included
            xt, fe_codes = np.ascontiguousarray(r.X.T), ()
        return LinearDesign(xt=xt, weights=r.prior_weights, resid=r.y - r.eta,
                            beta=r.beta, X=r.X, y=r.y, fe_codes=tuple(fe_codes))


    def wildboottest(self, param: str, cluster: str | None = None, B: int = 9999,
                     weights_type: str = "rademacher", impose_null: bool = True,
                     bootstrap_type: str = "11", seed: int | None = None,
                     data: pd.DataFrame | None = None) -> WildBootstrap:
        """Wild cluster bootstrap test of ``param = 0`` (few clusters), with the
        :mod:`wildboottest` package (see :mod:`gravity.inference.bootstrap`).

        ``cluster``: the cluster variable (default: the fit's one-way cluster);
        ``B`` draws of ``weights_type`` (``"rademacher"``, ``"mammen"``, ``"norm"``,
        ``"webb"``; all ``2^G`` sign patterns when fewer than ``B``); ``impose_null``:
        WCR (default) or WCU; ``bootstrap_type``: ``"11"``, ``"13"``, ``"31"``, ``"33"``.
        """
        self._need_rows("wildboottest()")
        return wild_bootstrap(self, param, cluster, B, weights_type, impose_null,
                              bootstrap_type, seed, data)


class PoissonResults(RegressionResults):
    """Poisson pseudo-maximum likelihood (PPML)."""


class BinaryResults(RegressionResults):
    """Logit, probit or cloglog; ``predict(type="response")`` returns probabilities.
    After :func:`gravity.estimation.bias_correct`, ``bias_corrected`` is True and
    ``params_uncorrected`` and ``bias_term`` keep the MLE and the bias estimate."""

    @property
    def extra(self) -> dict[str, Any]:
        return {"bias_corrected": False, **self._record.extra}

    @property
    def bias_corrected(self) -> bool:
        return bool(self._record.extra.get("bias_corrected", False))

    @property
    def params_uncorrected(self) -> pd.Series | None:
        return self._record.extra.get("params_uncorrected")

    @property
    def bias_term(self) -> pd.Series | None:
        return self._record.extra.get("bias_term")


RESULT_CLASSES: Mapping[str, type[RegressionResults]] = {
    "ols": LinearResults, "ppml": PoissonResults, "logit": BinaryResults,
    "probit": BinaryResults, "cloglog": BinaryResults,
}
