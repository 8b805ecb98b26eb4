"""High-dimensional fixed effects: factors, the weighted within-transformation and
the recovery of fixed-effect coefficients.

:func:`make_demeaner` returns the algorithm a :class:`DemeanConfig` names, behind one
interface (``demean``, ``demean_inplace``): the accelerated engine
(:class:`FixedEffects`, ``method="cg"``) or the NumPy reference
(:class:`AlternatingProjections`, ``method="map"``).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from .components import fixed_effect_parameters, n_components
from .config import METHODS, DemeanConfig
from .demean import DemeanInfo, FixedEffects, compiled_kernels
from .reference import AlternatingProjections


class Demeaner(Protocol):
    """What the estimators need from a demeaning algorithm."""

    n: int

    def demean_inplace(self, work: np.ndarray, weights: np.ndarray | None = None,
                       tol: float = 1e-8, maxiter: int = 10_000) -> DemeanInfo: ...

    def demean(self, Y: np.ndarray, weights: np.ndarray | None = None, tol: float = 1e-8,
               maxiter: int = 10_000) -> tuple[np.ndarray, DemeanInfo]: ...


def make_demeaner(codes: list[np.ndarray], config: DemeanConfig | None = None) -> Demeaner:
    """The demeaning algorithm of ``config.method`` for the fixed effects ``codes``."""
    method = (config or DemeanConfig()).method
    if method == "map":
        return AlternatingProjections(codes)
    return FixedEffects(codes)


__all__ = ["AlternatingProjections", "DemeanConfig", "DemeanInfo", "Demeaner", "compiled_kernels",
           "FixedEffects", "METHODS", "fixed_effect_parameters", "make_demeaner",
           "n_components"]
