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


def test_kernels_are_compiled_after_a_large_fit():
    """A sample above the NumPy path's size runs (and so compiles or loads) the numba
    kernels; the check itself never imports numba."""
    from gravity.hdfe.demean import NUMPY_MAX_ROWS

    rng = np.random.default_rng(1)
    n = NUMPY_MAX_ROWS + 1000
    d = pd.DataFrame({"y": rng.poisson(3, n).astype(float), "x": rng.normal(size=n),
                      "g": rng.integers(0, 50, n), "h": rng.integers(0, 40, n)})
    gv.ppml("y ~ x | g + h", d)
    assert notice.kernels_compiled()


def test_first_compile_notice(capsys, monkeypatch):
    monkeypatch.delenv("GRAVITY_PROGRESS", raising=False)
    monkeypatch.setattr(notice, "kernels_compiled", lambda: False)
    monkeypatch.setattr(notice, "kernels_compiling", lambda: True)
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


def test_compile_notice_only_while_numba_compiles(capsys, monkeypatch):
    """A fit that is slow because it is large, its kernels loaded from numba's cache
    (no cache miss), says nothing; once a kernel has missed the cache (numba compiles
    it), the line appears, also when the miss comes after the delay."""
    monkeypatch.delenv("GRAVITY_PROGRESS", raising=False)
    monkeypatch.setattr(notice, "kernels_compiled", lambda: False)
    monkeypatch.setattr(notice, "kernels_compiling", lambda: False)
    with notice.first_compile_notice(delay=0.05, poll=0.02):
        time.sleep(0.3)  # slow, but no compilation
    assert notice.MESSAGE not in capsys.readouterr().err
    state = {"compiling": False}
    monkeypatch.setattr(notice, "kernels_compiling", lambda: state["compiling"])
    with notice.first_compile_notice(delay=0.05, poll=0.02):
        time.sleep(0.15)
        state["compiling"] = True  # a kernel misses the cache after the delay
        time.sleep(0.2)
    assert capsys.readouterr().err.count(notice.MESSAGE) == 1


def test_kernels_compiling_reads_numba_cache_misses():
    """After a large fit every signature of the engine's loaded kernels was either
    loaded from numba's on-disk cache (a hit) or compiled (a miss, counted first):
    the statistics ``kernels_compiling`` reads exist and cover every signature."""
    from gravity.hdfe.demean import NUMPY_MAX_ROWS

    rng = np.random.default_rng(2)
    n = NUMPY_MAX_ROWS + 1000
    d = pd.DataFrame({"y": rng.poisson(3, n).astype(float), "x": rng.normal(size=n),
                      "g": rng.integers(0, 50, n), "h": rng.integers(0, 40, n)})
    gv.ppml("y ~ x | g + h", d)
    dispatchers = notice._kernel_dispatchers()
    assert dispatchers and any(k.signatures for k in dispatchers)
    for k in dispatchers:
        seen = sum(k.stats.cache_hits.values()) + sum(k.stats.cache_misses.values())
        assert seen >= len(k.signatures), k.py_func.__name__
    assert isinstance(notice.kernels_compiling(), bool)
