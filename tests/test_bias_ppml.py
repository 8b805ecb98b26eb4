"""Weidner-Zylkin (2021) correction of three-way and two-way PPML.

Oracles: the published output of the authors' Stata package ``ppml_fe_bias`` on its
example data (``../shared/reference/ppml_fe_bias_threeway.csv``, every figure to its 7
printed decimals); for the two-way variance a brute-force dense computation of the
leverage from the full dummy design (Frisch-Waugh: the same number by another route);
a small Monte Carlo (the benchmark's ``pois`` design, where the bias shows) for the bias
and the width of the corrected intervals.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import shared_path

import gravity as gv
from gravity.errors import EstimationError, GravityWarning, InputError
from gravity.estimation import BiasCorrectedPoissonResults, PoissonResults, bias_correct

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from ppml_bias_montecarlo import pois_panel, wz_panel  # noqa: E402

THREE = "trade ~ fta | isoexp^year + isoimp^year + isoexp^isoimp"


@pytest.fixture(scope="module")
def example():
    d = pd.read_csv(shared_path("data", "ppml_fe_bias", "ppmlfebias_example_data_manuf.csv"))
    ref = pd.read_csv(shared_path("reference", "ppml_fe_bias_threeway.csv"))
    fit = gv.ppml(THREE, d, vcov={"CRV1": "isoexp^isoimp"}, ssc="glm")
    return d, ref.set_index("quantity")["value"], fit, bias_correct(fit)


def test_published_example_to_seven_decimals(example):
    d, ref, fit, c = example
    assert isinstance(c, BiasCorrectedPoissonResults) and isinstance(c, PoissonResults)
    assert c.nobs == 20_600 and c.extra["variance_method"] == "exact"
    got = {"original_coef": c.params_uncorrected["fta"],
           "original_se_cluster_pair": c.extra["bse_uncorrected"]["fta"],
           "bias": c.bias["fta"], "bias_corrected_coef": c.params["fta"],
           "adjusted_se": c.bse["fta"]}
    for q, v in got.items():
        assert round(v, 7) == pytest.approx(ref[q], abs=1e-12), q
    # the unrounded figures the package displays
    assert c.bias["fta"] == pytest.approx(ref["bias_unrounded_display"], abs=1e-9)
    assert c.bse["fta"] == pytest.approx(ref["adjusted_se_unrounded_display"], abs=1e-10)


def test_example_approximation_and_result_object(example):
    d, ref, fit, exact = example
    approx = bias_correct(fit, variance="approx")
    assert approx.extra["variance_method"] == "approx"
    assert approx.params["fta"] == pytest.approx(exact.params["fta"], abs=1e-12)
    # the authors' approximation (one sweep of alternating projections): 2.2% above
    # the exact SE here (0.042878 vs 0.041956), both well above the uncorrected SE
    assert approx.bse["fta"] == pytest.approx(0.0428782, abs=1e-7)
    assert 1.0 < approx.bse["fta"] / exact.bse["fta"] < 1.03
    s = str(exact.summary())
    assert "Bias correction: Weidner-Zylkin (2021) three-way PPML: bias and variance (exact)" in s
    # fixed effects re-estimated at the corrected slope: predictions reproduce the fit
    pred = exact.predict(d.loc[exact.in_sample])
    assert np.allclose(pred, exact.fittedvalues.to_numpy(), rtol=1e-8)
    assert not np.allclose(exact.fittedvalues, fit.fittedvalues, rtol=1e-6)
    tab = str(gv.etable([fit, exact]))
    assert "0.178" in tab and "0.170" in tab
    with pytest.raises(EstimationError, match="already bias-corrected"):
        bias_correct(exact)


def test_ppml_option_and_with_vcov(example):
    """``ppml(..., bias_correction=True)`` is ``bias_correct(ppml(...))``; ``with_vcov``
    restates the pair clustering (any coding of the pairs) with any ``ssc``, and
    refuses other variances with a typed error."""
    d, ref, fit, exact = example
    one = gv.ppml(THREE, d, vcov={"CRV1": "isoexp^isoimp"}, ssc="glm", bias_correction=True)
    assert isinstance(one, BiasCorrectedPoissonResults)
    assert np.array_equal(one.params, exact.params) and np.array_equal(one.bse, exact.bse)
    # ssc: the same factor the uncorrected fit would apply (fixest default: also
    # (N-1)/(N-K)); equal to correcting a fit made with that ssc
    direct = bias_correct(fit.with_vcov(ssc="fixest"))
    restated = exact.with_vcov(ssc="fixest")
    assert restated.bse["fta"] == pytest.approx(direct.bse["fta"], rel=1e-12)
    assert restated.bse["fta"] > exact.bse["fta"]
    assert exact.with_vcov(ssc="glm").bse["fta"] == exact.bse["fta"]
    # no small-sample factor: G/(G-1) removed
    g = exact.n_clusters[0]
    assert exact.with_vcov(ssc="none").bse["fta"] == pytest.approx(
        exact.bse["fta"] * np.sqrt((g - 1) / g), rel=1e-12)
    # the same pairs, written another way: accepted, same numbers
    d2 = d.assign(pair=d["isoexp"] + "_" + d["isoimp"])
    same = exact.with_vcov({"CRV1": "isoimp^isoexp"})
    assert same.bse["fta"] == exact.bse["fta"]
    assert exact.with_vcov({"CRV1": "pair"}, data=d2).bse["fta"] == exact.bse["fta"]
    # approx keeps the method through with_vcov
    assert bias_correct(fit, variance="approx").with_vcov(ssc="fixest").extra[
        "variance_method"] == "approx"
    for bad in ("hetero", "iid", {"CRV1": "isoexp"}, {"CRV1": "isoexp+isoimp"}):
        with pytest.raises(EstimationError, match="defined for the variance it corrects"):
            exact.with_vcov(bad, data=d)
    with pytest.raises(EstimationError, match="pass data="):
        exact.with_vcov({"CRV1": "pair"})
    # a fit clustered otherwise: the corrected variance is by pair, and says so
    with pytest.warns(GravityWarning, match="clustered by pair"):
        het = bias_correct(fit.with_vcov("hetero"))
    assert het.bse["fta"] == exact.bse["fta"]
    assert any("clustered by pair" in str(w.message) for w in het.warnings)
    with pytest.raises(InputError, match="bias_correction"):
        gv.ppml(THREE, d, bias_correction="network")
    with pytest.raises(InputError, match="bias_variance"):
        gv.ppml(THREE, d, bias_correction=True, bias_variance="fast")


def _dummies(codes: np.ndarray) -> np.ndarray:
    _, inv = np.unique(codes, return_inverse=True)
    return np.eye(inv.max() + 1)[inv]


def test_twoway_variance_equals_dense_leverage():
    d = wz_panel(9, 4, seed=3)
    d["pair"] = d["exp"] * 100 + d["imp"]
    d = d.sample(frac=0.9, random_state=1).reset_index(drop=True)  # unbalanced
    f = gv.ppml("y ~ x | exp^year + imp^year", d, vcov={"CRV1": "pair"}, ssc="glm",
                separation=("fe",), tol=1e-12, fixef_tol=1e-12)
    c = bias_correct(f)
    assert c.extra["model"] == "two-way"
    assert c.params["x"] == f.params["x"] and c.bias["x"] == 0.0
    mu, e = f.predict(), d["y"].to_numpy() - f.predict()
    zf = np.hstack([_dummies(d["exp"] * 1000 + d["year"]), _dummies(d["imp"] * 1000 + d["year"])])
    x = d[["x"]].to_numpy()
    xt = x - zf @ np.linalg.pinv(zf.T @ (mu[:, None] * zf)) @ zf.T @ (mu[:, None] * x)
    z = np.hstack([zf, x])
    q = z @ np.linalg.pinv(z.T @ (mu[:, None] * z)) @ z.T
    meat = np.zeros((1, 1))
    for idx in d.groupby("pair").indices.values():
        h = mu[idx][:, None] * q[np.ix_(idx, idx)]
        u = np.linalg.solve(np.eye(len(idx)) - h, e[idx])
        meat += np.outer(xt[idx].T @ u, xt[idx].T @ e[idx])
    w_inv = 1.0 / float(xt[:, 0] @ (mu * xt[:, 0]))
    g = d["pair"].nunique()
    se = np.sqrt(w_inv * 0.5 * (meat + meat.T)[0, 0] * w_inv * g / (g - 1))
    assert c.bse["x"] == pytest.approx(se, rel=1e-7)
    assert c.bse["x"] > f.bse["x"]
    # with_vcov: the fit's own cluster restated, ssc changed; other variances refused
    assert c.with_vcov({"CRV1": "pair"}).bse["x"] == c.bse["x"]
    assert c.with_vcov(ssc="none").bse["x"] == pytest.approx(se * np.sqrt((g - 1) / g),
                                                             rel=1e-7)
    with pytest.raises(EstimationError, match="clustered by pair"):
        c.with_vcov("hetero")


def test_approximate_variance_against_exact_on_simulated_designs(monkeypatch):
    """The authors' approximation (one sweep of alternating projections) against the
    exact leverage: within 2% (below) in the agreement-dummy (wz) design at N = 30, within 15%
    (below) with many small counts (``pois``, N = 20: 5-11% measured), and chosen by
    ``"auto"`` above ``APPROX_ABOVE`` time effects."""
    from gravity.estimation import ppml_bias

    fml = "y ~ x | exp^year + imp^year + exp^imp"
    d = wz_panel(30, 5, seed=11)
    f = gv.ppml(fml, d, vcov={"CRV1": "exp^imp"}, ssc="glm", separation=("fe",))
    exact, approx = bias_correct(f, variance="exact"), bias_correct(f, variance="approx")
    assert 0.98 < approx.bse["x"] / exact.bse["x"] < 1.0
    assert exact.bse["x"] > f.bse["x"] * 1.02  # the correction is not negligible here
    assert exact.extra["variance_method"] == "exact"  # 300 time effects: exact
    monkeypatch.setattr(ppml_bias, "APPROX_ABOVE", 299)
    auto = bias_correct(f)
    assert auto.extra["variance_method"] == "approx" and auto.bse["x"] == approx.bse["x"]
    for seed in (0, 1):
        d = pois_panel(20, 5, seed=seed)
        f = gv.ppml(fml, d, vcov={"CRV1": "exp^imp"}, ssc="glm", separation=("fe",))
        ratio = bias_correct(f, variance="approx").bse["x"] / bias_correct(
            f, variance="exact").bse["x"]
        assert 0.85 < ratio < 1.0


def test_small_montecarlo_bias_and_intervals():
    """60 draws of the benchmark's ``pois`` design (N = 15, T = 5), where the three-way
    PPML estimate is biased by about half its SD: the correction removes at least 40% of
    the bias and its SE matches the spread of the corrected estimates (the plain SE is
    too small)."""
    b, se, b_bc, se_bc = [], [], [], []
    for s in range(60):
        d = pois_panel(15, 5, seed=100 + s)
        f = gv.ppml("y ~ x | exp^year + imp^year + exp^imp", d, vcov={"CRV1": "exp^imp"},
                    ssc="glm", separation=("fe",))
        c = bias_correct(f)
        b.append(f.params["x"])
        se.append(f.bse["x"])
        b_bc.append(c.params["x"])
        se_bc.append(c.bse["x"])
    bias, bias_bc = np.mean(b) - 1.0, np.mean(b_bc) - 1.0
    sd, sd_bc = float(np.std(b, ddof=1)), float(np.std(b_bc, ddof=1))
    assert bias > 2.5 * sd / np.sqrt(len(b))  # the design shows the bias
    assert abs(bias_bc) < 0.6 * bias
    assert np.mean(se) / sd < 0.95
    assert 0.9 < np.mean(se_bc) / sd_bc < 1.2


@pytest.mark.parametrize("formula,match", [
    ("y ~ x | exp^year", "needs exporter-time, importer-time"),
    ("y ~ x | exp^year + imp^year + exp^grp", "structure"),
    ("y ~ x | exp^year + imp^year + exp", "one row per exporter, importer and period"),
    ("y ~ x | exp + imp + year", "one row per exporter, importer and period"),
])
def test_wrong_fixed_effects_are_typed_errors(formula, match):
    d = wz_panel(6, 3, seed=0)
    d["grp"] = d["imp"] % 3
    f = gv.ppml(formula, d, separation=("fe",))
    with pytest.raises(EstimationError, match=match):
        bias_correct(f)


def test_other_models_are_typed_errors():
    d = wz_panel(6, 3, seed=0)
    d["w"] = 1.0 + d["exp"] % 2
    with pytest.raises(EstimationError, match="OLS fit"):
        bias_correct(gv.ols("y ~ x | exp^year + imp^year", d))
    f = gv.ppml("y ~ x | exp^year + imp^year + exp^imp", d, weights="w", separation=("fe",))
    with pytest.raises(EstimationError, match="unweighted"):
        bias_correct(f)
    f = gv.ppml("y ~ x | exp^year + imp^year", d, vcov="iid", separation=("fe",))
    with pytest.raises(EstimationError, match="pair-clustered"):
        bias_correct(f)
    with pytest.raises(EstimationError, match="panel_structure"):
        bias_correct(f, panel_structure="network")
    # two-way fit clustered by exporter-year (the default): not pairs
    with pytest.raises(EstimationError, match="two-way variance correction needs the fit "
                                              "clustered by pair"):
        gv.ppml("y ~ x | exp^year + imp^year", d, separation=("fe",), bias_correction=True)
