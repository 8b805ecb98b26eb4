"""Readers on the real published files in ../shared/data (figures from its README)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def data(*parts: str) -> Path:
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"{p} not available")
    return p


@pytest.fixture(scope="module")
def cepii():
    from gravity.sources.cepii_gravity import read_cepii_gravity

    return read_cepii_gravity(data("cepii_gravity", "Gravity_V202211_slice_9ctry_2015_2021.dta"))


def test_cepii_gravity_slice(cepii):
    df = cepii
    # 9 countries x 9 (domestic pairs included) x 7 years
    assert len(df) == 567
    assert sorted(df["exporter"].unique()) == ["AUS", "CHN", "EGY", "FRA", "IDN", "JPN", "SGP", "THA", "USA"]
    assert (df["year"].min(), df["year"].max()) == (2015, 2021)
    row = df.query("exporter == 'CHN' and importer == 'USA' and year == 2018").iloc[0]
    # README: tradeflow_imf_o = 480,688,672 thousand USD, i.e. USD 480.7 bn (reader converts to USD)
    assert row["tradeflow_imf_o"] == pytest.approx(480_688_672e3, rel=1e-7)
    assert df["tradeflow_imf_o"].isna().sum() == 135  # README: no true zeros, 135 NaN rows
    assert (df["tradeflow_imf_o"] == 0).sum() == 0
    assert df.attrs["gravity_provenance"]["version"] == "V202211"


def test_cepii_gravity_all_87_columns_kept():
    from gravity.sources.cepii_gravity import read_cepii_gravity

    df = read_cepii_gravity(data("cepii_gravity", "Gravity_V202211_slice_9ctry_2015_2021.dta"), keep_all=True)
    assert df.shape[1] == 87  # renamed, not dropped
    assert {"exporter", "importer", "colony", "distw", "fta_wto"} <= set(df.columns)


def test_geodist():
    from gravity.sources.geodist import read_geodist, read_geodist_geo

    df = read_geodist(data("geo", "cepii_geodist_dist.csv.gz"))
    assert len(df) == 224 * 224 and df["exporter"].nunique() == 224
    assert df["distw"].isna().sum() == 2215  # README
    assert {"ROU", "COD", "TLS", "PSE"} <= set(df["exporter"])  # legacy ROM/ZAR/TMP/PAL mapped
    geo = read_geodist_geo(data("geo", "cepii_geodist_geo.csv"))
    assert geo["iso3"].is_unique and {"lat", "lon", "landlocked"} <= set(geo.columns)


def test_wdi_databank_csv_and_cross_check_with_cepii(cepii):
    from gravity.sources.wdi import read_wdi

    w = read_wdi(data("macro", "wdi_gdp_2005_2020.csv"))
    assert w["iso3"].nunique() == 217  # README: 217 economies
    assert (w["year"].min(), w["year"].max()) == (2005, 2020)
    assert {"gdp", "gdp_pc"} <= set(w.columns)
    # CEPII takes GDP from WDI: CHN 2018 agrees to 0.1 % (vintages differ slightly)
    g = w.query("iso3 == 'CHN' and year == 2018")["gdp"].iloc[0]
    c = cepii.query("exporter == 'CHN' and year == 2018")["gdp_o"].iloc[0]
    assert g == pytest.approx(c, rel=1e-3)


def test_imf_fd_index():
    from gravity.sources.imf_fd import read_imf_fd

    fd = read_imf_fd(data("findev", "imf_fd_index_1980_2018.csv"))
    rep = fd.attrs["gravity_provenance"]["countries"]
    # README: 190 "countries" = 181 countries + 9 group averages (AM, EM, LIC, regions, all)
    assert rep["n_values"] == 190 and len(rep["aggregates"]) == 9
    assert fd["iso3"].nunique() == 181
    assert (fd["year"].min(), fd["year"].max()) == (1980, 2018)
    v = fd[["fd", "fi", "fm"]].to_numpy()
    assert np.nanmin(v) >= 0 and np.nanmax(v) <= 1
    # ABW 2018 row of the file: FD = 0.29509004950523376
    assert fd.query("iso3 == 'ABW' and year == 2018")["fd"].iloc[0] == pytest.approx(0.29509005, abs=1e-8)


def test_pwt91():
    from gravity.sources.pwt import read_pwt

    p = read_pwt(data("macro", "pwt91_core.csv"))
    assert p["iso3"].nunique() == 182  # README
    assert (p["year"].min(), p["year"].max()) == (1950, 2017)
    # population converted from millions to persons: China 2017 ~1.4 bn
    assert p.query("iso3 == 'CHN' and year == 2017")["pop"].iloc[0] == pytest.approx(1.41e9, rel=0.02)


def test_china_mirror_top5_share_2018():
    from gravity.sources.china_mirror import read_china_mirror, top_partner_share

    m = read_china_mirror(data("china_exports", "china_exports_by_partner_mirror_2014_2025.csv"))
    assert top_partner_share(m, 2018, 5) == pytest.approx(0.4606, abs=5e-5)  # README: 46.06 %
    # the file has reporter "China" (re-imports) in 11 of its 12 years
    assert m.attrs["gravity_provenance"]["dropped"]["reporter China (re-imports)"] == 11
    assert "CHN" not in set(m["importer"])
    usa = m.query("importer == 'USA' and year == 2018")["trade"].iloc[0]
    assert usa == pytest.approx(563_203_119_540.0, rel=1e-12)  # file row: USA 2018, USD
    assert m.attrs["gravity_provenance"]["countries"]["unmatched"] == {}
