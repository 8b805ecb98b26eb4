"""Hypothesis-test wrappers on a small DGP with known BRI effects."""

import matplotlib
import numpy as np
import pandas as pd
import pytest

import gravity
from gravity.errors import GravityWarning, MissingColumnError
from gravity.estimation import average_partial_effects
from gravity.margins import bri_event_study, bri_hypothesis, decompose_margins, finance_hypothesis
from gravity.margins.hypotheses import ENTRY_APE_LEVERAGE

matplotlib.use("Agg")


def _world(seed=0, c=12, years=range(2010, 2020), bri_flow=0.3, bri_entry=0.8):
    rng = np.random.default_rng(seed)
    iso = ["CHN"] + [f"C{k:02d}" for k in range(1, c)]
    e, m, y = np.meshgrid(np.arange(c), np.arange(c), np.array(list(years)), indexing="ij")
    keep = e != m
    e, m, y = e[keep], m[keep], y[keep]
    sign = np.where(rng.random(c) < 0.6, rng.integers(2013, 2018, c), 9999)
    sign[0] = 2013
    bri = ((sign[e] <= y) & (sign[m] <= y)).astype(np.int8)
    ln_dist = rng.uniform(6, 9, (c, c))[e, m]
    fd = rng.uniform(0.1, 0.9, (c, len(list(years))))[e, y - min(years)]
    gdp = np.exp(rng.normal(25, 1, (c, len(list(years)))))[m, y - min(years)]
    ex = rng.normal(0, 0.5, (c, 20))[e, y - 2010]
    im = rng.normal(0, 0.5, (c, 20))[m, y - 2010]
    pr = rng.normal(0, 0.5, (c, c))[e, m]
    lin = 1.0 + ex + im + pr - 0.5 * (ln_dist - 7.5)
    p_entry = 1 / (1 + np.exp(-(lin + bri_entry * bri)))
    active = rng.random(e.size) < p_entry
    mu = np.exp(2.0 + ex + im + pr - (ln_dist - 7.5) + bri_flow * bri)
    trade = np.where(active, rng.gamma(2.0, mu / 2.0), 0.0)
    ex_iso, im_iso = np.array(iso)[e], np.array(iso)[m]
    return pd.DataFrame({
        "exporter": ex_iso, "importer": im_iso, "year": y, "trade": trade, "bri_ij": bri,
        "ln_dist": ln_dist, "fd_o": fd, "gdp_d": gdp,
        "exp_year": pd.Series(ex_iso) + "_" + y.astype(str),
        "imp_year": pd.Series(im_iso) + "_" + y.astype(str),
        "pair": pd.Series(ex_iso) + "_" + pd.Series(im_iso)})


def test_bri_hypothesis_table_and_reference():
    p = _world()
    h = bri_hypothesis(p, exporter="CHN")
    assert list(h.table.columns) == ["specification", "term", "estimate", "std_error",
                                     "p_value", "conf_low", "conf_high", "nobs",
                                     "fixed_effects", "clustering"]
    assert len(h.table) == 4
    # the PPML row is exactly the package's ppml on the same specification
    ref = gravity.ppml("trade ~ bri_ij | exp_year + imp_year + pair", p, vcov={"CRV1": "pair"})
    row = h.table.iloc[1]
    assert row["estimate"] == pytest.approx(ref.params["bri_ij"], rel=1e-10)
    assert row["std_error"] == pytest.approx(ref.bse["bri_ij"], rel=1e-10)
    # flows = entry x intensive: the total effect exceeds the intensive 0.3; entry > 0
    assert row["estimate"] > 0.3 and h.table.iloc[0]["estimate"] > 0
    assert h.table.iloc[2]["fixed_effects"] == "year + pair"
    h.plot()


def test_event_study_pretrend_by_hand():
    p = _world(seed=1)
    with pytest.warns(GravityWarning, match="functional-form bias"):
        es = bri_event_study(p, window=(-3, 3), entry_model="lpm")
    res = es.fits["event"]
    pre = ["ev_m3", "ev_m2"]
    b = res.params[pre].to_numpy()
    V = res.vcov.loc[pre, pre].to_numpy()
    assert es.stats["pretrend_chi2"] == pytest.approx(b @ np.linalg.inv(V) @ b, rel=1e-10)
    # the default: bias-corrected cloglog, the test on its average partial effects with
    # the leverage-corrected pair-clustered variance
    ed = bri_event_study(p, window=(-3, 3))
    ape = average_partial_effects(ed.fits["event"], leverage=ENTRY_APE_LEVERAGE)
    assert ed.fits["event"].bias_corrected and ed.fits["event"].model == "cloglog"
    b, V = ape.loc[pre, "estimate"].to_numpy(), ape.attrs["vcov"].loc[pre, pre].to_numpy()
    assert ed.stats["pretrend_chi2"] == pytest.approx(b @ np.linalg.inv(V) @ b, rel=1e-10)
    assert es.stats["pretrend_df"] == 2
    assert sorted(es.table["event_time"]) == [-3, -2, 0, 1, 2, 3]
    # dummies: each treated pair-year in exactly one bin (or the omitted t = -1)
    es.plot(x="event_time")


def test_finance_and_decomposition_run_and_agree():
    p = _world(seed=2)
    f = finance_hypothesis(p)
    assert set(f.table["term"]) == {"ln_fd", "fd_x_dist", "fd_x_size"}
    d = decompose_margins(p)
    t = d.table.set_index("specification")["estimate"]
    # the intensive margin (PPML on positive flows) recovers the true 0.3
    intensive = d.table.iloc[1]
    assert abs(intensive["estimate"] - 0.3) < 3 * intensive["std_error"]
    assert d.stats["extensive_implied"] == pytest.approx(
        t.iloc[0] - t.iloc[1], rel=1e-12)
    with pytest.raises(MissingColumnError):
        finance_hypothesis(p.drop(columns="fd_o"))


def test_one_exporter_entry_not_identified_is_a_nan_row_with_a_warning():
    """The twelve largest economies always trade with each other: China's own entry
    equation has no pair with both entry and BRI variation once the always-trading pairs
    are separated. The all-pairs rows and China's flows are still estimated; China's
    entry row is NaN with a GravityWarning that names the separation, not an exception."""
    import warnings as _w

    import gravity as gv
    from gravity.errors import GravityWarning

    largest = gv.simulate.load_capitals().nlargest(12, "gdp_2015_usd")["iso3"]
    panel, _ = gv.simulate.simulate_world(seed=1, countries=list(largest),
                                          years=range(2008, 2021))
    with _w.catch_warnings(record=True) as caught:
        _w.simplefilter("always")
        res = gv.margins.bri_hypothesis(panel)
    tab = res.table.set_index("specification")
    row = tab.loc[[s for s in tab.index if s.endswith("CHN exports (not identified)")]]
    assert len(row) == 1 and row["estimate"].isna().all()
    assert tab.loc[[s for s in tab.index if "all pairs" in s], "estimate"].notna().all()
    assert tab.loc["flows (PPML), CHN exports", "estimate"] == tab.loc[
        "flows (PPML), CHN exports", "estimate"]  # finite
    msgs = [str(w.message) for w in caught if issubclass(w.category, GravityWarning)]
    assert any("not identified" in m and "separation" in m for m in msgs), msgs
