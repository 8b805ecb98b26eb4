"""``build_panel``: a squared, documented gravity panel in one call.

Typical use (offline, with local files)::

    from gravity.panel import build_panel
    from gravity.sources import baci, cepii_gravity, wdi, imf_fd

    flows = baci.read_baci("BACI_HS17_Y2018_V202401b.csv")
    panel, prov = build_panel(
        flows,
        gravity=cepii_gravity.read_cepii_gravity("Gravity_V202211.dta", years=[2018]),
        macro=wdi.read_wdi("WDICSV.csv"),
        fd=imf_fd.read_imf_fd("FDI.csv"),
        output="panel.parquet",
    )

Zeros versus missing: a flow absent from the source is a **zero** when the
source covers the country that reports it that year, and **missing** (NaN)
otherwise. The coverage comes from the reader (``attrs["gravity_coverage"]``:
BACI covers a country-year when it appears in the year's data; DOTS and
Comtrade cover their reporters; CEPII Gravity has no true zeros) or from the
``coverage=`` argument. A flow that is *reported* with a missing value (a row
of ``flows`` whose ``trade`` is NaN) stays missing, covered or not: only
*absent* flows become zeros. The provenance counts both
(``counts["trade_reported_missing"]``, ``counts["trade_zero_filled"]``).

Trade flows are required: ``flows=``, or ``trade_column=`` naming a flow
column of ``gravity=`` (e.g. CEPII's ``"tradeflow_baci"``, taken with
:func:`gravity.sources.cepii_gravity.flows_from_cepii`: no true zeros). A
panel without a trade source raises :class:`MissingColumnError` rather than
leaving ``trade`` NaN everywhere.

Every input frame is checked before use: required columns, keys without
missing values and unique, integer years, numeric covariates without
infinite values; each check raises a typed error from :mod:`gravity.errors`
naming the input (``file="flows"``, ``"gravity"``, ...), the column and rows.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from gravity.countries import iso3_codes
from gravity.errors import CoverageError, InputError, MissingColumnError, UnknownCountryError
from gravity.panel.derived import add_bri, add_gdp_remoteness, add_keys, add_lags_leads, add_logs
from gravity.panel.io import write_panel
from gravity.panel.schema import COLUMNS
from gravity.sources.bri import load_bri
from gravity.sources.cepii_gravity import flows_from_cepii
from gravity.sources.validate import (
    check_nonnegative,
    check_not_missing,
    check_unique,
    coverage_of,
    integers,
    numeric,
    requested_years,
    require_columns,
)

__all__ = ["build_panel"]

PAIR_COLUMNS = ["dist", "contig", "comlang_off", "colony", "fta_wto"]


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("gravity")
    except Exception:  # pragma: no cover - not installed
        return "unknown"


def _prov(df: pd.DataFrame | None, role: str) -> dict | None:
    if df is None:
        return None
    p = dict(df.attrs.get("gravity_provenance", {"source": "user DataFrame"}))
    p["role"] = role
    return p


def _checked(df: pd.DataFrame, name: str, keys: Sequence[str], unique: bool = True) -> pd.DataFrame:
    """``df`` with its keys checked (present, not missing, unique) and ``year`` as int64.

    Returns ``df`` itself when nothing needs converting, else a copy.
    """
    require_columns(df, keys, file=name)
    check_not_missing(df, keys, file=name)
    if "year" in keys and not pd.api.types.is_integer_dtype(df["year"].dtype):
        attrs = dict(df.attrs)
        df = df.assign(year=integers(df["year"], file=name, column="year"))
        df.attrs = attrs
    if unique:
        check_unique(df, keys, file=name)
    return df


def _floats(df: pd.DataFrame, column: str, name: str) -> np.ndarray:
    """A covariate as float: text that is not a number and infinite values raise a typed error."""
    return numeric(df[column], file=name, column=column, thousands=False).to_numpy(dtype=float)


def _country_year_map(table: pd.DataFrame, name: str, iso: pd.Series, year: pd.Series,
                      columns: Iterable[str]) -> dict[str, np.ndarray]:
    table = _checked(table, name, ["iso3", "year"])
    idx = pd.MultiIndex.from_arrays([iso.astype(str), year])
    keys = pd.MultiIndex.from_arrays([table["iso3"].astype(str), table["year"]])
    return {c: pd.Series(_floats(table, c, name), index=keys).reindex(idx).to_numpy(dtype=float)
            for c in columns if c in table.columns}


def build_panel(
    flows: pd.DataFrame | None = None,
    *,
    countries: Sequence[str] | None = None,
    years: Iterable[int] | None = None,
    gravity: pd.DataFrame | None = None,
    geodist: pd.DataFrame | None = None,
    macro: pd.DataFrame | None = None,
    fd: pd.DataFrame | None = None,
    tariffs: pd.DataFrame | None = None,
    tariff_column: str | None = None,
    trade_column: str | None = None,
    bri: pd.DataFrame | str | Path | None | bool = True,
    coverage: pd.DataFrame | None = None,
    coverage_side: str | None = None,
    intra_national: bool = False,
    lags: Sequence[int] = (),
    leads: Sequence[int] = (),
    treatments: Sequence[str] = ("bri_ij",),
    logs: bool = True,
    remoteness: bool = True,
    output: str | Path | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Build a squared exporter x importer x year panel with covariates.

    Parameters
    ----------
    flows : DataFrame, optional
        ``exporter, importer, year, trade`` (USD) and optionally ``n_products``,
        as returned by the readers (``read_baci``, ``read_dots``, ``read_comtrade``,
        ``read_china_mirror``, ``cepii_gravity.flows_from_cepii``). A row whose
        ``trade`` is NaN is a flow reported missing: it stays NaN.
    countries : ISO3 codes to keep (default: every country in ``flows``).
    years : years to keep (default: every year in ``flows``). Years absent from
        ``flows`` raise :class:`CoverageError`.
    gravity : CEPII Gravity frame (``read_cepii_gravity``): pair-year covariates
        (dist, contig, comlang_off, colony, fta_wto) and, without ``macro``,
        gdp/pop.
    geodist : CEPII GeoDist frame (``read_geodist``): pair covariates, used where
        ``gravity`` leaves them missing.
    macro : country-year frame ``iso3, year`` with ``gdp``, ``pop`` and/or
        ``credit`` (``read_wdi``; or ``read_pwt`` renamed).
    fd : country-year frame ``iso3, year, fd`` (``read_imf_fd``).
    tariffs : ``read_wits_tariffs`` frame; ``tariff_column`` picks the measure
        (default ``tariff_ahs_simple`` when present). Pairs without a bilateral
        row take the importer's rate towards World (``exporter == "WLD"``).
    trade_column : without ``flows``, the flow column of ``gravity`` to use as
        ``trade`` (e.g. ``"tradeflow_baci"``; CEPII has no true zeros, so flows
        it lacks stay missing). Without ``flows`` and ``trade_column`` the
        panel would have no trade: :class:`MissingColumnError`.
    bri : True for the package's BRI table, a path or DataFrame for the user's,
        None/False for no BRI columns.
    coverage, coverage_side : override the source coverage (frame ``iso3, year``;
        side "both", "exporter", "importer" or "none").
    intra_national : add ``exporter == importer`` rows (trade from ``flows`` if
        there, else NaN).
    lags, leads : periods for lags/leads of ``treatments``.
    logs, remoteness : add ``ln_*`` and ``remoteness_o/_d``.
    output : write the panel to this Parquet path with its provenance.

    Returns
    -------
    (DataFrame, dict)
        The panel (columns of :mod:`gravity.panel.schema`) and its provenance:
        sources (files, versions, hashes), parameters, row counts and rows
        dropped with the reason.

    Raises
    ------
    MissingColumnError, MissingValueError, DuplicateKeyError, NegativeValueError,
    UnknownCountryError, CoverageError, InputError, FileFormatError (a year
    that is not an integer, a covariate that is not a finite number)
    """
    dropped: dict[str, int] = {}
    if flows is not None and trade_column is not None:
        raise InputError("pass flows= or trade_column= (a flow column of gravity=), not both",
                         column=trade_column)
    if flows is None:
        if gravity is None:
            raise CoverageError("build_panel needs flows= or gravity= to know the countries and years")
        if trade_column is None:
            raise MissingColumnError(
                "build_panel needs trade flows: pass flows= (e.g. read_baci(...)) or trade_column= "
                "naming a flow column of gravity= (e.g. 'tradeflow_baci'); without them trade "
                "would be missing everywhere", column="trade", file="gravity",
            )
        flows = flows_from_cepii(gravity, trade_column)
    sources = [p for p in (_prov(flows, "flows"), _prov(gravity, "pair-year covariates"),
                           _prov(geodist, "pair covariates"), _prov(macro, "country-year macro"),
                           _prov(fd, "financial development"), _prov(tariffs, "tariffs")) if p]
    flow_cov = coverage_of(flows)
    flows = _checked(flows, "flows", ["exporter", "importer", "year"])
    require_columns(flows, ["trade"], file="flows")
    flow_trade = _floats(flows, "trade", "flows")
    check_nonnegative(flows.assign(trade=flow_trade), "trade", file="flows")
    if gravity is not None:
        gravity = _checked(gravity, "gravity", ["exporter", "importer", "year"])
    if geodist is not None:
        geodist = _checked(geodist, "geodist", ["exporter", "importer"])
    if tariffs is not None:
        tariffs = _checked(tariffs, "tariffs", ["importer", "exporter", "year"])
    base, name = flows, "flows"

    # countries and years
    if countries is None:
        countries = sorted(set(base["exporter"].astype(str)) | set(base["importer"].astype(str)))
    countries = list(dict.fromkeys(str(c) for c in countries))  # order kept, repeats dropped
    bad = sorted(set(countries) - iso3_codes())
    if bad:
        raise UnknownCountryError(f"countries {bad} are not ISO3 codes", column="countries")
    avail_years = sorted(int(y) for y in base["year"].unique())
    if not avail_years:
        raise CoverageError("the flows have no rows", file=name)
    req = requested_years(years)
    years = avail_years if req is None else sorted(set(req))
    missing_years = sorted(set(years) - set(avail_years))
    if missing_years:
        raise CoverageError(
            f"years {missing_years} are not in the {name} data ({avail_years[0]}-{avail_years[-1]})",
            column="year", file=name,
        )
    C, T = len(countries), len(years)
    cidx = pd.Index(countries)
    yidx = pd.Index(years)

    # square: every exporter x importer x year (linear index (e * C + i) * T + t)
    eg, ig, tg = np.meshgrid(np.arange(C), np.arange(C), np.arange(T), indexing="ij")
    e, i, t = eg.ravel(), ig.ravel(), tg.ravel()
    keep = np.ones(e.size, bool) if intra_national else (e != i)
    e, i, t = e[keep], i[keep], t[keep]
    lin_all = np.full(C * C * T, -1, np.int64)
    lin_all[(e * C + i) * T + t] = np.arange(e.size)
    cat = pd.CategoricalDtype(countries)
    panel = pd.DataFrame({
        "exporter": pd.Categorical.from_codes(e, dtype=cat).astype(str),
        "importer": pd.Categorical.from_codes(i, dtype=cat).astype(str),
        "year": np.asarray(years, dtype=np.int64)[t],
    })
    panel["exporter"] = panel["exporter"].astype("string")
    panel["importer"] = panel["importer"].astype("string")

    def locate(df: pd.DataFrame, exp_col: str = "exporter", imp_col: str = "importer") -> tuple[np.ndarray, np.ndarray]:
        """Row positions in the panel of df's rows (-1 where outside)."""
        ee = cidx.get_indexer(df[exp_col].astype(str))
        ii = cidx.get_indexer(df[imp_col].astype(str))
        tt = yidx.get_indexer(df["year"].astype(np.int64)) if "year" in df else None
        ok = (ee >= 0) & (ii >= 0)
        if tt is not None:
            ok &= tt >= 0
        pos = np.full(len(df), -1, np.int64)
        if tt is None:
            return pos, ok
        pos[ok] = lin_all[(ee[ok] * C + ii[ok]) * T + tt[ok]]
        return pos, pos >= 0

    # trade, zeros vs missing
    n = len(panel)
    pos, ok = locate(flows)
    n_out = int((~ok).sum())
    if n_out:
        dropped["flows outside the chosen countries/years" + ("" if intra_national else " or intra-national")] = n_out
    trade = np.full(n, np.nan)
    trade[pos[ok]] = flow_trade[ok]
    reported = np.zeros(n, bool)  # rows of the flows: reported, with a value or missing
    reported[pos[ok]] = True
    cov = (coverage, coverage_side or "both", None) if coverage is not None else flow_cov
    if cov is None:  # infer: countries present in the flows that year
        cframe = pd.concat([
            flows[["exporter", "year"]].set_axis(["iso3", "year"], axis=1),
            flows[["importer", "year"]].set_axis(["iso3", "year"], axis=1),
        ]).drop_duplicates()
        cov = (cframe, "both", None)
    cframe, side, partners = cov
    if side not in ("both", "exporter", "importer", "none"):
        raise InputError(f"coverage side {side!r} is not one of 'both', 'exporter', 'importer', 'none'",
                         column="coverage_side")
    cframe = _checked(cframe, "coverage", ["iso3", "year"], unique=False) if coverage is not None else cframe
    cset = pd.MultiIndex.from_arrays([cframe["iso3"].astype(str), cframe["year"].astype(np.int64)])
    exp_cov = pd.MultiIndex.from_arrays([panel["exporter"].astype(str), panel["year"]]).isin(cset)
    imp_cov = pd.MultiIndex.from_arrays([panel["importer"].astype(str), panel["year"]]).isin(cset)
    covered = {"both": exp_cov & imp_cov, "exporter": exp_cov, "importer": imp_cov,
               "none": np.zeros(n, bool)}[side]
    covered &= (panel["exporter"] != panel["importer"]).to_numpy()
    if partners is not None:  # e.g. a file of China's exports covers exporter CHN only
        other = panel["exporter"] if side == "importer" else panel["importer"]
        covered &= other.isin(partners).to_numpy()
    # only an absent flow of a covered pair is a zero; a flow reported missing stays NaN
    zero_fill = np.isnan(trade) & covered & ~reported
    trade = np.where(zero_fill, 0.0, trade)
    panel["trade"] = trade
    if "n_products" in flows:
        npd = np.full(n, np.nan)
        npd[pos[ok]] = _floats(flows, "n_products", "flows")[ok]
        npd = np.where(np.isnan(npd) & (trade == 0.0), 0.0, npd)
        panel["n_products"] = pd.array(np.where(np.isnan(npd), np.nan, npd), dtype="Float64").astype("Int64")

    # pair(-year) covariates
    if gravity is not None:
        pos, ok = locate(gravity)
        for c in PAIR_COLUMNS + ([] if macro is not None else ["gdp_o", "gdp_d", "pop_o", "pop_d"]):
            if c in gravity:
                col = np.full(n, np.nan)
                col[pos[ok]] = _floats(gravity, c, "gravity")[ok]
                panel[c] = col
    if geodist is not None:
        require_columns(geodist, ["dist"], file="geodist")
        ee = cidx.get_indexer(geodist["exporter"].astype(str))
        ii = cidx.get_indexer(geodist["importer"].astype(str))
        ok = (ee >= 0) & (ii >= 0)
        pair_pos = np.full(C * C, -1, np.int64)
        pair_pos[ee[ok] * C + ii[ok]] = np.flatnonzero(ok)
        src_rows = pair_pos[e * C + i]
        for c in ("dist", "contig", "comlang_off", "colony"):
            if c in geodist:
                vals = np.where(src_rows >= 0, _floats(geodist, c, "geodist")[np.maximum(src_rows, 0)], np.nan)
                panel[c] = vals if c not in panel else np.where(np.isnan(panel[c]), vals, panel[c])

    # country-year covariates for origin and destination
    for table, tname, cols in ((macro, "macro", ("gdp", "pop", "credit")), (fd, "fd", ("fd",))):
        if table is None:
            continue
        for side, key in (("o", "exporter"), ("d", "importer")):
            for c, v in _country_year_map(table, tname, panel[key], panel["year"], cols).items():
                panel[f"{c}_{side}"] = v

    # tariffs (importer sets, exporter faces)
    if tariffs is not None:
        tcol = tariff_column or ("tariff_ahs_simple" if "tariff_ahs_simple" in tariffs else
                                 next((c for c in tariffs.columns if str(c).startswith("tariff_")), "tariff_*"))
        require_columns(tariffs, [tcol], file="tariffs")
        bil = tariffs.loc[tariffs["exporter"] != "WLD"]
        pos, ok = locate(bil)
        tar = np.full(n, np.nan)
        tar[pos[ok]] = _floats(bil, tcol, "tariffs")[ok]
        wld = tariffs.loc[tariffs["exporter"] == "WLD"]
        if len(wld):
            m = _country_year_map(wld.rename(columns={"importer": "iso3"}), "tariffs",
                                  panel["importer"], panel["year"], [tcol])[tcol]
            tar = np.where(np.isnan(tar), m, tar)
        panel["tariff"] = tar

    # BRI
    if bri is not None and bri is not False:
        table = load_bri(None if bri is True else bri)
        sources.append(dict(table.attrs.get("gravity_provenance", {}), role="BRI participation"))
        panel = add_bri(panel, table, lags, leads)

    # derived columns
    panel = add_keys(panel)
    if logs:
        panel = add_logs(panel)
    if remoteness:
        panel = add_gdp_remoteness(panel)
    other_treat = [c for c in treatments if c in panel and not c.startswith("bri_")]
    panel = add_lags_leads(panel, other_treat, lags, leads)

    order = [c for c in COLUMNS if c in panel] + [c for c in panel.columns if c not in COLUMNS]
    panel = panel[order]
    tr = panel["trade"].to_numpy(float)
    prov = {
        "gravity_version": _version(),
        "created_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "sources": sources,
        "parameters": {
            "countries": countries, "years": years, "intra_national": intra_national,
            "lags": list(lags), "leads": list(leads), "treatments": list(treatments),
            "coverage_side": (coverage_side if coverage is not None else
                              (flow_cov[1] if flow_cov is not None else "inferred")),
            "trade_column": trade_column,
        },
        "counts": {
            "rows": int(n), "countries": C, "years": T,
            "trade_positive": int((tr > 0).sum()), "trade_zero": int((tr == 0).sum()),
            "trade_missing": int(np.isnan(tr).sum()),
            # flows reported with a missing value (kept NaN, never zero-filled)
            "trade_reported_missing": int(np.isnan(tr[reported]).sum()),
            # absent flows of covered pairs set to zero (true zeros)
            "trade_zero_filled": int(zero_fill.sum()),
            "missing_by_column": {c: int(panel[c].isna().sum()) for c in panel.columns
                                  if c not in ("exporter", "importer", "year") and panel[c].isna().any()},
        },
        "dropped": dropped,
        "units": {"trade": "usd", "gdp": "usd", "pop": "persons", "dist": "km", "tariff": "percent",
                  "credit": "% of GDP", "fd": "index [0, 1]"},
    }
    if output is not None:
        write_panel(panel, output, prov)
        prov["output"] = str(output)
    return panel, prov
