"""Columns of the fixest grammar: ``i()`` dummies and interactions, lags and leads,
expressions on the left of ``~`` and formula offsets (``offset="~log(pop)"``).

See :mod:`gravity.formula` for the grammar. ``i()`` levels are sorted (numbers
numerically) and named as fixest does: ``var::level``, ``var::level:x`` and
``var::a:var2::b``; integer-valued numbers are written without a decimal point.
Lags use the panel of ``panel_id=(unit, time)`` (:mod:`gravity.hdfe.timeindex`): a
row whose lagged (or led) period is not in the data has no value there; the
estimators drop it and count it (reason ``lag``), as fixest does.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import FormulaError, InputError
from ..formula import ITerm, LagTerm, special_term
from ..hdfe.timeindex import panel_index, shift_positions, time_step

Panel = tuple[np.ndarray, np.ndarray]


def level_name(v: Any) -> str:
    """A level as fixest prints it (``2000`` not ``2000.0``)."""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    if isinstance(v, (np.integer,)):
        return str(int(v))
    return str(v)


def _levels(values: pd.Series) -> list[Any]:
    u = pd.unique(values.dropna())
    try:
        return sorted(u.tolist())
    except TypeError:
        return sorted(u.tolist(), key=str)


def _matches(level: Any, wanted: tuple[object, ...]) -> bool:
    for r in wanted:
        if isinstance(r, (int, float)) and not isinstance(r, bool) \
                and isinstance(level, (int, float, np.integer, np.floating)):
            if float(level) == float(r):
                return True
        elif level_name(level) == level_name(r):
            return True
    return False


def _select(levels: list[Any], term: ITerm, ref: tuple[object, ...], keep: tuple[object, ...],
            column: str) -> list[Any]:
    for r in ref + keep:
        if not any(_matches(lv, (r,)) for lv in levels):
            raise FormulaError(f"'{term.raw}': {r!r} is not a value of column '{column}' "
                               f"(values: {', '.join(level_name(v) for v in levels[:8])}"
                               + (" ..." if len(levels) > 8 else "") + ")")
    out = [lv for lv in levels if not _matches(lv, ref)]
    if keep:
        out = [lv for lv in out if _matches(lv, keep)]
    return out


def i_columns(term: ITerm, data: pd.DataFrame) -> tuple[list[np.ndarray], list[str]]:
    """The columns of one ``i()`` term (NaN where its variables are missing)."""
    v = data[term.var]
    na = v.isna().to_numpy()
    levels = _select(_levels(v), term, term.ref, term.keep, term.var)
    arr = v.to_numpy()
    cols: list[np.ndarray] = []
    names: list[str] = []
    if term.var2 is None:
        for lv in levels:
            cols.append(np.where(na, np.nan, (arr == lv).astype(np.float64)))
            names.append(f"{term.var}::{level_name(lv)}")
        return cols, names
    v2 = data[term.var2]
    if not term.var2_factor and pd.api.types.is_numeric_dtype(v2) \
            and not pd.api.types.is_bool_dtype(v2):
        x2 = v2.to_numpy(dtype=np.float64, na_value=np.nan)
        for lv in levels:
            d = (arr == lv).astype(np.float64)
            cols.append(np.where(na, np.nan, d * x2))
            names.append(f"{term.var}::{level_name(lv)}:{term.var2}")
        return cols, names
    na2 = na | v2.isna().to_numpy()
    arr2 = v2.to_numpy()
    levels2 = _select(_levels(v2), term, term.ref2, (), term.var2)
    present = pd.MultiIndex.from_arrays([v[~na2], v2[~na2]]).unique()
    wanted = set(present.tolist())
    for lv in levels:
        for lv2 in levels2:
            if (lv, lv2) not in wanted:
                continue
            d = ((arr == lv) & (arr2 == lv2)).astype(np.float64)
            cols.append(np.where(na2, np.nan, d))
            names.append(f"{term.var}::{level_name(lv)}:{term.var2}::{level_name(lv2)}")
    return cols, names


def lag_name(var: str, k: int) -> str:
    """fixest's names: ``l(x, 1)``, ``f(x, 1)`` and ``x`` for no shift."""
    if k == 0:
        return var
    return f"l({var}, {k})" if k > 0 else f"f({var}, {-k})"


def lag_columns(term: LagTerm, data: pd.DataFrame, panel: Panel | None
                ) -> tuple[list[np.ndarray], list[str], np.ndarray]:
    """Lagged/led columns and the rows whose shifted period is absent."""
    if panel is None:
        raise FormulaError(f"'{term.raw}' needs a panel: pass panel_id=(unit, time) "
                           "(for instance panel_id=('pair', 'year'))")
    s = data[term.var]
    if not pd.api.types.is_numeric_dtype(s):
        raise InputError(f"column is not numeric (dtype {s.dtype}): it cannot be lagged",
                         column=term.var)
    x = s.to_numpy(dtype=np.float64, na_value=np.nan)
    units, periods = panel
    cols, names = [], []
    unavailable = np.zeros(len(data), dtype=bool)
    for k in term.shifts:
        pos = shift_positions(units, periods, k)
        gone = pos < 0
        unavailable |= gone
        cols.append(np.where(gone, np.nan, x[np.maximum(pos, 0)]))
        names.append(lag_name(term.var, k))
    return cols, names, unavailable


def panel_tuple(panel_id: Any) -> tuple[str, str] | None:
    """``panel_id`` as a ``(unit, time)`` tuple: from a tuple/list, ``"unit+time"`` or
    fixest's ``"~unit+time"``."""
    if panel_id is None:
        return None
    cols = [c.strip() for c in panel_id.replace("~", "").split("+")] \
        if isinstance(panel_id, str) else [str(c) for c in panel_id]
    if len(cols) != 2 or not all(cols):
        raise InputError(f"panel_id must name two columns (unit, time), got {panel_id!r}")
    return cols[0], cols[1]


def make_panel(data: pd.DataFrame, panel_id: Any, step: int | None = None) -> Panel | None:
    """Unit codes and time periods of ``panel_id=(unit, time)`` (None when not given);
    ``step``: the fitted model's time step (:func:`gravity.hdfe.timeindex.time_index`)."""
    if panel_id is None:
        return None
    cols = [c.strip() for c in panel_id.replace("~", "").split("+")] \
        if isinstance(panel_id, str) else list(panel_id)
    if len(cols) != 2:
        raise InputError(f"panel_id must name two columns (unit, time), got {panel_id!r}")
    return panel_index(data, str(cols[0]), str(cols[1]), step)


def panel_time_step(data: pd.DataFrame, panel: tuple[str, str] | None) -> int | None:
    """The time step of ``panel``'s time column in ``data`` (None without a panel or for
    a non-numeric time), recorded on a fit so that ``predict(newdata)`` lags alike."""
    if panel is None or panel[1] not in data.columns:
        return None
    return time_step(data[panel[1]])


def panel_columns(panel_id: Any) -> set[str]:
    if panel_id is None:
        return set()
    if isinstance(panel_id, str):
        return {c.strip() for c in panel_id.replace("~", "").split("+")}
    return {str(c) for c in panel_id}


def evaluate(expr: str, data: pd.DataFrame, what: str) -> np.ndarray:
    """One expression (``log(trade)``) as a float vector, by :mod:`formulaic`."""
    from formulaic import model_matrix

    try:
        mm = model_matrix(f"{expr} - 1", data, na_action="ignore")
    except Exception as exc:  # formulaic raises several types
        raise FormulaError(f"cannot evaluate the {what} '{expr}': {exc}") from exc
    if mm.shape[1] != 1:
        raise FormulaError(f"the {what} '{expr}' must give one numeric column, got "
                           f"{mm.shape[1]}: {list(mm.columns)[:5]}")
    with np.errstate(all="ignore"):
        return np.asarray(mm.iloc[:, 0], dtype=np.float64)


def grammar_columns(regressors: tuple[str, ...], data: pd.DataFrame, panel: Panel | None
                    ) -> tuple[list[tuple[list[np.ndarray], list[str]] | None], np.ndarray]:
    """For each regressor term: its columns when it is an ``i()``/``l()``/``f()`` term,
    None otherwise; and the rows without their lagged values."""
    out: list[tuple[list[np.ndarray], list[str]] | None] = []
    unavailable = np.zeros(len(data), dtype=bool)
    for r in regressors:
        t = special_term(r)
        if isinstance(t, ITerm):
            out.append(i_columns(t, data))
        elif isinstance(t, LagTerm):
            cols, names, gone = lag_columns(t, data, panel)
            unavailable |= gone
            out.append((cols, names))
        else:
            out.append(None)
    return out, unavailable
