"""gravity: gravity-model econometrics of international trade.

Estimators with high-dimensional fixed effects (:func:`ppml`, :func:`ols`),
fixest-style formulas and variance options, and tools to build and analyse
bilateral trade panels.
"""

from . import margins, simulate
from .distributed import estimate_many
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
from .reporting import etable
from .variables import add_output_expenditure, add_remoteness

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
    "margins",
    "simulate",
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
