"""Bad input raises typed errors that name the column and the offending rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import simulated_panel

import gravity as gv
from gravity.errors import (
    CollinearityWarning,
    FormulaError,
    MissingColumnError,
    MissingValueError,
    NegativeValueError,
)
from gravity.formula import parse_formula


@pytest.fixture()
def panel():
    return simulated_panel(n_exp=10, n_imp=10, n_years=3, seed=4)


def test_missing_column_suggests_close_name(panel):
    with pytest.raises(MissingColumnError) as exc:
        gv.ppml("y ~ rtaa + x | exp_year", panel)
    assert exc.value.column == "rtaa"
    assert "did you mean 'rta'" in str(exc.value)


def test_missing_fixed_effect_column(panel):
    with pytest.raises(MissingColumnError, match="exp_yr"):
        gv.ols("y ~ x | exp_yr", panel)


def test_missing_cluster_column(panel):
    with pytest.raises(MissingColumnError, match="pairid"):
        gv.ppml("y ~ x | exp_year", panel, vcov={"CRV1": "pairid"})


@pytest.mark.parametrize("col", ["y", "x", "exp_year"])
def test_nan_raises_with_rows(panel, col):
    d = panel.copy()
    d.loc[[3, 7], col] = np.nan
    with pytest.raises(MissingValueError) as exc:
        gv.ppml("y ~ x + rta | exp_year + imp_year", d)
    assert exc.value.column == col
    assert exc.value.rows == [3, 7]
    assert "rows [3, 7]" in str(exc.value)


def test_nan_dropped_and_counted_on_request(panel):
    d = panel.copy()
    d.loc[[3, 7, 9], "x"] = np.nan
    fit = gv.ppml("y ~ x + rta | exp_year + imp_year", d, missing="drop")
    full = gv.ppml("y ~ x + rta | exp_year + imp_year", d.drop(index=[3, 7, 9]))
    assert fit.dropped["missing"] == 3
    np.testing.assert_allclose(fit.params, full.params, rtol=1e-10)


def test_negative_outcome_in_ppml(panel):
    d = panel.copy()
    d.loc[5, "y"] = -1.0
    with pytest.raises(NegativeValueError) as exc:
        gv.ppml("y ~ x | exp_year", d)
    assert exc.value.column == "y" and exc.value.rows == [5]


def test_non_numeric_regressor(panel):
    d = panel.copy()
    d["name"] = "a"
    with pytest.raises(gv.InputError, match="not numeric"):
        gv.ols("y ~ name", d)


@pytest.mark.parametrize(
    "formula, message",
    [
        ("y x + z", "exactly one '~'"),
        ("y ~ x + | fe", "empty regressor"),
        ("y ~ x | fe | g | h", "more than one '|'"),
        ("y ~ x | fe + (a", "unbalanced"),
        ("log(y) + z ~ x", "outcome must be a column"),
        ("y ~ foo(x)", "unknown function .foo."),
        ("y ~ sw(x, z)", "multiple estimation"),
        ("y ~ x | pair[year", "unbalanced"),
        ("y ~ x + x", "appears twice"),
        ("y ~ x | a-b", "invalid fixed effect"),
    ],
)
def test_formula_typos(formula, message):
    with pytest.raises(FormulaError, match=message):
        parse_formula(formula)


def test_formula_grammar():
    f = parse_formula("trade ~ ln_dist + cntg | exporter^year + importer^year + pair")
    assert f.outcome == "trade"
    assert f.regressors == ("ln_dist", "cntg")
    assert f.fixed_effects == (("exporter", "year"), ("importer", "year"), ("pair",))
    assert not f.intercept
    assert parse_formula("y ~ x - 1").intercept is False
    assert parse_formula("y ~ 0 + x").regressors == ("x",)


def test_interacted_fixed_effects_equal_precomputed_keys(panel):
    a = gv.ppml("y ~ x + rta | exporter^year + importer^year", panel)
    b = gv.ppml("y ~ x + rta | exp_year + imp_year", panel)
    np.testing.assert_allclose(a.params, b.params, rtol=1e-10)
    np.testing.assert_allclose(a.bse, b.bse, rtol=1e-8)


def test_formula_expressions_via_formulaic(panel):
    d = panel.copy()
    d["dist"] = np.exp(d["ln_dist"])
    a = gv.ols("y ~ log(dist) + x | exp_year", d[d.y > 0])
    b = gv.ols("y ~ ln_dist + x | exp_year", d[d.y > 0])
    np.testing.assert_allclose(a.params.to_numpy(), b.params.to_numpy(), rtol=1e-10)


def test_regressor_absorbed_by_fixed_effect_is_named(panel):
    with pytest.warns(CollinearityWarning, match="'ln_dist' is absorbed by 'pair'"):
        fit = gv.ppml("y ~ x + ln_dist | exp_year + pair", panel)
    assert fit.dropped_regressors == ["ln_dist"]
    assert list(fit.params.index) == ["x"]


def test_exactly_collinear_regressors(panel):
    d = panel.copy()
    d["x2"] = 2 * d["x"] - d["rta"]
    with pytest.warns(CollinearityWarning, match="'x2' is collinear with 'x', 'rta'"):
        fit = gv.ols("y ~ x + rta + x2 | exp_year", d)
    assert fit.dropped_regressors == ["x2"]


def test_all_zero_outcome(panel):
    d = panel.copy()
    d["y"] = 0.0
    with pytest.raises(gv.EstimationError, match="zero in every observation|no observations"):
        gv.ppml("y ~ x", d)


def test_wrong_vcov_and_ssc(panel):
    with pytest.raises(ValueError, match="unknown vcov"):
        gv.ppml("y ~ x | exp_year", panel, vcov="robustest")
    with pytest.raises(ValueError, match="unknown ssc"):
        gv.ppml("y ~ x | exp_year", panel, ssc="stata_wrong")


def test_data_must_be_dataframe():
    with pytest.raises(TypeError):
        gv.ols("y ~ x", {"y": [1, 2], "x": [1, 2]})


def test_weights_length_checked(panel):
    with pytest.raises(gv.InputError, match="one value per row"):
        gv.ols("y ~ x", panel, weights=np.ones(3))


def test_results_api(panel):
    fit = gv.ppml("y ~ x + rta | exp_year + imp_year", panel, vcov="hetero")
    ci = fit.conf_int()
    assert list(ci.columns) == ["lower", "upper"]
    assert (ci["lower"] < fit.params).all() and (fit.params < ci["upper"]).all()
    tidy = fit.tidy()
    assert list(tidy.columns) == ["estimate", "std_error", "statistic", "p_value", "conf_low",
                                  "conf_high"]
    assert isinstance(fit.vcov, pd.DataFrame) and fit.vcov.shape == (2, 2)
    assert fit.converged and fit.iterations > 1
    assert "x" in fit.summary() and "hetero" in fit.summary()


def test_wald_test_matches_hand_computation(panel):
    from scipy import stats as st

    fit = gv.ppml("y ~ x + rta + ln_dist | exp_year + imp_year", panel, vcov="hetero")
    b = fit.params[["x", "rta"]].to_numpy()
    v = fit.vcov.loc[["x", "rta"], ["x", "rta"]].to_numpy()
    w = float(b @ np.linalg.solve(v, b))
    res = fit.wald_test(["x", "rta"])
    assert res["statistic"] == pytest.approx(w, rel=1e-12)
    assert res["df"] == 2
    assert res["pvalue"] == pytest.approx(st.chi2.sf(w, 2), rel=1e-12)
    # one restriction: the squared z statistic
    one = fit.wald_test(R=[[0, 1, 0]], q=[0.0])
    assert one["statistic"] == pytest.approx(fit.tvalues["rta"] ** 2, rel=1e-10)


def test_fixed_effects_only_ols(panel):
    d = panel[panel["y"] > 0].copy()
    d["ln_y"] = np.log(d["y"])
    fit = gv.ols("ln_y ~ 1 | exp_year", d, vcov="hetero")
    assert len(fit.params) == 0
    grp = d.groupby("exp_year")["ln_y"]
    kept = d.loc[fit.in_sample]
    resid = kept["ln_y"] - kept.groupby("exp_year")["ln_y"].transform("mean")
    assert fit.rss == pytest.approx(float((resid**2).sum()), rel=1e-10)
    assert grp.ngroups >= fit.fe_sizes[0]


def test_negative_outcome_raises_even_without_separation_checks(panel):
    d = panel.copy()
    d.loc[4, "y"] = -2.0
    with pytest.raises(NegativeValueError) as exc:
        gv.ppml("y ~ x | exp_year", d, separation=None)
    assert exc.value.rows == [4]
