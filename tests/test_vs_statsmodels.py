"""Agreement with statsmodels GLM Poisson / OLS on explicit dummies (small cases)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from conftest import simulated_panel

import gravity as gv


def _dummies(d: pd.DataFrame, regressors: list[str], fes: list[str]) -> pd.DataFrame:
    parts = [d[regressors].astype(float)]
    for k, fe in enumerate(fes):
        parts.append(pd.get_dummies(d[fe], prefix=fe, drop_first=k > 0, dtype=float))
    return pd.concat(parts, axis=1)


@pytest.fixture(scope="module")
def small():
    d = simulated_panel(n_exp=8, n_imp=8, n_years=4, seed=11, zero_share=0.1, unbalanced=0.1)
    return d


def test_ppml_equals_glm_poisson_with_dummies(small):
    # drop what PPML drops (all-zero groups, singletons) so that GLM has a finite MLE
    fit = gv.ppml("y ~ rta + x + ln_dist | exporter + importer", small, vcov="hetero",
                  tol=1e-13, fixef_tol=1e-13)
    d = small.loc[fit.in_sample]
    X = _dummies(d, ["rta", "x", "ln_dist"], ["exporter", "importer"])
    glm = sm.GLM(d["y"], X, family=sm.families.Poisson()).fit(tol=1e-13, cov_type="HC0")
    assert glm.converged
    np.testing.assert_allclose(fit.params, glm.params[["rta", "x", "ln_dist"]], rtol=1e-8)
    n, k = len(d), X.shape[1]
    # HC1 = HC0 * N / (N - K), K counting every dummy
    np.testing.assert_allclose(fit.bse, glm.bse[["rta", "x", "ln_dist"]] * np.sqrt(n / (n - k)),
                               rtol=1e-6)
    np.testing.assert_allclose(fit.fittedvalues, glm.fittedvalues, rtol=1e-7)
    np.testing.assert_allclose(fit.deviance, glm.deviance, rtol=1e-9)
    np.testing.assert_allclose(fit.loglik, glm.llf, rtol=1e-9)


def test_ppml_cluster_glm_convention_equals_statsmodels(small):
    fit = gv.ppml("y ~ rta + x | exporter + importer", small, vcov={"CRV1": "pair"},
                  ssc="glm", tol=1e-13, fixef_tol=1e-13)
    d = small.loc[fit.in_sample]
    X = _dummies(d, ["rta", "x"], ["exporter", "importer"])
    groups = pd.factorize(d["pair"])[0]
    glm = sm.GLM(d["y"], X, family=sm.families.Poisson()).fit(
        tol=1e-13, cov_type="cluster", cov_kwds={"groups": groups, "use_correction": False})
    g = len(np.unique(groups))
    np.testing.assert_allclose(fit.bse, glm.bse[["rta", "x"]] * np.sqrt(g / (g - 1)), rtol=1e-6)


def test_ols_equals_statsmodels_with_dummies(small):
    d = small[small["y"] > 0].copy()
    d["ln_y"] = np.log(d["y"])
    fit = gv.ols("ln_y ~ rta + x | exporter + importer", d, vcov="iid", fixef_tol=1e-13)
    d = d.loc[fit.in_sample]
    X = _dummies(d, ["rta", "x"], ["exporter", "importer"])
    res = sm.OLS(d["ln_y"], X).fit()
    np.testing.assert_allclose(fit.params, res.params[["rta", "x"]], rtol=1e-9)
    np.testing.assert_allclose(fit.bse, res.bse[["rta", "x"]], rtol=1e-7)
    np.testing.assert_allclose(fit.r2, res.rsquared, rtol=1e-9)
    np.testing.assert_allclose(fit.fittedvalues, res.fittedvalues, rtol=1e-9)


def test_predict_and_fixed_effects_reproduce_fit(small):
    fit = gv.ppml("y ~ rta + x | exp_year + imp_year + pair", small, tol=1e-12, fixef_tol=1e-12)
    d = small.loc[fit.in_sample]
    # predictions rebuilt from the recovered fixed effects equal the fitted values
    np.testing.assert_allclose(fit.predict(d), fit.fittedvalues, rtol=1e-7)
    np.testing.assert_allclose(fit.predict(d, type="link"), np.log(fit.fittedvalues), atol=1e-7)
    fes = fit.fixed_effects()
    assert set(fes) == {"exp_year", "imp_year", "pair"}
    assert len(fes["pair"]) == d["pair"].nunique()
    # unseen level -> NaN
    new = d.head(2).copy()
    new.loc[new.index[0], "pair"] = "no_such_pair"
    p = fit.predict(new)
    assert np.isnan(p[0]) and np.isfinite(p[1])


def test_poisson_with_offset_and_weights_equals_glm(small):
    d = small.copy()
    d["expo"] = np.log(np.random.default_rng(3).uniform(0.5, 2, len(d)))
    d["w"] = np.random.default_rng(4).integers(1, 4, len(d)).astype(float)
    fit = gv.ppml("y ~ rta + x | exp_year", d, offset="expo", weights="w", vcov="iid",
                  ssc="none", tol=1e-13, fixef_tol=1e-13)
    dd = d.loc[fit.in_sample]
    X = _dummies(dd, ["rta", "x"], ["exp_year"])
    glm = sm.GLM(dd["y"], X, family=sm.families.Poisson(), offset=dd["expo"],
                 freq_weights=dd["w"]).fit(tol=1e-13)
    np.testing.assert_allclose(fit.params, glm.params[["rta", "x"]], rtol=1e-8)
    np.testing.assert_allclose(fit.bse, glm.bse[["rta", "x"]], rtol=1e-6)
