r"""Varying slopes (fixest's ``fe[x]`` and ``fe[[x]]``): the within-transformation
that also removes one slope of ``x`` per group of ``fe``.

A slope block of group codes ``g`` and variables ``Z`` (``N x m``) spans the
columns ``D_g`` (with ``fe[x]``, the group dummies) and ``D_g * z_j`` (each slope).
Its W-orthogonal projection is a weighted least-squares fit within each group,

.. math::  (P_b v)_i = c_i' (C_g' W_g C_g)^{+} C_g' W_g v_g, \qquad g = g(i),

with ``c_i = (1, z_i)`` (or ``z_i`` for slopes only): closed form, vectorised with
``np.bincount`` over the entries of the ``p x p`` group Gram matrices (``p = m`` or
``m + 1``) and one batched pseudo-inverse (a group where a slope does not vary gets
the minimum-norm fit, as a rank-deficient regression). The annihilator of the whole
design (the other fixed effects, handled by any :class:`~gravity.hdfe.Demeaner`, and
the slope blocks) is that of alternating projections (von Neumann--Halperin; Gaure
2013), accelerated as in :mod:`gravity.hdfe.demean`: the symmetric sweep
``K = A_1 ... A_m M_base A_m ... A_1`` (``A_b = I - P_b``) is self-adjoint in the W
inner product, its fixed points are the range of the full annihilator, and
``(I - K) x = (I - K) y`` is solved by conjugate gradients for ``x = y - M y``, with
the same stopping rule (``M_base`` is computed to ``tol / 100``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .demean import DemeanInfo, demean_columns


class _Base(Protocol):
    n: int

    def demean_inplace(self, work: np.ndarray, weights: np.ndarray | None = None,
                       tol: float = 1e-8, maxiter: int = 10_000) -> DemeanInfo: ...


@dataclass
class SlopeBlock:
    """Group codes (dense, 0..G-1), slope variables ``(N, m)`` and whether the block
    includes the group's own fixed effect (``fe[x]``) or only the slopes (``fe[[x]]``)."""

    codes: np.ndarray
    Z: np.ndarray
    with_fe: bool
    label: str = ""

    def design(self) -> np.ndarray:
        """Columns ``c_i`` (``(N, p)``): a one first when the block has its fixed effect."""
        Z = self.Z.reshape(self.Z.shape[0], -1)
        return np.column_stack([np.ones(Z.shape[0]), Z]) if self.with_fe else Z

    @property
    def n_parameters(self) -> int:
        """Slope coefficients of the block (groups times slopes; the fixed effect of
        ``fe[x]`` is counted with the fixed effects)."""
        return int(self.codes.max(initial=-1) + 1) * int(self.Z.reshape(self.Z.shape[0], -1)
                                                         .shape[1])


class _Projector:
    """The projection of one block under fixed weights (Gram inverses cached)."""

    def __init__(self, block: SlopeBlock, w: np.ndarray) -> None:
        self.codes = block.codes
        self.C = block.design()
        n, p = self.C.shape
        self.g = int(self.codes.max(initial=-1)) + 1
        gram = np.empty((self.g, p, p))
        for a in range(p):
            for b in range(a, p):
                s = np.bincount(self.codes, weights=w * self.C[:, a] * self.C[:, b],
                                minlength=self.g)
                gram[:, a, b] = s
                gram[:, b, a] = s
        self.inv = np.linalg.pinv(gram, rcond=1e-10, hermitian=True)
        self.wC = self.C * w[:, None]

    def remove(self, V: np.ndarray) -> None:
        """``V <- V - P V`` for the rows of the (K, N) array ``V``."""
        p = self.C.shape[1]
        for k in range(V.shape[0]):
            rhs = np.column_stack([np.bincount(self.codes, weights=self.wC[:, a] * V[k],
                                               minlength=self.g) for a in range(p)])
            coef = np.einsum("gab,gb->ga", self.inv, rhs)
            V[k] -= np.einsum("ia,ia->i", self.C, coef[self.codes])


class VaryingSlopes:
    """A :class:`~gravity.hdfe.Demeaner` for fixed effects with varying slopes.

    Parameters
    ----------
    base : the demeaner of the other fixed effects, or None
    blocks : the slope blocks
    n : number of observations
    """

    def __init__(self, base: _Base | None, blocks: list[SlopeBlock], n: int) -> None:
        if not blocks:
            raise ValueError("VaryingSlopes needs at least one slope block")
        self.base = base
        self.blocks = blocks
        self.n = n

    def _sweep(self, V: np.ndarray, w: np.ndarray, projectors: list[_Projector],
               tol: float, maxiter: int) -> None:
        """``V <- K V`` with ``K = A_1 ... A_m M_base A_m ... A_1`` (self-adjoint in the
        W inner product; its fixed points are the range of the full annihilator)."""
        for proj in projectors:
            proj.remove(V)
        if self.base is not None:
            self.base.demean_inplace(V, w, tol=tol, maxiter=maxiter)
            for proj in reversed(projectors):
                proj.remove(V)

    def demean_inplace(self, work: np.ndarray, weights: np.ndarray | None = None,
                       tol: float = 1e-8, maxiter: int = 10_000) -> DemeanInfo:
        """Replace each row of the (K, N) array ``work`` by its residual on the fixed
        effects and the slopes (see the module docstring)."""
        w = np.ones(self.n) if weights is None else np.asarray(weights, dtype=np.float64)
        projectors = [_Projector(b, w) for b in self.blocks]
        k = work.shape[0]
        iters = np.zeros(k, dtype=np.int64)
        conv = np.zeros(k, dtype=np.bool_)
        inner_tol = max(tol * 1e-2, 1e-14)
        if self.base is None and len(projectors) == 1:  # one exact projection
            projectors[0].remove(work)
            return DemeanInfo(iters + 1, ~conv)
        # conjugate gradients on (I - K) x = (I - K) y, x the part explained by the
        # fixed effects and slopes (as the engine of gravity.hdfe.demean)
        Y = np.array(work, dtype=np.float64)
        KY = Y.copy()
        self._sweep(KY, w, projectors, inner_tol, maxiter)
        R = Y - KY
        ssr = (R * R) @ w
        potential = (Y * Y) @ w
        ss0 = potential.copy()
        X = np.zeros_like(Y)
        P = R.copy()
        active = (ssr > 1e-300) & (ss0 > 1e-300)
        conv[~active] = True
        tol2 = tol * tol
        for it in range(1, maxiter + 1):
            idx = np.flatnonzero(active)
            if idx.size == 0:
                break
            Q = np.ascontiguousarray(P[idx])
            self._sweep(Q, w, projectors, inner_tol, maxiter)
            Q = P[idx] - Q  # (I - K) p
            pq = (P[idx] * Q) @ w
            ok = pq > 0
            alpha = np.where(ok, ssr[idx] / np.where(ok, pq, 1.0), 0.0)
            X[idx] += alpha[:, None] * P[idx]
            R[idx] -= alpha[:, None] * Q
            improvement = alpha * ssr[idx]
            potential[idx] -= improvement
            ssr_new = (R[idx] * R[idx]) @ w
            done = ~ok | (improvement <= tol2 * potential[idx]) \
                | (potential[idx] <= 1e-24 * ss0[idx]) | (ssr_new <= 1e-28 * ss0[idx])
            beta = ssr_new / np.where(ssr[idx] > 0, ssr[idx], 1.0)
            P[idx] = R[idx] + beta[:, None] * P[idx]
            ssr[idx] = ssr_new
            iters[idx] = it
            conv[idx[done]] = True
            active[idx[done]] = False
        work[:] = Y - X
        return DemeanInfo(iters, conv)

    def demean(self, Y: np.ndarray, weights: np.ndarray | None = None, tol: float = 1e-8,
               maxiter: int = 10_000) -> tuple[np.ndarray, DemeanInfo]:
        """``M Y`` for a vector or the columns of an (N, K) array."""
        return demean_columns(self.demean_inplace, Y, weights, tol, maxiter)


def recover_with_slopes(d: np.ndarray, codes: list[np.ndarray], slope_codes: list[np.ndarray],
                        slope_values: list[np.ndarray]
                        ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Fixed-effect coefficients and slopes from their per-observation sum ``d``.

    Solves ``[D_1 ... D_Q, D_b z_1, ...] theta = d`` by LSQR (Paige and Saunders 1982;
    the minimum-norm solution where coefficients are not identified) and normalises
    the fixed effects as :func:`gravity.hdfe.recover.recover_fixed_effects` does (every
    fixed effect after the first has its first level at zero). Returns the fixed
    effects (one array per code) and the slopes (a ``(G_b, m_b)`` array per block).
    """
    import scipy.sparse as sp
    from scipy.sparse.linalg import lsqr

    n = d.size
    rows = np.arange(n)
    blocks, sizes = [], []
    for c in codes:
        g = int(c.max()) + 1
        blocks.append(sp.csr_matrix((np.ones(n), (rows, c)), shape=(n, g)))
        sizes.append(g)
    shapes = []
    for c, z in zip(slope_codes, slope_values, strict=True):
        g = int(c.max()) + 1
        for j in range(z.shape[1]):
            blocks.append(sp.csr_matrix((z[:, j], (rows, c)), shape=(n, g)))
            sizes.append(g)
        shapes.append((g, z.shape[1]))
    design = sp.hstack(blocks).tocsr()
    sol = lsqr(design, d, atol=1e-14, btol=1e-14, iter_lim=100_000)[0]
    parts, start = [], 0
    for s in sizes:
        parts.append(sol[start:start + s].copy())
        start += s
    fes = parts[:len(codes)]
    for q in range(1, len(fes)):
        shift = fes[q][0]
        fes[q] -= shift
        fes[0] += shift
    slopes, k = [], len(codes)
    for g, m in shapes:
        slopes.append(np.column_stack(parts[k:k + m]) if m else np.zeros((g, 0)))
        k += m
    return fes, slopes
