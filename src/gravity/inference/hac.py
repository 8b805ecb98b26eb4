r"""Heteroskedasticity- and autocorrelation-consistent meats for panels.

With scores ``s_it`` (unit ``i``, period ``t``), lag ``L`` and Bartlett weights
``k_l = 1 - l / (L + 1)`` (Newey and West 1987):

* **Newey-West** for panels (``vcov="NW"``): serial correlation within each unit,

  .. math::  M = \Gamma_0 + \sum_{l=1}^{L} k_l (\Gamma_l + \Gamma_l'), \qquad
             \Gamma_l = \sum_i \sum_t s_{it} s_{i,t-l}';

* **Driscoll-Kraay** (1998; ``vcov="DK"``): the same kernel on the cross-sectional
  sums ``S_t = sum_i s_it``, robust to correlation across units within and across
  nearby periods: ``Gamma_l = sum_t S_t S_{t-l}'``.

Periods are the distinct observed periods in order: a lag of ``l`` is ``l`` observed
periods back, a period absent from the whole panel being bridged, as R fixest's
``NW()`` and ``DK()`` do (checked against fixest 0.12.2, ``tests/test_oracle_inference``).
The small-sample ``K`` does not count fixed effects nested in the units or the periods
(NW) or in the periods (DK), fixest's ``fixef.K = "nested"``. The default lag is ``floor(T^{1/4})``
with ``T`` the number of periods (pyfixest's default).
"""

from __future__ import annotations

import numpy as np

from ..hdfe.timeindex import shift_positions


def default_lag(periods: np.ndarray) -> int:
    """``floor(T ** 0.25)``, ``T`` the number of distinct periods."""
    return int(np.floor(np.unique(periods).size ** 0.25))


def bartlett(lag: int) -> np.ndarray:
    """Weights ``1 - l / (L + 1)`` for ``l = 0..L``."""
    return 1.0 - np.arange(lag + 1) / (lag + 1.0)


def newey_west_meat(scores: np.ndarray, units: np.ndarray, periods: np.ndarray,
                    lag: int) -> np.ndarray:
    """Panel Newey-West meat (see the module docstring)."""
    k = bartlett(lag)
    meat = scores.T @ scores
    for lg in range(1, lag + 1):
        pos = shift_positions(units, periods, lg)
        ok = pos >= 0
        gamma = scores[ok].T @ scores[pos[ok]]
        meat += k[lg] * (gamma + gamma.T)
    return meat


def driscoll_kraay_meat(scores: np.ndarray, periods: np.ndarray, lag: int) -> np.ndarray:
    """Driscoll-Kraay meat: Newey-West on the per-period sums of the scores."""
    t = int(periods.max()) + 1
    sums = np.column_stack([np.bincount(periods, weights=scores[:, j], minlength=t)
                            for j in range(scores.shape[1])])
    present = np.bincount(periods, minlength=t) > 0
    sums = sums[present]  # periods without observations do not count
    k = bartlett(lag)
    meat = sums.T @ sums
    for lg in range(1, lag + 1):
        gamma = sums[lg:].T @ sums[:-lg] if lg < sums.shape[0] else np.zeros_like(meat)
        meat += k[lg] * (gamma + gamma.T)
    return meat
