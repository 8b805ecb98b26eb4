"""The packed pickle of a fit (gravity.estimation.packing), for the results a Dask
worker sends back: integer-valued outcomes and regressor columns, sample masks, row
labels in arithmetic progression and cluster codes shared with a fixed effect.

Reference: the original record, array by array *bit for bit* (``tobytes``: ``-0.0``
and ``NaN`` payloads count), dtype, memory order and object identity of shared
arrays, and the outputs of the result's methods; each packing must also have
happened (the pickle is smaller than without it), so a test cannot pass by packing
nothing."""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pandas as pd
import pytest
from conftest import simulated_panel

import gravity
from gravity.estimation import packing


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    df = simulated_panel(12, 12, 4, seed=7)
    df["count"] = np.round(df["y"] * 3)
    df["dummy"] = (df["importer"] % 2).astype(float)
    df["b"] = (df["y"] > df["y"].median()).astype(float)
    df.index = df.index * 7 + 3  # labels in arithmetic progression, not positions
    return df


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Same type, shape, bits and (but for broadcast constants) memory order."""
    order = 0 in a.strides or (a.flags.c_contiguous == b.flags.c_contiguous
                               and a.flags.f_contiguous == b.flags.f_contiguous)
    return (a.dtype == b.dtype and a.shape == b.shape and order
            and np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes())


def round_trip(res):
    return pickle.loads(pickle.dumps(res))


def check_record(res, back) -> None:
    for f in dataclasses.fields(res.record):
        a, b = getattr(res.record, f.name), getattr(back.record, f.name)
        if isinstance(a, np.ndarray):
            assert same_bits(a, b), f.name
        elif isinstance(a, pd.Index):
            assert type(a) is type(b) and a.dtype == b.dtype and a.equals(b)
            assert a.name == b.name
    for k, v in res.record.cluster_map.items():
        assert same_bits(v, back.record.cluster_map[k])
    np.testing.assert_array_equal(back.params, res.params)
    np.testing.assert_array_equal(back.bse, res.bse)
    np.testing.assert_array_equal(back.predict(), res.predict())
    np.testing.assert_array_equal(back.with_vcov("hetero").bse, res.with_vcov("hetero").bse)
    if res.record.fe_codes:
        for k, v in res.fixed_effects().items():
            pd.testing.assert_series_equal(back.fixed_effects()[k], v)


FITS = {
    "ppml counts, dummy, clustered by a fixed effect": lambda d: gravity.ppml(
        "count ~ ln_dist + dummy | exporter^year + importer^year", d,
        vcov={"CRV1": "exporter^year"}),
    "ppml fractional outcome": lambda d: gravity.ppml(
        "y ~ ln_dist + rta | exporter + importer", d, vcov={"CRV1": "exporter"}),
    "logit binary outcome": lambda d: gravity.logit("b ~ ln_dist + dummy | exporter", d),
    "ols intercept, integer regressor": lambda d: gravity.ols("ln_dist ~ dummy + count", d),
}


@pytest.mark.parametrize("name", list(FITS))
def test_round_trip_bit_for_bit(panel, name):
    res = FITS[name](panel)
    check_record(res, round_trip(res))


def test_cluster_codes_of_a_fixed_effect_travel_once(panel):
    res = FITS["ppml counts, dummy, clustered by a fixed effect"](panel)
    rec = res.record
    (key, codes), = rec.cluster_map.items()
    assert any(codes is c for c in rec.fe_codes)  # the fit shares the array
    back = round_trip(res).record
    assert any(back.cluster_map[key] is c for c in back.fe_codes)
    # against a record whose cluster codes are an equal copy (not shared): smaller
    copy = dataclasses.replace(rec, cluster_map={key: codes.copy()})
    assert len(pickle.dumps(rec)) < len(pickle.dumps(copy)) - codes.size // 2
    back = pickle.loads(pickle.dumps(copy))
    assert not any(back.cluster_map[key] is c for c in back.fe_codes)
    assert same_bits(back.cluster_map[key], codes)


@pytest.mark.parametrize("values, packs", [
    (np.array([0.0, 3.0, 7.0, 120.0]), True),  # counts: int8
    (np.array([0.0, 1.0, 1.0, 0.0]), True),  # binary
    (np.array([-40000.0, 2.0, 70000.0]), True),  # int32
    (np.array([2.0 ** 31 - 1, 0.0]), True),
    (np.array([2.0 ** 31, 0.0]), False),  # beyond int32
    (np.array([1.0, -0.0, 2.0]), False),  # -0.0 keeps its sign
    (np.array([1.0, np.nan]), False),
    (np.array([1.0, np.inf]), False),
    (np.array([1.0, 2.5]), False),
    (np.array([0.5, 2.0]), False),  # rejected at the first value
])
def test_integer_valued_vectors(values, packs):
    packed = packing._integral(values)
    assert (packed is not None) == packs
    if packed is not None:
        assert packed.data is not None and packed.data.itemsize < 8
        assert same_bits(packing._widen(packed), values)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("integral", [(True, False), (False, False), (True, True)])
def test_matrices_by_column(order, integral):
    rng = np.random.default_rng(1)
    cols = [rng.integers(-3, 300, 50).astype(float) if i else rng.normal(size=50)
            for i in integral]
    a = np.array(np.column_stack(cols), order=order)
    packed = packing._pack_matrix(a)
    if not any(integral):
        assert packed is a
        return
    assert isinstance(packed, packing.Packed)
    assert same_bits(packing._widen(packed), a)
    assert len(pickle.dumps(packed)) < len(pickle.dumps(a))


@pytest.mark.parametrize("mask", [np.ones(37, bool), np.zeros(37, bool),
                                  np.arange(37) % 3 == 0, np.ones(0, bool)])
def test_masks(mask):
    back = packing._widen(packing._pack_mask(mask))
    assert same_bits(back, mask)


@pytest.mark.parametrize("labels", [np.arange(10), 3 + 7 * np.arange(10),
                                    50 - 2 * np.arange(10), np.array([5, 6, 8, 9]),
                                    np.array([4]), np.array([2 ** 40, 2 ** 40 + 3])])
def test_row_labels(labels):
    index = pd.Index(labels.astype(np.int64), name="row")
    packed, name = packing._pack_labels(index)
    back = pd.Index(packing._widen(packed), name=name)
    assert type(back) is pd.Index and back.dtype == np.int64 and back.equals(index)
    assert back.name == "row"


def test_a_product_fit_shrinks(monkeypatch):
    """The split benchmark's model on a count outcome with a dummy, clustered by a fixed
    effect: at most 80% of the pickle without the packings tested above (measured:
    0.65 on a 15,000-row product of benchmarks/split_dask.py)."""
    big = simulated_panel(30, 30, 5, seed=8)
    big["count"], big["dummy"] = np.round(big["y"] * 3), (big["importer"] % 2).astype(float)
    big.index = big.index + 1000
    res = FITS["ppml counts, dummy, clustered by a fixed effect"](big)
    rec = res.record
    new = len(pickle.dumps(rec))
    key, codes = next(iter(rec.cluster_map.items()))
    monkeypatch.setattr(packing, "_integral", lambda a: None)
    monkeypatch.setattr(packing, "_pack_matrix", lambda a: a)
    monkeypatch.setattr(packing, "_pack_mask", lambda a: a)
    monkeypatch.setattr(packing, "_pack_labels",
                        lambda i: (packing._narrow(i.to_numpy()), i.name))
    old = len(pickle.dumps(dataclasses.replace(rec, cluster_map={key: codes.copy()})))
    assert new < 0.8 * old  # 0.775 here
