"""A result pickles compactly and comes back exactly (gravity.estimation.packing).

Reference: the original record, field by field (arrays with their dtype, indexes,
codes), and the outputs of the result's methods; the packed pickle must also be
smaller than the plain one (otherwise the packing did not happen)."""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pandas as pd
import pytest
from conftest import simulated_panel

import gravity


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    df = simulated_panel(12, 12, 4, seed=3)
    df["w"] = 0.5 + (df["importer"] % 3)
    df["off"] = 0.1 * (df["exporter"] % 4)
    df["b"] = (df["y"] > df["y"].median()).astype(float)
    df.index = df.index * 7 + 3  # labels that are not positions
    return df


FITS = {
    "ppml": lambda d: gravity.ppml("y ~ ln_dist + rta | exporter^year + importer^year", d,
                                   vcov={"CRV1": "exporter"}),
    "ppml weights offset": lambda d: gravity.ppml("y ~ ln_dist + rta | exporter + importer",
                                                  d, weights="w", offset="off"),
    "ols intercept": lambda d: gravity.ols("ln_dist ~ rta + x", d, vcov="hetero"),
    "ols text index": lambda d: gravity.ols("x ~ rta | exporter", d.set_index(
        d.index.astype(str))),
    "logit": lambda d: gravity.logit("b ~ ln_dist + rta | exporter + importer", d),
}


def assert_same(a, b, where: str) -> None:
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype, where
        assert np.array_equal(a, b, equal_nan=True), where
    elif isinstance(a, pd.Index):
        assert type(a) is type(b) and a.dtype == b.dtype and a.equals(b), where
        assert a.name == b.name, where
    elif isinstance(a, (tuple, list)):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            assert_same(a[k], b[k], f"{where}[{k}]")
    elif hasattr(a, "message") and hasattr(a, "category"):  # a recorded warning
        assert (a.category, str(a.message)) == (b.category, str(b.message)), where
    elif dataclasses.is_dataclass(a) or a is None or isinstance(a, (int, float, str, bool)):
        assert a == b or (a != a and b != b), where
    else:
        assert repr(a) == repr(b), where


@pytest.mark.parametrize("name", list(FITS))
def test_pickle_round_trip_is_exact(panel, name):
    res = FITS[name](panel)
    blob = pickle.dumps(res)
    back = pickle.loads(blob)
    for f in dataclasses.fields(res.record):
        assert_same(getattr(res.record, f.name), getattr(back.record, f.name), f.name)
    assert np.array_equal(back.params, res.params) and np.array_equal(back.bse, res.bse)
    np.testing.assert_array_equal(back.predict(), res.predict())
    np.testing.assert_array_equal(back.with_vcov("hetero").bse, res.with_vcov("hetero").bse)
    if res.record.fe_codes:
        fe, fe_back = res.fixed_effects(), back.fixed_effects()
        for k in fe:
            pd.testing.assert_series_equal(fe_back[k], fe[k])
    # smaller than the record's plain state
    plain = len(pickle.dumps(res.record.__dict__))
    assert len(pickle.dumps(res.record)) < plain


def test_packing_shrinks_a_product_fit(panel):
    """No weights, no offset, two fixed effects: the constant arrays and the wide codes
    go; what is left is at most 75% of the plain pickle (the record itself no longer
    holds the fitted values or the fixed-effect part, derived from eta, nor int64
    codes, so there is less to pack than before: 70% then)."""
    res = FITS["ppml"](panel)
    ratio = len(pickle.dumps(res.record)) / len(pickle.dumps(res.record.__dict__))
    assert ratio < 0.75


def test_negative_zero_offset_is_kept(panel):
    """An offset of -0.0 is not the zero offset the packing drops: it comes back with
    its sign (the packing checks before it drops anything). The fitted values are
    derived from eta (never stored), so they come back bit for bit."""
    res = FITS["ppml"](panel)
    odd = dataclasses.replace(res.record, offset=np.full(res.nobs, -0.0))
    back = pickle.loads(pickle.dumps(odd))
    assert np.signbit(back.offset).all()
    assert np.array_equal(back.fitted, np.exp(res.record.eta))
