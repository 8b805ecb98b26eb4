"""Regression tables (exact Markdown/LaTeX strings) and figures (rendered PNGs).

The table tests fit two models on a 12-row DataFrame defined here: OLS
``ly ~ x`` (iid) and PPML ``y ~ x | g`` (heteroskedasticity-robust). The numbers
in the expected strings are checked independently below (closed-form OLS with
numpy; Poisson GLM with group dummies in statsmodels).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.image as mpimg  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import statsmodels.api as sm  # noqa: E402
from scipy import stats  # noqa: E402

import gravity as gv  # noqa: E402
from gravity.reporting import (  # noqa: E402
    coefplot,
    distance_elasticity_plot,
    diversification_plot,
    etable,
    event_study_plot,
)


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    df = pd.DataFrame({
        "g": ["a"] * 4 + ["b"] * 4 + ["c"] * 4,
        "x": [0.0, 1.0, 2.0, 3.0, 0.5, 1.5, 2.5, 3.5, 1.0, 2.0, 3.0, 4.0],
        "y": [2.0, 3.0, 5.0, 9.0, 1.0, 4.0, 4.0, 6.0, 3.0, 2.0, 7.0, 12.0],
    })
    df["ly"] = np.log(df["y"])
    return df


@pytest.fixture(scope="module")
def models(small) -> list[gv.RegressionResults]:
    return [gv.ols("ly ~ x", small), gv.ppml("y ~ x | g", small, vcov="hetero")]


EXPECTED_MD = """\
|                |   (1)    |            (2)            |
|:---------------|:--------:|:-------------------------:|
| Dependent var. |  log y   |             y             |
| Estimator      |   OLS    |            PPML           |
| Constant       |  0.399*  |                           |
|                | (0.216)  |                           |
| Distance       | 0.483*** |          0.519***         |
|                | (0.093)  |          (0.072)          |
| Fixed effects: |          |                           |
| g              |    No    |            Yes            |
| Observations   |    12    |             12            |
| R2             |  0.7308  |                           |
| Pseudo R2      |          |           0.3201          |
| Std. errors    |   IID    | Heteroskedasticity-robust |

Standard errors in parentheses. Signif. codes: \\*\\*\\* p < 0.01, \\*\\* p < 0.05, \\* p < 0.1."""

EXPECTED_TEX = r"""\begin{tabular}{lcc}
\toprule
 & (1) & (2) \\
Dependent var. & log y & y \\
Estimator & OLS & PPML \\
\midrule
Constant & $0.399^{*}$ &  \\
 & (0.216) &  \\
Distance & $0.483^{***}$ & $0.519^{***}$ \\
 & (0.093) & (0.072) \\
\midrule
\emph{Fixed effects} & & \\
g & No & Yes \\
\midrule
Observations & 12 & 12 \\
R2 & 0.7308 &  \\
Pseudo R2 &  & 0.3201 \\
Std. errors & IID & Heteroskedasticity-robust \\
\bottomrule
\multicolumn{3}{l}{\footnotesize Standard errors in parentheses. Signif. codes: *** p \textless{} 0.01, ** p \textless{} 0.05, * p \textless{} 0.1.} \\
\end{tabular}"""

EXPECTED_MD_T = """\
|                |  OLS   |  PPML  |
|:---------------|:------:|:------:|
| Dependent var. |   ly   |   y    |
| Estimator      |  OLS   |  PPML  |
| x              |  0.48  |  0.52  |
|                | (5.21) | (7.19) |
| Constant       |  0.40  |        |
|                | (1.85) |        |
| Fixed effects: |        |        |
| g              |   No   |  Yes   |
| Observations   |   12   |   12   |
| Pseudo R2      |        | 0.3201 |
| Log-likelihood |        | -20.82 |

t/z statistics in parentheses."""


# ---------------------------------------------------------------- independent numbers
def test_numbers_in_expected_strings_are_right(small, models):
    """The printed values equal closed-form OLS and statsmodels' Poisson GLM."""
    X = np.column_stack([np.ones(len(small)), small["x"]])
    y = small["ly"].to_numpy()
    b, *_ = np.linalg.lstsq(X, y, rcond=None)
    e = y - X @ b
    n, k = X.shape
    V = e @ e / (n - k) * np.linalg.inv(X.T @ X)
    se = np.sqrt(np.diag(V))
    p = 2 * stats.t(n - k).sf(np.abs(b / se))
    assert [f"{v:.3f}" for v in b] == ["0.399", "0.483"]
    assert [f"{v:.3f}" for v in se] == ["0.216", "0.093"]
    assert 0.05 < p[0] < 0.1 and p[1] < 0.01  # one star and three stars
    assert f"{1 - e @ e / np.sum((y - y.mean()) ** 2):.4f}" == "0.7308"

    D = pd.get_dummies(small["g"], dtype=float).to_numpy()
    glm = sm.GLM(small["y"], np.column_stack([small["x"], D]), family=sm.families.Poisson()).fit(
        cov_type="HC1")
    assert f"{glm.params.iloc[0]:.3f}" == "0.519"
    assert f"{models[1].params['x']:.6f}" == f"{glm.params.iloc[0]:.6f}"
    null = sm.GLM(small["y"], np.ones(len(small)), family=sm.families.Poisson()).fit()
    assert f"{1 - glm.llf / null.llf:.4f}" == "0.3201"
    assert f"{glm.llf:.2f}" == "-20.82"


# ---------------------------------------------------------------- exact strings
def test_markdown_exact(models):
    tab = etable(models, labels={"x": "Distance", "ly": "log y"})
    assert tab.to_markdown() == EXPECTED_MD
    assert str(tab) == EXPECTED_MD


def test_latex_booktabs_exact(models):
    tab = etable(models, labels={"x": "Distance", "ly": "log y"})
    assert tab.to_latex() == EXPECTED_TEX
    wrapped = tab.to_latex(caption="Gravity 50% & more", label="tab:g")
    assert wrapped.startswith("\\begin{table}[htbp]\n\\centering\n"
                              "\\caption{Gravity 50\\% \\& more}\n\\label{tab:g}\n"
                              "\\begin{tabular}{lcc}")
    assert wrapped.endswith("\\end{tabular}\n\\end{table}")


def test_tstat_named_columns_order_no_stars(models):
    tab = etable({"OLS": models[0], "PPML": models[1]}, stat="t", stars=None, digits=2,
                 order=["x"], fitstats=("nobs", "pseudo_r2", "loglik"))
    assert tab.to_markdown() == EXPECTED_MD_T


def test_frame_html_keep_drop(models):
    tab = etable(models, labels={"x": "Distance"}, drop=[r"^\(Intercept\)$"])
    frame = tab.to_frame()
    assert list(frame.columns) == ["(1)", "(2)"]
    assert list(frame.index) == ["Dependent var.", "Estimator", "Distance", "", "Fixed effects:",
                                 "g", "Observations", "R2", "Pseudo R2", "Std. errors"]
    assert frame.loc["Distance"].tolist() == ["0.483***", "0.519***"]
    assert frame.iloc[3].tolist() == ["(0.093)", "(0.072)"]
    html = tab.to_html()
    assert html.startswith('<table class="gravity-etable"')
    assert html.count("<tr") == 12  # 3 header + 2 coef + title + 1 FE + 4 stats + 1 note
    assert "<td>Distance</td><td style=\"text-align: center\">0.483***</td>" in html
    assert tab._repr_html_() == html
    only = etable(models, keep=["^x$"], fe_rows=False, fitstats=("nobs",))
    assert list(only.to_frame().index) == ["Dependent var.", "Estimator", "x", "", "Observations"]


def test_within_r2_and_clusters(small):
    fe = gv.ols("ly ~ x | g", small, vcov={"CRV1": "g"})
    tab = etable(fe, fitstats=("nobs", "r2", "r2_within", "n_clusters", "vcov"))
    f = tab.to_frame()
    assert f.loc["Within R2", "(1)"] == f"{fe.r2_within:.4f}"
    assert f.loc["R2", "(1)"] == f"{fe.r2:.4f}"
    assert f.loc["Clusters", "(1)"] == "3"
    assert f.loc["Std. errors", "(1)"] == "Clustered (g)"
    assert gv.etable is etable


def test_etable_errors(models):
    with pytest.raises(ValueError, match="stat"):
        etable(models, stat="ci")
    with pytest.raises(ValueError, match="fitstats"):
        etable(models, fitstats=("aic",))
    with pytest.raises(ValueError, match="model_names"):
        etable(models, model_names=["a"])
    with pytest.raises(ValueError, match="at least one"):
        etable([])


# ---------------------------------------------------------------- figures
def _check_png(fig, path, shape):
    fig.savefig(path, dpi=100)
    assert path.stat().st_size > 5_000
    img = mpimg.imread(path)
    assert img.shape == shape
    # not blank: a real share of non-white pixels
    nonwhite = np.mean(np.any(img[..., :3] < 0.9, axis=-1))
    assert nonwhite > 0.01


def test_coefplot_png(tmp_path, models, small):
    fe = gv.ols("ly ~ x | g", small)
    fig = coefplot({"OLS": models[0], "OLS FE": fe, "PPML": models[1]},
                   labels={"x": "Distance"})
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Distance"]
    assert len(ax.containers) == 3  # one errorbar per model
    _check_png(fig, tmp_path / "coef.png", (400, 600, 4))
    with pytest.raises(ValueError, match="lacks columns"):
        coefplot(pd.DataFrame({"estimate": [1.0]}))


def test_event_study_png(tmp_path):
    est = pd.DataFrame({"period": [-3, -2, 0, 1, 2, 3],
                        "estimate": [0.01, -0.02, 0.10, 0.15, 0.2, 0.22]})
    est["conf_low"] = est["estimate"] - 0.05
    est["conf_high"] = est["estimate"] + 0.05
    fig = event_study_plot(est, ref_period=-1, figsize=(7, 3.5))
    line = [ln for ln in fig.axes[0].lines if ln.get_label() == "Estimate"][0]
    assert line.get_xdata().tolist() == [-3, -2, -1, 0, 1, 2, 3]
    assert line.get_ydata()[2] == 0.0
    _check_png(fig, tmp_path / "es.png", (350, 700, 4))


def test_diversification_png(tmp_path):
    df = pd.DataFrame({"year": np.arange(2014, 2020), "n_destinations": [180, 182, 185, 185, 186, 190],
                       "top5_share": [0.48, 0.47, 0.465, 0.46, 0.4606, 0.45],
                       "emerging_share": [0.30, 0.31, 0.32, 0.33, 0.35, 0.36]})
    fig = diversification_plot(df, percent=("top5_share", "emerging_share"),
                               marks={"top5_share": {2018: 0.459}}, figsize=(9, 3))
    assert len([a for a in fig.axes if a.get_visible()]) == 3
    top = fig.axes[1]
    assert top.lines[0].get_ydata()[4] == pytest.approx(46.06)
    _check_png(fig, tmp_path / "div.png", (300, 900, 4))


def test_distance_elasticity_png(tmp_path):
    years = [1986, 1990, 1994]
    tidy = pd.DataFrame({"term": [f"ln_DIST_{y}" for y in years],
                         "estimate": [-0.9, -0.85, -0.8], "conf_low": [-1.0, -0.95, -0.9],
                         "conf_high": [-0.8, -0.75, -0.7]})
    fig = distance_elasticity_plot({"ours": tidy}, years,
                                   reference={"published": {1986: -0.9, 1990: -0.85}})
    ax = fig.axes[0]
    assert ax.get_xticks().tolist() == years
    _check_png(fig, tmp_path / "dist.png", (400, 600, 4))
    with pytest.raises(ValueError, match="lacks coefficients"):
        distance_elasticity_plot(tidy, [1986, 2006])
