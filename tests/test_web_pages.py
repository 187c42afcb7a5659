"""Page parts of issue 10 without a browser (AppTest): layout, help, folded notes, jargon.

The browser checks (lang, Streamlit's English strings replaced, axe-core, 16 px, the "?"
on a phone, the desk's width across reruns) are in ``tests/test_web_a11y.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from coverage.web import localise
from coverage.web.pages import desk, patient

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 120


def _page_script(module: str, page: str) -> None:
    import importlib

    getattr(importlib.import_module(f"coverage.web.pages.{module}"), page)()


@pytest.fixture
def layouts(monkeypatch) -> list[str | None]:
    """Every layout asked of ``st.set_page_config`` while the test runs."""
    calls: list[str | None] = []
    real = st.set_page_config

    def record(*args, **kwargs):
        calls.append(kwargs.get("layout"))
        return real(*args, **kwargs)

    monkeypatch.setattr(st, "set_page_config", record)
    return calls


def test_the_router_sets_the_layout_once_before_the_page(layouts):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert layouts == ["centered"]  # the patient page, one call per run
    at.run()
    assert layouts == ["centered", "centered"]


def test_the_desk_never_sets_the_layout_itself(layouts):
    at = AppTest.from_function(
        _page_script, args=("desk", "planner_page"), default_timeout=TIMEOUT
    ).run()
    assert not at.exception
    at.slider(key="seuil").set_value(45).run()
    assert not at.exception
    assert layouts == []  # the router alone decides (no flip between centred and wide)


def test_the_age_switch_has_its_help_in_a_fold_of_its_own():
    at = AppTest.from_function(
        _page_script, args=("patient", "patient_page"), default_timeout=TIMEOUT
    ).run()
    assert not at.exception
    toggle = at.toggle(key="young")
    assert toggle.proto.help == ""  # no "?" inside the label, where a tap flips the switch
    bodies = [str(e.proto.body) for e in at.get("html")]
    assert patient.YOUNG_HELP_HTML in bodies
    assert "<details" in patient.YOUNG_HELP_HTML and "<summary>" in patient.YOUNG_HELP_HTML


def test_the_desk_folds_its_notes_and_explains_its_jargon():
    at = AppTest.from_function(
        _page_script, args=("desk", "planner_page"), default_timeout=TIMEOUT
    ).run()
    assert not at.exception
    labels = [e.label for e in at.expander]
    assert labels[:2] == [
        "Vos fichiers : territoires, demande, indice de défavorisation",
        "À propos des mesures et du registre",
    ]
    assert "Lexique des indicateurs" in labels
    terms = dict(desk.GLOSSARY)
    for jargon in ("FGT α", "E2SFCA", "Communes sans itinéraire", "P90", "Indice de Gini"):
        assert len(terms[jargon].split()) >= 6  # one real line each
    html = desk.glossary_html()
    assert html.count("<dt>") == len(desk.GLOSSARY)
    assert desk.glossary_html() in [str(e.proto.body) for e in at.get("html")]


def test_streamlit_strings_named_by_the_issue_are_translated():
    named = ["Press Enter to submit form", "No results", "Select all", "Stop"]
    named += ["Skip to main content", "Browse files", "Drag and drop a file here"]
    for english in named:
        french = localise.FRENCH[english]
        assert french and french != english and not set(french) & set("<>&")


def test_the_exports_say_they_do_not_carry_the_scenario():
    at = AppTest.from_function(_page_script, args=("desk", "planner_page"), default_timeout=TIMEOUT)
    at.query_params["onglet"] = "Exports"
    at.run()
    assert not at.exception
    said = " ".join(str(m.value) for m in at.markdown)
    assert "sans le scénario" in said and "Scénario" in said
