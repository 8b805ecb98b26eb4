"""The no-separation certificate that lets the default checks stop early: it must never
hide a separated observation, and it must hold at the first step on a panel without
separation (so that the checks cost one rectifier step)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import gravity as gv
from gravity.estimation.separation import MAX_DUMMY_COLUMNS, relu_separation
from gravity.hdfe import FixedEffects


def _panel(seed: int = 0, c: int = 50, t: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ei, ej = np.nonzero(~np.eye(c, dtype=bool))
    p = ei.size
    year = np.tile(np.arange(t), p)
    pair = np.repeat(np.arange(p), t)
    x = rng.normal(size=p * t)
    eta = rng.normal(size=c)[np.repeat(ei, t)] + rng.normal(size=c)[np.repeat(ej, t)] \
        + 0.5 * rng.normal(size=p)[pair] - 0.2 * x + 0.5
    df = pd.DataFrame({"exp_year": np.repeat(ei, t) * t + year,
                       "imp_year": np.repeat(ej, t) * t + year, "pair": pair, "x": x,
                       "y": rng.poisson(np.exp(eta)).astype(float)})
    # every pair keeps a positive flow: no fixed-effect group is all zero
    first = np.flatnonzero(year == 0)
    df.loc[first, "y"] = np.maximum(df.loc[first, "y"], 1.0)
    return df


FORMULA = "y ~ x + d | exp_year + imp_year + pair"


def test_panel_is_beyond_the_exact_programme():
    df = _panel()
    levels = sum(df[c].nunique() for c in ("exp_year", "imp_year", "pair"))
    assert levels > MAX_DUMMY_COLUMNS  # the rectifier path, not the exact LP


def test_certificate_holds_at_the_first_step_without_separation():
    df = _panel()
    zero = df["y"].to_numpy() == 0
    assert zero.mean() > 0.1
    fe = FixedEffects([df[c].to_numpy() for c in ("exp_year", "imp_year", "pair")])
    sep, iterations, ok = relu_separation(df[["x"]].to_numpy(), df["y"].to_numpy(), fe)
    assert ok and iterations == 1 and not sep.any()


@pytest.mark.parametrize("n_planted", [1, 5])
def test_planted_separation_is_found_through_the_certificate_path(n_planted):
    df = _panel(seed=n_planted)
    rng = np.random.default_rng(10 + n_planted)
    zero_rows = np.flatnonzero(df["y"].to_numpy() == 0)
    planted = rng.choice(zero_rows, n_planted, replace=False)
    df["d"] = 0.0
    df.loc[planted, "d"] = rng.uniform(0.5, 2.0, n_planted)  # z = d separates them
    fe = FixedEffects([df[c].to_numpy() for c in ("exp_year", "imp_year", "pair")])
    sep, _, ok = relu_separation(df[["x", "d"]].to_numpy(), df["y"].to_numpy(), fe)
    assert ok and set(np.flatnonzero(sep)) == set(planted)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = gv.ppml(FORMULA, df, separation=("fe", "relu"))
        clean = gv.ppml("y ~ x | exp_year + imp_year + pair", df.drop(index=planted))
    assert set(planted) <= set(fit.separated)
    assert "d" not in fit.params.index or abs(fit.params["d"]) < 1e6
    assert fit.params["x"] == pytest.approx(clean.params["x"], rel=1e-7)
