#!/usr/bin/env python3
"""How a task's results come back, A/B in one run: fetched straight from the workers
or relayed by the scheduler (``direct_to_workers``), and as one pickled buffer per
task or one frame per array (``gravity.distributed.engine.SHIP_AS_ONE_BUFFER``). The
four combinations alternate on one 2-worker :func:`~gravity.distributed.local_cluster`;
reported: CPU per product of the workers and of this process (scheduler, nannies,
client), the mean over ``--rounds``.

Usage::

    python benchmarks/split_transport.py --products 120 --rounds 4
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
FORMULA = "y ~ ln_dist + rta | exporter^year + importer^year"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--products", type=int, default=120)
    ap.add_argument("--rounds", type=int, default=4)
    args = ap.parse_args()
    import numpy as np
    import psutil
    from distributed import Client
    from split_dask import profiling_dataset

    import gravity
    import gravity.distributed.engine as engine
    from gravity.distributed import local_cluster

    uptime, _, _, path = profiling_dataset(args.products, "gravity-split-transport-")
    print(uptime)
    ds = str(path)
    cluster = local_cluster(n_workers=2)
    clients = {True: Client(cluster, direct_to_workers=True),
               False: Client(cluster, direct_to_workers=False)}

    def run(c: Any) -> Any:
        return gravity.estimate_many(FORMULA, dataset=ds, split="product", client=c,
                                     show_progress=False, separation=("fe",))

    run(clients[True])
    me = psutil.Process()
    variants = [(d, b) for d in (True, False) for b in (True, False)]
    res: dict[tuple[bool, bool], list[tuple[float, float]]] = {v: [] for v in variants}
    for r in range(args.rounds):
        for v in variants if r % 2 == 0 else variants[::-1]:
            engine.SHIP_AS_ONE_BUFFER = v[1]
            c = clients[v[0]]
            w0 = sum(c.run(time.process_time).values())
            m0 = sum(me.cpu_times()[:2])
            run(c)
            res[v].append(((sum(c.run(time.process_time).values()) - w0) / args.products
                           * 1e3, (sum(me.cpu_times()[:2]) - m0) / args.products * 1e3))
    engine.SHIP_AS_ONE_BUFFER = True
    for v, x in res.items():
        a = np.array(x)
        print(f"{'straight from the workers' if v[0] else 'through the scheduler':25s} "
              f"{'one buffer per task' if v[1] else 'one frame per array':20s}: workers "
              f"{a[:, 0].mean():6.2f} (sd {a[:, 0].std():.2f}), this process "
              f"{a[:, 1].mean():5.2f} (sd {a[:, 1].std():.2f}) ms of CPU per product")
    for c in clients.values():
        c.close()
    cluster.close()
    print(f"uptime after: {os.popen('uptime').read().strip()}")


if __name__ == "__main__":
    main()
