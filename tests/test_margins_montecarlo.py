"""Small version of ``benchmarks/margins_montecarlo.py`` (issue 6): the BRI and finance
hypothesis tests on simulated worlds whose true effects are known.

Settings: 20 countries, 2008-2020, 8 worlds per check (the benchmark: 40 countries,
50 worlds for coverage, 100 null worlds for size; results in
``benchmarks/results/margins_montecarlo.md``). The bands are loose but fail for a
broken estimator or broken inference: an estimator biased by more than about
1.5 standard deviations of the mean misses the mean band, and standard errors off by
a factor of two move the mean |t| out of ``[0.45, 1.3]`` (its value is 0.80 for
correct normal tests).
"""

import warnings

import numpy as np
import pytest

from gravity import ppml
from gravity.margins import bri_hypothesis, finance_hypothesis
from gravity.simulate import SimParams, add_structural_covariates, simulate_world
from gravity.simulate.world import load_capitals

YEARS = range(2008, 2021)
CONTROLS = ["ln_tariff", "fd_x_dist_c"]
NULL = SimParams(bri_flow=0.0, bri_entry=0.0, fd_entry=0.0, fd_dist_entry=0.0)


def _world(seed, params, countries=20):
    iso = list(load_capitals()["iso3"][:countries])
    if "CHN" not in iso:
        iso[-1] = "CHN"
    panel, truth = simulate_world(params, seed=seed, countries=iso, years=YEARS)
    return add_structural_covariates(panel, truth), truth


def _flows(panel):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = bri_hypothesis(panel, exporter=None, controls=CONTROLS).table
    return t.loc[t["specification"].str.startswith("flows")].iloc[0]


def test_ppml_with_the_pair_year_controls_targets_bri_flow_exactly():
    """On the exact expected flows, PPML with exporter-year, importer-year and pair
    effects plus ln tariff and ln fd_o x ln dist is the world's own gravity equation:
    it returns ``bri_flow``. Without the tariff the target moves (the preferential
    tariff cuts of this world happen to overlap with BRI pairs)."""
    panel, truth = _world(5000, NULL)
    panel["mu"] = truth.latent["mu"].to_numpy()
    fe = "exp_year + imp_year + pair"
    b = ppml(f"mu ~ bri_ij + ln_tariff + fd_x_dist_c | {fe}", panel).params["bri_ij"]
    assert b == pytest.approx(0.0, abs=1e-8)
    b0 = ppml(f"mu ~ bri_ij | {fe}", panel).params["bri_ij"]
    assert abs(b0) > 0.02
    panel, truth = _world(1000, SimParams())
    panel["mu"] = truth.latent["mu"].to_numpy()
    b = ppml(f"mu ~ bri_ij + ln_tariff + fd_x_dist_c | {fe}", panel).params["bri_ij"]
    assert b == pytest.approx(truth.params.bri_flow, abs=1e-8)


def test_bri_flows_coverage_small_monte_carlo():
    """8 worlds: true 0.20 inside the 95% interval at least 6 times; mean estimate within
    0.04 of 0.20 (sd of one estimate about 0.03, so of the mean about 0.01)."""
    est, cover = [], 0
    for r in range(8):
        panel, truth = _world(1000 + r, SimParams())
        row = _flows(panel)
        est.append(row["estimate"])
        cover += row["conf_low"] <= truth.params.bri_flow <= row["conf_high"]
    assert cover >= 6, (cover, est)
    assert abs(np.mean(est) - 0.20) < 0.04, est


def test_size_small_monte_carlo():
    """8 worlds with every BRI and finance effect zero: BRI flows (PPML) and the number
    of destinations (Poisson, exporter + year effects, ln gdp_o and its square): mean |t| in
    [0.45, 1.3] and at most 2 of 8 rejections at 5%."""
    t_flows, t_count = [], []
    for r in range(8):
        panel, _ = _world(5000 + r, NULL)
        row = _flows(panel)
        t_flows.append(row["estimate"] / row["std_error"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f = finance_hypothesis(panel, controls=["ln_tariff"],  # count rows only:
                                   count_controls=["ln_gdp_o", "ln_gdp_o_sq"],  # cheap LPM
                                   entry_model="lpm").table
        c = f.loc[f["term"] == "ln_fd"].iloc[0]
        t_count.append(c["estimate"] / c["std_error"])
    for t in (np.abs(t_flows), np.abs(t_count)):
        assert 0.45 <= t.mean() <= 1.3, t
        assert (t > 1.96).sum() <= 2, t


def test_bias_corrected_cloglog_entry_small_monte_carlo():
    """BRI entry on ln lambda (the cloglog is the world's exact entry equation), with the
    network bias correction, 40 countries, 6 worlds: true 0.40 inside the 95% interval
    at least 5 times, mean estimate within 0.10 of 0.40 (sd of one estimate about 0.15;
    the uncorrected mean over 50 worlds is 0.52)."""
    est, cover = [], 0
    for r in range(6):
        panel, truth = _world(1000 + r, SimParams(), countries=40)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = bri_hypothesis(panel, exporter=None, controls=CONTROLS,
                               entry_model="cloglog", bias_correction="network").table
        row = t.iloc[0]
        est.append(row["estimate"])
        cover += row["conf_low"] <= truth.params.bri_entry <= row["conf_high"]
    assert cover >= 5, (cover, est)
    assert abs(np.mean(est) - 0.40) < 0.10, est
