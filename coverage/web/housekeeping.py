"""Memory housekeeping of the page's server: one background collection instead of one per run.

Streamlit runs a full ``gc.collect(2)`` after every script run (``runner.postScriptGC``); with
20 visitors it was a third of the server's time (py-spy, ``benchmarks/soak.py``), so the
project turns it off in ``.streamlit/config.toml``. Without it, the registries of closed
sessions would wait for Python's own collector; this module starts one daemon thread per
process that (after sweeping the upload folders a killed server left), every ``INTERVAL_S``
seconds, stops the upload workers idle for a minute
(``coverage.web.worker``), collects, drops the dead views pandas keeps in long-lived frames
(:func:`drop_dead_views`), then gives the freed memory back to the system (glibc's
``malloc_trim`` and pyarrow's pool, when present).

Before that thread starts, :func:`tune_malloc` caps glibc's malloc arenas at
:data:`MALLOC_ARENAS` and fixes the size from which a block gets a memory map of its own.
Streamlit runs every script run in a thread of its own, and glibc gives threads up to 8 arenas
a core: what a run frees stays in its thread's arena. Measured with ``benchmarks/soak.py``:
under load, the memory glibc held free (``mallinfo2``) and the p95 both fall, while the
load-phase memory stays the same. ``$MALLOC_ARENA_MAX`` and
``$MALLOC_MMAP_THRESHOLD_``, when set, decide instead.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import logging
import os
import sys
import threading
import time

from coverage._errors import ArgumentError

log = logging.getLogger("coverage.app")

#: Seconds between two collections.
INTERVAL_S = 20.0
#: glibc malloc arenas the server's threads share (``mallopt(M_ARENA_MAX)``).
MALLOC_ARENAS = 2
#: Blocks of this size or more get their own memory map, given back to the system when freed
#: (``mallopt(M_MMAP_THRESHOLD)``, in bytes; glibc's default 128 kB, but raised on its own up to
#: 32 MB as large blocks are freed, after which arrays of megabytes come from the heap and stay
#: there behind small objects).
MMAP_THRESHOLD = 128 * 1024
#: ``M_MMAP_THRESHOLD`` and ``M_ARENA_MAX`` in glibc's ``<malloc.h>``.
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8

#: The environment the page's server is started with (``make serve``): Python's objects from
#: glibc's malloc, whose ``malloc_trim`` gives back every free 4 kB page, instead of Python's
#: own 1 MiB arenas, of which a single object left by a closed session keeps the whole
#: (``benchmarks/soak.py`` measures what stays once the sessions have closed, with and without).
SERVER_ENVIRONMENT = {"PYTHONMALLOC": "malloc"}

_started = threading.Event()
_lock = threading.Lock()


def collect_and_trim() -> None:
    """One full collection, the dead views pandas remembers dropped, then the freed memory
    back to the system where it can be."""
    gc.collect()
    drop_dead_views()
    libc = _libc()
    if libc is not None:
        try:
            libc.malloc_trim(0)
        except AttributeError:  # pragma: no cover - not glibc
            pass
    pyarrow = sys.modules.get("pyarrow")
    if pyarrow is not None:
        try:
            pyarrow.default_memory_pool().release_unused()
        except AttributeError:  # pragma: no cover - an older pyarrow
            pass


def drop_dead_views() -> int:
    """Clear, in every pandas frame alive, the weak references to its dead views; their number.

    pandas' copy-on-write records in a frame each view taken of it (a column, a slice) and
    clears the dead ones only when their list doubles past 500. In the frames that live as long
    as the server (the region's communes, the registry in force, cached analyses), each
    visitor's short-lived views leave such references behind, allocated among that visitor's
    objects: the few that remain once the visitors have gone keep whole allocator arenas
    (``RELIABILITY.md``, section 4). ``has_reference`` clears them, the check pandas makes
    before a write. Runs after a collection (every live object is then in the oldest
    generation).
    """
    try:
        from pandas._libs.internals import BlockValuesRefs  # type: ignore[import-not-found]
    except ImportError:  # pragma: no cover - pandas absent or reorganised: nothing to clear
        return 0
    dropped = 0
    for obj in gc.get_objects(generation=2):
        if type(obj) is BlockValuesRefs:
            before = len(obj.referenced_blocks)
            if before > 1:
                obj.has_reference()
                dropped += before - len(obj.referenced_blocks)
    return dropped


@functools.cache
def _libc() -> ctypes.CDLL | None:
    """The C library, loaded once (``find_library`` runs ``ldconfig -p`` in a subprocess)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:  # pragma: no cover - no C library to load
        return None


def tune_malloc(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas at ``arenas`` for the threads that start from now on, and fix
    the memory-map threshold at :data:`MMAP_THRESHOLD`; True when the cap was set (False: not
    glibc, or ``$MALLOC_ARENA_MAX`` already decides)."""
    if arenas < 1:
        raise ArgumentError(f"`arenas` must be at least 1; got {arenas!r}.")
    libc = _libc()
    if libc is None or os.environ.get("MALLOC_ARENA_MAX"):
        return False
    try:
        if not os.environ.get("MALLOC_MMAP_THRESHOLD_"):
            libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        return bool(libc.mallopt(_M_ARENA_MAX, arenas))
    except AttributeError:  # pragma: no cover - a C library without mallopt (musl)
        return False


def _loop(interval: float) -> None:
    from coverage.web import worker

    while True:
        time.sleep(interval)
        try:
            worker.shutdown_if_idle()  # idle upload workers give their memory back
            collect_and_trim()
        except Exception:  # pragma: no cover - never let housekeeping stop the server
            log.exception("memory housekeeping failed")


def allocator_advice() -> str | None:
    """What to change in the server's environment for its memory to come back once its
    sessions close (``None``: nothing; logged once when the housekeeping starts)."""
    missing = {k: v for k, v in SERVER_ENVIRONMENT.items() if os.environ.get(k) != v}
    if not missing:
        return None
    wanted = " ".join(f"{k}={v}" for k, v in missing.items())
    return (
        f"server started without {wanted}: memory freed by closed sessions stays in Python's "
        f"arenas; start it with `make serve` (or `{wanted} streamlit run app.py`)"
    )


def _start_thread(interval: float) -> None:
    threading.Thread(
        target=_loop, args=(interval,), name="memory-housekeeping", daemon=True
    ).start()


def start_housekeeping(interval: float = INTERVAL_S) -> bool:
    """Start the process's housekeeping thread once; True when this call started it.

    First, the upload folders a killed server left in the temporary directory are removed
    (``coverage.web.worker.sweep_scratch``): the page promises uploads are not kept."""
    if not (interval > 0):
        raise ArgumentError(f"`interval` must be positive; got {interval!r}.")
    from coverage.web import worker

    with _lock:
        if _started.is_set():
            return False
        if advice := allocator_advice():
            log.warning(advice)
        if swept := worker.sweep_scratch():
            log.info("removed %d upload folders left by a stopped server", swept)
        tune_malloc()
        _start_thread(interval)
        _started.set()
        return True
