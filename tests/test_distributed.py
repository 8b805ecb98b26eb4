"""Split estimation on Dask (a LocalCluster started here) and from a Parquet dataset
partitioned by the split column. Reference: the sequential collection (itself equal
to separate single fits, tests/test_multiple.py); the Dask one must be identical:
same order, same keys, same numbers to the last bit, same row labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import simulated_panel

import gravity
from gravity.distributed import open_split_dataset, read_group, write_split_dataset
from gravity.errors import InputError
from gravity.estimation.multiple import FailedFit

pytest.importorskip("distributed")

FORMULA = "c(y, y2) ~ csw(ln_dist, rta) | exporter + importer"


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    df = simulated_panel(10, 10, 6, seed=5)
    df["product"] = np.array(["010121", "020110", "847130"])[df["year"] % 3]
    df["y2"] = df["y"] * 2.0 + (df["importer"] % 2)
    df.index = df.index * 10 + 7  # labels that are not positions
    return df


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                           dashboard_address=":0")
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()


def assert_identical(a: gravity.MultipleResults, b: gravity.MultipleResults) -> None:
    assert len(a) == len(b)
    for (ka, ra), (kb, rb) in zip(a.items(), b.items(), strict=True):
        assert ka == kb
        assert type(ra) is type(rb)
        if isinstance(ra, FailedFit):
            assert (ra.error_type, ra.message) == (rb.error_type, rb.message)
            continue
        assert ra.params.index.equals(rb.params.index)
        assert np.array_equal(ra.params.to_numpy(), rb.params.to_numpy())
        assert np.array_equal(ra.bse.to_numpy(), rb.bse.to_numpy())
        assert ra.resid.index.equals(rb.resid.index)
        assert ra.dropped == rb.dropped


def test_dask_equals_sequential(panel, client):
    seq = gravity.estimate_many(FORMULA, panel, split="product")
    par = gravity.estimate_many(FORMULA, panel, split="product", client=client)
    assert_identical(seq, par)
    assert [k.sample for k in par.keys[::4]] == ["010121", "020110", "847130"]
    # and each group equals its own single fit
    one = gravity.ppml("y2 ~ ln_dist + rta | exporter + importer",
                       panel[panel["product"] == "020110"])
    res = par.select(sample="020110", lhs="y2", rhs="ln_dist + rta")[0]
    np.testing.assert_allclose(res.params, one.params, rtol=0, atol=1e-10)
    assert res.resid.index.equals(one.resid.index)


def test_parquet_dataset_round_trip_and_sequential_engine(panel, tmp_path):
    groups = write_split_dataset(panel, "product", tmp_path / "ds")
    assert [g.value for g in groups] == ["010121", "020110", "847130"]
    assert sorted(p.name for p in (tmp_path / "ds").iterdir()) == [
        "product=010121", "product=020110", "product=847130"]
    back = read_group(groups[1], "product")
    pd.testing.assert_frame_equal(back, panel[panel["product"] == "020110"])
    seq = gravity.estimate_many(FORMULA, panel, split="product")
    from_disk = gravity.estimate_many(FORMULA, dataset=str(tmp_path / "ds"), split="product")
    assert_identical(seq, from_disk)


def test_dataset_written_by_another_tool(panel, tmp_path, client):
    """A Hive dataset whose files lack the split column (DuckDB/pyarrow style): the
    group values come from the directory names, as text (leading zeros kept)."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    table = pa.Table.from_pandas(panel.reset_index(drop=True), preserve_index=False)
    part = ds.partitioning(pa.schema([("product", pa.string())]), flavor="hive")
    ds.write_dataset(table, tmp_path / "hive", format="parquet", partitioning=part)
    groups = open_split_dataset(tmp_path / "hive", "product")
    assert [g.value for g in groups] == ["010121", "020110", "847130"]
    par = gravity.estimate_many("y ~ ln_dist | exporter + importer",
                                dataset=str(tmp_path / "hive"), split="product",
                                client=client.scheduler.address)  # an address: a client
    # of its own, closed at the end (the cluster stays up)
    seq = gravity.estimate_many("y ~ ln_dist | exporter + importer",
                                panel.reset_index(drop=True), split="product")
    for a, b in zip(par, seq, strict=True):
        np.testing.assert_allclose(a.params, b.params, rtol=0, atol=1e-10)
    with pytest.raises(InputError, match="not partitioned by 'sector'"):
        open_split_dataset(tmp_path / "hive", "sector")


def test_unreadable_group_is_recorded_after_retries(panel, tmp_path, client):
    write_split_dataset(panel, "product", tmp_path / "ds")
    bad = tmp_path / "ds" / "product=020110" / "part-0.parquet"
    bad.write_bytes(b"not a parquet file")
    many = gravity.estimate_many("y ~ ln_dist | exporter", dataset=str(tmp_path / "ds"),
                                 split="product", client=client, retries=1)
    assert [type(r).__name__ for r in many] == ["PoissonResults", "FailedFit",
                                                "PoissonResults"]
    assert many[1].key.sample == "020110"


def test_default_local_cluster_with_progress_bar(panel, capsys):
    """No client: a LocalCluster of worker processes is started and closed by the call."""
    small = panel[panel["year"] < 2003]
    many = gravity.estimate_many("y ~ ln_dist | exporter + importer", small,
                                 split="product", engine="dask", n_workers=2,
                                 memory_limit="1GiB", show_progress=True)
    seq = gravity.estimate_many("y ~ ln_dist | exporter + importer", small, split="product")
    assert_identical(seq, many)
    assert "product groups" in capsys.readouterr().err


@pytest.mark.parametrize("kwargs, match", [
    ({"engine": "spark"}, "engine must be"),
    ({"engine": "dask"}, "need split="),
    ({"engine": "dask", "split": "product", "data": None}, "give data="),
])
def test_bad_engine_calls(panel, kwargs, match):
    kwargs = {"data": panel, **kwargs}
    with pytest.raises(ValueError, match=match):
        gravity.estimate_many("y ~ ln_dist | exporter", **kwargs)

