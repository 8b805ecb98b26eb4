"""``gravity ge``: a general-equilibrium counterfactual from a panel file.

The command fits the PPML of ``--formula`` on the file (all its rows), builds the
structural-gravity baseline of one cross-section (``--year``, or the whole file when it
is one), applies the change and solves it with :func:`gravity.ge.counterfactual`;
``--draws`` adds the intervals of :func:`gravity.ge.ge_intervals`. The result is the
tidy country-level frame of :meth:`gravity.ge.GEResult.tidy` (or, with
``--bilateral``, :meth:`~gravity.ge.GEResult.bilateral`), in CSV, JSON or Parquet.

The change
----------
``--set COL=VALUE`` (repeatable) gives the cost regressor ``COL`` the value ``VALUE``
on the selected pairs: every pair by default; with ``--between A B C`` the
international pairs whose exporter and importer are both in the list; with
``--where EXPR`` the rows where the pandas expression ``EXPR`` (``DataFrame.eval``
over the file's columns) is true; with both, the rows that satisfy both. Only the
regressors move (``ln T' = ln T + (x' - x)' b``); a change that leaves every cost as
it is warns.

Fixed effects
-------------
Exporter-side and importer-side effects (exporter, exporter x year, ...) are
absorbed in the multilateral resistances. A bilateral effect (a pair fixed effect)
is part of the costs: name it with ``--pair-fe`` (with ``--domestic``, the level of
intra-national pairs, and ``--fill``, the covariates of the stage-2 PPML that fills
the pairs without one; :func:`gravity.ge.pair_cost_index`); a bilateral effect left
unnamed is an error, not a baseline without it.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gravity.errors import GravityWarning, InputError, MissingColumnError

if TYPE_CHECKING:
    import pandas as pd

    from gravity.ge import GEResult

__all__ = ["add_ge_parser", "run_ge", "parse_assignment", "selection_change"]

OUTPUT_TYPES = (".csv", ".json", ".parquet")


def parse_assignment(text: str) -> tuple[str, float]:
    """``COL=VALUE`` -> ``(COL, float(VALUE))`` (an argparse type)."""
    col, sep, value = text.partition("=")
    try:
        v = float(value)
    except ValueError:
        v = math.nan
    if not sep or not col.strip() or not math.isfinite(v):
        raise argparse.ArgumentTypeError(
            f"--set takes COLUMN=NUMBER (e.g. rta=0), got '{text}'")
    return col.strip(), v


def selection_change(assignments: list[tuple[str, float]], *, where: str | None = None,
                     between: list[str] | None = None
                     ) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """The change of ``--set``/``--where``/``--between`` as a function of the baseline
    frame (see :meth:`gravity.ge.Baseline.counterfactual_costs`)."""
    import numpy as np

    def change(frame: pd.DataFrame) -> pd.DataFrame:
        mask = np.ones(len(frame), dtype=bool)
        if where:
            mask &= _where_mask(frame, where)
        if between:
            ex, im = frame["exporter"], frame["importer"]
            mask &= (ex.isin(between) & im.isin(between) & (ex != im)).to_numpy()
        out = frame.copy()
        for col, value in assignments:
            if col not in out.columns:
                raise MissingColumnError("--set names a column not in the data", column=col)
            out[col] = np.where(mask, value, out[col].to_numpy(dtype=float))
        return out

    return change


def _where_mask(frame: pd.DataFrame, where: str) -> Any:
    import numpy as np

    try:
        m = frame.eval(where)
    except Exception as exc:  # noqa: BLE001 - any parse/eval failure is the user's input
        raise InputError(f"cannot evaluate --where '{where}': {type(exc).__name__}: {exc}",
                         column="--where") from None
    m = np.asarray(m)
    if m.shape != (len(frame),) or m.dtype != bool:
        raise InputError(f"--where '{where}' must give one true/false value per row",
                         column="--where")
    return m


def _cross_section(data: pd.DataFrame, args: argparse.Namespace) -> pd.DataFrame:
    col = args.year_column
    if args.year is not None:
        if col not in data.columns:
            raise MissingColumnError("--year needs the year column (--year-column)",
                                     column=col)
        d = data[data[col] == args.year].reset_index(drop=True)
        if d.empty:
            raise InputError(f"no rows with {col} == {args.year} (--year)", column=col)
        return d
    if col in data.columns and data[col].nunique() > 1:
        raise InputError(f"the file holds {data[col].nunique()} values of '{col}': give "
                         "--year for the year of the GE baseline", column=col)
    return data


def _check_fixed_effects(fit: Any, d: pd.DataFrame, exporter: str, importer: str,
                         pair_fe: str | None) -> None:
    """Every fixed effect must be exporter-side, importer-side or the named pair effect."""
    for cols in fit.record.formula.fixed_effects:
        name = "^".join(cols)
        if name == pair_fe:
            continue
        # the combination is constant within a group when each of its columns is
        if any((d[list(cols)].groupby(d[side].to_numpy()).nunique(dropna=False) <= 1)
               .to_numpy().all() for side in (exporter, importer)):
            continue
        raise InputError(f"fixed effect '{name}' varies within exporters and within "
                         "importers: it is a bilateral cost; name it with --pair-fe (with "
                         "--domestic and --fill)", column=name)


def _domestic_level(fit: Any, pair_fe: str, value: str) -> object:
    index = fit.fixed_effects()[pair_fe].index
    if value in index:
        return value
    for cast in (int, float):
        try:
            v = cast(value)
        except ValueError:
            continue
        if v in index:
            return v
    return value


def build_result(args: argparse.Namespace, data: pd.DataFrame) -> GEResult:
    """Fit, baseline, counterfactual (and intervals) as the options say."""
    import gravity.estimation as estimation
    from gravity import ge

    fit = estimation.ppml(args.formula, data, vcov=args.vcov, missing=args.missing,
                          tol=args.fit_tol)
    d = _cross_section(data, args)
    ex, im = args.exporter_column, args.importer_column
    for c in (ex, im):
        if c not in d.columns:
            raise MissingColumnError("the data lacks a country column", column=c)
    _check_fixed_effects(fit, d, ex, im, args.pair_fe)
    kw: dict[str, Any] = {"reference": args.reference, "sigma": args.sigma,
                          "exporter": ex, "importer": im}
    if args.pair_fe:
        if args.year is None or args.domestic is None or args.fill is None:
            raise InputError("--pair-fe needs --year, --domestic and --fill")
        costs = ge.pair_cost_index(fit, data, pair=args.pair_fe,
                                   domestic=_domestic_level(fit, args.pair_fe, args.domestic),
                                   year=args.year, fill=args.fill,
                                   year_column=args.year_column, exporter=ex, importer=im)
        base = ge.Baseline.from_fit(fit, costs.data, fixed_ln_t="pair_ln_t", **kw)
    else:
        base = ge.Baseline.from_fit(fit, d, **kw)
    change = selection_change(args.set, where=args.where, between=args.between)
    import numpy as np

    if np.allclose(base.counterfactual_costs(change), base.T, rtol=1e-12, atol=0.0):
        warnings.warn("the change leaves every trade cost as it is (is each --set column a "
                      "regressor of --formula, and do --where/--between select its pairs?)",
                      GravityWarning, stacklevel=2)
    res = ge.counterfactual(base, change, kind=args.kind, solver=args.solver,
                            imbalances=args.imbalances)
    if args.draws:
        res = ge.ge_intervals(res, base, change, fit.vcov, draws=args.draws,
                              level=args.level, seed=args.seed, direction=args.direction)
    return res


def result_frame(res: GEResult, args: argparse.Namespace) -> pd.DataFrame:
    """The frame ``gravity ge`` writes: ``tidy`` or, with ``--bilateral``, ``bilateral``."""
    if args.bilateral:
        return res.bilateral(args.kind, args.direction)
    return res.tidy(args.direction)


def _records_json(frame: pd.DataFrame) -> str:
    rows = frame.to_dict(orient="records")
    clean = [{k: (None if isinstance(v, float) and not math.isfinite(v) else v)
              for k, v in r.items()} for r in rows]
    return json.dumps(clean, indent=1, allow_nan=False)


def run_ge(args: argparse.Namespace, data: pd.DataFrame) -> int:
    """Run ``gravity ge`` on the data read from the file; returns the exit status."""
    if args.draws and args.solver != "exact":
        raise InputError("--draws solves every draw exactly: use it with --solver exact")
    if args.draws < 0:
        raise InputError("--draws must be 0 (no intervals) or more", column="--draws")
    if args.out is not None and not args.out.lower().endswith(OUTPUT_TYPES):
        raise InputError(f"--out must end with one of {', '.join(OUTPUT_TYPES)}",
                         file=args.out)
    res = build_result(args, data)
    frame = result_frame(res, args)
    eq = res.scenario(res.kinds[-1])
    note = f"ge: {len(res.countries)} countries, {res.kinds[-1]} GE, solver {res.solver}"
    if math.isfinite(eq.residual):
        note += f" ({eq.iterations} iterations, residual {eq.residual:.1e})"
    if "max_gap_vs_exact_pp" in res.info:
        note += f", largest gap to the exact solution {res.info['max_gap_vs_exact_pp']:.3g} pp"
    if args.out is None:
        if args.json:
            print(_records_json(frame))
        else:
            print(frame.to_csv(index=False), end="")
        print(note, file=sys.stderr)
        return 0
    out = Path(args.out)
    if out.name.lower().endswith(".parquet"):
        frame.to_parquet(out, index=False)
    elif out.name.lower().endswith(".json"):
        out.write_text(_records_json(frame) + "\n", encoding="utf-8")
    else:
        frame.to_csv(out, index=False)
    print(f"{note} -> {out}")
    return 0


def add_ge_parser(sub: Any, common: argparse.ArgumentParser, formatter: type,
                  examples: Callable[..., str], vcov_type: Callable[[str], Any],
                  data_help: str) -> argparse.ArgumentParser:
    """Add the ``ge`` subcommand to ``sub`` (the command line's subparsers)."""
    p = sub.add_parser(
        "ge", parents=[common], formatter_class=formatter,
        help="a general-equilibrium counterfactual (conditional or full) from a PPML fit",
        description="Fit the PPML of --formula on the file, build the structural-gravity "
                    "baseline of one year (every exporter-importer pair once, domestic "
                    "pairs included), change cost regressors with --set on the pairs "
                    "--between/--where select, and solve the conditional or full-endowment "
                    "equilibrium (gravity.ge.counterfactual). Writes the tidy percent "
                    "changes by country (country, scenario, variable, pct_change; lower, "
                    "upper, median with --draws), or with --bilateral the bilateral flows.",
        epilog=examples(
            "gravity ge d2006.csv --formula 'trade ~ ln_dist + contig + border | exporter "
            "+ importer' --set border=0 --reference DEU --sigma 7",
            "gravity ge panel.parquet --year 1994 --formula 'trade ~ rta | exp_year + "
            "imp_year + pair' --pair-fe pair --domestic domestic --fill 'ln_dist + contig' "
            "--set rta=0 --between CAN MEX USA --reference DEU --sigma 7 --direction baseline "
            "--vcov CRV1:pair --draws 200 --out nafta.csv",
            "gravity ge d.csv --formula 'trade ~ ln_dist + fta | exporter + importer' "
            "--set fta=1 --where \"exporter in ['C04', 'C05'] or importer in ['C04', 'C05']\" "
            "--reference C00 --sigma 5 --kind conditional --json"))
    p.add_argument("data", help=data_help)
    p.add_argument("--formula", required=True,
                   help="the PPML, e.g. 'trade ~ ln_dist + rta | exp_year + imp_year'")
    p.add_argument("--set", required=True, action="append", type=parse_assignment,
                   metavar="COL=VALUE",
                   help="new value of a cost regressor on the selected pairs (repeatable)")
    p.add_argument("--between", nargs="+", default=None, metavar="COUNTRY",
                   help="select the international pairs among these countries")
    p.add_argument("--where", default=None,
                   help="select the rows where this pandas expression is true")
    p.add_argument("--reference", required=True,
                   help="reference country (its inward resistance is 1)")
    p.add_argument("--sigma", required=True, type=float,
                   help="elasticity of substitution (above 1)")
    p.add_argument("--kind", default="full", choices=["conditional", "full"],
                   help="conditional GE (output, expenditure fixed) or full endowment "
                        "(default)")
    p.add_argument("--solver", default="exact", choices=["exact", "geppml"],
                   help="exact equilibrium (default) or the book's GEPPML loop")
    p.add_argument("--imbalances", default="scaled", choices=["scaled", "additive"],
                   help="exact solver: expenditure/output ratios held (default) or "
                        "deficits as shares of world output")
    p.add_argument("--direction", default="counterfactual",
                   choices=["counterfactual", "baseline"],
                   help="100 (new/baseline - 1) (default) or 100 (baseline/new - 1)")
    p.add_argument("--year", default=None, type=int, help="year of the GE baseline")
    p.add_argument("--year-column", default="year", help="(default year)")
    p.add_argument("--exporter-column", default="exporter", help="(default exporter)")
    p.add_argument("--importer-column", default="importer", help="(default importer)")
    p.add_argument("--pair-fe", default=None,
                   help="the pair fixed effect of --formula, part of the costs")
    p.add_argument("--domestic", default=None,
                   help="with --pair-fe: its level for intra-national pairs")
    p.add_argument("--fill", default=None,
                   help="with --pair-fe: covariates of the stage-2 PPML, e.g. 'ln_dist + "
                        "contig'")
    p.add_argument("--vcov", default=None, type=vcov_type,
                   help="variance of the fit (for --draws): iid, hetero, CRV1:var")
    p.add_argument("--missing", default="raise", choices=["raise", "drop"],
                   help="rows with missing values in the fit: raise (default) or drop")
    p.add_argument("--fit-tol", default=1e-10, type=float,
                   help="convergence tolerance of the PPML (default 1e-10)")
    p.add_argument("--draws", default=0, type=int,
                   help="intervals from N draws of the cost coefficients (default 0: none)")
    p.add_argument("--level", default=0.95, type=float, help="interval level (default 0.95)")
    p.add_argument("--seed", default=0, type=int, help="seed of the draws (default 0)")
    p.add_argument("--bilateral", action="store_true",
                   help="write the bilateral flows instead of the country frame")
    p.add_argument("--out", default=None,
                   help="CSV, JSON or Parquet file (default: CSV on stdout)")
    p.add_argument("--json", action="store_true", help="on stdout, JSON records, not CSV")
    return p
