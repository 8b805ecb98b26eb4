"""Shared fixtures: paths to ../shared and small simulated panels."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def shared_path(*parts: str) -> Path:
    """Path under ../shared; the test is skipped when the file is absent."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"{p} not available")
    return p


@pytest.fixture(autouse=True)
def _quiet_package_warnings():
    from gravity.errors import GravityWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GravityWarning)
        yield


def simulated_panel(
    n_exp: int = 30, n_imp: int = 30, n_years: int = 6, seed: int = 0,
    zero_share: float = 0.35, unbalanced: float = 0.1,
) -> pd.DataFrame:
    """Small Poisson gravity panel with exporter-year, importer-year and pair effects,
    zeros, and randomly deleted rows (unbalanced)."""
    rng = np.random.default_rng(seed)
    e, i, t = np.meshgrid(np.arange(n_exp), np.arange(n_imp), np.arange(n_years), indexing="ij")
    e, i, t = e.ravel(), i.ravel(), t.ravel()
    ok = e != i
    e, i, t = e[ok], i[ok], t[ok]
    size_e = rng.normal(0, 1, n_exp)
    size_i = rng.normal(0, 1, n_imp)
    pair_eff = rng.normal(0, 0.5, (n_exp, n_imp))
    ln_dist = np.log(rng.uniform(100, 10000, (n_exp, n_imp)))
    rta = (rng.uniform(size=(n_exp, n_imp)) < 0.4)[e, i] & (t >= rng.integers(0, n_years, e.size))
    x = rng.normal(size=e.size)
    eta = size_e[e] + size_i[i] + pair_eff[e, i] - 0.8 * ln_dist[e, i] + 0.3 * rta - 0.2 * x + 0.05 * t
    lo, hi = -20.0, 20.0  # intercept so that the expected share of zeros is zero_share
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if np.mean(np.exp(-np.exp(mid + eta))) > zero_share else (lo, mid)
    mu = np.exp(0.5 * (lo + hi) + eta)
    y = rng.poisson(mu).astype(float)
    df = pd.DataFrame({
        "exporter": e, "importer": i, "year": 2000 + t, "y": y, "x": x,
        "rta": rta.astype(float), "ln_dist": ln_dist[e, i],
        "contig": (rng.uniform(size=(n_exp, n_imp)) < 0.1)[e, i].astype(float),
    })
    df["exp_year"] = df["exporter"].astype(str) + "_" + df["year"].astype(str)
    df["imp_year"] = df["importer"].astype(str) + "_" + df["year"].astype(str)
    df["pair"] = df["exporter"].astype(str) + "_" + df["importer"].astype(str)
    keep = rng.uniform(size=len(df)) >= unbalanced
    return df[keep].reset_index(drop=True)


_GROUPS = {
    "oracle": ("test_vs_", "test_yotov", "test_separation", "test_properties",
               "test_margins_montecarlo", "test_oracle_", "test_ge_", "test_bias_"),
    "sources": ("test_sources", "test_panel", "test_countries", "test_variables"),
    "notebooks": ("test_notebooks", "test_docs"),
}


def pytest_collection_modifyitems(config, items):
    """Each test file belongs to one group (unit, oracle, sources, notebooks):
    ``pytest -m unit`` is the quick loop (``make test-fast``)."""
    for item in items:
        name = item.path.name
        group = next((g for g, prefixes in _GROUPS.items()
                      if name.startswith(prefixes)), "unit")
        item.add_marker(getattr(pytest.mark, group))
