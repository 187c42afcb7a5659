"""The planners' desk: threshold and measure, then one tab per view (only the open tab runs)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import pandas as pd
import streamlit as st

from coverage import french
from coverage._errors import CoverageError
from coverage.analysis.planning import (
    DEFAULT_CANDIDATES_MIN_POPULATION,
    DEFAULT_OBJECTIVE,
    DEFAULT_SITES,
    Siting,
)
from coverage.outputs.html import esc
from coverage.outputs.labels import GLOSSARY
from coverage.outputs.text import social_lines, straight_line_lines, territory_lines
from coverage.patient.finder import Finder
from coverage.web import budget, builders, frames, loaders, markup, uploads
from coverage.web.config import DOWNLOAD_NAMES, TRAVEL_FR, desk_travel_kinds
from coverage.web.messages import guarded, show_error, show_queued
from coverage.web.pages.desk_inputs import DeskFiles, planner_files
from coverage.web.session import current_source
from coverage.web.sources import Source
from coverage.web.widgets import html_frame, metrics, table, text

if TYPE_CHECKING:
    from coverage.analysis.access import AccessTable
    from coverage.analysis.access_matrix import Cost
    from coverage.analysis.analyse import Analysis
    from coverage.analysis.suggestions import Objective


def glossary_html() -> str:
    """The glossary as an escaped definition list."""
    rows = "".join(f"<dt>{esc(term)}</dt><dd>{esc(line)}</dd>" for term, line in GLOSSARY)
    return f'<dl class="pc-glossary">{rows}</dl>'


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
View = Callable[["Analysis", "AccessTable", Source], None]
#: ``st.session_state`` key of the planner files in use on this run (the views read them).
_FILES = "desk_files"


def desk_files() -> DeskFiles:
    """The planner files in use on this run of the desk."""
    files = st.session_state.get(_FILES)
    return files if isinstance(files, DeskFiles) else DeskFiles()


def _travel(source: Source) -> str:
    """The travel model chosen (the server's by default), among those this server offers."""
    kinds = desk_travel_kinds(source.finder.model.name)
    return str(
        st.selectbox(
            "Mesure des trajets",
            kinds,
            format_func=lambda k: TRAVEL_FR.get(k, k),
            key="travel",
            help="Comme « parcours analyse --travel » : la mesure de chaque trajet commune – "
            "structure. Seules les durées (estimation, distancier, OSRM) permettent un seuil "
            "en minutes.",
        )
    )


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
    st.title("Couverture régionale des structures porteuses")
    source = current_source()
    files = planner_files(source)
    source = source.with_model(_travel(source))
    with st.spinner("Calcul des distances commune par commune…"):
        access = source.access()
    threshold, by = _controls(access)
    with st.spinner("Analyse de la couverture…"):
        a = source.plan(files.request(threshold, by), files.key).analysis
    st.session_state[_FILES] = files
    if warning := frames.registry_warning(a, source.finder.registry):
        st.warning(warning)
    if a.meta.weights is not None and not a.meta.weights.is_population:
        text(frames.weights_caption(a), css_class="pc-caption")
    # The notes are folded so that the tabs stay on the first screen.
    with st.expander("À propos des mesures et du registre"):
        text(frames.measure_caption(a))
        text(frames.weights_caption(a))
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
                view(a, access, source)


def desk_headline(a: Analysis, access: AccessTable, source: Source) -> None:
    """Headline metrics, the table of indicators, histogram and Lorenz curve."""
    figures = frames.headline_metrics(a)
    if not figures:
        st.warning("Aucune structure tous publics localisée : pas de chiffres à calculer.")
        return
    metrics(figures)
    table(pd.DataFrame(frames.headline_rows(a), columns=["Indicateur", "Valeur"]))
    hist, lorenz = source.charts(a)
    c1, c2 = st.columns(2)
    # st.image shows the SVG as an image (st.html's sanitiser drops inline SVG).
    if hist:
        c1.markdown("**Habitants selon la distance**")
        c1.image(
            hist,
            width="stretch",
            alt="Histogramme : nombre d'habitants selon la distance à la structure tous "
            "publics la plus proche (les chiffres sont dans le tableau ci-dessus).",
        )
    if lorenz:
        c2.markdown("**Courbe de Lorenz**")
        c2.image(
            lorenz,
            width="stretch",
            alt="Courbe de Lorenz : part cumulée des distances parcourues selon la part "
            "cumulée des habitants ; plus elle s'écarte de la diagonale, plus l'accès est "
            "inégal (indice de Gini dans le tableau ci-dessus).",
        )
    if caption := frames.aja_caption(a):
        text(caption, css_class="pc-caption")
    with st.expander("Lexique des indicateurs"):
        st.html(glossary_html())


def desk_map(a: Analysis, access: AccessTable, source: Source) -> None:
    """The coverage choropleth of the region's communes."""
    with st.spinner(f"Préparation de la carte des {french.number(len(a.communes))} communes…"):
        html = source.coverage_map(a)
    html_frame(html, height=640)


def desk_tables(a: Analysis, access: AccessTable, source: Source) -> None:
    """Per-département and per-AJA-zone tables, then what the report adds: the intervention
    territories, the social gradient and the cost of straight lines."""
    st.subheader("Par département")
    table(frames.departements_frame(a))
    st.subheader("Par zone AJA (dispositifs 15-25 ans)")
    text(frames.aja_zones_caption(a), css_class="pc-caption")
    zones = frames.aja_zones_frame(a)
    if zones.empty:
        st.info("Aucun dispositif AJA localisé.")
    else:
        table(zones)
    st.subheader("Territoires d'intervention")
    for line in territory_lines(a):
        text(line)
    if not (territories := frames.territories_frame(a)).empty:
        table(territories)
    st.subheader("Gradient social")
    social = social_lines(a)
    text(social[0] if social else frames.NO_SOCIAL_FR)
    if not (quintiles := frames.quintiles_frame(a)).empty:
        table(quintiles)
    if straight := straight_line_lines(a):
        st.subheader("Coût des lignes droites")
        for line in straight:
            text(line)


def desk_gaps(a: Analysis, access: AccessTable, source: Source) -> None:
    """Communes and EPCI beyond the threshold."""
    text(frames.gaps_sentence(a))
    table(frames.gaps_frame(a))
    st.subheader("EPCI les plus concernés")
    table(frames.gaps_epci_frame(a))


def _scenario_form(access: AccessTable, finder: Finder) -> tuple[list[str], list[str]]:
    options = loaders.commune_options(finder.region.code, finder.region)
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


def desk_scenario(a: Analysis, access: AccessTable, source: Source) -> None:
    """What-if: add structures at communes, remove some; before/after figures."""
    st.markdown(
        "Ajoutez des structures tous publics dans des communes, ou retirez-en, et "
        "comparez les chiffres. Le registre n'est pas modifié."
    )
    add, remove = _scenario_form(access, source.finder)
    if not add and not remove:
        return
    changes = (tuple(add), tuple(remove))
    with st.spinner("Calcul du scénario…"):
        res = source.scenario(a, changes)
    st.html(markup.list_html(list(res.changes)))
    figures = frames.scenario_metrics(res, a)
    if not figures:
        st.warning("Après ce scénario, aucune structure tous publics ne reste localisée.")
        return
    metrics(figures)
    text(frames.scenario_before(res, a), css_class="pc-caption")
    table(frames.departements_delta_frame(res))
    st.download_button(
        "Carte du scénario (HTML)",
        lambda: source.scenario_map(a, changes, res),
        file_name=DOWNLOAD_NAMES["scenario_map"],
        mime="text/html",
        on_click="ignore",
    )


SITE_OBJECTIVES = {
    "mclp": "Le plus d'habitants sous le seuil",
    "pmedian": "Le moins de distance parcourue au total",
}


def desk_sites(a: Analysis, access: AccessTable, source: Source) -> None:
    """Siting suggestions (``parcours analyse --site``): every commune by default, the populous
    ones, or the applicants, asked of :func:`coverage.analysis.planning.plan` with the desk's
    files, so that the suggestions are the command line's."""
    st.markdown(
        "Communes où une nouvelle structure tous publics rapprocherait le plus "
        "d'habitants (recherche gloutonne puis échanges de sites ; à confronter au terrain)."
    )
    with st.form("sites"):
        k = st.number_input(
            "Nombre de sites", min_value=1, max_value=10, value=DEFAULT_SITES, key="site_k"
        )
        objective = st.radio(
            "Objectif",
            list(SITE_OBJECTIVES),
            index=list(SITE_OBJECTIVES).index(DEFAULT_OBJECTIVE),
            format_func=SITE_OBJECTIVES.get,
            key="site_obj",
            horizontal=True,
        )
        min_pop = st.number_input(
            "Communes candidates d'au moins … habitants (0 : toutes)",
            min_value=0,
            max_value=500_000,
            value=DEFAULT_CANDIDATES_MIN_POPULATION or 0,
            step=500,
            key="site_min_pop",
        )
        upload = st.file_uploader(
            "Et/ou : la liste des candidatures (registre, ou communes ; CSV, XLSX, ODS)",
            type=["csv", "xlsx", "ods"],
            key="site_candidates",
        )
        asked = st.form_submit_button("Suggérer", type="primary")
    if asked:
        st.session_state["sites_asked"] = True
    if not st.session_state.get("sites_asked"):
        return
    try:
        applicants, applicants_key = _applicants_of(upload, source)
        siting = Siting(
            k=int(k),
            objective=cast("Objective", objective),
            min_population=int(min_pop) or None,
            applicants=applicants,
        )
        files = desk_files()
        key = (*files.key, "sites", siting.k, siting.objective, siting.min_population)
        with st.spinner("Recherche des meilleurs sites…"):
            plan = source.plan(
                files.request(a.threshold, cast("Cost", a.by), siting=siting),
                (*key, applicants_key),
            )
    except CoverageError as exc:  # refused, over the budget, or stopped in its worker
        show_error(exc)
        return
    sites = plan.analysis.siting
    assert sites is not None
    table(frames.sites_frame(sites))
    text(frames.sites_change(sites), css_class="pc-caption")
    html_frame(builders.render_sites_map(sites, a), height=480)


def _applicants_of(upload: Any, source: Source) -> tuple[dict[str, str] | None, str]:
    """(the applicants by commune, their upload's key), or ``(None, "")`` without a file."""
    if upload is None:
        return None, ""
    data = upload.getvalue()
    return _applicants(upload.name, data, source), uploads.upload_key(data, name=upload.name)


#: ``st.session_state`` key of the applicants read in this session: (upload key, names).
_APPLICANTS = "site_applicants"


def _applicants(name: str, data: bytes, source: Source) -> dict[str, str]:
    """The applicants of an upload by commune, read once per distinct upload and region: in
    a worker, in an upload slot, after the upload budget (a refused file reaches no worker)."""
    key = f"{uploads.upload_key(data, name=name)}:{source.finder.region.code}"
    kept = st.session_state.get(_APPLICANTS)
    if isinstance(kept, tuple) and kept[0] == key:
        return dict(kept[1])
    uploads.check_candidates(name, data)
    with budget.upload_slot(on_wait=show_queued):
        names = uploads.read_candidates_upload(name, data, region=source.finder.region)
    st.session_state[_APPLICANTS] = (key, names)
    return dict(names)


def desk_exports(a: Analysis, access: AccessTable, source: Source) -> None:
    """Download buttons (files built when clicked)."""
    region = source.finder.region
    st.markdown(
        "Fichiers au seuil choisi, pour le registre en usage, sans le scénario de l'onglet "
        "« Scénario » (sa carte se télécharge dans cet onglet). Les cartes s'ouvrent sans "
        "connexion (seul le fond de carte OpenStreetMap en demande une)."
    )
    st.download_button(
        "Carte de couverture (HTML)",
        lambda: source.coverage_map(a),
        file_name=DOWNLOAD_NAMES["coverage_map"],
        mime="text/html",
        on_click="ignore",
    )
    st.download_button(
        "Rapport (HTML)",
        lambda: source.report(a),
        file_name=DOWNLOAD_NAMES["report"],
        mime="text/html",
        on_click="ignore",
    )
    st.download_button(
        "Table des communes (CSV pour tableur)",
        lambda: builders.communes_csv(a),
        file_name=DOWNLOAD_NAMES["csv"],
        mime="text/csv",
        on_click="ignore",
    )
    st.download_button(
        "Communes et structures (GeoPackage pour SIG)",
        lambda: builders.communes_gpkg(a, region),
        file_name=DOWNLOAD_NAMES["gpkg"],
        mime="application/geopackage+sqlite3",
        on_click="ignore",
    )
