"""Benchmark of the Streamlit page as a user meets it: measured in Debian's Chromium.

Starts ``streamlit run app.py`` headless on a free local port (a fresh process: nothing in
memory), then, with Playwright and Chromium (requests other than the local server aborted):

- server start: process start to ``/_stcore/health`` answering;
- cold first paint: process start to the page title visible in the first session (server
  start, Streamlit's front end, the first script run);
- first answer on a cold server: ``?q=Le Puy-en-Velay`` opened, to the first card (region,
  registry and AJA zones loaded by this first search);
- warm page load: a new session on the running server, to the title;
- a new search's round trip: typed in the box and Enter, to the new heading (median of
  several places), target under 1 s;
- planners' desk: first metrics (cold analysis) and a what-if's round trip.

Reference, measured the same way in the same run: a bare Streamlit app (a title on a page of
``st.navigation``), i.e. what Streamlit and this Chromium cost before the page does anything.

Targets: first paint under 3 s cold, a new search under 1 s. Run:
``.venv/bin/python benchmarks/bench_app.py`` (needs ``/usr/bin/chromium``: ``make browsers``).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # see tests/_browser.py
from _browser import (
    CHROMIUM,
    CHROMIUM_MISSING,
    ROOT,
    block_requests,
    chromium,
    clean_env,
    free_port,
    is_local_to,
    start_streamlit,
    stop,
    wait_healthy,
)

TARGET_FIRST_PAINT_S = 3.0
TARGET_SEARCH_S = 1.0
SEARCH_LABEL = "Votre commune, votre code postal, ou vos coordonnées"
PLACES = [
    ("Aurillac", "d'Aurillac (Cantal)"),
    ("Vichy", "de Vichy (Allier)"),
    ("Annecy", "d'Annecy (Haute-Savoie)"),
    ("Valence", "de Valence (Drôme)"),
    ("Privas", "de Privas (Ardèche)"),
    ("Roanne", "de Roanne (Loire)"),
    ("Bourg-en-Bresse", "de Bourg-en-Bresse (Ain)"),
]
WAIT_MS = 120_000


REFERENCE_APP = """
import streamlit as st

def page():
    st.title("Trouver une structure")

st.navigation([st.Page(page, title="Référence", default=True)]).run()
"""


def first_paint(browser, script: Path, log) -> tuple[float, float, float]:
    """(server health, cold first paint, median warm new-session paint) of ``script``."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    t0 = time.perf_counter()
    proc = start_streamlit(script, port, log, env=clean_env())
    try:
        context, page = new_page(browser, url)
        wait_healthy(url, proc)
        health = time.perf_counter() - t0
        page.goto(url, wait_until="commit")
        page.get_by_role("heading", name="Trouver une structure").wait_for(timeout=WAIT_MS)
        cold = time.perf_counter() - t0
        context.close()
        warm = []
        for _ in range(3):
            context, page = new_page(browser, url)
            t = time.perf_counter()
            page.goto(url, wait_until="commit")
            page.get_by_role("heading", name="Trouver une structure").wait_for(timeout=WAIT_MS)
            warm.append(time.perf_counter() - t)
            context.close()
        return health, cold, statistics.median(warm)
    finally:
        stop(proc)


def row(label: str, seconds: float, target: float | None = None) -> None:
    extra = ""
    if target is not None:
        verdict = "OK" if seconds <= target else "AU-DESSUS"
        extra = f"(cible < {target:.1f} s, ratio {seconds / target:.2f} : {verdict})"
    print(f"  {label:<52} {seconds:7.2f} s  {extra}")


def new_page(browser, url: str, width: int = 1280):
    """A new context (a new Streamlit session) that may reach only the server at ``url``."""
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="fr-FR")
    block_requests(context, is_local_to(url))
    return context, context.new_page()


def main() -> None:
    if not CHROMIUM.exists():
        raise SystemExit(CHROMIUM_MISSING)

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with (
        chromium() as browser,
        tempfile.TemporaryDirectory() as tmp,
        (Path(tmp) / "streamlit.log").open("wb") as log,
    ):
        # Warm Chromium itself (its first start is not the page's cost).
        c, pg = new_page(browser, url)
        pg.goto("about:blank")
        c.close()
        reference = Path(tmp) / "reference.py"
        reference.write_text(REFERENCE_APP, encoding="utf-8")
        ref_health, ref_cold, ref_warm = first_paint(browser, reference, log)

        t0 = time.perf_counter()
        proc = start_streamlit(ROOT / "app.py", port, log, env=clean_env())
        try:
            context, page = new_page(browser, url)
            wait_healthy(url, proc)
            t_health = time.perf_counter() - t0
            page.goto(f"{url}/?q=Le%20Puy-en-Velay", wait_until="commit")
            page.get_by_role("heading", name="Trouver une structure").wait_for(timeout=WAIT_MS)
            t_paint = time.perf_counter() - t0
            page.locator(".pc-card").first.wait_for(timeout=WAIT_MS)
            t_card = time.perf_counter() - t0
            context.close()

            print("Référence : application Streamlit nue (un titre), mesurée de même :")
            row("démarrage du serveur (/_stcore/health)", ref_health)
            row("premier affichage à froid (titre visible)", ref_cold, TARGET_FIRST_PAINT_S)
            row("nouvelle session, serveur chaud (médiane de 3)", ref_warm, TARGET_FIRST_PAINT_S)
            print("Page patients (Chromium, serveur lancé à froid) :")
            row("démarrage du serveur (/_stcore/health)", t_health)
            row("premier affichage à froid (titre visible)", t_paint, TARGET_FIRST_PAINT_S)
            print(f"    soit {t_paint / ref_cold:.2f} x la référence à froid")
            row("première réponse à froid (?q=Le Puy-en-Velay)", t_card)

            loads = []
            for _ in range(3):
                context, page = new_page(browser, url)
                t = time.perf_counter()
                page.goto(url, wait_until="commit")
                page.get_by_role("heading", name="Trouver une structure").wait_for(timeout=WAIT_MS)
                loads.append(time.perf_counter() - t)
                context.close()
            row(
                "nouvelle session, serveur chaud (médiane de 3)",
                statistics.median(loads),
                TARGET_FIRST_PAINT_S,
            )
            print(f"    soit {statistics.median(loads) / ref_warm:.2f} x la référence à chaud")

            context, page = new_page(browser, url, width=390)
            page.goto(url, wait_until="commit")
            box = page.get_by_label(SEARCH_LABEL)
            box.wait_for(timeout=WAIT_MS)
            trips = []
            for query, heading in PLACES:
                box.fill(query)
                t = time.perf_counter()
                box.press("Enter")
                page.get_by_text(f"Structures les plus proches {heading}").wait_for(timeout=WAIT_MS)
                trips.append(time.perf_counter() - t)
            context.close()
            row(
                f"nouvelle recherche, aller-retour (médiane de {len(trips)})",
                statistics.median(trips),
                TARGET_SEARCH_S,
            )
            row("nouvelle recherche, la plus lente", max(trips), TARGET_SEARCH_S)

            print("Bureau des planificateurs :")
            context, page = new_page(browser, url)
            t = time.perf_counter()
            page.goto(f"{url}/planification", wait_until="commit")
            metric = page.locator('[data-testid="stMetric"]').filter(has_text="Au-delà de 30 km")
            metric.first.wait_for(timeout=WAIT_MS)
            row("premiers chiffres (analyse à froid)", time.perf_counter() - t)
            page.get_by_role("tab", name="Scénario").click()
            page.locator('[data-testid="stMultiSelect"]').first.click()
            page.keyboard.type("Aurillac")
            page.get_by_role("option", name="Aurillac (15)").click(timeout=WAIT_MS)
            page.keyboard.press("Escape")
            t = time.perf_counter()
            page.get_by_role("button", name="Comparer").click()
            metric.first.locator('[data-testid="stMetricDelta"]').wait_for(timeout=WAIT_MS)
            row("scénario (ajout à Aurillac), aller-retour", time.perf_counter() - t)
            t = time.perf_counter()
            page.get_by_role("tab", name="Carte").click()
            page.locator("iframe").first.wait_for(timeout=WAIT_MS)
            frame = None
            deadline = time.monotonic() + WAIT_MS / 1000
            while frame is None and time.monotonic() < deadline:
                frame = next((f for f in page.frames if f.url == "about:srcdoc"), None)
                time.sleep(0.05)
            if frame is not None:
                frame.wait_for_function(
                    "typeof L === 'object' && document.readyState === 'complete'", timeout=WAIT_MS
                )
            row("carte des 4 025 communes (première fois)", time.perf_counter() - t)
            context.close()
        finally:
            stop(proc)
    print(f"Machine : {os.cpu_count()} cœurs ; Chromium sans GPU.")


if __name__ == "__main__":
    main()
