r"""Weighted within-transformation for any number of fixed effects.

For a fixed-effect design ``D = [D_1, ..., D_Q]`` (``G`` levels in all) and weights
``W`` the residual ``M y = y - D a`` is computed without forming ``D``, where ``a``
solves the normal equations

.. math::  (D'WD)\, a = D'W y .

They are solved by conjugate gradients in the space of the fixed-effect coefficients
(``G`` unknowns, not ``N``), preconditioned by the diagonal of ``D'WD`` (the weight of
each level: the block-Jacobi preconditioner, whose application is one division per
level). Each step costs one pass over the rows that reads the codes and weights only
(``D'W D p``: gather the coefficients of each row, scatter back its weighted sum), for
up to four columns at once; the data ``y`` are read once at the start (``D'W y``) and
written once at the end (``y - D a``). Iterating on the coefficients rather than on
``N``-vectors is the idea of Berge (2018, "Efficient estimation of maximum likelihood
models with multiple fixed-effects: the R package FENmlm", CREA DP 18-13) and of
Gaure (2013); conjugate gradients on the normal equations (Hestenes and Stiefel 1952;
"CGNR", Saad 2003, §8.3) replace the fixed-point iterations. The system is singular
(the fixed effects are identified up to normalisations) but consistent, and CG returns
the same ``D a`` for any solution.

Stopping rule: each CG step lowers ``||y - D a||^2_W`` by ``alpha * <r, z>``; a column
stops when that improvement is below ``tol**2`` times the remaining sum of squares
(or when the column is absorbed by the fixed effects to machine precision). With one
fixed effect the solution is exact in one step (group means).

The kernels are compiled with numba (:mod:`gravity.hdfe.kernels`, loaded on the first
large sample); the rows are split across threads (each thread sums into its own copy
of the coefficients; the kernels release the GIL). The fixed effect whose codes come
in the longest runs (the data sorted by it) has its sums kept in a register over each
run. Samples under :data:`NUMPY_MAX_ROWS` rows run the same algorithm with SciPy's
sparse products (the dummy matrix ``D`` built once), so that small fits never wait for numba's compiler, except inside
:func:`compiled_kernels` (an opt-in for many small fits in a row, e.g. one per
product). The two paths agree to rounding in one demeaning, but a PPML's IRLS may stop
one step apart under them: its coefficients then differ within the IRLS tolerance, so
a fit under :func:`compiled_kernels` need not equal a plain fit to 1e-10.

Callers can warm-start: any vector that differs from ``y`` by an element of the range
of ``D`` (e.g. the previous residual of a slowly changing working response) has the
same ``M y`` and converges in fewer steps.

Two fixed effects whose demeaning still runs after :data:`DIRECT_AFTER` steps (levels
that link up like a chain) are solved directly when the design makes it cheap
(:mod:`gravity.hdfe.direct`): from then on each demeaning is the direct solve, used as a
warm start that the iterations check to the tolerance (a step or two).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from .direct import TwoWayPlan

#: samples with fewer rows are demeaned by the NumPy version of the same algorithm
#: (:class:`_NumpyPasses`): no numba import or compilation for small fits
NUMPY_MAX_ROWS = 20_000
#: rows per thread below which the passes run on one thread
MIN_ROWS_PER_THREAD = 50_000
#: designs with fewer levels update the coefficients in NumPy (cheap at that size)
SMALL_LEVELS = 20_000
#: the coefficient engine's arrays (all levels, 4 columns, one copy per thread and the
#: coefficients) up to this many bytes stay in cache wherever the codes point ...
CACHE_BYTES = 8 << 20
#: ... and beyond it they are still read and written in order when, per row, fewer
#: than this many codes (summed over the fixed effects) jump more than
#: :data:`JUMP` levels from the previous row's; otherwise the sweep engine is used
MAX_JUMPS_PER_ROW = 0.5
JUMP = 16
#: conjugate-gradient steps in one demeaning after which a design with two fixed
#: effects tries the direct solve (:mod:`gravity.hdfe.direct`); the trade designs of
#: the benchmarks converge in far fewer
DIRECT_AFTER = 100
_POOL: dict[int, ThreadPoolExecutor] = {}
_COMPILED: ContextVar[bool] = ContextVar("gravity_compiled_kernels", default=False)


@contextmanager
def compiled_kernels() -> Iterator[None]:
    """Demean with the compiled (numba) kernels at every sample size in the block."""
    token = _COMPILED.set(True)
    try:
        yield
    finally:
        _COMPILED.reset(token)


def _numpy_size(n: int) -> bool:
    """Whether a sample of ``n`` rows is demeaned by the NumPy engine."""
    return n < NUMPY_MAX_ROWS and not _COMPILED.get()


def _threads() -> int:
    """Threads for the passes: numba's thread count once numba is loaded (it follows
    ``numba.set_num_threads``), else ``NUMBA_NUM_THREADS`` when set, else the CPU count."""
    numba = sys.modules.get("numba")
    if numba is not None:
        return max(1, int(numba.get_num_threads()))
    env = os.environ.get("NUMBA_NUM_THREADS", "")
    return max(1, int(env)) if env.isdigit() else max(1, os.cpu_count() or 1)


def _pool(threads: int) -> ThreadPoolExecutor:
    pool = _POOL.get(threads)
    if pool is None:
        pool = _POOL[threads] = ThreadPoolExecutor(threads, thread_name_prefix="gravity-demean")
    return pool


class _Passes(Protocol):
    """The passes over the rows that the solver needs (global codes ``(Q, N)``)."""

    def width(self, k: int) -> int: ...

    def group_sums(self, w: np.ndarray) -> np.ndarray: ...

    def rhs(self, Y: np.ndarray, w: np.ndarray,
            width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...

    def matvec(self, P: np.ndarray, w: np.ndarray, active: np.ndarray, q: np.ndarray,
               pq: np.ndarray) -> None: ...

    def update(self, X: np.ndarray, r: np.ndarray, p: np.ndarray, q: np.ndarray,
               inv: np.ndarray, alpha: np.ndarray, rz: np.ndarray) -> None: ...

    def direction(self, p: np.ndarray, r: np.ndarray, inv: np.ndarray,
                  beta: np.ndarray) -> None: ...

    def subtract(self, Y: np.ndarray, X: np.ndarray) -> None: ...


def _update(X: np.ndarray, r: np.ndarray, p: np.ndarray, q: np.ndarray, inv: np.ndarray,
            alpha: np.ndarray, rz: np.ndarray) -> None:
    """``X += alpha p``, ``r -= alpha q`` (per column), ``rz = <r, inv * r>`` (NumPy
    version of ``kernels._update``)."""
    X += p * alpha
    r -= q * alpha
    rz[:] = np.einsum("gk,gk->k", r, r * inv[:, None])


def _direction(p: np.ndarray, r: np.ndarray, inv: np.ndarray, beta: np.ndarray) -> None:
    """``p = inv * r + beta p``; zero where ``beta < 0`` (NumPy ``kernels._direction``)."""
    p *= np.maximum(beta, 0.0)
    p += r * inv[:, None]
    p[:, beta < 0] = 0.0


class _NumpyPasses:
    """The passes as products with the sparse dummy matrix ``D`` (``N x G``, one
    nonzero per row and fixed effect; SciPy, small samples), all columns at once."""

    def __init__(self, gcodes: np.ndarray, n_levels: int) -> None:
        from scipy.sparse import csr_matrix

        q, n = gcodes.shape
        self.g = n_levels
        self.D = csr_matrix((np.ones(q * n), gcodes.T.ravel(),
                             np.arange(0, q * n + 1, q)), shape=(n, n_levels))
        self.Dt = self.D.T.tocsr()

    def width(self, k: int) -> int:
        return k

    def group_sums(self, w: np.ndarray) -> np.ndarray:
        return np.asarray(self.Dt @ w)

    def rhs(self, Y: np.ndarray, w: np.ndarray,
            width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        wy = Y * w
        return (np.asarray(self.Dt @ wy.T), np.einsum("kn,kn->k", wy, Y),
                np.asarray(self.Dt @ w))

    def matvec(self, P: np.ndarray, w: np.ndarray, active: np.ndarray, q: np.ndarray,
               pq: np.ndarray) -> None:
        q[:] = self.Dt @ ((self.D @ P) * w[:, None])
        q[:, ~active] = 0.0
        pq[:] = np.einsum("gk,gk->k", P, q)

    def update(self, X: np.ndarray, r: np.ndarray, p: np.ndarray, q: np.ndarray,
               inv: np.ndarray, alpha: np.ndarray, rz: np.ndarray) -> None:
        _update(X, r, p, q, inv, alpha, rz)

    def direction(self, p: np.ndarray, r: np.ndarray, inv: np.ndarray,
                  beta: np.ndarray) -> None:
        _direction(p, r, inv, beta)

    def subtract(self, Y: np.ndarray, X: np.ndarray) -> None:
        Y -= (self.D @ X).T


class _NumbaPasses:
    """The passes with the numba kernels, the rows split across threads."""

    def __init__(self, gcodes: np.ndarray, n_levels: int) -> None:
        from . import kernels

        self.k = kernels
        self.gcodes = gcodes
        self.g = n_levels
        q = gcodes.shape[0]
        self._matvec = (kernels._matvec2 if q == 2 else kernels._matvec3 if q == 3
                        else kernels._matvec)
        self._bufs: np.ndarray | None = None  # the threads' partial products
        # few levels: the coefficient updates in NumPy (no kernels to compile for them)
        self.small = n_levels < SMALL_LEVELS

    def width(self, k: int) -> int:
        return -(-k // self.k.WIDTH) * self.k.WIDTH

    @property
    def bounds(self) -> list[int]:
        """Row spans of the threads (:func:`_threads`, at least
        :data:`MIN_ROWS_PER_THREAD` rows each)."""
        n = self.gcodes.shape[1]
        t = max(1, min(_threads(), n // MIN_ROWS_PER_THREAD))
        return [n * j // t for j in range(t + 1)]

    def _run(self, fn: Any, args_of: Callable[..., tuple[Any, ...]]) -> None:
        bounds = self.bounds
        spans = list(zip(bounds[:-1], bounds[1:], strict=True))
        if len(spans) == 1:
            fn(*args_of(0, *spans[0]))
            return
        futures = [_pool(len(spans)).submit(fn, *args_of(j, lo, hi))
                   for j, (lo, hi) in enumerate(spans)]
        for f in futures:
            f.result()

    def group_sums(self, w: np.ndarray) -> np.ndarray:
        outs = np.zeros((len(self.bounds) - 1, self.g))
        self._run(self.k._group_sums, lambda j, lo, hi: (self.gcodes, w, outs[j], lo, hi))
        return outs.sum(axis=0)

    def rhs(self, Y: np.ndarray, w: np.ndarray,
            width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        t = len(self.bounds) - 1
        b = np.empty((self.g, width))
        ss = np.zeros(width)
        wsums = np.zeros((t, self.g))
        none = np.zeros(0)
        for col in range(0, width, self.k.WIDTH):
            outs = np.zeros((t, self.g, self.k.WIDTH))
            sss = np.zeros((t, self.k.WIDTH))
            # the weight of every level in the first pass
            self._run(self.k._rhs, lambda j, lo, hi, col=col, outs=outs, sss=sss:
                      (self.gcodes, w, Y, col, outs[j], sss[j],
                       wsums[j] if col == 0 else none, lo, hi))
            np.sum(outs, axis=0, out=b[:, col:col + self.k.WIDTH])
            ss[col:col + self.k.WIDTH] = sss.sum(axis=0)
        return b, ss, wsums.sum(axis=0)

    def matvec(self, P: np.ndarray, w: np.ndarray, active: np.ndarray, q: np.ndarray,
               pq: np.ndarray) -> None:
        shape = (len(self.bounds) - 1, self.g, self.k.WIDTH)
        if self._bufs is None or self._bufs.shape != shape:
            self._bufs = np.empty(shape)
        bufs = self._bufs
        pq[:] = 0.0
        for col in range(0, P.shape[1], self.k.WIDTH):
            if not active[col:col + self.k.WIDTH].any():
                q[:, col:col + self.k.WIDTH] = 0.0
                continue
            self._run(self._matvec, lambda j, lo, hi, col=col:
                      (self.gcodes, w, P, col, bufs[j], lo, hi))
            if self.small:
                block = q[:, col:col + self.k.WIDTH]
                np.sum(bufs, axis=0, out=block)
                pq[col:col + self.k.WIDTH] = np.einsum("gk,gk->k", P[:, col:col + 4], block)
            else:
                self.k._reduce_dot(bufs, P, col, q, pq)

    def update(self, X: np.ndarray, r: np.ndarray, p: np.ndarray, q: np.ndarray,
               inv: np.ndarray, alpha: np.ndarray, rz: np.ndarray) -> None:
        if self.small:
            _update(X, r, p, q, inv, alpha, rz)
            return
        rz[:] = 0.0
        self.k._update(X, r, p, q, inv, alpha, rz)

    def direction(self, p: np.ndarray, r: np.ndarray, inv: np.ndarray,
                  beta: np.ndarray) -> None:
        if self.small:
            _direction(p, r, inv, beta)
            return
        self.k._direction(p, r, inv, beta)

    def subtract(self, Y: np.ndarray, X: np.ndarray) -> None:
        for col in range(0, Y.shape[0], self.k.WIDTH):
            self._run(self.k._subtract, lambda j, lo, hi, col=col:
                      (self.gcodes, X, col, Y, lo, hi))


def _solve_sweep(codes: np.ndarray, offsets: np.ndarray, sizes: np.ndarray,
                 inv: np.ndarray, Y: np.ndarray, w: np.ndarray, tol: float, maxiter: int,
                 iters: np.ndarray, conv: np.ndarray) -> None:
    """``Y <- M Y`` by the sweep engine (:mod:`gravity.hdfe.kernels_sweep`): symmetric
    Kaczmarz sweeps accelerated by conjugate gradients (Correia 2017; Hernandez-Ramos,
    Escalante and Raydan 2011), one column per thread. Each pass touches the means of
    one or two fixed effects only: the engine for large designs whose codes jump around
    in memory (see :class:`FixedEffects`)."""
    from .kernels_sweep import _demean_column

    def one(j: int) -> None:
        iters[j], conv[j] = _demean_column(Y[j], w, codes, inv, offsets, sizes, tol, maxiter)

    k = Y.shape[0]
    threads = min(k, _threads())
    if threads <= 1:
        for j in range(k):
            one(j)
        return
    list(_pool(threads).map(one, range(k)))


def _solve(passes: _Passes, n_fe: int, Y: np.ndarray, w: np.ndarray, tol: float,
           maxiter: int, iters: np.ndarray, conv: np.ndarray,
           checkpoint: tuple[int, Callable[[], bool]] | None = None) -> bool:
    """``Y <- M Y`` in place by preconditioned CG on the coefficients (module docstring).

    With ``checkpoint = (steps, stop)``: after ``steps`` steps with a column still
    running, ``stop()`` is asked whether to stop there; if so the coefficients found so
    far are removed (a warm start: ``Y - D a`` has the same ``M Y``) and ``True`` is
    returned, else CG goes on undisturbed."""
    k = Y.shape[0]
    width = passes.width(k)
    b, ss0, wsum = passes.rhs(Y, w, width)
    inv = np.zeros_like(wsum)
    np.divide(1.0, wsum, out=inv, where=wsum > 0)
    if n_fe == 1:  # exact: the group means
        passes.subtract(Y, b * inv[:, None])
        iters[:] = 1
        conv[:] = True
        return False
    X = np.zeros_like(b)
    r = b
    p = r * inv[:, None]
    q = np.empty_like(b)
    rz = np.einsum("gk,gk->k", r, p)
    rz_new = np.empty(width)
    pq = np.empty(width)
    potential = ss0.copy()
    real = np.arange(width) < k
    # columns with nothing to remove (zero, or already in the range of M) are done
    active = real & (ss0 > 1e-300) & (rz > 1e-28 * np.maximum(ss0, 1e-300))
    done = real & ~active
    p[:, ~active] = 0.0
    tol2 = tol * tol
    stopped = False
    for it in range(1, maxiter + 1):
        if not active.any():
            break
        if checkpoint is not None and it == checkpoint[0] + 1 and checkpoint[1]():
            stopped = True
            break
        passes.matvec(p, w, active, q, pq)
        step = active & (pq > 0)
        alpha = np.zeros(width)
        np.divide(rz, pq, out=alpha, where=step)
        passes.update(X, r, p, q, inv, alpha, rz_new)
        improvement = alpha * rz
        potential -= improvement
        iters[active[:k]] = it
        stop = active & ((pq <= 0) | (improvement <= tol2 * potential)
                         | (potential <= 1e-24 * ss0) | (rz_new <= 1e-28 * ss0))
        done |= stop
        active &= ~stop
        beta = np.full(width, -1.0)  # negative: the column has stopped
        np.divide(rz_new, rz, out=beta, where=active)
        passes.direction(p, r, inv, beta)
        rz, rz_new = rz_new, rz
    conv[:] = done[:k]
    passes.subtract(Y, X)
    return stopped


@dataclass
class DemeanInfo:
    """Iterations used per column and whether each converged."""

    iterations: np.ndarray
    converged: np.ndarray


def demean_columns(demean_inplace, Y: np.ndarray, weights: np.ndarray | None, tol: float,
                   maxiter: int) -> tuple[np.ndarray, DemeanInfo]:
    """``M Y`` for a vector or the columns of an (N, K) array, through a demeaner's
    ``demean_inplace`` on a (K, N) C-contiguous copy (``Y`` itself is never changed):
    the one ``demean`` of every algorithm behind :class:`gravity.hdfe.Demeaner`."""
    Y = np.asarray(Y, dtype=np.float64)
    work = np.array(Y[None, :] if Y.ndim == 1 else Y.T, dtype=np.float64, order="C")
    info = demean_inplace(work, weights, tol, maxiter)
    return (work[0] if Y.ndim == 1 else work.T), info


class FixedEffects:
    """Fixed-effect structure for repeated weighted demeaning.

    Two engines, chosen once from the design (``engine``): the coefficient engine
    (module docstring), unless its arrays (``G`` levels x 4 columns, per thread) exceed
    :data:`CACHE_BYTES` *and* the codes jump around in memory from row to row (more
    than :data:`MAX_JUMPS_PER_ROW` jumps of over :data:`JUMP` levels per row, on the
    first million rows), e.g. millions of levels in random order: then the sweep
    engine (:func:`_solve_sweep`), whose passes touch one or two fixed effects' means
    at a time. Measured: 2 million rows, 3 x 100,000 random levels, 3 columns: 1.3 s
    (sweep) against 4.2 s (coefficients); the 4.9 million-row benchmark panel (sorted
    by pair): the coefficient engine twice as fast as the sweep engine.

    Parameters
    ----------
    codes : list of int arrays (dense 0..G_q-1 codes, each of length N)
    """

    def __init__(self, codes: list[np.ndarray]):
        if not codes:
            raise ValueError("FixedEffects needs at least one fixed effect")
        self.n = int(codes[0].size)
        self.sizes = np.array([int(c.max()) + 1 if c.size else 0 for c in codes], dtype=np.int64)
        n_levels = int(self.sizes.sum())
        # the fixed effect whose codes come in the fewest runs goes last (its sums are
        # kept in a register over each run); codes are global: the levels of the
        # fixed effects in this order, one after the other
        runs = [int(np.count_nonzero(c[1:] != c[:-1])) for c in codes]
        order = sorted(range(len(codes)), key=lambda q: -runs[q])
        self._sizes = self.sizes[order]
        self._offsets = np.concatenate([[0], np.cumsum(self._sizes)[:-1]]).astype(np.int64)
        # int32 codes halve the memory traffic of the passes; int64 only for a
        # design with 2**31 levels or more
        code_type = np.int32 if n_levels < 2**31 - 1 else np.int64
        gcodes = np.empty((len(codes), self.n), dtype=code_type)
        for row, q in enumerate(order):
            np.add(codes[q], self._offsets[row], out=gcodes[row], casting="unsafe")
        self._gcodes, self._n_levels = gcodes, n_levels
        # the global level numbers in the order the fixed effects were given
        self._as_given = np.concatenate(
            [self._offsets[order.index(q)] + np.arange(self.sizes[q]) for q in range(len(codes))])
        self._engines: dict[str, _Passes] = {}
        # two fixed effects: the direct solve's plan once the iterations prove slow
        # (None: not tried yet; False: too costly for this design); built from this
        # object's own codes (never the caller's arrays, which may change or be uint64)
        self._plan: TwoWayPlan | None | bool = None
        # one demeaning at a time: the numba passes keep per-object buffers
        self._lock = threading.Lock()
        self.engine = "coefficients"
        footprint = n_levels * 8 * 4 * (2 + _threads())
        if footprint > CACHE_BYTES and self.n >= NUMPY_MAX_ROWS and len(codes) > 1:
            head = gcodes[:, :1_000_000]
            jumps = float(np.mean(np.abs(np.diff(head, axis=1)) > JUMP, axis=1).sum()) \
                if head.shape[1] > 1 else 0.0
            if jumps > MAX_JUMPS_PER_ROW:
                self.engine = "sweep"

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        del state["_lock"]  # (a lock does not pickle: a new one on arrival)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    @property
    def _passes(self) -> _Passes:
        """The NumPy passes under :data:`NUMPY_MAX_ROWS` rows (outside
        :func:`compiled_kernels`), else the numba ones."""
        kind = "numpy" if _numpy_size(self.n) else "numba"
        if kind not in self._engines:
            self._engines[kind] = (_NumpyPasses if kind == "numpy" else _NumbaPasses)(
                self._gcodes, self._n_levels)
        return self._engines[kind]

    @property
    def n_fe(self) -> int:
        return int(self.sizes.size)

    @property
    def global_codes(self) -> np.ndarray:
        """The ``(Q, N)`` codes the engine reads: level offsets added, the fixed
        effects in the engine's order (a fingerprint of the design; read-only)."""
        view = self._gcodes.view()
        view.flags.writeable = False
        return view

    def group_weights(self, w: np.ndarray) -> np.ndarray:
        """Concatenated per-group sums of weights (fixed effects in the order given)."""
        return self._passes.group_sums(np.ascontiguousarray(w, dtype=np.float64))[self._as_given]

    def demean_inplace(
        self,
        work: np.ndarray,
        weights: np.ndarray | None = None,
        tol: float = 1e-8,
        maxiter: int = 10_000,
    ) -> DemeanInfo:
        """Replace each row of the C-contiguous (K, N) float64 array ``work`` by ``M`` of it."""
        if work.ndim != 2 or work.shape[1] != self.n or not work.flags.c_contiguous \
                or work.dtype != np.float64:
            raise ValueError("work must be a C-contiguous float64 array of shape (K, N)")
        # unit weights: one value read through a zero stride (no N-vector of ones)
        w = np.broadcast_to(1.0, self.n) if weights is None else \
            np.ascontiguousarray(weights, dtype=np.float64)
        k = work.shape[0]
        iters = np.zeros(k, dtype=np.int64)
        conv = np.zeros(k, dtype=np.bool_)
        if not k:
            return DemeanInfo(iters, conv)
        if not self.n:
            conv[:] = True
            return DemeanInfo(iters, conv)
        with self._lock:
            return self._demean_locked(work, w, float(tol), int(maxiter), iters, conv)

    def _demean_locked(self, work: np.ndarray, w: np.ndarray, tol: float, maxiter: int,
                       iters: np.ndarray, conv: np.ndarray) -> DemeanInfo:
        k = work.shape[0]
        if self.n_fe == 2 and self._plan is None:
            # iterate; a two-way design still running after DIRECT_AFTER steps tries
            # the direct solve. The coefficient engine stops there when the plan is
            # built (the steps done are a warm start: work is y - D a for some a) and
            # goes on undisturbed otherwise; the sweep engine, which cannot stop, builds
            # it for the next demeaning (the IRLS's next step)
            stopped = self._iterate(work, w, tol, maxiter, iters, conv,
                                    checkpoint=(DIRECT_AFTER, self._try_plan))
            if not stopped:
                if self._plan is None and int(iters.max()) > DIRECT_AFTER:
                    self._try_plan()
                return DemeanInfo(iters, conv)
            # a column the iterations turned non-finite stays unconverged (the second
            # round would take a NaN column for one with nothing to remove)
            stalled = ~np.isfinite(work).all(axis=1)
            maxiter = max(maxiter - DIRECT_AFTER, 1)
        else:
            stalled = np.zeros(k, dtype=np.bool_)
        done = iters.copy()
        iters[:] = 0
        if isinstance(self._plan, TwoWayPlan):
            # exact up to rounding; the iterations below check it (a step or two)
            factor = self._plan.factor(w)
            if factor is not None:
                factor.subtract_fixed_effects(work, w)
                done += 1
        self._iterate(work, w, tol, maxiter, iters, conv)
        conv &= ~stalled
        return DemeanInfo(iters + done, conv)

    def _try_plan(self) -> bool:
        """Build the direct solve's plan (or record that it would be too costly);
        whether there is one."""
        g = self._gcodes
        self._plan = TwoWayPlan.build(g[0], g[1] - g.dtype.type(self._offsets[1])) or False
        return self._plan is not False

    def _iterate(self, work: np.ndarray, w: np.ndarray, tol: float, maxiter: int,
                 iters: np.ndarray, conv: np.ndarray,
                 checkpoint: tuple[int, Callable[[], bool]] | None = None) -> bool:
        """``work <- M work`` in place by this design's iterative engine; whether it
        stopped at the ``checkpoint`` (coefficient engine only, see :func:`_solve`)."""
        if self.engine == "sweep" and not _numpy_size(self.n):
            wsum = self._passes.group_sums(w)  # in the engine's order
            inv = np.zeros_like(wsum)
            np.divide(1.0, wsum, out=inv, where=wsum > 0)
            _solve_sweep(self._gcodes, self._offsets, self._sizes, inv, work, w, tol,
                         maxiter, iters, conv)
            return False
        return _solve(self._passes, self.n_fe, work, w, tol, maxiter, iters, conv,
                      checkpoint)

    def demean(
        self,
        Y: np.ndarray,
        weights: np.ndarray | None = None,
        tol: float = 1e-8,
        maxiter: int = 10_000,
    ) -> tuple[np.ndarray, DemeanInfo]:
        """Return ``M Y`` (a 1-D vector or the columns of an (N, K) array) and iteration info."""
        return demean_columns(self.demean_inplace, Y, weights, tol, maxiter)
