"""Unit tests of the grammar's building blocks: the varying-slope demeaner against
dense least squares, panel time indices, lag positions and the parser."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gravity.errors import EstimationError, FormulaError, InputError
from gravity.formula import parse_formula
from gravity.hdfe import FixedEffects
from gravity.hdfe.slopes import SlopeBlock, VaryingSlopes
from gravity.hdfe.timeindex import panel_index, shift_positions, time_index


def _dense_residual(Y: np.ndarray, cols: list[np.ndarray], w: np.ndarray) -> np.ndarray:
    D = np.column_stack(cols)
    sw = np.sqrt(w)
    coef = np.linalg.lstsq(D * sw[:, None], Y * sw[:, None], rcond=None)[0]
    return Y - D @ coef


def _onehot(c: np.ndarray) -> np.ndarray:
    out = np.zeros((c.size, int(c.max()) + 1))
    out[np.arange(c.size), c] = 1.0
    return out


@pytest.mark.parametrize("weighted", [False, True])
def test_varying_slopes_equal_dense_least_squares(weighted):
    rng = np.random.default_rng(3)
    n = 600
    a, b, g = rng.integers(0, 15, n), rng.integers(0, 10, n), rng.integers(0, 25, n)
    z1, z2 = rng.normal(size=n), rng.uniform(0, 5, n)
    z1[g == 0] = 1.5  # a group where the slope does not vary: absorbed by its effect
    w = rng.uniform(0.2, 3.0, n) if weighted else np.ones(n)
    Y = rng.normal(size=(n, 3))
    base = FixedEffects([a, b])
    blocks = [SlopeBlock(g, z1[:, None], with_fe=True),
              SlopeBlock(b, np.column_stack([z1, z2]), with_fe=False)]
    dm = VaryingSlopes(base, blocks, n)
    got, info = dm.demean(Y, w if weighted else None, tol=1e-12)
    G, B = _onehot(g), _onehot(b)
    cols = [_onehot(a), B, G, G * z1[:, None], B * z1[:, None], B * z2[:, None]]
    want = _dense_residual(Y, cols, w)
    assert info.converged.all()
    np.testing.assert_allclose(got, want, atol=1e-8)
    # one block and no other fixed effect: exact in one pass
    single = VaryingSlopes(None, blocks[:1], n)
    got1, info1 = single.demean(Y[:, 0], w)
    np.testing.assert_allclose(got1, _dense_residual(Y[:, :1], [G, G * z1[:, None]], w)[:, 0],
                               atol=1e-10)
    assert info1.iterations.tolist() == [1]


def test_time_index_follows_fixest_time_steps():
    assert time_index(pd.Series([1986, 1990, 1994, 2006, 1990])).tolist() == [0, 1, 2, 5, 1]
    assert time_index(pd.Series([2.5, 1.0, 2.5])).tolist() == [1, 0, 1]  # consecutive
    assert time_index(pd.Series(["b", "a", "c"])).tolist() == [1, 0, 2]
    dates = pd.Series(pd.to_datetime(["2001-03-01", "2000-01-01", "2003-01-01"]))
    assert time_index(dates).tolist() == [1, 0, 2]


def test_panel_index_and_shifts():
    d = pd.DataFrame({"u": ["a", "a", "a", "b", "b"], "t": [2000, 2001, 2003, 2000, 2001]})
    units, periods = panel_index(d, "u", "t")
    assert shift_positions(units, periods, 1).tolist() == [-1, 0, -1, -1, 3]
    assert shift_positions(units, periods, -2).tolist() == [-1, 2, -1, -1, -1]
    dup = pd.concat([d, d.iloc[[1]]], ignore_index=True)
    with pytest.raises(InputError, match="not unique") as err:
        panel_index(dup, "u", "t")
    assert err.value.rows == [1, 5]
    with pytest.raises(InputError, match="missing values"):
        panel_index(d.assign(t=[2000, None, 2003, 2000, 2001]), "u", "t")


def test_parser_grammar_elements():
    f = parse_formula("log(trade) ~ x + i(year, ref=c(1990, 1994)) + l(x, 0:2) "
                      "| exporter^year + pair[trend] + importer[[t1, t2]]")
    assert f.outcome == "log(trade)" and not f.outcome_is_column
    assert f.fixed_effects == (("exporter", "year"), ("pair",))
    assert [s.label for s in f.slopes] == ["pair[trend]", "importer[[t1, t2]]"]
    assert f.i_terms[0].ref == (1990, 1994) and f.has_lags
    assert f.columns() == {"trade", "x", "year", "exporter", "pair", "trend", "importer",
                           "t1", "t2"}
    assert parse_formula("y ~ i(g, i.h, ref2='a')").i_terms[0].var2_factor
    for bad, msg in [("y ~ i(g, bin=3)", "no argument 'bin'"),
                     ("y ~ l(x, 1, 2)", "write l\\(column, k\\)"),
                     ("y ~ x | pair[trend]]", "brackets|unbalanced"),
                     ("y ~ x | pair[log(t)]", "column names"),
                     ("y ~ np.fooz(x) + bar(x)", "unknown function 'bar'")]:
        with pytest.raises(FormulaError, match=msg):
            parse_formula(bad)


def test_leverage_refuses_dense_problems_too_big(monkeypatch):
    from gravity.inference import leverage

    monkeypatch.setattr(leverage, "MAX_OTHER_LEVELS", 5)
    codes = [np.arange(20) % 10, np.arange(20) % 7]
    with pytest.raises(EstimationError, match="HC2/HC3"):
        leverage.fixed_effect_leverage(codes, np.ones(20))
