"""Uploads read in worker processes (``coverage.web.worker``) answer as the in-process reading,
refuse the same files with the same French problems, and give their memory back when idle;
each task is bounded in time and memory, stops when its visitor leaves, never takes another
visitor's task down with it, and leaves no file behind; the housekeeping thread starts once
per process and sweeps what a killed server left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import _worker_tasks as tasks
import pandas as pd
import pytest

from coverage._errors import ArgumentError, CoverageError, RegistryError
from coverage.data.region import Region
from coverage.web import housekeeping, uploads, worker

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from bench_upload import registry_bytes


@pytest.fixture(scope="module")
def data(region: Region) -> bytes:
    return registry_bytes(region, "https://example.org/liste", 2_000)


def test_a_worker_reads_as_the_server_process_does(region: Region, data: bytes) -> None:
    there = worker.run_in_worker(uploads.import_by_code, "liste ARS.csv", data, region.code, None)
    here = uploads.import_upload("liste ARS.csv", data, region=region)
    pd.testing.assert_frame_equal(there.registry.structures, here.registry.structures)
    assert there.locations == here.locations
    assert there.canonical_csv() == here.canonical_csv()
    assert there.registry.path == "liste ARS.csv" and not there.registry.is_default


def test_a_refused_file_gets_the_same_french_problems(region: Region) -> None:
    bad = b"id,name,kind,insee,source\nx,Essai,tous_publics,99999,https://example.org/a\n"
    with pytest.raises(RegistryError) as there:
        worker.run_in_worker(uploads.import_by_code, "mauvais.csv", bad, region.code, None)
    with pytest.raises(RegistryError) as here:
        uploads.import_upload("mauvais.csv", bad, region=region)
    assert there.value.problems == here.value.problems
    assert "ligne 2" in there.value.problems[0] and "insee" in there.value.problems[0]


def test_an_idle_pool_is_shut_down_and_comes_back(region: Region, data: bytes) -> None:
    worker.run_in_worker(uploads.import_by_code, "a.csv", data, region.code, None)
    assert worker.shutdown_if_idle(3600) is False  # used just now
    assert worker.shutdown_if_idle(0) is True
    assert worker.shutdown_if_idle(0) is False  # nothing left to stop
    again = worker.run_in_worker(uploads.import_by_code, "b.csv", data, region.code, None)
    assert len(again.registry.structures) == 2_000


def test_workers_can_be_turned_off(
    region: Region, data: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker.shutdown_if_idle(0)
    monkeypatch.setenv(worker.WORKERS_ENV, "0")
    imp = uploads.read_upload("c.csv", data, region=region)
    assert len(imp.registry.structures) == 2_000
    assert worker.shutdown_if_idle(0) is False  # no pool was started


def test_the_budget_refuses_before_any_worker(region: Region) -> None:
    worker.shutdown_if_idle(0)
    huge = b"id,name,kind,insee,source\n" + b"x,y,tous_publics,15014,https://e.org\n" * 6_000
    with pytest.raises(RegistryError, match="trop de lignes"):
        uploads.read_upload("gros.csv", huge, region=region)
    assert worker.shutdown_if_idle(0) is False


def test_housekeeping_starts_once_and_checks_its_interval() -> None:
    with pytest.raises(ArgumentError):
        housekeeping.start_housekeeping(0)
    housekeeping.start_housekeeping(3600)  # this call or an earlier one (the page) started it
    assert housekeeping.start_housekeeping(3600) is False
    names = [t.name for t in threading.enumerate()]
    assert names.count("memory-housekeeping") == 1
    housekeeping.collect_and_trim()  # runs without error where glibc or pyarrow is absent


def test_housekeeping_drops_the_dead_views_long_lived_frames_remember(region: Region) -> None:
    """pandas' copy-on-write keeps, in a frame, a weak reference to every view taken of it
    (a column, a slice): dead ones are cleared only from time to time. In a frame that lives
    as long as the server (the region's communes), those left by visitors' short-lived views
    pin the allocator's arenas: a housekeeping pass drops them."""
    communes = region.communes
    for _ in range(300):
        communes["name"].str.len()  # a visitor's short-lived view, dead at once

    def remembered() -> int:
        return sum(len(b.refs.referenced_blocks) for b in communes._mgr.blocks)

    assert remembered() > 300
    housekeeping.collect_and_trim()
    assert remembered() <= len(communes._mgr.blocks) * 2  # the blocks and their live views


_ARENAS_SCRIPT = r"""
import ctypes, os, sys, tempfile, threading
from coverage.web import housekeeping

capped = housekeeping.tune_malloc(2) if sys.argv[1] == "cap" else False
libc = ctypes.CDLL("libc.so.6")
libc.fopen.restype = ctypes.c_void_p
libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
libc.fclose.argtypes = [ctypes.c_void_p]
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
go, done = threading.Barrier(13), threading.Event()
kept = []

def work():
    kept.append([bytearray(4096) for _ in range(200)])  # glibc malloc, not pymalloc
    go.wait()
    done.wait()

threads = [threading.Thread(target=work) for _ in range(12)]
for t in threads:
    t.start()
go.wait()
path = os.path.join(tempfile.mkdtemp(), "info.xml")
f = libc.fopen(path.encode(), b"w")
libc.malloc_info(0, f)
libc.fclose(f)
done.set()
for t in threads:
    t.join()
print(capped, open(path).read().count("<heap nr="))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc arenas")
def test_malloc_arenas_are_capped_for_the_server_threads() -> None:
    """Twelve threads allocating at once get their own glibc arenas (up to 8 a core), unless
    ``tune_malloc`` capped them first; ``$MALLOC_ARENA_MAX`` decides when set."""
    import os
    import subprocess

    with pytest.raises(ArgumentError, match="arenas"):
        housekeeping.tune_malloc(0)
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}

    def heaps(mode: str, **extra: str) -> tuple[str, int]:
        out = subprocess.run(
            [sys.executable, "-c", _ARENAS_SCRIPT, mode],
            env={**env, **extra},
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.split()
        return out[0], int(out[1])

    assert heaps("cap") == ("True", 2)
    capped, free = heaps("free")
    assert capped == "False" and free > 2
    assert heaps("cap", MALLOC_ARENA_MAX="4") == ("False", 4)


def test_a_server_started_without_the_served_environment_is_told_how(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PYTHONMALLOC", raising=False)
    advice = housekeeping.allocator_advice()
    assert advice is not None and "PYTHONMALLOC=malloc" in advice and "make serve" in advice
    monkeypatch.setenv("PYTHONMALLOC", "pymalloc")
    assert housekeeping.allocator_advice() is not None
    for key, value in housekeeping.SERVER_ENVIRONMENT.items():
        monkeypatch.setenv(key, value)
    assert housekeeping.allocator_advice() is None


# Bounded tasks: time, memory, visitors who leave, other visitors' tasks, temporary files.


def _rss_mb() -> float:
    """This process's resident memory (``VmRSS``), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")  # pragma: no cover - Linux only


def test_a_task_past_its_time_limit_is_stopped_in_french(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker, "TIME_LIMIT_S", 2.0)
    started = time.monotonic()
    with pytest.raises(CoverageError, match="dépassé la durée permise") as stopped:
        worker.run_in_worker(tasks.pid_after, 60.0, "jamais")
    elapsed = time.monotonic() - started
    assert 2.0 <= elapsed < 2.0 + 3.0
    assert "registre en usage n'a pas changé" in str(stopped.value)
    assert worker.run_in_worker(tasks.pid_after, 0.0, "ensuite")[1] == "ensuite"  # replaced
    worker.shutdown_if_idle(0)


def test_a_task_past_the_memory_cap_fails_in_french_and_its_worker_is_replaced() -> None:
    worker.shutdown_if_idle(0)
    soft, _ = worker.run_in_worker(tasks.vm_data_limit)
    assert soft == worker.MEMORY_LIMIT_BYTES
    before_pid = worker.run_in_worker(tasks.pid_after, 0.0, None)[0]
    rss = _rss_mb()
    started = time.monotonic()
    with pytest.raises(CoverageError, match="demande trop de mémoire"):
        worker.run_in_worker(tasks.grow, 64 * 2**20)
    assert time.monotonic() - started < 10.0
    assert _rss_mb() - rss < 50  # the server's memory did not follow the worker's
    after_pid = worker.run_in_worker(tasks.pid_after, 0.0, None)[0]
    assert after_pid not in (before_pid, os.getpid())  # a fresh worker
    worker.shutdown_if_idle(0)


def _in_thread(fn: Any, *args: Any, **kwargs: Any) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def run() -> None:
        started = time.monotonic()
        try:
            out["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # the test looks at it
            out["error"] = exc
        out["elapsed"] = time.monotonic() - started

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


@pytest.mark.parametrize("how", ["time limit", "visitor left"])
def test_one_task_stopped_leaves_the_other_visitors_task_alone(how: str) -> None:
    worker.shutdown_if_idle(0)
    kwargs: dict[str, Any] = {}
    if how == "time limit":
        kwargs["time_limit_s"] = 2.0
    else:
        leave_at = time.monotonic() + 2.0
        kwargs["still_wanted"] = lambda: time.monotonic() < leave_at
    other, other_out = _in_thread(worker.run_in_worker, tasks.pid_after, 5.0, "l'autre")
    bomb, bomb_out = _in_thread(worker.run_in_worker, tasks.pid_after, 60.0, "bombe", **kwargs)
    bomb.join(30)
    other.join(30)
    assert isinstance(bomb_out.get("error"), CoverageError)
    assert bomb_out["elapsed"] < 2.0 + 3.0
    pid, value = other_out["value"]  # it finished normally, with its own answer
    assert value == "l'autre" and pid != os.getpid()
    worker.shutdown_if_idle(0)


def test_the_task_folder_is_private_and_gone_after_a_kill() -> None:
    with pytest.raises(CoverageError, match="durée permise"):
        with worker.scratch_folder() as folder:
            assert folder.name.startswith(worker.SCRATCH_PREFIX)
            assert folder.stat().st_mode & 0o777 == 0o700
            worker.run_in_worker(tasks.write_then_sleep, folder, 60.0, time_limit_s=2.0)
    assert not folder.exists()
    worker.shutdown_if_idle(0)


def test_an_upload_read_in_a_worker_leaves_no_file(region: Region, data: bytes) -> None:
    def ours() -> set[str]:
        return {p.name for p in Path(tempfile.gettempdir()).glob(worker.SCRATCH_PREFIX + "*")}

    before = ours()
    uploads.read_upload("d.csv", data, region=region)
    assert ours() <= before
    worker.shutdown_if_idle(0)


def test_stale_task_folders_are_swept_when_the_server_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = time.time() - 2 * worker.STALE_SCRATCH_S

    def folder(name: str, mtime: float) -> Path:
        path = tmp_path / name
        path.mkdir()
        (path / "registre.ods").write_bytes(b"x")
        os.utime(path, (mtime, mtime))
        return path

    stale = folder("parcours-upload-abcd1234", old)
    fresh = folder("parcours-upload-efgh5678", time.time())
    other = folder("autre-chose-old", old)
    outside = folder("dehors", old)
    link = tmp_path / "parcours-upload-lien0000"
    link.symlink_to(outside, target_is_directory=True)
    os.utime(link, (old, old), follow_symlinks=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    started: list[float] = []
    monkeypatch.setattr(housekeeping, "_started", threading.Event())
    monkeypatch.setattr(housekeeping, "_start_thread", started.append)
    assert housekeeping.start_housekeeping(3600) is True
    assert started == [3600]
    assert not stale.exists()
    assert fresh.exists() and other.exists() and (outside / "registre.ods").exists()


_SIGTERM_SCRIPT = r"""
import signal, sys, threading, time
sys.path[:0] = sys.argv[2:]
import _worker_tasks
from coverage.web import worker

if sys.argv[1] == "handled":  # as Streamlit does: the main thread leaves, atexit runs
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
threading.Thread(
    target=worker.run_in_worker, args=(_worker_tasks.pid_after, 600.0, 0), daemon=True
).start()
while not worker._workers:
    time.sleep(0.05)
time.sleep(0.5)
print(*(w.process.pid for w in worker._workers), flush=True)
time.sleep(600)
"""


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split()[2] == "Z"  # a zombie whose parent is gone: finished


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and signals")
@pytest.mark.parametrize("mode", ["handled", "default"])
def test_a_server_stopped_mid_task_leaves_no_worker_running(mode: str) -> None:
    paths = [str(Path(__file__).parent), str(Path(__file__).resolve().parents[1])]
    server = subprocess.Popen(
        [sys.executable, "-c", _SIGTERM_SCRIPT, mode, *paths],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        pids = [int(p) for p in server.stdout.readline().split()]
        assert pids
        started = time.monotonic()
        server.send_signal(signal.SIGTERM)
        server.wait(10)
        while not all(_gone(p) for p in pids) and time.monotonic() - started < 10:
            time.sleep(0.1)
        assert all(_gone(p) for p in pids)
        assert time.monotonic() - started < 5.0
    finally:
        server.kill()
        server.wait()


# The applicants upload of the desk ("Sites suggérés").


def _applicants(rows: int) -> bytes:
    lines = ["id,name,insee,source"] + [
        f"cand-{i},Candidat {i},{code},https://example.org/test"
        for i, code in zip(range(rows), ["15014", "43157", "07186"] * rows, strict=False)
    ]
    return ("\n".join(lines) + "\n").encode()


def _desk_sites() -> Any:
    from streamlit.testing.v1 import AppTest
    from test_app_unit import _page_script

    at = AppTest.from_function(_page_script, args=("desk", "planner_page"), default_timeout=120)
    at.query_params["onglet"] = "Sites suggérés"
    return at.run()


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = worker.run_in_worker

    def spy(fn: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(getattr(fn, "__name__", repr(fn)))
        return real(fn, *args, **kwargs)

    monkeypatch.setattr(worker, "run_in_worker", spy)
    return calls


def test_the_applicants_upload_is_read_once_in_a_worker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = _spy(monkeypatch)
    at = _desk_sites()
    at.number_input(key="site_k").set_value(1)
    at.file_uploader(key="site_candidates").set_value(("candidats.csv", _applicants(3), "text/csv"))
    at.button[0].click().run()
    assert not at.exception
    assert "Candidature" in at.dataframe[-1].value.columns
    at.number_input(key="site_k").set_value(2)
    at.button[0].click().run()
    assert not at.exception
    # In a worker, once for this upload; each siting is a plan, in a worker too.
    assert calls.count("read_candidates") == 1
    assert calls == ["read_candidates", "plan", "plan"]
    worker.shutdown_if_idle(0)


def test_an_applicants_file_over_the_budget_is_refused_before_any_worker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = _spy(monkeypatch)
    at = _desk_sites()
    at.file_uploader(key="site_candidates").set_value(
        ("candidats.csv", _applicants(6_000), "text/csv")
    )
    started = time.monotonic()
    at.button[0].click().run()
    assert time.monotonic() - started < 30  # the page's whole run, the refusal in ms
    assert not at.exception
    shown = " ".join(str(e.proto.body) for e in at.get("html"))
    assert "trop de lignes" in shown
    assert calls == []
