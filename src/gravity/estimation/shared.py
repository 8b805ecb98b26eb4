r"""Work shared by the fits of one multiple estimation: demeaned columns, fixed-effect
codes and the pruning of singletons and all-zero groups.

By Frisch-Waugh-Lovell a fixed-effect OLS regresses ``M y`` on ``M X``, where ``M``
is the annihilator of the fixed effects under the weights. ``M`` applied to one
column depends only on that column, the fixed-effect codes of the sample, the
weights and the demeaning settings, and every algorithm of :mod:`gravity.hdfe`
computes it column by column. So when several models are fitted to one sample --
several outcomes ``c(y1, y2) ~ x | fe``, stepwise regressors ``csw(x1, x2)``, the
same regressors under other outcomes -- a column demeaned for one model is the
column any other model would compute, bit for bit, and is computed once (fixest
does the same in its multiple estimation).

Two more steps of :func:`~gravity.estimation.design.prepare` are pure functions of
a few arrays and are shared the same way (any model: OLS, PPML, binary):

* the codes of a fixed-effect term (``exporter^year``): a function of the codes (or
  values) of its columns (:func:`factor_codes`);
* the iterated removal of singletons and of groups whose outcome is all zero (or all
  one): a function of the fixed-effect codes of the sample (after its missing rows
  are dropped), of which outcomes are positive (all-zero rule) or below one
  (all-one rule), and of the rules applied (:func:`lookup` / :func:`store` of a
  :class:`~gravity.estimation.design.Pruning`). Models with another missing-value
  pattern, other fixed effects or another outcome zero pattern get other keys.

The cache is addressed by content: a key is the digest (SHA-1 of the bytes, with the
dtype and shape) of every array the result depends on, with the settings; so two
models share a result exactly when their separate fits would compute it from the
same numbers in the same way. It is active only inside :func:`shared_demeaning`
(one sample of :func:`~gravity.estimation.multiple.estimate_many`), holds at most
``max_bytes`` of arrays, and is dropped on exit. The Poisson and binary models
demean with weights that change at every IRLS step: their demeaning is not shared.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..hdfe import AlternatingProjections, DemeanConfig, DemeanInfo, FixedEffects
from ..hdfe.factors import factorize_term

#: cap on the memory of the demeaned columns kept for one sample (bytes)
MAX_BYTES = 1 << 30


@dataclass
class DemeanCache:
    """Demeaned columns by key, with their iterations and convergence flags
    (``hits``/``misses`` count columns); the other results shared (fixed-effect codes,
    prunings) by kind and key in ``results``, counted in ``shared_hits`` and
    ``shared_misses`` by kind."""

    max_bytes: int = MAX_BYTES
    columns: dict[tuple[Any, ...], tuple[np.ndarray, int, bool]] = field(default_factory=dict)
    nbytes: int = 0
    hits: int = 0
    misses: int = 0
    results: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    shared_hits: dict[str, int] = field(default_factory=dict)
    shared_misses: dict[str, int] = field(default_factory=dict)


_ACTIVE: ContextVar[DemeanCache | None] = ContextVar("gravity_demean_cache", default=None)


@contextmanager
def shared_demeaning(max_bytes: int = MAX_BYTES) -> Iterator[DemeanCache]:
    """Share demeaned columns, fixed-effect codes and prunings between the fits run in
    the block (see the module docstring)."""
    cache = DemeanCache(max_bytes=max_bytes)
    token = _ACTIVE.set(cache)
    try:
        yield cache
    finally:
        _ACTIVE.reset(token)


def digest(a: np.ndarray) -> bytes:
    """The content key of an array: SHA-1 of its bytes, with its dtype and shape
    (object arrays are refused: their bytes are pointers, not values)."""
    a = np.ascontiguousarray(a)
    if a.dtype.hasobject:
        raise TypeError("object arrays have no content digest")
    raw = a.reshape(-1).view(np.uint8).data
    return hashlib.sha1(raw, usedforsecurity=False).digest() + \
        str((a.dtype.str, a.shape)).encode()


def active_cache() -> DemeanCache | None:
    """The cache of the enclosing :func:`shared_demeaning` block, if any."""
    return _ACTIVE.get()


def lookup(kind: str, key: tuple[Any, ...]) -> Any:
    """The result of ``kind`` stored under ``key`` in the active block (None: not
    stored, or no active block)."""
    cache = _ACTIVE.get()
    if cache is None:
        return None
    hit = cache.results.get((kind, *key))
    counts = cache.shared_hits if hit is not None else cache.shared_misses
    counts[kind] = counts.get(kind, 0) + 1
    return hit


def store(kind: str, key: tuple[Any, ...], value: Any, nbytes: int) -> None:
    """Keep ``value`` (``nbytes`` of arrays) under ``key`` in the active block, if there
    is room."""
    cache = _ACTIVE.get()
    if cache is None or cache.nbytes + nbytes > cache.max_bytes:
        return
    cache.results[(kind, *key)] = value
    cache.nbytes += nbytes


def column_key(series: pd.Series) -> bytes | None:
    """The content key of a column as a fixed effect: the digest of its categorical
    codes (the factorisation of a categorical depends on its codes only) or of its
    values (plain NumPy dtypes); None for anything else (object, strings, extension
    dtypes: not shared)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return b"c" + digest(np.asarray(series.array.codes))
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "biufmM":
        return b"v" + digest(series.to_numpy())
    return None


def factor_codes(data: pd.DataFrame, columns: tuple[str, ...]) -> np.ndarray:
    """:func:`gravity.hdfe.factors.factorize_term` of ``columns``, computed once per
    content in the active block (a fresh copy each time: callers own their codes)."""
    if _ACTIVE.get() is None:
        return factorize_term(data, columns)
    keys = tuple(column_key(data[c]) for c in columns)
    if any(k is None for k in keys):
        return factorize_term(data, columns)
    hit = lookup("factor", keys)
    if hit is not None:
        return np.array(hit, copy=True)
    codes = factorize_term(data, columns)
    store("factor", keys, codes.copy(), codes.nbytes)
    return codes


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
    base = (type(fe).__name__, config.tol, config.maxiter, digest(np.asarray(
        fe.global_codes if isinstance(fe, FixedEffects) else fe.codes)),
            None if weights is None else digest(np.asarray(weights, dtype=np.float64)))
    keys = [base + (digest(work[j]),) for j in range(work.shape[0])]
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
