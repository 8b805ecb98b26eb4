"""Multiple estimation: the fixest grammar c()/sw()/sw0()/csw()/csw0() expanded into
single formulas, split=/fsplit= samples, and the collection. Reference: every fit of
the collection equals a separate single fit on the same rows (to 1e-10; the single
estimators are themselves checked against pyfixest, statsmodels and fixest), and the
expansion equals fixest's documented expansion written out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import simulated_panel

import gravity
from gravity.errors import FormulaError, MissingColumnError, MissingValueError
from gravity.estimation.multiple import FULL_SAMPLE, FailedFit, MultipleResults
from gravity.multiformula import expand_formula, is_multiple

TOL = 1e-10


def formulas(f: str) -> list[str]:
    return [m.formula for m in expand_formula(f)]


# ------------------------------------------------------------------ expansion
@pytest.mark.parametrize("text, expected", [
    ("y ~ x | fe", ["y ~ x | fe"]),
    ("c(y1, y2) ~ x", ["y1 ~ x", "y2 ~ x"]),
    ("y ~ sw(a, b)", ["y ~ a", "y ~ b"]),
    ("y ~ sw0(a, b)", ["y ~ 1", "y ~ a", "y ~ b"]),
    ("y ~ csw(a, b, c)", ["y ~ a", "y ~ a + b", "y ~ a + b + c"]),
    ("y ~ csw0(a, b) | fe", ["y ~ 1 | fe", "y ~ a | fe", "y ~ a + b | fe"]),
    ("y ~ x1 + sw(a, b + c) + x2", ["y ~ x1 + a + x2", "y ~ x1 + b + c + x2"]),
    ("y ~ sw(log(a), I(b**2))", ["y ~ log(a)", "y ~ I(b**2)"]),
    ("y ~ x | sw(fe1, fe1 + fe2^fe3)", ["y ~ x | fe1", "y ~ x | fe1 + fe2^fe3"]),
    ("y ~ x | csw0(fe1, fe2)", ["y ~ x", "y ~ x | fe1", "y ~ x | fe1 + fe2"]),
])
def test_expansion_matches_fixest_semantics(text, expected):
    assert formulas(text) == expected
    assert is_multiple(text) == (len(expected) > 1 or "c(" in text)


def test_expansion_order_is_outcome_fixef_regressors():
    specs = expand_formula("c(y1, y2) ~ csw(a, b) | sw(f, g)")
    assert [(s.id_lhs, s.id_fixef, s.id_rhs) for s in specs] == [
        (i, j, k) for i in range(2) for j in range(2) for k in range(2)]
    assert specs[-1].formula == "y2 ~ a + b | g"
    # every expanded formula parses as a single formula
    for s in specs:
        assert gravity.formula.parse_formula(s.formula).outcome == s.lhs


@pytest.mark.parametrize("bad", [
    "y ~ sw(a, b) + csw(c, d)",      # two stepwise functions in one part
    "y ~ sw(a, , b)",                # empty argument
    "y ~ sw(a, b",                   # unbalanced
    "c(y, y) ~ x",                   # repeated outcome
    "y ~ x * sw(a, b)",              # not a term of its own
    "y ~ x | sw0()",                 # nothing after |
    "y ~ x | a | b",
    "y = x",
])
def test_expansion_errors_are_formula_errors(bad):
    with pytest.raises(FormulaError):
        expand_formula(bad)


# ------------------------------------------------------------------ fits
@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    df = simulated_panel(12, 12, 4, seed=3)
    df["grp"] = np.where(df["year"] % 2 == 0, "even", "odd")
    df["y2"] = df["y"] * 3.0 + (df["exporter"] % 3)
    df["w"] = 1.0 + (df["importer"] % 4)
    return df


def _close(a: gravity.RegressionResults, b: gravity.RegressionResults) -> None:
    assert list(a.params.index) == list(b.params.index)
    np.testing.assert_allclose(a.params, b.params, rtol=0, atol=TOL)
    np.testing.assert_allclose(a.bse, b.bse, rtol=1e-10, atol=TOL)
    assert a.nobs == b.nobs and a.dropped == b.dropped
    fa, fb = a.fixed_effects(), b.fixed_effects()
    for k in fa:
        assert fa[k].index.equals(fb[k].index)
        np.testing.assert_allclose(fa[k], fb[k], rtol=0, atol=1e-8)


@pytest.mark.parametrize("model, formula, kw", [
    ("ppml", "c(y, y2) ~ csw(ln_dist, rta) | exporter + importer", {}),
    ("ppml", "y ~ sw0(ln_dist, x) | exporter^year + importer", {"vcov": {"CRV1": "pair"}}),
    ("ols", "x ~ csw0(ln_dist, rta + contig) | sw(exporter, exporter + importer)",
     {"weights": "w", "vcov": "hetero"}),
])
def test_every_fit_equals_a_separate_single_fit(panel, model, formula, kw):
    fit = gravity.ppml if model == "ppml" else gravity.ols
    many = gravity.estimate_many(formula, panel, model=model, split="grp", **kw)
    specs = expand_formula(formula)
    assert len(many) == 2 * len(specs) and not many.failed
    for key, res in many.items():
        assert isinstance(res, gravity.RegressionResults)
        single = fit(key.spec.formula, panel[panel["grp"] == key.sample], **kw)
        _close(res, single)
    assert [k.sample for k in many.keys] == ["even"] * len(specs) + ["odd"] * len(specs)


def test_fsplit_puts_the_whole_sample_first(panel):
    many = gravity.estimate_many("y ~ ln_dist | exporter + importer", panel, fsplit="grp")
    assert [k.sample for k in many.keys] == [FULL_SAMPLE, "even", "odd"]
    _close(many[0], gravity.ppml("y ~ ln_dist | exporter + importer", panel))
    no_split = gravity.estimate_many("y ~ ln_dist | exporter + importer", panel)
    assert len(no_split) == 1 and no_split.keys[0].sample_var is None
    _close(no_split[0], many[0])


def test_a_failing_fit_is_recorded_not_fatal(panel):
    df = panel.copy()
    df.loc[df["grp"] == "odd", "y"] = 0.0  # nothing to explain in one group
    many = gravity.estimate_many("y ~ csw(ln_dist, rta) | exporter + importer", df,
                                 split="grp")
    assert len(many) == 4 and len(many.failed) == 2
    bad = many[2]
    assert isinstance(bad, FailedFit) and not bad.ok
    assert bad.error_type == "EstimationError" and "no observations" in bad.message
    status = many.models()["status"]
    assert (status[:2] == "ok").all() and status[2].startswith("EstimationError")
    coef = many.coef()
    assert coef.loc[2:].isna().all().all() and coef.loc[:1, "ln_dist"].notna().all()
    _close(many[1], gravity.ppml("y ~ ln_dist + rta | exporter + importer",
                                 df[df["grp"] == "even"]))
    # a missing regressor in one model only: that model fails, the others run
    many = gravity.estimate_many("y ~ sw(ln_dist, nope) | exporter", panel)
    assert isinstance(many[0], gravity.PoissonResults)
    assert many[1].error_type == "MissingColumnError"


def test_collection_container_and_tables(panel):
    many = gravity.estimate_many("c(y, y2) ~ sw(ln_dist, rta) | exporter + importer",
                                 panel, split="grp")
    assert len(list(many)) == len(many) == 8
    sub = many[2:4]
    assert isinstance(sub, MultipleResults) and len(sub) == 2
    sel = many.select(sample="odd", lhs="y2")
    assert [k.spec.formula for k in sel.keys] == ["y2 ~ ln_dist | exporter + importer",
                                                  "y2 ~ rta | exporter + importer"]
    tidy = many.tidy()
    assert len(tidy) == 8 and set(tidy["term"]) == {"ln_dist", "rta"}
    row = tidy[(tidy["id"] == 5) & (tidy["term"] == "rta")].iloc[0]
    assert row["estimate"] == pytest.approx(many[5].params["rta"], abs=0)
    assert many.se().loc[5, "rta"] == many[5].bse["rta"]
    table = gravity.etable(many)
    frame = table.to_frame()
    assert frame.shape[1] == 8
    md = table.to_markdown()
    assert "grp=even" in md and "grp=odd" in md
    assert "MultipleResults(8 fits, 0 failed)" in repr(many)


@pytest.mark.parametrize("kwargs, error", [
    ({"split": "nope"}, MissingColumnError),
    ({"split": "grp", "fsplit": "grp"}, ValueError),
    ({"split": "grp", "model": "tobit"}, ValueError),
    ({"split": "grp", "weights": np.ones(3)}, ValueError),
])
def test_bad_calls_raise_typed_errors(panel, kwargs, error):
    with pytest.raises(error):
        gravity.estimate_many("y ~ ln_dist | exporter", panel, **kwargs)


def test_missing_split_values(panel):
    df = panel.copy()
    df.loc[[3, 7], "grp"] = None
    with pytest.raises(MissingValueError) as e:
        gravity.estimate_many("y ~ ln_dist | exporter", df, split="grp")
    assert e.value.column == "grp" and e.value.rows == [3, 7]
    many = gravity.estimate_many("y ~ ln_dist | exporter", df, split="grp", missing="drop")
    assert sum(r.n_input for r in many) == len(df) - 2
