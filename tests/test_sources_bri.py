"""The package's BRI table against the two shared lists (README figures)."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gravity.sources.bri import (
    bri_in_force,
    compare_bri_lists,
    load_bri,
    read_bri_list_a,
    read_bri_list_b,
)

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "bri"


@pytest.fixture(scope="module")
def lists():
    a, b = SHARED / "bri_mou_list_a.csv", SHARED / "bri_join_list_b.csv"
    if not (a.exists() and b.exists()):
        pytest.skip("shared BRI lists not available")
    return read_bri_list_a(a), read_bri_list_b(b)


def test_lists_parse_as_readme_says(lists):
    a, b = lists
    assert len(a) == 151 and a["year"].isna().sum() == 4  # README: 151 rows, 4 without a year
    assert len(b) == 152  # README: 152 countries
    c = compare_bri_lists(a, b)
    both = c[c["year_a"].notna() & c["year_b"].notna()]
    assert len(both) == 145 and int(both["agree"].sum()) == 104  # README: agree for 104 of 145
    # list B's coding errors corrected: Congo / DR Congo, Dominican Republic, Namibia
    yb = b.set_index("iso3")["year"]
    assert yb["COG"] == 2018 and yb["COD"] == 2021 and yb["DOM"] == 2018 and yb["NAM"] == 2018


def test_package_table_covers_both_lists_with_sources(lists):
    a, b = lists
    t = load_bri()
    union = set(a["iso3"]) | set(b["iso3"])
    assert set(t["iso3"]) == union and len(t) == 154
    assert (t["source"].str.len() > 0).all() and t["year"].between(2013, 2023).all()
    assert t.set_index("iso3").loc["CHN", "year"] == 2013
    # where the lists agree the table agrees with them
    c = compare_bri_lists(a, b).set_index("iso3")
    agree = c.index[c["agree"]]
    assert (t.set_index("iso3").loc[agree, "year"].to_numpy() == c.loc[agree, "year_a"].to_numpy()).all()


def test_every_disagreement_documented(lists):
    a, b = lists
    c = compare_bri_lists(a, b)
    dis = c.loc[~c["agree"] & (c["iso3"] != "CHN")]
    assert len(dis) == 41 + 4 + 4  # years differ, list A without a year, in one list only
    md = resources.files("gravity.data").joinpath("bri_participants.md").read_text(encoding="utf-8")
    chosen = load_bri().set_index("iso3")["year"]
    rows = {m.group(1): int(m.group(2)) for m in
            re.finditer(r"^\| ([A-Z]{3}) \|[^|]*\|[^|]*\|[^|]*\| (\d{4}) \|", md, flags=re.M)}
    assert set(rows) == set(dis["iso3"])
    for iso in dis["iso3"]:
        assert rows[iso] == chosen[iso], iso  # the documented value is the one in the table
    assert "How current it is" in md and "end of 2023" in md


def test_in_force_with_withdrawal():
    t = load_bri()
    iso = pd.Series(["ITA", "ITA", "ITA", "PAN", "PAN", "USA", "CHN", "CHN", "HUN"])
    yr = np.array([2018, 2019, 2024, 2024, 2025, 2020, 2012, 2013, 2015])
    assert bri_in_force(iso, yr, t).tolist() == [0, 1, 0, 1, 0, 0, 0, 1, 1]


def test_user_table(tmp_path):
    p = tmp_path / "my_bri.csv"
    p.write_text("iso3,year\nPAK,2015\n")
    t = load_bri(p)
    assert t.set_index("iso3")["year"].to_dict() == {"PAK": 2015, "CHN": 2013}  # China added
