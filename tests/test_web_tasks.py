"""An uploaded registry's heavy builds (``coverage.web.tasks``) run in a worker process and
answer as in the server process; the package's errors come back whole, in French; a finder
crosses to the worker as its parts, without the region."""

from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path

import pandas as pd
import pytest

from coverage._errors import CoverageError, ValidationError
from coverage.data.region import Region
from coverage.patient.finder import Finder
from coverage.web import tasks, worker
from coverage.web.builders import finder_for_registry
from coverage.web.search import run_search
from coverage.web.sources import UploadSource
from coverage.web.uploads import import_upload

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from bench_upload import registry_bytes


@pytest.fixture(scope="module")
def upload_finder(region: Region, finder: Finder) -> Finder:
    data = registry_bytes(region, "https://example.org/liste", 300)
    registry = import_upload("liste.csv", data, region=region).registry
    return finder_for_registry(region, registry, model=finder.model)


def _answers(source: UploadSource, finder: Finder) -> tuple:
    a = source.analysis(30.0, "distance_km")
    add = (str(finder.region.communes["insee"].iloc[0]),)
    result = source.scenario(a, (add, ()))
    found = run_search(finder, "Aurillac").result
    assert found is not None
    return (
        a,
        result,
        source.coverage_map(a),
        source.scenario_map(a, (add, ()), result),
        source.finder_map("Aurillac", False, found),
        source.report(a),
        source.charts(a),
    )


def test_an_upload_answers_the_same_in_a_worker(
    upload_finder: Finder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(worker.WORKERS_ENV, "0")
    here = _answers(UploadSource("k", "liste.csv", upload_finder), upload_finder)
    monkeypatch.delenv(worker.WORKERS_ENV)
    worker.shutdown_if_idle(0)
    there = _answers(UploadSource("k", "liste.csv", upload_finder), upload_finder)
    assert worker.shutdown_if_idle(0) is True  # the builds ran in the pool
    a_here, a_there = here[0], there[0]
    assert a_there.headline == a_here.headline
    pd.testing.assert_frame_equal(a_there.communes, a_here.communes)
    pd.testing.assert_frame_equal(there[1].access.communes, here[1].access.communes)
    for html_here, html_there in zip(here[2:5], there[2:5], strict=True):
        assert html_there.startswith("<!DOCTYPE html>")
        assert len(html_there) == len(html_here)  # same features; element ids may differ
    assert there[5] == here[5] and there[6] == here[6]


def test_parts_cross_without_the_region_and_rebuild_the_finder(upload_finder: Finder) -> None:
    parts = tasks.FinderParts.of("k", upload_finder)
    assert parts.finder() is upload_finder  # here: the finder itself
    sent = pickle.dumps(parts)
    assert len(sent) < len(pickle.dumps(upload_finder.region.communes)) / 2
    back = pickle.loads(sent)
    assert back.local is None
    rebuilt = back.finder()
    assert rebuilt is not upload_finder and rebuilt is back.finder()  # kept per key
    assert rebuilt.region.code == upload_finder.region.code
    pd.testing.assert_frame_equal(rebuilt.registry.structures, upload_finder.registry.structures)


def _refuse(threshold: float) -> None:
    raise ValidationError(f"seuil={threshold!r} refusé : il doit être positif.")


def _crash() -> None:
    os._exit(3)  # a worker killed mid-task


def test_errors_come_back_in_french_and_a_dead_worker_is_said() -> None:
    with pytest.raises(ValidationError, match=r"seuil=-1\.0 refusé"):
        worker.run_in_worker(_refuse, -1.0)
    with pytest.raises(CoverageError, match="interrompu") as died:
        worker.run_in_worker(_crash)
    assert isinstance(died.value, worker.TaskStopped)
    assert not isinstance(died.value, ValidationError)  # not the file's fault
    assert worker.run_in_worker(len, "abc") == 3  # a new pool after the broken one
    worker.shutdown_if_idle(0)


def test_what_cannot_be_sent_runs_here(monkeypatch: pytest.MonkeyPatch) -> None:
    worker.shutdown_if_idle(0)
    here = os.getpid()
    assert worker.offload(os.getpid) != here  # sent: another process
    unsendable = lambda: os.getpid()  # noqa: E731 - a lambda cannot be pickled
    assert worker.offload(unsendable) == here
    monkeypatch.setenv(worker.WORKERS_ENV, "0")
    assert worker.offload(os.getpid) == here
    worker.shutdown_if_idle(0)


def test_workers_yield_the_cpu_to_the_server() -> None:
    worker.shutdown_if_idle(0)
    mine = os.nice(0)
    assert worker.run_in_worker(os.nice, 0) == min(19, mine + worker.NICE)
    worker.shutdown_if_idle(0)


def _buggy(tag: str) -> None:
    raise TypeError(f"{tag} in process {os.getpid()}")  # a bug in a task, not in its sending


def test_a_task_that_fails_in_the_worker_is_not_run_again_here() -> None:
    """Only what could not be sent runs in the server; a task's own TypeError (a bug) comes
    back as the worker's failure, with its traceback, and the task does not run twice."""
    worker.shutdown_if_idle(0)
    with pytest.raises(worker.TaskFailed) as failed:
        worker.offload(_buggy, "boom")
    message = str(failed.value)
    assert "_buggy" in message and "TypeError: boom in process" in message
    assert f"in process {os.getpid()}" not in message  # raised there, never run here
    worker.shutdown_if_idle(0)
