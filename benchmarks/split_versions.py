#!/usr/bin/env python3
"""Two versions of gravity on the same split, alternated: CPU per product of the
sequential engine, of a 2-worker cluster's workers and of this process.

Each run is a fresh process with ``PYTHONPATH`` set to one version's ``src`` (export an
older commit with ``git archive <commit> src | tar -x -C /tmp/old``): the panel of
``split_dask.py`` (``--products``), the sequential engine on it in memory, then
:func:`gravity.estimate_many` on a :func:`~gravity.distributed.local_cluster` reading
a Parquet dataset (written once, shared by the runs). The versions alternate
(A B B A A B...), so a change of the machine's load touches each alike.

Usage::

    python benchmarks/split_versions.py --src /tmp/old/src --src src --products 300 --rounds 3
    python benchmarks/split_versions.py --src /tmp/old/src --src src --lean  # lean where known

Each version writes its own copy of the dataset (with its ``write_split_dataset``'s
defaults) the first time it runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
FORMULA = "y ~ ln_dist + rta | exporter^year + importer^year"


def child(products: int, ds: str, lean: bool = False) -> None:
    sys.path.insert(0, str(HERE))
    warnings.simplefilter("ignore")
    os.environ["PYTHONWARNINGS"] = "ignore"
    import numba
    import numpy as np
    import psutil
    from distributed import Client
    from split_dask import make_panel

    import gravity
    from gravity.distributed import local_cluster, write_split_dataset

    numba.set_num_threads(1)
    import inspect

    # lean results in both engines where the version has them (like with like)
    opts = {"lean": True} if lean and "lean" in inspect.signature(
        gravity.estimate_many).parameters else {}
    df = make_panel(products, 100, 5, 0.3)
    if not Path(ds).exists():
        write_split_dataset(df, "product", ds)
    sep = ("fe",)
    gravity.estimate_many(FORMULA, df[df["product"] < 100003], split="product",
                          separation=sep)
    cluster = local_cluster(n_workers=2, memory_limit="4GiB")
    client = Client(cluster)
    gravity.estimate_many(FORMULA, dataset=ds, split="product", client=client,
                          show_progress=False, separation=sep, **opts)
    me = psutil.Process()
    c0, t0 = time.process_time(), time.perf_counter()
    seq = gravity.estimate_many(FORMULA, df, split="product", separation=sep,
                                numba_threads=1, **opts)
    c_seq, t_seq = time.process_time() - c0, time.perf_counter() - t0
    w0 = sum(client.run(time.process_time).values())
    m0, t0 = sum(me.cpu_times()[:2]), time.perf_counter()
    par = gravity.estimate_many(FORMULA, dataset=ds, split="product", client=client,
                                show_progress=False, separation=sep, **opts)
    t_dask = time.perf_counter() - t0
    c_w = sum(client.run(time.process_time).values()) - w0
    c_m = sum(me.cpu_times()[:2]) - m0
    same = all(np.array_equal(a.params.to_numpy(), b.params.to_numpy())
               and np.array_equal(a.bse.to_numpy(), b.bse.to_numpy())
               for a, b in zip(par, seq, strict=True))
    print(json.dumps({"seq_ms": 1e3 * c_seq / products, "workers_ms": 1e3 * c_w / products,
                      "main_ms": 1e3 * c_m / products, "t_seq": t_seq, "t_dask": t_dask,
                      "same": same, "lean": bool(opts), "load": os.getloadavg()[0]}),
          flush=True)
    client.close()
    cluster.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", action="append", required=True,
                    help="a version's src folder (twice: A, then B)")
    ap.add_argument("--products", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--lean", action="store_true",
                    help="lean results in both engines, in the versions that have them")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.products, args.child, args.lean)
        return
    import tempfile

    import numpy as np

    # one dataset per version, written by its own write_split_dataset (its defaults)
    root = Path(tempfile.mkdtemp(prefix="gravity-split-versions-"))
    ds = {src: str(root / f"ds{i}") for i, src in enumerate(args.src)}
    runs: dict[str, list[dict]] = {s: [] for s in args.src}
    print(f"uptime before: {os.popen('uptime').read().strip()}")
    for r in range(args.rounds):
        for src in args.src if r % 2 == 0 else args.src[::-1]:
            env = {**os.environ, "PYTHONPATH": str(Path(src).resolve()),
                   "NUMBA_NUM_THREADS": "1"}
            out = subprocess.run([sys.executable, __file__, "--src", src, "--products",
                                  str(args.products), "--child", ds[src]]
                                 + (["--lean"] if args.lean else []), env=env,
                                 capture_output=True, text=True, check=False)
            line = [x for x in out.stdout.splitlines() if x.startswith("{")]
            if not line:
                print(f"{src}: failed\n{out.stderr[-2000:]}")
                continue
            runs[src].append(json.loads(line[-1]))
            print(src, line[-1], flush=True)
    for src, v in runs.items():
        if not v:
            continue
        seq = np.array([x["seq_ms"] for x in v])
        work = np.array([x["workers_ms"] for x in v])
        main_ = np.array([x["main_ms"] for x in v])
        print(f"{src}: sequential {seq.mean():.1f} ms, workers {work.mean():.1f} ms, this "
              f"process {main_.mean():.2f} ms of CPU per product (means of {len(v)} runs); "
              f"(workers + this process) / sequential {np.mean((work + main_) / seq):.3f}; "
              f"collections identical: {all(x['same'] for x in v)}")
    print(f"uptime after: {os.popen('uptime').read().strip()}")
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
