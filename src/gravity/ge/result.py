"""The result of a GE counterfactual: levels of every scenario and tidy percent changes.

Country-level quantities (for scenario ``s`` in baseline, conditional, full):

* ``exports_i = sum_{j != i} X_ij`` and ``imports_j = sum_{i != j} X_ij`` (fitted
  international flows), ``output = Y``, ``expenditure = E``;
* ``price``: factory-gate price relative to the baseline (1 in the conditional GE);
* ``imr = P = IMR^(1/(1-sigma))`` and ``omr = Pi = OMR^(1/(1-sigma))``;
* ``real_gdp = Y / P`` (welfare in this endowment economy; Arkolakis, Costinot &
  Rodriguez-Clare 2012).

Percent changes are ``100 (s / baseline - 1)`` (``direction="counterfactual"``) or
``100 (baseline / s - 1)`` (``direction="baseline"``: the effect of *having* the
baseline policy, as the book reports NAFTA).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .equilibrium import Equilibrium

VARIABLES = ("exports", "imports", "real_gdp", "price", "output", "imr", "omr")


@dataclass(frozen=True)
class GEResult:
    """Baseline, conditional and (optionally) full-endowment equilibria of one
    counterfactual, with their solver; ``intervals`` holds percentile intervals of
    the country-level percent changes when computed
    (:func:`gravity.ge.intervals.ge_intervals`), ``bilateral_intervals`` those of the
    bilateral flows (by scenario, exporter, importer)."""

    countries: tuple[str, ...]
    sigma: float
    reference: str
    baseline: Equilibrium
    conditional: Equilibrium
    full: Equilibrium | None
    solver: str
    info: dict[str, Any] = field(default_factory=dict, repr=False)
    intervals: pd.DataFrame | None = field(default=None, repr=False)
    bilateral_intervals: pd.DataFrame | None = field(default=None, repr=False)

    def scenario(self, kind: str) -> Equilibrium:
        if kind == "baseline":
            return self.baseline
        if kind == "conditional":
            return self.conditional
        if kind == "full":
            if self.full is None:
                raise ValueError("this counterfactual has no full-endowment solution "
                                 "(run it with kind='full')")
            return self.full
        raise ValueError("kind must be 'baseline', 'conditional' or 'full'")

    @property
    def kinds(self) -> tuple[str, ...]:
        return ("conditional",) if self.full is None else ("conditional", "full")

    def _arrays(self, kind: str) -> dict[str, np.ndarray]:
        eq = self.scenario(kind)
        f = 1.0 / (1.0 - self.sigma)
        intra = np.diag(eq.X)
        P = eq.IMR ** f
        return {"exports": eq.X.sum(axis=1) - intra, "imports": eq.X.sum(axis=0) - intra,
                "real_gdp": eq.Y / P, "price": eq.price, "output": eq.Y,
                "expenditure": eq.E, "imr": P, "omr": eq.OMR ** f}

    def levels(self, kind: str) -> pd.DataFrame:
        """Country-level quantities of one scenario (module docstring), by country."""
        return pd.DataFrame(self._arrays(kind), index=pd.Index(self.countries, name="country"))

    def _variables(self, kind: str) -> list[str]:
        if kind == "conditional":
            return [v for v in VARIABLES if v not in ("price", "output", "real_gdp")]
        return list(VARIABLES)

    def change_vector(self, direction: str = "counterfactual") -> np.ndarray:
        """The ``pct_change`` column of :meth:`tidy` as an array (no pandas; for draws)."""
        base = self._arrays("baseline")
        out = []
        for kind in self.kinds:
            new = self._arrays(kind)
            for v in self._variables(kind):
                out.append(_pct_array(new[v], base[v], direction))
        return np.concatenate(out)

    def changes(self, kind: str = "full", direction: str = "counterfactual") -> pd.DataFrame:
        """Percent changes of :data:`VARIABLES` by country (see module docstring)."""
        new, old = self._arrays(kind), self._arrays("baseline")
        return pd.DataFrame({v: _pct_array(new[v], old[v], direction)
                             for v in self._variables(kind)},
                            index=pd.Index(self.countries, name="country"))

    def bilateral(self, kind: str = "full", direction: str = "counterfactual") -> pd.DataFrame:
        """Tidy bilateral flows: exporter, importer, baseline, counterfactual level and
        percent change."""
        eq = self.scenario(kind)
        n = len(self.countries)
        c = np.asarray(self.countries)
        old, new = self.baseline.X.ravel(), eq.X.ravel()
        with np.errstate(divide="ignore", invalid="ignore"):
            pct = 100 * (new / old - 1) if direction == "counterfactual" \
                else 100 * (old / new - 1)
        out = pd.DataFrame({"exporter": np.repeat(c, n), "importer": np.tile(c, n),
                            "baseline": old, kind: new, "pct_change": pct})
        if self.bilateral_intervals is not None:
            iv = self.bilateral_intervals
            out = out.merge(iv[iv["scenario"] == kind].drop(columns="scenario"),
                            on=["exporter", "importer"], how="left")
        return out

    def bilateral_vector(self, direction: str = "counterfactual") -> np.ndarray:
        """Percent changes of every bilateral flow, scenario by scenario (as in
        :meth:`bilateral`), as one array."""
        old = self.baseline.X.ravel()
        return np.concatenate([_pct_array(self.scenario(k).X.ravel(), old, direction)
                               for k in self.kinds])

    def tidy(self, direction: str = "counterfactual") -> pd.DataFrame:
        """Long frame: country, scenario, variable, pct_change (and ``lower``, ``upper``
        when intervals were computed)."""
        parts = []
        for kind in self.kinds:
            ch = self.changes(kind, direction).reset_index().melt(
                id_vars="country", var_name="variable", value_name="pct_change")
            ch.insert(1, "scenario", kind)
            parts.append(ch)
        out = pd.concat(parts, ignore_index=True)
        if self.intervals is not None:
            out = out.merge(self.intervals, on=["country", "scenario", "variable"],
                            how="left")
        return out

    def summary(self, kind: str | None = None, top: int = 10) -> str:
        """A text summary: solver, convergence, and the largest changes."""
        kind = kind or self.kinds[-1]
        ch = self.changes(kind)
        key = "real_gdp" if "real_gdp" in ch else "exports"
        lines = [f"GE counterfactual ({kind}), solver {self.solver}, sigma {self.sigma:g}, "
                 f"reference {self.reference}",
                 f"iterations {self.scenario(kind).iterations}, "
                 f"residual {self.scenario(kind).residual:.2e}"]
        for k, v in self.info.items():
            if isinstance(v, (int, float, str)):
                lines.append(f"{k}: {v}")
        order = ch[key].abs().sort_values(ascending=False).index[:top]
        lines.append(f"largest changes of {key} (%):")
        lines.append(ch.loc[order].round(4).to_string())
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def book_table(self, direction: str = "counterfactual") -> pd.DataFrame:
        """The columns of Yotov et al. (2016, ch. 2) results files, with their formulas:
        ``change_Xi_CDL/FULL``, ``change_price_FULL``, ``change_IMR_*``, ``change_OMR_*``,
        ``change_rGDP_FULL``. With ``direction="baseline"`` the book computes the price
        change as ``100 (1 - p)`` (not ``100 (1/p - 1)``); this table follows it."""
        lv = {k: self.levels(k) for k in ("baseline", *self.kinds)}
        out = pd.DataFrame(index=lv["baseline"].index)
        names = {"exports": "Xi", "imr": "IMR", "omr": "OMR"}
        tag = {"conditional": "CDL", "full": "FULL"}
        for kind in self.kinds:
            pct = _pct(lv[kind], lv["baseline"], direction)
            for var, short in names.items():
                out[f"change_{short}_{tag[kind]}"] = pct[var]
        if self.full is not None:
            out["change_rGDP_FULL"] = _pct(lv["full"], lv["baseline"], direction)["real_gdp"]
            p = lv["full"]["price"]
            out["change_price_FULL"] = 100 * (p - 1) if direction == "counterfactual" \
                else 100 * (1 - p)
        return out


def _pct_array(new: np.ndarray, old: np.ndarray, direction: str) -> np.ndarray:
    if direction == "counterfactual":
        return 100 * (new / old - 1)
    if direction == "baseline":
        return 100 * (old / new - 1)
    raise ValueError("direction must be 'counterfactual' or 'baseline'")


def _pct(new: pd.DataFrame, old: pd.DataFrame, direction: str) -> pd.DataFrame:
    if direction == "counterfactual":
        return 100 * (new / old - 1)
    if direction == "baseline":
        return 100 * (old / new - 1)
    raise ValueError("direction must be 'counterfactual' or 'baseline'")
