"""What the default separation checks cost over the fixed-effect check alone.

For each data set: passes over the data (conjugate-gradient steps of the demeaning,
summed over calls; deterministic) and wall time (median of ``--reps``, the two settings
interleaved) of ``ppml`` with ``separation=("fe",)`` and with the default checks, and
what the fit's own certificate decided (``certified``: no further check;
``uncertified``: the simplex and ReLU checks ran after the fit; ``abandoned``: the fit
was redone after them). Data: the benchmark panels of ``../shared/bench/make_panel.py``
(``benchmarks/_panels/*.parquet`` when present) and, from ``../shared/data``, the Yotov
et al. (2016) and ``ppml_fe_bias`` example panels. Never part of ``make test``.

    python benchmarks/separation_cost.py --reps 3 --panels panel_C150_T5 panel_C200_T25
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared"


def datasets(panels: list[str]) -> list[tuple[str, str, Callable[[], pd.DataFrame]]]:
    out: list[tuple[str, str, Callable[[], pd.DataFrame]]] = []
    for p in panels:  # a name in benchmarks/_panels, or the path of a make_panel.py file
        path = Path(p) if p.endswith(".parquet") else HERE / "_panels" / f"{p}.parquet"
        if path.exists():
            out.append((path.stem, "y ~ rta + x | exp_year + imp_year + pair",
                        lambda path=path: pd.read_parquet(path)))
    yotov = SHARED / "data" / "yotov2016"
    if yotov.exists():
        def two_way() -> pd.DataFrame:
            from gravity.datasets.yotov import yotov2016_application_data

            d = yotov2016_application_data()
            return d[d["intl"] == 1]

        def three_way() -> pd.DataFrame:
            from gravity.datasets.yotov import load_yotov2016

            d = load_yotov2016()
            d["exp_year"] = d["exporter"] + d["year"].astype(str)
            d["imp_year"] = d["importer"] + d["year"].astype(str)
            d["pair"] = d["exporter"] + d["importer"]
            return d

        out.append(("yotov2016 two-way", "trade ~ ln_DIST + cntg + lang + clny | exp_year "
                    "+ imp_year", two_way))
        out.append(("yotov2016 three-way", "trade ~ rta | exp_year + imp_year + pair",
                    three_way))
    bias = SHARED / "data" / "ppml_fe_bias" / "ppmlfebias_example_data_manuf.csv"
    if bias.exists():
        def fe_bias() -> pd.DataFrame:
            d = pd.read_csv(bias)
            d["it"] = d["isoexp"] + d["year"].astype(str)
            d["jt"] = d["isoimp"] + d["year"].astype(str)
            d["ij"] = d["isoexp"] + d["isoimp"]
            return d

        out.append(("ppml_fe_bias three-way", "trade ~ fta | it + jt + ij", fe_bias))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--panels", nargs="*", default=["panel_C150_T5", "panel_C200_T25"])
    args = ap.parse_args()
    import gravity as gv

    importlib.import_module("gravity.estimation.feglm")
    irls_module = sys.modules["gravity.estimation.irls"]
    feglm_module = sys.modules["gravity.estimation.feglm"]
    from gravity.hdfe.demean import FixedEffects

    passes = [0]
    status: list[str] = []
    plain_demean = FixedEffects.demean_inplace
    plain_irls = irls_module.irls

    def counting(self, work, weights=None, tol=1e-8, maxiter=10_000):  # type: ignore[no-untyped-def]
        info = plain_demean(self, work, weights, tol=tol, maxiter=maxiter)
        passes[0] += int(info.iterations.max())
        return info

    def watching(*a, **k):  # type: ignore[no-untyped-def]
        res = plain_irls(*a, **k)
        if k.get("certify"):
            status.append("certified" if res.certified else
                          "abandoned" if res.aborted else "uncertified")
        return res

    FixedEffects.demean_inplace = counting  # type: ignore[method-assign]
    feglm_module.irls = watching
    warnings.simplefilter("ignore")
    print("| data | rows | passes fe only | passes default | the fit's certificate | "
          "s fe only | s default | default / fe only |")
    print("|---|---|---|---|---|---|---|---|")
    for name, formula, load in datasets(args.panels):
        d = load()
        fits = {"fe": lambda d=d, formula=formula: gv.ppml(formula, d, separation=("fe",)),
                "default": lambda d=d, formula=formula: gv.ppml(formula, d)}
        count: dict[str, int] = {}
        for key, fit in fits.items():
            passes[0] = 0
            status.clear()
            r = fit()
            count[key] = passes[0]
        decided = "/".join(status) or "-"
        times: dict[str, list[float]] = {k: [] for k in fits}
        for _ in range(args.reps):
            for key, fit in fits.items():
                t0 = time.perf_counter()
                fit()
                times[key].append(time.perf_counter() - t0)
        fe_s, de_s = (statistics.median(times[k]) for k in ("fe", "default"))
        print(f"| {name} | {r.nobs:,} | {count['fe']} | {count['default']} | {decided} | "
              f"{fe_s:.3f} | {de_s:.3f} | {de_s / fe_s:.2f} |", flush=True)


if __name__ == "__main__":
    main()
