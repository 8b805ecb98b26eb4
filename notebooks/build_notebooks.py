"""Write the example notebooks from the cell sources below and execute them in place.

Usage (from the repository root, with the project's virtual environment)::

    .venv/bin/python notebooks/build_notebooks.py            # all notebooks
    .venv/bin/python notebooks/build_notebooks.py 01         # those whose name contains "01"

The notebooks are stored with their outputs. They are executed with nbclient in a
kernel that runs *this* interpreter (a kernelspec written to a temporary
``JUPYTER_PATH``), with ``notebooks/`` as the working directory, exactly as
``tests/test_notebooks.py`` re-executes them.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
KERNEL = "gravity-venv"


def kernel_env(tmp: str) -> str:
    """Write a kernelspec running ``sys.executable`` under ``tmp``; return its name."""
    d = Path(tmp) / "kernels" / KERNEL
    d.mkdir(parents=True, exist_ok=True)
    (d / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python (gravity)", "language": "python"}))
    os.environ["JUPYTER_PATH"] = tmp + os.pathsep + os.environ.get("JUPYTER_PATH", "")
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    return KERNEL


def execute(nb: nbformat.NotebookNode, timeout: int = 240) -> nbformat.NotebookNode:
    with tempfile.TemporaryDirectory() as tmp:
        name = kernel_env(tmp)
        NotebookClient(nb, timeout=timeout, kernel_name=name,
                       resources={"metadata": {"path": str(HERE)}}).execute()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


def md(s: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_markdown_cell(s.strip("\n"))


def code(s: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(s.strip("\n"))


SETUP = '''
%matplotlib inline
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import Markdown, display

import gravity as gv
from gravity.reporting import etable


def find_shared(*parts: str) -> Path | None:
    """A file under ``shared/`` beside the working directory or one of its parents."""
    for base in (Path.cwd(), *Path.cwd().parents[:3]):
        p = base.joinpath("shared", *parts)
        if p.exists():
            return p
    return None
'''

# ------------------------------------------------------------------ notebook 1
NB1 = [
    md('''
# Replicating Yotov et al. (2016): traditional gravity and the distance puzzle

Yotov, Piermartini, Monteiro and Larch (2016), *An Advanced Guide to Trade Policy
Analysis: The Structural Gravity Model*, WTO/UNCTAD, chapter 1: application 1 (Table 1:
OLS, OLS with remoteness, OLS with exporter-year and importer-year fixed effects, PPML)
and application 2 (the "distance puzzle": year-specific distance elasticities).

Every table below is produced by `gravity.etable` or computed from fitted models; the
published numbers are read from `shared/reference/yotov2016_fixest.csv` (R fixest 0.12.2,
whose coefficients agree with the book's printed Table 1) and
`shared/reference/yotov2016.md`, never typed in.

**Data.** `gravity.datasets.load_yotov2016()` reads `shared/data/yotov2016/` when it is
beside the working directory (as in CI) and otherwise downloads the file (SHA-256 checked).

Standard errors are clustered by country pair with fixest's default small-sample
correction (`se_default`); `fit.with_vcov(ssc="glm")` gives the cluster-only convention
(`se_cluster_only`) of Stata's `glm`/the book's R code.
'''),
    code(SETUP),
    code('''
from gravity.datasets import load_yotov2016, yotov2016_application_data
from gravity.datasets.yotov import find_yotov2016

path = find_yotov2016()
print("data:", path if path is not None else "downloading with gravity.datasets.load_yotov2016()")
data = yotov2016_application_data(load_yotov2016(path))
positive = data[(data["intl"] == 1) & (data["trade"] > 0)].reset_index(drop=True)
international = data[data["intl"] == 1].reset_index(drop=True)
print(f"{len(data):,} rows (6 years), {len(international):,} international, "
      f"{len(positive):,} with positive trade")
'''),
    md("## Table 1: traditional gravity estimates"),
    code('''
FE = "exp_year + imp_year"
GRAV = "ln_DIST + cntg + lang + clny"
vc = {"CRV1": "pair_id"}
table1 = {
    "OLS": gv.ols(f"ln_trade ~ {GRAV} + ln_Y + ln_E", positive, vcov=vc),
    "REMOTENESS": gv.ols(f"ln_trade ~ {GRAV} + ln_Y + ln_E + ln_REM_EXP + ln_REM_IMP",
                         positive, vcov=vc),
    "FIXED_EFFECTS": gv.ols(f"ln_trade ~ {GRAV} | {FE}", positive, vcov=vc),
    "PPML": gv.ppml(f"trade ~ {GRAV} | {FE}", international, vcov=vc, tol=1e-10),
}
LABELS = {
    "ln_DIST": "Log distance", "cntg": "Contiguity", "lang": "Common language",
    "clny": "Colonial tie", "ln_Y": "Log output", "ln_E": "Log expenditure",
    "ln_REM_EXP": "Remoteness (exporter)", "ln_REM_IMP": "Remoteness (importer)",
    "ln_DIST_INTRA": "Log intra-national distance", "exp_year": "Exporter-year",
    "imp_year": "Importer-year", "ln_trade": "log trade", "trade": "trade",
    **{f"ln_DIST_{y}": f"Log distance {y}" for y in (1986, 1990, 1994, 1998, 2002, 2006)},
}
tab1 = etable(table1, labels=LABELS, drop=[r"^\\(Intercept\\)$"])
tab1
'''),
    md('''
### Our estimates next to the published ones

Differences are computed, not asserted: coefficients agree to about `1e-9` and clustered
standard errors to about `1e-8` (relative). The test suite
(`tests/test_yotov_reference.py`) checks the same numbers at the tolerances stated in the
reference (coefficients `1e-6`, standard errors `1e-5` relative).
'''),
    code('''
ref_path = find_shared("reference", "yotov2016_fixest.csv")
if ref_path is None:
    print("shared/reference/yotov2016_fixest.csv not found: comparison skipped")
    reference = None
else:
    reference = pd.read_csv(ref_path)


def compare(fits: dict) -> pd.DataFrame:
    rows = []
    for name, fit in fits.items():
        ref = reference[reference["model"] == name].set_index("variable")
        glm = fit.with_vcov(ssc="glm")
        for var in fit.params.index:
            rows.append({
                "model": name, "variable": var,
                "coef": fit.params[var], "coef (published)": ref.loc[var, "coef"],
                "se": fit.bse[var], "se (published)": ref.loc[var, "se_default"],
                "se glm": glm.bse[var], "se glm (published)": ref.loc[var, "se_cluster_only"],
                "max rel. diff": max(
                    abs(fit.params[var] / ref.loc[var, "coef"] - 1),
                    abs(fit.bse[var] / ref.loc[var, "se_default"] - 1),
                    abs(glm.bse[var] / ref.loc[var, "se_cluster_only"] - 1)),
            })
    return pd.DataFrame(rows).set_index(["model", "variable"])


if reference is not None:
    cmp1 = compare(table1)
    with pd.option_context("display.float_format", "{:.6f}".format):
        display(cmp1.drop(columns="max rel. diff"))
    print(f"largest relative difference: {cmp1['max rel. diff'].max():.2e}")
'''),
    code('''
fig = gv.reporting.coefplot({k: table1[k] for k in ("OLS", "FIXED_EFFECTS", "PPML")},
                            terms=["ln_DIST", "cntg", "lang", "clny"], labels=LABELS,
                            title="Table 1: gravity covariates, 95% CI (clustered by pair)",
                            figsize=(7, 4))
fig
'''),
    md('''
## The distance puzzle

Year-specific distance elasticities, with exporter-year and importer-year fixed effects:
OLS on positive flows, PPML with zeros, and PPML with intra-national flows (and an
intra-national distance term), which resolves the puzzle: the elasticity falls over time.
'''),
    code('''
YEARS = (1986, 1990, 1994, 1998, 2002, 2006)
PUZZLE = " + ".join(f"ln_DIST_{y}" for y in YEARS)
puzzle = {
    "PUZZLE_OLS": gv.ols(f"ln_trade ~ {PUZZLE} + cntg + lang + clny | {FE}", positive, vcov=vc),
    "PUZZLE_PPML": gv.ppml(f"trade ~ {PUZZLE} + cntg + lang + clny | {FE}", international,
                           vcov=vc, tol=1e-10),
    "PUZZLE_PPML_INTRA": gv.ppml(f"trade ~ {PUZZLE} + cntg + lang + clny + ln_DIST_INTRA | {FE}",
                                 data, vcov=vc, tol=1e-10),
}
tab2 = etable(puzzle, labels=LABELS)
tab2
'''),
    code('''
if reference is not None:
    cmp2 = compare(puzzle)
    with pd.option_context("display.float_format", "{:.6f}".format):
        display(cmp2.loc[(slice(None), [f"ln_DIST_{y}" for y in YEARS]), :]
                .drop(columns="max rel. diff"))
    print(f"largest relative difference: {cmp2['max rel. diff'].max():.2e}")
'''),
    code('''
published = None
if reference is not None:
    r = reference.set_index(["model", "variable"])["coef"]
    published = {f"{m} (published)": {y: r[(m, f"ln_DIST_{y}")] for y in YEARS}
                 for m in ("PUZZLE_OLS", "PUZZLE_PPML_INTRA")}
fig = gv.reporting.distance_elasticity_plot(
    puzzle, YEARS, reference=published, figsize=(8, 4.5),
    title="Distance elasticity by year, 95% CI")
fig
'''),
    md('''
### Percentage change of the distance elasticity, 1986 to 2006 (delta method)

`100 * (b_2006 - b_1986) / b_1986` with its delta-method standard error, under both
standard-error conventions, next to the reference values parsed from
`shared/reference/yotov2016.md`.
'''),
    code('''
import re

published_delta = {}
md_path = find_shared("reference", "yotov2016.md")
if md_path is not None:
    pat = re.compile(r"^\\| (PUZZLE_\\w+) \\| ([-\\d.]+) \\(([\\d.]+), p [=<] ([\\de.-]+)\\) \\| "
                     r"([-\\d.]+) \\(([\\d.]+), p [=<] ([\\de.-]+)\\) \\|$")
    for line in md_path.read_text(encoding="utf-8").splitlines():
        m = pat.match(line)
        if m:
            published_delta[m[1]] = (float(m[2]), float(m[3]), float(m[5]), float(m[6]))

rows = []
for name, fit in puzzle.items():
    f = lambda b: 100 * (b["ln_DIST_2006"] - b["ln_DIST_1986"]) / b["ln_DIST_1986"]  # noqa: E731
    d1, d2 = fit.delta_method(f), fit.with_vcov(ssc="glm").delta_method(f)
    pub = published_delta.get(name, (np.nan,) * 4)
    rows.append({"model": name, "change %": d1.estimate[0], "se": d1.se[0], "p": d1.pvalue[0],
                 "se (glm)": d2.se[0], "change % (published)": pub[0], "se (published)": pub[1],
                 "se glm (published)": pub[3]})
delta = pd.DataFrame(rows).set_index("model")
with pd.option_context("display.float_format", "{:.6f}".format):
    display(delta)
'''),
    md('''
## Exporting the tables

`etable(...).to_latex()` gives a booktabs `tabular` (needs `\\usepackage{booktabs}`);
`.to_markdown()` and `.to_html()` give the other formats; `.to_frame()` a DataFrame.
'''),
    code('''
print(tab1.to_latex(caption="Traditional gravity estimates (Yotov et al. 2016, Table 1)",
                    label="tab:yotov1"))
'''),
    md('''
## References

* Yotov, Y.V., R. Piermartini, J.-A. Monteiro and M. Larch (2016), *An Advanced Guide to
  Trade Policy Analysis: The Structural Gravity Model*, WTO and UNCTAD.
* Santos Silva, J.M.C. and S. Tenreyro (2006), "The log of gravity", *Review of Economics
  and Statistics* 88(4), 641-658.
* Correia, S., P. Guimarães and T. Zylkin (2020), "Fast Poisson estimation with
  high-dimensional fixed effects", *Stata Journal* 20(1), 95-115.
'''),
]


# ------------------------------------------------------------------ notebook 2
NB2 = [
    md("""
# Export-market diversification: dispersion and evenness of China's exports

The seed paper describes China's export markets with three indicators:

* **dispersion** -- the number of destinations with positive exports;
* **concentration** -- the share of the five largest destinations in total exports
  (63.2% in 2001, 48.2% in 2010, 45.9% in 2018, from China's own customs data);
* **emerging markets' share** -- the share of exports going to emerging markets.

All indicators are computed by `gravity.margins.diversification` on a long panel
(`exporter, importer, year, trade`: the schema `gravity.panel.build_panel` produces from
BACI, DOTS or Comtrade). Two data sets are used:

1. **Real data**, 2014-2025: China's exports by destination as *mirror* data (partners'
   reported imports from China, CIF, UN Comtrade), `shared/data/china_exports/`, read by
   `gravity.sources.read_china_mirror`.
2. **Simulated data** (clearly labelled below): a `gravity.simulate` world in the same
   panel format, to show the indicators for many exporters at once when no BACI panel is
   present.

**Gap.** The 2001 and 2010 figures need China's exports by destination for those years,
which are not in `shared/` (see `shared/data/README.md`); they are reported below as
*not reproducible with the data present* until a user supplies a BACI or DOTS panel
(`gravity.panel.build_panel`) covering them.
"""),
    code(SETUP),
    code("""
from gravity.margins import diversification, emerging_markets
from gravity.sources import read_china_mirror, top_partner_share


def formatted(df: pd.DataFrame, formats: dict) -> pd.DataFrame:
    # a copy of df with the columns in `formats` as strings ("n/a" for missing)
    out = df.copy()
    for c, f in formats.items():
        out[c] = df[c].map(lambda v, f=f: "n/a" if pd.isna(v) else f.format(v))
    return out


# The seed paper's top-five shares (China's customs data), as quoted in shared/data/README.md
SEED_TOP5 = {2001: 0.632, 2010: 0.482, 2018: 0.459}

mirror_path = find_shared("data", "china_exports", "china_exports_by_partner_mirror_2014_2025.csv")
if mirror_path is None:
    flows = None
    print("REAL DATA ABSENT: shared/data/china_exports/ not found; the real-data section "
          "is skipped and only the simulated panel below is used.")
else:
    flows = read_china_mirror(mirror_path)
    print(f"{len(flows):,} flows, {flows['year'].min()}-{flows['year'].max()}, "
          f"{flows['importer'].nunique()} destinations ever reported")
"""),
    md("""
## Real data: China's exports by destination, 2014-2025 (mirror)

Emerging markets: the 24 markets of the MSCI Emerging Markets index
(`gravity.margins.emerging_markets("msci")`, June 2024 review; China itself excluded as a
destination) and, as a broader alternative, every economy the World Bank classifies as
low or middle income (`emerging_markets("wdi")`, from the WDI country metadata).

Caveats of mirror data: a destination counts only if it reports imports to UN Comtrade,
so `n_destinations` is a lower bound and moves with reporting coverage; values are CIF.
**2024 and 2025 are incomplete** (fewer reporters) and are flagged `complete = False` in
the table and left out of the figure.
"""),
    code("""
if flows is not None:
    groups = {"emerging_msci": sorted(emerging_markets("msci") - {"CHN"})}
    wdi_meta = find_shared("data", "macro", "wdi_country_metadata.csv")
    if wdi_meta is not None:
        groups["low_middle_income"] = sorted(emerging_markets("wdi", path=wdi_meta) - {"CHN"})
    div = diversification(flows, k=5, groups=groups).reset_index()
    reporters = flows.groupby("year")["importer"].nunique()
    div["complete"] = div["year"].map(reporters >= 0.9 * reporters.loc[2014:2023].median())
    cols = ["year", "n_destinations", "top5_share", *[f"share_{g}" for g in groups], "hhi",
            "theil", "complete"]
    real = div[cols]
    display(formatted(real, {c: "{:.2%}" for c in cols if "share" in c}
                      | {"n_destinations": "{:.0f}", "hhi": "{:.4f}", "theil": "{:.3f}"})
            .set_index("year"))
"""),
    code("""
if flows is not None:
    # cross-check with the reader's own helper and the README's fact (2018: 46.06%)
    print(f"top-5 share 2018, diversification(): {real.set_index('year').loc[2018, 'top5_share']:.2%}")
    print(f"top-5 share 2018, top_partner_share(): {top_partner_share(flows, 2018):.2%}")
    top5 = (flows[flows["year"] == 2018].nlargest(5, "trade")
            .assign(share=lambda d: d["trade"] / flows.loc[flows["year"] == 2018, "trade"].sum()))
    display(formatted(top5[["importer", "trade", "share"]],
                      {"trade": "{:,.0f}", "share": "{:.2%}"}).set_index("importer"))
"""),
    code("""
if flows is not None:
    show = real[real["complete"]]
    fig = gv.reporting.diversification_plot(
        show, indicators=["n_destinations", "top5_share", "share_emerging_msci"],
        percent=("top5_share", "share_emerging_msci"),
        labels={"n_destinations": "Number of destinations (reporting partners)",
                "top5_share": "Top-five share (%)",
                "share_emerging_msci": "Emerging markets' share (MSCI, %)"},
        marks={"top5_share": {y: v for y, v in SEED_TOP5.items() if y >= show["year"].min()}},
        title="China's export markets, mirror data (x: seed paper, China's own data)",
        figsize=(12, 3.6))
    display(fig)
"""),
    md("""
### The seed paper's figures next to ours

Computed from the data present; years without data are marked as a gap rather than
filled in.
"""),
    code("""
rows = []
for year, seed in SEED_TOP5.items():
    ours = np.nan
    if flows is not None and year in set(flows["year"]):
        ours = top_partner_share(flows, year)
    rows.append({"year": year, "seed paper (China customs)": seed,
                 "gravity (mirror data)": ours,
                 "status": "computed" if np.isfinite(ours) else
                 "GAP: China's exports by destination for this year are not in shared/"})
gap = pd.DataFrame(rows)
display(formatted(gap, {"seed paper (China customs)": "{:.1%}",
                        "gravity (mirror data)": "{:.2%}"}).set_index("year"))
"""),
    md("""
## SIMULATED DATA: the indicators on a many-exporter panel

**The numbers in this section are simulated, not observed.** `gravity.simulate.simulate_world`
draws a Melitz-type world (80 countries, capital-to-capital distances, zeros when no firm
covers the fixed cost of a market) in the panel schema of `gravity.panel.build_panel`; the
same call to `diversification` would run on a real BACI or DOTS panel.
"""),
    code("""
try:
    from gravity.simulate import simulate_world
except ImportError as err:  # the simulation module is optional for this notebook
    simulate_world = None
    print(f"gravity.simulate not available ({err}); simulated section skipped")

if simulate_world is not None:
    sim, truth = simulate_world(seed=2024, years=range(2012, 2021))
    sim_div = diversification(sim, k=5, groups={"emerging_msci": emerging_markets("msci")})
    sim_div = sim_div.reset_index()
    print(f"SIMULATED panel: {len(sim):,} rows, {sim['exporter'].nunique()} exporters, "
          f"{(sim['trade'] == 0).mean():.1%} zeros")
    summary = (sim_div.groupby("year")[["n_destinations", "top5_share", "share_emerging_msci"]]
               .median().reset_index())
    display(Markdown("Median across the simulated exporters (**simulated data**):"))
    display(formatted(summary, {"n_destinations": "{:.1f}", "top5_share": "{:.1%}",
                                "share_emerging_msci": "{:.1%}"}).set_index("year"))
"""),
    code("""
if simulate_world is not None:
    pick = sim_div[sim_div["exporter"].isin(["CHN", "DEU", "BRA", "ZAF"])]
    fig = gv.reporting.diversification_plot(
        pick, indicators=["n_destinations", "top5_share", "share_emerging_msci"],
        group="exporter", percent=("top5_share", "share_emerging_msci"),
        labels={"n_destinations": "Number of destinations", "top5_share": "Top-five share (%)",
                "share_emerging_msci": "Emerging markets' share (%)"},
        title="SIMULATED DATA (gravity.simulate): diversification of four exporters",
        figsize=(12, 3.6))
    display(fig)
"""),
    md("""
## References

* Cadot, O., C. Carrère and V. Strauss-Kahn (2011), "Export diversification: what's
  behind the hump?", *Review of Economics and Statistics* 93(2), 590-605.
* Helpman, E., M. Melitz and Y. Rubinstein (2008), "Estimating trade flows: trading
  partners and trading volumes", *Quarterly Journal of Economics* 123(2), 441-487.
"""),
]


# ------------------------------------------------------------------ notebooks 3 and 4: shared
SIM_HELPERS = """
import warnings

import matplotlib.pyplot as plt

from gravity.simulate import SimParams, simulate_world


def pseudo_true(estimator, formula: str, data: pd.DataFrame) -> pd.Series:
    # The same estimator applied to the simulation's *expected* outcome (true P(X>0),
    # true E[X] or E[X | X>0] from truth.latent): what the estimator converges to in
    # this world without sampling noise (its "pseudo-true" value).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return estimator(formula, data).params


def with_truth(table: pd.DataFrame, true: list, label: str = "true value",
               parameter: list | None = None) -> pd.DataFrame:
    # the package's tidy table with a column of true values computed from the simulation
    # (and optionally the model parameter it corresponds to); "covered": whether the
    # 95% interval contains the true value (empty where there is no interval)
    out = table[["specification", "term", "estimate", "std_error", "conf_low", "conf_high",
                 "p_value", "nobs"]].copy()
    if parameter is not None:
        out["model parameter"] = parameter
    out[label] = true
    inside = (out["conf_low"] <= out[label]) & (out[label] <= out["conf_high"])
    out["covered"] = inside.where(out["conf_low"].notna())
    return out.set_index(["specification", "term"])


def simulated_world(params: SimParams, seed: int, years=range(2008, 2021)):
    panel, truth = simulate_world(params, seed=seed, years=years)
    panel["p_entry"] = truth.latent["p_entry"].to_numpy()   # true P(X > 0)
    panel["mu"] = truth.latent["mu"].to_numpy()             # true E[X]
    panel["mu_pos"] = panel["mu"] / panel["p_entry"]        # true E[X | X > 0]
    return panel, truth
"""

# ------------------------------------------------------------------ notebook 3
NB3 = [
    md("""
# Does BRI participation shift the extensive margin? The hypothesis tests and event study

**Hypothesis.** The Belt and Road Initiative (BRI) bundles transport infrastructure
(ports, railways, roads), trade facilitation (customs and border agreements) and
finance (policy-bank credit, insurance). In heterogeneous-firm trade models (Melitz
2003; Chaney 2008; Helpman, Melitz and Rubinstein 2008) lower *variable* costs raise
the volume of existing flows (the **intensive margin**), while lower *fixed* costs of
reaching a market -- information, distribution, financing the entry -- let more firms
serve it and open markets that were not served at all (the **extensive margin**). If
BRI works mainly through fixed costs and finance, a memorandum of understanding should
*widen the set of destination markets*: `P(X_ijt > 0)` rises when `i` and `j` both
participate, beyond what the same agreement does to the volume of flows already there.

**This notebook.**

1. A **SIMULATED** world with known true effects (`gravity.simulate.simulate_world`):
   the package's one-call tests (`gravity.margins.bri_hypothesis`), the event study
   with its pre-trend test (`bri_event_study`) and the decomposition into extensive
   and intensive margins (`decompose_margins`), each estimate next to the value the
   simulation implies. Every number is computed; none is typed in.
2. **Real data** (`shared/data/china_exports/`, UN Comtrade mirror data, 2014-2025):
   China's number of destinations and the share of its exports going to BRI partners
   over time, and a *descriptive* comparison of BRI and non-BRI destinations. The data
   cannot identify the causal effect (no pre-2014 years, one exporter, no zeros);
   see the last section for what it would take.
"""),
    code(SETUP),
    code(SIM_HELPERS),
    md("""
## 1. SIMULATED DATA: a world where the truth is known

**Everything in this section is simulated.** `simulate_world` draws a Melitz/Chaney
world of 80 real countries (capital-to-capital distances, GDP anchored on 2015 values),
2008-2020, with the *actual* BRI signature years of the package's BRI table
(`gravity/data/bri_participants.csv`). BRI lowers both variable costs (`b_tau`) and the
fixed cost of entering a market (`b_f`). A pair has zero trade when no firm covers the
fixed cost (`N_ijt ~ Poisson(lambda_ijt)`), so the extensive margin is economic.

True values (`truth.effects()`): `bri_flow` is the effect on `ln E[X]` (what PPML
estimates), `bri_entry` the effect on the log expected number of exporting firms
`ln lambda` (the extensive margin on the index scale). The LPM estimates the effect on
the *probability* of a positive flow; its true counterpart is the average effect on
`P(X > 0)` over the treated pairs (`truth.bri_entry_att`), computed exactly from the
latent `lambda`.

Because a linear probability model with additive fixed effects is misspecified in this
world (`P(X > 0) = 1 - exp(-lambda)`, `lambda` log-linear), the tables also report each
estimator's **pseudo-true** value: the same regression run on the simulation's expected
outcome (true `P(X > 0)`, true `E[X]`), i.e. what the estimator converges to here without
sampling noise. `covered` says whether the 95% interval contains it.
"""),
    code("""
from gravity.margins import bri_event_study, bri_hypothesis, decompose_margins

params = SimParams()   # the package's default true values
panel, truth = simulated_world(params, seed=2013)
print(f"SIMULATED panel: {len(panel):,} rows, {panel['exporter'].nunique()} countries, "
      f"{panel['year'].min()}-{panel['year'].max()}, {(panel['trade'] == 0).mean():.1%} zeros, "
      f"{panel['bri_ij'].mean():.1%} of pair-years with both partners in BRI")
display(pd.Series(truth.effects(), name="true value (simulation parameters)").to_frame())
"""),
    md("""
### One-call test: `bri_hypothesis`

Entry (LPM, `entry = 1{trade > 0}`) and flows (PPML) on `bri_ij` with exporter-year,
importer-year and pair fixed effects on all pairs, and for China's exports alone (year
and pair effects). Standard errors clustered by pair.
"""),
    code("""
bri = bri_hypothesis(panel, exporter="CHN")
chn = (panel["exporter"] == "CHN").to_numpy()
lam = np.exp(truth.latent["ln_lambda"].to_numpy())
att = np.exp(-lam * np.exp(-params.bri_entry)) - np.exp(-lam)   # effect on P(X > 0), by row
treated = panel["bri_ij"].to_numpy() == 1
param_bri = [truth.bri_entry_att(panel), params.bri_flow,
             float(att[chn & treated].mean()), params.bri_flow]
FE3 = "exp_year + imp_year + pair"
pt_bri = [pseudo_true(gv.ols, f"p_entry ~ bri_ij | {FE3}", panel)["bri_ij"],
          pseudo_true(gv.ppml, f"mu ~ bri_ij | {FE3}", panel)["bri_ij"],
          pseudo_true(gv.ols, "p_entry ~ bri_ij | year + pair", panel[chn])["bri_ij"],
          pseudo_true(gv.ppml, "mu ~ bri_ij | year + pair", panel[chn])["bri_ij"]]
bri_table = with_truth(bri.table, pt_bri, label="pseudo-true", parameter=param_bri)
with pd.option_context("display.float_format", "{:.4f}".format):
    display(bri_table)
"""),
    code("""
LABELS3 = {"bri_ij": "BRI (both partners)", "entry": "P(trade > 0)", "trade": "trade",
           "exp_year": "Exporter-year", "imp_year": "Importer-year", "pair": "Pair",
           "year": "Year"}
tab_bri = etable(bri.fits, labels=LABELS3,
                 model_names=["Entry LPM, all", "Flows PPML, all", "Entry LPM, CHN",
                              "Flows PPML, CHN"])
tab_bri
"""),
    code("""
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
for ax, rows, title in ((axes[0], [0, 2], "Entry (LPM): effect on P(X > 0)"),
                        (axes[1], [1, 3], "Flows (PPML): effect on ln E[X]")):
    t = bri.table.iloc[rows]
    ax.errorbar(np.arange(2), t["estimate"], yerr=[t["estimate"] - t["conf_low"],
                t["conf_high"] - t["estimate"]], fmt="o", capsize=4, label="estimate, 95% CI")
    ax.scatter(np.arange(2), [param_bri[r] for r in rows], marker="x", s=80, color="C3",
               zorder=3, label="model parameter (ATT on P for the LPM)")
    ax.scatter(np.arange(2) + 0.08, [pt_bri[r] for r in rows], marker="+", s=80,
               color="C2", zorder=3, label="pseudo-true")
    ax.set_xticks(np.arange(2), ["all pairs", "CHN exports"])
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_title(title, fontsize=10)
axes[0].legend(fontsize=8)
fig.suptitle("SIMULATED DATA: bri_hypothesis estimates and true values")
fig.tight_layout()
display(fig)
plt.close(fig)
"""),
    md("""
### Event study and pre-trend test: `bri_event_study`

Leads and lags of the first year a pair is `bri_ij = 1` (window -4..4, ends binned,
`t = -1` omitted, never-treated pairs as controls), same fixed effects; the pre-trend
test is a joint Wald test on the leads. In the simulation there is no anticipation:
the true flow effect is 0 before signature and `bri_flow` from `t = 0` on.

For the entry LPM the benchmark is its pseudo-true path (the same event-study regression
on the true `P(X > 0)`). Non-zero pseudo-true leads would mean that the pre-trend test
can reject in this world through functional form alone, without any anticipation.
"""),
    code("""
WINDOW = (-4, 4)
ev_entry = bri_event_study(panel, outcome="entry", window=WINDOW)
ev_flows = bri_event_study(panel, outcome="flows", window=WINDOW)

# the pseudo-true LPM event path: the dummies built as bri_event_study documents
d = panel.copy()
first = d.loc[d["bri_ij"] == 1].groupby("pair")["year"].min()
rel = np.clip(d["year"].to_numpy() - d["pair"].map(first).to_numpy(dtype=float), *WINDOW)
for k in range(WINDOW[0], WINDOW[1] + 1):
    if k != -1:
        d[f"ev_m{-k}" if k < 0 else f"ev_p{k}"] = np.where(np.isfinite(rel) & (rel == k), 1.0, 0.0)
terms = list(ev_entry.table["term"])
pt_entry = pseudo_true(gv.ols, f"p_entry ~ {' + '.join(terms)} | exp_year + imp_year + pair", d)

ev_tab = pd.concat({
    "entry (LPM)": ev_entry.table.set_index("event_time")[["estimate", "std_error"]]
    .assign(pseudo_true=ev_entry.table.set_index("event_time")["term"].map(pt_entry)),
    "flows (PPML)": ev_flows.table.set_index("event_time")[["estimate", "std_error"]]
    .assign(true=[0.0 if k < -1 else params.bri_flow for k in ev_flows.table["event_time"]]),
}, axis=1)
with pd.option_context("display.float_format", "{:.4f}".format):
    display(ev_tab)
pre = pd.DataFrame({name: ev.stats for name, ev in (("entry (LPM)", ev_entry),
                                                     ("flows (PPML)", ev_flows))}).T
display(Markdown("**Pre-trend test** (joint Wald on the leads `t = -4..-2`):"))
with pd.option_context("display.float_format", "{:.4f}".format):
    display(pre)
"""),
    code("""
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
for ax, ev, truth_path, lab in (
        (axes[0], ev_entry, ev_tab[("entry (LPM)", "pseudo_true")], "pseudo-true (LPM on true P)"),
        (axes[1], ev_flows, ev_tab[("flows (PPML)", "true")], "true effect")):
    gv.reporting.event_study_plot(ev.table.rename(columns={"event_time": "period"}), ax=ax,
                                  title=f"{ev.name}: pre-trend p = {ev.stats['pretrend_p']:.3f}")
    truth_path = pd.concat([truth_path, pd.Series({-1: 0.0})]).sort_index()  # reference
    ax.plot(truth_path.index, truth_path.to_numpy(), "x--", color="C3", label=lab)
    ax.legend(fontsize=7)
fig.suptitle("SIMULATED DATA: BRI event study (window ends binned)")
fig.tight_layout()
display(fig)
plt.close(fig)
"""),
    md("""
### Decomposition into extensive and intensive margins: `decompose_margins`

`E[X] = P(X > 0) E[X | X > 0]`: the total effect (PPML, all flows), the intensive effect
(PPML on positive flows), the extensive effect implied by the difference (log points) and
the extensive effect on the probability (LPM). The true column is the *pseudo-true*
value of each estimator: the same specification run on the simulation's expected outcome
(`E[X]`, `E[X | X > 0]`, `P(X > 0)`). For the total effect it equals `bri_flow` up to
the finite sample.
"""),
    code("""
dec = decompose_margins(panel)
FE3 = "exp_year + imp_year + pair"
pos = panel.loc[panel["trade"] > 0]
pt_total = pseudo_true(gv.ppml, f"mu ~ bri_ij | {FE3}", panel)["bri_ij"]
pt_int = pseudo_true(gv.ppml, f"mu_pos ~ bri_ij | {FE3}", pos)["bri_ij"]
pt_ext = pseudo_true(gv.ols, f"p_entry ~ bri_ij | {FE3}", panel)["bri_ij"]
dec_table = with_truth(dec.table, [pt_total, pt_int, pt_ext, pt_total - pt_int],
                       label="pseudo-true", parameter=[params.bri_flow, np.nan,
                                                       truth.bri_entry_att(panel), np.nan])
with pd.option_context("display.float_format", "{:.4f}".format):
    display(dec_table)
print(f"share of the total effect (log points) on the extensive margin: "
      f"{dec.stats['extensive_implied'] / dec.table['estimate'].iloc[0]:.1%} estimated, "
      f"{(pt_total - pt_int) / pt_total:.1%} pseudo-true")
"""),
    code("""
ax = dec.plot()
ax.figure.set_size_inches(9, 3.6)
ax.set_title("SIMULATED DATA: " + dec.name, fontsize=10)
display(ax.figure)
plt.close(ax.figure)
"""),
    md("""
**Reading the simulated results.** With the true effects known, the PPML flow effect
recovers `bri_flow`; the LPM entry effect is measured in probability points and should be
compared with the average treatment effect on `P(X > 0)`; the decomposition attributes
part of the total effect to the extensive margin. The tables state, row by row, whether
the 95% interval covers the true (or pseudo-true) value -- one world, one draw: coverage
over many worlds is checked in `benchmarks/margins_montecarlo.py`.
"""),
    md("""
## 2. REAL DATA: China's exports by destination, 2014-2025 (mirror data)

`gravity.sources.read_china_mirror` reads partners' reported imports from China (UN
Comtrade, CIF). BRI partners are those in force in each year in the package's BRI table
(`gravity.margins.bri_partners(year)`, which reconciles the two public lists in
`shared/data/bri/`). A destination counts only if it reports to Comtrade, so the number
of destinations is a lower bound that moves with reporting coverage; 2024-2025 are
incomplete and flagged.

**This section is descriptive, not causal.** Most signatures are in 2013-2019, and the
data start in 2014: there are almost no pre-signature years, there is one exporter (no
exporter-year effects), and mirror data have no recorded zeros (a partner that does not
import from China is indistinguishable from one that does not report).
"""),
    code("""
from gravity.margins import bri_partners, diversification
from gravity.sources import read_china_mirror

mirror_path = find_shared("data", "china_exports", "china_exports_by_partner_mirror_2014_2025.csv")
if mirror_path is None:
    flows = None
    display(Markdown("**REAL DATA ABSENT:** `shared/data/china_exports/` was not found beside "
                     "the working directory, so the real-data section is skipped. The "
                     "simulated section above is complete on its own."))
else:
    flows = read_china_mirror(mirror_path)
    in_force = {y: bri_partners(int(y)) for y in flows["year"].unique()}
    flows["bri_d"] = [imp in in_force[y] for imp, y in
                      zip(flows["importer"], flows["year"], strict=True)]
    ever = sorted(bri_partners())
    div = diversification(flows, k=5, groups={"bri_in_force": "bri_d", "bri_ever": ever})
    div = div.reset_index()
    active = flows[flows["trade"] > 0]
    div["n_bri_destinations"] = div["year"].map(active.groupby("year")["bri_d"].sum())
    div["n_bri_partners_in_force"] = [len(in_force[y]) for y in div["year"]]
    reporters = flows.groupby("year")["importer"].nunique()
    div["complete"] = div["year"].map(reporters >= 0.9 * reporters.loc[2014:2023].median())
    real = div[["year", "n_destinations", "n_bri_destinations", "n_bri_partners_in_force",
                "share_bri_in_force", "share_bri_ever", "top5_share", "complete"]]
    with pd.option_context("display.float_format", "{:.3f}".format):
        display(real.set_index("year"))
"""),
    code("""
if flows is not None:
    show = real[real["complete"]]
    fig = gv.reporting.diversification_plot(
        show, indicators=["n_destinations", "n_bri_destinations", "share_bri_in_force",
                          "share_bri_ever"],
        percent=("share_bri_in_force", "share_bri_ever"),
        labels={"n_destinations": "Destinations (reporting partners)",
                "n_bri_destinations": "of which BRI partners (in force)",
                "share_bri_in_force": "Share to BRI partners in force (%)",
                "share_bri_ever": "Share to eventual BRI partners (%)"},
        title="REAL DATA (UN Comtrade mirror): China's exports and BRI partners, complete years",
        figsize=(13, 3.4))
    display(fig)
    plt.close(fig)
"""),
    md("""
### A descriptive comparison: exports to early, later and non-signatories

Destinations are grouped by the year they joined BRI (package table): *2013-2014*,
*2015-2019*, *2020 or later*, and *never*. To keep reporting coverage from driving the
comparison, only destinations that report imports from China in **every** complete year
are kept (a balanced set), and exports are indexed to 2014 = 100. This is a difference
in growth between groups, **not** an estimate of the effect of BRI: the groups differ in
size, income, region and commodity exposure, and signature is not random.
"""),
    code("""
if flows is not None:
    from gravity.sources import load_bri

    join = load_bri().set_index("iso3")["year"]
    years_ok = sorted(show["year"])
    bal = flows[flows["year"].isin(years_ok) & (flows["trade"] > 0)]
    keep = bal.groupby("importer")["year"].nunique()
    bal = bal[bal["importer"].isin(keep[keep == len(years_ok)].index)].copy()
    jy = bal["importer"].map(join)
    bal["group"] = np.select([jy <= 2014, jy <= 2019, jy.notna()],
                             ["joined 2013-2014", "joined 2015-2019", "joined 2020+"],
                             default="never joined")
    by = bal.pivot_table(index="year", columns="group", values="trade", aggfunc="sum")
    index = 100 * by / by.iloc[0]
    counts = bal.groupby("group")["importer"].nunique().rename("destinations (balanced)")
    growth = (np.log(by.loc[2019] / by.loc[2014]) / 5).rename("mean log growth 2014-2019")
    growth_all = (np.log(by.iloc[-1] / by.iloc[0]) / (by.index[-1] - by.index[0]))
    summary = pd.concat([counts, (by.loc[2014] / 1e9).rename("exports 2014, USD bn"),
                         growth, growth_all.rename(f"mean log growth 2014-{by.index[-1]}")],
                        axis=1)
    display(Markdown("**DESCRIPTIVE, not causal** -- China's exports by BRI group "
                     "(balanced set of reporting destinations):"))
    with pd.option_context("display.float_format", "{:.3f}".format):
        display(summary)
        display(index.round(1))
    fig, ax = plt.subplots(figsize=(7, 3.8))
    index.plot(ax=ax, marker="o")
    ax.axhline(100, color="grey", lw=0.8)
    ax.set_ylabel("exports, 2014 = 100")
    ax.set_title("REAL DATA, descriptive: China's exports by destinations' BRI group")
    display(fig)
    plt.close(fig)
"""),
    md("""
## What the real data can and cannot say

* **Can:** how many reporting destinations import from China, how many of them are BRI
  partners, what share of China's exports go to them, and how exports to signatories
  grew relative to non-signatories (descriptive).
* **Cannot:** the effect of BRI on the extensive margin. That needs (i) years before the
  signatures (2013 and earlier, ideally 2005-2012) to test pre-trends, (ii) many exporters,
  so that exporter-year and importer-year fixed effects absorb multilateral resistance,
  and (iii) true zeros, so that entry into a market is observed. A user must supply a
  **BACI** (CEPII, HS6, all exporters, zeros implied by absence in a square panel) or
  **IMF DOTS** panel; `gravity.panel.build_panel` turns either into the schema used in
  section 1, and the same three calls (`bri_hypothesis`, `bri_event_study`,
  `decompose_margins`) then run unchanged.
* The BRI dates themselves are uncertain: the two public lists agree on the year for
  104 of 145 shared countries (`shared/data/README.md`), so an event study on real data
  should be repeated with each list (`gravity.sources.read_bri_list_a/_b`).

## References

* Chaney, T. (2008), "Distorted gravity: the intensive and extensive margins of
  international trade", *American Economic Review* 98(4), 1707-1721.
* Helpman, E., M. Melitz and Y. Rubinstein (2008), "Estimating trade flows: trading
  partners and trading volumes", *Quarterly Journal of Economics* 123(2), 441-487.
* Melitz, M.J. (2003), "The impact of trade on intra-industry reallocations and
  aggregate industry productivity", *Econometrica* 71(6), 1695-1725.
* Baniya, S., N. Rocha and M. Ruta (2020), "Trade effects of the New Silk Road: a
  gravity analysis", *Journal of Development Economics* 146, 102467.
"""),
]

# ------------------------------------------------------------------ notebook 4
NB4 = [
    md("""
# Finance and the pecking order of destinations

**Hypothesis.** Exporting requires paying fixed and sunk costs up front -- market research,
distribution networks, product adaptation -- and trade takes longer to finance than
domestic sales. Firms that depend on external finance therefore export more, and to more
markets, where financial institutions are better (Manova 2013, "Credit constraints,
heterogeneous firms, and international trade", *Review of Economic Studies* 80(2)). With
fixed costs rising in distance, the markets are reached in a **pecking order**: easy
(large, near) destinations first, and better-financed exporters go further down the list,
to more -- and more distant -- destinations (Manova 2013; Chaney 2016 on liquidity
constraints; Lawless 2009 and Eaton, Kortum and Kramarz 2011 on the hierarchy of markets).
Testable implications at country level:

1. the number of destinations rises with the exporter's financial development (FD);
2. FD raises the probability of serving a market more for **distant** (and small)
   markets: a positive `ln FD_o x ln dist_ij` interaction in pair entry.

**This notebook.**

1. A **SIMULATED** world with known truth (fixed costs of entering a market fall with the
   exporter's FD, more so for distant markets): the package's one-call test
   `gravity.margins.finance_hypothesis` and the decomposition of the pecking-order
   interaction into extensive and intensive margins (`decompose_margins`), next to the
   true values.
2. **Real data**: the IMF Financial Development index (Svirydzenka 2016) merged with
   China's exports by destination (mirror data) and with the CEPII Gravity slice
   (9 countries, 2015-2021) -- descriptive only, with what they cannot answer.
"""),
    code(SETUP),
    code(SIM_HELPERS),
    md("""
## 1. SIMULATED DATA: finance lowers the fixed cost of distant markets

**Everything in this section is simulated.** In `gravity.simulate`, the log fixed cost of
exporter `i` entering market `j` is
`ln f_ijt = f0 + delta (ln dist_ij - m) - phi ln FD_it - phi_d ln FD_it (ln dist_ij - m) + ...`,
so the log expected number of exporting firms `ln lambda` rises with `ln FD_it` by
`fd_entry` at the mean distance and by `fd_dist_entry` more per unit of log distance (the
pecking order). `P(X > 0) = 1 - exp(-lambda)`: a complementary log-log model on the
index scale. The FD index is simulated (correlated with size, trending upward).

True values on the scale of each estimator:

* `fd_entry`, `fd_dist_entry`: index scale (`ln lambda`); a logit approximates the
  cloglog index only roughly, so logit coefficients are compared with them loosely;
* LPM coefficients are in probability points, and the count regressions use the number
  of destinations: for these the benchmark is the **pseudo-true** value -- the same
  regression run on the simulation's expected outcome (true `P(X > 0)`, expected number
  of destinations), i.e. what the estimator converges to in this world;
* `fd_dist_flow`: the interaction in the flow equation (`ln E[X]`, PPML).
"""),
    code("""
from gravity.margins import decompose_margins, diversification, finance_hypothesis

params = SimParams()   # the package's default true values
panel, truth = simulated_world(params, seed=2013)
print(f"SIMULATED panel: {len(panel):,} rows, {panel['exporter'].nunique()} countries, "
      f"{panel['year'].min()}-{panel['year'].max()}, {(panel['trade'] == 0).mean():.1%} zeros; "
      f"FD index (simulated) from {panel['fd_o'].min():.2f} to {panel['fd_o'].max():.2f}")
display(pd.Series(truth.effects(), name="true value (simulation parameters)").to_frame())
"""),
    md("""
### One-call test: `finance_hypothesis`

(a) Number of destinations per exporter-year on `ln FD_o` with exporter and year effects
(Poisson, and OLS on `ln(1 + n)`), clustered by exporter; (b) pair entry on
`ln FD_o x (ln dist - mean)` and `ln FD_o x (ln GDP_d - mean)` with exporter-year,
importer-year and pair effects (LPM; and logit), clustered by pair.
"""),
    code("""
fin = finance_hypothesis(panel)                          # LPM for pair entry
fin_logit = finance_hypothesis(panel, entry_model="logit")

# pseudo-true values: the same regressions on the expected outcomes
d = panel.copy()
d["ln_fd_o"] = np.log(d["fd_o"])
d["fd_x_dist"] = d["ln_fd_o"] * (d["ln_dist"] - d["ln_dist"].mean())
lsize = np.log(d["gdp_d"])
d["fd_x_size"] = d["ln_fd_o"] * (lsize - lsize.mean())
agg = (d.groupby(["exporter", "year"])
       .agg(n_expected=("p_entry", "sum"), fd=("fd_o", "first")).reset_index())
agg["ln_fd"] = np.log(agg["fd"])
agg["ln1p_n"] = np.log1p(agg["n_expected"])
pt_count = pseudo_true(gv.ppml, "n_expected ~ ln_fd | exporter + year", agg)["ln_fd"]
pt_count_ols = pseudo_true(gv.ols, "ln1p_n ~ ln_fd | exporter + year", agg)["ln_fd"]
pt_peck = pseudo_true(gv.ols, "p_entry ~ fd_x_dist + fd_x_size | exp_year + imp_year + pair", d)

fin_table = with_truth(fin.table, [pt_count, pt_count_ols, pt_peck["fd_x_dist"],
                                   pt_peck["fd_x_size"]], label="pseudo-true")
with pd.option_context("display.float_format", "{:.4f}".format):
    display(fin_table)
    display(Markdown("Pair entry with a fixed-effect **logit** (`entry_model='logit'`; pairs "
                     "that always or never trade drop out). Its coefficients are on the logit "
                     "index; the simulation's index is the cloglog one (`fd_dist_entry`), and "
                     "the two interactions need not even share a sign (below)."))
    display(fin_logit.table.iloc[2:].set_index(["specification", "term"])
            [["estimate", "std_error", "conf_low", "conf_high", "p_value", "nobs"]]
            .assign(**{"cloglog index value (not the logit's estimand)":
                       [params.fd_dist_entry, 0.0]}))
"""),
    md("""
**Why the logit interaction can differ in sign.** The interaction of `ln FD_o` with
distance is defined on a scale. On the cloglog index `ln lambda` it is `fd_dist_entry`;
the logit index is `ln(exp(lambda) - 1)`, a convex function of `ln lambda`, whose
cross-derivative adds a term `g'' x (d ln lambda/d ln FD) x (d ln lambda/d ln dist)` that
is negative because `ln lambda` falls with distance (Ai and Norton 2003 make the same point
for probabilities). The LPM, read against its pseudo-true value, and the decomposition
below are the scale-consistent comparisons in this notebook.
"""),
    code("""
LABELS4 = {"ln_fd": "ln FD (exporter)", "fd_x_dist": "ln FD_o x ln dist (centred)",
           "fd_x_size": "ln FD_o x ln GDP_d (centred)", "n_destinations": "n destinations",
           "ln1p_n": "ln(1 + n)", "entry": "P(trade > 0)", "exporter": "Exporter",
           "year": "Year", "exp_year": "Exporter-year", "imp_year": "Importer-year",
           "pair": "Pair"}
tab_fin = etable({**fin.fits, "pecking_order_logit": fin_logit.fits["pecking_order"]},
                 labels=LABELS4,
                 model_names=["n dest. (Poisson)", "ln(1+n) (OLS)", "entry (LPM)",
                              "entry (logit)"])
tab_fin
"""),
    code("""
# the pecking order in the simulated data: the share of possible destinations served and
# their average distance, by FD quartile of the exporter (last simulated year)
last = panel[panel["year"] == panel["year"].max()].copy()
div = diversification(last).reset_index()
served = last[last["trade"] > 0].groupby("exporter")["dist"].median().rename("median_dist_km")
cy = last.groupby("exporter")["fd_o"].first()
by_exp = div.set_index("exporter")[["n_destinations", "n_potential"]].join(served).join(cy)
by_exp["FD quartile"] = pd.qcut(by_exp["fd_o"], 4, labels=["Q1 (low FD)", "Q2", "Q3",
                                                          "Q4 (high FD)"])
display(Markdown(f"**SIMULATED DATA**, {int(last['year'].iloc[0])}: exporters by FD quartile"))
with pd.option_context("display.float_format", "{:.2f}".format):
    display(by_exp.groupby("FD quartile", observed=True)
            [["fd_o", "n_destinations", "median_dist_km"]].mean())

fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
axes[0].scatter(by_exp["fd_o"], by_exp["n_destinations"], s=12)
axes[0].set_xscale("log")
axes[0].set_xlabel("FD index of the exporter (log scale)")
axes[0].set_ylabel("number of destinations")
ax = fin.plot(ax=axes[1])
ax.set_title("finance_hypothesis: estimates, 95% CI", fontsize=9)
fig.suptitle("SIMULATED DATA: financial development and the extensive margin")
fig.tight_layout()
display(fig)
plt.close(fig)
"""),
    md("""
### Decomposition of the pecking-order interaction: `decompose_margins`

The interaction `ln FD_o x ln dist` as the "treatment", with exporter-year, importer-year
and pair effects: total (PPML, all flows; true value `fd_dist_flow`), intensive (PPML on
positive flows), extensive implied (log points) and extensive on the probability (LPM).
In the model finance works only through *fixed* costs, so the whole interaction should
come through the number of firms and markets served; average sales per firm *fall* with
lower fixed costs (a Pareto property), which pulls the intensive margin down. Pseudo-true
values as above. The pseudo-true total differs from `fd_dist_flow` because this
one-treatment specification leaves out the other pair-year covariates of the simulation
(tariffs, BRI); with them in the regression (`mu ~ fd_x_dist + bri_ij + ln(1 + tariff/100)`)
the PPML pseudo-true value equals `fd_dist_flow` exactly.
"""),
    code("""
FE3 = "exp_year + imp_year + pair"
dec = decompose_margins(d, treatment="fd_x_dist", fixed_effects=FE3)
pos = d.loc[d["trade"] > 0]
pt_total = pseudo_true(gv.ppml, f"mu ~ fd_x_dist | {FE3}", d)["fd_x_dist"]
pt_int = pseudo_true(gv.ppml, f"mu_pos ~ fd_x_dist | {FE3}", pos)["fd_x_dist"]
pt_ext = pseudo_true(gv.ols, f"p_entry ~ fd_x_dist | {FE3}", d)["fd_x_dist"]
dec_table = with_truth(dec.table, [pt_total, pt_int, pt_ext, pt_total - pt_int],
                       label="pseudo-true",
                       parameter=[params.fd_dist_flow, np.nan, np.nan, np.nan])
with pd.option_context("display.float_format", "{:.4f}".format):
    display(dec_table)
ax = dec.plot()
ax.figure.set_size_inches(9, 3.6)
ax.set_title("SIMULATED DATA: pecking-order interaction by margin", fontsize=10)
display(ax.figure)
plt.close(ax.figure)
"""),
    md("""
## 2. REAL DATA: the IMF FD index with the trade data present

The IMF Financial Development index (`shared/data/findev/`, 1980-2018, read by
`gravity.sources.read_imf_fd`) is real. Two trade sources are beside it:

* China's exports by destination (UN Comtrade mirror, 2014-2025): **one exporter**, so
  the only FD variation is China's own index over 2014-2018 (the FD file ends in 2018);
* the CEPII Gravity slice (V202211): **9 countries** (AUS CHN EGY FRA IDN JPN SGP THA
  USA), 2015-2021, flows from BACI, so each exporter has at most 8 possible destinations
  and there are no recorded zeros.

Distances: CEPII GeoDist (`shared/data/geo/`, population-weighted `distw`, km).
**Everything below is descriptive.**
"""),
    code("""
from gravity.sources import flows_from_cepii, read_cepii_gravity, read_geodist, read_imf_fd

fd_path = find_shared("data", "findev", "imf_fd_index_1980_2018.csv")
geo_path = find_shared("data", "geo", "cepii_geodist_dist.csv.gz")
mirror_path = find_shared("data", "china_exports", "china_exports_by_partner_mirror_2014_2025.csv")
cepii_path = find_shared("data", "cepii_gravity", "Gravity_V202211_slice_9ctry_2015_2021.dta")
REAL = fd_path is not None and geo_path is not None
if not REAL:
    display(Markdown("**REAL DATA ABSENT:** `shared/data/findev/` or `shared/data/geo/` was "
                     "not found beside the working directory, so the real-data section is "
                     "skipped. The simulated section above is complete on its own."))
else:
    fdx = read_imf_fd(fd_path)[["iso3", "year", "fd", "fi", "fm"]]
    geo = read_geodist(geo_path)[["exporter", "importer", "distw", "dist"]]
    geo["distw"] = geo["distw"].fillna(geo["dist"])
    print(f"IMF FD index: {fdx['iso3'].nunique()} countries, {fdx['year'].min()}-{fdx['year'].max()}")


def destinations_profile(fl: pd.DataFrame) -> pd.DataFrame:
    # number of destinations with positive flows, and the trade-weighted and median
    # distance of the destinations served, per exporter-year
    f = fl[(fl["trade"] > 0) & (fl["exporter"] != fl["importer"])].merge(
        geo, on=["exporter", "importer"], how="left")
    g = f.groupby(["exporter", "year"])
    return pd.DataFrame({
        "n_destinations": g["importer"].nunique(),
        "weighted_dist_km": g.apply(lambda x: np.average(x["distw"].dropna(),
                                                         weights=x.loc[x["distw"].notna(),
                                                                       "trade"]),
                                    include_groups=False),
        "median_dist_km": g["distw"].median(),
        "share_without_distance": g.apply(lambda x: x.loc[x["distw"].isna(), "trade"].sum()
                                          / x["trade"].sum(), include_groups=False),
    }).reset_index()
"""),
    md("### China: its FD index and its destinations, 2014-2018 (mirror data)"),
    code("""
if REAL and mirror_path is not None:
    from gravity.sources import read_china_mirror

    chn = destinations_profile(read_china_mirror(mirror_path))
    chn = chn.merge(fdx, left_on=["exporter", "year"], right_on=["iso3", "year"])
    chn = chn.drop(columns="iso3").set_index("year")
    display(Markdown("**REAL DATA, descriptive** -- China, years covered by both files:"))
    with pd.option_context("display.float_format", "{:.3f}".format):
        display(chn)
    c = chn[["fd", "n_destinations", "weighted_dist_km"]].corr().loc["fd"]
    print(f"correlation over {len(chn)} years: FD vs n destinations {c['n_destinations']:.2f}, "
          f"FD vs weighted distance {c['weighted_dist_km']:.2f} (5 points of one country's "
          "time series: no evidence either way)")
elif REAL:
    display(Markdown("China mirror file not found: this part is skipped."))
"""),
    md("### Nine countries: the CEPII Gravity slice with the FD index, 2015-2018"),
    code("""
if REAL and cepii_path is not None:
    cep = flows_from_cepii(read_cepii_gravity(cepii_path))
    prof = destinations_profile(cep).merge(fdx, left_on=["exporter", "year"],
                                           right_on=["iso3", "year"]).drop(columns="iso3")
    means = prof.groupby("exporter")[["fd", "n_destinations", "weighted_dist_km",
                                      "median_dist_km"]].mean().sort_values("fd")
    display(Markdown(f"**REAL DATA, descriptive** -- exporter means over "
                     f"{prof['year'].min()}-{prof['year'].max()} (destinations among the "
                     "8 other countries of the slice):"))
    with pd.option_context("display.float_format", "{:.3f}".format):
        display(means)
    rho = means.corr(method="spearman").loc["fd"]
    if prof["n_destinations"].nunique() == 1:
        print(f"every exporter serves all {prof['n_destinations'].iloc[0]} other countries in "
              "every year: the extensive margin is saturated in this slice (no variation)")
    else:
        print(f"Spearman correlation, FD vs n destinations: {rho['n_destinations']:.2f}")
    print(f"Spearman correlation across {len(means)} exporters, FD vs trade-weighted "
          f"distance of exports: {rho['weighted_dist_km']:.2f} (9 points, descriptive)")

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    for ax, col, lab in ((axes[0], "n_destinations", "destinations served (of 8)"),
                         (axes[1], "weighted_dist_km", "trade-weighted distance (km)")):
        ax.scatter(means["fd"], means[col])
        for iso, row in means.iterrows():
            ax.annotate(iso, (row["fd"], row[col]), fontsize=8, xytext=(3, 3),
                        textcoords="offset points")
        ax.set_xlabel("IMF FD index (mean 2015-2018)")
        ax.set_ylabel(lab)
    fig.suptitle("REAL DATA, descriptive: FD and destinations in the 9-country CEPII slice")
    fig.tight_layout()
    display(fig)
    plt.close(fig)
elif REAL:
    display(Markdown("CEPII Gravity slice not found: this part is skipped."))
"""),
    md("""
## What the available real data cannot answer

* **The number of destinations.** In the CEPII slice every exporter sells to (nearly)
  all 8 other countries: the extensive margin is saturated, and there are no recorded
  zeros. The China file has a single exporter. Neither measures how FD moves the number
  of markets served.
* **The pecking order.** Testing `ln FD_o x ln dist` needs many exporters with different
  FD (for exporter-year effects and variation in FD), many destinations at different
  distances, and **true zeros** -- pairs that could trade but do not.
* **Timing.** The FD file ends in 2018; the trade data start in 2014-2015.

**Data a user must supply:** a square panel with zeros for many exporters, such as
**BACI** (CEPII, HS6, ~200 countries, 1995-; read by `gravity.sources.read_baci`, zeros
implied by absence once `gravity.panel.build_panel` completes the square) or **IMF DOTS**
(`gravity.sources.read_dots`), with the IMF FD index merged by exporter-year
(`build_panel(..., fd=read_imf_fd(...))`). `finance_hypothesis(panel)` then runs exactly
as in section 1. For the firm-level mechanism (credit constraints by sector's external
finance dependence, as in Manova 2013) sector-level flows (BACI HS6 mapped to ISIC) and
Rajan-Zingales dependence measures are needed as well.

## References

* Ai, C. and E.C. Norton (2003), "Interaction terms in logit and probit models",
  *Economics Letters* 80(1), 123-129.
* Chaney, T. (2016), "Liquidity constrained exporters", *Journal of Economic Dynamics
  and Control* 72, 141-154.
* Eaton, J., S. Kortum and F. Kramarz (2011), "An anatomy of international trade:
  evidence from French firms", *Econometrica* 79(5), 1453-1498.
* Lawless, M. (2009), "Firm export dynamics and the geography of trade", *Journal of
  International Economics* 77(2), 245-254.
* Manova, K. (2013), "Credit constraints, heterogeneous firms, and international trade",
  *Review of Economic Studies* 80(2), 711-744.
* Svirydzenka, K. (2016), "Introducing a new broad-based index of financial development",
  IMF Working Paper 16/5.
"""),
]


NOTEBOOKS = {
    # name: (cells, files under ../shared without which the notebook cannot run)
    "01_yotov2016_replication.ipynb": (NB1, ["data/yotov2016/agtpa_applications.csv.gz"]),
    "02_diversification.ipynb": (NB2, []),
    "03_bri_extensive_margin.ipynb": (NB3, []),
    "04_finance_pecking_order.ipynb": (NB4, []),
}
# files under ../shared that a notebook *uses when present*: without them it skips its
# real-data section with a message and still runs (simulated data)
OPTIONAL_SHARED = {
    "03_bri_extensive_margin.ipynb": [
        "data/china_exports/china_exports_by_partner_mirror_2014_2025.csv"],
    "04_finance_pecking_order.ipynb": [
        "data/findev/imf_fd_index_1980_2018.csv", "data/geo/cepii_geodist_dist.csv.gz",
        "data/china_exports/china_exports_by_partner_mirror_2014_2025.csv",
        "data/cepii_gravity/Gravity_V202211_slice_9ctry_2015_2021.dta"],
}


def build(names: list[str] | None = None) -> dict[str, float]:
    times = {}
    for fname, (cells, requires) in NOTEBOOKS.items():
        if names and not any(n in fname for n in names):
            continue
        nb = nbformat.v4.new_notebook()
        nb.cells = cells
        nb.metadata["gravity"] = {"requires_shared": requires}
        if fname in OPTIONAL_SHARED:
            nb.metadata["gravity"]["optional_shared"] = OPTIONAL_SHARED[fname]
        t0 = time.perf_counter()
        execute(nb)
        times[fname] = time.perf_counter() - t0
        nbformat.write(nb, HERE / fname)
        print(f"{fname}: executed in {times[fname]:.1f} s")
    return times


if __name__ == "__main__":
    build(sys.argv[1:] or None)
