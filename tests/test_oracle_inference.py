"""Variance options against independent references on the same data.

* HC2/HC3: statsmodels with the fixed effects written out as dummies (hat values of
  the full model, as fixest's exact ``vcov_hetero``), weighted and not, zero to three
  fixed effects; pyfixest (no fixed effects) multiplies them by ``N/(N-K)``.
* CRV3: pyfixest's jackknife (closed form, nested fixed effects, and re-projected
  fixed effects that are not nested in the clusters).
* Newey-West and Driscoll-Kraay: pyfixest's panel HAC estimators (lag given and the
  default ``floor(T^(1/4))``), with and without fixed effects.
* Wild cluster bootstrap: pyfixest's ``wildboottest`` (the same engine): equal
  p-values with the same seed, and the sample t equal to our CRV1 t.

Tolerances: 1e-8 relative for closed forms (HC2/HC3, CRV3, HAC); bootstrap p-values
exactly equal for the same draws.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import gravity as gv

pf = pytest.importorskip("pyfixest")
sm = pytest.importorskip("statsmodels.api")

TOL = {"fixef_tol": 1e-12}


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    units, years = 30, 9
    d = pd.DataFrame({"unit": np.repeat(np.arange(units), years),
                      "year": np.tile(np.arange(2001, 2001 + years), units)})
    n = len(d)
    d["x"] = rng.normal(size=n) + 0.5 * np.repeat(rng.normal(size=units), years)
    d["z"] = rng.normal(size=n)
    d["region"] = d["unit"] % 12
    d["area"] = d["unit"] % 7
    d["sector"] = rng.integers(0, 5, n)
    shock = rng.normal(size=years)[d["year"] - 2001]
    ar = np.zeros(n)
    e = rng.normal(size=n)
    for t in range(years):  # serially correlated errors within unit
        rows = d["year"].to_numpy() == 2001 + t
        ar[rows] = (0.6 * ar[np.roll(rows, -1)] if t else 0.0) + e[rows]
    d["y"] = 0.3 * d["x"] - 0.2 * d["z"] + shock + ar * (1 + 0.5 * np.abs(d["x"]))
    d["w"] = rng.uniform(0.5, 2.0, n)
    return d


def _dummies(d: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    parts = [pd.get_dummies(d[c], prefix=c, drop_first=q > 0, dtype=float)
             for q, c in enumerate(cols)]
    return pd.concat(parts, axis=1) if parts else pd.DataFrame(index=d.index)


@pytest.mark.parametrize("kind", ["HC2", "HC3"])
@pytest.mark.parametrize("fes", [[], ["unit"], ["unit", "year"], ["unit", "year", "sector"]])
@pytest.mark.parametrize("weighted", [False, True])
def test_hc2_hc3_match_statsmodels_with_dummies(panel, kind, fes, weighted):
    d = panel
    formula = "y ~ x + z" + (" | " + " + ".join(fes) if fes else "")
    ours = gv.ols(formula, d, vcov=kind, weights="w" if weighted else None, **TOL)
    X = pd.concat([d[["x", "z"]], _dummies(d, fes)], axis=1)
    if not fes:
        X = sm.add_constant(X)
    model = sm.WLS(d["y"], X, weights=d["w"]) if weighted else sm.OLS(d["y"], X)
    ref = model.fit(cov_type=kind)
    np.testing.assert_allclose(ours.params[["x", "z"]], ref.params[["x", "z"]], rtol=1e-9)
    np.testing.assert_allclose(ours.bse[["x", "z"]], ref.bse[["x", "z"]], rtol=1e-8)
    if not fes:
        np.testing.assert_allclose(ours.bse["(Intercept)"], ref.bse["const"], rtol=1e-8)


def test_hc2_hc3_relation_to_pyfixest(panel):
    """pyfixest applies its heteroskedastic factor N/(N-K) to HC2/HC3 as well; fixest
    and statsmodels do not (the factor is the only difference)."""
    n, k = len(panel), 3
    for kind in ("HC2", "HC3"):
        ours = gv.ols("y ~ x + z", panel, vcov=kind)
        ref = pf.feols("y ~ x + z", panel, vcov=kind)
        np.testing.assert_allclose(ours.bse.to_numpy() ** 2 * n / (n - k),
                                   ref.se().to_numpy() ** 2, rtol=1e-10)


@pytest.mark.parametrize("formula", ["y ~ x + z", "y ~ x + z | unit",
                                     "y ~ x + z | unit + year"])
def test_crv3_matches_pyfixest(panel, formula):
    ours = gv.ols(formula, panel, vcov={"CRV3": "region"}, **TOL)
    ref = pf.feols(formula, panel, vcov={"CRV3": "region"})
    np.testing.assert_allclose(ours.bse.to_numpy(), ref.se().to_numpy(), rtol=1e-8)
    np.testing.assert_allclose(ours.pvalues.to_numpy(), ref.pvalue().to_numpy(), rtol=1e-6)
    assert ours.df_t == 11 and ours.n_clusters == (12,)
    # with_vcov on a fit clustered by another variable needs no data: region is kept
    other = gv.ols(formula, panel, vcov={"CRV1": "region"}, **TOL)
    np.testing.assert_allclose(other.with_vcov({"CRV3": "region"}).bse, ours.bse, rtol=1e-12)


@pytest.mark.parametrize("kind", ["NW", "DK"])
@pytest.mark.parametrize("formula", ["y ~ x + z", "y ~ x + z | unit", "y ~ x + z | unit + year"])
@pytest.mark.parametrize("lag", [None, 2])
def test_panel_hac_matches_pyfixest(panel, kind, formula, lag):
    """pyfixest counts every fixed effect in K (fixest's ``fixef.K = "full"``); the
    default (nested, as R fixest) is checked against R fixest below."""
    spec = {kind: "unit+year"} if lag is None else {kind: "unit+year", "lag": lag}
    ours = gv.ols(formula, panel, vcov=spec, ssc=gv.ssc(fixef_k="full"), **TOL)
    kwargs = {"time_id": "year", "panel_id": "unit"} | ({} if lag is None else {"lag": lag})
    ref = pf.feols(formula, panel, vcov=kind, vcov_kwargs=kwargs)
    np.testing.assert_allclose(ours.bse.to_numpy(), ref.se().to_numpy(), rtol=1e-8)
    np.testing.assert_allclose(ours.pvalues.to_numpy(), ref.pvalue().to_numpy(), rtol=1e-6)
    assert ours.df_t == ref._df_t == 8


def test_panel_id_on_the_estimator(panel):
    by_dict = gv.ols("y ~ x + z | unit", panel, vcov={"DK": "unit+year"}, **TOL)
    fit = gv.ols("y ~ x + z | unit", panel, panel_id=("unit", "year"), **TOL)
    np.testing.assert_allclose(fit.with_vcov("DK").bse, by_dict.bse, rtol=1e-12)
    assert fit.with_vcov("NW").vcov_type == "NW: unit + year"
    assert fit.vcov_type == "CRV1: unit"  # with a panel, fixest clusters by its unit
    time_only = gv.ols("y ~ x + z | unit", panel, vcov={"DK": "year"}, **TOL)  # DK ~ year
    np.testing.assert_allclose(time_only.bse, by_dict.bse, rtol=1e-12)
    assert time_only.vcov_type == "DK: year"
    ppml = gv.ppml("y ~ x + z | unit", panel.assign(y=np.exp(panel["y"] / 3)),
                   panel_id="unit+year", vcov="NW")
    assert np.all(np.isfinite(ppml.bse)) and ppml.df_t == np.inf
    with pytest.raises(ValueError, match="panel_id"):
        gv.ols("y ~ x | unit", panel, vcov="NW")
    with pytest.raises(gv.EstimationError, match="least squares"):
        ppml.with_vcov("HC2")


@pytest.mark.parametrize("formula", ["y ~ x + z", "y ~ x + z | unit", "y ~ x + z | unit + year"])
def test_wild_bootstrap_matches_pyfixest(panel, formula):
    ours = gv.ols(formula, panel, vcov={"CRV1": "region"}, **TOL)
    ref = pf.feols(formula, panel, vcov={"CRV1": "region"})
    # 12 clusters: 4096 sign patterns; 200 random draws, the same with the same seed.
    # The all +1 and all -1 patterns reproduce the sample t (|t*| = |t|): the strict
    # comparison then depends on rounding, so such ties may count differently
    boot = ours.wildboottest("x", B=200, seed=42)
    theirs = ref.wildboottest(param="x", reps=200, seed=42)
    assert boot.pvalue == pytest.approx(float(theirs["Pr(>|t|)"]), abs=1e-12)
    assert boot.statistic == pytest.approx(ours.tvalues["x"], rel=1e-10)
    assert not boot.full_enumeration and boot.draws == 200 and boot.n_clusters == 12
    # 7 clusters, 999 draws > 2^7: every pattern once (no randomness), up to the ties
    full = ours.wildboottest("x", cluster="area", B=999, seed=1, data=panel)
    theirs = ref.wildboottest(param="x", cluster="area", reps=999, seed=2)
    assert full.full_enumeration and full.draws == 128
    assert abs(full.pvalue - float(theirs["Pr(>|t|)"])) <= 2 / 128 + 1e-12
    assert "x = 0" in str(full)


def test_wild_bootstrap_input_errors(panel):
    fit = gv.ols("y ~ x + z | unit", panel, vcov="hetero")
    with pytest.raises(gv.InputError, match="cluster"):
        fit.wildboottest("x")
    with pytest.raises(gv.InputError, match="not a coefficient"):
        fit.wildboottest("nope", cluster="unit")
    with pytest.raises(gv.EstimationError, match="unweighted"):
        gv.ols("y ~ x | unit", panel, weights="w").wildboottest("x")


@pytest.mark.parametrize("kind", ["NW", "DK"])
@pytest.mark.parametrize("formula", ["c ~ x + z", "c ~ x + z | unit"])
def test_panel_hac_for_ppml_matches_pyfixest(panel, kind, formula):
    d = panel.assign(c=np.random.default_rng(5).poisson(np.exp(0.3 * panel["x"])).astype(float))
    ours = gv.ppml(formula, d, vcov={kind: "unit+year", "lag": 2}, tol=1e-12, fixef_tol=1e-12,
                   ssc=gv.ssc(fixef_k="full"))
    ref = pf.fepois(formula, d, vcov=kind, iwls_tol=1e-12, fixef_tol=1e-12,
                    vcov_kwargs={"lag": 2, "time_id": "year", "panel_id": "unit"})
    np.testing.assert_allclose(ours.params.to_numpy(), ref.coef().to_numpy(), rtol=1e-7)
    np.testing.assert_allclose(ours.bse.to_numpy(), ref.se().to_numpy(), rtol=1e-6)


@pytest.mark.parametrize("impose_null", [True, False])
def test_projected_wild_bootstrap_equals_the_dummy_design(panel, impose_null):
    """Fixed effects not nested in the clusters: the exact projection (no dummies)
    gives the bootstrap t statistics of wildboottest on the design with the dummies."""
    from wildboottest.wildboottest import WildboottestCL

    from gravity.hdfe import make_demeaner
    from gravity.hdfe.factors import factorize_term
    from gravity.inference.bootstrap import design_with_dummies, wild_bootstrap_projected

    fit = gv.ols("y ~ x + z | unit + year", panel, vcov={"CRV1": "region"}, **TOL)
    rec = fit.record
    codes = factorize_term(panel, ("region",))
    dm = make_demeaner(list(rec.fe_codes))

    def project(W):
        W = np.ascontiguousarray(W)
        dm.demean_inplace(W, tol=1e-13)
        return W

    yt = rec.beta @ rec.xt + (rec.y - rec.eta)
    ours, t_boot = wild_bootstrap_projected(rec.xt.T.copy(), yt, codes, 0, "x", project,
                                            B=300, impose_null=impose_null, seed=9)
    X = design_with_dummies(rec.X, list(rec.fe_codes))
    R = np.zeros(X.shape[1])
    R[0] = 1.0
    ref = WildboottestCL(X=X, Y=rec.y, cluster=codes, R=R, B=300, seed=9, parallel=False)
    ref.get_scores(bootstrap_type="11", impose_null=impose_null, adj=False, cluster_adj=False)
    ref.get_weights(weights_type="rademacher")
    ref.get_numer()
    ref.get_denom()
    ref.get_tboot()
    ref.get_vcov()
    ref.get_tstat()
    ref.get_pvalue()
    np.testing.assert_allclose(t_boot, ref.t_boot, rtol=1e-7)
    assert ours.statistic == pytest.approx(float(np.ravel(ref.t_stat)[0]), rel=1e-9)
    assert ours.pvalue == pytest.approx(float(ref.pvalue), abs=1e-12)


def _r_fixest() -> str:
    import os
    import shutil

    lib = os.path.expanduser("~/.cache/r-fixest")
    if shutil.which("Rscript") is None or not os.path.isdir(os.path.join(lib, "fixest")):
        pytest.skip("R fixest not built (../shared/bench/r-oracle/install.sh)")
    return lib


def test_panel_hac_defaults_match_r_fixest(tmp_path):
    """NW and DK with fixest's default small-sample rules (fixed effects nested in the
    panel's units or periods not counted in K; lags over the observed periods, a period
    absent from the whole panel bridged) equal R fixest 0.12.2's ``NW(L)``/``DK(L)`` on a
    panel with gaps in its years, with unit and unit + year effects."""
    import json
    import subprocess

    lib = _r_fixest()
    rng = np.random.default_rng(0)
    years = [2000, 2001, 2003, 2004, 2006, 2007]
    d = pd.DataFrame({"unit": np.repeat(np.arange(30), 6), "year": np.tile(years, 30)})
    d["x"] = rng.normal(size=len(d))
    d["y"] = d["x"] + rng.normal(size=len(d))
    d.to_csv(tmp_path / "d.csv", index=False)
    script = tmp_path / "nw.R"
    script.write_text(f"""
.libPaths(c("{lib}", .libPaths())); suppressMessages(library(fixest))
d <- read.csv("{tmp_path / 'd.csv'}"); out <- list()
for (fe in c("unit", "unit + year")) for (L in 1:2) {{
  m <- feols(as.formula(paste("y ~ x |", fe)), d, panel.id = ~unit + year)
  out[[paste(fe, "NW", L)]] <- unname(se(summary(m, vcov = NW(L)))["x"])
  out[[paste(fe, "DK", L)]] <- unname(se(summary(m, vcov = DK(L)))["x"])
}}
cat(jsonlite::toJSON(out, digits = 15, auto_unbox = TRUE))
""")
    ref = json.loads(subprocess.run(["Rscript", str(script)], capture_output=True, text=True,
                                    check=True, timeout=120).stdout)
    for key, se in ref.items():
        fe, kind, lag = key.rsplit(" ", 2)
        spec = {kind: "unit+year" if kind == "NW" else "year", "lag": int(lag)}
        ours = gv.ols(f"y ~ x | {fe}", d, vcov=spec, **TOL)
        assert ours.bse["x"] == pytest.approx(se, rel=1e-9), key
