"""Streamlit front end: the patient finder, the prescriber helper, the planners' desk.

Run with ``streamlit run app.py``. This file is layout and widgets only: every computation is
in the ``coverage`` package (``coverage.web.ui`` holds the page logic that needs no widget).

Maps are shown with ``st.iframe`` on the HTML of ``coverage.outputs.maps.base.to_html``, which
inlines the
project's own copy of Leaflet. streamlit-folium (0.27) was not used: its ``st_folium`` passes
folium's ``default_js``/``default_css`` URLs (cdn.jsdelivr.net, code.jquery.com,
cdnjs.cloudflare.com) to its front end, which adds them as ``<script src>`` tags, so every map
would fetch Leaflet and jQuery from CDNs. With the inline HTML the only third-party requests
are the OpenStreetMap basemap tiles. The maps return nothing to Python, so panning never
reruns the page.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from coverage._errors import RegistryError
from coverage.outputs import prescription
from coverage.patient import forfait
from coverage.patient.finder import Finder
from coverage.web import ui

if TYPE_CHECKING:
    from streamlit.delta_generator import DeltaGenerator

    from coverage.analysis.access import AccessTable
    from coverage.analysis.analyse import Analysis

# --------------------------------------------------------------------------- shared helpers


def guarded(fn: Callable[[], None]) -> Callable[[], None]:
    """Run a page; on any error, log it and show one French message (never a traceback)."""

    @functools.wraps(fn)
    def run() -> None:
        try:
            fn()
        except Exception as exc:  # every failure ends here, shown in plain French
            ui.log_exception(exc, where=fn.__name__)
            st.error(ui.md_escape(ui.error_message_fr(exc)))
            if isinstance(exc, RegistryError):
                st.html(ui.list_html(exc.problems, css_class="pc-list pc-problems"))

    return run


def session_upload() -> dict | None:
    """The registry this user uploaded (this session only), if any."""
    return st.session_state.get("upload")


def current_key() -> str:
    up = session_upload()
    return up["key"] if up else ui.registry_key()


def current_finder() -> Finder:
    """The finder of this session: the uploaded registry's, else the server's."""
    up = session_upload()
    if up:
        return up["finder"]
    return ui.get_finder(ui.registry_key())


def table(frame: pd.DataFrame) -> None:
    """A read-only table; numbers in the reader's locale (French: 12 345,6)."""
    config = {
        c: st.column_config.NumberColumn(format="localized")
        for c in frame.columns
        if pd.api.types.is_numeric_dtype(frame[c])
    }
    st.dataframe(frame, hide_index=True, width="stretch", column_config=config)


def text(value: str, *, css_class: str = "pc-p") -> None:
    """A paragraph of text that may contain data (escaped)."""
    st.html(f'<p class="{css_class}">{ui.esc(value)}</p>')


# --------------------------------------------------------------------------- patient finder


def _submit_search() -> None:
    q = ui.query_from_params({"q": st.session_state.get("q_input", "")})
    st.session_state["q"] = q
    if q:
        st.query_params["q"] = q
    elif "q" in st.query_params:
        del st.query_params["q"]


def _pick(query: str) -> None:
    st.session_state["q_input"] = query
    _submit_search()


def _sync_young() -> None:
    if st.session_state.get("young"):
        st.query_params["jeune"] = "1"
    elif "jeune" in st.query_params:
        del st.query_params["jeune"]


def _use_position() -> None:
    pos = st.session_state.get("geo", {}).get("position")
    if not pos:
        return
    try:
        st.session_state["q_input"] = ui.position_query(pos.get("lat"), pos.get("lon"))
    except ui.PlaceError as exc:
        st.session_state["geo_error"] = str(exc)
        return
    _submit_search()


def _init_search_state() -> None:
    if "q" not in st.session_state:
        q = ui.query_from_params(st.query_params)
        st.session_state["q"] = q
        st.session_state["q_input"] = q
        st.session_state["young"] = ui.flag_from_params(st.query_params, "jeune")


@guarded
def patient_page() -> None:
    """The patient finder (landing page): search box, results, map, forfait."""
    st.title("Trouver une structure près de chez moi")
    st.markdown(
        "Après un cancer, le **parcours de soins global** vous offre, sans frais, des bilans "
        "(activité physique adaptée, diététique, psychologique) et des consultations de "
        "suivi, dans une structure labellisée par l'ARS. Indiquez où vous habitez."
    )
    _init_search_state()
    with st.form("search", border=False, enter_to_submit=True):
        st.text_input(
            "Votre commune, votre code postal, ou vos coordonnées",
            key="q_input",
            placeholder="Par exemple : Le Puy-en-Velay, 43000, ou 45.04, 3.88",
        )
        st.form_submit_button(
            "Rechercher", type="primary", on_click=_submit_search, width="stretch"
        )
    st.toggle(
        "J'ai entre 15 et 25 ans",
        key="young",
        on_change=_sync_young,
        help="Les 15-25 ans ont aussi un dispositif dédié (AJA) dans leur secteur.",
    )
    ui.geolocate_component()(key="geo", on_position_change=_use_position)
    if err := st.session_state.pop("geo_error", ""):
        st.warning(ui.md_escape(err))

    q = st.session_state.get("q", "")
    if q and st.query_params.get("q") != q:  # back from another page: keep the URL shareable
        st.query_params["q"] = q
    if q:
        with st.spinner("Recherche en cours…"):
            finder = current_finder()
            outcome = ui.run_search(finder, q)
        show_outcome(outcome, finder)
    with st.expander("Ce que couvre le forfait, et ce qu'il faut apporter"):
        st.html(ui.list_html(forfait.summary_fr()))
        st.markdown(
            "**À apporter :** l'ordonnance de votre médecin pour le parcours (elle est "
            "obligatoire), la liste de vos traitements et vos derniers comptes rendus si vous "
            "les avez. Appelez la structure avant de vous déplacer pour prendre rendez-vous."
        )


def show_outcome(outcome: ui.SearchOutcome, finder: Finder) -> None:
    """Candidates, a French message, or the answer (cards, AJA device, map)."""
    if outcome.kind == "ambiguous":
        st.info(ui.md_escape(outcome.message))
        for place in outcome.candidates:
            query = ui.candidate_query(place, finder)
            label = place.label + (f" – {place.detail}" if place.detail else "")
            st.button(
                ui.md_escape(label),
                key=f"cand-{place.insee}",
                on_click=_pick,
                args=(query,),
                width="stretch",
            )
        return
    if outcome.kind != "result" or outcome.result is None:
        st.warning(ui.md_escape(outcome.message))
        if outcome.suggestions and outcome.kind == "unknown":
            st.caption("Essayez :")
            for s in outcome.suggestions[:5]:
                st.button(ui.md_escape(s), key=f"sugg-{s}", on_click=_pick, args=(s,))
        return
    result = outcome.result
    young = bool(st.session_state.get("young"))
    st.subheader(ui.result_heading(result))
    st.caption(ui.md_escape(f"Distances {result.model_label}, {result.origin_note}."))
    if note := ui.approximate_note(result):
        st.info(ui.md_escape(note))
    if young and result.aja is not None:
        st.html(
            ui.structure_card_html(
                result.aja.device,
                model_label=result.model_label,
                badge="Pour les 15-25 ans : dispositif AJA",
            )
        )
        st.caption(ui.md_escape(f"Secteur AJA : {result.aja.zone_label}."))
    elif young and result.aja_missing_reason:
        st.info(ui.md_escape(result.aja_missing_reason))
    if warning := ui.far_warning(result):
        st.warning(ui.md_escape(warning))
    if result.structures.empty:
        st.info("Aucune structure tous publics n'est localisée dans le registre.")
    cards = [
        ui.structure_card_html(row, model_label=result.model_label, rank=i)
        for i, row in enumerate(result.structures.to_dict("records"), start=1)
    ]
    st.html('<section aria-label="Structures les plus proches">' + "".join(cards) + "</section>")
    if not young and result.aja is not None:
        st.caption(
            "Vous avez entre 15 et 25 ans ? Activez l'option ci-dessus pour voir le "
            "dispositif AJA de votre secteur."
        )
    if not result.not_located.empty:
        st.markdown(
            f"**Labellisées dans votre département ({result.place.dep}) mais sans "
            "commune connue** (contactez-les pour connaître le lieu) :"
        )
        st.html(ui.list_html([str(n) for n in result.not_located["name"]]))
    html = ui.finder_map_html(current_key(), outcome.query, young, result, finder)
    st.iframe(html, height=400)
    st.download_button(
        "Télécharger la carte (HTML)",
        html,
        mime="text/html",
        on_click="ignore",
        file_name=ui.DOWNLOAD_NAMES["finder_map"],
    )
    st.caption(ui.md_escape(result.completeness))


# --------------------------------------------------------------------------- prescriber


@guarded
def prescriber_page() -> None:
    """Bilans and consultations checked against the forfait; printable sheet."""
    st.title("Prescrire le parcours de soins global après cancer")
    st.markdown(
        "Choisissez les bilans et le nombre de consultations de suivi : l'outil vérifie "
        "qu'ils tiennent dans le forfait et prépare une fiche à imprimer."
    )
    chosen = [
        key
        for key, label in forfait.BILANS.items()
        if st.checkbox(label[:1].upper() + label[1:], key=f"bilan-{key}")
    ]
    consultations = st.number_input(
        "Consultations de suivi (30 minutes)",
        min_value=0,
        max_value=12,
        step=1,
        value=0,
        key="consultations",
        help=f"Au plus {forfait.MAX_CONSULTATIONS}, dans la limite du forfait annuel de "
        f"{forfait.format_eur(forfait.ANNUAL_CAP_EUR)}.",
    )
    plan = forfait.check_plan(chosen, int(consultations))
    if not chosen:
        st.info("Cochez au moins un bilan.")
    elif plan.ok:
        st.success(ui.md_escape(plan.summary_fr()))
    else:
        st.error(ui.md_escape(plan.summary_fr()))
    if chosen:
        left = forfait.max_consultations(len(chosen))
        st.caption(
            f"Avec {len(chosen)} bilan(s), le forfait permet jusqu'à {left} "
            "consultation(s) de suivi."
        )

    finder = current_finder()
    s = finder.registry.structures
    options = list(range(len(s)))

    def label(i: int) -> str:
        row = s.iloc[i]
        where = row["commune_name"] if row["located"] else f"département {row['dep']}"
        kind = "AJA, 15-25 ans" if row["kind"] == "aja" else "tous publics"
        return f"{row['name']} – {where} ({kind})"

    pick = st.selectbox(
        "Structure porteuse",
        options,
        format_func=label,
        index=None,
        placeholder="Choisissez la structure (facultatif)",
    )
    structure = None if pick is None else s.iloc[int(pick)].to_dict()
    if structure is not None:
        text(f"Structure choisie : {label(int(pick))}")
    if not plan.ok:
        if chosen:
            st.info("Corrigez la prescription pour pouvoir imprimer la fiche.")
        return
    sheet = prescription.prescription_html(plan, structure)
    st.download_button(
        "Télécharger la fiche de prescription (HTML, à imprimer)",
        sheet,
        file_name=prescription.FILE_NAME,
        mime="text/html",
        type="primary",
        on_click="ignore",
    )
    with st.expander("Aperçu de la fiche"):
        st.iframe(sheet, height=700)


# --------------------------------------------------------------------------- registry


def _clear_upload() -> None:
    st.session_state.pop("upload", None)


@guarded
def registry_page() -> None:
    """The registry in use, its sources, and the upload of the ARS's file (this session)."""
    st.title("Registre des structures labellisées")
    finder = current_finder()
    reg = finder.registry
    up = session_upload()
    if up:
        st.info(
            ui.md_escape(
                f"Vous utilisez le fichier « {up['name']} », chargé pour cette session seulement."
            )
        )
        st.button("Revenir au registre du serveur", on_click=_clear_upload)
    text(reg.completeness_fr())
    s = reg.structures
    shown = pd.DataFrame(
        {
            "Nom": s["name"],
            "Type": s["kind"].map({"tous_publics": "tous publics", "aja": "AJA (15-25 ans)"}),
            "Commune": s["commune_name"].where(s["located"], "non localisée"),
            "Dép.": s["dep"],
            "Téléphone": s["phone"],
            "Courriel": s["email"],
            "Site": s["website"],
            "Lieu déduit": s["commune_inferred"].map({True: "oui", False: "non"}),
        }
    )
    st.dataframe(shown, hide_index=True, width="stretch")
    with st.expander("Liste des structures (texte)"):
        st.html(
            ui.list_html(
                [f"{n} – {c}" for n, c in zip(shown["Nom"], shown["Commune"], strict=True)]
            )
        )
    st.markdown("**Sources**")
    st.html(ui.sources_html(s))

    st.subheader("Charger le fichier de l'ARS")
    st.markdown(
        "Fichier CSV ou GeoJSON au format du registre (colonnes `id`, `name`, `kind`, "
        "`source`, et facultativement `insee`, `lat`, `lon`, `phone`, `email`, `website`…). "
        "Il est vérifié ligne par ligne et utilisé **pour votre session seulement** : il n'est "
        "ni enregistré sur le serveur ni visible des autres utilisateurs."
    )
    upload = st.file_uploader(
        "Fichier de structures", type=["csv", "geojson", "json"], key="registry_file"
    )
    if upload is None:
        return
    data = upload.getvalue()
    key = ui.upload_key(data)
    if up and up["key"] == key:
        return
    try:
        registry = ui.load_upload(upload.name, data, region=finder.region)
        new = ui.finder_for_registry(finder.region, registry, model=finder.model)
    except RegistryError as exc:
        st.error(ui.md_escape(ui.error_message_fr(exc)))
        st.html(ui.list_html(exc.problems, css_class="pc-list pc-problems"))
        st.caption("Le registre en usage n'a pas changé.")
        return
    st.session_state["upload"] = {"key": key, "name": registry.path, "finder": new}
    st.session_state.pop("planner", None)
    st.success(ui.md_escape(f"Fichier « {registry.path} » accepté : {registry.completeness_fr()}"))
    st.rerun()


# --------------------------------------------------------------------------- planners' desk

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


def _metric(col: DeltaGenerator, label: str, value: str, delta: str | None = None) -> None:
    col.metric(label, value, delta=delta, delta_color="inverse")


@guarded
def planner_page() -> None:
    """The planners' desk: threshold, then one tab per view (only the open tab runs)."""
    st.set_page_config(layout="wide")
    st.title("Couverture régionale des structures porteuses")
    finder = current_finder()
    key = current_key()
    with st.spinner("Calcul des distances commune par commune…"):
        access = ui.get_access(key, finder)
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
    with st.spinner("Analyse de la couverture…"):
        a = ui.get_analysis(key, threshold, by, access, finder)
    meta = a.meta
    st.caption(ui.md_escape(f"Mesure : {meta['travel_model']['label']}. {meta['origins']}"))
    text(meta["registry"]["completeness"])
    tabs = st.tabs(DESK_TABS, key="onglet", bind="query-params")
    views = (
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
    head = a.main
    if not head:
        st.warning("Aucune structure tous publics localisée : pas de chiffres à calculer.")
        return
    z = ui.cost_text(a.threshold, a.unit, decimals=0)
    cols = st.columns(5)
    _metric(cols[0], f"Au-delà de {z}", ui.analysis_share(head["share_beyond"]))
    _metric(cols[1], "Habitants concernés", ui.format_number(head["population_beyond"]))
    _metric(cols[2], "Moyenne par habitant", ui.cost_text(head["mean"], a.unit))
    _metric(cols[3], "P90", ui.cost_text(head["p90"], a.unit))
    _metric(cols[4], "Indice de Gini", ui.format_number(head["gini"], decimals=3))
    rows = ui.headline_rows(head, unit=a.unit, threshold=a.threshold)
    st.dataframe(
        pd.DataFrame(rows, columns=["Indicateur", "Valeur"]), hide_index=True, width="stretch"
    )
    hist, lorenz = ui.charts_svg(key, a.threshold, a.by, _analysis=a)
    c1, c2 = st.columns(2)
    # st.image shows the SVG as an image (st.html's sanitiser drops inline SVG).
    if hist:
        c1.markdown("**Habitants selon la distance**")
        c1.image(hist, width="stretch")
    if lorenz:
        c2.markdown("**Courbe de Lorenz**")
        c2.image(lorenz, width="stretch")
    if a.aja_headline:
        h = a.aja_headline
        st.caption(
            ui.md_escape(
                f"Dispositifs AJA (distance au dispositif de la zone de chaque commune) : moyenne "
                f"{ui.cost_text(h['mean'], a.unit)}, P90 {ui.cost_text(h['p90'], a.unit)}, "
                f"{ui.analysis_share(h['share_beyond'])} des habitants au-delà de {z}. "
                f"{a.meta['aja_population_note']}"
            )
        )


def desk_map(a: Analysis, access: AccessTable, finder: Finder, key: str) -> None:
    """The coverage choropleth of the 4,025 communes."""
    with st.spinner("Préparation de la carte des 4 025 communes…"):
        html = ui.coverage_map_html(key, a.threshold, a.by, _analysis=a, _region=finder.region)
    st.iframe(html, height=640)


def desk_tables(a: Analysis, access: AccessTable, finder: Finder, key: str) -> None:
    """Per-département and per-AJA-zone tables."""
    st.subheader("Par département")
    table(ui.departements_frame(a))
    st.subheader("Par zone AJA (dispositifs 15-25 ans)")
    st.caption(ui.md_escape(f"{a.meta['aja_zones']['label']}. {a.meta['aja_population_note']}"))
    zones = ui.aja_zones_frame(a)
    if zones.empty:
        st.info("Aucun dispositif AJA localisé.")
    else:
        table(zones)


def desk_gaps(a: Analysis, access: AccessTable, finder: Finder, key: str) -> None:
    """Communes and EPCI beyond the threshold."""
    z = ui.cost_text(a.threshold, a.unit, decimals=0)
    st.markdown(
        f"**{ui.format_number(len(a.gaps))} communes** sont à plus de {z} d'une "
        "structure tous publics localisée ; les plus peuplées d'abord."
    )
    table(ui.gaps_frame(a))
    st.subheader("EPCI les plus concernés")
    e = a.gaps_epci.head(100)
    table(
        pd.DataFrame(
            {
                "EPCI": e["epci_name"],
                "Dép.": e["deps"],
                "Communes au-delà": e["communes_beyond"],
                "Habitants au-delà": e["population_beyond"].round(0),
                "Part de l'EPCI (%)": (100 * e["share_beyond"]).round(1),
            }
        )
    )


def desk_scenario(a: Analysis, access: AccessTable, finder: Finder, key: str) -> None:
    """What-if: add structures at communes, remove some; before/after figures."""
    st.markdown(
        "Ajoutez des structures tous publics dans des communes, ou retirez-en, et "
        "comparez les chiffres. Le registre n'est pas modifié."
    )
    options = ui.commune_options(finder.region)
    s = access.structures
    names = dict(zip(s["id"], s["name"] + " – " + s["commune_name"], strict=True))
    with st.form("scenario", border=True):
        add = st.multiselect(
            "Ajouter une structure dans la commune",
            list(options),
            format_func=options.get,
            max_selections=5,
            key="sc_add",
            placeholder="Tapez le nom d'une commune",
        )
        remove = st.multiselect(
            "Retirer une structure",
            list(names),
            format_func=names.get,
            key="sc_remove",
            placeholder="Choisissez",
        )
        st.form_submit_button("Comparer", type="primary")
    if not add and not remove:
        return
    whatif = ui.get_whatif(key, a.threshold, a.by, access, finder.region)
    with st.spinner("Calcul du scénario…"):
        res = ui.run_whatif(key, a.threshold, a.by, tuple(add), tuple(remove), whatif)
    st.html(ui.list_html(list(res.changes)))
    b, f, d = res.before, res.after, res.deltas
    if not f:
        st.warning("Après ce scénario, aucune structure tous publics ne reste localisée.")
        return
    cols = st.columns(4)
    z = ui.cost_text(a.threshold, a.unit, decimals=0)
    _metric(
        cols[0],
        f"Au-delà de {z}",
        ui.analysis_share(f["share_beyond"]),
        ui.delta_text(d.get("share_beyond"), "point", scale=100),
    )
    _metric(
        cols[1],
        "Habitants concernés",
        ui.format_number(f["population_beyond"]),
        ui.delta_text(d.get("population_beyond"), "hab.", decimals=0),
    )
    _metric(
        cols[2],
        "Moyenne par habitant",
        ui.cost_text(f["mean"], a.unit),
        ui.delta_text(d.get("mean"), a.unit),
    )
    _metric(
        cols[3],
        "Indice de Gini",
        ui.format_number(f["gini"], decimals=3),
        ui.delta_text(d.get("gini"), "", decimals=3),
    )
    st.caption(
        ui.md_escape(
            f"Avant : {ui.analysis_share(b['share_beyond'])} des habitants à plus de {z}, moyenne "
            f"{ui.cost_text(b['mean'], a.unit)}."
        )
    )
    table(ui.departements_delta_frame(res))
    st.download_button(
        "Carte du scénario (HTML)",
        lambda: ui.scenario_map_html(
            key, a.threshold, a.by, tuple(add), tuple(remove), _result=res, _finder=finder
        ),
        file_name=ui.DOWNLOAD_NAMES["scenario_map"],
        mime="text/html",
        on_click="ignore",
    )


def desk_sites(a: Analysis, access: AccessTable, finder: Finder, key: str) -> None:
    """Greedy siting suggestions."""
    st.markdown(
        "Communes où une nouvelle structure tous publics rapprocherait le plus "
        "d'habitants (calcul glouton ; à confronter au terrain)."
    )
    objectives = {
        "mclp": "Le plus d'habitants sous le seuil",
        "pmedian": "Le moins de distance parcourue au total",
    }
    with st.form("sites"):
        k = st.number_input("Nombre de sites", min_value=1, max_value=10, value=3, key="site_k")
        objective = st.radio(
            "Objectif",
            list(objectives),
            format_func=objectives.get,
            key="site_obj",
            horizontal=True,
        )
        asked = st.form_submit_button("Suggérer", type="primary")
    if asked:
        st.session_state["sites_asked"] = True
    if not st.session_state.get("sites_asked"):
        return
    with st.spinner("Recherche des meilleurs sites…"):
        sites = ui.get_sites(key, a.threshold, a.by, int(k), objective, access)
    table(ui.sites_frame(sites))
    before = ui.analysis_share(sites.before.get("share_beyond"))
    after = ui.analysis_share(sites.after.get("share_beyond"))
    st.caption(ui.md_escape(f"Part des habitants au-delà du seuil : {before} → {after}."))


def desk_exports(a: Analysis, access: AccessTable, finder: Finder, key: str) -> None:
    """Download buttons (files built when clicked)."""
    names = ui.DOWNLOAD_NAMES
    region = finder.region
    st.markdown(
        "Fichiers au seuil choisi. Les cartes s'ouvrent sans connexion (seul le fond "
        "de carte OpenStreetMap en demande une)."
    )
    st.download_button(
        "Carte de couverture (HTML)",
        lambda: ui.coverage_map_html(key, a.threshold, a.by, _analysis=a, _region=region),
        file_name=names["coverage_map"],
        mime="text/html",
        on_click="ignore",
    )
    st.download_button(
        "Rapport (HTML)",
        lambda: ui.report_html(key, a.threshold, a.by, _analysis=a),
        file_name=names["report"],
        mime="text/html",
        on_click="ignore",
    )
    st.download_button(
        "Table des communes (CSV pour tableur)",
        lambda: ui.communes_csv(a),
        file_name=names["csv"],
        mime="text/csv",
        on_click="ignore",
    )
    st.download_button(
        "Communes et structures (GeoPackage pour SIG)",
        lambda: ui.communes_gpkg(a, region),
        file_name=names["gpkg"],
        mime="application/geopackage+sqlite3",
        on_click="ignore",
    )


# --------------------------------------------------------------------------- navigation


def main() -> None:
    """Page set-up and navigation (the page functions above can also be run one by one)."""
    # No page_icon and no page icons: a Material icon becomes the favicon, which the browser
    # then fetches from fonts.gstatic.com; Streamlit's default favicon is served locally.
    st.set_page_config(
        page_title="Parcours de soins global après cancer – Auvergne-Rhône-Alpes",
        layout="centered",
    )
    st.html(ui.PAGE_CSS)
    pages = {
        "Patients": [
            st.Page(patient_page, title="Trouver une structure", default=True),
        ],
        "Professionnels": [
            st.Page(prescriber_page, title="Prescrire le parcours", url_path="prescription"),
            st.Page(registry_page, title="Registre des structures", url_path="registre"),
        ],
        "ARS": [
            st.Page(planner_page, title="Couverture régionale", url_path="planification"),
        ],
    }
    st.navigation(pages).run()


if __name__ == "__main__":
    main()
