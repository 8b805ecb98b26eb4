"""Compact pickling of a :class:`~gravity.estimation.record.FitRecord`, exact.

A record is pickled whenever a fit crosses processes (a Dask worker sends back a
product's results; a user saves a fit). Some of its arrays carry no information of
their own, and are packed so that unpickling rebuilds them bit for bit:

* prior weights that are all one and an offset that is all zero (no ``weights=`` /
  ``offset=``): their length only;
* integer codes (fixed effects, clusters, dropped rows) and integer row labels:
  stored in the narrowest integer type that holds them, cast back to their own type.

Nothing else changes: every method of the result (``with_vcov``, ``predict``,
``fixed_effects``...) works on the unpickled record as on the original. For a
15,000-row PPML with two fixed effects the pickle shrinks by about 40%
(``benchmarks/results/split_dask.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .arrays import constant


@dataclass(frozen=True)
class Packed:
    """An array stored compactly: ``kind`` is ``"ones"``, ``"zeros"`` or ``"ints"`` (``data`` cast to ``dtype``)."""

    kind: str
    n: int = 0
    dtype: str = "float64"
    data: np.ndarray | None = None


def _narrow(a: np.ndarray) -> np.ndarray | Packed:
    """An integer array in the narrowest type that holds its values (exactly)."""
    if a.dtype.kind not in "iu" or a.size == 0 or a.ndim != 1:
        return a
    lo, hi = int(a.min()), int(a.max())
    for t in (np.int8, np.int16, np.int32):
        info = np.iinfo(t)
        if info.min <= lo and hi <= info.max:
            if np.dtype(t).itemsize >= a.dtype.itemsize:
                return a
            return Packed("ints", a.size, a.dtype.str, a.astype(t))
    return a


def _widen(v: Any) -> Any:
    if isinstance(v, Packed) and v.kind == "ints":
        assert v.data is not None
        return v.data.astype(np.dtype(v.dtype))
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
    out["fe_codes"] = tuple(_narrow(c) for c in out["fe_codes"])
    out["cluster_map"] = {k: _narrow(v) for k, v in out["cluster_map"].items()}
    out["dropped_positions"] = {k: _narrow(v) if isinstance(v, np.ndarray) else v
                                for k, v in out["dropped_positions"].items()}
    index = out.get("input_index")
    if isinstance(index, pd.Index) and type(index) is pd.Index and index.dtype == np.int64:
        out["input_index"] = (_narrow(index.to_numpy()), index.name)
    return out


def unpack_state(state: dict[str, Any]) -> dict[str, Any]:
    """The inverse of :func:`pack_state`."""
    out = dict(state)
    for name in ("prior_weights", "offset"):
        v = out.get(name)
        if isinstance(v, Packed):
            out[name] = constant(v.n, 1.0 if v.kind == "ones" else 0.0)
    out["fe_codes"] = tuple(_widen(c) for c in out["fe_codes"])
    out["cluster_map"] = {k: _widen(v) for k, v in out["cluster_map"].items()}
    out["dropped_positions"] = {k: _widen(v) for k, v in out["dropped_positions"].items()}
    index = out.get("input_index")
    if isinstance(index, tuple):
        values, name = index
        out["input_index"] = pd.Index(_widen(values), name=name)
    return out
