r"""Multiple estimation (fixest's ``feols``/``fepois`` with ``c()``, ``sw()``,
``csw()``, ``split=``, ``fsplit=``): many models from one call, in one collection.

:func:`estimate_many` expands the formula (:mod:`gravity.multiformula`) and fits every
single formula on every sample: the whole data, or (``split="product"``) each group of
a column, or (``fsplit=``) the whole data and then each group. Each fit is exactly the
single-formula estimator (:func:`gravity.ppml`, :func:`gravity.ols`, ...) on that
sample, so its numbers equal a separate fit; the work shared by the fits of a sample
is done once: the rows of each group are located by one grouping of the split column
(not one scan per group), the fixed-effect and cluster columns of the sample are
factorised once (to categorical codes the estimators read directly) instead of once
per model, and the least-squares models of a sample demean each distinct column once
(:mod:`gravity.estimation.shared`: the outcomes of ``c()`` share their regressors'
demeaning, the steps of ``sw()``/``csw()`` the columns they have in common).

A fit that fails (a sample too small, an outcome without variation, a separated
group...) is recorded as a :class:`FailedFit` with its error; the others go on. The
result, :class:`MultipleResults`, is indexed by position, iterated, summarised by
:meth:`~MultipleResults.models` (fixest's ``models()``), :meth:`~MultipleResults.coef`,
:meth:`~MultipleResults.tidy`, and passed whole to :func:`gravity.etable`.

The same fits on a ``dask.distributed`` cluster: :mod:`gravity.distributed`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, overload

import numpy as np
import pandas as pd

from ..errors import MissingColumnError, MissingValueError
from ..formula import parse_formula
from ..multiformula import ModelSpec, expand_formula
from ..progress import progress
from .design import check_frame
from .feglm import cloglog, logit, ppml, probit
from .ols import lpm, ols
from .results import RegressionResults
from .shared import shared_demeaning

#: estimators by name (``model=``)
ESTIMATORS: dict[str, Callable[..., RegressionResults]] = {
    "ppml": ppml, "poisson": ppml, "ols": ols, "lpm": lpm, "logit": logit,
    "probit": probit, "cloglog": cloglog,
}
#: the sample label of the whole data (``fsplit=``, or no split)
FULL_SAMPLE = "(all)"


@dataclass(frozen=True)
class FitKey:
    """Where a fit sits in a multiple estimation: sample and model."""

    sample_var: str | None
    sample: Any
    spec: ModelSpec
    id_sample: int = 0

    @property
    def label(self) -> str:
        """A short name: the sample and the formula."""
        where = "" if self.sample_var is None else f"{self.sample_var}={self.sample}: "
        return where + self.spec.formula


@dataclass(frozen=True)
class FailedFit:
    """A fit that raised: its key, the error's type and message. Never mistaken for a
    result: ``ok`` is False and it has no ``params``."""

    key: FitKey
    error_type: str
    message: str
    ok: bool = False

    def __repr__(self) -> str:
        return f"FailedFit({self.key.label!r}: {self.error_type}: {self.message})"


Entry = RegressionResults | FailedFit


def model_function(model: str) -> Callable[..., RegressionResults]:
    """The estimator named ``model`` (:data:`ESTIMATORS`)."""
    if model not in ESTIMATORS:
        raise ValueError(f"model must be one of {sorted(ESTIMATORS)}, got {model!r}")
    return ESTIMATORS[model]


def factor_columns(specs: Sequence[ModelSpec], vcov: Any,
                   panel_id: Any = None) -> set[str]:
    """Columns used only as fixed effects or one-way/multi-way clusters by ``specs``
    (they can be factorised once for all models). Never those whose values matter as
    numbers: outcome and regressors, the variables of varying slopes (``fe[x]``), the
    ``panel_id`` columns (lags and leads count periods from their values) and the
    columns of panel variances (``NW``/``DK``: lags in time)."""
    fe: set[str] = set()
    other: set[str] = set()
    for s in specs:
        f = parse_formula(s.formula)
        for term in f.fixed_effects:
            fe.update(term)
        other.add(f.outcome)
        other.update(f.regressors)  # expressions: any name in them counts as used
        for slope in f.slopes:
            other.update(slope.variables)
    if isinstance(vcov, dict):
        for kind, v in vcov.items():
            if not isinstance(v, str):
                continue
            names = {c.strip() for c in v.replace("^", "+").split("+")}
            (fe if str(kind).upper().startswith("CRV") else other).update(names)
    if panel_id is not None:
        other.update([panel_id] if isinstance(panel_id, str) else list(panel_id))
    text = " ".join(other)
    return {c for c in fe if c not in other and c not in text}


def shared_factors(frame: pd.DataFrame, columns: set[str]) -> pd.DataFrame:
    """A shallow copy of ``frame`` with ``columns`` as categoricals (factorised once:
    the estimators' factorisation then reads the codes)."""
    out = frame.copy(deep=False)
    for c in sorted(columns):
        if c in out.columns and not isinstance(out[c].dtype, pd.CategoricalDtype):
            out[c] = pd.Categorical(out[c])
    return out


def fit_sample(frame: pd.DataFrame, specs: Sequence[ModelSpec], model: str,
               options: dict[str, Any], sample_var: str | None, sample: Any,
               id_sample: int = 0, lean: bool = False) -> list[tuple[FitKey, Entry]]:
    """Every model of ``specs`` on one sample; a failing fit becomes a :class:`FailedFit`;
    with ``lean`` each result is made lean as soon as it is fitted
    (:meth:`RegressionResults.lean`). (The unit of work of both the sequential and the
    Dask engines.)"""
    fit = model_function(model)
    shared = shared_factors(frame, factor_columns(specs, options.get("vcov"),
                                                   options.get("panel_id")))
    out: list[tuple[FitKey, Entry]] = []
    with shared_demeaning() if len(specs) > 1 else nullcontext():
        for spec in specs:
            key = FitKey(sample_var, sample, spec, id_sample)
            try:
                res = fit(spec.formula, shared, **options)
                out.append((key, res.lean() if lean else res))
            except Exception as exc:  # recorded, not fatal (see the module docstring)
                out.append((key, FailedFit(key, type(exc).__name__, str(exc))))
    return out


def split_groups(data: pd.DataFrame, column: str, missing: str = "raise"
                 ) -> list[tuple[Any, np.ndarray]]:
    """The groups of ``column`` in sorted order, each with its row positions (one
    grouping pass). Missing values raise :class:`MissingValueError` naming the rows,
    or are left out of every group with ``missing="drop"``."""
    if column not in data.columns:
        raise MissingColumnError("split column not in the data", column=column)
    bad = data[column].isna().to_numpy()
    if bad.any() and missing != "drop":
        raise MissingValueError("missing values in the split column (pass missing='drop' "
                                "to leave these rows out of every group)", column=column,
                                rows=data.index[bad])
    codes, uniques = pd.factorize(data[column], sort=True, use_na_sentinel=True)
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    start = int(np.sum(codes < 0))
    bounds = np.concatenate([[0], np.cumsum(counts)]) + start
    return [(uniques[g], order[bounds[g]:bounds[g + 1]]) for g in range(len(uniques))]


def check_split(split: str | None, fsplit: str | None) -> tuple[str | None, bool]:
    """The split column and whether the whole sample comes first (``fsplit``)."""
    if split is not None and fsplit is not None:
        raise ValueError("give split= or fsplit=, not both")
    col = split if split is not None else fsplit
    if col is not None and not isinstance(col, str):
        raise ValueError(f"split/fsplit must be a column name, got {type(col).__name__}")
    return col, fsplit is not None


def check_row_options(options: dict[str, Any], split: str | None) -> None:
    """With a split, row-wise options must be column names (an array has the length of
    the whole data, not of a group)."""
    if split is None:
        return
    for name in ("weights", "offset"):
        v = options.get(name)
        if v is not None and not isinstance(v, str):
            raise ValueError(f"with split=/fsplit=, {name}= must be a column name (got "
                             f"{type(v).__name__}): add it to the data")


def estimate_many(
    formula: str,
    data: pd.DataFrame,
    model: str = "ppml",
    split: str | None = None,
    fsplit: str | None = None,
    show_progress: bool | None = None,
    lean: bool = False,
    **options: Any,
) -> MultipleResults:
    """Fit every model of a multiple-estimation formula on every sample.

    Parameters
    ----------
    formula : fixest grammar with ``c(y1, y2) ~``, ``sw()``, ``sw0()``, ``csw()``,
        ``csw0()`` (:mod:`gravity.multiformula`); a single formula is one model
    data : DataFrame
    model : ``"ppml"`` (default), ``"ols"``, ``"lpm"``, ``"logit"``, ``"probit"``,
        ``"cloglog"``
    split : column: one sample per value (sorted), as fixest's ``split=``
    fsplit : the same, with the whole data first
    show_progress : draw a progress bar over the samples (default: on a terminal)
    lean : keep lean results (fixest's ``lean = TRUE``; :meth:`RegressionResults.lean`):
        coefficients, variances, fit statistics, summaries and tables, without the
        row-level arrays (about 2 KB per fit instead of ``O(N)``); ``resid``,
        ``predict``, ``fixed_effects()``, ``with_vcov`` then raise
        :class:`~gravity.errors.LeanResultError`. Default False, as fixest's ``split=``:
        full results, whichever the engine
    **options : passed to every fit (``vcov=``, ``weights=``, ``offset=``, ``tol=``...)

    Returns
    -------
    MultipleResults
    """
    data = check_frame(data)
    specs = expand_formula(formula)
    col, full = check_split(split, fsplit)
    check_row_options(options, col)
    model_function(model)
    samples: list[tuple[Any, np.ndarray | None]] = []
    if full or col is None:
        samples.append((FULL_SAMPLE, None))
    if col is not None:
        samples += split_groups(data, col, options.get("missing", "raise"))
    entries: list[tuple[FitKey, Entry]] = []
    for i, (value, rows) in enumerate(progress(samples, desc="samples", total=len(samples),
                                               show=show_progress)):
        frame = data if rows is None else data.take(rows)
        entries += fit_sample(frame, specs, model, options, col, value, i, lean=lean)
    return MultipleResults(entries)


class MultipleResults:
    """A collection of fits (fixest's ``fixest_multi``).

    ``res[i]`` is the i-th fit (a result, or a :class:`FailedFit`), ``res[i:j]`` a
    sub-collection; iteration yields the fits in order; :meth:`select` picks by sample,
    outcome, regressors or fixed effects; :meth:`models` lists them all with their
    status.
    """

    def __init__(self, entries: Sequence[tuple[FitKey, Entry]]) -> None:
        self._entries = list(entries)

    # ------------------------------------------------------------- container
    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Entry]:
        return (e for _, e in self._entries)

    @overload
    def __getitem__(self, i: int) -> Entry: ...

    @overload
    def __getitem__(self, i: slice) -> MultipleResults: ...

    def __getitem__(self, i: int | slice) -> Entry | MultipleResults:
        if isinstance(i, slice):
            return MultipleResults(self._entries[i])
        return self._entries[i][1]

    @property
    def keys(self) -> list[FitKey]:
        return [k for k, _ in self._entries]

    def items(self) -> list[tuple[FitKey, Entry]]:
        return list(self._entries)

    @property
    def failed(self) -> list[FailedFit]:
        """The fits that raised, with their errors."""
        return [e for _, e in self._entries if isinstance(e, FailedFit)]

    @property
    def results(self) -> dict[str, RegressionResults]:
        """The successful fits by label (:attr:`FitKey.label`), in order."""
        return {k.label: e for k, e in self._entries if isinstance(e, RegressionResults)}

    def select(self, sample: Any = None, lhs: str | None = None, rhs: str | None = None,
               fixef: str | None = None) -> MultipleResults:
        """The fits whose sample / outcome / regressor part / fixed-effect part equal
        the given values (``None``: any)."""
        def ok(k: FitKey) -> bool:
            return ((sample is None or k.sample == sample)
                    and (lhs is None or k.spec.lhs == lhs)
                    and (rhs is None or k.spec.rhs == rhs)
                    and (fixef is None or k.spec.fixef == fixef))
        return MultipleResults([(k, e) for k, e in self._entries if ok(k)])

    # ---------------------------------------------------------------- tables
    def models(self) -> pd.DataFrame:
        """One row per fit: sample, outcome, regressors, fixed effects, formula,
        observations and status (``"ok"`` or the error)."""
        rows = []
        for k, e in self._entries:
            rows.append({"sample_var": k.sample_var, "sample": k.sample, "lhs": k.spec.lhs,
                         "rhs": k.spec.rhs, "fixef": k.spec.fixef, "formula": k.spec.formula,
                         "nobs": e.nobs if isinstance(e, RegressionResults) else None,
                         "status": f"{e.error_type}: {e.message}"
                         if isinstance(e, FailedFit) else "ok"})
        return pd.DataFrame(rows).rename_axis("id")

    def coef(self) -> pd.DataFrame:
        """Coefficients: one row per fit (failed fits: NaN), one column per term."""
        return self._stack(lambda r: r.params)

    def se(self) -> pd.DataFrame:
        """Standard errors, laid out as :meth:`coef`."""
        return self._stack(lambda r: r.bse)

    def _stack(self, get: Callable[[RegressionResults], pd.Series]) -> pd.DataFrame:
        rows = [get(e) if isinstance(e, RegressionResults) else pd.Series(dtype=float)
                for _, e in self._entries]
        out = pd.DataFrame(rows).reset_index(drop=True)
        return out.rename_axis("id")

    def tidy(self, alpha: float = 0.05) -> pd.DataFrame:
        """Every coefficient of every successful fit (``tidy()`` of each), with the fit's
        id, sample, outcome, regressors and fixed effects."""
        parts = []
        for i, (k, e) in enumerate(self._entries):
            if isinstance(e, RegressionResults):
                t = e.tidy(alpha).reset_index()
                t.insert(0, "fixef", k.spec.fixef)
                t.insert(0, "rhs", k.spec.rhs)
                t.insert(0, "lhs", k.spec.lhs)
                t.insert(0, "sample", k.sample)
                t.insert(0, "id", i)
                parts.append(t)
        if not parts:
            return pd.DataFrame(columns=["id", "sample", "lhs", "rhs", "fixef", "term",
                                         "estimate", "std_error", "statistic", "p_value",
                                         "conf_low", "conf_high"])
        return pd.concat(parts, ignore_index=True)

    def for_table(self) -> dict[str, RegressionResults]:
        """The successful fits named by what varies across them (for :func:`etable`)."""
        fits = [(k, e) for k, e in self._entries if isinstance(e, RegressionResults)]
        vary_sample = len({repr(k.sample) for k, _ in fits}) > 1
        vary_model = len({k.spec.formula for k, _ in fits}) > 1
        out: dict[str, RegressionResults] = {}
        for j, (k, e) in enumerate(fits):
            parts = []
            if vary_sample and k.sample_var is not None:
                parts.append(f"{k.sample_var}={k.sample}")
            if vary_model or not parts:
                parts.append(f"({j + 1})")
            name = " ".join(parts)
            out[name if name not in out else f"{name} ({j + 1})"] = e
        return out

    def __repr__(self) -> str:
        return (f"MultipleResults({len(self)} fits, {len(self.failed)} failed)\n"
                + self.models().to_string())
