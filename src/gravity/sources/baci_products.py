"""The product-level BACI panel out of core: every year, every HS6 product, into a
Parquet dataset partitioned by product.

:func:`build_baci_products` makes two streaming passes through DuckDB under a memory
limit (spilling to a temporary folder when needed); the panel is never in memory:

1. validation: :func:`gravity.sources.baci.read_baci` reads every file with all of its
   checks (file structure and encoding, integer years and codes, finite non-negative
   values, unique ``(t, i, j, k)``, known country codes, plausible totals) and gives
   the provenance and the country-code map;
2. the copy: each HS6 line, with its exporter and importer as ISO3 codes (lines of
   aggregate partners dropped and counted, as in the country-level panel), ``trade``
   in USD (``v * 1000``) and ``quantity`` in tons, written with DuckDB's partitioned
   ``COPY`` as ``out/product=XXXXXX/*.parquet`` (the product code as text: leading
   zeros kept). When two numeric codes map to one ISO3 code their lines are summed
   (a ``GROUP BY``, only then).

The provenance (files, hashes, rows read and written, the memory limit, the seconds
of each pass) is written next to the partitions as ``_gravity_provenance.json``
(names starting with ``_`` are skipped by Parquet dataset readers) and returned.
Flows are as published (positive values; BACI has no zeros): a model that needs the
zeros of a product adds them within its group.

Read one product with :func:`gravity.distributed.read_group`, or fit one model per
product with ``gravity.estimate_many(..., dataset=out, split="product")``.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from gravity.sources.baci import _expand, _headers, _quote, _scan, _typed, read_baci
from gravity.sources.fileio import duckdb_error
from gravity.sources.validate import requested_years, unit_factor

PROVENANCE_FILE = "_gravity_provenance.json"


def build_baci_products(
    path: str | Path | Sequence[str | Path],
    out: str | Path,
    *,
    country_codes: str | Path | pd.DataFrame | None = None,
    years: Iterable[int] | None = None,
    units: str = "thousand_usd",
    memory_limit: str = "4GB",
    threads: int | None = None,
    temp_directory: str | Path | None = None,
    check_duplicates: bool = True,
    overwrite: bool = False,
    progress: bool = False,
) -> dict[str, Any]:
    """Build the product-level BACI panel as a Parquet dataset partitioned by product.

    Parameters
    ----------
    path, country_codes, years, units, check_duplicates
        As :func:`gravity.sources.read_baci` (the same files, the same checks).
    out : folder of the dataset (``product=XXXXXX`` sub-folders); must not exist
        unless ``overwrite``
    memory_limit, threads : DuckDB's memory limit and threads for both passes
    temp_directory : where DuckDB spills (default: ``out`` + ``.tmp``, removed after)
    progress : DuckDB's progress bar

    Returns
    -------
    dict
        The provenance (also in ``out/_gravity_provenance.json``): read_baci's, plus
        ``rows_written``, ``products``, ``dropped_lines``, ``memory_limit`` and
        ``seconds`` of each pass.

    Raises
    ------
    The errors of :func:`gravity.sources.read_baci` (FileFormatError, MissingColumnError,
    NegativeValueError, DuplicateKeyError, UnknownCountryError, ...), and
    FileExistsError when ``out`` exists without ``overwrite``.
    """
    import duckdb

    out = Path(out)
    if out.exists():
        if not overwrite:
            raise FileExistsError(f"{out} exists (pass overwrite=True to replace it)")
        shutil.rmtree(out)
    factor = unit_factor(units, column="v")
    t0 = time.perf_counter()
    panel = read_baci(path, country_codes=country_codes, years=years, units=units,
                      check_duplicates=check_duplicates, threads=threads,
                      memory_limit=memory_limit, progress=progress)
    seconds_validate = time.perf_counter() - t0
    prov = dict(panel.attrs["gravity_provenance"])
    del panel
    code_map = {int(c): iso for c, iso in prov["code_to_iso3"].items()}
    isos = [iso for iso in code_map.values() if iso is not None]
    merged = len(set(isos)) < len(isos)  # two codes on one ISO3: sum their lines

    years_req = requested_years(years)
    files = _expand(path, years_req)
    typed = _typed(_scan(_headers(files)))
    where = "" if years_req is None else (
        "WHERE t IN (" + ", ".join(str(int(y)) for y in years_req) + ")")
    lines = (f"SELECT t AS year, ei.iso3 AS exporter, ii.iso3 AS importer, k AS product, "
             f"v * {factor!r} AS trade, q AS quantity FROM ({typed}) "
             "JOIN codes ei ON i = ei.code JOIN codes ii ON j = ii.code "
             f"{where}")
    if merged:
        lines = ("SELECT year, exporter, importer, product, SUM(trade) AS trade, "
                 f"SUM(quantity) AS quantity FROM ({lines}) "
                 "GROUP BY year, exporter, importer, product")
    tmp = Path(temp_directory) if temp_directory else out.with_name(out.name + ".tmp")
    t1 = time.perf_counter()
    con = duckdb.connect()
    try:
        if threads:
            con.execute(f"SET threads={int(threads)}")
        con.execute(f"SET memory_limit='{memory_limit}'")
        con.execute(f"SET temp_directory={_quote(str(tmp))}")
        con.execute("SET preserve_insertion_order=false")
        con.execute(f"SET enable_progress_bar={'true' if progress else 'false'}")
        codes = pd.DataFrame({"code": list(code_map),
                              "iso3": pd.array(list(code_map.values()), dtype="string")})
        con.register("codes_df", codes)
        con.execute("CREATE TEMP TABLE codes AS SELECT code::INTEGER AS code, iso3 "
                    "FROM codes_df WHERE iso3 IS NOT NULL")
        try:
            con.execute(f"COPY ({lines}) TO {_quote(str(out))} "
                        "(FORMAT PARQUET, PARTITION_BY (product), COMPRESSION ZSTD)")
        except duckdb.Error as e:
            raise duckdb_error(e, files) from None
        stats = con.execute(
            f"SELECT COUNT(*), COUNT(DISTINCT product) FROM read_parquet("
            f"{_quote(str(out / '**' / '*.parquet'))}, hive_partitioning=true)").fetchone()
    finally:
        con.close()
        shutil.rmtree(tmp, ignore_errors=True)
    assert stats is not None
    rows_written, n_products = int(stats[0]), int(stats[1])
    prov.update({
        "builder": "gravity.sources.baci_products.build_baci_products",
        "layout": "parquet dataset partitioned by product (HS6 code as text)",
        "columns": ["year", "exporter", "importer", "trade", "quantity"],
        "units_out": "usd",
        "rows_written": rows_written,
        "products": n_products,
        "dropped_lines": int(prov["rows_read"]) - rows_written if not merged else None,
        "merged_codes": merged,
        "memory_limit": memory_limit,
        "seconds": {"validate": round(seconds_validate, 3),
                    "copy": round(time.perf_counter() - t1, 3)},
    })
    prov.pop("rows_out", None)  # the country-level count: not this dataset's
    (out / PROVENANCE_FILE).write_text(json.dumps(prov, indent=1, default=str))
    return prov
