"""Panel identifiers: unit codes and an integer time index, as fixest's ``panel.id``.

The time index follows fixest's default ``time.step``: a numeric, integer-valued time
variable is used as is, in steps of the greatest common divisor of the gaps between
its consecutive distinct values ("unitary": years 1986, 1990, ... give a step of 4,
so that a lag of one period is four years); any other time variable (strings, dates,
non-integer numbers) is ranked, consecutive distinct values being one period apart
("consecutive"). A unit observed twice in one period is an error.
"""

from __future__ import annotations

from functools import reduce
from math import gcd

import numpy as np
import pandas as pd

from ..errors import InputError


def _integer_times(values: pd.Series) -> np.ndarray | None:
    """The time values as floats when numeric and integer-valued (NaN kept), else None."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        t = values.to_numpy(dtype=np.float64, na_value=np.nan)
        finite = t[np.isfinite(t)]
        if finite.size and np.all(finite == np.round(finite)):
            return t
    return None


def time_step(values: pd.Series) -> int | None:
    """fixest's unitary time step of a numeric, integer-valued time column (the greatest
    common divisor of the gaps between its distinct values); None for other columns."""
    t = _integer_times(values)
    if t is None:
        return None
    u = np.unique(t[np.isfinite(t)]).astype(np.int64)
    return reduce(gcd, (int(d) for d in np.diff(u)), 0) or 1


def time_index(values: pd.Series, step: int | None = None) -> np.ndarray:
    """Integer periods 0, 1, ... of a time column (see the module docstring).

    ``step``: the time step to use (a fitted model's, when new data are indexed, so that a
    lag means the same number of years as in the fit); values off that step are an error.
    """
    t = _integer_times(values)
    if t is not None:
        ok = np.isfinite(t)
        u0 = int(np.min(t[ok]))
        own = time_step(values)
        step = step or own or 1
        offsets = t[ok].astype(np.int64) - u0
        if np.any(offsets % step):
            raise InputError(f"time values off the fitted time step of {step} (e.g. "
                             f"{int(t[ok][offsets % step != 0][0])}): lags would not mean "
                             "the same periods as in the fit", column=str(values.name))
        out = np.full(t.size, -1, dtype=np.int64)
        out[ok] = offsets // step
        return out
    codes = pd.factorize(values, sort=True)[0]
    return np.asarray(codes, dtype=np.int64)


def panel_index(data: pd.DataFrame, unit: str, time: str,
                step: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Unit codes and time periods of every row; :class:`InputError` naming the rows
    when a (unit, time) pair repeats or an identifier is missing."""
    for col in (unit, time):
        na = data[col].isna().to_numpy()
        if na.any():
            raise InputError("missing values in a panel identifier (panel_id)", column=col,
                             rows=data.index[na])
    units = np.asarray(pd.factorize(data[unit])[0], dtype=np.int64)
    periods = time_index(data[time], step)
    key = units * (int(periods.max(initial=0)) + 1) + periods
    dup = pd.Series(key).duplicated(keep=False).to_numpy()
    if dup.any():
        raise InputError(f"the panel identifiers (panel_id=('{unit}', '{time}')) are not "
                         "unique: a unit appears twice in one period", column=unit,
                         rows=data.index[dup])
    return units, periods


def shift_positions(units: np.ndarray, periods: np.ndarray, k: int) -> np.ndarray:
    """Row of the same unit ``k`` periods earlier (``k < 0``: later) for every row;
    -1 where that row does not exist."""
    span = int(periods.max(initial=0)) + 1 + abs(k)
    key = units * span + periods
    target = units * span + (periods - k)
    pos = pd.Index(key).get_indexer(target)
    pos[(periods - k < 0)] = -1
    return np.asarray(pos, dtype=np.int64)
