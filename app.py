"""Streamlit front end: the router of the patient, prescriber, registry and planners' pages.

Run with ``streamlit run app.py``. This file only sets the page up and routes; each page is a
module of ``coverage.web.pages`` and every computation is in the ``coverage`` package.

Maps are shown with ``st.iframe`` on the HTML of ``coverage.outputs.maps.base.to_html``, which
inlines the project's own copy of Leaflet. streamlit-folium (0.27) was not used: its
``st_folium`` passes folium's ``default_js``/``default_css`` URLs (cdn.jsdelivr.net,
code.jquery.com, cdnjs.cloudflare.com) to its front end, which adds them as ``<script src>``
tags, so every map would fetch Leaflet and jQuery from CDNs. With the inline HTML the only
third-party requests are the OpenStreetMap basemap tiles. The maps return nothing to Python,
so panning never reruns the page.
"""

from __future__ import annotations

import streamlit as st

from coverage.web.config import region_name
from coverage.web.housekeeping import start_housekeeping
from coverage.web.localise import french_page
from coverage.web.pages.desk import planner_page
from coverage.web.pages.patient import patient_page
from coverage.web.pages.prescriber import prescriber_page
from coverage.web.pages.registry import registry_page
from coverage.web.style import PAGE_CSS

PAGE_TITLE = "Parcours de soins global après cancer – Auvergne-Rhône-Alpes"


def page_title() -> str:
    """The browser tab's title, for the region served (``$PARCOURS_REGION``, default 84)."""
    return f"Parcours de soins global après cancer – {region_name()}"


#: The one page laid out wide (its tables and figures need the width); the others centred.
WIDE_PAGES = frozenset({"planification"})


def main() -> None:
    """Page set-up and navigation (each page function can also be run alone).

    The layout is set once, before anything is drawn, from the page about to run: it never
    flips between centred and wide on a rerun.
    """
    page = st.navigation(_pages(), position="top")
    # No page_icon and no page icons: a Material icon becomes the favicon, which the browser
    # then fetches from fonts.gstatic.com; Streamlit's default favicon is served locally.
    st.set_page_config(
        page_title=page_title(), layout="wide" if page.url_path in WIDE_PAGES else "centered"
    )
    st.html(PAGE_CSS)
    start_housekeeping()  # once per process: see coverage/web/housekeeping.py
    french_page()
    page.run()


def _pages() -> list[st.Page]:
    """The four pages, in one flat list (section headers made an invalid list on phones)."""
    return [
        st.Page(patient_page, title="Trouver une structure", default=True),
        st.Page(prescriber_page, title="Prescrire le parcours", url_path="prescription"),
        st.Page(registry_page, title="Registre des structures", url_path="registre"),
        st.Page(planner_page, title="Couverture régionale (ARS)", url_path="planification"),
    ]


if __name__ == "__main__":
    main()
