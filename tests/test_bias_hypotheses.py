"""The hypothesis helpers' default entry model (issue 15): a bias-corrected cloglog
reported as bias-corrected average partial effects on P(X > 0); the LPM stays
available with a warning; the implied extensive effect of ``decompose_margins`` has a
standard error. Size and coverage in simulated worlds: ``benchmarks/margins_montecarlo.py
--defaults`` (``benchmarks/results/margins_montecarlo.md``)."""

from __future__ import annotations

import numpy as np
import pytest
from test_margins_hypotheses import _world

from gravity.errors import GravityWarning
from gravity.estimation import average_partial_effects, cloglog, ppml
from gravity.margins import bri_hypothesis, decompose_margins
from gravity.margins.hypotheses import ENTRY_APE_LEVERAGE, _difference_se


@pytest.fixture(scope="module")
def panel():
    return _world(seed=3, c=10)


def test_default_entry_row_is_the_corrected_ape(panel):
    h = bri_hypothesis(panel, exporter=None)
    row = h.table.iloc[0]
    assert "cloglog, bias-corrected APE on P(X > 0)" in row["specification"]
    d = panel.assign(entry=(panel["trade"] > 0).astype(float))
    fit = cloglog("entry ~ bri_ij | exp_year + imp_year + pair", d, vcov={"CRV1": "pair"},
                  bias_correction="network")
    ape = average_partial_effects(fit, leverage=ENTRY_APE_LEVERAGE).loc["bri_ij"]
    assert row["estimate"] == pytest.approx(ape["estimate"], rel=1e-9)
    assert row["std_error"] == pytest.approx(ape["std_error"], rel=1e-9)
    # the pair-clustered SE with each pair's scores inflated by its leverage: above the
    # first-order SE, and the table says so
    assert row["std_error"] > average_partial_effects(fit).loc["bri_ij", "std_error"]
    assert f"leverage-corrected ({ENTRY_APE_LEVERAGE}" in row["clustering"]
    assert 0.0 < row["estimate"] < 1.0  # a change in probability (true logit effect 0.8)
    # an explicit model keeps its coefficient; the LPM warns of its bias
    hc = bri_hypothesis(panel, exporter=None, entry_model="cloglog",
                        bias_correction="network")
    assert hc.table.iloc[0]["estimate"] == pytest.approx(fit.params["bri_ij"], rel=1e-9)
    with pytest.warns(GravityWarning, match="13%"):
        bri_hypothesis(panel, exporter=None, entry_model="lpm")


def test_implied_extensive_effect_has_a_standard_error(panel):
    dm = decompose_margins(panel)
    implied = dm.table.iloc[3]
    se_t, se_i = dm.table.iloc[0]["std_error"], dm.table.iloc[1]["std_error"]
    assert np.isfinite(implied["std_error"]) and implied["std_error"] > 0
    assert abs(se_t - se_i) <= implied["std_error"] <= se_t + se_i
    assert dm.stats["extensive_implied_se"] == implied["std_error"]
    # the same fit twice: the difference has exactly zero variance
    tot = dm.fits["total"]
    d = panel.assign(entry=(panel["trade"] > 0).astype(float))
    assert _difference_se(tot, tot, d["pair"], d["pair"], "bri_ij") == pytest.approx(
        0.0, abs=1e-9 * se_t)
    # disjoint clusters: no covariance, the variances add
    half = panel["pair"].isin(panel["pair"].unique()[::2])
    a = ppml("trade ~ bri_ij | exp_year + imp_year + pair", panel[half], vcov={"CRV1": "pair"})
    b = ppml("trade ~ bri_ij | exp_year + imp_year + pair", panel[~half],
             vcov={"CRV1": "pair"})
    se = _difference_se(a, b, panel.loc[half, "pair"], panel.loc[~half, "pair"], "bri_ij")
    assert se == pytest.approx(np.hypot(a.bse["bri_ij"], b.bse["bri_ij"]), rel=1e-12)


def test_default_entry_tests_keep_their_size_small_montecarlo():
    """8 simulated null worlds (20 countries, 2010-2020; every BRI and finance effect
    zero): the default entry rows (bias-corrected cloglog APEs, leverage-corrected SE)
    have mean |t| in [0.2, 1.3] and at most 2 rejections at 5%, where the LPM's
    functional-form bias shows (the full tables, 200 and more worlds:
    ``benchmarks/results/margins_montecarlo.md``). At 20 countries the default SE is
    conservative, 60-80% above the spread of the estimate (two-sided leverage
    correction; ``margins_montecarlo.md``), so mean |t| is about 0.45 rather than the
    0.8 of a standard normal (8 worlds: SD of the mean about 0.15); an SE four times
    the spread (mean |t| about 0.2) or 40% below it (about 1.33) falls outside."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from margins_montecarlo import replicate_defaults

    from gravity.simulate import SimParams

    null = SimParams(bri_flow=0.0, bri_entry=0.0, fd_entry=0.0, fd_dist_entry=0.0)
    rows = [r for s in range(8) for r in replicate_defaults(5000 + s, null, 20,
                                                              range(2010, 2021))]
    import pandas as pd

    t = pd.DataFrame(rows)
    t["abs_t"] = (t["estimate"] / t["std_error"]).abs()
    for hyp in ("BRI entry (default: cloglog APE)",
                "pecking order fd x dist (default: cloglog APE)"):
        g = t.loc[t["hypothesis"] == hyp]
        assert len(g) == 8
        assert 0.2 <= g["abs_t"].mean() <= 1.3, g["abs_t"].to_numpy()
        assert g["reject0"].sum() <= 2
