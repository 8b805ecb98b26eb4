"""Several sectors: sector-specific elasticities and costs, fixed expenditure shares.

Sectors ``k`` with elasticity ``sigma_k`` and cost index ``T_ijk`` (each from its own
PPML, see :class:`~gravity.ge.Baseline`). Each country's endowment of each sector's
good is fixed (``Y'_ik = p^_ik Y_ik``); consumers spend the fixed shares
``alpha_jk = E_jk / E_j`` of their expenditure on each sector (upper-tier Cobb-Douglas,
as in Costinot & Rodriguez-Clare 2014); ``E'_j = kappa phi_j sum_k Y'_jk`` keeps
expenditure/output ratios with world spending equal to world output.
Per sector, flows are ``X'_ijk = exp(u_ik + w_jk) T'_ijk`` and

* output:       ``sum_j X'_ijk = Y'_ik``
* expenditure:  ``sum_i X'_ijk = alpha_jk E'_j``
* prices:       ``(1 - sigma_k) ln p^_ik = u_ik - u0_ik`` (market clearing,
  ``p^(1-sigma) = (Y^_ik / Y^_k) / Pi^_ik^(1-sigma)`` in the gauge where the
  sector's world-output term is absorbed in ``u``)
* numeraire:    ``sum_k alpha_ref,k ln P^_ref,k = 0`` (the reference country's
  consumer price index is 1), ``(1-sigma_k) ln P^_jk = ln(E'_jk/E_jk) - (w_jk - w0_jk)``.

Real GDP is ``Y'_j / P_j`` with ``P_j = prod_k P_jk^alpha_jk``. The system is solved
by least squares (Levenberg-Marquardt, finite-difference Jacobian) in logs, a
different algorithm from the one-sector Newton solver; with one sector the two give
the same equilibrium.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.optimize

from ..errors import ConvergenceError, InputError
from .baseline import Baseline, Change
from .equilibrium import one_blas_thread, sinkhorn


def multisector_intervals(
    baselines: Mapping[str, Baseline], changes: Mapping[str, Change | None],
    vcovs: Mapping[str, pd.DataFrame], *, draws: int = 100, level: float = 0.95,
    seed: int | None = 0, reference: str | None = None,
) -> dict[str, pd.DataFrame]:
    """Percentile intervals of every effect of :func:`multisector_counterfactual`: each
    sector's cost coefficients drawn from its covariance (``vcovs[sector]``, e.g. the
    sector fit's clustered ``vcov``; sectors estimated separately, so independently),
    the equilibrium solved per draw. Returns ``{"prices", "countries", "exports"}``,
    long frames (``country`` and ``sector`` or ``variable``) with ``lower``, ``upper``
    and ``median``."""
    if not 0 < level < 1:
        raise InputError("level must be in (0, 1)", column="level")
    rng = np.random.default_rng(seed)
    coef = {}
    for k, b in baselines.items():
        if k not in vcovs:
            raise InputError(f"no covariance for sector {k!r}", column="vcovs")
        names = list(b.coef.index)
        V = vcovs[k].loc[names, names].to_numpy(dtype=float)
        coef[k] = rng.multivariate_normal(b.coef.to_numpy(), V, size=draws, method="eigh")
    out: dict[str, list[np.ndarray]] = {"prices": [], "countries": [], "exports": []}
    frames = {}
    for d in range(draws):
        try:
            r = multisector_counterfactual({k: b.with_coef(coef[k][d])
                                            for k, b in baselines.items()},
                                           changes, reference=reference, tol=1e-9)
        except ConvergenceError:
            continue
        for name in out:
            frames[name] = getattr(r, name)
            out[name].append(getattr(r, name).to_numpy())
    if len(out["prices"]) < 2:
        raise InputError("fewer than two draws gave an equilibrium")
    a = (1 - level) / 2
    res = {}
    for name, arrs in out.items():
        S = np.stack(arrs)
        tmpl = frames[name]
        long = tmpl.stack().rename("median").to_frame()
        long["median"] = np.median(S, axis=0).ravel()
        long["lower"] = np.quantile(S, a, axis=0).ravel()
        long["upper"] = np.quantile(S, 1 - a, axis=0).ravel()
        key = "variable" if name == "countries" else "sector"
        res[name] = long.reset_index().rename(columns={"level_1": key})
    return res


@dataclass(frozen=True)
class MultiSectorResult:
    """Full-endowment GE with several sectors: ``prices`` (country x sector percent
    changes of factory-gate prices), ``countries`` (real GDP, nominal output, consumer
    price index, percent changes), ``exports`` (country x sector, international
    exports, percent changes), the solver's ``residual`` and ``nfev``."""

    prices: pd.DataFrame
    countries: pd.DataFrame
    exports: pd.DataFrame
    residual: float
    nfev: int


def multisector_counterfactual(
    baselines: Mapping[str, Baseline], changes: Mapping[str, Change | None], *,
    reference: str | None = None, tol: float = 1e-12,
) -> MultiSectorResult:
    """Full-endowment counterfactual across sectors: ``baselines`` maps each sector
    to its :class:`Baseline` (same countries; ``sigma`` and costs sector-specific),
    ``changes`` maps sectors to their cost change (sectors absent or ``None``: no
    change)."""
    names = list(baselines)
    if not names:
        raise InputError("no sectors")
    first = baselines[names[0]]
    for k in names:
        if baselines[k].countries != first.countries:
            raise InputError(f"sector {k!r} has other countries than {names[0]!r}")
    unknown = [k for k in changes if k not in baselines]
    if unknown:
        raise InputError(f"changes name unknown sectors {unknown}")
    ref = first.countries.index(reference or first.reference)
    n, K = first.n, len(names)
    sig = np.array([baselines[k].sigma for k in names])
    Y = np.stack([baselines[k].Y for k in names], axis=1)  # (N, K)
    Ek = np.stack([baselines[k].E for k in names], axis=1)
    T0 = np.stack([baselines[k].T for k in names])
    T1 = np.stack([baselines[k].counterfactual_costs(c) if (c := changes.get(k)) is not None
                   else baselines[k].T for k in names])
    Etot = Ek.sum(axis=1)
    alpha = Ek / Etot[:, None]
    phi = Etot / Y.sum(axis=1)
    u0, w0 = np.empty((n, K)), np.empty((n, K))
    for s in range(K):
        pi, chi = sinkhorn(T0[s], Y[:, s], Ek[:, s], ref, tol=1e-15)
        u0[:, s], w0[:, s] = np.log(pi), np.log(chi)

    def unpack(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (z[:n * K].reshape(n, K), z[n * K:2 * n * K].reshape(n, K),
                z[2 * n * K:].reshape(n, K))

    def parts(z: np.ndarray) -> tuple[np.ndarray, ...]:
        a, u, w = unpack(z)
        Yp = np.exp(a) * Y
        q = phi * Yp.sum(axis=1)
        Ep = (q * Yp.sum() / q.sum())[:, None] * alpha
        X = np.exp(u.T[:, :, None] + w.T[:, None, :]) * T1  # (K, N, N)
        return a, u, w, Yp, Ep, X

    def F(z: np.ndarray) -> np.ndarray:
        a, u, w, Yp, Ep, X = parts(z)
        lnP = (np.log(Ep / Ek) - (w - w0)) / (1 - sig)
        return np.concatenate([
            (np.log(X.sum(axis=2).T) - np.log(Yp)).ravel(),
            (np.log(X.sum(axis=1).T) - np.log(Ep)).ravel(),
            ((1 - sig) * a - (u - u0)).ravel(),
            [float(alpha[ref] @ lnP[ref])],
        ])

    z0 = np.concatenate([np.zeros(n * K), u0.ravel(), w0.ravel()])
    with one_blas_thread():
        sol = scipy.optimize.least_squares(F, z0, method="lm", xtol=1e-15, ftol=1e-15,
                                           gtol=1e-15, max_nfev=200 * (3 * n * K + 1))
    res = float(np.max(np.abs(F(sol.x))))
    if res > tol:
        raise ConvergenceError(f"multi-sector equilibrium: residual {res:.2e} > {tol:.0e}")
    a, u, w, Yp, Ep, X = parts(sol.x)
    lnP = (np.log(Ep / Ek) - (w - w0)) / (1 - sig)
    P = np.exp((alpha * lnP).sum(axis=1))
    idx = pd.Index(first.countries, name="country")
    Xint = X.copy()
    Xint[:, np.arange(n), np.arange(n)] = 0.0
    X0 = np.exp(u0.T[:, :, None] + w0.T[:, None, :]) * T0
    X0[:, np.arange(n), np.arange(n)] = 0.0
    out_y = Yp.sum(axis=1) / Y.sum(axis=1)
    return MultiSectorResult(
        prices=pd.DataFrame(100 * (np.exp(a) - 1), index=idx, columns=names),
        countries=pd.DataFrame({"real_gdp": 100 * (out_y / P - 1),
                                "output": 100 * (out_y - 1), "cpi": 100 * (P - 1)},
                               index=idx),
        exports=pd.DataFrame(100 * (Xint.sum(axis=2) / X0.sum(axis=2) - 1).T, index=idx,
                             columns=names),
        residual=res, nfev=int(sol.nfev))
