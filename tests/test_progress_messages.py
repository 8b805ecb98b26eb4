"""Long work says what it is doing: ``verbose=True`` logs every IRLS iteration, the
first compilation of the fixed-effect engine is announced when it takes noticeable
time, and the command line shows a bar over the files it reads."""

from __future__ import annotations

import re
import time

import numpy as np
import pandas as pd
import pytest

import gravity as gv
from gravity.estimation import notice


def _data() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"y": rng.poisson(3, 300).astype(float), "x": rng.normal(size=300),
                         "g": rng.integers(0, 10, 300), "b": rng.integers(0, 2, 300) * 1.0})


@pytest.mark.parametrize("model", ["ppml", "logit"])
def test_verbose_logs_each_iteration(capsys, model):
    d = _data()
    y = "y" if model == "ppml" else "b"
    fit = getattr(gv, model)(f"{y} ~ x | g", d, verbose=True)
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("IRLS")]
    assert len(lines) == fit.iterations
    assert [int(re.search(r"iteration (\d+)", ln).group(1)) for ln in lines] == \
        list(range(1, fit.iterations + 1))
    devs = [float(re.search(r"deviance ([-\d.e+]+)", ln).group(1)) for ln in lines]
    assert all(b <= a * (1 + 1e-10) + 1e-10 for a, b in zip(devs, devs[1:], strict=False))
    quiet = getattr(gv, model)(f"{y} ~ x | g", d)
    assert "IRLS" not in capsys.readouterr().err
    assert np.array_equal(quiet.params, fit.params)


def test_kernels_are_compiled_after_a_fit():
    gv.ppml("y ~ x | g", _data())
    assert notice.kernels_compiled()


def test_first_compile_notice(capsys, monkeypatch):
    monkeypatch.delenv("GRAVITY_PROGRESS", raising=False)
    monkeypatch.setattr(notice, "kernels_compiled", lambda: False)
    with notice.first_compile_notice(delay=0.05):
        time.sleep(0.3)  # a slow first fit
    assert notice.MESSAGE in capsys.readouterr().err
    with notice.first_compile_notice(delay=0.5):
        pass  # a fast one: no message
    time.sleep(0.6)
    assert notice.MESSAGE not in capsys.readouterr().err
    monkeypatch.setenv("GRAVITY_PROGRESS", "0")
    with notice.first_compile_notice(delay=0.01):
        time.sleep(0.1)
    assert notice.MESSAGE not in capsys.readouterr().err


def test_cli_panel_shows_a_bar_over_the_files(capsys, monkeypatch, tmp_path):
    from test_sources_baci import ROWS_2018, write_baci

    from gravity.cli import main

    monkeypatch.setenv("GRAVITY_PROGRESS", "1")
    p = write_baci(tmp_path / "baci", ROWS_2018)
    assert main(["panel", "--baci", str(p), "--no-bri", "--output",
                 str(tmp_path / "p.parquet")]) == 0
    err = capsys.readouterr().err
    assert "reading sources" in err and "file" in err
