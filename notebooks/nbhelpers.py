"""Small helpers shared by the example notebooks (``import nbhelpers as nbh``).

The notebooks run with ``notebooks/`` as the working directory, so this module is
importable without installing it. It uses only the public API of ``gravity``
(``gravity.ppml``, ``gravity.ols``, ``gravity.simulate``, ...) plus pandas, numpy,
matplotlib and IPython; anything specific to one notebook stays in that notebook.

Data files live under ``shared/`` beside the repository (``../shared`` seen from
``notebooks/``); they are not part of a clone. :func:`find_shared` looks for one,
:func:`require_shared` stops a notebook that cannot run without it, and
:func:`real_data_absent` says which section is skipped when an optional file is missing.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import Markdown, display

__all__ = [
    "MIRROR",
    "compare_with_reference",
    "complete_years",
    "destinations_profile",
    "event_time_dummies",
    "find_shared",
    "formatted",
    "pseudo_true",
    "read_published_delta",
    "real_data_absent",
    "require_shared",
    "setup",
    "show",
    "simulated_world",
    "with_truth",
]

#: China's exports by destination (UN Comtrade mirror data), relative to ``shared/``
MIRROR = ("data", "china_exports", "china_exports_by_partner_mirror_2014_2025.csv")


# ----------------------------------------------------------------- data files
def find_shared(*parts: str) -> Path | None:
    """The file ``shared/<parts>`` in the working directory or one of its parents.

    Returned relative to the working directory (``../../shared/...`` from ``notebooks/``,
    where ``shared/`` sits beside the repository); ``None`` when it is not there (a clone
    without the ``shared/`` data directory).
    """
    for up in range(4):
        p = Path(*[".."] * up, "shared", *parts)
        if p.exists():
            return p
    return None


def require_shared(*parts: str) -> Path:
    """Like :func:`find_shared`, but raise ``FileNotFoundError`` naming the missing file.

    For notebooks without a fallback; they list the file under ``requires_shared`` in
    their metadata, so that the test suite skips them (with this path) when it is absent.
    """
    p = find_shared(*parts)
    if p is None:
        raise FileNotFoundError(
            f"shared/{'/'.join(parts)} not found in {Path.cwd()} or its parents (the "
            f"repository's ../shared/{'/'.join(parts)}): this notebook needs it and does not "
            "download data; see shared/data/README.md")
    return p


def real_data_absent(what: str, consequence: str = "the real-data section is skipped") -> None:
    """Display a bold "REAL DATA ABSENT" note: ``what`` was not found, ``consequence``."""
    display(Markdown(f"**REAL DATA ABSENT:** {what} was not found beside the working "
                     f"directory, so {consequence}."))


def complete_years(flows: pd.DataFrame, base: tuple[int, int] = (2014, 2023),
                   share: float = 0.9) -> pd.Series:
    """Per year of mirror data: whether enough partners report (bool Series by year).

    A year is *complete* when its number of reporting destinations is at least
    ``share`` times the median over the ``base`` years; the last years of a
    Comtrade extract are usually incomplete.
    """
    reporters = flows.groupby("year")["importer"].nunique()
    return reporters >= share * reporters.loc[base[0]:base[1]].median()


# ------------------------------------------------------------------ display
def setup(dpi: int = 80) -> None:
    """Figure resolution for the stored outputs (call after ``%matplotlib inline``).

    80 dpi keeps the committed ``.ipynb`` small and the figures readable.
    """
    import matplotlib

    matplotlib.rcParams["figure.dpi"] = dpi


def show(fig) -> None:
    """Display a matplotlib figure once and close it (no second copy at the cell end)."""
    import matplotlib.pyplot as plt

    display(fig)
    plt.close(fig)


def formatted(df: pd.DataFrame, formats: dict[str, str]) -> pd.DataFrame:
    """A copy of ``df`` with the columns in ``formats`` as strings ("n/a" for missing)."""
    out = df.copy()
    for c, f in formats.items():
        out[c] = df[c].map(lambda v, f=f: "n/a" if pd.isna(v) else f.format(v))
    return out


# --------------------------------------------------------- simulated worlds
def simulated_world(params, seed: int, years: Iterable[int] = range(2008, 2021)):
    """``gravity.simulate.simulate_world`` with the true expected outcomes as columns.

    Adds ``p_entry`` (true P(X > 0)), ``mu`` (true E[X]) and ``mu_pos``
    (true E[X | X > 0]) from ``truth.latent``; returns ``(panel, truth)``.
    """
    from gravity.simulate import simulate_world

    panel, truth = simulate_world(params, seed=seed, years=years)
    panel["p_entry"] = truth.latent["p_entry"].to_numpy()
    panel["mu"] = truth.latent["mu"].to_numpy()
    panel["mu_pos"] = panel["mu"] / panel["p_entry"]
    return panel, truth


def pseudo_true(estimator: Callable, formula: str, data: pd.DataFrame) -> pd.Series:
    """Coefficients of ``estimator(formula, data)`` run on an *expected* outcome.

    With ``p_entry``, ``mu`` or ``mu_pos`` as the outcome this is what the estimator
    converges to in the simulated world without sampling noise (its pseudo-true value).
    Warnings (non-integer outcome, ...) are silenced.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return estimator(formula, data).params


def with_truth(table: pd.DataFrame, true: list, label: str = "true value",
               parameter: list | None = None) -> pd.DataFrame:
    """A margins result's tidy table with a column of true values.

    Optionally also the model ``parameter`` each row corresponds to. ``covered``: whether
    the 95% interval contains the true value (empty where there is no interval).
    """
    out = table[["specification", "term", "estimate", "std_error", "conf_low", "conf_high",
                 "p_value", "nobs"]].copy()
    if parameter is not None:
        out["model parameter"] = parameter
    out[label] = true
    inside = (out["conf_low"] <= out[label]) & (out[label] <= out["conf_high"])
    out["covered"] = inside.where(out["conf_low"].notna())
    return out.set_index(["specification", "term"])


def event_time_dummies(panel: pd.DataFrame, window: tuple[int, int],
                       treat: str = "bri_ij") -> pd.DataFrame:
    """A copy of ``panel`` with the event-time dummies ``bri_event_study`` documents.

    Event time is the year minus the pair's first treated year, binned at the ends of
    ``window``; ``t = -1`` is omitted; never-treated pairs have all dummies 0. Columns
    ``ev_m<k>`` (leads) and ``ev_p<k>`` (lags).
    """
    d = panel.copy()
    first = d.loc[d[treat] == 1].groupby("pair")["year"].min()
    rel = np.clip(d["year"].to_numpy() - d["pair"].map(first).to_numpy(dtype=float), *window)
    for k in range(window[0], window[1] + 1):
        if k != -1:
            d[f"ev_m{-k}" if k < 0 else f"ev_p{k}"] = np.where(np.isfinite(rel) & (rel == k),
                                                               1.0, 0.0)
    return d


# ------------------------------------------------------ published references
def compare_with_reference(fits: dict, reference: pd.DataFrame) -> pd.DataFrame:
    """Our coefficients and clustered standard errors next to published ones.

    ``reference``: columns ``model, variable, coef, se_default, se_cluster_only`` (as in
    ``shared/reference/yotov2016_fixest.csv``); ``fits``: model name -> fitted result.
    ``se glm`` is the cluster-only convention (``fit.with_vcov(ssc="glm")``).
    """
    rows = []
    for name, fit in fits.items():
        ref = reference[reference["model"] == name].set_index("variable")
        glm = fit.with_vcov(ssc="glm")
        for var in fit.params.index:
            rows.append({
                "model": name, "variable": var,
                "coef": fit.params[var], "coef (published)": ref.loc[var, "coef"],
                "se": fit.bse[var], "se (published)": ref.loc[var, "se_default"],
                "se glm": glm.bse[var], "se glm (published)": ref.loc[var, "se_cluster_only"],
                "max rel. diff": max(
                    abs(fit.params[var] / ref.loc[var, "coef"] - 1),
                    abs(fit.bse[var] / ref.loc[var, "se_default"] - 1),
                    abs(glm.bse[var] / ref.loc[var, "se_cluster_only"] - 1)),
            })
    return pd.DataFrame(rows).set_index(["model", "variable"])


_DELTA_ROW = re.compile(r"^\| (PUZZLE_\w+) \| ([-\d.]+) \(([\d.]+), p [=<] ([\de.-]+)\) \| "
                        r"([-\d.]+) \(([\d.]+), p [=<] ([\de.-]+)\) \|$")


def read_published_delta(path: Path | None) -> dict[str, tuple[float, float, float, float]]:
    """The percentage changes of the distance elasticity in ``yotov2016.md``.

    Model name -> (change, se, change, se glm), parsed from the markdown table rows;
    empty when ``path`` is None.
    """
    out: dict[str, tuple[float, float, float, float]] = {}
    if path is None:
        return out
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        m = _DELTA_ROW.match(line)
        if m:
            out[m[1]] = (float(m[2]), float(m[3]), float(m[5]), float(m[6]))
    return out


# ------------------------------------------------------------ descriptives
def destinations_profile(flows: pd.DataFrame, geo: pd.DataFrame) -> pd.DataFrame:
    """Per exporter-year: destinations served and how far they are.

    ``n_destinations`` (positive international flows), the trade-weighted and median
    distance (``geo["distw"]``, km) of the destinations served, and the share of trade
    to destinations without a distance in ``geo``.
    """
    f = flows[(flows["trade"] > 0) & (flows["exporter"] != flows["importer"])].merge(
        geo, on=["exporter", "importer"], how="left")
    g = f.groupby(["exporter", "year"])
    return pd.DataFrame({
        "n_destinations": g["importer"].nunique(),
        "weighted_dist_km": g.apply(lambda x: np.average(x["distw"].dropna(),
                                                         weights=x.loc[x["distw"].notna(),
                                                                       "trade"]),
                                    include_groups=False),
        "median_dist_km": g["distw"].median(),
        "share_without_distance": g.apply(lambda x: x.loc[x["distw"].isna(), "trade"].sum()
                                          / x["trade"].sum(), include_groups=False),
    }).reset_index()
