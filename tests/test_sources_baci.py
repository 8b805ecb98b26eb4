"""BACI reader on fixtures written here in the published format (t,i,j,k,v,q)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gravity.errors import (
    CoverageError,
    DuplicateKeyError,
    MissingColumnError,
    NegativeValueError,
    UnitsError,
    UnknownCountryError,
)
from gravity.sources.baci import read_baci

CODES = """country_code,country_name,country_iso2,country_iso3
156,China,CN,CHN
251,France,FR,FRA
490,"Other Asia, nes",,S19
699,India,IN,IND
842,USA,US,USA
"""

# v in thousand USD, padded as in the published files; q "NA" when unknown
ROWS_2018 = [
    # t, i, j, k, v, q
    (2018, 156, 842, "080211", 100.5, 2.0),
    (2018, 156, 842, "010121", 0.0, None),  # a zero-value line: not a product with v > 0
    (2018, 156, 842, "851712", 900.25, 1.5),
    (2018, 156, 251, "851712", 40.0, None),
    (2018, 842, 156, "120190", 3000.0, 10.0),
    (2018, 490, 842, "854231", 7.125, 0.1),
    (2018, 251, 490, "220421", 1.0, 0.2),
]


def write_baci(folder: Path, rows, year: int = 2018, version: str = "V202401b", codes: str = CODES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"country_codes_{version}.csv").write_text(codes)
    p = folder / f"BACI_HS17_Y{year}_{version}.csv"
    lines = ["t,i,j,k,v,q"]
    for t, i, j, k, v, q in rows:
        qs = "          NA" if q is None else f"{q:12.3f}"
        lines.append(f'{t},{i},{j},"{k}",{v:12.3f},{qs}')
    p.write_text("\n".join(lines) + "\n")
    return p


def test_aggregation_units_codes_and_product_counts(tmp_path):
    p = write_baci(tmp_path, ROWS_2018)
    df = read_baci(p, progress=False)
    got = df.set_index(["exporter", "importer"])
    # CHN -> USA: (100.5 + 0 + 900.25) thousand USD = 1,000,750 USD; 2 HS6 lines with v > 0 of 3
    assert got.loc[("CHN", "USA"), "trade"] == pytest.approx(1_000_750.0)
    assert got.loc[("CHN", "USA"), "n_products"] == 2
    assert got.loc[("CHN", "USA"), "n_lines"] == 3
    assert got.loc[("CHN", "USA"), "quantity"] == pytest.approx(3.5)  # NA quantity skipped
    # numeric 842 -> USA, 251 -> FRA, 490 / "S19" -> TWN
    assert got.loc[("TWN", "USA"), "trade"] == pytest.approx(7_125.0)
    assert got.loc[("FRA", "TWN"), "trade"] == pytest.approx(1_000.0)
    assert len(df) == 5 and set(df["year"]) == {2018}
    prov = df.attrs["gravity_provenance"]
    assert prov["rows_read"] == 7 and prov["version"] == "V202401b" and prov["units_out"] == "usd"
    assert len(prov["files"][0]["sha256"]) == 64


def test_two_years_year_filter_and_coverage(tmp_path):
    write_baci(tmp_path, ROWS_2018, year=2018)
    write_baci(tmp_path, [(2019, 156, 842, "080211", 5.0, 1.0)], year=2019)
    df = read_baci(tmp_path, progress=False)  # folder of yearly files
    assert sorted(df["year"].unique()) == [2018, 2019]
    one = read_baci(tmp_path, years=[2019], progress=False)
    assert one["trade"].tolist() == [5000.0]
    cov = one.attrs["gravity_coverage"]
    assert sorted(cov["iso3"]) == ["CHN", "USA"] and cov["side"] == "both"
    with pytest.raises(CoverageError):
        read_baci(tmp_path / "BACI_HS17_Y2019_V202401b.csv", years=[2017, 2019], progress=False)


def test_zeros_and_missing_in_built_panel(tmp_path):
    from gravity.panel.builder import build_panel

    df = read_baci(write_baci(tmp_path, ROWS_2018), progress=False)
    panel, prov = build_panel(df, countries=["CHN", "USA", "FRA", "IND"], bri=None)
    t = panel.set_index(["exporter", "importer"])["trade"]
    assert t[("CHN", "USA")] == pytest.approx(1_000_750.0)
    assert t[("USA", "FRA")] == 0.0  # both in the 2018 file, no flow: a true zero
    assert np.isnan(t[("IND", "USA")]) and np.isnan(t[("FRA", "IND")])  # India absent: missing
    npd = panel.set_index(["exporter", "importer"])["n_products"]
    assert npd[("USA", "FRA")] == 0 and npd[("CHN", "USA")] == 2
    assert len(panel) == 4 * 3  # squared, no intra-national rows
    assert prov["counts"]["trade_zero"] == 3 and prov["counts"]["trade_missing"] == 6
    assert prov["dropped"] == {"flows outside the chosen countries/years or intra-national": 2}


def test_duplicate_lines_raise(tmp_path):
    rows = ROWS_2018 + [(2018, 156, 842, "080211", 1.0, 1.0)]
    with pytest.raises(DuplicateKeyError) as err:
        read_baci(write_baci(tmp_path, rows), progress=False)
    assert err.value.rows == [0, 7] and "BACI_HS17_Y2018" in str(err.value)


def test_negative_values_raise_with_rows(tmp_path):
    rows = ROWS_2018 + [(2018, 842, 251, "300490", -2.0, None)]
    with pytest.raises(NegativeValueError) as err:
        read_baci(write_baci(tmp_path, rows), progress=False)
    assert err.value.rows == [7] and err.value.column == "v"


def test_unknown_country_code_listed(tmp_path):
    rows = ROWS_2018 + [(2018, 999, 842, "300490", 2.0, None)]
    with pytest.raises(UnknownCountryError) as err:
        read_baci(write_baci(tmp_path, rows), progress=False)
    assert "999" in str(err.value)


def test_units(tmp_path):
    p = write_baci(tmp_path, ROWS_2018)
    usd = read_baci(p, units="usd", progress=False)
    assert usd.loc[(usd.exporter == "CHN") & (usd.importer == "USA"), "trade"].item() == pytest.approx(1000.75)
    with pytest.raises(UnitsError):
        read_baci(p, units="thousands", progress=False)
    # a file already in USD read as thousand USD: an exporter above USD 20 trillion is impossible
    big = write_baci(tmp_path / "big", [(2018, 156, 842, "851712", 5e10, 1.0)])
    with pytest.raises(UnitsError):
        read_baci(big, progress=False)


def test_missing_column(tmp_path):
    p = tmp_path / "BACI_HS17_Y2018_V202401b.csv"
    p.write_text("t,i,j,k,value\n2018,156,842,\"080211\",1.0\n")
    with pytest.raises(MissingColumnError):
        read_baci(p, country_codes=None, progress=False)
