"""``simulate_world``: a structural-gravity world with firm selection into markets.

See :mod:`gravity.simulate.params` for the model's equations. The world uses
real countries (ISO3), great-circle distances between their capitals (shipped
in ``gravity/data/capitals.csv``, World Bank coordinates), GDP paths anchored
on each country's 2015 GDP, a simulated financial-development index, simulated
MFN and preferential tariffs, and the actual BRI participation dates of the
package's BRI table. The flows and covariates go through
:func:`gravity.panel.build_panel`, so the panel has exactly the builder's
schema and everything downstream runs unchanged on simulated or real data.

Everything is vectorised over exporter x importer x year and deterministic
given ``seed`` (one :class:`numpy.random.Generator`, draws in a fixed order).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources

import numpy as np
import pandas as pd

from gravity.errors import UnknownCountryError
from gravity.simulate.params import SimParams

__all__ = [
    "EARTH_RADIUS_KM",
    "SimulationTruth",
    "capital_distances",
    "great_circle_km",
    "load_capitals",
    "simulate_world",
]

#: Mean Earth radius (IUGG), km.
EARTH_RADIUS_KM = 6371.0088
DEFAULT_YEARS = tuple(range(2008, 2023))
#: Share of world GDP that the expected total of the simulated flows represents
#: in the first year (sets the USD scale of ``trade``).
EXPORT_SHARE = 0.25


def load_capitals() -> pd.DataFrame:
    """The shipped table of countries: ``iso3, country, capital, lat, lon, region,
    gdp_2015_usd, source`` (see ``gravity/data/capitals.md``)."""
    res = resources.files("gravity.data").joinpath("capitals.csv")
    with res.open("rb") as fh:
        df = pd.read_csv(fh, keep_default_na=False, na_values=[""])
    df["capital"] = df["capital"].fillna("")
    return df


def great_circle_km(lat1, lon1, lat2, lon2, radius: float = EARTH_RADIUS_KM) -> np.ndarray:
    """Haversine great-circle distance in km between points given in degrees."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(np.asarray(lon2, float) - np.asarray(lon1, float))
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * radius * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


def _select(countries: Sequence[str] | None) -> pd.DataFrame:
    cap = load_capitals().set_index("iso3")
    if countries is None:
        return cap.reset_index()
    countries = [str(c) for c in countries]
    bad = sorted(set(countries) - set(cap.index))
    if bad:
        raise UnknownCountryError(
            f"countries {bad} are not in gravity/data/capitals.csv "
            f"(available: {len(cap)} countries)", column="countries")
    if len(set(countries)) != len(countries):
        raise ValueError("duplicate countries")
    return cap.loc[countries].reset_index()


def capital_distances(countries: Sequence[str] | None = None) -> pd.DataFrame:
    """``exporter, importer, dist`` (km, great circle between capitals), all ordered pairs."""
    cap = _select(countries)
    eg, ig = np.meshgrid(np.arange(len(cap)), np.arange(len(cap)), indexing="ij")
    e, i = eg.ravel(), ig.ravel()
    ok = e != i
    e, i = e[ok], i[ok]
    lat, lon = cap["lat"].to_numpy(float), cap["lon"].to_numpy(float)
    return pd.DataFrame({"exporter": cap["iso3"].to_numpy()[e], "importer": cap["iso3"].to_numpy()[i],
                         "dist": great_circle_km(lat[e], lon[e], lat[i], lon[i])})


@dataclass
class SimulationTruth:
    """What generated the panel.

    ``latent`` is aligned row by row with the panel (same index) and holds
    ``ln_lambda`` (log expected number of exporting firms), ``p_entry``
    (``1 - exp(-lambda)``: probability of a positive flow), ``mu`` (expected
    flow, USD), ``n_firms`` (realised number of exporters), ``ln_f`` (log fixed
    cost) and ``ln_tau`` (log variable cost). ``country_year`` holds ``gdp`` and
    ``fd`` by ``iso3, year``.
    """

    params: SimParams
    seed: int | None
    countries: list[str]
    years: list[int]
    mean_ln_dist: float
    latent: pd.DataFrame
    country_year: pd.DataFrame
    provenance: dict = field(default_factory=dict)

    def effects(self) -> dict[str, float]:
        """True values of the effects (flow equation, entry equation, interaction)."""
        p = self.params
        return {
            "dist_elasticity": p.dist_elasticity,
            "tariff_elasticity": p.tariff_elasticity,
            "bri_flow": p.bri_flow,
            "bri_entry": p.bri_entry,
            "fd_entry": p.fd_entry,
            "fd_dist_entry": p.fd_dist_entry,
            "fd_dist_flow": p.fd_dist_flow,
            "dist_entry": p.dist_entry,
        }

    def bri_entry_att(self, panel: pd.DataFrame) -> float:
        """Average effect of BRI on the probability of a positive flow, over the treated
        rows (``bri_ij == 1``): mean of ``P(X>0) - P(X>0 | no BRI)``, exact from lambda."""
        treated = panel["bri_ij"].to_numpy() == 1
        lam = np.exp(self.latent["ln_lambda"].to_numpy()[treated])
        lam0 = lam * np.exp(-self.params.bri_entry)
        return float(np.mean(np.exp(-lam0) - np.exp(-lam)))


def _check_years(years: Iterable[int] | None) -> list[int]:
    ys = list(DEFAULT_YEARS) if years is None else sorted(int(y) for y in years)
    if len(ys) < 2 or len(set(ys)) != len(ys):
        raise ValueError("years: at least two distinct years")
    return ys


def simulate_world(
    params: SimParams | None = None,
    *,
    seed: int | None = 0,
    countries: Sequence[str] | None = None,
    years: Iterable[int] | None = None,
    bri: pd.DataFrame | None = None,
    **build_kwargs,
) -> tuple[pd.DataFrame, SimulationTruth]:
    """Simulate a world and return ``(panel, truth)``.

    Parameters
    ----------
    params : true values (:class:`SimParams`; default values if None).
    seed : seed of the :class:`numpy.random.Generator`; same seed, same world, bit for bit.
    countries : ISO3 codes from ``gravity/data/capitals.csv`` (default: all 80).
    years : default 2008-2022 (BRI signatures start in 2013).
    bri : BRI participation table (default: the package's, :func:`gravity.sources.load_bri`).
    build_kwargs : passed to :func:`gravity.panel.build_panel` (e.g. ``lags``, ``leads``).

    Returns
    -------
    panel : DataFrame with the columns of :mod:`gravity.panel.schema` (trade in USD,
        true zeros as 0.0; dist, ln_dist; gdp_o/d; fd_o/d; tariff in percent;
        bri_o/bri_d/bri_ij; keys). No contig/comlang_off/colony/pop columns.
    truth : :class:`SimulationTruth`.

    The model (see :mod:`gravity.simulate.params`)::

        ln lambda_ijt = c + ln Y_it + eta ln Y_jt - theta ln tau_ijt - eta ln f_ijt
        ln tau_ijt    = rho ln dist_ij + ln(1 + tariff_ijt/100) - b_tau BRI_ijt
        ln f_ijt      = f0 + delta (ln dist_ij - m) - phi ln fd_it
                        - phi_d ln fd_it (ln dist_ij - m) - b_f BRI_ijt + nu_ij
        N_ijt ~ Poisson(lambda_ijt),   X_ijt = s_ijt Gamma(k N_ijt) / k,   s_ijt = S f_ijt
        E[X_ijt] = lambda_ijt s_ijt   (log-linear: structural gravity)
    """
    from gravity.panel import build_panel
    from gravity.sources import load_bri
    from gravity.sources.bri import bri_in_force

    p = params or SimParams()
    rng = np.random.default_rng(seed)
    cap = _select(countries)
    iso = cap["iso3"].to_numpy().astype(str)
    ys = _check_years(years)
    C, T = len(iso), len(ys)
    if C < 3:
        raise ValueError("need at least 3 countries")
    yarr = np.asarray(ys, dtype=np.int64)
    tt = (yarr - yarr[0]).astype(float)

    # country-year: GDP paths anchored on 2015 GDP, FD index --------------------------
    ln_y0 = np.log(cap["gdp_2015_usd"].to_numpy(float))
    growth = rng.normal(p.gdp_growth_mean, p.gdp_growth_sd, C)
    shocks = np.cumsum(rng.normal(0.0, p.gdp_shock_sd, (C, T)), axis=1)
    ln_gdp = ln_y0[:, None] + growth[:, None] * (yarr[None, :] - 2015) + shocks - shocks[:, [min(max(2015 - ys[0], 0), T - 1)]]
    zsize = (ln_y0 - ln_y0.mean()) / ln_y0.std()
    fd_level = -0.6 + 0.6 * zsize + rng.normal(0.0, 0.8, C)
    fd_logit = fd_level[:, None] + p.fd_trend * tt[None, :] + rng.normal(0.0, 0.15, (C, T))
    fd = 1.0 / (1.0 + np.exp(-fd_logit))

    # tariffs: importer MFN (drifting down) and preferential agreements ---------------
    lo, hi = p.tariff_mfn_range
    mfn = rng.uniform(lo, hi, C)[:, None] * np.exp(-0.02 * tt[None, :] + rng.normal(0, 0.05, (C, T)))
    pta = np.triu(rng.uniform(size=(C, C)) < p.pta_share, 1)
    pta = pta | pta.T
    pta_start = np.triu(rng.integers(ys[1], ys[-1] + 1, size=(C, C)), 1)
    pta_start = pta_start + pta_start.T
    nu = rng.normal(0.0, p.pair_sd, (C, C))

    # the square, in build_panel's order: (exporter, importer, year), exporter != importer
    eg, ig, tg = np.meshgrid(np.arange(C), np.arange(C), np.arange(T), indexing="ij")
    e, i, t = eg.ravel(), ig.ravel(), tg.ravel()
    keep = e != i
    e, i, t = e[keep], i[keep], t[keep]
    n = e.size
    year = yarr[t]
    tariff = mfn[i, t] * np.where(pta[e, i] & (year >= pta_start[e, i]), 1.0 - p.pta_cut, 1.0)
    tariff = tariff * np.exp(rng.normal(0.0, 0.1, n))

    lat, lon = cap["lat"].to_numpy(float), cap["lon"].to_numpy(float)
    dist_m = great_circle_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    ln_dist = np.log(dist_m[e, i])
    m = float(np.log(dist_m[~np.eye(C, dtype=bool)]).mean())

    bri_table = load_bri(bri)
    bri_c = np.stack([bri_in_force(pd.Series(iso), np.full(C, y), bri_table) for y in ys], axis=1)
    bri_ij = (bri_c[e, t] * bri_c[i, t]).astype(float)

    ln_fd = np.log(fd[e, t])
    ln_tau = p.rho * ln_dist + np.log1p(tariff / 100.0) - p.b_tau * bri_ij
    ln_f = (p.fixed_cost + p.fixed_cost_dist * (ln_dist - m) - p.phi * ln_fd
            - p.phi_d * ln_fd * (ln_dist - m) - p.b_f * bri_ij + nu[e, i])
    # supply: ln Y_it; demand: ln Y_jt relative to world GDP (so world trade grows with GDP)
    ly_o = ln_gdp - ln_y0.mean()
    ln_world = np.log(np.exp(ln_gdp).sum(axis=0, keepdims=True))
    ly_d = ln_gdp - ln_world + ln_world[:, :1] - ln_y0.mean()
    ln_lambda = (2.0 + p.firm_scale + ly_o[e, t] + p.eta * ly_d[i, t] - p.theta * ln_tau
                 - p.eta * ln_f + p.theta * p.rho * m)
    lam = np.exp(ln_lambda)
    # USD scale: expected total flows = EXPORT_SHARE x world GDP in the first year
    ex0 = lam * np.exp(ln_f)
    first = t == 0
    scale = EXPORT_SHARE * np.exp(ln_gdp[:, 0]).sum() / ex0[first].sum()
    s = scale * np.exp(ln_f)
    n_firms = rng.poisson(lam)
    k = p.sales_shape
    g = rng.gamma(np.maximum(k * n_firms, 1e-300), 1.0)
    trade = np.where(n_firms > 0, s * g / k, 0.0)

    flows = pd.DataFrame({"exporter": iso[e], "importer": iso[i], "year": year, "trade": trade})
    flows.attrs["gravity_provenance"] = {"source": "gravity.simulate.simulate_world",
                                         "seed": seed, "params": p.to_dict()}
    cy = pd.DataFrame({"iso3": np.repeat(iso, T), "year": np.tile(yarr, C),
                       "gdp": np.exp(ln_gdp).ravel(), "fd": fd.ravel()})
    geo = capital_distances(list(iso))
    geo.attrs["gravity_provenance"] = {"source": "gravity/data/capitals.csv (great circle between capitals)"}
    tar = pd.DataFrame({"importer": iso[i], "exporter": iso[e], "year": year,
                        "tariff_ahs_simple": tariff})
    build_kwargs.setdefault("bri", bri_table)
    panel, prov = build_panel(flows, countries=list(iso), years=ys, geodist=geo,
                              macro=cy[["iso3", "year", "gdp"]], fd=cy[["iso3", "year", "fd"]],
                              tariffs=tar, **build_kwargs)
    # alignment check: the builder's rows are ours
    if not (np.array_equal(panel["exporter"].to_numpy(str), iso[e])
            and np.array_equal(panel["importer"].to_numpy(str), iso[i])
            and np.array_equal(panel["year"].to_numpy(), year)
            and np.array_equal(panel["bri_ij"].to_numpy(float), bri_ij)):
        raise AssertionError("simulate_world: panel rows do not match the simulated square")
    latent = pd.DataFrame({"ln_lambda": ln_lambda, "p_entry": -np.expm1(-lam), "mu": lam * s,
                           "n_firms": n_firms, "ln_f": ln_f, "ln_tau": ln_tau}, index=panel.index)
    truth = SimulationTruth(params=p, seed=seed, countries=list(iso), years=ys, mean_ln_dist=m,
                            latent=latent, country_year=cy, provenance=prov)
    return panel, truth


def add_structural_covariates(panel: pd.DataFrame, truth: SimulationTruth) -> pd.DataFrame:
    """Add the pair-year covariates of the world's own equations (in place; returned):

    * ``ln_tariff = ln(1 + tariff / 100)``;
    * ``fd_x_dist_c = ln fd_o x (ln dist - m)``, the finance x distance term centred at the
      world's mean log distance ``m`` (``truth.mean_ln_dist``), so that ``bri_*`` and
      ``fd_*`` effects are the structural parameters;
    * ``ln_gdp_o_sq``: the squared centred log exporter GDP (the number of destinations
      saturates in GDP).
    """
    panel["ln_tariff"] = np.log1p(panel["tariff"] / 100.0)
    panel["fd_x_dist_c"] = np.log(panel["fd_o"]) * (panel["ln_dist"] - truth.mean_ln_dist)
    panel["ln_gdp_o_sq"] = (panel["ln_gdp_o"] - panel["ln_gdp_o"].mean()) ** 2
    return panel
