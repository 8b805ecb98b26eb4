"""The collinearity screen of the first IRLS step (issue 13).

The first step demeans the regressors loosely and runs the exact collinearity check
(regressors demeaned to 1e-8) only when the screen finds a regressor near collinearity.
Oracle: the same fit with the screen's tolerance set to the exact one (the previous
behaviour), over regressors ever closer to being absorbed by a fixed effect or to
another regressor: the same regressors dropped, the same warnings, the same
coefficients (1e-8) and standard errors (1e-6 relative)."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import gravity


def _panel(eps: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 4000
    df = pd.DataFrame({"e": rng.integers(0, 40, n), "i": rng.integers(0, 40, n),
                       "x1": rng.normal(size=n)})
    # x2: an exporter-level variable plus eps noise (absorbed by e as eps -> 0)
    df["x2"] = rng.normal(size=40)[df["e"]] + eps * rng.normal(size=n)
    # x3: x1 plus eps noise (collinear with x1 as eps -> 0)
    df["x3"] = df["x1"] + eps * rng.normal(size=n)
    df["y"] = rng.poisson(np.exp(0.3 * df["x1"] + 0.1 * df["x2"]))
    return df


def _fit(df: pd.DataFrame, family: str) -> tuple[object, list[str]]:
    with warnings.catch_warnings(record=True) as log:
        warnings.simplefilter("always")
        fit = (gravity.ppml if family == "ppml" else gravity.ols)(
            "y ~ x1 + x2 + x3 | e + i", df, vcov="hetero")
    return fit, sorted(str(w.message) for w in log if "dropped" in str(w.message))


@pytest.mark.parametrize("eps", [1e-1, 1e-3, 1e-5, 1e-7, 0.0])
@pytest.mark.parametrize("seed", [0, 1])
def test_screen_gives_the_exact_checks_answer(eps: float, seed: int, monkeypatch) -> None:
    df = _panel(eps, seed)
    fast, fast_msgs = _fit(df, "ppml")
    irls_module = sys.modules["gravity.estimation.irls"]
    monkeypatch.setattr(irls_module, "SCREEN_DEMEAN_TOL", irls_module.COLLINEARITY_DEMEAN_TOL)
    exact, exact_msgs = _fit(df, "ppml")
    assert fast_msgs == exact_msgs
    assert list(fast.params.index) == list(exact.params.index)
    np.testing.assert_allclose(fast.params.to_numpy(), exact.params.to_numpy(), rtol=0,
                               atol=1e-8 * max(1.0, float(np.abs(exact.params).max())))
    np.testing.assert_allclose(fast.bse.to_numpy(), exact.bse.to_numpy(), rtol=1e-6)
