"""docs/bad-inputs.md is true: each row of its table is produced here on small data, and
the class named first in its right-hand column is the one raised (or warned), with the
message naming what the row says (column, rows, file, cause).

Every row must have a case below and every case a row, so the table cannot drift from
the code in either direction.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import gravity as gv
from gravity.cli import main
from gravity.errors import GravityWarning

DOC = Path(__file__).resolve().parents[1] / "docs" / "bad-inputs.md"


def _data() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"y": rng.poisson(3, 200).astype(float), "x": rng.normal(size=200),
                         "g": rng.integers(0, 10, 200)})


def _with(**changes: Callable[[pd.DataFrame], None]) -> pd.DataFrame:
    d = _data()
    for f in changes.values():
        f(d)
    return d


def _nan(d: pd.DataFrame) -> None:
    d.loc[[3, 7], "y"] = np.nan


def _neg(d: pd.DataFrame) -> None:
    d.loc[5, "y"] = -1.0


def _zero_group(d: pd.DataFrame) -> None:
    d.loc[d["g"] == 0, "y"] = 0.0


def _dup_col(d: pd.DataFrame) -> None:
    d["x2"] = 2.0 * d["x"]


def _fit_then_predict_unseen() -> None:
    d = _data()
    fit = gv.ppml("y ~ x | g", d)
    new = d.head(3).assign(g=99)
    assert np.isnan(fit.predict(new)).all()


def _bad_source_file(tmp: Path) -> None:
    from gravity.sources import read_china_mirror

    p = tmp / "mirror.csv"
    p.write_text("refYear,flowCode,partnerDesc,partner_rank,reporterDesc,cmdCode,partner_sum,"
                 "partner_perc,partner_upper_sum\n"
                 "2018,M,China,1,USA,TOTAL,5.0e11,0.2,2.5e12\n"
                 "2018,M,China,2,Japan,TOTAL,lots,0.1,2.5e12\n")
    read_china_mirror(p)


def _cli(tmp: Path) -> None:
    d = _with(nan=_nan)
    p = tmp / "d.csv"
    d.to_csv(p, index=False)
    status = main(["fit", "ppml", "y ~ x | g", str(p)])
    raise SystemExit(status)


def _duplicated_columns() -> pd.DataFrame:
    d = _data()
    return pd.concat([d, d[["x"]]], axis=1)  # two columns named 'x'


#: row text -> (action taking a tmp folder, expected class, texts the message must contain)
CASES: dict[str, tuple[Callable[[Path], object], type, tuple[str, ...]]] = {
    "a column named in the formula is missing": (
        lambda t: gv.ppml("y ~ xx | g", _data()), gv.MissingColumnError,
        ("'xx'", "did you mean 'x'")),
    "NaN or inf in the outcome (or a regressor, weight, offset, fixed effect, cluster)": (
        lambda t: gv.ppml("y ~ x | g", _with(a=_nan)), gv.MissingValueError,
        ("column 'y'", "rows [3, 7]", "missing='drop'")),
    "a negative outcome for PPML": (
        lambda t: gv.ppml("y ~ x | g", _with(a=_neg)), gv.NegativeValueError,
        ("column 'y'", "rows [5]")),
    "a binary model on an outcome that is not 0/1": (
        lambda t: gv.logit("y ~ x | g", _data()), gv.InputError, ("column 'y'", "0 or 1")),
    "data that is not a DataFrame": (
        lambda t: gv.ppml("y ~ x | g", _data().to_numpy()), gv.errors.DataTypeError,
        ("ndarray",)),
    "a column name that appears twice": (
        lambda t: gv.ppml("y ~ x | g", _duplicated_columns()), gv.InputError, ("column 'x'",)),
    "weights as a Series whose index is not the data's": (
        lambda t: gv.ppml("y ~ x | g", _data(), weights=pd.Series(1.0, index=range(1000, 1200))),
        gv.InputError, ("column 'weights'",)),
    "a formula with a syntax error (`y ~ x +`)": (
        lambda t: gv.ppml("y ~ x +", _data()), gv.FormulaError, ("stray '+'",)),
    "an option value that is not accepted (`on_nonconvergence=\"RAISE\"`, `tol=-1`, "
    "`vcov=\"cluster\"`, `family=\"gamma\"`)": (
        lambda t: [_expect(ValueError, f) for f in (
            lambda: gv.ppml("y ~ x | g", _data(), on_nonconvergence="RAISE"),
            lambda: gv.ppml("y ~ x | g", _data(), tol=-1),
            lambda: gv.ppml("y ~ x | g", _data(), vcov="cluster"),
            lambda: gv.feglm("y ~ x | g", _data(), family="gamma"))] and gv.ppml(
                "y ~ x | g", _data(), vcov="cluster"),
        ValueError, ("use",)),
    "separated observations (PPML: an all-zero fixed-effect group)": (
        lambda t: gv.ppml("y ~ x | g", _with(a=_zero_group)), gv.SeparationWarning,
        ("separated",)),
    "a regressor collinear with another, or absorbed by the fixed effects": (
        lambda t: gv.ppml("y ~ x + x2 | g", _with(a=_dup_col)), gv.CollinearityWarning,
        ("'x2'",)),
    "no observation left after dropping": (
        lambda t: gv.ppml("y ~ x | g", _data().assign(y=0.0)), gv.EstimationError,
        ("no observations left",)),
    "an outcome with no variation": (
        lambda t: gv.ols("y ~ x | g", _data().assign(y=3.0)), gv.EstimationError,
        ("'y'", "no variation")),
    "IRLS not converged within `maxiter`": (
        lambda t: gv.ppml("y ~ x | g", _data(), maxiter=1), gv.ConvergenceWarning,
        ("did not converge",)),
    "the same with `on_nonconvergence=\"raise\"`": (
        lambda t: gv.ppml("y ~ x | g", _data(), maxiter=1, on_nonconvergence="raise"),
        gv.ConvergenceError, ("relative change in deviance",)),
    "`predict(newdata)` with fixed-effect levels not seen in the fit": (
        lambda t: _fit_then_predict_unseen(), GravityWarning, ("3 of 3 rows", "NaN")),
    "`build_panel` with neither flows nor a CEPII Gravity frame": (
        lambda t: gv.build_panel(None), gv.errors.CoverageError, ("needs flows=",)),
    "negative flows passed to `margins.diversification`": (
        lambda t: gv.margins.diversification(pd.DataFrame(
            {"exporter": ["A"], "importer": ["B"], "year": [2000], "trade": [-1.0]})),
        gv.NegativeValueError, ("column 'trade'", "rows [0]")),
    "a source file with a value that is not a number": (
        _bad_source_file, gv.errors.FileFormatError, ("mirror.csv", "partner_sum", "lots")),
    "the command line: any of the above, a missing or unreadable file": (
        _cli, SystemExit, ()),
}


def _expect(kind: type, f: Callable[[], object]) -> bool:
    with pytest.raises(kind):
        f()
    return True


def _rows() -> list[tuple[str, str]]:
    rows = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if len(cells) == 2 and cells[0] not in ("input", "---"):
            rows.append((cells[0], cells[1]))
    return rows


def test_table_and_cases_match():
    keys = [r[0] for r in _rows()]
    assert len(keys) == len(set(keys))
    assert set(keys) == set(CASES), (set(keys) ^ set(CASES))


@pytest.mark.parametrize(("row", "outcome"), _rows(), ids=[r[0][:40] for r in _rows()])
def test_row_is_what_happens(row, outcome, tmp_path, capsys):
    action, kind, texts = CASES[row]
    if kind is SystemExit:
        with pytest.raises(SystemExit) as exc:
            action(tmp_path)
        assert exc.value.code == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("gravity: error: ") and "--missing drop" in err
        assert "Traceback" not in err
        return
    named = re.search(r"`(\w+)`", outcome)
    assert named is not None and named.group(1) == kind.__name__, outcome
    if issubclass(kind, Warning):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            action(tmp_path)
        hits = [w for w in caught if type(w.message) is kind]
        assert hits, [str(w.message) for w in caught]
        message = str(hits[0].message)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", GravityWarning)
            with pytest.raises(kind) as err:
                action(tmp_path)
        assert type(err.value) is kind or kind is ValueError
        message = str(err.value)
    for text in texts:
        assert text in message, message
