"""Plot the coefficients of ``i()`` terms against their levels (fixest's ``iplot``).

For an event study ``y ~ i(period, treated, ref=-1) | unit + year`` the figure shows,
for every level of ``period``, the estimate and its confidence interval; the reference
levels (dropped from the model) are drawn at zero with an open marker and a dashed
vertical line, as fixest does. Numeric levels are placed at their values, other levels
one after the other. matplotlib is imported when the figure is drawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from ..estimation.terms import level_name
from ..formula import ITerm, parse_formula

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["iplot", "i_coefficients"]


def _i_term(res: Any, var: str | None) -> ITerm:
    terms = parse_formula(res.formula).i_terms
    if not terms:
        raise ValueError(f"the model '{res.formula}' has no i() term to plot")
    if var is None:
        return terms[0]
    for t in terms:
        if t.var == var or t.raw == var:
            return t
    raise ValueError(f"no i() term on '{var}' in '{res.formula}' (terms: "
                     + ", ".join(t.raw for t in terms) + ")")


def i_coefficients(res: Any, var: str | None = None, alpha: float = 0.05) -> pd.DataFrame:
    """One row per level of the ``i()`` term on ``var`` (default: the first):
    ``level, estimate, conf_low, conf_high, reference``; the reference levels have
    estimate zero and no interval."""
    t = _i_term(res, var)
    suffix = f":{t.var2}" if t.var2 is not None and not t.var2_factor else ""
    prefix = f"{t.var}::"
    params, bse = res.params, res.bse
    q = stats.norm.ppf(1 - alpha / 2) if not np.isfinite(res.df_t) else \
        stats.t(res.df_t).ppf(1 - alpha / 2)
    rows = []
    for name in params.index:
        if not name.startswith(prefix) or (suffix and not name.endswith(suffix)):
            continue
        level = name[len(prefix): len(name) - len(suffix)] if suffix else name[len(prefix):]
        if not suffix and ":" in level:
            continue  # a factor x factor interaction: plotted by its own term
        b, s = float(params[name]), float(bse[name])
        rows.append((level, b, b - q * s, b + q * s, False))
    for r in t.ref:
        rows.append((level_name(r), 0.0, np.nan, np.nan, True))
    if not rows:
        raise ValueError(f"no coefficient of '{t.raw}' in the model (all dropped?)")
    out = pd.DataFrame(rows, columns=["level", "estimate", "conf_low", "conf_high",
                                      "reference"])
    numeric = pd.to_numeric(out["level"], errors="coerce")
    if numeric.notna().all():
        out.insert(1, "position", numeric.to_numpy(dtype=float))
        out = out.sort_values("position").reset_index(drop=True)
    else:
        out.insert(1, "position", np.arange(len(out), dtype=float))
    return out


def iplot(models: Any, var: str | None = None, alpha: float = 0.05, ax: Axes | None = None,
          figsize: tuple[float, float] = (7.0, 4.0), xlabel: str | None = None,
          ylabel: str | None = None) -> Figure:
    """Estimates and ``1 - alpha`` intervals of an ``i()`` term, one series per model
    (a result, a sequence or a ``{name: result}`` mapping); returns the Figure."""
    if isinstance(models, Mapping):
        named = {str(k): v for k, v in models.items()}
    elif hasattr(models, "params"):
        named = {"": models}
    else:
        named = {f"({j + 1})": m for j, m in enumerate(models)} if isinstance(
            models, Sequence) else {"": models}
    if ax is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=figsize, layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure  # type: ignore[assignment]
    width = len(named)
    term_var = None
    labels: list[str] = []
    for j, (name, res) in enumerate(named.items()):
        df = i_coefficients(res, var, alpha)
        term_var = _i_term(res, var).var
        step = np.diff(np.unique(df["position"])).min(initial=1.0) if len(df) > 1 else 1.0
        shift = (j - (width - 1) / 2) * 0.12 * step
        est = df[~df["reference"]]
        ref = df[df["reference"]]
        x = est["position"].to_numpy() + shift
        ax.errorbar(x, est["estimate"], yerr=[est["estimate"] - est["conf_low"],
                                               est["conf_high"] - est["estimate"]],
                    fmt="o", capsize=3, label=name or None)
        if len(ref):
            ax.plot(ref["position"] + shift, ref["estimate"], "o", mfc="white",
                    color=ax.lines[-1].get_color() if ax.lines else None)
            for p in ref["position"]:
                ax.axvline(p, color="grey", ls="--", lw=0.8)
        if not labels:
            labels = df["level"].tolist()
            positions = df["position"].to_numpy()
    ax.axhline(0.0, color="black", lw=0.8)
    if labels and not all(str(level).lstrip("-").replace(".", "").isdigit()
                          for level in labels):
        ax.set_xticks(positions, labels, rotation=45 if len(labels) > 8 else 0,
                      ha="right" if len(labels) > 8 else "center")
    ax.set_xlabel(xlabel or (term_var or ""))
    ax.set_ylabel(ylabel or f"Estimate and {100 * (1 - alpha):.0f}% interval")
    if width > 1:
        ax.legend()
    return fig
