"""The direct two-way solve (:mod:`gravity.hdfe.direct`) against a dense least-squares
oracle, on random two-way designs (connected or not, weighted, chains), and its use by
the demeaning engine when the iterations are slow."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from gravity.hdfe import FixedEffects
from gravity.hdfe import demean as demean_module
from gravity.hdfe.direct import TwoWayPlan


def dense_residual(c1: np.ndarray, c2: np.ndarray, w: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """``Y - D (D'WD)^+ D'WY`` by dense least squares on ``sqrt(W) D``."""
    D = np.hstack([np.eye(c1.max() + 1)[c1], np.eye(c2.max() + 1)[c2]])
    sw = np.sqrt(w)
    coef = np.linalg.lstsq(D * sw[:, None], Y.T * sw[:, None], rcond=None)[0]
    return Y - (D @ coef).T


def design(seed: int, n: int, g1: int, g2: int, chain: bool, blocks: int):
    rng = np.random.default_rng(seed)
    c1 = rng.integers(0, g1, n)
    c2 = (c1 * g2 // g1 + rng.integers(0, 3, n)) % g2 if chain else rng.integers(0, g2, n)
    if blocks > 1:  # disconnected: block b's levels only meet block b's
        b = rng.integers(0, blocks, n)
        c1, c2 = c1 * blocks + b, c2 * blocks + b
    _, c1 = np.unique(c1, return_inverse=True)
    _, c2 = np.unique(c2, return_inverse=True)
    w = rng.uniform(0.1, 3.0, n)
    Y = rng.normal(size=(2, n)) + 3 * np.sin(c1)[None, :]
    return c1, c2, w, Y


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(5, 300), g1=st.integers(1, 40),
       g2=st.integers(1, 25), chain=st.booleans(), blocks=st.integers(1, 3),
       unit=st.booleans())
def test_direct_solve_equals_dense_least_squares(seed, n, g1, g2, chain, blocks, unit):
    c1, c2, w, Y = design(seed, n, g1, g2, chain, blocks)
    if unit:
        w = np.ones(n)
    plan = TwoWayPlan.build(c1, c2)
    assume(plan is not None)  # (dense designs: test_dense_designs_are_left_...)
    assert plan is not None
    work = Y.copy()
    factor = plan.factor(np.broadcast_to(1.0, n) if unit else w)
    assert factor is not None
    factor.subtract_fixed_effects(work, np.broadcast_to(1.0, n) if unit else w)
    ref = dense_residual(c1, c2, w, Y)
    scale = np.abs(Y).max()
    np.testing.assert_allclose(work, ref, rtol=0, atol=1e-9 * scale)


def test_dense_designs_are_left_to_the_iterations():
    """Exporter-year x importer-year: every level meets every other of its year, the
    product B' d^-1 B would cost far more than the rows: no plan."""
    c, t = 30, 4
    e, i, y = np.meshgrid(np.arange(c), np.arange(c), np.arange(t), indexing="ij")
    keep = (e != i).ravel()
    ey = (e * t + y).ravel()[keep]
    iy = (i * t + y).ravel()[keep]
    assert TwoWayPlan.build(ey, iy) is None


@pytest.mark.parametrize("rows", [3_000, 30_000])  # the NumPy and the numba passes
def test_slow_chain_switches_to_the_direct_solve(rows, monkeypatch):
    """A chain of levels (the iterations' worst case): after DIRECT_AFTER steps the
    engine builds the plan, and the result is the dense oracle's (and the same at the
    next call, which starts from the plan)."""
    monkeypatch.setattr(demean_module, "DIRECT_AFTER", 5)
    rng = np.random.default_rng(3)
    f1 = rng.integers(0, rows // 10, rows)
    f2 = f1 // 4 + rng.integers(0, 10, rows)
    _, c1 = np.unique(f1, return_inverse=True)
    _, c2 = np.unique(f2, return_inverse=True)
    w = rng.uniform(0.5, 2.0, rows)
    Y = rng.normal(size=(2, rows)) + np.cos(c2)[None, :]
    fe = FixedEffects([c1, c2])
    work = Y.copy()
    info = fe.demean_inplace(work, w, tol=1e-10)
    assert isinstance(fe._plan, TwoWayPlan) and info.converged.all()
    # oracle: orthogonal to both fixed effects, and Y minus a combination of them
    for c in (c1, c2):
        sums = np.stack([np.bincount(c, w * r) for r in work])
        assert np.abs(sums).max() < 1e-8 * np.abs(Y).max() * w.sum() / c.max()
    if rows <= 3_000:
        np.testing.assert_allclose(work, dense_residual(c1, c2, w, Y), rtol=0, atol=1e-8)
    again = Y.copy()
    info2 = fe.demean_inplace(again, w, tol=1e-10)
    assert info2.iterations.max() <= 5  # the plan: a check of a step or two
    np.testing.assert_allclose(again, work, rtol=0, atol=1e-9)


def test_zero_weight_rows_never_spoil_the_result(monkeypatch):
    """Rows of zero weight (a Poisson fit's underflowed means) may split a component:
    the factor is singular, and the iterations alone do the work."""
    monkeypatch.setattr(demean_module, "DIRECT_AFTER", 2)
    rng = np.random.default_rng(4)
    n = 400
    c1 = np.repeat(np.arange(100), 4)
    c2 = (c1 // 2 + rng.integers(0, 3, n))
    _, c2 = np.unique(c2, return_inverse=True)
    w = rng.uniform(0.5, 2.0, n)
    w[::7] = 0.0
    Y = rng.normal(size=(1, n))
    fe = FixedEffects([c1, c2])
    work = Y.copy()
    fe.demean_inplace(work, w, tol=1e-12)
    live = w > 0
    for c in (c1, c2):
        assert np.abs(np.bincount(c, w * work[0])).max() < 1e-9
    ref = dense_residual(c1[live], c2[live], w[live], Y[:, live])
    # on the rows that carry weight the residual is unique where the levels are
    # identified; compare the weighted sum of squares (unique in every case)
    np.testing.assert_allclose((w * work[0] ** 2).sum(), (w[live] * ref[0] ** 2).sum(),
                               rtol=1e-9)


def test_a_spoiled_solve_is_not_used():
    """A factor whose solve returns garbage (huge coefficients) would raise the weighted
    sum of squares: the row is left as it was (the iterations then do the work)."""
    c1, c2, w, Y = design(5, 200, 30, 12, True, 1)
    plan = TwoWayPlan.build(c1, c2)
    assert plan is not None
    factor = plan.factor(w)
    assert factor is not None

    class Garbage:
        def solve(self, rhs):
            return 1e12 * np.ones_like(rhs) * np.arange(rhs.size)

    spoiled = type(factor)(factor.plan, factor.cross, factor.inv_big, factor.free, Garbage())
    work = Y.copy()
    spoiled.subtract_fixed_effects(work, w)
    np.testing.assert_array_equal(work, Y)
    fine = Y.copy()
    factor.subtract_fixed_effects(fine, w)
    np.testing.assert_allclose(fine, dense_residual(c1, c2, w, Y), rtol=0, atol=1e-9)


def test_fixed_effects_pickle_with_their_plan(monkeypatch):
    """A FixedEffects object (its lock left behind, a new one on arrival) and its plan
    survive pickling, and the copy demeans as the original."""
    import pickle

    monkeypatch.setattr(demean_module, "DIRECT_AFTER", 3)
    c1, c2, w, Y = design(7, 300, 60, 20, True, 1)
    fe = FixedEffects([c1, c2])
    first = Y.copy()
    fe.demean_inplace(first, w, tol=1e-12)
    copy = pickle.loads(pickle.dumps(fe))
    again = Y.copy()
    copy.demean_inplace(again, w, tol=1e-12)
    assert isinstance(copy._plan, type(fe._plan))
    np.testing.assert_allclose(again, first, rtol=0, atol=1e-10)
