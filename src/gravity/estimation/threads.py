"""One BLAS thread while a fit runs.

The fixed-effect passes run on their own threads (:mod:`gravity.hdfe.demean`, one per
core). The BLAS library behind NumPy (OpenBLAS) keeps its worker threads spinning
for a while after every call, waiting for the next one; between two BLAS calls of an
IRLS step (a dot product of the deviance, a small Gram matrix) the passes then share
the cores with idle-spinning BLAS threads. The BLAS work of a gravity fit is small
(vectors, ``K x K`` systems, ``K x N`` products with few regressors), so the fit runs
BLAS on one thread and restores the caller's setting afterwards: on this project's
2-core machine, under load from other processes, a 97,080-row PPML took 0.17 s with
one BLAS thread against 0.32 s with two (median of 8, interleaved).

The controller (threadpoolctl) is built once, on the first fit: it finds NumPy's BLAS,
which is loaded with NumPy. Entering the limit costs about 0.02 ms.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_CONTROLLER: list[Any] = []


@contextmanager
def single_blas_thread() -> Iterator[None]:
    """Run the block with BLAS limited to one thread (the caller's setting restored)."""
    if not _CONTROLLER:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER.append(ThreadpoolController())
    with _CONTROLLER[0].limit(limits=1, user_api="blas"):
        yield
