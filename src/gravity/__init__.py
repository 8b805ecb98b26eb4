"""gravity: gravity-model econometrics of international trade.

Estimators with high-dimensional fixed effects (:func:`ppml`, :func:`ols`),
fixest-style formulas and variance options, and tools to build and analyse
bilateral trade panels.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

from .errors import (
    CollinearityWarning,
    ConvergenceError,
    ConvergenceWarning,
    EstimationError,
    FormulaError,
    GravityError,
    InputError,
    MissingColumnError,
    MissingValueError,
    NegativeValueError,
    SeparationWarning,
)

if TYPE_CHECKING:  # the names below load on first use (PEP 562): ``import gravity`` is light
    from . import ge, margins, simulate
    from .distributed import estimate_many
    from .estimation import (
        BinaryResults,
        FailedFit,
        LinearResults,
        MultipleResults,
        PoissonResults,
        RegressionResults,
        cloglog,
        feglm,
        logit,
        lpm,
        ols,
        ppml,
        probit,
    )
    from .inference import delta_method, ssc
    from .panel import build_panel, read_panel, write_panel
    from .reporting import etable, iplot
    from .variables import add_output_expenditure, add_remoteness

#: public name -> submodule that defines it (imported on first access)
_LAZY = {
    **{name: ".estimation" for name in (
        "BinaryResults", "LinearResults", "PoissonResults", "RegressionResults", "cloglog",
        "feglm", "logit", "lpm", "ols", "ppml", "probit", "FailedFit", "MultipleResults")},
    "estimate_many": ".distributed",
    "delta_method": ".inference", "ssc": ".inference",
    "build_panel": ".panel", "read_panel": ".panel", "write_panel": ".panel",
    "etable": ".reporting", "iplot": ".reporting",
    "add_output_expenditure": ".variables", "add_remoteness": ".variables",
}
_SUBMODULES = ("ge", "margins", "simulate")


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES or (not name.startswith("_") and name not in _LAZY
                               and importlib.util.find_spec(f"{__name__}.{name}") is not None):
        return importlib.import_module(f".{name}", __name__)  # e.g. gv.reporting
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gravity' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(_SUBMODULES))


__version__ = "0.1.0"

__all__ = [
    "ppml",
    "ols",
    "estimate_many",
    "MultipleResults",
    "FailedFit",
    "feglm",
    "logit",
    "probit",
    "cloglog",
    "lpm",
    "LinearResults",
    "PoissonResults",
    "BinaryResults",
    "etable",
    "iplot",
    "margins",
    "simulate",
    "ge",
    "build_panel",
    "read_panel",
    "write_panel",
    "add_output_expenditure",
    "add_remoteness",
    "ssc",
    "delta_method",
    "RegressionResults",
    "GravityError",
    "InputError",
    "MissingColumnError",
    "MissingValueError",
    "NegativeValueError",
    "FormulaError",
    "EstimationError",
    "ConvergenceError",
    "ConvergenceWarning",
    "SeparationWarning",
    "CollinearityWarning",
]
