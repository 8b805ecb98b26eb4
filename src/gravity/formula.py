"""Parser for the fixest formula grammar ``y ~ x1 + x2 | fe1 + fe2^fe3``.

The left of ``~`` is the outcome: a column name or an expression (``log(trade)``,
evaluated by :mod:`formulaic`). The right holds regressors, then, after ``|``, the
fixed effects. Regressors are column names, expressions understood by
:mod:`formulaic` (``log(gdp)``, ``a:b``, ``C(region)``, ``I(x**2)``), or the fixest
functions

* ``i(var)``, ``i(var, ref=r)``: one dummy per level of ``var`` (less the reference
  levels ``r``: a value, or several as ``ref=c(a, b)`` / ``ref=[a, b]``), named
  ``var::level``; ``i(var, x)``: the numeric ``x`` interacted with those dummies
  (``var::level:x``); ``i(var, i.f2)`` / ``i(var, f2, ref2=)``: the interaction of two
  factors (``var::a:f2::b``); ``keep=`` keeps only the listed levels (event studies);
* ``l(x, k)`` and ``f(x, k)``: the lag and lead of column ``x`` by ``k`` periods
  (``k`` an integer or a range ``a:b``) within the panel declared by
  ``panel_id=(unit, time)``; named ``l(x, k)``, ``f(x, k)`` and ``x`` for ``k = 0``.

``0`` or ``-1`` removes the intercept of a model without fixed effects. A fixed
effect is a column name or an interaction ``a^b`` (every combination of values is
one group), optionally with varying slopes: ``fe[x]`` adds the fixed effect ``fe``
and one slope of ``x`` per group of ``fe`` (pair-specific trends: ``pair[year]``);
``fe[[x]]`` adds the slopes only; ``fe[x1, x2]`` several slopes. Models with fixed
effects never have an intercept (it is absorbed).

Functions the grammar does not know raise :class:`FormulaError` naming them.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from .errors import FormulaError

_NAME = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")
_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)\s*\(")
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_STRING = re.compile(r"'[^']*'|\"[^\"]*\"")
_SLOPE = re.compile(r"^(?P<fe>[^\[\]]+)\[(?P<double>\[)?(?P<vars>[^\[\]]+)\]?\]$")
#: fixest functions for multiple estimation, handled before the formula is parsed
MULTIPLE_ESTIMATION = ("sw", "csw", "sw0", "csw0", "mvsw")
#: functions :mod:`formulaic` evaluates (its transforms and the usual numpy ones)
KNOWN_FUNCTIONS = frozenset({
    "C", "I", "Q", "log", "log10", "log2", "log1p", "exp", "expm1", "sqrt", "abs",
    "center", "scale", "poly", "bs", "cs", "cc", "cr", "hashed", "lag", "contr",
    "T", "S", "np", "sin", "cos", "tan", "power", "square", "sign", "round",
    "floor", "ceil", "float", "int", "str", "min", "max", "Treatment", "Sum", "Poly",
    "Diff", "Helmert",
})
#: the fixest functions this grammar implements itself
GRAMMAR_FUNCTIONS = frozenset({"i", "l", "f"})


@dataclass(frozen=True)
class ITerm:
    """An ``i()`` term: dummies of ``var`` (interacted with ``var2``)."""

    var: str
    var2: str | None = None
    var2_factor: bool = False
    ref: tuple[object, ...] = ()
    ref2: tuple[object, ...] = ()
    keep: tuple[object, ...] = ()
    raw: str = ""


@dataclass(frozen=True)
class LagTerm:
    """``l(x, k)`` / ``f(x, k)``: shifts ``k`` (positive: lags, negative: leads)."""

    var: str
    shifts: tuple[int, ...]
    raw: str = ""


@dataclass(frozen=True)
class SlopeTerm:
    """Varying slopes ``fe[x]`` (``with_fe``) or ``fe[[x]]`` (slopes only)."""

    fe: tuple[str, ...]
    variables: tuple[str, ...]
    with_fe: bool

    @property
    def label(self) -> str:
        inner = ", ".join(self.variables)
        fe = "^".join(self.fe)
        return f"{fe}[{inner}]" if self.with_fe else f"{fe}[[{inner}]]"


@dataclass(frozen=True)
class Formula:
    """A parsed formula.

    Attributes
    ----------
    outcome : str
        The outcome as written: a column name or an expression (``log(trade)``).
    regressors : tuple[str, ...]
        Regressor terms in the order written (column names or expressions).
    fixed_effects : tuple[tuple[str, ...], ...]
        One tuple of column names per fixed-effect term (``("exporter", "year")``
        for ``exporter^year``), including those of ``fe[x]`` slope terms.
    intercept : bool
        Whether the model without fixed effects includes an intercept.
    raw : str
        The formula as given.
    slopes : tuple[SlopeTerm, ...]
        Varying-slope terms (``fe[x]``, ``fe[[x]]``).
    """

    outcome: str
    regressors: tuple[str, ...]
    fixed_effects: tuple[tuple[str, ...], ...] = field(default_factory=tuple)
    intercept: bool = True
    raw: str = ""
    slopes: tuple[SlopeTerm, ...] = ()

    @property
    def fe_names(self) -> tuple[str, ...]:
        """Fixed-effect terms as written (``exporter^year``)."""
        return tuple("^".join(t) for t in self.fixed_effects)

    @property
    def simple_regressors(self) -> bool:
        """True when every regressor is a plain column name."""
        return all(_NAME.match(r) for r in self.regressors)

    @property
    def outcome_is_column(self) -> bool:
        return bool(_NAME.match(self.outcome))

    @property
    def i_terms(self) -> tuple[ITerm, ...]:
        """The ``i()`` terms among the regressors."""
        return tuple(t for t in (special_term(r) for r in self.regressors)
                     if isinstance(t, ITerm))

    @property
    def has_lags(self) -> bool:
        return any(isinstance(special_term(r), LagTerm) for r in self.regressors)

    def columns(self) -> set[str]:
        """Column names referenced (outcome, regressors, fixed effects, slopes);
        names inside expressions are included."""
        cols = set(expression_names(self.outcome))
        for r in self.regressors:
            t = special_term(r)
            if isinstance(t, ITerm):
                cols.add(t.var)
                if t.var2 is not None:
                    cols.add(t.var2)
            elif isinstance(t, LagTerm):
                cols.add(t.var)
            else:
                cols.update(expression_names(r))
        for term in self.fixed_effects:
            cols.update(term)
        for s in self.slopes:
            cols.update(s.fe)
            cols.update(s.variables)
        return cols


def is_name(text: str) -> bool:
    """True when ``text`` is a plain column name (no function, no operator)."""
    return bool(_NAME.match(text))


def expression_names(expr: str) -> set[str]:
    """Names (not functions, not strings, not keywords) used in an expression."""
    if _NAME.match(expr):
        return {expr}
    body = _STRING.sub("''", expr)
    names = set()
    for m in _TOKEN.finditer(body):
        before = body[m.start() - 1] if m.start() else " "
        after = body[m.end():].lstrip()[:1]
        if after == "(" or before.isdigit() or before == "=" or after == "=":
            continue  # a function, part of a number (1e5), a keyword argument
        names.add(m.group(0))
    return {n for n in names if not n.startswith("np.") and n not in ("np", "True", "False",
                                                                      "None")}


def check_functions(expr: str, formula: str) -> None:
    """:class:`FormulaError` naming a function the grammar does not know."""
    for name in _CALL.findall(_STRING.sub("''", expr)):
        if name in MULTIPLE_ESTIMATION:
            raise FormulaError(
                f"function '{name}()' in '{formula}': multiple estimation must be expanded "
                "before a single fit (use the multiple-estimation interface)")
        if name in GRAMMAR_FUNCTIONS or name in KNOWN_FUNCTIONS or name.startswith("np."):
            continue
        raise FormulaError(
            f"unknown function '{name}' in '{expr}' (formula '{formula}'): the grammar "
            "knows i(), l(), f(), fe[x] and formulaic's transforms (log, exp, C, I, ...)")


def split_top(text: str, sep: str) -> list[str]:
    """Split on a separator character at parenthesis/bracket depth zero."""
    parts: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
            if depth < 0:
                raise FormulaError(f"unbalanced parentheses in '{text}'")
        if ch == sep and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    if depth != 0:
        raise FormulaError(f"unbalanced parentheses in '{text}'")
    parts.append("".join(cur).strip())
    return parts


def _split_terms(text: str) -> list[str]:
    """Split on top-level ``+`` (not inside parentheses)."""
    return split_top(text, "+")


def _literal(text: str, term: str) -> tuple[object, ...]:
    """A literal argument: a value, ``c(a, b)`` or ``[a, b]`` (as a tuple)."""
    t = text.strip()
    if t.startswith("c(") and t.endswith(")"):
        t = "[" + t[2:-1] + "]"
    try:
        value = ast.literal_eval(t)
    except (ValueError, SyntaxError):
        if _NAME.match(t):  # a bare level name, as R users write it
            return (t,)
        raise FormulaError(f"cannot read the value '{text}' in '{term}'") from None
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return (value,)


def _call(term: str) -> tuple[str, list[str]] | None:
    m = re.match(r"^([A-Za-z_][A-Za-z0-9_.]*)\s*\((.*)\)$", term.strip(), re.S)
    if m is None:
        return None
    name, body = m.group(1), m.group(2)
    try:
        args = split_top(body, ",") if body.strip() else []
    except FormulaError:
        return None
    # the parentheses must close at the end: "f(a) + g(b)" is not one call
    depth = 0
    for ch in body:
        depth += ch == "("
        depth -= ch == ")"
        if depth < 0:
            return None
    return name, args


def _shifts(text: str, term: str) -> tuple[int, ...]:
    t = text.strip()
    try:
        if ":" in t:
            a, b = (int(ast.literal_eval(p.strip())) for p in t.split(":"))
            step = 1 if b >= a else -1
            return tuple(range(a, b + step, step))
        return (int(ast.literal_eval(t)),)
    except (ValueError, SyntaxError, TypeError):
        raise FormulaError(f"the number of periods in '{term}' must be an integer or a "
                           f"range a:b, got '{text}'") from None


def special_term(term: str) -> ITerm | LagTerm | None:
    """The ``i()``/``l()``/``f()`` term written as ``term``, or None for other terms."""
    call = _call(term)
    if call is None or call[0] not in GRAMMAR_FUNCTIONS:
        return None
    name, args = call
    positional = [a for a in args if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*\s*=", a)]
    keywords = dict(
        (k.strip(), v.strip()) for k, v in
        (a.split("=", 1) for a in args if re.match(r"^[A-Za-z_][A-Za-z0-9_]*\s*=", a)))
    if name in ("l", "f"):
        unknown = set(keywords) - {"k", "lag", "lead"}
        if unknown or not 1 <= len(positional) <= 2 or not _NAME.match(positional[0]):
            raise FormulaError(f"'{term}': write {name}(column, k) with a column name and "
                               "an integer (or a range a:b) of periods")
        k_text = positional[1] if len(positional) == 2 else next(iter(keywords.values()), "1")
        shifts = _shifts(k_text, term)
        if name == "f":
            shifts = tuple(-s for s in shifts)
        return LagTerm(positional[0], shifts, term)
    allowed = {"ref", "ref2", "keep", "var"}
    unknown = set(keywords) - allowed
    if unknown:
        raise FormulaError(f"'{term}': i() has no argument '{sorted(unknown)[0]}' (use ref=, "
                           "ref2=, keep=)")
    if not positional or len(positional) > 3:
        raise FormulaError(f"'{term}': write i(var), i(var, ref=r) or i(var, x)")
    var = positional[0]
    var2 = positional[1] if len(positional) >= 2 else keywords.get("var")
    ref = _literal(keywords["ref"], term) if "ref" in keywords else ()
    if len(positional) == 3 and "ref" not in keywords:
        ref = _literal(positional[2], term)
    var2_factor = False
    if var2 is not None and var2.startswith("i."):
        var2, var2_factor = var2[2:], True
    if "ref2" in keywords:
        var2_factor = True
    for v in (var, var2):
        if v is not None and not _NAME.match(v):
            raise FormulaError(f"'{term}': i() takes column names, got '{v}'")
    return ITerm(var=var, var2=var2, var2_factor=var2_factor, ref=ref,
                 ref2=_literal(keywords["ref2"], term) if "ref2" in keywords else (),
                 keep=_literal(keywords["keep"], term) if "keep" in keywords else (),
                 raw=term)


def _fixed_effect(term: str, formula: str) -> tuple[tuple[str, ...], SlopeTerm | None]:
    m = _SLOPE.match(term)
    slope = None
    body = term
    if m is not None:
        double = m.group("double") is not None
        if double != term.endswith("]]"):
            raise FormulaError(f"unbalanced brackets in the slope term '{term}'")
        body = m.group("fe").strip()
        variables = tuple(v.strip() for v in m.group("vars").split(","))
        if any(not _NAME.match(v) for v in variables):
            raise FormulaError(f"varying slopes '{term}' in '{formula}': the slopes must "
                               "be column names (fe[x] or fe[[x1, x2]])")
        slope = (variables, not double)
    elif "[" in term or "]" in term:
        raise FormulaError(f"invalid varying-slope term '{term}' in '{formula}': write "
                           "fe[x] (fixed effect and slope) or fe[[x]] (slope only)")
    cols = tuple(c.strip() for c in body.split("^"))
    if any(not _NAME.match(c) for c in cols):
        raise FormulaError(
            f"invalid fixed effect '{term}' in '{formula}': use column names "
            "joined by '^' (e.g. exporter^year)"
        )
    if slope is None:
        return cols, None
    return cols, SlopeTerm(cols, slope[0], slope[1])


def parse_formula(formula: str) -> Formula:
    """Parse ``y ~ x1 + x2 | fe1 + fe2^fe3`` into a :class:`Formula`.

    Raises
    ------
    FormulaError
        If the formula has no ``~``, an empty term, more than one ``|``, an invalid
        fixed-effect name or a function the grammar does not know.
    """
    if not isinstance(formula, str):
        raise FormulaError(f"formula must be a string, got {type(formula).__name__}")
    if formula.count("~") != 1:
        raise FormulaError(f"formula must contain exactly one '~': '{formula}'")
    lhs, rhs = (s.strip() for s in formula.split("~"))
    if not lhs:
        raise FormulaError(f"formula has no outcome on the left of '~': '{formula}'")
    if not _NAME.match(lhs):
        check_functions(lhs, formula)
        if len(_split_terms(lhs)) > 1 or "(" not in lhs:
            raise FormulaError(
                f"the outcome must be a column name or one expression such as log(y) or "
                f"I(y / 1000), got '{lhs}' (several outcomes need the multiple-estimation "
                "interface)")
        if special_term(lhs) is not None:
            raise FormulaError(f"'{lhs}' cannot be the outcome: create the column first")
    parts = split_top(rhs, "|")
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
            if special_term(term) is None:  # i(), l(), f() are validated there
                check_functions(term, formula)
            regressors.append(term)

    fixed_effects: list[tuple[str, ...]] = []
    slopes: list[SlopeTerm] = []
    if len(parts) == 2:
        if not fe_part or fe_part == "0":
            raise FormulaError(f"nothing after '|' in '{formula}'")
        for term in _split_terms(fe_part):
            cols, slope = _fixed_effect(term, formula)
            if slope is not None:
                slopes.append(slope)
                if not slope.with_fe:
                    continue
            if cols in fixed_effects:
                raise FormulaError(f"fixed effect '{term}' appears twice in '{formula}'")
            fixed_effects.append(cols)
        intercept = False
    if not regressors and not fixed_effects and not slopes and not intercept:
        raise FormulaError(f"formula has no regressors: '{formula}'")
    return Formula(
        outcome=lhs,
        regressors=tuple(regressors),
        fixed_effects=tuple(fixed_effects),
        intercept=intercept,
        raw=formula,
        slopes=tuple(slopes),
    )
