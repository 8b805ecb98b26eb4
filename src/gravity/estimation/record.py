"""The immutable record of a finished fit: every number the results need, nothing else.

A :class:`FitRecord` holds arrays over the estimation sample (outcome, linear
predictor, prior weights, offset), the regressors, the bread and the scores of the
sandwich variance, the fixed-effect and cluster codes, and the labels of each fixed
effect's levels. It never holds the caller's DataFrame. It pickles compactly,
rebuilding its redundant arrays exactly (:mod:`.packing`).

What follows from other fields is derived on use, not stored (memory: a million-row
fit would hold each as another 7.6 MiB vector):

* ``fitted = g^{-1}(eta)``, the inverse link of the linear predictor;
* ``fe_component = eta - X beta - offset``, the fixed-effect part of ``eta`` (zero
  when the model has no fixed effect: its intercept is among the regressors);
* ``scores = x~_i s_i`` (``N x K``) from the demeaned regressors ``xt`` and the score
  factor ``s`` (``score_base``) when the fit keeps ``xt`` (least squares and binary
  models); a Poisson fit, which does not keep ``xt``, stores its scores.

Unit prior weights and a zero offset are broadcast vectors (:mod:`.arrays`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..formula import Formula
from ..inference.vcov import SSC, FactoredScores, VcovSpec
from .arrays import constant, is_constant
from .families import Family
from .packing import pack_state, unpack_state


@dataclass(frozen=True)
class FitSettings:
    """Every setting that changes the numbers, shown in the summary header."""

    weights: str | None = None
    offset: str | None = None
    separation: tuple[str, ...] = ()
    bias_correction: str | None = None
    tol: float = 1e-8
    fixef_tol: float = 1e-8
    demean_method: str = "cg"
    panel_id: tuple[str, str] | None = None
    time_step: int | None = None  # of the panel's time column (lags in predict)

    def lines(self) -> list[str]:
        out = []
        if self.weights:
            out.append(f"Weights: {self.weights}")
        if self.offset:
            out.append(f"Offset: {self.offset}")
        if self.separation:
            out.append("Separation checks: " + ", ".join(self.separation))
        if self.panel_id:
            out.append(f"Panel: {self.panel_id[0]} x {self.panel_id[1]}")
        if self.bias_correction:
            out.append(f"Bias correction: {self.bias_correction} (analytical)")
        return out


def fe_part(eta: np.ndarray, X: np.ndarray, beta: np.ndarray, offset: np.ndarray | None
            ) -> np.ndarray:
    """``eta - X beta - offset`` (a new array): the part of the linear predictor that
    the fixed effects (and varying slopes) carry; no subtraction for a zero offset."""
    out = eta - X @ beta if X.shape[1] else eta.copy()
    if offset is not None and not (is_constant(offset) and float(offset[0]) == 0.0):
        out -= offset
    return out


@dataclass(frozen=True)
class LoglikFromDeviance:
    """A log-likelihood ``l = l_saturated - D / 2`` (families whose deviance is
    ``2 (l_saturated - l)``), computed on first use from the record's outcome and prior
    weights: the estimation itself never needs ``log y!`` of every outcome."""

    deviance: float


@dataclass(frozen=True)
class FitRecord:
    """Everything a result object needs from a finished fit (see module docstring)."""

    family: Family
    formula: Formula
    names: tuple[str, ...]
    beta: np.ndarray
    bread: np.ndarray  # (K, K)
    sigma2: float | None
    spec: VcovSpec
    ssc: SSC
    settings: FitSettings
    nobs: int
    n_input: int
    input_index: pd.Index  # labels of the caller's rows (all of them)
    mask: np.ndarray  # rows of the input used
    dropped: Mapping[str, int]
    dropped_positions: Mapping[str, np.ndarray]
    dropped_regressors: tuple[str, ...]
    y: np.ndarray
    X: np.ndarray  # (N, K) regressors on the sample, intercept included
    eta: np.ndarray
    prior_weights: np.ndarray
    offset: np.ndarray
    fe_terms: tuple[tuple[str, ...], ...]
    fe_codes: tuple[np.ndarray, ...]
    fe_levels: tuple[pd.Index, ...]  # labels of each fixed effect's levels, by code
    cluster_map: Mapping[tuple[str, ...], np.ndarray]  # cluster codes on the sample
    iterations: int
    converged: bool
    stats: Mapping[str, float | LoglikFromDeviance | None]
    warnings: tuple[Any, ...] = ()
    xt: np.ndarray | None = None  # (K, N) demeaned regressors at the final weights
    irls_weights: np.ndarray | None = None  # prior x variance weights at the solution
    extra: Mapping[str, Any] = field(default_factory=dict)
    stored_scores: np.ndarray | None = None  # (N, K), when not derived from xt
    score_base: np.ndarray | None = None  # (N,) s_i of scores = xt' s (with xt)
    fe_free: bool = False  # no fixed-effect part (intercept among the regressors)

    @property
    def fitted(self) -> np.ndarray:
        """``g^{-1}(eta)``: the fitted mean of every sample row."""
        return self.family.inverse_link(self.eta)

    @property
    def fe_component(self) -> np.ndarray:
        """``eta - X beta - offset``: the fixed effects' (and varying slopes') part of
        the linear predictor."""
        if self.fe_free:
            return constant(self.nobs, 0.0)
        return fe_part(self.eta, self.X, self.beta, self.offset)

    @property
    def score_factors(self) -> np.ndarray | FactoredScores:
        """The scores for the variance: as their factors ``xt`` and ``score_base`` when
        the record keeps them (the clustered variance then forms one column at a
        time), else the stored ``(N, K)`` array."""
        if self.stored_scores is not None:
            return self.stored_scores
        if self.xt is None or self.score_base is None:
            raise AttributeError("this record has neither scores nor xt and score_base")
        return FactoredScores(self.xt, self.score_base)

    @property
    def scores(self) -> np.ndarray:
        """``(N, K)`` scores of the sandwich variance, ``x~_i s_i``."""
        factors = self.score_factors
        return factors if isinstance(factors, np.ndarray) else np.asarray(factors)

    @property
    def kind(self) -> str:
        return self.family.name

    def __getstate__(self) -> dict[str, Any]:
        """Pickled compactly and exactly (:mod:`gravity.estimation.packing`)."""
        return pack_state(self.__dict__)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(unpack_state(state))

    @property
    def fe_names(self) -> tuple[str, ...]:
        return tuple("^".join(t) for t in self.fe_terms)

    @property
    def fe_sizes(self) -> tuple[int, ...]:
        return tuple(int(c.max()) + 1 for c in self.fe_codes)

    @property
    def index(self) -> pd.Index:
        """Labels of the rows used."""
        return self.input_index[self.mask]
