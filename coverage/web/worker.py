"""Registry uploads read in worker processes, so that their memory goes back to the system.

Reading a 5,000-row spreadsheet allocates hundreds of megabytes of short-lived objects (the
workbook, its cells, the rows as text, the located communes). In the server process that
memory stays with the allocator once freed (+200 MB after ten sessions had uploaded and
closed, ``benchmarks/soak.py``). Here the reading runs in a pool of at most
:data:`coverage.web.budget.UPLOAD_SLOTS` worker processes (``spawn``: no fork of a threaded
server), which hand back only the result (the registry and how each row was read, a few
megabytes). The pool is shut down after :data:`IDLE_S` seconds without an upload
(``coverage.web.housekeeping`` asks), and each worker is replaced after
:data:`TASKS_PER_WORKER` uploads: what a worker's allocator keeps is bounded, and freed.

``$PARCOURS_UPLOAD_WORKERS=0`` reads uploads in the server process instead (same answers).
"""

from __future__ import annotations

import atexit
import concurrent.futures as cf
import multiprocessing
import multiprocessing.spawn
import os
import threading
import time
from typing import Any

from coverage._errors import CoverageError, RegistryError
from coverage.data.registry import RegistryImport

#: Environment variable: ``0`` reads uploads in the server process.
WORKERS_ENV = "PARCOURS_UPLOAD_WORKERS"
#: Uploads a worker reads before it is replaced by a fresh process.
TASKS_PER_WORKER = 20
#: Seconds without an upload after which the pool is shut down.
IDLE_S = 60.0

_lock = threading.Lock()
_pool: cf.ProcessPoolExecutor | None = None
_last_used = 0.0
_running = 0


def workers_enabled() -> bool:
    """False when ``$PARCOURS_UPLOAD_WORKERS`` is ``0``."""
    return os.environ.get(WORKERS_ENV, "").strip() != "0"


def _without_main(name: str) -> dict[str, Any]:
    """``spawn``'s preparation data without the main module: a worker needs only this module
    (its task is ``coverage.web.worker._read``). Under Streamlit the main module is the page
    script, which a worker must never run again."""
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
            max_tasks_per_child=TASKS_PER_WORKER,
        )
    return _pool


def _read(name: str, data: bytes, region: str, sheet: str | None) -> tuple[str, Any]:
    """In the worker: ("ok", RegistryImport) or ("refused", (name, problems, total))."""
    from coverage.data.region import load_region
    from coverage.web.uploads import import_upload

    try:
        return "ok", import_upload(name, data, region=load_region(region=region), sheet=sheet)
    except RegistryError as exc:
        return "refused", (exc.path, exc.problems, exc.total)


def import_in_worker(
    name: str, data: bytes, *, region: str, sheet: str | None = None
) -> RegistryImport:
    """:func:`coverage.web.uploads.import_upload` run in a worker process.

    Raises ``RegistryError`` (French, per line) as the in-process reading does.
    """
    global _last_used, _running
    with _lock:
        pool = _get_pool()
        _running += 1
    try:
        status, value = pool.submit(_read, name, data, region, sheet).result()
    except cf.process.BrokenProcessPool as exc:  # a worker died (killed, out of memory)
        _reset()
        raise CoverageError(
            "La lecture du fichier a été interrompue (processus de lecture arrêté) : "
            "réessayez ; le registre en usage n'a pas changé."
        ) from exc
    finally:
        with _lock:
            _running -= 1
            _last_used = time.monotonic()
    if status == "refused":
        path, problems, total = value
        raise RegistryError(path, problems, total=total)
    return value


def _reset() -> None:
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)


atexit.register(_reset)  # a pool left running stops before the interpreter's teardown


def shutdown_if_idle(idle_s: float = IDLE_S) -> bool:
    """Shut the pool down when no upload ran for ``idle_s`` seconds; True when it did."""
    global _pool
    with _lock:
        if _pool is None or _running or time.monotonic() - _last_used < idle_s:
            return False
        pool, _pool = _pool, None
    pool.shutdown(wait=True)
    return True
