"""A test per command of the command line: ``gravity fit`` (every estimator, the JSON
fields against the Python API), ``gravity panel`` (every source: BACI, DOTS, Comtrade,
China mirror, CEPII Gravity with GeoDist/WDI/FD and BRI lags; the panel equals
``build_panel`` on the same readers), ``gravity diversification``, ``gravity ge`` (every
path against the :mod:`gravity.ge` API on small simulated worlds) and ``--help``."""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import shared_path

import gravity as gv
from gravity import ge
from gravity.cli import ESTIMATORS, main
from gravity.panel import build_panel, read_panel

pytestmark = pytest.mark.unit


@pytest.fixture
def data_csv(tmp_path: Path) -> tuple[pd.DataFrame, Path]:
    rng = np.random.default_rng(1)
    n = 400
    g = rng.integers(0, 8, n)
    x = rng.normal(size=n)
    d = pd.DataFrame({"x": x, "z": rng.normal(size=n), "g": g, "w": rng.uniform(0.5, 2, n),
                      "y": rng.poisson(np.exp(0.5 + 0.3 * x)).astype(float),
                      "b": (rng.uniform(size=n) < 1 / (1 + np.exp(-0.5 * x))).astype(float)})
    path = tmp_path / "d.csv"
    d.to_csv(path, index=False)
    return d, path


def _json(capsys, argv: list[str]) -> dict:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_fit_json_matches_the_api(capsys, data_csv, estimator):
    d, path = data_csv
    y = "b" if estimator in ("logit", "probit", "cloglog", "lpm") else "y"
    formula = f"{y} ~ x + z | g"
    out = _json(capsys, ["fit", estimator, formula, str(path), "--vcov", "hetero", "--json"])
    ref = getattr(gv, estimator)(formula, d, vcov="hetero")
    ci = ref.conf_int()
    assert out["formula"] == formula and out["estimator"] == ref.model
    assert out["vcov"] == ref.vcov_type and "hetero" in out["vcov"].lower()
    assert out["nobs"] == ref.nobs
    for key, series in (("params", ref.params), ("bse", ref.bse), ("pvalues", ref.pvalues),
                        ("tvalues", ref.tvalues), ("conf_low", ci.iloc[:, 0]),
                        ("conf_high", ci.iloc[:, 1])):
        assert list(out[key]) == list(series.index)
        np.testing.assert_allclose(list(out[key].values()), series.to_numpy(), rtol=1e-12)


def test_fit_alpha_weights_and_cluster(capsys, data_csv):
    d, path = data_csv
    out = _json(capsys, ["fit", "ppml", "y ~ x | g", str(path), "--vcov", "CRV1:g",
                         "--weights", "w", "--alpha", "0.1", "--json"])
    ref = gv.ppml("y ~ x | g", d, vcov={"CRV1": "g"}, weights=d["w"])
    ci = ref.conf_int(alpha=0.1)
    assert out["alpha"] == 0.1 and "CRV1" in out["vcov"] and "g" in out["vcov"]
    assert out["conf_low"]["x"] == pytest.approx(ci.iloc[0, 0], rel=1e-12)
    assert out["params"]["x"] == pytest.approx(ref.params["x"], rel=1e-12)
    assert main(["fit", "ppml", "y ~ x | g", str(path), "--weights", "nope"]) == 2
    assert "'nope'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["fit", "ppml", "y ~ x | g", str(path), "--alpha", "2"])


def test_fit_json_dropped_and_warnings(capsys, tmp_path, data_csv):
    d, _ = data_csv
    d = d.assign(y=np.where(d["g"] == 0, 0.0, d["y"]))
    path = tmp_path / "z.parquet"
    d.to_parquet(path)
    out = _json(capsys, ["fit", "ppml", "y ~ x | g", str(path), "--json"])
    assert out["dropped"]["separated_fe"] == int((d["g"] == 0).sum())
    assert any("separated" in w for w in out["warnings"])


def _panel(capsys, tmp_path: Path, args: list[str]) -> pd.DataFrame:
    out = tmp_path / "panel.parquet"
    assert main(["panel", *args, "--output", str(out)]) == 0, capsys.readouterr().err
    assert "panel:" in capsys.readouterr().out
    panel, prov = read_panel(out)
    assert prov["counts"]["rows"] == len(panel)
    return panel


def _same(cli: pd.DataFrame, api: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(cli.reset_index(drop=True), api.reset_index(drop=True),
                                  check_dtype=False)


def test_panel_baci(capsys, tmp_path):
    from test_sources_baci import ROWS_2018, write_baci

    from gravity.sources import read_baci

    p = write_baci(tmp_path / "baci", ROWS_2018)
    cli = _panel(capsys, tmp_path, ["--baci", str(p), "--no-bri"])
    _same(cli, build_panel(read_baci(p, progress=False), bri=None)[0])
    assert (cli["trade"] == 0).any()  # true zeros among covered countries


def test_panel_dots(capsys, tmp_path):
    from test_sources_trade_fixtures import EXP, dots_file

    from gravity.sources import read_dots

    p = dots_file(tmp_path, [
        EXP.format("China, P.R.: Mainland", "924", "United States", "111", "429,800.5", "478,423.2"),
        EXP.format("United States", "111", "China, P.R.: Mainland", "924", "129,894.6", "120,148.1"),
        EXP.format("United States", "111", "Korea, Rep. of", "542", "5", "6")])
    cli = _panel(capsys, tmp_path, ["--dots", str(p), "--dots-flow", "exports", "--lags", "1"])
    _same(cli, build_panel(read_dots(p), lags=(1,))[0])
    assert "bri_ij_lag1" in cli.columns


def test_panel_comtrade(capsys, tmp_path):
    from test_sources_trade_fixtures import COMTRADE_HEAD, ct_row

    from gravity.sources import read_comtrade

    p = tmp_path / "comtrade_2018.csv"
    p.write_text(COMTRADE_HEAD + ct_row(156, "CHN", "X", 842, "USA", 4.7e11)
                 + ct_row(842, "USA", "X", 156, "CHN", 1.2e11)
                 + ct_row(842, "USA", "X", 699, "IND", 3.0e10))
    cli = _panel(capsys, tmp_path, ["--comtrade", str(p), "--comtrade-flow", "X"])
    _same(cli, build_panel(read_comtrade(p, flow="X"))[0])


def test_panel_china_mirror(capsys, tmp_path):
    from gravity.sources import read_china_mirror

    p = shared_path("data", "china_exports", "china_exports_by_partner_mirror_2014_2025.csv")
    cli = _panel(capsys, tmp_path, ["--china-mirror", str(p), "--years", "2017", "2018"])
    _same(cli, build_panel(read_china_mirror(p), years=[2017, 2018])[0])
    chn = cli[(cli["exporter"] == "CHN") & (cli["year"] == 2018)]
    assert chn["trade"].sum() == pytest.approx(2_716_249_246_403.79, rel=1e-12)


def test_panel_cepii_gravity_with_covariates(capsys, tmp_path):
    from gravity.sources import (
        flows_from_cepii,
        read_cepii_gravity,
        read_geodist,
        read_imf_fd,
        read_wdi,
    )

    g = shared_path("data", "cepii_gravity", "Gravity_V202211_slice_9ctry_2015_2021.dta")
    geo = shared_path("data", "geo", "cepii_geodist_dist.csv.gz")
    wdi = shared_path("data", "macro", "wdi_gdp_2005_2020.csv")
    fd = shared_path("data", "findev", "imf_fd_index_1980_2018.csv")
    cli = _panel(capsys, tmp_path, ["--cepii-gravity", str(g), "--geodist", str(geo),
                                    "--wdi", str(wdi), "--fd", str(fd), "--lags", "1", "2"])
    grav = read_cepii_gravity(g)
    api = build_panel(None, gravity=grav, trade_column="tradeflow_baci",
                      geodist=read_geodist(geo), macro=read_wdi(wdi), fd=read_imf_fd(fd),
                      lags=(1, 2))[0]
    _same(cli, api)
    assert len(cli) == 9 * 8 * 7 and {"fd_o", "gdp_d", "bri_ij_lag2"} <= set(cli.columns)
    assert flows_from_cepii(grav)["trade"].notna().sum() == cli["trade"].notna().sum()


@pytest.mark.parametrize(("argv", "text"), [
    (["--dots", "a.csv", "--comtrade", "b.csv"], "one flow source"),
    (["--geodist", "a.csv"], "no trade flows"),
    (["--baci", "nope.csv"], "nope.csv"),
])
def test_panel_errors_are_one_line(capsys, tmp_path, argv, text):
    assert main(["panel", *argv, "--output", str(tmp_path / "p.parquet")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("gravity: error: ") and text in err[0]


def test_diversification(capsys, tmp_path):
    panel = pd.DataFrame({"exporter": "CHN", "year": 2018,
                          "importer": ["USA", "IND", "VNM", "NGA", "BRA", "JPN"],
                          "trade": [50.0, 10.0, 5.0, 3.0, 2.0, 30.0], "bri_d": [0, 0, 1, 1, 0, 0]})
    path = tmp_path / "p.csv"
    panel.to_csv(path, index=False)
    out = tmp_path / "div.csv"
    assert main(["diversification", str(path), "--groups", "five_emerging", "msci", "bri_d",
                 "--k", "2", "5", "--output", str(out)]) == 0
    got = pd.read_csv(out).iloc[0]
    assert got["share_five_emerging"] == pytest.approx(0.20)
    assert got["share_bri_d"] == pytest.approx(0.08) and got["top2_share"] == pytest.approx(0.8)
    assert main(["diversification", str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("CHN,2018,6")
    assert main(["diversification", str(path), "--groups", "nope"]) == 2
    assert "'nope'" in capsys.readouterr().err


@pytest.mark.parametrize("command", [[], ["fit"], ["panel"], ["diversification"], ["demo"],
                                     ["ge"]])
def test_help_has_examples(capsys, command):
    with pytest.raises(SystemExit) as exc:
        main([*command, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "gravity " in out.split("examples:")[1]


def test_fit_separation_and_verbose(capsys, tmp_path, data_csv):
    d, _ = data_csv
    d = d.assign(y=np.where(d["g"] == 0, 0.0, d["y"]))
    path = tmp_path / "z.csv"
    d.to_csv(path, index=False)
    out = _json(capsys, ["fit", "ppml", "y ~ x | g", str(path), "--separation", "none",
                         "--json"])
    ref = gv.ppml("y ~ x | g", d, separation=None)
    assert out["nobs"] == ref.nobs and "separated_fe" not in out["dropped"]
    assert out["params"]["x"] == pytest.approx(ref.params["x"], rel=1e-12)
    assert main(["fit", "ppml", "y ~ x | g", str(path), "--verbose", "--json"]) == 0
    captured = capsys.readouterr()
    fit = json.loads(captured.out)
    iterations = [ln for ln in captured.err.splitlines() if ln.startswith("IRLS iteration")]
    assert iterations and fit["dropped"]["separated_fe"] > 0
    assert main(["fit", "ols", "y ~ x | g", str(path), "--separation", "fe"]) == 2
    assert "--separation applies to" in capsys.readouterr().err


# -- gravity ge ---------------------------------------------------------------------------

GE_FORMULA = "trade ~ ln_dist + border + fta | exporter + importer"
GE_ARGS = ["--formula", GE_FORMULA, "--reference", "C00", "--sigma", "5"]


def _ge_world(n: int = 10, seed: int = 0) -> pd.DataFrame:
    """SIMULATED: every ordered pair of ``n`` countries, domestic pairs included."""
    rng = np.random.default_rng(seed)
    names = [f"C{k:02d}" for k in range(n)]
    xy = rng.uniform(0, 10, (n, 2))
    i, j = np.divmod(np.arange(n * n), n)
    d = pd.DataFrame({"exporter": np.take(names, i), "importer": np.take(names, j),
                      "ln_dist": np.log(np.hypot(*(xy[i] - xy[j]).T) + 0.5),
                      "border": (i != j).astype(float),
                      "fta": ((i != j) & (i < 4) & (j < 4)).astype(float)})
    gdp = rng.lognormal(0, 1, n)
    cost = np.exp(-1.0 * d["ln_dist"] - 1.5 * d["border"] + 0.5 * d["fta"])
    d["trade"] = gdp[i] * gdp[j] * cost * rng.lognormal(0, 0.3, n * n)
    return d


@pytest.fixture(scope="module")
def ge_world(tmp_path_factory):
    d = _ge_world()
    path = tmp_path_factory.mktemp("ge") / "world.csv"
    d.to_csv(path, index=False)
    fit = gv.ppml(GE_FORMULA, d, tol=1e-10)
    return d, path, fit, ge.Baseline.from_fit(fit, d, reference="C00", sigma=5)


def _csv(capsys, argv: list[str]) -> pd.DataFrame:
    assert main(argv) == 0, capsys.readouterr().err
    return pd.read_csv(io.StringIO(capsys.readouterr().out))


def _same_ge(cli: pd.DataFrame, api: pd.DataFrame, cols=("pct_change",)) -> None:
    assert list(cli.columns) == list(api.columns)
    keys = [c for c in api.columns if api[c].dtype == object]
    assert (cli[keys].astype(str).to_numpy() == api[keys].astype(str).to_numpy()).all()
    for c in cols:
        np.testing.assert_allclose(cli[c].to_numpy(), api[c].to_numpy(), rtol=0, atol=1e-10)


@pytest.mark.parametrize("solver", ["exact", "geppml"])
@pytest.mark.parametrize("kind", ["conditional", "full"])
def test_ge_matches_the_api(capsys, ge_world, kind, solver):
    _, path, _, base = ge_world
    out = _csv(capsys, ["ge", str(path), *GE_ARGS, "--set", "fta=0", "--kind", kind,
                        "--solver", solver])
    api = ge.counterfactual(base, {"fta": 0.0}, kind=kind, solver=solver).tidy()
    _same_ge(out, api)
    assert out["pct_change"].abs().max() > 1  # the change moves the world


def test_ge_selection_direction_and_json(capsys, ge_world):
    _, path, _, base = ge_world
    members = ["C00", "C01", "C04", "C05"]

    def change(f: pd.DataFrame) -> pd.DataFrame:  # written independently of the CLI
        inside = f["exporter"].isin(members) & f["importer"].isin(members) \
            & (f["exporter"] != f["importer"]) & (f["ln_dist"] > 1.0)
        return f.assign(fta=np.where(inside, 1.0, f["fta"]))

    assert main(["ge", str(path), *GE_ARGS, "--set", "fta=1", "--between", *members,
                 "--where", "ln_dist > 1.0", "--direction", "baseline",
                 "--imbalances", "additive", "--json"]) == 0
    out = pd.DataFrame(json.loads(capsys.readouterr().out))
    api = ge.counterfactual(base, change, imbalances="additive").tidy("baseline")
    _same_ge(out, api)
    # --where alone
    assert main(["ge", str(path), *GE_ARGS, "--set", "fta=1", "--where",
                 "exporter in ['C04', 'C05'] and importer in ['C00', 'C01']"]) == 0
    out2 = pd.read_csv(io.StringIO(capsys.readouterr().out))
    api2 = ge.counterfactual(base, lambda f: f.assign(fta=np.where(
        f["exporter"].isin(["C04", "C05"]) & f["importer"].isin(["C00", "C01"]), 1.0,
        f["fta"]))).tidy()
    _same_ge(out2, api2)


def test_ge_draws_and_output_files(capsys, ge_world, tmp_path):
    d, path, _, _ = ge_world
    fit = gv.ppml(GE_FORMULA, d, vcov="hetero", tol=1e-10)
    base = ge.Baseline.from_fit(fit, d, reference="C00", sigma=5)
    api = ge.ge_intervals(ge.counterfactual(base, {"fta": 0.0}), base, {"fta": 0.0},
                          fit.vcov, draws=30, seed=5).tidy()
    for ext in (".json", ".parquet", ".csv"):
        target = tmp_path / f"ge{ext}"
        assert main(["ge", str(path), *GE_ARGS, "--set", "fta=0", "--vcov", "hetero",
                     "--draws", "30", "--seed", "5", "--out", str(target)]) == 0
        assert str(target) in capsys.readouterr().out
        got = {".json": lambda p: pd.DataFrame(json.loads(p.read_text())),
               ".parquet": pd.read_parquet, ".csv": pd.read_csv}[ext](target)
        _same_ge(got, api, cols=("pct_change", "lower", "upper", "median"))
    assert (api["lower"] < api["upper"]).sum() > len(api) / 2


def test_ge_bilateral(capsys, ge_world):
    _, path, _, base = ge_world
    out = _csv(capsys, ["ge", str(path), *GE_ARGS, "--set", "fta=0", "--bilateral",
                        "--kind", "conditional"])
    api = ge.counterfactual(base, {"fta": 0.0}, kind="conditional").bilateral("conditional")
    _same_ge(out, api, cols=("baseline", "conditional", "pct_change"))


def _ge_panel(n: int = 8) -> pd.DataFrame:
    """SIMULATED two-year panel: an FTA among C00-C03 from 2005, pairs C00-C07 never
    trade (no pair effect: stage 2 fills them)."""
    d = pd.concat([_ge_world(n, seed=s).assign(year=y) for s, y in ((1, 2000), (2, 2005))],
                  ignore_index=True)
    d["fta"] = np.where(d["year"] == 2000, 0.0, d["fta"])
    d.loc[d["year"] == 2005, "trade"] *= np.exp(0.4 * d.loc[d["year"] == 2005, "fta"])
    never = d["exporter"].isin(["C00", "C07"]) & d["importer"].isin(["C00", "C07"]) \
        & (d["exporter"] != d["importer"])
    d.loc[never, "trade"] = 0.0
    d["exp_year"] = d["exporter"] + d["year"].astype(str)
    d["imp_year"] = d["importer"] + d["year"].astype(str)
    d["pair"] = np.where(d["exporter"] == d["importer"], "domestic",
                         d["exporter"] + "_" + d["importer"])
    return d


def test_ge_panel_year_and_pair_effects(capsys, tmp_path):
    d = _ge_panel()
    path = tmp_path / "panel.parquet"
    d.to_parquet(path)
    formula = "trade ~ fta | exp_year + imp_year + pair"
    args = ["ge", str(path), "--formula", formula, "--reference", "C01", "--sigma", "6",
            "--set", "fta=0", "--direction", "baseline"]
    assert main(args) == 2  # several years, no --year
    assert "--year" in capsys.readouterr().err
    assert main([*args, "--year", "2005"]) == 2  # the pair effect is a cost
    err = capsys.readouterr().err
    assert "'pair'" in err and "--pair-fe" in err and len(err.strip().splitlines()) == 1
    out = _csv(capsys, [*args, "--year", "2005", "--pair-fe", "pair", "--domestic",
                        "domestic", "--fill", "ln_dist"])
    fit = gv.ppml(formula, d, tol=1e-10)
    costs = ge.pair_cost_index(fit, d, pair="pair", domestic="domestic", year=2005,
                               fill="ln_dist")
    assert costs.data["pair_filled"].sum() == 2  # C00->C07 and C07->C00
    base = ge.Baseline.from_fit(fit, costs.data, reference="C01", sigma=6,
                                fixed_ln_t="pair_ln_t")
    _same_ge(out, ge.counterfactual(base, {"fta": 0.0}).tidy("baseline"))
    # exporter-year and importer-year effects alone need no --pair-fe
    out = _csv(capsys, ["ge", str(path), "--formula", "trade ~ fta + ln_dist | exp_year + "
                        "imp_year", "--reference", "C01", "--sigma", "6", "--set", "fta=0",
                        "--year", "2005"])
    fit2 = gv.ppml("trade ~ fta + ln_dist | exp_year + imp_year", d, tol=1e-10)
    base2 = ge.Baseline.from_fit(fit2, d[d["year"] == 2005], reference="C01", sigma=6)
    api2 = ge.counterfactual(base2, {"fta": 0.0}).tidy()
    _same_ge(out, api2)
    # the same effects written as combinations (exporter^year): no bilateral effect
    out = _csv(capsys, ["ge", str(path), "--formula", "trade ~ fta + ln_dist | exporter^year"
                        " + importer^year", "--reference", "C01", "--sigma", "6", "--set",
                        "fta=0", "--year", "2005"])
    np.testing.assert_allclose(out["pct_change"], api2["pct_change"], rtol=0, atol=1e-8)


@pytest.mark.parametrize(("extra", "text"), [
    (["--set", "nope=0"], "'nope'"),
    (["--set", "fta=0", "--where", "ln_dist >"], "--where"),
    (["--set", "fta=0", "--where", "ln_dist"], "true/false"),
    (["--set", "fta=0", "--draws", "10", "--solver", "geppml"], "--solver exact"),
    (["--set", "fta=0", "--out", "x.xlsx"], "--out"),
    (["--set", "fta=0", "--reference", "ZZZ"], "'ZZZ'"),
    (["--set", "fta=0", "--sigma", "0.5"], "sigma"),
    (["--set", "fta=0", "--year", "1990"], "--year"),
])
def test_ge_errors_are_one_line(capsys, ge_world, extra, text):
    _, path, _, _ = ge_world
    assert main(["ge", str(path), *GE_ARGS, *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gravity: error:") and text in err
    assert len(err.strip().splitlines()) == 1


def test_ge_bad_set_and_no_op_change(capsys, ge_world):
    _, path, _, _ = ge_world
    with pytest.raises(SystemExit):
        main(["ge", str(path), *GE_ARGS, "--set", "fta"])
    assert "COLUMN=NUMBER" in capsys.readouterr().err
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        assert main(["ge", str(path), *GE_ARGS, "--set", "fta=0", "--between", "C08",
                     "C09"]) == 0
    err = capsys.readouterr().err
    assert "gravity: warning: the change leaves every trade cost as it is" in err


def test_fit_split_and_stepwise_match_estimate_many(capsys, data_csv):
    """``gravity fit`` with ``--split`` and a ``csw()`` formula: every estimate equals
    :func:`gravity.estimate_many` (and so a separate single fit) to 1e-12."""
    d, path = data_csv
    formula = "y ~ csw(x, z) | g"
    out = _json(capsys, ["fit", "ppml", formula, str(path), "--split", "b",
                         "--vcov", "hetero", "--json"])
    ref = gv.estimate_many(formula, d, split="b", vcov="hetero").tidy()
    got = pd.DataFrame(out["estimates"])
    assert out["split"] == "b" and len(out["models"]) == 4 and len(got) == len(ref) == 6
    np.testing.assert_allclose(got["estimate"], ref["estimate"].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(got["std_error"], ref["std_error"].to_numpy(), rtol=1e-12)
    one = gv.ppml("y ~ x + z | g", d[d["b"] == 1.0], vcov="hetero")
    last = got.tail(2)
    np.testing.assert_allclose(last["estimate"], one.params.to_numpy(), rtol=1e-10)
    assert main(["fit", "ppml", "y ~ sw(x, z) | g", str(path)]) == 0
    assert "sw" not in capsys.readouterr().err
