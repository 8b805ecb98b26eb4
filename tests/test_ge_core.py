"""GE counterfactuals on small simulated worlds: consistency checks any correct solver
passes (no change, reference invariance, conditional GE = a PPML refit with the new
costs as an offset, residuals of every equation), the multi-sector model against the
one-sector one, intervals, and typed errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import gravity as gv
from gravity import ge
from gravity.errors import InputError, MissingColumnError


def _world(n: int = 8, seed: int = 0, balanced: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    c = [f"C{k:02d}" for k in range(n)]
    lat, lon = rng.uniform(-60, 60, n), rng.uniform(-180, 180, n)
    d = pd.DataFrame([(a, b) for a in range(n) for b in range(n)], columns=["i", "j"])
    d["exporter"] = [c[k] for k in d["i"]]
    d["importer"] = [c[k] for k in d["j"]]
    dist = np.hypot(lat[d.i] - lat[d.j], lon[d.i] - lon[d.j]) + 5.0
    d["ln_dist"] = np.log(dist)
    d["border"] = (d.i != d.j).astype(float)
    d["fta"] = ((d.i != d.j) & (d.i < 4) & (d.j < 4)).astype(float)
    Y = rng.lognormal(3, 1, n)
    E = Y if balanced else Y * rng.uniform(0.7, 1.3, n)
    E = E * Y.sum() / E.sum()
    T = np.exp(-0.9 * d["ln_dist"] - 1.5 * d["border"] + 0.4 * d["fta"]).to_numpy()
    Tm = T.reshape(n, n)
    pi, chi = ge.equilibrium.sinkhorn(Tm, Y, E, 0, tol=1e-15)
    mu = (pi[:, None] * chi[None, :] * Tm).ravel()
    d["trade"] = mu * rng.lognormal(0, 0.3, len(d))
    return d


FORMULA = "trade ~ ln_dist + border + fta | exporter + importer"


@pytest.fixture(scope="module")
def world():
    d = _world()
    fit = gv.ppml(FORMULA, d, vcov="hetero", tol=1e-12)
    return d, fit, ge.Baseline.from_fit(fit, d, reference="C00", sigma=5)


NO_FTA = {"fta": 0.0}


def test_no_change_is_zero(world):
    _, _, base = world
    for solver in ("exact", "geppml"):
        r = ge.counterfactual(base, {"fta": base.frame["fta"]}, solver=solver)
        for kind in r.kinds:
            assert np.nanmax(np.abs(r.changes(kind).to_numpy())) < 1e-6
        assert np.nanmax(np.abs(r.bilateral("full")["pct_change"])) < 1e-6


def test_reference_invariance(world):
    _, _, base = world
    a = ge.counterfactual(base, NO_FTA)
    b = ge.counterfactual(base.with_reference("C05"), NO_FTA)
    # conditional GE: output and expenditure are fixed, so the flows themselves are real
    np.testing.assert_allclose(a.conditional.X, b.conditional.X, rtol=1e-9)
    for kind in ("full",):
        ea, eb = a.scenario(kind), b.scenario(kind)
        # real quantities: real GDP, expenditure shares, relative prices
        np.testing.assert_allclose(a.levels(kind)["real_gdp"] / a.levels("baseline")["real_gdp"],
                                   b.levels(kind)["real_gdp"] / b.levels("baseline")["real_gdp"],
                                   rtol=1e-9)
        np.testing.assert_allclose(ea.X / ea.E[None, :], eb.X / eb.E[None, :], rtol=1e-9)
        np.testing.assert_allclose(ea.price / ea.price[0], eb.price / eb.price[0], rtol=1e-9)
    assert abs(b.full.IMR[5] - 1) < 1e-12 and abs(a.full.IMR[0] - 1) < 1e-12


def test_conditional_flows_equal_ppml_refit_with_offset(world):
    d, _, base = world
    r = ge.counterfactual(base, NO_FTA, kind="conditional")
    T1 = base.counterfactual_costs(NO_FTA)
    d2 = d.assign(off=np.log(T1[d["i"], d["j"]]))
    refit = gv.ppml("trade ~ 0 | exporter + importer", d2, offset="off", tol=1e-13,
                    fixef_tol=1e-13)
    np.testing.assert_allclose(r.conditional.X[d["i"], d["j"]], refit.fittedvalues,
                               rtol=1e-8)


def _residuals(eq, base_eq, T, sigma, ref, Y0, E0, imbalances):
    """Every equation of the full-endowment system, recomputed here."""
    model = eq.Y[:, None] * eq.E[None, :] * T / (eq.OMR[:, None] * eq.IMR[None, :])
    omr = (T * (eq.E / eq.IMR)[None, :]).sum(axis=1)
    imr = (T * (eq.Y / eq.OMR)[:, None]).sum(axis=0)
    if imbalances == "scaled":
        phi = E0 / Y0
        E_expected = phi * eq.Y * eq.Y.sum() / (phi * eq.Y).sum()
    else:
        E_expected = eq.Y + (E0 - Y0) * eq.Y.sum() / Y0.sum()
    return max(np.max(np.abs(eq.X / model - 1)), np.max(np.abs(omr / eq.OMR - 1)),
               np.max(np.abs(imr / eq.IMR - 1)),
               np.max(np.abs(eq.price ** sigma / (eq.OMR / base_eq.OMR) - 1)),
               np.max(np.abs(eq.E / E_expected - 1)), abs(eq.IMR[ref] - 1),
               np.max(np.abs(eq.Y / (eq.price * Y0) - 1)))


@pytest.mark.parametrize("imbalances", ["scaled", "additive"])
def test_exact_solver_residuals(world, imbalances):
    _, _, base = world
    r = ge.counterfactual(base, NO_FTA, imbalances=imbalances)
    T1 = base.counterfactual_costs(NO_FTA)
    assert _residuals(r.full, r.baseline, T1, 5.0, 0, base.Y, base.E, imbalances) < 1e-10
    assert np.all(r.full.price > 0)
    # the FTA members lose real GDP when their agreement goes
    assert (r.changes("full").loc[["C00", "C01", "C02", "C03"], "real_gdp"] < 0).all()
    # no change, no effect; another reference country, the same real effects
    none = ge.counterfactual(base, costs=base.T, imbalances=imbalances)
    assert np.max(np.abs(none.change_vector())) < 1e-9
    other = ge.counterfactual(base.with_reference("C03"), NO_FTA, imbalances=imbalances)
    np.testing.assert_allclose(other.changes()["real_gdp"], r.changes()["real_gdp"],
                               atol=1e-9)


def test_imbalance_treatments_agree_with_balanced_trade(world):
    d, fit, _ = world
    y = d.groupby("i")["trade"].sum().to_numpy()
    balanced = d.assign(trade=y[d["i"]] * y[d["j"]] / y.sum())  # output = expenditure
    base = ge.Baseline.from_fit(fit, balanced, reference="C00", sigma=5)
    np.testing.assert_allclose(base.Y, base.E, rtol=1e-12)
    a = ge.counterfactual(base, NO_FTA, imbalances="scaled").changes()
    b = ge.counterfactual(base, NO_FTA, imbalances="additive").changes()
    pd.testing.assert_frame_equal(a, b, atol=1e-8, rtol=0)


def test_geppml_book_rule_close_to_exact():
    """With nearly balanced trade the book's loop stops (0.01 rule) near the exact solution;
    run far past its rule on this world the loop oscillates with growing amplitude
    (it is not a contraction here): the stop comes with a warning."""
    d = _world(seed=3, balanced=True)
    fit = gv.ppml(FORMULA, d, tol=1e-12)
    d = d.assign(trade=fit.fittedvalues)  # balanced baseline: fitted flows
    base = ge.Baseline.from_fit(fit, d, reference="C00", sigma=5)
    with pytest.warns(gv.ConvergenceWarning, match="not be contracting"):
        book = ge.counterfactual(base, NO_FTA, solver="geppml")
    assert book.full.iterations <= 5
    assert 0 < book.info["max_gap_vs_exact_pp"] < 1.0


def test_multisector_reduces_to_one_sector(world):
    _, _, base = world
    one = ge.counterfactual(base, NO_FTA)
    ms = ge.multisector_counterfactual({"all": base}, {"all": NO_FTA})
    assert ms.residual < 1e-10
    ch = one.changes("full")
    np.testing.assert_allclose(ms.prices["all"], ch["price"], atol=1e-7)
    np.testing.assert_allclose(ms.countries["real_gdp"], ch["real_gdp"], atol=1e-7)
    np.testing.assert_allclose(ms.exports["all"], ch["exports"], atol=1e-7)


def test_multisector_identical_sectors_and_sector_specific_elasticities(world):
    d, fit, base = world
    half = d.assign(trade=d["trade"] / 2)
    b1 = ge.Baseline.from_fit(fit, half, reference="C00", sigma=5)
    two = ge.multisector_counterfactual({"a": b1, "b": b1}, {"a": NO_FTA, "b": NO_FTA})
    one = ge.counterfactual(base, NO_FTA).changes("full")
    np.testing.assert_allclose(two.countries["real_gdp"], one["real_gdp"], atol=1e-7)
    # a change in one sector only moves that sector's prices more
    b2 = ge.Baseline.from_fit(fit, half, reference="C00", sigma=9)
    mix = ge.multisector_counterfactual({"a": b1, "b": b2}, {"a": NO_FTA})
    assert mix.residual < 1e-10
    members = ["C00", "C01", "C02", "C03"]
    assert (mix.exports.loc[members, "a"] < mix.exports.loc[members, "b"]).all()


def test_intervals(world):
    _, fit, base = world
    r = ge.counterfactual(base, NO_FTA)
    ri = ge.ge_intervals(r, base, NO_FTA, fit.vcov, draws=40, seed=1)
    t = ri.tidy()
    assert t[["lower", "upper"]].notna().all().all()
    inside = (t["lower"] <= t["pct_change"] + 1e-9) & (t["pct_change"] <= t["upper"] + 1e-9)
    assert inside.mean() > 0.9
    # bilateral flows too, each pair's interval from the same draws
    b = ri.bilateral("full")
    assert b[["lower", "upper"]].notna().all().all() and len(b) == 64
    assert ((b["lower"] <= b["pct_change"] + 1e-9) & (b["pct_change"] <= b["upper"] + 1e-9)
            ).mean() > 0.9
    # no estimation uncertainty: the interval collapses on the point estimate
    zero = ge.ge_intervals(r, base, NO_FTA, fit.vcov * 0, draws=3)
    tz = zero.tidy()
    np.testing.assert_allclose(tz["lower"], tz["pct_change"], atol=1e-8)
    bz = zero.bilateral("conditional")
    np.testing.assert_allclose(bz["upper"], bz["pct_change"], atol=1e-8)
    par = ge.ge_intervals(r, base, NO_FTA, fit.vcov, draws=40, seed=1, workers=2)
    pd.testing.assert_frame_equal(par.intervals, ri.intervals)


def test_typed_errors(world):
    d, fit, base = world
    with pytest.raises(InputError, match="square"):
        ge.Baseline.from_fit(fit, d.iloc[1:], reference="C00", sigma=5)
    with pytest.raises(InputError, match="reference"):
        ge.Baseline.from_fit(fit, d, reference="ZZZ", sigma=5)
    with pytest.raises(InputError, match="sigma"):
        ge.Baseline.from_fit(fit, d, reference="C00", sigma=1)
    with pytest.raises(MissingColumnError):
        ge.counterfactual(base, {"tariff": 0.1})
    with pytest.raises(InputError, match="kind"):
        ge.counterfactual(base, NO_FTA, kind="partial")
    with pytest.raises(InputError, match="pair effect"):
        ge.Baseline.from_fit(fit, d.assign(g=np.nan), reference="C00", sigma=5,
                             fixed_ln_t="g")


def test_tidy_frames_and_fit_entry_point(world):
    d, fit, base = world
    r = ge.counterfactual(fit, NO_FTA, data=d, reference="C00", sigma=5)
    t = r.tidy()
    assert set(t["variable"]) >= {"exports", "imports", "real_gdp", "price", "imr", "omr"}
    b = r.bilateral("conditional")
    assert len(b) == 64 and {"exporter", "importer", "pct_change"} <= set(b.columns)
    assert "real_gdp" in r.summary()


def test_from_frame_known_coefficients_equals_from_fit(world):
    d, fit, base = world
    known = ge.Baseline.from_frame(d, fit.params.to_dict(), reference="C00", sigma=5)
    np.testing.assert_allclose(known.T, base.T, rtol=1e-14)
    a = ge.counterfactual(known, NO_FTA).changes()
    pd.testing.assert_frame_equal(a, ge.counterfactual(base, NO_FTA).changes())
    with pytest.raises(MissingColumnError):
        ge.Baseline.from_frame(d, {"tariff": -4.0}, reference="C00", sigma=5)


def test_pair_bootstrap(world):
    d, fit, base = world
    r = ge.counterfactual(base, NO_FTA)
    d = d.assign(pair=np.minimum(d["i"], d["j"]) * 100 + np.maximum(d["i"], d["j"]))
    rb = ge.ge_bootstrap(r, base, NO_FTA, fit, d, cluster="pair", reps=20, seed=2)
    t = rb.tidy()
    assert rb.info["interval_method"] == "pair bootstrap by pair"
    assert (t["lower"] <= t["upper"]).all() and t["lower"].notna().all()
    # the bootstrap spread of the FTA members' real GDP is of the size of the normal draws'
    rn = ge.ge_intervals(r, base, NO_FTA, fit.vcov, draws=200, seed=2).tidy()
    key = (t["scenario"] == "full") & (t["variable"] == "real_gdp")
    wb = (t["upper"] - t["lower"])[key].to_numpy()
    wn = (rn["upper"] - rn["lower"])[key].to_numpy()
    assert 0.2 < np.median(wb / wn) < 5


def test_barplot(world):
    import matplotlib

    matplotlib.use("Agg")
    from gravity.reporting import ge_barplot

    _, fit, base = world
    r = ge.ge_intervals(ge.counterfactual(base, NO_FTA), base, NO_FTA, fit.vcov, draws=20)
    fig = ge_barplot(r, "real_gdp", top=5)
    ax = fig.axes[0]
    assert len(ax.patches) == 5
    heights = sorted(abs(p.get_width()) for p in ax.patches)
    top5 = sorted(r.changes("full")["real_gdp"].abs().nlargest(5))
    np.testing.assert_allclose(heights, top5)


def test_change_vector_is_tidy_column(world):
    _, _, base = world
    r = ge.counterfactual(base, NO_FTA)
    for direction in ("counterfactual", "baseline"):
        np.testing.assert_array_equal(r.change_vector(direction),
                                      r.tidy(direction)["pct_change"].to_numpy())


def test_baseline_resistances_and_costs(world):
    d, fit, base = world
    mr = base.resistances()
    assert mr.loc["C00", "IMR"] == pytest.approx(1.0, abs=1e-12)
    # the resistances solve their equations: OMR_i = sum_j T_ij E_j / IMR_j, and
    # IMR_j = sum_i T_ij Y_i / OMR_i
    np.testing.assert_allclose(base.T @ (mr["expenditure"] / mr["IMR"]), mr["OMR"], rtol=1e-10)
    np.testing.assert_allclose(base.T.T @ (mr["output"] / mr["OMR"]), mr["IMR"], rtol=1e-10)
    # and the PPML fitted flows are Y E T / (OMR IMR)
    fitted = (mr["output"].to_numpy()[:, None] * mr["expenditure"].to_numpy()[None, :]
              * base.T / (mr["OMR"].to_numpy()[:, None] * mr["IMR"].to_numpy()[None, :]))
    np.testing.assert_allclose(fitted[d["i"], d["j"]], fit.fittedvalues, rtol=1e-6)
    c = base.costs()
    xb = (d[["ln_dist", "border", "fta"]] @ fit.params[["ln_dist", "border", "fta"]])
    np.testing.assert_allclose(c["ln_T"], xb.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose((1 - base.sigma) * np.log(c["t"]), c["ln_T"], rtol=1e-12)


def test_multisector_intervals(world):
    d, fit, _ = world
    half = d.assign(trade=d["trade"] / 2)
    secs = {"a": ge.Baseline.from_fit(fit, half, reference="C00", sigma=4),
            "b": ge.Baseline.from_fit(fit, half, reference="C00", sigma=8)}
    point = ge.multisector_counterfactual(secs, {"a": NO_FTA, "b": NO_FTA})
    iv = ge.multisector_intervals(secs, {"a": NO_FTA, "b": NO_FTA},
                                  {"a": fit.vcov, "b": fit.vcov}, draws=20, seed=1)
    c = iv["countries"].set_index(["country", "variable"])
    est = point.countries.stack()
    inside = (c["lower"] <= est + 1e-9) & (est <= c["upper"] + 1e-9)
    assert inside.mean() > 0.9
    assert len(iv["prices"]) == 16 and iv["exports"][["lower", "upper"]].notna().all().all()
    zero = ge.multisector_intervals(secs, {"a": NO_FTA}, {"a": fit.vcov * 0, "b": fit.vcov * 0},
                                    draws=3)
    pz = zero["prices"].set_index(["country", "sector"])
    exact = ge.multisector_counterfactual(secs, {"a": NO_FTA}).prices.stack()
    np.testing.assert_allclose(pz["lower"], exact, atol=1e-7)
