"""Parser for the fixest formula grammar ``y ~ x1 + x2 | fe1 + fe2^fe3``.

The left of ``~`` is the outcome; the right holds regressors, then, after ``|``,
the fixed effects. A fixed effect is a column name or an interaction of columns
written ``a^b`` (every combination of values is one group). Regressors are column
names or expressions understood by :mod:`formulaic` (``log(gdp)``, ``a:b``,
``C(region)``, ``I(x**2)``); ``0`` or ``-1`` removes the intercept of a model
without fixed effects. Models with fixed effects never have an intercept (it is
absorbed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import FormulaError

_NAME = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")


@dataclass(frozen=True)
class Formula:
    """A parsed formula.

    Attributes
    ----------
    outcome : str
        Name of the outcome column.
    regressors : tuple[str, ...]
        Regressor terms in the order written (column names or expressions).
    fixed_effects : tuple[tuple[str, ...], ...]
        One tuple of column names per fixed-effect term (``("exporter", "year")``
        for ``exporter^year``).
    intercept : bool
        Whether the model without fixed effects includes an intercept.
    raw : str
        The formula as given.
    """

    outcome: str
    regressors: tuple[str, ...]
    fixed_effects: tuple[tuple[str, ...], ...] = field(default_factory=tuple)
    intercept: bool = True
    raw: str = ""

    @property
    def fe_names(self) -> tuple[str, ...]:
        """Fixed-effect terms as written (``exporter^year``)."""
        return tuple("^".join(t) for t in self.fixed_effects)

    @property
    def simple_regressors(self) -> bool:
        """True when every regressor is a plain column name."""
        return all(_NAME.match(r) for r in self.regressors)

    def columns(self) -> set[str]:
        """Plain column names referenced (outcome, simple regressors, fixed effects)."""
        cols = {self.outcome}
        cols.update(r for r in self.regressors if _NAME.match(r))
        for term in self.fixed_effects:
            cols.update(term)
        return cols


def _split_terms(text: str) -> list[str]:
    """Split on top-level ``+`` (not inside parentheses)."""
    terms: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise FormulaError(f"unbalanced parentheses in '{text}'")
        if ch == "+" and depth == 0:
            terms.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    if depth != 0:
        raise FormulaError(f"unbalanced parentheses in '{text}'")
    terms.append("".join(cur).strip())
    return terms


def parse_formula(formula: str) -> Formula:
    """Parse ``y ~ x1 + x2 | fe1 + fe2^fe3`` into a :class:`Formula`.

    Raises
    ------
    FormulaError
        If the formula has no ``~``, an empty term, more than one ``|``, or an
        invalid fixed-effect name.
    """
    if not isinstance(formula, str):
        raise FormulaError(f"formula must be a string, got {type(formula).__name__}")
    if formula.count("~") != 1:
        raise FormulaError(f"formula must contain exactly one '~': '{formula}'")
    lhs, rhs = (s.strip() for s in formula.split("~"))
    if not lhs:
        raise FormulaError(f"formula has no outcome on the left of '~': '{formula}'")
    if not _NAME.match(lhs):
        raise FormulaError(
            f"the outcome must be a column name, got '{lhs}' (create the column first)"
        )
    parts = rhs.split("|")
    if len(parts) > 2:
        raise FormulaError(f"formula has more than one '|': '{formula}'")
    reg_part = parts[0].strip()
    fe_part = parts[1].strip() if len(parts) == 2 else ""

    intercept = True
    regressors: list[str] = []
    if reg_part:
        for term in _split_terms(reg_part):
            if term == "":
                raise FormulaError(f"empty regressor term in '{formula}' (a stray '+'?)")
            if term in ("1",):
                continue
            if term in ("0", "-1"):
                intercept = False
                continue
            if term.endswith("- 1") or term.endswith("-1"):
                intercept = False
                term = term.rsplit("-", 1)[0].strip()
            if term in regressors:
                raise FormulaError(f"regressor '{term}' appears twice in '{formula}'")
            regressors.append(term)

    fixed_effects: list[tuple[str, ...]] = []
    if len(parts) == 2:
        if not fe_part or fe_part == "0":
            raise FormulaError(f"nothing after '|' in '{formula}'")
        for term in _split_terms(fe_part):
            cols = tuple(c.strip() for c in term.split("^"))
            if any(not _NAME.match(c) for c in cols):
                raise FormulaError(
                    f"invalid fixed effect '{term}' in '{formula}': use column names "
                    "joined by '^' (e.g. exporter^year)"
                )
            if cols in fixed_effects:
                raise FormulaError(f"fixed effect '{term}' appears twice in '{formula}'")
            fixed_effects.append(cols)
        intercept = False
    if not regressors and not fixed_effects and not intercept:
        raise FormulaError(f"formula has no regressors: '{formula}'")
    return Formula(
        outcome=lhs,
        regressors=tuple(regressors),
        fixed_effects=tuple(fixed_effects),
        intercept=intercept,
        raw=formula,
    )
