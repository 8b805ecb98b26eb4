"""The within-transformation engine against sparse least squares (LSQR) on dummies."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import lsqr

from gravity.hdfe.demean import FixedEffects
from gravity.hdfe.factors import is_nested, prune_groups, recode


def _lsqr_residual(y, w, codes):
    n = y.size
    D = sp.hstack([sp.csr_matrix((np.ones(n), (np.arange(n), c)), shape=(n, c.max() + 1))
                   for c in codes]).tocsr()
    sw = np.sqrt(w)
    coef = lsqr(sp.diags(sw) @ D, sw * y, atol=1e-15, btol=1e-15, iter_lim=100_000)[0]
    return y - D @ coef


@pytest.mark.parametrize("n_fe", [1, 2, 3, 4])
def test_weighted_demeaning_equals_least_squares(n_fe):
    rng = np.random.default_rng(n_fe)
    n = 20_000
    sizes = [300, 200, 900, 40][:n_fe]
    codes = [rng.integers(0, s, n) for s in sizes]
    codes = [recode(c)[0] for c in codes]
    w = rng.exponential(size=n)
    Y = rng.normal(size=(n, 3)) + 0.01 * codes[0][:, None]
    R, info = FixedEffects(codes).demean(Y, w, tol=1e-12)
    assert info.converged.all()
    for k in range(3):
        np.testing.assert_allclose(R[:, k], _lsqr_residual(Y[:, k], w, codes), atol=1e-9)


def test_column_absorbed_by_fixed_effects_goes_to_zero():
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 50, 5000), rng.integers(0, 30, 5000)
    x = rng.normal(size=50)[a] + rng.normal(size=30)[b]  # exactly in the span of the FE
    r, info = FixedEffects([a, b]).demean(x, None, tol=1e-10)
    assert info.converged.all()
    assert np.abs(r).max() < 1e-8 * np.abs(x).max()


def test_identical_fixed_effects_do_not_break_the_iteration():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 20, 400)
    y = rng.normal(size=400)
    r, info = FixedEffects([a, a.copy()]).demean(y, rng.uniform(0.5, 2, 400), tol=1e-12)
    assert np.isfinite(r).all() and info.converged.all()
    r1, _ = FixedEffects([a]).demean(y, rng.uniform(0.5, 2, 400) * 0 + 1, tol=1e-12)
    r2, _ = FixedEffects([a, a.copy()]).demean(y, np.ones(400), tol=1e-12)
    np.testing.assert_allclose(r1, r2, atol=1e-12)


def test_prune_groups_and_nesting():
    g = np.array([0, 0, 1, 2, 2, 3])
    h = np.array([0, 0, 1, 0, 1, 1])
    y = np.array([1.0, 2.0, 0.0, 0.0, 0.0, 3.0])
    pr = prune_groups([g, h], y, drop_singletons=True, drop_all_zero=True)
    # g: groups 1 and 3 are singletons, group 2 has an all-zero outcome; rows 0-1 remain
    assert pr.keep.tolist() == [True, True, False, False, False, False]
    assert is_nested(np.array([0, 0, 1, 1]), np.array([5, 5, 6, 6]))
    assert not is_nested(np.array([0, 0, 1, 1]), np.array([5, 6, 6, 6]))
