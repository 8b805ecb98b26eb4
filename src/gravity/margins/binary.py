"""Binary-choice models for the extensive margin: aliases of the estimators in
:mod:`gravity.estimation` (``gv.margins.logit`` is ``gv.estimation.logit``).

See :mod:`gravity.estimation.feglm` (logit, probit, cloglog on the shared IRLS
engine), :mod:`gravity.estimation.bias` (Fernandez-Val and Weidner 2016; Hinz,
Stammann and Wanner 2020) and :mod:`gravity.estimation.apes`.
"""

from ..estimation import (
    BinaryResults,
    average_partial_effects,
    bias_correct,
    bias_term,
    cloglog,
    feglm_binary,
    logit,
    lpm,
    probit,
)

__all__ = ["feglm_binary", "logit", "probit", "cloglog", "lpm", "bias_correct", "bias_term",
           "average_partial_effects", "BinaryResults"]
