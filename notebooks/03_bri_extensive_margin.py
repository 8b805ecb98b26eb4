# ---
# jupyter:
#   gravity:
#     optional_shared:
#     - data/china_exports/china_exports_by_partner_mirror_2014_2025.csv
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
# # Does BRI participation shift the extensive margin? The hypothesis tests and event study
#
# **Hypothesis.** The Belt and Road Initiative (BRI) bundles transport infrastructure
# (ports, railways, roads), trade facilitation (customs and border agreements) and
# finance (policy-bank credit, insurance). In heterogeneous-firm trade models (Melitz
# 2003; Chaney 2008; Helpman, Melitz and Rubinstein 2008) lower *variable* costs raise
# the volume of existing flows (the **intensive margin**), while lower *fixed* costs of
# reaching a market -- information, distribution, financing the entry -- let more firms
# serve it and open markets that were not served at all (the **extensive margin**). If
# BRI works mainly through fixed costs and finance, a memorandum of understanding should
# *widen the set of destination markets*: `P(X_ijt > 0)` rises when `i` and `j` both
# participate, beyond what the same agreement does to the volume of flows already there.
#
# **This notebook.**
#
# 1. A **SIMULATED** world with known true effects (`gravity.simulate.simulate_world`):
#    the package's one-call tests (`gravity.margins.bri_hypothesis`), the event study
#    with its pre-trend test (`bri_event_study`) and the decomposition into extensive
#    and intensive margins (`decompose_margins`), each estimate next to the value the
#    simulation implies. Every number is computed; none is typed in.
# 2. **Real data** (`shared/data/china_exports/`, UN Comtrade mirror data, 2014-2025):
#    China's number of destinations and the share of its exports going to BRI partners
#    over time, and a *descriptive* comparison of BRI and non-BRI destinations. The data
#    cannot identify the causal effect (no pre-2014 years, one exporter, no zeros);
#    see the last section for what it would take.

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import nbhelpers as nbh
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

import gravity as gv
from gravity.margins import (
    bri_event_study,
    bri_hypothesis,
    bri_partners,
    decompose_margins,
    diversification,
)
from gravity.reporting import etable
from gravity.simulate import SimParams
from gravity.sources import load_bri, read_china_mirror

nbh.setup()

# %% [markdown]
# ## 1. SIMULATED DATA: a world where the truth is known
#
# **Everything in this section is simulated.** `simulate_world` draws a Melitz/Chaney
# world of 80 real countries (capital-to-capital distances, GDP anchored on 2015 values),
# 2008-2020, with the *actual* BRI signature years of the package's BRI table
# (`gravity/data/bri_participants.csv`). BRI lowers both variable costs (`b_tau`) and the
# fixed cost of entering a market (`b_f`). A pair has zero trade when no firm covers the
# fixed cost (`N_ijt ~ Poisson(lambda_ijt)`), so the extensive margin is economic.
#
# True values (`truth.effects()`): `bri_flow` is the effect on `ln E[X]` (what PPML
# estimates), `bri_entry` the effect on the log expected number of exporting firms
# `ln lambda` (the extensive margin on the index scale). The LPM estimates the effect on
# the *probability* of a positive flow; its true counterpart is the average effect on
# `P(X > 0)` over the treated pairs (`truth.bri_entry_att`), computed exactly from the
# latent `lambda`.
#
# Because a linear probability model with additive fixed effects is misspecified in this
# world (`P(X > 0) = 1 - exp(-lambda)`, `lambda` log-linear), the tables also report each
# estimator's **pseudo-true** value: the same regression run on the simulation's expected
# outcome (true `P(X > 0)`, true `E[X]`), i.e. what the estimator converges to here without
# sampling noise. `covered` says whether the 95% interval contains it.

# %%
params = SimParams()   # the package's default true values
panel, truth = nbh.simulated_world(params, seed=2013)
print(f"SIMULATED panel: {len(panel):,} rows, {panel['exporter'].nunique()} countries, "
      f"{panel['year'].min()}-{panel['year'].max()}, {(panel['trade'] == 0).mean():.1%} zeros, "
      f"{panel['bri_ij'].mean():.1%} of pair-years with both partners in BRI")
display(pd.Series(truth.effects(), name="true value (simulation parameters)").to_frame())

# %% [markdown]
# ### One-call test: `bri_hypothesis`
#
# Entry (LPM, `entry = 1{trade > 0}`) and flows (PPML) on `bri_ij` with exporter-year,
# importer-year and pair fixed effects on all pairs, and for China's exports alone (year
# and pair effects). Standard errors clustered by pair.

# %%
# the LPM explicitly (the helpers' default is now a bias-corrected cloglog reported as
# average partial effects): this notebook reads the LPM against its pseudo-true value
bri = bri_hypothesis(panel, exporter="CHN", entry_model="lpm")
chn = (panel["exporter"] == "CHN").to_numpy()
lam = np.exp(truth.latent["ln_lambda"].to_numpy())
att = np.exp(-lam * np.exp(-params.bri_entry)) - np.exp(-lam)   # effect on P(X > 0), by row
treated = panel["bri_ij"].to_numpy() == 1
param_bri = [truth.bri_entry_att(panel), params.bri_flow,
             float(att[chn & treated].mean()), params.bri_flow]
FE3 = "exp_year + imp_year + pair"
pt_bri = [nbh.pseudo_true(gv.ols, f"p_entry ~ bri_ij | {FE3}", panel)["bri_ij"],
          nbh.pseudo_true(gv.ppml, f"mu ~ bri_ij | {FE3}", panel)["bri_ij"],
          nbh.pseudo_true(gv.ols, "p_entry ~ bri_ij | year + pair", panel[chn])["bri_ij"],
          nbh.pseudo_true(gv.ppml, "mu ~ bri_ij | year + pair", panel[chn])["bri_ij"]]
bri_table = nbh.with_truth(bri.table, pt_bri, label="pseudo-true", parameter=param_bri)
with pd.option_context("display.float_format", "{:.4f}".format):
    display(bri_table)

# %%
LABELS3 = {"bri_ij": "BRI (both partners)", "entry": "P(trade > 0)", "trade": "trade",
           "exp_year": "Exporter-year", "imp_year": "Importer-year", "pair": "Pair",
           "year": "Year"}
tab_bri = etable(bri.fits, labels=LABELS3,
                 model_names=["Entry LPM, all", "Flows PPML, all", "Entry LPM, CHN",
                              "Flows PPML, CHN"])
display(tab_bri)

# %%
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
nbh.show(fig)

# %% [markdown]
# ### Event study and pre-trend test: `bri_event_study`
#
# Leads and lags of the first year a pair is `bri_ij = 1` (window -4..4, ends binned,
# `t = -1` omitted, never-treated pairs as controls), same fixed effects; the pre-trend
# test is a joint Wald test on the leads. In the simulation there is no anticipation:
# the true flow effect is 0 before signature and `bri_flow` from `t = 0` on.
#
# For the entry LPM the benchmark is its pseudo-true path (the same event-study regression
# on the true `P(X > 0)`). Non-zero pseudo-true leads would mean that the pre-trend test
# can reject in this world through functional form alone, without any anticipation.

# %%
WINDOW = (-4, 4)
ev_entry = bri_event_study(panel, outcome="entry", window=WINDOW, entry_model="lpm")
ev_flows = bri_event_study(panel, outcome="flows", window=WINDOW)

# the pseudo-true LPM event path: the dummies built as bri_event_study documents
d = nbh.event_time_dummies(panel, WINDOW)
terms = list(ev_entry.table["term"])
pt_entry = nbh.pseudo_true(gv.ols, f"p_entry ~ {' + '.join(terms)} | {FE3}", d)

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

# %%
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
nbh.show(fig)

# %% [markdown]
# ### Decomposition into extensive and intensive margins: `decompose_margins`
#
# `E[X] = P(X > 0) E[X | X > 0]`: the total effect (PPML, all flows), the intensive effect
# (PPML on positive flows), the extensive effect implied by the difference (log points) and
# the extensive effect on the probability (LPM). The true column is the *pseudo-true*
# value of each estimator: the same specification run on the simulation's expected outcome
# (`E[X]`, `E[X | X > 0]`, `P(X > 0)`). For the total effect it equals `bri_flow` up to
# the finite sample.

# %%
dec = decompose_margins(panel, entry_model="lpm")
FE3 = "exp_year + imp_year + pair"
pos = panel.loc[panel["trade"] > 0]
pt_total = nbh.pseudo_true(gv.ppml, f"mu ~ bri_ij | {FE3}", panel)["bri_ij"]
pt_int = nbh.pseudo_true(gv.ppml, f"mu_pos ~ bri_ij | {FE3}", pos)["bri_ij"]
pt_ext = nbh.pseudo_true(gv.ols, f"p_entry ~ bri_ij | {FE3}", panel)["bri_ij"]
dec_table = nbh.with_truth(dec.table, [pt_total, pt_int, pt_ext, pt_total - pt_int],
                           label="pseudo-true", parameter=[params.bri_flow, np.nan,
                                                           truth.bri_entry_att(panel), np.nan])
with pd.option_context("display.float_format", "{:.4f}".format):
    display(dec_table)
print(f"share of the total effect (log points) on the extensive margin: "
      f"{dec.stats['extensive_implied'] / dec.table['estimate'].iloc[0]:.1%} estimated, "
      f"{(pt_total - pt_int) / pt_total:.1%} pseudo-true")

# %%
# log-point effects and the probability effect on separate axes, each with its unit
fig = gv.reporting.estimates_by_scale(
    dec.table, scales={"implied": "log points", "PPML": "log points", "LPM": "probability (0-1)"},
    title="SIMULATED DATA: " + dec.name, figsize=(9, 3.8))
nbh.show(fig)

# %% [markdown]
# **Reading the simulated results.** With the true effects known, the PPML flow effect
# recovers `bri_flow`; the LPM entry effect is measured in probability points and should be
# compared with the average treatment effect on `P(X > 0)`; the decomposition attributes
# part of the total effect to the extensive margin. The tables state, row by row, whether
# the 95% interval covers the true (or pseudo-true) value -- one world, one draw: coverage
# over many worlds is checked in `benchmarks/margins_montecarlo.py`.

# %% [markdown]
# ## 2. REAL DATA: China's exports by destination, 2014-2025 (mirror data)
#
# `gravity.sources.read_china_mirror` reads partners' reported imports from China (UN
# Comtrade, CIF). BRI partners are those in force in each year in the package's BRI table
# (`gravity.margins.bri_partners(year)`, which reconciles the two public lists in
# `shared/data/bri/`). A destination counts only if it reports to Comtrade, so the number
# of destinations is a lower bound that moves with reporting coverage; 2024-2025 are
# incomplete and flagged.
#
# **This section is descriptive, not causal.** Most signatures are in 2013-2019, and the
# data start in 2014: there are almost no pre-signature years, there is one exporter (no
# exporter-year effects), and mirror data have no recorded zeros (a partner that does not
# import from China is indistinguishable from one that does not report).

# %%
mirror_path = nbh.find_shared(*nbh.MIRROR)
if mirror_path is None:
    flows = None
    nbh.real_data_absent("`shared/data/china_exports/`",
                         "the real-data section is skipped (the simulated section above is "
                         "complete on its own)")
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
    div["complete"] = div["year"].map(nbh.complete_years(flows))
    real = div[["year", "n_destinations", "n_bri_destinations", "n_bri_partners_in_force",
                "share_bri_in_force", "share_bri_ever", "top5_share", "complete"]]
    with pd.option_context("display.float_format", "{:.3f}".format):
        display(real.set_index("year"))

# %%
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
    nbh.show(fig)

# %% [markdown]
# ### A descriptive comparison: exports to early, later and non-signatories
#
# Destinations are grouped by the year they joined BRI (package table): *2013-2014*,
# *2015-2019*, *2020 or later*, and *never*. To keep reporting coverage from driving the
# comparison, only destinations that report imports from China in **every** complete year
# are kept (a balanced set), and exports are indexed to 2014 = 100. This is a difference
# in growth between groups, **not** an estimate of the effect of BRI: the groups differ in
# size, income, region and commodity exposure, and signature is not random.

# %%
if flows is not None:
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
    nbh.show(fig)

# %% [markdown]
# ## What the real data can and cannot say
#
# * **Can:** how many reporting destinations import from China, how many of them are BRI
#   partners, what share of China's exports go to them, and how exports to signatories
#   grew relative to non-signatories (descriptive).
# * **Cannot:** the effect of BRI on the extensive margin. That needs (i) years before the
#   signatures (2013 and earlier, ideally 2005-2012) to test pre-trends, (ii) many exporters,
#   so that exporter-year and importer-year fixed effects absorb multilateral resistance,
#   and (iii) true zeros, so that entry into a market is observed. A user must supply a
#   **BACI** (CEPII, HS6, all exporters, zeros implied by absence in a square panel) or
#   **IMF DOTS** panel; `gravity.panel.build_panel` turns either into the schema used in
#   section 1, and the same three calls (`bri_hypothesis`, `bri_event_study`,
#   `decompose_margins`) then run unchanged.
# * The BRI dates themselves are uncertain: the two public lists agree on the year for
#   104 of 145 shared countries (`shared/data/README.md`), so an event study on real data
#   should be repeated with each list (`gravity.sources.read_bri_list_a/_b`).
#
# ## References
#
# * Chaney, T. (2008), "Distorted gravity: the intensive and extensive margins of
#   international trade", *American Economic Review* 98(4), 1707-1721.
# * Helpman, E., M. Melitz and Y. Rubinstein (2008), "Estimating trade flows: trading
#   partners and trading volumes", *Quarterly Journal of Economics* 123(2), 441-487.
# * Melitz, M.J. (2003), "The impact of trade on intra-industry reallocations and
#   aggregate industry productivity", *Econometrica* 71(6), 1695-1725.
# * Baniya, S., N. Rocha and M. Ruta (2020), "Trade effects of the New Silk Road: a
#   gravity analysis", *Journal of Development Economics* 146, 102467.
