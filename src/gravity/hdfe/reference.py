r"""Reference demeaning by plain alternating projections (NumPy only).

The method of alternating projections (Gaure 2013, "OLS with multiple high
dimensional category variables"; von Neumann / Halperin): repeat, for every fixed
effect ``q`` in turn, ``v <- v - P_q v`` (subtract weighted group means with
``np.bincount``) until one whole sweep changes ``v`` by less than ``tol`` relative to
its norm. It converges to ``M y`` for any number of fixed effects, more slowly than
the accelerated engine of :mod:`gravity.hdfe.demean`, and exists so that tests can
compare that engine with an implementation simple enough to read at a glance.
"""

from __future__ import annotations

import numpy as np

from .demean import DemeanInfo, demean_columns


class AlternatingProjections:
    """Same interface as :class:`gravity.hdfe.demean.FixedEffects` (``demean``,
    ``demean_inplace``), in plain NumPy."""

    def __init__(self, codes: list[np.ndarray]) -> None:
        if not codes:
            raise ValueError("AlternatingProjections needs at least one fixed effect")
        self.codes = [np.asarray(c, dtype=np.int64) for c in codes]
        self.n = int(self.codes[0].size)
        self.sizes = np.array([int(c.max()) + 1 if c.size else 0 for c in self.codes])

    @property
    def n_fe(self) -> int:
        return len(self.codes)

    def _sweep(self, v: np.ndarray, w: np.ndarray, inv: list[np.ndarray]) -> None:
        for c, iw, g in zip(self.codes, inv, self.sizes, strict=True):
            v -= (np.bincount(c, weights=w * v, minlength=int(g)) * iw)[c]

    def demean_inplace(self, work: np.ndarray, weights: np.ndarray | None = None,
                       tol: float = 1e-8, maxiter: int = 10_000) -> DemeanInfo:
        w = np.ones(self.n) if weights is None else np.asarray(weights, dtype=np.float64)
        inv = []
        for c, g in zip(self.codes, self.sizes, strict=True):
            s = np.bincount(c, weights=w, minlength=int(g))
            inv.append(np.where(s > 0, 1.0 / np.where(s > 0, s, 1.0), 0.0))
        k = work.shape[0]
        iters = np.zeros(k, dtype=np.int64)
        conv = np.zeros(k, dtype=np.bool_)
        for j in range(k):
            v = work[j]
            for it in range(1, maxiter + 1):
                before = v.copy()
                self._sweep(v, w, inv)
                change = float(np.sqrt(w @ (v - before) ** 2))
                scale = float(np.sqrt(w @ v**2))
                if self.n_fe == 1 or change <= tol * max(scale, 1e-300) or scale <= 1e-300:
                    iters[j], conv[j] = it, True
                    break
            else:
                iters[j] = maxiter
        return DemeanInfo(iters, conv)

    def demean(self, Y: np.ndarray, weights: np.ndarray | None = None, tol: float = 1e-8,
               maxiter: int = 10_000) -> tuple[np.ndarray, DemeanInfo]:
        return demean_columns(self.demean_inplace, Y, weights, tol, maxiter)
