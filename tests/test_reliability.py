"""No silent wrong number, no raw crash: each class of bad or degenerate input gives
the right answer, a typed error, or a recorded warning (one test per class)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import gravity as gv
from gravity.errors import (
    CollinearityWarning,
    ConvergenceError,
    EstimationError,
    GravityWarning,
    InputError,
    MissingColumnError,
    SeparationWarning,
)
from gravity.margins import bri_event_study, bri_hypothesis, decompose_margins


def _two_way(seed=0, n=40, t=6):
    rng = np.random.default_rng(seed)
    i, tt = np.repeat(np.arange(n), t), np.tile(np.arange(t), n)
    x = rng.normal(size=n * t)
    eta = 0.6 * x + rng.normal(scale=0.5, size=n)[i]
    y = (rng.random(n * t) < 1 / (1 + np.exp(-eta))).astype(float)
    return pd.DataFrame({"y": y, "x": x, "i": i, "t": tt})


# ---------------------------------------------------------------- 1. binary separation
@pytest.mark.parametrize("family", ["logit", "probit", "cloglog"])
def test_binary_separation_is_detected_and_the_rest_fitted(family):
    d = _two_way(1)
    rng = np.random.default_rng(2)
    pick = rng.random(len(d)) < 0.15
    d["s"] = np.where(pick & (d["y"] == 1), 1.0, 0.0)  # s = 1 only where y = 1
    with pytest.warns(SeparationWarning):
        fit = getattr(gv, family)("y ~ x + s | t", d, vcov="iid", ssc="none")
    sep = d.index[(d["s"] == 1).to_numpy()]
    assert set(fit.separated) == set(sep)
    assert "s" in fit.dropped_regressors  # all-zero once the separated rows are gone
    kept = d.loc[fit.in_sample]
    X = pd.concat([kept[["x"]], pd.get_dummies(kept["t"], prefix="t", dtype=float)], axis=1)
    link = {"logit": sm.families.links.Logit(), "probit": sm.families.links.Probit(),
            "cloglog": sm.families.links.CLogLog()}[family]
    m = sm.GLM(kept["y"], X, family=sm.families.Binomial(link)).fit(tol=1e-13)
    assert fit.params["x"] == pytest.approx(m.params["x"], abs=1e-6)
    assert fit.bse["x"] == pytest.approx(m.bse["x"], rel=1e-5)


def test_binary_regressor_perfect_predictor_no_fixed_effects():
    d = _two_way(3)
    d["s"] = d["y"]  # complete separation: nothing identifiable is left
    with pytest.raises(EstimationError):
        gv.logit("y ~ x + s", d)


# ---------------------------------------------------------------- 2. degenerate samples
def test_degenerate_samples_give_typed_errors():
    d = _two_way(4)
    d["c"] = 3.0
    with pytest.raises(EstimationError, match="equal to 3"):
        gv.ols("c ~ x", d)
    with pytest.raises(EstimationError, match="equal to 3"):
        gv.ppml("c ~ x | i", d)
    d["z"] = 0.0
    with pytest.raises(EstimationError, match="zero in every|no observations"):
        gv.ppml("z ~ x | i", d)
    with pytest.raises(EstimationError):
        gv.logit("c ~ x | i", d.assign(c=1.0))
    d["g"] = d["y"] + d["i"]  # varies only between groups of i
    with pytest.raises(EstimationError, match="does not vary within"):
        gv.ols("g ~ 1 | i", d.assign(g=d["i"].astype(float)))


def _panel_with_bri(zeros=True, seed=7):
    rng = np.random.default_rng(seed)
    c = [f"C{k}" for k in range(8)]
    rows = [(e, m, y) for e in c for m in c if e != m for y in range(2010, 2018)]
    p = pd.DataFrame(rows, columns=["exporter", "importer", "year"])
    p["exp_year"] = p.exporter + "_" + p.year.astype(str)
    p["imp_year"] = p.importer + "_" + p.year.astype(str)
    p["pair"] = p.exporter + "_" + p.importer
    start = {k: 2011 + i % 5 for i, k in enumerate(c)}
    p["bri_ij"] = ((p.year >= p.exporter.map(start)) & (p.year >= p.importer.map(start))
                   & (p.exporter.isin(c[:5])) & (p.importer.isin(c[:5]))).astype(float)
    lam = np.exp(rng.normal(size=len(p)) + 0.3 * p.bri_ij)
    p["trade"] = rng.poisson(lam * (3 if zeros else 50)).astype(float)
    if not zeros:
        p["trade"] += 1.0
    return p


def test_hypothesis_helpers_refuse_a_margin_that_never_varies():
    p = _panel_with_bri(zeros=False)
    with pytest.raises(EstimationError, match="never varies"):
        bri_hypothesis(p, exporter=None)
    with pytest.raises(EstimationError, match="never varies"):
        decompose_margins(p)


# ---------------------------------------------------------------- 3. collinearity
def test_event_time_dummies_under_three_way_effects_drop_one_and_name_it():
    p = _panel_with_bri()
    first = p.loc[p.bri_ij == 1].groupby("pair")["year"].min()
    rel = (p.year - p.pair.map(first)).clip(-3, 3)
    names = []
    for k in range(-3, 4):  # no reference period: the dummies add up to a pair effect
        nm = f"ev_m{-k}" if k < 0 else f"ev_p{k}"
        p[nm] = ((rel == k) & rel.notna()).astype(float)
        names.append(nm)
    f = "trade ~ " + " + ".join(names) + " | exp_year + imp_year + pair"
    with pytest.warns(CollinearityWarning):
        fit = gv.ppml(f, p)
    ols = gv.ols(f.replace("trade", "ln_t"), p.assign(ln_t=np.log1p(p.trade)))
    assert fit.dropped_regressors and set(fit.dropped_regressors) == \
        set(ols.dropped_regressors)
    assert np.all(np.isfinite(fit.bse))
    w = fit.wald_test(names)
    assert w.dropped == tuple(fit.dropped_regressors)
    assert set(w.terms) == set(names) - set(fit.dropped_regressors)
    ev = bri_event_study(p, outcome="flows", window=(-3, 3))
    assert np.isfinite(ev.stats["pretrend_chi2"])


# ---------------------------------------------------------------- 4. helpers
def test_absorbed_treatment_is_a_typed_error_naming_the_fixed_effect():
    p = _panel_with_bri()
    p["bri_pair"] = p.pair.str.startswith("C1").astype(float)  # constant within pair
    with pytest.raises(EstimationError, match="absorbed by .*'pair'"):
        decompose_margins(p, treatment="bri_pair")
    with pytest.raises(EstimationError, match="absorbed"):
        bri_hypothesis(p, treatment="bri_pair", exporter=None)


def test_hypothesis_results_carry_their_warnings():
    p = _panel_with_bri()
    res = bri_hypothesis(p, exporter=None)
    assert isinstance(res.warnings, list)
    assert all(hasattr(w, "category") for w in res.warnings)


# ---------------------------------------------------------------- 6. prediction
def test_predict_honours_the_offset_and_flags_unseen_levels():
    d = _two_way(8)
    rng = np.random.default_rng(0)
    d["cnt"] = rng.poisson(np.exp(0.3 * d.x)).astype(float)
    d["off"] = rng.normal(scale=0.3, size=len(d))
    fit = gv.ppml("cnt ~ x | t", d, offset="off")
    np.testing.assert_allclose(fit.predict(d), fit.fittedvalues.reindex(d.index), rtol=1e-8)
    with pytest.raises(MissingColumnError, match="off"):
        fit.predict(d.drop(columns="off"))
    arr = gv.ppml("cnt ~ x | t", d, offset=d["off"].to_numpy())
    with pytest.raises(InputError, match="offset="):
        arr.predict(d)
    np.testing.assert_allclose(arr.predict(d, offset=d["off"].to_numpy()),
                               fit.predict(d), rtol=1e-8)
    new = d.head(5).copy()
    new.loc[new.index[:2], "t"] = 99
    with pytest.warns(GravityWarning, match="2 of 5 rows"):
        pr = fit.predict(new)
    assert np.isnan(pr[:2]).all() and np.isfinite(pr[2:]).all()


# ---------------------------------------------------------------- 7. inputs
def test_series_weights_are_aligned_on_the_index_or_refused():
    d = _two_way(9)
    d.index = d.index + 1000
    w = pd.Series(np.linspace(0.5, 2, len(d)), index=d.index)
    a = gv.ols("y ~ x | t", d, weights=w)
    b = gv.ols("y ~ x | t", d, weights=w.sample(frac=1.0, random_state=1))
    assert a.params["x"] == pytest.approx(b.params["x"], rel=1e-12)
    with pytest.raises(InputError, match="index"):
        gv.ols("y ~ x | t", d, weights=w.reset_index(drop=True))


def test_bad_frames_and_arguments_are_typed_errors():
    d = _two_way(10)
    dup = pd.concat([d, d[["x"]]], axis=1)
    with pytest.raises(InputError, match="'x'"):
        gv.ols("y ~ x | t", dup)
    mi = d.copy()
    mi.columns = pd.MultiIndex.from_tuples([(c, "") for c in d.columns])
    with pytest.raises(InputError, match="MultiIndex"):
        gv.ols("y ~ x | t", mi)
    for kwargs in ({"on_nonconvergence": "RAISE"}, {"tol": -1}, {"tol": float("nan")},
                   {"fixef_tol": 0}, {"maxiter": 0}):
        with pytest.raises(ValueError):
            gv.logit("y ~ x | t", d, **kwargs)
    with pytest.raises(ConvergenceError, match="demeaning"):
        gv.ppml("y ~ x | i + t", d.assign(y=d.y * 3), fixef_maxiter=1,
                on_nonconvergence="raise")


# ---------------------------------------------------------------- 8. scale
def test_ppml_does_not_depend_on_the_units_of_y():
    rng = np.random.default_rng(11)
    n = 300
    d = pd.DataFrame({"x": rng.normal(size=n), "g": rng.integers(0, 10, n)})
    d["y"] = rng.poisson(np.exp(0.5 * d.x) * 3).astype(float)
    d.loc[d.index[7], "y"] = 1e15
    a = gv.ppml("y ~ x | g", d)
    b = gv.ppml("y ~ x | g", d.assign(y=d.y * 1e-9))
    assert a.converged and b.converged
    assert a.params["x"] == pytest.approx(b.params["x"], rel=1e-7)
    assert a.bse["x"] == pytest.approx(b.bse["x"], rel=1e-6)


def test_a_large_level_regressor_is_not_collinear_with_the_intercept():
    rng = np.random.default_rng(12)
    n = 500
    noise = rng.normal(size=n)
    d = pd.DataFrame({"x": 1e12 + noise})
    d["y"] = 2.0 + 0.5 * noise + rng.normal(size=n)
    fit = gv.ols("y ~ x", d, vcov="iid")
    assert fit.dropped_regressors == []
    m = sm.OLS(d.y, sm.add_constant(noise)).fit()
    assert fit.params["x"] == pytest.approx(m.params.iloc[1], rel=1e-3)
    assert fit.bse["x"] == pytest.approx(m.bse.iloc[1], rel=1e-3)
