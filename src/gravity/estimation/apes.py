r"""Average partial effects of binary models with fixed effects.

For a continuous regressor ``APE_k = n^{-1} sum_i beta_k f(eta_i)``; for a 0/1
regressor ``n^{-1} sum_i [F(eta_i | x_k = 1) - F(eta_i | x_k = 0)]`` (prior-weighted
means). Standard errors by the delta method in ``beta`` holding the estimated fixed
effects fixed (an approximation: it ignores the sampling variation of the fixed
effects and of the covariate average, unlike alpaca's ``getAPEs``); the APEs use the
bias-corrected ``beta`` and fixed effects when given a corrected fit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import EstimationError
from ..inference.delta import delta_method
from .results import BinaryResults, RegressionResults


def average_partial_effects(res: RegressionResults,
                            binary: Sequence[str] | None = None) -> pd.DataFrame:
    """Average partial effects with delta-method standard errors (module docstring).

    ``binary`` lists regressors treated as discrete 0/1 (default: every regressor
    whose values are only 0 and 1). Returns a tidy table (``estimate``,
    ``std_error``, ``statistic``, ``p_value``, ``conf_low``, ``conf_high``).
    """
    if not isinstance(res, BinaryResults):
        raise EstimationError("average partial effects are computed for logit, probit and "
                              f"cloglog fits, not {res.model.upper()}")
    r = res.record
    fam = r.family
    X = r.X
    names = list(r.names)
    base = r.fe_component + r.offset
    pw = r.prior_weights
    if binary is None:
        binary = [n for k, n in enumerate(names) if np.isin(X[:, k], (0.0, 1.0)).all()]

    def apes(beta_s: pd.Series) -> np.ndarray:
        beta = np.asarray(beta_s, dtype=np.float64)
        eta = base + X @ beta
        out = np.empty(len(names))
        dens = fam.mu_eta(eta)
        for k, n in enumerate(names):
            if n in binary:
                e0 = eta - X[:, k] * beta[k]
                diff = fam.inverse_link(e0 + beta[k]) - fam.inverse_link(e0)
                out[k] = pw @ diff / pw.sum()
            else:
                out[k] = beta[k] * (pw @ dens) / pw.sum()
        return out

    dm = delta_method(apes, res.params, res.vcov)
    ci = dm.conf_int()
    return pd.DataFrame({"estimate": dm.estimate, "std_error": dm.se,
                         "statistic": dm.zvalue, "p_value": dm.pvalue,
                         "conf_low": ci[:, 0], "conf_high": ci[:, 1]},
                        index=pd.Index(names, name="term"))
