"""Weighted cross products ``A W B'`` of row-major ``(K, N)`` arrays (the Gram matrices
of the demeaned regressors) without a full weighted copy of ``A``."""

from __future__ import annotations

import numpy as np

#: rows per block (the weighted block stays in cache)
BLOCK = 1 << 15


def weighted_cross(A: np.ndarray, w: np.ndarray, B: np.ndarray | None = None) -> np.ndarray:
    """``A W B'`` for ``(K, N)`` ``A`` and ``(L, N)`` ``B`` (default ``A``), in blocks of
    :data:`BLOCK` rows."""
    B = A if B is None else B
    out = np.zeros((A.shape[0], B.shape[0]))
    for lo in range(0, A.shape[1], BLOCK):
        hi = lo + BLOCK
        out += (A[:, lo:hi] * w[lo:hi]) @ B[:, lo:hi].T
    return out
