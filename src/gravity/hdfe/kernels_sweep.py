"""The numba kernels of the sweep engine of the within-transformation: symmetric
Kaczmarz sweeps (alternating projections ``A_1 ... A_Q ... A_1``) accelerated by
conjugate gradients, one column per thread (see :mod:`gravity.hdfe.demean` for when it
is used: large designs whose codes jump around in memory). Each pass touches the means
of one or two fixed effects only, which stay in cache where the coefficient engine's
arrays of all fixed effects would not. The codes are the engine's global codes (the
levels of the fixed effects one after the other, the first from 0), so the offsets
serve only to delimit each fixed effect's means.

One specialisation per kernel (float64 data, int32 codes; int64 codes only for a
fixed effect with 2**31 levels or more), compiled on first use and cached on disk
(``cache=True``: next to the package when it is writable, otherwise in numba's
per-user cache directory, or ``NUMBA_CACHE_DIR``).
"""

from __future__ import annotations

import numba as nb
import numpy as np

_CACHE = True
#: the update of the CG residual is fused with the next direction when its norm,
#: computed beforehand from inner products, is at least this fraction of the terms
#: it is the difference of (otherwise rounding could dominate it)
FUSE_MIN = 1e-6


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
        _sub_then_sum(v, v, w, codes[qs], 0, codes[qt], 0, acc)
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
    _sub_then_sum(y, v, w, c0, 0, codes[1], 0, acc)
    _scale_means(acc, inv_wsum, offsets[1], offsets[1] + sizes[1])
    _chain(v, w, codes, inv_wsum, offsets, sizes, seq[1:], acc)
    # r = y - K y, and u <- r (the first direction) with its group sums for the first
    # projection (into acc0: acc still holds the means this pass subtracts)
    r = np.empty(n)
    u = np.empty(n)
    acc0 = np.zeros(g0)
    ssr = 0.0
    for i in range(n):
        ri = y[i] - (v[i] - acc[c0[i]])
        r[i] = ri
        u[i] = ri
        wr = w[i] * ri
        ssr += wr * ri
        acc0[c0[i]] += wr
    ss0 = potential
    if ssr <= 1e-300 or ss0 <= 1e-300:
        return 0, True
    for g in range(g0):
        acc[g] = acc0[g] * inv_wsum[g]
    ru = ssr
    tol2 = tol * tol
    for it in range(1, maxiter + 1):
        # v <- K u, one fused pass per projection
        _zero(acc, offsets[1], offsets[1] + sizes[1])
        _sub_then_sum(u, v, w, c0, 0, codes[1], 0, acc)
        _scale_means(acc, inv_wsum, offsets[1], offsets[1] + sizes[1])
        _chain(v, w, codes, inv_wsum, offsets, sizes, seq[1:], acc)
        # v <- (I - K) u (last subtraction fused) and <u, v>, <r, v>, <v, v>
        uv = 0.0
        rv = 0.0
        vv = 0.0
        for i in range(n):
            vi = u[i] - (v[i] - acc[c0[i]])
            v[i] = vi
            wv = w[i] * vi
            uv += u[i] * wv
            rv += r[i] * wv
            vv += vi * wv
        if uv <= 0.0:
            return it, True
        # exact line search along u (alpha = <r, u> / <u, (I - K) u>)
        alpha = ru / uv
        improvement = alpha * ru
        potential -= improvement
        # stop at the tolerance or when the column is absorbed
        if improvement <= tol2 * potential or potential <= 1e-24 * ss0:
            for i in range(n):
                y[i] -= alpha * u[i]
            return it, True
        # ||r - alpha v||^2 before the update, so that the update of r and y can be
        # fused with the next direction and its group sums (one pass fewer per step);
        # where it cancels (a step that removes almost all of the residual, e.g. under
        # extreme weights) the two passes are kept apart and the norm computed exactly
        ssr_est = ssr - 2.0 * alpha * rv + alpha * alpha * vv
        fuse = ssr_est > FUSE_MIN * (ssr + alpha * alpha * vv)
        beta = ssr_est / ssr if fuse else 0.0
        _zero(acc, 0, g0)
        ssr_new = 0.0
        ru = 0.0
        if fuse:
            # y <- y - alpha u, r <- r - alpha v, u <- r + beta u with its group sums
            for i in range(n):
                ui = u[i]
                y[i] -= alpha * ui
                ri = r[i] - alpha * v[i]
                r[i] = ri
                ui = ri + beta * ui
                u[i] = ui
                wr = w[i] * ri
                ssr_new += wr * ri
                ru += wr * ui
                acc[c0[i]] += w[i] * ui
        else:
            for i in range(n):
                y[i] -= alpha * u[i]
                r[i] -= alpha * v[i]
                ssr_new += w[i] * r[i] * r[i]
        # the residual of the CG system at rounding level: further steps would
        # amplify noise
        if ssr_new <= 1e-28 * ss0:
            return it, True
        if not fuse:
            beta = ssr_new / ssr
            for i in range(n):
                ui = r[i] + beta * u[i]
                u[i] = ui
                wu = w[i] * ui
                ru += r[i] * wu
                acc[c0[i]] += wu
        ssr = ssr_new
        _scale_means(acc, inv_wsum, 0, g0)
    return maxiter, False
