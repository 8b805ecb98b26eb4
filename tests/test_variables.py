"""Structural variables: output, expenditure and remoteness against hand computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gravity.variables import add_output_expenditure, add_remoteness


@pytest.fixture()
def tiny():
    # 3 countries with intra-national rows, one year
    c = ["A", "B", "C"]
    rows = [(i, j) for i in c for j in c]
    trade = {("A", "A"): 10, ("A", "B"): 2, ("A", "C"): 1, ("B", "A"): 3, ("B", "B"): 20,
             ("B", "C"): 4, ("C", "A"): 5, ("C", "B"): 6, ("C", "C"): 30}
    dist = {("A", "B"): 100, ("A", "C"): 300, ("B", "C"): 200}
    d = pd.DataFrame(rows, columns=["exporter", "importer"])
    d["year"] = 2000
    d["trade"] = [trade[r] for r in rows]
    d["dist"] = [10.0 if i == j else dist.get((i, j), dist.get((j, i))) for i, j in rows]
    return d


def test_output_and_expenditure(tiny):
    out = add_output_expenditure(tiny)
    y = out.set_index("exporter")["Y"].groupby(level=0).first()
    e = out.set_index("importer")["E"].groupby(level=0).first()
    assert y.to_dict() == {"A": 13, "B": 27, "C": 41}
    assert e.to_dict() == {"A": 18, "B": 28, "C": 35}
    assert np.allclose(out["ln_Y"], np.log(out["Y"]))


def test_remoteness_by_hand(tiny):
    out = add_remoteness(tiny)
    e_share = {"A": 18 / 81, "B": 28 / 81, "C": 35 / 81}
    y_share = {"A": 13 / 81, "B": 27 / 81, "C": 41 / 81}
    # REM_EXP_A = sum_j dist_Aj / (E_j / E)
    rem_exp_a = 10 / e_share["A"] + 100 / e_share["B"] + 300 / e_share["C"]
    rem_imp_c = 300 / y_share["A"] + 200 / y_share["B"] + 10 / y_share["C"]
    got = out.set_index(["exporter", "importer"])
    assert got.loc[("A", "B"), "REM_EXP"] == pytest.approx(rem_exp_a, rel=1e-12)
    assert got.loc[("B", "C"), "REM_IMP"] == pytest.approx(rem_imp_c, rel=1e-12)
    assert got.loc[("A", "B"), "ln_REM_EXP"] == pytest.approx(np.log(rem_exp_a), rel=1e-12)


def test_log_of_nonpositive_total_is_an_error(tiny):
    d = tiny.copy()
    d.loc[d["exporter"] == "A", "trade"] = 0
    from gravity.errors import InputError

    with pytest.raises(InputError, match="non-positive total Y"):
        add_output_expenditure(d)
