"""Reporting: regression tables (:func:`etable`) and figures (:mod:`.plots`)."""

from .etable import FITSTATS, RegressionTable, etable
from .ge_plots import ge_barplot
from .plots import coefplot, distance_elasticity_plot, diversification_plot, event_study_plot

__all__ = [
    "etable",
    "RegressionTable",
    "FITSTATS",
    "coefplot",
    "event_study_plot",
    "diversification_plot",
    "distance_elasticity_plot",
    "ge_barplot",
]
