"""Recover fixed-effect coefficients from their per-observation sum.

Given ``d_i = sum_q alpha_q[g_q(i)]`` (the fixed-effect part of the linear
predictor), the coefficients solve the sparse least-squares problem
``D alpha = d`` exactly; LSQR (Paige and Saunders 1982) finds one solution.
Only sums are identified: every fixed effect after the first is shifted so that
its first level is zero, the shift moving to the first fixed effect (fixest's
normalisation for a connected design).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def recover_fixed_effects(d: np.ndarray, codes: list[np.ndarray]) -> list[np.ndarray]:
    n = d.size
    sizes = [int(c.max()) + 1 for c in codes]
    if len(codes) == 1:
        g = sizes[0]
        return [np.bincount(codes[0], weights=d, minlength=g) / np.bincount(codes[0], minlength=g)]
    blocks = [sp.csr_matrix((np.ones(n), (np.arange(n), c)), shape=(n, s))
              for c, s in zip(codes, sizes, strict=True)]
    design = sp.hstack(blocks).tocsr()
    from scipy.sparse.linalg import lsqr  # 20 MiB with scipy.linalg: only when asked

    sol = lsqr(design, d, atol=1e-14, btol=1e-14, iter_lim=50_000)[0]
    out, start = [], 0
    for s in sizes:
        out.append(sol[start:start + s].copy())
        start += s
    for q in range(1, len(out)):
        shift = out[q][0]
        out[q] -= shift
        out[0] += shift
    return out
