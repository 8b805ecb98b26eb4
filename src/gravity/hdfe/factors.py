"""Fixed-effect factors: integer codes, singleton and all-zero-group removal.

A fixed-effect term (``exporter^year``) becomes a vector of dense integer codes
``0..G-1``. Two pruning rules are iterated until nothing changes, because removing
rows for one fixed effect can create new offending groups in another:

* singletons -- a group with one observation is fitted perfectly by its own
  coefficient and carries no information on the slopes; keeping it only biases
  the small-sample corrections (Correia 2015, "Singletons, cluster-robust
  standard errors and fixed effects");
* all-zero groups (Poisson) -- a group whose outcome is zero everywhere has
  fixed effect -> -infinity; its rows are separated and dropped (Correia,
  Guimaraes and Zylkin 2020, section 3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


def factorize_term(data: pd.DataFrame, columns: tuple[str, ...]) -> np.ndarray:
    """Dense integer codes (int64, 0-based) for the interaction of ``columns``."""
    codes = None
    for col in columns:
        c, uniques = pd.factorize(data[col], sort=False)
        c = c.astype(np.int64, copy=False)
        if codes is None:
            codes = c
        else:
            codes = codes * len(uniques) + c
            codes, _ = pd.factorize(codes, sort=False)
            codes = codes.astype(np.int64, copy=False)
    assert codes is not None
    return codes


def recode(codes: np.ndarray) -> tuple[np.ndarray, int]:
    """Re-map non-negative integer codes to a dense 0..G-1 range (order kept), O(N).

    The codes come back as int32 (half the memory of int64; every use of them counts,
    sums or indexes), int64 only with 2**31 levels or more."""
    if codes.size == 0:
        return codes.astype(np.int32), 0
    present = np.bincount(codes) > 0
    g = int(present.sum())
    mapping = np.cumsum(present, dtype=np.int64) - 1
    return mapping.astype(code_dtype(g), copy=False)[codes], g


def code_dtype(levels: int) -> type[np.signedinteger]:
    """The integer type of codes of ``levels`` levels: int32, or int64 from 2**31."""
    return np.int32 if levels < 2**31 - 1 else np.int64


@dataclass
class PruneResult:
    """Rows kept after pruning and the number removed by each rule."""

    keep: np.ndarray  # boolean mask over the input rows
    singletons: int
    all_zero: int


def prune_groups(
    fe_codes: list[np.ndarray],
    y: np.ndarray | None = None,
    drop_singletons: bool = True,
    drop_all_zero: bool = False,
) -> PruneResult:
    """Iteratively drop singleton groups and (for Poisson) groups with all-zero outcome.

    Parameters
    ----------
    fe_codes : list of int arrays, one per fixed effect, each of length N
    y : outcome (needed when ``drop_all_zero``)
    drop_singletons, drop_all_zero : which rules to apply

    Returns
    -------
    PruneResult with the boolean mask of rows kept and counts by rule.
    """
    n = fe_codes[0].size if fe_codes else (0 if y is None else y.size)
    keep = np.ones(n, dtype=bool)
    n_single = n_zero = 0
    if not fe_codes:
        return PruneResult(keep, 0, 0)
    positive = None if y is None else (y > 0)
    sizes = [int(codes.max()) + 1 if codes.size else 0 for codes in fe_codes]
    # a fixed effect needs another look only after another one dropped rows (its own
    # rules remove whole groups, which creates no new offender in it)
    stale = [True] * len(fe_codes)
    everyone = True
    while any(stale):
        for q, (codes, size) in enumerate(zip(fe_codes, sizes, strict=True)):
            if not stale[q]:
                continue
            stale[q] = False
            before = n_single + n_zero
            # counts over the kept rows without compressing the codes: while every
            # row is kept the plain counts, afterwards the kept rows as weights
            if drop_singletons:
                counts = np.bincount(codes, minlength=size) if everyone \
                    else np.bincount(codes, weights=keep, minlength=size)
                bad = keep & (counts[codes] == 1)
                k = int(np.count_nonzero(bad))
                if k:
                    keep &= ~bad
                    n_single += k
                    everyone = False
            if drop_all_zero and positive is not None:
                npos = np.bincount(codes, weights=positive if everyone else positive & keep,
                                   minlength=size)
                bad = keep & (npos[codes] == 0)
                k = int(np.count_nonzero(bad))
                if k:
                    keep &= ~bad
                    n_zero += k
                    everyone = False
            if n_single + n_zero > before:
                stale = [s or r != q for r, s in enumerate(stale)]
    return PruneResult(keep, n_single, n_zero)


def is_nested(inner: np.ndarray, outer: np.ndarray) -> bool:
    """True when every group of ``inner`` lies within a single group of ``outer``.

    The same codes (a fixed effect clustered on) are nested at once; a prefix of the
    rows is checked first, where two groups that are not nested usually show it."""
    if inner.size == 0 or inner is outer:
        return True
    head = min(inner.size, NESTED_PREFIX)
    if head < inner.size and not _nested(inner[:head], outer[:head]):
        return False
    return _nested(inner, outer)


#: rows of the quick first check of :func:`is_nested`
NESTED_PREFIX = 1 << 16


def _nested(inner: np.ndarray, outer: np.ndarray) -> bool:
    first = np.full(int(inner.max()) + 1, -1, dtype=np.int64)
    first[inner] = outer
    return bool(np.all(first[inner] == outer))
