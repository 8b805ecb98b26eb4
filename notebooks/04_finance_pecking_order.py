# ---
# jupyter:
#   gravity:
#     optional_shared:
#     - data/findev/imf_fd_index_1980_2018.csv
#     - data/geo/cepii_geodist_dist.csv.gz
#     - data/china_exports/china_exports_by_partner_mirror_2014_2025.csv
#     - data/cepii_gravity/Gravity_V202211_slice_9ctry_2015_2021.dta
#     requires_shared: []
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
# # Finance and the pecking order of destinations
#
# **Hypothesis.** Exporting requires paying fixed and sunk costs up front -- market research,
# distribution networks, product adaptation -- and trade takes longer to finance than
# domestic sales. Firms that depend on external finance therefore export more, and to more
# markets, where financial institutions are better (Manova 2013, "Credit constraints,
# heterogeneous firms, and international trade", *Review of Economic Studies* 80(2)). With
# fixed costs rising in distance, the markets are reached in a **pecking order**: easy
# (large, near) destinations first, and better-financed exporters go further down the list,
# to more -- and more distant -- destinations (Manova 2013; Chaney 2016 on liquidity
# constraints; Lawless 2009 and Eaton, Kortum and Kramarz 2011 on the hierarchy of markets).
# Testable implications at country level:
#
# 1. the number of destinations rises with the exporter's financial development (FD);
# 2. FD raises the probability of serving a market more for **distant** (and small)
#    markets: a positive `ln FD_o x ln dist_ij` interaction in pair entry.
#
# **This notebook.**
#
# 1. A **SIMULATED** world with known truth (fixed costs of entering a market fall with the
#    exporter's FD, more so for distant markets): the package's one-call test
#    `gravity.margins.finance_hypothesis` and the decomposition of the pecking-order
#    interaction into extensive and intensive margins (`decompose_margins`), next to the
#    true values.
# 2. **Real data**: the IMF Financial Development index (Svirydzenka 2016) merged with
#    China's exports by destination (mirror data) and with the CEPII Gravity slice
#    (9 countries, 2015-2021) -- descriptive only, with what they cannot answer.

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import matplotlib.ticker
import nbhelpers as nbh
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

import gravity as gv
from gravity.margins import decompose_margins, diversification, finance_hypothesis
from gravity.reporting import etable
from gravity.simulate import SimParams
from gravity.sources import (
    flows_from_cepii,
    read_cepii_gravity,
    read_china_mirror,
    read_geodist,
    read_imf_fd,
)

nbh.setup()

# %% [markdown]
# ## 1. SIMULATED DATA: finance lowers the fixed cost of distant markets
#
# **Everything in this section is simulated.** In `gravity.simulate`, the log fixed cost of
# exporter `i` entering market `j` is
# `ln f_ijt = f0 + delta (ln dist_ij - m) - phi ln FD_it - phi_d ln FD_it (ln dist_ij - m) + ...`,
# so the log expected number of exporting firms `ln lambda` rises with `ln FD_it` by
# `fd_entry` at the mean distance and by `fd_dist_entry` more per unit of log distance (the
# pecking order). `P(X > 0) = 1 - exp(-lambda)`: a complementary log-log model on the
# index scale. The FD index is simulated (correlated with size, trending upward).
#
# True values on the scale of each estimator:
#
# * `fd_entry`, `fd_dist_entry`: index scale (`ln lambda`); a logit approximates the
#   cloglog index only roughly, so logit coefficients are compared with them loosely;
# * LPM coefficients are in probability points, and the count regressions use the number
#   of destinations: for these the benchmark is the **pseudo-true** value -- the same
#   regression run on the simulation's expected outcome (true `P(X > 0)`, expected number
#   of destinations), i.e. what the estimator converges to in this world;
# * `fd_dist_flow`: the interaction in the flow equation (`ln E[X]`, PPML).

# %%
params = SimParams()   # the package's default true values
panel, truth = nbh.simulated_world(params, seed=2013)
print(f"SIMULATED panel: {len(panel):,} rows, {panel['exporter'].nunique()} countries, "
      f"{panel['year'].min()}-{panel['year'].max()}, {(panel['trade'] == 0).mean():.1%} zeros; "
      f"FD index (simulated) from {panel['fd_o'].min():.2f} to {panel['fd_o'].max():.2f}")
display(pd.Series(truth.effects(), name="true value (simulation parameters)").to_frame())

# %% [markdown]
# ### One-call test: `finance_hypothesis`
#
# (a) Number of destinations per exporter-year on `ln FD_o` with exporter and year effects
# (Poisson, and OLS on `ln(1 + n)`), clustered by exporter; (b) pair entry on
# `ln FD_o x (ln dist - mean)` and `ln FD_o x (ln GDP_d - mean)` with exporter-year,
# importer-year and pair effects (LPM; and logit), clustered by pair.

# %%
fin = finance_hypothesis(panel, entry_model="lpm")      # LPM for pair entry
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
pt_count = nbh.pseudo_true(gv.ppml, "n_expected ~ ln_fd | exporter + year", agg)["ln_fd"]
pt_count_ols = nbh.pseudo_true(gv.ols, "ln1p_n ~ ln_fd | exporter + year", agg)["ln_fd"]
pt_peck = nbh.pseudo_true(gv.ols, "p_entry ~ fd_x_dist + fd_x_size | exp_year + imp_year + pair", d)

fin_table = nbh.with_truth(fin.table, [pt_count, pt_count_ols, pt_peck["fd_x_dist"],
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

# %% [markdown]
# **Why the logit interaction can differ in sign.** The interaction of `ln FD_o` with
# distance is defined on a scale. On the cloglog index `ln lambda` it is `fd_dist_entry`;
# the logit index is `ln(exp(lambda) - 1)`, a convex function of `ln lambda`, whose
# cross-derivative adds a term `g'' x (d ln lambda/d ln FD) x (d ln lambda/d ln dist)` that
# is negative because `ln lambda` falls with distance (Ai and Norton 2003 make the same point
# for probabilities). The LPM, read against its pseudo-true value, and the decomposition
# below are the scale-consistent comparisons in this notebook.

# %%
LABELS4 = {"ln_fd": "ln FD (exporter)", "fd_x_dist": "ln FD_o x ln dist (centred)",
           "fd_x_size": "ln FD_o x ln GDP_d (centred)", "n_destinations": "n destinations",
           "ln1p_n": "ln(1 + n)", "entry": "P(trade > 0)", "exporter": "Exporter",
           "year": "Year", "exp_year": "Exporter-year", "imp_year": "Importer-year",
           "pair": "Pair"}
tab_fin = etable({**fin.fits, "pecking_order_logit": fin_logit.fits["pecking_order"]},
                 labels=LABELS4,
                 model_names=["n dest. (Poisson)", "ln(1+n) (OLS)", "entry (LPM)",
                              "entry (logit)"])
display(tab_fin)

# %%
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

fig, ax = plt.subplots(figsize=(6, 3.6), layout="constrained")
ax.scatter(by_exp["fd_o"], by_exp["n_destinations"], s=12)
ax.set_xscale("log")
ax.set_xticks([0.1, 0.2, 0.3, 0.5, 0.8], ["0.1", "0.2", "0.3", "0.5", "0.8"])
ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
ax.set_xlabel("FD index of the exporter (0-1, log scale)")
ax.set_ylabel("number of destinations")
ax.set_title("SIMULATED DATA: financial development and the extensive margin", fontsize=10)
nbh.show(fig)

# the count and log-count effects (log points per unit of ln FD) and the pecking-order
# effects on the entry probability, each on its own axis
fig = gv.reporting.estimates_by_scale(
    fin.table, scales={"Poisson": "log points per unit of ln FD",
                       "OLS": "log points per unit of ln FD",
                       "lpm": "probability (0-1) per unit of the interaction"},
    title="SIMULATED DATA: finance_hypothesis estimates, 95% CI", figsize=(9, 3.6))
nbh.show(fig)

# %% [markdown]
# ### Decomposition of the pecking-order interaction: `decompose_margins`
#
# The interaction `ln FD_o x ln dist` as the "treatment", with exporter-year, importer-year
# and pair effects: total (PPML, all flows; true value `fd_dist_flow`), intensive (PPML on
# positive flows), extensive implied (log points) and extensive on the probability (LPM).
# In the model finance works only through *fixed* costs, so the whole interaction should
# come through the number of firms and markets served; average sales per firm *fall* with
# lower fixed costs (a Pareto property), which pulls the intensive margin down. Pseudo-true
# values as above. The pseudo-true total differs from `fd_dist_flow` because this
# one-treatment specification leaves out the other pair-year covariates of the simulation
# (tariffs, BRI); with them in the regression (`mu ~ fd_x_dist + bri_ij + ln(1 + tariff/100)`)
# the PPML pseudo-true value equals `fd_dist_flow` exactly.

# %%
FE3 = "exp_year + imp_year + pair"
dec = decompose_margins(d, treatment="fd_x_dist", fixed_effects=FE3, entry_model="lpm")
pos = d.loc[d["trade"] > 0]
pt_total = nbh.pseudo_true(gv.ppml, f"mu ~ fd_x_dist | {FE3}", d)["fd_x_dist"]
pt_int = nbh.pseudo_true(gv.ppml, f"mu_pos ~ fd_x_dist | {FE3}", pos)["fd_x_dist"]
pt_ext = nbh.pseudo_true(gv.ols, f"p_entry ~ fd_x_dist | {FE3}", d)["fd_x_dist"]
dec_table = nbh.with_truth(dec.table, [pt_total, pt_int, pt_ext, pt_total - pt_int],
                           label="pseudo-true",
                           parameter=[params.fd_dist_flow, np.nan, np.nan, np.nan])
with pd.option_context("display.float_format", "{:.4f}".format):
    display(dec_table)
fig = gv.reporting.estimates_by_scale(
    dec.table, scales={"implied": "log points", "PPML": "log points", "LPM": "probability (0-1)"},
    title="SIMULATED DATA: pecking-order interaction by margin", figsize=(9, 3.8))
nbh.show(fig)

# %% [markdown]
# ## 2. REAL DATA: the IMF FD index with the trade data present
#
# The IMF Financial Development index (`shared/data/findev/`, 1980-2018, read by
# `gravity.sources.read_imf_fd`) is real. Two trade sources are beside it:
#
# * China's exports by destination (UN Comtrade mirror, 2014-2025): **one exporter**, so
#   the only FD variation is China's own index over 2014-2018 (the FD file ends in 2018);
# * the CEPII Gravity slice (V202211): **9 countries** (AUS CHN EGY FRA IDN JPN SGP THA
#   USA), 2015-2021, flows from BACI, so each exporter has at most 8 possible destinations
#   and there are no recorded zeros.
#
# Distances: CEPII GeoDist (`shared/data/geo/`, population-weighted `distw`, km).
# **Everything below is descriptive.**

# %%
fd_path = nbh.find_shared("data", "findev", "imf_fd_index_1980_2018.csv")
geo_path = nbh.find_shared("data", "geo", "cepii_geodist_dist.csv.gz")
mirror_path = nbh.find_shared(*nbh.MIRROR)
cepii_path = nbh.find_shared("data", "cepii_gravity", "Gravity_V202211_slice_9ctry_2015_2021.dta")
REAL = fd_path is not None and geo_path is not None
if not REAL:
    nbh.real_data_absent("`shared/data/findev/` or `shared/data/geo/`",
                         "the real-data section is skipped (the simulated section above is "
                         "complete on its own)")
else:
    fdx = read_imf_fd(fd_path)[["iso3", "year", "fd", "fi", "fm"]]
    geo = read_geodist(geo_path)[["exporter", "importer", "distw", "dist"]]
    geo["distw"] = geo["distw"].fillna(geo["dist"])
    print(f"IMF FD index: {fdx['iso3'].nunique()} countries, {fdx['year'].min()}-{fdx['year'].max()}")

# %% [markdown]
# ### China: its FD index and its destinations, 2014-2018 (mirror data)

# %%
if REAL and mirror_path is not None:
    chn = nbh.destinations_profile(read_china_mirror(mirror_path), geo)
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

# %% [markdown]
# ### Nine countries: the CEPII Gravity slice with the FD index, 2015-2018

# %%
if REAL and cepii_path is not None:
    cep = flows_from_cepii(read_cepii_gravity(cepii_path))
    prof = nbh.destinations_profile(cep, geo).merge(fdx, left_on=["exporter", "year"],
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

    # a saturated margin (every exporter serves all 8) has nothing to plot: one panel
    cols = [("weighted_dist_km", "trade-weighted distance of exports (km)")]
    if prof["n_destinations"].nunique() > 1:
        cols.insert(0, ("n_destinations", "destinations served (of 8)"))
    fig, axes = plt.subplots(1, len(cols), figsize=(5.5 * len(cols), 3.8), squeeze=False,
                             layout="constrained")
    for ax, (col, lab) in zip(axes.ravel(), cols, strict=True):
        ax.scatter(means["fd"], means[col])
        gv.reporting.label_points(ax, means["fd"].to_numpy(), means[col].to_numpy(),
                                  list(means.index))
        ax.set_xlabel("IMF FD index (0-1, mean 2015-2018)")
        ax.set_ylabel(lab)
    fig.suptitle("REAL DATA, descriptive: FD and destinations in the 9-country CEPII slice")
    nbh.show(fig)
elif REAL:
    display(Markdown("CEPII Gravity slice not found: this part is skipped."))

# %% [markdown]
# ## What the available real data cannot answer
#
# * **The number of destinations.** In the CEPII slice every exporter sells to (nearly)
#   all 8 other countries: the extensive margin is saturated, and there are no recorded
#   zeros. The China file has a single exporter. Neither measures how FD moves the number
#   of markets served.
# * **The pecking order.** Testing `ln FD_o x ln dist` needs many exporters with different
#   FD (for exporter-year effects and variation in FD), many destinations at different
#   distances, and **true zeros** -- pairs that could trade but do not.
# * **Timing.** The FD file ends in 2018; the trade data start in 2014-2015.
#
# **Data a user must supply:** a square panel with zeros for many exporters, such as
# **BACI** (CEPII, HS6, ~200 countries, 1995-; read by `gravity.sources.read_baci`, zeros
# implied by absence once `gravity.panel.build_panel` completes the square) or **IMF DOTS**
# (`gravity.sources.read_dots`), with the IMF FD index merged by exporter-year
# (`build_panel(..., fd=read_imf_fd(...))`). `finance_hypothesis(panel)` then runs exactly
# as in section 1. For the firm-level mechanism (credit constraints by sector's external
# finance dependence, as in Manova 2013) sector-level flows (BACI HS6 mapped to ISIC) and
# Rajan-Zingales dependence measures are needed as well.
#
# ## References
#
# * Ai, C. and E.C. Norton (2003), "Interaction terms in logit and probit models",
#   *Economics Letters* 80(1), 123-129.
# * Chaney, T. (2016), "Liquidity constrained exporters", *Journal of Economic Dynamics
#   and Control* 72, 141-154.
# * Eaton, J., S. Kortum and F. Kramarz (2011), "An anatomy of international trade:
#   evidence from French firms", *Econometrica* 79(5), 1453-1498.
# * Lawless, M. (2009), "Firm export dynamics and the geography of trade", *Journal of
#   International Economics* 77(2), 245-254.
# * Manova, K. (2013), "Credit constraints, heterogeneous firms, and international trade",
#   *Review of Economic Studies* 80(2), 711-744.
# * Svirydzenka, K. (2016), "Introducing a new broad-based index of financial development",
#   IMF Working Paper 16/5.
