"""Reporting: regression tables (:func:`etable`) and figures (:mod:`.plots`,
:func:`iplot` for ``i()`` terms)."""

from .etable import FITSTATS, RegressionTable, etable
from .iplot import i_coefficients, iplot
from .plots import coefplot, distance_elasticity_plot, diversification_plot, event_study_plot

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
]
