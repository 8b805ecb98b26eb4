"""``import gravity`` stays light: heavy optional libraries load only when used."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

HEAVY = ("matplotlib", "statsmodels", "pyfixest", "dask", "distributed")


def _fresh(code: str) -> str:
    """Run ``code`` in a fresh interpreter and return its stdout."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("module", ["gravity", "gravity.reporting", "gravity.cli"])
def test_import_does_not_load_heavy_libraries(module):
    out = _fresh(f"import sys, json, {module}; "
                 f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    assert json.loads(out) == []


def test_plotting_names_are_public():
    out = _fresh("import sys, gravity.reporting as r; "
                 "names = ['coefplot', 'event_study_plot', 'diversification_plot', "
                 "'distance_elasticity_plot', 'etable', 'RegressionTable']; "
                 "print(all(callable(getattr(r, n)) for n in names), "
                 "'matplotlib' in sys.modules)")
    assert out.split() == ["True", "False"]


def test_plotting_loads_matplotlib_when_drawing():
    out = _fresh("import sys, pandas as pd; from gravity.reporting import event_study_plot; "
                 "df = pd.DataFrame({'period': [0, 1], 'estimate': [0.1, 0.2], "
                 "'conf_low': [0.0, 0.1], 'conf_high': [0.2, 0.3]}); "
                 "fig = event_study_plot(df); "
                 "print(type(fig).__module__, 'matplotlib.pyplot' in sys.modules)")
    assert out.split() == ["matplotlib.figure", "False"]


def test_import_time_is_reasonable():
    """A generous bound: a regression to seconds of import time is caught, noise is not."""
    t0 = time.perf_counter()
    _fresh("import gravity")
    assert time.perf_counter() - t0 < 10.0
