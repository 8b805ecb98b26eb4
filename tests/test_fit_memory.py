"""What a fit holds and loads (issue 13: memory at or below fixest's).

* the reference distributions of :mod:`gravity.inference.distributions` against
  :mod:`scipy.stats` (the oracle) over a grid of statistics and degrees of freedom;
* a fit without weights and offset holds them as read-only broadcast vectors (no
  memory), that behave as the ones and zeros they stand for, and pickle exactly;
* the cluster codes reused from a fixed effect equal the ones factorised afresh
  (:func:`gravity.inference.vcov.spec_codes`), for random samples with dropped rows;
* a PPML fit in a fresh process loads neither scipy.stats nor scipy.optimize (their
  import alone is about 100 MiB) when no separation candidate is left.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import gravity
from gravity.estimation.arrays import constant, is_constant
from gravity.inference.distributions import chi2_sf, normal, reference
from gravity.inference.vcov import VcovSpec, spec_codes


@given(x=st.floats(-40, 40), df=st.one_of(st.floats(0.5, 1e6), st.just(np.inf)),
       q=st.floats(1e-12, 1 - 1e-12))
@settings(max_examples=200, deadline=None)
def test_distributions_match_scipy_stats(x: float, df: float, q: float) -> None:
    ref = stats.norm if not np.isfinite(df) else stats.t(df)
    mine = reference(df)
    assert np.isclose(mine.sf(x), ref.sf(x), rtol=1e-9, atol=1e-300)
    assert np.isclose(mine.ppf(q), ref.ppf(q), rtol=1e-9, atol=1e-12)
    assert np.isclose(normal.pdf(x), stats.norm.pdf(x), rtol=1e-12, atol=1e-300)
    assert np.isclose(normal.cdf(x), stats.norm.cdf(x), rtol=1e-12, atol=1e-300)
    k = max(1.0, min(df, 200.0))
    assert np.isclose(chi2_sf(abs(x) * 3, k), stats.chi2.sf(abs(x) * 3, k), rtol=1e-9,
                      atol=1e-300)


def _panel(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 3000
    df = pd.DataFrame({"e": rng.integers(0, 30, n), "i": rng.integers(0, 30, n),
                       "t": rng.integers(0, 4, n), "x": rng.normal(size=n)})
    df["pair"] = df["e"] * 100 + df["i"]
    df["y"] = rng.poisson(np.exp(0.3 * df["x"] + 0.05 * df["e"] % 3))
    return df


def test_unit_weights_and_zero_offset_take_no_memory() -> None:
    r = gravity.ppml("y ~ x | e + i", _panel(), vcov={"CRV1": "pair"})
    rec = r.record
    for arr, value in ((rec.prior_weights, 1.0), (rec.offset, 0.0)):
        assert is_constant(arr) and arr.nbytes == 8 * arr.size and arr.size == rec.nobs
        assert np.all(arr == value) and not arr.flags.writeable
        with pytest.raises(ValueError):
            arr[0] = 5.0  # read-only: the record cannot be changed through it
    back = pickle.loads(pickle.dumps(r))
    assert np.array_equal(back.record.prior_weights, np.ones(rec.nobs))
    assert np.array_equal(back.record.offset, np.zeros(rec.nobs))
    assert np.array_equal(back.bse.to_numpy(), r.bse.to_numpy())
    # the same numbers as a fit with explicit unit weights and a zero offset
    d = _panel().assign(one=1.0, zero=0.0)
    w = gravity.ppml("y ~ x | e + i", d, vcov={"CRV1": "pair"}, weights="one",
                     offset="zero")
    assert not is_constant(w.record.prior_weights)
    np.testing.assert_allclose(w.params.to_numpy(), r.params.to_numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(w.bse.to_numpy(), r.bse.to_numpy(), rtol=1e-10)
    assert abs(w.loglik - r.loglik) < 1e-8 * abs(r.loglik)


def test_constant_vector() -> None:
    c = constant(5, 2.5)
    assert c.dtype == np.float64 and c.shape == (5,) and np.all(c == 2.5)
    assert is_constant(c) and not is_constant(np.full(5, 2.5))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cluster_codes_reused_from_a_fixed_effect_equal_fresh_ones(seed: int) -> None:
    df = _panel(seed)
    df.loc[df.sample(frac=0.1, random_state=seed).index, "y"] = 0  # all-zero groups
    r = gravity.ppml("y ~ x | e^t + i^t + pair", df, vcov={"CRV1": "pair"})
    assert sum(r.record.dropped.values()) > 0  # singletons / separated rows dropped
    fresh = spec_codes(df, VcovSpec("CRV1", (("pair",),)), r.record.mask)[("pair",)]
    reused = r.record.cluster_map[("pair",)]
    assert reused.dtype == fresh.dtype and np.array_equal(reused, fresh)
    # and the clustered SEs equal those clustered by a copy of the column (no reuse)
    c = gravity.ppml("y ~ x | e^t + i^t + pair", df.assign(pair2=df["pair"]),
                     vcov={"CRV1": "pair2"})
    np.testing.assert_allclose(c.bse.to_numpy(), r.bse.to_numpy(), rtol=1e-12)


def test_fit_does_not_load_scipy_stats_or_optimize() -> None:
    code = (
        "import sys, json, numpy as np, pandas as pd, gravity as gv\n"
        "rng = np.random.default_rng(1); n = 30000\n"
        "df = pd.DataFrame({'e': rng.integers(0, 50, n), 'i': rng.integers(0, 50, n),"
        " 'x': rng.normal(size=n)}); df['y'] = rng.poisson(np.exp(1 + 0.2 * df.x))\n"
        "r = gv.ppml('y ~ x | e + i', df, vcov={'CRV1': 'e'}); r.summary(); r.conf_int()\n"
        "print(json.dumps({m: m in sys.modules for m in ('scipy.stats', 'scipy.optimize',"
        " 'scipy.sparse.csgraph')}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert not any(out.values()), out


def test_fit_runs_blas_on_one_thread_and_restores_it(monkeypatch) -> None:
    """Inside a fit BLAS runs on one thread (no spinning BLAS workers beside the
    fixed-effect passes); the caller's setting is restored afterwards."""
    from threadpoolctl import threadpool_info, threadpool_limits

    gravity.ppml("y ~ x | e + i", _panel())  # the estimation modules loaded
    feglm_module = sys.modules["gravity.estimation.feglm"]
    seen: list[int] = []
    real_irls = feglm_module.irls

    def spy(*args, **kwargs):  # the BLAS threads while the IRLS runs
        seen.extend(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")
        return real_irls(*args, **kwargs)

    monkeypatch.setattr(feglm_module, "irls", spy)
    with threadpool_limits(2, user_api="blas"):
        before = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
        gravity.ppml("y ~ x | e + i", _panel())
        after = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    assert before and max(before) == 2
    assert 1 in seen  # NumPy's BLAS, limited inside the fit
    assert after == before


def test_codes_are_int32_and_cluster_intersections_do_not_overflow() -> None:
    """Fixed-effect and cluster codes are int32; the intersection of two cluster
    codes with 70,000 levels each (products beyond 2**31) equals pandas' grouping."""
    from gravity.inference.vcov import _intersect

    r = gravity.ppml("y ~ x | e + i", _panel(), vcov={"CRV1": "e + i"})
    assert all(c.dtype == np.int32 for c in r.record.fe_codes)
    assert all(c.dtype == np.int32 for c in r.record.cluster_map.values())
    rng = np.random.default_rng(5)
    a = rng.integers(0, 70_000, 200_000).astype(np.int32)
    b = rng.integers(0, 70_000, 200_000).astype(np.int32)
    a[:2], b[:2] = 69_999, 69_999  # the largest product of codes
    ours = _intersect([a, b])
    ref = pd.DataFrame({"a": a, "b": b}).groupby(["a", "b"], sort=False).ngroup().to_numpy()
    # the same partition of the rows (numbering may differ): as many distinct
    # (ours, ref) pairs as groups on either side
    n_pairs = pd.DataFrame({"o": ours, "r": ref}).drop_duplicates().shape[0]
    assert n_pairs == np.unique(ours).size == np.unique(ref).size
