#!/usr/bin/env python3
"""The out-of-core product-level BACI build on a simulated BACI-format release.

Writes yearly ``BACI_HS17_Y{year}_V202401b.csv`` files in the published format
(``t,i,j,k,v,q``; HS6 codes quoted with their leading zeros, ``NA`` quantities) with
``--rows`` lines in total over ``--years`` years, ``--products`` products and
``--countries`` countries (each line a distinct (t, i, j, k)), plus the country-code
table, then runs :func:`gravity.sources.build_baci_products` in its own process under
DuckDB's ``--memory-limit``. Reported: wall time of each pass (validation, copy), the
peak resident memory of that process (``/usr/bin/time``), rows and products written,
the size on disk of the CSV files and of the dataset; and a check that the rows and the
total value written equal those generated.

Usage::

    python benchmarks/baci_out_of_core.py --rows 50e6 --memory-limit 3GB
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from _report import report

HERE = Path(__file__).resolve().parent
PANELS = HERE / "_panels"


def make_release(folder: Path, rows: int, years: int, products: int, countries: int,
                 seed: int = 0) -> tuple[int, float]:
    """Write the simulated release; returns (lines, total value in thousand USD)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from gravity.countries import iso3_codes

    folder.mkdir(parents=True, exist_ok=True)
    isos = sorted(iso3_codes())[:countries]
    codes = [4 + 4 * n for n in range(countries)]
    table = ["country_code,country_name,country_iso2,country_iso3"]
    table += [f"{c},Country {c},,{iso}" for c, iso in zip(codes, isos, strict=True)]
    (folder / "country_codes_V202401b.csv").write_text("\n".join(table) + "\n")
    rng = np.random.default_rng(seed)
    hs6 = np.sort(rng.choice(np.arange(10100, 970000), products, replace=False))
    cells = countries * countries * products
    per_year = rows // years
    n_lines, total = 0, 0.0
    code_arr = np.array(codes, dtype=np.int32)
    for y in range(years):
        year = 2019 + y
        path = folder / f"BACI_HS17_Y{year}_V202401b.csv"
        path.write_text("t,i,j,k,v,q\n")
        p = per_year / cells * countries / (countries - 1)
        step = max(1, products // 20)
        with open(path, "ab") as fh:
            for k0 in range(0, products, step):
                k1 = min(products, k0 + step)
                m = rng.uniform(size=(k1 - k0) * countries * countries) < p
                idx = np.flatnonzero(m)
                k, rest = np.divmod(idx, countries * countries)
                i, j = np.divmod(rest, countries)
                keep = i != j
                k, i, j = k[keep] + k0, i[keep], j[keep]
                n = k.size
                v = np.round(rng.lognormal(2.0, 1.5, n), 3)
                q = np.round(v * rng.uniform(0.01, 1.0, n), 3)
                q_arr = pa.array(q, mask=rng.uniform(size=n) < 0.1)  # NA: unknown
                tbl = pa.table({"t": np.full(n, year, np.int32), "i": code_arr[i],
                                "j": code_arr[j],
                                "k": pa.array(np.char.zfill(hs6[k].astype(str), 6)),
                                "v": v, "q": q_arr})
                opts = pacsv.WriteOptions(include_header=False)
                sink = pa.BufferOutputStream()
                pacsv.write_csv(tbl, sink, opts)
                data = sink.getvalue().to_pybytes().replace(b",\n", b",NA\n")
                fh.write(data)
                n_lines += n
                total += float(v.sum())
    return n_lines, total


def build_worker(src: str, out: str, memory_limit: str, threads: int) -> None:
    from gravity.sources import build_baci_products

    t0 = time.perf_counter()
    prov = build_baci_products(src, out, memory_limit=memory_limit, threads=threads,
                               overwrite=True)
    prov["seconds_total"] = time.perf_counter() - t0
    print(json.dumps({k: prov[k] for k in ("rows_read", "rows_written", "products",
                                           "seconds", "seconds_total", "memory_limit")}))


def du(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**30


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=float, default=50e6)
    ap.add_argument("--years", type=int, default=5)
    ap.add_argument("--products", type=int, default=5000)
    ap.add_argument("--countries", type=int, default=200)
    ap.add_argument("--memory-limit", default="3GB")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--keep", action="store_true", help="keep the files in benchmarks/_panels")
    ap.add_argument("--out", default=None)
    ap.add_argument("--worker", nargs=4, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        build_worker(args.worker[0], args.worker[1], args.worker[2], int(args.worker[3]))
        return
    rows = int(args.rows)
    root = PANELS / f"baci_{rows}"
    src, out = root / "release", root / "products"
    lines = [f"uptime: {os.popen('uptime').read().strip()}"]
    try:
        t0 = time.perf_counter()
        n, total = make_release(src, rows, args.years, args.products, args.countries)
        lines.append(f"simulated release: {n:,} lines, {args.years} yearly CSV files, "
                     f"{du(src):.2f} GiB ({time.perf_counter() - t0:.0f} s to write)")
        done = subprocess.run(["/usr/bin/time", "-f", "%M", sys.executable, __file__,
                               "--worker", str(src), str(out), args.memory_limit,
                               str(args.threads)], capture_output=True, text=True,
                              check=False)
        peak = int(done.stderr.strip().splitlines()[-1]) / 1024
        if done.returncode != 0:
            lines.append(f"build failed (peak {peak:.0f} MiB): {done.stderr[-1500:]}")
        else:
            res = json.loads(done.stdout.strip().splitlines()[-1])
            import duckdb

            con = duckdb.connect()
            got = con.execute("SELECT COUNT(*), SUM(trade) FROM read_parquet("
                              f"'{out}/**/*.parquet')").fetchall()[0]
            con.close()
            lines.append(
                f"build_baci_products (DuckDB memory_limit {res['memory_limit']}, "
                f"{args.threads} threads): {res['seconds_total']:.0f} s in all (validation "
                f"{res['seconds']['validate']:.0f} s, copy {res['seconds']['copy']:.0f} s); "
                f"peak RSS of the process {peak:.0f} MiB")
            lines.append(f"dataset: {res['rows_written']:,} rows, {res['products']:,} product "
                         f"partitions, {du(out):.2f} GiB; rows and total value equal the "
                         f"generated ones: {got[0] == n and abs(got[1] / 1000 - total) <= 1e-6 * total}")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    report(lines, args.out, uptime=False)


if __name__ == "__main__":
    main()
