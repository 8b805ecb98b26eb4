"""The out-of-core product-level BACI build, on fixtures in the published format.
Reference: the same lines read with pandas and mapped by hand (``v * 1000`` USD, the
release's code table)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_sources_baci import CODES, ROWS_2018, write_baci

import gravity
from gravity.distributed import open_split_dataset, read_group
from gravity.errors import DuplicateKeyError, NegativeValueError, UnknownCountryError
from gravity.sources.baci_products import PROVENANCE_FILE, build_baci_products

ISO = {156: "CHN", 251: "FRA", 490: "TWN", 699: "IND", 842: "USA"}


def _dataset(out: Path) -> pd.DataFrame:
    groups = open_split_dataset(out, "product")
    frame = pd.concat([read_group(g, "product") for g in groups], ignore_index=True)
    return frame.sort_values(["year", "product", "exporter", "importer"], ignore_index=True)


def _by_hand(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["year", "i", "j", "product", "v", "q"])
    out = pd.DataFrame({"year": df["year"], "exporter": df["i"].map(ISO),
                        "importer": df["j"].map(ISO), "trade": df["v"] * 1000.0,
                        "quantity": df["q"].astype(float), "product": df["product"]})
    return out.sort_values(["year", "product", "exporter", "importer"], ignore_index=True)


def test_product_dataset_equals_the_lines_mapped_by_hand(tmp_path):
    rows_2019 = [(2019, 699, 156, "010121", 5.5, 1.0), (2019, 156, 699, "010121", 2.25, None)]
    write_baci(tmp_path / "src", ROWS_2018)
    write_baci(tmp_path / "src", rows_2019, year=2019)
    prov = build_baci_products(tmp_path / "src", tmp_path / "out", memory_limit="200MB",
                               threads=1)
    got = _dataset(tmp_path / "out")
    want = _by_hand(ROWS_2018 + rows_2019)
    pd.testing.assert_frame_equal(got[want.columns], want, check_dtype=False)
    assert sorted(p.name for p in (tmp_path / "out").glob("product=*"))[:2] == [
        "product=010121", "product=080211"]  # HS6 codes as text, leading zeros kept
    assert prov["rows_written"] == prov["rows_read"] == 9 and prov["products"] == 6
    assert prov["memory_limit"] == "200MB" and prov["dropped_lines"] == 0
    on_disk = json.loads((tmp_path / "out" / PROVENANCE_FILE).read_text())
    assert on_disk["rows_written"] == 9 and len(on_disk["files"]) == 2
    # years filter: only the files of those years are read
    prov = build_baci_products(tmp_path / "src", tmp_path / "out", years=[2019],
                               overwrite=True)
    assert prov["rows_written"] == 2 and _dataset(tmp_path / "out")["year"].eq(2019).all()


def test_two_codes_of_one_country_are_summed(tmp_path):
    codes = CODES + "250,France (old code),FR,FRA\n"
    rows = [(2018, 251, 842, "080211", 1.0, 1.0), (2018, 250, 842, "080211", 2.0, 1.0),
            (2018, 156, 842, "080211", 4.0, None)]
    write_baci(tmp_path / "src", rows, codes=codes)
    prov = build_baci_products(tmp_path / "src", tmp_path / "out")
    got = _dataset(tmp_path / "out").set_index("exporter")
    assert prov["merged_codes"] and len(got) == 2
    assert got.loc["FRA", "trade"] == 3000.0 and got.loc["CHN", "trade"] == 4000.0


@pytest.mark.parametrize("bad_rows, error", [
    ([(2018, 156, 842, "080211", -1.0, None)], NegativeValueError),
    ([(2018, 156, 842, "080211", 1.0, None)] * 2, DuplicateKeyError),
    ([(2018, 156, 111, "080211", 1.0, None)], UnknownCountryError),
])
def test_the_readers_checks_apply_and_nothing_is_written(tmp_path, bad_rows, error):
    write_baci(tmp_path / "src", ROWS_2018 + bad_rows)
    with pytest.raises(error):
        build_baci_products(tmp_path / "src", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_existing_output_is_not_overwritten_silently(tmp_path):
    write_baci(tmp_path / "src", ROWS_2018)
    (tmp_path / "out").mkdir()
    with pytest.raises(FileExistsError):
        build_baci_products(tmp_path / "src", tmp_path / "out")


def test_one_fit_per_product_from_the_built_dataset(tmp_path):
    """End to end: a product panel written by the builder, one PPML per product."""
    rng = np.random.default_rng(0)
    codes = list(ISO)
    rows = []
    for k in ("010121", "847130"):
        for i in codes:
            for j in codes:
                if i != j:
                    rows.append((2018, i, j, k, float(rng.integers(1, 50)), None))
    write_baci(tmp_path / "src", rows)
    build_baci_products(tmp_path / "src", tmp_path / "out")
    many = gravity.estimate_many("trade ~ 1 | exporter + importer",
                                 dataset=str(tmp_path / "out"), split="product")
    assert [k.sample for k in many.keys] == ["010121", "847130"] and not many.failed
    group = open_split_dataset(tmp_path / "out", "product")[1]
    single = gravity.ppml("trade ~ 1 | exporter + importer", read_group(group, "product"))
    np.testing.assert_allclose(many[1].fittedvalues.to_numpy(),
                               single.fittedvalues.to_numpy(), rtol=1e-10)
    # PPML with exporter and importer effects reproduces each exporter's total
    fit = many[1].fittedvalues.groupby(single.record.fe_codes[0]).sum().to_numpy()
    y = pd.Series(single.record.y).groupby(single.record.fe_codes[0]).sum().to_numpy()
    np.testing.assert_allclose(fit / fit.sum(), y / y.sum(), rtol=1e-8)
