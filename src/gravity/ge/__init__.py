"""Structural gravity and general-equilibrium counterfactuals built on fitted PPML models.

:class:`Baseline` turns a fit into a square world (output, expenditure, cost index,
multilateral resistances normalised on a reference country);
:func:`counterfactual` solves conditional or full-endowment GE with the book's
GEPPML procedure or an exactly solved equilibrium; :func:`pair_cost_index` fills the
costs of pairs without a pair fixed effect (stage 2 of Yotov et al. 2016, ch. 2);
:func:`ge_intervals` gives intervals from the estimation uncertainty;
:func:`multisector_counterfactual` handles several sectors.
"""

from .baseline import Baseline
from .costs import pair_cost_index
from .counterfactual import counterfactual, solver_gap
from .equilibrium import Equilibrium
from .intervals import ge_bootstrap, ge_intervals
from .result import GEResult
from .sectors import multisector_counterfactual, multisector_intervals

__all__ = [
    "Baseline",
    "Equilibrium",
    "GEResult",
    "counterfactual",
    "ge_bootstrap",
    "ge_intervals",
    "multisector_counterfactual",
    "multisector_intervals",
    "pair_cost_index",
    "solver_gap",
]
