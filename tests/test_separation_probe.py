"""The default separation checks read their certificate off the fit (issue 13): a
Poisson fit runs first and the simplex and ReLU checks run only when its last IRLS
step does not prove that nothing is separated. The property that matters: a fit with
the default checks never keeps a separated observation. The oracle is a dense linear
programme written here (equality constraints on the explicit dummy design, HiGHS),
independent of the package's null-space programme and rectifier."""

from __future__ import annotations

import importlib
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog
from test_separation_certificate import _panel as _three_way_panel

import gravity as gv
from gravity.errors import GravityError
from gravity.estimation.separation import no_separation_margin
from gravity.hdfe import FixedEffects

feglm_module = importlib.import_module("gravity.estimation.feglm")


def _dense_design(d: pd.DataFrame, xs: list[str]) -> np.ndarray:
    parts = [d[xs].to_numpy(float)] if xs else []
    for k, col in enumerate(("f1", "f2")):
        dummies = pd.get_dummies(d[col], dtype=float).to_numpy()
        parts.append(dummies if k == 0 else dummies[:, 1:])
    return np.column_stack(parts)


def _separable(d: pd.DataFrame, xs: list[str]) -> float:
    """Largest ``sum_{y=0} z_i`` over ``z = A gamma`` with ``z = 0`` where ``y > 0`` and
    ``0 <= z <= 1`` where ``y = 0``: positive exactly when some row is separated."""
    A = _dense_design(d, xs)
    zero = d["y"].to_numpy() == 0
    if not zero.any():
        return 0.0
    A0, Ap = A[zero], A[~zero]
    res = linprog(-A0.sum(axis=0), A_ub=np.vstack([-A0, A0]),
                  b_ub=np.concatenate([np.zeros(zero.sum()), np.ones(zero.sum())]),
                  A_eq=Ap if Ap.size else None, b_eq=np.zeros(len(Ap)) if Ap.size else None,
                  bounds=(None, None), method="highs")
    assert res.status == 0, res.message
    return float(-res.fun)


def _panel(seed: int, n1: int, n2: int, zero_share: float, planted: str) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    f1, f2 = np.meshgrid(np.arange(n1), np.arange(n2), indexing="ij")
    f1, f2 = f1.ravel(), f2.ravel()
    n = f1.size
    x1 = rng.normal(size=n)
    mu = np.exp(0.5 * rng.normal(size=n1)[f1] + 0.5 * rng.normal(size=n2)[f2] + 0.3 * x1)
    y = rng.poisson(3 * mu).astype(float)
    y[rng.random(n) < zero_share] = 0.0
    x2 = rng.normal(size=n)
    if planted == "regressor":  # x2 > 0 on some zero rows only: they are separated
        rows = np.flatnonzero(y == 0)
        pick = rng.choice(rows, min(rows.size, int(rng.integers(1, 4))), replace=False)
        x2 = np.zeros(n)
        x2[pick] = rng.uniform(0.5, 2.0, pick.size)
    elif planted == "block":  # a block of f1 x f2 cells all zero, marked by a dummy
        a, bs = int(rng.integers(n1)), rng.choice(n2, max(1, n2 // 3), replace=False)
        cell = (f1 == a) & np.isin(f2, bs)
        y[cell] = 0.0
        x2 = cell.astype(float)
    d = pd.DataFrame({"y": y, "x1": x1, "x2": x2, "f1": f1, "f2": f2})
    if planted == "island":
        # separation by the fixed effects alone: level b of f2 is seen only with level a
        # of f1 (twice, positive), the other rows of a are zero; z = 1{f1 = a} - 1{f2 = b}
        # is 0 on every positive row and 1 on those zeros
        a, b = int(rng.integers(n1)), int(rng.integers(n2))
        d = d[(d["f2"] != b) | (d["f1"] == a)]
        cell = d[(d["f1"] == a) & (d["f2"] == b)].assign(y=rng.integers(1, 5, 1).astype(float))
        d = pd.concat([d.assign(y=np.where(d["f1"] == a, 0.0, d["y"])), cell],
                      ignore_index=True)
        d.loc[(d["f1"] == a) & (d["f2"] == b), "y"] = float(rng.integers(1, 5))
    return d


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(seed=st.integers(0, 10_000), n1=st.integers(4, 9), n2=st.integers(4, 9),
       zero_share=st.sampled_from([0.2, 0.45, 0.6]),
       planted=st.sampled_from(["none", "regressor", "block", "island"]))
def test_default_checks_never_keep_a_separated_row(seed, n1, n2, zero_share, planted):
    d = _panel(seed, n1, n2, zero_share, planted)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = gv.ppml("y ~ x1 + x2 | f1 + f2", d, vcov="hetero", tol=1e-12,
                          fixef_tol=1e-12)
    except GravityError:  # nothing identifiable left: a typed error, not a number
        event("typed error")
        return
    event(f"separated rows dropped: {len(fit.separated) > 0}")
    kept = d.loc[fit.in_sample]
    xs = list(fit.params.index)
    assert _separable(kept, xs) < 1e-6  # the oracle finds nothing left
    # and the estimates are the MLE on those rows (explicit dummies)
    glm = sm.GLM(kept["y"], _dense_design(kept, xs), family=sm.families.Poisson()).fit(
        tol=1e-13, maxiter=500)
    np.testing.assert_allclose(fit.fittedvalues.to_numpy(), glm.fittedvalues, rtol=1e-6,
                               atol=1e-8)


def _no_separation_panel(seed: int = 0) -> pd.DataFrame:
    """A three-way panel in which every pair keeps a positive flow (the certificate
    tests' panel, smaller)."""
    return _three_way_panel(seed, c=30, t=3)


def test_a_certified_fit_runs_no_check_and_equals_the_fe_only_fit(monkeypatch):
    d = _no_separation_panel()
    assert (d["y"] == 0).mean() > 0.2
    fml = "y ~ x | exp_year + imp_year + pair"
    plain = gv.ppml(fml, d, separation=("fe",))

    def boom(*args, **kwargs):
        raise AssertionError("the separation checks ran although the fit certified")

    monkeypatch.setattr(feglm_module, "drop_separated", boom)
    fit = gv.ppml(fml, d)
    assert fit.params.to_numpy().tolist() == plain.params.to_numpy().tolist()
    assert fit.bse.to_numpy().tolist() == plain.bse.to_numpy().tolist()
    assert fit.iterations == plain.iterations and len(fit.separated) == 0


def test_an_uncertified_fit_that_the_checks_clear_is_kept():
    """Rows with a tiny fitted value (a tiny positive flow in their group) keep the
    certificate from holding; the checks then find nothing and the fit is not redone:
    same numbers as the fit with the fixed-effect check only."""
    d = _no_separation_panel(1)
    pairs = d["pair"].unique()[:40]
    tiny = d["pair"].isin(pairs)
    d.loc[tiny, "y"] = np.where(d.loc[tiny, "y"] > 0, 1e-9, 0.0)
    d.loc[tiny & (d["y"] == 0), "y"] = 0.0
    fml = "y ~ x | exp_year + imp_year + pair"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = gv.ppml(fml, d)
        plain = gv.ppml(fml, d, separation=("fe",))
    assert len(fit.separated) == 0
    np.testing.assert_allclose(fit.params, plain.params, rtol=1e-12)


# ---------------------------------------------------------------- the certificate itself
def _certificate_case(seed: int = 0):
    """A weighted least-squares residual ``r`` of ``z`` on ``[x, D]`` with ``r < 0`` on
    the zero rows, as the last IRLS step of a converged fit leaves it."""
    rng = np.random.default_rng(seed)
    n = 400
    codes = [rng.integers(0, 20, n), rng.integers(0, 15, n)]
    fe = FixedEffects(codes)
    x = rng.normal(size=(n, 1))
    w = rng.uniform(0.2, 2.0, n)
    zero = rng.random(n) < 0.3
    z = rng.normal(size=n)
    z[zero] -= 6.0  # far below the fit on the zero rows
    work = np.vstack([z, x[:, 0]])
    fe.demean_inplace(work, w, tol=1e-13)
    beta = (work[1] * w) @ work[0] / ((work[1] * w) @ work[1])
    resid = work[0] - beta * work[1]
    return resid, w, zero, x, fe, codes


def test_certificate_accepts_an_exact_projection_negative_on_zero_rows():
    resid, w, zero, x, fe, codes = _certificate_case()
    assert (resid[zero] < 0).all()
    assert no_separation_margin(resid, w, zero, x, fe) > 1e3


@pytest.mark.parametrize("defect", ["sign", "tiny weight", "not orthogonal to D",
                                    "not orthogonal to x"])
def test_certificate_refuses_what_does_not_prove_it(defect):
    resid, w, zero, x, fe, codes = _certificate_case()
    row = int(np.flatnonzero(zero)[0])
    if defect == "sign":  # a zero row fitted from below: r_i >= 0, as at a separated row
        resid = resid.copy()
        resid[row] = 1e-3
    elif defect == "tiny weight":  # t_i below what the projection resolves
        w = w.copy()
        w[row] = 1e-30
    elif defect == "not orthogonal to D":
        resid = resid + 0.05 * (codes[0] == 3)
    else:
        resid = resid + 0.05 * x[:, 0] * (x[:, 0] > 0)
    assert no_separation_margin(resid, w, zero, x, fe) <= 1.0


@pytest.mark.parametrize("delta", [3.6e-4, 4.2e-4])
def test_a_regressor_dropped_as_nearly_collinear_does_not_hide_separation(delta):
    """``x2 = x1 + delta v`` with ``v`` on two zero rows: the fit drops ``x2`` as
    collinear, yet ``(x2 - x1) / delta = v`` separates those rows. The fit's certificate
    cannot rule out a direction with such coefficients, so the checks must run (and
    drop them, as the checks-first order did). Found by an independent review."""
    rng = np.random.default_rng(0)
    f1, f2 = (a.ravel() for a in np.meshgrid(np.arange(8), np.arange(8), indexing="ij"))
    a = rng.normal(size=64)
    y = rng.poisson(3 * np.exp(0.3 * rng.normal(size=8)[f1] + 0.3 * rng.normal(size=8)[f2]
                               + 0.3 * a)).astype(float)
    v = np.zeros(64)
    v[np.flatnonzero(y == 0)[:2]] = 1.0
    d = pd.DataFrame({"y": y, "x1": a, "x2": a + delta * v, "f1": f1, "f2": f2})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = gv.ppml("y ~ x1 + x2 | f1 + f2", d, vcov="hetero")
    assert "x2" not in fit.params.index  # dropped as collinear
    assert _separable(d.loc[fit.in_sample], ["x1", "x2"]) < 1e-6


def test_a_loose_tolerance_does_not_abandon_a_certified_fit(monkeypatch):
    d = _no_separation_panel(2)

    def boom(*args, **kwargs):
        raise AssertionError("the separation checks ran although the fit certified")

    fml = "y ~ x | exp_year + imp_year + pair"
    plain = gv.ppml(fml, d, separation=("fe",), tol=1e-4)
    monkeypatch.setattr(feglm_module, "drop_separated", boom)
    fit = gv.ppml(fml, d, tol=1e-4)
    assert fit.params.to_numpy().tolist() == plain.params.to_numpy().tolist()
