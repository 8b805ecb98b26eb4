r"""Structural-gravity variables computed from a bilateral panel.

* Output and expenditure (Yotov et al. 2016, ch. 1): ``Y_it = sum_j X_ijt`` and
  ``E_jt = sum_i X_ijt``, summed over all partners including the country itself
  when intra-national flows are present.
* Remoteness (Head 2003; Yotov et al. 2016, eq. 1-3):
  ``REM_EXP_it = sum_j dist_ij / (E_jt / E_t)`` and
  ``REM_IMP_jt = sum_i dist_ij / (Y_it / Y_t)``, where ``E_t = sum_j E_jt`` and
  ``Y_t = sum_i Y_it`` are the year's world totals.

All functions are vectorised group-bys and return a new DataFrame.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import InputError, MissingColumnError


def _require(df: pd.DataFrame, cols: list[str]) -> None:
    for c in cols:
        if c not in df.columns:
            raise MissingColumnError("column not found", column=c)


def add_output_expenditure(
    df: pd.DataFrame,
    trade: str = "trade",
    exporter: str = "exporter",
    importer: str = "importer",
    year: str = "year",
    logs: bool = True,
) -> pd.DataFrame:
    """Add ``Y`` (exporter-year output) and ``E`` (importer-year expenditure), and
    their logs ``ln_Y``, ``ln_E``, computed on the rows given (filter afterwards)."""
    _require(df, [trade, exporter, importer, year])
    out = df.copy()
    out["Y"] = out.groupby([exporter, year], sort=False)[trade].transform("sum")
    out["E"] = out.groupby([importer, year], sort=False)[trade].transform("sum")
    if logs:
        for c in ("Y", "E"):
            nonpos = out[c] <= 0
            if nonpos.any():
                raise InputError(f"cannot take the log of a non-positive total {c}",
                                 column=trade, rows=out.index[nonpos])
            out["ln_" + c] = np.log(out[c])
    return out


def remoteness_sum(
    own: pd.Series,
    partner: pd.Series,
    year: pd.Series,
    dist: pd.Series,
    partner_size: pd.Series,
) -> pd.Series:
    """``sum_k dist_ik / (S_kt / S_t)`` for every row's (own, year), summed over its partners k.

    ``S_t`` is the year's total of ``partner_size`` over distinct partners. The
    result is aligned with the input rows (same index). Rows should be
    restricted by the caller (e.g. to finite distance and positive size).
    """
    frame = pd.DataFrame({"own": own, "partner": partner, "year": year,
                          "dist": dist.astype(float), "size": partner_size.astype(float)})
    world = frame.drop_duplicates(["partner", "year"]).groupby("year")["size"].sum()
    term = frame["dist"] * frame["year"].map(world) / frame["size"]
    return term.groupby([frame["own"], frame["year"]], sort=False).transform("sum")


def add_remoteness(
    df: pd.DataFrame,
    dist: str = "dist",
    trade: str = "trade",
    exporter: str = "exporter",
    importer: str = "importer",
    year: str = "year",
    logs: bool = True,
) -> pd.DataFrame:
    """Add ``REM_EXP``, ``REM_IMP`` (and ``ln_REM_EXP``, ``ln_REM_IMP``).

    ``Y`` and ``E`` are computed first when absent (see :func:`add_output_expenditure`).
    """
    _require(df, [dist, exporter, importer, year])
    out = df if {"Y", "E"} <= set(df.columns) else add_output_expenditure(
        df, trade, exporter, importer, year, logs=False)
    out = out.copy()
    out["REM_EXP"] = remoteness_sum(out[exporter], out[importer], out[year], out[dist], out["E"])
    out["REM_IMP"] = remoteness_sum(out[importer], out[exporter], out[year], out[dist], out["Y"])
    if logs:
        out["ln_REM_EXP"] = np.log(out["REM_EXP"])
        out["ln_REM_IMP"] = np.log(out["REM_IMP"])
    return out
