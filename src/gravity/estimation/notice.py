"""Messages about long work that is not the user's: the first compilation of the
fixed-effect engine, and the IRLS iteration log of ``verbose=True``.

The demeaning kernels (:mod:`gravity.hdfe.demean`) are compiled by numba on first use
and cached on disk; a cold cache costs about 15-20 s on the first fit of an
installation (measured: 17.6 s against 1.3 s with the cache, 2 cores). When a fit starts
with the kernels not yet compiled in this process and is still running after
:data:`NOTICE_DELAY` seconds, one line on stderr says why; it never shows once the
kernels are loaded, and ``GRAVITY_PROGRESS=0`` silences it.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["first_compile_notice", "irls_log", "kernels_compiled", "IRLS_LOGGER"]

NOTICE_DELAY = 3.0
IRLS_LOGGER = "gravity.irls"
MESSAGE = ("gravity: compiling the fixed-effect engine (numba) on first use; this takes "
           "up to about 20 s once, later fits and sessions reuse the compiled code")


def kernels_compiled() -> bool:
    """Whether the demeaning engine has been compiled (or loaded from numba's cache) in
    this process: its entry kernel has a signature (the helpers it calls are compiled
    into it and keep none of their own)."""
    from ..hdfe import demean

    kernels = [v for v in vars(demean).values() if hasattr(v, "signatures")
               and hasattr(v, "py_func")]
    return any(k.signatures for k in kernels)


@contextmanager
def first_compile_notice(delay: float = NOTICE_DELAY) -> Iterator[None]:
    """Print :data:`MESSAGE` if the block is still running after ``delay`` seconds and
    the kernels were not compiled when it started."""
    if os.environ.get("GRAVITY_PROGRESS", "") == "0" or kernels_compiled():
        yield
        return
    timer = threading.Timer(delay, lambda: print(MESSAGE, file=sys.stderr, flush=True))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


@contextmanager
def irls_log(verbose: bool) -> Iterator[None]:
    """With ``verbose``, show the IRLS iterations (logger :data:`IRLS_LOGGER`, level
    INFO) on stderr for the duration of the block."""
    if not verbose:
        yield
        return
    log = logging.getLogger(IRLS_LOGGER)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    old_level, old_propagate = log.level, log.propagate
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.setLevel(old_level)
        log.propagate = old_propagate
