"""The NumPy path of the demeaning (small samples) and the numba kernels (large ones)
are one algorithm: same iterations, same result; threads change the result at
rounding level only."""

from __future__ import annotations

import numpy as np
import pytest

from gravity.hdfe import demean
from gravity.hdfe.demean import FixedEffects
from gravity.hdfe.factors import recode


def _problem(n_fe: int, n: int = 3000, seed: int = 0):
    rng = np.random.default_rng(seed)
    sizes = [60, 45, 300][:n_fe]
    codes = [recode(rng.integers(0, s, n))[0] for s in sizes]
    w = rng.exponential(size=n)
    Y = rng.normal(size=(n, 3)) + 0.1 * codes[0][:, None]
    return codes, w, Y


@pytest.mark.parametrize("n_fe", [1, 2, 3])
def test_numpy_path_equals_numba_kernel(monkeypatch, n_fe):
    codes, w, Y = _problem(n_fe)
    fe = FixedEffects(codes)
    monkeypatch.setattr(demean, "NUMPY_MAX_ROWS", 10**9)
    r_np, info_np = fe.demean(Y, w, tol=1e-10)
    monkeypatch.setattr(demean, "NUMPY_MAX_ROWS", 0)
    r_nb, info_nb = fe.demean(Y, w, tol=1e-10)
    assert info_np.converged.all() and info_nb.converged.all()
    np.testing.assert_array_equal(info_np.iterations, info_nb.iterations)
    np.testing.assert_allclose(r_np, r_nb, rtol=0, atol=1e-11 * np.abs(Y).max())
    # and both are the weighted residual on the dummies (exact least squares)
    D = np.hstack([np.eye(int(c.max()) + 1)[c] for c in codes])
    sw = np.sqrt(w)
    coef = np.linalg.lstsq(D * sw[:, None], Y * sw[:, None], rcond=None)[0]
    np.testing.assert_allclose(r_nb, Y - D @ coef, rtol=0, atol=1e-8)


@pytest.mark.parametrize("n_fe", [2, 3, 4])
def test_threads_change_the_result_at_rounding_level_only(monkeypatch, n_fe):
    """The rows are split across threads (each sums into its own copy of the
    coefficients): the result depends on the thread count only through the order of
    the sums, and is the same for the same count."""
    codes, w, Y = _problem(min(n_fe, 3))
    if n_fe == 4:  # a fourth fixed effect: the generic kernel
        codes = codes + [recode(np.arange(Y.shape[0]) % 7)[0]]
    fe = FixedEffects(codes)
    monkeypatch.setattr(demean, "NUMPY_MAX_ROWS", 0)
    monkeypatch.setattr(demean, "MIN_ROWS_PER_THREAD", 100)
    monkeypatch.setattr(demean, "_threads", lambda: 1)
    r1, i1 = fe.demean(Y, w, tol=1e-12)
    monkeypatch.setattr(demean, "_threads", lambda: 3)
    r3, i3 = fe.demean(Y, w, tol=1e-12)
    r3b, _ = fe.demean(Y, w, tol=1e-12)
    np.testing.assert_array_equal(r3, r3b)
    assert not np.array_equal(r1, r3)  # the sums did run in another order
    assert i1.converged.all() and i3.converged.all()
    np.testing.assert_allclose(r1, r3, rtol=0, atol=1e-10 * np.abs(Y).max())
    assert np.abs(i1.iterations - i3.iterations).max() <= 2


@pytest.mark.parametrize("big", [1e6, 1e10])
def test_extreme_weights_both_engines_exact(monkeypatch, big):
    """Weights of 1 and ``big`` (the rectifier of the separation check uses N^2), where
    the residual norm computed from inner products ahead of the fused update is most
    exposed to cancellation: both engines must still give the weighted least-squares
    residual on the dummies, in the same number of steps."""
    codes, _, Y = _problem(3, seed=1)
    rng = np.random.default_rng(2)
    w = np.where(rng.random(Y.shape[0]) < 0.4, 1.0, big)
    fe = FixedEffects(codes)
    D = np.hstack([np.eye(int(c.max()) + 1)[c] for c in codes])
    sw = np.sqrt(w)
    coef = np.linalg.lstsq(D * sw[:, None], Y * sw[:, None], rcond=None)[0]
    exact = Y - D @ coef
    results = []
    for rows in (10**9, 0):  # the NumPy path, then the numba kernel
        monkeypatch.setattr(demean, "NUMPY_MAX_ROWS", rows)
        r, info = fe.demean(Y, w, tol=1e-12)
        assert info.converged.all()
        np.testing.assert_allclose(r, exact, rtol=0, atol=1e-7 * np.abs(Y).max())
        results.append((r, info.iterations))
    np.testing.assert_array_equal(results[0][1], results[1][1])


def test_group_weights_equal_bincount(monkeypatch):
    """The one-pass numba group sums equal one ``np.bincount`` per fixed effect."""
    codes, w, _ = _problem(3)
    fe = FixedEffects(codes)
    monkeypatch.setattr(demean, "NUMPY_MAX_ROWS", 0)
    expected = np.concatenate([np.bincount(c, weights=w) for c in codes])
    np.testing.assert_array_equal(fe.group_weights(w), expected)


@pytest.mark.parametrize("n", [5, 40_000, 70_001])
def test_weighted_cross_equals_dense_product(n):
    """The blocked ``A W B'`` equals the product with the full weighted copy."""
    from gravity.hdfe.cross import weighted_cross

    rng = np.random.default_rng(n)
    A, B, w = rng.normal(size=(3, n)), rng.normal(size=(2, n)), rng.exponential(size=n)
    np.testing.assert_allclose(weighted_cross(A, w, B), (A * w) @ B.T, rtol=1e-12,
                               atol=1e-12 * n)
    np.testing.assert_allclose(weighted_cross(A, w), (A * w) @ A.T, rtol=1e-12,
                               atol=1e-12 * n)


def test_sweep_engine_for_scattered_codes_equals_the_coefficient_engine(monkeypatch):
    """Large designs whose codes jump around in memory use the sweep engine; both
    engines give the weighted least-squares residual."""
    codes, w, Y = _problem(3, seed=3)
    monkeypatch.setattr(demean, "NUMPY_MAX_ROWS", 0)
    coef = FixedEffects(codes)
    assert coef.engine == "coefficients"  # small: in cache wherever the codes point
    monkeypatch.setattr(demean, "CACHE_BYTES", 0)
    sweep = FixedEffects(codes)  # random codes: a jump on almost every row
    assert sweep.engine == "sweep"
    assert FixedEffects([np.sort(codes[0]), np.sort(codes[1])]).engine == "coefficients"
    r1, i1 = coef.demean(Y, w, tol=1e-12)
    r2, i2 = sweep.demean(Y, w, tol=1e-12)
    assert i1.converged.all() and i2.converged.all()
    D = np.hstack([np.eye(int(c.max()) + 1)[c] for c in codes])
    sw = np.sqrt(w)
    exact = Y - D @ np.linalg.lstsq(D * sw[:, None], Y * sw[:, None], rcond=None)[0]
    for r in (r1, r2):
        np.testing.assert_allclose(r, exact, rtol=0, atol=1e-8 * np.abs(Y).max())
