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

NOTEBOOKS = {
    # name: (cells, files under ../shared without which the notebook cannot run)
    "01_yotov2016_replication.ipynb": (NB1, ["data/yotov2016/agtpa_applications.csv.gz"]),
    "02_diversification.ipynb": (NB2, []),
}


def build(names: list[str] | None = None) -> dict[str, float]:
    times = {}
    for fname, (cells, requires) in NOTEBOOKS.items():
        if names and not any(n in fname for n in names):
            continue
        nb = nbformat.v4.new_notebook()
        nb.cells = cells
        nb.metadata["gravity"] = {"requires_shared": requires}
        t0 = time.perf_counter()
        execute(nb)
        times[fname] = time.perf_counter() - t0
        nbformat.write(nb, HERE / fname)
        print(f"{fname}: executed in {times[fname]:.1f} s")
    return times


if __name__ == "__main__":
    build(sys.argv[1:] or None)
