"""Exactly solved structural-gravity equilibria (conditional and full endowment).

Unknowns, in logs so that prices and resistances stay positive: ``a_i = ln p_i'/p_i``
(factory-gate price changes), ``u_i = ln pi_i`` and ``w_j = ln chi_j`` (the exporter
and importer terms of the flows ``X'_ij = exp(u_i + w_j) T'_ij``, ``w_ref = 0``).
Output ``Y'_i = p^_i Y_i`` (fixed endowments valued at the new prices) and
expenditure ``E'_j = kappa phi_j Y'_j`` (expenditure/output ratios ``phi`` held, scaled
by one world factor ``kappa = sum Y' / sum phi Y'`` so that world spending equals world
output, which the adding-up of the flows requires), or, with
``imbalances="additive"``, ``E'_j = Y'_j + D_j sum Y'/sum Y`` (deficits held as shares
of world output). The equations:

* output:      ``ln sum_j X'_ij = ln Y'_i``                        (N)
* expenditure: ``ln sum_i X'_ij = ln E'_j``,  j != ref             (N - 1)
* prices:      ``(sigma - 1) a_i + u_i - u0_i - ln(E'_ref/E_ref) = 0`` (N)

The price equation is market clearing ``p_i^(1-sigma) ~ Y_i / OMR_i`` in changes,
``p^_i^sigma = OMR'_i / OMR_i`` with ``OMR_i = Y_i E_ref / pi_i`` (Yotov et al. 2016,
ch. 2, eq. (6); Anderson, Larch & Yotov 2018). The conditional equilibrium fixes
``a = 0`` and ``kappa = 1`` and solves the first two blocks, which is the PPML with
exporter and importer effects and the costs as an offset. Newton's method with an
analytic Jacobian and backtracking, started from a Sinkhorn scaling, solves the
system; the residuals are reported in relative terms.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import scipy.linalg

from ..errors import ConvergenceError


@dataclass(frozen=True)
class Equilibrium:
    """One solved scenario: prices (changes vs the baseline), output, expenditure,
    flows, the resistances in Stata units (``OMR = Pi^(1-sigma)`` up to world output,
    ``IMR = P^(1-sigma)``, ``IMR_ref = 1``), residual and iterations."""

    price: np.ndarray
    Y: np.ndarray
    E: np.ndarray
    X: np.ndarray
    OMR: np.ndarray
    IMR: np.ndarray
    residual: float
    iterations: int
    solver: str


@lru_cache(maxsize=1)
def _controller() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the block with one BLAS thread: the systems here are small (at most a few
    hundred unknowns), and BLAS threads only add overhead (50x on a loaded machine)."""
    with _controller().limit(limits=1, user_api="blas"):
        yield


def sinkhorn(T: np.ndarray, Y: np.ndarray, E: np.ndarray, ref: int,
             tol: float = 1e-13, maxiter: int = 20_000) -> tuple[np.ndarray, np.ndarray]:
    """Row and column factors ``pi, chi`` (``chi_ref = 1``) with ``pi_i chi_j T_ij``
    summing to ``Y`` by row and ``E`` by column (``sum Y = sum E``): iterative
    proportional fitting, the fixed point of the PPML score equations."""
    chi = np.ones(len(E))
    for _ in range(maxiter):
        pi = Y / (T @ chi)
        new = E / (T.T @ pi)
        new = new / new[ref]
        step = np.max(np.abs(np.log(new / chi)))
        chi = new
        if step < tol:
            break
    return Y / (T @ chi), chi


def _newton(F, z: np.ndarray, tol: float, maxiter: int, what: str) -> tuple[np.ndarray, int]:
    r, J = F(z)
    norm = np.max(np.abs(r))
    for it in range(1, maxiter + 1):
        if norm <= tol:
            return z, it - 1
        step = scipy.linalg.solve(J, -r)
        t = 1.0
        while True:
            z_new = z + t * step
            r_new, J_new = F(z_new)
            norm_new = np.max(np.abs(r_new))
            if np.isfinite(norm_new) and (norm_new < norm or t < 1e-4):
                break
            t /= 2
        z, r, J, norm = z_new, r_new, J_new, norm_new
    if norm <= tol:
        return z, maxiter
    raise ConvergenceError(f"{what}: Newton stopped after {maxiter} iterations with "
                           f"residual {norm:.2e} > {tol:.0e}")


def solve_conditional(T: np.ndarray, Y: np.ndarray, E: np.ndarray, ref: int,
                      tol: float = 1e-12, maxiter: int = 50) -> Equilibrium:
    """Resistances and flows for costs ``T`` at fixed ``Y``, ``E`` (conditional GE)."""
    n = len(Y)
    keep = np.arange(n) != ref
    pi, chi = sinkhorn(T, Y, E, ref, tol=1e-6)
    lnY, lnE = np.log(Y), np.log(E)

    def F(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        u, w = z[:n], np.insert(z[n:], ref, 0.0)
        x = np.exp(u[:, None] + w[None, :]) * T
        r, c = x.sum(1), x.sum(0)
        res = np.concatenate([np.log(r) - lnY, (np.log(c) - lnE)[keep]])
        J = np.zeros((2 * n - 1, 2 * n - 1))
        J[:n, :n] = np.eye(n)
        J[:n, n:] = (x / r[:, None])[:, keep]
        J[n:, :n] = (x / c[None, :]).T[keep]
        J[n:, n:] = np.eye(n - 1)
        return res, J

    z0 = np.concatenate([np.log(pi), np.log(chi)[keep]])
    z, it = _newton(F, z0, tol, maxiter, "conditional equilibrium")
    u, w = z[:n], np.insert(z[n:], ref, 0.0)
    return _state(np.ones(n), Y, E, T, u, w, ref, it, "exact")


IMBALANCES = ("scaled", "additive")


def expenditure(a: np.ndarray, Y: np.ndarray, E: np.ndarray,
                imbalances: str) -> tuple[np.ndarray, np.ndarray]:
    """Counterfactual expenditure ``E'`` for price changes ``exp(a)`` and its Jacobian
    ``d ln E'_j / d a_k``. ``"scaled"``: ``E'_j = kappa phi_j Y'_j`` (ratios held,
    ``kappa`` balances the world); ``"additive"``: ``E'_j = Y'_j + D_j sum Y' / sum Y``
    (deficits ``D = E - Y`` held as shares of world output, as in ge_gravity of Baier,
    Yotov & Zylkin 2019)."""
    Yp = np.exp(a) * Y
    W = Yp.sum()
    if imbalances == "scaled":
        q = (E / Y) * Yp
        Ep = q * W / q.sum()
        dlnk = Yp / W - q / q.sum()
        return Ep, np.eye(len(Y)) + dlnk[None, :]
    if imbalances == "additive":
        d = (E - Y) / Y.sum()
        Ep = Yp + d * W
        return Ep, (np.diag(Yp) + d[:, None] * Yp[None, :]) / Ep[:, None]
    raise ValueError(f"imbalances must be one of {IMBALANCES}")


def solve_full(T: np.ndarray, Y: np.ndarray, E: np.ndarray, ref: int, sigma: float,
               u0: np.ndarray, tol: float = 1e-12, maxiter: int = 100,
               start: Equilibrium | None = None,
               imbalances: str = "scaled") -> Equilibrium:
    """The full-endowment equilibrium for costs ``T`` (see the module docstring);
    ``u0`` is ``ln pi`` of the baseline (``OMR_i = Y_i E_ref / pi_i``);
    ``imbalances`` how expenditure follows output (:func:`expenditure`)."""
    n = len(Y)
    keep = np.arange(n) != ref
    lnY, lnE = np.log(Y), np.log(E)
    eye = np.eye(n)
    expenditure(np.zeros(n), Y, E, imbalances)  # checks the option

    def F(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, u, w = z[:n], z[n:2 * n], np.insert(z[2 * n:], ref, 0.0)
        x = np.exp(u[:, None] + w[None, :]) * T
        r, c = x.sum(1), x.sum(0)
        Ep, dlnE = expenditure(a, Y, E, imbalances)
        with np.errstate(invalid="ignore", divide="ignore"):
            lnEp = np.log(Ep)
        res = np.concatenate([
            np.log(r) - a - lnY,
            (np.log(c) - lnEp)[keep],
            (sigma - 1) * a + u - u0 - (lnEp[ref] - lnE[ref]),
        ])
        J = np.zeros((3 * n - 1, 3 * n - 1))
        J[:n, :n] = -eye
        J[:n, n:2 * n] = eye
        J[:n, 2 * n:] = (x / r[:, None])[:, keep]
        J[n:2 * n - 1, :n] = -dlnE[keep]
        J[n:2 * n - 1, n:2 * n] = (x / c[None, :]).T[keep]
        J[n:2 * n - 1, 2 * n:] = np.eye(n - 1)
        J[2 * n - 1:, :n] = (sigma - 1) * eye - dlnE[ref][None, :]
        J[2 * n - 1:, n:2 * n] = eye
        return res, J

    if start is None:
        start = solve_conditional(T, Y, E, ref, tol=1e-8)
    u_s = np.log(start.Y * start.E[ref] / start.OMR)
    w_s = np.log(start.E / (start.IMR * start.E[ref]))
    z0 = np.concatenate([np.log(start.price), u_s, w_s[keep]])
    z, it = _newton(F, z0, tol, maxiter, "full-endowment equilibrium")
    a, u, w = z[:n], z[n:2 * n], np.insert(z[2 * n:], ref, 0.0)
    Ep, _ = expenditure(a, Y, E, imbalances)
    if (Ep <= 0).any():
        raise ConvergenceError("full-endowment equilibrium: negative expenditure (a deficit "
                               "larger than output at the new prices)")
    return _state(np.exp(a), np.exp(a) * Y, Ep, T, u, w, ref, it, "exact")


def _state(price: np.ndarray, Y: np.ndarray, E: np.ndarray, T: np.ndarray, u: np.ndarray,
           w: np.ndarray, ref: int, it: int, solver: str) -> Equilibrium:
    X = np.exp(u[:, None] + w[None, :]) * T
    OMR = Y * E[ref] / np.exp(u)
    IMR = E / (np.exp(w) * E[ref])
    res = max(np.max(np.abs(X.sum(1) / Y - 1)), np.max(np.abs(X.sum(0) / E - 1)))
    return Equilibrium(price, Y, E, X, OMR, IMR, float(res), it, solver)


def full_residual(eq: Equilibrium, base: Equilibrium, T: np.ndarray, sigma: float,
                  ref: int, imbalances: str = "scaled") -> float:
    """Largest relative residual of every equation of the full-endowment system at
    ``eq``: flows vs ``Y E T / (OMR IMR)``, adding-up by row and column, market
    clearing ``p^sigma = OMR'/OMR``, ``E = kappa phi Y``."""
    model = eq.Y[:, None] * eq.E[None, :] * T / (eq.OMR[:, None] * eq.IMR[None, :])
    Ep, _ = expenditure(np.log(eq.price), base.Y, base.E, imbalances)
    parts = [
        np.max(np.abs(eq.X / np.where(model > 0, model, 1) - np.where(model > 0, 1, 0))),
        np.max(np.abs(eq.X.sum(1) / eq.Y - 1)),
        np.max(np.abs(eq.X.sum(0) / eq.E - 1)),
        np.max(np.abs(eq.price ** sigma / (eq.OMR / base.OMR) - 1)),
        np.max(np.abs(eq.E / Ep - 1)),
        abs(eq.IMR[ref] - 1),
    ]
    return float(max(parts))
