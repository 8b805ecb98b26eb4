"""The pruning of singletons and separated groups, and the fixed-effect codes, done once
for the models of a sample that share them (gravity.estimation.shared, design.shared_prune).

Reference: the same sample prepared, or the same model fitted, on its own (nothing
shared). A model that takes a recorded pruning must end with exactly the sample it
would have built itself (rows, labels, codes, dropped rows by reason: compared
array by array), and its fit must equal the separate single fit (to 1e-10; the
algorithm makes them identical). Classes of input: several outcomes with the same or
another zero pattern, stepwise regressors with and without missing values, stepwise
fixed effects, weights, binary outcomes (all-one groups), interactions, a
cascade of singletons over several rounds, split samples.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import gravity
from gravity.estimation.design import ModelData, prepare
from gravity.estimation.multiple import FailedFit
from gravity.estimation.shared import shared_demeaning
from gravity.multiformula import expand_formula


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    """SIMULATED: two crossed effects with singletons (levels seen once), groups with an
    all-zero outcome (``g1 < 8``), a second outcome with the same zero pattern (``y2``)
    and one with another (``y3``), a regressor with missing values (``x3``), a binary
    outcome with all-one groups, and labels that are not positions."""
    rng = np.random.default_rng(7)
    n = 3000
    g1 = rng.integers(0, 150, n)
    g2 = np.where(rng.uniform(size=n) < 0.03, 1000 + np.arange(n), rng.integers(0, 60, n))
    d = pd.DataFrame({"g1": g1, "g2": g2, "t": rng.integers(0, 3, n),
                      "s": rng.integers(0, 2, n), "w": rng.uniform(0.5, 2.0, n)})
    for j in (1, 2, 3):
        d[f"x{j}"] = rng.normal(size=n) + 0.1 * (g1 % 5)
    mu = np.exp(0.3 * d["x1"] - 0.2 * d["x2"])
    d["y"] = np.where(g1 < 8, 0.0, rng.poisson(mu))
    d["y2"] = 2.5 * d["y"]
    d["y3"] = np.where(g1 < 16, 0.0, rng.poisson(mu))
    d.loc[d.index[::41], "x3"] = np.nan
    p = 1 / (1 + np.exp(-(0.5 * d["x1"] - 0.3 * d["x2"])))
    d["b"] = np.where(g1 % 25 == 3, 1.0, (rng.uniform(size=n) < p).astype(float))
    d.index = d.index * 3 + 11
    return d


def same_fit(a, b, what: str) -> None:
    assert not isinstance(a, FailedFit) and not isinstance(b, FailedFit), what
    assert a.params.index.equals(b.params.index), what
    np.testing.assert_allclose(a.params, b.params, rtol=0, atol=1e-10, err_msg=what)
    np.testing.assert_allclose(a.bse, b.bse, rtol=1e-10, atol=0, err_msg=what)
    assert a.nobs == b.nobs and a.dropped == b.dropped, what
    assert a.resid.index.equals(b.resid.index), what


def same_sample(a: ModelData, b: ModelData) -> None:
    assert np.array_equal(a.mask, b.mask)
    assert np.array_equal(a.y, b.y) and np.array_equal(a.X, b.X)
    assert len(a.fe_codes) == len(b.fe_codes)
    for ca, cb in zip(a.fe_codes, b.fe_codes, strict=True):
        assert ca.dtype == cb.dtype and np.array_equal(ca, cb)
    assert a.dropped == b.dropped and list(a.dropped) == list(b.dropped)
    assert a.dropped_rows.keys() == b.dropped_rows.keys()
    for k in a.dropped_rows:
        assert np.array_equal(a.dropped_rows[k], b.dropped_rows[k]), k
    for wa, wb in ((a.weights, b.weights), (a.offset, b.offset)):
        assert (wa is None) == (wb is None) and (wa is None or np.array_equal(wa, wb))


@pytest.mark.parametrize("formula, options", [
    ("y ~ x1 + x2 | g1 + g2", {"drop_all_zero": True}),
    ("y ~ x1 + x3 | g1 + g2", {"drop_all_zero": True, "missing": "drop"}),
    ("y ~ x1 | g1^t + g2", {"drop_all_zero": True, "weights": "w"}),
    ("b ~ x1 | g1 + g2", {"drop_all_zero": True, "drop_all_one": True, "binary": True}),
    ("x1 ~ x2 | g1 + g2", {}),
])
def test_recorded_pruning_rebuilds_the_same_sample(data, formula, options):
    """Prepared twice in a block (the second takes the first's pruning): both equal the
    sample prepared alone, field by field."""
    alone = prepare(formula, data, **options)
    assert sum(alone.dropped.values()) > 0
    with shared_demeaning() as cache:
        first = prepare(formula, data, **options)
        second = prepare(formula, data, **options)
    assert cache.shared_hits.get("prune") == 1 and cache.shared_misses.get("prune") == 1
    same_sample(first, alone)
    same_sample(second, alone)
    second.fe_codes[0][:] = -1  # the codes are the model's own: the record is untouched
    with shared_demeaning():
        third = prepare(formula, data, **options)
    same_sample(third, alone)


def test_a_cascade_of_singletons():
    """Dropping a singleton of one effect makes one of the other, over several rounds
    (a chain): the recorded pruning replays all the rounds."""
    g1 = np.array([0, 0, 1, 1, 2, 2, 3, 4, 4, 5, 5, 5])
    g2 = np.array([0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 5])
    d = pd.DataFrame({"g1": g1, "g2": g2, "x": np.arange(12.0) ** 0.5,
                      "y": np.arange(12.0) % 5 + 1})
    alone = prepare("y ~ x | g1 + g2", d)
    assert alone.dropped["singleton"] >= 6
    with shared_demeaning():
        prepare("y ~ x | g1 + g2", d)
        shared = prepare("y ~ x | g1 + g2", d)
    same_sample(shared, alone)


def test_other_samples_get_their_own_pruning(data):
    """Another missing-value pattern, other fixed effects, another zero pattern of the
    outcome or another rule: a miss each time, never the other sample's rows."""
    checks = [("y ~ x1 + x3 | g1 + g2", {"drop_all_zero": True, "missing": "drop"}),
              ("y ~ x1 | g1 + g2^t", {"drop_all_zero": True}),
              ("y ~ x1 | g1", {"drop_all_zero": True}),
              ("y3 ~ x1 | g1 + g2", {"drop_all_zero": True}),
              ("y ~ x1 | g1 + g2", {}),
              ("y ~ x1 | g1 + g2", {"drop_all_zero": True, "drop_singletons": False})]
    alone = [prepare(formula, data, **options) for formula, options in checks]
    with shared_demeaning() as cache:
        prepare("y ~ x1 | g1 + g2", data, drop_all_zero=True)
        prepare("y2 ~ x1 + x2 | g1 + g2", data, drop_all_zero=True)  # same zeros: hit
        assert cache.shared_hits.get("prune") == 1
        for (formula, options), ref in zip(checks, alone, strict=True):
            md = prepare(formula, data, **options)
            assert cache.shared_hits.get("prune") == 1, formula
            same_sample(md, ref)


MODELS = [
    ("ppml", "c(y, y2, y3) ~ csw(x1, x2) | g1 + g2", {}),
    ("ppml", "y ~ csw(x1, x3) | sw(g1 + g2, g1^t + g2)", {"missing": "drop"}),
    ("ppml", "c(y, y2) ~ sw(x1, x2) | g1 + g2", {"weights": "w", "vcov": {"CRV1": "g1"}}),
    ("logit", "b ~ csw(x1, x2) | g1 + g2", {}),
    ("ols", "c(x1, x2) ~ csw(x3, y) | g1 + g2", {"missing": "drop"}),
]


@pytest.mark.parametrize("model, formula, options", MODELS)
def test_every_model_equals_its_single_fit(data, model, formula, options):
    many = gravity.estimate_many(formula, data, model=model, **options)
    fit = getattr(gravity, model)
    for spec, res in zip(expand_formula(formula), many, strict=True):
        same_fit(res, fit(spec.formula, data, **options), spec.formula)


def test_split_samples_prune_each_group(data):
    many = gravity.estimate_many("c(y, y2) ~ csw(x1, x2) | g1 + g2", data, split="s")
    for key, res in many.items():
        same_fit(res, gravity.ppml(key.spec.formula, data[data["s"] == key.sample]),
                 key.label)


def test_fixed_effect_codes_are_shared_by_content(data):
    """The codes of a term are computed once per content: the same columns hit, a
    modified column misses, a column of Python objects is never keyed."""
    other = data.assign(g2=data["g2"].where(data["g2"] != 5, 6))
    text = data.assign(g1=data["g1"].map("c{}".format))
    refs = [prepare("y2 ~ x2 | g1^t + g2", other), prepare("y ~ x1 | g1 + g2", text)]
    with shared_demeaning() as cache:
        prepare("y ~ x1 | g1^t + g2", data)
        prepare("y2 ~ x2 | g1^t + g2", data)
        assert (cache.shared_hits["factor"], cache.shared_misses["factor"]) == (2, 2)
        same_sample(prepare("y2 ~ x2 | g1^t + g2", other), refs[0])
        assert (cache.shared_hits["factor"], cache.shared_misses["factor"]) == (3, 3)
        same_sample(prepare("y ~ x1 | g1 + g2", text), refs[1])
        # g2 looked up (a hit), g1 (objects) never
        assert (cache.shared_hits["factor"], cache.shared_misses["factor"]) == (4, 3)
