"""Estimators with high-dimensional fixed effects, on one IRLS engine.

:func:`feglm` with a :mod:`family <gravity.estimation.families>` (Poisson, Logit,
Probit, CLogLog, Gaussian) and the thin public estimators :func:`ppml`, :func:`ols`,
:func:`logit`, :func:`probit`, :func:`cloglog`, :func:`lpm`; the bias correction of
binary models (:func:`bias_correct`) and their average partial effects; typed results
(:class:`LinearResults`, :class:`PoissonResults`, :class:`BinaryResults`).
"""

from .apes import average_partial_effects, leverage_applies
from .bias import bias_correct, bias_term
from .families import CLogLog, Family, Gaussian, Logit, Poisson, Probit, get_family
from .feglm import cloglog, feglm, feglm_binary, logit, ppml, probit
from .multiple import FailedFit, MultipleResults, estimate_many
from .ols import lpm, ols
from .ppml_bias import BiasCorrectedPoissonResults, ppml_bias_correct
from .record import FitRecord, FitSettings
from .results import BinaryResults, LinearResults, PoissonResults, RegressionResults
from .summary import Summary

__all__ = ["feglm", "ppml", "ols", "logit", "probit", "cloglog", "lpm", "feglm_binary",
           "bias_correct", "bias_term", "ppml_bias_correct", "BiasCorrectedPoissonResults", "average_partial_effects", "leverage_applies", "Family", "Poisson",
           "Gaussian", "Logit", "Probit", "CLogLog", "get_family", "FitRecord",
           "FitSettings", "RegressionResults", "LinearResults", "PoissonResults",
           "BinaryResults", "Summary", "estimate_many", "MultipleResults", "FailedFit"]
