"""``make demo`` / ``gravity demo``: the package at work, from panel to answer, offline.

Steps
-----
1. Simulate a world (:func:`gravity.simulate.simulate_world`: 80 real countries,
   2008-2022, Chaney/Melitz firms with fixed costs of entry, BRI dates from the
   package's table); the panel is built by :func:`gravity.panel.build_panel`.
2. Flow effects by PPML: ``trade ~ ln_dist + ln_tariff + bri_ij + fd_x_dist | exp_year
   + imp_year`` (distance) and the same with pair fixed effects (tariff, BRI, finance
   x distance), ``ln_tariff = ln(1 + tariff/100)``, ``fd_x_dist = ln fd_o x ln dist``.
3. Extensive margin: linear probability models of ``1[trade > 0]`` with
   exporter-year, importer-year and pair fixed effects (BRI entry effect; finance x
   distance); Poisson (PPML) of the number of destinations of exporter-year on
   ``ln fd`` with exporter and year fixed effects.
4. Event study of BRI (PPML, three-way FE, relative-time dummies, reference t = -1)
   with a Wald test of no pre-trends; hypothesis tests for BRI and finance.
5. Diversification over time (number of destinations, top-5 share).
6. A table of true versus estimated effects; ``out/report.md`` with tables and PNG
   figures; and, when the data is found, Yotov et al. (2016) Table 1.

True values: for the flow equation and the entry equation they are parameters of
:class:`gravity.simulate.SimParams`. For the linear probability and count models,
whose coefficients are averages of non-linear effects, the true value is the
*estimand*: the same regression run on the model's expected outcome
(``P(trade > 0)`` and the expected number of destinations) instead of the draw.
"""

from __future__ import annotations

import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from scipy import stats

from gravity.datasets.yotov import find_yotov2016
from gravity.estimation import ols, ppml
from gravity.margins import bri_hypothesis, diversification, finance_hypothesis
from gravity.reporting import diversification_plot, etable, event_study_plot
from gravity.simulate import SimParams, add_structural_covariates, simulate_world

__all__ = ["run_demo"]

EVENT_WINDOW = (-5, 5)


@dataclass
class _Row:
    effect: str
    model: str
    true: float
    est: float
    lo: float
    hi: float

    @property
    def covered(self) -> bool:
        return bool(self.lo <= self.true <= self.hi)


class _Progress:
    def __init__(self, n: int) -> None:
        self.n, self.k, self.t0 = n, 0, time.perf_counter()
        self.t = self.t0

    def step(self, what: str) -> None:
        self.k += 1
        now = time.perf_counter()
        print(f"[{self.k}/{self.n}] {what} ...", flush=True)
        self.t = now

    def done(self, msg: str = "") -> None:
        print(f"      done in {time.perf_counter() - self.t:.1f} s{('  ' + msg) if msg else ''}",
              flush=True)


_R = TypeVar("_R")
_NOTE_WIDTH = 240  # characters of a warning's first message shown in the Notes


@dataclass
class _Notes:
    """Warnings raised during the run: recorded, never silenced, listed in the Notes.

    :meth:`call` runs one step (a fit) and keeps the warnings its results carry
    (``fit.warnings``, also of the fits in a dict or in ``.fits``) and those recorded
    while it ran, each warning once; :meth:`recording` records everything else
    (simulation, figures, the Yotov part).
    """

    records: list[tuple[str, str]] = field(default_factory=list)
    _live: list[list[warnings.WarningMessage]] = field(default_factory=list)

    @staticmethod
    def _key(w: Any) -> tuple[str, str]:
        message = getattr(w, "message", w)
        category = getattr(w, "category", type(message))
        return getattr(category, "__name__", str(category)), str(message)

    def _add(self, caught: Sequence[Any]) -> None:
        self.records += [self._key(w) for w in caught]

    @contextmanager
    def recording(self) -> Iterator[None]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")  # record every warning, silence none
            self._live.append(caught)
            try:
                yield
            finally:
                self._live.remove(caught)
                self._add(caught)

    def call(self, step: Callable[..., _R], *args: Any, **kwargs: Any) -> _R:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = step(*args, **kwargs)
        carried = _carried_warnings(result)
        self._add(carried)
        # a warning both carried and emitted is counted once
        seen = Counter(self._key(w) for w in carried)
        for w in caught:
            key = self._key(w)
            if seen[key]:
                seen[key] -= 1
            else:
                self.records.append(key)
        return result

    def lines(self) -> list[str]:
        """``Category (count): first message`` per category, in order of first appearance."""
        pending: list[tuple[str, str]] = []
        for caught in self._live:
            pending += [(w.category.__name__, str(w.message)) for w in caught]
        by_category: dict[str, list[str]] = {}
        for category, message in self.records + pending:
            by_category.setdefault(category, []).append(message)
        out = []
        for category, messages in by_category.items():
            first = " ".join(messages[0].split())
            if len(first) > _NOTE_WIDTH:
                first = first[:_NOTE_WIDTH - 3] + "..."
            out.append(f"{category} ({len(messages)}): {first}")
        return out


def _carried_warnings(result: Any) -> list[Any]:
    """``result.warnings``, or those of the fits in a dict / in ``result.fits``."""
    if isinstance(getattr(result, "warnings", None), list | tuple):
        return list(result.warnings)
    fits = result if isinstance(result, dict) else getattr(result, "fits", None)
    if isinstance(fits, dict):
        return [w for f in fits.values() for w in _carried_warnings(f)]
    return []


def _row(effect: str, model: str, true: float, fit: Any, term: str) -> _Row:
    ci = fit.conf_int().loc[term]
    return _Row(effect, model, float(true), float(fit.params[term]), float(ci.iloc[0]),
                float(ci.iloc[1]))


def _event_time(panel: pd.DataFrame) -> np.ndarray:
    """Years since the pair's BRI start (first year with bri_ij = 1); NaN if never."""
    start = panel["year"].where(panel["bri_ij"] == 1).groupby(panel["pair"]).transform("min")
    return (panel["year"] - start).to_numpy(float)


def _event_dummies(panel: pd.DataFrame, lo: int, hi: int) -> list[str]:
    k = _event_time(panel)
    names = []
    for j in range(lo, hi + 1):
        if j == -1:
            continue
        if j == lo:
            m = k <= lo
        elif j == hi:
            m = k >= hi
        else:
            m = k == j
        name = f"ev_m{-j}" if j < 0 else f"ev_p{j}"
        panel[name] = np.where(np.isnan(k), 0.0, m.astype(float))
        names.append(name)
    return names


def _md(df: pd.DataFrame, index: bool = False, digits: int = 3) -> str:
    """A GitHub-flavoured Markdown table (no tabulate dependency)."""
    d = df.reset_index() if index else df
    def cell(x: object) -> str:
        if isinstance(x, float | np.floating):
            return f"{x:.{digits}f}"
        return str(x).replace("|", "\\|")
    lines = ["| " + " | ".join(map(str, d.columns)) + " |",
             "|" + "|".join("---" for _ in d.columns) + "|"]
    lines += ["| " + " | ".join(cell(x) for x in row) + " |" for row in d.itertuples(index=False)]
    return "\n".join(lines)


def _table(rows: list[_Row]) -> pd.DataFrame:
    return pd.DataFrame({
        "effect": [r.effect for r in rows],
        "model": [r.model for r in rows],
        "true": [r.true for r in rows],
        "estimate": [r.est for r in rows],
        "95% CI": [f"[{r.lo:.3f}, {r.hi:.3f}]" for r in rows],
        "covered": ["yes" if r.covered else "no" for r in rows],
    })


def _yotov(path: str | Path, notes: _Notes) -> tuple[str, str] | None:
    """Table 1 of Yotov et al. (2016): every coefficient of the four models next to
    the published value (three decimals), and the observation counts."""
    from gravity.datasets import load_yotov2016, yotov2016_application_data
    from gravity.datasets.yotov import TABLE1_PUBLISHED, fit_table1

    fits = notes.call(fit_table1, yotov2016_application_data(load_yotov2016(path)))
    rows = []
    for model, fit in fits.items():
        for term, published in TABLE1_PUBLISHED[model].items():
            rows.append({"model": model, "term": term, "estimate": fit.params[term],
                         "std_error": fit.bse[term], "published": published,
                         "equal at 3 decimals": "yes" if round(fit.params[term], 3) ==
                         published else "no"})
    tab = pd.DataFrame(rows).set_index(["model", "term"])
    n = ", ".join(f"{m} {f.nobs:,}" for m, f in fits.items())
    note = f"N: {n} (published 25,689 for the OLS models and 28,152 for PPML)"
    return tab.round(4).to_string() + "\n" + note, _md(tab, index=True, digits=4) + \
        "\n\n" + note


def run_demo(out_dir: str | Path = "out", yotov_path: str | Path | None = None, *,
             seed: int = 2024, countries: list[str] | None = None,
             years: range | list[int] | None = None, figures: bool = True,
             yotov: bool = True) -> int:
    """Run the demo, print its results and write ``<out_dir>/report.md`` (+ PNG figures).

    ``countries``/``years`` restrict the simulated world (default: 80 countries,
    2008-2022); ``yotov=False`` skips the Yotov et al. (2016) reproduction even when
    the data is found. Returns 0 (the exit status of ``gravity demo``).

    Warnings raised on the way are recorded, not silenced, and listed in a "Notes"
    section of the output and of the report (count and first message per category).
    """
    notes = _Notes()
    with notes.recording():
        return _run(notes, Path(out_dir), yotov_path, seed=seed, countries=countries,
                    years=years, figures=figures, yotov=yotov)


def _run(notes: _Notes, out: Path, yotov_path: str | Path | None, *, seed: int,
         countries: list[str] | None, years: range | list[int] | None, figures: bool,
         yotov: bool) -> int:
    t0 = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    print("gravity demo: a simulated world, from panel to answer\n" + "=" * 54)
    yp = (yotov_path or find_yotov2016()) if yotov else None
    prog = _Progress(10 + (yp is not None))
    params = SimParams()

    # 1. simulate ------------------------------------------------------------------
    prog.step(f"simulating the world (seed {seed}) and building the panel with build_panel")
    panel, truth = simulate_world(params, seed=seed, countries=countries, years=years)
    add_structural_covariates(panel, truth)
    panel["fd_x_dist"] = np.log(panel["fd_o"]) * panel["ln_dist"]
    panel["D"] = (panel["trade"] > 0).astype(float)
    panel["p_entry"] = truth.latent["p_entry"].to_numpy()
    C, T = len(truth.countries), len(truth.years)
    zshare = 1 - panel["D"].mean()
    prog.done(f"{len(panel):,} rows = {C} countries x {C - 1} partners x {T} years "
              f"({truth.years[0]}-{truth.years[-1]}); zeros {zshare:.1%}")

    rows: list[_Row] = []
    clu = {"CRV1": "pair"}
    # 2. PPML ----------------------------------------------------------------------
    prog.step("PPML, exporter-year + importer-year FE (distance)")
    f_dist = notes.call(ppml, "trade ~ ln_dist + ln_tariff + bri_ij + fd_x_dist"
                        " | exp_year + imp_year", panel, vcov=clu)
    rows.append(_row("distance elasticity", "PPML 2-way", params.dist_elasticity, f_dist, "ln_dist"))
    prog.done()
    prog.step("PPML, exporter-year + importer-year + pair FE (tariff, BRI, finance x distance)")
    f_3 = notes.call(ppml, "trade ~ ln_tariff + bri_ij + fd_x_dist | exp_year + imp_year + pair",
                     panel, vcov=clu)
    rows.append(_row("tariff elasticity", "PPML 3-way", params.tariff_elasticity, f_3, "ln_tariff"))
    rows.append(_row("BRI effect on flows", "PPML 3-way", params.bri_flow, f_3, "bri_ij"))
    rows.append(_row("ln fd x ln dist on flows", "PPML 3-way", params.fd_dist_flow, f_3,
                     "fd_x_dist"))
    prog.done()

    # 3. extensive margin ------------------------------------------------------------
    prog.step("extensive margin: LPM of 1[trade > 0], Poisson of the number of destinations")
    f_lpm = notes.call(ols, "D ~ bri_ij | exp_year + imp_year + pair", panel, vcov=clu)
    est_lpm = notes.call(ols, "p_entry ~ bri_ij | exp_year + imp_year + pair", panel)
    rows.append(_row("BRI effect on P(trade > 0)", "LPM 3-way", est_lpm.params["bri_ij"], f_lpm,
                     "bri_ij"))
    f_lpm2 = notes.call(ols, "D ~ fd_x_dist | exp_year + imp_year + pair", panel, vcov=clu)
    est_lpm2 = notes.call(ols, "p_entry ~ fd_x_dist | exp_year + imp_year + pair", panel)
    rows.append(_row("ln fd x ln dist on P(trade > 0)", "LPM 3-way",
                     est_lpm2.params["fd_x_dist"], f_lpm2, "fd_x_dist"))
    nd = (panel.groupby(["exporter", "year"], observed=True)
          .agg(n_dest=("D", "sum"), e_n_dest=("p_entry", "sum"), fd=("fd_o", "first"))
          .reset_index())
    nd["ln_fd"] = np.log(nd["fd"])
    f_nd = notes.call(ppml, "n_dest ~ ln_fd | exporter + year", nd, vcov={"CRV1": "exporter"})
    est_nd = notes.call(ppml, "e_n_dest ~ ln_fd | exporter + year", nd)
    rows.append(_row("finance on no. of destinations", "Poisson exp+year FE",
                     est_nd.params["ln_fd"], f_nd, "ln_fd"))
    att = truth.bri_entry_att(panel)
    prog.done()
    prog.step("structural entry effects: FE cloglog, 3-way, bias-corrected (gravity.margins)")
    # P(X > 0) = 1 - exp(-lambda) in this world: the cloglog slopes are effects on ln lambda
    h_bri = notes.call(bri_hypothesis, panel, exporter=None,
                       controls=["ln_tariff", "fd_x_dist_c"], entry_model="cloglog",
                       bias_correction="network")
    h_fin = notes.call(finance_hypothesis, panel, controls=["ln_tariff"],
                       entry_model="cloglog", bias_correction="network")
    for effect, tab, spec, term, true in (
            ("BRI effect on firm entry (ln lambda)", h_bri.table, "entry", "bri_ij",
             params.bri_entry),
            ("ln fd x ln dist on firm entry (ln lambda)", h_fin.table, "pecking", "fd_x_dist",
             params.fd_dist_entry)):
        r = tab[tab["specification"].str.contains(spec) & (tab["term"] == term)].iloc[0]
        rows.append(_Row(effect, "cloglog 3-way, bias-corr.", float(true), float(r["estimate"]),
                         float(r["conf_low"]), float(r["conf_high"])))
    prog.done()

    # 4. event study ----------------------------------------------------------------
    prog.step("BRI event study (PPML, 3-way FE, leads and lags) and pre-trend test")
    ev = _event_dummies(panel, *EVENT_WINDOW)
    f_ev = notes.call(ppml, "trade ~ " + " + ".join(ev) + " + ln_tariff + fd_x_dist"
                      " | exp_year + imp_year + pair", panel, vcov=clu)
    leads = [c for c in ev if c.startswith("ev_m")]
    pretrend = f_ev.wald_test(leads)
    w, df_w, p_w = pretrend["statistic"], pretrend["df"], pretrend["pvalue"]
    evtab = f_ev.tidy().loc[ev, ["estimate", "conf_low", "conf_high"]].copy() \
        if {"conf_low", "conf_high"} <= set(f_ev.tidy().columns) else None
    if evtab is None:
        ci = f_ev.conf_int().loc[ev]
        evtab = pd.DataFrame({"estimate": f_ev.params[ev], "conf_low": ci.iloc[:, 0],
                              "conf_high": ci.iloc[:, 1]})
    evtab["period"] = [-int(c[4:]) if c.startswith("ev_m") else int(c[4:]) for c in ev]
    evtab["true"] = np.where(evtab["period"] >= 0, params.bri_flow, 0.0)
    prog.done(f"pre-trend Wald chi2({df_w}) = {w:.2f}, p = {p_w:.3f}")

    # 5. hypothesis tests --------------------------------------------------------------
    prog.step("hypothesis tests (one-sided z tests, 5%)")
    tests = []
    for h, fit, term in (("BRI raises flows", f_3, "bri_ij"),
                         ("BRI raises the probability of trading", f_lpm, "bri_ij"),
                         ("finance raises the number of destinations", f_nd, "ln_fd"),
                         ("finance matters more for distant markets", f_3, "fd_x_dist")):
        z = float(fit.params[term] / fit.bse[term])
        p1 = float(stats.norm.sf(z))
        tests.append({"hypothesis (H1)": h, "term": term, "statistic": f"z = {z:.2f}",
                      "p-value": f"{p1:.2g}" if p1 >= 1e-16 else "<1e-16", "reject H0 at 5%": "yes" if p1 < 0.05 else "no"})
    tests.append({"hypothesis (H1)": "BRI pre-trends (H0: all leads = 0)", "term": ",".join(leads),
                  "statistic": f"chi2({df_w}) = {w:.2f}", "p-value": f"{p_w:.2g}",
                  "reject H0 at 5%": "yes" if p_w < 0.05 else "no"})
    tests = pd.DataFrame(tests)
    prog.done()

    # 6. diversification ---------------------------------------------------------------
    prog.step("diversification over time (destinations, top-5 share)")
    div = diversification(panel, k=5).reset_index()
    div = div[["exporter", "year", "n_destinations", "top5_share"]]
    signed = panel.groupby("exporter", observed=True)["bri_o"].max()
    div["group"] = np.where(div["exporter"].map(signed) == 1, "BRI participants", "others")
    div_g = div.groupby(["group", "year"])[["n_destinations", "top5_share"]].mean().reset_index()
    chn = div[div["exporter"] == "CHN"].set_index("year")[["n_destinations", "top5_share"]]
    prog.done()

    # 7. tables ------------------------------------------------------------------------
    prog.step("true versus estimated effects")
    tab = _table(rows)
    prog.done()
    with pd.option_context("display.width", 140, "display.max_columns", 20):
        print("\nTrue versus estimated effects (95% CI, standard errors clustered by pair; "
              "exporter for the count model)")
        print(tab.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
        print(f"covered: {sum(r.covered for r in rows)} of {len(rows)}")
        print(f"(exact average effect of BRI on P(trade > 0) among treated pairs: {att:.3f}; "
              f"BRI effect on firm entry d ln lambda = {params.bri_entry}; "
              f"finance on firm entry d ln lambda / d ln fd = {params.fd_entry})")
        print("\nHypothesis tests")
        print(tests.to_string(index=False))
        print("\nBRI event study (PPML, reference t = -1; true effect 0 before, "
              f"{params.bri_flow} from t = 0)")
        print(evtab[["period", "true", "estimate", "conf_low", "conf_high"]]
              .to_string(index=False, float_format=lambda x: f"{x:.3f}"))
        print("\nDiversification: mean number of destinations and top-5 share, first and last year")
        ends = div_g[div_g["year"].isin([truth.years[0], truth.years[-1]])]
        print(ends.to_string(index=False, float_format=lambda x: f"{x:.3f}"))

    # 8. report ------------------------------------------------------------------------
    prog.step(f"writing the report and figures to {out}")
    reg = etable({"PPML 2-way": f_dist, "PPML 3-way": f_3, "LPM entry": f_lpm,
                  "LPM entry x": f_lpm2, "Poisson n dest": f_nd})
    figs = []
    if figures:
        fig = event_study_plot(evtab, title="BRI event study (PPML, 3-way FE)",
                               ylabel="effect on log flows")
        ax = fig.axes[0]
        ax.step(np.r_[-5.5, -0.5, -0.5, 5.5], np.r_[0, 0, params.bri_flow, params.bri_flow],
                where="post", color="k", lw=1, ls=":", label="true")
        ax.legend(loc="best", fontsize="small")
        fig.savefig(out / "event_study.png", dpi=110)
        fig2 = diversification_plot(div_g, ["n_destinations", "top5_share"], group="group",
                                    percent=["top5_share"],
                                    labels={"n_destinations": "number of destinations (mean)",
                                            "top5_share": "top-5 destinations' share of exports"},
                                    title="Diversification over time (simulated)")
        fig2.savefig(out / "diversification.png", dpi=110)
        figs = ["event_study.png", "diversification.png"]
    md = ["# gravity demo", "",
          f"Simulated world: {C} countries, {truth.years[0]}-{truth.years[-1]}, seed {seed}, "
          f"{len(panel):,} exporter x importer x year rows, {zshare:.1%} zero flows "
          "(no firm of the exporter covers the fixed cost of the market).", "",
          "## True versus estimated effects", "",
          _md(tab), "",
          "True values of LPM and count-model coefficients are their estimands: the same "
          "regression on the model's expected outcome.", "",
          "## Hypothesis tests", "", _md(tests), "",
          "## Regression table", "", reg.to_markdown(), ""]
    if figs:
        md += ["## Figures", "", "![BRI event study](event_study.png)", "",
               "![Diversification over time](diversification.png)", ""]
    md += ["## China in the simulated world", "", _md(chn, index=True), ""]
    prog.done()

    if yp is not None:
        prog.step(f"Yotov et al. (2016), Table 1 ({yp})")
        res = _yotov(yp, notes)
        prog.done()
        if res:
            print("\nYotov et al. (2016) Table 1: reproduction vs published")
            print(res[0])
            md += ["## Yotov et al. (2016), Table 1", "", res[1], ""]
    else:
        print("\nYotov et al. (2016) data not found locally: Table 1 skipped "
              "(pass --yotov PATH or set GRAVITY_YOTOV2016)")
    note_lines = notes.lines()
    print("\nNotes: warnings raised during the run (recorded, not silenced)")
    print("\n".join(f"  {n}" for n in note_lines) if note_lines else "  none")
    md += ["## Notes", "", "Warnings raised during the run (category, count, first message):",
           ""] + ([f"- {n}" for n in note_lines] if note_lines else ["- none"]) + [""]
    (out / "report.md").write_text("\n".join(md))
    print(f"\nreport: {out / 'report.md'}" + (f" (+ {', '.join(figs)})" if figs else "")
          + f"; wall time {time.perf_counter() - t0:.1f} s")
    return 0
