"""Property-based differential suite (hypothesis): gravity against statsmodels (explicit
dummies) and pyfixest on random small panels.

Every example is a small random panel (:mod:`strategies`; a failing example prints
the ``PanelSpec`` that rebuilds it): 30-120 rows, 1-3 fixed effects with 2-8 levels
(integer or string codes), 1-2 normal regressors (sometimes one absorbed by the fixed
effects, collinear with the other, or -- GLMs -- separating some rows), optional
weights and offsets (passed as a column, an array, a Series, or a Series in another
order), shuffled rows, and a RangeIndex, a shuffled integer index, a string index or
one with duplicated labels. Poisson outcomes have 30-60% zeros, binary ones 30-70% ones.

Properties (each at least 200 examples in CI):

* the estimation sample of PPML and of the binary models equals an exact reference
  (no singletons, no separated rows: linear programmes on the regressors and every
  fixed-effect indicator), and OLS drops the singletons pyfixest drops;
* PPML = statsmodels GLM Poisson, logit/probit/cloglog = GLM Binomial with that link,
  OLS = statsmodels OLS/WLS, all on the kept rows and an intercept plus drop-first
  dummies of every fixed effect (dependent dummy columns removed): coefficients
  (1e-6), standard errors (1e-5 relative; inverse expected information for GLMs with
  ``ssc="none"``, ``RSS/(N-K)`` for OLS), fitted values, deviance;
* PPML = pyfixest ``fepois`` (on the kept rows) and OLS = pyfixest ``feols`` (on all
  rows), ``"iid"`` and ``"hetero"``;
* a regressor gravity drops as collinear makes the oracle's design rank deficient by
  as much (and is dropped by pyfixest too);
* shuffling the rows and relabelling the index (duplicated labels included) changes
  no estimate (1e-8) and permutes the sample mask and fitted values.

A typed :class:`gravity.EstimationError` (nothing left to estimate) discards the
example; any other exception fails. An oracle that fails (statsmodels does not
converge or reports perfect separation, pyfixest's demeaning gives up on near-zero
fitted values) also discards the example.

Profiles (environment variable ``GRAVITY_HYPOTHESIS_PROFILE``): ``"ci"`` (default,
200 examples per property, derandomised, no example database, about a minute),
``"long"`` (2000 examples, random, prints a reproduction blob; run by hand) and
``"quick"`` (25 examples)::

    GRAVITY_HYPOTHESIS_PROFILE=long .venv/bin/python -m pytest tests/test_properties.py
"""

from __future__ import annotations

import contextlib
import os
import re
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import HealthCheck, assume, event, given, note, settings
from hypothesis import strategies as st
from statsmodels.tools.sm_exceptions import PerfectSeparationError, PerfectSeparationWarning
from strategies import (
    INDEX_KINDS,
    Panel,
    dummy_design,
    fe_levels,
    make_panel,
    matrix_rank,
    panel_specs,
    reference_sample,
)

import gravity as gv

pf = pytest.importorskip("pyfixest")

pytestmark = pytest.mark.oracle

_HEALTH = [HealthCheck.too_slow, HealthCheck.filter_too_much,
           HealthCheck.function_scoped_fixture, HealthCheck.data_too_large]
settings.register_profile("ci", max_examples=200, derandomize=True, database=None,
                          deadline=None, suppress_health_check=_HEALTH, print_blob=False)
settings.register_profile("long", max_examples=2000, derandomize=False, database=None,
                          deadline=None, suppress_health_check=_HEALTH, print_blob=True)
settings.register_profile("quick", max_examples=25, derandomize=True, database=None,
                          deadline=None, suppress_health_check=_HEALTH)
PROFILE = settings.get_profile(os.environ.get("GRAVITY_HYPOTHESIS_PROFILE", "ci"))

COEF_ATOL = 1e-6  # coefficients: absolute, or relative where they are large
COEF_RTOL = 1e-6
SE_RTOL = 1e-5
INVARIANCE_TOL = 1e-8
GLM_TOL = dict(tol=1e-12, fixef_tol=1e-12)
MIN_KEPT = 10

BINARY = {"logit": (gv.logit, sm.families.links.Logit),
          "probit": (gv.probit, sm.families.links.Probit),
          "cloglog": (gv.cloglog, sm.families.links.CLogLog)}
ESTIMATORS = {"ppml": (gv.ppml, "poisson"), "ols": (gv.ols, "gaussian"),
              "logit": (gv.logit, "binary"), "probit": (gv.probit, "binary"),
              "cloglog": (gv.cloglog, "binary")}


# ----------------------------------------------------------------------- helpers
@pytest.fixture(scope="module", autouse=True)
def _one_numba_thread():
    """The panels are tiny: the demeaning kernels' parallel loop over columns costs
    more in thread start-up than it saves (up to 8x on a loaded 2-core runner). The
    columns are independent, so the results do not depend on it."""
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(1)
    yield
    numba.set_num_threads(before)


def fit_gravity(estimator, panel: Panel, **kwargs):
    """Fit with gravity; a typed EstimationError discards the example."""
    if panel.offset_arg is not None:
        kwargs["offset"] = panel.offset_arg
    try:
        fit = estimator(panel.formula, panel.data, weights=panel.weights_arg, **kwargs)
    except gv.EstimationError as exc:
        note(f"gravity: {type(exc).__name__}: {exc}")
        assume(False)
    mask = fit.in_sample
    assert mask.dtype == bool and mask.shape == (len(panel.data),)
    assert fit.nobs == int(mask.sum())
    if not fit.converged:
        # slow (linear) convergence is expected close to separation: the MLE exists,
        # but some fitted values are at 0 (or 1) to machine precision
        mu = fit.fittedvalues.to_numpy()
        edge = np.minimum(mu, 1.0 - mu) if panel.spec.kind == "binary" else mu
        assert edge.min() < 1e-9, "gravity did not converge"
        event("gravity did not converge (fitted values at the boundary): discarded")
        assume(False)
    for w in fit.warnings:
        event(f"gravity warned: {w.category.__name__}: "
              + re.sub(r"\d+", "#", str(w.message))[:60])
    assume(fit.nobs >= MIN_KEPT)
    return fit


def oracle_sample(panel: Panel, fit) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """Kept rows, their full-rank dummy design, and the regressors gravity kept --
    after checking that what gravity dropped as collinear is what makes the oracle's
    design rank deficient."""
    mask = fit.in_sample
    spec = panel.spec
    if spec.collinear == "separating":
        # y = 0 wherever the last regressor (>= 0) is positive: those rows are separated
        assert not (mask & (panel.data[panel.regressors[-1]].to_numpy() > 0)).any(), \
            "separated rows kept"
    d = panel.kept(mask)
    D = dummy_design(d, panel.fixed_effects)
    dropped = list(fit.dropped_regressors)
    event(f"collinear={spec.collinear}, dropped {len(dropped)} of {len(panel.regressors)}")
    event(f"{'some' if (~mask).any() else 'no'} rows dropped")
    event(f"{len(panel.fixed_effects)} fixed effects")
    assert set(dropped) <= set(panel.regressors), dropped
    kept = [r for r in panel.regressors if r not in dropped]
    assert list(fit.params.index) == kept
    if panel.spec.collinear != "none":
        assert dropped, "a collinear/absorbed regressor was not dropped"
    X = d[panel.regressors].to_numpy()
    rank = matrix_rank(np.column_stack([X, D]))
    assert rank == D.shape[1] + len(kept), (
        f"gravity dropped {dropped}, the oracle design has rank {rank} for "
        f"{D.shape[1]} dummies and {len(panel.regressors)} regressors")
    assert matrix_rank(np.column_stack([d[kept].to_numpy(), D])) == D.shape[1] + len(kept)
    assume(len(kept) > 0)
    assume(len(d) > D.shape[1] + len(kept))  # residual degrees of freedom
    return d, D, kept


def check_sample(panel: Panel, fit, binary: bool) -> None:
    """gravity kept exactly the rows of the exact reference (no singletons, no
    separated observations: linear programmes on the regressors and every fixed-effect
    indicator, :func:`strategies.reference_sample`)."""
    ref = reference_sample(panel, binary)
    diff = np.flatnonzero(ref != fit.in_sample)
    assert diff.size == 0, (
        f"rows (positions) {diff.tolist()} are {'kept' if fit.in_sample[diff[0]] else 'dropped'}"
        f" by gravity, not by the exact reference; gravity: {fit.dropped}")


def fixest_k(d: pd.DataFrame, panel: Panel, kept: list[str]) -> int:
    """K of fixest's (N-1)/(N-K) (ssc "fixest", not clustered): the regressors plus
    every level of every fixed effect, less one per fixed effect after the first."""
    fes = panel.fixed_effects
    return len(kept) + sum(fe_levels(d, fes)) - (len(fes) - 1)


def close(ours, ref, *, rtol: float, atol: float = 0.0, what: str = "") -> None:
    np.testing.assert_allclose(np.asarray(ours, dtype=float), np.asarray(ref, dtype=float),
                               rtol=rtol, atol=atol, err_msg=what)


def glm_oracle(d: pd.DataFrame, D: np.ndarray, kept: list[str], family, fit):
    """statsmodels GLM (IRLS: expected information, as gravity) on [kept regressors,
    dummies]; discards the example when it reports perfect separation or no fit
    converges.

    IRLS without step-halving can diverge (cloglog, probit with fitted probabilities
    near 0 or 1) and still report convergence, so it is run from statsmodels' default
    start, from gravity's linear predictor, and from the maximum Newton's method
    finds from there; the fit with the largest log-likelihood is the oracle. The
    log-likelihoods are concave: statsmodels' own score and Hessian move any start
    that is not the maximum."""
    X = np.column_stack([d[kept].to_numpy(), D])
    off = d["off"].to_numpy() if "off" in d else None
    model = sm.GLM(d["y"].to_numpy(), X, family=family, offset=off,
                   freq_weights=d["w"].to_numpy() if "w" in d else None)
    eta = fit.predict(type="link")
    start = np.linalg.lstsq(X, eta - (0.0 if off is None else off), rcond=None)[0]
    results = []
    for how in ("default", "gravity", "newton"):
        with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
            warnings.simplefilter("always")
            try:
                if how == "newton":
                    start = model.fit(start_params=start, method="newton", maxiter=200,
                                      tol=1e-14).params
                res = model.fit(start_params=None if how == "default" else start,
                                tol=1e-14, maxiter=1000)
            except PerfectSeparationError:
                assume(False)
            except ValueError as exc:  # NaN deviance at a start on the boundary
                if "returned a nan" not in str(exc):
                    raise
                continue
            ok = res.converged and np.isfinite(res.llf)
        assume(not any(issubclass(c.category, PerfectSeparationWarning) for c in caught))
        if ok:
            results.append(res)
    assume(results)
    return max(results, key=lambda r: r.llf)


@contextlib.contextmanager
def quiet():
    """Silence the oracles' own warnings (deprecations, 0/0 in statistics not used)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


def pyfixest_data(panel: Panel, mask: np.ndarray | None = None) -> pd.DataFrame:
    """The rows (all, or those of ``mask``), indexed by their positions, with the
    weights and offset as columns."""
    d = panel.data.reset_index(drop=True)
    if panel.w is not None:
        d["w"] = panel.w
    if panel.off is not None:
        d["off"] = panel.off
    return d if mask is None else d.loc[mask].reset_index(drop=True)


def check_against_pyfixest(fit, ref, all_rows: bool) -> None:
    """Same rows (by position, when pyfixest had all rows), same regressors kept, same
    estimates and standard errors."""
    assert ref._N == fit.nobs
    if all_rows:
        np.testing.assert_array_equal(np.sort(np.asarray(ref._data.index)),
                                      np.flatnonzero(fit.in_sample), err_msg="rows kept")
    coef = ref.coef()
    assert list(coef.index) == list(fit.params.index), "regressors dropped as collinear"
    close(fit.params, coef, rtol=COEF_RTOL, atol=COEF_ATOL, what="params")
    close(fit.bse, ref.se(), rtol=SE_RTOL, what="bse")


# -------------------------------------------------------------- PPML vs oracles
@given(spec=panel_specs("poisson", offsets=True))
@PROFILE
def test_ppml_matches_statsmodels_glm_poisson(spec):
    panel = make_panel(spec)
    fit = fit_gravity(gv.ppml, panel, vcov="iid", ssc="none", **GLM_TOL)
    check_sample(panel, fit, binary=False)
    d, D, kept = oracle_sample(panel, fit)
    ref = glm_oracle(d, D, kept, sm.families.Poisson(), fit)
    k = len(kept)
    close(fit.params, ref.params[:k], rtol=COEF_RTOL, atol=COEF_ATOL, what="params")
    close(fit.bse, ref.bse[:k], rtol=SE_RTOL, what="bse")
    close(fit.fittedvalues, ref.fittedvalues, rtol=1e-6, atol=1e-8, what="fitted")
    close(fit.deviance, ref.deviance, rtol=1e-6, atol=1e-8, what="deviance")


@given(spec=panel_specs("poisson", offsets=True), vcov=st.sampled_from(["iid", "hetero"]))
@PROFILE
def test_ppml_matches_pyfixest_fepois(spec, vcov):
    panel = make_panel(spec)
    fit = fit_gravity(gv.ppml, panel, vcov=vcov, **GLM_TOL)
    d, _, kept = oracle_sample(panel, fit)
    assume(len(d) > fixest_k(d, panel, kept))  # else gravity drops the (N-1)/(N-K)
    # pyfixest gets the rows gravity kept: gravity, as ppmlhdfe, drops the singletons
    # left by separated rows (iterating), pyfixest does not, and its "ir" check misses
    # some rows that gravity's simplex method finds separated
    with quiet():
        try:
            ref = pf.fepois(panel.formula, pyfixest_data(panel, fit.in_sample), vcov=vcov,
                            weights="w" if panel.w is not None else None,
                            offset="off" if panel.off is not None else None,
                            iwls_tol=1e-12, fixef_tol=1e-12, iwls_maxiter=200)
        except ValueError as exc:  # near-zero fitted values (a finite MLE, though)
            if "Demeaning failed" not in str(exc):
                raise
            note(f"pyfixest: {exc}")
            assume(False)
    check_against_pyfixest(fit, ref, all_rows=False)


# --------------------------------------------------------------- OLS vs oracles
@given(spec=panel_specs("gaussian"))
@PROFILE
def test_ols_matches_statsmodels_ols_wls(spec):
    panel = make_panel(spec)
    fit = fit_gravity(gv.ols, panel, vcov="iid", fixef_tol=1e-12)
    d, D, kept = oracle_sample(panel, fit)
    X = np.column_stack([d[kept].to_numpy(), D])
    y = d["y"].to_numpy()
    ref = (sm.WLS(y, X, weights=d["w"].to_numpy()) if "w" in d else sm.OLS(y, X)).fit()
    k, n = len(kept), len(d)
    close(fit.params, ref.params[:k], rtol=COEF_RTOL, atol=COEF_ATOL, what="params")
    # statsmodels: RSS/(N - p), p the rank of the dummy design; gravity (fixest):
    # RSS/(N - K), K = regressors + sum of levels - (Q - 1) (= p when connected)
    p = X.shape[1]
    K = fixest_k(d, panel, kept)
    assume(n - K > 0)
    close(fit.bse, ref.bse[:k] * np.sqrt((n - p) / (n - K)), rtol=SE_RTOL, what="bse")
    close(fit.fittedvalues, ref.fittedvalues, rtol=1e-7, atol=1e-7, what="fitted")


@given(spec=panel_specs("gaussian"), vcov=st.sampled_from(["iid", "hetero"]))
@PROFILE
def test_ols_matches_pyfixest_feols(spec, vcov):
    panel = make_panel(spec)
    fit = fit_gravity(gv.ols, panel, vcov=vcov, fixef_tol=1e-12)
    d, _, kept = oracle_sample(panel, fit)
    assume(len(d) > fixest_k(d, panel, kept))  # else gravity drops the (N-1)/(N-K)
    # pyfixest gets every row and must drop the same singletons
    with quiet():
        ref = pf.feols(panel.formula, pyfixest_data(panel), vcov=vcov,
                       weights="w" if panel.w is not None else None, fixef_tol=1e-12)
    check_against_pyfixest(fit, ref, all_rows=True)


# -------------------------------------------------------- binary vs statsmodels
@pytest.mark.parametrize("name", list(BINARY))
@given(spec=panel_specs("binary", offsets=True))
@PROFILE
def test_binary_matches_statsmodels_glm_binomial(name, spec):
    estimator, link = BINARY[name]
    panel = make_panel(spec)
    fit = fit_gravity(estimator, panel, vcov="iid", ssc="none", **GLM_TOL)
    check_sample(panel, fit, binary=True)
    d, D, kept = oracle_sample(panel, fit)
    assume(0.0 < d["y"].mean() < 1.0)
    ref = glm_oracle(d, D, kept, sm.families.Binomial(link=link()), fit)
    k = len(kept)
    close(fit.params, ref.params[:k], rtol=COEF_RTOL, atol=COEF_ATOL, what="params")
    close(fit.bse, ref.bse[:k], rtol=SE_RTOL, what="bse")
    close(fit.fittedvalues, ref.fittedvalues, rtol=1e-6, atol=1e-8, what="fitted")


# ------------------------------------------------------------------- invariance
@given(data=st.data())
@PROFILE
def test_row_order_and_index_labels_do_not_matter(data):
    name = data.draw(st.sampled_from(list(ESTIMATORS)), label="estimator")
    estimator, kind = ESTIMATORS[name]
    spec = data.draw(panel_specs(kind, offsets=kind != "gaussian"), label="spec")
    panel = make_panel(spec)
    kwargs = dict(vcov="hetero", fixef_tol=1e-12)
    if kind != "gaussian":
        kwargs["tol"] = 1e-12
    fit = fit_gravity(estimator, panel, **kwargs)
    n = len(panel.data)
    perm = np.asarray(data.draw(st.permutations(range(n)), label="perm"), dtype=int)
    index_kind = data.draw(st.sampled_from(INDEX_KINDS), label="new index")
    rng = np.random.default_rng(spec.seed + 1)
    new_index = {"range": pd.RangeIndex(n),
                 "shuffled": pd.Index(rng.permutation(n) - n // 2, dtype="int64"),
                 "string": pd.Index([f"s{i}" for i in rng.permutation(n)], dtype=object),
                 "duplicated": pd.Index(np.zeros(n, dtype="int64"))}[index_kind]
    other = panel.relabelled(perm, new_index)
    fit2 = estimator(other.formula, other.data, weights=other.weights_arg,
                     **({"offset": other.offset_arg} if other.offset_arg is not None else {}),
                     **kwargs)
    np.testing.assert_array_equal(fit2.in_sample, fit.in_sample[perm])
    assert fit2.nobs == fit.nobs
    assert sorted(fit2.dropped_regressors) == sorted(fit.dropped_regressors)
    assert list(fit2.params.index) == list(fit.params.index)
    close(fit2.params, fit.params, rtol=INVARIANCE_TOL, atol=INVARIANCE_TOL, what="params")
    close(fit2.bse, fit.bse, rtol=1e-6, atol=1e-10, what="bse")
    assert list(fit2.fittedvalues.index) == list(new_index[fit2.in_sample])
    # fitted values follow their rows
    order = np.argsort(perm)  # position of each original row in the shuffled data
    f1 = np.full(n, np.nan)
    f1[fit.in_sample] = fit.fittedvalues.to_numpy()
    f2 = np.full(n, np.nan)
    f2[fit2.in_sample] = fit2.fittedvalues.to_numpy()
    close(f2[order], f1, rtol=1e-7, atol=1e-9, what="fitted")


# ------------------------------------------------------- regressions found by the long profile
def test_relu_drops_no_row_when_a_regressor_is_absorbed():
    rng = np.random.default_rng(13)
    n = 40
    d = pd.DataFrame({"i": rng.integers(0, 4, n), "j": rng.integers(0, 4, n)})
    d["x"] = rng.normal(size=4)[d["i"]]  # constant within i: absorbed by the i effects
    d["y"] = rng.poisson(np.exp(-0.3 + 0.5 * rng.normal(size=4)[d["j"]]
                                + 0.5 * rng.normal(size=4)[d["i"]]))
    # the Poisson MLE exists on all 40 rows (fitted values >= 0.16 on the dummies)
    X = pd.get_dummies(d[["i", "j"]].astype(str), drop_first=True, dtype=float)
    glm = sm.GLM(d["y"], sm.add_constant(X), family=sm.families.Poisson()).fit()
    assert glm.converged and glm.fittedvalues.min() > 0.1
    fit = gv.ppml("y ~ x | i + j", d)
    assert fit.dropped_regressors == ["x"]
    assert fit.nobs == n, fit.dropped
