"""True parameters of the simulated world (:class:`SimParams`).

The world is a Chaney (2008) / Melitz (2003) economy with Pareto-distributed
firm productivity, summarised analytically per exporter x importer x year
(no firm-level loop). With Pareto shape ``theta`` and elasticity of
substitution ``sigma`` (``theta > sigma - 1``), write ``eta = theta / (sigma - 1)``.
For variable trade costs ``tau_ijt`` and fixed costs of entering a market
``f_ijt``:

* expected number of firms of i selling in j (the **entry** equation)::

      ln lambda_ijt = c + ln Y_it + eta ln Y_jt - theta ln tau_ijt - eta ln f_ijt

* average sales of those firms (a Pareto property: proportional to the fixed
  cost)::  ln s_ijt = ln f_ijt + const

* expected flow (the **structural gravity** equation that PPML estimates)::

      ln E[X_ijt] = ln lambda_ijt + ln s_ijt
                  = c' + ln Y_it + eta ln Y_jt - theta ln tau_ijt - (eta - 1) ln f_ijt

with

* ``ln tau_ijt = rho ln dist_ij + ln(1 + tariff_ijt / 100) - b_tau BRI_ijt``
* ``ln f_ijt = f0 + delta ln dist_ij - phi ln fd_it - phi_d ln fd_it (ln dist_ij - m)
  - b_f BRI_ijt + nu_ij``, ``nu_ij ~ N(0, pair_sd^2)``; ``m`` is the mean log
  distance (the *pecking order*: fixed costs rise with distance and fall with
  the exporter's financial development, more so for distant markets).

The user sets the **effects** (reduced-form true values) and the simulator
solves for the primitives:

====================  =================================================================
field                 true value of
====================  =================================================================
dist_elasticity       d ln E[X] / d ln dist = -theta rho - (eta - 1) delta, for an
                      exporter with ln fd = 0 (the ln_dist coefficient in a regression
                      that includes ln fd_o x ln dist)
tariff_elasticity     d ln E[X] / d ln(1 + tariff/100) = -theta
bri_flow              d ln E[X] / d BRI_ij = theta b_tau + (eta - 1) b_f
bri_entry             d ln lambda / d BRI_ij = theta b_tau + eta b_f   (firm entry)
fd_entry              d ln lambda / d ln fd_i = eta phi   (at the mean log distance)
fd_dist_entry         d^2 ln lambda / d ln fd_i d ln dist = eta phi_d
====================  =================================================================

Implied: ``b_f = bri_entry - bri_flow``, ``b_tau = (bri_flow - (eta - 1) b_f) / theta``,
``rho = (-dist_elasticity - (eta - 1) delta) / theta``, and the flow interaction
``fd_dist_flow = (eta - 1) / eta * fd_dist_entry`` (the coefficient of
``ln fd_o x ln dist`` in PPML with exporter-year fixed effects).

Realised flows: the number of exporting firms is ``N_ijt ~ Poisson(lambda_ijt)``;
``X_ijt = 0`` when ``N_ijt = 0`` (no firm of i is productive enough to cover the
fixed cost of j: a zero for economic reasons) and otherwise
``X_ijt = s_ijt * G / k`` with ``G ~ Gamma(k N_ijt)``, so that
``E[X | N] = s N`` and ``E[X] = lambda s`` exactly (PPML-compatible noise).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["SimParams"]


@dataclass(frozen=True)
class SimParams:
    """True values of the simulated world (see the module docstring for the equations).

    Effects (what the estimators should recover): ``dist_elasticity``,
    ``tariff_elasticity``, ``bri_flow``, ``bri_entry``, ``fd_entry``,
    ``fd_dist_entry``. Structure: ``sigma`` (elasticity of substitution),
    ``fixed_cost`` (``f0``, log level of fixed costs: higher means more zeros),
    ``fixed_cost_dist`` (``delta``), ``firm_scale`` (log of the mass of potential
    exporters per unit of GDP, relative), ``pair_sd`` (sd of the pair fixed-cost
    shock), ``sales_shape`` (``k``: Gamma shape per firm; smaller = noisier flows).
    World: ``gdp_growth_mean/sd`` (annual log growth), ``gdp_shock_sd``,
    ``fd_trend`` (annual change of the FD index logit), ``tariff_mfn_range`` (percent),
    ``pta_share`` (share of pairs that sign a preferential agreement during the
    period), ``pta_cut`` (share of the MFN tariff removed by it).
    """

    dist_elasticity: float = -1.0
    tariff_elasticity: float = -4.0
    bri_flow: float = 0.20
    bri_entry: float = 0.40
    fd_entry: float = 0.60
    fd_dist_entry: float = 0.30
    sigma: float = 4.0
    fixed_cost: float = 0.0
    fixed_cost_dist: float = 0.30
    firm_scale: float = 0.0
    pair_sd: float = 0.5
    sales_shape: float = 1.0
    gdp_growth_mean: float = 0.04
    gdp_growth_sd: float = 0.02
    gdp_shock_sd: float = 0.03
    fd_trend: float = 0.04
    tariff_mfn_range: tuple[float, float] = (2.0, 15.0)
    pta_share: float = 0.25
    pta_cut: float = 0.8

    def __post_init__(self) -> None:
        if self.tariff_elasticity >= 0:
            raise ValueError("tariff_elasticity must be negative (it is -theta)")
        if self.sigma <= 1:
            raise ValueError("sigma must exceed 1")
        if self.theta <= self.sigma - 1:
            raise ValueError(f"need theta = {self.theta} > sigma - 1 = {self.sigma - 1} "
                             "(finite aggregate sales with Pareto productivity)")
        if self.b_f < 0:
            raise ValueError("bri_entry < bri_flow implies BRI raises fixed costs; "
                             "set bri_entry >= bri_flow")

    # primitives -----------------------------------------------------------------
    @property
    def theta(self) -> float:
        """Pareto shape of productivity (= minus the tariff elasticity)."""
        return -self.tariff_elasticity

    @property
    def eta(self) -> float:
        """``theta / (sigma - 1)``: elasticity of firm entry to fixed costs."""
        return self.theta / (self.sigma - 1.0)

    @property
    def b_f(self) -> float:
        """BRI cut in log fixed costs."""
        return self.bri_entry - self.bri_flow

    @property
    def b_tau(self) -> float:
        """BRI cut in log variable trade costs."""
        return (self.bri_flow - (self.eta - 1.0) * self.b_f) / self.theta

    @property
    def rho(self) -> float:
        """Elasticity of variable trade costs to distance."""
        return (-self.dist_elasticity - (self.eta - 1.0) * self.fixed_cost_dist) / self.theta

    @property
    def phi(self) -> float:
        """Elasticity of fixed costs to the exporter's FD index (at the mean log distance)."""
        return self.fd_entry / self.eta

    @property
    def phi_d(self) -> float:
        """Interaction of ln fd with (centred) ln distance in log fixed costs."""
        return self.fd_dist_entry / self.eta

    @property
    def fd_dist_flow(self) -> float:
        """True coefficient of ``ln fd_o x ln dist`` in the flow equation."""
        return (self.eta - 1.0) / self.eta * self.fd_dist_entry

    @property
    def dist_entry(self) -> float:
        """``d ln lambda / d ln dist = -theta rho - eta delta``."""
        return -self.theta * self.rho - self.eta * self.fixed_cost_dist

    def to_dict(self) -> dict:
        """Fields and derived primitives as a plain dict."""
        d = asdict(self)
        for k in ("theta", "eta", "b_f", "b_tau", "rho", "phi", "phi_d", "fd_dist_flow",
                  "dist_entry"):
            d[k] = getattr(self, k)
        return d
