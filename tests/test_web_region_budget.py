"""What a visitor's region switches may cost (issue 22, item 6): France and the served region
stay cached whatever others ask for, the other regions live in a small LRU, and a session that
asks for too many builds in a short time gets a French message instead of one more build.

Stand-in finders show the rules in milliseconds; one real check (Corse, then the server's own
region) runs the patient page.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from coverage import geography
from coverage.patient.finder import Finder
from coverage.web import loaders, region_budget
from coverage.web.config import served_region
from coverage.web.region_budget import (
    LRU_REGIONS,
    MAX_REGIONS_IN_MEMORY,
    RegionCache,
    RegionSwitchError,
    SwitchBudget,
)

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
TIMEOUT = 120
_NOTICE = re.compile(r'<div class="pc-notice pc-(\w+)"[^>]*><p class="pc-p">(.*?)</p></div>', re.S)

SERVED = served_region().code  # the server's own region (84 unless $PARCOURS_REGION)
OTHERS = [r.code for r in geography.all_regions() if r.code != SERVED]


@dataclass(frozen=True)
class StandIn:
    """A finder stand-in: only its region code."""

    code: str


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every ``Finder.load`` becomes a stand-in; the list collects the regions built."""
    built: list[str] = []

    def fake_load(cls: type[Finder], *, model: object = None, region: str) -> StandIn:
        code = geography.region_spec(region).code
        built.append(code)
        return StandIn(code)

    monkeypatch.setattr(Finder, "load", classmethod(fake_load))
    monkeypatch.setattr(loaders, "_warm_up", lambda finder: None)
    loaders.clear_finders()
    yield built
    loaders.clear_finders()  # no stand-in outlives the test


# --------------------------------------------------------------------------- the cache


def test_france_and_the_served_region_survive_a_visitor_cycling_every_region(
    builds: list[str],
) -> None:
    loaders.get_finder("k", geography.FRANCE)
    loaders.get_finder("k", SERVED)
    for code in OTHERS * 2:  # far more regions than the LRU keeps, twice
        loaders.get_finder("k", code)
        assert len(loaders.finder_cache().regions()) <= MAX_REGIONS_IN_MEMORY
    assert loaders.get_finder("k", geography.FRANCE) == StandIn(geography.FRANCE)
    assert loaders.get_finder("k", SERVED) == StandIn(SERVED)
    assert builds.count(geography.FRANCE) == 1 and builds.count(SERVED) == 1
    kept = set(loaders.finder_cache().regions())
    assert {geography.FRANCE, SERVED} <= kept
    assert kept - {geography.FRANCE, SERVED} == set((OTHERS * 2)[-LRU_REGIONS:])


def test_the_cache_keeps_one_entry_per_region_and_a_new_registry_replaces_it() -> None:
    made: list[tuple[str, str]] = []
    cache: RegionCache[str] = RegionCache(pinned=("FR", "84"), lru_size=2)

    def get(region: str, key: str) -> str:
        return cache.get(region, key, lambda: made.append((region, key)) or f"{region}@{key}")

    assert get("84", "a") == "84@a" and get("84", "a") == "84@a"
    assert get("84", "b") == "84@b"  # the registry file changed: built again, old one dropped
    for region in ("11", "53", "11", "94"):  # 11 used again: 53 is the least recently used
        get(region, "a")
    assert made == [("84", "a"), ("84", "b"), ("11", "a"), ("53", "a"), ("94", "a")]
    assert sorted(cache.regions()) == ["11", "84", "94"]
    assert cache.is_free("84", "b") and cache.is_free("FR", "a")  # pinned: free even unbuilt
    assert cache.is_free("94", "a") and not cache.is_free("94", "b")
    assert not cache.is_free("53", "a")


# --------------------------------------------------------------------------- the budget


def test_the_budget_counts_builds_in_a_sliding_window() -> None:
    budget = SwitchBudget(limit=3, window_s=600.0)
    assert [budget.admit(free=False, now=t) for t in (0.0, 10.0, 20.0)] == [True] * 3
    assert not budget.admit(free=False, now=30.0)  # a fourth build in ten minutes
    assert budget.admit(free=True, now=31.0)  # a region already built costs nothing
    assert not budget.admit(free=False, now=599.0)
    assert budget.admit(free=False, now=600.5)  # the first build has left the window
    assert not budget.admit(free=False, now=601.0)


def test_the_refusal_is_plain_french_and_names_where_to_stay() -> None:
    msg = str(RegionSwitchError(stay_on=("94", SERVED)))
    assert msg.startswith("Trop de changements de région en peu de temps : réessayez dans")
    assert "ou restez sur la Corse ou " + geography.region_spec(SERVED).the_name in msg
    assert msg.endswith(".")


def _switcher() -> None:
    """A session that asks for the region in ``st.session_state["want"]`` (the picker's path)."""
    import streamlit as st

    from coverage.web import session
    from coverage.web.region_budget import RegionSwitchError

    session.set_region(str(st.session_state["want"]))
    try:
        st.text("servi : " + session.current_finder().code)  # type: ignore[attr-defined]
    except RegionSwitchError as exc:
        st.text(str(exc))


def test_a_session_over_budget_gets_the_message_and_builds_nothing(
    builds: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(region_budget, "SWITCH_LIMIT", 2)
    at = AppTest.from_function(_switcher, default_timeout=TIMEOUT)
    first, second, third = OTHERS[:3]
    for code in (first, second):
        at.session_state["want"] = code
        at.run()
        assert not at.exception and at.text[0].value == f"servi : {code}"
    at.session_state["want"] = third
    at.run()
    assert not at.exception
    refusal = at.text[0].value
    assert refusal.startswith("Trop de changements de région en peu de temps")
    assert geography.region_spec(second).the_name in refusal
    assert builds == [first, second]  # no build for the refused region
    for code in (first, SERVED, geography.FRANCE):  # cached, or pinned: still served
        at.session_state["want"] = code
        at.run()
        assert not at.exception and at.text[0].value == f"servi : {code}"
    assert builds == [first, second, SERVED, geography.FRANCE]
    other = AppTest.from_function(_switcher, default_timeout=TIMEOUT)  # another visitor
    other.session_state["want"] = third
    other.run()
    assert other.text[0].value == f"servi : {third}"


# --------------------------------------------------------------------------- the real page


def _notices(at: AppTest) -> list[tuple[str, str]]:
    bodies = "\n".join(str(e.proto.body) for e in at.get("html"))
    return [(tone, html.unescape(text)) for tone, text in _NOTICE.findall(bodies)]


def test_the_patient_page_refuses_a_build_over_budget_and_serves_cached_regions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(region_budget, "SWITCH_LIMIT", 1)
    loaders.clear_finders()  # Corse is built by this session, whatever ran before
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["q"] = "Ajaccio"
    at.query_params["region"] = "94"
    at.run()
    assert not at.exception
    assert [str(h.value) for h in at.header] == [
        "Structures les plus proches d'Ajaccio (Corse-du-Sud)"
    ]
    at.selectbox(key="region_choice").set_value("53").run()  # a second build: over budget
    assert not at.exception
    assert not at.header
    warnings = [t for tone, t in _notices(at) if tone == "warning"]
    assert any(
        t.startswith("Trop de changements de région en peu de temps") and "la Corse" in t
        for t in warnings
    ), warnings
    assert "53" not in loaders.finder_cache().regions()
    at.selectbox(key="region_choice").set_value("94").run()  # back to a cached region
    assert not at.exception
    assert [str(h.value) for h in at.header] == [
        "Structures les plus proches d'Ajaccio (Corse-du-Sud)"
    ]
    at.selectbox(key="region_choice").set_value(SERVED).run()  # the server's own: pinned
    assert not at.exception
    assert "Service pour la région : " + geography.region_spec(SERVED).name in "\n".join(
        str(e.proto.body) for e in at.get("html")
    )
