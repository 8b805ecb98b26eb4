"""Average partial effects of fixed-effect binary models, bias-corrected, with analytical
standard errors (Fernandez-Val and Weidner 2016; alpaca's ``getAPEs``), checked against
a simulated two-way logit design whose APEs are known: the APE at the true parameters on
the realised sample, ``beta_x mean f(eta)`` and ``mean [F(eta^(1)) - F(eta^(0))]``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gravity.errors import EstimationError
from gravity.estimation import average_partial_effects, bias_correct, logit, ppml

BETA = (1.0, 0.5)  # continuous x, binary d


def _panel(n: int, t: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    i, tt = np.repeat(np.arange(n), t), np.tile(np.arange(t), n)
    a, g = rng.normal(size=n), rng.normal(0.0, 0.5, t)
    x = 0.5 * a[i] + g[tt] + rng.normal(size=n * t)
    d = (rng.uniform(size=n * t) < 1.0 / (1.0 + np.exp(-a[i]))).astype(float)
    eta = BETA[0] * x + BETA[1] * d + a[i] + g[tt]
    y = (rng.logistic(size=n * t) < eta).astype(float)
    return pd.DataFrame({"i": i, "t": tt, "x": x, "d": d, "y": y}), eta


def _true_apes(eta: np.ndarray, d: np.ndarray) -> np.ndarray:
    p = 1.0 / (1.0 + np.exp(-eta))
    e0 = eta - BETA[1] * d
    return np.array([BETA[0] * np.mean(p * (1 - p)),
                     np.mean(1 / (1 + np.exp(-(e0 + BETA[1]))) - 1 / (1 + np.exp(-e0)))])


@pytest.fixture(scope="module")
def draws():
    out = []
    for s in range(40):
        df, eta = _panel(50, 10, seed=s)
        r = logit("y ~ x + d | i + t", df, vcov={"CRV1": "i"})
        rc = bias_correct(r)
        a0, a1 = average_partial_effects(r), average_partial_effects(rc)
        kept = r.in_sample
        tr = _true_apes(eta[kept], df["d"].to_numpy()[kept])
        out.append(np.r_[a0["estimate"] - tr, a1["estimate"] - tr, a1["std_error"]])
    return np.array(out)


def test_corrected_apes_recover_the_known_apes(draws):
    err0, err1, se1 = draws[:, :2], draws[:, 2:4], draws[:, 4:6]
    sd = err1.std(axis=0, ddof=1)
    # the correction moves the continuous APE towards the truth; what is left is small
    assert abs(err1[:, 0].mean()) < abs(err0[:, 0].mean())
    assert np.all(np.abs(err1.mean(axis=0)) < 0.3 * sd)
    # the analytical SE (slopes and fixed effects estimated) matches the spread
    assert np.all((0.8 < se1.mean(axis=0) / sd) & (se1.mean(axis=0) / sd < 1.25))
    cover = (np.abs(err1) <= 1.96 * se1).mean(axis=0)
    assert np.all(cover >= 0.875)


def test_ape_table_and_closed_form():
    df, _ = _panel(40, 8, seed=7)
    r = logit("y ~ x + d | i + t", df, vcov={"CRV1": "i"})
    rc = bias_correct(r)
    ape = average_partial_effects(rc)
    assert list(ape.index) == ["x", "d"] and ape.attrs["method"] == "analytical"
    # the uncorrected estimate is the closed form at the corrected fit
    eta = rc.predict(type="link")
    p = 1.0 / (1.0 + np.exp(-eta))
    assert ape.attrs["estimate_uncorrected"]["x"] == pytest.approx(
        rc.params["x"] * np.mean(p * (1 - p)), rel=1e-12)
    assert ape.loc["x", "estimate"] == pytest.approx(
        ape.attrs["estimate_uncorrected"]["x"] - ape.attrs["bias"]["x"], rel=1e-12)
    # hetero (alpaca's default) vs clustered by individual differ but are of one size
    het = average_partial_effects(rc, vcov="hetero")
    assert 0.5 < het.loc["x", "std_error"] / ape.loc["x", "std_error"] < 2.0
    with pytest.raises(EstimationError, match="logit, probit and cloglog"):
        average_partial_effects(ppml("y ~ x | i + t", df))
