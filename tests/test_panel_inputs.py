"""build_panel on adversarial inputs: missing flows, no flows, bad years, keys and covariates.

Semantics checked here (documented in gravity.panel.builder):

* a flow *reported* missing (a row of ``flows`` with trade NaN) stays NaN, even for a
  covered pair, and is counted in the provenance; only an *absent* flow of a covered
  pair becomes a true zero;
* without ``flows`` the trade comes from ``gravity`` only when ``trade_column`` names
  one of its flow columns; otherwise a typed error (never a panel with trade NaN
  everywhere);
* every input frame: keys present, not missing, unique; integer years; numeric
  covariates without infinite values -- each a typed error naming the input.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gravity.errors import (
    DuplicateKeyError,
    FileFormatError,
    InputError,
    MissingColumnError,
    MissingValueError,
)
from gravity.panel.builder import build_panel


def flows3() -> pd.DataFrame:
    """FRA, DEU, ITA in 2000: every country reports (inferred coverage), one flow NaN."""
    return pd.DataFrame({
        "exporter": ["FRA", "DEU", "FRA", "ITA"],
        "importer": ["DEU", "FRA", "ITA", "FRA"],
        "year": [2000, 2000, 2000, 2000],
        "trade": [5.0, 7.0, np.nan, 3.0],
    })


def test_reported_missing_flow_stays_missing():
    """The issue's first case: a NaN flow became a true zero, with nothing in the provenance."""
    panel, prov = build_panel(flows3(), bri=None, remoteness=False)
    t = panel.set_index(["exporter", "importer"])["trade"]
    assert np.isnan(t[("FRA", "ITA")])  # reported, value missing: not a zero
    assert t[("DEU", "ITA")] == 0.0 and t[("ITA", "DEU")] == 0.0  # absent, covered: true zeros
    assert prov["counts"]["trade_reported_missing"] == 1
    assert prov["counts"]["trade_zero_filled"] == 2
    assert prov["counts"]["trade_missing"] == 1 and prov["counts"]["trade_zero"] == 2


def test_reported_missing_flow_from_a_reader(tmp_path):
    """Comtrade: a covered reporter's flow with an empty value stays NaN in the panel."""
    from gravity.sources.comtrade import read_comtrade

    head = "refYear,reporterCode,flowCode,partnerCode,cmdCode,primaryValue\n"
    p = tmp_path / "comtrade_2018.csv"
    p.write_text(head + "2018,156,X,842,TOTAL,\n2018,156,X,490,TOTAL,4.8e10\n"
                 "2018,842,X,156,TOTAL,1.2e11\n", encoding="utf-8")
    flows = read_comtrade(p)
    panel, prov = build_panel(flows, countries=["CHN", "USA", "TWN"], bri=None)
    t = panel.set_index(["exporter", "importer"])["trade"]
    assert np.isnan(t[("CHN", "USA")])  # reported by China (covered), value empty
    assert t[("USA", "TWN")] == 0.0  # the United States report, no flow to Taiwan: a zero
    assert prov["counts"]["trade_reported_missing"] == 1


def test_gravity_without_flows_needs_a_trade_column():
    g = pd.DataFrame({
        "exporter": ["FRA", "DEU"], "importer": ["DEU", "FRA"], "year": [2000, 2000],
        "dist": [880.0, 880.0], "tradeflow_baci": [5.0, np.nan],
    })
    with pytest.raises(MissingColumnError) as err:
        build_panel(gravity=g, bri=None)
    assert err.value.column == "trade" and "trade_column" in str(err.value)
    panel, prov = build_panel(gravity=g, trade_column="tradeflow_baci", bri=None, remoteness=False)
    t = panel.set_index(["exporter", "importer"])["trade"]
    assert t[("FRA", "DEU")] == 5.0 and np.isnan(t[("DEU", "FRA")])  # CEPII: no true zeros
    assert panel["dist"].tolist() == [880.0, 880.0]
    assert prov["parameters"]["trade_column"] == "tradeflow_baci"
    with pytest.raises(MissingColumnError):
        build_panel(gravity=g, trade_column="tradeflow_imf_o", bri=None)
    with pytest.raises(InputError):
        build_panel(flows3(), gravity=g, trade_column="tradeflow_baci", bri=None)


@pytest.mark.parametrize("year", ["2000.5", 2000.5, "abc", None])
def test_flow_year_that_is_not_an_integer(year):
    """The issue's case: a non-integer year raised a pandas InvalidIndexError."""
    f = flows3().astype({"year": object})
    f.loc[2, "year"] = year
    err_type = MissingValueError if year is None else FileFormatError
    with pytest.raises(err_type) as err:
        build_panel(f, bri=None)
    assert err.value.column == "year" and err.value.rows == [2] and err.value.file == "flows"


def test_float_years_that_are_integers_are_accepted():
    panel, _ = build_panel(flows3().astype({"year": float}), bri=None, remoteness=False)
    assert panel["year"].unique().tolist() == [2000]


def test_requested_years_must_be_integers():
    with pytest.raises(InputError) as err:
        build_panel(flows3(), years=[2000.5], bri=None)
    assert err.value.column == "years"


@pytest.mark.parametrize("value", [np.inf, "12abc"])
def test_trade_that_is_infinite_or_text(value):
    f = flows3().astype({"trade": object})
    f.loc[1, "trade"] = value
    with pytest.raises(FileFormatError) as err:
        build_panel(f, bri=None)
    assert err.value.column == "trade" and err.value.rows == [1]


def test_missing_country_key():
    f = flows3()
    f.loc[3, "exporter"] = None
    with pytest.raises(MissingValueError) as err:
        build_panel(f, bri=None)
    assert err.value.column == "exporter" and err.value.rows == [3]


def test_repeated_keys_in_covariate_tables():
    g = pd.DataFrame({"exporter": ["FRA", "FRA"], "importer": ["DEU", "DEU"], "year": [2000, 2000],
                      "dist": [880.0, 881.0]})
    with pytest.raises(DuplicateKeyError) as err:
        build_panel(flows3(), gravity=g, bri=None)
    assert err.value.file == "gravity" and err.value.rows == [0, 1]
    geo = pd.DataFrame({"exporter": ["FRA", "FRA"], "importer": ["DEU", "DEU"], "dist": [880.0, 881.0]})
    with pytest.raises(DuplicateKeyError) as err:
        build_panel(flows3(), geodist=geo, bri=None)
    assert err.value.file == "geodist"
    macro = pd.DataFrame({"iso3": ["FRA", "FRA"], "year": [2000, 2000], "gdp": [1.0, 2.0]})
    with pytest.raises(DuplicateKeyError) as err:
        build_panel(flows3(), macro=macro, bri=None)
    assert err.value.file == "macro"


def test_covariate_with_text_or_inf():
    macro = pd.DataFrame({"iso3": ["FRA", "DEU", "ITA"], "year": [2000] * 3, "gdp": ["1e12", "n/a?", "2e12"]})
    with pytest.raises(FileFormatError) as err:
        build_panel(flows3(), macro=macro, bri=None)
    assert err.value.column == "gdp" and err.value.rows == [1] and err.value.file == "macro"
    geo = pd.DataFrame({"exporter": ["FRA"], "importer": ["DEU"], "dist": [np.inf]})
    with pytest.raises(FileFormatError) as err:
        build_panel(flows3(), geodist=geo, bri=None)
    assert err.value.column == "dist"


def test_macro_year_that_is_not_an_integer():
    macro = pd.DataFrame({"iso3": ["FRA", "DEU"], "year": [2000.0, 2000.5], "gdp": [1.0, 2.0]})
    with pytest.raises(FileFormatError) as err:
        build_panel(flows3(), macro=macro, bri=None)
    assert err.value.column == "year" and err.value.rows == [1] and err.value.file == "macro"


def test_repeated_countries_are_one_country():
    panel, _ = build_panel(flows3(), countries=["FRA", "DEU", "FRA", "ITA"], bri=None, remoteness=False)
    assert len(panel) == 3 * 2


def test_bad_coverage_side_and_tariff_columns():
    with pytest.raises(InputError) as err:
        build_panel(flows3(), coverage=pd.DataFrame({"iso3": ["FRA"], "year": [2000]}),
                    coverage_side="reporters", bri=None)
    assert err.value.column == "coverage_side"
    tariffs = pd.DataFrame({"importer": ["FRA"], "exporter": ["DEU"], "year": [2000], "rate": [3.0]})
    with pytest.raises(MissingColumnError):
        build_panel(flows3(), tariffs=tariffs, bri=None)
