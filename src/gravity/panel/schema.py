"""Canonical gravity panel: column names, types and units.

One row per exporter x importer x year (the panel is *squared*: every ordered
pair of the chosen countries in every chosen year; intra-national rows
``exporter == importer`` only on request). Downstream code (simulation,
estimation) relies on these names.

=================  =======  ==============================================================
column             dtype    meaning
=================  =======  ==============================================================
exporter           str      ISO3 code of the origin
importer           str      ISO3 code of the destination
year               int64    calendar year
trade              float64  flow in current **USD**; ``0.0`` = true zero (both/the reporting
                            side covered by the source that year and no flow reported);
                            ``NaN`` = not covered (reporter absent from the source)
n_products         Int64    (optional) number of HS6 lines with a positive value (BACI);
                            0 for true zeros, <NA> where trade is missing
dist               float64  distance in km (CEPII ``dist``: between most populated cities)
ln_dist            float64  log of dist
contig             float64  1 if the two countries share a border
comlang_off        float64  1 if they share an official language
colony             float64  1 if ever in a colonial / dependency relationship
                            (CEPII Gravity ``col_dep_ever``; GeoDist ``colony``)
fta_wto            float64  (optional, CEPII Gravity) 1 if a WTO-notified RTA is in force
gdp_o, gdp_d       float64  GDP of origin / destination, current USD
pop_o, pop_d       float64  population, persons
fd_o, fd_d         float64  IMF Financial Development index FD, in [0, 1]
credit_o, credit_d float64  domestic credit to the private sector, % of GDP (WDI
                            FS.AST.PRVT.GD.ZS)
tariff             float64  (optional) tariff set by the importer on the exporter's goods,
                            percent (WITS; AHS simple average by default)
bri_o, bri_d       int8     1 if the origin / destination is a BRI participant in year t
                            (cooperation document signed in or before t, not withdrawn)
bri_ij             int8     1 if both are participants in t (China counts from 2013)
exp_year           str      exporter-year key, e.g. ``"CHN_2015"``
imp_year           str      importer-year key, e.g. ``"USA_2015"``
pair               str      directed pair key, e.g. ``"CHN_USA"``
ln_*               float64  (optional) logs: ln_gdp_o, ln_gdp_d, ln_pop_o, ln_pop_d,
                            ln_trade (NaN where trade is 0 or missing)
remoteness_o/_d    float64  (optional) ln sum_k dist_ik / (gdp_kt / gdp_Wt) over the panel's
                            other countries k with known GDP (gdp_W = their total)
<col>_lag<k>       same     (optional) value of a treatment column in t - k
<col>_lead<k>      same     (optional) value of a treatment column in t + k
=================  =======  ==============================================================
"""

from __future__ import annotations

import pandas as pd

from gravity.errors import MissingColumnError

__all__ = ["KEYS", "REQUIRED", "COLUMNS", "validate_panel"]

KEYS = ["exporter", "importer", "year"]
REQUIRED = [*KEYS, "trade", "exp_year", "imp_year", "pair"]
#: Canonical columns in their canonical order (optional ones included).
COLUMNS = [
    "exporter", "importer", "year", "trade", "n_products",
    "dist", "ln_dist", "contig", "comlang_off", "colony", "fta_wto",
    "gdp_o", "gdp_d", "pop_o", "pop_d", "fd_o", "fd_d", "credit_o", "credit_d",
    "tariff", "bri_o", "bri_d", "bri_ij",
    "exp_year", "imp_year", "pair",
    "ln_trade", "ln_gdp_o", "ln_gdp_d", "ln_pop_o", "ln_pop_d", "remoteness_o", "remoteness_d",
]


def validate_panel(df: pd.DataFrame) -> None:
    """Raise :class:`MissingColumnError` if a required canonical column is absent."""
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise MissingColumnError(f"panel lacks canonical column(s) {missing}", column=missing[0])
