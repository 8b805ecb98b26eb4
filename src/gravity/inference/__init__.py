"""Inference: variance estimators, small-sample corrections, delta method, Wald tests."""

from .delta import DeltaMethodResult, delta_method
from .vcov import SSC, VcovSpec, parse_vcov, ssc
from .wald import WaldTest, wald_test

__all__ = ["SSC", "VcovSpec", "parse_vcov", "ssc", "delta_method", "DeltaMethodResult",
           "WaldTest", "wald_test"]
