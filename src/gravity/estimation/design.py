"""From a formula and a DataFrame to the arrays an estimator works on.

Validates the input (typed errors naming column and rows), handles missing values
(``missing="raise"`` by default, or ``"drop"`` and count), builds the regressor
matrix, factorises fixed effects and prunes singletons and perfectly predicted
groups.

A model with an intercept and no fixed effects is estimated with the intercept as a
fixed effect with one level (:attr:`ModelData.intercept_as_fe`): the regressors are
then centred at their weighted means in every step, so that a regressor such as
``1e12 + N(0, 1)`` is neither called collinear with the intercept nor solved in an
ill-conditioned basis; the intercept and its variance are recovered at the end
(:mod:`gravity.estimation.fit`).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import (
    DataTypeError,
    EstimationError,
    FormulaError,
    InputError,
    MissingColumnError,
    MissingValueError,
    NegativeValueError,
)
from ..formula import Formula, expression_names, is_name, parse_formula
from ..hdfe import DemeanConfig, Demeaner, make_demeaner
from ..hdfe.factors import code_dtype, prune_groups, recode
from ..hdfe.slopes import SlopeBlock, VaryingSlopes
from .shared import active_cache, digest, factor_codes, lookup, store
from .terms import (
    Panel,
    evaluate,
    grammar_columns,
    make_panel,
    panel_columns,
)

INTERCEPT = "(Intercept)"


@dataclass
class ModelData:
    """Estimation sample: arrays aligned row by row with ``index``."""

    formula: Formula
    y: np.ndarray
    X: np.ndarray  # (N, K) float64, without the intercept when intercept_as_fe
    names: list[str]
    fe_codes: list[np.ndarray]
    weights: np.ndarray | None
    offset: np.ndarray | None
    mask: np.ndarray  # boolean mask over the input rows: used in estimation
    dropped: dict[str, int] = field(default_factory=dict)
    n_input: int = 0
    dropped_rows: dict[str, np.ndarray] = field(default_factory=dict)  # input positions
    intercept_as_fe: bool = False
    demean_config: DemeanConfig = field(default_factory=DemeanConfig)
    slope_codes: list[np.ndarray] = field(default_factory=list)  # one per slope term
    slope_values: list[np.ndarray] = field(default_factory=list)  # (N, m) per term
    _fe: Demeaner | None = field(default=None, repr=False)

    @property
    def nobs(self) -> int:
        return int(self.y.size)

    @property
    def fixed_effects(self) -> Demeaner | None:
        """The demeaning algorithm for the current sample (None without fixed effects)."""
        if not self.fe_codes and not self.slope_codes:
            return None
        if self._fe is None:
            self._fe = self._slope_demeaner() if self.slope_codes else \
                make_demeaner(self.fe_codes, self.demean_config)
        return self._fe

    def _slope_demeaner(self) -> Demeaner:
        """Varying slopes (:mod:`gravity.hdfe.slopes`) around the other fixed effects;
        the fixed effect of an ``fe[x]`` term belongs to its slope block."""
        terms = self.formula.slopes
        owned = {self.formula.fixed_effects.index(t.fe) for t in terms if t.with_fe}
        base_codes = [c for q, c in enumerate(self.fe_codes) if q not in owned]
        base = make_demeaner(base_codes, self.demean_config) if base_codes else None
        blocks = [SlopeBlock(c, z, t.with_fe, t.label)
                  for t, c, z in zip(terms, self.slope_codes, self.slope_values, strict=True)]
        return VaryingSlopes(base, blocks, self.nobs)

    @property
    def slope_parameters(self) -> int:
        """Number of slope coefficients of the varying-slope terms (groups x slopes)."""
        return sum(int(c.max(initial=-1) + 1) * z.shape[1]
                   for c, z in zip(self.slope_codes, self.slope_values, strict=True))

    @property
    def user_fe_codes(self) -> list[np.ndarray]:
        """Codes of the user's fixed effects (the internal intercept excluded)."""
        return [] if self.intercept_as_fe else self.fe_codes

    def subset(self, keep: np.ndarray, reason: str) -> None:
        """Drop rows where ``keep`` is False, recording ``reason``."""
        n_drop = int((~keep).sum())
        if n_drop == 0:
            return
        self.dropped[reason] = self.dropped.get(reason, 0) + n_drop
        positions = np.flatnonzero(self.mask)
        gone = positions[~keep]
        self.dropped_rows[reason] = np.concatenate(
            [self.dropped_rows.get(reason, np.empty(0, dtype=np.int64)), gone])
        self.mask[gone] = False
        self.keep_rows(keep)
        self.fe_codes = [recode(c[keep])[0] for c in self.fe_codes]

    def keep_rows(self, keep: np.ndarray) -> None:
        """Keep the sample rows where ``keep`` is True in the per-row arrays (outcome,
        regressors, weights, offset, varying slopes; the fixed-effect codes and the
        mask are the caller's); the demeaner is rebuilt on next use."""
        self.y = self.y[keep]
        self.X = self.X[keep]
        if self.weights is not None:
            self.weights = self.weights[keep]
        if self.offset is not None:
            self.offset = self.offset[keep]
        self.slope_codes = [recode(c[keep])[0] for c in self.slope_codes]
        self.slope_values = [z[keep] for z in self.slope_values]
        self._fe = None

    def drop_columns(self, drop: list[int]) -> None:
        gone = set(drop)
        keep = [k for k in range(self.X.shape[1]) if k not in gone]
        self.X = self.X[:, keep]
        self.names = [self.names[k] for k in keep]


# ---------------------------------------------------------------- validation
def check_frame(data: Any) -> pd.DataFrame:
    """The data must be a DataFrame with unique, flat column names."""
    if not isinstance(data, pd.DataFrame):
        raise DataTypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    if isinstance(data.columns, pd.MultiIndex):
        raise InputError("data has MultiIndex columns: flatten them first (e.g. "
                         "df.columns = ['_'.join(map(str, c)) for c in df.columns])",
                         column=str(data.columns[0]))
    dup = data.columns[data.columns.duplicated()]
    if len(dup):
        raise InputError("column name appears more than once in the data",
                         column=str(dup[0]))
    return data


def _check_columns(data: pd.DataFrame, needed: set[str], formula: Formula) -> None:
    missing = sorted(c for c in needed if c not in data.columns)
    if missing:
        hints = []
        for m in missing:
            close = difflib.get_close_matches(m, [str(c) for c in data.columns], n=1)
            hints.append(f"'{m}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
        raise MissingColumnError(
            f"formula '{formula.raw}' names columns not in the data: " + ", ".join(hints),
            column=missing[0],
        )


def numeric_column(series: pd.Series, name: str) -> np.ndarray:
    """A column as float64, or :class:`InputError` naming it when it is not numeric."""
    if series.dtype == bool:
        return series.to_numpy(dtype=np.float64)
    if not pd.api.types.is_numeric_dtype(series):
        raise InputError(
            f"column is not numeric (dtype {series.dtype}); use C({name}) or a fixed effect "
            "for categories",
            column=name,
        )
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


def regressor_matrix(formula: Formula, data: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """The regressors of ``formula`` on ``data`` (see :func:`regressor_columns`)."""
    X, names, _ = regressor_columns(formula, data)
    return X, names


def _formulaic_columns(terms: list[str], data: pd.DataFrame
                       ) -> tuple[list[np.ndarray], list[str]]:
    from formulaic import model_matrix

    rhs = " + ".join(terms) + " - 1"
    try:
        mm = model_matrix(rhs, data, na_action="ignore")
    except Exception as exc:  # formulaic raises several types
        raise FormulaError(f"cannot evaluate regressors '{rhs}': {exc}") from exc
    return [np.asarray(mm[c], dtype=np.float64) for c in mm.columns], \
        [str(c) for c in mm.columns]


def regressor_columns(formula: Formula, data: pd.DataFrame, panel: Panel | None = None
                      ) -> tuple[np.ndarray, list[str], np.ndarray]:
    """The regressors of ``formula`` on ``data``, with the intercept first when the
    formula has one, and the rows whose lagged values do not exist.

    ``i()``, ``l()`` and ``f()`` terms are built by :mod:`gravity.estimation.terms`;
    plain column names are taken as they are when every other term is one too, else
    all other terms are evaluated together by :mod:`formulaic` (their columns take
    the place of the first of them).
    """
    n = len(data)
    special, unavailable = grammar_columns(formula.regressors, data, panel)
    others = [r for r, s in zip(formula.regressors, special, strict=True) if s is None]
    plain = all(is_name(r) for r in others)
    cols: list[np.ndarray] = []
    names: list[str] = []
    placed = False
    for r, s in zip(formula.regressors, special, strict=True):
        if s is not None:
            cols += s[0]
            names += s[1]
        elif plain:
            cols.append(numeric_column(data[r], r))
            names.append(r)
        elif not placed:
            c, nm = _formulaic_columns(others, data)
            cols += c
            names += nm
            placed = True
    if formula.intercept:
        cols.insert(0, np.ones(n))
        names.insert(0, INTERCEPT)
    X = np.column_stack(cols) if cols else np.empty((n, 0))
    return X, names, unavailable


def outcome_column(formula: Formula, data: pd.DataFrame) -> np.ndarray:
    """The outcome: a column, or an expression such as ``log(trade)``."""
    if formula.outcome_is_column:
        return numeric_column(data[formula.outcome], formula.outcome)
    return evaluate(formula.outcome, data, "outcome")


def offset_column(offset: Any, exposure: Any, data: pd.DataFrame
                  ) -> tuple[np.ndarray | None, str]:
    """The offset: a column, Series or array (:func:`row_vector`), a formula
    ``"~log(pop)"`` (fixest), plus ``log(exposure)`` (statsmodels' ``exposure=``)."""
    if isinstance(offset, str) and offset.strip().startswith("~"):
        expr = offset.strip()[1:].strip()
        off: np.ndarray | None = evaluate(expr, data, "offset")
        label = expr
    else:
        off, label = row_vector(offset, data, "offset")
    if exposure is None:
        return off, label
    e, e_label = row_vector(exposure, data, "exposure")
    assert e is not None
    bad = np.isfinite(e) & (e <= 0)
    if bad.any():
        raise NegativeValueError("exposure must be positive (its log is the offset)",
                                 column=e_label, rows=data.index[bad])
    with np.errstate(all="ignore"):
        log_e = np.log(e)
    label = f"log({e_label})" if off is None else f"{label} + log({e_label})"
    return (log_e if off is None else off + log_e), label


def row_vector(v: Any, data: pd.DataFrame, label: str) -> tuple[np.ndarray | None, str]:
    """Weights or offset: a column name, a Series (aligned on the data's index; refused
    when its labels differ) or an array with one value per row."""
    n = len(data)
    if v is None:
        return None, label
    if isinstance(v, str):
        return numeric_column(data[v], v), v
    if isinstance(v, pd.Series):
        if v.index.equals(data.index):
            arr = v.to_numpy(dtype=np.float64, na_value=np.nan)
        elif data.index.is_unique and v.index.is_unique and len(v) == n \
                and data.index.isin(v.index).all():
            arr = v.reindex(data.index).to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            missing = data.index[~data.index.isin(v.index)]
            raise InputError(
                f"{label} is a Series whose index does not match the data's index "
                "(pass an array to use it by position, or align it first)",
                column=label, rows=missing if len(missing) else None)
    else:
        try:
            arr = np.asarray(v, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InputError(f"{label} must be numeric: {exc}", column=label) from None
    if arr.shape != (n,):
        raise InputError(f"{label} must have one value per row ({n}), got shape {arr.shape}",
                         column=label)
    return arr, label


def prepare(
    formula: str | Formula,
    data: pd.DataFrame,
    *,
    weights: Any = None,
    offset: Any = None,
    extra_columns: set[str] | None = None,
    missing: str = "raise",
    nonnegative: bool = False,
    binary: bool = False,
    drop_singletons: bool = True,
    drop_all_zero: bool = False,
    drop_all_one: bool = False,
    demean_config: DemeanConfig | None = None,
    panel_id: Any = None,
    exposure: Any = None,
) -> ModelData:
    """Validate the input and build the estimation sample.

    Parameters
    ----------
    formula : fixest-style formula or parsed :class:`Formula`
    data : pandas DataFrame
    weights, offset : column name, Series aligned with ``data`` or array by position
    extra_columns : columns that must be present and non-missing (cluster variables)
    missing : ``"raise"`` (default) raises :class:`MissingValueError` naming the
        column and rows; ``"drop"`` drops those rows and counts them
    nonnegative : the outcome must be >= 0 (Poisson); binary : it must be 0 or 1
    drop_all_zero, drop_all_one : drop fixed-effect groups whose outcome is all zero
        (Poisson and binary) or all one (binary)
    drop_singletons : drop singleton groups iteratively (default, as reghdfe/ppmlhdfe)
    panel_id : ``(unit, time)`` columns of the panel, for ``l()``/``f()`` (rows whose
        lagged period is absent are dropped: reason ``lag``)
    exposure : column, Series or array whose log is added to the offset
    """
    data = check_frame(data)
    f = formula if isinstance(formula, Formula) else parse_formula(formula)
    if missing not in ("raise", "drop"):
        raise ValueError(f"missing must be 'raise' or 'drop', got {missing!r}")
    needed = f.columns() | (extra_columns or set()) | panel_columns(panel_id)
    for extra in (weights, offset, exposure):
        if isinstance(extra, str):
            needed |= expression_names(extra.strip()[1:]) if extra.strip().startswith("~") \
                else {extra}
    _check_columns(data, needed, f)
    if f.outcome in f.regressors:
        raise FormulaError(f"the outcome '{f.outcome}' also appears as a regressor")

    n = len(data)
    y = outcome_column(f, data)
    X, names, unavailable = regressor_columns(f, data, make_panel(data, panel_id))
    w, w_label = row_vector(weights, data, "weights")
    off, off_label = offset_column(offset, exposure, data)
    slope_values = [np.column_stack([numeric_column(data[v], v) for v in t.variables])
                    for t in f.slopes]

    # --- missing values, column by column
    bad_any = np.zeros(n, dtype=bool)
    checks: list[tuple[str, np.ndarray]] = [(f.outcome, ~np.isfinite(y))]
    checks += [(nm, ~np.isfinite(X[:, k]) & ~unavailable) for k, nm in enumerate(names)]
    for t, z in zip(f.slopes, slope_values, strict=True):
        checks += [(v, ~np.isfinite(z[:, j])) for j, v in enumerate(t.variables)]
    if w is not None:
        checks.append((w_label, ~np.isfinite(w)))
    if off is not None:
        checks.append((off_label, ~np.isfinite(off)))
    for term in f.fixed_effects + tuple(t.fe for t in f.slopes):
        for col in term:
            checks.append((col, data[col].isna().to_numpy()))
    for col in sorted(extra_columns or ()):
        checks.append((col, data[col].isna().to_numpy()))
    for col, bad in checks:
        if bad.any():
            if missing == "raise":
                raise MissingValueError(
                    "missing or non-finite values (pass missing='drop' to drop these rows)",
                    column=col,
                    rows=data.index[bad],
                )
            bad_any |= bad
    if w is not None:
        neg = np.isfinite(w) & (w < 0)
        if neg.any():
            raise NegativeValueError("negative weights", column=w_label, rows=data.index[neg])
    if nonnegative:
        neg = np.isfinite(y) & (y < 0)
        if neg.any():
            raise NegativeValueError(
                "Poisson (PPML) needs a non-negative outcome", column=f.outcome,
                rows=data.index[neg],
            )
    if binary:
        bad = np.isfinite(y) & ~np.isin(y, (0.0, 1.0))
        if bad.any():
            raise InputError("binary outcome must be 0 or 1", column=f.outcome,
                             rows=data.index[bad])

    intercept_as_fe = not f.fixed_effects and bool(names) and names[0] == INTERCEPT
    if intercept_as_fe:
        X, names = X[:, 1:], names[1:]
    md = ModelData(
        formula=f, y=y, X=X, names=names, fe_codes=[], weights=w, offset=off,
        mask=np.ones(n, dtype=bool), n_input=n,
        intercept_as_fe=intercept_as_fe, demean_config=demean_config or DemeanConfig(),
        slope_codes=[factor_codes(data, t.fe) for t in f.slopes], slope_values=slope_values,
    )
    if bad_any.any():
        md.subset(~bad_any, "missing")
    if unavailable.any():
        md.subset(~unavailable[md.mask], "lag")
    if md.weights is not None:
        zero_w = np.asarray(md.weights == 0)
        if zero_w.any():
            md.subset(~zero_w, "zero_weight")

    if intercept_as_fe:
        md.fe_codes = [np.zeros(md.nobs, dtype=np.int32)]
    else:
        md.fe_codes = [factor_codes(data, term) for term in f.fixed_effects]
        # dense codes on the sample, int32 (:func:`recode`)
        md.fe_codes = [recode(c[md.mask])[0] if not md.mask.all()
                       else c.astype(code_dtype(int(c.max(initial=-1)) + 1), copy=False)
                       for c in md.fe_codes]
    shared_prune(md, drop_singletons=drop_singletons and not intercept_as_fe,
                 drop_all_zero=drop_all_zero, drop_all_one=drop_all_one)
    require_observations(md)
    return md


def require_observations(md: ModelData, variation: bool = True) -> None:
    """:class:`EstimationError` when the sample is empty or (with ``variation``) its
    outcome is constant: nothing to explain."""
    f = md.formula
    if md.nobs == 0:
        detail = ", ".join(f"{k}: {v}" for k, v in md.dropped.items())
        raise EstimationError(f"no observations left to estimate on (dropped {detail})")
    if variation and np.all(md.y == md.y[0]):
        what = "zero" if md.y[0] == 0 else f"equal to {md.y[0]:g}"
        raise EstimationError(
            f"the outcome '{f.outcome}' is {what} in every observation of the estimation "
            f"sample ({md.nobs:,} rows): there is no variation to explain")


def prune_fixed_effects(md: ModelData, drop_singletons: bool, drop_all_zero: bool,
                        drop_all_one: bool = False) -> int:
    """Drop perfectly predicted fixed-effect groups and singletons, alternating until
    no rule removes a row; returns the number of rows dropped.

    * ``drop_all_zero``: groups whose outcome is zero everywhere (Poisson and binary
      models; reason ``separated_fe``);
    * ``drop_all_one``: groups whose outcome is one everywhere (binary models;
      reason ``separated_fe``);
    * ``drop_singletons``: groups with one observation (reason ``singleton``).

    Every rule only ever removes rows, so the alternation reaches the same fixed
    point as applying them jointly.
    """
    rules = ([False] if drop_all_zero else []) + ([True] if drop_all_one else []) \
        + (["singleton"] if drop_singletons else [])
    total = 0
    clean = 0  # rules in a row at their fixed point (each call iterates to its own)
    turn = 0
    while rules and md.fe_codes and md.nobs and clean < len(rules):
        rule = rules[turn % len(rules)]
        turn += 1
        if rule == "singleton":
            pr = prune_groups(md.fe_codes, md.y, drop_singletons=True, drop_all_zero=False)
            dropped, reason = pr.singletons, "singleton"
        else:
            yy = 1.0 - md.y if rule else md.y
            pr = prune_groups(md.fe_codes, yy, drop_singletons=False, drop_all_zero=True)
            dropped, reason = pr.all_zero, "separated_fe"
        if dropped:
            md.subset(pr.keep, reason)
            total += dropped
            clean = 1
        else:
            clean += 1
    return total


@dataclass(frozen=True)
class Pruning:
    """What :func:`prune_fixed_effects` did to a sample, relative to its rows on entry:
    the rows kept, the rows dropped by each reason (positions, in the order dropped),
    the fixed-effect codes after it and the rows dropped in all."""

    keep: np.ndarray
    steps: tuple[tuple[str, np.ndarray], ...]
    fe_codes: tuple[np.ndarray, ...]
    total: int

    @property
    def nbytes(self) -> int:
        return self.keep.nbytes + sum(r.nbytes for _, r in self.steps) + \
            sum(c.nbytes for c in self.fe_codes)


def _record_pruning(md: ModelData, run: Any) -> Pruning:
    """Run ``run()`` (the pruning of ``md``) and record what it did."""
    entry = np.flatnonzero(md.mask)
    before = {k: len(v) for k, v in md.dropped_rows.items()}
    total = int(run())
    keep = md.mask[entry]
    steps = tuple((reason, np.searchsorted(entry, rows[before.get(reason, 0):]))
                  for reason, rows in md.dropped_rows.items()
                  if len(rows) > before.get(reason, 0))
    return Pruning(keep, steps, tuple(c.copy() for c in md.fe_codes), total)


def _apply_pruning(md: ModelData, pruning: Pruning) -> int:
    """Do to ``md`` what ``pruning`` records (the same rows, reasons and codes as
    running :func:`prune_fixed_effects` on it), without running it."""
    entry = np.flatnonzero(md.mask)
    for reason, rel in pruning.steps:
        md.dropped[reason] = md.dropped.get(reason, 0) + len(rel)
        md.dropped_rows[reason] = np.concatenate(
            [md.dropped_rows.get(reason, np.empty(0, dtype=np.int64)), entry[rel]])
    keep = pruning.keep
    if not keep.all():
        md.mask[entry[~keep]] = False
        md.keep_rows(keep)
    md.fe_codes = [c.copy() for c in pruning.fe_codes]
    md._fe = None
    return pruning.total


def shared_prune(md: ModelData, drop_singletons: bool, drop_all_zero: bool,
                 drop_all_one: bool = False) -> int:
    """:func:`prune_fixed_effects`, done once for the models of a multiple estimation
    that prune the same sample (:mod:`gravity.estimation.shared`).

    The pruning is a function of the fixed-effect codes of the sample (after its
    missing rows are dropped), of the rules, and -- for the all-zero and all-one rules
    -- of which outcomes are positive and which are below one: those are the key. A
    model whose key was pruned before takes the recorded result (rows kept, rows
    dropped by reason, recoded fixed effects); any other runs it. Outside a
    :func:`~gravity.estimation.shared.shared_demeaning` block: the plain call.
    """
    def run() -> int:
        return prune_fixed_effects(md, drop_singletons=drop_singletons,
                                   drop_all_zero=drop_all_zero, drop_all_one=drop_all_one)

    rules = (drop_singletons, drop_all_zero, drop_all_one)
    if not any(rules) or not md.fe_codes or not md.nobs:
        return run()
    if active_cache() is None:
        return run()
    y_key = (digest(np.packbits(md.y > 0)) if drop_all_zero or drop_all_one else b"",
             digest(np.packbits(md.y < 1)) if drop_all_one else b"")
    key = (rules, y_key, tuple(digest(c) for c in md.fe_codes))
    hit = lookup("prune", key)
    if hit is not None:
        return _apply_pruning(md, hit)
    pruning = _record_pruning(md, run)
    store("prune", key, pruning, pruning.nbytes)
    return pruning.total
