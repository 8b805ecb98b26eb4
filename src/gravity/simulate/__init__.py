"""Simulated gravity worlds with known true parameters (:func:`simulate_world`).

A Chaney/Melitz economy with Pareto firm productivity and fixed costs of
entering markets: zero flows arise when no firm of the exporter can cover the
fixed cost of a destination. See :mod:`gravity.simulate.params` for the
equations and :mod:`gravity.simulate.world` for the data.
"""

from gravity.simulate.params import SimParams
from gravity.simulate.world import (
    SimulationTruth,
    add_structural_covariates,
    capital_distances,
    great_circle_km,
    load_capitals,
    simulate_world,
)

__all__ = [
    "SimParams",
    "SimulationTruth",
    "add_structural_covariates",
    "capital_distances",
    "great_circle_km",
    "load_capitals",
    "simulate_world",
]
