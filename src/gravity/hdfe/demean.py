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
def _scale_means(acc, inv_wsum, lo, hi):
    """acc[lo:hi] <- acc[lo:hi] * inv_wsum[lo:hi] (group sums to group means)."""
    for g in range(lo, hi):
        acc[g] *= inv_wsum[g]


@nb.njit(cache=_CACHE, nogil=True)
def _zero(acc, lo, hi):
    for g in range(lo, hi):
        acc[g] = 0.0


@nb.njit(cache=_CACHE, nogil=True)
def _sub_then_sum(src, dst, w, code_s, off_s, code_t, off_t, acc):
    """One fused pass: ``dst <- src - P_s src`` (the means of fixed effect ``s`` are in
    ``acc[off_s:]``) and the weighted group sums of ``dst`` for fixed effect ``t`` are
    accumulated into ``acc[off_t:]`` (zeroed by the caller). Fusing the subtraction of
    one projection with the sums of the next halves the passes over the data."""
    n = src.size
    if n == 0:
        return
    # codes in runs (data sorted by this fixed effect): sum each run in a register,
    # which avoids a store-to-load dependency through ``acc`` on every row
    prev = code_t[0]
    part = 0.0
    for i in range(n):
        vi = src[i] - acc[off_s + code_s[i]]
        dst[i] = vi
        ct = code_t[i]
        if ct != prev:
            acc[off_t + prev] += part
            part = 0.0
            prev = ct
        part += w[i] * vi
    acc[off_t + prev] += part


@nb.njit(cache=_CACHE, nogil=True)
def _chain(v, w, codes, inv_wsum, offsets, sizes, seq, acc):
    """Apply the projections ``A_seq[0], ..., A_seq[-2]`` to ``v`` in place, assuming
    the means of ``seq[0]`` are already in ``acc``; on return the means of ``v`` for
    ``seq[-1]`` are in ``acc`` (its subtraction is left to the caller, fused with what
    follows)."""
    for s in range(seq.size - 1):
        qs, qt = seq[s], seq[s + 1]
        _zero(acc, offsets[qt], offsets[qt] + sizes[qt])
        _sub_then_sum(v, v, w, codes[qs], offsets[qs], codes[qt], offsets[qt], acc)
        _scale_means(acc, inv_wsum, offsets[qt], offsets[qt] + sizes[qt])


@nb.njit(cache=_CACHE, nogil=True)
def _demean_column(y, w, codes, inv_wsum, offsets, sizes, tol, maxiter):
    """Replace y by M y in place. Returns (iterations, converged)."""
    n = y.size
    q_count = codes.shape[0]
    acc = np.empty(offsets[q_count - 1] + sizes[q_count - 1])
    g0 = sizes[0]
    c0 = codes[0]
    # first group sums of y (and its squared norm)
    _zero(acc, 0, g0)
    potential = 0.0
    for i in range(n):
        acc[c0[i]] += w[i] * y[i]
        potential += w[i] * y[i] * y[i]
    _scale_means(acc, inv_wsum, 0, g0)
    if q_count == 1:
        for i in range(n):
            y[i] -= acc[c0[i]]
        return 1, True
    # the symmetric sweep order 0, 1, ..., Q-1, ..., 1, 0
    seq = np.empty(2 * q_count - 1, dtype=np.int64)
    for q in range(q_count):
        seq[q] = q
        seq[2 * q_count - 2 - q] = q
    # r = y - K y (the CG residual of (I - K) x = (I - K) y at x = 0)
    v = np.empty(n)
    _zero(acc, offsets[1], offsets[1] + sizes[1])
    _sub_then_sum(y, v, w, c0, 0, codes[1], offsets[1], acc)
    _scale_means(acc, inv_wsum, offsets[1], offsets[1] + sizes[1])
    _chain(v, w, codes, inv_wsum, offsets, sizes, seq[1:], acc)
    r = np.empty(n)
    ssr = 0.0
    for i in range(n):
        ri = y[i] - (v[i] - acc[c0[i]])
        r[i] = ri
        ssr += w[i] * ri * ri
    ss0 = potential
    if ssr <= 1e-300 or ss0 <= 1e-300:
        return 0, True
    u = np.zeros(n)
    beta = 0.0
    tol2 = tol * tol
    for it in range(1, maxiter + 1):
        # u <- r + beta u with the group sums of u for the first projection
        _zero(acc, 0, g0)
        for i in range(n):
            ui = r[i] + beta * u[i]
            u[i] = ui
            acc[c0[i]] += w[i] * ui
        _scale_means(acc, inv_wsum, 0, g0)
        # v <- K u, one fused pass per projection
        _zero(acc, offsets[1], offsets[1] + sizes[1])
        _sub_then_sum(u, v, w, c0, 0, codes[1], offsets[1], acc)
        _scale_means(acc, inv_wsum, offsets[1], offsets[1] + sizes[1])
        _chain(v, w, codes, inv_wsum, offsets, sizes, seq[1:], acc)
        # v <- (I - K) u (last subtraction fused) and <u, v>_W
        uv = 0.0
        for i in range(n):
            vi = u[i] - (v[i] - acc[c0[i]])
            v[i] = vi
            uv += w[i] * u[i] * vi
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
