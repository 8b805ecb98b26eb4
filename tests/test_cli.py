"""Errors on the command line: one line ``gravity: error: ...`` in the CLI's own
spelling, exit status 2; a traceback only with ``--debug``; anything else is a bug
(exit status 1)."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gravity.cli import SUPPORTED_TABLE_TYPES, cli_message, main, read_table

pytestmark = pytest.mark.unit


@pytest.fixture
def data() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"y": rng.poisson(3, 200).astype(float), "x": rng.normal(size=200),
                         "g": rng.integers(0, 10, 200)})


@pytest.fixture
def csv(tmp_path: Path, data: pd.DataFrame) -> Path:
    path = tmp_path / "d.csv"
    data.to_csv(path, index=False)
    return path


@pytest.fixture
def nan_csv(tmp_path: Path, data: pd.DataFrame) -> Path:
    d = data.copy()
    d.loc[[3, 17], "y"] = np.nan
    path = tmp_path / "nan.csv"
    d.to_csv(path, index=False)
    return path


def _error(capsys: pytest.CaptureFixture[str], argv: list[str], status: int = 2) -> str:
    """Run ``gravity argv``; check the exit status and one error line; return the line."""
    assert main(argv) == status
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("gravity: error: ")
    assert "Traceback" not in err
    return lines[0]


def test_misspelled_column(capsys, csv):
    line = _error(capsys, ["fit", "ppml", "y ~ xx | g", str(csv)])
    assert "'xx'" in line and "did you mean 'x'?" in line


def test_missing_file(capsys, tmp_path):
    path = tmp_path / "nope.csv"
    line = _error(capsys, ["fit", "ppml", "y ~ x | g", str(path)])
    assert str(path) in line and "no such file" in line


def test_nan_outcome_names_the_cli_option(capsys, nan_csv):
    line = _error(capsys, ["fit", "ppml", "y ~ x | g", str(nan_csv)])
    assert "column 'y'" in line and "rows [3, 17]" in line
    assert "--missing drop" in line
    assert "missing='drop'" not in line


def test_the_hint_works(capsys, nan_csv, data):
    assert main(["fit", "ppml", "y ~ x | g", str(nan_csv), "--missing", "drop", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["nobs"] == len(data) - 2


@pytest.mark.parametrize("name", ["d.xlsx", "d.txt", "d", "d.csv.zip"])
def test_unsupported_file_type(capsys, tmp_path, data, name):
    path = tmp_path / name
    data.to_csv(path, index=False)  # CSV content: the type is told by the name
    line = _error(capsys, ["fit", "ppml", "y ~ x | g", str(path)])
    assert str(path) in line and "unsupported file type" in line
    for suffix in SUPPORTED_TABLE_TYPES:
        assert suffix in line


@pytest.mark.parametrize("name", ["bad.parquet", "bad.dta", "empty.csv"])
def test_unreadable_file(capsys, tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"" if name == "empty.csv" else b"\x00\x01 not really a table")
    line = _error(capsys, ["fit", "ppml", "y ~ x | g", str(path)])
    assert str(path) in line and "cannot read" in line


def test_folder_instead_of_file(capsys, tmp_path):
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    assert "not a file" in _error(capsys, ["fit", "ppml", "y ~ x | g", str(folder)])


def test_formula_error(capsys, csv):
    assert "stray '+'" in _error(capsys, ["fit", "ols", "y ~ x +", str(csv)])


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_prints_the_traceback(capsys, nan_csv, where):
    argv = ["fit", "ppml", "y ~ x | g", str(nan_csv)]
    argv = ["--debug", *argv] if where == "before" else [*argv, "--debug"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "MissingValueError" in err
    assert err.strip().splitlines()[-1].startswith("gravity: error: ")


def test_unexpected_error_is_a_bug(capsys, csv, monkeypatch):
    import gravity.estimation

    def broken(*args, **kwargs):
        raise ZeroDivisionError("float division by zero")

    monkeypatch.setattr(gravity.estimation, "ppml", broken)
    line = _error(capsys, ["fit", "ppml", "y ~ x | g", str(csv)], status=1)
    assert "bug" in line and "ZeroDivisionError" in line and "--debug" in line
    assert main(["--debug", "fit", "ppml", "y ~ x | g", str(csv)]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_demo_missing_yotov_file(capsys, tmp_path):
    path = tmp_path / "nope.csv.gz"
    line = _error(capsys, ["demo", "--out", str(tmp_path / "out"), "--yotov", str(path)])
    assert str(path) in line and "--yotov" in line


@pytest.mark.parametrize("option", [["--vcov", "cluster_by_pair"], ["--ssc", "nope"],
                                    ["--vcov", "CRV1:"]])
def test_bad_option_values_are_usage_errors(capsys, csv, option):
    with pytest.raises(SystemExit) as exc:
        main(["fit", "ppml", "y ~ x | g", str(csv), *option])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option[0]}" in err and "Traceback" not in err
    assert "gravity.ssc(" not in err


@pytest.mark.parametrize("vcov", ["iid", "hetero", "CRV1:g"])
def test_vcov_spellings(capsys, csv, data, vcov):
    import gravity as gv

    assert main(["fit", "ppml", "y ~ x | g", str(csv), "--vcov", vcov, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    ref = gv.ppml("y ~ x | g", data, vcov={"CRV1": "g"} if vcov == "CRV1:g" else vcov)
    assert out["bse"]["x"] == pytest.approx(ref.bse["x"], rel=1e-12)


def test_warnings_are_one_line_each(capsys, tmp_path, data):
    d = data.copy()
    d.loc[d["g"] == 0, "y"] = 0.0  # an all-zero group: its rows are dropped, with a warning
    path = tmp_path / "zeros.csv"
    d.to_csv(path, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        assert main(["fit", "ppml", "y ~ x | g", str(path), "--json"]) == 0
    captured = capsys.readouterr()
    json.loads(captured.out)
    lines = captured.err.strip().splitlines()
    assert lines and all(line.startswith("gravity: warning: ") for line in lines)


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".parquet", ".dta"])
def test_read_table_types(tmp_path, data, suffix):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    path = tmp_path / f"d{suffix.upper() if suffix == '.csv' else suffix}"
    if suffix == ".parquet":
        data.to_parquet(path)
    elif suffix == ".dta":
        data.to_stata(path, write_index=False)
    else:
        data.to_csv(path, index=False)
    back = read_table(path)
    np.testing.assert_allclose(back["x"].to_numpy(float), data["x"].to_numpy())


@pytest.mark.parametrize(("message", "expected"), [
    ("values (pass missing='drop' to drop these rows)", "values (pass --missing drop to drop "
                                                        "these rows)"),
    ('use vcov="hetero"', "use --vcov hetero"),
    ("cluster with vcov={'CRV1': 'pair'}", "cluster with --vcov CRV1:pair"),
    ("unknown ssc 'x'; use one of ['glm'] or gravity.ssc(...)", "unknown ssc 'x'; use one of "
                                                                "['glm']"),
    ("pass path= or set GRAVITY_YOTOV2016", "pass path= or set GRAVITY_YOTOV2016"),
    ("a\n  two-line message", "a two-line message"),
    ("submissing='drop'", "submissing='drop'"),
])
def test_cli_message(message, expected):
    assert cli_message(message) == expected


def test_entry_point_exit_status(csv, nan_csv):
    """The installed ``gravity`` script: real exit status and stderr."""
    script = Path(sys.executable).with_name("gravity")
    if not script.exists():
        pytest.skip("the gravity entry point is not installed next to this Python")
    bad = subprocess.run([str(script), "fit", "ppml", "y ~ x | g", str(nan_csv)],
                         capture_output=True, text=True, timeout=300, check=False)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [bad.stderr.strip()]
    assert bad.stderr.startswith("gravity: error: ") and "--missing drop" in bad.stderr
    ok = subprocess.run([str(script), "fit", "ols", "y ~ x | g", str(csv), "--json"],
                        capture_output=True, text=True, timeout=300, check=False)
    assert ok.returncode == 0, ok.stderr
    assert "x" in json.loads(ok.stdout)["params"]
