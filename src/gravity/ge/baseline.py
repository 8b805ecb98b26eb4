"""The baseline world of a structural-gravity counterfactual, built from a fitted PPML.

Structural gravity (Anderson & van Wincoop 2003; Yotov et al. 2016, ch. 2) writes
the flow from ``i`` to ``j`` as

    X_ij = Y_i E_j T_ij / (OMR_i IMR_j),   T_ij = t_ij^(1-sigma) = exp(x_ij' b [+ gamma_ij]),

    OMR_i = sum_j T_ij E_j / IMR_j,        IMR_j = sum_i T_ij Y_i / OMR_i,

with output ``Y`` and expenditure ``E`` (row and column sums of the data), the
outward and inward multilateral resistances in "Stata units" (``OMR = Pi^(1-sigma)``
up to world output, ``IMR = P^(1-sigma)``) and the normalisation ``IMR_ref = 1``
for a reference country chosen by the user. ``T`` is the fitted cost index: the
estimated coefficients times the cost regressors, plus the pair fixed effect when
the model has one (:func:`gravity.ge.costs.pair_cost_index` builds and fills it).
A PPML with exporter and importer effects solves the resistance equations exactly
(Fally 2015), which is why the fit's coefficients are all the baseline needs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError, MissingColumnError
from ..estimation.design import regressor_matrix
from ..estimation.results import RegressionResults

Change = Mapping[str, Any] | Callable[[pd.DataFrame], pd.DataFrame]


@dataclass(frozen=True)
class Baseline:
    """A square world: ``countries`` (sorted), output ``Y``, expenditure ``E``, the
    baseline cost index ``T`` (N x N) and the pair rows behind it.

    ``frame`` holds one row per ordered pair (``exporter``, ``importer``) with the
    cost regressors, ``ln_T`` and the matrix positions ``_i``, ``_j``; ``coef`` the
    cost coefficients; ``fixed_ln_t`` the part of ``ln_T`` not driven by ``coef``
    (pair fixed effects, filled in). ``sigma`` is the elasticity of substitution.
    """

    countries: tuple[str, ...]
    Y: np.ndarray
    E: np.ndarray
    T: np.ndarray
    sigma: float
    reference: str
    coef: pd.Series
    frame: pd.DataFrame = field(repr=False)
    cost_formula: Any = field(repr=False, default=None)

    @property
    def n(self) -> int:
        return len(self.countries)

    @property
    def ref(self) -> int:
        """Position of the reference country."""
        return self.countries.index(self.reference)

    @property
    def phi(self) -> np.ndarray:
        """Expenditure over output, ``E_i / Y_i`` (trade imbalances, held fixed)."""
        return self.E / self.Y

    def with_reference(self, reference: str) -> Baseline:
        """The same world normalised on another reference country."""
        _check_country(reference, self.countries)
        return Baseline(self.countries, self.Y, self.E, self.T, self.sigma, reference,
                        self.coef, self.frame, self.cost_formula)

    def with_coef(self, coef: pd.Series | np.ndarray) -> Baseline:
        """The same world with other cost coefficients (for draws), same data."""
        c = pd.Series(np.asarray(coef, dtype=float), index=self.coef.index)
        ln_t = self.frame["_fixed_ln_t"].to_numpy() + self._xb(self.frame, c)
        return Baseline(self.countries, self.Y, self.E, self._matrix(np.exp(ln_t)), self.sigma,
                        self.reference, c, self.frame.assign(ln_T=ln_t), self.cost_formula)

    def resistances(self) -> pd.DataFrame:
        """Output, expenditure and the multilateral resistances of the baseline, by
        country: ``OMR``/``IMR`` in Stata units (``IMR_ref = 1``) and ``Pi``/``P``
        (their ``1/(1-sigma)`` powers), solved exactly from the cost index."""
        from .equilibrium import solve_conditional

        eq = solve_conditional(self.T, self.Y, self.E, self.ref)
        f = 1.0 / (1.0 - self.sigma)
        return pd.DataFrame({"output": self.Y, "expenditure": self.E, "OMR": eq.OMR,
                             "IMR": eq.IMR, "Pi": eq.OMR ** f, "P": eq.IMR ** f},
                            index=pd.Index(self.countries, name="country"))

    def costs(self) -> pd.DataFrame:
        """Tidy bilateral costs: exporter, importer, ``ln_T`` (``= (1-sigma) ln t``) and
        the implied ad-valorem-equivalent trade cost ``t = T^(1/(1-sigma))``."""
        ln_t = self.frame["ln_T"].to_numpy()
        return pd.DataFrame({"exporter": self.frame["exporter"].to_numpy(),
                             "importer": self.frame["importer"].to_numpy(),
                             "ln_T": ln_t, "t": np.exp(ln_t / (1.0 - self.sigma))})

    # ------------------------------------------------------------ costs
    def _xb(self, frame: pd.DataFrame, coef: pd.Series) -> np.ndarray:
        if len(coef) == 0:
            return np.zeros(len(frame))
        if self.cost_formula is None:  # plain columns (from_frame)
            return frame[list(coef.index)].to_numpy(dtype=float) @ coef.to_numpy()
        X, names = regressor_matrix(self.cost_formula, frame)
        col = {n: k for k, n in enumerate(names)}
        return X[:, [col[n] for n in coef.index]] @ coef.to_numpy()

    def _matrix(self, values: np.ndarray) -> np.ndarray:
        M = np.zeros((self.n, self.n))
        M[self.frame["_i"].to_numpy(), self.frame["_j"].to_numpy()] = values
        return M

    def counterfactual_costs(self, change: Change) -> np.ndarray:
        """The cost index ``T'`` after ``change``: a mapping ``{column: new values}``
        (a scalar, or values aligned with :attr:`frame` rows) or a function that takes
        :attr:`frame` and returns it with the cost columns changed. Only the cost
        regressors move: ``ln T' = ln T + (x' - x)' b``."""
        new = self.frame.copy()
        if callable(change):
            new = change(new)
            if not isinstance(new, pd.DataFrame) or len(new) != len(self.frame):
                raise InputError("change(frame) must return the frame with the same rows")
        else:
            for col, val in change.items():
                if col not in new.columns:
                    raise MissingColumnError("change names a column the baseline lacks",
                                             column=col)
                v = val.to_numpy() if isinstance(val, pd.Series) else val
                new[col] = v
        ln_t = self.frame["ln_T"].to_numpy() + self._xb(new, self.coef) \
            - self._xb(self.frame, self.coef)
        if not np.all(np.isfinite(ln_t)):
            raise InputError("the changed costs are not finite", rows=np.flatnonzero(
                ~np.isfinite(ln_t))[:10])
        return self._matrix(np.exp(ln_t))

    # ------------------------------------------------------------ construction
    @classmethod
    def from_fit(
        cls, fit: RegressionResults, data: pd.DataFrame, *, reference: str,
        sigma: float, exporter: str = "exporter", importer: str = "importer",
        trade: str | None = None, fixed_ln_t: np.ndarray | pd.Series | str | None = None,
    ) -> Baseline:
        """The baseline of a fitted gravity model on one cross-section ``data``.

        ``data`` must hold every ordered pair of its countries once (intra-national
        pairs included): one year of the estimation sample, or the year of the
        analysis for a panel fit. ``Y``/``E`` are the row/column sums of ``trade``
        (default: the fit's outcome). The cost index is ``exp(x'b + fixed_ln_t)``
        with the fit's coefficients ``b`` on ``data``'s regressors and
        ``fixed_ln_t`` (a column name or values aligned with ``data``: the filled pair
        fixed effects of a panel fit, see :func:`~gravity.ge.costs.pair_cost_index`).
        """
        coef = fit.params.drop(labels=["(Intercept)"], errors="ignore").astype(float)
        return cls.from_frame(data, coef, reference=reference, sigma=sigma,
                              exporter=exporter, importer=importer,
                              trade=trade or fit.depvar, fixed_ln_t=fixed_ln_t,
                              cost_formula=fit.record.formula)

    @classmethod
    def from_frame(
        cls, data: pd.DataFrame, coef: Mapping[str, float] | pd.Series, *, reference: str,
        sigma: float, trade: str = "trade", exporter: str = "exporter",
        importer: str = "importer", fixed_ln_t: np.ndarray | pd.Series | str | None = None,
        cost_formula: Any = None,
    ) -> Baseline:
        """The baseline for known cost coefficients ``coef`` (column name -> value; e.g.
        the true parameters of a simulated world): ``ln T = sum_k coef_k x_k +
        fixed_ln_t``; otherwise as :meth:`from_fit`."""
        for c in (exporter, importer):
            if c not in data.columns:
                raise MissingColumnError("data lacks a country column", column=c)
        coef = pd.Series(coef, dtype=float)
        if cost_formula is None:
            missing = [c for c in coef.index if c not in data.columns]
            if missing:
                raise MissingColumnError("data lacks a cost column", column=missing[0])
        if trade not in data.columns:
            raise MissingColumnError("data lacks the trade column", column=trade)
        if sigma <= 1:
            raise InputError(f"sigma must be above 1 (got {sigma})", column="sigma")
        frame = data.reset_index(drop=True).copy()
        ex = frame[exporter].astype(str)
        im = frame[importer].astype(str)
        countries = tuple(sorted(set(ex) | set(im)))
        _check_country(reference, countries)
        pos = {c: k for k, c in enumerate(countries)}
        frame["exporter"] = ex
        frame["importer"] = im
        frame["_i"] = ex.map(pos).to_numpy()
        frame["_j"] = im.map(pos).to_numpy()
        n = len(countries)
        dup = frame.duplicated(["_i", "_j"])
        if dup.any():
            raise InputError("data must hold one row per exporter-importer pair (one year)",
                             rows=frame.index[dup][:10])
        if len(frame) != n * n:
            have = set(zip(frame["_i"], frame["_j"], strict=True))
            missing = [f"{countries[a]}->{countries[b]}" for a in range(n) for b in range(n)
                       if (a, b) not in have][:10]
            raise InputError(f"the world must be square: {len(frame)} pairs for {n} "
                             f"countries; missing e.g. {missing}")
        flows = frame[trade].to_numpy(dtype=float)
        if not np.all(np.isfinite(flows)) or (flows < 0).any():
            bad = np.flatnonzero(~np.isfinite(flows) | (flows < 0))
            raise InputError("trade must be finite and non-negative", column=trade, rows=bad)
        if fixed_ln_t is None:
            fixed = np.zeros(len(frame))
        elif isinstance(fixed_ln_t, str):
            if fixed_ln_t not in frame.columns:
                raise MissingColumnError("data lacks the fixed cost column", column=fixed_ln_t)
            fixed = frame[fixed_ln_t].to_numpy(dtype=float)
        else:
            fixed = np.asarray(fixed_ln_t, dtype=float).reshape(-1)
            if fixed.shape != (len(frame),):
                raise InputError("fixed_ln_t must have one value per row of data",
                                 column="fixed_ln_t")
        if not np.all(np.isfinite(fixed)):
            raise InputError("the fixed part of the costs has missing values (pairs "
                             "without a pair effect: fill them, see pair_cost_index)",
                             rows=np.flatnonzero(~np.isfinite(fixed))[:10])
        frame["_fixed_ln_t"] = fixed
        frame["_trade"] = flows
        Xm = np.zeros((n, n))
        Xm[frame["_i"], frame["_j"]] = flows
        Y, E = Xm.sum(axis=1), Xm.sum(axis=0)
        if (Y <= 0).any() or (E <= 0).any():
            names = [countries[k] for k in np.flatnonzero((Y <= 0) | (E <= 0))]
            raise InputError(f"countries with zero output or expenditure: {names}")
        base = cls(countries, Y, E, np.zeros((n, n)), float(sigma), reference, coef,
                   frame, cost_formula)
        return base.with_coef(coef)


def _check_country(reference: str, countries: tuple[str, ...]) -> None:
    if reference not in countries:
        raise InputError(f"reference country {reference!r} is not in the data",
                         column="reference")
