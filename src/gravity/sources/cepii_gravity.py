"""CEPII Gravity database reader (``Gravity_V202211.dta`` / ``.csv`` / release zip).

The published file has one row per origin-destination-year (``iso3_o``,
``iso3_d``, ``year``; 87 columns in V202211, domestic pairs included) with
distances in km, dummies, and macro series **in thousands**: ``gdp_o``/``gdp_d``
in thousand current USD, ``pop_o``/``pop_d`` in thousands of people and the
``tradeflow_*`` columns in thousand current USD.

:func:`read_cepii_gravity` returns the canonical names and **converts units**:
``gdp_*`` to USD, ``pop_*`` to persons and ``tradeflow_*`` to USD (all x 1000).
``colony`` is CEPII's ``col_dep_ever`` (pair ever in a colonial or dependency
relationship).
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from gravity.countries import LEGACY_ISO3
from gravity.errors import FileFormatError
from gravity.sources.fileio import (
    check_last_line,
    csv_header,
    duckdb_error,
    extract_member,
    read_stata,
)
from gravity.sources.validate import (
    attach,
    check_iso3_format,
    check_nonnegative,
    check_unique,
    check_years,
    file_provenance,
    integers,
    numeric,
    requested_years,
    require_columns,
    unknown_codes,
)

__all__ = ["read_cepii_gravity", "CEPII_RENAME"]

#: CEPII column -> canonical panel column.
CEPII_RENAME: dict[str, str] = {
    "iso3_o": "exporter",
    "iso3_d": "importer",
    "col_dep_ever": "colony",
    "distw_harmonic": "distw",
}
CANONICAL = [
    "exporter", "importer", "year", "dist", "distw", "distcap", "contig", "comlang_off",
    "comlang_ethno", "colony", "comcol", "col45", "fta_wto", "wto_o", "wto_d", "eu_o", "eu_d",
    "gdp_o", "gdp_d", "pop_o", "pop_d",
    "tradeflow_comtrade_o", "tradeflow_comtrade_d", "tradeflow_baci", "manuf_tradeflow_baci",
    "tradeflow_imf_o", "tradeflow_imf_d",
]
THOUSANDS = ["gdp_o", "gdp_d", "pop_o", "pop_d", "gdp_ppp_o", "gdp_ppp_d",
             "tradeflow_comtrade_o", "tradeflow_comtrade_d", "tradeflow_baci",
             "manuf_tradeflow_baci", "tradeflow_imf_o", "tradeflow_imf_d"]
#: Canonical columns that hold numbers.
NUMERIC = frozenset(CANONICAL[3:]) | frozenset(THOUSANDS)
_VERSION = re.compile(r"V(\d{6})", re.IGNORECASE)


def _extract(path: Path) -> Path:
    """The Gravity CSV of the release zip, extracted once into the cache (size checked)."""
    from gravity.sources._download import cache_dir

    try:
        with zipfile.ZipFile(path) as z:
            info = next((i for i in z.infolist()
                         if i.filename.lower().endswith(".csv") and "gravity" in i.filename.lower()), None)
            if info is None:
                raise FileFormatError("no Gravity_V*.csv in the zip archive", file=path.name)
            target = cache_dir() / Path(info.filename).name
            target.parent.mkdir(parents=True, exist_ok=True)
            extract_member(z, info, target)
    except (zipfile.BadZipFile, EOFError, zlib.error) as e:
        raise FileFormatError(f"corrupt or truncated zip archive ({e})", file=path.name) from None
    return target


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _read_csv(path: Path, years: Iterable[int] | None) -> pd.DataFrame:
    """The CSV through DuckDB, columns by name, ``year`` checked to be an integer in every row."""
    import duckdb

    header = csv_header(path)
    require_columns(pd.DataFrame(columns=header), ["iso3_o", "iso3_d", "year"], file=path.name)
    check_last_line(path, len(header))
    dialect = "header=true, delim=',', quote='\"', escape='\"'"
    # a strict pass first (every line has the header's fields, UTF-8, integer years), so that
    # DuckDB's type sniffer only ever sees a well-formed file
    columns = "{" + ", ".join(f"{_quote(h)}: 'VARCHAR'" for h in header) + "}"
    strict = f"read_csv({_quote(str(path))}, {dialect}, auto_detect=false, columns={columns})"
    rel = (f"read_csv({_quote(str(path))}, {dialect}, sample_size=-1, "
           "types={'year': 'VARCHAR', 'iso3_o': 'VARCHAR', 'iso3_d': 'VARCHAR'})")
    bad_year = "NOT coalesce(regexp_full_match(trim(year), '[0-9]+(\\.0*)?'), false)"
    con = duckdb.connect()
    try:
        n_bad = con.execute(f"SELECT COUNT(*) FROM {strict} WHERE {bad_year}").fetchone()
        if n_bad and n_bad[0]:
            con.execute("SET threads=1")  # row numbers in file order
            rows = [int(r[0]) for r in con.execute(
                f"SELECT rn FROM (SELECT row_number() OVER () - 1 AS rn, year FROM {strict}) "
                f"WHERE {bad_year} LIMIT 20").fetchall()]
            raise FileFormatError(f"{n_bad[0]} values of year are not integers", column="year",
                                  file=path.name, rows=rows, line=rows[0] + 2 if rows else None)
        where = ""
        if years is not None:
            where = ("WHERE CAST(CAST(trim(year) AS DOUBLE) AS INTEGER) IN ("
                     + ",".join(str(int(y)) for y in years) + ")")
        return con.execute(f"SELECT * FROM {rel} {where}").df()
    except duckdb.Error as e:
        raise duckdb_error(e, [path]) from None
    finally:
        con.close()


def _read_raw(path: Path, years: Iterable[int] | None) -> pd.DataFrame:
    suf = path.suffix.lower()
    if suf == ".dta":
        return read_stata(path)
    if suf == ".zip":
        path = _extract(path)
    return _read_csv(path, years)


def _numeric_columns(df: pd.DataFrame, fname: str) -> pd.DataFrame:
    """Text columns of numbers parsed strictly; infinite values rejected (NaN is missing)."""
    for c in df.columns:
        if c in ("exporter", "importer", "year") or c not in NUMERIC and not c.startswith("tradeflow"):
            continue
        if not pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_float_dtype(df[c]):
            df[c] = numeric(df[c], file=fname, column=c, thousands=False)
    return df


def read_cepii_gravity(
    path: str | Path,
    *,
    years: Iterable[int] | None = None,
    countries: Iterable[str] | None = None,
    keep_all: bool = False,
    existing_only: bool = True,
) -> pd.DataFrame:
    """Read the CEPII Gravity database into canonical pair-year columns.

    Parameters
    ----------
    path : path to ``Gravity_V*.dta``, ``Gravity_V*.csv`` or ``Gravity_csv_V*.zip``.
    years, countries : optional filters (ISO3 codes for both sides).
    keep_all : keep every other CEPII column under its own name.
    existing_only : drop rows where ``country_exists_o`` or ``_d`` is 0
        (CEPII carries non-existing countries as empty rows).

    Returns
    -------
    DataFrame with ``exporter, importer, year, dist, distw, contig, comlang_off,
    colony, fta_wto, gdp_o, gdp_d (USD), pop_o, pop_d (persons), tradeflow_*
    (USD)`` and more (see :data:`CANONICAL`). Columns are read by name. CEPII's
    ISO3 codes are kept as published (legacy ones mapped); codes that must
    be 3 capital letters and are not raise :class:`UnknownCountryError`, and
    well-formed codes outside :func:`gravity.countries.iso3_codes` (historical
    entities) are listed in ``attrs["gravity_provenance"]["countries"]``.

    Raises
    ------
    MissingColumnError, DuplicateKeyError, NegativeValueError, CoverageError,
    UnknownCountryError, FileFormatError (truncated or corrupt file, rows with
    the wrong number of fields, a year that is not an integer, a number
    column with text or infinite values).
    """
    path = Path(path)
    years = requested_years(years)
    raw = _read_raw(path, years)
    fname = path.name
    require_columns(raw, ["iso3_o", "iso3_d", "year", "dist", "contig", "comlang_off"], file=fname)
    raw["year"] = integers(raw["year"], file=fname, column="year")
    n_read = len(raw)
    dropped: dict[str, int] = {}
    if years is not None:
        check_years(years, raw["year"].unique(), file=fname)
        raw = raw.loc[raw["year"].isin(list(years))]
    if existing_only and "country_exists_o" in raw:
        ok = (raw["country_exists_o"] == 1) & (raw["country_exists_d"] == 1)
        dropped["country does not exist in year (country_exists == 0)"] = int((~ok).sum())
        raw = raw.loc[ok]
    df = raw.rename(columns=CEPII_RENAME)
    for side in ("exporter", "importer"):
        df[side] = df[side].astype("string").str.strip().replace(LEGACY_ISO3)
    if countries is not None:
        keep = set(countries)
        sel = df["exporter"].isin(keep) & df["importer"].isin(keep)
        dropped["outside the requested countries"] = int((~sel).sum())
        df = df.loc[sel]
    df["year"] = df["year"].astype("int64")
    cols = [c for c in CANONICAL if c in df.columns]
    if keep_all:
        cols += [c for c in df.columns if c not in cols]
    df = df[cols].reset_index(drop=True)
    check_iso3_format(df, ["exporter", "importer"], file=fname)
    df = _numeric_columns(df, fname)
    for c in THOUSANDS:
        if c in df:
            df[c] = df[c].astype(float) * 1000.0
    for c in ("dist", "distw", "distcap"):
        if c in df:
            df[c] = df[c].astype(float)
    check_unique(df, ["exporter", "importer", "year"], file=fname)
    for c in ("tradeflow_baci", "tradeflow_imf_o", "tradeflow_imf_d", "gdp_o", "pop_o"):
        if c in df:
            check_nonnegative(df, c, file=fname)
    m = _VERSION.search(fname)
    prov = file_provenance(
        path, source="CEPII Gravity", version=("V" + m.group(1)) if m else None,
        reader="gravity.sources.cepii_gravity.read_cepii_gravity",
        rows_read=n_read, rows_out=len(df), dropped=dropped,
        countries={"unmatched": unknown_codes([df["exporter"], df["importer"]])},
        units={"gdp": "usd (x1000 from thousand USD)", "pop": "persons (x1000)",
               "tradeflow_*": "usd (x1000 from thousand USD)", "dist": "km"},
    )
    return attach(df, prov)


def flows_from_cepii(df: pd.DataFrame, column: str = "tradeflow_baci") -> pd.DataFrame:
    """Take one ``tradeflow_*`` column of a CEPII frame as the panel's ``trade`` (USD).

    CEPII has no true zeros: missing flows stay missing (NaN), also in
    :func:`gravity.panel.build_panel` (the coverage is empty).
    """
    require_columns(df, ["exporter", "importer", "year", column], file="gravity")
    out = df[["exporter", "importer", "year"]].copy()
    out["trade"] = df[column].to_numpy(dtype=float)
    prov = dict(df.attrs.get("gravity_provenance", {}))
    prov["trade_column"] = column
    # CEPII has no true zeros: a missing flow stays missing (no zero filling)
    none = pd.DataFrame({"iso3": pd.Series([], dtype="string"), "year": pd.Series([], dtype="int64")})
    return attach(out, prov, none, side="none")
