"""Extensive margin of exports: diversification measures, binary-choice models with
high-dimensional fixed effects (LPM, logit, probit with bias correction), and one-call
hypothesis tests for Belt and Road participation and financial development."""

from .binary import (
    BinaryResults,
    average_partial_effects,
    bias_correct,
    cloglog,
    feglm_binary,
    logit,
    lpm,
    probit,
)
from .hypotheses import (
    HypothesisTest,
    bri_event_study,
    bri_hypothesis,
    decompose_margins,
    finance_hypothesis,
)
from .measures import (
    bri_partners,
    diversification,
    emerging_markets,
    emerging_regions,
    pair_dynamics,
)

__all__ = ["feglm_binary", "logit", "probit", "cloglog", "lpm", "bias_correct",
           "average_partial_effects", "BinaryResults", "HypothesisTest", "bri_hypothesis",
           "bri_event_study", "finance_hypothesis", "decompose_margins",
           "diversification", "pair_dynamics", "emerging_markets", "emerging_regions",
           "bri_partners"]
