"""Figures for gravity results, drawn with matplotlib's object API.

Every function builds a :class:`matplotlib.figure.Figure` without ``pyplot``
(so it works under any backend, including ``Agg`` on a server, and does not
accumulate global figures), or draws on ``ax=`` when one is given, and returns
the Figure. Save with ``fig.savefig("file.png")``; in a notebook, display it
with ``IPython.display.display(fig)`` or leave it as the cell's last value.

matplotlib is imported by the functions that draw, so that ``import gravity``
does not load it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # matplotlib is imported when a figure is drawn, not with the package
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["coefplot", "event_study_plot", "diversification_plot", "distance_elasticity_plot",
           "estimates_by_scale", "label_points", "overlapping_labels"]

_TIDY_COLS = ("estimate", "conf_low", "conf_high")


def _figure(figsize: tuple[float, float]) -> Figure:
    """A new constrained-layout Figure, not registered with ``pyplot``."""
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained")


def _renderer(fig: Any) -> Any:
    """A renderer for text sizes: the figure's canvas, or an Agg canvas attached to it."""
    if not hasattr(fig.canvas, "get_renderer"):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig)
    return fig.canvas.get_renderer()


def _new_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax  # type: ignore[return-value]
    fig = _figure(figsize)
    return fig, fig.add_subplot()


def _as_named(models: Any) -> dict[str, Any]:
    """One results object / tidy DataFrame, a sequence, or a mapping -> {name: obj}."""
    if isinstance(models, Mapping):
        return {str(k): v for k, v in models.items()}
    if isinstance(models, pd.DataFrame) or hasattr(models, "params"):
        return {"": models}
    seq = list(models)
    return {f"({j + 1})": m for j, m in enumerate(seq)}


def _tidy(obj: Any, alpha: float) -> pd.DataFrame:
    """``estimate, conf_low, conf_high`` indexed by term, from results or a DataFrame."""
    if isinstance(obj, pd.DataFrame):
        missing = [c for c in _TIDY_COLS if c not in obj.columns]
        if missing:
            raise ValueError(f"estimates DataFrame lacks columns {missing}")
        df = obj
        if "term" in df.columns:
            df = df.set_index("term")
        return df.loc[:, list(_TIDY_COLS)]
    if hasattr(obj, "tidy"):
        return obj.tidy(alpha=alpha).loc[:, list(_TIDY_COLS)]
    raise TypeError("expected a RegressionResults or a DataFrame with estimate/conf_low/conf_high")


def coefplot(
    models: Any,
    terms: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    alpha: float = 0.05,
    ax: Axes | None = None,
    figsize: tuple[float, float] = (6.0, 4.0),
    title: str | None = None,
    xlabel: str | None = None,
) -> Figure:
    """Coefficient plot: point estimates with ``1 - alpha`` confidence intervals.

    ``models`` is a results object, a tidy DataFrame (``term`` index or column,
    ``estimate``, ``conf_low``, ``conf_high``), a sequence of them, or a mapping
    ``{legend name: model}``. Several models are dodged vertically around each
    term. ``terms`` selects and orders the coefficients (default: all, in order of
    first appearance, ``(Intercept)`` excluded); ``labels`` renames them.
    """
    named = _as_named(models)
    tidies = {k: _tidy(v, alpha) for k, v in named.items()}
    if terms is None:
        terms = []
        for t in tidies.values():
            terms += [str(x) for x in t.index if x not in terms and x != "(Intercept)"]
    terms = list(terms)
    if not terms:
        raise ValueError("no coefficients to plot")
    lab = dict(labels or {})
    fig, ax = _new_axes(ax, figsize)
    k = len(tidies)
    offsets = (np.arange(k) - (k - 1) / 2) * (0.6 / max(k, 1)) if k > 1 else np.zeros(1)
    y0 = np.arange(len(terms))[::-1].astype(float)
    for off, (name, t) in zip(offsets, tidies.items(), strict=True):
        sub = t.reindex(terms)
        y = y0 + off
        est = sub["estimate"].to_numpy(float)
        lo = sub["conf_low"].to_numpy(float)
        hi = sub["conf_high"].to_numpy(float)
        ax.errorbar(est, y, xerr=np.vstack([est - lo, hi - est]), fmt="o", capsize=3,
                    label=name or None)
    ax.axvline(0.0, color="0.5", lw=0.8, ls="--")
    ax.set_yticks(y0, [lab.get(t, t) for t in terms])
    ax.set_xlabel(xlabel or f"Estimate and {100 * (1 - alpha):g}% confidence interval")
    if title:
        ax.set_title(title)
    if k > 1:
        ax.legend(loc="best", fontsize="small")
    return fig


def event_study_plot(
    estimates: pd.DataFrame,
    period: str = "period",
    estimate: str = "estimate",
    conf_low: str = "conf_low",
    conf_high: str = "conf_high",
    ref_period: float | None = -1,
    ax: Axes | None = None,
    figsize: tuple[float, float] = (6.0, 4.0),
    title: str | None = None,
    xlabel: str = "Periods relative to treatment",
    ylabel: str = "Estimate",
    band_alpha: float = 0.25,
) -> Figure:
    """Event-study plot: estimates by relative period with a shaded confidence band.

    ``estimates`` has one row per period with columns ``period``, ``estimate``,
    ``conf_low``, ``conf_high``. The reference period (normalised to zero, hence
    usually absent from the estimates) is added as a hollow point at 0; a dashed
    vertical line marks the last pre-treatment period boundary
    (``ref_period + 0.5``) and a horizontal line marks zero.
    """
    missing = [c for c in (period, estimate, conf_low, conf_high) if c not in estimates.columns]
    if missing:
        raise ValueError(f"estimates lacks columns {missing}")
    df = estimates.loc[:, [period, estimate, conf_low, conf_high]].copy()
    if ref_period is not None and not (df[period] == ref_period).any():
        ref = pd.DataFrame({period: [ref_period], estimate: [0.0], conf_low: [0.0],
                            conf_high: [0.0]})
        df = pd.concat([df, ref], ignore_index=True)
    df = df.sort_values(period)
    x = df[period].to_numpy(float)
    fig, ax = _new_axes(ax, figsize)
    ax.fill_between(x, df[conf_low].to_numpy(float), df[conf_high].to_numpy(float),
                    alpha=band_alpha, color="C0", lw=0, label="95% CI" if band_alpha else None)
    ax.plot(x, df[estimate].to_numpy(float), "o-", color="C0", label="Estimate")
    if ref_period is not None:
        ax.plot([ref_period], [0.0], "o", mfc="white", color="C0", label="Reference period")
        ax.axvline(float(ref_period) + 0.5, color="0.4", lw=0.8, ls="--")
    ax.axhline(0.0, color="0.5", lw=0.8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize="small")
    return fig


def diversification_plot(
    df: pd.DataFrame,
    indicators: Sequence[str] | None = None,
    x: str = "year",
    group: str | None = None,
    labels: Mapping[str, str] | None = None,
    percent: Sequence[str] = (),
    ncols: int | None = None,
    figsize: tuple[float, float] | None = None,
    title: str | None = None,
    marks: Mapping[str, Mapping[Any, float]] | None = None,
    units: Mapping[str, str] | None = None,
) -> Figure:
    """Diversification indicators over time, one panel per indicator.

    ``df`` is wide: a time column ``x`` and one column per indicator (e.g.
    ``n_destinations``, ``top5_share``, ``emerging_share``); with ``group`` (e.g.
    ``exporter``) one line per group, named in a single legend below the panels.
    Indicators named in ``percent`` are shares in [0, 1] drawn as percentages
    (y axis "%"); ``units`` labels the y axis of the others
    (``{"n_destinations": "destinations"}``). ``marks`` adds labelled reference
    points, ``{indicator: {x value: y value}}`` (e.g. published figures), as crosses.
    Each panel has its own y scale: never two quantities of different scales on one
    axis.
    """
    if x not in df.columns:
        raise ValueError(f"df lacks the time column {x!r}")
    if indicators is None:
        indicators = [c for c in df.columns if c not in (x, group)
                      and pd.api.types.is_numeric_dtype(df[c])]
    indicators = list(indicators)
    if not indicators:
        raise ValueError("no indicators to plot")
    lab = dict(labels or {})
    n = len(indicators)
    ncols = ncols or min(n, 3)
    nrows = int(np.ceil(n / ncols))
    fig = _figure(figsize or (4.0 * ncols, 3.2 * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    groups = [(None, df)] if group is None else list(df.groupby(group, sort=True))
    unit = dict(units or {})
    for ax, ind in zip(axes, indicators, strict=False):
        scale = 100.0 if ind in percent else 1.0
        for gname, g in groups:
            g = g.sort_values(x)
            ax.plot(g[x].to_numpy(), g[ind].to_numpy(float) * scale, "o-", ms=3,
                    label=None if gname is None else str(gname))
        if marks and ind in marks:
            mx = list(marks[ind].keys())
            my = [v * scale for v in marks[ind].values()]
            ax.plot(mx, my, "x", color="k", ms=8, mew=2, label="published")
            if group is None:
                ax.legend(fontsize="small")
        ax.set_title(lab.get(ind, ind), fontsize="medium")
        ax.set_xlabel(x)
        ax.xaxis.get_major_locator().set_params(integer=True)
        if ind in percent or ind in unit:
            ax.set_ylabel(unit.get(ind, "%"))
    if group is not None:
        handles, names = axes[0].get_legend_handles_labels()
        fig.legend(handles, names, loc="outside lower center", ncols=min(len(names), 6),
                   fontsize="small", title=group)
    for ax in axes[n:]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    return fig


def distance_elasticity_plot(
    results: Any,
    years: Sequence[int],
    prefix: str = "ln_DIST_",
    alpha: float = 0.05,
    reference: Mapping[str, Mapping[int, float]] | None = None,
    ax: Axes | None = None,
    figsize: tuple[float, float] = (6.0, 4.0),
    title: str | None = None,
    ylabel: str = "Distance elasticity",
) -> Figure:
    """Distance elasticity over years (the "distance puzzle").

    ``results`` is one fitted model or a mapping ``{name: model}``, each with
    coefficients ``f"{prefix}{year}"`` for every year in ``years``; each model is a
    line with ``1 - alpha`` confidence intervals as error bars. ``reference``
    overlays other estimates (e.g. published ones) as ``{name: {year: value}}``,
    drawn as hollow squares.
    """
    named = _as_named(results)
    years = [int(y) for y in years]
    fig, ax = _new_axes(ax, figsize)
    k = len(named)
    width = 0.25 * (np.diff(years).min() if len(years) > 1 else 1.0)
    offsets = (np.arange(k) - (k - 1) / 2) * (width / max(k - 1, 1)) if k > 1 else np.zeros(1)
    for off, (name, res) in zip(offsets, named.items(), strict=True):
        t = _tidy(res, alpha)
        names = [f"{prefix}{y}" for y in years]
        missing = [c for c in names if c not in t.index]
        if missing:
            raise ValueError(f"model {name!r} lacks coefficients {missing}")
        sub = t.loc[names]
        est = sub["estimate"].to_numpy(float)
        xs = np.asarray(years, float) + off
        ax.errorbar(xs, est, yerr=np.vstack([est - sub["conf_low"].to_numpy(float),
                                             sub["conf_high"].to_numpy(float) - est]),
                    fmt="o-", capsize=3, label=name or "Estimate")
    for name, vals in (reference or {}).items():
        ys = sorted(vals)
        ax.plot(ys, [vals[y] for y in ys], "s", mfc="none", ms=9, mew=1.5, label=name)
    ax.set_xticks(years)
    ax.set_xlabel("Year")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize="small")
    return fig


def estimates_by_scale(
    table: pd.DataFrame,
    scales: Mapping[str, str],
    label: str = "{specification}: {term}",
    figsize: tuple[float, float] | None = None,
    title: str | None = None,
) -> Figure:
    """Estimates with their confidence intervals, one panel per scale.

    ``table`` is tidy (``specification``, ``term``, ``estimate``, ``conf_low``,
    ``conf_high``; e.g. the ``table`` of a :mod:`gravity.margins` hypothesis test).
    ``scales`` maps a substring of ``specification`` to the unit of its estimates,
    e.g. ``{"PPML": "log points", "LPM": "probability"}``: rows with the same unit
    share a panel and its x axis, labelled with the unit, so that a log-point effect
    and a probability are never drawn on one axis. The first matching substring
    wins (matched case-insensitively); a row that matches none raises ``ValueError``.
    Rows are labelled on the y axis (horizontal intervals, so labels never overlap);
    a row without an interval is drawn as a hollow point.
    """
    need = ["specification", "term", "estimate", "conf_low", "conf_high"]
    missing = [c for c in need if c not in table.columns]
    if missing:
        raise ValueError(f"table lacks columns {missing}")
    t = table.reset_index(drop=True)
    spec = t["specification"].astype(str)
    unit = pd.Series(pd.NA, index=t.index, dtype="object")
    for key, u in scales.items():
        hit = unit.isna() & spec.str.lower().str.contains(key.lower(), regex=False)
        unit[hit] = u
    if unit.isna().any():
        raise ValueError("no scale for specification(s) "
                         f"{sorted(set(spec[unit.isna()]))}; add them to scales=")
    order = list(dict.fromkeys(unit))
    sizes = [int((unit == u).sum()) for u in order]
    fig = _figure(figsize or (7.0, 0.9 + 0.45 * sum(sizes) + 0.5 * len(order)))
    axes = fig.subplots(len(order), 1, squeeze=False, height_ratios=sizes).ravel()
    for ax, u in zip(axes, order, strict=True):
        sub = t[unit == u]
        y = np.arange(len(sub))[::-1].astype(float)
        est = sub["estimate"].to_numpy(float)
        lo, hi = sub["conf_low"].to_numpy(float), sub["conf_high"].to_numpy(float)
        has = np.isfinite(lo) & np.isfinite(hi)
        ax.errorbar(est[has], y[has], xerr=np.vstack([est[has] - lo[has], hi[has] - est[has]]),
                    fmt="o", capsize=3, color="C0", label="estimate, 95% CI")
        if (~has).any():
            ax.plot(est[~has], y[~has], "o", mfc="white", color="C0",
                    label="estimate (no standard error)")
            ax.legend(fontsize="small", loc="best")
        ax.axvline(0.0, color="0.5", lw=0.8, ls="--")
        ax.set_yticks(y, [label.format(**r) for r in sub.to_dict("records")],
                      fontsize="small")
        ax.set_ylim(-0.6, len(sub) - 0.4)
        ax.set_xlabel(u)
    if title:
        fig.suptitle(title)
    return fig


def label_points(ax: Axes, x: Sequence[float], y: Sequence[float], labels: Sequence[str],
                 fontsize: float = 8.0) -> None:
    """Label scatter points so that labels do not overlap one another.

    Points are taken left to right; a label that would overlap one already placed
    (in display coordinates, after drawing) is moved to the next free slot above or
    below its point, joined to it by a thin line.
    """
    from matplotlib.transforms import Bbox

    renderer = _renderer(ax.figure)
    ax.figure.canvas.draw()  # view limits and layout as drawn, so that extents are real
    placed: list[Bbox] = []
    order = np.argsort(np.asarray(x, float), kind="stable")
    offsets = [(4, 4)] + [(4, 4 + d * s) for d in range(1, 12) for s in (11, -11)]
    for i in order:
        for k, (dx, dy) in enumerate(offsets):
            ann = ax.annotate(str(labels[i]), (x[i], y[i]), xytext=(dx, dy),
                              textcoords="offset points", fontsize=fontsize,
                              annotation_clip=False,
                              arrowprops=None if dy == 4 else {"arrowstyle": "-", "lw": 0.5,
                                                               "color": "0.5"})
            box = _text_extent(ann, renderer)
            if not any(box.overlaps(b) for b in placed) or k == len(offsets) - 1:
                placed.append(box)  # the last slot is kept: a label is never dropped
                break
            ann.remove()


def _text_extent(text: Any, renderer: Any) -> Any:
    """The box of a Text's own glyphs (for an annotation: without its arrow)."""
    from matplotlib.text import Annotation, Text

    if isinstance(text, Annotation):
        text.update_positions(renderer)  # place the text at its offset before measuring
    return Text.get_window_extent(text, renderer)


def overlapping_labels(fig: Figure) -> list[tuple[str, str]]:
    """Pairs of texts that overlap on ``fig``: tick labels of each axis and annotations.

    Draws the figure and compares the bounding boxes of the visible, non-empty tick
    labels of every x and y axis, and of the annotations of every Axes. An empty
    list means a reader can read every label.
    """
    renderer = _renderer(fig)
    fig.canvas.draw()
    out: list[tuple[str, str]] = []
    for ax in fig.axes:
        groups = [ax.get_xticklabels(which="both"), ax.get_yticklabels(which="both"),
                  [t for t in ax.texts]]
        for texts in groups:
            vis = [t for t in texts if t.get_visible() and t.get_text().strip()]
            boxes = [_text_extent(t, renderer) for t in vis]
            for a in range(len(vis)):
                for b in range(a + 1, len(vis)):
                    if boxes[a].overlaps(boxes[b]):
                        out.append((vis[a].get_text(), vis[b].get_text()))
    return out
