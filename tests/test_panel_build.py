"""build_panel end to end on the shared files, derived columns, errors and Parquet output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gravity.errors import CoverageError, DuplicateKeyError, NegativeValueError, UnknownCountryError
from gravity.panel.builder import build_panel
from gravity.panel.io import read_panel

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def data(*parts: str) -> Path:
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"{p} not available")
    return p


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from gravity.sources.cepii_gravity import flows_from_cepii, read_cepii_gravity
    from gravity.sources.geodist import read_geodist
    from gravity.sources.imf_fd import read_imf_fd
    from gravity.sources.wdi import read_wdi

    g = read_cepii_gravity(data("cepii_gravity", "Gravity_V202211_slice_9ctry_2015_2021.dta"), years=range(2015, 2019))
    out = tmp_path_factory.mktemp("panel") / "panel.parquet"
    panel, prov = build_panel(
        flows_from_cepii(g, "tradeflow_imf_o"), gravity=g,
        geodist=read_geodist(data("geo", "cepii_geodist_dist.csv.gz")),
        macro=read_wdi(data("macro", "wdi_gdp_2005_2020.csv")),
        fd=read_imf_fd(data("findev", "imf_fd_index_1980_2018.csv")),
        lags=[1], leads=[2], output=out,
    )
    return panel, prov, out


def test_end_to_end_values(built):
    panel, prov, _ = built
    assert len(panel) == 9 * 8 * 4  # squared, no intra-national rows
    r = panel.set_index(["exporter", "importer", "year"]).loc[("CHN", "USA", 2018)]
    assert r["trade"] == pytest.approx(480_688_672e3, rel=1e-7)  # README figure, in USD
    assert r["dist"] == 11883 and r["ln_dist"] == pytest.approx(np.log(11883))
    assert r["gdp_o"] == pytest.approx(13.8948e12, rel=1e-4)  # WDI, current USD
    assert 0 < r["fd_o"] < 1 and r["exp_year"] == "CHN_2018" and r["imp_year"] == "USA_2018"
    assert r["pair"] == "CHN_USA" and r["bri_o"] == 1 and r["bri_d"] == 0 and r["bri_ij"] == 0
    # CHN-THA: Thailand's first document 2014 (table) -> bri_ij = 1 from 2015; IDN 2015
    s = panel.set_index(["exporter", "importer", "year"])
    assert s.loc[("CHN", "THA", 2015), "bri_ij"] == 1 and s.loc[("THA", "IDN", 2015), "bri_ij"] == 1
    # Egypt: both lists say 2016
    assert s.loc[("EGY", "CHN", 2015), "bri_ij"] == 0 and s.loc[("EGY", "CHN", 2016), "bri_ij"] == 1
    # exact lags/leads: lag1 in 2016 is 0, lead2 in 2015 (= 2017) is 1, lag1 defined in the first year
    assert s.loc[("EGY", "CHN", 2016), "bri_ij_lag1"] == 0 and s.loc[("EGY", "CHN", 2015), "bri_ij_lead2"] == 1
    assert s.loc[("CHN", "THA", 2015), "bri_ij_lag1"] == 1  # Thailand 2014
    assert s.loc[("USA", "FRA", 2016), "bri_ij"] == 0
    # CEPII has no true zeros; the IMF flows cover all 288 foreign pairs of 2015-2018
    # (the slice's 135 missing values: 63 domestic rows and all of 2021)
    assert prov["counts"]["trade_zero"] == 0 and prov["counts"]["trade_missing"] == 0
    assert prov["counts"]["trade_positive"] == 288


def test_remoteness_matches_hand_computation(built):
    panel, _, _ = built
    y = 2016
    sub = panel[(panel["year"] == y) & (panel["exporter"] == "AUS")]
    gdp = panel[panel["year"] == y].drop_duplicates("importer").set_index("importer")["gdp_d"]
    world = gdp.sum()
    expected = np.log((sub["dist"].to_numpy() * world / sub["importer"].map(gdp).to_numpy()).sum())
    assert sub["remoteness_o"].iloc[0] == pytest.approx(expected, rel=1e-12)


def test_parquet_round_trip_with_provenance(built):
    panel, prov, out = built
    back, meta = read_panel(out)
    assert len(back) == len(panel) and list(back.columns) == list(panel.columns)
    np.testing.assert_allclose(back["trade"].to_numpy(float), panel["trade"].to_numpy(float))
    roles = {s["role"] for s in meta["sources"]}
    assert {"flows", "pair covariates", "country-year macro", "financial development", "BRI participation"} <= roles
    files = {s.get("file") for s in meta["sources"]}
    assert "Gravity_V202211_slice_9ctry_2015_2021.dta" in files
    assert all(len(s["sha256"]) == 64 for s in meta["sources"] if s.get("sha256"))
    assert meta["counts"] == prov["counts"]


def test_intra_national_and_generic_lags():
    flows = pd.DataFrame({"exporter": ["A1", "A1"], "importer": ["A1", "A1"], "year": [1, 2], "trade": [1.0, 2.0]})
    with pytest.raises(UnknownCountryError):
        build_panel(flows, bri=None)
    flows = pd.DataFrame({
        "exporter": ["FRA", "FRA", "DEU", "FRA"], "importer": ["DEU", "DEU", "FRA", "FRA"],
        "year": [2000, 2001, 2001, 2001], "trade": [5.0, 6.0, 7.0, 100.0], "rta": [0, 1, 1, 0],
    })
    panel, prov = build_panel(flows, intra_national=True, bri=None, remoteness=False)
    assert len(panel) == 2 * 2 * 2
    t = panel.set_index(["exporter", "importer", "year"])["trade"]
    assert t[("FRA", "FRA", 2001)] == 100.0 and np.isnan(t[("DEU", "DEU", 2001)])  # domestic: never zero-filled
    assert t[("DEU", "FRA", 2000)] == 0.0  # both countries in the 2000 data (inferred coverage)


def test_input_errors_are_typed():
    good = pd.DataFrame({"exporter": ["FRA", "DEU"], "importer": ["DEU", "FRA"], "year": [2000, 2000],
                         "trade": [1.0, 2.0]})
    with pytest.raises(DuplicateKeyError) as e1:
        build_panel(pd.concat([good, good.iloc[:1]], ignore_index=True), bri=None)
    assert e1.value.rows == [0, 2] and e1.value.file == "flows"
    bad = good.assign(trade=[1.0, -2.0])
    with pytest.raises(NegativeValueError) as e2:
        build_panel(bad, bri=None)
    assert e2.value.rows == [1] and e2.value.column == "trade"
    with pytest.raises(CoverageError):
        build_panel(good, years=[1999, 2000], bri=None)
    with pytest.raises(UnknownCountryError):
        build_panel(good, countries=["FRA", "ZZZ"], bri=None)


def test_download_registry_offline(monkeypatch, tmp_path):
    from gravity.sources import _download

    monkeypatch.setenv("GRAVITY_DATA_DIR", str(tmp_path))
    assert _download.cache_dir() == tmp_path
    assert _download.REGISTRY["cepii_gravity_V202211"].url.endswith("Gravity_csv_V202211.zip")
    with pytest.raises(KeyError):
        _download.fetch("no_such_source")
