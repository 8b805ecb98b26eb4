"""Figures a reader can read: no overlapping labels, one panel per scale, units on axes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("matplotlib")

from gravity.reporting.plots import (  # noqa: E402
    diversification_plot,
    estimates_by_scale,
    label_points,
    overlapping_labels,
)

SPECS = ["total (PPML, all flows)", "intensive (PPML, positive flows)",
         "extensive (LPM, probability)", "extensive implied (total - intensive, log points)"]


def _table() -> pd.DataFrame:
    return pd.DataFrame({"specification": SPECS, "term": "bri_ij",
                         "estimate": [0.2, 0.19, 0.03, 0.004],
                         "conf_low": [0.17, 0.16, 0.02, np.nan],
                         "conf_high": [0.22, 0.21, 0.05, np.nan]})


def test_overlap_detector_finds_long_tick_labels():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 3))
    ax = fig.add_subplot()
    ax.errorbar(range(4), [0.2, 0.19, 0.03, 0.0], yerr=0.02, fmt="o")
    ax.set_xticks(range(4), [f"{s}\nbri_ij" for s in SPECS], fontsize=7)  # the old figure
    assert overlapping_labels(fig)


def test_estimates_by_scale_one_panel_per_unit():
    scales = {"implied": "log points", "PPML": "log points", "LPM": "probability"}
    fig = estimates_by_scale(_table(), scales)
    axes = fig.axes
    assert [ax.get_xlabel() for ax in axes] == ["log points", "probability"]
    labels = [[t.get_text() for t in ax.get_yticklabels()] for ax in axes]
    assert sorted(len(x) for x in labels) == [1, 3]
    assert "extensive (LPM, probability): bri_ij" in labels[1]
    assert overlapping_labels(fig) == []
    with pytest.raises(ValueError, match="no scale for specification"):
        estimates_by_scale(_table(), {"PPML": "log points"})


def test_label_points_never_overlap_and_never_drop():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3))
    ax = fig.add_subplot()
    x = [0.3, 0.36, 0.64, 0.73, 0.731, 0.79, 0.88, 0.89, 0.895]
    names = ["EGY", "IDN", "CHN", "SGP", "THA", "FRA", "JPN", "AUS", "USA"]
    ax.plot(x, [8] * 9, "o")
    label_points(ax, x, [8.0] * 9, names)
    assert sorted(t.get_text() for t in ax.texts) == sorted(names)
    assert overlapping_labels(fig) == []
    naive = Figure(figsize=(6, 3))
    nax = naive.add_subplot()
    nax.plot(x, [8] * 9, "o")
    for xi, n in zip(x, names, strict=True):
        nax.annotate(n, (xi, 8.0), xytext=(3, 3), textcoords="offset points", fontsize=8)
    assert overlapping_labels(naive)  # what label_points avoids


def test_diversification_plot_units_and_one_legend():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"year": np.tile(np.arange(2012, 2021), 4),
                       "exporter": np.repeat(list("ABCD"), 9),
                       "n": rng.normal(50, 10, 36), "s": rng.uniform(0.2, 0.8, 36)})
    fig = diversification_plot(df, indicators=["n", "s"], group="exporter", percent=("s",),
                               units={"n": "destinations"})
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_ylabel() for ax in axes] == ["destinations", "%"]
    assert all(ax.get_legend() is None for ax in axes)
    assert len(fig.legends) == 1
    assert overlapping_labels(fig) == []
