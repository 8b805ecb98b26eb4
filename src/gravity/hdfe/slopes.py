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
the slope blocks) is reached by alternating projections (von Neumann--Halperin;
Gaure 2013 uses the same scheme for fixest's slopes): repeat ``v <- M_base v`` then
``v <- v - P_b v`` for every block, until one sweep changes ``v`` by less than
``tol`` relative to its W-norm.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .demean import DemeanInfo


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

    def demean_inplace(self, work: np.ndarray, weights: np.ndarray | None = None,
                       tol: float = 1e-8, maxiter: int = 10_000) -> DemeanInfo:
        """Replace each row of the (K, N) array ``work`` by its residual on the fixed
        effects and the slopes (see the module docstring)."""
        w = np.ones(self.n) if weights is None else np.asarray(weights, dtype=np.float64)
        projectors = [_Projector(b, w) for b in self.blocks]
        k = work.shape[0]
        iters = np.zeros(k, dtype=np.int64)
        conv = np.zeros(k, dtype=np.bool_)
        active = np.arange(k)
        single = self.base is None and len(projectors) == 1
        for it in range(1, maxiter + 1):
            if active.size == 0:
                break
            V = np.ascontiguousarray(work[active])
            before = V.copy()
            if self.base is not None:
                self.base.demean_inplace(V, w, tol=tol * 1e-2, maxiter=maxiter)
            for proj in projectors:
                proj.remove(V)
            work[active] = V
            change = np.sqrt(((V - before) ** 2) @ w)
            scale = np.sqrt((V**2) @ w)
            done = single | (change <= tol * np.maximum(scale, 1e-300)) | (scale <= 1e-300)
            iters[active] = it
            conv[active[done]] = True
            active = active[~done]
        return DemeanInfo(iters, conv)

    def demean(self, Y: np.ndarray, weights: np.ndarray | None = None, tol: float = 1e-8,
               maxiter: int = 10_000) -> tuple[np.ndarray, DemeanInfo]:
        """``M Y`` for a vector or the columns of an (N, K) array."""
        Y = np.asarray(Y, dtype=np.float64)
        work = np.array(Y[None, :] if Y.ndim == 1 else Y.T, dtype=np.float64, order="C")
        info = self.demean_inplace(work, weights, tol, maxiter)
        return (work[0] if Y.ndim == 1 else work.T), info
