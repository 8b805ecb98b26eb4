"""The fixest formula grammar against independent references on the same data.

* ``i()`` terms: pyfixest (same grammar, same coefficient names), OLS and PPML;
  factor x factor interactions and ``keep=``: dummies built by hand with pandas.
* ``l()``/``f()``: lag columns built by hand (a pandas merge on unit and shifted
  period, gaps and a four-year step included), fitted by pyfixest.
* ``log(y) ~``: pyfixest on a precomputed column; ``exposure=``/``offset="~..."``:
  statsmodels' Poisson GLM with ``exposure=``.
* Varying slopes ``fe[x]``/``fe[[x]]``: closed form, statsmodels with the dummies
  and the dummy-times-slope columns written out.

Tolerances: coefficients 1e-6 relative (1e-8 absolute for least squares), standard
errors 1e-6 relative -- the demeaning stops at 1e-10 here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import gravity as gv
from gravity.errors import FormulaError, InputError

pf = pytest.importorskip("pyfixest")
sm = pytest.importorskip("statsmodels.api")

TOL = {"fixef_tol": 1e-10}


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    units, years = 30, 8
    d = pd.DataFrame({"unit": np.repeat(np.arange(units), years),
                      "year": np.tile(np.arange(2000, 2000 + years), units)})
    n = len(d)
    d["x"] = rng.normal(size=n)
    d["z"] = rng.normal(size=n)
    d["g"] = rng.integers(0, 4, n)
    d["h"] = rng.choice(["a", "b", "c"], n)
    d["treated"] = (d["unit"] < 12).astype(float)
    d["period"] = d["year"] - 2004
    d["trend"] = (d["year"] - 2000).astype(float)
    d["pop"] = rng.uniform(0.5, 3.0, n)
    slope = rng.normal(0, 0.3, units)[d["unit"]]
    eta = 0.4 * d["x"] - 0.2 * d["z"] + 0.3 * d["g"] + slope * d["trend"] \
        + rng.normal(0, 0.5, units)[d["unit"]] + 0.3 * d["treated"] * (d["period"] >= 0)
    d["y"] = eta + rng.normal(size=n)
    d["count"] = rng.poisson(np.exp(0.5 + 0.3 * d["x"] + 0.1 * d["g"]) * d["pop"]
                             ).astype(float)
    d["pos"] = np.exp(0.5 * d["y"])
    return d


def _pf_params(fit) -> pd.Series:
    return fit.coef()


@pytest.mark.parametrize("formula", [
    "y ~ x + i(g, ref=0) | unit",
    "y ~ x + i(g, ref=3) | unit + year",
    "y ~ i(period, treated, ref=-1) | unit + year",
    "y ~ i(g, x) | unit",
    "y ~ z + i(h, ref='b') | unit",
])
def test_i_terms_match_pyfixest_ols(panel, formula):
    ours = gv.ols(formula, panel, vcov={"CRV1": "unit"}, **TOL)
    ref = pf.feols(formula, panel, vcov={"CRV1": "unit"})
    assert list(ours.params.index) == list(ref.coef().index)
    np.testing.assert_allclose(ours.params, ref.coef(), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ours.bse, ref.se(), rtol=1e-6)


def test_i_terms_match_pyfixest_ppml(panel):
    formula = "count ~ x + i(g, ref=1) | unit"
    ours = gv.ppml(formula, panel, vcov={"CRV1": "unit"}, tol=1e-10, **TOL)
    ref = pf.fepois(formula, panel, vcov={"CRV1": "unit"}, fixef_tol=1e-10, iwls_tol=1e-10)
    assert list(ours.params.index) == list(ref.coef().index)
    np.testing.assert_allclose(ours.params, ref.coef(), rtol=1e-6)
    np.testing.assert_allclose(ours.bse, ref.se(), rtol=1e-5)


def test_factor_interactions_and_keep_match_hand_made_dummies(panel):
    d = panel.copy()
    ours = gv.ols("y ~ x + i(g, i.h, ref=0, ref2='a') | unit", d, **TOL)
    names = []
    for g in (1, 2, 3):
        for h in ("b", "c"):
            nm = f"g::{g}:h::{h}"
            d[nm.replace(":", "_")] = ((d["g"] == g) & (d["h"] == h)).astype(float)
            names.append(nm)
    by_hand = gv.ols("y ~ x + " + " + ".join(n.replace(":", "_") for n in names) + " | unit",
                     d, **TOL)
    assert list(ours.params.index) == ["x"] + names
    np.testing.assert_allclose(ours.params.to_numpy(), by_hand.params.to_numpy(), atol=1e-10)
    np.testing.assert_allclose(ours.bse.to_numpy(), by_hand.bse.to_numpy(), rtol=1e-9)
    several = gv.ols("y ~ x + i(g, ref=c(0, 3)) | unit + year", d, **TOL)
    d["g1"], d["g2"] = (d["g"] == 1).astype(float), (d["g"] == 2).astype(float)
    hand = gv.ols("y ~ x + g1 + g2 | unit + year", d, **TOL)
    assert list(several.params.index) == ["x", "g::1", "g::2"]
    np.testing.assert_allclose(several.params.to_numpy(), hand.params.to_numpy(), atol=1e-10)
    kept = gv.ols("y ~ x + i(period, treated, keep=c(0, 1, 2)) | unit + year", d, **TOL)
    for p in (0, 1, 2):
        d[f"ev{p}"] = ((d["period"] == p) * d["treated"]).astype(float)
    hand = gv.ols("y ~ x + ev0 + ev1 + ev2 | unit + year", d, **TOL)
    assert list(kept.params.index) == ["x", "period::0:treated", "period::1:treated",
                                       "period::2:treated"]
    np.testing.assert_allclose(kept.params.to_numpy(), hand.params.to_numpy(), atol=1e-10)


def _lag_by_hand(d: pd.DataFrame, col: str, k: int, step: int) -> pd.Series:
    src = d[["unit", "year", col]].copy()
    src["year"] = src["year"] + k * step
    merged = d[["unit", "year"]].merge(src, on=["unit", "year"], how="left")
    return merged[col]


@pytest.mark.parametrize("step", [1, 4])
def test_lags_and_leads_match_hand_made_columns(panel, step):
    d = panel.copy()
    d["year"] = 2000 + (d["year"] - 2000) * step  # every `step` years: one period
    d = d.drop(index=d.index[::7]).reset_index(drop=True)  # gaps: lags there are missing
    ours = gv.ols("y ~ x + l(x, 1:2) + f(z) | unit", d, panel_id=("unit", "year"), **TOL)
    d["x_l1"] = _lag_by_hand(d, "x", 1, step)
    d["x_l2"] = _lag_by_hand(d, "x", 2, step)
    d["z_f1"] = _lag_by_hand(d, "z", -1, step)
    sample = d.dropna(subset=["x_l1", "x_l2", "z_f1"])
    ref = pf.feols("y ~ x + x_l1 + x_l2 + z_f1 | unit", sample, vcov={"CRV1": "unit"})
    assert list(ours.params.index) == ["x", "l(x, 1)", "l(x, 2)", "f(z, 1)"]
    assert ours.dropped["lag"] == len(d) - len(sample)
    assert ours.nobs == ref._N
    fitted = ours.predict(d)  # lags rebuilt on newdata from panel_id
    np.testing.assert_allclose(fitted[ours.in_sample], ours.fittedvalues, atol=1e-10)
    assert np.isnan(fitted[~ours.in_sample]).all()
    np.testing.assert_allclose(ours.params.to_numpy(), ref.coef().to_numpy(), atol=1e-8)
    np.testing.assert_allclose(ours.bse.to_numpy(), ref.se().to_numpy(), rtol=1e-6)


def test_expression_on_the_left_matches_a_precomputed_column(panel):
    d = panel.assign(log_pos=np.log(panel["pos"]))
    ours = gv.ols("log(pos) ~ x + z | unit", d, **TOL)
    ref = pf.feols("log_pos ~ x + z | unit", d, vcov={"CRV1": "unit"})
    assert ours.depvar == "log(pos)"
    np.testing.assert_allclose(ours.params.to_numpy(), ref.coef().to_numpy(), atol=1e-8)
    np.testing.assert_allclose(ours.bse.to_numpy(), ref.se().to_numpy(), rtol=1e-6)


def test_exposure_and_formula_offset_match_statsmodels(panel):
    X = sm.add_constant(panel[["x", "z"]])
    ref = sm.GLM(panel["count"], X, family=sm.families.Poisson(),
                 exposure=panel["pop"]).fit(tol=1e-12)
    by_exposure = gv.ppml("count ~ x + z", panel, exposure="pop", vcov="iid", ssc="glm",
                          tol=1e-12)
    by_offset = gv.ppml("count ~ x + z", panel, offset="~log(pop)", vcov="iid", ssc="glm",
                        tol=1e-12)
    for res in (by_exposure, by_offset):
        np.testing.assert_allclose(res.params.to_numpy(), ref.params.to_numpy(), rtol=1e-7)
        np.testing.assert_allclose(res.bse.to_numpy(), ref.bse.to_numpy(), rtol=1e-6)
    fitted = by_offset.predict(panel)
    np.testing.assert_allclose(fitted, ref.predict(X, exposure=panel["pop"]), rtol=1e-7)
    with pytest.raises(gv.MissingColumnError, match="popp"):
        gv.ppml("count ~ x", panel, offset="~log(popp)")
    with pytest.raises(gv.NegativeValueError, match="exposure"):
        gv.ppml("count ~ x", panel.assign(pop=-panel["pop"]), exposure="pop")


def _dummies(d: pd.DataFrame, col: str, drop_first: bool = False) -> pd.DataFrame:
    return pd.get_dummies(d[col], prefix=col, drop_first=drop_first, dtype=float)


@pytest.mark.filterwarnings("ignore:The design matrix is rank-deficient")
def test_varying_slopes_match_dummy_regression(panel):
    d = panel
    ours = gv.ols("y ~ x + z | unit[trend]", d, vcov="iid", **TOL)
    du = _dummies(d, "unit")
    X = pd.concat([d[["x", "z"]], du, du.mul(d["trend"], axis=0).add_suffix("_t")], axis=1)
    ref = sm.OLS(d["y"], X).fit()
    np.testing.assert_allclose(ours.params.to_numpy(), ref.params[["x", "z"]], atol=1e-8)
    np.testing.assert_allclose(ours.bse.to_numpy(), ref.bse[["x", "z"]], rtol=1e-6)
    # the slopes and fixed effects themselves, and predictions from them
    fe = ours.fixed_effects()
    np.testing.assert_allclose(fe["unit[[trend]]"].to_numpy(),
                               ref.params[[f"unit_{u}_t" for u in fe["unit"].index]], atol=1e-7)
    np.testing.assert_allclose(fe["unit"].to_numpy(),
                               ref.params[[f"unit_{u}" for u in fe["unit"].index]], atol=1e-7)
    np.testing.assert_allclose(ours.predict(d), ref.fittedvalues, atol=1e-8)
    hc1 = ours.with_vcov("hetero")
    np.testing.assert_allclose(hc1.bse.to_numpy(), sm.OLS(d["y"], X).fit(cov_type="HC1")
                               .bse[["x", "z"]], rtol=1e-6)
    # slopes only, around another fixed effect
    ours = gv.ols("y ~ x + z | year + unit[[trend]]", d, **TOL)
    X = pd.concat([d[["x", "z"]], _dummies(d, "year"),
                   du.mul(d["trend"], axis=0).add_suffix("_t")], axis=1)
    np.testing.assert_allclose(ours.params.to_numpy(), sm.OLS(d["y"], X).fit()
                               .params[["x", "z"]], atol=1e-8)


def test_varying_slopes_in_ppml_match_dummy_glm(panel):
    d = panel
    ours = gv.ppml("count ~ x | year + unit[trend]", d, vcov="iid", ssc="glm", tol=1e-12,
                   fixef_tol=1e-12)
    with pytest.warns(gv.SeparationWarning, match="relu"):
        gv.ppml("count ~ x | year + unit[trend]", d, separation=("fe", "simplex"))
    du = _dummies(d, "unit")
    X = pd.concat([d[["x"]], du, _dummies(d, "year", drop_first=True),
                   du.mul(d["trend"], axis=0).add_suffix("_t").iloc[:, 1:]], axis=1)
    ref = sm.GLM(d["count"], X, family=sm.families.Poisson()).fit(tol=1e-13, maxiter=200)
    np.testing.assert_allclose(ours.params["x"], ref.params["x"], rtol=1e-6)
    np.testing.assert_allclose(ours.bse["x"], ref.bse["x"], rtol=1e-5)
    np.testing.assert_allclose(ours.predict(), ref.fittedvalues, rtol=1e-6)
    # from the recovered effects and slopes (not identified one by one here: their
    # sum is), on the data as newdata
    np.testing.assert_allclose(ours.predict(d), ref.fittedvalues, rtol=1e-6)


def test_varying_slopes_with_one_fixed_effect_in_ppml_match_dummy_glm(panel):
    """``unit[trend]`` alone: one fixed effect plus its slopes (the IRLS step for a single
    fixed effect must not skip the slope projection)."""
    d = panel
    ours = gv.ppml("count ~ x | unit[trend]", d, vcov="iid", ssc="glm", tol=1e-12,
                   fixef_tol=1e-12)
    du = _dummies(d, "unit")
    X = pd.concat([d[["x"]], du, du.mul(d["trend"], axis=0).add_suffix("_t")], axis=1)
    ref = sm.GLM(d["count"], X, family=sm.families.Poisson()).fit(tol=1e-13, maxiter=200)
    np.testing.assert_allclose(ours.params["x"], ref.params["x"], rtol=1e-6)
    np.testing.assert_allclose(ours.bse["x"], ref.bse["x"], rtol=1e-5)
    np.testing.assert_allclose(ours.predict(), ref.fittedvalues, rtol=1e-6)


def test_grammar_errors_are_typed(panel):
    with pytest.raises(FormulaError, match="unknown function 'foo'"):
        gv.ols("y ~ foo(x)", panel)
    with pytest.raises(FormulaError, match="'csw\\(\\)'"):
        gv.ols("y ~ csw(x, z)", panel)
    with pytest.raises(FormulaError, match="is not a value of column 'g'"):
        gv.ols("y ~ i(g, ref=9) | unit", panel)
    with pytest.raises(FormulaError, match="panel_id"):
        gv.ols("y ~ l(x, 1) | unit", panel)
    dup = pd.concat([panel, panel.iloc[:3]], ignore_index=True)
    with pytest.raises(InputError, match="not unique") as err:
        gv.ols("y ~ l(x) | unit", dup, panel_id=("unit", "year"))
    assert err.value.rows is not None and len(err.value.rows) == 6
    with pytest.raises(gv.MissingValueError, match="log\\(neg\\)"):
        gv.ols("log(neg) ~ x", panel.assign(neg=-1.0 * (panel["x"] > 0)))


def test_iplot_draws_the_i_coefficients(panel):
    pytest.importorskip("matplotlib")
    from gravity.reporting import i_coefficients, iplot

    res = gv.ols("y ~ i(period, treated, ref=-1) | unit + year", panel, **TOL)
    table = i_coefficients(res)
    ref_row = table[table["reference"]]
    assert ref_row["position"].tolist() == [-1.0] and ref_row["estimate"].tolist() == [0.0]
    est = table[~table["reference"]].set_index("level")
    names = [f"period::{lv}:treated" for lv in est.index]
    np.testing.assert_allclose(est["estimate"], res.params[names])
    np.testing.assert_allclose(est["conf_low"], res.conf_int()["lower"][names])
    fig = iplot({"a": res, "b": res})
    ax = fig.axes[0]
    assert ax.get_xlabel() == "period" and "95%" in ax.get_ylabel()
    with pytest.raises(ValueError, match="no i\\(\\) term"):
        iplot(gv.ols("y ~ x | unit", panel))
