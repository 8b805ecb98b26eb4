"""Columns demeaned once for all the least-squares models of a sample
(gravity.estimation.shared). Reference: each model fitted on its own with
gravity.ols, which never shares anything; the shared path must give the same numbers
(required to 1e-10; the algorithm makes them identical) in every class of input:
several outcomes, stepwise regressors, weights, outcomes with different missing rows
(different samples must not share), varying slopes (not shared), split samples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import gravity
from gravity.estimation.multiple import FailedFit
from gravity.estimation.shared import shared_demeaning
from gravity.multiformula import expand_formula


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 4000
    f1 = rng.integers(0, 200, n)
    d = pd.DataFrame({"f1": f1, "f2": f1 // 4 + rng.integers(0, 6, n),
                      "s": rng.integers(0, 2, n), "w": rng.uniform(0.5, 2.0, n),
                      "t": rng.integers(0, 5, n)})
    for j in (1, 2, 3):
        d[f"x{j}"] = rng.normal(size=n) + 0.2 * (d["f1"] % 5)
    d["y1"] = d["x1"] - 0.5 * d["x2"] + rng.normal(size=n)
    d["y2"] = 0.3 * d["x3"] + rng.normal(size=n) + 0.1 * d["f2"]
    d["y3"] = d["y1"] + d["y2"]
    d.loc[d.index[::37], "y3"] = np.nan  # another sample for y3
    return d


def same(a, b, what: str) -> None:
    assert not isinstance(a, FailedFit) and not isinstance(b, FailedFit), what
    assert a.params.index.equals(b.params.index), what
    np.testing.assert_allclose(a.params, b.params, rtol=0, atol=1e-10, err_msg=what)
    np.testing.assert_allclose(a.bse, b.bse, rtol=1e-10, atol=0, err_msg=what)
    np.testing.assert_allclose(a.resid, b.resid, rtol=0, atol=1e-10, err_msg=what)
    assert a.nobs == b.nobs and a.record.iterations == b.record.iterations, what


@pytest.mark.parametrize("formula, options", [
    ("c(y1, y2) ~ csw(x1, x2, x3) | f1 + f2", {}),
    ("c(y1, y2) ~ sw(x1, x2) + x3 | f1 + f2", {"weights": "w", "vcov": {"CRV1": "f1"}}),
    ("c(y1, y3) ~ x1 + x2 | f1 + f2", {"missing": "drop"}),
    ("c(y1, y2) ~ x1 | f1 + f2[x2]", {}),
    ("y1 ~ x1 | sw(f1, f1 + f2)", {}),
])
def test_shared_demeaning_equals_separate_fits(data, formula, options):
    many = gravity.estimate_many(formula, data, model="ols", **options)
    specs = expand_formula(formula)
    assert len(many) == len(specs)
    for spec, fit in zip(specs, many, strict=True):
        same(fit, gravity.ols(spec.formula, data, **options), spec.formula)


def test_shared_demeaning_on_split_samples(data):
    many = gravity.estimate_many("c(y1, y2) ~ csw(x1, x2) | f1 + f2", data, model="ols",
                                 split="s")
    for key, fit in many.items():
        one = gravity.ols(key.spec.formula, data[data["s"] == key.sample])
        same(fit, one, key.label)


def test_the_cache_shares_columns_only_when_they_are_the_same(data):
    """Two outcomes on the same regressors: the regressors are demeaned once. Other
    weights or another sample (y3's missing rows) give other columns: no hit."""
    with shared_demeaning() as cache:
        gravity.ols("y1 ~ x1 + x2 | f1 + f2", data)
        assert (cache.hits, cache.misses) == (0, 3)
        gravity.ols("y2 ~ x1 + x2 | f1 + f2", data)
        assert (cache.hits, cache.misses) == (2, 4)
        gravity.ols("y2 ~ x1 + x2 | f1 + f2", data, weights="w")
        assert cache.hits == 2
        gravity.ols("y3 ~ x1 | f1 + f2", data, missing="drop")
        assert cache.hits == 2
        gravity.ols("y1 ~ x1 | f1 + f2[x2]", data)  # varying slopes: never cached
        assert cache.hits == 2 and cache.misses == 9
    with shared_demeaning(max_bytes=0) as cache:  # no room: computed every time
        gravity.ols("y1 ~ x1 | f1 + f2", data)
        gravity.ols("y2 ~ x1 | f1 + f2", data)
        assert cache.hits == 0 and not cache.columns


def test_compiled_kernels_at_every_size(data):
    """Inside compiled_kernels() (an opt-in for many small fits) a small sample is
    demeaned by the numba kernels; the NumPy engine, used outside for small fits, runs
    the same algorithm: one demeaning agrees to rounding."""
    from gravity.hdfe import FixedEffects, compiled_kernels
    from gravity.hdfe.demean import _numpy_size

    codes = [data["f1"].to_numpy(), data["f2"].to_numpy()]
    Y = data[["x1", "y1"]].to_numpy()
    w = data["w"].to_numpy()
    assert _numpy_size(len(data))
    plain, _ = FixedEffects(codes).demean(Y, w, tol=1e-12)
    with compiled_kernels():
        assert not _numpy_size(len(data))
        compiled, _ = FixedEffects(codes).demean(Y, w, tol=1e-12)
    assert _numpy_size(len(data))
    np.testing.assert_allclose(compiled, plain, rtol=0, atol=1e-10)
