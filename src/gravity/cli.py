"""Command-line interface: ``gravity demo``, ``gravity fit``, ``gravity panel``,
``gravity diversification``, ``gravity ge``.

``gravity panel`` reads every public source the package has a reader for (BACI, CEPII
Gravity, IMF DOTS, UN Comtrade, China's mirror exports, GeoDist, WDI, PWT, the IMF
FD index, WITS tariffs, the BRI list) and builds the panel with
:func:`gravity.panel.build_panel`; ``gravity fit`` fits any estimator of
:mod:`gravity.estimation` and prints the summary, or with ``--json`` the estimates,
standard errors, p-values, confidence intervals, vcov type and formula;
``gravity diversification`` computes the measures of
:func:`gravity.margins.diversification` on a panel file; ``gravity ge`` a
general-equilibrium counterfactual (:mod:`gravity.cli_ge`); several models, split
samples and the Dask options of ``gravity fit``: :mod:`gravity.cli_many`.
``gravity <command> --help`` shows examples.

Errors
------
A :class:`gravity.errors.GravityError` (bad data, formula or option) and a file that
cannot be found or read end the command with one line on stderr,
``gravity: error: <message>``, and exit status 2, as argparse's usage errors do. The
message uses the command line's spellings (``--missing drop``, not
``missing='drop'``). Any other exception is a bug: one line saying so, exit status 1.
``--debug`` prints the traceback as well. Warnings are printed as
``gravity: warning: <message>``.
"""

from __future__ import annotations

import argparse
import re
import sys
import traceback
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from gravity.cli_many import add_many_options
from gravity.errors import GravityError, GravityWarning, InputError
from gravity.multiformula import is_multiple

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["main", "read_table", "cli_message", "SUPPORTED_TABLE_TYPES"]

EXIT_OK, EXIT_BUG, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130
PROG = "gravity"

#: File types ``gravity fit`` reads, by (lower-case) name ending.
SUPPORTED_TABLE_TYPES = (".csv", ".csv.gz", ".parquet", ".dta")

# Python keyword -> command-line option, for the library's hints ("pass missing='drop'").
_CLI_OPTIONS = {
    "missing": "--missing",
    "vcov": "--vcov",
    "ssc": "--ssc",
    "seed": "--seed",
    "yotov_path": "--yotov",
}
_KEYWORD_HINT = re.compile(
    r"\b(?P<name>" + "|".join(_CLI_OPTIONS) + r")="
    r"(?:'(?P<sq>[^']*)'|\"(?P<dq>[^\"]*)\"|(?P<bare>[\w.+-]+))")
_CRV1_DICT = re.compile(r"\{\s*['\"](?:CRV1|cluster)['\"]\s*:\s*['\"](?P<v>[^'\"]*)['\"]\s*\}",
                        re.IGNORECASE)
_PYTHON_ONLY = re.compile(r"\s+or gravity\.ssc\(\.\.\.\)")


def cli_message(message: str) -> str:
    """``message`` on one line, with Python keyword hints in command-line spelling.

    ``missing='drop'`` -> ``--missing drop``; ``vcov={'CRV1': 'pair'}`` ->
    ``--vcov CRV1:pair``; hints that only exist in Python are removed.
    """
    text = _CRV1_DICT.sub(lambda m: "'CRV1:" + m["v"] + "'", message)

    def flag(m: re.Match[str]) -> str:
        value = next(v for v in (m["sq"], m["dq"], m["bare"]) if v is not None)
        return f"{_CLI_OPTIONS[m['name']]} {value}"

    text = _KEYWORD_HINT.sub(flag, text)
    text = _PYTHON_ONLY.sub("", text)
    return " ".join(text.split())


# -- input tables -------------------------------------------------------------------------

def _table_type(path: Path) -> str | None:
    name = path.name.lower()
    return next((s for s in sorted(SUPPORTED_TABLE_TYPES, key=len, reverse=True)
                 if name.endswith(s)), None)


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV (``.csv``, ``.csv.gz``), Parquet or Stata (``.dta``) file.

    Raises :class:`~gravity.errors.InputError` naming the file when it does not
    exist, is not a file, has an unsupported type or cannot be parsed.
    """
    import pandas as pd

    p = Path(path)
    kind = _table_type(p)
    supported = ", ".join(SUPPORTED_TABLE_TYPES)
    if kind is None:
        suffix = "".join(p.suffixes[-2:]) or "(no extension)"
        raise InputError(f"unsupported file type '{suffix}'; supported types: {supported}",
                         file=str(path))
    if not p.exists():
        raise InputError("no such file", file=str(path))
    if not p.is_file():
        raise InputError("not a file", file=str(path))
    try:
        if kind == ".parquet":
            return pd.read_parquet(p)
        if kind == ".dta":
            return pd.read_stata(p)
        return pd.read_csv(p)
    except ImportError as exc:
        raise GravityError(f"reading {kind} files needs an optional package: {exc}") from exc
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}", file=str(path)) from exc
    except ValueError as exc:  # parser errors of pandas, pyarrow and the Stata reader
        raise InputError(f"cannot read the file as {kind}: {exc}", file=str(path)) from exc


# -- option values ------------------------------------------------------------------------

def _vcov_arg(value: str) -> str | dict[str, str]:
    """``iid``, ``hetero`` or ``CRV1:var[+var]`` -> the ``vcov=`` of the estimators."""
    from gravity.inference import parse_vcov

    kind, sep, clusters = value.strip().partition(":")
    spec: str | dict[str, str] = {kind.strip(): clusters.strip()} if sep else value.strip()
    try:
        parse_vcov(spec, ())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"unknown vcov '{value}': use iid, hetero or CRV1:var (CRV1:a+b for two-way "
            "clustering)") from None
    return spec


def _ssc_arg(value: str) -> str:
    from gravity.inference.vcov import resolve_ssc

    try:
        resolve_ssc(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(cli_message(str(exc))) from None
    return value


# -- subcommands --------------------------------------------------------------------------

ESTIMATORS = ("ppml", "ols", "logit", "probit", "cloglog", "lpm")


def fit_json(fit: object, alpha: float = 0.05) -> dict:
    """The machine-readable result of ``gravity fit --json``.

    Keys: ``estimator``, ``formula``, ``vcov`` (the variance actually used, e.g.
    ``"CRV1: pair"``), ``ssc``, ``alpha``, ``nobs``, ``dropped`` (rows by reason),
    ``dropped_regressors``, and per coefficient ``params``, ``bse``, ``tvalues``,
    ``pvalues``, ``conf_low``, ``conf_high`` (the ``1 - alpha`` interval); ``warnings``
    lists the messages of the warnings raised while fitting. Non-finite numbers are
    written as ``null``.
    """
    import math

    def num(x: object) -> float | None:
        v = float(x)  # type: ignore[arg-type]
        return v if math.isfinite(v) else None

    def series(s: pd.Series) -> dict[str, float | None]:
        return {str(k): num(v) for k, v in s.items()}

    r: Any = fit
    ci = r.conf_int(alpha=alpha)
    return {
        "estimator": str(getattr(r, "model", "")),
        "formula": str(r.formula),
        "vcov": str(r.vcov_type),
        "ssc": str(getattr(r, "ssc", "")),
        "alpha": alpha,
        "nobs": int(r.nobs),
        "dropped": {str(k): int(v) for k, v in dict(r.dropped).items()},
        "dropped_regressors": [str(x) for x in getattr(r, "dropped_regressors", []) or []],
        "params": series(r.params),
        "bse": series(r.bse),
        "tvalues": series(r.tvalues),
        "pvalues": series(r.pvalues),
        "conf_low": series(ci.iloc[:, 0]),
        "conf_high": series(ci.iloc[:, 1]),
        "warnings": [str(w.message) for w in (getattr(r, "warnings", None) or [])],
    }


def _cmd_fit(args: argparse.Namespace) -> int:
    import json

    import gravity.estimation as estimation
    from gravity.cli_many import fit_many, split_dataset

    kwargs: dict[str, Any] = {"vcov": args.vcov, "ssc": args.ssc, "missing": args.missing}
    glm = args.estimator not in ("ols", "lpm")
    if args.separation is not None:
        if not glm:
            raise InputError(f"--separation applies to ppml, logit, probit and cloglog, not "
                             f"{args.estimator}")
        kwargs["separation"] = None if "none" in args.separation else tuple(args.separation)
    if args.verbose and glm:
        kwargs["verbose"] = True
    dataset = split_dataset(args)
    if dataset is not None:  # a partitioned folder: read group by group
        return fit_many(args, None, kwargs, dataset=dataset)
    data = read_table(args.data)
    if args.split or args.fsplit or is_multiple(args.formula):
        return fit_many(args, data, kwargs)
    if args.weights:
        kwargs["weights"] = _column(data, args.weights, "--weights")
    fit = getattr(estimation, args.estimator)(args.formula, data, **kwargs)
    if args.json:
        print(json.dumps(fit_json(fit, alpha=args.alpha), indent=1, allow_nan=False))
    else:
        print(fit.summary())
    return EXIT_OK


def _column(data: pd.DataFrame, name: str, option: str) -> pd.Series:
    from gravity.errors import MissingColumnError

    if name not in data.columns:
        raise MissingColumnError(f"{option} names a column not in the data", column=name)
    return data[name]


#: ``gravity panel`` flow sources: option -> reader (module, function) and its keywords.
FLOW_SOURCES = ("baci", "dots", "comtrade", "china_mirror", "cepii_gravity")


def _read_sources(args: argparse.Namespace) -> dict[str, Any]:
    """Read every file named on the command line, with a progress bar over the files."""
    import gravity.sources as src
    from gravity.progress import progress

    years = args.years
    steps: list[tuple[str, Any]] = []
    if args.baci:
        steps.append(("flows", lambda: src.read_baci(args.baci, country_codes=args.baci_codes,
                                                     years=years, progress=False)))
    if args.dots:
        steps.append(("flows", lambda: src.read_dots(args.dots, flow=args.dots_flow,
                                                     years=years)))
    if args.comtrade:
        steps.append(("flows", lambda: src.read_comtrade(args.comtrade,
                                                         flow=args.comtrade_flow, years=years)))
    if args.china_mirror:
        steps.append(("flows", lambda: src.read_china_mirror(args.china_mirror)))
    if args.cepii_gravity:
        steps.append(("gravity", lambda: src.read_cepii_gravity(args.cepii_gravity,
                                                                years=years)))
    for key, option in (("geodist", "geodist"), ("macro", "wdi"), ("macro", "pwt"),
                        ("fd", "fd"), ("tariffs", "wits")):
        path = getattr(args, option)
        if path:
            reader = {"geodist": src.read_geodist, "wdi": src.read_wdi, "pwt": src.read_pwt,
                      "fd": src.read_imf_fd, "wits": src.read_wits_tariffs}[option]
            steps.append((key, lambda reader=reader, path=path: reader(path)))
    flows = [k for k, _ in steps if k == "flows"]
    if len(flows) > 1:
        raise InputError("give one flow source (--baci, --dots, --comtrade or --china-mirror)"
                         "; combine sources in Python")
    if args.wdi and args.pwt:
        raise InputError("give --wdi or --pwt for GDP and population, not both")
    if not flows and not args.cepii_gravity:
        raise InputError("no trade flows: give --baci, --dots, --comtrade, --china-mirror "
                         "or --cepii-gravity")
    out: dict[str, Any] = {}
    for key, read in progress(steps, desc="reading sources", total=len(steps), unit="file"):
        out[key] = read()
    if args.pwt:  # GDP: PWT's expenditure-side real GDP (rgdpe), as read_pwt returns it
        out["macro"] = out["macro"].rename(columns={"rgdpe": "gdp"})
    return out


def _cmd_panel(args: argparse.Namespace) -> int:
    from gravity.panel import build_panel

    frames = _read_sources(args)
    bri: Any = False if args.no_bri else (args.bri or True)
    trade_column = args.trade_column if "flows" not in frames else None
    if "flows" not in frames and trade_column is None:
        trade_column = "tradeflow_baci"
    panel, prov = build_panel(
        frames.get("flows"),
        countries=args.countries,
        years=args.years,
        gravity=frames.get("gravity"),
        geodist=frames.get("geodist"),
        macro=frames.get("macro"),
        fd=frames.get("fd"),
        tariffs=frames.get("tariffs"),
        trade_column=trade_column,
        bri=bri,
        intra_national=args.intra_national,
        lags=tuple(args.lags or ()),
        leads=tuple(args.leads or ()),
        output=args.output,
    )
    print(f"panel: {len(panel):,} rows, {panel.shape[1]} columns -> {args.output}")
    counts = prov.get("counts", {})
    for k in ("countries", "years", "trade_positive", "trade_zero", "trade_missing"):
        if k in counts:
            print(f"  {k}: {counts[k]:,}")
    dropped = prov.get("dropped")
    if isinstance(dropped, dict):
        for k, v in dropped.items():
            print(f"  dropped {k}: {v}")
    return EXIT_OK


def _cmd_diversification(args: argparse.Namespace) -> int:
    from gravity.margins import diversification, emerging_markets, emerging_regions

    data = read_table(args.panel)
    groups: dict[str, Any] = {}
    for name in args.groups or ():
        if name == "five_emerging":
            groups.update(emerging_regions())
        elif name == "msci":
            groups["emerging_msci"] = sorted(emerging_markets("msci"))
        elif name in data.columns:
            groups[name] = name
        else:
            raise InputError("unknown group: use five_emerging, msci or a 0/1 column of the "
                             "panel", column=name)
    div = diversification(data, value=args.value, threshold=args.threshold, k=args.k,
                          groups=groups or None)
    if args.exporter:
        div = div.loc[div.index.get_level_values(0).isin(args.exporter)]
    if args.output:
        out = Path(args.output)
        if out.name.lower().endswith(".parquet"):
            div.reset_index().to_parquet(out)
        else:
            div.reset_index().to_csv(out, index=False)
        print(f"diversification: {len(div):,} exporter-years -> {out}")
    else:
        print(div.reset_index().to_csv(index=False), end="")
    return EXIT_OK


def _cmd_ge(args: argparse.Namespace) -> int:
    from gravity.cli_ge import run_ge

    return run_ge(args, read_table(args.data))


def _cmd_demo(args: argparse.Namespace) -> int:
    from gravity.demo import run_demo

    if args.yotov is not None and not Path(args.yotov).is_file():
        raise InputError("no such file (--yotov)", file=args.yotov)
    countries: list[str] | None = None
    years: range | None = None
    if args.small:
        from gravity.simulate import load_capitals

        largest = load_capitals().sort_values("gdp_2015_usd", ascending=False)["iso3"]
        countries = [str(c) for c in largest[:30]]
        years = range(2010, 2021)
    return run_demo(out_dir=args.out, yotov_path=args.yotov, seed=args.seed,
                    countries=countries, years=years, figures=not args.no_figures,
                    yotov=not args.no_yotov)


# -- parser ------------------------------------------------------------------------------

class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions filled to the terminal width; the examples of the epilog kept as
    written (one command per line)."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("examples:"):
            return super()._fill_text(text, width, indent)
        import textwrap

        return "\n\n".join(textwrap.fill(par, width, initial_indent=indent,
                                         subsequent_indent=indent)
                           for par in text.split("\n\n"))


def _examples(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def _alpha_arg(value: str) -> float:
    try:
        a = float(value)
    except ValueError:
        a = float("nan")
    if not 0.0 < a < 1.0:
        raise argparse.ArgumentTypeError(f"alpha must be a number in (0, 1), got '{value}'")
    return a


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: after the subcommand, --debug must not reset one given before it
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="print the traceback of an error")
    parser = argparse.ArgumentParser(
        prog=PROG, formatter_class=_HelpFormatter,
        description="Gravity-model econometrics of international trade: panels, PPML/OLS "
                    "with high-dimensional fixed effects, the extensive margin.",
        epilog=_examples(
            "gravity demo --small",
            "gravity panel --cepii-gravity Gravity_V202211.dta --output panel.parquet",
            "gravity fit ppml 'trade ~ ln_dist | exp_year + imp_year' panel.parquet --json",
            "gravity diversification panel.parquet --groups five_emerging",
            "gravity ge d.csv --formula 'trade ~ ln_dist + fta | exporter + importer' "
            "--set fta=0 --reference C00 --sigma 5")
        + "\n\n'gravity <command> --help' lists each command's options and examples.")
    parser.add_argument("--debug", action="store_true", help="print the traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", parents=[common],
                       formatter_class=_HelpFormatter,
                       help="end-to-end run on embedded/simulated data",
                       epilog=_examples("gravity demo --small --no-figures",
                                        "gravity demo --yotov agtpa_applications.csv.gz "
                                        "--out report/"))
    p.add_argument("--out", default="out", help="folder for the report (default: out)")
    p.add_argument("--yotov", default=None, help="path to agtpa_applications.csv.gz")
    p.add_argument("--no-yotov", action="store_true", help="skip the Yotov et al. (2016) part")
    p.add_argument("--seed", type=int, default=2024, help="seed of the simulated world")
    p.add_argument("--small", action="store_true",
                   help="a small world (30 largest economies, 2010-2020) for a quick run")
    p.add_argument("--no-figures", action="store_true", help="do not draw the PNG figures")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser(
        "fit", parents=[common], formatter_class=_HelpFormatter,
        help="fit PPML, OLS or a binary model on a CSV/Parquet/Stata file",
        description="Fit an estimator with high-dimensional fixed effects (fixest formula "
                    "grammar: 'y ~ x1 + x2 | fe1 + fe2^fe3') and print its summary, or "
                    "with --json the estimates, standard errors, t and p-values, "
                    "confidence intervals, vcov type, formula and dropped rows.",
        epilog=_examples(
            "gravity fit ppml 'trade ~ ln_dist + contig | exp_year + imp_year' panel.parquet",
            "gravity fit ppml 'trade ~ rta | exp_year + imp_year + pair' panel.parquet "
            "--vcov CRV1:pair --json",
            "gravity fit ols 'ln_trade ~ ln_dist | exp_year + imp_year' d.csv --vcov hetero "
            "--missing drop",
            "gravity fit logit 'active ~ bri_ij | exp_year + imp_year' panel.parquet",
            "gravity fit ppml 'trade ~ csw(ln_dist, contig) | exp_year + imp_year' "
            "panel.parquet --split product --engine dask --json",
            "gravity fit ppml 'trade ~ ln_dist + rta | exp_year + imp_year' products/ "
            "--split product --engine dask --workers 2 --chunk-size 20"))
    p.add_argument("estimator", choices=ESTIMATORS)
    p.add_argument("formula", help="e.g. 'trade ~ ln_dist + contig | exp_year + imp_year'")
    p.add_argument("data", help="data file: " + ", ".join(SUPPORTED_TABLE_TYPES) + "; with "
                   "--split also a Parquet dataset folder partitioned by the split column")
    p.add_argument("--vcov", default=None, type=_vcov_arg,
                   help="iid, hetero, or CRV1:cluster_var[+other] (default: clustered by "
                        "the first fixed effect)")
    p.add_argument("--ssc", default=None, type=_ssc_arg, help="fixest (default) or glm")
    p.add_argument("--missing", default="raise", choices=["raise", "drop"],
                   help="rows with missing values: raise an error (default) or drop them")
    p.add_argument("--weights", default=None, help="column of prior weights")
    p.add_argument("--separation", nargs="*", default=None,
                   choices=["fe", "simplex", "relu", "none"],
                   help="separation checks of ppml/logit/probit/cloglog (default: fe simplex "
                        "relu; 'none' for none)")
    p.add_argument("--verbose", action="store_true",
                   help="log every IRLS iteration on stderr (ppml, logit, probit, cloglog)")
    p.add_argument("--alpha", default=0.05, type=_alpha_arg,
                   help="1 - confidence level of the --json intervals (default 0.05)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a summary")
    add_many_options(p)
    p.set_defaults(func=_cmd_fit)

    p = sub.add_parser(
        "panel", parents=[common], formatter_class=_HelpFormatter,
        help="build a gravity panel from local source files",
        description="Build a squared exporter x importer x year panel (true zeros where the "
                    "source covers the reporter, NaN elsewhere) from one flow source and "
                    "any covariates, and write it to Parquet with its provenance.",
        epilog=_examples(
            "gravity panel --baci BACI_HS17_V202401b.zip --years 2017 2018 2019 "
            "--geodist dist_cepii.csv --wdi WDICSV.csv --fd FDI.csv --output panel.parquet",
            "gravity panel --cepii-gravity Gravity_V202211.dta --lags 1 2 --output p.parquet",
            "gravity panel --dots DOTS.csv --dots-flow exports --geodist dist_cepii.csv",
            "gravity panel --comtrade comtrade.csv --comtrade-flow X --pwt pwt.csv",
            "gravity panel --china-mirror china_exports.csv --output china.parquet",
            "gravity panel --baci BACI/ --bri my_bri_table.csv --leads 1 --lags 1 2"))
    flows = p.add_argument_group("trade flows (one source)")
    flows.add_argument("--baci", help="BACI CSV file, glob, folder or release zip")
    flows.add_argument("--baci-codes", default=None,
                       help="BACI country_codes_V*.csv (default: looked for next to the data)")
    flows.add_argument("--dots", help="IMF Direction of Trade Statistics CSV")
    flows.add_argument("--dots-flow", default="exports", choices=["exports", "imports"])
    flows.add_argument("--comtrade", help="UN Comtrade CSV (bulk or API layout)")
    flows.add_argument("--comtrade-flow", default="X", choices=["X", "M"])
    flows.add_argument("--china-mirror", help="China's exports from partners' imports "
                                              "(UN Comtrade mirror CSV)")
    cov = p.add_argument_group("covariates")
    cov.add_argument("--cepii-gravity", help="CEPII Gravity file (.dta, .csv, .zip): pair-year "
                                             "covariates; alone, also the flows")
    cov.add_argument("--trade-column", default=None,
                     help="with --cepii-gravity alone: its flow column (default "
                          "tradeflow_baci)")
    cov.add_argument("--geodist", help="CEPII GeoDist dist file")
    cov.add_argument("--wdi", help="World Bank WDI CSV (GDP, population)")
    cov.add_argument("--pwt", help="Penn World Table CSV (GDP, population), instead of --wdi")
    cov.add_argument("--fd", help="IMF Financial Development index CSV")
    cov.add_argument("--wits", help="WITS/TRAINS tariff CSV")
    cov.add_argument("--bri", default=None,
                     help="BRI table CSV (iso3, year); default: the package's table")
    cov.add_argument("--no-bri", action="store_true", help="no BRI columns")
    shape = p.add_argument_group("panel")
    shape.add_argument("--countries", nargs="*", default=None, help="ISO3 codes to keep")
    shape.add_argument("--years", nargs="*", type=int, default=None, help="years to keep")
    shape.add_argument("--lags", nargs="*", type=int, default=None,
                       help="lags of the BRI indicators, e.g. --lags 1 2")
    shape.add_argument("--leads", nargs="*", type=int, default=None, help="leads, e.g. 1")
    shape.add_argument("--intra-national", action="store_true",
                       help="add exporter == importer rows")
    shape.add_argument("--output", default="panel.parquet", help="Parquet file to write")
    p.set_defaults(func=_cmd_panel)

    p = sub.add_parser(
        "diversification", parents=[common],
        formatter_class=_HelpFormatter,
        help="export diversification measures of a panel (n destinations, top-k, HHI, Theil)",
        description="Per exporter-year: number of destinations, top-k shares, HHI, Theil "
                    "(within and between) and destination-group shares, as "
                    "gravity.margins.diversification computes them.",
        epilog=_examples(
            "gravity diversification panel.parquet --groups five_emerging msci",
            "gravity diversification panel.parquet --exporter CHN --k 5 10 --output d.csv"))
    p.add_argument("panel", help="panel file: " + ", ".join(SUPPORTED_TABLE_TYPES))
    p.add_argument("--value", default="trade", help="flow column (default trade)")
    p.add_argument("--threshold", default=0.0, type=float,
                   help="a destination is active when value > threshold (default 0)")
    p.add_argument("--k", nargs="+", type=int, default=[5], help="top-k shares (default 5)")
    p.add_argument("--groups", nargs="*", default=None,
                   help="destination groups: five_emerging (the seed paper's ASEAN, India, "
                        "Russia, Africa, Latin America), msci, or 0/1 columns such as bri_d")
    p.add_argument("--exporter", nargs="*", default=None, help="ISO3 codes of exporters to keep")
    p.add_argument("--output", default=None, help="CSV or Parquet file (default: CSV on stdout)")
    p.set_defaults(func=_cmd_diversification)

    from gravity.cli_ge import add_ge_parser

    p = add_ge_parser(sub, common, _HelpFormatter, _examples, _vcov_arg,
                      "data file: " + ", ".join(SUPPORTED_TABLE_TYPES))
    p.set_defaults(func=_cmd_ge)
    return parser


# -- errors and warnings -----------------------------------------------------------------

def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        where = f": '{exc.filename}'" if exc.filename is not None else ""
        return exc.strerror + where
    return cli_message(str(exc)) or type(exc).__name__


def _report(exc: BaseException, message: str, debug: bool, status: int) -> int:
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return status


@contextmanager
def _warnings_on_stderr() -> Iterator[None]:
    """Show warnings as ``gravity: warning: ...`` (the filters are left as they are)."""

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: TextIO | None = None, line: str | None = None) -> None:
        text = cli_message(str(message))
        label = "" if issubclass(category, GravityWarning) else f" ({category.__name__})"
        print(f"{PROG}: warning: {text}{label}", file=file or sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (argparse exits itself on usage errors)."""
    args = _parser().parse_args(None if argv is None else list(argv))
    debug = bool(getattr(args, "debug", False))
    try:
        with _warnings_on_stderr():
            return int(args.func(args) or EXIT_OK)
    except (GravityError, OSError) as exc:
        return _report(exc, _one_line(exc), debug, EXIT_ERROR)
    except KeyboardInterrupt as exc:
        return _report(exc, "interrupted", debug, EXIT_INTERRUPTED)
    except Exception as exc:
        detail = cli_message(f"{type(exc).__name__}: {exc}")
        return _report(exc, f"unexpected error, a bug in gravity ({detail}); "
                            "run again with --debug for the traceback", debug, EXIT_BUG)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
