"""Messages about long work that is not the user's: the first compilation of the
fixed-effect engine, and the IRLS iteration log of ``verbose=True``.

The demeaning kernels (:mod:`gravity.hdfe.kernels`, samples of 20,000 rows or more) are
compiled by numba on first use and cached on disk; a cold cache costs about 15-20 s on the first fit of an
installation (measured: 17.6 s against 1.3 s with the cache, 2 cores). When a fit starts
with the kernels not yet compiled in this process, is still running after
:data:`NOTICE_DELAY` seconds and numba is compiling (a kernel missed its on-disk cache),
one line on stderr says why. A large fit that merely takes long, its kernels loaded
from the cache, shows nothing; ``GRAVITY_PROGRESS=0`` silences it.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["first_compile_notice", "irls_log", "kernels_compiled", "kernels_compiling",
           "IRLS_LOGGER"]

NOTICE_DELAY = 3.0
IRLS_LOGGER = "gravity.irls"
_KERNEL_MODULES = ("gravity.hdfe.kernels", "gravity.hdfe.kernels_sweep")
MESSAGE = ("gravity: compiling the fixed-effect engine (numba) on first use; this takes "
           "up to about 20 s once, later fits and sessions reuse the compiled code")


def _kernel_dispatchers() -> list[Any]:
    """The numba dispatchers of the engine's kernel modules that are loaded (never
    imports them: before the first large fit they are not, and small samples run in
    NumPy without them)."""
    return [v for name in _KERNEL_MODULES if (module := sys.modules.get(name)) is not None
            for v in vars(module).values() if hasattr(v, "signatures")
            and hasattr(v, "py_func")]


def kernels_compiled() -> bool:
    """Whether the numba demeaning kernels (:mod:`gravity.hdfe.kernels`) have been
    compiled (or loaded from numba's cache) in this process: a kernel has a signature.
    Never imports numba itself."""
    return any(k.signatures for k in _kernel_dispatchers())


def kernels_compiling() -> bool:
    """Whether numba has had to compile a demeaning kernel in this process: one missed
    its on-disk cache (numba counts the miss before it starts compiling)."""
    return any(sum(getattr(getattr(k, "stats", None), "cache_misses", {}).values())
               for k in _kernel_dispatchers())


@contextmanager
def first_compile_notice(delay: float = NOTICE_DELAY, poll: float = 0.5) -> Iterator[None]:
    """Print :data:`MESSAGE` once if the block is still running after ``delay`` seconds
    while numba compiles (:func:`kernels_compiling`, checked every ``poll`` seconds
    from then on), and the kernels were not compiled when it started."""
    if os.environ.get("GRAVITY_PROGRESS", "") == "0" or kernels_compiled():
        yield
        return
    done = threading.Event()

    def watch() -> None:
        if done.wait(delay):
            return
        while not done.is_set():
            if kernels_compiling():
                print(MESSAGE, file=sys.stderr, flush=True)
                return
            done.wait(poll)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()


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
