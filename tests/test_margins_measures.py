"""Diversification and entry measures against hand-computed values."""

import numpy as np
import pandas as pd
import pytest

from gravity.errors import DuplicateKeyError, MissingColumnError, NegativeValueError
from gravity.margins import diversification, emerging_markets, pair_dynamics


def _panel() -> pd.DataFrame:
    rows = []
    dests = ["B", "C", "D", "E", "F"]
    # exporter A, 2000: 60, 30, 10, 0 (true zero), NaN (not covered)
    for d, v in zip(dests, [60, 30, 10, 0, np.nan], strict=True):
        rows.append(("A", d, 2000, v, 2.0 if v and v > 0 else np.nan))
    # exporter A, 2001: a tie 50/50, three zeros
    for d, v in zip(dests, [50, 50, 0, 0, 0], strict=True):
        rows.append(("A", d, 2001, v, 1.0))
    # exporter G, 2000: exports nothing (all true zeros)
    for d, v in zip(dests, [0, 0, 0, 0, 0], strict=True):
        rows.append(("G", d, 2000, v, 0.0))
    # exporter H, 2000: not covered at all
    for d in dests:
        rows.append(("H", d, 2000, np.nan, np.nan))
    # exporter K, 2000: a single destination
    for d, v in zip(dests, [5, 0, 0, 0, 0], strict=True):
        rows.append(("K", d, 2000, v, 7.0 if v else 0.0))
    return pd.DataFrame(rows, columns=["exporter", "importer", "year", "trade", "n_products"])


def test_diversification_hand_computed():
    p = _panel()
    p["grp"] = p["importer"].isin(["C", "D"]).astype(int)
    out = diversification(p, k=(1, 2, 5), groups={"cd": "grp", "bf": ["B", "F"]})
    a0 = out.loc[("A", 2000)]
    assert a0["n_destinations"] == 3 and a0["n_potential"] == 4 and a0["total"] == 100
    assert a0["hhi"] == pytest.approx(0.46, abs=1e-14)
    assert a0["hhi_norm"] == pytest.approx((0.46 - 1 / 3) / (2 / 3), abs=1e-14)
    s = np.array([0.6, 0.3, 0.1])
    theil = np.mean((s * 3) * np.log(s * 3))  # (1/n) sum (x/mean) ln(x/mean)
    assert a0["theil"] == pytest.approx(theil, abs=1e-14)
    assert a0["theil_between"] == pytest.approx(np.log(4 / 3), abs=1e-14)
    # total Theil over the 4 covered destinations with the zero included
    xs = np.array([60, 30, 10, 0.0])
    r = xs / xs.mean()
    t_all = np.mean(np.where(r > 0, r * np.log(np.where(r > 0, r, 1)), 0))
    assert a0["theil_total"] == pytest.approx(t_all, abs=1e-14)
    assert (a0["top1_share"], a0["top2_share"], a0["top5_share"]) == pytest.approx((0.6, 0.9, 1.0))
    assert a0["share_cd"] == pytest.approx(0.4) and a0["n_cd"] == 2
    assert a0["share_bf"] == pytest.approx(0.6) and a0["n_bf"] == 1
    assert a0["products_max"] == 2 and a0["products_mean"] == 2
    # ties
    a1 = out.loc[("A", 2001)]
    assert a1["n_destinations"] == 2 and a1["n_potential"] == 5
    assert a1["hhi"] == pytest.approx(0.5) and a1["hhi_norm"] == pytest.approx(0.0, abs=1e-15)
    assert a1["theil"] == pytest.approx(0.0, abs=1e-15)
    assert a1["top1_share"] == pytest.approx(0.5) and a1["top2_share"] == pytest.approx(1.0)
    assert a1["theil_between"] == pytest.approx(np.log(5 / 2))
    # no exports: count 0, total 0, shares undefined
    g = out.loc[("G", 2000)]
    assert g["n_destinations"] == 0 and g["total"] == 0 and g["n_potential"] == 5
    assert np.isnan(g[["hhi", "hhi_norm", "theil", "top1_share", "share_cd"]].astype(float)).all()
    # not covered: everything NaN
    h = out.loc[("H", 2000)]
    assert h["n_potential"] == 0 and np.isnan(h["n_destinations"]) and np.isnan(h["total"])
    # single destination
    k = out.loc[("K", 2000)]
    assert (k["n_destinations"], k["hhi"], k["hhi_norm"], k["theil"], k["top1_share"]) == \
        (1, 1.0, 1.0, 0.0, 1.0)
    assert k["products_max"] == 7


def test_threshold():
    out = diversification(_panel(), threshold=10.0)
    assert out.loc[("A", 2000), "n_destinations"] == 2  # 10 is not above 10
    assert out.loc[("A", 2000), "hhi"] == pytest.approx((60 / 90) ** 2 + (30 / 90) ** 2)


def test_pair_dynamics_hand_computed():
    p = pd.DataFrame({
        "exporter": ["A"] * 5 + ["B"],
        "importer": ["Z"] * 5 + ["Z"],
        "year": [2000, 2001, 2002, 2003, 2005, 2001],
        "trade": [0, 5, 0, np.nan, 3, 1],
    }).sample(frac=1.0, random_state=1)  # order must not matter
    out = pair_dynamics(p).sort_values(["exporter", "year"])
    nan = np.nan
    a = out[out.exporter == "A"]
    np.testing.assert_array_equal(a["active"], [0, 1, 0, nan, 1])
    np.testing.assert_array_equal(a["active_lag"], [nan, 0, 1, 0, nan])
    np.testing.assert_array_equal(a["new_entry"], [nan, 1, 0, nan, nan])
    np.testing.assert_array_equal(a["exit"], [nan, 0, 1, nan, nan])
    np.testing.assert_array_equal(a["survival"], [nan, nan, 0, nan, nan])
    np.testing.assert_array_equal(a["entry_hazard"], [nan, 1, nan, nan, nan])
    b = out[out.exporter == "B"]
    assert np.isnan(b["active_lag"].iloc[0]) and b["active"].iloc[0] == 1


def test_typed_errors():
    p = _panel()
    bad = p.copy()
    bad.loc[3, "trade"] = -1.0
    with pytest.raises(NegativeValueError) as e:
        diversification(bad)
    assert e.value.column == "trade" and e.value.rows == [3]
    dup = pd.concat([p, p.iloc[[0]]])
    with pytest.raises(DuplicateKeyError):
        pair_dynamics(dup)
    with pytest.raises(MissingColumnError) as e:
        diversification(p.drop(columns="year"))
    assert e.value.column == "year"
    with pytest.raises(MissingColumnError):
        diversification(p, groups={"x": "bri_d"})


def test_emerging_markets_tables():
    em = emerging_markets()
    assert len(em) == 24 and {"CHN", "IND", "BRA"} <= em and "USA" not in em
    from conftest import shared_path

    meta = shared_path("data", "macro", "wdi_country_metadata.csv")
    if not meta.exists():
        pytest.skip("shared WDI metadata not available")
    wdi = emerging_markets("wdi", path=meta)
    assert "CHN" in wdi and "USA" not in wdi and "DEU" not in wdi
