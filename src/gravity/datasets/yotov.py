"""The data of Yotov, Piermartini, Monteiro and Larch (2016), chapter 1.

*An Advanced Guide to Trade Policy Analysis: The Structural Gravity Model*, WTO and
UNCTAD. Aggregate manufacturing trade of 69 countries, 1986-2006, with
intra-national flows, zeros, RTAs, and CEPII distance, contiguity, language and
colony (table ``agtpa_applications`` of the R package ``tradepolicy``).

:func:`load_yotov2016` reads a local copy (``path=``, the ``GRAVITY_YOTOV2016``
environment variable, or ``../shared/data/yotov2016/`` beside the working
directory) and otherwise downloads the file with :mod:`pooch`, checking its
SHA-256.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import MissingColumnError
from ..estimation import ols, ppml
from ..sources.fileio import read_csv
from ..sources.validate import check_unique, integers, numeric
from ..variables import add_output_expenditure, add_remoteness

FILENAME = "agtpa_applications.csv.gz"
SHA256 = "302fd7585683bf3e6045cb2b845347683103779593004dc9d3e3e26c9cf759bf"
URL = (
    "https://raw.githubusercontent.com/pachadotdev/tradepolicy/master/data-raw/"
    + FILENAME
)
YEARS = (1986, 1990, 1994, 1998, 2002, 2006)


def _candidates() -> list[Path]:
    out = []
    env = os.environ.get("GRAVITY_YOTOV2016")
    if env:
        out.append(Path(env))
    for base in (Path.cwd(), *Path.cwd().parents[:3]):
        out.append(base / "shared" / "data" / "yotov2016" / FILENAME)
    return out


def find_yotov2016() -> Path | None:
    """Path of a local copy of the data, or None."""
    for p in _candidates():
        if p.is_file():
            return p
    return None


#: Columns of the published table that must hold numbers.
NUMERIC = ("trade", "dist", "cntg", "lang", "clny", "rta")


def load_yotov2016(path: str | Path | None = None, download: bool = True) -> pd.DataFrame:
    """Read the Yotov et al. (2016) panel (99,981 rows, 1986-2006).

    A truncated or corrupt file (gzip checked), a year that is not an integer
    or a number column with text or infinite values raises
    :class:`gravity.errors.FileFormatError` naming the file; repeated
    exporter-importer-year rows :class:`gravity.errors.DuplicateKeyError`.
    """
    if path is None:
        path = find_yotov2016()
    if path is None:
        if not download:
            raise FileNotFoundError(
                f"{FILENAME} not found; pass path= or set GRAVITY_YOTOV2016")
        import pooch

        path = pooch.retrieve(URL, known_hash=f"sha256:{SHA256}", progressbar=True)
    p = Path(path)
    df, _ = read_csv(p, as_text=False, dtype={"year": str})  # years parsed strictly below
    missing = [c for c in ("exporter", "importer", "year", *NUMERIC) if c not in df.columns]
    if missing:
        raise MissingColumnError(f"missing column(s) {missing}", column=missing[0], file=p.name)
    df["exporter"] = df["exporter"].astype(str)
    df["importer"] = df["importer"].astype(str)
    df["year"] = integers(df["year"], file=p.name, column="year")
    for c in NUMERIC:
        parsed = numeric(df[c], file=p.name, column=c, thousands=False)  # text or inf: typed error
        if not pd.api.types.is_numeric_dtype(df[c]):
            df[c] = parsed
    check_unique(df, ["exporter", "importer", "year"], file=p.name)
    return df


def yotov2016_application_data(df: pd.DataFrame | None = None) -> pd.DataFrame:
    """The sample of applications 1 and 2: the six years 1986, 1990, ..., 2006 with

    ``ln_trade``, ``ln_DIST``, ``ln_Y``/``ln_E`` and remoteness (computed on the
    six-year sample with intra-national rows, before any filter), fixed-effect
    keys ``exp_year``/``imp_year``, ``intl`` (exporter != importer),
    ``ln_DIST_<year>`` (international rows of that year) and ``ln_DIST_INTRA``.
    """
    df = load_yotov2016() if df is None else df
    d = df[df["year"].isin(YEARS)].reset_index(drop=True)
    d = add_output_expenditure(d)
    d = add_remoteness(d)
    d["ln_DIST"] = np.log(d["dist"])
    with np.errstate(divide="ignore"):
        d["ln_trade"] = np.where(d["trade"] > 0, np.log(d["trade"].where(d["trade"] > 0, 1.0)),
                                 np.nan)
    d["exp_year"] = d["exporter"] + "_" + d["year"].astype(str)
    d["imp_year"] = d["importer"] + "_" + d["year"].astype(str)
    d["intl"] = (d["exporter"] != d["importer"]).astype(int)
    for y in YEARS:
        d[f"ln_DIST_{y}"] = np.where((d["year"] == y) & (d["intl"] == 1), d["ln_DIST"], 0.0)
    d["ln_DIST_INTRA"] = np.where(d["intl"] == 0, d["ln_DIST"], 0.0)
    return d


#: Table 1 of Yotov et al. (2016, ch. 1, application 1), coefficients as printed
#: (three decimals). Standard errors are clustered by country pair.
TABLE1_PUBLISHED: dict[str, dict[str, float]] = {
    "OLS": {"ln_DIST": -1.002, "cntg": 0.574, "lang": 0.802, "clny": 0.735,
            "ln_Y": 1.190, "ln_E": 0.908},
    "REMOTENESS": {"ln_DIST": -1.185, "cntg": 0.247, "lang": 0.739, "clny": 0.842,
                   "ln_Y": 1.164, "ln_E": 0.903, "ln_REM_EXP": 0.972, "ln_REM_IMP": 0.274},
    "FIXED_EFFECTS": {"ln_DIST": -1.216, "cntg": 0.223, "lang": 0.661, "clny": 0.670},
    "PPML": {"ln_DIST": -0.841, "cntg": 0.437, "lang": 0.247, "clny": -0.222},
}

#: The four models of Table 1: (estimator, formula, sample). Samples: "positive" =
#: international rows with positive trade; "international" = all international rows.
TABLE1_MODELS: dict[str, tuple[str, str, str]] = {
    "OLS": ("ols", "ln_trade ~ ln_DIST + cntg + lang + clny + ln_Y + ln_E", "positive"),
    "REMOTENESS": ("ols", "ln_trade ~ ln_DIST + cntg + lang + clny + ln_Y + ln_E"
                   " + ln_REM_EXP + ln_REM_IMP", "positive"),
    "FIXED_EFFECTS": ("ols", "ln_trade ~ ln_DIST + cntg + lang + clny | exp_year + imp_year",
                      "positive"),
    "PPML": ("ppml", "trade ~ ln_DIST + cntg + lang + clny | exp_year + imp_year",
             "international"),
}


#: The estimators named in :data:`TABLE1_MODELS`.
ESTIMATORS: dict[str, Callable[..., Any]] = {"ols": ols, "ppml": ppml}


def fit_table1(d: pd.DataFrame | None = None, **kwargs: Any) -> dict:
    """Fit the four models of Table 1 on :func:`yotov2016_application_data` output,
    clustered by ``pair_id``; ``kwargs`` go to the estimators (e.g. ``ssc="glm"``)."""
    d = yotov2016_application_data() if d is None else d
    samples = {"international": d[d["intl"] == 1],
               "positive": d[(d["intl"] == 1) & (d["trade"] > 0)]}
    return {name: ESTIMATORS[est](formula, samples[sample].reset_index(drop=True),
                                  vcov={"CRV1": "pair_id"}, **kwargs)
            for name, (est, formula, sample) in TABLE1_MODELS.items()}
