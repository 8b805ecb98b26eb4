"""Belt and Road Initiative (BRI) participation.

The package ships ``gravity/data/bri_participants.csv`` (documented in
``bri_participants.md``): one row per country that signed a BRI cooperation
document with China, the year (and date where known) of its first document,
an optional withdrawal year and the source of each fact. Users can pass their
own table with at least ``iso3`` and ``year``.

Readers for the two public lists the table was cross-checked against are
provided as well (their published layouts):

* list A ``code,country,year_mou,entry_force,priority`` (ISO3);
* list B ``国家,country,id,friend,Y13..Y23`` (ISO2 ids, join year = 2012 + friend),
  with its known coding errors corrected (:data:`LIST_B_FIXES`).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from gravity.countries import harmonise
from gravity.errors import CoverageError, UnknownCountryError
from gravity.sources.fileio import read_csv
from gravity.sources.validate import (
    attach,
    check_known_codes,
    check_unique,
    file_provenance,
    integers,
    read_info,
    require_columns,
    sha256,
)

__all__ = [
    "LIST_B_FIXES",
    "bri_in_force",
    "compare_bri_lists",
    "load_bri",
    "read_bri_list_a",
    "read_bri_list_b",
]

#: Corrections to list B, keyed by its Chinese name (the ids are wrong there).
LIST_B_FIXES: dict[str, str] = {
    "刚果（布）": "COG",  # Republic of the Congo, coded CD (DR Congo's code)
    "刚果（金）": "COD",  # DR Congo, coded CG (Congo's code)
    "多米尼加": "DOM",  # Dominican Republic, coded DM (Dominica's code)
    "多米尼克": "DMA",  # Dominica
    "纳米比亚": "NAM",  # Namibia, no id
    "希腊": "GRC",  # Greece, coded EL (EU code)
}
CHINA_YEAR = 2013
#: List B's column of Chinese country names (the key of :data:`LIST_B_FIXES`).
LIST_B_NAME = "国家"


def read_bri_list_a(path: str | Path) -> pd.DataFrame:
    """Read list A: ``iso3, country, year`` (Int64, may be missing), ``entry_force``.

    Columns are read by name; a year that is not an integer raises
    :class:`FileFormatError`, an unknown code :class:`UnknownCountryError`.
    """
    path = Path(path)
    raw, info = read_csv(path)
    require_columns(raw, ["code", "year_mou"], file=path.name)
    year = integers(raw["year_mou"], file=path.name, column="year_mou", allow_missing=True)
    iso, rep = harmonise(raw["code"].str.strip(), kind="iso3", source=path.name)
    if rep.unmatched:
        raise UnknownCountryError(f"unknown codes {sorted(rep.unmatched)}", column="code", file=path.name,
                                  rows=np.flatnonzero(iso.isna().to_numpy()))
    out = pd.DataFrame({
        "iso3": iso.to_numpy(),
        "country": raw.get("country", pd.Series("", index=raw.index)).str.strip().to_numpy(),
        "year": year.to_numpy(),
        "entry_force": raw.get("entry_force", pd.Series("", index=raw.index)).replace("", pd.NA).to_numpy(),
    })
    check_unique(out, ["iso3"], file=path.name)
    return attach(out, file_provenance(path, source="BRI list A", rows_read=len(raw), **read_info(info)))


def read_bri_list_b(path: str | Path) -> pd.DataFrame:
    """Read list B: ``iso3, country, year`` (= 2012 + ``friend``), with :data:`LIST_B_FIXES` applied.

    Columns are read by name (the Chinese names are in ``国家``, the key of the fixes).
    """
    path = Path(path)
    raw, info = read_csv(path)
    require_columns(raw, [LIST_B_NAME, "id", "friend", "country"], file=path.name)
    friend = integers(raw["friend"], file=path.name, column="friend")
    zh = raw[LIST_B_NAME].str.strip()
    iso, rep = harmonise(raw["id"].str.strip().replace("", "??"), kind="iso2", source=path.name)
    fixed = zh.map(LIST_B_FIXES)
    iso = iso.where(fixed.isna().to_numpy(), fixed.astype("string").to_numpy())
    if iso.isna().any():
        bad = np.flatnonzero(iso.isna().to_numpy())
        raise UnknownCountryError(f"unknown ids {raw['id'].iloc[bad].tolist()}", column="id",
                                  file=path.name, rows=bad)
    out = pd.DataFrame({
        "iso3": iso.to_numpy(),
        "country": raw["country"].str.strip().to_numpy(),
        "year": (2012 + friend).astype("Int64").to_numpy(),
    })
    check_unique(out, ["iso3"], file=path.name)
    return attach(out, file_provenance(path, source="BRI list B", rows_read=len(raw),
                                       fixes=dict(LIST_B_FIXES), **read_info(info)))


def compare_bri_lists(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Outer join of two lists on ``iso3``: ``year_a, year_b, in_a, in_b, agree``."""
    m = a[["iso3", "year"]].merge(b[["iso3", "year"]], on="iso3", how="outer", suffixes=("_a", "_b"),
                                  indicator=True)
    m["in_a"] = m["_merge"].isin(["both", "left_only"])
    m["in_b"] = m["_merge"].isin(["both", "right_only"])
    m["agree"] = (m["year_a"] == m["year_b"]).fillna(False).astype(bool)
    return m.drop(columns="_merge").sort_values("iso3", ignore_index=True)


def load_bri(path: str | Path | pd.DataFrame | None = None) -> pd.DataFrame:
    """The BRI participation table: the package's own, a user CSV, or a DataFrame.

    Required columns: ``iso3`` and ``year`` (first cooperation document);
    optional ``withdrawal_year`` (first year no longer in force), ``date``,
    ``source``. China is added with year 2013 when absent. A missing year
    raises :class:`CoverageError`, a year that is not an integer
    :class:`FileFormatError`, a code that is not a country
    :class:`UnknownCountryError`.
    """
    if isinstance(path, pd.DataFrame):
        df, name, digest = path.copy(), "user DataFrame", None
    elif path is None:
        res = resources.files("gravity.data").joinpath("bri_participants.csv")
        with resources.as_file(res) as p:
            df, _ = read_csv(p)
            name, digest = "gravity/data/bri_participants.csv", sha256(p)
    else:
        df, _ = read_csv(path)
        name, digest = str(path), sha256(path)
    require_columns(df, ["iso3", "year"], file=name)
    missing = df["year"].isna().to_numpy() | (df["year"].astype("string").str.strip() == "").to_numpy()
    if missing.any():
        raise CoverageError("BRI table rows without a year", column="year", file=name,
                            rows=np.flatnonzero(missing))
    df["year"] = integers(df["year"], file=name, column="year")
    df["iso3"] = df["iso3"].astype("string").str.strip()
    check_known_codes(df, ["iso3"], file=name)
    if "withdrawal_year" not in df:
        df["withdrawal_year"] = np.nan
    df["withdrawal_year"] = integers(df["withdrawal_year"], file=name, column="withdrawal_year",
                                     allow_missing=True).astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    for c in ("year_list_a", "year_list_b"):  # the package table's cross-check columns
        if c in df:
            df[c] = integers(df[c], file=name, column=c, allow_missing=True)
    if not (df["iso3"] == "CHN").any():
        df = pd.concat([df, pd.DataFrame({"iso3": ["CHN"], "year": [CHINA_YEAR]})], ignore_index=True)
    check_unique(df, ["iso3"], file=name)
    return attach(df, {"source": "BRI participation table", "file": name, "sha256": digest,
                       "rows": len(df)})


def bri_in_force(iso3: pd.Series, year: pd.Series | np.ndarray, table: pd.DataFrame) -> np.ndarray:
    """0/1 array: country ``iso3`` is a BRI participant in ``year`` (vectorised).

    In force from the year of the first cooperation document until the year
    before ``withdrawal_year`` (if any).
    """
    t = table.set_index("iso3")
    start = pd.Series(iso3).map(t["year"]).to_numpy(dtype=float)
    stop = pd.Series(iso3).map(t["withdrawal_year"]).to_numpy(dtype=float)
    y = np.asarray(year, dtype=float)
    return ((y >= start) & ~(y >= stop)).astype(np.int8)
