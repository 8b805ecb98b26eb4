"""Compact pickling of a :class:`~gravity.estimation.record.FitRecord`, exact.

A record is pickled whenever a fit crosses processes (a Dask worker sends back a
product's results; a user saves a fit). Some of its arrays carry no information of
their own, or less than their type holds, and are packed so that unpickling rebuilds
them bit for bit:

* prior weights that are all one and an offset that is all zero (no ``weights=`` /
  ``offset=``): their length only;
* integer codes (fixed effects, clusters, dropped rows) and integer row labels:
  stored in the narrowest integer type that holds them, cast back to their own type;
  row labels in arithmetic progression (``0, 1, 2...`` or ``3, 10, 17...``): their
  first value and step; a cluster code array that *is* a fixed effect's code array
  (clustering by a fixed effect): stored once, and the same object after unpickling;
* the outcome and the regressors (each column of ``X``) when every value is an
  integer (counts, binary outcomes, dummies): as the narrowest integer type, kept
  only if casting back gives the same bits (``-0.0``, ``NaN``, values beyond 2**31
  stay as they are);
* the sample mask: one bit per input row (``numpy.packbits``), or its length when
  every row is used.

Nothing else changes: every method of the result (``with_vcov``, ``predict``,
``fixed_effects``...) works on the unpickled record as on the original. For a
15,000-row PPML with two fixed effects (count outcome, a dummy regressor, clustered by
one of the fixed effects) the pickle shrinks from 0.90 to 0.60 MB
(``benchmarks/results/split_dask.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .arrays import constant, is_constant


@dataclass(frozen=True)
class Packed:
    """An array stored compactly. ``kind``: ``"ones"``/``"zeros"`` (``n`` values),
    ``"ints"`` (``data`` cast back to ``dtype``), ``"range"`` (``n`` int64 values
    from ``data = [start, step]``), ``"bits"`` (``n`` booleans packed in ``data``;
    all true when ``data`` is None), ``"columns"`` (a 2-D array of ``n`` rows in the
    memory ``order`` of ``dtype``, its columns in ``parts``)."""

    kind: str
    n: int = 0
    dtype: str = "float64"
    data: np.ndarray | None = None
    parts: tuple[Any, ...] = ()
    order: str = "C"


_INT_TYPES = (np.int8, np.int16, np.int32)


def _smallest(lo: float, hi: float) -> Any:
    """The narrowest of int8, int16 and int32 that holds ``lo..hi`` (None: none)."""
    for t in _INT_TYPES:
        info = np.iinfo(t)
        if info.min <= lo and hi <= info.max:
            return t
    return None


def _narrow(a: np.ndarray) -> np.ndarray | Packed:
    """An integer array in the narrowest type that holds its values (exactly)."""
    if a.dtype.kind not in "iu" or a.size == 0 or a.ndim != 1:
        return a
    t = _smallest(int(a.min()), int(a.max()))
    if t is None or np.dtype(t).itemsize >= a.dtype.itemsize:
        return a
    return Packed("ints", a.size, a.dtype.str, a.astype(t))


def _integral(a: np.ndarray) -> Packed | None:
    """A float64 vector whose values are all integers, as the narrowest integer type
    that gives back the same bits (None otherwise: fractions, ``-0.0``, ``NaN``,
    infinities, magnitudes beyond int32)."""
    if a.dtype != np.float64 or a.ndim != 1 or a.size == 0 or is_constant(a):
        return None
    if not float(a[0]).is_integer():  # the common reject, at the cost of one value
        return None
    lo, hi = float(a.min()), float(a.max())  # NaN fails both comparisons below
    t = _smallest(lo, hi) if lo >= -2.0 ** 31 and hi < 2.0 ** 31 else None
    if t is None:
        return None
    ints = a.astype(t)
    if not np.array_equal(ints.astype(np.float64).view(np.int64), a.view(np.int64)):
        return None
    return Packed("ints", a.size, a.dtype.str, ints)


def _pack_matrix(a: Any) -> Any:
    """A 2-D float64 array with at least one integer-valued column: its columns, those
    packed by :func:`_integral` (the others as contiguous float64 vectors)."""
    if not (isinstance(a, np.ndarray) and a.dtype == np.float64 and a.ndim == 2
            and a.shape[1] and (a.flags.c_contiguous or a.flags.f_contiguous)):
        return a
    parts = [_integral(a[:, j]) for j in range(a.shape[1])]
    if all(p is None for p in parts):
        return a
    cols = tuple(p if p is not None else np.ascontiguousarray(a[:, j])
                 for j, p in enumerate(parts))
    order = "C" if a.flags.c_contiguous else "F"
    return Packed("columns", a.shape[0], a.dtype.str, parts=cols, order=order)


def _pack_mask(a: Any) -> Any:
    if not (isinstance(a, np.ndarray) and a.dtype == np.bool_ and a.ndim == 1):
        return a
    return Packed("bits", a.size, "bool", None if a.all() else np.packbits(a))


def _pack_labels(index: pd.Index) -> Any:
    """int64 row labels: an arithmetic progression as its start and step, else in the
    narrowest integer type."""
    values = index.to_numpy()
    if values.size >= 2:
        start, step = int(values[0]), int(values[1]) - int(values[0])
        if step and np.array_equal(values, start + step * np.arange(values.size)):
            return (Packed("range", values.size, "int64", np.array([start, step])),
                    index.name)
    return (_narrow(values), index.name)


def _widen(v: Any) -> Any:
    if not isinstance(v, Packed):
        return v
    if v.kind == "ints":
        assert v.data is not None
        return v.data.astype(np.dtype(v.dtype))
    if v.kind == "range":
        assert v.data is not None
        start, step = (int(x) for x in v.data)
        return start + step * np.arange(v.n, dtype=np.int64)
    if v.kind == "bits":
        if v.data is None:
            return np.ones(v.n, dtype=np.bool_)
        return np.unpackbits(v.data, count=v.n).astype(np.bool_)
    if v.kind == "columns":
        out = np.empty((v.n, len(v.parts)), dtype=np.dtype(v.dtype),
                       order="F" if v.order == "F" else "C")
        for j, part in enumerate(v.parts):
            out[:, j] = _widen(part)
        return out
    return v


def _constant(a: Any, value: float) -> bool:
    return (isinstance(a, np.ndarray) and a.dtype == np.float64 and a.ndim == 1
            and bool(np.all(a == value)) and not np.signbit(a).any())


def pack_state(state: dict[str, Any]) -> dict[str, Any]:
    """The record's ``__dict__`` with the arrays above packed (a new dict)."""
    out = dict(state)
    for name, value in (("prior_weights", 1.0), ("offset", 0.0)):
        a = out.get(name)
        if isinstance(a, np.ndarray) and _constant(a, value):
            out[name] = Packed("ones" if value else "zeros", int(a.size))
    codes = [(c, _narrow(c)) for c in out["fe_codes"]]
    out["fe_codes"] = tuple(p for _, p in codes)

    def shared(v: np.ndarray) -> Any:  # a fixed effect's own array: the same object
        return next((p for c, p in codes if c is v), None)

    out["cluster_map"] = {k: ("fe", s) if (s := shared(v)) is not None else _narrow(v)
                          for k, v in out["cluster_map"].items()}
    out["dropped_positions"] = {k: _narrow(v) if isinstance(v, np.ndarray) else v
                                for k, v in out["dropped_positions"].items()}
    index = out.get("input_index")
    if isinstance(index, pd.Index) and type(index) is pd.Index and index.dtype == np.int64:
        out["input_index"] = _pack_labels(index)
    y = out.get("y")
    if isinstance(y, np.ndarray) and (packed := _integral(y)) is not None:
        out["y"] = packed
    out["X"] = _pack_matrix(out.get("X"))
    out["mask"] = _pack_mask(out.get("mask"))
    return out


def unpack_state(state: dict[str, Any]) -> dict[str, Any]:
    """The inverse of :func:`pack_state`."""
    out = dict(state)
    for name in ("prior_weights", "offset"):
        v = out.get(name)
        if isinstance(v, Packed):
            out[name] = constant(v.n, 1.0 if v.kind == "ones" else 0.0)
    wide = {id(c): _widen(c) for c in out["fe_codes"]}
    out["fe_codes"] = tuple(wide[id(c)] for c in out["fe_codes"])

    def cluster(v: Any) -> Any:
        if isinstance(v, tuple) and len(v) == 2 and v[0] == "fe":
            return wide[id(v[1])]
        return _widen(v)

    out["cluster_map"] = {k: cluster(v) for k, v in out["cluster_map"].items()}
    out["dropped_positions"] = {k: _widen(v) for k, v in out["dropped_positions"].items()}
    index = out.get("input_index")
    if isinstance(index, tuple):
        values, name = index
        out["input_index"] = pd.Index(_widen(values), name=name)
    for name in ("y", "X", "mask"):
        if name in out:
            out[name] = _widen(out[name])
    return out
