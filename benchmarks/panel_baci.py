#!/usr/bin/env python3
"""Benchmark: build a gravity panel from a synthetic BACI-format file of 10 million rows.

Writes (once) a BACI-format CSV (``t,i,j,k,v,q``; quoted zero-padded HS6
codes, values padded with spaces, ``NA`` quantities) and its
``country_codes_V*.csv`` into a scratch folder, then runs
``read_baci`` + ``build_panel`` in a fresh child process and reports wall
seconds and the child's peak resident memory (``ru_maxrss``).

Usage::

    .venv/bin/python benchmarks/panel_baci.py [--rows 10000000] [--dir /tmp/gravity_bench]

Goal (issue 5): under 60 s and under 4 GiB on a 2-core, 24 GiB machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

N_COUNTRIES = 201


def country_table():
    """Country codes (numeric, ISO3) for the synthetic file: 201 real countries, USA as 842."""
    import pandas as pd

    from gravity.countries import _converter

    d = _converter().data
    d = d[d["obsolete"].isna() & d["ISOnumeric"].notna() & d["UNmember"].notna()]
    d = d.sort_values("ISO3").head(N_COUNTRIES)
    codes = d["ISOnumeric"].astype(int).to_numpy().copy()
    iso = d["ISO3"].astype(str).to_numpy()
    codes[iso == "USA"] = 842
    return pd.DataFrame({"country_code": codes, "country_name": d["name_short"].to_numpy(),
                         "country_iso2": d["ISO2"].to_numpy(), "country_iso3": iso})


def generate(folder: Path, rows: int, year: int = 2018) -> Path:
    """Write the synthetic BACI-format file (DuckDB, streaming) unless it exists."""
    import duckdb

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"BACI_HS17_Y{year}_V202401b.csv"
    cc_path = folder / "country_codes_V202401b.csv"
    table = country_table()
    table.to_csv(cc_path, index=False)
    if path.exists():
        return path
    n = len(table)
    per_pair = max(1, -(-rows // (n * (n - 1))))
    con = duckdb.connect()
    con.register("cc", table)
    tmp = path.with_suffix(".tmp")
    con.execute(f"""
        COPY (
          WITH c AS (SELECT country_code, row_number() OVER (ORDER BY country_code) AS r FROM cc)
          SELECT {year} AS t, a.country_code AS i, b.country_code AS j,
                 lpad(CAST(10000 + p.range * 19 + ((a.r * 7 + b.r * 13) % 19) AS VARCHAR), 6, '0') AS k,
                 printf('%12.3f', CASE WHEN random() < 0.02 THEN 0.0 ELSE exp(random() * 8 - 3) END) AS v,
                 CASE WHEN random() < 0.1 THEN '          NA'
                      ELSE printf('%12.3f', exp(random() * 6 - 2)) END AS q
          FROM c a, c b, range({per_pair}) p
          WHERE a.country_code <> b.country_code
        ) TO '{tmp}' (HEADER, DELIMITER ',', QUOTE '"', FORCE_QUOTE (k))
    """)
    con.close()
    tmp.rename(path)
    return path


def run_child(path: Path) -> dict:
    """Read + build in this process; print JSON with timings."""
    from gravity.panel.builder import build_panel
    from gravity.sources.baci import read_baci

    t0 = time.perf_counter()
    flows = read_baci(path, progress=False)
    t1 = time.perf_counter()
    panel, prov = build_panel(flows, bri=None)
    t2 = time.perf_counter()
    return {
        "rows_read": prov["sources"][0]["rows_read"],
        "panel_rows": len(panel),
        "read_s": t1 - t0,
        "build_s": t2 - t1,
        "total_s": t2 - t0,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--dir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "gravity_bench")
    ap.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        print(json.dumps(run_child(args.child)))
        return
    t = time.perf_counter()
    path = generate(args.dir, args.rows)
    print(f"synthetic file {path} ({path.stat().st_size / 2**20:.0f} MiB) ready in {time.perf_counter() - t:.1f} s")
    out = subprocess.run([sys.executable, __file__, "--child", str(path)], capture_output=True, text=True, check=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"rows read          {res['rows_read']:,}")
    print(f"panel rows         {res['panel_rows']:,}")
    print(f"read_baci          {res['read_s']:.1f} s")
    print(f"build_panel        {res['build_s']:.1f} s")
    print(f"total              {res['total_s']:.1f} s   (goal < 60 s)")
    print(f"peak memory (RSS)  {res['peak_rss_mib']:.0f} MiB   (goal < 4096 MiB)")


if __name__ == "__main__":
    main()
