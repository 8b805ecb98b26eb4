"""Lean records: a finished fit without its row-level arrays (fixest's ``lean = TRUE``).

``fixest::feols(..., lean = TRUE)`` removes "all large objects" from the returned object,
which "will block the possibility to use many methods"; pyfixest's ``lean=True`` does
the same. A :class:`LeanRecord` is a :class:`~gravity.estimation.record.FitRecord`
that keeps what does not grow with the number of observations ``N``:

* the coefficients, their bread and the variance settings (``spec``, ``ssc``), the
  names, ``nobs``, ``n_input``, the counts of dropped rows by reason, the dropped
  regressors, the fixed-effect terms and their numbers of levels, the iterations,
  the convergence flag, the warnings and the fit settings;
* the fit statistics as numbers: a log-likelihood kept as a deviance (``l = l_sat -
  D / 2``, the saturated term computed on use from the outcome) is evaluated first,
  with the expression the full result uses, so it is the same float;
* the entries of ``extra`` that are not per-row (a bias-corrected fit's uncorrected
  coefficients, its ``K x K`` unscaled variance...).

It drops every array over the rows (``y``, ``X``, ``eta``, weights, offset, the
demeaned regressors and the score factors, the fixed-effect and cluster codes, the
row labels and the sample mask, the positions of the dropped rows) and the labels of
the fixed-effect levels. Reading any of them raises :class:`~gravity.errors.LeanResultError`
naming the field, so that no method can run silently on missing rows; the result
classes name the method as well (:meth:`RegressionResults.lean`). A variance already
computed is kept by the result object, so every number a table shows (coefficients,
standard errors, t and p values, intervals, fit statistics, clusters) is the full
result's, bit for bit; a lean result pickles in about 2 KB instead of the
full record's ``O(N)`` bytes (0.6 MB for a 15,000-row PPML).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..errors import LeanResultError
from .record import FitRecord

#: the fields of a :class:`FitRecord` over the rows (or the fixed-effect levels),
#: dropped by a lean record
ROW_FIELDS = ("input_index", "mask", "dropped_positions", "y", "X", "eta",
              "prior_weights", "offset", "fe_codes", "fe_levels", "cluster_map", "xt",
              "irls_weights", "stored_scores", "score_base")

#: how to get the rows back, in every message
REFIT = "refit with lean=False (the default) to use it"


def lean_message(what: str) -> str:
    """The message of a :class:`LeanResultError` for ``what`` (a method or a field)."""
    return (f"{what} needs the estimation sample's rows, which a lean result (lean=True) "
            f"does not keep: {REFIT}")


class _Dropped:
    """A class attribute standing for a dropped field: reading it raises."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        raise LeanResultError(lean_message(f"the record's '{self.name}'"))


class LeanExtra(dict):
    """``extra`` without its row-level entries: reading a dropped key with ``[]``
    raises :class:`LeanResultError` (``get`` returns the default, as for any key)."""

    def __init__(self, kept: Mapping[str, Any], dropped: tuple[str, ...]) -> None:
        super().__init__(kept)
        self.dropped = dropped

    def __missing__(self, key: str) -> Any:
        if key in self.dropped:
            raise LeanResultError(lean_message(f"the fit's extra[{key!r}]"))
        raise KeyError(key)

    def copy(self) -> LeanExtra:
        return LeanExtra(self, self.dropped)

    def __reduce__(self) -> Any:
        return (LeanExtra, (dict(self), self.dropped))


class LeanRecord(FitRecord):
    """A :class:`FitRecord` without its row-level arrays (see the module docstring).
    Built by :func:`lean_record`; never by the dataclass constructor."""

    lean = True

    @property
    def fe_sizes(self) -> tuple[int, ...]:
        out: tuple[int, ...] = self.__dict__["lean_fe_sizes"]
        return out

    def __getstate__(self) -> dict[str, Any]:
        return dict(self.__dict__)  # nothing large to pack

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        return (f"LeanRecord({self.family.name}, {self.formula.raw!r}, nobs={self.nobs}, "
                f"names={self.names})")

    __eq__ = object.__eq__
    __hash__ = object.__hash__


for _name in ROW_FIELDS:  # after the class: the dataclass fields are typed as arrays
    setattr(LeanRecord, _name, _Dropped(_name))


def _per_row(value: Any, sizes: set[int]) -> bool:
    """Whether ``value`` holds an array (or Series, Index, frame) over the rows: its
    first dimension is the sample's or the input's number of rows (recursively in
    dicts, lists and tuples)."""
    if isinstance(value, (np.ndarray, pd.Series, pd.Index, pd.DataFrame)):
        return value.ndim >= 1 and value.shape[0] in sizes and value.shape[0] > 1
    if isinstance(value, Mapping):
        return any(_per_row(v, sizes) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_per_row(v, sizes) for v in value)
    return False


def lean_record(record: FitRecord, stats: Mapping[str, float | None]) -> LeanRecord:
    """The lean copy of ``record`` with its fit statistics ``stats`` already evaluated
    (numbers or None: the caller evaluates deviance-based log-likelihoods while the
    rows are there). A lean record is returned as it is."""
    if isinstance(record, LeanRecord):
        return record
    state = {k: v for k, v in record.__dict__.items() if k not in ROW_FIELDS}
    sizes = {record.nobs, record.n_input}
    extra = dict(record.extra)
    dropped = tuple(k for k, v in extra.items() if _per_row(v, sizes))
    state["extra"] = LeanExtra({k: v for k, v in extra.items() if k not in dropped},
                               dropped)
    state["stats"] = dict(stats)
    state["lean_fe_sizes"] = tuple(record.fe_sizes)
    out = object.__new__(LeanRecord)
    out.__dict__.update(state)
    return out
