"""Regression tables in the style of fixest's ``etable`` (Markdown, LaTeX, HTML).

>>> tab = etable([fit_ols, fit_ppml], labels={"ln_DIST": "log distance"})
>>> print(tab.to_markdown())        # or tab.to_latex(), tab.to_html(), tab.to_frame()

Layout (one column per model)::

    header        (1), (2), ...  /  Dependent var.  /  Estimator
    coefficients  estimate with stars, and below it (std. error) or (t statistic)
    Fixed effects one Yes/No row per fixed effect used by any model
    statistics    Observations, R2, Within R2, Pseudo R2, Std. errors (and more)

Stars follow fixest's default: ``***`` p < 0.01, ``**`` p < 0.05, ``*`` p < 0.1,
with p-values from each model (t with the model's degrees of freedom for OLS,
normal for PPML). Every number printed comes from the fitted results objects.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..estimation.multiple import MultipleResults

__all__ = ["etable", "RegressionTable", "FITSTATS"]

# fit statistic key -> (row label, how to read it from a results object, kind)
FITSTATS: dict[str, str] = {
    "nobs": "Observations",
    "r2": "R2",
    "r2_within": "Within R2",
    "pseudo_r2": "Pseudo R2",
    "loglik": "Log-likelihood",
    "deviance": "Deviance",
    "n_clusters": "Clusters",
    "vcov": "Std. errors",
}
DEFAULT_FITSTATS = ("nobs", "r2", "r2_within", "pseudo_r2", "vcov")
_ESTIMATORS = {"ols": "OLS", "ppml": "PPML"}
_DEFAULT_LABELS = {"(Intercept)": "Constant"}


@dataclass(frozen=True)
class _Row:
    label: str
    cells: tuple[str, ...]
    kind: str = "plain"  # "coef", "se", "plain"


@dataclass
class RegressionTable:
    """A formatted table of several fitted models.

    Build it with :func:`etable`. Render with :meth:`to_markdown`,
    :meth:`to_latex` (booktabs), :meth:`to_html` or :meth:`to_frame`.
    ``str(table)`` is the Markdown form; notebooks display the HTML form.
    """

    columns: tuple[str, ...]
    header: list[_Row]
    coefs: list[_Row]
    fixed_effects: list[_Row]
    stats: list[_Row]
    notes: list[str] = field(default_factory=list)
    fe_title: str = "Fixed effects"
    stub: str = ""

    # ------------------------------------------------------------------ frame
    def _sections(self) -> list[tuple[str | None, list[_Row]]]:
        out: list[tuple[str | None, list[_Row]]] = [(None, self.coefs)]
        if self.fixed_effects:
            out.append((self.fe_title, self.fixed_effects))
        if self.stats:
            out.append((None, self.stats))
        return out

    def to_frame(self) -> pd.DataFrame:
        """The table as a DataFrame of strings: index = row labels (standard-error
        rows have an empty label), columns = model names; header rows included."""
        rows = list(self.header[1:])
        for title, sec in self._sections():
            if title:
                rows.append(_Row(title + ":", ("",) * len(self.columns)))
            rows.extend(sec)
        return pd.DataFrame([list(r.cells) for r in rows], columns=list(self.columns),
                            index=pd.Index([r.label for r in rows], name=self.stub or None))

    # ------------------------------------------------------------------ markdown
    def to_markdown(self) -> str:
        """GitHub-flavoured Markdown (pipe table, centred model columns) and notes."""
        body: list[tuple[str, tuple[str, ...]]] = [(r.label, r.cells) for r in self.header[1:]]
        for title, sec in self._sections():
            if title:
                body.append((title + ":", ("",) * len(self.columns)))
            body.extend((r.label, r.cells) for r in sec)
        head = (self.stub, self.columns)
        allrows = [head, *body]
        w0 = max(3, *(len(_md_escape(lab)) for lab, _ in allrows))
        ws = [max(3, *(len(_md_escape(cells[j])) for _, cells in allrows))
              for j in range(len(self.columns))]

        def line(label: str, cells: Sequence[str]) -> str:
            parts = [_md_escape(label).ljust(w0)]
            parts += [_md_escape(c).center(w) for c, w in zip(cells, ws, strict=True)]
            return "| " + " | ".join(parts) + " |"

        out = [line(*head), "|:" + "-" * (w0 + 1) + "|" + "|".join(":" + "-" * w + ":" for w in ws)
               + "|"]
        out += [line(lab, cells) for lab, cells in body]
        text = "\n".join(out)
        if self.notes:
            text += "\n\n" + "\n".join(_md_escape_note(n) for n in self.notes)
        return text

    # ------------------------------------------------------------------ latex
    def to_latex(self, caption: str | None = None, label: str | None = None,
                 table_env: bool = False) -> str:
        """LaTeX ``tabular`` with booktabs rules (``\\toprule``, ``\\midrule``,
        ``\\bottomrule``); needs ``\\usepackage{booktabs}``. With ``table_env=True``
        (or a caption/label) it is wrapped in a ``table`` float."""
        ncol = len(self.columns)
        lines = [r"\begin{tabular}{l" + "c" * ncol + "}", r"\toprule"]

        def row(label: str, cells: Sequence[str], math: bool = False) -> str:
            conv = _tex_number if math else _tex_escape
            return " & ".join([_tex_escape(label), *(conv(c) for c in cells)]) + r" \\"

        lines.append(row(self.stub, self.columns))
        for r in self.header[1:]:
            lines.append(row(r.label, r.cells))
        for title, sec in self._sections():
            lines.append(r"\midrule")
            if title:
                lines.append(r"\emph{" + _tex_escape(title) + "}" + " &" * ncol + r" \\")
            for r in sec:
                lines.append(row(r.label, r.cells, math=r.kind in ("coef", "se")))
        lines.append(r"\bottomrule")
        if self.notes:
            note = " ".join(_tex_escape(n) for n in self.notes)
            lines.append(r"\multicolumn{" + str(ncol + 1) + r"}{l}{\footnotesize " + note
                         + r"} \\")
        lines.append(r"\end{tabular}")
        if table_env or caption or label:
            wrap = [r"\begin{table}[htbp]", r"\centering"]
            if caption:
                wrap.append(r"\caption{" + _tex_escape(caption) + "}")
            if label:
                wrap.append(r"\label{" + label + "}")
            lines = wrap + lines + [r"\end{table}"]
        return "\n".join(lines)

    # ------------------------------------------------------------------ html
    def to_html(self) -> str:
        """A self-contained HTML ``<table class="gravity-etable">`` with rules."""
        ncol = len(self.columns)
        e = html.escape
        top = ' style="border-top: 1px solid black"'
        out = ['<table class="gravity-etable" style="border-collapse: collapse">', "<thead>"]
        out.append(f'<tr style="border-top: 2px solid black"><th>{e(self.stub)}</th>'
                   + "".join(f'<th style="text-align: center">{e(c)}</th>' for c in self.columns)
                   + "</tr>")
        for r in self.header[1:]:
            out.append(f"<tr><td>{e(r.label)}</td>"
                       + "".join(f'<td style="text-align: center">{e(c)}</td>' for c in r.cells)
                       + "</tr>")
        out += ["</thead>", "<tbody>"]
        for title, sec in self._sections():
            first = True
            if title:
                out.append(f'<tr{top}><td colspan="{ncol + 1}"><em>{e(title)}</em></td></tr>')
                first = False
            for r in sec:
                style = top if first else ""
                first = False
                out.append(f"<tr{style}><td>{e(r.label)}</td>"
                           + "".join(f'<td style="text-align: center">{e(c)}</td>'
                                     for c in r.cells) + "</tr>")
        out.append("</tbody>")
        if self.notes:
            out.append(f'<tfoot><tr style="border-top: 2px solid black"><td colspan="{ncol + 1}">'
                       f"<small>{'<br>'.join(e(n) for n in self.notes)}</small></td></tr></tfoot>")
        out.append("</table>")
        return "\n".join(out)

    # ------------------------------------------------------------------ display
    def __str__(self) -> str:
        return self.to_markdown()

    def __repr__(self) -> str:
        return self.to_markdown()

    def _repr_html_(self) -> str:
        return self.to_html()

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


# ---------------------------------------------------------------------- helpers
def _md_escape(s: str) -> str:
    return s.replace("|", r"\|")


def _md_escape_note(s: str) -> str:
    return s.replace("*", r"\*")


_TEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                "^": r"\^{}", "<": r"\textless{}", ">": r"\textgreater{}"}


def _tex_escape(s: str) -> str:
    return "".join(_TEX_SPECIAL.get(ch, ch) for ch in s)


_NUM = re.compile(r"^(?P<open>\(?)(?P<num>-?[0-9][0-9,]*(?:\.[0-9]+)?|-?inf|nan)(?P<close>\)?)"
                  r"(?P<stars>\**)$")


def _tex_number(s: str) -> str:
    """``-1.002***`` -> ``$-1.002^{***}$``, ``(0.027)`` -> ``(0.027)``; else escaped."""
    if not s:
        return ""
    m = _NUM.match(s)
    if m is None:
        return _tex_escape(s)
    num = m["num"]
    core = f"${num}$" if num.startswith("-") else num
    if m["stars"]:
        core = f"${num}^{{{m['stars']}}}$"
    return m["open"] + core + m["close"]


def _fmt(x: float, digits: int) -> str:
    if x is None or not np.isfinite(x):
        return ""
    s = f"{x:.{digits}f}"
    if float(s) == 0.0:
        s = s.lstrip("-")
    return s


def _stars(p: float, stars: Sequence[float]) -> str:
    if not np.isfinite(p):
        return ""
    return "*" * sum(p < s for s in stars)


def _vcov_label(res: Any) -> str:
    v = str(getattr(res, "vcov_type", ""))
    if v.startswith("CRV1:"):
        return "Clustered (" + v.split(":", 1)[1].strip() + ")"
    return {"iid": "IID", "hetero": "Heteroskedasticity-robust"}.get(v, v)


def _fitstat(res: Any, key: str, digits: int) -> str:
    if key == "nobs":
        return f"{int(res.nobs):,}"
    if key == "vcov":
        return _vcov_label(res)
    if key == "n_clusters":
        g = tuple(getattr(res, "n_clusters", ()) or ())
        return " x ".join(f"{int(x):,}" for x in g)
    if key == "r2_within" and not getattr(res, "fe_names", ()):
        return ""
    val = getattr(res, key, None)
    if callable(val):
        val = val()
    if val is None:
        return ""
    return _fmt(float(val), digits)


def _match_any(name: str, patterns: Iterable[str]) -> bool:
    return any(re.search(p, name) for p in patterns)


# ---------------------------------------------------------------------- main
def etable(
    models: Any,
    labels: Mapping[str, str] | None = None,
    stat: str = "se",
    digits: int = 3,
    stars: Sequence[float] | None = (0.1, 0.05, 0.01),
    keep: Sequence[str] | None = None,
    drop: Sequence[str] | None = None,
    order: Sequence[str] | None = None,
    model_names: Sequence[str] | None = None,
    fitstats: Sequence[str] = DEFAULT_FITSTATS,
    digits_stats: int = 4,
    fe_rows: bool = True,
    notes: Sequence[str] | None = None,
) -> RegressionTable:
    """A regression table of several fitted models side by side (fixest's ``etable``).

    Parameters
    ----------
    models
        One :class:`~gravity.RegressionResults`, a sequence of them, a mapping
        ``{column name: results}``, or a :class:`~gravity.MultipleResults` (its
        successful fits).
    labels
        Display names for coefficients, fixed effects and dependent variables
        (``{"ln_DIST": "log distance"}``). ``(Intercept)`` shows as "Constant"
        unless relabelled.
    stat
        ``"se"`` (standard errors, default) or ``"t"`` (t/z statistics) in
        parentheses below each estimate.
    digits, digits_stats
        Decimals of coefficients/statistics and of R2-type fit statistics.
    stars
        p-value thresholds; a coefficient gets one star per threshold its p-value
        is below (fixest's default ``(0.1, 0.05, 0.01)``: ``*``, ``**``, ``***``).
        ``None`` or ``()`` for no stars.
    keep, drop
        Regular expressions (``re.search``) selecting coefficients to show/hide.
    order
        Coefficient names to put first, in that order; others follow in order of
        first appearance across models.
    model_names
        Column headers (default ``(1)``, ``(2)``, ... or the mapping's keys).
    fitstats
        Rows at the bottom, from :data:`FITSTATS`: ``nobs``, ``r2``, ``r2_within``,
        ``pseudo_r2``, ``loglik``, ``deviance``, ``n_clusters``, ``vcov``. A row whose
        cells are all empty is left out.
    fe_rows
        Show one Yes/No row per fixed effect.
    notes
        Extra lines below the table (the significance-code line is added
        automatically when stars are used).
    """
    if stat not in ("se", "t"):
        raise ValueError("stat must be 'se' or 't'")
    if isinstance(models, MultipleResults):  # a multiple estimation: its successful fits
        models = models.for_table()
    if isinstance(models, Mapping):
        names = [str(k) for k in models]
        fits = list(models.values())
    elif hasattr(models, "params") and hasattr(models, "vcov"):
        names, fits = ["(1)"], [models]
    else:
        fits = list(models)
        names = [f"({j + 1})" for j in range(len(fits))]
    if not fits:
        raise ValueError("etable needs at least one fitted model")
    if model_names is not None:
        if len(model_names) != len(fits):
            raise ValueError(f"model_names has {len(model_names)} names for {len(fits)} models")
        names = [str(n) for n in model_names]
    bad = [k for k in fitstats if k not in FITSTATS]
    if bad:
        raise ValueError(f"unknown fitstats {bad}; choose from {list(FITSTATS)}")
    lab = {**_DEFAULT_LABELS, **(dict(labels) if labels else {})}

    def L(name: str) -> str:  # noqa: N802
        return lab.get(name, name)

    thresholds = sorted(stars or (), reverse=True)

    # coefficient order: first appearance, then `order` first
    terms: list[str] = []
    for f in fits:
        for t in f.params.index:
            if t not in terms:
                terms.append(str(t))
    if keep:
        terms = [t for t in terms if _match_any(t, keep)]
    if drop:
        terms = [t for t in terms if not _match_any(t, drop)]
    if order:
        first = [t for t in order if t in terms]
        terms = first + [t for t in terms if t not in first]

    header = [
        _Row("", tuple(names)),
        _Row("Dependent var.", tuple(L(str(f.depvar)) for f in fits)),
        _Row("Estimator", tuple(_ESTIMATORS.get(str(f.model), str(f.model).upper())
                                for f in fits)),
    ]
    coef_rows: list[_Row] = []
    for t in terms:
        est, sec = [], []
        for f in fits:
            if t in f.params.index and np.isfinite(f.params[t]):
                b = float(f.params[t])
                s = float(f.bse[t]) if stat == "se" else float(f.tvalues[t])
                p = float(f.pvalues[t])
                est.append(_fmt(b, digits) + _stars(p, thresholds))
                sec.append(f"({_fmt(s, digits)})" if np.isfinite(s) else "")
            else:
                est.append("")
                sec.append("")
        coef_rows.append(_Row(L(t), tuple(est), "coef"))
        coef_rows.append(_Row("", tuple(sec), "se"))

    fe_out: list[_Row] = []
    if fe_rows:
        fes: list[str] = []
        for f in fits:
            for n in getattr(f, "fe_names", ()) or ():
                if n not in fes:
                    fes.append(str(n))
        for n in fes:
            fe_out.append(_Row(L(n), tuple("Yes" if n in (f.fe_names or ()) else "No"
                                           for f in fits)))

    stat_rows: list[_Row] = []
    for k in fitstats:
        d = 0 if k == "nobs" else (digits_stats if k in ("r2", "r2_within", "pseudo_r2")
                                   else digits)
        cells = tuple(_fitstat(f, k, d) for f in fits)
        if any(cells):
            stat_rows.append(_Row(FITSTATS[k], cells))

    note_lines: list[str] = []
    note_lines.append(("Standard errors" if stat == "se" else "t/z statistics")
                      + " in parentheses.")
    if thresholds:
        codes = ", ".join(f"{'*' * (j + 1)} p < {s:g}"
                          for j, s in reversed(list(enumerate(thresholds))))
        note_lines[-1] += " Signif. codes: " + codes + "."
    note_lines += list(notes or ())
    return RegressionTable(columns=tuple(names), header=header, coefs=coef_rows,
                           fixed_effects=fe_out, stats=stat_rows, notes=note_lines)
