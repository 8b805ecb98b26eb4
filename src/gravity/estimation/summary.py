"""The printed summary of a fit: an object that prints as the table and renders as HTML."""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd

REASONS = {
    "missing": "missing values",
    "zero_weight": "zero weights",
    "singleton": "singletons",
    "separated_fe": "separated (perfectly predicted fixed-effect groups)",
    "separated_simplex": "separated (regressors, simplex)",
    "separated_relu": "separated (ReLU)",
}


def stars(p: float) -> str:
    if not np.isfinite(p):
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else \
        "." if p < 0.1 else ""


@dataclass(frozen=True)
class Summary:
    """Header lines, the coefficient table (tidy frame) and footer lines.

    ``str(summary)`` is the text table; in a notebook it renders as HTML.
    """

    title: str
    header: tuple[str, ...]
    table: pd.DataFrame
    footer: tuple[str, ...]
    statistic: str = "z"

    def as_text(self) -> str:
        s = self.statistic
        lines = [f"{'':<24}{'Estimate':>13}{'Std. Error':>13}{s + ' value':>10}"
                 f"{'Pr(>|' + s + '|)':>11}"]
        for name, row in self.table.iterrows():
            p = float(row["p_value"])
            lines.append(f"{str(name)[:23]:<24}{row['estimate']:>13.6f}"
                         f"{row['std_error']:>13.6f}{row['statistic']:>10.3f}{p:>11.3g} "
                         f"{stars(p)}")
        sep = "-" * 72
        return "\n".join([self.title, *self.header, sep, *lines, sep, *self.footer])

    def __str__(self) -> str:
        return self.as_text()

    def __repr__(self) -> str:
        return self.as_text()

    def __contains__(self, text: str) -> bool:
        return text in self.as_text()

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(str(n))}</td><td>{r['estimate']:.6f}</td>"
            f"<td>{r['std_error']:.6f}</td><td>{r['statistic']:.3f}</td>"
            f"<td>{r['p_value']:.3g} {stars(float(r['p_value']))}</td></tr>"
            for n, r in self.table.iterrows())
        head = "<br>".join(html.escape(h) for h in self.header)
        foot = "<br>".join(html.escape(f) for f in self.footer)
        s = self.statistic
        return (f"<div><b>{html.escape(self.title)}</b><br>{head}<table>"
                f"<tr><th></th><th>Estimate</th><th>Std. Error</th><th>{s} value</th>"
                f"<th>Pr(&gt;|{s}|)</th></tr>{rows}</table>{foot}</div>")
