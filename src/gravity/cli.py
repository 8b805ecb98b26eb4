"""Command-line interface: ``gravity demo``, ``gravity fit``, ``gravity panel``.

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
from typing import TYPE_CHECKING, TextIO

from gravity.errors import GravityError, GravityWarning, InputError

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

def _cmd_fit(args: argparse.Namespace) -> int:
    import json

    from gravity.estimation import ols, ppml

    data = read_table(args.data)
    est = ppml if args.estimator == "ppml" else ols
    fit = est(args.formula, data, vcov=args.vcov, ssc=args.ssc, missing=args.missing)
    if args.json:
        print(json.dumps({"params": fit.params.to_dict(), "bse": fit.bse.to_dict(),
                          "nobs": fit.nobs, "dropped": fit.dropped}, indent=1))
    else:
        print(fit.summary())
    return EXIT_OK


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
    dropped = prov.get("dropped")
    if isinstance(dropped, dict):
        for k, v in dropped.items():
            print(f"  dropped {k}: {v}")
    return EXIT_OK


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

def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: after the subcommand, --debug must not reset one given before it
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="print the traceback of an error")
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Gravity-model econometrics of international trade: panels, PPML/OLS "
                    "with high-dimensional fixed effects, the extensive margin.")
    parser.add_argument("--debug", action="store_true", help="print the traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", parents=[common],
                       help="end-to-end run on embedded/simulated data")
    p.add_argument("--out", default="out", help="folder for the report (default: out)")
    p.add_argument("--yotov", default=None, help="path to agtpa_applications.csv.gz")
    p.add_argument("--no-yotov", action="store_true", help="skip the Yotov et al. (2016) part")
    p.add_argument("--seed", type=int, default=2024, help="seed of the simulated world")
    p.add_argument("--small", action="store_true",
                   help="a small world (30 largest economies, 2010-2020) for a quick run")
    p.add_argument("--no-figures", action="store_true", help="do not draw the PNG figures")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("fit", parents=[common],
                       help="fit PPML or OLS on a CSV/Parquet/Stata file")
    p.add_argument("estimator", choices=["ppml", "ols"])
    p.add_argument("formula", help="e.g. 'trade ~ ln_dist + contig | exp_year + imp_year'")
    p.add_argument("data", help="data file: " + ", ".join(SUPPORTED_TABLE_TYPES))
    p.add_argument("--vcov", default=None, type=_vcov_arg,
                   help="iid, hetero, or CRV1:cluster_var[+other]")
    p.add_argument("--ssc", default=None, type=_ssc_arg, help="fixest (default) or glm")
    p.add_argument("--missing", default="raise", choices=["raise", "drop"],
                   help="rows with missing values: raise an error (default) or drop them")
    p.add_argument("--json", action="store_true", help="print JSON instead of a summary")
    p.set_defaults(func=_cmd_fit)

    p = sub.add_parser("panel", parents=[common],
                       help="build a gravity panel from local source files")
    p.add_argument("--baci", help="BACI CSV file, glob or folder")
    p.add_argument("--geodist", help="CEPII GeoDist dist file")
    p.add_argument("--wdi", help="WDI CSV")
    p.add_argument("--fd", help="IMF Financial Development index CSV")
    p.add_argument("--countries", nargs="*", default=None)
    p.add_argument("--years", nargs="*", type=int, default=None)
    p.add_argument("--output", default="panel.parquet")
    p.set_defaults(func=_cmd_panel)
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
