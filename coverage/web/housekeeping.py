"""Memory housekeeping of the page's server: one background collection instead of one per run.

Streamlit runs a full ``gc.collect(2)`` after every script run (``runner.postScriptGC``); with
20 visitors it was a third of the server's time (py-spy, ``benchmarks/soak.py``), so the
project turns it off in ``.streamlit/config.toml``. Without it, the registries of closed
sessions would wait for Python's own collector; this module starts one daemon thread per
process that, every ``INTERVAL_S`` seconds, stops the upload workers idle for a minute
(``coverage.web.worker``), collects, then gives the freed memory back to the system (glibc's
``malloc_trim`` and pyarrow's pool, when present).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import sys
import threading
import time

from coverage._errors import ArgumentError

log = logging.getLogger("coverage.app")

#: Seconds between two collections.
INTERVAL_S = 20.0

_started = threading.Event()
_lock = threading.Lock()


def collect_and_trim() -> None:
    """One full collection, then the freed memory back to the system where it can be."""
    gc.collect()
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            libc.malloc_trim(0)
        except (OSError, AttributeError):  # pragma: no cover - not glibc
            pass
    pyarrow = sys.modules.get("pyarrow")
    if pyarrow is not None:
        try:
            pyarrow.default_memory_pool().release_unused()
        except AttributeError:  # pragma: no cover - an older pyarrow
            pass


def _loop(interval: float) -> None:
    from coverage.web import worker

    while True:
        time.sleep(interval)
        try:
            worker.shutdown_if_idle()  # idle upload workers give their memory back
            collect_and_trim()
        except Exception:  # pragma: no cover - never let housekeeping stop the server
            log.exception("memory housekeeping failed")


def start_housekeeping(interval: float = INTERVAL_S) -> bool:
    """Start the process's housekeeping thread once; True when this call started it."""
    if not (interval > 0):
        raise ArgumentError(f"`interval` must be positive; got {interval!r}.")
    with _lock:
        if _started.is_set():
            return False
        thread = threading.Thread(
            target=_loop, args=(interval,), name="memory-housekeeping", daemon=True
        )
        thread.start()
        _started.set()
        return True
