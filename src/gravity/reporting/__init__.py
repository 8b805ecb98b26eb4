"""Reporting: regression tables (:func:`etable`) and figures (:mod:`.plots`)."""

from .etable import FITSTATS, RegressionTable, etable
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
    "estimates_by_scale",
    "label_points",
    "overlapping_labels",
]
