"""Hostile use of the page (issue 13): inert echoes, safe table downloads, bounded uploads.

- Text a reader controls (``?q=`` of a shared link, an upload's file name) is never given to
  Streamlit's Markdown, which autolinks ``www.``/``https://``/e-mail addresses and renders
  ``:material/…:`` icons, ``:streamlit:`` and emoji shortcodes despite backslash escapes.
- Cells shown by ``st.dataframe`` (whose toolbar offers "Download as CSV" of the raw cells)
  never start a spreadsheet formula.
- An upload: a long name keeps its extension; two sessions uploading the same bytes under
  different names each see their own name; files over the row or byte budget are refused
  before any parsing; uploads queue for a bounded number of slots; what an upload builds is
  freed with its session.
"""

from __future__ import annotations

import gc
import threading
import weakref

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from coverage._errors import RegistryError, ValidationError
from coverage.outputs.html import esc
from coverage.web import budget, uploads, widgets

TIMEOUT = 120
MARK = "piege"

#: Each one was turned into a link, an icon or an image by Streamlit's Markdown (issue 13).
ECHO_PAYLOADS = [
    f"https://{MARK}.example/connexion",
    f"www.{MARK}.example",
    f"{MARK}@example.org",
    f":material/warning: {MARK}",
    f":streamlit: {MARK}",
    f":smile: {MARK}",
    f"![{MARK}](https://{MARK}.example/x.png)",
    f"<https://{MARK}.example>",
    f"[{MARK}](javascript:alert(1))",
]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _page_script(module: str, page: str) -> None:
    import importlib

    getattr(importlib.import_module(f"coverage.web.pages.{module}"), page)()


def _page(module: str, page: str, **params: str) -> AppTest:
    at = AppTest.from_function(_page_script, args=(module, page), default_timeout=TIMEOUT)
    for k, v in params.items():
        at.query_params[k] = v
    return at


def _markdown_texts(at: AppTest) -> list[str]:
    """Every text of the page that Streamlit renders as Markdown."""
    kinds = (
        "markdown",
        "caption",
        "info",
        "warning",
        "error",
        "success",
        "title",
        "header",
        "subheader",
    )
    out = [str(e.value) for kind in kinds for e in at.get(kind)]
    out += [str(b.label) for b in at.button]
    return out


def _bodies(at: AppTest) -> str:
    return "\n".join(str(e.proto.body) for e in at.get("html"))


def _csv(rows: list[tuple[str, str, str]], source: str) -> bytes:
    lines = ["id,name,kind,insee,source"]
    lines += [f'{i},"{n}",{k},{c},{source}' for i, (n, k, c) in enumerate(rows)]
    return ("\n".join(lines) + "\n").encode()


# --------------------------------------------------------------------------- item 3


@pytest.mark.parametrize("payload", ECHO_PAYLOADS)
def test_shared_query_text_is_shown_as_inert_text(payload):
    at = _page("patient", "patient_page", q=payload).run()
    assert not at.exception
    assert not [t for t in _markdown_texts(at) if MARK in t]
    body = _bodies(at)
    assert esc(payload) in body  # shown, escaped, in an HTML notice
    assert f'href="https://{MARK}' not in body and "<img" not in body


def test_uploaded_file_name_is_shown_as_inert_text(registry):
    source = registry.structures["source"].iloc[0]
    data = _csv([("Centre", "tous_publics", "15014")], source)
    name = f":streamlit: www.{MARK}.example :smile:.csv"  # a browser sends no folder
    at = _page("registry", "registry_page").run()
    at.file_uploader(key="registry_file").set_value((name, data, "text/csv"))
    at.run()
    assert not at.exception
    assert not [t for t in _markdown_texts(at) if MARK in t]
    assert esc(name) in _bodies(at)


# --------------------------------------------------------------------------- item 8


def _frame_cells(at: AppTest) -> list[str]:
    cells: list[str] = []
    for frame in at.dataframe:
        df = frame.value
        for col in df.columns:
            cells += [v for v in df[col].tolist() if isinstance(v, str)]
    return cells


def test_table_cells_are_neutralised_for_the_toolbar_csv():
    frame = pd.DataFrame(
        {
            "texte": ["=1+1", "@SUM(A1)", "+33 4 73 00 00 00", "-x", "\tcmd", "Riom", "-3,5"],
            "nombre": [-1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
        }
    )
    shown = widgets.inert_cells(frame)
    assert list(shown["texte"]) == [
        "'=1+1",
        "'@SUM(A1)",
        "'+33 4 73 00 00 00",
        "'-x",
        "'\tcmd",
        "Riom",
        "-3,5",  # a plain number stays a number
    ]
    assert list(shown["nombre"]) == list(frame["nombre"])  # numbers are not text


def test_tables_of_an_upload_never_start_a_formula(registry):
    source = registry.structures["source"].iloc[0]
    data = (
        "id,name,kind,insee,phone,source\n"
        f"t1,Centre d'essai,tous_publics,15014,+33 4 73 00 00 00,{source}\n"
    ).encode()
    at = _page("registry", "registry_page").run()
    at.file_uploader(key="registry_file").set_value(("formules.csv", data, "text/csv"))
    at.run()
    assert not at.exception
    cells = _frame_cells(at)
    assert "'+33 4 73 00 00 00" in cells  # the upload is the registry in use
    assert not [c for c in cells if c.startswith(FORMULA_STARTS)]
    desk = _page("desk", "planner_page", onglet="Écarts")
    desk.session_state["upload"] = at.session_state["upload"]
    desk.run()
    assert not desk.exception and _frame_cells(desk)
    assert not [c for c in _frame_cells(desk) if c.startswith(FORMULA_STARTS)]


def test_a_long_upload_name_keeps_its_extension(region, registry):
    source = registry.structures["source"].iloc[0]
    data = _csv([("Centre", "tous_publics", "15014")], source)
    name = "registre-" + "x" * 200 + ".csv"
    reg = uploads.load_upload(name, data, region=region)
    assert reg.path.endswith(".csv") and len(reg.path) <= 120
    assert reg.path.startswith("registre-xxx")


def test_same_bytes_under_two_names_are_two_uploads(registry):
    source = registry.structures["source"].iloc[0]
    data = _csv([("Centre", "tous_publics", "15014")], source)
    assert uploads.upload_key(data, name="a.csv") != uploads.upload_key(data, name="b.csv")
    seen = {}
    for name in ("premier.csv", "second.csv"):
        reg = _page("registry", "registry_page").run()
        reg.file_uploader(key="registry_file").set_value((name, data, "text/csv"))
        reg.run()
        desk = _page("desk", "planner_page")
        desk.session_state["upload"] = reg.session_state["upload"]
        desk.run()
        assert not reg.exception and not desk.exception
        seen[name] = _bodies(desk)
    assert "premier.csv" in seen["premier.csv"]
    assert "second.csv" in seen["second.csv"] and "premier.csv" not in seen["second.csv"]


# --------------------------------------------------------------------------- item 1


def test_an_upload_over_the_row_budget_is_refused_before_parsing(region, registry, monkeypatch):
    def parse(*args, **kwargs):
        raise AssertionError("the file was parsed")

    monkeypatch.setattr(uploads, "load_registry", parse)
    source = registry.structures["source"].iloc[0]
    rows = [("Centre", "tous_publics", "15014")] * (budget.UPLOAD_MAX_ROWS + 1)
    with pytest.raises(RegistryError, match="trop de lignes") as info:
        uploads.load_upload("gros.csv", _csv(rows, source), region=region)
    assert "5\u202f000 structures" in info.value.problems[0]
    with pytest.raises(RegistryError, match="trop gros"):
        uploads.load_upload("gros.csv", b"x" * (budget.UPLOAD_MAX_BYTES + 1), region=region)
    geo = b'{"type": "FeatureCollection", "features": [' + b'{"type": "Feature"},' * 5001
    with pytest.raises(RegistryError, match="trop de lignes"):
        uploads.load_upload("gros.geojson", geo, region=region)


def test_the_row_budget_admits_a_file_at_the_limit(registry):
    source = registry.structures["source"].iloc[0]
    rows = [("Centre", "tous_publics", "15014")] * budget.UPLOAD_MAX_ROWS
    budget.check_upload_budget("juste.csv", _csv(rows, source))  # no error


def _hold_every_slot() -> threading.BoundedSemaphore:
    slots = budget._slots()
    for _ in range(budget.UPLOAD_SLOTS):
        assert slots.acquire(timeout=5)
    return slots


def test_uploads_wait_in_a_queue_and_are_refused_when_it_is_full():
    waited: list[int] = []
    slots = _hold_every_slot()
    try:
        with pytest.raises(ValidationError, match="file d'attente est pleine"):
            with budget.upload_slot(on_wait=lambda: waited.append(1), wait_s=0.05):
                pass
        assert waited == [1]
        threading.Timer(0.2, slots.release).start()
        with budget.upload_slot(on_wait=lambda: waited.append(2), wait_s=10):
            pass  # a slot came free while it waited
        assert waited == [1, 2]
    finally:
        for _ in range(budget.UPLOAD_SLOTS - 1):
            slots.release()
    with budget.upload_slot(on_wait=lambda: waited.append(3)):
        pass
    assert waited == [1, 2]  # free slots: no wait, no message


def test_the_page_says_the_upload_is_queued_when_the_server_is_busy(registry, monkeypatch):
    monkeypatch.setattr(budget, "QUEUE_WAIT_S", 0.05)
    source = registry.structures["source"].iloc[0]
    data = _csv([("Centre", "tous_publics", "15014")], source)
    slots = _hold_every_slot()
    try:
        at = _page("registry", "registry_page").run()
        at.file_uploader(key="registry_file").set_value(("attente.csv", data, "text/csv"))
        at.run()
    finally:
        for _ in range(budget.UPLOAD_SLOTS):
            slots.release()
    assert not at.exception
    shown = " ".join(_markdown_texts(at)) + _bodies(at)
    assert "file d'attente" in shown and "réessayez dans une minute" in shown
    assert "upload" not in at.session_state


def test_what_an_upload_builds_is_freed_with_its_session(registry):
    source = registry.structures["source"].iloc[0]
    data = _csv([("Centre", "tous_publics", "15014")], source)
    reg = _page("registry", "registry_page").run()
    reg.file_uploader(key="registry_file").set_value(("libere.csv", data, "text/csv"))
    reg.run()
    desk = _page("desk", "planner_page")
    desk.session_state["upload"] = reg.session_state["upload"]
    desk.run()
    assert not desk.exception
    up = desk.session_state["upload"]
    refs = [weakref.ref(up), weakref.ref(up.access()), weakref.ref(up.finder)]
    del up, reg, desk
    gc.collect()
    assert [r() is None for r in refs] == [True, True, True]


def _frame_script(html: str) -> None:
    from coverage.web.widgets import html_frame

    html_frame(html, height=300)


def test_a_map_shown_is_not_kept_by_the_url_parser_s_cache() -> None:
    """``st.iframe`` runs its text through ``urllib.parse.urlsplit``, whose process-wide cache
    would keep the last 128 visitors' map pages after their sessions: the frame empties it."""
    import urllib.parse

    page = "<!DOCTYPE html><html><body>" + "x" * 200_000 + "</body></html>"
    at = AppTest.from_function(_frame_script, args=(page,), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert [e.proto.srcdoc for e in at.get("iframe")] == [page]  # shown, as its own page
    assert urllib.parse.urlsplit.cache_info().currsize == 0
