"""``import gravity`` loads only the package's error types; every public name and
subpackage loads on first use (PEP 562), and small fits never import numba."""

from __future__ import annotations

import json
import subprocess
import sys

import gravity


def _fresh(code: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_import_gravity_loads_no_numeric_stack():
    out = _fresh("import sys, json, gravity; "
                 "print(json.dumps({m: m in sys.modules for m in "
                 "('numba', 'pandas', 'scipy', 'gravity.estimation')}))")
    assert not any(out.values()), out


def test_public_names_and_subpackages_resolve_on_first_use():
    for name in gravity.__all__:
        assert getattr(gravity, name) is not None, name
    assert callable(gravity.reporting.coefplot)  # a subpackage reached as an attribute
    assert "hdfe" in dir(gravity) or gravity.hdfe is not None


def test_small_fit_does_not_import_numba():
    out = _fresh(
        "import sys, json, numpy as np, pandas as pd, gravity as gv\n"
        "rng = np.random.default_rng(0); n = 2000\n"
        "df = pd.DataFrame({'e': rng.integers(0, 20, n), 'i': rng.integers(0, 20, n),"
        " 'x': rng.normal(size=n)}); df['y'] = rng.poisson(np.exp(0.2 * df.x))\n"
        "r = gv.ppml('y ~ x | e + i', df); o = gv.ols('y ~ x | e + i', df)\n"
        "print(json.dumps({'numba': 'numba' in sys.modules, 'ok': bool(r.converged)}))")
    assert out == {"numba": False, "ok": True}
