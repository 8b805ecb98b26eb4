r"""Delta method for smooth functions of estimated coefficients.

For ``g(beta)`` with gradient ``G = dg/dbeta'`` evaluated at the estimate,
``Var g(b) ~= G V G'`` (e.g. Greene, *Econometric Analysis*, ch. 4). The gradient is
taken by central finite differences with a step scaled to each coefficient,
accurate to ~1e-9 relative for smooth ``g``; an analytical ``gradient`` can be
passed instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .distributions import normal


@dataclass
class DeltaMethodResult:
    """Estimate, standard error, z statistic, two-sided normal p-value, 95% interval."""

    estimate: np.ndarray
    se: np.ndarray
    vcov: np.ndarray

    @property
    def zvalue(self) -> np.ndarray:
        return self.estimate / self.se

    @property
    def pvalue(self) -> np.ndarray:
        return 2 * normal.sf(np.abs(self.zvalue))

    def conf_int(self, alpha: float = 0.05) -> np.ndarray:
        q = normal.ppf(1 - alpha / 2)
        return np.column_stack([self.estimate - q * self.se, self.estimate + q * self.se])

    def tidy(self) -> pd.DataFrame:
        ci = self.conf_int()
        return pd.DataFrame({"estimate": self.estimate, "std_error": self.se,
                             "statistic": self.zvalue, "p_value": self.pvalue,
                             "conf_low": ci[:, 0], "conf_high": ci[:, 1]})


def _num_gradient(func: Callable[[np.ndarray], np.ndarray], b: np.ndarray) -> np.ndarray:
    f0 = np.atleast_1d(np.asarray(func(b), dtype=float))
    grad = np.empty((f0.size, b.size))
    for k in range(b.size):
        h = 1e-6 * max(1.0, abs(b[k]))
        up, dn = b.copy(), b.copy()
        up[k] += h
        dn[k] -= h
        grad[:, k] = (np.atleast_1d(func(up)) - np.atleast_1d(func(dn))) / (2 * h)
    return grad


def delta_method(
    func: Callable[[pd.Series], float | np.ndarray],
    params: pd.Series,
    vcov: pd.DataFrame | np.ndarray,
    gradient: np.ndarray | None = None,
) -> DeltaMethodResult:
    """Apply the delta method to ``func(params)``.

    ``func`` receives the coefficients as a Series indexed by name, so that
    ``lambda b: 100 * (b["ln_DIST_2006"] - b["ln_DIST_1986"]) / b["ln_DIST_1986"]``
    works directly.
    """
    names = list(params.index)
    b = params.to_numpy(dtype=float)
    v = np.asarray(vcov, dtype=float)

    def f(arr: np.ndarray) -> np.ndarray:
        return np.atleast_1d(np.asarray(func(pd.Series(arr, index=names)), dtype=float))

    est = f(b)
    grad = _num_gradient(f, b) if gradient is None else np.atleast_2d(gradient)
    cov = grad @ v @ grad.T
    return DeltaMethodResult(est, np.sqrt(np.diag(cov)), cov)
