"""Load: the Streamlit server under concurrent sessions; and sessions kept apart.

- A ~20 s soak of ``streamlit run app.py`` (headless, free loopback port) with concurrent
  browser-free sessions over Streamlit's websocket protocol, using ``benchmarks/soak.py``:
  searches, uploads of a 5,000-row registry through the file widget (HTTP ``PUT``) and
  what-ifs on the desk, each answer checked; no error, the server's memory levels off (the
  last third of the samples is not more than 15 % above the middle third) and stays under
  the soak's budget. The server keeps closed sessions 5 s here (``disconnectedSessionTTL``)
  so that the test also sees them expire. Figures for longer runs: ``benchmarks/soak.py``.
- The hostile-upload soak for 45 s (``benchmarks/soak_hostile.py``): two of six sessions
  upload issue 22's bombs through both upload widgets; each is refused in French, the valid
  searches' p95 stays under 2 s and no valid upload meets a full queue.
- Two ``AppTest`` sessions: one uploads a registry through the file widget, then runs a
  what-if on the planners' desk; the other, before and after, sees the server's registry and
  unchanged figures. (AppTest instances cannot run at the same time in one process: they
  share Streamlit's runtime singleton. Concurrent sessions are checked on the real server by
  the soak, which fails if any answer is about another session's place.)
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
TIMEOUT = 120

pytestmark = pytest.mark.skipif(not APP.is_file(), reason="app.py has not landed yet")


def _soak_module(name: str = "soak"):
    spec = importlib.util.spec_from_file_location(
        f"parcours_{name}", ROOT / "benchmarks" / f"{name}.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_concurrent_sessions_for_20_seconds() -> None:
    soak = _soak_module()
    with soak.running_server(session_ttl_s=5) as server:
        report = soak.soak(server, sessions=4, seconds=20, wait_workers=False)
    print("\n".join(report.lines()))
    assert report.errors == []
    assert len(report.searches) >= 10 and report.hostile >= 1 and report.pages
    # Every kind ran, and every upload ended with the uploaded registry in use.
    assert report.count("dépôt") >= 1 and report.uploads_in_use == report.count("dépôt")
    assert report.count("scénario") >= 3 and report.count("ouverture") >= 3
    assert report.settled and len(report.samples) >= 30
    assert report.growth_pct() < 15.0, report.lines()
    assert report.peak_mb() < soak.MEMORY_BUDGET_MB, report.lines()


@pytest.mark.slow
def test_valid_visitors_beside_bombers_for_45_seconds() -> None:
    """Issue 22: two of six sessions upload the corpus's bombs without pause, through the
    registry page and the desk's applicants list; the others search, upload and run what-ifs.
    Every bomb is refused in French; valid searches keep their p95 under 2 s; no valid upload
    is refused for a full queue (``benchmarks/soak_hostile.py`` at full size)."""
    hostile = _soak_module("soak_hostile")
    base = hostile.base
    with base.running_server(session_ttl_s=5) as server:
        report = hostile.hostile_soak(server, sessions=6, bombers=2, seconds=45, wait_workers=False)
    print("\n".join(report.lines()))
    assert report.valid.errors == [] and report.errors == []
    assert report.not_refused == []
    # Both widgets were aimed at, and most of the corpus went through.
    assert {a.target for a in report.answers} == {"registre", "candidatures"}
    assert len({a.bomb for a in report.answers}) >= 6
    assert len(report.valid_searches()) >= 10
    assert hostile._p95(report.valid_searches()) < 2.0, report.lines()
    assert report.valid.count("dépôt") >= 1 and report.valid.busy == 0
    assert report.valid.uploads_in_use == report.valid.count("dépôt")
    assert report.valid.peak_mb() < base.MEMORY_BUDGET_MB, report.lines()


# --------------------------------------------------------------------------- isolation


PAGES = {"registry_page": "registry", "planner_page": "desk"}


def _page_script(module: str, page: str) -> None:
    """Run one page function of ``coverage.web.pages`` as the whole script (AppTest)."""
    import importlib

    getattr(importlib.import_module(f"coverage.web.pages.{module}"), page)()


def _page(page: str, **params: str):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_page_script, args=(PAGES[page], page), default_timeout=TIMEOUT)
    for k, v in params.items():
        at.query_params[k] = v
    return at


def _bodies(at) -> str:
    return "\n".join(str(e.proto.body) for e in at.get("html"))


def _metrics(at) -> dict[str, tuple[str, str | None]]:
    return {m.label: (m.value, m.delta) for m in at.metric}


UPLOAD_NAME = "Centre d'essai isolé"


def _upload_bytes(registry) -> bytes:
    s = registry.structures
    source = s["source"].iloc[0]
    return (
        "id,name,kind,insee,source\n"
        f"essai-isole,{UPLOAD_NAME},tous_publics,15014,{source}\n"
        f"essai-aja,Dispositif d'essai,aja,63113,{source}\n"
    ).encode()


def _other_session_view() -> tuple[str, dict]:
    """What a second user sees: the registry page and the desk's key figures."""
    reg = _page("registry_page").run()
    desk = _page("planner_page").run()
    assert not reg.exception and not desk.exception
    return _bodies(reg), _metrics(desk)


def _uploader_session(data: bytes, puy: str) -> tuple:
    """One user uploads a registry, then runs a what-if (add Le Puy-en-Velay)."""
    at = _page("registry_page").run()
    at.file_uploader(key="registry_file").set_value(("ars.csv", data, "text/csv"))
    at.run()
    assert not at.exception
    uploaded_view = _bodies(at)
    desk = _page("planner_page", onglet="Scénario")
    desk.session_state["upload"] = at.session_state["upload"]  # the same browser session
    desk.run()
    desk.multiselect(key="sc_add").select(puy)
    desk.button[0].click().run()
    assert not desk.exception
    return uploaded_view, _metrics(desk), _bodies(desk)


def test_an_upload_and_a_what_if_stay_in_their_session(finder) -> None:
    data = _upload_bytes(finder.registry)
    puy = finder.lookup("Le Puy-en-Velay").place.insee
    before = _other_session_view()
    assert UPLOAD_NAME.replace("'", "&#x27;") not in before[0]

    uploaded_view, desk_metrics, desk_bodies = _uploader_session(data, puy)
    # The uploading session does see its file and its scenario.
    assert UPLOAD_NAME.replace("'", "&#x27;") in uploaded_view
    assert any(delta for _, delta in desk_metrics.values())
    assert "Le Puy-en-Velay (43)" in desk_bodies

    after = _other_session_view()
    assert after == before  # same registry, same figures, no delta, no scenario
