"""Uploads read in worker processes (``coverage.web.worker``) answer as the in-process reading,
refuse the same files with the same French problems, and give their memory back when idle;
the housekeeping thread starts once per process."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pandas as pd
import pytest

from coverage._errors import ArgumentError, RegistryError
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
