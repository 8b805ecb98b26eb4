r"""Weighted within-transformation for any number of fixed effects.

For a fixed-effect design ``D = [D_1, ..., D_Q]`` and weights ``w`` the residual
``M y = y - D (D'WD)^- D'W y`` is computed without forming ``D``. Each ``D_q``
defines a W-orthogonal projection ``P_q`` (subtract weighted group means) and its
annihilator ``A_q = I - P_q``. The symmetric sweep

.. math::  K = A_1 A_2 \cdots A_Q \cdots A_2 A_1

is self-adjoint in the W inner product with spectrum in [0, 1], and its fixed
points are exactly the range of ``M``. Writing ``x = y - My`` (the part explained
by the fixed effects), ``(I - K) x = (I - K) y`` is a symmetric positive
semi-definite system solved by conjugate gradients (Hestenes-Stiefel), i.e. the
symmetric Kaczmarz / CG acceleration of alternating projections used by reghdfe
(Correia 2017, "Linear models with high-dimensional fixed effects: an efficient
and feasible estimator"; Hernandez-Ramos, Escalante and Raydan 2011). With one
fixed effect the projection is exact in one pass.

Stopping rule: each CG step lowers the squared W-norm of the remaining error by
``alpha * ssr``; a column stops when that improvement is below
``tol**2`` times the current residual sum of squares (or when the column is
absorbed by the fixed effects to machine precision).

Each CG step applies the ``2Q - 1`` projections in ``2Q`` passes over the data
(the subtraction of one projection fused with the group sums of the next; the update
``r <- r - alpha v`` fused with the next direction ``u <- r + beta u``, its norm taken
beforehand from ``<r, v>`` and ``<v, v>``, unless that difference cancels; the step
length is the exact line search ``<r, u> / <u, (I - K) u>``). The
kernels are compiled with numba (:mod:`gravity.hdfe.kernels`, loaded on the first
large sample); columns are processed in parallel threads (the kernels release the
GIL). Samples under :data:`NUMPY_MAX_ROWS` rows run the same algorithm in NumPy, so
that small fits never wait for numba's compiler, except inside :func:`compiled_kernels`
(an opt-in for many small fits in a row, e.g. one per product: about 35% less CPU on
15,000-row PPMLs). The two engines agree to rounding in one demeaning, but a PPML's
IRLS may stop one step apart under them: its coefficients then differ within the IRLS
tolerance (2.7e-6 on one of 100 simulated products), so a fit under
:func:`compiled_kernels` need not equal a plain fit of the same sample to 1e-10.
Callers can warm-start: any vector that differs from ``y`` by an element of the
range of ``D`` (e.g. the previous residual of a slowly changing working
response) has the same ``M y`` and converges in fewer steps.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import numpy as np

#: samples with fewer rows are demeaned by the NumPy version of the same algorithm
#: (:func:`_demean_column_numpy`): no numba import or compilation for small fits
NUMPY_MAX_ROWS = 20_000
#: as ``gravity.hdfe.kernels.FUSE_MIN`` (kept here so that the NumPy path never
#: imports numba)
FUSE_MIN = 1e-6
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


def _demean_column_numpy(y: np.ndarray, w: np.ndarray, codes: np.ndarray,
                         inv_wsum: np.ndarray, offsets: np.ndarray, sizes: np.ndarray,
                         tol: float, maxiter: int) -> tuple[int, bool]:
    """The algorithm of :func:`gravity.hdfe.kernels._demean_column` in NumPy (same
    steps, same stopping rule), for small samples."""
    q_count = codes.shape[0]
    inv = [inv_wsum[offsets[q]:offsets[q] + sizes[q]] for q in range(q_count)]

    def project(v: np.ndarray, q: int) -> np.ndarray:
        means = np.bincount(codes[q], weights=w * v, minlength=int(sizes[q])) * inv[q]
        return v - means[codes[q]]

    def sweep(v: np.ndarray) -> np.ndarray:
        for q in list(range(q_count)) + list(range(q_count - 2, -1, -1)):
            v = project(v, q)
        return v

    if q_count == 1:
        y[:] = project(y, 0)
        return 1, True
    potential = ss0 = float(w @ (y * y))
    r = y - sweep(y)
    ssr = float(w @ (r * r))
    if ssr <= 1e-300 or ss0 <= 1e-300:
        return 0, True
    u = r.copy()
    ru = ssr
    for it in range(1, maxiter + 1):
        v = u - sweep(u)
        wv = w * v
        uv, rv, vv = float(u @ wv), float(r @ wv), float(v @ wv)
        if uv <= 0.0:
            return it, True
        alpha = ru / uv
        improvement = alpha * ru
        potential -= improvement
        y -= alpha * u
        if improvement <= tol * tol * potential or potential <= 1e-24 * ss0:
            return it, True
        ssr_est = ssr - 2.0 * alpha * rv + alpha * alpha * vv
        fuse = ssr_est > FUSE_MIN * (ssr + alpha * alpha * vv)
        r -= alpha * v
        ssr_new = float(w @ (r * r))
        if ssr_new <= 1e-28 * ss0:
            return it, True
        u = r + (ssr_est if fuse else ssr_new) / ssr * u
        ssr, ru = ssr_new, float((w * r) @ u)
    return maxiter, False


def _threads() -> int:
    """Threads for the columns: ``NUMBA_NUM_THREADS`` when set, else the CPU count."""
    env = os.environ.get("NUMBA_NUM_THREADS", "")
    return max(1, int(env)) if env.isdigit() else max(1, os.cpu_count() or 1)


def _run_columns(work: np.ndarray, w: np.ndarray, codes: np.ndarray, inv: np.ndarray,
                 offsets: np.ndarray, sizes: np.ndarray, tol: float, maxiter: int,
                 iters: np.ndarray, conv: np.ndarray) -> None:
    if _numpy_size(work.shape[1]):
        kernel = _demean_column_numpy
    else:
        from .kernels import _demean_column

        kernel = _demean_column

    def one(j: int) -> None:
        iters[j], conv[j] = kernel(work[j], w, codes, inv, offsets, sizes, tol, maxiter)

    k = work.shape[0]
    threads = min(k, _threads())
    if threads <= 1 or kernel is _demean_column_numpy:
        for j in range(k):
            one(j)
        return
    pool = _POOL.get(threads)
    if pool is None:
        pool = _POOL[threads] = ThreadPoolExecutor(threads, thread_name_prefix="gravity-demean")
    list(pool.map(one, range(k)))


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

    Parameters
    ----------
    codes : list of int arrays (dense 0..G_q-1 codes, each of length N)
    """

    def __init__(self, codes: list[np.ndarray]):
        if not codes:
            raise ValueError("FixedEffects needs at least one fixed effect")
        self.n = int(codes[0].size)
        self.sizes = np.array([int(c.max()) + 1 if c.size else 0 for c in codes], dtype=np.int64)
        # int32 codes halve the memory traffic of the projections (the kernels are
        # bandwidth-bound); int64 only when a fixed effect has 2**31 levels or more
        code_type = np.int32 if self.sizes.max(initial=0) < 2**31 - 1 else np.int64
        self.codes = np.ascontiguousarray(np.vstack(codes).astype(code_type))
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)[:-1]]).astype(np.int64)

    @property
    def n_fe(self) -> int:
        return int(self.codes.shape[0])

    def group_weights(self, w: np.ndarray) -> np.ndarray:
        """Concatenated per-group sums of weights."""
        if not _numpy_size(self.n):
            from .kernels import _group_sums

            out = np.empty(int(self.sizes.sum()))
            _group_sums(self.codes, np.ascontiguousarray(w, dtype=np.float64),
                        self.offsets, out)
            return out
        return np.concatenate(
            [np.bincount(self.codes[q], weights=w, minlength=int(self.sizes[q]))
             for q in range(self.n_fe)]
        )

    def inverse_group_weights(self, w: np.ndarray) -> np.ndarray:
        wsum = self.group_weights(w)
        with np.errstate(divide="ignore"):
            return np.where(wsum > 0, 1.0 / wsum, 0.0)

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
        w = np.ones(self.n) if weights is None else np.ascontiguousarray(weights, dtype=np.float64)
        inv = self.inverse_group_weights(w)
        k = work.shape[0]
        iters = np.zeros(k, dtype=np.int64)
        conv = np.zeros(k, dtype=np.bool_)
        if k:
            _run_columns(work, w, self.codes, inv, self.offsets, self.sizes,
                         float(tol), int(maxiter), iters, conv)
        return DemeanInfo(iters, conv)

    def demean(
        self,
        Y: np.ndarray,
        weights: np.ndarray | None = None,
        tol: float = 1e-8,
        maxiter: int = 10_000,
    ) -> tuple[np.ndarray, DemeanInfo]:
        """Return ``M Y`` (a 1-D vector or the columns of an (N, K) array) and iteration info."""
        return demean_columns(self.demean_inplace, Y, weights, tol, maxiter)
