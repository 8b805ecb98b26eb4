"""The GEPPML procedure as Yotov et al. (2016, ch. 2) run it (Anderson, Larch & Yotov 2018).

Every step is a PPML with exporter and importer fixed effects and the log costs as
an offset, estimated with :func:`gravity.ppml`; ``pi_i = exp(exporter effect)``,
``chi_j = exp(importer effect)`` with the reference country's importer effect 0,
and ``OMR_i = Y_i E_ref / pi_i``, ``IMR_j = E_j / (chi_j E_ref)``.

1. Baseline: observed trade on the baseline costs; conditional GE: the same data on
   the counterfactual costs ``T'``.
2. Full endowment, iteration ``s``: price changes ``p^_i = ((pi_i^s / pi_i^(s-1)) /
   (E_ref^s / E_ref^(s-1)))^(1/(1-sigma))``; the next "data" are the fitted flows
   times ``p^_i p^_j / (OMR^_i IMR^_j)`` (resistance changes of the same step, 1 at
   the first); refit; ``Y^s`` = fitted row sums, ``E^s = phi Y^s``.
3. Stop when the standard deviation and the absolute maximum, over the data rows,
   of the change in ``p^`` between two iterations are both at most ``tol`` (0.01 in
   the book; the statistic lags one iteration as in the book's code).
4. Full-endowment levels: ``p = ((pi^S/pi^0)/(E_ref^S/E_ref^0))^(1/(1-sigma))``,
   ``Y = p Y^0``, ``E = phi Y``, ``OMR = Y E_ref^S / pi^S``,
   ``IMR = E^S/(chi^S E_ref^S)``, ``X = Y E T' / (OMR IMR)``.

The stopping rule leaves the published numbers up to about 1 percentage point away
from the fixed point of the loop (:mod:`gravity.ge.equilibrium` solves the model
exactly); this module reproduces them to their precision.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import ConvergenceError, ConvergenceWarning
from ..estimation import ppml
from ..progress import progress
from .equilibrium import Equilibrium

FORMULA = "_y ~ 0 | exporter + importer"


@dataclass(frozen=True)
class GEPPMLRun:
    """The three scenarios of one GEPPML run and its convergence history
    (``history``: iteration, sd and absolute max of the price-change difference)."""

    baseline: Equilibrium
    conditional: Equilibrium
    full: Equilibrium
    history: pd.DataFrame = field(repr=False)


def _fit(frame: pd.DataFrame, y: np.ndarray, lnT: np.ndarray, n: int, ref: int,
         ppml_tol: float) -> tuple[np.ndarray, np.ndarray]:
    """``pi``, ``chi`` (``chi_ref = 1``) of the PPML of ``y`` on exporter and importer
    effects with offset ``ln T`` on the pair rows of ``frame``."""
    d = pd.DataFrame({"_y": y, "exporter": frame["_i"].to_numpy(),
                      "importer": frame["_j"].to_numpy(),
                      "_off": lnT[frame["_i"].to_numpy(), frame["_j"].to_numpy()]})
    fit = ppml(FORMULA, d, offset="_off", tol=ppml_tol, fixef_tol=ppml_tol,
               maxiter=200, separation=())
    fe = fit.fixed_effects()
    u = fe["exporter"].reindex(range(n)).to_numpy()
    w = fe["importer"].reindex(range(n)).to_numpy()
    if not (np.all(np.isfinite(u)) and np.all(np.isfinite(w))):
        raise ConvergenceError("GEPPML: a country has no fixed effect (all-zero flows)")
    return np.exp(u + w[ref]), np.exp(w - w[ref])


def geppml(frame: pd.DataFrame, T0: np.ndarray, T1: np.ndarray, Y: np.ndarray,
           E: np.ndarray, trade: np.ndarray, ref: int, sigma: float, tol: float = 0.01,
           maxiter: int = 50, ppml_tol: float = 1e-12, full: bool = True,
           show_progress: bool | None = None) -> GEPPMLRun:
    """Run the book's procedure (module docstring) on the pair rows of ``frame``
    (columns ``_i``, ``_j``: matrix positions) with observed ``trade`` (one value per
    row), baseline costs ``T0`` and counterfactual costs ``T1``."""
    n = len(Y)
    with np.errstate(divide="ignore"):
        lnT0, lnT1 = np.log(T0), np.log(T1)
    rows_i, rows_j = frame["_i"].to_numpy(), frame["_j"].to_numpy()
    phi = E / Y
    f = 1.0 / (1.0 - sigma)

    def state(pi: np.ndarray, chi: np.ndarray, Yv: np.ndarray, Ev: np.ndarray,
              T: np.ndarray, price: np.ndarray, it: int) -> Equilibrium:
        X = pi[:, None] * chi[None, :] * T
        return Equilibrium(price, Yv, Ev, X, Yv * Ev[ref] / pi, Ev / (chi * Ev[ref]),
                           float("nan"), it, "geppml")

    pi0, chi0 = _fit(frame, trade, lnT0, n, ref, ppml_tol)
    piC, chiC = _fit(frame, trade, lnT1, n, ref, ppml_tol)
    base = state(pi0, chi0, Y, E, T0, np.ones(n), 0)
    cond = state(piC, chiC, Y, E, T1, np.ones(n), 0)
    if not full:
        return GEPPMLRun(base, cond, cond, pd.DataFrame())
    ER0 = E[ref]
    # iteration 1 = the conditional solution; the "price change" of iteration 0 is 0
    pis, ERs = [pi0, piC], [ER0, ER0]
    Ys, Es = [Y, Y], [E, E]
    cps = [np.zeros(n), (piC / pi0) ** f]
    OMRs = [Y * ER0 / pi0, Y * ER0 / piC]
    IMRs = [E / (chi0 * ER0), E / (chiC * ER0)]
    cO, cI = [np.ones(n), np.ones(n)], [np.ones(n), np.ones(n)]
    xhat = cond.X
    chis = [chi0, chiC]
    rows = []
    sd = mx = np.inf
    k = 1
    for _ in progress(range(maxiter), desc="GEPPML", show=show_progress):
        if sd <= tol and mx <= tol:
            break
        data = xhat * cps[k][:, None] * cps[k][None, :] / (cO[k][:, None] * cI[k][None, :])
        pin, chin = _fit(frame, data[rows_i, rows_j], lnT1, n, ref, ppml_tol)
        xhat = pin[:, None] * chin[None, :] * T1
        Yn = xhat.sum(axis=1)
        En = phi * Yn
        ERn = En[ref]
        cps.append(((pin / pis[k]) / (ERn / ERs[k])) ** f)
        OMRn, IMRn = Yn * ERn / pin, En / (chin * ERn)
        cO.append(OMRn / OMRs[k])
        cI.append(IMRn / IMRs[k])
        pis.append(pin)
        chis.append(chin)
        ERs.append(ERn)
        Ys.append(Yn)
        Es.append(En)
        OMRs.append(OMRn)
        IMRs.append(IMRn)
        dif = (cps[k] - cps[k - 1])[rows_i]
        sd, mx = float(np.std(dif, ddof=1)), float(abs(np.max(dif)))
        rows.append({"iteration": k, "sd": sd, "max": mx})
        k += 1
    else:
        if not (sd <= tol and mx <= tol):
            raise ConvergenceError(f"GEPPML did not meet its stopping rule in {maxiter} "
                                   f"iterations (sd {sd:.3g}, max {mx:.3g})")
    if len(rows) >= 2 and rows[-1]["sd"] > rows[-2]["sd"]:
        warnings.warn(f"GEPPML stopped at iteration {k - 1} while its step statistic was "
                      f"growing (sd {rows[-2]['sd']:.3g} -> {rows[-1]['sd']:.3g}): the loop "
                      "may not be contracting here; compare with solver='exact'",
                      ConvergenceWarning, stacklevel=3)
    S = k
    price = ((pis[S] / pi0) / (ERs[S] / ER0)) ** f
    YF = price * Y
    EF = phi * YF
    OMRF = YF * ERs[S] / pis[S]
    IMRF = Es[S] / (chis[S] * ERs[S])
    XF = YF[:, None] * EF[None, :] * T1 / (OMRF[:, None] * IMRF[None, :])
    fullq = Equilibrium(price, YF, EF, XF, OMRF, IMRF, float(max(sd, mx)), S - 1, "geppml")
    return GEPPMLRun(base, cond, fullq, pd.DataFrame(rows))
