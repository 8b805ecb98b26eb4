"""The estimation core: families, typed results, recorded warnings, the demeaning
interface (engine against the NumPy reference), fixed-effect degrees of freedom."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pandas as pd
import pytest

import gravity as gv
from gravity.errors import CollinearityWarning, MissingColumnError, SeparationWarning
from gravity.estimation import BinaryResults, LinearResults, PoissonResults, Summary
from gravity.hdfe import AlternatingProjections, DemeanConfig, FixedEffects, make_demeaner
from gravity.hdfe.components import fixed_effect_parameters, n_components
from gravity.inference import WaldTest


def _panel(seed=0, n=400):
    rng = np.random.default_rng(seed)
    d = pd.DataFrame({"a": rng.integers(0, 12, n), "b": rng.integers(0, 9, n),
                      "c": rng.integers(0, 5, n), "x": rng.normal(size=n),
                      "z": rng.normal(size=n), "w": rng.uniform(0.5, 2, n)})
    d["y"] = rng.poisson(np.exp(0.3 * d.x - 0.2 * d.z + 0.1 * d.a / 12))
    d["yb"] = (d["y"] > 0).astype(float)
    d["yl"] = 0.5 * d.x + d.a * 0.1 + rng.normal(size=n)
    return d


@pytest.mark.parametrize("n_fe", [1, 2, 3])
def test_engine_equals_numpy_reference(n_fe):
    rng = np.random.default_rng(n_fe)
    n = 3000
    codes = [rng.integers(0, g, n) for g in (40, 25, 7)[:n_fe]]
    codes = [pd.factorize(c)[0] for c in codes]
    Y = rng.normal(size=(n, 3)) + codes[0][:, None] * 0.1
    w = rng.uniform(0.2, 3.0, n)
    fast, info = FixedEffects(codes).demean(Y, w, tol=1e-12)
    ref, rinfo = AlternatingProjections(codes).demean(Y, w, tol=1e-13, maxiter=100_000)
    assert info.converged.all() and rinfo.converged.all()
    np.testing.assert_allclose(fast, ref, atol=1e-8)
    # the result is orthogonal (weighted) to every fixed effect's indicators
    for c in codes:
        sums = np.vstack([np.bincount(c, weights=w * fast[:, k]) for k in range(3)])
        assert np.abs(sums).max() < 1e-7
    assert isinstance(make_demeaner(codes, DemeanConfig(method="map")),
                      AlternatingProjections)


def test_estimates_do_not_depend_on_the_demeaning_algorithm():
    d = _panel(1)
    a = gv.ppml("y ~ x + z | a + b + c", d, tol=1e-12, fixef_tol=1e-12)
    b = gv.ppml("y ~ x + z | a + b + c", d, tol=1e-12, fixef_tol=1e-12, demean_method="map")
    np.testing.assert_allclose(a.params, b.params, atol=1e-8)
    np.testing.assert_allclose(a.bse, b.bse, rtol=1e-6)
    with pytest.raises(ValueError, match="demeaning method"):
        gv.ppml("y ~ x | a", d, demean_method="lsmr")


def test_fixed_effect_parameters_by_connected_components_equal_rank():
    rng = np.random.default_rng(5)
    # two disconnected blocks: firms 0-9 x years 0-4 and firms 10-19 x years 5-9
    f = rng.integers(0, 10, 300)
    blk = rng.integers(0, 2, 300)
    firm = f + 10 * blk
    year = rng.integers(0, 5, 300) + 5 * blk
    codes = [pd.factorize(firm)[0], pd.factorize(year)[0]]
    D = np.hstack([np.eye(int(c.max()) + 1)[c] for c in codes])
    assert n_components(*codes) == 2
    assert fixed_effect_parameters(codes, exact=True) == np.linalg.matrix_rank(D)
    assert fixed_effect_parameters(codes, exact=False) == np.linalg.matrix_rank(D) + 1
    d = pd.DataFrame({"firm": firm, "year": year, "x": rng.normal(size=300)})
    d["y"] = d.x + rng.normal(size=300)
    default = gv.ols("y ~ x | firm + year", d, vcov="iid")
    exact = gv.ols("y ~ x | firm + year", d, vcov="iid", ssc=gv.ssc(fixef_exact=True))
    assert exact.df_k == default.df_k - 1
    ratio = (exact.bse["x"] / default.bse["x"]) ** 2
    n = default.nobs
    assert ratio == pytest.approx((n - default.df_k) / (n - exact.df_k), rel=1e-12)


def test_result_classes_and_with_vcov_keeps_the_class():
    d = _panel(2)
    fits = {PoissonResults: gv.ppml("y ~ x | a + b", d),
            LinearResults: gv.ols("yl ~ x | a + b", d),
            BinaryResults: gv.logit("yb ~ x | a + b", d)}
    for cls, fit in fits.items():
        assert type(fit) is cls
        other = fit.with_vcov("hetero")
        assert type(other) is cls and other.vcov_type == "hetero"
        np.testing.assert_array_equal(other.params, fit.params)
        s = fit.summary()
        assert isinstance(s, Summary) and "x" in str(s) and "<table>" in s._repr_html_()
        assert len(repr(fit)) < 200 and type(fit).__name__ in repr(fit)
        w = fit.wald_test(["x"])
        assert isinstance(w, WaldTest) and w.df == 1
        assert w.statistic == pytest.approx(fit.tvalues["x"] ** 2, rel=1e-10)
    with pytest.raises(MissingColumnError, match="data="):
        fits[PoissonResults].with_vcov({"CRV1": "c"})
    v = fits[PoissonResults].with_vcov({"CRV1": "c"}, data=d)
    assert v.n_clusters == (5,)


def test_fit_keeps_no_reference_to_the_callers_data():
    d = _panel(3)
    ref = weakref.ref(d)
    fit = gv.ppml("y ~ x | a + b", d)
    del d
    gc.collect()
    assert ref() is None
    assert len(fit.fixed_effects()["a"]) == fit.fe_sizes[0]


def test_warnings_are_kept_on_the_result_and_still_raised():
    d = _panel(4)
    d["x2"] = 2 * d["x"]
    d.loc[d["a"] == 3, "y"] = 0
    with pytest.warns(CollinearityWarning):
        fit = gv.ppml("y ~ x + x2 | a + b", d)
    cats = {w.category for w in fit.warnings}
    assert {SeparationWarning, CollinearityWarning} <= cats
    assert fit.dropped_regressors == ["x2"]
    assert "Warnings: 2" in str(fit.summary())


def test_summary_header_shows_settings_that_change_the_numbers():
    d = _panel(5)
    d["off"] = 0.1
    fit = gv.ppml("y ~ x | a", d, weights="w", offset="off", ssc="glm")
    text = str(fit.summary())
    for part in ("Weights: w", "Offset: off", "Separation checks: fe, simplex, relu",
                 "adj=False"):
        assert part in text
    bc = gv.logit("yb ~ x | a + b", d, bias_correction="classic")
    assert "Bias correction: classic" in str(bc.summary())


def test_feglm_families_equal_the_thin_estimators():
    d = _panel(6)
    for fam, fn, y in (("poisson", gv.ppml, "y"), ("probit", gv.probit, "yb"),
                       ("cloglog", gv.cloglog, "yb")):
        a = gv.feglm(f"{y} ~ x | a", d, family=fam, tol=1e-10)
        b = fn(f"{y} ~ x | a", d, tol=1e-10)
        assert a.params["x"] == pytest.approx(b.params["x"], abs=1e-8)
    with pytest.raises(ValueError, match="unknown family"):
        gv.feglm("y ~ x", d, family="gamma")
