"""The seed paper's "five emerging markets or regions" (ASEAN, India, Russia, Africa,
Latin America) as destination groups of ``diversification``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import shared_path

from gravity.countries import iso3_codes
from gravity.margins import diversification, emerging_regions

REGIONS = ("asean", "india", "russia", "africa", "latin_america")


def test_regions_are_disjoint_and_complete():
    g = emerging_regions()
    assert set(g) == {*REGIONS, "five_emerging"}
    assert g["asean"] == {"BRN", "KHM", "IDN", "LAO", "MYS", "MMR", "PHL", "SGP", "THA", "VNM"}
    assert g["india"] == {"IND"} and g["russia"] == {"RUS"}
    assert {"EGY", "NGA", "ZAF", "KEN", "MAR"} <= g["africa"]
    assert {"MEX", "BRA", "ARG", "CUB", "PAN"} <= g["latin_america"]
    assert not ({"CHN", "USA", "JPN", "ESP", "PRT", "TUR"} & g["five_emerging"])
    sizes = sum(len(g[r]) for r in REGIONS)
    assert len(g["five_emerging"]) == sizes  # disjoint
    assert g["five_emerging"] == frozenset().union(*(g[r] for r in REGIONS))
    assert g["five_emerging"] <= set(iso3_codes()) | {"EAT", "EAZ"}  # coco's Tanzania parts


def test_group_share_by_hand():
    g = emerging_regions()
    panel = pd.DataFrame({
        "exporter": "CHN", "year": 2018,
        "importer": ["USA", "IND", "VNM", "NGA", "BRA", "RUS", "JPN"],
        "trade": [50.0, 10.0, 5.0, 3.0, 2.0, 0.0, 30.0]})
    div = diversification(panel, k=5, groups=g).loc[("CHN", 2018)]
    assert div["share_five_emerging"] == pytest.approx(20.0 / 100.0, rel=1e-12)
    assert div["share_india"] == pytest.approx(0.10) and div["share_russia"] == 0.0
    assert div["n_five_emerging"] == 4  # RUS is a zero: not an active destination
    assert div["top5_share"] == pytest.approx(98.0 / 100.0)  # 50 + 30 + 10 + 5 + 3


def test_china_mirror_2018_next_to_the_seed_paper():
    """The seed paper: 26.6% of China's 2018 exports to the five, top-5 share 45.9% (from
    China's own customs data); the partners' mirror imports give 25.70% and 46.06%."""
    from gravity.sources import read_china_mirror

    flows = read_china_mirror(shared_path(
        "data", "china_exports", "china_exports_by_partner_mirror_2014_2025.csv"))
    g = emerging_regions()
    div = diversification(flows, k=5, groups=g).loc[("CHN", 2018)]
    y = flows[flows["year"] == 2018]
    by_hand = y.loc[y["importer"].isin(g["five_emerging"]), "trade"].sum() / y["trade"].sum()
    assert div["share_five_emerging"] == pytest.approx(by_hand, rel=1e-12)
    assert div["share_five_emerging"] == pytest.approx(0.2570, abs=5e-5)
    assert abs(div["share_five_emerging"] - 0.266) < 0.01   # within a point of the paper
    assert div["top5_share"] == pytest.approx(0.4606, abs=5e-5)
    parts = sum(div[f"share_{r}"] for r in REGIONS)
    assert np.isclose(parts, div["share_five_emerging"], rtol=1e-12)
