"""Derived panel columns: keys, logs, GDP-based remoteness, BRI indicators, lags and leads.

All functions are vectorised and work on a panel in the canonical layout of
:mod:`gravity.panel.schema`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from gravity.sources.bri import bri_in_force
from gravity.variables import remoteness_sum

__all__ = ["add_bri", "add_gdp_remoteness", "add_keys", "add_lags_leads", "add_logs"]


def _combine(a: pd.Series, b: pd.Series) -> pd.Series:
    """``a + "_" + b`` computed on the distinct combinations only (fast on big panels)."""
    ca, ua = pd.factorize(a)
    cb, ub = pd.factorize(b)
    ua = np.asarray(ua, dtype=object).astype(str)
    ub = np.asarray(ub, dtype=object).astype(str)
    combos = np.char.add(np.char.add(ua[:, None], "_"), ub[None, :]).ravel()
    idx = ca.astype(np.int64) * len(ub) + cb
    return pd.Series(combos[idx], index=a.index, dtype="string")


def add_keys(df: pd.DataFrame) -> pd.DataFrame:
    """Add ``exp_year`` ("CHN_2015"), ``imp_year`` ("USA_2015") and ``pair`` ("CHN_USA")."""
    df["exp_year"] = _combine(df["exporter"], df["year"])
    df["imp_year"] = _combine(df["importer"], df["year"])
    df["pair"] = _combine(df["exporter"], df["importer"])
    return df


def add_logs(df: pd.DataFrame, columns: Sequence[str] = ("dist", "gdp_o", "gdp_d", "pop_o", "pop_d", "trade")) -> pd.DataFrame:
    """Add ``ln_<col>`` for each present column; NaN where the value is not positive."""
    for c in columns:
        if c in df:
            v = df[c].to_numpy(dtype=float, na_value=np.nan)
            with np.errstate(divide="ignore", invalid="ignore"):
                df["ln_" + c] = np.where(v > 0, np.log(np.where(v > 0, v, 1.0)), np.nan)
    return df


def add_gdp_remoteness(df: pd.DataFrame) -> pd.DataFrame:
    """Add the GDP-based log remoteness ``remoteness_o`` and ``remoteness_d`` (needs ``dist``,
    ``gdp_o``, ``gdp_d``).

    ``remoteness_o[i,t] = ln sum_{k != i} dist_ik * Y_t / gdp_k,t`` where the sum runs
    over the panel's importers k with known distance and GDP, and ``Y_t`` is their
    total GDP (Yotov et al. 2016, with GDP for expenditure); ``remoteness_d``
    symmetrically over exporters. Built on :func:`gravity.variables.remoteness_sum`,
    like :func:`gravity.variables.add_remoteness` (which uses output and expenditure
    from the trade flows instead of GDP, and adds ``REM_EXP``/``REM_IMP``).
    """
    if not {"dist", "gdp_o", "gdp_d"} <= set(df.columns):
        return df
    off = (df["exporter"] != df["importer"]).to_numpy()
    for side, other_gdp in (("o", "gdp_d"), ("d", "gdp_o")):
        key = "exporter" if side == "o" else "importer"
        other = "importer" if side == "o" else "exporter"
        ok = off & np.isfinite(df["dist"].to_numpy(float)) & (df[other_gdp].to_numpy(float) > 0)
        sub = df.loc[ok]
        rem = remoteness_sum(sub[key], sub[other], sub["year"], sub["dist"], sub[other_gdp])
        per_country = rem.groupby([sub[key], sub["year"]]).first()
        idx = pd.MultiIndex.from_arrays([df[key], df["year"]])
        df["remoteness_" + side] = np.log(per_country.reindex(idx).to_numpy(float))
    return df


def add_bri(df: pd.DataFrame, table: pd.DataFrame, lags: Sequence[int] = (), leads: Sequence[int] = ()) -> pd.DataFrame:
    """Add ``bri_o``, ``bri_d``, ``bri_ij`` (and exact lags/leads, e.g. ``bri_ij_lag1``).

    Lags and leads are computed from the table's years, so they are defined
    in the first and last years of the panel too.
    """
    y = df["year"].to_numpy()
    for suffix, shift in [("", 0)] + [(f"_lag{k}", -k) for k in lags] + [(f"_lead{k}", k) for k in leads]:
        o = bri_in_force(df["exporter"], y + shift, table)
        d = bri_in_force(df["importer"], y + shift, table)
        df["bri_o" + suffix] = o
        df["bri_d" + suffix] = d
        df["bri_ij" + suffix] = (o & d).astype(np.int8)
    return df


def add_lags_leads(df: pd.DataFrame, columns: Sequence[str], lags: Sequence[int] = (),
                   leads: Sequence[int] = ()) -> pd.DataFrame:
    """Add ``<col>_lag<k>`` / ``<col>_lead<k>``: the same pair's value in t - k / t + k.

    NaN where year t -/+ k is not in the panel.
    """
    if not columns or not (lags or leads):
        return df
    idx = pd.MultiIndex.from_arrays([df["exporter"], df["importer"], df["year"]])
    for c in columns:
        s = pd.Series(df[c].to_numpy(), index=idx)
        for name, shift in [(f"{c}_lag{k}", -k) for k in lags] + [(f"{c}_lead{k}", k) for k in leads]:
            target = pd.MultiIndex.from_arrays([df["exporter"], df["importer"], df["year"] + shift])
            df[name] = s.reindex(target).to_numpy()
    return df
