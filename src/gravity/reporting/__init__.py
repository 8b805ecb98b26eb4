"""Reporting: regression tables (:func:`etable`) and figures (:mod:`.plots`,
:func:`ge_barplot` for general-equilibrium effects, :func:`iplot` for ``i()``
terms)."""

from .etable import FITSTATS, RegressionTable, etable
from .ge_plots import ge_barplot
from .iplot import i_coefficients, iplot
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
    "iplot",
    "i_coefficients",
    "event_study_plot",
    "diversification_plot",
    "distance_elasticity_plot",
    "ge_barplot",
    "estimates_by_scale",
    "label_points",
    "overlapping_labels",
]
