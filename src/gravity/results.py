"""Results of a fitted model, with statsmodels- and fixest-style accessors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .inference.delta import DeltaMethodResult, delta_method
from .inference.vcov import SSC, VcovSpec, cluster_codes, compute_vcov, parse_vcov, resolve_ssc

_REASONS = {
    "missing": "missing values",
    "zero_weight": "zero weights",
    "singleton": "singletons",
    "separated_fe": "separated (all-zero fixed-effect groups)",
    "separated_simplex": "separated (regressors, simplex)",
    "separated_relu": "separated (ReLU)",
}


@dataclass
class RegressionResults:
    """A fitted PPML or OLS model with high-dimensional fixed effects.

    Attributes mirror statsmodels (``params``, ``bse``, ``tvalues``, ``pvalues``,
    ``conf_int()``, ``nobs``, ``summary()``) and fixest (``tidy()``,
    ``fixed_effects()``, ``predict()``).
    """

    model: str
    formula: str
    depvar: str
    params: pd.Series
    vcov: pd.DataFrame
    vcov_type: str
    ssc: SSC
    nobs: int
    n_input: int
    dropped: dict[str, int]
    dropped_regressors: list[str]
    fe_names: tuple[str, ...]
    fe_sizes: tuple[int, ...]
    df_k: int
    df_t: float
    n_clusters: tuple[int, ...]
    iterations: int
    converged: bool
    deviance: float | None = None
    null_deviance: float | None = None
    loglik: float | None = None
    null_loglik: float | None = None
    rss: float | None = None
    tss: float | None = None
    tss_within: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # internals for predict / re-computing the variance
    _internals: dict[str, Any] = field(default_factory=dict, repr=False)

    # ---------------------------------------------------------------- statistics
    @property
    def bse(self) -> pd.Series:
        return pd.Series(np.sqrt(np.diag(self.vcov.to_numpy())), index=self.params.index)

    @property
    def tvalues(self) -> pd.Series:
        return self.params / self.bse

    @property
    def _dist(self):
        return stats.norm if not np.isfinite(self.df_t) else stats.t(self.df_t)

    @property
    def pvalues(self) -> pd.Series:
        return pd.Series(2 * self._dist.sf(np.abs(self.tvalues.to_numpy())),
                         index=self.params.index)

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Confidence intervals (t with ``df_t`` degrees of freedom for OLS, normal for PPML)."""
        q = self._dist.ppf(1 - alpha / 2)
        b, s = self.params, self.bse
        return pd.DataFrame({"lower": b - q * s, "upper": b + q * s})

    @property
    def pseudo_r2(self) -> float | None:
        """McFadden pseudo R2 ``1 - ll/ll0`` (ll0: constant-only Poisson model)."""
        if self.loglik is None or self.null_loglik is None:
            return None
        return 1.0 - self.loglik / self.null_loglik

    @property
    def r2(self) -> float | None:
        if self.rss is None or self.tss is None:
            return None
        return 1.0 - self.rss / self.tss

    @property
    def r2_within(self) -> float | None:
        if self.rss is None or self.tss_within is None or not self.fe_names:
            return None
        return 1.0 - self.rss / self.tss_within

    @property
    def dropped_rows(self) -> dict[str, pd.Index]:
        """Labels of the input rows dropped, by reason (``missing``, ``singleton``,
        ``separated_fe``, ``separated_simplex``, ``separated_relu``, ...)."""
        return dict(self._internals["dropped_rows"])

    @property
    def separated(self) -> pd.Index:
        """Labels of the input rows dropped as separated (any method)."""
        parts = [v for k, v in self._internals["dropped_rows"].items()
                 if k.startswith("separated")]
        if not parts:
            return self._internals["data"].index[:0]
        return parts[0].append(parts[1:]).sort_values()

    @property
    def resid(self) -> pd.Series:
        """Response residuals ``y - fitted`` on the estimation sample."""
        i = self._internals
        return pd.Series(i["y"] - i["fitted"], index=i["index"])

    @property
    def fittedvalues(self) -> pd.Series:
        i = self._internals
        return pd.Series(i["fitted"], index=i["index"])

    # ---------------------------------------------------------------- tables
    def tidy(self, alpha: float = 0.05) -> pd.DataFrame:
        """One row per coefficient: estimate, std_error, statistic, p_value, conf_low/high."""
        ci = self.conf_int(alpha)
        return pd.DataFrame(
            {
                "estimate": self.params,
                "std_error": self.bse,
                "statistic": self.tvalues,
                "p_value": self.pvalues,
                "conf_low": ci["lower"],
                "conf_high": ci["upper"],
            }
        ).rename_axis("term")

    def summary(self) -> str:
        """A text summary (coefficients, fixed effects, dropped observations, fit)."""
        stat = "z" if not np.isfinite(self.df_t) else "t"
        head = [
            f"{self.model.upper()} estimation, dep. var.: {self.depvar}",
            f"Formula: {self.formula}",
            f"Observations: {self.nobs:,}" + (
                f"  (of {self.n_input:,} rows)" if self.n_input != self.nobs else ""),
        ]
        if self.fe_names:
            head.append("Fixed effects: " + ", ".join(
                f"{n} ({s:,})" for n, s in zip(self.fe_names, self.fe_sizes, strict=True)))
        vc = f"Standard errors: {self.vcov_type}"
        if self.n_clusters:
            vc += " (" + ", ".join(f"{g:,} clusters" for g in self.n_clusters) + ")"
        head.append(vc)
        for reason, n in self.dropped.items():
            head.append(f"Dropped: {n:,} observations, {_REASONS.get(reason, reason)}")
        if self.dropped_regressors:
            head.append("Dropped regressors: " + ", ".join(self.dropped_regressors))
        tab = self.tidy()
        lines = [f"{'':<24}{'Estimate':>13}{'Std. Error':>13}{stat + ' value':>10}{'Pr(>|' + stat + '|)':>11}"]
        for name, row in tab.iterrows():
            p = row["p_value"]
            stars = "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else \
                "." if p < 0.1 else ""
            lines.append(f"{str(name)[:23]:<24}{row['estimate']:>13.6f}{row['std_error']:>13.6f}"
                         f"{row['statistic']:>10.3f}{p:>11.3g} {stars}")
        tail = []
        if self.model == "ppml":
            tail.append(f"Deviance: {self.deviance:.6g}  Log-likelihood: {self.loglik:.6g}  "
                        f"Pseudo R2: {self.pseudo_r2:.5f}")
        else:
            r2w = self.r2_within
            tail.append(f"R2: {self.r2:.5f}" + (f"  Within R2: {r2w:.5f}" if r2w is not None
                                               else "") + f"  RSS: {self.rss:.6g}")
        tail.append(f"Iterations: {self.iterations}  Converged: {self.converged}")
        sep = "-" * 72
        return "\n".join(head + [sep] + lines + [sep] + tail)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:  # pragma: no cover - notebook display
        return "<pre>" + self.summary() + "</pre>"

    # ---------------------------------------------------------------- inference
    def delta_method(self, func, gradient=None) -> DeltaMethodResult:
        """Delta method for ``func(params)`` (see :func:`gravity.inference.delta_method`)."""
        return delta_method(func, self.params, self.vcov, gradient=gradient)

    def wald_test(self, terms: list[str] | None = None, R: np.ndarray | None = None,
                  q: np.ndarray | None = None) -> dict[str, float]:
        """Wald test of ``R b = q`` (default: the listed ``terms`` are jointly zero).

        ``W = (R b - q)' (R V R')^{-1} (R b - q)`` is compared with a chi-squared
        distribution with ``rank(R)`` degrees of freedom; ``F = W / rank(R)`` is
        also reported (compare with F(rank, df_t) for OLS). Returns a dict with
        ``statistic``, ``df``, ``pvalue``, ``F``.
        """
        names = list(self.params.index)
        if R is None:
            if not terms:
                raise ValueError("give terms or a restriction matrix R")
            missing = [t for t in terms if t not in names]
            if missing:
                raise KeyError(f"not among the coefficients: {missing}")
            R = np.zeros((len(terms), len(names)))
            for row, t in enumerate(terms):
                R[row, names.index(t)] = 1.0
        R = np.atleast_2d(np.asarray(R, dtype=float))
        q = np.zeros(R.shape[0]) if q is None else np.asarray(q, dtype=float)
        diff = R @ self.params.to_numpy() - q
        middle = R @ self.vcov.to_numpy() @ R.T
        stat = float(diff @ np.linalg.solve(middle, diff))
        df = int(np.linalg.matrix_rank(R))
        return {"statistic": stat, "df": df, "pvalue": float(stats.chi2.sf(stat, df)),
                "F": stat / df}

    def with_vcov(self, vcov: Any = None, ssc: SSC | str | dict | None = None) -> RegressionResults:
        """The same fit with another variance estimator or small-sample correction."""
        i = self._internals
        spec: VcovSpec = parse_vcov(vcov, i["fixed_effects_terms"]) if vcov is not None \
            else i["vcov_spec"]
        rule = resolve_ssc(ssc) if ssc is not None else self.ssc
        clusters = cluster_codes(i["data"], spec, i["mask"]) if spec.kind == "CRV1" else []
        vr = compute_vcov(spec=spec, bread=i["bread"], scores=i["scores"], nobs=self.nobs,
                          n_regressors=len(self.params), fe_codes=i["fe_codes"],
                          clusters=clusters, rule=rule, sigma2=i["sigma2"])
        names = self.params.index
        new = RegressionResults(**{**self.__dict__})
        new.vcov = pd.DataFrame(vr.matrix, index=names, columns=names)
        new.vcov_type = spec.label
        new.ssc = rule
        new.df_k = vr.df_k
        new.n_clusters = vr.n_clusters
        new.df_t = vr.df_t if self.model == "ols" else np.inf
        new._internals = {**i, "vcov_spec": spec}
        return new

    # ---------------------------------------------------------------- fixed effects
    def fixed_effects(self) -> dict[str, pd.Series]:
        """Estimated fixed-effect coefficients, one Series per fixed effect.

        Recovered from the per-observation fixed-effect component of the linear
        predictor by alternating projections (exact up to ``1e-10``). As in
        fixest, only sums are identified: every fixed effect but the first is
        normalised so that its first level is zero within each connected set.
        """
        i = self._internals
        if "fe_values" not in i:
            from .hdfe.recover import recover_fixed_effects

            i["fe_values"] = recover_fixed_effects(i["fe_component"], i["fe_codes"])
        out = {}
        label_cols = sorted({c for term in i["fixed_effects_terms"] for c in term})
        sub = i["data"].loc[i["mask"], label_cols]
        for q, term in enumerate(i["fixed_effects_terms"]):
            codes = i["fe_codes"][q]
            g = int(codes.max()) + 1
            first = np.full(g, -1, dtype=np.int64)
            rows = np.arange(codes.size)
            first[codes[::-1]] = rows[::-1]
            if len(term) == 1:
                labels = pd.Index(sub[term[0]].to_numpy()[first], name=term[0])
            else:
                labels = pd.MultiIndex.from_arrays(
                    [sub[c].to_numpy()[first] for c in term], names=list(term))
            out["^".join(term)] = pd.Series(i["fe_values"][q], index=labels)
        return out

    def predict(self, newdata: pd.DataFrame | None = None, type: str = "response") -> np.ndarray:
        """Predictions: ``type="link"`` (linear predictor) or ``"response"``.

        With ``newdata``, fixed effects are looked up by their labels; rows whose
        fixed-effect level was not in the estimation sample get NaN.
        """
        if type not in ("response", "link"):
            raise ValueError("type must be 'response' or 'link'")
        i = self._internals
        link = self.model == "ppml"
        if newdata is None:
            eta = i["eta"]
        else:
            from .estimation.design import _regressor_matrix

            X, names = _regressor_matrix(i["formula_obj"], newdata)
            col = {n: k for k, n in enumerate(names)}
            xb = X[:, [col[n] for n in self.params.index]] @ self.params.to_numpy()
            fe_part = np.zeros(len(newdata))
            for name, values in self.fixed_effects().items():
                term = name.split("^")
                if len(term) == 1:
                    keys = pd.Index(newdata[term[0]])
                else:
                    keys = pd.MultiIndex.from_frame(newdata[term])
                pos = values.index.get_indexer(keys)
                vals = np.where(pos >= 0, values.to_numpy()[np.maximum(pos, 0)], np.nan)
                fe_part = fe_part + vals
            eta = xb + fe_part
        if type == "link" or not link:
            return np.asarray(eta)
        return np.exp(eta)
