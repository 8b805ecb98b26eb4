"""ppmlhdfe's 18-case separation suite, and the messages for degenerate designs.

Data: ../shared/testdata/ppmlhdfe_separation (Correia, Guimaraes and Zylkin; MIT).
For each case and each detection method that is complete for it, the set of rows
flagged equals the ``separated`` column exactly, and the estimates equal a plain
Poisson fit (statsmodels GLM with explicit dummies) on the rows kept, to 1e-6.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from conftest import SHARED, shared_path

import gravity as gv
from gravity.errors import CollinearityWarning, ConvergenceWarning, SeparationWarning

CASES = [f"{i:02d}" for i in range(1, 19)]
METHODS = {
    "default": ("fe", "simplex", "relu"),
    "relu": ("fe", "relu"),
    "simplex": ("fe", "simplex"),
}


def _load(case: str) -> tuple[pd.DataFrame, str, list[str], list[str]]:
    d = pd.read_csv(shared_path("testdata", "ppmlhdfe_separation", f"{case}.csv"))
    d.columns = [c.lower() for c in d.columns]
    xs = [c for c in d.columns if c.startswith("x")]
    ids = [c for c in d.columns if c.startswith("id")]
    formula = "y ~ " + (" + ".join(xs) if xs else "1") + (" | " + " + ".join(ids) if ids else "")
    return d, formula, xs, ids


def _glm_on_kept(d: pd.DataFrame, xs: list[str], ids: list[str]):
    """Plain Poisson GLM on the kept rows, fixed effects as dummies (full rank)."""
    parts = [d[xs].astype(float)] if xs else []
    for k, id_col in enumerate(ids):
        parts.append(pd.get_dummies(d[id_col], prefix=id_col, drop_first=k > 0, dtype=float))
    if not ids:
        parts.append(pd.DataFrame({"(Intercept)": np.ones(len(d))}, index=d.index))
    X = pd.concat(parts, axis=1)
    # drop dummies that are linear combinations of earlier columns (e.g. identical ids)
    keep: list[int] = []
    for j in range(X.shape[1]):
        if np.linalg.matrix_rank(X.iloc[:, keep + [j]].to_numpy()) == len(keep) + 1:
            keep.append(j)
    X = X.iloc[:, keep]
    return sm.GLM(d["y"].astype(float), X, family=sm.families.Poisson()).fit(tol=1e-13,
                                                                             maxiter=500)


@pytest.mark.parametrize("method", list(METHODS))
@pytest.mark.parametrize("case", CASES)
def test_separation_case(case, method):
    d, formula, xs, ids = _load(case)
    fit = gv.ppml(formula, d, vcov="hetero", separation=METHODS[method], tol=1e-12,
                  fixef_tol=1e-12)
    flagged = np.zeros(len(d), dtype=bool)
    flagged[d.index.get_indexer(fit.separated)] = True
    np.testing.assert_array_equal(flagged, d["separated"].to_numpy().astype(bool))
    assert fit.converged
    assert np.all(np.abs(fit.params) < 1e6)
    kept = d.loc[fit.in_sample]
    glm = _glm_on_kept(kept, [x for x in xs if x in fit.params.index], ids)
    np.testing.assert_allclose(fit.fittedvalues.to_numpy(), glm.fittedvalues.to_numpy(),
                               atol=1e-6, rtol=1e-6)
    for name in fit.params.index:
        assert fit.params[name] == pytest.approx(glm.params[name], abs=1e-6), name


def test_separated_rows_named_in_summary_and_warning():
    d, formula, _, _ = _load("01")
    with pytest.warns(SeparationWarning, match="2 separated observations"):
        fit = gv.ppml(formula, d)
    assert "separated" in fit.summary()
    assert sum(v for k, v in fit.dropped.items() if k.startswith("separated")) == 2


def test_regressor_made_constant_by_the_drop_is_removed():
    # x2 is nonzero only on the separated row: after dropping it, x2 is all zero
    d = pd.DataFrame({"y": [0, 1, 2, 3, 0, 5, 1.0], "x1": [0.1, 0.5, -0.3, 0.8, 1.1, -0.6, 0.2],
                      "x2": [1.0, 0, 0, 0, 0, 0, 0]})
    with pytest.warns(CollinearityWarning, match="'x2'"):
        fit = gv.ppml("y ~ x1 + x2", d)
    assert list(fit.separated) == [0]
    assert fit.dropped_regressors == ["x2"]


def test_singleton_fixed_effect_dropped_and_reported():
    d = pd.DataFrame({"y": [1.0, 2, 3, 4, 0, 2], "x": [0.1, 0.4, -0.2, 0.9, 0.3, -0.5],
                      "g": ["a", "a", "b", "b", "c", "c"], "h": ["u", "v", "u", "v", "u", "w"]})
    fit = gv.ppml("y ~ x | g + h", d)
    assert fit.dropped["singleton"] >= 1
    assert "singletons" in fit.summary()


def test_ill_conditioned_design_is_reported_or_handled():
    rng = np.random.default_rng(0)
    n = 300
    x1 = rng.normal(size=n)
    d = pd.DataFrame({"x1": x1, "x2": x1 + 1e-11 * rng.normal(size=n),
                      "y": rng.poisson(np.exp(0.3 * x1)).astype(float)})
    with pytest.warns(CollinearityWarning, match="'x2' is collinear with"):
        fit = gv.ppml("y ~ x1 + x2", d)
    assert fit.dropped_regressors == ["x2"]
    assert fit.params["x1"] == pytest.approx(
        sm.GLM(d["y"], sm.add_constant(d[["x1"]]), family=sm.families.Poisson()).fit().params["x1"],
        abs=1e-6)


def test_nonconvergence_warns_with_deviance_change_and_iterations():
    d, formula, _, _ = _load("11")
    with pytest.warns(ConvergenceWarning, match=r"did not converge in 2 iterations: last "
                                                r"relative change in deviance"):
        fit = gv.ppml(formula, d, maxiter=2)
    assert not fit.converged
    with pytest.raises(gv.ConvergenceError, match="2 iterations"):
        gv.ppml(formula, d, maxiter=2, on_nonconvergence="raise")


def test_unknown_separation_method():
    d, formula, _, _ = _load("01")
    with pytest.raises(ValueError, match="unknown separation"):
        gv.ppml(formula, d, separation=("mu",))


def test_yotov_with_pair_fixed_effects_converges_and_reports_separation():
    from gravity.datasets import load_yotov2016, yotov2016_application_data

    path = shared_path("data", "yotov2016", "agtpa_applications.csv.gz")
    d = yotov2016_application_data(load_yotov2016(path))
    d = d[d["intl"] == 1].reset_index(drop=True)
    d["pair"] = d["exporter"] + "_" + d["importer"]  # directional pair
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SeparationWarning)
        fit = gv.ppml("trade ~ rta | exp_year + imp_year + pair", d, vcov={"CRV1": "pair_id"})
    assert fit.converged
    n_sep = sum(v for k, v in fit.dropped.items() if k.startswith("separated"))
    # pairs with zero trade in all six years are separated by their pair fixed effect
    zero_pairs = d.groupby("pair")["trade"].transform("sum").eq(0).sum()
    assert fit.dropped.get("separated_fe", 0) >= zero_pairs
    assert fit.nobs + n_sep + fit.dropped.get("singleton", 0) == len(d)
    assert np.isfinite(fit.params["rta"]) and np.isfinite(fit.bse["rta"])


assert SHARED  # imported for the skip helper


def test_demeaning_nonconvergence_is_reported():
    from conftest import simulated_panel

    d = simulated_panel(n_exp=15, n_imp=15, n_years=4, seed=3)
    with pytest.warns(ConvergenceWarning, match="demeaning did not reach tol"):
        gv.ppml("y ~ x + rta | exp_year + imp_year + pair", d, fixef_maxiter=1,
                separation="fe")
    with pytest.warns(ConvergenceWarning, match="demeaning did not converge"):
        gv.ols("x ~ rta | exp_year + imp_year + pair", d, fixef_maxiter=1)


def test_fixed_effects_only_model_with_default_clustered_vcov():
    d, formula, _, _ = _load("02")
    fit = gv.ppml(formula, d)  # "y ~ 1 | id1 + id2", vcov clustered by id1
    assert fit.converged and len(fit.params) == 0
    assert fit.vcov_type == "CRV1: id1"
