r"""Wald tests of linear restrictions ``R b = q``.

``W = (R b - q)' (R V R')^{-1} (R b - q)`` is compared with a chi-squared
distribution with ``rank(R)`` degrees of freedom; ``F = W / rank(R)`` is reported
too (compare with ``F(rank, df_t)`` for least squares). Greene, *Econometric
Analysis*, ch. 5.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import EstimationError
from .distributions import chi2_sf


@dataclass(frozen=True)
class WaldTest:
    """Result of a Wald test. ``terms`` are the coefficients tested; ``dropped``
    lists requested terms that are not in the model (absorbed or collinear) and were
    left out of the test."""

    statistic: float
    df: int
    pvalue: float
    terms: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def F(self) -> float:  # noqa: N802 (the statistic's usual name)
        return self.statistic / self.df if self.df else float("nan")

    def __getitem__(self, key: str) -> Any:
        """Dictionary-style access (``res["statistic"]``), as earlier versions returned."""
        if key in ("statistic", "df", "pvalue", "F", "terms", "dropped"):
            return getattr(self, key)
        raise KeyError(key)

    def __str__(self) -> str:
        head = (f"Wald test of {', '.join(self.terms) or 'R b = q'}: chi2({self.df}) = "
                f"{self.statistic:.4f}, p = {self.pvalue:.4g}")
        if self.dropped:
            head += f" (not in the model, left out: {', '.join(self.dropped)})"
        return head

    __repr__ = __str__


def wald_test(params: pd.Series, vcov: pd.DataFrame, terms: Sequence[str] | None = None,
              R: Any = None, q: Any = None, dropped_regressors: Sequence[str] = ()) -> WaldTest:
    """Wald test of ``R b = q`` (default: the listed ``terms`` are jointly zero).

    Terms that the model dropped (``dropped_regressors``: absorbed by fixed effects or
    collinear) are left out and named in ``WaldTest.dropped``; a name that is neither a
    coefficient nor a dropped regressor raises :class:`KeyError`.
    """
    names = list(params.index)
    dropped: list[str] = []
    tested: list[str] = []
    if R is None:
        if not terms:
            raise ValueError("give terms or a restriction matrix R")
        unknown = [t for t in terms if t not in names and t not in dropped_regressors]
        if unknown:
            raise KeyError(f"not among the coefficients: {unknown}")
        dropped = [t for t in terms if t not in names]
        tested = [t for t in terms if t in names]
        if not tested:
            raise EstimationError("none of the terms to test is in the model (all dropped: "
                                  + ", ".join(dropped) + ")")
        R = np.zeros((len(tested), len(names)))
        for row, t in enumerate(tested):
            R[row, names.index(t)] = 1.0
    R = np.atleast_2d(np.asarray(R, dtype=float))
    if R.shape[1] != len(names):
        raise ValueError(f"R must have {len(names)} columns (one per coefficient)")
    q = np.zeros(R.shape[0]) if q is None else np.asarray(q, dtype=float)
    diff = R @ params.to_numpy() - q
    middle = R @ vcov.to_numpy() @ R.T
    df = int(np.linalg.matrix_rank(middle))
    stat = float(diff @ np.linalg.pinv(middle) @ diff)
    notes = () if df == R.shape[0] else (
        f"the restrictions have rank {df} < {R.shape[0]} in the variance",)
    return WaldTest(stat, df, float(chi2_sf(stat, df)) if df else float("nan"),
                    tuple(tested), tuple(dropped), notes)
