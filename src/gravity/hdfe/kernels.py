"""The numba kernels of the within-transformation (see :mod:`gravity.hdfe.demean` for
the method). Imported on the first demeaning of a large sample only, so that
``import gravity`` and small fits never load or compile numba.

Every kernel makes one pass over the rows ``lo:hi`` (the caller splits the rows
across threads and adds up the per-thread outputs). Codes are *global*: the level
``g`` of fixed effect ``q`` is row ``offsets[q] + g`` of the coefficient arrays,
added once when the fixed effects are set up. The fixed effect stored last is the
one whose codes come in the longest runs (the data sorted by it): its sums are kept
in a register over each run instead of going through memory on every row.

Coefficient blocks are 4 columns wide (``P[:, col:col + 4]``, held in scalars):
four columns cost about as much as one per pass, since a pass is bound by the
random accesses of the gathers and scatters, not by the arithmetic.

One specialisation per kernel (float64 data, int32 codes; int64 codes only for a
fixed-effect design with 2**31 levels or more), compiled on first use and cached on
disk (``cache=True``: next to the package when it is writable, otherwise in numba's
per-user cache directory, or ``NUMBA_CACHE_DIR``).
"""

from __future__ import annotations

import numba as nb

_CACHE = True
#: width of a coefficient block (columns per pass)
WIDTH = 4


@nb.njit(cache=_CACHE, nogil=True)
def _group_sums(codes, w, out, lo, hi):
    """``out[g] += w[i]`` for every row ``i`` in ``lo:hi`` and every (global) code
    ``g = codes[q, i]``: the weight of every level of every fixed effect in one pass."""
    q_count = codes.shape[0]
    for i in range(lo, hi):
        wi = w[i]
        for q in range(q_count):
            out[codes[q, i]] += wi


@nb.njit(cache=_CACHE, nogil=True)
def _rhs(codes, w, Y, col, out, ss, wsum, lo, hi):
    """For the columns ``col:col + 4`` of ``Y`` (``(K, N)``, rows of ``Y`` beyond ``K``
    read as zero): ``out[g, j] += w_i Y[col + j, i]`` for every code ``g`` of row ``i``
    (``D'W Y``) and ``ss[j] += w_i Y[col + j, i]**2``; with ``wsum.size``, also the
    weight of every level, ``wsum[g] += w_i`` (the group sums in the same pass)."""
    q_count = codes.shape[0]
    k_count = Y.shape[0]
    n1 = col + 1 < k_count
    n2 = col + 2 < k_count
    n3 = col + 3 < k_count
    sums = wsum.size > 0
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    for i in range(lo, hi):
        wi = w[i]
        y0 = Y[col, i]
        y1 = Y[col + 1, i] if n1 else 0.0
        y2 = Y[col + 2, i] if n2 else 0.0
        y3 = Y[col + 3, i] if n3 else 0.0
        t0 = wi * y0
        t1 = wi * y1
        t2 = wi * y2
        t3 = wi * y3
        s0 += t0 * y0
        s1 += t1 * y1
        s2 += t2 * y2
        s3 += t3 * y3
        for q in range(q_count):
            g = codes[q, i]
            out[g, 0] += t0
            out[g, 1] += t1
            out[g, 2] += t2
            out[g, 3] += t3
            if sums:
                wsum[g] += wi
    ss[0] += s0
    ss[1] += s1
    ss[2] += s2
    ss[3] += s3


@nb.njit(cache=_CACHE, nogil=True)
def _subtract(codes, X, col, Y, lo, hi):
    """``Y[col + j, i] -= sum_q X[codes[q, i], col + j]`` (``Y <- Y - D X`` for the
    columns ``col:col + 4`` that exist in ``Y``)."""
    q_count = codes.shape[0]
    k_count = Y.shape[0]
    n1 = col + 1 < k_count
    n2 = col + 2 < k_count
    n3 = col + 3 < k_count
    for i in range(lo, hi):
        g = codes[0, i]
        s0 = X[g, col]
        s1 = X[g, col + 1]
        s2 = X[g, col + 2]
        s3 = X[g, col + 3]
        for q in range(1, q_count):
            g = codes[q, i]
            s0 += X[g, col]
            s1 += X[g, col + 1]
            s2 += X[g, col + 2]
            s3 += X[g, col + 3]
        Y[col, i] -= s0
        if n1:
            Y[col + 1, i] -= s1
        if n2:
            Y[col + 2, i] -= s2
        if n3:
            Y[col + 3, i] -= s3


@nb.njit(cache=_CACHE, nogil=True)
def _matvec2(codes, w, P, col, out, lo, hi):
    """``out[:, :4] = D'W D P[:, col:col + 4]`` over the rows ``lo:hi`` for two fixed
    effects (the second in runs)."""
    out[:] = 0.0
    if hi <= lo:
        return
    c0 = codes[0]
    c1 = codes[1]
    prev = c1[lo]
    a0 = 0.0
    a1 = 0.0
    a2 = 0.0
    a3 = 0.0
    for i in range(lo, hi):
        cr = c1[i]
        if cr != prev:
            out[prev, 0] += a0
            out[prev, 1] += a1
            out[prev, 2] += a2
            out[prev, 3] += a3
            a0 = 0.0
            a1 = 0.0
            a2 = 0.0
            a3 = 0.0
            prev = cr
        g0 = c0[i]
        wi = w[i]
        t0 = wi * (P[cr, col] + P[g0, col])
        t1 = wi * (P[cr, col + 1] + P[g0, col + 1])
        t2 = wi * (P[cr, col + 2] + P[g0, col + 2])
        t3 = wi * (P[cr, col + 3] + P[g0, col + 3])
        a0 += t0
        a1 += t1
        a2 += t2
        a3 += t3
        out[g0, 0] += t0
        out[g0, 1] += t1
        out[g0, 2] += t2
        out[g0, 3] += t3
    out[prev, 0] += a0
    out[prev, 1] += a1
    out[prev, 2] += a2
    out[prev, 3] += a3


@nb.njit(cache=_CACHE, nogil=True)
def _matvec3(codes, w, P, col, out, lo, hi):
    """As :func:`_matvec2` for three fixed effects (the third in runs)."""
    out[:] = 0.0
    if hi <= lo:
        return
    c0 = codes[0]
    c1 = codes[1]
    c2 = codes[2]
    prev = c2[lo]
    a0 = 0.0
    a1 = 0.0
    a2 = 0.0
    a3 = 0.0
    for i in range(lo, hi):
        cr = c2[i]
        if cr != prev:
            out[prev, 0] += a0
            out[prev, 1] += a1
            out[prev, 2] += a2
            out[prev, 3] += a3
            a0 = 0.0
            a1 = 0.0
            a2 = 0.0
            a3 = 0.0
            prev = cr
        g0 = c0[i]
        g1 = c1[i]
        wi = w[i]
        t0 = wi * (P[cr, col] + P[g0, col] + P[g1, col])
        t1 = wi * (P[cr, col + 1] + P[g0, col + 1] + P[g1, col + 1])
        t2 = wi * (P[cr, col + 2] + P[g0, col + 2] + P[g1, col + 2])
        t3 = wi * (P[cr, col + 3] + P[g0, col + 3] + P[g1, col + 3])
        a0 += t0
        a1 += t1
        a2 += t2
        a3 += t3
        out[g0, 0] += t0
        out[g0, 1] += t1
        out[g0, 2] += t2
        out[g0, 3] += t3
        out[g1, 0] += t0
        out[g1, 1] += t1
        out[g1, 2] += t2
        out[g1, 3] += t3
    out[prev, 0] += a0
    out[prev, 1] += a1
    out[prev, 2] += a2
    out[prev, 3] += a3


@nb.njit(cache=_CACHE, nogil=True)
def _matvec(codes, w, P, col, out, lo, hi):
    """As :func:`_matvec2` for any number of fixed effects (the last in runs).
    :func:`_matvec2` and :func:`_matvec3` are this loop unrolled for two and three
    fixed effects (about a quarter faster per pass on the 4.9e6-row benchmark panel)."""
    out[:] = 0.0
    if hi <= lo:
        return
    last = codes.shape[0] - 1
    prev = codes[last, lo]
    a0 = 0.0
    a1 = 0.0
    a2 = 0.0
    a3 = 0.0
    for i in range(lo, hi):
        cr = codes[last, i]
        if cr != prev:
            out[prev, 0] += a0
            out[prev, 1] += a1
            out[prev, 2] += a2
            out[prev, 3] += a3
            a0 = 0.0
            a1 = 0.0
            a2 = 0.0
            a3 = 0.0
            prev = cr
        t0 = P[cr, col]
        t1 = P[cr, col + 1]
        t2 = P[cr, col + 2]
        t3 = P[cr, col + 3]
        for q in range(last):
            g = codes[q, i]
            t0 += P[g, col]
            t1 += P[g, col + 1]
            t2 += P[g, col + 2]
            t3 += P[g, col + 3]
        wi = w[i]
        t0 *= wi
        t1 *= wi
        t2 *= wi
        t3 *= wi
        a0 += t0
        a1 += t1
        a2 += t2
        a3 += t3
        for q in range(last):
            g = codes[q, i]
            out[g, 0] += t0
            out[g, 1] += t1
            out[g, 2] += t2
            out[g, 3] += t3
    out[prev, 0] += a0
    out[prev, 1] += a1
    out[prev, 2] += a2
    out[prev, 3] += a3



@nb.njit(cache=_CACHE, nogil=True)
def _reduce_dot(bufs, p, col, q, pq):
    """``q[:, col:col + 4] = sum_t bufs[t]`` (the threads' partial products) and
    ``pq[col + j] = <p[:, col + j], q[:, col + j]>``."""
    t_count = bufs.shape[0]
    for g in range(bufs.shape[1]):
        for j in range(4):
            s = bufs[0, g, j]
            for t in range(1, t_count):
                s += bufs[t, g, j]
            q[g, col + j] = s
            pq[col + j] += p[g, col + j] * s


@nb.njit(cache=_CACHE, nogil=True)
def _update(X, r, p, q, inv, alpha, rz):
    """``X += alpha p``, ``r -= alpha q`` (per column) and ``rz = <r, inv * r>``."""
    width = X.shape[1]
    for g in range(X.shape[0]):
        ig = inv[g]
        for j in range(width):
            a = alpha[j]
            X[g, j] += a * p[g, j]
            rj = r[g, j] - a * q[g, j]
            r[g, j] = rj
            rz[j] += rj * rj * ig


@nb.njit(cache=_CACHE, nogil=True)
def _direction(p, r, inv, beta):
    """``p = inv * r + beta p`` (per column; ``beta = 0`` with ``p`` cleared for the
    columns that have stopped, marked by a negative ``beta``)."""
    width = p.shape[1]
    for g in range(p.shape[0]):
        ig = inv[g]
        for j in range(width):
            b = beta[j]
            p[g, j] = 0.0 if b < 0 else ig * r[g, j] + b * p[g, j]
