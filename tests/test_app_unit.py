"""The Streamlit page without a browser: ``streamlit.testing`` AppTest and ``coverage.web``.

The whole app runs through ``AppTest.from_file("app.py")`` (navigation, patient finder);
the other pages, functions of ``coverage.web.pages``, run one by one through
``AppTest.from_function`` (``app.py`` only calls ``main()`` when run as a script).
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from coverage import french, settings
from coverage._errors import (
    ArgumentError,
    DataSourceError,
    PlaceError,
    RegistryError,
    ValidationError,
)
from coverage.analysis.analyse import analyse
from coverage.data.place_results import MAX_QUERY_CHARS
from coverage.data.spreadsheet import MAX_FILE_BYTES
from coverage.outputs import finder_text, prescription
from coverage.outputs.html import esc
from coverage.patient import forfait
from coverage.travel.geodesic import GeodesicModel
from coverage.web import builders, cards, frames, loaders, messages, search, uploads
from coverage.web.markup import md_escape
from coverage.web.sources import UploadSource

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
TIMEOUT = 120

HOSTILE = "<script>alert(1)</script>"


PAGES = {
    "prescriber_page": "prescriber",
    "registry_page": "registry",
    "planner_page": "desk",
    "patient_page": "patient",
}


def _page_script(module: str, page: str) -> None:
    """Run one page function of ``coverage.web.pages`` as the whole script (AppTest)."""
    import importlib

    getattr(importlib.import_module(f"coverage.web.pages.{module}"), page)()


def page_test(page: str) -> AppTest:
    return AppTest.from_function(_page_script, args=(PAGES[page], page), default_timeout=TIMEOUT)


def app_test(**params: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    for k, v in params.items():
        at.query_params[k] = v
    return at


def html_bodies(at: AppTest) -> str:
    return "\n".join(str(e.proto.body) for e in at.get("html"))


def texts(elements) -> list[str]:
    return [str(e.value) for e in elements]


_NOTICE = re.compile(r'<div class="pc-notice pc-(\w+)"[^>]*><p class="pc-p">(.*?)</p></div>', re.S)


def notices(at: AppTest, tone: str | None = None) -> list[str]:
    """The plain texts of the page's HTML notices (``markup.notice_html``), of one tone."""
    found = _NOTICE.findall(html_bodies(at))
    return [html.unescape(t) for k, t in found if tone is None or k == tone]


# --------------------------------------------------------------------------- search flow


def test_query_in_url_runs_the_search_and_ranks_structures(finder):
    at = app_test(q="Le Puy-en-Velay").run()
    assert not at.exception
    assert texts(at.header) == ["Structures les plus proches du Puy-en-Velay (Haute-Loire)"]
    assert at.text_input(key="q_input").value == "Le Puy-en-Velay"
    expected = finder.find(finder.lookup("Le Puy-en-Velay").place)
    body = html_bodies(at)
    for i, row in enumerate(expected.structures.to_dict("records"), start=1):
        assert f"{i}. {esc(row['name'])}" in body
        assert f"{french.km(row['distance_km'])} à vol d&#x27;oiseau" in body
    # The incomplete embedded registry is far from Le Puy: the page says so.
    assert any("ne nomme qu" in w for w in notices(at, "warning"))


def test_typed_search_goes_into_the_url():
    at = app_test().run()
    assert not at.header  # nothing searched yet
    at.text_input(key="q_input").input("Aurillac")
    at.button[0].click().run()
    assert not at.exception
    assert at.query_params["q"] == "Aurillac"
    assert texts(at.header) == ["Structures les plus proches d'Aurillac (Cantal)"]


def test_ambiguous_name_offers_candidates_and_a_pick_resolves_it(finder):
    at = app_test(q="Murat").run()
    assert not at.exception
    labels = {b.key: b.label for b in at.button if b.key and b.key.startswith("cand-")}
    assert set(labels) == {"cand-15138", "cand-03191"}  # Murat, Cantal and Allier
    for place in finder.lookup("Murat").places:
        assert labels[f"cand-{place.insee}"].startswith(md_escape(place.patient_label))
    assert not at.header
    at.button(key="cand-15138").click().run()
    cantal = next(p for p in finder.lookup("Murat").places if p.insee == "15138")
    assert at.query_params["q"] == search.candidate_query(cantal, finder)
    assert texts(at.header) == ["Structures les plus proches de Murat (Cantal)"]


def test_place_outside_region_gets_the_french_message():
    at = app_test(q="Marseille").run()
    assert not at.exception
    warnings = notices(at, "warning")
    assert len(warnings) == 1
    assert "pas en Auvergne" in warnings[0]
    assert not at.header and not at.get("iframe")


def test_unknown_place_gets_suggestions_as_buttons(finder):
    query = "Brioudeux"
    with pytest.raises(PlaceError) as info:
        finder.lookup(query)
    at = app_test(q=query).run()
    assert not at.exception
    assert notices(at, "warning") == [str(info.value)]
    sugg = [b for b in at.button if b.key and b.key.startswith("sugg-")]
    assert [b.label for b in sugg] == [md_escape(s) for s in info.value.suggestions[:5]]
    sugg[0].click().run()
    assert info.value.suggestions[0].split(" (")[0] in texts(at.header)[0]


def test_young_switch_shows_the_aja_device_first_and_goes_into_the_url(finder):
    at = app_test(q="Le Puy-en-Velay", jeune="1").run()
    assert not at.exception
    assert at.toggle(key="young").value is True
    expected = finder.find(finder.lookup("Le Puy-en-Velay").place)
    body = html_bodies(at)
    badge = body.index("Pour les 15-25 ans")
    assert body.index(esc(expected.aja.device["name"])) > badge
    assert badge < body.index("1. ")
    at.toggle(key="young").set_value(False).run()
    assert "jeune" not in at.query_params
    assert "Pour les 15-25 ans" not in html_bodies(at)


def test_hostile_query_text_is_not_markdown():
    at = app_test(q="[Cliquez ici](https://exemple.invalid) <b>x</b>").run()
    assert not at.exception
    shown = notices(at)
    assert any("[Cliquez ici](https://exemple.invalid) <b>x</b>" in t for t in shown)
    assert "<b>x</b>" not in html_bodies(at)  # escaped: shown as text


# --------------------------------------------------------------------------- other pages


def test_prescriber_checks_the_forfait_and_offers_the_sheet():
    at = page_test("prescriber_page").run()
    assert not at.exception
    assert not at.get("download_button")
    at.checkbox(key="bilan-apa").check()
    at.checkbox(key="bilan-dietetique").check()
    at.number_input(key="consultations").set_value(4).run()
    assert texts(at.success) == [
        md_escape(finder_text.plan_summary(forfait.check_plan(["apa", "dietetique"], 4)))
    ]
    buttons = at.get("download_button")
    assert len(buttons) == 1
    assert buttons[0].proto.label.startswith("Télécharger la fiche")
    at.number_input(key="consultations").set_value(5).run()
    assert at.error and "dépasse le forfait" in at.error[0].value
    assert not at.get("download_button")


def test_registry_page_lists_structures_and_sources(registry):
    at = page_test("registry_page").run()
    assert not at.exception
    body = html_bodies(at)
    assert esc(registry.completeness_fr()) in body
    for src in set(registry.structures["source"]):
        assert f'href="{esc(src)}"' in body


def test_uploaded_registry_stays_in_its_session(region, registry, tmp_path):
    s = registry.structures
    row = s[s["kind"] == "tous_publics"].iloc[0]
    data = (
        "id,name,kind,insee,source\n"
        f"essai-1,Structure d'essai,tous_publics,{row['insee']},{row['source']}\n"
    ).encode()
    uploaded = uploads.load_upload("essai.csv", data, region=region)
    finder = builders.finder_for_registry(region, uploaded, model=GeodesicModel())
    mine = page_test("registry_page")
    mine.session_state["upload"] = UploadSource(
        key=uploads.upload_key(data, name="essai.csv"), name="essai.csv", finder=finder
    )
    mine.run()
    other = page_test("registry_page").run()
    assert not mine.exception and not other.exception
    assert "Structure d&#x27;essai" in html_bodies(mine)
    assert "Structure d&#x27;essai" not in html_bodies(other)
    assert esc(registry.completeness_fr()) in html_bodies(other)


def _planner(**params: str) -> AppTest:
    at = page_test("planner_page")
    for k, v in params.items():
        at.query_params[k] = v
    return at.run()


def test_planner_desk_metrics_match_the_analysis(finder):
    at = _planner()
    assert not at.exception
    from coverage.analysis.access_build import build_access

    acc = build_access(finder.region, finder.registry, zones=finder.zones, model=finder.model)
    a = analyse(acc, region=finder.region, registry=finder.registry, threshold=30)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Au-delà de 30 km"] == french.share(a.main.share_beyond)
    at.slider(key="seuil").set_value(60).run()
    a60 = analyse(acc, region=finder.region, registry=finder.registry, threshold=60)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Au-delà de 60 km"] == french.share(a60.main.share_beyond)


def test_planner_what_if_adding_a_structure_lowers_the_figures(finder):
    at = _planner(onglet="Scénario")
    assert not at.exception
    puy = finder.lookup("Le Puy-en-Velay").place.insee
    at.multiselect(key="sc_add").select(puy)
    at.button[0].click().run()
    assert not at.exception
    metrics = {m.label: m for m in at.metric}
    mean = metrics["Moyenne par habitant"]
    assert mean.delta.startswith("-") and mean.delta.endswith(" km")
    assert metrics["Au-delà de 30 km"].delta.startswith("-")
    changes = html_bodies(at)
    assert "Ajout" in changes and "Le Puy-en-Velay (43)" in changes


def test_unexpected_error_shows_one_french_message_and_no_traceback():
    def script() -> None:
        from coverage.web.messages import guarded

        @guarded
        def broken() -> None:
            raise KeyError("secret internal detail")

        broken()

    at = AppTest.from_function(script, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert notices(at, "error") == [messages.GENERIC_ERROR_FR]
    assert "secret" not in html_bodies(at)


# --------------------------------------------------------------------------- page logic


def test_run_search_outcomes(finder):
    assert search.run_search(finder, "   ").kind == "empty"
    assert search.run_search(finder, "Murat").kind == "ambiguous"
    out = search.run_search(finder, "Marseille")
    assert out.kind == "outside" and out.suggestions
    res = search.run_search(finder, "Aurillac")
    assert res.kind == "result" and res.result.place.name == "Aurillac"


def test_candidate_query_selects_one_place(finder):
    for place in finder.lookup("Murat").places:
        q = search.candidate_query(place, finder)
        found = finder.lookup(q)
        assert not found.ambiguous and found.places[0].insee == place.insee


def test_query_from_params_cleans_and_cuts():
    assert search.query_from_params({"q": ["Le Puy\x00en\nVelay", "x"]}) == "Le Puy en Velay"
    assert search.query_from_params({}) == ""
    assert len(search.query_from_params({"q": "a" * 1000})) == MAX_QUERY_CHARS
    assert search.flag_from_params({"jeune": "1"}, "jeune")
    assert not search.flag_from_params({"jeune": "0"}, "jeune")


def test_position_query_rounds_and_refuses_garbage():
    assert search.position_query(45.04321, 3.88512) == "45.043, 3.885"
    with pytest.raises(PlaceError, match="illisible"):
        search.position_query(float("nan"), 3.0)
    with pytest.raises(PlaceError, match="illisible"):
        search.position_query("abc", 3.0)


def test_structure_card_escapes_every_field_and_refuses_bad_links():
    row = {
        "name": HOSTILE,
        "commune_name": "Riom <b>",
        "dep": "63",
        "distance_km": 12.34,
        "duration_min": float("nan"),
        "address": "<img src=x onerror=alert(1)>",
        "phone": "04 73 00 00 00",
        "email": "a@b.fr",
        "website": "javascript:alert(1)",
        "services": "`${alert(1)}`",
        "commune_inferred": True,
        "location_note": "<svg onload=x>",
    }
    card = cards.structure_card_html(row, model_label="à vol d'oiseau", rank=1)
    for raw in (HOSTILE, "<img", "<svg", "<b>", "${"):
        assert raw not in card
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in card
    assert 'href="tel:+33473000000"' in card and 'href="mailto:a@b.fr"' in card
    assert 'href="javascript' not in card and "javascript:alert(1)" in card  # shown as text
    assert f"{french.km(12.34)} à vol d" in card and "Lieu déduit" in card


def test_md_escape_neutralises_markdown():
    assert md_escape("[a](http://x) *b* :red[c] $d$") == (
        "\\[a\\]\\(http\\://x\\) \\*b\\* \\:red\\[c\\] \\$d\\$"
    )


def test_error_messages_are_french_and_hide_internals():
    generic = messages.GENERIC_ERROR_FR
    assert messages.error_message_fr(KeyError("x")) == generic
    assert messages.error_message_fr(ArgumentError("`k` must be an integer")) == generic
    readers = "Seuil illisible : 'abc' ; attendu un nombre de kilomètres."
    assert messages.error_message_fr(ValidationError(readers)) == readers
    assert "indisponibles" in messages.error_message_fr(DataSourceError("cache illisible."))
    msg = messages.error_message_fr(RegistryError("f.csv", ["ligne 2 : x", "ligne 3 : y"]))
    assert "2 problème(s)" in msg


# --------------------------------------------------------------------------- uploads


def test_malformed_upload_lists_problems_by_line_and_writes_nothing(region):
    before = sorted(p.name for p in settings.DATA_DIR.iterdir())
    data = (
        b"id,name,kind,insee,source\n"
        b"a1,Centre A,tous_publics,99999,https://example.org/a\n"
        b"a1,Centre B,inconnu,63113,pas-une-url\n"
    )
    with pytest.raises(RegistryError, match="refusé") as info:
        uploads.load_upload("../../etc/ars.csv", data, region=region)
    problems = info.value.problems
    assert len(problems) >= 3
    assert all("ars.csv" in p for p in problems)
    assert any("ligne 2" in p for p in problems) and any("ligne 3" in p for p in problems)
    assert not any("parcours-upload-" in p for p in problems)
    assert sorted(p.name for p in settings.DATA_DIR.iterdir()) == before


def test_upload_refuses_unknown_formats_and_huge_files(region):
    with pytest.raises(RegistryError, match="format non reconnu"):
        uploads.load_upload("registre.pdf", b"%PDF", region=region)
    with pytest.raises(RegistryError, match="classeur illisible"):  # a workbook, but damaged
        uploads.load_upload("registre.xlsx", b"PK", region=region)
    with pytest.raises(RegistryError, match="trop gros"):
        uploads.load_upload("r.csv", b"x" * (MAX_FILE_BYTES + 1), region=region)


def test_good_upload_is_named_by_its_file(region, registry):
    s = registry.structures
    row = s[s["located"]].iloc[0]
    data = f"id,name,kind,insee,source\nx1,Essai,aja,{row['insee']},{row['source']}\n".encode()
    reg = uploads.load_upload("C:\\Users\\ars\\structures-ars.csv", data, region=region)
    assert reg.path == "structures-ars.csv" and not reg.is_default
    assert list(reg.structures["id"]) == ["x1"]


# --------------------------------------------------------------------------- prescription


def test_prescription_sheet_names_structure_plan_and_cost(registry):
    plan = forfait.check_plan(["apa", "psychologique"], 4)
    s = registry.structures.iloc[0].to_dict() | {"name": HOSTILE, "phone": "04 73 00 00 00"}
    sheet = prescription.prescription_html(plan, s, issued=dt.date(2026, 3, 5))
    assert sheet.startswith("<!DOCTYPE html>") and "<script" not in sheet
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in sheet
    assert french.eur(plan.total_eur) in sheet
    assert "5 mars 2026" in sheet
    assert "Bilan psychologique" in sheet and "@media print" in sheet
    assert 'href="tel:+33473000000"' in sheet


def test_prescription_refuses_a_plan_outside_the_forfait():
    with pytest.raises(ValidationError, match="ne respecte pas le forfait"):
        prescription.prescription_html(forfait.check_plan(["apa"], 7))
    with pytest.raises(ValidationError, match="PlanCheck"):
        prescription.prescription_html({"ok": True})  # type: ignore[arg-type]


def test_frames_for_display_have_french_headers(finder):
    from coverage.analysis.access_build import build_access

    acc = build_access(finder.region, finder.registry, zones=finder.zones, model=finder.model)
    a = analyse(acc, region=finder.region, registry=finder.registry, threshold=30)
    deps = frames.departements_frame(a)
    assert len(deps) == 12 and "Département" in deps.columns
    assert deps["Habitants"].sum() == pytest.approx(a.main.population)
    gaps = frames.gaps_frame(a, top=10)
    assert len(gaps) == min(10, len(a.gaps))
    assert isinstance(frames.aja_zones_frame(a), pd.DataFrame)


def test_exports_tab_offers_the_four_files():
    at = _planner(onglet="Exports")
    assert not at.exception
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == [
        "Carte de couverture (HTML)",
        "Rapport (HTML)",
        "Table des communes (CSV pour tableur)",
        "Communes et structures (GeoPackage pour SIG)",
    ]


def test_export_bytes_read_back(finder, region, tmp_path):
    import pyogrio

    from coverage.analysis.access_build import build_access

    acc = build_access(finder.region, finder.registry, zones=finder.zones, model=finder.model)
    a = analyse(acc, region=finder.region, registry=finder.registry, threshold=30)
    data = builders.communes_csv(a)
    assert data.startswith("\ufeff".encode())
    table = pd.read_csv(
        io.BytesIO(data), sep=";", decimal=",", encoding="utf-8-sig", dtype={"code_insee": str}
    )
    assert len(table) == len(region.communes)
    assert set(table["code_insee"]) == set(region.communes["insee"])
    gpkg = tmp_path / "x.gpkg"
    gpkg.write_bytes(builders.communes_gpkg(a, region))
    layers = {name for name, _ in pyogrio.list_layers(gpkg)}
    assert layers == {"communes", "structures"}


def test_what_if_removing_the_only_located_structure_is_reported(registry):
    at = _planner(onglet="Scénario")
    located = registry.located("tous_publics")
    assert len(located) == 1  # the embedded registry: one all-patients structure located
    at.multiselect(key="sc_remove").select(located["id"].iloc[0])
    at.button[0].click().run()
    assert not at.exception
    assert any("aucune structure tous publics" in w.value for w in at.warning)
    assert "Retrait" in html_bodies(at)


def html_iframes(at) -> str:
    """The HTML of every iframe of the page (maps)."""
    return "\n".join(str(getattr(e.proto, "srcdoc", "")) for e in at.get("iframe"))


def test_siting_tab_suggests_communes(finder):
    at = _planner(onglet="Sites suggérés")
    assert not at.exception
    at.number_input(key="site_k").set_value(2)
    at.number_input(key="site_min_pop").set_value(2000)
    at.button[0].click().run()
    assert not at.exception
    frames = at.dataframe
    shown = frames[-1].value
    assert list(shown["Rang"]) == [1, 2]
    assert set(shown["Commune"]) <= set(finder.region.communes["name"])
    # Candidates of at least 2,000 inhabitants (by default every commune, as the command line).
    c = finder.region.communes
    big = set(c.loc[c["population"] >= 2000, "name"])
    assert set(shown["Commune"]) <= big
    assert "Sites sugg" in html_iframes(at)  # the map of the suggested sites


def test_siting_tab_among_uploaded_applicants(finder, tmp_path):
    at = _planner(onglet="Sites suggérés")
    rows = ["id,name,insee,source"] + [
        f"cand-{i},Candidat {i},{i},https://example.org/test" for i in ("15014", "43157", "07186")
    ]
    data = ("\n".join(rows) + "\n").encode()
    at.number_input(key="site_k").set_value(1)
    at.file_uploader(key="site_candidates").set_value(("candidats.csv", data, "text/csv"))
    at.button[0].click().run()
    assert not at.exception
    shown = at.dataframe[-1].value
    names = dict(zip(finder.region.communes["insee"], finder.region.communes["name"], strict=True))
    assert set(shown["Commune"]) <= {names[i] for i in ("15014", "43157", "07186")}
    assert "Candidature" in shown.columns and shown["Candidature"].iloc[0].startswith("Candidat")


def test_an_approximate_name_asks_the_patient_to_check():
    at = app_test(q="Aurillacc").run()
    note = "Nom approché : vérifiez qu'il s'agit bien d'Aurillac (Cantal)."
    assert note in notices(at, "info")
    exact = app_test(q="Aurillac").run()
    assert not any("Nom approché" in t for t in notices(exact))


def test_the_server_builds_its_lazy_indexes_before_the_first_visitor(finder):
    """What the first out-of-region name or misspelt name would build, among visitors' objects
    (the names of France outside the region, fuzzy matching), the warm-up builds at start."""
    import copy
    import sys

    from coverage.data.place_names import place_index
    from coverage.patient.finder import Finder

    region = copy.copy(finder.region)  # a region object of its own: its indexes not yet built
    index = place_index(region)
    assert "france" not in vars(index)
    loaders._warm_up(Finder(region, finder.registry, finder.zones, finder.model))
    assert {"names", "france"} <= set(vars(index))
    assert "rapidfuzz" in sys.modules and "streamlit.emojis" in sys.modules
