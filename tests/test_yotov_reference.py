"""Reproduce every number of Yotov et al. (2016), applications 1 and 2.

Reference: ../shared/reference/yotov2016_fixest.csv (R fixest 0.12.2, tight
tolerances) and the delta-method table of ../shared/reference/yotov2016.md.
Tolerances (stated there): coefficients 1e-6 absolute, standard errors 1e-5
relative, observation counts exact.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import shared_path

import gravity as gv
from gravity.datasets import load_yotov2016, yotov2016_application_data

COEF_TOL = 1e-6
SE_RTOL = 1e-5
PUZZLE = " + ".join(f"ln_DIST_{y}" for y in (1986, 1990, 1994, 1998, 2002, 2006))
FE = "exp_year + imp_year"

MODELS = {
    # name: (estimator, formula, sample, N)
    "OLS": ("ols", "ln_trade ~ ln_DIST + cntg + lang + clny + ln_Y + ln_E", "positive", 25689),
    "REMOTENESS": ("ols", "ln_trade ~ ln_DIST + cntg + lang + clny + ln_Y + ln_E"
                   " + ln_REM_EXP + ln_REM_IMP", "positive", 25689),
    "FIXED_EFFECTS": ("ols", f"ln_trade ~ ln_DIST + cntg + lang + clny | {FE}", "positive", 25689),
    "PPML": ("ppml", f"trade ~ ln_DIST + cntg + lang + clny | {FE}", "international", 28152),
    "PUZZLE_OLS": ("ols", f"ln_trade ~ {PUZZLE} + cntg + lang + clny | {FE}", "positive", 25689),
    "PUZZLE_PPML": ("ppml", f"trade ~ {PUZZLE} + cntg + lang + clny | {FE}", "international",
                    28152),
    "PUZZLE_PPML_INTRA": ("ppml", f"trade ~ {PUZZLE} + cntg + lang + clny + ln_DIST_INTRA | {FE}",
                          "all", 28566),
}

# Delta method: 100 * (b_2006 - b_1986) / b_1986, (estimate, se, p) under each convention
DELTA = {
    "PUZZLE_OLS": ((7.950156, 3.759238, 0.034444), (7.950156, 3.697635, 0.031550)),
    "PUZZLE_PPML": ((-2.750345, 3.049465, 0.367104), (-2.750345, 3.003899, 0.359881)),
    "PUZZLE_PPML_INTRA": ((-10.964835, 1.073869, None), (-10.964835, 1.058038, None)),
}


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return yotov2016_application_data(
        load_yotov2016(shared_path("data", "yotov2016", "agtpa_applications.csv.gz")))


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return pd.read_csv(shared_path("reference", "yotov2016_fixest.csv"))


@pytest.fixture(scope="module")
def fits(data) -> dict[str, gv.RegressionResults]:
    samples = {
        "all": data,
        "international": data[data["intl"] == 1],
        "positive": data[(data["intl"] == 1) & (data["trade"] > 0)],
    }
    out = {}
    for name, (est, formula, sample, _) in MODELS.items():
        fit = getattr(gv, est)(formula, samples[sample].reset_index(drop=True),
                               vcov={"CRV1": "pair_id"}, **({"tol": 1e-10} if est == "ppml" else {}))
        out[name] = fit
    return out


def test_sample_sizes_and_clusters(fits, data):
    positive = data[(data["intl"] == 1) & (data["trade"] > 0)]
    clusters = {"all": 2415, "international": 2346, "positive": positive["pair_id"].nunique()}
    for name, (_, _, sample, n) in MODELS.items():
        assert fits[name].nobs == n, name
        assert fits[name].n_clusters == (clusters[sample],), name


@pytest.mark.parametrize("name", list(MODELS))
def test_coefficients_and_both_se_conventions(fits, reference, name):
    ref = reference[reference["model"] == name].set_index("variable")
    fit = fits[name]
    assert list(fit.params.index) == list(ref.index)
    np.testing.assert_allclose(fit.params, ref["coef"], atol=COEF_TOL, rtol=0)
    np.testing.assert_allclose(fit.bse, ref["se_default"], rtol=SE_RTOL)
    glm = fit.with_vcov(ssc="glm")
    np.testing.assert_allclose(glm.bse, ref["se_cluster_only"], rtol=SE_RTOL)
    np.testing.assert_allclose(glm.params, fit.params, rtol=0, atol=0)


@pytest.mark.parametrize("name", list(DELTA))
def test_distance_puzzle_delta_method(fits, name):
    for fit, (est, se, p) in zip((fits[name], fits[name].with_vcov(ssc="glm")), DELTA[name],
                                 strict=True):
        res = fit.delta_method(
            lambda b: 100 * (b["ln_DIST_2006"] - b["ln_DIST_1986"]) / b["ln_DIST_1986"])
        assert res.estimate[0] == pytest.approx(est, abs=5e-6)
        assert res.se[0] == pytest.approx(se, abs=5e-6)
        if p is None:
            assert res.pvalue[0] < 1e-6
        else:
            assert res.pvalue[0] == pytest.approx(p, abs=5e-6)


def test_ppml_converged_and_reports(fits):
    fit = fits["PPML"]
    assert fit.converged
    assert fit.pseudo_r2 is not None and 0 < fit.pseudo_r2 < 1
    text = fit.summary()
    assert "ln_DIST" in text and "exp_year" in text and "28,152" in text


def test_embedded_published_table1_matches_reference_and_fit_table1(reference, data):
    from gravity.datasets.yotov import TABLE1_PUBLISHED, fit_table1

    fits = fit_table1(data)
    for model, coefs in TABLE1_PUBLISHED.items():
        ref = reference[reference["model"] == model].set_index("variable")["coef"]
        for term, value in coefs.items():
            assert round(float(ref[term]), 3) == pytest.approx(value, abs=1e-12), (model, term)
            assert fits[model].params[term] == pytest.approx(ref[term], abs=COEF_TOL)
