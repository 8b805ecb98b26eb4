r"""One-call hypothesis tests for the extensive margin (BRI, financial development) and
the decomposition of a treatment effect into extensive and intensive margins.

Every function returns a :class:`HypothesisTest`: ``table`` is tidy (one row per
specification and term: ``specification, term, estimate, std_error, p_value,
conf_low, conf_high, nobs, fixed_effects, clustering``), ``fits`` holds the fitted
models, ``plot()`` draws the estimates with 95% intervals.

Specifications (``entry = 1{trade > threshold}``; rows with ``trade`` NaN dropped).

**Entry model** (every helper): by default a complementary log-log model -- the exact
entry equation of a Poisson number of exporters, ``P(X > 0) = 1 - exp(-lambda)`` --
with the analytical incidental-parameter bias correction (``network`` with the
three-way effects, ``classic`` with two), reported as its bias-corrected average
partial effects on ``P(X > 0)`` with analytical standard errors clustered as the fit
(:func:`gravity.estimation.average_partial_effects`; Fernandez-Val and Weidner 2016),
each pair's scores inflated by its leverage when the clusters are the pairs
(``ENTRY_APE_LEVERAGE``: the two-sided correction of Mancl and DeRouen 2001, the GLM
analogue of the jackknife CV3; the table's ``clustering`` column says so). In the
package's simulated worlds with 40 countries and 13 years these tests reject a true null
4.3% (BRI entry) and 5.3% (pecking order) of the time over 322 worlds (the first-order SE:
8.3% and 9.3%; the one-sided Weidner-Zylkin form: 5.5% and 6.9% over 722), and cover the
true APE in 98-99% of coverage worlds; with 30 and 20 countries they are conservative
(0-3%), where the linear probability model rejects a true null 10-13% (BRI entry) and
21-25% (pecking order) of the time (``benchmarks/results/margins_montecarlo.md``).
``entry_model="lpm"`` remains
available and warns of that functional-form bias; an explicit ``"logit"``,
``"probit"`` or ``"cloglog"`` reports its coefficient unless ``report="ape"``.

* :func:`bri_hypothesis` -- ``entry`` and
  ``trade`` (PPML) on ``bri_ij`` with exporter-year, importer-year and pair fixed
  effects, on all pairs (``bri_ij``: both are participants); and for one exporter's
  flows (``exporter="CHN"``) with year and pair fixed effects (with a single
  exporter ``bri_ij = bri_d`` varies by importer-year, so importer-year effects
  would absorb it). Clustered by pair.
* :func:`bri_event_study` -- ``entry`` or ``trade`` on leads/lags of the first year
  a pair is ``bri_ij = 1`` (window ends binned, ``t = -1`` omitted; never-treated
  pairs are controls), same fixed effects; pre-trend test: Wald
  ``chi2 = b_pre' V_pre^{-1} b_pre`` on all leads (their APEs for entry).
* :func:`finance_hypothesis` -- (a) number of destinations per exporter-year on
  ``ln fd_o`` with exporter and year fixed effects (Poisson PPML for the count, as a
  count model; OLS on ``ln(1 + n)`` alongside), clustered by exporter; (b) the
  pecking order: pair ``entry`` on ``ln fd_o x (ln_dist - mean)`` and
  ``ln fd_o x (ln gdp_d - mean)`` with exporter-year, importer-year and pair fixed
  effects (the main effect of ``ln fd_o`` is absorbed by exporter-year), clustered
  by pair. Pecking order: finance matters more for distant (positive
  ``x ln_dist``) and small (negative ``x ln_gdp_d``) markets.
* :func:`decompose_margins` -- ``E[X] = P(X > 0) E[X | X > 0]``: total effect
  (PPML on all flows), intensive (PPML on positive flows), the extensive effect on the
  entry probability (the entry model's APE), and the extensive effect implied by the
  difference (``total - intensive``, log points) with a standard error from the joint
  cluster-robust covariance of the two PPML estimates.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import EstimationError, GravityWarning, MissingColumnError
from ..estimation import (
    BinaryResults,
    average_partial_effects,
    feglm_binary,
    leverage_applies,
    lpm,
    ols,
    ppml,
)
from ..inference.distributions import chi2_sf, normal
from .measures import diversification

__all__ = ["HypothesisTest", "bri_hypothesis", "bri_event_study", "finance_hypothesis",
           "decompose_margins"]


@dataclass
class HypothesisTest:
    """Tidy table of estimates, the fitted models, and extra statistics."""

    name: str
    table: pd.DataFrame
    fits: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def warnings(self) -> list[Any]:
        """Every warning raised by the fits (their ``.warnings``), in order."""
        return [w for f in self.fits.values() for w in getattr(f, "warnings", [])]

    def plot(self, ax=None, x: str | None = None):
        """Estimates with 95% intervals (one point per row of ``table``, or against
        the numeric column ``x``, e.g. ``event_time``). Returns the matplotlib Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        t = self.table
        pos = t[x].to_numpy(float) if x is not None else np.arange(len(t))
        ax.errorbar(pos, t["estimate"], yerr=[t["estimate"] - t["conf_low"],
                                              t["conf_high"] - t["estimate"]],
                    fmt="o", capsize=3)
        ax.axhline(0.0, color="grey", lw=0.8)
        if x is None:
            ax.set_xticks(pos)
            ax.set_xticklabels([f"{s}\n{tm}" for s, tm in zip(t["specification"], t["term"],
                                                               strict=True)], fontsize=7)
        else:
            ax.set_xlabel(x)
        ax.set_title(self.name)
        return ax


def _rows(spec: str, res, terms: list[str] | None = None,
          table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Tidy rows of ``res`` (or of ``table``, e.g. its average partial effects) for
    ``terms``, with the specification, observations, fixed effects and clustering."""
    td = res.tidy() if table is None else table
    if terms is not None:
        td = td.loc[[t for t in terms if t in td.index]]
    out = td.reset_index()[["term", "estimate", "std_error", "p_value", "conf_low",
                            "conf_high"]]
    out.insert(0, "specification", spec)
    out["nobs"] = res.nobs
    out["fixed_effects"] = " + ".join(res.fe_names)
    out["clustering"] = res.vcov_type
    return out


def _not_identified(spec: str, term: str, nobs: int, exc: Exception) -> pd.DataFrame:
    """A row of NaNs for a secondary specification that cannot be estimated on this
    panel (for instance one exporter's entry when every pair it serves always trades),
    with a :class:`GravityWarning` that says why; the main specification still raises."""
    warnings.warn(f"{spec}: not identified on this panel, reported as NaN: {exc}",
                  GravityWarning, stacklevel=3)
    return pd.DataFrame({"specification": [f"{spec} (not identified)"], "term": [term],
                         "estimate": [np.nan], "std_error": [np.nan], "p_value": [np.nan],
                         "conf_low": [np.nan], "conf_high": [np.nan], "nobs": [nobs],
                         "fixed_effects": ["year + pair"], "clustering": [""]})


def _need(panel: pd.DataFrame, cols: list[str]) -> None:
    for c in cols:
        if c not in panel.columns:
            raise MissingColumnError("panel lacks a column the test needs", column=c)


def _with_entry(panel: pd.DataFrame, value: str, threshold: float) -> pd.DataFrame:
    d = panel.loc[panel[value].notna()].copy()
    d["entry"] = (d[value] > threshold).astype(np.float64)
    return d


def _fit(fn: Any, formula: str, data: pd.DataFrame, treatment: list[str] | str,
         **kwargs: Any) -> Any:
    """Fit, then make sure the tested terms were estimated: a term absorbed by the
    fixed effects (or collinear) is a typed error naming what absorbed it, never an
    empty row."""
    terms = [treatment] if isinstance(treatment, str) else list(treatment)
    res = fn(formula, data, **kwargs)
    lost = [t for t in terms if t not in res.params.index]
    if lost and len(lost) == len(terms):
        why = "; ".join(str(w.message) for w in res.warnings
                        if "dropped regressors" in str(w.message)) or "dropped"
        sep = [str(w.message) for w in res.warnings if "separated" in str(w.message)]
        if sep:
            why += (f" (after separation: {sep[0]}; the rows whose outcome never varies "
                    "within their fixed effects carry no information, and the treatment "
                    "does not vary among the rest)")
        raise EstimationError(f"cannot estimate the effect of {', '.join(lost)} in "
                              f"'{formula}': {why}")
    bad = [t for t in terms if t in res.params.index and not np.isfinite(res.bse[t])]
    if bad:
        raise EstimationError(f"the effect of {', '.join(bad)} in '{formula}' is not "
                              "identified (its standard error is not finite)")
    return res


def _binary_outcome_varies(d: pd.DataFrame, value: str) -> None:
    share = float(d["entry"].mean()) if len(d) else float("nan")
    if not 0.0 < share < 1.0:
        raise EstimationError(
            f"the extensive margin never varies in this panel: every row has "
            f"{value} {'> ' if share == 1.0 else '<= '}threshold (share with trade: "
            f"{share:.3g}); entry models need zeros and positive flows")


def _rhs(terms: list[str], controls) -> str:
    """Right-hand side: ``terms`` then the ``controls`` (column names or formula terms)."""
    extra = [controls] if isinstance(controls, str) else list(controls or ())
    return " + ".join(list(terms) + extra)


def _control_columns(controls) -> list[str]:
    extra = [controls] if isinstance(controls, str) else list(controls or ())
    return [c for c in extra if c.isidentifier()]


#: the default entry model: the world's own entry equation, bias-corrected, reported as
#: average partial effects on P(X > 0) (benchmarks/results/margins_montecarlo.md)
DEFAULT_ENTRY_MODEL = "cloglog"
LPM_WARNING = (
    "entry_model='lpm': the linear probability model has a functional-form bias for the "
    "extensive margin (its fixed effects are additive in P(X > 0), trade costs are not): "
    "in the package's simulated worlds it rejects a true null 13% (BRI entry) and 25% "
    "(pecking order) of the time at the 5% level (benchmarks/results/margins_montecarlo.md); "
    "the default, a bias-corrected cloglog reported as average partial effects, does not")


#: the leverage correction of the default entry rows' pair-clustered APE variance
#: (``average_partial_effects(leverage=)``): two-sided, the form that is never
#: anti-conservative in the simulated worlds (4.3-5.5% at 40 countries, 0-3% at 20-30;
#: one-sided 5.5-7.5% at 40, first-order 8-10%; benchmarks/results/margins_montecarlo.md)
ENTRY_APE_LEVERAGE = "two-sided"


@dataclass(frozen=True)
class EntrySpec:
    """How the entry equation is fitted and reported (resolved from the arguments)."""

    model: str
    bias_correction: str | None
    report: str  # "ape" (average partial effects on P(X > 0)) or "coefficient"

    def label(self) -> str:
        if self.model == "lpm":
            return "LPM"
        bc = "bias-corrected " if self.bias_correction else ""
        return (f"{self.model}, {bc}APE on P(X > 0)" if self.report == "ape"
                else f"{self.model}{', bias-corrected' if bc else ''}")


def entry_spec(entry_model: str | None, bias_correction: str | None = None,
               report: str | None = None) -> EntrySpec:
    """Resolve the entry-model arguments of the hypothesis helpers: by default a
    cloglog with the analytical bias correction, reported as bias-corrected average
    partial effects (probability scale); an explicit ``entry_model`` keeps its
    coefficient unless ``report="ape"``; ``"lpm"`` warns of its functional-form bias."""
    model = entry_model or DEFAULT_ENTRY_MODEL
    if model not in ("lpm", "logit", "probit", "cloglog"):
        raise ValueError("entry_model must be 'lpm', 'logit', 'probit' or 'cloglog'")
    if report not in (None, "ape", "coefficient"):
        raise ValueError("report must be 'ape' or 'coefficient'")
    if model == "lpm":
        warnings.warn(LPM_WARNING, GravityWarning, stacklevel=3)
        return EntrySpec("lpm", None, "coefficient")
    if bias_correction is None and entry_model is None:
        bias_correction = "auto"
    return EntrySpec(model, bias_correction,
                     report or ("ape" if entry_model is None else "coefficient"))


def _entry_fit(spec: EntrySpec, formula: str, data: pd.DataFrame, terms: list[str],
               vcov) -> Any:
    if spec.model == "lpm":
        return _fit(lpm, formula, data, terms, vcov=vcov)
    bc = spec.bias_correction
    if bc == "auto":
        n_fe = len([t for t in formula.split("|", 1)[1].split("+") if t.strip()])
        bc = "network" if n_fe >= 3 else "classic"
    return _fit(feglm_binary, formula, data, terms, family=spec.model, vcov=vcov,
                bias_correction=bc)


def _entry_rows(label: str, spec: EntrySpec, res, terms: list[str]) -> pd.DataFrame:
    """Rows of the entry model: its coefficients, or its (bias-corrected) average
    partial effects with analytical standard errors clustered as the fit, the scores
    inflated by the leverage of each cluster when the clusters are one of the fixed
    effects (pairs; ``ENTRY_APE_LEVERAGE``)."""
    if spec.report != "ape" or not isinstance(res, BinaryResults):
        return _rows(label, res, terms)
    ape = average_partial_effects(
        res, leverage=ENTRY_APE_LEVERAGE if leverage_applies(res) else None)
    out = _rows(label, res, terms, table=ape)
    if "leverage" in ape.attrs:
        out["clustering"] = f"{res.vcov_type}, leverage-corrected ({ape.attrs['leverage']})"
    out.attrs["vcov"] = ape.attrs["vcov"]
    return out


def bri_hypothesis(
    panel: pd.DataFrame,
    treatment: str = "bri_ij",
    exporter: str | None = "CHN",
    value: str = "trade",
    threshold: float = 0.0,
    entry_model: str | None = None,
    vcov: Any = None,
    controls: Any = None,
    bias_correction: str | None = None,
    report: str | None = None,
) -> HypothesisTest:
    """BRI effect on entry and on flows (see the module docstring).

    Entry (default): a cloglog with the analytical bias correction (``network`` with
    the three-way effects, ``classic`` with year and pair effects), reported as the
    bias-corrected average partial effect on ``P(X > 0)`` with analytical standard
    errors clustered by pair and corrected for each pair's leverage
    (:func:`gravity.estimation.average_partial_effects` with ``leverage="two-sided"``):
    in the simulated worlds with 40 countries its test rejects a true null 4.3% of the
    time (322 worlds), with 30 and 20 countries 0-3% (conservative;
    ``margins_montecarlo.md``).
    ``entry_model="lpm"`` is still available (with a warning: functional-form bias);
    an explicit ``entry_model`` reports its coefficient unless ``report="ape"``.

    ``controls``: pair-year covariates added to every specification (column names or
    formula terms), e.g. ``["ln_tariff"]`` with ``ln_tariff = ln(1 + tariff / 100)``.
    Tariffs vary by pair and year (preferential agreements), so the fixed effects do
    not absorb them; leaving them out puts them in the error term, which in the
    simulated worlds of :mod:`gravity.simulate` inflates the sampling variance of the
    PPML estimate beyond what the pair-clustered standard error reports (rejection
    rate 0.125 instead of 0.05 at 20 countries; see ``benchmarks/margins_montecarlo.py``).
    ``vcov`` default ``{"CRV1": "pair"}``. ``entry_model``: ``"lpm"`` (coefficient:
    change in ``P(X > 0)``, a linear approximation), ``"logit"``, ``"probit"`` or
    ``"cloglog"`` (``P(X > 0) = 1 - exp(-lambda)``: the entry equation of a Poisson
    number of exporters; coefficient: effect on ``ln lambda``).
    ``bias_correction="network"`` applies the Hinz-Stammann-Wanner analytical
    incidental-parameter correction (:func:`gravity.margins.bias_correct`) to a
    logit/probit/cloglog entry model with the three-way effects (all-pairs
    specification only): with pair effects and about ten years the uncorrected
    estimate is biased away from zero (cloglog, 40 simulated countries, 2008-2020:
    0.52 for a true 0.40; corrected 0.38).
    """
    _need(panel, [value, treatment, "exp_year", "imp_year", "pair", "exporter", "year"]
          + _control_columns(controls))
    vc = vcov or {"CRV1": "pair"}
    d = _with_entry(panel, value, threshold)
    _binary_outcome_varies(d, value)
    parts, fits = [], {}
    fe3 = "exp_year + imp_year + pair"
    rhs = _rhs([treatment], controls)
    es = entry_spec(entry_model, bias_correction, report)
    fits["entry_all"] = _entry_fit(es, f"entry ~ {rhs} | {fe3}", d, [treatment], vc)
    fits["flows_all"] = _fit(ppml, f"{value} ~ {rhs} | {fe3}", d, treatment, vcov=vc)
    parts += [_entry_rows(f"entry ({es.label()}), all pairs", es, fits["entry_all"],
                          [treatment]),
              _rows("flows (PPML), all pairs", fits["flows_all"], [treatment])]
    if exporter is not None:
        s = d.loc[d["exporter"] == exporter]
        if len(s) == 0:
            raise EstimationError(f"no rows with exporter == {exporter!r}")
        one = es if entry_model is None else EntrySpec(es.model, None, es.report)
        label = f"entry ({one.label()}), {exporter} exports"
        try:
            fits["entry_one"] = _entry_fit(one, f"entry ~ {rhs} | year + pair", s,
                                           [treatment], vc)
            parts.append(_entry_rows(label, one, fits["entry_one"], [treatment]))
        except EstimationError as exc:
            parts.append(_not_identified(label, treatment, len(s), exc))
        fits["flows_one"] = _fit(ppml, f"{value} ~ {rhs} | year + pair", s, treatment,
                                 vcov=vc)
        parts.append(_rows(f"flows (PPML), {exporter} exports", fits["flows_one"],
                           [treatment]))
    return HypothesisTest("BRI: entry and flows", pd.concat(parts, ignore_index=True), fits)


def bri_event_study(
    panel: pd.DataFrame,
    outcome: str = "entry",
    treatment: str = "bri_ij",
    window: tuple[int, int] = (-4, 4),
    value: str = "trade",
    threshold: float = 0.0,
    vcov: Any = None,
    controls: Any = None,
    entry_model: str | None = None,
    bias_correction: str | None = None,
    report: str | None = None,
) -> HypothesisTest:
    """Event study around the first year of ``treatment`` for each pair, with a joint
    pre-trend Wald test (``stats["pretrend_chi2"]``, ``["pretrend_df"]``,
    ``["pretrend_p"]``). ``outcome``: ``"entry"`` or ``"flows"`` (PPML). Entry model
    as in :func:`bri_hypothesis` (default: bias-corrected cloglog, event-time effects
    and the pre-trend test on the average partial effects on ``P(X > 0)``).
    ``controls`` as in :func:`bri_hypothesis` (not reported in the table)."""
    _need(panel, [value, treatment, "exp_year", "imp_year", "pair", "year"]
          + _control_columns(controls))
    lo, hi = window
    if not (lo < -1 < hi or (lo < -1 and hi >= 0)):
        raise ValueError("window must contain -2 and 0 (t = -1 is the reference)")
    d = _with_entry(panel, value, threshold)
    yr = d["year"].to_numpy()
    treated_year = d.loc[d[treatment] == 1].groupby("pair")["year"].min()
    ev = d["pair"].map(treated_year).to_numpy(dtype=float)
    rel = np.clip(yr - ev, lo, hi)
    names = []
    for k in range(lo, hi + 1):
        if k == -1:
            continue
        nm = f"ev_m{-k}" if k < 0 else f"ev_p{k}"
        d[nm] = np.where(np.isfinite(rel) & (rel == k), 1.0, 0.0)
        names.append((k, nm))
    rhs = _rhs([nm for _, nm in names], controls)
    vc = vcov or {"CRV1": "pair"}
    fe3 = "exp_year + imp_year + pair"
    terms = [nm for _, nm in names]
    if outcome == "entry":
        _binary_outcome_varies(d, value)
        es = entry_spec(entry_model, bias_correction, report)
        res = _entry_fit(es, f"entry ~ {rhs} | {fe3}", d, terms, vc)
        tab = _entry_rows(f"event study (entry, {es.label()})", es, res, terms)
    elif outcome == "flows":
        es = EntrySpec("ppml", None, "coefficient")
        res = _fit(ppml, f"{value} ~ {rhs} | {fe3}", d, terms, vcov=vc)
        tab = _rows(f"event study ({outcome})", res, terms)
    else:
        raise ValueError("outcome must be 'entry' or 'flows'")
    kmap = {nm: k for k, nm in names}
    tab["event_time"] = tab["term"].map(kmap)
    leads = [nm for k, nm in names if k < -1]
    pre = [nm for nm in leads if nm in res.params.index]
    dropped = [nm for nm in terms if nm not in res.params.index]
    if pre and es.report == "ape":
        b = tab.set_index("term").loc[pre, "estimate"].to_numpy()
        cov = tab.attrs["vcov"].loc[pre, pre].to_numpy()
        stat = float(b @ np.linalg.solve(cov, b))
        pval = float(chi2_sf(stat, len(pre)))
    elif pre:
        wald = res.wald_test(leads)
        stat, pval = wald.statistic, wald.pvalue
    else:
        stat, pval = np.nan, np.nan
    st = {"pretrend_chi2": stat, "pretrend_df": len(pre), "pretrend_p": pval,
          "dropped_terms": dropped}
    return HypothesisTest(f"BRI event study ({outcome})",
                          tab.sort_values("event_time", ignore_index=True), {"event": res}, st)


def finance_hypothesis(
    panel: pd.DataFrame,
    fd: str = "fd_o",
    value: str = "trade",
    threshold: float = 0.0,
    size: str = "gdp_d",
    entry_model: str | None = None,
    vcov_pair: Any = None,
    controls: Any = None,
    count_controls: Any = None,
    vcov_count: Any = None,
    bias_correction: str | None = None,
    report: str | None = None,
) -> HypothesisTest:
    """Financial development and the extensive margin (see the module docstring).

    ``count_controls``: exporter-year covariates of the count models (column names of
    the panel, constant within exporter-year, e.g. ``["ln_gdp_o", "ln_gdp_o_sq"]`` (exporter GDP also
    moves the number of destinations and, within exporter, trends with financial
    development; the count saturates as destinations run out, so a square of
    ``ln gdp_o`` helps: in the simulated worlds the Poisson's probability limit with no
    finance effect is 0.028 with ``ln gdp_o`` alone and -0.004 with its square too).
    ``controls``: pair-year covariates of the pecking-order
    specification (e.g. ``["ln_tariff"]``). ``vcov_count`` default
    ``{"CRV1": "exporter"}``, ``vcov_pair`` default ``{"CRV1": "pair"}``.
    ``entry_model="cloglog"`` gives the pecking order on ``ln lambda`` (the log
    expected number of exporters), where the structural interaction is linear; the
    LPM interaction is on the probability scale and is not zero when the structural
    one is (Ai and Norton 2003: ``P`` is concave in ``ln lambda`` and distance moves
    ``P``). ``bias_correction`` as in :func:`bri_hypothesis` (pecking order only).
    Default entry model as in :func:`bri_hypothesis`: bias-corrected cloglog, the
    interactions reported as average partial effects on ``P(X > 0)``.
    """
    cctl = _control_columns(count_controls)
    _need(panel, [value, fd, size, "ln_dist", "exporter", "importer", "year",
                  "exp_year", "imp_year", "pair"] + _control_columns(controls) + cctl)
    d = _with_entry(panel, value, threshold)
    d = d.loc[d[fd].notna() & (d[fd] > 0) & d[size].notna() & (d[size] > 0)]
    div = diversification(d, value=value, threshold=threshold, products=None)
    cy = d.groupby(["exporter", "year"])[[fd] + [c for c in cctl if c != fd]].first()
    agg = div[["n_destinations"]].join(cy).reset_index()
    agg["ln_fd"] = np.log(agg[fd])
    agg["ln1p_n"] = np.log1p(agg["n_destinations"])
    crhs = _rhs(["ln_fd"], count_controls)
    vcc = vcov_count or {"CRV1": "exporter"}
    fits = {"count_ppml": _fit(ppml, f"n_destinations ~ {crhs} | exporter + year", agg,
                               "ln_fd", vcov=vcc),
            "count_ols": _fit(ols, f"ln1p_n ~ {crhs} | exporter + year", agg, "ln_fd",
                              vcov=vcc)}
    d["ln_fd_o"] = np.log(d[fd])
    d["fd_x_dist"] = d["ln_fd_o"] * (d["ln_dist"] - d["ln_dist"].mean())
    lsize = np.log(d[size])
    d["fd_x_size"] = d["ln_fd_o"] * (lsize - lsize.mean())
    vc = vcov_pair or {"CRV1": "pair"}
    _binary_outcome_varies(d, value)
    prhs = _rhs(["fd_x_dist", "fd_x_size"], controls)
    es = entry_spec(entry_model, bias_correction, report)
    fits["pecking_order"] = _entry_fit(es, f"entry ~ {prhs} | exp_year + imp_year + pair",
                                       d, ["fd_x_dist", "fd_x_size"], vc)
    tab = pd.concat([
        _rows("n destinations (Poisson)", fits["count_ppml"], ["ln_fd"]),
        _rows("ln(1 + n destinations) (OLS)", fits["count_ols"], ["ln_fd"]),
        _entry_rows(f"pair entry ({es.label()}), pecking order", es, fits["pecking_order"],
                    ["fd_x_dist", "fd_x_size"]),
    ], ignore_index=True)
    return HypothesisTest("Financial development and the extensive margin", tab, fits)


def decompose_margins(
    panel: pd.DataFrame,
    treatment: str = "bri_ij",
    fixed_effects: str = "exp_year + imp_year + pair",
    value: str = "trade",
    threshold: float = 0.0,
    vcov: Any = None,
    controls: Any = None,
    entry_model: str | None = None,
    bias_correction: str | None = None,
    cluster: str = "pair",
) -> HypothesisTest:
    """Total, intensive and extensive effects of ``treatment`` (module docstring);
    ``controls`` as in :func:`bri_hypothesis`. The extensive effect on the probability
    of trading is the entry model's bias-corrected average partial effect (default; as
    in :func:`bri_hypothesis`); the implied extensive effect ``total - intensive`` (log
    points) has a standard error from the joint cluster-robust covariance of the two
    PPML estimates (their scores summed by ``cluster``, a column of ``panel``, over the
    union of the two samples: ``V_t + V_i - 2 C_ti``, ``C_ti = B_t (sum_g s_tg s_ig') B_i``
    scaled by the geometric mean of the two fits' small-sample factors)."""
    _need(panel, [value, treatment, cluster] + _control_columns(controls))
    vc = vcov or {"CRV1": "pair"}
    d = _with_entry(panel, value, threshold)
    pos = d.loc[d[value] > threshold]
    rhs = _rhs([treatment], controls)
    _binary_outcome_varies(d, value)
    es = entry_spec(entry_model, bias_correction, report=None)
    fits = {"total": _fit(ppml, f"{value} ~ {rhs} | {fixed_effects}", d, treatment, vcov=vc),
            "intensive": _fit(ppml, f"{value} ~ {rhs} | {fixed_effects}", pos, treatment,
                              vcov=vc),
            "extensive": _entry_fit(es, f"entry ~ {rhs} | {fixed_effects}", d, [treatment],
                                    vc)}
    scale = "probability" if es.report == "ape" or es.model == "lpm" else "coefficient"
    tab = pd.concat([_rows("total (PPML, all flows)", fits["total"], [treatment]),
                     _rows("intensive (PPML, positive flows)", fits["intensive"], [treatment]),
                     _entry_rows(f"extensive ({es.label()}, {scale})", es, fits["extensive"],
                                 [treatment])],
                    ignore_index=True)
    tot, itn = fits["total"], fits["intensive"]
    implied = float(tot.params[treatment] - itn.params[treatment])
    se = _difference_se(tot, itn, d[cluster], pos[cluster], treatment)
    z = implied / se if se > 0 else np.nan
    q = normal.ppf(0.975)
    tab = pd.concat([tab, pd.DataFrame([{
        "specification": "extensive implied (total - intensive, log points)",
        "term": treatment, "estimate": implied, "std_error": se,
        "p_value": float(2 * normal.sf(abs(z))), "conf_low": implied - q * se,
        "conf_high": implied + q * se, "nobs": tot.nobs,
        "fixed_effects": fixed_effects, "clustering": f"CRV1: {cluster} (joint)"}])],
        ignore_index=True)
    return HypothesisTest("Decomposition into extensive and intensive margins", tab, fits,
                          {"extensive_implied": implied, "extensive_implied_se": se})


def _difference_se(a, b, cl_a: pd.Series, cl_b: pd.Series, term: str) -> float:
    """SE of ``a[term] - b[term]`` for two fits on overlapping samples: their own
    variances and the cluster-robust covariance of their scores."""
    ka, kb = list(a.params.index).index(term), list(b.params.index).index(term)
    ra, rb = a.record, b.record
    labels_a = cl_a.to_numpy()[ra.mask]
    labels_b = cl_b.to_numpy()[rb.mask]
    codes, uniq = pd.factorize(np.concatenate([labels_a, labels_b]))
    g = len(uniq)
    ia, ib = codes[: labels_a.size], codes[labels_a.size:]
    sa = np.zeros((g, ra.scores.shape[1]))
    sb = np.zeros((g, rb.scores.shape[1]))
    np.add.at(sa, ia, ra.scores)
    np.add.at(sb, ib, rb.scores)
    ua = sa @ ra.bread[:, ka]  # influence of each cluster on a[term]
    ub = sb @ rb.bread[:, kb]
    va, vb = float(a.vcov.iloc[ka, ka]), float(b.vcov.iloc[kb, kb])
    # the cross term with the fits' own small-sample factors (G/(G-1) and fixest's
    # (N-1)/(N-K)): c = V / sum_g u_g^2 for each fit
    ca, cb = va / max(float(ua @ ua), 1e-300), vb / max(float(ub @ ub), 1e-300)
    cov = float(ua @ ub) * np.sqrt(ca * cb)
    var = va + vb - 2.0 * cov
    return float(np.sqrt(max(var, 0.0)))
