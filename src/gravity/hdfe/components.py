r"""Redundant fixed-effect coefficients, for the degrees of freedom of the variance.

With two fixed effects the dummy matrix ``[D_1, D_2]`` has rank
``G_1 + G_2 - C`` where ``C`` is the number of connected components of the
bipartite graph linking the levels that share an observation (Abowd, Creecy and
Kramarz 2002). fixest counts the coefficients this way when asked for the exact
count (``ssc(fixef.force_exact = TRUE)``); its default, like pyfixest's, assumes
one redundant coefficient per additional fixed effect: ``sum G_q - (Q - 1)``.
Beyond two fixed effects the component count of the first two plus one per further
fixed effect is a lower bound on the redundancies (an upper bound on the rank).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def n_components(a: np.ndarray, b: np.ndarray) -> int:
    """Connected components of the bipartite graph of levels of ``a`` and ``b``."""
    from scipy.sparse.csgraph import connected_components  # 11 MiB: only when asked

    ga, gb = int(a.max()) + 1, int(b.max()) + 1
    graph = sp.coo_matrix((np.ones(a.size), (a, ga + b)), shape=(ga + gb, ga + gb))
    return int(connected_components(graph, directed=False)[0])


def fixed_effect_parameters(codes: list[np.ndarray], exact: bool = False) -> int:
    """Number of identified fixed-effect coefficients (see the module docstring)."""
    if not codes:
        return 0
    levels = [int(c.max()) + 1 for c in codes]
    if len(codes) == 1:
        return levels[0]
    if not exact:
        return sum(levels) - (len(levels) - 1)
    return sum(levels) - n_components(codes[0], codes[1]) - (len(levels) - 2)
