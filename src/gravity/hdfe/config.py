"""One frozen configuration of the fixed-effect demeaning, passed to every caller."""

from __future__ import annotations

from dataclasses import dataclass, replace

#: demeaning algorithms: ``"cg"`` (preconditioned conjugate gradients on the
#: fixed-effect coefficients, numba; see :mod:`gravity.hdfe.demean`) and ``"map"``
#: (plain NumPy alternating projections, the reference)
METHODS = ("cg", "map")


@dataclass(frozen=True)
class DemeanConfig:
    """Tolerance, iteration cap and algorithm of the within-transformation.

    ``tol`` is the relative precision at which a column stops (see
    :mod:`gravity.hdfe.demean`); ``maxiter`` the cap on sweeps per column;
    ``method`` one of :data:`METHODS`.
    """

    tol: float = 1e-8
    maxiter: int = 10_000
    method: str = "cg"

    def __post_init__(self) -> None:
        if not (isinstance(self.tol, (int, float)) and 0 < float(self.tol) < 1):
            raise ValueError(f"fixef_tol must be a number in (0, 1), got {self.tol!r}")
        if isinstance(self.maxiter, bool) or not isinstance(self.maxiter, int) \
                or self.maxiter < 1:
            raise ValueError(f"fixef_maxiter must be a positive integer, got {self.maxiter!r}")
        if self.method not in METHODS:
            raise ValueError(f"demeaning method must be one of {METHODS}, got {self.method!r}")

    def with_tol(self, tol: float) -> DemeanConfig:
        """The same configuration at another tolerance."""
        return replace(self, tol=tol)
