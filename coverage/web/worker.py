"""Heavy work of uploads run in worker processes, bounded in time and memory, one task each.

Reading a 5,000-row spreadsheet allocates hundreds of megabytes of short-lived objects (the
workbook, its cells, the rows as text, the located communes); so do the analysis, the maps
and the what-ifs of a 5,000-structure upload (records, dissolved zones, tooltips, JSON). In
the server process that memory stays with the allocators once freed: a few small objects
that outlive a session (caches, pandas' reference lists) pin the 1 MiB arenas and heap pages
that its short-lived ones had filled (``benchmarks/soak.py`` measures the server's growth).
Here that work runs in at most :data:`coverage.web.budget.UPLOAD_SLOTS`
worker processes (``spawn``: no fork of a threaded server), which hand back only results: the
registry and how each row was read, access tables, analyses, what-ifs (a few megabytes of
arrays) and maps as HTML text.

A hostile file can still cost more than its bytes say (issue 22), so every task is bounded:

- each worker runs one task at a time, over a pipe of its own: stopping a task kills its
  worker only, never another visitor's task (a shared ``ProcessPoolExecutor`` cancels every
  task in flight when one of its workers dies);
- a task is stopped after :data:`TIME_LIMIT_S` seconds, and as soon as its visitor has left
  (the page closed, the server stopping: :func:`visitor_still_here`, polled every
  :data:`POLL_S` seconds), by killing its worker, which is replaced when next needed;
- a worker's data segment is capped at :data:`MEMORY_LIMIT_BYTES` (``RLIMIT_DATA``): an
  allocation past it raises ``MemoryError`` there, which comes back as a French refusal,
  and the worker is replaced;
- the files a task writes go to a private folder the server makes (:func:`scratch_folder`)
  and removes whatever happens; what a killed server left is swept at start-up
  (:func:`sweep_scratch`).

Workers are replaced after :data:`TASKS_PER_WORKER` tasks and stopped after :data:`IDLE_S`
seconds without a task (``coverage.web.housekeeping`` asks): what a worker's allocator keeps
is bounded, and freed.

:func:`offload` runs a task of :mod:`coverage.web.tasks` there. ``$PARCOURS_UPLOAD_WORKERS=0``
runs every task in the server process instead (same answers, no bounds). This module does not
import Streamlit (its workers import it).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import multiprocessing
import multiprocessing.spawn
import os
import pickle
import shutil
import stat
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from coverage import french
from coverage._errors import CoverageError, RegistryError

log = logging.getLogger("coverage.app")

#: Environment variable: ``0`` runs the heavy work of uploads in the server process.
WORKERS_ENV = "PARCOURS_UPLOAD_WORKERS"
#: Tasks a worker runs before it is replaced by a fresh process (an upload session is a few:
#: its reading, access table, analysis, maps, what-ifs).
TASKS_PER_WORKER = 100
#: Seconds without a task after which the idle workers are stopped.
IDLE_S = 60.0
#: Longest a task may run, in seconds: well above the slowest valid work (a 5,000-structure
#: upload read, or its maps), well below the bombs of issue 22.
TIME_LIMIT_S = 120.0
#: A worker's data segment (``RLIMIT_DATA``: heap and private memory maps), in bytes. A worker
#: that loaded the region and read, measured, analysed and drew a 5,000-structure upload holds
#: a fraction of it (``VmData``); two workers at the cap stay within 4 GiB.
MEMORY_LIMIT_BYTES = 2 * 2**30
#: Seconds between two looks at a running task (its visitor, its time).
POLL_S = 0.5
#: Name prefix of a task's private temporary folder.
SCRATCH_PREFIX = "parcours-upload-"
#: Age after which a task folder left in the temporary directory is stale (its server was
#: killed): no task lasts that long after its file was written.
STALE_SCRATCH_S = 2 * TIME_LIMIT_S
#: How much lower a worker's CPU priority is than the server's (``nice``).
NICE = 10

TIME_LIMIT_FR = (
    "Le calcul a dépassé la durée permise ({limit}) et a été arrêté : le fichier demande "
    "trop de travail pour ce service. Le registre en usage n'a pas changé."
)
MEMORY_FR = (
    "Le calcul a été arrêté : le fichier demande trop de mémoire pour ce service (plus de "
    "{limit}). Le registre en usage n'a pas changé."
)
DIED_FR = (
    "Le calcul a été interrompu (processus de calcul arrêté) : réessayez ; le registre en "
    "usage n'a pas changé."
)
LEFT_FR = "Le calcul a été arrêté : la page a été fermée ou rechargée."


class TaskFailed(RuntimeError):
    """A task raised an unexpected exception in a worker (a bug, not a refusal): its
    traceback there, as text. The task is not run again in the server."""


class TaskStopped(CoverageError):
    """A task was stopped before its end (time limit, visitor gone, worker killed); the
    message says which, in French."""


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


# In the worker.


def _lower_priority() -> None:
    """In a new worker: yield the CPU to the server, whose searches and pages are waited
    for; the heavy builds come second."""
    try:
        os.nice(NICE)
    except OSError:  # pragma: no cover - a platform that refuses: same priority
        pass


def _cap_memory(limit: int) -> None:
    """In a new worker: cap its data segment at ``limit`` bytes."""
    try:
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_DATA)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))
    except (ImportError, ValueError, OSError):  # pragma: no cover - not POSIX: no cap
        log.warning("upload workers run without a memory cap on this platform")


def _watch_parent(parent: int) -> None:
    """In a worker: exit as soon as the server that started it is gone (killed without its
    ``atexit``), rather than finish a task nobody waits for."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(1)


def _serve(conn: Connection, parent: int, memory_limit: int) -> None:
    """A worker's life: set its bounds, then run the tasks received on ``conn`` one by one
    until told to stop (``None``) or its server is gone."""
    # pyarrow's default allocator (mimalloc) reserves 1 GiB of address space at first use,
    # which the cap would count; the system allocator reserves nothing ahead.
    os.environ["ARROW_DEFAULT_MEMORY_POOL"] = "system"
    os.environ[WORKERS_ENV] = "0"  # a task that offloads runs here, in its bounds
    _lower_priority()
    _cap_memory(memory_limit)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the server is gone
            return
        except MemoryError:
            conn.send(("memory", None))
            return
        except Exception as exc:  # the task could not be read here (its module, say)
            conn.send(("failed", "".join(traceback.format_exception(exc))))
            continue
        if message is None:
            return
        fn, args = message
        reply = _call(fn, args)
        del message, fn, args
        try:
            conn.send(reply)
        except MemoryError:
            conn.send(("memory", None))
        except Exception as exc:  # the result cannot cross: the server runs the task itself
            conn.send(("unsendable", f"{type(exc).__name__}: {exc}"))
        if reply[0] == "memory":
            return  # a worker that ran out of memory is replaced


def _portable(exc: CoverageError) -> CoverageError:
    """``exc`` if it survives pickling whole, else a ``CoverageError`` with its message."""
    try:
        back = pickle.loads(pickle.dumps(exc))  # noqa: S301 - our own bytes, just made
    except Exception:  # any failure means: send the message only
        return CoverageError(str(exc))
    return back if str(back) == str(exc) else CoverageError(str(exc))


def _call(fn: Callable[..., Any], args: tuple[Any, ...]) -> tuple[str, Any]:
    """In the worker: ("ok", result), ("refused", (path, problems, total)) for a refused
    registry, ("error", CoverageError) for the package's other errors (French), ("memory",
    None) past the memory cap, or ("failed", traceback text) for any other exception: so that
    an exception raised in the server can only come from sending the task or its result."""
    try:
        return "ok", fn(*args)
    except RegistryError as exc:
        return "refused", (exc.path, exc.problems, exc.total)
    except CoverageError as exc:
        return "error", _portable(exc)
    except MemoryError:
        return "memory", None
    except Exception as exc:  # a bug in the task: its traceback crosses as text
        return "failed", "".join(traceback.format_exception(exc))


# In the server.


@dataclass(eq=False)
class _Worker:
    """A worker process, the server's end of its pipe, and the tasks it ran."""

    process: BaseProcess
    conn: Connection
    tasks: int = 0

    @classmethod
    def start(cls) -> _Worker:
        ctx = multiprocessing.get_context("spawn")
        here, there = ctx.Pipe(duplex=True)
        # The page's server's only spawned processes: they do not import the page script.
        multiprocessing.spawn.get_preparation_data = _without_main
        process = ctx.Process(
            target=_serve,
            args=(there, os.getpid(), MEMORY_LIMIT_BYTES),
            name="parcours-upload-worker",
            daemon=True,
        )
        process.start()
        there.close()
        return cls(process, here)

    def kill(self) -> None:
        """Stop at once (a task running there is lost)."""
        with contextlib.suppress(Exception):
            self.process.kill()
        self.process.join(5)
        self.conn.close()

    def stop(self) -> None:
        """Stop an idle worker: asked first, killed if it does not go."""
        with contextlib.suppress(OSError, ValueError):
            self.conn.send(None)
        self.process.join(2)
        self.kill()


_lock = threading.Lock()
_free = threading.Condition(_lock)
#: Workers waiting for a task.
_idle: list[_Worker] = []
#: Every live worker, idle or busy (killed at exit).
_workers: set[_Worker] = set()
#: Tasks holding a worker (or starting one).
_running = 0
_last_used = 0.0


def _always() -> bool:
    return True


def visitor_still_here() -> Callable[[], bool]:
    """Whether the visitor who asked for the current task still waits for it: a check to poll
    from the same thread. False once the visitor's Streamlit session is gone, its script run
    was asked to stop (tab closed), or the server is stopping; always True outside a page's
    script run (the command line, tests)."""
    if "streamlit" not in sys.modules:
        return _always
    from streamlit.runtime import Runtime, RuntimeState
    from streamlit.runtime.scriptrunner_utils.script_requests import ScriptRequestType
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None:
        return _always
    requests, session = ctx.script_requests, ctx.session_id
    ending = {RuntimeState.STOPPING, RuntimeState.STOPPED}

    def still_here() -> bool:
        if getattr(requests, "_state", None) is ScriptRequestType.STOP:
            return False
        if not Runtime.exists():  # a page run without a server (AppTest)
            return True
        runtime = Runtime.instance()
        return runtime.state not in ending and runtime.is_active_session(session)

    return still_here


def _take(still_wanted: Callable[[], bool]) -> _Worker:
    """An idle worker, or a new one when fewer than ``UPLOAD_SLOTS`` run; else wait."""
    global _running
    from coverage.web.budget import UPLOAD_SLOTS

    with _free:
        while True:
            while _idle:
                w = _idle.pop()
                if w.process.is_alive():
                    _running += 1
                    return w
                _workers.discard(w)
            if _running < UPLOAD_SLOTS:
                _running += 1
                break
            _free.wait(POLL_S)
            if not still_wanted():
                raise TaskStopped(LEFT_FR)
    try:
        w = _Worker.start()
    except BaseException:
        _give_back(None)
        raise
    with _lock:
        _workers.add(w)
    return w


def _give_back(w: _Worker | None, *, healthy: bool = False) -> None:
    """End of a task on ``w``: kept for the next one when ``healthy`` and not worn out, else
    stopped (killed when not healthy)."""
    global _running, _last_used
    keep = w is not None and healthy and w.tasks < TASKS_PER_WORKER and w.process.is_alive()
    with _free:
        _running -= 1
        _last_used = time.monotonic()
        if keep and w is not None:
            _idle.append(w)
        elif w is not None:
            _workers.discard(w)
        _free.notify()
    if w is not None and not keep:
        if healthy:
            w.stop()
        else:
            w.kill()


def run_in_worker[R](
    fn: Callable[..., R],
    *args: Any,
    still_wanted: Callable[[], bool] | None = None,
    time_limit_s: float | None = None,
) -> R:
    """``fn(*args)`` run in a worker process (``fn``: a module-level function).

    The task is stopped, by killing its worker, after ``time_limit_s`` seconds
    (:data:`TIME_LIMIT_S` when ``None``) or as soon as ``still_wanted()`` is False (polled
    every :data:`POLL_S` seconds; :func:`visitor_still_here` when ``None``). The worker's
    memory is capped at :data:`MEMORY_LIMIT_BYTES`.

    Raises what ``fn`` raises of the package's errors (``RegistryError`` with its French
    lines); :class:`TaskStopped` (a ``CoverageError``, in French) past the time limit, past
    the memory cap, when the visitor left or the worker died; :class:`TaskFailed` when ``fn``
    raised anything else there; and what pickling raises when ``fn`` or ``args`` cannot cross
    (``pickle.PicklingError`` when the result cannot).
    """
    wanted = visitor_still_here() if still_wanted is None else still_wanted
    limit = TIME_LIMIT_S if time_limit_s is None else time_limit_s
    w = _take(wanted)
    sent = answered = False
    status, value = "", None
    try:
        w.conn.send((fn, args))  # pickled here first: what cannot cross raises here
        sent = True
        w.tasks += 1
        deadline = time.monotonic() + limit
        while not w.conn.poll(POLL_S):
            if time.monotonic() >= deadline:
                name = getattr(fn, "__qualname__", repr(fn))
                log.warning("task %s stopped after %.0f s", name, limit)
                raise TaskStopped(TIME_LIMIT_FR.format(limit=french.seconds(limit)))
            if not wanted():
                raise TaskStopped(LEFT_FR)
        try:
            status, value = w.conn.recv()
        except (EOFError, OSError) as exc:  # the worker died (killed, out of memory)
            raise TaskStopped(DIED_FR) from exc
        answered = True
    finally:
        # Kept when it answered (or was never sent anything), unless it ran out of memory.
        _give_back(w, healthy=(answered and status != "memory") or not sent)
    if status == "refused":
        path, problems, total = value
        raise RegistryError(path, problems, total=total)
    if status == "error":
        raise value
    if status == "memory":
        limit_fr = french.megabytes(MEMORY_LIMIT_BYTES / 2**20)
        raise TaskStopped(MEMORY_FR.format(limit=limit_fr))
    if status == "unsendable":
        raise pickle.PicklingError(value)
    if status == "failed":
        name = getattr(fn, "__qualname__", repr(fn))
        raise TaskFailed(f"task {name} failed in a worker process:\n{value}")
    return value


def offload[R](
    fn: Callable[..., R], *args: Any, still_wanted: Callable[[], bool] | None = None
) -> R:
    """``fn(*args)`` in a worker process (:func:`run_in_worker`), or in this one when workers
    are off (``$PARCOURS_UPLOAD_WORKERS=0``) or when ``fn``, ``args`` or the result cannot
    cross between processes (a travel model holding a connection, say: logged, then run
    here). A task that fails in the worker raises :class:`TaskFailed` and is not run again."""
    if not workers_enabled():
        return fn(*args)
    try:
        return run_in_worker(fn, *args, still_wanted=still_wanted)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        log.warning("task %s run in the server: %s", getattr(fn, "__name__", fn), exc)
        return fn(*args)


def _kill_all() -> None:
    """Kill every worker, idle or busy (the interpreter is leaving)."""
    with _lock:
        everyone = list(_workers)
        _workers.clear()
        _idle.clear()
    for w in everyone:
        w.kill()


atexit.register(_kill_all)  # workers stop before the interpreter's teardown


def shutdown_if_idle(idle_s: float = IDLE_S) -> bool:
    """Stop the idle workers when no task ran for ``idle_s`` seconds and none runs; True when
    there were some."""
    with _lock:
        if not _idle or _running or time.monotonic() - _last_used < idle_s:
            return False
        stopping = list(_idle)
        _idle.clear()
        _workers.difference_update(stopping)
    for w in stopping:
        w.stop()
    return True


# A task's files.


@contextlib.contextmanager
def scratch_folder() -> Iterator[Path]:
    """A private folder (mode 0700, named :data:`SCRATCH_PREFIX`…) for the files of one task,
    made by the server and removed when the block ends, whatever happened to the task."""
    folder = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def sweep_scratch(older_than_s: float | None = None) -> int:
    """Remove the task folders older than ``older_than_s`` seconds (:data:`STALE_SCRATCH_S`
    when ``None``) left in the temporary directory by a server that was killed; how many.

    Only this user's real folders named :data:`SCRATCH_PREFIX`… are removed (never a link)."""
    age = STALE_SCRATCH_S if older_than_s is None else older_than_s
    root = Path(tempfile.gettempdir())
    before = time.time() - age
    removed = 0
    try:
        entries = list(os.scandir(root))
    except OSError:
        return 0
    for entry in entries:
        if not entry.name.startswith(SCRATCH_PREFIX):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            continue
        if info.st_mtime < before:
            shutil.rmtree(entry.path, ignore_errors=True)
            removed += 1
    return removed
