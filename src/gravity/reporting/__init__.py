"""Reporting: regression tables (:func:`etable`) and figures (:mod:`.plots`,
:func:`ge_barplot` for general-equilibrium effects)."""

from .etable import FITSTATS, RegressionTable, etable
from .ge_plots import ge_barplot
from .plots import (
    coefplot,
    distance_elasticity_plot,
    diversification_plot,
    estimates_by_scale,
    event_study_plot,
    label_points,
    overlapping_labels,
)

__all__ = [
    "etable",
    "RegressionTable",
    "FITSTATS",
    "coefplot",
    "event_study_plot",
    "diversification_plot",
    "distance_elasticity_plot",
    "ge_barplot",
    "estimates_by_scale",
    "label_points",
    "overlapping_labels",
]
