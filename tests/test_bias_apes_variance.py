"""The analytical variance of the average partial effects (issue 15) against a dense
oracle: the delta method over every parameter, slopes and fixed effects together.

With ``theta = (beta, alpha)`` (the fixed effects as dummy columns ``Z = [X, D]``),
``delta(theta) = n^{-1} sum_i Delta_i(theta)``, the information ``A = Z' W Z`` and the
scores ``Z_i v_i``, the influence of observation ``i`` on ``delta`` is
``grad delta' A^{-1} Z_i v_i``, with ``grad delta`` by central differences of the
closed-form APE in ``theta``. Summed within clusters (``G / (G - 1)``), its outer
product is the variance that ``average_partial_effects`` computes through the profiled
form ``Gamma_i = n^{-1} v_i (x~_i' (H / n)^{-1} J - P Psi_i)`` (Fernandez-Val and
Weidner 2016). Equality checks the Jacobian ``J``, the projection ``P Psi``, the point
at which they are evaluated (the corrected slopes and re-estimated fixed effects for a
corrected fit) and the cluster sums.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gravity.estimation import average_partial_effects, bias_correct, feglm_binary

N, T = 30, 8


def _panel(seed: int, family: str) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    i, t = np.repeat(np.arange(N), T), np.tile(np.arange(T), N)
    a, g = rng.normal(0.0, 0.7, N), rng.normal(0.0, 0.4, T)
    x = 0.5 * a[i] + rng.normal(size=N * T)
    d = (rng.uniform(size=N * T) < 0.4).astype(float)
    eta = 0.6 * x + 0.4 * d + a[i] + g[t] - (0.5 if family == "cloglog" else 0.0)
    p = 1.0 / (1.0 + np.exp(-eta)) if family == "logit" else -np.expm1(-np.exp(eta))
    y = (rng.uniform(size=N * T) < p).astype(float)
    return pd.DataFrame({"i": i, "t": t, "x": x, "d": d, "y": y})


def dense_parts(res, df: pd.DataFrame) -> dict[str, np.ndarray]:
    """The dense oracle's pieces: ``Z = [X, D]``, the IRLS weights ``w``, the scores
    ``v``, ``A^{-1}`` (``A = Z'WZ``), the influence rows without the score ``a_i = Z_i
    A^{-1} grad delta`` (n, 2) and the cluster codes ``i``."""
    r = res.record
    fam = r.family
    keep = res.in_sample
    sub = df.loc[keep].reset_index(drop=True)
    X = sub[["x", "d"]].to_numpy(float)
    ui = pd.factorize(sub["i"])[0]
    ut = pd.factorize(sub["t"])[0]
    D = np.column_stack([np.eye(ui.max() + 1)[ui], np.eye(ut.max() + 1)[ut][:, 1:]])
    Z = np.column_stack([X, D])
    eta = np.asarray(r.eta)
    theta = np.linalg.lstsq(Z, eta, rcond=None)[0]
    assert np.abs(Z @ theta - eta).max() < 1e-8  # eta is in the span of [X, D]
    h = fam.score_factor(eta)
    w = fam.mu_eta(eta) * h
    v = h * (sub["y"].to_numpy() - fam.inverse_link(eta))

    def apes(th: np.ndarray) -> np.ndarray:
        e = Z @ th
        cont = th[0] * fam.mu_eta(e).mean()
        e0 = e - X[:, 1] * th[1]
        disc = (fam.inverse_link(e0 + th[1]) - fam.inverse_link(e0)).mean()
        return np.array([cont, disc])

    step = 1e-6
    grad = np.column_stack([(apes(theta + step * e) - apes(theta - step * e)) / (2 * step)
                            for e in np.eye(theta.size)])  # (2, dim theta)
    a_inv = np.linalg.pinv((Z * w[:, None]).T @ Z)
    return {"Z": Z, "w": w, "v": v, "a_inv": a_inv, "a": Z @ a_inv @ grad.T, "i": ui}


def _dense_vcov(res, df: pd.DataFrame) -> np.ndarray:
    d = dense_parts(res, df)
    infl = d["a"] * d["v"][:, None]  # (n, 2)
    sums = np.zeros((d["i"].max() + 1, 2))
    np.add.at(sums, d["i"], infl)
    g = sums.shape[0]
    return sums.T @ sums * g / (g - 1.0)


@pytest.mark.parametrize("family", ["logit", "cloglog"])
def test_ape_variance_is_the_dense_delta_method(family):
    df = _panel(11, family)
    r = feglm_binary("y ~ x + d | i + t", df, family=family, vcov={"CRV1": "i"})
    rc = bias_correct(r)
    for res, corrected in ((r, False), (rc, True)):
        ape = average_partial_effects(res, bias_correction=corrected)
        got = ape.attrs["vcov"].to_numpy()
        want = _dense_vcov(res, df)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-14)
        # the uncorrected estimate is the closed form at the fit's own point
        eta = res.record.eta
        assert ape.attrs["estimate_uncorrected"]["x"] == pytest.approx(
            res.params["x"] * res.record.family.mu_eta(eta).mean(), rel=1e-10)
