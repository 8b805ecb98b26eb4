"""Regression tests from the review of the issue 13-17 merge: estimate_many keeps the
numeric meaning of panel, slope and panel-variance columns; split values that would
share a partition directory are refused; predict(newdata) lags with the fit's time step."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import gravity as gv
from gravity.errors import InputError


def _gapped_panel(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    years = [2000, 2001, 2003, 2004, 2006, 2007]
    d = pd.DataFrame({"unit": np.repeat(np.arange(30), 6), "year": np.tile(years, 30)})
    d["x"] = rng.normal(size=len(d))
    d["y"] = d["x"] + 0.2 * d["year"].sub(2000) * (d["unit"] % 3) + rng.normal(size=len(d))
    d["s"] = d["unit"] % 2
    return d


def test_estimate_many_equals_single_fits_with_lags_slopes_and_panel_variances():
    d = _gapped_panel()
    cases = [
        ("y ~ l(x, 1) | unit + year", {"panel_id": ("unit", "year")}),
        ("y ~ x | unit", {"vcov": {"NW": "unit+year"}}),
        ("y ~ x | unit[year] + year", {}),
    ]
    for formula, options in cases:
        single = gv.ols(formula, d, **options)
        many = gv.estimate_many(formula, d, model="ols", **options)
        fit = many[0]
        assert getattr(fit, "ok", True), (formula, fit)
        assert fit.nobs == single.nobs, formula
        np.testing.assert_allclose(fit.params, single.params, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(fit.bse, single.bse, rtol=1e-10)
        split = gv.estimate_many(formula, d, model="ols", split="s", **options)
        one = gv.ols(formula, d[d["s"] == 1], **options)
        np.testing.assert_allclose(split.select(sample=1)[0].params, one.params, rtol=1e-10)


def test_split_values_sharing_a_directory_are_refused(tmp_path):
    from gravity.distributed.dataset import write_split_dataset

    d = _gapped_panel()
    d["g"] = d["unit"].map(lambda u: 9 if u < 10 else ("9" if u < 20 else "a")).astype(object)
    with pytest.raises(InputError, match="share one partition") as err:
        write_split_dataset(d, "g", tmp_path / "ds")
    assert err.value.column == "g"
    d["g"] = d["unit"].map(lambda u: "A" if u < 15 else "a")
    with pytest.raises(InputError, match="share one partition"):
        write_split_dataset(d, "g", tmp_path / "ds2")


def test_predict_newdata_lags_with_the_fitted_time_step():
    rng = np.random.default_rng(1)
    d = pd.DataFrame({"unit": np.repeat(np.arange(20), 8),
                      "year": np.tile(np.arange(2000, 2008), 20)})
    d["x"] = rng.normal(size=len(d))
    d["y"] = d["x"] + rng.normal(size=len(d))
    m = gv.ols("y ~ l(x, 1)", d, panel_id=("unit", "year"))
    # every other year: the one-year lag is absent, never the value two years back
    assert np.isnan(m.predict(d[d["year"].isin([2000, 2002, 2004, 2006])])).all()
    # the full data as newdata reproduces the in-sample predictions
    full = m.predict(d)
    ok = ~np.isnan(full)
    assert ok.sum() == m.nobs
    np.testing.assert_allclose(full[ok], m.predict(), rtol=1e-12)
    # a time value off the fitted step is a typed error
    m4 = gv.ols("y ~ l(x, 1)", d.assign(year=2000 + 4 * (d["year"] - 2000)),
                panel_id=("unit", "year"))
    with pytest.raises(InputError, match="time step"):
        m4.predict(d.assign(year=2000 + 4 * (d["year"] - 2000) + (d["year"] == 2003)))


def test_dask_dataset_groups_keep_the_split_values_type_and_order(tmp_path):
    """A dataset written by gravity keeps the split column: numeric groups come back as
    numbers in numeric order (2, 9, 10, 11), as the in-memory engines give them; a Hive
    dataset without the column keeps the directory names as text."""
    from gravity.distributed.dataset import open_split_dataset, write_split_dataset

    d = _gapped_panel()
    d["g"] = d["unit"].map(lambda u: [2, 9, 10, 11][u % 4])
    write_split_dataset(d, "g", tmp_path / "ds")
    groups = open_split_dataset(tmp_path / "ds", "g")
    assert [g.value for g in groups] == [2, 9, 10, 11]
    seq = gv.estimate_many("y ~ x | unit", d, model="ols", split="g")
    from_ds = gv.estimate_many("y ~ x | unit", dataset=str(tmp_path / "ds"), split="g",
                               model="ols")
    assert list(from_ds.models()["sample"]) == list(seq.models()["sample"])
    np.testing.assert_allclose(from_ds.select(sample=9)[0].params,
                               seq.select(sample=9)[0].params, rtol=1e-12)
    hive = tmp_path / "hive" / "g=7"
    hive.mkdir(parents=True)
    d.drop(columns="g").head(20).to_parquet(hive / "part-0.parquet")
    assert [g.value for g in open_split_dataset(tmp_path / "hive", "g")] == ["7"]


def test_apes_warn_when_a_variable_enters_several_columns():
    from gravity.errors import GravityWarning

    rng = np.random.default_rng(3)
    n = 2000
    d = pd.DataFrame({"x": rng.normal(size=n), "z": rng.normal(size=n),
                      "g": rng.integers(0, 20, n)})
    d["b"] = (rng.uniform(size=n) < 1 / (1 + np.exp(-0.5 * d["x"]))).astype(float)
    plain = gv.logit("b ~ x + z | g", d)
    inter = gv.logit("b ~ x + z + x:z | g", d)
    import warnings as _w

    with _w.catch_warnings(record=True) as caught:
        _w.simplefilter("always")
        gv.estimation.average_partial_effects(plain)
    assert not [w for w in caught if issubclass(w.category, GravityWarning)
                and "other columns" in str(w.message)]
    with pytest.warns(GravityWarning, match="x, z also enter"):
        gv.estimation.average_partial_effects(inter)
