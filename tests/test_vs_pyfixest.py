"""Agreement with pyfixest (test-only oracle) on simulated gravity panels.

Three fixed effects (exporter-year, importer-year, pair), zeros, unbalanced rows.
Tolerances: coefficients 1e-8 relative, standard errors 1e-6 relative, both engines
run with tight convergence tolerances.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import simulated_panel

import gravity as gv

pf = pytest.importorskip("pyfixest")

COEF_RTOL = 1e-8
SE_RTOL = 1e-6
VCOVS = ["iid", "hetero", {"CRV1": "pair"}, {"CRV1": "exporter+importer"}]


def _ids(v):
    return v if isinstance(v, str) else "CRV1-" + v["CRV1"]


@pytest.fixture(scope="module", params=[0, 1, 2])
def panel(request):
    return simulated_panel(n_exp=25 + 5 * request.param, n_imp=22, n_years=5 + request.param,
                           seed=request.param, unbalanced=0.15)


_FITS: dict = {}


def _fitted(panel, key, fit_ours, fit_ref, vcov, data=None):
    """Each model is fitted once per panel by each engine; the variance is switched
    (``with_vcov`` / pyfixest's ``vcov``) instead of refitting."""
    k = (id(panel), key)
    if k not in _FITS:
        _FITS[k] = (fit_ours(), fit_ref())
    ours, ref = _FITS[k]
    # the fit keeps only its own codes: other cluster columns come from the data
    return ours.with_vcov(vcov, data=panel if data is None else data), ref.vcov(vcov)


@pytest.mark.parametrize("vcov", VCOVS, ids=_ids)
def test_ppml_three_way_fe(panel, vcov):
    fml = "y ~ rta + x | exp_year + imp_year + pair"
    ours, ref = _fitted(
        panel, "ppml3",
        lambda: gv.ppml(fml, panel, tol=1e-12, fixef_tol=1e-12),
        lambda: pf.fepois(fml, panel, iwls_tol=1e-12, fixef_tol=1e-12, iwls_maxiter=100),
        vcov)
    assert ours.nobs == ref._N
    np.testing.assert_allclose(ours.params, ref.coef(), rtol=COEF_RTOL)
    np.testing.assert_allclose(ours.bse, ref.se(), rtol=SE_RTOL)


@pytest.mark.parametrize("vcov", VCOVS, ids=_ids)
def test_ppml_two_way_fe_time_invariant_regressors(panel, vcov):
    fml = "y ~ ln_dist + contig + rta + x | exp_year + imp_year"
    ours, ref = _fitted(
        panel, "ppml2",
        lambda: gv.ppml(fml, panel, tol=1e-12, fixef_tol=1e-12),
        lambda: pf.fepois(fml, panel, iwls_tol=1e-12, fixef_tol=1e-12, iwls_maxiter=100),
        vcov)
    np.testing.assert_allclose(ours.params, ref.coef(), rtol=COEF_RTOL)
    np.testing.assert_allclose(ours.bse, ref.se(), rtol=SE_RTOL)


@pytest.mark.parametrize("vcov", VCOVS, ids=_ids)
def test_ols_three_way_fe(panel, vcov):
    d = panel[panel["y"] > 0].copy()
    d["ln_y"] = np.log(d["y"])
    fml = "ln_y ~ rta + x | exp_year + imp_year + pair"
    ours, ref = _fitted(panel, "ols3", lambda: gv.ols(fml, d, fixef_tol=1e-12),
                        lambda: pf.feols(fml, d, fixef_tol=1e-12), vcov, data=d)
    assert ours.nobs == ref._N
    np.testing.assert_allclose(ours.params, ref.coef(), rtol=COEF_RTOL)
    np.testing.assert_allclose(ours.bse, ref.se(), rtol=SE_RTOL)
    assert ours.r2 == pytest.approx(ref._r2, rel=1e-8)
    assert ours.r2_within == pytest.approx(ref._r2_within, rel=1e-8)


def test_weighted_ols(panel):
    d = panel[panel["y"] > 0].copy()
    d["ln_y"] = np.log(d["y"])
    d["w"] = np.random.default_rng(5).uniform(0.5, 2.0, len(d))
    fml = "ln_y ~ rta + x + ln_dist | exp_year + imp_year"
    ours = gv.ols(fml, d, vcov="hetero", weights="w", fixef_tol=1e-12)
    ref = pf.feols(fml, d, vcov="hetero", weights="w", fixef_tol=1e-12)
    np.testing.assert_allclose(ours.params, ref.coef(), rtol=COEF_RTOL)
    np.testing.assert_allclose(ours.bse, ref.se(), rtol=SE_RTOL)


def test_ols_no_fixed_effects(panel):
    d = panel[panel["y"] > 0].copy()
    d["ln_y"] = np.log(d["y"])
    ours = gv.ols("ln_y ~ rta + x + ln_dist", d, vcov="hetero")
    ref = pf.feols("ln_y ~ rta + x + ln_dist", d, vcov="hetero")
    np.testing.assert_allclose(ours.params, ref.coef(), rtol=COEF_RTOL)
    np.testing.assert_allclose(ours.bse, ref.se(), rtol=SE_RTOL)
    np.testing.assert_allclose(ours.pvalues, ref.pvalue(), rtol=1e-6, atol=1e-12)
