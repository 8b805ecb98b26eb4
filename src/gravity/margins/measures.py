r"""Export diversification and extensive-margin measures on a gravity panel.

All functions take a long panel with one row per exporter x importer x year (the
schema of :mod:`gravity.panel.schema`: ``trade`` is ``0`` for a true zero and
``NaN`` for "not covered"). Everything is vectorised with pandas group-bys.

Per exporter-year (:func:`diversification`), over the *active* destinations
``A = {j : x_j > threshold}`` with ``n = |A|`` and shares ``s_j = x_j / sum_{k in A} x_k``:

* ``n_destinations`` -- ``n`` (dispersion, the extensive margin; Cadot, Carrere and
  Strauss-Kahn 2011, "Export diversification: what's behind the hump?");
* ``n_potential`` -- number of covered destinations (``trade`` not NaN);
* ``top{k}_share`` -- sum of the ``k`` largest shares (1 when ``n <= k``; ties do not
  matter because tied values contribute equally);
* ``hhi`` -- Herfindahl-Hirschman index ``sum_j s_j^2``;
* ``hhi_norm`` -- ``(hhi - 1/n) / (1 - 1/n)`` for ``n >= 2``; by convention 1 for ``n = 1``
  (a single destination is maximal concentration);
* ``theil`` -- Theil index over active destinations ``T_w = sum_j s_j ln(n s_j)``
  (= ``ln n - H`` with ``H`` the Shannon entropy of the shares): the *intensive*
  (within) component;
* ``theil_between`` -- ``ln(N/n)`` with ``N = n_potential``: the *extensive*
  (between) component, and ``theil_total = theil + theil_between``, the Theil
  index over all potential destinations with zeros included (Cadot et al. 2011,
  eq. 3: ``T = T^W + T^B``);
* ``share_<name>`` -- share of the flow going to a destination group (BRI partners,
  emerging markets, any set of ISO3 codes or a 0/1 column such as ``bri_d``);
* ``products_max``, ``products_mean`` -- where the panel has ``n_products``: the
  largest and the mean number of HS6 lines over active destinations (the union of
  product lines across destinations is not identified from a pair-level count).

Exporter-years with no active destination (all flows zero) have
``n_destinations = 0``, ``total = 0`` and concentration measures ``NaN`` (shares are
undefined); exporter-years with no covered row at all are reported with
``n_potential = 0`` and every measure ``NaN``.

Pair dynamics (:func:`pair_dynamics`), with ``a_t = 1{x_t > threshold}`` and the
previous calendar year ``t-1`` of the same directed pair (``NaN`` when that row is
absent or not covered): ``active = a_t``; ``new_entry = (1 - a_{t-1}) a_t``;
``exit = a_{t-1} (1 - a_t)``; ``survival = a_t`` defined only where ``a_{t-1} = 1``
(NaN otherwise); ``entry_hazard = a_t`` defined only where ``a_{t-1} = 0``.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DuplicateKeyError, InputError, MissingColumnError, NegativeValueError

__all__ = ["diversification", "pair_dynamics", "emerging_markets", "emerging_regions",
           "bri_partners", "SEED_REGIONS"]

#: The seed paper's "five emerging markets or regions", in its order.
SEED_REGIONS = ("ASEAN", "India", "Russia", "Africa", "Latin America")




def emerging_markets(source: str = "msci", path: str | Path | None = None) -> frozenset[str]:
    """ISO3 codes of emerging markets.

    ``source="msci"`` (default): the 24 markets of the MSCI Emerging Markets index
    (June 2024 review), shipped as ``gravity/data/emerging_markets.csv`` (see the
    ``.md`` next to it). ``source="wdi"``: countries the World Bank classifies as
    low, lower-middle or upper-middle income (``income`` column of the WDI country
    metadata file at ``path``).
    """
    if source == "msci":
        res = resources.files("gravity.data").joinpath("emerging_markets.csv")
        with resources.as_file(res) as p:
            return frozenset(pd.read_csv(p)["iso3"])
    if source == "wdi":
        if path is None:
            raise InputError("source='wdi' needs path= to the WDI country metadata CSV "
                             "(wdi_country_metadata.csv: iso3c and income columns)")
        meta = pd.read_csv(path)
        if "income" not in meta.columns:
            raise MissingColumnError("WDI metadata lacks the income column", column="income",
                                     file=str(path))
        inc = meta["income"].astype(str).str.lower()
        keep = inc.str.contains("middle income") | inc.str.startswith("low income")
        return frozenset(meta.loc[keep, "iso3c"])
    raise ValueError("source must be 'msci' or 'wdi'")


def emerging_regions() -> dict[str, frozenset[str]]:
    """The seed paper's "five emerging markets or regions" as destination groups.

    Returns ``{"asean": ..., "india": ..., "russia": ..., "africa": ...,
    "latin_america": ..., "five_emerging": union of the five}`` (ISO3 codes), ready
    for ``diversification(panel, groups=emerging_regions())``, which then adds
    ``share_five_emerging`` (the paper reports 26.6% of China's exports in 2018)
    and the share of each region. ASEAN: the ten members of 2018; Africa and Latin
    America: the UN M49 regions (Latin America and the Caribbean); the list and
    its source are in ``gravity/data/emerging_regions.md``.
    """
    res = resources.files("gravity.data").joinpath("emerging_regions.csv")
    with resources.as_file(res) as p:
        t = pd.read_csv(p, keep_default_na=False)
    out = {r.lower().replace(" ", "_"): frozenset(t.loc[t["region"] == r, "iso3"])
           for r in SEED_REGIONS}
    out["five_emerging"] = frozenset(t["iso3"])
    return out


def bri_partners(year: int | None = None) -> frozenset[str]:
    """ISO3 codes of BRI participants in force in ``year`` (all ever-signed if None),
    from the shipped table ``gravity/data/bri_participants.csv``."""
    res = resources.files("gravity.data").joinpath("bri_participants.csv")
    with resources.as_file(res) as p:
        t = pd.read_csv(p)
    if year is None:
        return frozenset(t["iso3"])
    wd = t["withdrawal_year"].fillna(np.inf)
    return frozenset(t.loc[(t["year"] <= year) & (wd > year), "iso3"])


def _check(panel: pd.DataFrame, value: str, keys: list[str]) -> None:
    if not isinstance(panel, pd.DataFrame):
        raise TypeError("panel must be a pandas DataFrame")
    for c in [*keys, value]:
        if c not in panel.columns:
            raise MissingColumnError("panel lacks a column needed for the measures", column=c)
    for c in keys:
        na = panel[c].isna().to_numpy()
        if na.any():
            raise InputError("missing key values", column=c, rows=panel.index[na])
    x = panel[value]
    if not pd.api.types.is_numeric_dtype(x):
        raise InputError(f"flow column is not numeric (dtype {x.dtype})", column=value)
    neg = (x < 0).to_numpy(dtype=bool, na_value=False)
    if neg.any():
        raise NegativeValueError("negative flows", column=value, rows=panel.index[neg])
    dup = panel.duplicated(keys, keep=False).to_numpy()
    if dup.any():
        raise DuplicateKeyError(f"rows share the key {keys}", column=keys[-1],
                                rows=panel.index[dup])


def _group_flag(panel: pd.DataFrame, group, importer: str) -> np.ndarray:
    """Boolean destination-group indicator per row."""
    if isinstance(group, str):
        if group not in panel.columns:
            raise MissingColumnError("group column not in the panel", column=group)
        g = panel[group]
        na = g.isna().to_numpy()
        if na.any():
            raise InputError("missing values in group column", column=group,
                             rows=panel.index[na])
        return g.to_numpy().astype(bool)
    codes = set(group)
    return panel[importer].isin(codes).to_numpy()


def diversification(
    panel: pd.DataFrame,
    value: str = "trade",
    threshold: float = 0.0,
    k: int | Iterable[int] = 5,
    groups: dict[str, str | Iterable[str]] | None = None,
    exporter: str = "exporter",
    importer: str = "importer",
    year: str = "year",
    products: str | None = "n_products",
) -> pd.DataFrame:
    """Per exporter-year diversification measures (see the module docstring).

    Parameters
    ----------
    panel : long panel, one row per exporter x importer x year
    value : flow column (non-negative; NaN = not covered)
    threshold : a destination is active when ``value > threshold``
    k : top-k share(s) to compute (int or several)
    groups : ``{name: group}`` where ``group`` is a 0/1 column of the panel (e.g.
        ``"bri_d"``: BRI partner in t) or a collection of ISO3 importer codes
        (e.g. :func:`emerging_markets`); adds ``share_<name>`` and ``n_<name>``
    products : column with the number of products per pair (ignored when absent)

    Returns
    -------
    DataFrame indexed by (exporter, year) with the columns described above.
    """
    keys = [exporter, importer, year]
    _check(panel, value, keys)
    ks = [k] if isinstance(k, int | np.integer) else list(k)
    x = panel[value].to_numpy(dtype=np.float64, na_value=np.nan)
    covered = np.isfinite(x)
    active = covered & (x > threshold)
    xa = np.where(active, x, 0.0)
    df = pd.DataFrame({exporter: panel[exporter].to_numpy(), year: panel[year].to_numpy(),
                       "_x": xa, "_a": active.astype(np.int64),
                       "_c": covered.astype(np.int64)})
    gb_keys = [exporter, year]
    total = df.groupby(gb_keys, sort=True)["_x"].transform("sum").to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.where(active, xa / total, 0.0)
        ent = np.where(s > 0, s * np.log(np.where(s > 0, s, 1.0)), 0.0)
    df["_s2"] = s * s
    df["_ent"] = ent
    df["_s"] = s
    g = df.groupby(gb_keys, sort=True)
    out = pd.DataFrame({
        "n_destinations": g["_a"].sum(),
        "n_potential": g["_c"].sum(),
        "total": g["_x"].sum(),
    })
    none_covered = out["n_potential"] == 0
    n = out["n_destinations"].to_numpy(dtype=np.float64)
    has = n > 0
    hhi = np.where(has, g["_s2"].sum().to_numpy(), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        hhi_norm = np.where(n >= 2, (hhi - 1.0 / n) / (1.0 - 1.0 / n), np.where(n == 1, 1.0, np.nan))
        # theil within = sum s ln(n s) = ln n + sum s ln s
        theil = np.where(has, np.log(np.where(has, n, 1.0)) + g["_ent"].sum().to_numpy(), np.nan)
        npot = out["n_potential"].to_numpy(dtype=np.float64)
        between = np.where(has, np.log(npot / np.where(has, n, 1.0)), np.nan)
    out["hhi"] = hhi
    out["hhi_norm"] = hhi_norm
    out["theil"] = theil
    out["theil_between"] = between
    out["theil_total"] = theil + between
    # top-k shares: rank shares within exporter-year (descending; ties broken by order,
    # which does not change the sum)
    rank = df.groupby(gb_keys, sort=False)["_s"].rank(method="first", ascending=False)
    for kk in ks:
        df["_top"] = np.where(rank.to_numpy() <= kk, s, 0.0)
        out[f"top{kk}_share"] = np.where(has, df.groupby(gb_keys, sort=True)["_top"].sum(), np.nan)
    for name, grp in (groups or {}).items():
        flag = _group_flag(panel, grp, importer)
        df["_gx"] = np.where(flag, s, 0.0)
        df["_gn"] = (flag & active).astype(np.int64)
        gg = df.groupby(gb_keys, sort=True)
        out[f"share_{name}"] = np.where(has, gg["_gx"].sum(), np.nan)
        out[f"n_{name}"] = gg["_gn"].sum()
    if products is not None and products in panel.columns:
        p = pd.to_numeric(panel[products], errors="coerce").to_numpy(dtype=np.float64,
                                                                      na_value=np.nan)
        df["_p"] = np.where(active, p, np.nan)
        gg = df.groupby(gb_keys, sort=True)["_p"]
        out["products_max"] = gg.max()
        out["products_mean"] = gg.mean()
    for c in out.columns:
        if c not in ("n_potential",):
            out[c] = out[c].astype(np.float64)
            out.loc[none_covered, c] = np.nan
    return out


def pair_dynamics(
    panel: pd.DataFrame,
    value: str = "trade",
    threshold: float = 0.0,
    exporter: str = "exporter",
    importer: str = "importer",
    year: str = "year",
) -> pd.DataFrame:
    """Pair-level entry, new entry, exit and survival (see the module docstring).

    Returns a copy of ``panel`` (same index and row order) with float columns
    ``active``, ``active_lag``, ``new_entry``, ``exit``, ``survival``, ``entry_hazard``
    (0/1, NaN where undefined).
    """
    keys = [exporter, importer, year]
    _check(panel, value, keys)
    x = panel[value].to_numpy(dtype=np.float64, na_value=np.nan)
    act = np.where(np.isfinite(x), (x > threshold).astype(np.float64), np.nan)
    yr = panel[year]
    if not pd.api.types.is_integer_dtype(yr):
        raise InputError(f"year must be an integer column (dtype {yr.dtype})", column=year)
    cur = pd.MultiIndex.from_arrays([panel[exporter], panel[importer], yr.astype(np.int64)])
    prev = pd.MultiIndex.from_arrays([panel[exporter], panel[importer],
                                      yr.astype(np.int64) - 1])
    pos = cur.get_indexer(prev)
    lag = np.where(pos >= 0, act[np.maximum(pos, 0)], np.nan)
    out = panel.copy()
    out["active"] = act
    out["active_lag"] = lag
    out["new_entry"] = (1.0 - lag) * act
    out["exit"] = lag * (1.0 - act)
    out["survival"] = np.where(lag == 1.0, act, np.nan)
    out["entry_hazard"] = np.where(lag == 0.0, act, np.nan)
    return out
