"""Command-line interface: ``gravity demo``, ``gravity fit``, ``gravity panel``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _read_table(path: str):
    import pandas as pd

    p = Path(path)
    if p.suffix == ".parquet":
        return pd.read_parquet(p)
    if p.suffix == ".dta":
        return pd.read_stata(p)
    return pd.read_csv(p)


def _cmd_fit(args: argparse.Namespace) -> int:
    import json

    import gravity as gv

    data = _read_table(args.data)
    vcov = args.vcov
    if vcov and vcov.startswith("CRV1:"):
        vcov = {"CRV1": vcov.split(":", 1)[1]}
    est = gv.ppml if args.estimator == "ppml" else gv.ols
    fit = est(args.formula, data, vcov=vcov, ssc=args.ssc, missing=args.missing)
    if args.json:
        print(json.dumps({"params": fit.params.to_dict(), "bse": fit.bse.to_dict(),
                          "nobs": fit.nobs, "dropped": fit.dropped}, indent=1))
    else:
        print(fit.summary())
    return 0


def _cmd_panel(args: argparse.Namespace) -> int:
    from gravity.panel import build_panel
    from gravity.sources import read_baci, read_geodist, read_imf_fd, read_wdi

    flows = read_baci(args.baci, years=args.years) if args.baci else None
    panel, prov = build_panel(
        flows,
        countries=args.countries,
        years=args.years,
        geodist=read_geodist(args.geodist) if args.geodist else None,
        macro=read_wdi(args.wdi) if args.wdi else None,
        fd=read_imf_fd(args.fd) if args.fd else None,
        output=args.output,
    )
    print(f"panel: {len(panel):,} rows, {panel.shape[1]} columns -> {args.output}")
    for k, v in prov.get("dropped", {}).items() if isinstance(prov.get("dropped"), dict) else []:
        print(f"  dropped {k}: {v}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from gravity.demo import run_demo

    countries = years = None
    if args.small:
        from gravity.simulate import load_capitals

        countries = load_capitals().sort_values("gdp_2015_usd", ascending=False)["iso3"][:30].tolist()
        years = range(2010, 2021)
    return run_demo(out_dir=args.out, yotov_path=args.yotov, seed=args.seed,
                    countries=countries, years=years, figures=not args.no_figures,
                    yotov=not args.no_yotov)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="gravity",
        description="Gravity-model econometrics of international trade: panels, PPML/OLS "
                    "with high-dimensional fixed effects, the extensive margin.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="end-to-end run on embedded/simulated data")
    p.add_argument("--out", default="out", help="folder for the report (default: out)")
    p.add_argument("--yotov", default=None, help="path to agtpa_applications.csv.gz")
    p.add_argument("--no-yotov", action="store_true", help="skip the Yotov et al. (2016) part")
    p.add_argument("--seed", type=int, default=2024, help="seed of the simulated world")
    p.add_argument("--small", action="store_true",
                   help="a small world (30 largest economies, 2010-2020) for a quick run")
    p.add_argument("--no-figures", action="store_true", help="do not draw the PNG figures")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("fit", help="fit PPML or OLS on a CSV/Parquet/Stata file")
    p.add_argument("estimator", choices=["ppml", "ols"])
    p.add_argument("formula", help="e.g. 'trade ~ ln_dist + contig | exp_year + imp_year'")
    p.add_argument("data", help="CSV, Parquet or .dta file")
    p.add_argument("--vcov", default=None, help="iid, hetero, or CRV1:cluster_var[+other]")
    p.add_argument("--ssc", default=None, help="fixest (default) or glm")
    p.add_argument("--missing", default="raise", choices=["raise", "drop"])
    p.add_argument("--json", action="store_true", help="print JSON instead of a summary")
    p.set_defaults(func=_cmd_fit)

    p = sub.add_parser("panel", help="build a gravity panel from local source files")
    p.add_argument("--baci", help="BACI CSV file, glob or folder")
    p.add_argument("--geodist", help="CEPII GeoDist dist file")
    p.add_argument("--wdi", help="WDI CSV")
    p.add_argument("--fd", help="IMF Financial Development index CSV")
    p.add_argument("--countries", nargs="*", default=None)
    p.add_argument("--years", nargs="*", type=int, default=None)
    p.add_argument("--output", default="panel.parquet")
    p.set_defaults(func=_cmd_panel)

    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
