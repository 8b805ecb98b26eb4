"""From a formula and a DataFrame to the arrays an estimator works on.

Validates the input (typed errors naming column and rows), handles missing values
(``missing="raise"`` by default, or ``"drop"`` and count), builds the regressor
matrix, factorises fixed effects and prunes singletons / all-zero groups, and
detects regressors absorbed by the fixed effects or collinear with each other.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import (
    CollinearityWarning,
    EstimationError,
    FormulaError,
    InputError,
    MissingColumnError,
    MissingValueError,
    NegativeValueError,
)
from ..formula import Formula, parse_formula
from ..hdfe.demean import FixedEffects
from ..hdfe.factors import factorize_term, prune_groups, recode


@dataclass
class ModelData:
    """Estimation sample: arrays aligned row by row with ``index``."""

    formula: Formula
    y: np.ndarray
    X: np.ndarray  # (N, K) float64
    names: list[str]
    fe_codes: list[np.ndarray]
    weights: np.ndarray | None
    offset: np.ndarray | None
    index: pd.Index  # labels of the rows used, in the input DataFrame
    mask: np.ndarray  # boolean mask over the input rows: used in estimation
    dropped: dict[str, int] = field(default_factory=dict)
    n_input: int = 0
    dropped_rows: dict[str, np.ndarray] = field(default_factory=dict)  # input positions

    @property
    def nobs(self) -> int:
        return int(self.y.size)

    @property
    def fixed_effects(self) -> FixedEffects | None:
        if not self.fe_codes:
            return None
        if getattr(self, "_fe", None) is None:
            self._fe = FixedEffects(self.fe_codes)
        return self._fe

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
        self.y = self.y[keep]
        self.X = self.X[keep]
        self.index = self.index[keep]
        if self.weights is not None:
            self.weights = self.weights[keep]
        if self.offset is not None:
            self.offset = self.offset[keep]
        self.fe_codes = [recode(c[keep])[0] for c in self.fe_codes]
        self._fe = None

    def drop_columns(self, drop: list[int]) -> None:
        keep = [k for k in range(self.X.shape[1]) if k not in set(drop)]
        self.X = self.X[:, keep]
        self.names = [self.names[k] for k in keep]


def _check_columns(data: pd.DataFrame, needed: set[str], formula: Formula) -> None:
    missing = sorted(c for c in needed if c not in data.columns)
    if missing:
        import difflib

        hints = []
        for m in missing:
            close = difflib.get_close_matches(m, [str(c) for c in data.columns], n=1)
            hints.append(f"'{m}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
        raise MissingColumnError(
            f"formula '{formula.raw}' names columns not in the data: " + ", ".join(hints),
            column=missing[0],
        )


def _numeric(series: pd.Series, name: str) -> np.ndarray:
    if series.dtype == bool:
        return series.to_numpy(dtype=np.float64)
    if not pd.api.types.is_numeric_dtype(series):
        raise InputError(
            f"column is not numeric (dtype {series.dtype}); use C({name}) or a fixed effect "
            "for categories",
            column=name,
        )
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


def _regressor_matrix(formula: Formula, data: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    n = len(data)
    if formula.simple_regressors:
        cols = [_numeric(data[r], r) for r in formula.regressors]
        names = list(formula.regressors)
    else:
        try:
            from formulaic import model_matrix
        except ImportError as exc:  # pragma: no cover
            raise FormulaError("expressions in regressors need the 'formulaic' package") from exc
        rhs = " + ".join(formula.regressors) + " - 1"
        try:
            mm = model_matrix(rhs, data, na_action="ignore")
        except Exception as exc:  # formulaic raises several types
            raise FormulaError(f"cannot evaluate regressors '{rhs}': {exc}") from exc
        names = [str(c) for c in mm.columns]
        cols = [np.asarray(mm[c], dtype=np.float64) for c in mm.columns]
    if formula.intercept:
        cols.insert(0, np.ones(n))
        names.insert(0, "(Intercept)")
    X = np.column_stack(cols) if cols else np.empty((n, 0))
    return X, names


def prepare(
    formula: str | Formula,
    data: pd.DataFrame,
    *,
    weights: str | np.ndarray | None = None,
    offset: str | np.ndarray | None = None,
    extra_columns: set[str] | None = None,
    missing: str = "raise",
    poisson: bool = False,
    drop_singletons: bool = True,
    drop_all_zero: bool | None = None,
) -> ModelData:
    """Validate the input and build the estimation sample.

    Parameters
    ----------
    formula : fixest-style formula or parsed :class:`Formula`
    data : pandas DataFrame
    weights, offset : column name or array aligned with ``data``
    extra_columns : columns that must be present and non-missing (cluster variables)
    missing : ``"raise"`` (default) raises :class:`MissingValueError` naming the
        column and rows; ``"drop"`` drops those rows and counts them
    poisson : apply the Poisson checks (outcome >= 0, not all zero)
    drop_all_zero : drop fixed-effect groups whose outcome is all zero (default: ``poisson``)
    drop_singletons : drop singleton groups iteratively (default, as reghdfe/ppmlhdfe)
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError("data must be a pandas DataFrame")
    f = formula if isinstance(formula, Formula) else parse_formula(formula)
    if missing not in ("raise", "drop"):
        raise ValueError("missing must be 'raise' or 'drop'")
    needed = f.columns() | (extra_columns or set())
    for extra in (weights, offset):
        if isinstance(extra, str):
            needed.add(extra)
    _check_columns(data, needed, f)
    if f.outcome in f.regressors:
        raise FormulaError(f"the outcome '{f.outcome}' also appears as a regressor")

    n = len(data)
    y = _numeric(data[f.outcome], f.outcome)
    X, names = _regressor_matrix(f, data)

    def _vector(v, label):
        if v is None:
            return None
        if isinstance(v, str):
            return _numeric(data[v], v)
        arr = np.asarray(v, dtype=np.float64)
        if arr.shape != (n,):
            raise InputError(f"{label} must have one value per row ({n}), got shape {arr.shape}")
        return arr

    w = _vector(weights, "weights")
    off = _vector(offset, "offset")

    # --- missing values, column by column
    bad_any = np.zeros(n, dtype=bool)
    checks: list[tuple[str, np.ndarray]] = [(f.outcome, ~np.isfinite(y))]
    checks += [(nm, ~np.isfinite(X[:, k])) for k, nm in enumerate(names)]
    if w is not None:
        checks.append((weights if isinstance(weights, str) else "weights", ~np.isfinite(w)))
    if off is not None:
        checks.append((offset if isinstance(offset, str) else "offset", ~np.isfinite(off)))
    for term in f.fixed_effects:
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
            raise NegativeValueError("negative weights", column=str(weights), rows=data.index[neg])
    if poisson:
        neg = np.isfinite(y) & (y < 0)
        if neg.any():
            raise NegativeValueError(
                "Poisson (PPML) needs a non-negative outcome", column=f.outcome,
                rows=data.index[neg],
            )

    mask = ~bad_any
    md = ModelData(
        formula=f,
        y=y,
        X=X,
        names=names,
        fe_codes=[],
        weights=w,
        offset=off,
        index=data.index,
        mask=np.ones(n, dtype=bool),
        n_input=n,
    )
    if bad_any.any():
        md.subset(mask, "missing")
    if w is not None:
        zero_w = md.weights == 0
        if zero_w.any():
            md.subset(~zero_w, "zero_weight")

    md.fe_codes = [factorize_term(data, term) for term in f.fixed_effects]
    if not md.mask.all():
        md.fe_codes = [recode(c[md.mask])[0] for c in md.fe_codes]
    prune_fixed_effects(md, drop_singletons=drop_singletons,
                        drop_all_zero=poisson if drop_all_zero is None else drop_all_zero)
    if md.nobs == 0:
        raise EstimationError("no observations left after dropping: " + str(md.dropped))
    if poisson and not np.any(md.y > 0):
        raise EstimationError(
            f"the outcome '{f.outcome}' is zero in every observation: nothing to estimate"
        )
    return md


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
    total = 0
    outcomes = ([False] if drop_all_zero else []) + ([True] if drop_all_one else [])
    while md.fe_codes and md.nobs:
        changed = 0
        for flip in outcomes:
            yy = 1.0 - md.y if flip else md.y
            pr = prune_groups(md.fe_codes, yy, drop_singletons=False, drop_all_zero=True)
            if pr.all_zero:
                md.subset(pr.keep, "separated_fe")
                changed += pr.all_zero
        if drop_singletons:
            pr = prune_groups(md.fe_codes, md.y, drop_singletons=True, drop_all_zero=False)
            if pr.singletons:
                md.subset(pr.keep, "singleton")
                changed += pr.singletons
        total += changed
        if not changed:
            break
    return total


def detect_collinearity(
    md: ModelData,
    X_tilde: np.ndarray,
    X_raw: np.ndarray,
    w: np.ndarray | None,
    tol: float = 1e-9,
) -> list[int]:
    """Indices of regressors to drop, with a :class:`CollinearityWarning` naming them.

    A column is absorbed by the fixed effects when its weighted sum of squares
    after demeaning is below ``tol`` times its sum of squares around the
    (weighted) mean before (the intercept-free analogue of fixest's check).
    Remaining exact linear dependence is found by a Cholesky decomposition of
    ``X~'WX~`` with pivots below ``tol`` relative to the diagonal, dropping
    the later column as fixest does.
    """
    k = X_tilde.shape[1]
    if k == 0:
        return []
    ww = np.ones(X_tilde.shape[0]) if w is None else w
    drop: list[int] = []
    messages: list[str] = []
    # column by column (each column of X~ and X is one contiguous pass): no N x K copies
    wx_tilde = [ww * X_tilde[:, j] for j in range(k)]
    ss_after = np.array([float(wx_tilde[j] @ X_tilde[:, j]) for j in range(k)])
    if md.fe_codes:
        wsum = float(ww.sum())
        ss_before = np.empty(k)
        for j in range(k):
            xj = X_raw[:, j]
            centred = xj - float(ww @ xj) / wsum
            ss_before[j] = float((ww * centred) @ centred)
        for j in range(k):
            if ss_before[j] == 0 or ss_after[j] <= tol * ss_before[j]:
                absorbing = [
                    "^".join(md.formula.fixed_effects[q])
                    for q, codes in enumerate(md.fe_codes)
                    if _constant_within(X_raw[:, j], codes)
                ]
                by = (" by " + ", ".join(f"'{a}'" for a in absorbing)) if absorbing else \
                    " by the fixed effects jointly"
                drop.append(j)
                messages.append(f"'{md.names[j]}' is absorbed{by}")
    elif k:
        for j in range(k):
            if ss_after[j] == 0:
                drop.append(j)
                messages.append(f"'{md.names[j]}' is zero in every observation")
    # exact collinearity among the rest: incremental Cholesky
    keep = [j for j in range(k) if j not in drop]
    xtx = np.array([[float(wx_tilde[a] @ X_tilde[:, b]) for b in keep] for a in keep])
    chosen: list[int] = []
    for pos, j in enumerate(keep):
        cols = [keep.index(c) for c in chosen]
        a = xtx[pos, pos]
        if cols:
            sub = xtx[np.ix_(cols, cols)]
            b = xtx[cols, pos]
            try:
                resid = a - b @ np.linalg.solve(sub, b)
            except np.linalg.LinAlgError:
                resid = 0.0
        else:
            resid = a
        if a <= 0 or resid <= tol * a:
            others = [md.names[c] for c in chosen]
            drop.append(j)
            messages.append(
                f"'{md.names[j]}' is collinear with " + (", ".join(f"'{o}'" for o in others)
                                                          if others else "nothing")
            )
        else:
            chosen.append(j)
    if drop:
        warnings.warn(
            "dropped regressors: " + "; ".join(messages), CollinearityWarning, stacklevel=4
        )
    return sorted(drop)


def _constant_within(x: np.ndarray, codes: np.ndarray) -> bool:
    g = int(codes.max()) + 1
    lo = np.full(g, np.inf)
    hi = np.full(g, -np.inf)
    np.minimum.at(lo, codes, x)
    np.maximum.at(hi, codes, x)
    scale = max(1.0, float(np.abs(x).max()))
    return bool(np.all(hi - lo <= 1e-12 * scale))
