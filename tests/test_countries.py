"""Country harmonisation: codes, names, conventions, unmatched report."""

from __future__ import annotations

import pandas as pd
import pytest

from gravity.countries import harmonise, to_iso3
from gravity.errors import UnknownCountryError


def test_trade_numeric_codes_map_to_iso3():
    s, rep = harmonise([842, 490, 251, 699, 757, 156, 4, "076"], kind="numeric", source="BACI")
    assert s.tolist() == ["USA", "TWN", "FRA", "IND", "CHE", "CHN", "AFG", "BRA"]
    assert rep.remapped == {"842": "USA", "490": "TWN", "251": "FRA", "699": "IND", "757": "CHE"}
    assert rep.unmatched == {}


def test_legacy_iso3_and_iso2_conventions():
    s, rep = harmonise(["ROM", "ZAR", "TMP", "PAL", "YUG", "S19", "DEU"], kind="iso3")
    assert s.tolist() == ["ROU", "COD", "TLS", "PSE", "SRB", "TWN", "DEU"]
    s2, _ = harmonise(["EL", "NA", "CN"], kind="iso2")
    assert s2.tolist() == ["GRC", "NAM", "CHN"]  # Namibia's "NA" is not a missing value


def test_names_from_wdi_imf_and_comtrade():
    names = ["Korea, Rep.", "Egypt, Arab Rep.", "China, P.R.: Mainland", "Rep. of Korea",
             "China, Hong Kong SAR", "Türkiye", "Congo, Dem. Rep.", "Other Asia, nes",
             "Philippines", "Saint Vincent and the Grenadines"]
    s, rep = harmonise(names, kind="name")
    assert s.tolist() == ["KOR", "EGY", "CHN", "KOR", "HKG", "TUR", "COD", "TWN", "PHL", "VCT"]
    assert rep.unmatched == {} and rep.aggregates == {}


def test_report_lists_aggregates_and_unmatched_with_counts():
    s, rep = harmonise(["World", "World", "Euro Area", "Atlantis", "USA", 899], source="test")
    assert s.isna().tolist() == [True, True, True, True, False, True]
    assert rep.aggregates == {"World": 2, "Euro Area": 1, "899": 1}
    assert rep.unmatched == {"Atlantis": 1}
    assert rep.n_unmatched_rows == 5


def test_to_iso3_raises_with_values_and_rows():
    with pytest.raises(UnknownCountryError) as err:
        to_iso3(pd.Series(["USA", "XXA", "FRA", "XXA"]), kind="iso3", file="f.csv", column="code")
    e = err.value
    assert e.rows == [1, 3] and e.column == "code" and e.file == "f.csv"
    assert "XXA" in str(e)
