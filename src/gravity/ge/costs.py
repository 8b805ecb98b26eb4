"""Bilateral costs from a panel fit with pair fixed effects, and their fill-in.

Yotov et al. (2016, ch. 2, application 2) following Anderson & Yotov (2016): stage 1
is a panel PPML with exporter-year, importer-year and pair fixed effects, where all
intra-national pairs share one pair effect (normalised to 0). The estimated pair
effect ``gamma_ij`` is the time-invariant part of ``ln t_ij^(1-sigma)``. Pairs that
never trade have no pair effect; stage 2 is a PPML, on the analysis year's
international pairs that have one, of ``exp(gamma_ij)`` on gravity covariates with
exporter and importer fixed effects, whose predictions fill the missing pairs.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from ..errors import InputError, MissingColumnError
from ..estimation import PoissonResults, ppml
from ..estimation.results import RegressionResults


class PairCosts(NamedTuple):
    """``data``: the analysis year with ``pair_ln_t`` (gamma, filled) and
    ``pair_filled`` (True where stage 2 predicted it); ``stage2``: the stage-2 fit."""

    data: pd.DataFrame
    stage2: PoissonResults | None


def pair_cost_index(
    fit: RegressionResults, data: pd.DataFrame, *, pair: str, domestic: object,
    year: int, fill: str, year_column: str = "year", exporter: str = "exporter",
    importer: str = "importer", cluster: str | None = None,
) -> PairCosts:
    """Pair effects of ``fit`` (fixed effect ``pair``, intra-national level
    ``domestic``) on the rows of ``data`` for ``year``, relative to the domestic level;
    missing ones filled by the stage-2 PPML ``exp(gamma) ~ fill | exporter + importer``
    on international pairs (module docstring), clustered by ``cluster`` if given."""
    for c in (pair, year_column, exporter, importer):
        if c not in data.columns:
            raise MissingColumnError("data lacks a column", column=c)
    fes = fit.fixed_effects()
    if pair not in fes:
        raise InputError(f"the fit has no fixed effect {pair!r} (it has {list(fes)})",
                         column=pair)
    fe = fes[pair]
    if domestic not in fe.index:
        raise InputError(f"the pair effect has no level {domestic!r} for domestic pairs",
                         column=pair)
    d = data[data[year_column] == year].reset_index(drop=True).copy()
    if d.empty:
        raise InputError(f"no rows for {year_column} == {year}", column=year_column)
    intl = (d[exporter].astype(str) != d[importer].astype(str)).to_numpy()
    gamma = fe.reindex(d[pair]).to_numpy() - fe[domestic]
    gamma[~intl] = 0.0
    missing = intl & ~np.isfinite(gamma)
    d["pair_ln_t"] = gamma
    d["pair_filled"] = missing
    if not missing.any():
        return PairCosts(d, None)
    d["_tij"] = np.exp(np.where(np.isfinite(gamma), gamma, 0.0))
    sample = d[intl & ~missing]
    vcov = {"CRV1": cluster} if cluster else "hetero"
    stage2 = ppml(f"_tij ~ {fill} | {exporter} + {importer}", sample, vcov=vcov,
                  tol=1e-10)
    pred = stage2.predict(d[missing], type="link")
    if not np.all(np.isfinite(pred)):
        raise InputError("stage 2 cannot predict some missing pairs (a country has no "
                         "estimated pair effect at all)", rows=np.flatnonzero(missing))
    d.loc[missing, "pair_ln_t"] = pred
    return PairCosts(d.drop(columns="_tij"), stage2)
