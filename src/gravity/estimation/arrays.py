"""Constant vectors that take no memory.

A fit without ``weights=`` has prior weights that are all one, and one without
``offset=`` an offset that is all zero. They are represented by a read-only
broadcast view of one number (``numpy.broadcast_to``): every reading operation sees
an ordinary vector of length ``n``, and it occupies 8 bytes instead of ``8 n``
(a million-row fit would otherwise hold two extra vectors of 7.6 MiB each). Writing
into one raises ``ValueError`` (read-only), so no caller can change it by accident.
"""

from __future__ import annotations

import numpy as np

__all__ = ["constant", "is_constant"]


def constant(n: int, value: float) -> np.ndarray:
    """A read-only float64 vector of length ``n`` whose entries are all ``value``."""
    return np.broadcast_to(np.float64(value), (int(n),))


def is_constant(a: np.ndarray) -> bool:
    """Whether ``a`` is such a broadcast vector (stride 0)."""
    return a.ndim == 1 and a.size > 1 and a.strides[0] == 0
