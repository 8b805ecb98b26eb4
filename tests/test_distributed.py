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


def test_groups_of_a_chunk_fail_alone(panel, tmp_path, client, monkeypatch):
    """Three groups in one task: an unreadable group is recorded by itself; a task
    lost beyond its retries is sent again one group per task, so that only the group
    that still fails is recorded (in-process workers: the patch reaches them)."""
    import gravity.distributed.engine as engine

    write_split_dataset(panel, "product", tmp_path / "ds")
    bad = tmp_path / "ds" / "product=847130" / "part-0.parquet"
    bad.write_bytes(b"not a parquet file")
    formula = "y ~ ln_dist | exporter"
    many = gravity.estimate_many(formula, dataset=str(tmp_path / "ds"), split="product",
                                 client=client, chunk_size=3)
    assert [type(r).__name__ for r in many] == ["PoissonResults", "PoissonResults",
                                                "FailedFit"]
    write_split_dataset(panel, "product", tmp_path / "ds")  # repaired
    real = engine.fit_groups
    sizes: list[int] = []

    def lost(groups, ids, *args):  # the worker of 020110 dies, whatever its company
        sizes.append(len(groups))
        if any(g.value == "020110" for g in groups):
            raise RuntimeError("worker lost")
        return real(groups, ids, *args)

    monkeypatch.setattr(engine, "fit_groups", lost)
    many = gravity.estimate_many(formula, dataset=str(tmp_path / "ds"), split="product",
                                 client=client, chunk_size=3, retries=0)
    assert sorted(sizes) == [1, 1, 1, 3]
    assert [type(r).__name__ for r in many] == ["PoissonResults", "FailedFit",
                                                "PoissonResults"]
    assert many[1].error_type == "RuntimeError" and many[1].key.sample == "020110"
    seq = gravity.estimate_many(formula, panel, split="product")
    np.testing.assert_array_equal(many[2].params, seq[2].params)


def test_plan_chunks():
    from gravity.distributed import plan_chunks

    # about TASK_ROWS rows per task, at least 4 tasks per worker; towards the end at
    # most a quarter (2 workers) or a half (1 worker) of the rows left per task
    assert plan_chunks([200_000] * 40, workers=1) == (
        [[i, i + 1] for i in range(0, 38, 2)] + [[38], [39]])
    assert plan_chunks([100_000] * 6, workers=1) == [[0, 1], [2, 3], [4], [5]]
    assert plan_chunks([100_000] * 6, workers=2) == [[i] for i in range(6)]
    assert plan_chunks([10] * 80, workers=2) == (
        [list(range(i, i + 10)) for i in range(0, 50, 10)]
        + [list(range(50, 58)), list(range(58, 64)), list(range(64, 68)), [68, 69, 70],
           [71, 72, 73], [74, 75], [76], [77], [78], [79]])
    assert plan_chunks([1_000_000, 5, 5], workers=2) == [[0], [1], [2]]
    assert plan_chunks([None, None, 5], workers=1, chunk_size=2) == [[0, 1], [2]]
    assert plan_chunks([], workers=2) == []
    with pytest.raises(ValueError, match="chunk_size"):
        plan_chunks([1, 2], workers=1, chunk_size=0)


@pytest.mark.parametrize("workers", [1, 2, 3, 8])
@pytest.mark.parametrize("sizes", ["equal", "random", "unknown"])
def test_plan_chunks_cover_and_shrink(workers, sizes):
    """Any sizes: the chunks are the groups in order, each once; a chunk without its
    last group carries less than TASK_ROWS rows and less than 1 / (TAIL_SHARE x
    workers) of the rows left when it starts (guided self-scheduling); with equal
    groups the last chunk of each worker is a single group."""
    from gravity.distributed import plan_chunks
    from gravity.distributed.tasks import TAIL_SHARE, TASK_ROWS

    rng = np.random.default_rng(workers)
    n = 600
    rows = {"equal": [15_000] * n, "random": list(rng.integers(1, 60_000, n)),
            "unknown": [None] * n}[sizes]
    chunks = plan_chunks(rows, workers)
    assert [j for c in chunks for j in c] == list(range(n))
    known = [r if r is not None else TASK_ROWS // 20 for r in rows]
    left = sum(known)
    for c in chunks:
        load = sum(known[j] for j in c)
        assert load - known[c[-1]] < min(TASK_ROWS, left / (TAIL_SHARE * workers))
        left -= load
    if sizes != "random":
        assert all(len(c) == 1 for c in chunks[-workers:])
    assert len(chunks) >= 4 * workers


def test_workers_read_only_the_models_columns(panel, tmp_path):
    """A dataset with other columns (text): the models' columns and the index are
    read; a column the models name but the files lack is the fit's own error."""
    from gravity.distributed.tasks import needed_columns
    from gravity.multiformula import expand_formula

    extra = panel.assign(note="text", other=1.0)
    groups = write_split_dataset(extra, "product", tmp_path / "ds")
    specs = expand_formula(FORMULA)
    cols = needed_columns(specs, {"vcov": {"CRV1": "exporter"}}, "product")
    assert cols is not None and {"y", "y2", "ln_dist", "rta", "exporter", "importer",
                                 "product"} <= cols and "note" not in cols
    back = read_group(groups[0], "product", columns=cols)
    assert "note" not in back.columns and "other" not in back.columns
    pd.testing.assert_frame_equal(back, panel[panel["product"] == "010121"][back.columns])
    assert needed_columns(specs, {"weights": np.ones(3)}, "product") is None
    assert needed_columns(expand_formula("y ~ Q('ln dist')"), {}, "product") is None
    many = gravity.estimate_many("y ~ ln_dist | exporter", dataset=str(tmp_path / "ds"),
                                 split="product", weights="nope")
    seq = gravity.estimate_many("y ~ ln_dist | exporter", extra, split="product",
                                weights="nope")
    assert [(r.error_type, r.message) for r in many] == [(r.error_type, r.message)
                                                         for r in seq]


def test_local_cluster_sets_the_workers_allocator(client):
    """local_cluster's worker processes get the malloc thresholds (Dask's own setting
    doubles the CPU of small fits); this process's environment is left as it was."""
    import os

    from distributed import Client

    from gravity.distributed import local_cluster
    from gravity.distributed.tasks import WORKER_ENVIRON

    keys = [*WORKER_ENVIRON, "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"]
    before = {k: os.environ.get(k) for k in keys}
    cluster = local_cluster(n_workers=1, memory_limit="1GiB")
    try:
        with Client(cluster) as c:
            env = c.run(lambda: {k: os.environ.get(k) for k in WORKER_ENVIRON})
            assert list(env.values()) == [WORKER_ENVIRON]
            assert list(c.run(lambda: os.environ.get("OMP_NUM_THREADS")).values()) == ["1"]
    finally:
        cluster.close()
    assert {k: os.environ.get(k) for k in keys} == before


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



def test_results_come_straight_from_local_workers(client):
    """A LocalCluster's results are fetched from its workers (not relayed by the
    scheduler), unless the client says otherwise; a client of a scheduler address keeps
    Dask's default."""
    from distributed import Client

    from gravity.distributed.engine import gather_direct

    assert gather_direct(client) is True
    address = client.scheduler.address
    with Client(address, direct_to_workers=False) as other:
        assert gather_direct(other) is False
    with Client(address) as other:
        assert gather_direct(other) is None


def test_results_travel_as_one_buffer(panel, tmp_path, monkeypatch):
    """A task's results pickled into one buffer come back equal to the results sent as
    they are (Dask's own serialisation); what plain pickle cannot take is sent as it
    is."""
    from gravity.distributed import engine
    from gravity.multiformula import expand_formula

    groups = write_split_dataset(panel, "product", tmp_path / "ds")
    kwargs = {"column": "product", "specs": expand_formula(FORMULA), "model": "ppml",
              "options": {}, "numba_threads": 1, "columns": None}
    blob = engine._task(groups, [0, 1, 2], **kwargs)
    plain = engine._task(groups, [0, 1, 2], **kwargs, one_buffer=False)
    assert isinstance(blob, np.ndarray) and blob.dtype == np.uint8
    back = engine._unship(blob)
    flat = [e for part in back for e in part]
    assert len(flat) == 12
    assert_identical(gravity.MultipleResults(flat),
                     gravity.MultipleResults([e for part in plain for e in part]))
    monkeypatch.setattr(engine, "fit_groups", lambda *a: [[(lambda: 0)]])
    odd = engine._task(groups[:1], [0], **kwargs)
    assert isinstance(odd, list) and engine._unship(odd) == odd


def assert_same_numbers(full: gravity.MultipleResults, lean: gravity.MultipleResults
                        ) -> None:
    """A lean collection holds lean results with the full collection's numbers."""
    assert lean.keys == full.keys
    for (_, rf), (_, rl) in zip(full.items(), lean.items(), strict=True):
        assert type(rf) is type(rl)
        if isinstance(rf, FailedFit):
            assert (rf.error_type, rf.message) == (rl.error_type, rl.message)
            continue
        assert rl.is_lean and not rf.is_lean
        assert str(rl.summary()) == str(rf.summary())
        pd.testing.assert_frame_equal(rl.vcov, rf.vcov, check_exact=True)
    for table in ("coef", "se", "models"):
        pd.testing.assert_frame_equal(getattr(lean, table)(), getattr(full, table)(),
                                      check_exact=True)
    pd.testing.assert_frame_equal(lean.tidy(), full.tidy(), check_exact=True)


@pytest.mark.parametrize("model, formula, kw", [
    ("ppml", FORMULA, {}),
    ("ols", "ln_dist ~ csw(rta, x) | exporter", {"vcov": "hetero"}),
    ("logit", "b ~ ln_dist + rta | exporter", {"vcov": {"CRV1": "importer"}}),
])
def test_lean_collections_sequential_and_dask(panel, client, model, formula, kw):
    """lean=True gives the full collection's numbers, in this process and on Dask
    (where the results are made lean on the workers), and the Dask lean collection
    is the sequential lean one."""
    data = panel.assign(b=(panel["y"] > panel["y"].median()).astype(float))
    full = gravity.estimate_many(formula, data, model=model, split="product", **kw)
    seq = gravity.estimate_many(formula, data, model=model, split="product", lean=True,
                                **kw)
    par = gravity.estimate_many(formula, data, model=model, split="product", lean=True,
                                client=client, **kw)
    assert_same_numbers(full, seq)
    assert_same_numbers(full, par)
    assert all(r.is_lean for r in par)
