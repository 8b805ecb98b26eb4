r"""Demeaned columns shared by the least-squares fits of one multiple estimation.

By Frisch-Waugh-Lovell a fixed-effect OLS regresses ``M y`` on ``M X``, where ``M``
is the annihilator of the fixed effects under the weights. ``M`` applied to one
column depends only on that column, the fixed-effect codes of the sample, the
weights and the demeaning settings, and every algorithm of :mod:`gravity.hdfe`
computes it column by column. So when several models are fitted to one sample --
several outcomes ``c(y1, y2) ~ x | fe``, stepwise regressors ``csw(x1, x2)``, the
same regressors under other outcomes -- a column demeaned for one model is the
column any other model would compute, bit for bit, and is computed once (fixest
does the same in its multiple estimation).

The cache is addressed by content: a key is the digest (BLAKE2b) of the raw column,
of the fixed-effect codes and of the weights, with the algorithm and its tolerance
and cap; so two models share a column exactly when their separate fits would
demean the same numbers in the same way (a different sample, other missing rows,
other weights or fixed effects give other keys). It is active only inside
:func:`shared_demeaning` (one sample of :func:`~gravity.estimation.multiple.estimate_many`),
holds at most ``max_bytes`` of columns, and is dropped on exit. The Poisson and
binary models demean with weights that change at every IRLS step: nothing there can
be shared.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..hdfe import AlternatingProjections, DemeanConfig, DemeanInfo, FixedEffects

#: cap on the memory of the demeaned columns kept for one sample (bytes)
MAX_BYTES = 1 << 30


@dataclass
class DemeanCache:
    """Demeaned columns by key, with their iterations and convergence flags."""

    max_bytes: int = MAX_BYTES
    columns: dict[tuple[Any, ...], tuple[np.ndarray, int, bool]] = field(default_factory=dict)
    nbytes: int = 0
    hits: int = 0
    misses: int = 0


_ACTIVE: ContextVar[DemeanCache | None] = ContextVar("gravity_demean_cache", default=None)


@contextmanager
def shared_demeaning(max_bytes: int = MAX_BYTES) -> Iterator[DemeanCache]:
    """Share demeaned columns between the least-squares fits run in the block."""
    cache = DemeanCache(max_bytes=max_bytes)
    token = _ACTIVE.set(cache)
    try:
        yield cache
    finally:
        _ACTIVE.reset(token)


def _digest(a: np.ndarray) -> bytes:
    a = np.ascontiguousarray(a)
    return hashlib.blake2b(a.tobytes(), digest_size=16).digest() + \
        str((a.dtype.str, a.shape)).encode()


def demean_work(fe: Any, work: np.ndarray, weights: np.ndarray | None,
                config: DemeanConfig) -> DemeanInfo:
    """``fe.demean_inplace(work, weights, config.tol, config.maxiter)``, taking the
    columns (rows of ``work``) already demeaned in the active :func:`shared_demeaning`
    block from it and storing the new ones (without an active block, or for a
    demeaner other than the plain fixed effects -- varying slopes --, exactly the
    plain call)."""
    cache = _ACTIVE.get()
    if cache is None or type(fe) not in (FixedEffects, AlternatingProjections):
        return fe.demean_inplace(work, weights, tol=config.tol, maxiter=config.maxiter)
    base = (type(fe).__name__, config.tol, config.maxiter, _digest(np.asarray(
        fe.global_codes if isinstance(fe, FixedEffects) else fe.codes)),
            None if weights is None else _digest(np.asarray(weights, dtype=np.float64)))
    keys = [base + (_digest(work[j]),) for j in range(work.shape[0])]
    k = work.shape[0]
    iters = np.zeros(k, dtype=np.int64)
    conv = np.zeros(k, dtype=np.bool_)
    todo = []
    for j, key in enumerate(keys):
        hit = cache.columns.get(key)
        if hit is None:
            todo.append(j)
            continue
        work[j], iters[j], conv[j] = hit
        cache.hits += 1
    if todo:
        sub = np.ascontiguousarray(work[todo])
        info = fe.demean_inplace(sub, weights, tol=config.tol, maxiter=config.maxiter)
        for i, j in enumerate(todo):
            work[j] = sub[i]
            iters[j], conv[j] = info.iterations[i], info.converged[i]
            cache.misses += 1
            if keys[j] not in cache.columns and cache.nbytes + sub[i].nbytes <= cache.max_bytes:
                cache.columns[keys[j]] = (sub[i].copy(), int(iters[j]), bool(conv[j]))
                cache.nbytes += sub[i].nbytes
    return DemeanInfo(iters, conv)
