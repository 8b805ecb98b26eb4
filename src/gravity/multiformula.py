"""Multiple estimation in the fixest grammar: one formula, many models.

A text-level expansion, applied before each single formula is parsed by
:mod:`gravity.formula` (so every single-formula feature works inside it):

* ``c(y1, y2) ~ x | fe``: one model per outcome;
* ``sw(a, b)`` (stepwise): one model per argument -- ``y ~ a``, ``y ~ b``;
* ``sw0(a, b)``: the same with the model without them first -- ``y ~ 1``, ``y ~ a``,
  ``y ~ b``;
* ``csw(a, b)`` (cumulative stepwise): ``y ~ a``, ``y ~ a + b``;
* ``csw0(a, b)``: ``y ~ 1``, ``y ~ a``, ``y ~ a + b``.

An argument may be a sum (``sw(x1, x2 + x3)``). As in fixest, the regressors and the
fixed effects may each hold one stepwise function, placed anywhere among the other
terms (``y ~ x1 + csw(x2, x3) | sw(fe1, fe1 + fe2)``); an empty step of the fixed
effects removes the ``|`` part. Models come in the order outcome, fixed effects,
regressors (the last varies fastest), each with its position in every dimension
(:class:`ModelSpec`), as fixest's ``models()``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import FormulaError
from .formula import split_top

_STEPWISE = re.compile(r"(?<![A-Za-z0-9_.])(csw0|sw0|csw|sw)\s*\(")
_MULTI_LHS = re.compile(r"^\s*c\s*\((.*)\)\s*$", re.DOTALL)
STEPWISE_FUNCTIONS = ("sw", "sw0", "csw", "csw0")


@dataclass(frozen=True)
class ModelSpec:
    """One single formula of a multiple estimation and its place in the expansion.

    ``lhs``/``rhs``/``fixef`` are the outcome, regressor part and fixed-effect part
    as written (``fixef`` empty without fixed effects); ``id_lhs``, ``id_rhs`` and
    ``id_fixef`` their positions in the expansion.
    """

    formula: str
    lhs: str
    rhs: str
    fixef: str
    id_lhs: int = 0
    id_rhs: int = 0
    id_fixef: int = 0


def split_arguments(text: str) -> list[str]:
    """Split on top-level commas (not inside parentheses or brackets)."""
    return split_top(text, ",")


def _closing(text: str, start: int) -> int:
    """Position of the parenthesis closing the one at ``start``."""
    depth = 0
    for pos in range(start, len(text)):
        if text[pos] == "(":
            depth += 1
        elif text[pos] == ")":
            depth -= 1
            if depth == 0:
                return pos
    raise FormulaError(f"unbalanced parentheses in '{text}'")


def _join(*parts: str) -> str:
    """Join formula terms with ' + ', dropping empty ones and stray '+' signs."""
    terms = [p.strip().strip("+").strip() for p in parts]
    return " + ".join(t for t in terms if t)


def expand_part(text: str, where: str) -> list[str]:
    """Expand the one stepwise function of a formula part (regressors or fixed
    effects) into the list of parts it stands for (the part itself when it has none)."""
    hits = list(_STEPWISE.finditer(text))
    if not hits:
        return [text.strip()]
    if len(hits) > 1:
        raise FormulaError(
            f"at most one stepwise function (sw, sw0, csw, csw0) per part, got "
            f"{len(hits)} in the {where} '{text.strip()}'")
    m = hits[0]
    fun = m.group(1)
    open_pos = m.end() - 1
    close = _closing(text, open_pos)
    args = split_arguments(text[open_pos + 1:close])
    if any(not a for a in args):
        raise FormulaError(f"empty argument in {fun}(...) of the {where} '{text.strip()}'")
    before, after = text[:m.start()], text[close + 1:]
    if before.strip() and not before.rstrip().endswith("+"):
        raise FormulaError(f"{fun}(...) must be a term of its own (joined by '+') in the "
                           f"{where} '{text.strip()}'")
    if after.strip() and not after.lstrip().startswith("+"):
        raise FormulaError(f"{fun}(...) must be a term of its own (joined by '+') in the "
                           f"{where} '{text.strip()}'")
    if fun.startswith("csw"):
        steps = [_join(*args[:k + 1]) for k in range(len(args))]
    else:
        steps = [_join(a) for a in args]
    if fun.endswith("0"):
        steps = [""] + steps
    return [_join(before, s, after) for s in steps]


def expand_outcomes(lhs: str) -> list[str]:
    """``c(y1, y2)`` to ``["y1", "y2"]``; a single outcome to itself."""
    m = _MULTI_LHS.match(lhs)
    if m is None:
        return [lhs.strip()]
    outs = split_arguments(m.group(1))
    if any(not o for o in outs):
        raise FormulaError(f"empty outcome in '{lhs.strip()}'")
    if len(set(outs)) != len(outs):
        raise FormulaError(f"an outcome appears twice in '{lhs.strip()}'")
    return outs


def is_multiple(formula: str) -> bool:
    """Whether ``formula`` uses ``c(...)`` outcomes or a stepwise function."""
    if not isinstance(formula, str) or formula.count("~") != 1:
        return False
    lhs, rhs = formula.split("~")
    return bool(_MULTI_LHS.match(lhs)) or bool(_STEPWISE.search(rhs))


def expand_formula(formula: str) -> list[ModelSpec]:
    """All single formulas of a multiple-estimation formula, in the order outcome,
    fixed effects, regressors (see the module docstring).

    Raises
    ------
    FormulaError
        No ``~``, more than one stepwise function in a part, empty arguments,
        unbalanced parentheses, or a model with neither regressors nor fixed effects.
    """
    if not isinstance(formula, str):
        raise FormulaError(f"formula must be a string, got {type(formula).__name__}")
    if formula.count("~") != 1:
        raise FormulaError(f"formula must contain exactly one '~': '{formula}'")
    lhs, rhs = formula.split("~")
    outcomes = expand_outcomes(lhs)
    depth = 0
    bar = -1
    for pos, ch in enumerate(rhs):  # the '|' outside parentheses
        depth += ch == "("
        depth -= ch == ")"
        if ch == "|" and depth == 0:
            if bar >= 0:
                raise FormulaError(f"formula has more than one '|': '{formula}'")
            bar = pos
    reg_part, fe_part = (rhs, None) if bar < 0 else (rhs[:bar], rhs[bar + 1:])
    regs = expand_part(reg_part, "regressors")
    fes = [""] if fe_part is None else expand_part(fe_part, "fixed effects")
    if fe_part is not None and fes == [""]:
        raise FormulaError(f"nothing after '|' in '{formula}'")
    out: list[ModelSpec] = []
    for i_l, y in enumerate(outcomes):
        for i_f, fe in enumerate(fes):
            for i_r, x in enumerate(regs):
                x = x or "1"  # the empty step: intercept only (absorbed with fixed effects)
                text = f"{y} ~ {x}" + (f" | {fe}" if fe else "")
                out.append(ModelSpec(formula=text, lhs=y, rhs=x, fixef=fe,
                                     id_lhs=i_l, id_rhs=i_r, id_fixef=i_f))
    return out
