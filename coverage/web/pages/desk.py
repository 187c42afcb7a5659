"""The planners' desk: threshold and measure, then one tab per view (only the open tab runs)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, cast

import pandas as pd
import streamlit as st

from coverage.patient.finder import Finder
from coverage.web import frames, loaders, markup
from coverage.web.config import DOWNLOAD_NAMES
from coverage.web.messages import guarded
from coverage.web.session import current_finder, current_key
from coverage.web.widgets import metrics, table, text

if TYPE_CHECKING:
    from coverage.analysis.access import AccessTable, Cost
    from coverage.analysis.analyse import Analysis, Objective

md = markup.md_escape

COST_LABELS = {"distance_km": "Distance (km)", "duration_min": "Durée (min)"}
DESK_TABS = [
    "Chiffres clés",
    "Carte",
    "Tableaux",
    "Écarts",
    "Scénario",
    "Sites suggérés",
    "Exports",
]
View = Callable[["Analysis", "AccessTable", Finder, str], None]


def _controls(access: AccessTable) -> tuple[float, Cost]:
    left, right = st.columns([2, 1])
    by = "distance_km"
    if access.has_time:
        by = right.radio(
            "Mesure", list(COST_LABELS), format_func=COST_LABELS.get, horizontal=True, key="by"
        )
    unit = "km" if by == "distance_km" else "min"
    threshold = float(
        left.slider(
            f"Seuil acceptable ({unit})", min_value=5, max_value=180, value=30, step=5, key="seuil"
        )
    )
    return threshold, cast("Cost", by)


@guarded
def planner_page() -> None:
    """The planners' desk: threshold, then one tab per view (only the open tab runs)."""
    st.set_page_config(layout="wide")
    st.title("Couverture régionale des structures porteuses")
    finder = current_finder()
    key = current_key()
    with st.spinner("Calcul des distances commune par commune…"):
        access = loaders.get_access(key, finder)
    threshold, by = _controls(access)
    with st.spinner("Analyse de la couverture…"):
        a = loaders.get_analysis(key, threshold, by, access, finder)
    st.caption(md(frames.measure_caption(a)))
    text(frames.registry_statement(a))
    tabs = st.tabs(DESK_TABS, key="onglet", bind="query-params")
    views: tuple[View, ...] = (
        desk_headline,
        desk_map,
        desk_tables,
        desk_gaps,
        desk_scenario,
        desk_sites,
        desk_exports,
    )
    for tab, view in zip(tabs, views, strict=True):
        if tab.open:
            with tab:
                view(a, access, finder, key)


def desk_headline(a: Analysis, access: AccessTable, finder: Finder, key: str) -> None:
    """Headline metrics, the table of indicators, histogram and Lorenz curve."""
    figures = frames.headline_metrics(a)
    if not figures:
        st.warning("Aucune structure tous publics localisée : pas de chiffres à calculer.")
        return
    metrics(figures)
    rows = frames.headline_rows(a)
    st.dataframe(
        pd.DataFrame(rows, columns=["Indicateur", "Valeur"]), hide_index=True, width="stretch"
    )
    hist, lorenz = loaders.charts_svg(key, a.threshold, cast("Cost", a.by), _analysis=a)
    c1, c2 = st.columns(2)
    # st.image shows the SVG as an image (st.html's sanitiser drops inline SVG).
    if hist:
        c1.markdown("**Habitants selon la distance**")
        c1.image(hist, width="stretch")
    if lorenz:
        c2.markdown("**Courbe de Lorenz**")
        c2.image(lorenz, width="stretch")
    if caption := frames.aja_caption(a):
        st.caption(md(caption))


def desk_map(a: Analysis, access: AccessTable, finder: Finder, key: str) -> None:
    """The coverage choropleth of the 4,025 communes."""
    with st.spinner("Préparation de la carte des 4 025 communes…"):
        html = loaders.coverage_map_html(
            key, a.threshold, cast("Cost", a.by), _analysis=a, _region=finder.region
        )
    st.iframe(html, height=640)


def desk_tables(a: Analysis, access: AccessTable, finder: Finder, key: str) -> None:
    """Per-département and per-AJA-zone tables."""
    st.subheader("Par département")
    table(frames.departements_frame(a))
    st.subheader("Par zone AJA (dispositifs 15-25 ans)")
    st.caption(md(frames.aja_zones_caption(a)))
    zones = frames.aja_zones_frame(a)
    if zones.empty:
        st.info("Aucun dispositif AJA localisé.")
    else:
        table(zones)


def desk_gaps(a: Analysis, access: AccessTable, finder: Finder, key: str) -> None:
    """Communes and EPCI beyond the threshold."""
    text(frames.gaps_sentence(a))
    table(frames.gaps_frame(a))
    st.subheader("EPCI les plus concernés")
    table(frames.gaps_epci_frame(a))


def _scenario_form(access: AccessTable, finder: Finder, key: str) -> tuple[list[str], list[str]]:
    options = loaders.commune_options(key, finder.region)
    s = access.structures
    names = dict(zip(s["id"], s["name"] + " – " + s["commune_name"], strict=True))
    with st.form("scenario", border=True):
        add = st.multiselect(
            "Ajouter une structure dans la commune",
            list(options),
            format_func=lambda c: options[c],
            max_selections=5,
            key="sc_add",
            placeholder="Tapez le nom d'une commune",
        )
        remove = st.multiselect(
            "Retirer une structure",
            list(names),
            format_func=lambda i: names[i],
            key="sc_remove",
            placeholder="Choisissez",
        )
        st.form_submit_button("Comparer", type="primary")
    return add, remove


def desk_scenario(a: Analysis, access: AccessTable, finder: Finder, key: str) -> None:
    """What-if: add structures at communes, remove some; before/after figures."""
    st.markdown(
        "Ajoutez des structures tous publics dans des communes, ou retirez-en, et "
        "comparez les chiffres. Le registre n'est pas modifié."
    )
    add, remove = _scenario_form(access, finder, key)
    if not add and not remove:
        return
    by = cast("Cost", a.by)
    whatif = loaders.get_whatif(key, a.threshold, by, access, finder.region)
    with st.spinner("Calcul du scénario…"):
        res = loaders.run_whatif(key, a.threshold, by, tuple(add), tuple(remove), whatif)
    st.html(markup.list_html(list(res.changes)))
    figures = frames.scenario_metrics(res, a)
    if not figures:
        st.warning("Après ce scénario, aucune structure tous publics ne reste localisée.")
        return
    metrics(figures)
    st.caption(md(frames.scenario_before(res, a)))
    table(frames.departements_delta_frame(res))
    st.download_button(
        "Carte du scénario (HTML)",
        lambda: loaders.scenario_map_html(
            key, a.threshold, by, tuple(add), tuple(remove), _result=res, _finder=finder
        ),
        file_name=DOWNLOAD_NAMES["scenario_map"],
        mime="text/html",
        on_click="ignore",
    )


SITE_OBJECTIVES = {
    "mclp": "Le plus d'habitants sous le seuil",
    "pmedian": "Le moins de distance parcourue au total",
}


def desk_sites(a: Analysis, access: AccessTable, finder: Finder, key: str) -> None:
    """Greedy siting suggestions."""
    st.markdown(
        "Communes où une nouvelle structure tous publics rapprocherait le plus "
        "d'habitants (calcul glouton ; à confronter au terrain)."
    )
    with st.form("sites"):
        k = st.number_input("Nombre de sites", min_value=1, max_value=10, value=3, key="site_k")
        objective = st.radio(
            "Objectif",
            list(SITE_OBJECTIVES),
            format_func=SITE_OBJECTIVES.get,
            key="site_obj",
            horizontal=True,
        )
        asked = st.form_submit_button("Suggérer", type="primary")
    if asked:
        st.session_state["sites_asked"] = True
    if not st.session_state.get("sites_asked"):
        return
    by, obj = cast("Cost", a.by), cast("Objective", objective)
    with st.spinner("Recherche des meilleurs sites…"):
        sites = loaders.get_sites(key, a.threshold, by, int(k), obj, access)
    table(frames.sites_frame(sites))
    st.caption(md(frames.sites_change(sites)))


def desk_exports(a: Analysis, access: AccessTable, finder: Finder, key: str) -> None:
    """Download buttons (files built when clicked)."""
    region, by = finder.region, cast("Cost", a.by)
    st.markdown(
        "Fichiers au seuil choisi. Les cartes s'ouvrent sans connexion (seul le fond "
        "de carte OpenStreetMap en demande une)."
    )
    st.download_button(
        "Carte de couverture (HTML)",
        lambda: loaders.coverage_map_html(key, a.threshold, by, _analysis=a, _region=region),
        file_name=DOWNLOAD_NAMES["coverage_map"],
        mime="text/html",
        on_click="ignore",
    )
    st.download_button(
        "Rapport (HTML)",
        lambda: loaders.report_html(key, a.threshold, by, _analysis=a),
        file_name=DOWNLOAD_NAMES["report"],
        mime="text/html",
        on_click="ignore",
    )
    st.download_button(
        "Table des communes (CSV pour tableur)",
        lambda: loaders.communes_csv(a),
        file_name=DOWNLOAD_NAMES["csv"],
        mime="text/csv",
        on_click="ignore",
    )
    st.download_button(
        "Communes et structures (GeoPackage pour SIG)",
        lambda: loaders.communes_gpkg(a, region),
        file_name=DOWNLOAD_NAMES["gpkg"],
        mime="application/geopackage+sqlite3",
        on_click="ignore",
    )
