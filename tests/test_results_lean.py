"""Lean results (fixest's ``lean = TRUE``): the same numbers without the rows.

Reference: the full result of the same fit. Every public attribute and every method
callable without arguments is compared, bit for bit, across models (OLS, OLS without
fixed effects, PPML with weights and offset, logit, a bias-corrected PPML and logit)
and variance types (iid, hetero, HC3, one-way and two-way clusters). An attribute is
either equal or raises :class:`LeanResultError`, and only the row-level ones may
raise: a method added later that reads the rows fails here until it is listed. The
lean pickle must be small (no ``O(N)`` part left): its size does not grow with the
sample.
"""

from __future__ import annotations

import importlib
import pickle
from functools import cached_property

import numpy as np
import pandas as pd
import pytest
from conftest import simulated_panel

import gravity
from gravity.errors import LeanResultError
from gravity.estimation.lean import ROW_FIELDS, LeanRecord
from gravity.estimation.results import RegressionResults

FITSTATS = importlib.import_module("gravity.reporting.etable").FITSTATS

FE2 = "exporter^year + importer^year"

#: what a lean result cannot give (everything else must equal the full result's)
ROW_LEVEL = {"resid", "fittedvalues", "in_sample", "dropped_rows", "separated",
             "predict", "fixed_effects", "wildboottest"}


def _panel(n: int, seed: int) -> pd.DataFrame:
    df = simulated_panel(n, n, 4, seed=seed)
    df["w"] = 0.5 + (df["importer"] % 3)
    df["off"] = 0.1 * (df["exporter"] % 4)
    df["b"] = (df["y"] > df["y"].median()).astype(float)
    df.index = df.index * 7 + 3
    return df


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return _panel(12, 3)


FITS = {
    "ols iid": lambda d: gravity.ols(f"ln_dist ~ rta + x | {FE2}", d, vcov="iid"),
    "ols hetero weights": lambda d: gravity.ols("x ~ rta + ln_dist | exporter", d,
                                                vcov="hetero", weights="w"),
    "ols HC3 no fe": lambda d: gravity.ols("ln_dist ~ rta + x", d, vcov="HC3"),
    "ols two-way": lambda d: gravity.ols("x ~ rta + ln_dist | exporter + importer", d,
                                         vcov={"CRV1": "exporter+importer"}),
    "ppml cluster": lambda d: gravity.ppml(f"y ~ ln_dist + rta | {FE2}", d,
                                           vcov={"CRV1": "exporter"}),
    "ppml hetero weights offset": lambda d: gravity.ppml(
        "y ~ ln_dist + rta | exporter + importer", d, weights="w", offset="off",
        vcov="hetero"),
    "ppml iid no fe": lambda d: gravity.ppml("y ~ ln_dist + rta", d, vcov="iid"),
    "ppml bias-corrected": lambda d: gravity.ppml(f"y ~ rta + x | {FE2}", d,
                                                  vcov="hetero", bias_correction="two-way"),
    "logit": lambda d: gravity.logit("b ~ ln_dist + rta | exporter + importer", d,
                                     vcov={"CRV1": "exporter"}),
    "probit hetero": lambda d: gravity.probit("b ~ ln_dist + rta | exporter", d,
                                              vcov="hetero"),
    "logit bias-corrected": lambda d: gravity.logit(
        "b ~ ln_dist + rta | exporter + importer", d, bias_correction="classic"),
}


def same(a, b) -> bool:
    """Exact equality of what a result gives (numbers bit for bit, NaN equal to NaN)."""
    if isinstance(a, RegressionResults):
        return type(a) is type(b) and str(a.summary()) == str(b.summary())
    if isinstance(a, (pd.Series, pd.DataFrame)):
        try:
            (pd.testing.assert_series_equal if isinstance(a, pd.Series)
             else pd.testing.assert_frame_equal)(a, b, check_exact=True)
        except AssertionError:
            return False
        return True
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b, equal_nan=True)
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (a != a and b != b)
    if isinstance(a, dict):  # a lean result's extra is a dict of its own class
        return (isinstance(b, dict) and list(a) == list(b)
                and all(same(a[k], b[k]) for k in a))
    if isinstance(a, (list, tuple)):
        if type(a) is not type(b) or len(a) != len(b):
            return False
        return all(same(x, y) for x, y in zip(a, b, strict=True))
    if hasattr(a, "message") and hasattr(a, "category"):  # a recorded warning
        return (a.category, str(a.message)) == (b.category, str(b.message))
    if isinstance(a, (int, str, bool, type(None))):
        return a == b
    return repr(a) == repr(b) or str(a) == str(b)


def public_names(cls: type) -> list[str]:
    return sorted(n for n in dir(cls) if not n.startswith("_") and n != "record")


def value(res: RegressionResults, name: str):
    """The attribute, or the method called without arguments."""
    attr = getattr(type(res), name)
    if isinstance(attr, (property, cached_property)):
        return getattr(res, name)
    if name == "delta_method":  # needs a function: one of the coefficients
        return res.delta_method(lambda b: b.iloc[:1])
    if name == "wildboottest":
        return res.wildboottest(res.params.index[0], B=99)
    return getattr(res, name)()


@pytest.mark.parametrize("name", list(FITS))
def test_lean_result_gives_the_full_results_numbers(panel, name):
    full = FITS[name](panel)
    lean = full.lean()
    assert lean.is_lean and not full.is_lean and type(lean) is type(full)
    assert isinstance(lean.record, LeanRecord)
    assert lean.lean() is lean
    for back in (lean, pickle.loads(pickle.dumps(lean))):
        assert back.is_lean
        for attr in public_names(type(full)):
            if attr in ("lean", "is_lean"):
                continue
            if attr in ROW_LEVEL:
                with pytest.raises(LeanResultError, match=attr):
                    value(back, attr)
                continue
            try:
                expected = value(full, attr)
            except Exception as exc:  # not available on this fit: nor on the lean one
                with pytest.raises(type(exc)):
                    value(back, attr)
                continue
            if attr == "extra":  # less its row-level entries, which raise
                dropped = back.record.extra.dropped
                assert all(k in expected for k in dropped)
                for k in dropped:
                    with pytest.raises(LeanResultError, match=k):
                        back.extra[k]
                expected = {k: v for k, v in expected.items() if k not in dropped}
            assert same(expected, value(back, attr)), attr
        assert str(back.summary()) == str(full.summary())
        every = tuple(FITSTATS)
        assert str(gravity.etable([back], fitstats=every)) == str(
            gravity.etable([full], fitstats=every))


@pytest.mark.parametrize("name", ["ols iid", "ppml cluster", "logit"])
def test_lean_refuses_what_needs_rows(panel, name):
    lean = FITS[name](panel).lean()
    assert lean.with_vcov() is lean  # its own variance: nothing to recompute
    for call in (lambda: lean.with_vcov("hetero"), lambda: lean.with_vcov(ssc="glm"),
                 lambda: lean.predict(panel), lambda: lean.predict(type="link")):
        with pytest.raises(LeanResultError, match="lean=False"):
            call()
    for field in ROW_FIELDS:  # any other code reading the rows fails too, typed
        with pytest.raises(LeanResultError, match=field):
            getattr(lean.record, field)
    with pytest.raises(LeanResultError):
        _ = lean.record.fitted


def test_bias_corrected_lean_refuses_another_variance(panel):
    lean = FITS["ppml bias-corrected"](panel).lean()
    assert lean.with_vcov() is lean
    with pytest.raises(LeanResultError):
        lean.with_vcov(ssc="glm")


def test_lean_pickle_does_not_grow_with_the_sample():
    """The full pickle grows with the rows; the lean one stays about 2 KB."""
    sizes = {}
    for n in (10, 20):
        res = gravity.ppml(f"y ~ ln_dist + rta | {FE2}", _panel(n, 1),
                           vcov={"CRV1": "exporter"})
        sizes[n] = (len(pickle.dumps(res)), len(pickle.dumps(res.lean())))
    assert sizes[20][0] > 3 * sizes[10][0]  # full: about 4x the rows
    assert sizes[20][1] < 4000 and sizes[20][1] - sizes[10][1] < 200


@pytest.mark.parametrize("call", [
    lambda d, **k: gravity.ols(f"ln_dist ~ rta + x | {FE2}", d, vcov="hetero", **k),
    lambda d, **k: gravity.lpm("b ~ rta + x | exporter", d, vcov="hetero", **k),
    lambda d, **k: gravity.ppml(f"y ~ ln_dist + rta | {FE2}", d, vcov={"CRV1": "exporter"},
                                **k),
    lambda d, **k: gravity.ppml("y ~ ln_dist + rta | exporter + importer", d,
                                vcov="hetero", bias_correction="two-way", **k),
    lambda d, **k: gravity.feglm("y ~ ln_dist + rta | exporter", d, "poisson", **k),
    lambda d, **k: gravity.logit("b ~ ln_dist + rta | exporter", d, vcov="hetero", **k),
    lambda d, **k: gravity.feglm("ln_dist ~ rta + x | exporter", d, "gaussian", **k),
], ids=["ols", "lpm", "ppml", "ppml bias-corrected", "feglm", "logit", "feglm gaussian"])
def test_lean_option_of_the_single_fits(panel, call):
    """``lean=True`` on a fit function is the full result made lean: same class, same
    numbers, no rows."""
    full = call(panel)
    lean = call(panel, lean=True)
    assert lean.is_lean and not full.is_lean and type(lean) is type(full)
    pd.testing.assert_series_equal(lean.params, full.params, check_exact=True)
    pd.testing.assert_series_equal(lean.bse, full.bse, check_exact=True)
    assert lean.nobs == full.nobs
    with pytest.raises(LeanResultError):
        _ = lean.resid
