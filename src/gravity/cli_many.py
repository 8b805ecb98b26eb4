"""``gravity fit`` with several models: ``--split``/``--fsplit``, ``c()``/``sw()``/``csw()``
formulas, and the Dask backend's options.

The fits are :func:`gravity.distributed.estimate_many`'s; the command prints its
models and tidy estimates (or, with ``--json``, one object with both). The data
argument is a file (read whole), or with ``--split`` a Parquet dataset partitioned by
the split column (a folder of ``product=...`` directories, as
:func:`gravity.sources.build_baci_products` writes): its groups are then read one at a
time, by this process or by the Dask workers, and the panel is never in memory at
once.

Dask options (``--engine dask``, implied by ``--scheduler``): ``--workers`` and
``--memory-limit`` of the ``LocalCluster`` started for the command (one thread per
worker), or ``--scheduler`` the address of a running scheduler
(``tcp://host:8786``) to send the groups to; ``--chunk-size`` groups per task
(default: about 250,000 rows per task, at least four tasks per worker); ``--retries``
of a task whose worker was lost. Values outside their range are usage errors.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gravity.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["add_many_options", "fit_many", "split_dataset"]


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {value!r}")
    return n


def _count(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {value!r}")
    return n


def _bytes(value: str) -> str:
    from dask.utils import parse_bytes

    try:
        if parse_bytes(value) > 0:
            return value
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"expected a size such as 4GiB or 500MB, got {value!r}")


def add_many_options(p: argparse.ArgumentParser) -> None:
    """The options of multiple estimation and of the Dask backend on ``gravity fit``."""
    p.add_argument("--split", default=None,
                   help="one fit per value of this column (the data may then be a Parquet "
                        "dataset folder partitioned by it)")
    p.add_argument("--fsplit", default=None, help="as --split, with the whole data first")
    p.add_argument("--engine", default=None, choices=["sequential", "dask"],
                   help="with --split: fit the samples here (default) or on Dask")
    dask = p.add_argument_group("Dask (--engine dask)")
    dask.add_argument("--workers", default=2, type=_positive,
                      help="worker processes of the LocalCluster started (default 2)")
    dask.add_argument("--memory-limit", default=None, type=_bytes,
                      help="memory limit per worker of that cluster (default 4GiB)")
    dask.add_argument("--scheduler", default=None,
                      help="address of a running Dask scheduler (tcp://host:8786) to use "
                           "instead of a LocalCluster; implies --engine dask")
    dask.add_argument("--chunk-size", default=None, type=_positive,
                      help="groups per task (default: about 250,000 rows per task, at "
                           "least four tasks per worker)")
    dask.add_argument("--retries", default=2, type=_count,
                      help="retries of a task whose worker was lost (default 2)")


def split_dataset(args: argparse.Namespace) -> str | None:
    """The data argument when it is a dataset folder to read group by group (with
    ``--split``), else None (a file, read whole)."""
    path = Path(args.data)
    if not path.is_dir() or not (args.split or args.fsplit):
        return None
    if args.fsplit:
        raise InputError("--fsplit fits the whole data first: give a file, not a dataset "
                         "folder (or use --split)", file=str(args.data))
    return str(path)


def fit_many(args: argparse.Namespace, data: pd.DataFrame | None, kwargs: dict[str, Any],
             dataset: str | None = None) -> int:
    """Fit every model on every sample (:func:`gravity.distributed.estimate_many`) and
    print the models and their tidy estimates; failed fits are listed with their
    error. ``data``: the file's rows, or None with ``dataset`` (a partitioned folder).
    The fits are lean (``lean=True``): the command prints only their tables, and a
    lean result keeps every number of them (about 2 KB per fit instead of ``O(N)``)."""
    from gravity.distributed import estimate_many

    if args.weights:
        kwargs["weights"] = args.weights  # by name: each sample takes its own rows
    engine = args.engine or ("dask" if args.scheduler else "sequential")
    if args.scheduler and engine != "dask":
        raise InputError("--scheduler sends the fits to Dask: it needs --engine dask (or "
                         "no --engine)")
    if engine == "dask" and not (args.split or args.fsplit):
        raise InputError("--engine dask fits the groups of --split (or --fsplit) on the "
                         "workers: give one")
    res = estimate_many(args.formula, data, model=args.estimator, split=args.split,
                        fsplit=args.fsplit, engine=engine, client=args.scheduler,
                        dataset=dataset, n_workers=args.workers,
                        memory_limit=args.memory_limit or "4GiB", retries=args.retries,
                        chunk_size=args.chunk_size, lean=True, **kwargs)
    models, tidy = res.models(), res.tidy(alpha=args.alpha)
    if args.json:
        print(json.dumps({"estimator": args.estimator, "formula": args.formula,
                          "split": args.split or args.fsplit, "alpha": args.alpha,
                          "models": json.loads(models.to_json(orient="records",
                                                              double_precision=15)),
                          "estimates": json.loads(tidy.to_json(orient="records",
                                                               double_precision=15))},
                         indent=1))
    else:
        print(models.to_string(index=False), tidy.to_string(index=False), sep="\n\n")
    return 0
