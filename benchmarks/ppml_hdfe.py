#!/usr/bin/env python3
"""PPML-HDFE (and OLS-HDFE) speed and memory: gravity vs R fixest vs pyfixest, one run.

Panels come from ``../shared/bench/make_panel.py`` (the ones behind
``../shared/bench/ANCHORS.md``): ``y ~ rta + x | exp_year + imp_year + pair``,
clustered by pair, ~40% zeros. Engines (each in its own process, so that peak RSS is
its own; run one after the other for each panel, in the order given):

* ``gravity``: :func:`gravity.ppml` with its default separation checks (fe, simplex,
  relu, as ppmlhdfe); ``gravity-fe``: the fixed-effect check only (what pyfixest and
  fixest check);
* ``fixest``: R fixest ``fepois`` through ``../shared/bench/r-oracle/run_fixest.R``
  when ``install.sh`` has built it (``$R_FIXEST_LIB``, default ``~/.cache/r-fixest``),
  skipped otherwise; its peak RSS from ``/usr/bin/time``;
* ``pyfixest``: ``pf.fepois``;
* ``gravity-tight``: gravity at ``tol = fixef_tol = 1e-13`` (the accuracy reference:
  coefficients of every engine are compared with it), by default on panels up to
  1e6 rows;
* ``reader``: no fit: a Python process that reads the panel as the Python engines do
  (NumPy, pandas, pyarrow and the panel in memory): the floor of any Python engine's
  peak RSS, to read against fixest's whole process.

The Python engines read the panel with pyarrow's self-destructing conversion
(``to_pandas(self_destruct=True, split_blocks=True)``: one copy of the panel at the
peak), R fixest with ``data.table::fread``; the peak RSS of each process includes it.
Each engine fits once to warm up (numba compilation, first-call costs: ``first s``),
then ``--reps`` times; the median wall time of the estimation call alone (file reading
excluded) is reported. ``--ols`` adds ``log(y + 1)`` on the same fixed effects at the
largest panel (fixest ``feols``, ``pf.feols``, :func:`gravity.ols`). ``--cold``
measures ``import gravity`` and the first fit in a fresh process with an empty numba
cache (as right after ``pip install``). Never part of ``make test``.

Usage::

    python benchmarks/ppml_hdfe.py --sizes 150x5 200x25 --reps 3
    python benchmarks/ppml_hdfe.py --sizes 300x55 400x100 --reps 3 --ols \\
        --out benchmarks/results/ppml_hdfe_run.md
    python benchmarks/ppml_hdfe.py --sizes 150x5 200x25 300x55 400x100 --reps 3 --ols \\
        --ols-size 300x55 --pyfixest-max-rows 6e6 --cold   # every size in one run
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PANELS = HERE / "_panels"
SHARED = HERE.parent.parent / "shared" / "bench"
MAKE_PANEL = SHARED / "make_panel.py"
RUN_FIXEST = SHARED / "r-oracle" / "run_fixest.R"
FORMULA = "y ~ rta + x | exp_year + imp_year + pair"
OLS_FORMULA = "ly ~ rta + x | exp_year + imp_year + pair"
SIZES = {"150x5": (150, 5), "200x25": (200, 25), "300x55": (300, 55), "400x100": (400, 100)}
TIGHT = 1e-13


def ensure_panel(c: int, t: int) -> tuple[Path, Path]:
    stem = PANELS / f"panel_C{c}_T{t}"
    if not (stem.with_suffix(".parquet").exists() and stem.with_suffix(".csv").exists()):
        PANELS.mkdir(exist_ok=True)
        if not MAKE_PANEL.exists():
            sys.exit(f"{MAKE_PANEL} not found: the benchmark panels come from ../shared/bench")
        subprocess.run([sys.executable, str(MAKE_PANEL), "--C", str(c), "--T", str(t),
                        "--outdir", str(PANELS), "--format", "both"], check=True,
                       stdout=subprocess.DEVNULL)
    return stem.with_suffix(".parquet"), stem.with_suffix(".csv")


def fixest_lib() -> str | None:
    lib = os.environ.get("R_FIXEST_LIB") or str(Path.home() / ".cache" / "r-fixest")
    ok = shutil.which("Rscript") and (Path(lib) / "fixest").exists() and RUN_FIXEST.exists()
    return lib if ok else None


# ----------------------------------------------------------------- workers (subprocess)
def worker(engine: str, path: str, reps: int, model: str) -> None:
    import warnings

    import numpy as np

    warnings.simplefilter("ignore")
    # pyarrow's self-destructing conversion: the Arrow buffers are released column by
    # column, so that the peak of reading is not two copies of the panel
    import pyarrow.parquet as pq

    df = pq.read_table(path).to_pandas(self_destruct=True, split_blocks=True)
    # pyarrow's allocator (mimalloc) keeps the pages of the Arrow buffers freed by the
    # conversion (about 290 MiB at 4.9M rows): handed back, so that the peak RSS is the
    # engine's and not the reader's cache (R reads the CSV with data.table::fread)
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    if model == "ols":
        df["ly"] = np.log1p(df["y"])
    if engine == "reader":
        print(json.dumps({"engine": engine, "first_s": 0.0, "median_s": 0.0, "times": [],
                          "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                          / 1024, "coef": [], "se": [], "nobs": len(df)}))
        return
    info: dict = {}
    if engine.startswith("gravity"):
        import gravity as gv

        kw: dict = {"vcov": {"CRV1": "pair"}}
        if model == "ppml":
            if engine == "gravity-fe":
                kw["separation"] = ("fe",)
            if engine == "gravity-tight":
                kw.update(tol=TIGHT, fixef_tol=TIGHT)
        elif engine == "gravity-tight":
            kw.update(fixef_tol=TIGHT)

        def fit():
            r = (gv.ppml(FORMULA, df, **kw) if model == "ppml"
                 else gv.ols(OLS_FORMULA, df, **kw))
            info["iterations"] = int(r.iterations)
            return r.params.to_numpy(), r.bse.to_numpy(), r.nobs
    else:
        import pyfixest as pf

        def fit():
            r = (pf.fepois(FORMULA, df, vcov={"CRV1": "pair"}) if model == "ppml"
                 else pf.feols(OLS_FORMULA, df, vcov={"CRV1": "pair"}))
            info["iterations"] = int(getattr(r, "_iterations", 0) or 0)
            return r.coef().to_numpy(), r.se().to_numpy(), r._N

    t0 = time.perf_counter()
    coef, se, nobs = fit()
    first = time.perf_counter() - t0
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        coef, se, nobs = fit()
        times.append(time.perf_counter() - t0)
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"engine": engine, "first_s": first, "median_s": statistics.median(times),
                      "times": times, "peak_rss_mib": rss_mib, "coef": coef.tolist(),
                      "se": se.tolist(), "nobs": int(nobs), **info}))


def _env(threads: int) -> dict:
    return dict(os.environ, NUMBA_NUM_THREADS=str(threads), RAYON_NUM_THREADS=str(threads),
                OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS="1")


def run_python(engine: str, parquet: Path, reps: int, threads: int, model: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--worker", engine, str(parquet), str(reps),
                          model], check=True, capture_output=True, text=True,
                         env=_env(threads))
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_fixest(lib: str, csv: Path, reps: int, threads: int, model: str) -> dict:
    formula = FORMULA if model == "ppml" else "log(y + 1) ~ rta + x | exp_year + imp_year + pair"
    with tempfile.NamedTemporaryFile(suffix=".time") as tf:
        # one warm-up repetition more, dropped below (as the Python engines)
        out = subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", tf.name, "Rscript", str(RUN_FIXEST), str(csv),
             formula, "--method", "fepois" if model == "ppml" else "feols",
             "--vcov", "cluster:pair", "--reps", str(reps + 1), "--nthreads", str(threads)],
            check=True, capture_output=True, text=True, env=dict(_env(threads),
                                                                 R_FIXEST_LIB=lib))
        peak_kib = float(Path(tf.name).read_text().strip().splitlines()[-1])
    res = json.loads(out.stdout.strip().splitlines()[-1])
    secs = list(res["seconds"])
    return {"engine": "fixest", "first_s": secs[0], "median_s": statistics.median(secs[1:]),
            "times": secs[1:], "peak_rss_mib": peak_kib / 1024,
            "coef": list(res["coef"].values()), "se": list(res["se"].values()),
            "nobs": int(res["nobs"]), "iterations": res.get("iterations")}


def cold_start(threads: int) -> dict:
    """``import gravity`` and the first fits in fresh processes with an empty numba cache."""
    script = (
        "import time, numpy as np, pandas as pd\n"
        "rng = np.random.default_rng(0); n = {n}\n"
        "df = pd.DataFrame({{'e': rng.integers(0, 40, n), 'i': rng.integers(0, 40, n),"
        " 'x': rng.normal(size=n)}}); df['y'] = rng.poisson(np.exp(0.3 * df.x))\n"
        "t0 = time.perf_counter(); import gravity as gv; t1 = time.perf_counter()\n"
        "gv.ppml('y ~ x | e + i', df); t2 = time.perf_counter()\n"
        "print(t1 - t0, t2 - t0)\n")
    out = {}
    for n in (5_000, 100_000):
        with tempfile.TemporaryDirectory() as cache:
            env = dict(_env(threads), NUMBA_CACHE_DIR=cache)
            res = subprocess.run([sys.executable, "-c", script.format(n=n)], check=True,
                                 capture_output=True, text=True, env=env)
        imp, first = map(float, res.stdout.split())
        out[n] = (imp, first)
    return out


# ----------------------------------------------------------------- report
def rel_diff(a: list[float], b: list[float]) -> float:
    return max(abs(x - y) / max(abs(y), 1e-300) for x, y in zip(a, b, strict=True))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--engines", nargs="+",
                    default=["gravity", "fixest", "gravity-fe", "pyfixest", "gravity-tight"])
    ap.add_argument("--tight-max-rows", type=float, default=1.1e6,
                    help="run gravity-tight only on panels up to this many rows")
    ap.add_argument("--pyfixest-max-rows", type=float, default=float("inf"),
                    help="run pyfixest only on panels up to this many rows")
    ap.add_argument("--ols", action="store_true", help="OLS at the largest panel given")
    ap.add_argument("--ols-size", choices=list(SIZES),
                    help="the panel of the OLS comparison (default: the largest given)")
    ap.add_argument("--cold", action="store_true", help="cold-start measurements")
    ap.add_argument("--out", help="append the markdown table to this file")
    ap.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker[0], args.worker[1], int(args.worker[2]), args.worker[3])
        return
    lib = fixest_lib()
    if lib is None:
        print("R fixest not built (../shared/bench/r-oracle/install.sh): skipped")
    load = os.getloadavg()
    lines = [f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {args.threads} threads, "
             f"median of {args.reps} after one warm-up; load average at start "
             f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min).", ""]
    header = ("| model | panel | rows used | engine | median s | first s | ratio to fixest "
              "| peak MiB | IRLS it | max rel dcoef vs tight | max rel dse vs tight |")
    lines += [header, "|---" * (header.count("|") - 1) + "|"]
    jobs = [("ppml", s) for s in args.sizes]
    if args.ols:
        jobs.append(("ols", args.ols_size or args.sizes[-1]))
    for model, size in jobs:
        c, t = SIZES[size]
        parquet, csv = ensure_panel(c, t)
        res: dict[str, dict] = {}
        for e in args.engines:
            if model == "ols" and e == "gravity-fe":
                continue
            if e == "gravity-tight" and c * (c - 1) * t > args.tight_max_rows:
                continue
            if e == "pyfixest" and c * (c - 1) * t > args.pyfixest_max_rows:
                continue
            if e == "fixest":
                if lib is None:
                    continue
                res[e] = run_fixest(lib, csv, args.reps, args.threads, model)
            else:
                res[e] = run_python(e, parquet, args.reps, args.threads, model)
            r = res[e]
            print(f"{model} {size} {e}: {r['median_s']:.2f} s (first {r['first_s']:.2f}), "
                  f"{r['peak_rss_mib']:.0f} MiB, nobs {r['nobs']}", flush=True)
        ref = res.get("gravity-tight")
        for e, r in res.items():
            fitted = e != "reader"
            ratio = (f"{r['median_s'] / res['fixest']['median_s']:.2f}"
                     if "fixest" in res and fitted else "")
            dc = f"{rel_diff(r['coef'], ref['coef']):.1e}" if ref and fitted else ""
            ds = f"{rel_diff(r['se'], ref['se']):.1e}" if ref and fitted else ""
            lines.append(f"| {model} | {size} | {r['nobs']:,} | {e} | {r['median_s']:.2f} | "
                         f"{r['first_s']:.2f} | {ratio} | {r['peak_rss_mib']:.0f} | "
                         f"{r.get('iterations', '')} | {dc} | {ds} |")
        print("\n".join(lines[-len(res):]), flush=True)
    if args.cold:
        cold = cold_start(args.threads)
        lines += ["", "Cold start (fresh process, empty numba cache): "
                  + "; ".join(f"{n:,} rows: import gravity {imp:.2f} s, import + first ppml "
                              f"{first:.2f} s" for n, (imp, first) in cold.items())]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "a") as fh:
            fh.write("\n" + text)


if __name__ == "__main__":
    main()
