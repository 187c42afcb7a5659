"""Heavy work of uploads run in worker processes, so that its memory goes back to the system.

Reading a 5,000-row spreadsheet allocates hundreds of megabytes of short-lived objects (the
workbook, its cells, the rows as text, the located communes); so do the analysis, the maps
and the what-ifs of a 5,000-structure upload (records, dissolved zones, tooltips, JSON). In
the server process that memory stays with the allocators once freed: a few small objects
that outlive a session (caches, pandas' reference lists) pin the 1 MiB arenas and heap pages
that its short-lived ones had filled (+310 MB for the server after 60 s of uploads only,
``benchmarks/soak.py``). Here that work runs in a pool of at most
:data:`coverage.web.budget.UPLOAD_SLOTS` worker processes (``spawn``: no fork of a threaded
server), which hand back only results: the registry and how each row was read, access
tables, analyses, what-ifs (a few megabytes of arrays) and maps as HTML text. The pool is
shut down after :data:`IDLE_S` seconds without a task (``coverage.web.housekeeping`` asks),
and each worker is replaced after :data:`TASKS_PER_WORKER` tasks: what a worker's allocator
keeps is bounded, and freed.

:func:`offload` runs a task of :mod:`coverage.web.tasks` there. ``$PARCOURS_UPLOAD_WORKERS=0``
runs every task in the server process instead (same answers).
"""

from __future__ import annotations

import atexit
import concurrent.futures as cf
import logging
import multiprocessing
import multiprocessing.spawn
import os
import pickle
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from coverage._errors import CoverageError, RegistryError

log = logging.getLogger("coverage.app")

#: Environment variable: ``0`` runs the heavy work of uploads in the server process.
WORKERS_ENV = "PARCOURS_UPLOAD_WORKERS"
#: Tasks a worker runs before it is replaced by a fresh process (an upload session is a few:
#: its reading, access table, analysis, maps, what-ifs).
TASKS_PER_WORKER = 100
#: Seconds without a task after which the pool is shut down.
IDLE_S = 60.0

_lock = threading.Lock()
_pool: cf.ProcessPoolExecutor | None = None
_last_used = 0.0
_running = 0


class TaskFailed(RuntimeError):
    """A task raised an unexpected exception in a worker (a bug, not a refusal): its
    traceback there, as text. The task is not run again in the server."""


def workers_enabled() -> bool:
    """False when ``$PARCOURS_UPLOAD_WORKERS`` is ``0``."""
    return os.environ.get(WORKERS_ENV, "").strip() != "0"


def _without_main(name: str) -> dict[str, Any]:
    """``spawn``'s preparation data without the main module: a worker needs only the modules
    of its tasks (``coverage.web.tasks``, ``coverage.web.uploads``), which pickling names.
    Under Streamlit the main module is the page script, which a worker must never run again."""
    data = _preparation_data(name)
    data.pop("init_main_from_path", None)
    data.pop("init_main_from_name", None)
    return data


_preparation_data = multiprocessing.spawn.get_preparation_data


def _get_pool() -> cf.ProcessPoolExecutor:
    global _pool
    if _pool is None:
        from coverage.web.budget import UPLOAD_SLOTS

        # The only pool of the page's server: its workers do not import the page script.
        multiprocessing.spawn.get_preparation_data = _without_main

        _pool = cf.ProcessPoolExecutor(
            max_workers=UPLOAD_SLOTS,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_lower_priority,
            max_tasks_per_child=TASKS_PER_WORKER,
        )
    return _pool


#: How much lower a worker's CPU priority is than the server's (``nice``).
NICE = 10


def _lower_priority() -> None:
    """In a new worker: yield the CPU to the server, whose searches and pages are waited
    for; the heavy builds come second."""
    try:
        os.nice(NICE)
    except OSError:  # pragma: no cover - a platform that refuses: same priority
        pass


def _portable(exc: CoverageError) -> CoverageError:
    """``exc`` if it survives pickling whole, else a ``CoverageError`` with its message."""
    try:
        back = pickle.loads(pickle.dumps(exc))  # noqa: S301 - our own bytes, just made
    except Exception:  # any failure means: send the message only
        return CoverageError(str(exc))
    return back if str(back) == str(exc) else CoverageError(str(exc))


def _call(fn: Callable[..., Any], args: tuple[Any, ...]) -> tuple[str, Any]:
    """In the worker: ("ok", result), ("refused", (path, problems, total)) for a refused
    registry, ("error", CoverageError) for the package's other errors (French), or
    ("failed", traceback text) for any other exception: so that an exception raised by
    ``.result()`` in the server can only come from sending the task or its result."""
    try:
        return "ok", fn(*args)
    except RegistryError as exc:
        return "refused", (exc.path, exc.problems, exc.total)
    except CoverageError as exc:
        return "error", _portable(exc)
    except Exception as exc:  # a bug in the task: its traceback crosses as text
        return "failed", "".join(traceback.format_exception(exc))


def run_in_worker[R](fn: Callable[..., R], *args: Any) -> R:
    """``fn(*args)`` run in a worker process (``fn``: a module-level function).

    Raises what ``fn`` raises of the package's errors (``RegistryError`` with its French
    lines), ``CoverageError`` in French when the worker died (killed, out of memory),
    :class:`TaskFailed` when ``fn`` raised anything else there, and what pickling raises when
    ``fn``, ``args`` or the result cannot cross.
    """
    global _last_used, _running
    with _lock:
        pool = _get_pool()
        _running += 1
    try:
        status, value = pool.submit(_call, fn, args).result()
    except cf.process.BrokenProcessPool as exc:  # a worker died (killed, out of memory)
        _reset()
        raise CoverageError(
            "Le calcul a été interrompu (processus de calcul arrêté) : réessayez ; le "
            "registre en usage n'a pas changé."
        ) from exc
    finally:
        with _lock:
            _running -= 1
            _last_used = time.monotonic()
    if status == "refused":
        path, problems, total = value
        raise RegistryError(path, problems, total=total)
    if status == "error":
        raise value
    if status == "failed":
        name = getattr(fn, "__qualname__", repr(fn))
        raise TaskFailed(f"task {name} failed in a worker process:\n{value}")
    return value


def offload[R](fn: Callable[..., R], *args: Any) -> R:
    """``fn(*args)`` in a worker process, or in this one when workers are off
    (``$PARCOURS_UPLOAD_WORKERS=0``) or when ``fn``, ``args`` or the result cannot cross
    between processes (a travel model holding a connection, say: logged, then run here).
    A task that fails in the worker raises :class:`TaskFailed` and is not run again."""
    if not workers_enabled():
        return fn(*args)
    try:
        return run_in_worker(fn, *args)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        log.warning("task %s run in the server: %s", getattr(fn, "__name__", fn), exc)
        return fn(*args)


def _reset() -> None:
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)


atexit.register(_reset)  # a pool left running stops before the interpreter's teardown


def shutdown_if_idle(idle_s: float = IDLE_S) -> bool:
    """Shut the pool down when no task ran for ``idle_s`` seconds; True when it did."""
    global _pool
    with _lock:
        if _pool is None or _running or time.monotonic() - _last_used < idle_s:
            return False
        pool, _pool = _pool, None
    pool.shutdown(wait=True)
    return True
