r"""A direct solve of the two-way fixed-effect normal equations, for designs where the
iterative demeaning is slow.

With two fixed effects ``D = [D_1, D_2]`` the normal equations ``D'WD (a, b) = D'W y``
are, with ``B = D_1' W D_2`` (the weighted cross-tabulation of the levels, ``G_1 x G_2``)
and the diagonal weight sums ``d_1 = D_1' W 1``, ``d_2 = D_2' W 1``,

.. math::  a = d_1^{-1} (D_1'Wy - B b), \qquad
           S\, b = D_2'Wy - B' d_1^{-1} D_1'Wy, \quad S = \mathrm{diag}(d_2) - B' d_1^{-1} B ,

where the fixed effect with more levels is eliminated (``D_1``) and ``S``, the Schur
complement (a weighted graph Laplacian of the levels of ``D_2``), is factorised once per
set of weights (SuperLU's sparse LU, in reverse Cuthill-McKee order with diagonal
pivots: the fill stays within the envelope the plan bounds). ``S`` is singular once per
connected component of the levels' bipartite graph (Abowd, Creecy and Kramarz 2002),
counting only cells of positive weight: one level of ``D_2`` per component is held at
zero. The residual ``y - D_1 a - D_2
b`` is then exact up to rounding in ``O(N)`` per column, where conjugate gradients need
as many passes over the data as the chain of levels is long: the case of two fixed
effects whose levels link up like a path (firm and worker, ``f2 = f1 // 4 + U{0..9}``),
where every iterative method is slow (Gaure 2013, section 3.3).

The plan is built only when it is cheap: the product ``B' d_1^{-1} B`` costs
``sum_i deg_i^2`` over the levels of ``D_1`` (``deg_i`` the levels of ``D_2`` they meet),
bounded by :data:`MAX_PRODUCT_PER_ROW` per row, and the factor's fill by the envelope of
``S`` in reverse Cuthill-McKee order, bounded by :data:`MAX_ENVELOPE_PER_ROW` per row
(trade designs like exporter-year x importer-year fail the first bound: each level
meets hundreds of others). The caller (:class:`gravity.hdfe.demean.FixedEffects`) uses
the solve as a warm start that conjugate gradients then check to the requested
tolerance: a solve spoiled by rounding costs passes, never precision.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

#: the product ``B' d^{-1} B`` may cost at most this many multiply-adds per row
MAX_PRODUCT_PER_ROW = 6
#: the envelope of ``S`` in reverse Cuthill-McKee order (which holds its factor's fill:
#: the LU is taken in that order, on the diagonal) at most this per row of the data (a
#: chain design needs about 0.2; a level that meets thousands of others, such as a
#: catch-all category, makes a dense block and exceeds it)
MAX_ENVELOPE_PER_ROW = 2


def _one_per_component(linked: sp.csr_matrix) -> np.ndarray:
    """Over the levels of a symmetric level-by-level graph: ``True`` at one level (the
    last) of each connected component, the levels held at zero."""
    from scipy.sparse.csgraph import connected_components

    g = linked.shape[0]
    n_comp, label = connected_components(linked, directed=False)
    last = np.zeros(n_comp, dtype=np.int64)
    last[label] = np.arange(g)
    grounded = np.zeros(g, dtype=bool)
    grounded[last] = True
    return grounded


@dataclass(frozen=True)
class TwoWayPlan:
    """The weight-free structure of a direct two-way solve (see the module docstring):
    the codes of the eliminated (``big``) and kept (``small``) fixed effects, each row's
    cell of the cross-tabulation, the cells' ``(big, small)`` levels, and the levels of
    ``small`` held at zero (one per connected component)."""

    big: np.ndarray
    small: np.ndarray
    g_big: int
    g_small: int
    cell: np.ndarray  # per row: its (big, small) cell
    cell_big: np.ndarray
    cell_small: np.ndarray
    grounded: np.ndarray  # bool over the levels of small
    order: np.ndarray  # the levels of small in reverse Cuthill-McKee order

    @classmethod
    def build(cls, codes_a: np.ndarray, codes_b: np.ndarray) -> TwoWayPlan | None:
        """The plan for two fixed effects' dense codes, or ``None`` when the solve would
        not be cheap (the bounds of the module docstring)."""
        from scipy.sparse.csgraph import reverse_cuthill_mckee

        n = int(codes_a.size)
        ga, gb = int(codes_a.max()) + 1, int(codes_b.max()) + 1
        big, small, g_big, g_small = (codes_a, codes_b, ga, gb) if ga >= gb else \
            (codes_b, codes_a, gb, ga)
        key = big.astype(np.int64) * g_small + small
        cells, cell = np.unique(key, return_inverse=True)
        cell_big, cell_small = np.divmod(cells, g_small)
        degree = np.bincount(cell_big, minlength=g_big).astype(np.float64)
        if float(degree @ degree) > MAX_PRODUCT_PER_ROW * n:
            return None
        pattern = sp.csr_matrix((np.ones(cells.size), (cell_big, cell_small)),
                                shape=(g_big, g_small))
        linked = (pattern.T @ pattern).tocsr()
        order = reverse_cuthill_mckee(linked, symmetric_mode=True)
        permuted = linked[order][:, order].tocsr()
        permuted.sort_indices()
        rows = np.arange(g_small)
        first = rows.copy()  # each row's first column in the new order (itself if none)
        filled = np.diff(permuted.indptr) > 0
        first[filled] = np.minimum(permuted.indices[permuted.indptr[:-1][filled]],
                                   rows[filled])
        envelope = float(np.sum(rows - first))
        if envelope > MAX_ENVELOPE_PER_ROW * n:
            return None
        grounded = _one_per_component(linked)
        cell_type = np.int32 if cells.size < 2**31 - 1 else np.int64
        return cls(big, small, g_big, g_small, cell.astype(cell_type), cell_big, cell_small,
                   grounded, order.astype(np.int64))

    def factor(self, w: np.ndarray) -> TwoWayFactor | None:
        """The factorised ``S`` for the weights ``w`` (a zero-stride vector for unit
        weights), or ``None`` when SuperLU meets a zero pivot. Cells of zero weight
        (a Poisson fit's underflowed means) may split a component of the design: the
        components are then those of the cells with positive weight, one level of each
        held at zero."""
        from scipy.sparse.linalg import splu

        ncell = self.cell_big.size
        wc = np.bincount(self.cell, weights=np.broadcast_to(w, self.cell.shape),
                         minlength=ncell)
        d_big = np.bincount(self.cell_big, weights=wc, minlength=self.g_big)
        d_small = np.bincount(self.cell_small, weights=wc, minlength=self.g_small)
        inv_big = np.zeros(self.g_big)
        with np.errstate(over="ignore"):  # (subnormal sums: a non-finite solve, unused)
            np.divide(1.0, d_big, out=inv_big, where=d_big > 0)
        cross = sp.csr_matrix((wc, (self.cell_big, self.cell_small)),
                              shape=(self.g_big, self.g_small))
        schur = sp.diags(d_small) - (cross.T @ sp.diags(inv_big) @ cross)
        # levels with no weight are held at zero too (their rows carry no information);
        # the others in reverse Cuthill-McKee order, factorised in that order with
        # diagonal pivots (S is positive definite once grounded): the fill stays in the
        # envelope the plan bounded
        grounded = self.grounded
        positive = wc > 0
        if not positive.all():
            live = sp.csr_matrix((np.ones(int(positive.sum())),
                                  (self.cell_big[positive], self.cell_small[positive])),
                                 shape=(self.g_big, self.g_small))
            grounded = _one_per_component((live.T @ live).tocsr())
        keep = ~grounded & (d_small > 0)
        free = self.order[keep[self.order]]
        reduced = schur.tocsr()[free][:, free].tocsc()
        lu: Any = None
        if free.size:
            try:
                lu = splu(reduced, permc_spec="NATURAL", diag_pivot_thresh=0.0,
                          options={"SymmetricMode": True})
            except RuntimeError:  # singular: rows of zero weight split a component
                return None
        return TwoWayFactor(self, cross, inv_big, free, lu)


@dataclass(frozen=True)
class TwoWayFactor:
    """A :class:`TwoWayPlan` factorised for one set of weights."""

    plan: TwoWayPlan
    cross: sp.csr_matrix
    inv_big: np.ndarray
    free: np.ndarray
    lu: Any

    def subtract_fixed_effects(self, work: np.ndarray, w: np.ndarray) -> None:
        """``work[j] <- work[j] - D_1 a_j - D_2 b_j`` in place for each row ``j`` of the
        (K, N) array, ``(a_j, b_j)`` solving the normal equations of row ``j``.

        A projection never raises the weighted sum of squares; a row whose solve would
        (a factor spoiled by rounding: huge coefficients whose cancellation would leave
        errors outside the range of ``D``) is left as it was."""
        plan = self.plan
        for row in work:
            wy = w * row
            ss = float(wy @ row)
            s_big = np.bincount(plan.big, weights=wy, minlength=plan.g_big)
            s_small = np.bincount(plan.small, weights=wy, minlength=plan.g_small)
            b = np.zeros(plan.g_small)
            if self.lu is not None:
                rhs = s_small - self.cross.T @ (s_big * self.inv_big)
                b[self.free] = self.lu.solve(rhs[self.free])
            a = (s_big - self.cross @ b) * self.inv_big
            if not (np.isfinite(a).all() and np.isfinite(b).all()):
                continue  # (a near-singular factor: the iterations do it alone)
            fitted = a[plan.big]
            fitted += b[plan.small]
            resid = row - fitted
            if float((w * resid) @ resid) <= ss * (1 + 1e-8) + 1e-300:
                row[:] = resid
