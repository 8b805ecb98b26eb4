"""Estimators: PPML and OLS with high-dimensional fixed effects."""

from .ols import ols
from .ppml import ppml

__all__ = ["ols", "ppml"]
