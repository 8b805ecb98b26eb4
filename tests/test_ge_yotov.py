"""Yotov et al. (2016), chapter 2, through gravity.ge: the book's published results
for all 69 countries (``shared/reference/yotov2016_ch2_published.csv``) reproduced by
the GEPPML solver, and the exact solver's residuals, speed and gap to the book."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from conftest import shared_path

import gravity as gv
from gravity import ge

YEARS = (1986, 1990, 1994, 1998, 2002, 2006)
NAFTA = ["CAN", "MEX", "USA"]


@pytest.fixture(scope="module")
def raw():
    from gravity.datasets import load_yotov2016

    path = shared_path("data", "yotov2016", "agtpa_applications.csv.gz")
    df = load_yotov2016(path, download=False)
    df["ln_DIST"] = np.log(df["dist"])
    return df


@pytest.fixture(scope="module")
def published():
    p = pd.read_csv(shared_path("reference", "yotov2016_ch2_published.csv"))
    return {a: g.pivot(index="country", columns="variable", values="value")
            for a, g in p.groupby("application")}


@pytest.fixture(scope="module")
def app1(raw):
    d = raw[raw["year"] == 2006].copy()
    d["INTL_BRDR"] = (d["exporter"] != d["importer"]).astype(float)
    fit = gv.ppml("trade ~ ln_DIST + cntg + INTL_BRDR | exporter + importer", d,
                  vcov={"CRV1": "pair_id"}, tol=1e-12)
    base = ge.Baseline.from_fit(fit, d, reference="DEU", sigma=7)
    change = {"INTL_BRDR": 0.0}
    return fit, base, change, ge.counterfactual(base, change, solver="geppml")


def _no_nafta(f: pd.DataFrame) -> pd.DataFrame:
    inside = f["exporter"].isin(NAFTA) & f["importer"].isin(NAFTA) \
        & (f["exporter"] != f["importer"])
    return f.assign(rta=np.where(inside, 0, f["rta"]))


@pytest.fixture(scope="module")
def app2(raw):
    d = raw[raw["year"].isin(YEARS)].reset_index(drop=True)
    d["exp_year"] = d["exporter"] + d["year"].astype(str)
    d["imp_year"] = d["importer"] + d["year"].astype(str)
    d["pair"] = np.where(d["exporter"] == d["importer"], "domestic", d["pair_id"].astype(str))
    fit = gv.ppml("trade ~ rta | exp_year + imp_year + pair", d, vcov={"CRV1": "pair_id"},
                  tol=1e-10)
    costs = ge.pair_cost_index(fit, d, pair="pair", domestic="domestic", year=1994,
                               fill="ln_DIST + cntg + lang + clny", cluster="pair_id")
    base = ge.Baseline.from_fit(fit, costs.data, reference="DEU", sigma=7,
                                fixed_ln_t="pair_ln_t")
    return fit, costs, base, ge.counterfactual(base, _no_nafta, solver="geppml")


def test_coefficients_to_printed_decimals(app1, app2):
    p1 = app1[0].params
    assert round(p1["ln_DIST"], 7) == -0.7912879
    assert round(p1["cntg"], 7) == 0.6736456
    assert round(p1["INTL_BRDR"], 5) == -2.47445
    assert round(app2[0].params["rta"], 7) == 0.5571853
    # the book's standard errors: Stata's ppml robust, N/(N-1) (HC0 times N/(N-1))
    for fit, printed in ((app1[0], {"ln_DIST": 0.0501494, "cntg": 0.1073719,
                                    "INTL_BRDR": 0.1193816}), (app2[0], {"rta": 0.055771})):
        se = fit.with_vcov("hetero", ssc="glm").bse * np.sqrt(fit.nobs / (fit.nobs - 1))
        for name, value in printed.items():
            assert se[name] == pytest.approx(value, abs=6e-7), name
    # stage 2 fills the 14 pairs that never trade (the book: pairs without a pair effect)
    assert int(app2[1].data["pair_filled"].sum()) == 14


@pytest.mark.parametrize("app, direction, iterations", [
    ("app1_trade_without_borders", "counterfactual", 5),
    ("app2_nafta_removal", "baseline", 3),
])
def test_geppml_reproduces_published_tables(app, direction, iterations, app1, app2,
                                            published):
    res = (app1 if app.startswith("app1") else app2)[-1]
    assert res.full.iterations == iterations
    ours = res.book_table(direction)
    pub = published[app].loc[ours.index]
    for col in ours.columns:
        gap = np.max(np.abs(ours[col] - pub[col]))
        assert gap < 1e-3, (col, gap)
    # headline NAFTA numbers (full GE, %), as printed
    if app.startswith("app2"):
        assert ours.loc["CAN", "change_Xi_FULL"] == pytest.approx(37.4551, abs=1e-3)
        assert ours.loc["MEX", "change_rGDP_FULL"] == pytest.approx(3.8101, abs=1e-3)
    # levels in Stata units too (the normalisation IMR_DEU = 1)
    lv = res.levels("baseline")
    np.testing.assert_allclose(lv["imr"] ** (1 - 7), pub["IMR_BLN"], rtol=1e-6)
    np.testing.assert_allclose(res.full.Y, pub["Y_FULL"], rtol=1e-6)


@pytest.mark.parametrize("which", ["app1", "app2"])
def test_exact_solver(which, app1, app2, published):
    base, change = (app1[1], app1[2]) if which == "app1" else (app2[2], _no_nafta)
    book = (app1 if which == "app1" else app2)[-1]
    t0 = time.perf_counter()
    r = ge.counterfactual(base, change)
    elapsed = time.perf_counter() - t0
    assert elapsed < 5.0
    assert r.info["full_residual"] <= 1e-10
    # the equations, recomputed here: flows, resistances, market clearing, adding-up
    T1, eq, b0 = base.counterfactual_costs(change), r.full, r.baseline
    phi = base.E / base.Y
    kappa = eq.Y.sum() / (phi * eq.Y).sum()
    resid = [
        eq.X / (eq.Y[:, None] * eq.E[None, :] * T1 / (eq.OMR[:, None] * eq.IMR[None, :])) - 1,
        (T1 * (eq.E / eq.IMR)[None, :]).sum(axis=1) / eq.OMR - 1,
        (T1 * (eq.Y / eq.OMR)[:, None]).sum(axis=0) / eq.IMR - 1,
        eq.price ** 7 / (eq.OMR / b0.OMR) - 1,
        eq.E / (kappa * phi * eq.Y) - 1,
        eq.Y / (eq.price * base.Y) - 1,
    ]
    assert max(float(np.max(np.abs(x))) for x in resid) <= 1e-10
    assert eq.IMR[base.ref] == pytest.approx(1.0, abs=1e-12)
    # another reference country: the same real effects; no change: no effect
    other = ge.counterfactual(base.with_reference("JPN"), change)
    np.testing.assert_allclose(other.changes()["real_gdp"], r.changes()["real_gdp"],
                               atol=1e-9)
    none = ge.counterfactual(base, costs=base.T)
    assert np.max(np.abs(none.tidy()["pct_change"])) < 1e-9
    # the multi-sector solver (another algorithm) with one sector: the same equilibrium
    ms = ge.multisector_counterfactual({"manufacturing": base}, {"manufacturing": change})
    assert ms.residual < 1e-10
    np.testing.assert_allclose(ms.countries["real_gdp"], r.changes()["real_gdp"], atol=1e-8)
    np.testing.assert_allclose(ms.prices["manufacturing"], r.changes()["price"], atol=1e-8)
    # the book's loop stops at 0.01: real GDP within about 1 pp of the exact solution
    gap = ge.solver_gap(book, r)
    rg = gap[(gap["scenario"] == "full") & (gap["variable"] == "real_gdp")]["abs_gap_pp"]
    assert rg.max() < 1.0
    assert book.info["max_gap_vs_exact_pp"] == pytest.approx(gap["abs_gap_pp"].max())
    # conditional GE is the same problem for both solvers
    assert gap[gap["scenario"] == "conditional"]["abs_gap_pp"].max() < 1e-5


def test_intervals_for_every_effect(app2):
    fit, _, base, _ = app2
    r = ge.counterfactual(base, _no_nafta)
    ri = ge.ge_intervals(r, base, _no_nafta, fit.vcov, draws=30, seed=2,
                         direction="baseline")
    t = ri.tidy("baseline")
    assert t[["lower", "upper"]].notna().all().all()
    can = t[(t["country"] == "CAN") & (t["scenario"] == "full")
            & (t["variable"] == "real_gdp")].iloc[0]
    assert 0 < can["lower"] < can["pct_change"] < can["upper"]
