"""Review of the direct two-way solve (gravity.hdfe.direct, FixedEffects.demean_inplace):
an independent reviewer's counterexamples (each failed on main at b408b90), kept as
regression tests."""

from __future__ import annotations

import numpy as np

from gravity.hdfe import FixedEffects
from gravity.hdfe import demean as demean_module
from gravity.hdfe.direct import TwoWayPlan


def dense_residual(c1: np.ndarray, c2: np.ndarray, w: np.ndarray, Y: np.ndarray) -> np.ndarray:
    D = np.hstack([np.eye(c1.max() + 1)[c1], np.eye(c2.max() + 1)[c2]])
    sw = np.sqrt(w)
    coef = np.linalg.lstsq(D * sw[:, None], Y.T * sw[:, None], rcond=None)[0]
    return Y - (D @ coef).T


def chain(n: int, g: int, seed: int = 0, spread: int = 3):
    rng = np.random.default_rng(seed)
    f1 = rng.integers(0, g, n)
    f2 = f1 // 4 + rng.integers(0, spread, n)
    _, c1 = np.unique(f1, return_inverse=True)
    _, c2 = np.unique(f2, return_inverse=True)
    return c1, c2, rng


def rejected_design() -> tuple[np.ndarray, np.ndarray, np.random.Generator]:
    """60,000 rows whose two fixed effects need about 150 CG steps and whose plan is too
    costly (each level of f1 meets about 36 levels of f2)."""
    rng = np.random.default_rng(0)
    n = 60_000
    f1 = rng.integers(0, 1500, n)
    f2 = f1 + rng.integers(0, 40, n)
    _, c1 = np.unique(f1, return_inverse=True)
    _, c2 = np.unique(f2, return_inverse=True)
    return c1, c2, rng


def test_unsigned_64bit_codes_on_the_direct_path(monkeypatch):
    """uint64 codes are demeaned by the iterations, but the plan mixes them with int64
    (``big.astype(int64) * g_small + small`` is float64) and np.bincount raises
    TypeError: a fit that worked before the change now crashes once the iterations are
    slow."""
    monkeypatch.setattr(demean_module, "DIRECT_AFTER", 2)
    c1, c2, rng = chain(400, 100)
    w = rng.uniform(0.5, 2, 400)
    Y = rng.normal(size=(2, 400))
    fe = FixedEffects([c1.astype(np.uint64), c2.astype(np.uint64)])
    work = Y.copy()
    fe.demean_inplace(work, w, tol=1e-12)  # TypeError on main
    np.testing.assert_allclose(work, dense_residual(c1, c2, w, Y), rtol=0, atol=1e-10)


def test_a_nan_result_is_not_reported_as_converged(monkeypatch):
    """Levels whose weights are subnormal (1/sum overflows) make the iterations produce
    NaN. The iterations alone report that column as not converged (10,000 steps); with
    the switch, the second round of iterations restarts from the NaN column, takes it
    as 'nothing to remove' (ss0 > 1e-300 is False for NaN) and reports converged=True:
    a NaN that no warning flags."""
    c1, c2, rng = chain(600, 150)
    Y = rng.normal(size=(2, 600)) + 5 * np.sin(c1)[None]
    w = rng.uniform(0.5, 2, 600)
    w[np.isin(c1, np.arange(0, 150, 7))] = 1e-310
    monkeypatch.setattr(demean_module, "DIRECT_AFTER", 10**9)
    work = Y.copy()
    info = FixedEffects([c1, c2]).demean_inplace(work, w, tol=1e-10)
    assert not np.isfinite(work).all() and not info.converged.any()  # before: flagged
    monkeypatch.setattr(demean_module, "DIRECT_AFTER", 100)
    work = Y.copy()
    info = FixedEffects([c1, c2]).demean_inplace(work, w, tol=1e-10)
    assert np.isfinite(work).all() or not info.converged.any(), \
        f"NaN output reported converged={info.converged} after {info.iterations} steps"


def test_a_rejected_plan_does_not_slow_the_first_demeaning(monkeypatch):
    """A design that needs somewhat more than DIRECT_AFTER steps and whose plan is too
    costly (each level of f1 meets ~36 levels of f2: sum deg^2 > 16 N): the first
    demeaning stops the iterations at 100 steps, builds and rejects the plan, and
    restarts conjugate gradients from scratch (losing their Krylov space): 147 steps
    before the change, 240 after (1.2 s against 0.54 s here). OLS demeans once, so the
    whole fit is this slower; so is every jackknife refit (a new FixedEffects each)."""
    monkeypatch.setattr(demean_module, "NUMPY_MAX_ROWS", 10**7)  # NumPy passes, no numba
    c1, c2, rng = rejected_design()
    n = c1.size
    assert TwoWayPlan.build(c1, c2) is None
    w = rng.uniform(0.5, 2, n)
    Y = rng.normal(size=(2, n)) + np.sin(c2 / 50)[None]
    monkeypatch.setattr(demean_module, "DIRECT_AFTER", 10**9)
    before = FixedEffects([c1, c2]).demean_inplace(Y.copy(), w, tol=1e-8)
    monkeypatch.setattr(demean_module, "DIRECT_AFTER", 100)
    after = FixedEffects([c1, c2]).demean_inplace(Y.copy(), w, tol=1e-8)
    assert before.converged.all() and after.converged.all()
    assert after.iterations.max() <= 1.1 * before.iterations.max(), \
        f"steps {before.iterations} -> {after.iterations}"


def test_zero_weight_bridge_grounds_each_weighted_component():
    """Two chains joined by one row of zero weight: S restricted to the free levels would
    be singular if the components were those of the pattern (one sub-chain without a
    grounded level). The components are those of the cells of positive weight, one
    level of each held at zero: the factor solves the weighted rows exactly."""
    rng = np.random.default_rng(0)
    n = 600
    a1 = rng.integers(0, 75, n // 2)
    a2 = a1 // 3 + rng.integers(0, 3, n // 2)
    b1 = rng.integers(0, 75, n // 2) + 75
    b2 = (b1 - 75) // 3 + rng.integers(0, 3, n // 2) + 40
    c1 = np.concatenate([a1, b1, [0]])
    c2 = np.concatenate([a2, b2, [41]])
    _, c1 = np.unique(c1, return_inverse=True)
    _, c2 = np.unique(c2, return_inverse=True)
    w = rng.uniform(0.5, 2, c1.size)
    w[-1] = 0.0  # the bridge
    plan = TwoWayPlan.build(c1, c2)
    assert plan is not None
    factor = plan.factor(w)
    assert factor is not None
    pivot = float(np.abs(factor.lu.U.diagonal()).min())
    assert pivot > 1e-6, pivot
    Y = rng.normal(size=(1, c1.size))
    work = Y.copy()
    factor.subtract_fixed_effects(work, w)
    live = w > 0
    np.testing.assert_allclose(work[:, live], dense_residual(c1, c2, w, Y)[:, live],
                               rtol=0, atol=1e-10)


def test_codes_changed_by_the_caller_after_construction(monkeypatch):
    """FixedEffects copies the codes into its own arrays at construction (the result never
    depended on the caller's arrays afterwards), but now also keeps the caller's arrays
    (``self._two_way = codes``) and builds the plan from them later: a caller that
    reuses its code buffers after building the demeaner gets a plan for another design
    and a silently wrong residual (error 0.8 on unit-scale data, converged=True)."""
    monkeypatch.setattr(demean_module, "DIRECT_AFTER", 2)
    c1, c2, rng = chain(400, 100)
    w = rng.uniform(0.5, 2, 400)
    Y = rng.normal(size=(1, 400))
    ref = dense_residual(c1, c2, w, Y)
    a, b = c1.copy(), c2.copy()
    fe = FixedEffects([a, b])
    b[:] = rng.permutation(b)  # the caller's buffer, reused
    work = Y.copy()
    fe.demean_inplace(work, w, tol=1e-10)
    np.testing.assert_allclose(work, ref, rtol=0, atol=1e-8)


def test_plan_and_factor_memory_stay_near_the_data():
    """Within both bounds (sum deg^2 <= 16 N, envelope <= 16 N) one level of the larger
    effect may meet ~4 sqrt(N) levels of the other (an 'unknown' or catch-all category):
    S gets a dense block of ~14 N entries, which the build (pattern products, RCM
    permutation, CSR/CSC copies) and the factor (Schur product, [free][:, free], CSC,
    SuperLU) copy several times. Measured at 400,000 rows: 531 B/row of NumPy peak in the
    build, 521 B/row in the factor (max RSS +575 B/row), against 24 B/row for the codes
    and weights (a chain design of 1e6 rows: 61 and 54 B/row); build 1.8 s and factor
    1.0 s (0.48 s and 0.08 s for the 1e6-row chain), and the factor is redone at every
    demeaning (every IRLS step). Here at 100,000 rows."""
    import tracemalloc

    from gravity.hdfe import direct

    n = 100_000
    rng = np.random.default_rng(0)
    m = int(np.sqrt(direct.MAX_PRODUCT_PER_ROW * n * 0.85))
    nc = n - m
    f1 = rng.integers(0, nc // 10, nc)
    f2 = f1 // 4 + rng.integers(0, 3, nc)
    c1 = np.concatenate([f1, np.full(m, f1.max() + 1)])
    c2 = np.concatenate([f2, f2.max() + 1 + np.arange(m)])
    w = rng.uniform(0.5, 2, n)
    data = c1.nbytes + c2.nbytes + w.nbytes
    tracemalloc.start()
    try:
        plan = TwoWayPlan.build(c1, c2)
        factor = plan.factor(w) if plan is not None else None
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # (since the bounds were lowered this catch-all design is rejected by the envelope)
    assert plan is None or factor is not None
    assert peak <= 10 * data, f"peak {peak / n:.0f} B/row for {data / n:.0f} B/row of data"


def test_scale_guide_states_the_bounds_in_force():
    """docs/guide/scale.md states the two bounds of the direct solve as they are."""
    from pathlib import Path

    from gravity.hdfe import direct

    text = Path(__file__).resolve().parents[1].joinpath("docs", "guide", "scale.md").read_text()
    text = " ".join(text.split())
    assert f"more than {direct.MAX_PRODUCT_PER_ROW:g} multiply-adds per row" in text
    assert f"exceeds {direct.MAX_ENVELOPE_PER_ROW:g} entries per row" in text


def test_one_fixed_effects_object_from_several_threads(monkeypatch):
    """Pre-existing (not from this change), found while checking the brief's thread
    question: the numba passes keep one partial-product buffer per FixedEffects
    (``_NumbaPasses._bufs``) and the kernels release the GIL, so two threads demeaning
    with the same object overwrite each other's products: errors of order 1-7 on
    unit-scale data (some columns reported unconverged). The direct path hides it once
    the plan exists (the check then takes no step) but not in the first 100 steps."""
    from concurrent.futures import ThreadPoolExecutor

    import scipy.sparse as sp
    import scipy.sparse.linalg as sla

    monkeypatch.setattr(demean_module, "DIRECT_AFTER", 10**9)
    n = 30_000  # the numba passes
    c1, c2, rng = chain(n, 3000)
    Ws = [rng.uniform(0.5, 2, n) for _ in range(4)]
    Y = rng.normal(size=(2, n))
    D = sp.hstack([sp.csr_matrix((np.ones(n), (np.arange(n), c1))),
                   sp.csr_matrix((np.ones(n), (np.arange(n), c2)))[:, :-1]]).tocsc()
    refs = []
    for w in Ws:
        lu = sla.splu((D.T @ sp.diags(w) @ D).tocsc())
        refs.append(np.stack([y - D @ lu.solve(D.T @ (w * y)) for y in Y]))
    fe = FixedEffects([c1, c2])
    fe.demean_inplace(Y.copy(), Ws[0], tol=1e-10)

    def job(i):
        work = Y.copy()
        fe.demean_inplace(work, Ws[i], tol=1e-10)
        return float(np.abs(work - refs[i]).max())

    with ThreadPoolExecutor(4) as ex:
        errors = list(ex.map(job, range(4)))
    assert max(errors) < 1e-6, errors


def test_a_rejected_plan_does_not_break_a_fit_that_converged(monkeypatch):
    """The same design as test_a_rejected_plan_does_not_slow_the_first_demeaning under
    fixef_maxiter=200: the iterations alone converge in 147 steps; with the switch the
    first 100 steps are followed by a restart with 100 steps left, which is not enough:
    converged=False (a ConvergenceWarning, or an error with on_nonconvergence='raise',
    and a residual short of the tolerance) where the fit converged before."""
    monkeypatch.setattr(demean_module, "NUMPY_MAX_ROWS", 10**7)
    c1, c2, rng = rejected_design()
    n = c1.size
    w = rng.uniform(0.5, 2, n)
    Y = rng.normal(size=(2, n)) + np.sin(c2 / 50)[None]
    monkeypatch.setattr(demean_module, "DIRECT_AFTER", 10**9)
    before = FixedEffects([c1, c2]).demean_inplace(Y.copy(), w, tol=1e-8, maxiter=200)
    assert before.converged.all()
    monkeypatch.setattr(demean_module, "DIRECT_AFTER", 100)
    after = FixedEffects([c1, c2]).demean_inplace(Y.copy(), w, tol=1e-8, maxiter=200)
    assert after.converged.all(), after
