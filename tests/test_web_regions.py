"""The page serves any region: ``?region=``, the page's picker, and the offer of another
region's answer for a place outside the region served (AppTest, no browser)."""

from __future__ import annotations

import html
import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
TIMEOUT = 120
_NOTICE = re.compile(r'<div class="pc-notice pc-(\w+)"[^>]*><p class="pc-p">(.*?)</p></div>', re.S)


def _app(**params: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    for k, v in params.items():
        at.query_params[k] = v
    return at


def _bodies(at: AppTest) -> str:
    return html.unescape("\n".join(str(e.proto.body) for e in at.get("html")))


def _headers(at: AppTest) -> list[str]:
    return [str(h.value) for h in at.header]


def test_a_place_elsewhere_offers_its_region_and_one_tap_answers_there() -> None:
    at = _app(q="Créteil").run()
    assert not at.exception
    assert "Service pour la région : Auvergne-Rhône-Alpes." in _bodies(at)
    assert "cet outil y connaît 9 structure(s)" in _bodies(at)
    offer = at.button(key="other-region")
    assert offer.label == "Voir la réponse pour la région Île-de-France"
    offer.click().run()
    assert not at.exception
    assert at.query_params["region"] == ["11"] or at.query_params["region"] == "11"
    assert _headers(at) == ["Structures les plus proches de Créteil (Val-de-Marne)"]
    body = _bodies(at)
    assert "Service pour la région : Île-de-France." in body
    assert "PARTAGE 94 et ONCO 94 OUEST" in body  # the département's carrier, place unknown


def test_a_shared_link_keeps_its_region() -> None:
    at = _app(q="Brest", region="53").run()
    assert not at.exception
    assert _headers(at) == ["Structures les plus proches de Brest (Finistère)"]
    assert "Service pour la région : Bretagne." in _bodies(at)


def test_an_unknown_region_in_the_link_falls_back_to_the_server_s() -> None:
    at = _app(q="Lyon", region="<script>alert(1)</script>").run()
    assert not at.exception
    assert _headers(at) == ["Structures les plus proches de Lyon (Rhône)"]
    assert "<script>alert(1)</script>" not in "\n".join(str(e.proto.body) for e in at.get("html"))


def test_the_picker_changes_the_region_served() -> None:
    at = _app(q="Ajaccio").run()
    assert not at.exception
    assert not at.header  # Ajaccio is in Corse, outside the default region
    at.selectbox(key="region_choice").set_value("94").run()
    assert not at.exception
    assert _headers(at) == ["Structures les plus proches d'Ajaccio (Corse-du-Sud)"]
    assert "Ligue contre le cancer, comité de Corse-du-Sud" in _bodies(at)


def test_the_desk_s_commune_picker_is_the_session_s_region() -> None:
    from coverage.data.region import load_region
    from coverage.web import loaders

    ara, bretagne = load_region(region="84"), load_region(region="53")
    first = loaders.commune_options(ara.code, ara)
    second = loaders.commune_options(bretagne.code, bretagne)
    assert first["63113"] == "Clermont-Ferrand (63)" and "29019" not in first
    assert second["29019"] == "Brest (29)" and "63113" not in second
    assert len(second) == len(bretagne.communes)
