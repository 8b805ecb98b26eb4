"""Extensive margin of exports: diversification measures, binary-choice models with
high-dimensional fixed effects (LPM, logit, probit with bias correction), and one-call
hypothesis tests for Belt and Road participation and financial development."""

from .measures import bri_partners, diversification, emerging_markets, pair_dynamics

__all__ = ["diversification", "pair_dynamics", "emerging_markets", "bri_partners"]
