# ---
# jupyter:
#   gravity:
#     optional_shared:
#     - data/china_exports/china_exports_by_partner_mirror_2014_2025.csv
#     - data/macro/wdi_country_metadata.csv
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
# # Export-market diversification: dispersion and evenness of China's exports
#
# The seed paper describes China's export markets with three indicators:
#
# * **dispersion** -- the number of destinations with positive exports;
# * **concentration** -- the share of the five largest destinations in total exports
#   (63.2% in 2001, 48.2% in 2010, 45.9% in 2018, from China's own customs data);
# * **emerging markets' share** -- the share of exports going to emerging markets.
#
# All indicators are computed by `gravity.margins.diversification` on a long panel
# (`exporter, importer, year, trade`: the schema `gravity.panel.build_panel` produces from
# BACI, DOTS or Comtrade). Two data sets are used:
#
# 1. **Real data**, 2014-2025: China's exports by destination as *mirror* data (partners'
#    reported imports from China, CIF, UN Comtrade), `shared/data/china_exports/`, read by
#    `gravity.sources.read_china_mirror`. Optional: without it (a clone without
#    `../shared`) the real-data section is skipped with a message.
# 2. **Simulated data** (clearly labelled below): a `gravity.simulate` world in the same
#    panel format, to show the indicators for many exporters at once when no BACI panel is
#    present.
#
# **Gap.** The 2001 and 2010 figures need China's exports by destination for those years,
# which are not in `shared/` (see `shared/data/README.md`); they are reported below as
# *not reproducible with the data present* until a user supplies a BACI or DOTS panel
# (`gravity.panel.build_panel`) covering them.

# %%
# %matplotlib inline
import nbhelpers as nbh
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

import gravity as gv
from gravity.margins import diversification, emerging_markets, emerging_regions
from gravity.simulate import simulate_world
from gravity.sources import read_china_mirror, top_partner_share

nbh.setup()

# %%
# The seed paper's top-five shares (China's customs data), as quoted in shared/data/README.md
SEED_TOP5 = {2001: 0.632, 2010: 0.482, 2018: 0.459}
# ... and its share of the "five emerging markets or regions" (ASEAN, India, Russia, Africa,
# Latin America) in China's 2018 exports
SEED_FIVE_EMERGING = {2018: 0.266}

mirror_path = nbh.find_shared(*nbh.MIRROR)
if mirror_path is None:
    flows = None
    nbh.real_data_absent("`shared/data/china_exports/`",
                         "the real-data section is skipped and only the simulated panel "
                         "below is used")
else:
    flows = read_china_mirror(mirror_path)
    print(f"{len(flows):,} flows, {flows['year'].min()}-{flows['year'].max()}, "
          f"{flows['importer'].nunique()} destinations ever reported")

# %% [markdown]
# ## Real data: China's exports by destination, 2014-2025 (mirror)
#
# Emerging markets, three ways:
#
# * the seed paper's **five emerging markets or regions** -- ASEAN, India, Russia, Africa
#   and Latin America (`gravity.margins.emerging_regions()`: ASEAN's ten members, the UN M49
#   regions for Africa and for Latin America and the Caribbean; the list and its reading of
#   the paper are in `gravity/data/emerging_regions.md`), with each region's own share;
# * the 24 markets of the MSCI Emerging Markets index
#   (`gravity.margins.emerging_markets("msci")`, June 2024 review; China itself excluded as a
#   destination);
# * as a broader alternative, every economy the World Bank classifies as low or middle
#   income (`emerging_markets("wdi")`, from the WDI country metadata).
#
# Caveats of mirror data: a destination counts only if it reports imports to UN Comtrade,
# so `n_destinations` is a lower bound and moves with reporting coverage; values are CIF.
# **2024 and 2025 are incomplete** (fewer reporters) and are flagged `complete = False` in
# the table and left out of the figure (`nbhelpers.complete_years`).

# %%
if flows is not None:
    regions = emerging_regions()
    groups = {"five_emerging": sorted(regions["five_emerging"]),
              "emerging_msci": sorted(emerging_markets("msci") - {"CHN"})}
    wdi_meta = nbh.find_shared("data", "macro", "wdi_country_metadata.csv")
    if wdi_meta is not None:
        groups["low_middle_income"] = sorted(emerging_markets("wdi", path=wdi_meta) - {"CHN"})
    div = diversification(flows, k=5, groups=groups).reset_index()
    div["complete"] = div["year"].map(nbh.complete_years(flows))
    cols = ["year", "n_destinations", "top5_share", *[f"share_{g}" for g in groups], "hhi",
            "theil", "complete"]
    real = div[cols]
    display(nbh.formatted(real, {c: "{:.2%}" for c in cols if "share" in c}
                          | {"n_destinations": "{:.0f}", "hhi": "{:.4f}", "theil": "{:.3f}"})
            .set_index("year"))
    by_region = diversification(flows, k=5, groups={k: sorted(v) for k, v in regions.items()})
    region_cols = [f"share_{r}" for r in regions]
    display(Markdown("The five emerging markets or regions, each region's share of China's "
                     "exports (complete years):"))
    display(nbh.formatted(by_region.loc["CHN", region_cols]
                          .loc[lambda t: t.index.map(nbh.complete_years(flows)).astype(bool)]
                          .reset_index(), {c: "{:.2%}" for c in region_cols}).set_index("year"))

# %%
if flows is not None:
    # cross-check with the reader's own helper and the README's fact (2018: 46.06%)
    print(f"top-5 share 2018, diversification(): {real.set_index('year').loc[2018, 'top5_share']:.2%}")
    print(f"top-5 share 2018, top_partner_share(): {top_partner_share(flows, 2018):.2%}")
    top5 = (flows[flows["year"] == 2018].nlargest(5, "trade")
            .assign(share=lambda d: d["trade"] / flows.loc[flows["year"] == 2018, "trade"].sum()))
    display(nbh.formatted(top5[["importer", "trade", "share"]],
                          {"trade": "{:,.0f}", "share": "{:.2%}"}).set_index("importer"))

# %%
if flows is not None:
    show = real[real["complete"]]
    fig = gv.reporting.diversification_plot(
        show, indicators=["n_destinations", "top5_share", "share_five_emerging",
                          "share_emerging_msci"],
        percent=("top5_share", "share_five_emerging", "share_emerging_msci"),
        units={"n_destinations": "destinations"},
        labels={"n_destinations": "Number of destinations\n(reporting partners)",
                "top5_share": "Top-five share (%)",
                "share_five_emerging": "Five emerging markets\nor regions (%)",
                "share_emerging_msci": "Emerging markets' share\n(MSCI, %)"},
        marks={"top5_share": {y: v for y, v in SEED_TOP5.items() if y >= show["year"].min()},
               "share_five_emerging": SEED_FIVE_EMERGING},
        ncols=2,
        title="China's export markets, mirror data (x: seed paper, China's own data)",
        figsize=(10, 6.4))
    nbh.show(fig)

# %% [markdown]
# ### The seed paper's figures next to ours
#
# Computed from the data present; years without data are marked as a gap rather than
# filled in. The paper's figures come from China's customs data (exports, FOB); ours from
# the partners' reported imports (CIF), and a partner counts only if it reports: for 2018
# the two sources agree on the top-five share to within 0.2 point and on the five emerging
# markets or regions to within a point (25.7% here, 26.6% in the paper).

# %%
rows = []
figures = [("top-five share", year, seed) for year, seed in SEED_TOP5.items()]
figures += [("five emerging markets or regions", year, seed)
            for year, seed in SEED_FIVE_EMERGING.items()]
five = emerging_regions()["five_emerging"]
for what, year, seed in figures:
    ours = np.nan
    if flows is not None and year in set(flows["year"]):
        if what == "top-five share":
            ours = top_partner_share(flows, year)
        else:
            ours = float(diversification(flows, groups={"five": five})
                         .loc[("CHN", year), "share_five"])
    rows.append({"indicator": what, "year": year, "seed paper (China customs)": seed,
                 "gravity (mirror data)": ours,
                 "status": "computed" if np.isfinite(ours) else
                 "GAP: China's exports by destination for this year are not in shared/"})
gap = pd.DataFrame(rows)
display(nbh.formatted(gap, {"seed paper (China customs)": "{:.1%}",
                            "gravity (mirror data)": "{:.2%}"})
        .set_index(["indicator", "year"]))

# %% [markdown]
# ## SIMULATED DATA: the indicators on a many-exporter panel
#
# **The numbers in this section are simulated, not observed.** `gravity.simulate.simulate_world`
# draws a Melitz-type world (80 countries, capital-to-capital distances, zeros when no firm
# covers the fixed cost of a market) in the panel schema of `gravity.panel.build_panel`; the
# same call to `diversification` would run on a real BACI or DOTS panel.

# %%
sim, truth = simulate_world(seed=2024, years=range(2012, 2021))
sim_div = diversification(sim, k=5, groups={"emerging_msci": emerging_markets("msci")})
sim_div = sim_div.reset_index()
print(f"SIMULATED panel: {len(sim):,} rows, {sim['exporter'].nunique()} exporters, "
      f"{(sim['trade'] == 0).mean():.1%} zeros")
summary = (sim_div.groupby("year")[["n_destinations", "top5_share", "share_emerging_msci"]]
           .median().reset_index())
display(Markdown("Median across the simulated exporters (**simulated data**):"))
display(nbh.formatted(summary, {"n_destinations": "{:.1f}", "top5_share": "{:.1%}",
                                "share_emerging_msci": "{:.1%}"}).set_index("year"))

# %%
pick = sim_div[sim_div["exporter"].isin(["CHN", "DEU", "BRA", "ZAF"])]
fig = gv.reporting.diversification_plot(
    pick, indicators=["n_destinations", "top5_share", "share_emerging_msci"],
    group="exporter", percent=("top5_share", "share_emerging_msci"),
    units={"n_destinations": "destinations"},
    labels={"n_destinations": "Number of destinations", "top5_share": "Top-five share (%)",
            "share_emerging_msci": "Emerging markets' share (%)"},
    title="SIMULATED DATA (gravity.simulate): diversification of four exporters",
    figsize=(12, 3.6))
nbh.show(fig)

# %% [markdown]
# ## References
#
# * Cadot, O., C. Carrère and V. Strauss-Kahn (2011), "Export diversification: what's
#   behind the hump?", *Review of Economics and Statistics* 93(2), 590-605.
# * Helpman, E., M. Melitz and Y. Rubinstein (2008), "Estimating trade flows: trading
#   partners and trading volumes", *Quarterly Journal of Economics* 123(2), 441-487.
