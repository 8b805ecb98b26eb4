"""Progress bars for long work (tqdm), one switch for the whole package.

Every long loop of the package (big readers, panel builds, Monte Carlo runs,
multiple estimation, GE solvers) goes through :func:`progress`. The bar shows
when ``show`` is true, or, when ``show`` is ``None``, when the environment
variable ``GRAVITY_PROGRESS`` is not ``0`` and the output is a terminal.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def progress_enabled(show: bool | None = None) -> bool:
    """Whether a progress bar is drawn: ``show`` if given, else the environment."""
    if show is not None:
        return bool(show)
    if os.environ.get("GRAVITY_PROGRESS", "") == "0":
        return False
    if os.environ.get("GRAVITY_PROGRESS", "") == "1":
        return True
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


def progress(
    iterable: Iterable[T], *, desc: str = "", total: int | None = None,
    show: bool | None = None, unit: str = "it",
) -> Iterator[T]:
    """Iterate ``iterable`` with a tqdm bar on stderr when :func:`progress_enabled`."""
    if not progress_enabled(show):
        yield from iterable
        return
    from tqdm.auto import tqdm

    yield from tqdm(iterable, desc=desc, total=total, unit=unit, leave=False)
