# ---
# jupyter:
#   gravity:
#     optional_shared:
#     - reference/yotov2016_fixest.csv
#     - reference/yotov2016.md
#     requires_shared:
#     - data/yotov2016/agtpa_applications.csv.gz
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: gravity
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Replicating Yotov et al. (2016): traditional gravity and the distance puzzle
#
# Yotov, Piermartini, Monteiro and Larch (2016), *An Advanced Guide to Trade Policy
# Analysis: The Structural Gravity Model*, WTO/UNCTAD, chapter 1: application 1 (Table 1:
# OLS, OLS with remoteness, OLS with exporter-year and importer-year fixed effects, PPML)
# and application 2 (the "distance puzzle": year-specific distance elasticities).
#
# Every table below is produced by `gravity.etable` or computed from fitted models; the
# published numbers are read from `shared/reference/yotov2016_fixest.csv` (R fixest 0.12.2,
# whose coefficients agree with the book's printed Table 1) and
# `shared/reference/yotov2016.md`, never typed in.
#
# **Data (required).** This notebook reads `shared/data/yotov2016/agtpa_applications.csv.gz`
# beside the working directory (`../shared` seen from `notebooks/`) and stops with a
# `FileNotFoundError` naming that path when it is absent; it never downloads. Its metadata
# declares the file (`"gravity": {"requires_shared": [...]}`), so the test suite skips it,
# with that message, on a clone without `../shared`. To get the file elsewhere,
# `gravity.datasets.load_yotov2016()` downloads it (SHA-256 checked). The reference files
# are optional: without them the comparisons are skipped.
#
# Standard errors are clustered by country pair with fixest's default small-sample
# correction (`se_default`); `fit.with_vcov(ssc="glm")` gives the cluster-only convention
# (`se_cluster_only`) of Stata's `glm`/the book's R code.

# %%
# %matplotlib inline
import nbhelpers as nbh
import numpy as np
import pandas as pd
from IPython.display import display

import gravity as gv
from gravity.datasets import load_yotov2016, yotov2016_application_data
from gravity.reporting import etable

nbh.setup()

# %%
path = nbh.require_shared("data", "yotov2016", "agtpa_applications.csv.gz")
print("data:", path)
data = yotov2016_application_data(load_yotov2016(path, download=False))
positive = data[(data["intl"] == 1) & (data["trade"] > 0)].reset_index(drop=True)
international = data[data["intl"] == 1].reset_index(drop=True)
print(f"{len(data):,} rows (6 years), {len(international):,} international, "
      f"{len(positive):,} with positive trade")

# %% [markdown]
# ## Table 1: traditional gravity estimates

# %%
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
tab1 = etable(table1, labels=LABELS, drop=[r"^\(Intercept\)$"])
display(tab1)

# %% [markdown]
# ### Our estimates next to the published ones
#
# Differences are computed, not asserted: coefficients agree to about `1e-9` and clustered
# standard errors to about `1e-8` (relative). The test suite
# (`tests/test_yotov_reference.py`) checks the same numbers at the tolerances stated in the
# reference (coefficients `1e-6`, standard errors `1e-5` relative).
# `nbhelpers.compare_with_reference` builds the table.

# %%
ref_path = nbh.find_shared("reference", "yotov2016_fixest.csv")
if ref_path is None:
    print("shared/reference/yotov2016_fixest.csv not found: comparison skipped")
    reference = None
else:
    reference = pd.read_csv(ref_path)
    cmp1 = nbh.compare_with_reference(table1, reference)
    with pd.option_context("display.float_format", "{:.6f}".format):
        display(cmp1.drop(columns="max rel. diff"))
    print(f"largest relative difference: {cmp1['max rel. diff'].max():.2e}")

# %%
fig = gv.reporting.coefplot({k: table1[k] for k in ("OLS", "FIXED_EFFECTS", "PPML")},
                            terms=["ln_DIST", "cntg", "lang", "clny"], labels=LABELS,
                            title="Table 1: gravity covariates, 95% CI (clustered by pair)",
                            figsize=(7, 4))
nbh.show(fig)

# %% [markdown]
# ## The distance puzzle
#
# Year-specific distance elasticities, with exporter-year and importer-year fixed effects:
# OLS on positive flows, PPML with zeros, and PPML with intra-national flows (and an
# intra-national distance term), which resolves the puzzle: the elasticity falls over time.

# %%
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
display(tab2)

# %%
if reference is not None:
    cmp2 = nbh.compare_with_reference(puzzle, reference)
    with pd.option_context("display.float_format", "{:.6f}".format):
        display(cmp2.loc[(slice(None), [f"ln_DIST_{y}" for y in YEARS]), :]
                .drop(columns="max rel. diff"))
    print(f"largest relative difference: {cmp2['max rel. diff'].max():.2e}")

# %%
published = None
if reference is not None:
    r = reference.set_index(["model", "variable"])["coef"]
    published = {f"{m} (published)": {y: r[(m, f"ln_DIST_{y}")] for y in YEARS}
                 for m in ("PUZZLE_OLS", "PUZZLE_PPML_INTRA")}
fig = gv.reporting.distance_elasticity_plot(
    puzzle, YEARS, reference=published, figsize=(8, 4.5),
    title="Distance elasticity by year, 95% CI")
nbh.show(fig)

# %% [markdown]
# ### Percentage change of the distance elasticity, 1986 to 2006 (delta method)
#
# `100 * (b_2006 - b_1986) / b_1986` with its delta-method standard error, under both
# standard-error conventions, next to the reference values parsed from
# `shared/reference/yotov2016.md` (`nbhelpers.read_published_delta`; empty columns when the
# file is absent).

# %%
published_delta = nbh.read_published_delta(nbh.find_shared("reference", "yotov2016.md"))


def pct_change(b):
    return 100 * (b["ln_DIST_2006"] - b["ln_DIST_1986"]) / b["ln_DIST_1986"]


rows = []
for name, fit in puzzle.items():
    d1, d2 = fit.delta_method(pct_change), fit.with_vcov(ssc="glm").delta_method(pct_change)
    pub = published_delta.get(name, (np.nan,) * 4)
    rows.append({"model": name, "change %": d1.estimate[0], "se": d1.se[0], "p": d1.pvalue[0],
                 "se (glm)": d2.se[0], "change % (published)": pub[0], "se (published)": pub[1],
                 "se glm (published)": pub[3]})
delta = pd.DataFrame(rows).set_index("model")
with pd.option_context("display.float_format", "{:.6f}".format):
    display(delta)

# %% [markdown]
# ## Exporting the tables
#
# `etable(...).to_latex()` gives a booktabs `tabular` (needs `\usepackage{booktabs}`);
# `.to_markdown()` and `.to_html()` give the other formats; `.to_frame()` a DataFrame.

# %%
print(tab1.to_latex(caption="Traditional gravity estimates (Yotov et al. 2016, Table 1)",
                    label="tab:yotov1"))

# %% [markdown]
# ## References
#
# * Yotov, Y.V., R. Piermartini, J.-A. Monteiro and M. Larch (2016), *An Advanced Guide to
#   Trade Policy Analysis: The Structural Gravity Model*, WTO and UNCTAD.
# * Santos Silva, J.M.C. and S. Tenreyro (2006), "The log of gravity", *Review of Economics
#   and Statistics* 88(4), 641-658.
# * Correia, S., P. Guimarães and T. Zylkin (2020), "Fast Poisson estimation with
#   high-dimensional fixed effects", *Stata Journal* 20(1), 95-115.
