"""Accessibility and French of the page in Debian's Chromium (issue 10, items 4-6).

One ``streamlit run app.py`` server (embedded registry) per module; each check opens a fresh
browser context (a new Streamlit session). axe-core (npm package, ``js/node_modules``, pinned
by ``js/package-lock.json``) is injected into every page state, at 390 px and 1280 px, and
must find no serious or critical violation. The patient pages must say ``lang="fr"`` and show
no English word, attributes read by screen readers included (Streamlit's own words are
replaced by ``coverage.web.localise``; :data:`ENGLISH_ALLOWED` lists what cannot be). The
"?" of the 15-25 switch is a fold of its own that a tap opens without flipping the switch;
text is at least 16 px; the desk stays wide across reruns.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from _browser import (
    ROOT,
    block_requests,
    chromium,
    clean_env,
    is_local_to,
    require_chromium,
    streamlit_server,
)

pytestmark = pytest.mark.browser

AXE = ROOT / "js" / "node_modules" / "axe-core" / "axe.min.js"
AXE_MISSING = f"axe-core absent ({AXE}) : lancez « npm ci --prefix js »."
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
WIDTHS = {"390": PHONE, "1280": DESKTOP}
WAIT_MS = 90_000
TABS = ["Chiffres clés", "Carte", "Tableaux", "Écarts", "Scénario", "Sites suggérés", "Exports"]


@dataclass(frozen=True)
class State:
    """A page state: URL path, query parameters, and a text that shows it is drawn."""

    path: str
    params: tuple[tuple[str, str], ...]
    ready: str


PATIENT_STATES = {
    "patient-vide": State("", (), "Trouver une structure près de chez moi"),
    "patient-reponse": State("", (("q", "Le Puy-en-Velay"),), "Structures les plus proches"),
    "patient-ambigu": State("", (("q", "Murat"),), "peut désigner plusieurs communes"),
    "patient-hors-region": State("", (("q", "Marseille"),), "Auvergne-Rhône-Alpes"),
    "patient-15-25": State("", (("q", "Le Puy-en-Velay"), ("jeune", "1")), "Pour les 15-25 ans"),
}
TAB_READY = {
    "Chiffres clés": "Habitants concernés",
    "Carte": "Couverture régionale des structures porteuses",
    "Tableaux": "Par département",
    "Écarts": "EPCI les plus concernés",
    "Scénario": "Ajoutez des structures",
    "Sites suggérés": "Nombre de sites",
    "Exports": "Rapport (HTML)",
}
STATES = {
    **PATIENT_STATES,
    "prescripteur": State("prescription", (), "Prescrire le parcours de soins global"),
    "registre": State("registre", (), "Registre des structures labellisées"),
    **{
        f"bureau-{tab}": State("planification", (("onglet", tab),), ready)
        for tab, ready in TAB_READY.items()
    },
}

#: Words that only English would put on the page (French homographs such as "main",
#: "content", "file", "options" or "menu" are left out on purpose).
ENGLISH_WORDS = frozenset(
    """the and to of with your you press enter submit results result select all stop
    running skip browse drag drop limit per search clear choose download upload
    close open sidebar settings rerun print about loading please wait error show hide
    fullscreen files here apply delete remove""".split()
)
#: Streamlit strings that stay English on the patient pages (none at present: each one seen
#: is replaced by ``coverage.web.localise``). Add here, and to the README, what cannot be.
ENGLISH_ALLOWED: frozenset[str] = frozenset()

_SETTLE_JS = """() => {
  const w = document.querySelector('[data-testid="stStatusWidget"]');
  return !w || !w.innerText.trim();
}"""
_VISIBLE_TEXT_JS = """() => {
  const skip = (e) => !e || e.closest('[aria-hidden="true"], [data-testid="stIconMaterial"],'
    + ' iframe, script, style, .st-key-pc-french');
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let n;
  while ((n = walker.nextNode())) {
    const e = n.parentElement;
    const t = n.data.trim();
    if (!t || skip(e)) continue;
    const r = e.getBoundingClientRect();
    const style = getComputedStyle(e);
    if (!r.width || !r.height || style.visibility === 'hidden') continue;
    out.push(t);
  }
  for (const e of document.querySelectorAll('[aria-label], [title], [placeholder], img[alt]')) {
    if (skip(e)) continue;
    for (const a of ['aria-label', 'title', 'placeholder', 'alt']) {
      const v = e.getAttribute(a);
      if (v) out.push(v);
    }
  }
  return out;
}"""
_SMALL_TEXT_JS = """() => {
  const out = [];
  const root = document.querySelector('.stMain') || document.body;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  let n;
  while ((n = walker.nextNode())) {
    const e = n.parentElement;
    const t = n.data.trim();
    if (!t || !e || e.closest('[aria-hidden="true"], [data-testid="stIconMaterial"], iframe'))
      continue;
    const r = e.getBoundingClientRect();
    if (!r.width || !r.height) continue;
    const size = parseFloat(getComputedStyle(e).fontSize);
    if (size < 16) out.push(`${size.toFixed(1)} px: ${t.slice(0, 50)}`);
  }
  return out;
}"""
_AXE_JS = """async () => {
  const r = await axe.run(document, { iframes: false, resultTypes: ['violations'] });
  return r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ')) }));
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    require_chromium()
    if not AXE.is_file():
        pytest.skip(AXE_MISSING)
    log = tmp_path_factory.mktemp("a11y") / "streamlit.log"
    with streamlit_server(ROOT / "app.py", log=log, env=clean_env(), timeout=90) as running:
        yield running.url


@pytest.fixture(scope="module")
def browser(server):
    with chromium() as b:
        yield b


@pytest.fixture
def open_state(browser, server):
    contexts = []

    def open_(state: State, viewport: dict, **kw):
        context = browser.new_context(viewport=viewport, locale="fr-FR", **kw)
        contexts.append(context)
        block_requests(context, is_local_to(server))
        page = context.new_page()
        query = "&".join(f"{k}={quote(v)}" for k, v in state.params)
        page.goto(f"{server}/{state.path}" + (f"?{query}" if query else ""))
        page.get_by_text(state.ready).first.wait_for(timeout=WAIT_MS)
        settle(page)
        return page

    yield open_
    for c in contexts:
        c.close()


def settle(page, *, quiet_s: float = 1.5, timeout_s: float = 90) -> None:
    """Wait until the script has been idle (no status widget) for ``quiet_s`` seconds."""
    deadline = time.monotonic() + timeout_s
    quiet_since = None
    while time.monotonic() < deadline:
        if page.evaluate(_SETTLE_JS):
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= quiet_s:
                return
        else:
            quiet_since = None
        time.sleep(0.25)
    raise AssertionError("the page never became idle")


def english_words(texts: list[str]) -> set[str]:
    found = set()
    for text in texts:
        if text in ENGLISH_ALLOWED:
            continue
        words = set(re.findall(r"[a-z]+", text.lower()))
        found |= words & ENGLISH_WORDS
    return found


def test_english_word_finder_catches_streamlit_strings():
    assert english_words(["Press Enter to submit form", "Browse files"]) >= {"press", "browse"}
    assert english_words(["Votre commune, ou votre code postal", "file d'attente"]) == set()


# --------------------------------------------------------------------------- axe-core


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("name", list(STATES))
def test_axe_finds_no_serious_or_critical_violation(open_state, name, width):
    page = open_state(STATES[name], WIDTHS[width])
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(_AXE_JS)
    bad = [v for v in violations if v["impact"] in {"serious", "critical"}]
    assert bad == [], bad


# --------------------------------------------------------------------------- French


@pytest.mark.parametrize("name", list(PATIENT_STATES))
def test_patient_pages_are_french_throughout(open_state, name):
    page = open_state(PATIENT_STATES[name], PHONE)
    assert page.evaluate("document.documentElement.lang") == "fr"
    texts = page.evaluate(_VISIBLE_TEXT_JS)
    assert texts
    assert english_words(texts) == set(), [t for t in texts if english_words([t])]


def test_the_upload_widget_speaks_french(open_state):
    page = open_state(STATES["registre"], DESKTOP)
    texts = page.evaluate(_VISIBLE_TEXT_JS)
    assert "Choisir un fichier" in texts
    assert english_words(texts) == set(), [t for t in texts if english_words([t])]


@pytest.mark.parametrize("name", ["patient-vide", "patient-reponse", "patient-15-25"])
def test_patient_text_is_at_least_16_px(open_state, name):
    page = open_state(PATIENT_STATES[name], PHONE)
    assert page.evaluate(_SMALL_TEXT_JS) == []


# --------------------------------------------------------------------------- the "?" help


def test_the_age_help_opens_on_a_tap_and_leaves_the_switch_alone(open_state):
    page = open_state(PATIENT_STATES["patient-vide"], PHONE, has_touch=True, is_mobile=True)
    switch = page.get_by_label("J'ai entre 15 et 25 ans")
    assert not switch.is_checked()
    help_text = page.get_by_text("un dispositif dédié, l'AJA")
    assert not help_text.is_visible()
    page.get_by_text("Pourquoi indiquer mon âge ?").tap()
    help_text.wait_for(state="visible", timeout=5_000)
    settle(page)
    assert not switch.is_checked() and "jeune=1" not in page.url


# --------------------------------------------------------------------------- desk layout


def test_the_desk_stays_wide_across_reruns(open_state):
    page = open_state(STATES["bureau-Chiffres clés"], DESKTOP)
    page.evaluate(
        """() => {
          window.__widths = [];
          const record = () => {
            const c = document.querySelector('[data-testid="stMainBlockContainer"]');
            if (c) window.__widths.push(Math.round(c.getBoundingClientRect().width));
            if (window.__widths.length < 100000) requestAnimationFrame(record);
          };
          record();
        }"""
    )
    page.get_by_role("slider").first.focus()
    page.keyboard.press("ArrowRight")  # 30 -> 35 km: a rerun of the whole desk
    page.get_by_text("Au-delà de 35 km").first.wait_for(timeout=WAIT_MS)
    settle(page)
    widths = set(page.evaluate("window.__widths"))
    assert len(widths) == 1 and widths.pop() > 1000, widths


def _tab_to(page, predicate_js: str, *, presses: int = 60) -> None:
    """Press Tab until the focused element satisfies ``predicate_js`` (``e => bool``)."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate(
            f"() => {{ const e = document.activeElement; return !!e && ({predicate_js})(e); }}"
        ):
            return
    pytest.fail(f"never reached with the Tab key: {predicate_js}")


def test_the_patient_flow_works_with_the_keyboard_alone(open_state):
    page = open_state(PATIENT_STATES["patient-ambigu"], DESKTOP)
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    _tab_to(page, "e => e.tagName === 'SUMMARY'")  # the age help opens with Enter
    page.keyboard.press("Enter")
    page.get_by_text("un dispositif dédié, l'AJA").wait_for(state="visible", timeout=5_000)
    _tab_to(page, "e => e.tagName === 'BUTTON' && !!e.closest('.st-key-cand-15138')")
    page.keyboard.press("Enter")  # a candidate is chosen without a mouse
    page.get_by_text("Structures les plus proches de Murat (Cantal)").wait_for(timeout=WAIT_MS)
    settle(page)
    assert page.locator(".pc-card").count() >= 1
