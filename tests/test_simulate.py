"""gravity.simulate: shipped capitals vs CEPII GeoDist, reproducibility, zeros driven by
fixed costs, and recovery of the true parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import shared_path

import gravity as gv
from gravity.errors import UnknownCountryError
from gravity.panel.schema import COLUMNS, validate_panel
from gravity.simulate import SimParams, capital_distances, load_capitals, simulate_world

#: GeoDist's legacy codes for two of our countries.
GEODIST_CODES = {"ROM": "ROU", "YUG": "SRB"}
#: Countries whose WDI capital point differs from GeoDist's by > 100 km (capitals.md).
KNOWN_DIFF = {"MMR", "BOL", "PAK", "NZL", "CIV", "COL", "ISR", "JOR"}


@pytest.fixture(scope="module")
def world():
    return simulate_world(seed=7)


def _prep(panel: pd.DataFrame) -> pd.DataFrame:
    d = panel.copy()
    d["ln_tariff"] = np.log1p(d["tariff"] / 100)
    d["fd_x_dist"] = np.log(d["fd_o"]) * d["ln_dist"]
    d["D"] = (d["trade"] > 0).astype(float)
    return d


def test_capitals_table_is_complete():
    cap = load_capitals()
    assert len(cap) == 80 and cap["iso3"].is_unique
    assert cap["lat"].between(-90, 90).all() and cap["lon"].between(-180, 180).all()
    assert (cap["gdp_2015_usd"] > 1e9).all()
    # a fact to check by hand: China's 2015 GDP (WDI) is about USD 11.1 trillion
    assert abs(cap.set_index("iso3").loc["CHN", "gdp_2015_usd"] / 11.06e12 - 1) < 0.02


def test_capital_distances_agree_with_geodist_distcap():
    """Great-circle distances between the shipped capitals vs CEPII GeoDist ``distcap``
    (km), over all ordered pairs of the 80 countries: relative error |d/distcap - 1|
    has median < 0.5% and 95th percentile < 5%; pairs off by more than 10% all involve
    a country whose capital point is documented as different in capitals.md."""
    g = pd.read_csv(shared_path("data", "geo", "cepii_geodist_dist.csv.gz"),
                    usecols=["iso_o", "iso_d", "distcap"])
    g["iso_o"] = g["iso_o"].replace(GEODIST_CODES)
    g["iso_d"] = g["iso_d"].replace(GEODIST_CODES)
    ours = capital_distances()
    m = ours.merge(g, left_on=["exporter", "importer"], right_on=["iso_o", "iso_d"])
    assert len(m) == len(ours) == 80 * 79
    rel = (m["dist"] / m["distcap"] - 1).abs()
    assert rel.median() < 0.005
    assert rel.quantile(0.95) < 0.05
    bad = m[rel > 0.10]
    assert len(bad) < 0.03 * len(m)
    assert (bad["exporter"].isin(KNOWN_DIFF) | bad["importer"].isin(KNOWN_DIFF)).all()
    # a hand check: Beijing-Washington is about 11,150 km
    bw = ours.set_index(["exporter", "importer"]).loc[("CHN", "USA"), "dist"]
    assert 11_000 < bw < 11_300


def test_panel_has_builder_schema(world):
    panel, truth = world
    validate_panel(panel)
    assert set(panel.columns) <= set(COLUMNS)
    assert list(panel.columns) == [c for c in COLUMNS if c in panel.columns]
    assert len(panel) == 80 * 79 * 15
    assert panel["trade"].notna().all() and (panel["trade"] >= 0).all()
    assert panel["exporter"].dtype == "string" and panel["year"].dtype == np.int64
    assert truth.latent.index.equals(panel.index)
    # BRI from the package table: China-Pakistan from 2013 (both sign in 2013 or before)
    cp = panel[(panel["exporter"] == "CHN") & (panel["importer"] == "PAK")].set_index("year")
    assert cp.loc[2012, "bri_ij"] == 0 and cp.loc[2013, "bri_ij"] == 1
    assert (panel.loc[panel["exporter"] == "USA", "bri_o"] == 0).all()


def test_seed_reproduces_the_world_bit_for_bit():
    kw = dict(countries=["CHN", "USA", "DEU", "PAK", "KEN", "BRA", "FRA"], years=range(2010, 2018))
    a, ta = simulate_world(seed=3, **kw)
    b, tb = simulate_world(seed=3, **kw)
    c, _ = simulate_world(seed=4, **kw)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    pd.testing.assert_frame_equal(ta.latent, tb.latent, check_exact=True)
    assert a["trade"].to_numpy().tobytes() == b["trade"].to_numpy().tobytes()
    assert not np.array_equal(a["trade"].to_numpy(), c["trade"].to_numpy())


def test_zeros_are_economic_and_expected_flows_are_exact(world):
    panel, truth = world
    zero = panel["trade"].to_numpy() == 0
    n_firms = truth.latent["n_firms"].to_numpy()
    assert np.array_equal(zero, n_firms == 0)  # a zero = no firm covers the fixed cost
    assert 0.15 < zero.mean() < 0.45
    # E[X] = lambda * s: realised total within 1% of the expected total
    assert abs(panel["trade"].sum() / truth.latent["mu"].sum() - 1) < 0.01
    # share of zeros close to its expectation, mean of exp(-lambda)
    assert abs(zero.mean() - (1 - truth.latent["p_entry"]).mean()) < 0.01


def test_more_zeros_for_small_distant_destinations(world):
    panel, _ = world
    d = _prep(panel)
    far = d["ln_dist"] > d["ln_dist"].quantile(0.75)
    near = d["ln_dist"] < d["ln_dist"].quantile(0.25)
    small = d["ln_gdp_d"] < d["ln_gdp_d"].quantile(0.25)
    big = d["ln_gdp_d"] > d["ln_gdp_d"].quantile(0.75)
    z = 1 - d["D"]
    assert z[far & small].mean() > 0.6 > 0.05 > z[near & big].mean()
    # LPM of a zero on distance and destination size, exporter-year FE
    d["Z"] = z
    fit = gv.ols("Z ~ ln_dist + ln_gdp_d | exp_year", d, vcov={"CRV1": "pair"})
    assert fit.params["ln_dist"] > 0.1 and fit.tvalues["ln_dist"] > 10
    assert fit.params["ln_gdp_d"] < -0.05 and fit.tvalues["ln_gdp_d"] < -10


def test_zeros_respond_to_fixed_costs():
    kw = dict(seed=11, years=range(2012, 2016))
    shares = [(simulate_world(SimParams(fixed_cost=f0), **kw)[0]["trade"] == 0).mean()
              for f0 in (-0.5, 0.0, 0.5)]
    assert shares[0] + 0.05 < shares[1] < shares[2] - 0.05
    # fixed costs fall with financial development, more for distant markets: the
    # number of destinations rises with fd, and by more when fd_entry is larger
    lo = simulate_world(SimParams(fd_entry=0.0, fd_dist_entry=0.0), **kw)[0]
    hi = simulate_world(SimParams(fd_entry=1.5, fd_dist_entry=0.0), **kw)[0]

    def slope(p):
        n = p.assign(D=p["trade"] > 0).groupby(["exporter", "year"]).agg(
            n=("D", "sum"), fd=("fd_o", "first"))
        return np.polyfit(np.log(n["fd"]), np.log(n["n"]), 1)[0]

    assert slope(hi) > slope(lo) + 0.1


def test_params_validation_and_unknown_country():
    with pytest.raises(ValueError):
        SimParams(bri_entry=0.1, bri_flow=0.3)
    with pytest.raises(ValueError):
        SimParams(tariff_elasticity=-2.0, sigma=4.0)  # theta <= sigma - 1
    with pytest.raises(UnknownCountryError):
        simulate_world(countries=["CHN", "USA", "XXX"])
    p = SimParams()
    # the primitives reproduce the effects
    assert np.isclose(-p.theta * p.rho - (p.eta - 1) * p.fixed_cost_dist, p.dist_elasticity)
    assert np.isclose(p.theta * p.b_tau + (p.eta - 1) * p.b_f, p.bri_flow)
    assert np.isclose(p.theta * p.b_tau + p.eta * p.b_f, p.bri_entry)


def test_expected_flows_follow_the_stated_gravity_equation():
    """Without pair shocks, PPML on the expected flows E[X] (no sampling noise)
    returns the true effects to 1e-3: the primitives are solved correctly."""
    p = SimParams(dist_elasticity=-1.3, tariff_elasticity=-6.0, bri_flow=0.1, bri_entry=0.7,
                  fd_dist_entry=0.5, pair_sd=0.0, sigma=3.0)
    panel, truth = simulate_world(p, seed=5, countries=load_capitals()["iso3"][:30],
                                  years=range(2010, 2020))
    d = _prep(panel)
    d["mu"] = truth.latent["mu"]
    fit = gv.ppml("mu ~ ln_dist + ln_tariff + bri_ij + fd_x_dist | exp_year + imp_year", d)
    want = {"ln_dist": -1.3, "ln_tariff": -6.0, "bri_ij": 0.1, "fd_x_dist": p.fd_dist_flow}
    np.testing.assert_allclose(fit.params[list(want)].to_numpy(), list(want.values()), atol=1e-3)
    # entry equation: ln lambda is linear in the same regressors with the entry effects
    d["ll"] = truth.latent["ln_lambda"]
    ols = gv.ols("ll ~ ln_dist + ln_tariff + bri_ij + fd_x_dist | exp_year + imp_year", d)
    want = {"ln_dist": p.dist_entry, "ln_tariff": -6.0, "bri_ij": 0.7, "fd_x_dist": 0.5}
    np.testing.assert_allclose(ols.params[list(want)].to_numpy(), list(want.values()), atol=1e-8)


@pytest.mark.slow
def test_true_parameters_are_recovered_on_a_large_draw():
    """80 countries x 20 years (126,400 rows), non-default truths. Tolerances: each
    estimate within 3 cluster-robust standard errors of the truth and within the
    stated absolute error."""
    p = SimParams(dist_elasticity=-0.8, tariff_elasticity=-5.0, bri_flow=0.25, bri_entry=0.5,
                  fd_entry=0.8, fd_dist_entry=0.4)
    panel, truth = simulate_world(p, seed=2024, years=range(2003, 2023))
    d = _prep(panel)
    f3 = gv.ppml("trade ~ ln_tariff + bri_ij + fd_x_dist | exp_year + imp_year + pair", d,
                 vcov={"CRV1": "pair"})
    for name, true, tol in (("ln_tariff", p.tariff_elasticity, 0.3), ("bri_ij", p.bri_flow, 0.03),
                            ("fd_x_dist", p.fd_dist_flow, 0.03)):
        err = f3.params[name] - true
        assert abs(err) < tol and abs(err) < 3 * f3.bse[name], (name, f3.params[name], true)
    # dist_elasticity is the distance elasticity of an exporter with ln fd = 0: the
    # coefficient of ln_dist when ln fd_o x ln dist is in the regression
    f2 = gv.ppml("trade ~ ln_dist + ln_tariff + bri_ij + fd_x_dist | exp_year + imp_year", d,
                 vcov={"CRV1": "pair"})
    # without pair FE the pair fixed-cost shocks nu_ij stay in the error (PPML weights
    # the few big pairs most), hence the wider tolerance
    err = f2.params["ln_dist"] - p.dist_elasticity
    assert abs(err) < 0.15 and abs(err) < 3.5 * f2.bse["ln_dist"]
    # extensive margin: LPM on the entry dummy vs the exact ATT on P(X > 0)
    lpm = gv.ols("D ~ bri_ij | exp_year + imp_year + pair", d, vcov={"CRV1": "pair"})
    att = truth.bri_entry_att(d)
    assert att > 0.02
    assert abs(lpm.params["bri_ij"] - att) < 0.4 * att
