"""Inference: variance estimators, small-sample corrections, delta method."""

from .delta import DeltaMethodResult, delta_method
from .vcov import SSC, VcovSpec, parse_vcov, ssc

__all__ = ["SSC", "VcovSpec", "parse_vcov", "ssc", "delta_method", "DeltaMethodResult"]
