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

The kernels are compiled with numba; columns are processed in parallel.
Callers can warm-start: any vector that differs from ``y`` by an element of the
range of ``D`` (e.g. the previous residual of a slowly changing working
response) has the same ``M y`` and converges in fewer steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

_CACHE = True


@nb.njit(cache=_CACHE, nogil=True)
def _group_means(v, w, code, inv_wsum, acc):
    """acc <- weighted mean of v within each group of one fixed effect."""
    for g in range(acc.size):
        acc[g] = 0.0
    for i in range(v.size):
        acc[code[i]] += w[i] * v[i]
    for g in range(acc.size):
        acc[g] *= inv_wsum[g]


@nb.njit(cache=_CACHE, nogil=True)
def _project(v, w, code, inv_wsum, acc):
    """v <- v - P_q v for one fixed effect (weighted group means subtracted)."""
    _group_means(v, w, code, inv_wsum, acc)
    for i in range(v.size):
        v[i] -= acc[code[i]]


@nb.njit(cache=_CACHE, nogil=True)
def _sym_sweep(v, w, codes, inv_wsum, offsets, sizes, acc):
    """v <- K v with K = A_1 ... A_Q ... A_1."""
    q_count = codes.shape[0]
    for q in range(q_count):
        _project(v, w, codes[q], inv_wsum[offsets[q]:offsets[q] + sizes[q]], acc[:sizes[q]])
    for q in range(q_count - 2, -1, -1):
        _project(v, w, codes[q], inv_wsum[offsets[q]:offsets[q] + sizes[q]], acc[:sizes[q]])


@nb.njit(cache=_CACHE, nogil=True)
def _wdot(w, a, b):
    s = 0.0
    for i in range(a.size):
        s += w[i] * a[i] * b[i]
    return s


@nb.njit(cache=_CACHE, nogil=True)
def _update_and_project(u, r, beta, v, w, code, inv_wsum, acc):
    """u <- r + beta u, then v <- A_q u (fuses the CG direction update with the first
    projection of the sweep: one pass fewer)."""
    n = u.size
    g_count = acc.size
    for g in range(g_count):
        acc[g] = 0.0
    for i in range(n):
        ui = r[i] + beta * u[i]
        u[i] = ui
        acc[code[i]] += w[i] * ui
    for g in range(g_count):
        acc[g] *= inv_wsum[g]
    for i in range(n):
        v[i] = u[i] - acc[code[i]]


@nb.njit(cache=_CACHE, nogil=True)
def _project_and_close(u, v, w, code, inv_wsum, acc):
    """v <- u - A_q v and return <u, v>_W (fuses the last projection of the sweep with
    the CG product (I - K) u and its inner product: two passes fewer)."""
    _group_means(v, w, code, inv_wsum, acc)
    uv = 0.0
    for i in range(u.size):
        vi = u[i] - (v[i] - acc[code[i]])
        v[i] = vi
        uv += w[i] * u[i] * vi
    return uv


@nb.njit(cache=_CACHE, nogil=True)
def _demean_column(y, w, codes, inv_wsum, offsets, sizes, tol, maxiter):
    """Replace y by M y in place. Returns (iterations, converged)."""
    n = y.size
    q_count = codes.shape[0]
    acc = np.empty(sizes.max())
    if q_count == 1:
        _project(y, w, codes[0], inv_wsum[: sizes[0]], acc[: sizes[0]])
        return 1, True
    v = y.copy()
    _sym_sweep(v, w, codes, inv_wsum, offsets, sizes, acc)
    r = np.empty(n)
    for i in range(n):
        r[i] = y[i] - v[i]
    ssr = _wdot(w, r, r)
    potential = _wdot(w, y, y)
    ss0 = potential
    if ssr <= 1e-300 or ss0 <= 1e-300:
        return 0, True
    u = np.zeros(n)
    beta = 0.0
    tol2 = tol * tol
    inv0 = inv_wsum[: sizes[0]]
    acc0 = acc[: sizes[0]]
    for it in range(1, maxiter + 1):
        # v = (I - K) u with K = A_1 A_2 ... A_Q ... A_2 A_1, after u = r + beta u
        _update_and_project(u, r, beta, v, w, codes[0], inv0, acc0)
        for q in range(1, q_count):
            _project(v, w, codes[q], inv_wsum[offsets[q]:offsets[q] + sizes[q]],
                     acc[:sizes[q]])
        for q in range(q_count - 2, 0, -1):
            _project(v, w, codes[q], inv_wsum[offsets[q]:offsets[q] + sizes[q]],
                     acc[:sizes[q]])
        uv = _project_and_close(u, v, w, codes[0], inv0, acc0)
        if uv <= 0.0:
            return it, True
        alpha = ssr / uv
        improvement = alpha * ssr
        potential -= improvement
        ssr_new = 0.0
        for i in range(n):
            y[i] -= alpha * u[i]
            r[i] -= alpha * v[i]
            ssr_new += w[i] * r[i] * r[i]
        # stop at the tolerance, when the column is absorbed, or when the residual
        # of the CG system is at rounding level (further steps would amplify noise)
        if improvement <= tol2 * potential or potential <= 1e-24 * ss0 \
                or ssr_new <= 1e-28 * ss0:
            return it, True
        beta = ssr_new / ssr
        ssr = ssr_new
    return maxiter, False


@nb.njit(cache=_CACHE, parallel=True)
def _demean_columns(Y, w, codes, inv_wsum, offsets, sizes, tol, maxiter, iters, conv):
    for k in nb.prange(Y.shape[0]):
        it, ok = _demean_column(Y[k], w, codes, inv_wsum, offsets, sizes, tol, maxiter)
        iters[k] = it
        conv[k] = ok


@dataclass
class DemeanInfo:
    """Iterations used per column and whether each converged."""

    iterations: np.ndarray
    converged: np.ndarray


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
            _demean_columns(work, w, self.codes, inv, self.offsets, self.sizes,
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
        Y = np.asarray(Y, dtype=np.float64)
        if Y.ndim == 1:
            work = Y[None, :].copy()
            info = self.demean_inplace(work, weights, tol, maxiter)
            return work[0], info
        work = np.ascontiguousarray(Y.T)
        if np.shares_memory(work, Y):
            work = work.copy()
        info = self.demean_inplace(work, weights, tol, maxiter)
        return work.T, info
