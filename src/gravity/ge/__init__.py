"""Structural gravity and general-equilibrium counterfactuals built on fitted PPML models."""
