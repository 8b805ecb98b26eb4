"""Bar charts of general-equilibrium effects (:class:`gravity.ge.GEResult`).

matplotlib is imported when a figure is drawn (see :mod:`gravity.reporting.plots`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..ge import GEResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["ge_barplot"]

LABELS = {"exports": "Exports", "imports": "Imports", "real_gdp": "Real GDP",
          "price": "Factory-gate price", "imr": "Inward MR (P)", "omr": "Outward MR (Pi)",
          "output": "Output"}


def ge_barplot(result: GEResult, variable: str = "real_gdp", kind: str = "full",
               countries: Sequence[str] | None = None, top: int = 20,
               direction: str = "counterfactual", ax: Axes | None = None,
               figsize: tuple[float, float] = (7, 5), title: str | None = None) -> Figure:
    """Horizontal bars of the percent change of ``variable`` by country (the ``top``
    largest in absolute value, or ``countries``), with the percentile interval as
    error bars when ``result`` has intervals."""
    from matplotlib.figure import Figure

    ch = result.changes(kind, direction)[variable]
    if countries is not None:
        ch = ch.loc[list(countries)]
    else:
        ch = ch.loc[ch.abs().sort_values(ascending=False).index[:top]]
    ch = ch.sort_values()
    if ax is None:
        fig = Figure(figsize=figsize, layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure  # type: ignore[assignment]
    xerr = None
    if result.intervals is not None:
        iv = result.intervals
        iv = iv[(iv["scenario"] == kind) & (iv["variable"] == variable)].set_index("country")
        lo = iv["lower"].reindex(ch.index).to_numpy()
        hi = iv["upper"].reindex(ch.index).to_numpy()
        xerr = np.vstack([ch.to_numpy() - lo, hi - ch.to_numpy()])
    colors = np.where(ch.to_numpy() >= 0, "#2a7ab0", "#c0504d")
    ax.barh(list(ch.index), ch.to_numpy(), xerr=xerr, color=colors, capsize=2)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel(f"{LABELS.get(variable, variable)}: % change ({kind} GE)")
    ax.set_title(title or f"{LABELS.get(variable, variable)}, {kind} GE ({result.solver})")
    return fig
