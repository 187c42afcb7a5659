"""Issue 22's bombs through the page: the registry upload, the desk's applicants and the desk's
planner files each refuse every bomb in French, within 2 s of the server's CPU and 300 MB of
its peak memory, before any worker starts.

The page runs in this process (Streamlit's AppTest), so the server's cost is this process's:
CPU time from ``time.process_time`` (every thread) and the peak resident memory from
``VmHWM``, reset to the current level through ``/proc/self/clear_refs`` before each upload.
"""

from __future__ import annotations

import time
from pathlib import Path

import _bombs
import pytest
from streamlit.testing.v1 import AppTest

from coverage.web import worker

TIMEOUT = 120
CPU_S = 2.0
PEAK_MB = 300.0
#: The three ways a visitor hands the server a workbook: (page, its widget's key).
WIDGETS = (
    ("registry", "registry_file"),
    ("desk", "site_candidates"),
    ("desk", "plan_demand"),
)


def _script(module: str) -> None:
    import importlib

    pages = {"registry": "registry_page", "desk": "planner_page"}
    getattr(importlib.import_module(f"coverage.web.pages.{module}"), pages[module])()


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/self/status")


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("bombs")
    return {name: build(folder).read_bytes() for name, build in _bombs.CORPUS.items()}


@pytest.mark.parametrize(("page", "key"), WIDGETS)
def test_every_bomb_is_refused_by_the_page_in_bounded_time_and_memory(
    corpus, page, key, monkeypatch
):
    started: list[object] = []
    monkeypatch.setattr(worker, "run_in_worker", lambda fn, *a, **k: started.append(fn))
    at = AppTest.from_function(_script, args=(page,), default_timeout=TIMEOUT)
    if page == "desk":
        at.query_params["onglet"] = "Sites suggérés"
    at.run()
    assert not at.exception
    for name, data in corpus.items():
        suffix = ".ods" if name.startswith("ods") else ".xlsx"
        exact = _reset_peak()
        before_kb = _status_kb("VmRSS")
        cpu = time.process_time()
        at.file_uploader(key=key).set_value((f"{name}{suffix}", data, "application/octet-stream"))
        if key == "site_candidates":  # a form: its file is sent with "Suggérer"
            at.button[0].click()
        at.run()
        spent = time.process_time() - cpu
        grown_mb = (_status_kb("VmHWM") - before_kb) / 1024 if exact else 0.0
        assert not at.exception, (name, at.exception)
        shown = " ".join(str(e.proto.body) for e in at.get("html")) + " ".join(
            str(e.value) for e in at.error
        )
        assert "est refusé" in shown, (name, shown[:300])
        assert spent < CPU_S, f"{name} via {key}: {spent:.2f} s of CPU"
        assert grown_mb < PEAK_MB, f"{name} via {key}: +{grown_mb:.0f} MB"
        at.file_uploader(key=key).set_value(None)
    assert started == []  # every bomb was refused before any worker ran
