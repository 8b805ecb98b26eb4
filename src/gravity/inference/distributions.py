"""Reference distributions of the test statistics, from :mod:`scipy.special`.

p-values and critical values need the standard normal, Student's t and the
chi-squared distribution only. Their cumulative distribution functions and
inverses are the special functions ``ndtr``/``ndtri`` (normal), ``stdtr``/``stdtrit``
(t with ``df`` degrees of freedom) and ``chdtrc`` (chi-squared upper tail), the same
routines :mod:`scipy.stats` evaluates; importing them costs a fifth of the memory of
``scipy.stats`` (about 14 MiB against 60 MiB), which matters for a package whose
small fits should not weigh more than the data.

* normal: ``sf(x) = Phi(-x) = ndtr(-x)``, ``ppf(q) = ndtri(q)``, ``pdf(x) =
  exp(-x^2/2) / sqrt(2 pi)``;
* t(df): ``sf(x) = stdtr(df, -x)``, ``ppf(q) = stdtrit(df, q)``; an infinite ``df``
  is the normal;
* chi2(df): ``sf(x) = chdtrc(df, x)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

__all__ = ["Normal", "StudentT", "chi2_sf", "normal", "reference"]

_SQRT_2PI = float(np.sqrt(2.0 * np.pi))


@dataclass(frozen=True)
class Normal:
    """The standard normal distribution (the methods of ``scipy.stats.norm`` used here)."""

    def sf(self, x: Any) -> Any:
        """Upper tail ``P(Z > x)``."""
        return special.ndtr(-np.asarray(x, dtype=float))

    def cdf(self, x: Any) -> Any:
        """``P(Z <= x)``."""
        return special.ndtr(np.asarray(x, dtype=float))

    def ppf(self, q: Any) -> Any:
        """Quantile: the ``x`` with ``P(Z <= x) = q``."""
        return special.ndtri(np.asarray(q, dtype=float))

    def pdf(self, x: Any) -> Any:
        """Density ``exp(-x^2 / 2) / sqrt(2 pi)``."""
        x = np.asarray(x, dtype=float)
        return np.exp(-0.5 * x * x) / _SQRT_2PI


@dataclass(frozen=True)
class StudentT:
    """Student's t distribution with ``df`` degrees of freedom."""

    df: float

    def sf(self, x: Any) -> Any:
        """Upper tail ``P(T > x)``."""
        return special.stdtr(self.df, -np.asarray(x, dtype=float))

    def cdf(self, x: Any) -> Any:
        """``P(T <= x)``."""
        return special.stdtr(self.df, np.asarray(x, dtype=float))

    def ppf(self, q: Any) -> Any:
        """Quantile: the ``x`` with ``P(T <= x) = q``."""
        return special.stdtrit(self.df, np.asarray(q, dtype=float))


normal = Normal()


def reference(df: float) -> Normal | StudentT:
    """The reference distribution of a t statistic: t(df), or the normal when ``df``
    is infinite (large-sample inference)."""
    return normal if not np.isfinite(df) else StudentT(float(df))


def chi2_sf(x: Any, df: float) -> Any:
    """Upper tail ``P(X > x)`` of a chi-squared variable with ``df`` degrees of freedom."""
    return special.chdtrc(df, np.asarray(x, dtype=float))
