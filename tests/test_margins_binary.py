"""Fixed-effect logit / probit against statsmodels with explicit dummies; bias term
against a direct dummy-variable computation; APEs against closed forms."""

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from gravity.errors import InputError, SeparationWarning
from gravity.margins.binary import (
    average_partial_effects,
    bias_correct,
    bias_term,
    feglm_binary,
    lpm,
)


def _two_way(seed=0, n=30, t=8):
    rng = np.random.default_rng(seed)
    i = np.repeat(np.arange(n), t)
    tt = np.tile(np.arange(t), n)
    a = rng.normal(size=n)[i]
    g = rng.normal(size=t)[tt]
    x1 = rng.normal(size=n * t) + 0.5 * a
    x2 = (rng.random(n * t) < 0.4).astype(float)
    eta = 0.7 * x1 - 0.5 * x2 + a + g
    y = (rng.random(n * t) < 1 / (1 + np.exp(-eta))).astype(float)
    return pd.DataFrame(dict(y=y, x1=x1, x2=x2, i=i, t=tt))


def _three_way(seed=1, c=6, t=10):
    rng = np.random.default_rng(seed)
    e, m, yr = np.meshgrid(np.arange(c), np.arange(c), np.arange(t), indexing="ij")
    keep = e != m
    e, m, yr = e[keep], m[keep], yr[keep]
    n = e.size
    it = rng.normal(scale=0.5, size=(c, t))[e, yr]
    jt = rng.normal(scale=0.5, size=(c, t))[m, yr]
    ij = rng.normal(scale=0.5, size=(c, c))[e, m]
    x = rng.normal(size=n) + ij
    eta = 0.8 * x + it + jt + ij
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    return pd.DataFrame(dict(y=y, x=x, ey=e * 100 + yr, my=m * 100 + yr, pair=e * 10 + m))


def _dummies(sub, fes, xcols):
    d = pd.get_dummies(sub[fes].astype(str), drop_first=True, dtype=float)
    return sm.add_constant(pd.concat([sub[xcols], d], axis=1))


def _fit(formula, df, family):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SeparationWarning)
        return feglm_binary(formula, df, family=family, vcov="iid", ssc="none")


@pytest.mark.parametrize("family", ["logit", "probit"])
def test_two_way_matches_statsmodels_dummies(family):
    df = _two_way()
    r = _fit("y ~ x1 + x2 | i + t", df, family)
    sub = df.loc[r.in_sample]
    assert r.dropped.get("separated_fe", 0) > 0  # all-0 / all-1 individuals dropped
    Xd = _dummies(sub, ["i", "t"], ["x1", "x2"])
    if family == "logit":
        m = sm.Logit(sub.y, Xd).fit(disp=0, method="newton", tol=1e-12, maxiter=200)
        bse = m.bse
    else:
        m = sm.Probit(sub.y, Xd).fit(disp=0, method="newton", tol=1e-12, maxiter=200)
        # expected-information standard errors (IRLS), as alpaca / glm
        bse = sm.GLM(sub.y, Xd, family=sm.families.Binomial(sm.families.links.Probit())
                     ).fit(tol=1e-13).bse
    np.testing.assert_allclose(r.params[["x1", "x2"]], m.params[["x1", "x2"]], atol=1e-6)
    np.testing.assert_allclose(r.bse[["x1", "x2"]], bse[["x1", "x2"]], rtol=1e-5)
    assert r.loglik == pytest.approx(m.llf, abs=1e-6)
    # predictions are probabilities equal to statsmodels' fitted ones
    np.testing.assert_allclose(r.predict(), m.predict(Xd), atol=1e-6)


@pytest.mark.parametrize("family", ["logit", "probit"])
def test_three_way_matches_statsmodels_dummies(family):
    df = _three_way()
    r = _fit("y ~ x | ey + my + pair", df, family)
    sub = df.loc[r.in_sample]
    Xd = _dummies(sub, ["ey", "my", "pair"], ["x"])
    model = sm.Logit if family == "logit" else sm.Probit
    m = model(sub.y, Xd).fit(disp=0, method="newton", tol=1e-9, maxiter=200)
    assert r.converged
    assert r.params["x"] == pytest.approx(m.params["x"], abs=1e-6)


def test_bias_term_matches_dummy_computation():
    """b = -sum_q sum_g (sum_g x~ z) / (2 n sum_g w) with x~ the w-weighted residual of X
    on all dummies, computed by least squares (independent of the HDFE engine)."""
    df = _two_way(seed=3, n=40, t=10)
    r = _fit("y ~ x1 + x2 | i + t", df, "logit")
    sub = df.loc[r.in_sample]
    eta = r.predict(type="link")
    p = 1 / (1 + np.exp(-eta))
    w = p * (1 - p)
    z = w * (1 - 2 * p)
    D = _dummies(sub, ["i", "t"], []).to_numpy()
    X = sub[["x1", "x2"]].to_numpy()
    sw = np.sqrt(w)[:, None]
    coef = np.linalg.lstsq(D * sw, X * sw, rcond=None)[0]
    xt = X - D @ coef
    n = len(sub)
    b = np.zeros(2)
    for col in ["i", "t"]:
        g = sub[col].to_numpy()
        for lev in np.unique(g):
            s = g == lev
            b -= (xt[s] * z[s, None]).sum(0) / w[s].sum() / (2 * n)
    np.testing.assert_allclose(bias_term(r, "classic"), b, rtol=1e-7, atol=1e-12)
    rc = bias_correct(r)
    H = (xt * w[:, None]).T @ xt
    expected = r.params.to_numpy() - np.linalg.solve(H / n, b)
    np.testing.assert_allclose(rc.params.to_numpy(), expected, rtol=1e-7)
    assert rc.extra["bias_corrected"] and not r.extra["bias_corrected"]
    # the fixed effects are re-estimated at beta^bc: the score of every FE is zero
    resid = sub.y.to_numpy() - rc.predict()
    for col in ["i", "t"]:
        assert np.abs(pd.Series(resid).groupby(sub[col].to_numpy()).sum()).max() < 1e-6
    # logit bias correction shrinks the (upward-biased) MLE towards zero
    assert np.all(np.abs(rc.params) < np.abs(r.params))


def test_ape_closed_form_logit():
    df = _two_way(seed=4)
    r = _fit("y ~ x1 + x2 | i + t", df, "logit")
    ape = average_partial_effects(r, method="delta")
    eta = r.predict(type="link")
    p = 1 / (1 + np.exp(-eta))
    b1, b2 = r.params["x1"], r.params["x2"]
    x2 = df.loc[r.in_sample, "x2"].to_numpy()
    e0 = eta - b2 * x2
    assert ape.loc["x1", "estimate"] == pytest.approx(b1 * np.mean(p * (1 - p)), rel=1e-10)
    d2 = np.mean(1 / (1 + np.exp(-(e0 + b2))) - 1 / (1 + np.exp(-e0)))
    assert ape.loc["x2", "estimate"] == pytest.approx(d2, rel=1e-10)
    # delta-method SE of the continuous APE with the analytic gradient
    X = df.loc[r.in_sample, ["x1", "x2"]].to_numpy()
    f1 = p * (1 - p) * (1 - 2 * p)
    grad = b1 * (f1 @ X) / len(p)
    grad[0] += np.mean(p * (1 - p))
    se = np.sqrt(grad @ r.vcov.to_numpy() @ grad)
    assert ape.loc["x1", "std_error"] == pytest.approx(se, rel=1e-5)


def test_typed_errors_and_lpm():
    df = _two_way()
    bad = df.copy()
    bad.loc[5, "y"] = 2.0
    with pytest.raises(InputError) as e:
        feglm_binary("y ~ x1 | i + t", bad)
    assert e.value.column == "y" and 5 in e.value.rows
    with pytest.raises(InputError):
        lpm("y ~ x1 | i + t", bad)
    r = lpm("y ~ x1 + x2 | i + t", df, vcov="iid")
    # LPM = OLS with dummies
    Xd = _dummies(df, ["i", "t"], ["x1", "x2"])
    m = sm.OLS(df.y, Xd).fit()
    np.testing.assert_allclose(r.params, m.params[["x1", "x2"]], atol=1e-8)


def test_bias_correction_reduces_bias_small_monte_carlo():
    """20 panels, N = 40, T = 8, beta = 1: the corrected estimator's mean bias is
    smaller than the MLE's (full version: benchmarks/margins_montecarlo.py)."""
    rng = np.random.default_rng(11)
    mle, bc = [], []
    for _ in range(20):
        n, t = 40, 8
        a = rng.normal(size=n)
        g = rng.normal(scale=0.5, size=t)
        x = rng.normal(size=(n, t)) + 0.5 * a[:, None]
        eta = x + a[:, None] + g[None, :]
        y = (rng.random((n, t)) < 1 / (1 + np.exp(-eta))).astype(float)
        i, tt = np.meshgrid(np.arange(n), np.arange(t), indexing="ij")
        df = pd.DataFrame({"y": y.ravel(), "x": x.ravel(), "i": i.ravel(), "t": tt.ravel()})
        r = _fit("y ~ x | i + t", df, "logit")
        mle.append(r.params["x"])
        bc.append(bias_correct(r).params["x"])
    bias_mle, bias_bc = np.mean(mle) - 1.0, np.mean(bc) - 1.0
    assert bias_mle > 0.05  # the incidental-parameter bias is there
    assert abs(bias_bc) < 0.5 * bias_mle


def test_cloglog_matches_statsmodels_dummies():
    """cloglog ``P = 1 - exp(-exp(eta))`` (the entry equation of a Poisson number of
    exporters) against statsmodels' GLM with the complementary log-log link."""
    rng = np.random.default_rng(1)
    n, t = 60, 6
    i, tt = np.repeat(np.arange(n), t), np.tile(np.arange(t), n)
    a = rng.normal(size=n)[i]
    x = rng.normal(size=n * t) + a
    eta = -0.5 + 0.7 * x + a + 0.3 * rng.normal(size=t)[tt]
    y = (rng.random(n * t) < -np.expm1(-np.exp(eta))).astype(float)
    df = pd.DataFrame(dict(y=y, x=x, i=i, t=tt))
    r = _fit("y ~ x | i + t", df, "cloglog")
    sub = df.loc[r.in_sample]
    Xd = _dummies(sub, ["i", "t"], ["x"])
    m = sm.GLM(sub.y, Xd, family=sm.families.Binomial(sm.families.links.CLogLog())
               ).fit(tol=1e-13)
    assert r.params["x"] == pytest.approx(m.params["x"], abs=1e-6)
    assert r.bse["x"] == pytest.approx(m.bse["x"], rel=1e-5)
    assert r.loglik == pytest.approx(m.llf, abs=1e-6)
    np.testing.assert_allclose(r.predict(), m.predict(Xd), atol=1e-6)
    # the bias correction runs for the cloglog (same generic GLM terms)
    assert np.isfinite(bias_correct(r).params["x"])
