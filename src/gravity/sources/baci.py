"""CEPII BACI reader: HS6 bilateral flows aggregated to exporter-importer-year.

Published format (one CSV per year, ``BACI_HS17_Y2018_V202401b.csv``)::

    t,i,j,k,v,q
    2018,4,36,"080211",   12.345,    1.200

``t`` year, ``i`` exporter and ``j`` importer (numeric country codes, mapped
with the release's ``country_codes_V*.csv``), ``k`` HS6 product, ``v`` value in
**thousand current USD** (FOB, reconciled), ``q`` quantity in metric tons
(``NA`` when unknown).

:func:`read_baci` streams the files through DuckDB (no full load in pandas) and
returns one row per exporter-importer-year with ``trade`` in **USD**
(``v * 1000``), ``n_products`` (the product extensive margin: HS6 lines with
``v > 0``) and ``quantity`` (tons, summed over lines with a known quantity).
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from gravity.countries import LEGACY_ISO3, MatchReport, harmonise
from gravity.errors import (
    DuplicateKeyError,
    FileFormatError,
    MissingColumnError,
    NegativeValueError,
    UnknownCountryError,
)
from gravity.sources.fileio import (
    check_last_line,
    csv_header,
    duckdb_error,
    extract_member,
    read_csv,
)
from gravity.sources.validate import (
    attach,
    check_plausible_total,
    check_unique,
    check_years,
    file_provenance,
    integers,
    requested_years,
    unit_factor,
)

__all__ = ["read_baci", "read_baci_country_codes"]

BACI_COLUMNS = ("t", "i", "j", "k", "v", "q")
_NAME = re.compile(r"BACI_(HS\d\d)_Y(\d{4})_(V\d{6}\w?)", re.IGNORECASE)
#: No country exports more than this in a year (USD); above it the units are wrong.
MAX_COUNTRY_EXPORTS_USD = 2e13


def read_baci_country_codes(path: str | Path) -> pd.DataFrame:
    """Read BACI's ``country_codes_V*.csv`` into ``code`` (int) and ``iso3`` columns.

    Accepts the V2023+ layout (``country_code, country_name, country_iso2,
    country_iso3``) and the older one (``country_code,
    country_name_abbreviation, country_name_full, iso_2digit_alpha,
    iso_3digit_alpha``). BACI-specific alpha codes (``S19`` for "Other Asia,
    nes") are mapped with :data:`gravity.countries.LEGACY_ISO3`. The file is
    UTF-8 (names such as "Türkiye").
    """
    path = Path(path)
    df, _ = read_csv(path)
    iso_col = next((c for c in ("country_iso3", "iso_3digit_alpha") if c in df.columns), None)
    name_col = next((c for c in ("country_name", "country_name_abbreviation") if c in df.columns), None)
    if "country_code" not in df.columns or iso_col is None:
        raise MissingColumnError(
            "a BACI country-code file needs 'country_code' and 'country_iso3' (or 'iso_3digit_alpha')",
            column="country_iso3", file=path.name,
        )
    iso = df[iso_col].str.strip().str.upper()
    iso = iso.map(lambda x: LEGACY_ISO3.get(x, x))
    out = pd.DataFrame({
        "code": integers(df["country_code"], file=path.name, column="country_code").astype(int),
        "iso3": iso.replace("", pd.NA),
        "name": df[name_col] if name_col else pd.NA,
    })
    check_unique(out, ["code"], file=path.name)
    return out


def _expand(path: str | Path | Sequence[str | Path], years: Iterable[int] | None) -> list[Path]:
    """Files to read: a CSV, a glob, a list, a folder of yearly CSVs or the release zip."""
    if not isinstance(path, (str, Path)):
        files = [Path(x) for x in path]
    else:
        p = Path(path)
        if p.is_dir():
            files = sorted([*p.glob("BACI_*_Y*_V*.csv"), *p.glob("BACI_*_Y*_V*.csv.gz")])
        elif any(ch in str(p) for ch in "*?["):
            files = sorted(Path(p.parent).glob(p.name))
        elif p.suffix.lower() == ".zip":
            files = _extract_zip(p, years)
        else:
            files = [p]
    if years is not None:
        want = {int(y) for y in years}
        keep = []
        for f in files:
            m = _NAME.search(f.name)
            if m is None or int(m.group(2)) in want:
                keep.append(f)
        files = keep
    return files


def _extract_zip(p: Path, years: Iterable[int] | None) -> list[Path]:
    from gravity.sources._download import cache_dir

    out = cache_dir() / p.stem
    out.mkdir(parents=True, exist_ok=True)
    want = None if years is None else {int(y) for y in years}
    files = []
    try:
        with zipfile.ZipFile(p) as z:
            for info in z.infolist():
                m = _NAME.search(info.filename)
                name = Path(info.filename).name
                if name.startswith("country_codes") or (m and (want is None or int(m.group(2)) in want)):
                    target = extract_member(z, info, out / name)
                    if m:
                        files.append(target)
    except (zipfile.BadZipFile, EOFError, zlib.error) as e:
        raise FileFormatError(f"corrupt or truncated zip archive ({e})", file=p.name) from None
    return sorted(files)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _headers(files: list[Path]) -> dict[Path, list[str]]:
    """Each file's header, checked by name (the columns may come in any order, extra ones are ignored)."""
    out = {}
    for f in files:
        header = csv_header(f)
        missing = [c for c in BACI_COLUMNS if c not in header]
        if missing:
            raise MissingColumnError(
                f"BACI file lacks column(s) {missing}; header is {header}", column=missing[0], file=f.name
            )
        repeated = sorted({c for c in header if header.count(c) > 1})
        if repeated:
            raise FileFormatError(f"header repeats column(s) {repeated}", column=repeated[0],
                                  file=f.name, line=1)
        check_last_line(f, len(header))
        out[f] = header
    return out


def _scan(headers: dict[Path, list[str]], row_numbers: bool = False) -> str:
    """Every file's t, i, j, k, v, q read **by name** as text (one SELECT per file, UNION ALL)."""
    parts = []
    for f, header in headers.items():
        cols = "{" + ", ".join(f"{_quote(h)}: 'VARCHAR'" for h in header) + "}"
        rn = ", row_number() OVER () - 1 AS rn" if row_numbers else ""
        # other columns are not used, but read (their length summed) so that DuckDB checks
        # that they are UTF-8 too: the whole file is in the published encoding, or an error
        others = [h for h in header if h not in BACI_COLUMNS]
        extra = " + ".join(f"coalesce(length({_ident(h)}), 0)" for h in others) or "0"
        parts.append(
            "SELECT " + ", ".join(f'trim("{c}") AS {c}_raw' for c in BACI_COLUMNS)
            + f", {extra} AS extra_len, {_quote(f.name)} AS fname{rn} FROM read_csv({_quote(str(f))}, header=true, "
            "delim=',', quote='\"', escape='\"', auto_detect=false, " + f"columns={cols})"
        )
    return " UNION ALL ".join(parts)


_MISSING_SQL = "('', 'NA', 'N/A', 'NaN', 'nan')"


def _typed(scan: str) -> str:
    """Typed columns and validity flags (integers by pattern: DuckDB would round '2018.5')."""
    def integer(c: str) -> str:
        return f"CASE WHEN regexp_full_match({c}_raw, '[0-9]+') THEN TRY_CAST({c}_raw AS INTEGER) END"

    def number(c: str) -> str:
        return (f"CASE WHEN {c}_raw IS NULL OR {c}_raw IN {_MISSING_SQL} THEN NULL "
                f"ELSE TRY_CAST({c}_raw AS DOUBLE) END")

    return (
        f"SELECT *, {integer('t')} AS t, {integer('i')} AS i, {integer('j')} AS j, k_raw AS k, "
        f"{number('v')} AS v, {number('q')} AS q FROM ({scan})"
    )


#: Conditions flagging a cell that is not in the published format: (column, SQL, message).
_BAD = [
    ("t", "t IS NULL", "years that are not integers"),
    ("i", "i IS NULL", "exporter codes that are not integers"),
    ("j", "j IS NULL", "importer codes that are not integers"),
    ("v", f"(v IS NULL AND v_raw IS NOT NULL AND v_raw NOT IN {_MISSING_SQL}) OR isinf(v) OR isnan(v)",
     "values of v that are not finite numbers"),
    ("q", f"(q IS NULL AND q_raw IS NOT NULL AND q_raw NOT IN {_MISSING_SQL}) OR isinf(q) OR isnan(q)",
     "quantities q that are not finite numbers"),
]


def read_baci(
    path: str | Path | Sequence[str | Path],
    *,
    country_codes: str | Path | pd.DataFrame | None = None,
    years: Iterable[int] | None = None,
    countries: Iterable[str] | None = None,
    units: str = "thousand_usd",
    check_duplicates: bool = True,
    threads: int | None = None,
    memory_limit: str = "4GB",
    progress: bool = True,
) -> pd.DataFrame:
    """Aggregate BACI HS6 flows to exporter-importer-year (streaming, DuckDB).

    Parameters
    ----------
    path : path, glob, list of paths, folder or release zip
        BACI yearly CSV file(s) in the published format (``.csv`` or ``.csv.gz``).
        Columns are read by name: their order does not matter, extra columns
        are ignored.
    country_codes : path or DataFrame, optional
        The release's ``country_codes_V*.csv`` (or its parsed form from
        :func:`read_baci_country_codes`). Without it, codes are mapped as UN
        M49 / Comtrade numeric codes by :mod:`gravity.countries`. Looked for
        next to the data file when omitted.
    years : iterable of int, optional
        Years to keep (files named for other years are not read).
    countries : iterable of str, optional
        ISO3 codes to keep (both as exporter and importer).
    units : str
        Units of ``v``; BACI publishes thousand USD. Output ``trade`` is USD.
    check_duplicates : bool
        Check that (t, i, j, k) is unique (costs one more pass over the data).
    threads, memory_limit : DuckDB settings.
    progress : bool
        Show DuckDB's progress bar on long reads.

    Returns
    -------
    DataFrame
        ``exporter, importer, year, trade, n_products, n_lines, quantity``.
        ``attrs["gravity_provenance"]`` holds files, hashes, row counts and the
        country-matching report; ``attrs["gravity_coverage"]`` the
        ``(iso3, year)`` pairs present in the source (a country present in a
        year's file is covered: an absent flow with it is a true zero). A
        pair whose lines all have ``v`` missing (``NA``) has ``trade`` NaN.

    Raises
    ------
    MissingColumnError, NegativeValueError, DuplicateKeyError,
    UnknownCountryError, CoverageError, UnitsError, FileFormatError (a
    truncated, corrupt or non-UTF-8 file, a row with the wrong number of
    fields, a year or code that is not an integer, a value that is not a
    finite number; naming the file and line or rows)
    """
    import duckdb

    factor = unit_factor(units, column="v")
    years = requested_years(years)
    files = _expand(path, years)
    if not files:
        raise FileNotFoundError(f"no BACI files at {path!s} for years {years}")
    fnames = ", ".join(f.name for f in files)
    headers = _headers(files)
    typed = _typed(_scan(headers))

    con = duckdb.connect()
    try:
        if threads:
            con.execute(f"SET threads={int(threads)}")
        con.execute(f"SET memory_limit='{memory_limit}'")
        con.execute(f"SET enable_progress_bar={'true' if progress else 'false'}")
        flags = ", ".join(f"COUNT(*) FILTER (WHERE {cond}) AS bad_{c}" for c, cond, _ in _BAD)
        try:
            agg = con.execute(
                f"""
                SELECT t AS year, i, j,
                       SUM(v) AS v, COUNT(*) AS n_lines,
                       COUNT(*) FILTER (WHERE v > 0) AS n_products,
                       SUM(q) AS quantity,
                       MIN(v) AS vmin,
                       COUNT(*) FILTER (WHERE v IS NULL) AS null_v,
                       SUM(extra_len) AS extra_len,
                       {flags}
                       {", COUNT(DISTINCT k) AS n_k" if check_duplicates else ""}
                FROM ({typed})
                GROUP BY t, i, j
                """
            ).df()
        except duckdb.Error as e:
            raise duckdb_error(e, files) from None

        def first_rows(cond: str) -> tuple[str, list[int]]:
            """File and 0-based data rows (in that file) of the first rows matching ``cond``."""
            con.execute("SET threads=1")  # row numbers in file order
            q = con.execute(
                f"SELECT fname, rn FROM ({_typed(_scan(headers, row_numbers=True))}) "
                f"WHERE {cond} LIMIT 20"
            ).fetchall()
            if not q:
                return fnames, []
            first = str(q[0][0])
            return first, [int(r[1]) for r in q if r[0] == first]

        for col, cond, what in _BAD:
            if (agg[f"bad_{col}"] > 0).any():
                n = int(agg[f"bad_{col}"].sum())
                fname, rows = first_rows(cond)
                raise FileFormatError(f"{n} {what}", column=col, file=fname, rows=rows,
                                      line=rows[0] + 2 if rows else None)
        if (agg["vmin"] < 0).any():
            n = int(con.execute(f"SELECT COUNT(*) FROM ({typed}) WHERE v < 0").fetchone()[0])  # type: ignore[index]
            fname, rows = first_rows("v < 0")
            raise NegativeValueError(f"{n} negative trade values", column="v", file=fname, rows=rows)
        if check_duplicates and (agg["n_k"] < agg["n_lines"]).any():
            d = agg.loc[agg["n_k"] < agg["n_lines"], ["year", "i", "j"]].iloc[0]
            fname, rows = first_rows(
                "(t, i, j, k) IN (SELECT (t, i, j, k) FROM (" + typed + ") GROUP BY t, i, j, k HAVING COUNT(*) > 1)"
            )
            raise DuplicateKeyError(
                f"(t, i, j, k) rows repeated, e.g. t={d.year}, i={d.i}, j={d.j}",
                column="t,i,j,k", file=fname, rows=rows,
            )
    finally:
        con.close()

    agg["year"] = agg["year"].astype("int64")
    agg["i"] = agg["i"].astype("int64")
    agg["j"] = agg["j"].astype("int64")
    if years is not None:
        agg = agg.loc[agg["year"].isin([int(y) for y in years])].reset_index(drop=True)
    n_rows = int(agg["n_lines"].sum())
    n_null = int(agg["null_v"].sum())
    if years is not None:
        check_years(years, agg["year"].unique(), file=fnames, column="t")

    # country codes
    if country_codes is None:
        base = files[0].parent
        cands = sorted(base.glob("country_codes_V*.csv"))
        country_codes = cands[-1] if cands else None
    codes = np.union1d(agg["i"].unique(), agg["j"].unique())
    report = MatchReport(source="BACI", n_values=len(codes))
    if country_codes is not None:
        table = country_codes if isinstance(country_codes, pd.DataFrame) else read_baci_country_codes(country_codes)
        cmap = dict(zip(table["code"], table["iso3"], strict=True))
        unknown = [int(c) for c in codes if c not in cmap]
        if unknown:
            bad = agg["i"].isin(unknown) | agg["j"].isin(unknown)
            raise UnknownCountryError(
                f"country codes {unknown} are not in the country-code file "
                f"({int(bad.sum())} exporter-importer-year pairs)", column="i,j", file=fnames,
            )
        iso_u = pd.Series([cmap[c] for c in codes], dtype="string")
        # BACI's own alpha codes that are not ISO3: map by number
        fix = iso_u.isna() | ~iso_u.isin(list(_iso3_set()))
        if fix.any():
            alt, rep = harmonise(pd.Series(codes[fix.to_numpy()]), kind="numeric", source="BACI")
            iso_u[fix.to_numpy()] = alt.to_numpy()
            report.unmatched.update(rep.unmatched)
            report.aggregates.update(rep.aggregates)
    else:
        iso_u, report = harmonise(pd.Series(codes), kind="numeric", source="BACI")
    code_to_iso = dict(zip(codes.tolist(), iso_u.tolist(), strict=True))
    if report.unmatched:
        bad = agg["i"].astype(str).isin(report.unmatched) | agg["j"].astype(str).isin(report.unmatched)
        raise UnknownCountryError(
            f"unknown BACI country codes {sorted(report.unmatched)} "
            f"({int(bad.sum())} exporter-importer-year pairs)", column="i,j", file=fnames,
        )

    out = pd.DataFrame({
        "exporter": agg["i"].map(code_to_iso).astype("string"),
        "importer": agg["j"].map(code_to_iso).astype("string"),
        "year": agg["year"].astype("int64"),
        # a pair with a line whose v is missing has an unknown total: NaN, never a partial sum
        "trade": np.where(agg["null_v"].to_numpy() > 0, np.nan,
                          agg["v"].to_numpy(dtype=float, na_value=np.nan)) * factor,
        "n_products": agg["n_products"].astype("int64"),
        "n_lines": agg["n_lines"].astype("int64"),
        "quantity": agg["quantity"].astype(float),
    })
    dropped: dict[str, int] = {}
    unmapped = out["exporter"].isna() | out["importer"].isna()
    if unmapped.any():
        dropped["aggregate or unmapped partner (rows of the aggregate)"] = int(out.loc[unmapped, "n_lines"].sum())
        out = out.loc[~unmapped]
    # entities mapped onto the same ISO3 (e.g. a historical code and its successor)
    if out.duplicated(["exporter", "importer", "year"]).any():
        out = out.groupby(["exporter", "importer", "year"], as_index=False, sort=False).agg(
            trade=("trade", "sum"), n_products=("n_products", "max"),
            n_lines=("n_lines", "sum"), quantity=("quantity", "sum"),
        )
    totals = out.groupby(["exporter", "year"])["trade"].sum()
    check_plausible_total(totals, upper=MAX_COUNTRY_EXPORTS_USD, what="an exporter's yearly exports",
                          units=units, file=fnames, column="v")
    coverage = pd.concat([
        out[["exporter", "year"]].set_axis(["iso3", "year"], axis=1),
        out[["importer", "year"]].set_axis(["iso3", "year"], axis=1),
    ]).drop_duplicates(ignore_index=True)
    if countries is not None:
        keep = set(countries)
        sel = out["exporter"].isin(keep) & out["importer"].isin(keep)
        out = out.loc[sel]
        coverage = coverage.loc[coverage["iso3"].isin(keep)]
    out = out.sort_values(["year", "exporter", "importer"], ignore_index=True)
    versions = sorted({m.group(3) for f in files if (m := _NAME.search(f.name))})
    prov = {
        "source": "CEPII BACI",
        "reader": "gravity.sources.baci.read_baci",
        "files": [file_provenance(f, source="CEPII BACI") for f in files],
        "version": ",".join(versions) or None,
        "units_in": units,
        "units_out": "usd",
        "rows_read": n_rows,
        "rows_v_missing": n_null,
        "pairs_trade_missing": int((agg["null_v"] > 0).sum()),
        "rows_out": len(out),
        "dropped": dropped,
        "countries": report.to_dict(),
        # the numeric code -> ISO3 map used (None: an aggregate, dropped)
        "code_to_iso3": {str(c): (None if pd.isna(iso) else str(iso))
                         for c, iso in code_to_iso.items()},
    }
    return attach(out, prov, coverage.reset_index(drop=True), side="both")


def _iso3_set() -> frozenset[str]:
    from gravity.countries import iso3_codes

    return iso3_codes()
