"""The Streamlit app in Debian's Chromium: ``streamlit run app.py`` driven by Playwright.

One server per module (headless, free local port, ``$PARCOURS_REGISTRY`` pointing to a copy
of the embedded registry plus one hostile structure at Chamonix); every test opens a fresh
browser context (a new Streamlit session). Every request that does not go to the local server
is aborted and recorded: only the OpenStreetMap tiles may be asked for. Dialogs are recorded
too: a registry name like ``<script>alert(1)</script>`` must stay text. Screenshots at 390 px
(phone) and 1280 px (desktop) go to ``artifacts/`` (git-ignored).
"""

from __future__ import annotations

import csv
import hashlib
import io
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from _browser import (
    block_requests,
    chromium,
    clean_env,
    is_local_to,
    require_chromium,
    streamlit_server,
)

from coverage import settings

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts"
HOSTILE_NAME = "<script>alert(1)</script>"
HOSTILE_ADDRESS = "<img src=x onerror=alert(2)>"
TILE_HOSTS = {"tile.openstreetmap.org"}
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
WAIT_MS = 90_000
SEARCH_LABEL = "Votre commune, votre code postal, ou vos coordonnées"


# --------------------------------------------------------------------------- server


def _hostile_registry(path: Path) -> Path:
    """The embedded registry plus one hostile all-patients structure (test data only)."""
    text = settings.DEFAULT_REGISTRY.read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    fields = list(rows[0])
    hostile = dict.fromkeys(fields, "")
    hostile.update(
        id="essai-hostile",
        name=HOSTILE_NAME,
        kind="tous_publics",
        insee="74056",
        dep="74",
        address=HOSTILE_ADDRESS,
        services="<b>gras</b>; `${alert(3)}`",
        commune_inferred="oui",
        location_note="<svg onload=alert(4)>",
        source="https://example.org/essai",
        phone="04 73 00 00 00",
        email="contact@example.org",
        website="https://example.org/essai",
    )
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows([*rows, hostile])
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


@dataclass
class Server:
    url: str
    registry: Path
    log: Path

    def page_url(self, path: str = "", **params: str) -> str:
        query = "&".join(f"{k}={quote(v)}" for k, v in params.items())
        return f"{self.url}/{path}" + (f"?{query}" if query else "")


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    require_chromium()
    tmp = tmp_path_factory.mktemp("app")
    registry = _hostile_registry(tmp / "structures-essai.csv")
    env = clean_env(PARCOURS_REGISTRY=str(registry))
    log = tmp / "streamlit.log"
    with streamlit_server(ROOT / "app.py", log=log, env=env, timeout=90) as running:
        yield Server(running.url, registry, log)


def expect(locator):
    from playwright.sync_api import expect as _expect

    return _expect(locator)


@pytest.fixture(scope="module")
def browser(server):
    with chromium() as b:
        yield b


@dataclass
class Session:
    """One browser context (one Streamlit session) with its recorded events."""

    page: object
    context: object
    server: Server
    blocked: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def goto(self, path: str = "", **params: str) -> None:
        self.page.goto(self.server.page_url(path, **params), wait_until="domcontentloaded")

    def wait_text(self, text: str) -> None:
        self.page.get_by_text(text).first.wait_for(timeout=WAIT_MS)

    def screenshot(self, name: str) -> None:
        """Full-height screenshot at the current width (the app scrolls inside its body)."""
        ARTIFACTS.mkdir(exist_ok=True)
        size = self.page.viewport_size
        height = self.page.evaluate(
            "() => Math.max(...Array.from(document.querySelectorAll('*'), e => e.scrollHeight))"
        )
        self.page.set_viewport_size({"width": size["width"], "height": min(height, 6000)})
        time.sleep(0.5)
        self.page.screenshot(path=str(ARTIFACTS / name))
        self.page.set_viewport_size(size)

    def third_party(self) -> set[str]:
        return {urlsplit(u).hostname or u for u in self.blocked}


@pytest.fixture
def session(browser, server) -> Iterator[Session]:
    def make(viewport=PHONE, **kw) -> Session:
        context = browser.new_context(viewport=viewport, locale="fr-FR", **kw)
        page = context.new_page()
        s = Session(page, context, server)

        def dialog(d) -> None:
            s.dialogs.append(d.message)
            d.dismiss()

        block_requests(context, is_local_to(server.url), s.blocked)
        page.on("dialog", dialog)
        page.on("pageerror", lambda e: s.errors.append(str(e)))
        made.append(s)
        return s

    made: list[Session] = []
    yield make
    for s in made:
        assert not s.dialogs, f"a dialog fired: {s.dialogs!r}"
        assert s.third_party() <= TILE_HOSTS, f"third-party requests: {sorted(s.third_party())}"
        assert s.page.locator('[data-testid="stException"]').count() == 0
        s.context.close()


def _distances_km(texts: list[str]) -> list[float]:
    out = []
    for t in texts:
        number = t.split(" km", 1)[0].replace("\u202f", "").replace(",", ".")
        out.append(float(number))
    return out


# --------------------------------------------------------------------------- patient finder


def test_search_le_puy_shows_ranked_structures_with_distances(session):
    s = session(PHONE)
    s.goto()
    s.wait_text("Trouver une structure près de chez moi")
    s.page.get_by_label(SEARCH_LABEL).fill("Le Puy-en-Velay")
    s.page.get_by_label(SEARCH_LABEL).press("Enter")
    s.wait_text("Structures les plus proches du Puy-en-Velay (Haute-Loire)")
    cards = s.page.locator(".pc-card")
    cards.first.wait_for(timeout=WAIT_MS)
    names = s.page.locator(".pc-card .pc-name").all_inner_texts()
    assert names[0].startswith("1. ") and len(names) >= 2
    dists = _distances_km(s.page.locator(".pc-card .pc-dist").all_inner_texts())
    assert dists == sorted(dists) and all(d > 0 for d in dists)
    assert "q=Le+Puy-en-Velay" in s.page.url or "q=Le%20Puy-en-Velay" in s.page.url
    s.page.locator("iframe").first.wait_for(timeout=WAIT_MS)
    s.screenshot("app-patient-390.png")
    s.page.set_viewport_size(DESKTOP)
    s.screenshot("app-patient-1280.png")


def test_shared_url_runs_the_search_and_keyboard_alone_can_search(session):
    s = session(DESKTOP)
    s.goto(q="Aurillac")
    s.wait_text("Structures les plus proches d'Aurillac (Cantal)")
    field = s.page.get_by_label(SEARCH_LABEL)
    expect(field).to_have_value("Aurillac", timeout=WAIT_MS)
    s.page.evaluate("() => { document.activeElement && document.activeElement.blur(); }")
    for _ in range(40):  # Tab until the search field has the focus
        s.page.keyboard.press("Tab")
        if s.page.evaluate("document.activeElement && document.activeElement.tagName") == (
            "INPUT"
        ) and field.evaluate("e => e === document.activeElement"):
            break
    else:
        pytest.fail("the search field cannot be reached with the Tab key")
    s.page.keyboard.press("Control+A")
    s.page.keyboard.type("Vichy")
    s.page.keyboard.press("Enter")
    s.wait_text("Structures les plus proches de Vichy (Allier)")


def test_ambiguous_murat_offers_candidates(session):
    s = session(PHONE)
    s.goto(q="Murat")
    s.wait_text("peut désigner plusieurs communes")
    b15 = s.page.get_by_role("button", name="Murat (Cantal)")
    b03 = s.page.get_by_role("button", name="Murat (Allier)")
    b15.wait_for(timeout=WAIT_MS)
    assert b03.count() == 1
    s.screenshot("app-murat-390.png")
    b15.click()
    s.wait_text("Structures les plus proches de Murat (Cantal)")
    assert "Murat+%2815%29" in s.page.url or "Murat%20(15)" in s.page.url


def test_place_outside_region_gets_the_message(session):
    s = session(PHONE)
    s.goto(q="Marseille")
    s.wait_text("n'est pas en Auvergne-Rhône-Alpes")
    assert s.page.locator(".pc-card").count() == 0
    s.screenshot("app-outside-390.png")


def test_browser_location_finds_the_commune(session):
    s = session(
        PHONE, geolocation={"latitude": 45.0434, "longitude": 3.8851}, permissions=["geolocation"]
    )
    s.goto()
    s.page.get_by_role("button", name="Utiliser ma position").click(timeout=WAIT_MS)
    s.wait_text("Structures les plus proches du point indiqué (Le Puy-en-Velay (Haute-Loire))")
    expect(s.page.get_by_label(SEARCH_LABEL)).to_have_value("45.043, 3.885", timeout=WAIT_MS)


def test_hostile_registry_name_is_shown_as_text(session):
    s = session(PHONE)
    s.goto(q="Chamonix-Mont-Blanc")
    s.wait_text("Structures les plus proches de Chamonix-Mont-Blanc (Haute-Savoie)")
    first = s.page.locator(".pc-card .pc-name").first
    assert first.inner_text() == f"1. {HOSTILE_NAME}"
    card = s.page.locator(".pc-card").first
    assert HOSTILE_ADDRESS in card.inner_text()
    assert s.page.locator("img[src='x'], svg[onload]").count() == 0
    assert card.locator('a[href="tel:+33473000000"]').inner_text() == "04 73 00 00 00"
    assert card.locator('a[href="mailto:contact@example.org"]').count() == 1
    assert card.locator('a[href="https://example.org/essai"]').count() == 1
    # The map: open every tooltip and popup inside the iframe; nothing may run.
    s.page.locator("iframe").first.wait_for(timeout=WAIT_MS)
    frame = next(f for f in s.page.frames if f != s.page.main_frame and f.url == "about:srcdoc")
    frame.wait_for_function(
        "typeof L === 'object' && document.readyState === 'complete'", timeout=WAIT_MS
    )
    frame.evaluate(
        """() => {
            const m = Object.values(window).find((v) => v instanceof L.Map);
            m.eachLayer((l) => {
                if (l.getTooltip && l.getTooltip()) l.openTooltip();
                if (l.getPopup && l.getPopup()) l.openPopup();
            });
        }"""
    )
    time.sleep(1)
    assert HOSTILE_NAME in frame.locator("body").inner_text()
    assert frame.locator("img[src='x']").count() == 0
    s.screenshot("app-hostile-390.png")


# --------------------------------------------------------------------------- registry view


def test_malformed_upload_shows_errors_and_changes_nothing(session, tmp_path):
    s = session(DESKTOP)
    before = hashlib.sha256(s.server.registry.read_bytes()).hexdigest()
    data_before = sorted(p.name for p in settings.DATA_DIR.iterdir())
    s.goto("registre")
    s.wait_text("Charger le fichier de l'ARS")
    s.page.get_by_text("Liste des structures (texte)").click()
    s.wait_text(f"{HOSTILE_NAME} – Chamonix-Mont-Blanc")
    completeness = s.page.locator("p.pc-p").first.inner_text()
    bad = tmp_path / "ars.csv"
    bad.write_text(
        "id,name,kind,insee,source\n"
        "a1,Centre A,tous_publics,99999,https://example.org/a\n"
        "a1,Centre B,inconnu,63113,pas-une-url\n",
        encoding="utf-8",
    )
    s.page.locator("input[type='file']").set_input_files(str(bad))
    s.wait_text("est refusé")
    s.page.locator("ul.pc-problems li").first.wait_for(timeout=WAIT_MS)
    problems = s.page.locator("ul.pc-problems li").all_inner_texts()
    assert len(problems) >= 3
    assert any("ligne 2" in p for p in problems) and any("ligne 3" in p for p in problems)
    s.wait_text("Le registre en usage n'a pas changé.")
    assert s.page.locator("p.pc-p").first.inner_text() == completeness
    assert hashlib.sha256(s.server.registry.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in settings.DATA_DIR.iterdir()) == data_before
    s.screenshot("app-upload-1280.png")


# --------------------------------------------------------------------------- planners' desk


def _metric(s: Session, label: str):
    return s.page.locator('[data-testid="stMetric"]').filter(has_text=label).first


def test_planner_desk_shows_metrics_and_a_what_if_changes_them(session):
    s = session(DESKTOP)
    s.goto("planification")
    label = "Au-delà de 30 km"
    _metric(s, label).wait_for(timeout=WAIT_MS)
    before = _metric(s, label).locator('[data-testid="stMetricValue"]').inner_text()
    assert before.endswith("%")
    s.wait_text("Courbe de Lorenz")
    s.screenshot("app-desk-1280.png")
    s.page.get_by_role("tab", name="Scénario").click()
    s.wait_text("Ajouter une structure dans la commune")
    box = s.page.locator('[data-testid="stMultiSelect"]').first
    box.click()
    s.page.keyboard.type("Le Puy-en-Velay")
    s.page.get_by_role("option", name="Le Puy-en-Velay (43)").click(timeout=WAIT_MS)
    s.page.keyboard.press("Escape")
    s.page.get_by_role("button", name="Comparer").click()
    delta = _metric(s, label).locator('[data-testid="stMetricDelta"]')
    delta.wait_for(timeout=WAIT_MS)
    after = _metric(s, label).locator('[data-testid="stMetricValue"]').inner_text()
    assert after != before
    assert "point" in delta.inner_text()
    s.wait_text("Ajout : structure tous publics à Le Puy-en-Velay (43)")
    s.screenshot("app-scenario-1280.png")
    s.page.set_viewport_size(PHONE)
    s.screenshot("app-scenario-390.png")


def test_exports_download_with_fixed_names(session, tmp_path):
    s = session(DESKTOP)
    s.goto("planification", onglet="Exports")
    button = s.page.get_by_role("button", name="Table des communes (CSV pour tableur)")
    button.wait_for(timeout=WAIT_MS)
    with s.page.expect_download(timeout=WAIT_MS) as info:
        button.click()
    download = info.value
    assert download.suggested_filename == "communes.csv"
    path = tmp_path / "communes.csv"
    download.save_as(path)
    lines = path.read_bytes().decode("utf-8-sig").splitlines()
    assert lines[0].startswith("code_insee;commune;")
    assert len(lines) > 4000
    with s.page.expect_download(timeout=WAIT_MS) as info:
        s.page.get_by_role("button", name="Rapport (HTML)").click()
    assert info.value.suggested_filename == "rapport-couverture.html"


def test_prescription_sheet_downloads_with_the_structure(session, tmp_path):
    s = session(PHONE)
    s.goto("prescription")
    s.wait_text("Cochez au moins un bilan.")
    s.page.get_by_text("Bilan diététique").click()
    s.page.get_by_text("Bilan psychologique").click()
    field = s.page.get_by_label("Consultations de suivi (30 minutes)", exact=True)
    field.fill("4")
    field.press("Enter")
    s.wait_text("dans le forfait, sans frais pour le patient")
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    option = f"{HOSTILE_NAME} – Chamonix-Mont-Blanc (tous publics)"
    for attempt in range(3):  # a rerun under load may redraw the list mid-click: open it again
        s.page.locator('[data-testid="stSelectbox"]').first.click()
        s.page.keyboard.type("Chamonix")  # the option list is virtualised: filter it first
        try:
            s.page.get_by_role("option", name=option).click(timeout=WAIT_MS // 3)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
            s.page.keyboard.press("Escape")
    s.wait_text(f"Structure choisie : {option}")
    button = s.page.get_by_role("button", name="Télécharger la fiche de prescription")
    with s.page.expect_download(timeout=WAIT_MS) as info:
        button.click()
    assert info.value.suggested_filename == "prescription-parcours-soins-apres-cancer.html"
    path = tmp_path / "sheet.html"
    info.value.save_as(path)
    sheet = path.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in sheet and "<script" not in sheet
    assert "180,00 €" in sheet
    s.screenshot("app-prescription-390.png")
