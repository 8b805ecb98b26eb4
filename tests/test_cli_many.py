"""``gravity fit`` with --split and the Dask backend's options (gravity.cli_many).

Reference: :func:`gravity.estimate_many` in this process on the same data (itself equal
to separate single fits, tests/test_multiple.py); the command's estimates must equal
it to 1e-12 whatever the engine, the chunking or the source (a file, or a Parquet
dataset folder partitioned by the split column). The options must reach the backend
(spied: the chunk size given to the planner, the workers and memory limit of the
LocalCluster), and values out of range are usage errors (exit status 2), never a
traceback. A LocalCluster with threads is started by the tests (fast); the worker
processes of the default cluster are tested in tests/test_distributed.py."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import simulated_panel

import gravity
from gravity.cli import main
from gravity.distributed import engine, write_split_dataset

pytest.importorskip("distributed")

FORMULA = "y ~ csw(ln_dist, rta) | exporter + importer"


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    df = simulated_panel(10, 10, 6, seed=3)
    df["product"] = np.array([11, 12, 13])[df["year"] % 3]
    return df


@pytest.fixture(scope="module")
def files(panel, tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("cli_many")
    csv = root / "panel.csv"
    panel.to_csv(csv, index=False)
    folder = root / "products"
    write_split_dataset(panel.reset_index(drop=True), "product", folder)
    return csv, folder


@pytest.fixture(scope="module")
def scheduler():
    from distributed import LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                           dashboard_address=":0")
    yield cluster.scheduler_address
    cluster.close()


@pytest.fixture(scope="module")
def reference(panel) -> pd.DataFrame:
    return gravity.estimate_many(FORMULA, panel.reset_index(drop=True), split="product").tidy()


@pytest.fixture
def planned(monkeypatch) -> list[tuple[int | None, int]]:
    """(chunk_size, number of tasks) of every plan of the Dask engine."""
    seen: list[tuple[int | None, int]] = []
    plan = engine.plan_chunks

    def spy(rows, workers, chunk_size=None):
        chunks = plan(rows, workers, chunk_size)
        seen.append((chunk_size, len(chunks)))
        return chunks

    monkeypatch.setattr(engine, "plan_chunks", spy)
    return seen


def run_json(capsys, argv: list[str]) -> dict:
    assert main(argv) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def same_estimates(out: dict, ref: pd.DataFrame) -> None:
    got = pd.DataFrame(out["estimates"])
    assert len(got) == len(ref) == 9 and len(out["models"]) == 6
    assert got["term"].tolist() == ref["term"].tolist()
    assert got["sample"].tolist() == ref["sample"].tolist()
    for col in ("estimate", "std_error"):
        np.testing.assert_allclose(got[col], ref[col].to_numpy(), rtol=1e-12, atol=0)


@pytest.mark.parametrize("chunk, tasks", [("1", 3), ("2", 2), (None, 3)])
def test_scheduler_and_chunk_size(capsys, files, scheduler, reference, planned, chunk, tasks):
    csv, _ = files
    argv = ["fit", "ppml", FORMULA, str(csv), "--split", "product", "--scheduler", scheduler,
            "--json"] + (["--chunk-size", chunk] if chunk else [])
    same_estimates(run_json(capsys, argv), reference)
    assert planned == [(None if chunk is None else int(chunk), tasks)]


@pytest.mark.parametrize("extra", [[], ["--engine", "dask", "--chunk-size", "2"]])
def test_a_dataset_folder_read_group_by_group(capsys, files, scheduler, reference, planned,
                                              extra):
    """The data argument may be a Parquet dataset partitioned by the split column: read
    one group at a time, here or by the workers."""
    _, folder = files
    argv = ["fit", "ppml", FORMULA, str(folder), "--split", "product", "--json"] + \
        (extra + ["--scheduler", scheduler] if extra else [])
    same_estimates(run_json(capsys, argv), reference)
    assert planned == ([(2, 2)] if extra else [])


def test_workers_and_memory_limit_reach_the_local_cluster(capsys, files, reference,
                                                          monkeypatch):
    from distributed import LocalCluster

    made: list[dict] = []

    def fake(n_workers: int, memory_limit: str) -> LocalCluster:
        made.append({"n_workers": n_workers, "memory_limit": memory_limit})
        return LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                            dashboard_address=":0")

    monkeypatch.setattr(engine, "local_cluster", fake)
    csv, _ = files
    out = run_json(capsys, ["fit", "ppml", FORMULA, str(csv), "--split", "product",
                            "--engine", "dask", "--workers", "3", "--memory-limit", "1500MB",
                            "--retries", "0", "--json"])
    same_estimates(out, reference)
    assert made == [{"n_workers": 3, "memory_limit": "1500MB"}]


@pytest.mark.parametrize("option, value", [("--chunk-size", "0"), ("--chunk-size", "two"),
                                           ("--workers", "-1"), ("--retries", "-2"),
                                           ("--memory-limit", "lots")])
def test_bad_values_are_usage_errors(capsys, files, option, value):
    csv, _ = files
    with pytest.raises(SystemExit) as exc:
        main(["fit", "ppml", FORMULA, str(csv), "--split", "product", option, value])
    assert exc.value.code == 2
    assert option in capsys.readouterr().err


@pytest.mark.parametrize("extra, text", [
    (["--split", "product", "--engine", "sequential", "--scheduler", "tcp://x:1"],
     "--scheduler"),
    (["--engine", "dask"], "--split"),
])
def test_inconsistent_options_are_errors(capsys, files, extra, text):
    csv, _ = files
    assert main(["fit", "ppml", FORMULA, str(csv), *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("gravity: error: ") and text in err[0]


def test_fsplit_needs_a_file(capsys, files):
    _, folder = files
    assert main(["fit", "ppml", FORMULA, str(folder), "--fsplit", "product"]) == 2
    assert "--fsplit" in capsys.readouterr().err


def test_a_folder_not_partitioned_by_the_split_column(capsys, files):
    _, folder = files
    assert main(["fit", "ppml", FORMULA, str(folder), "--split", "year"]) == 2
    err = capsys.readouterr().err
    assert "not partitioned by 'year'" in err and "product" in err
