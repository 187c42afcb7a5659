"""The patient finder (landing page): search box, the answer's cards, map and forfait."""

from __future__ import annotations

import streamlit as st

from coverage import geography
from coverage._errors import PlaceError
from coverage.outputs import finder_text
from coverage.patient.finder import Finder, FinderResult
from coverage.web import markup, search
from coverage.web.cards import structure_card_html
from coverage.web.config import DOWNLOAD_NAMES
from coverage.web.geolocate import geolocate_component
from coverage.web.messages import guarded
from coverage.web.region_budget import RegionSwitchError
from coverage.web.search import SearchOutcome
from coverage.web.session import current_source, session_region, set_region
from coverage.web.sources import Source
from coverage.web.widgets import html_frame, notice, text

md = markup.md_escape

YOUNG_HELP_HTML = (
    '<details class="pc-help"><summary>Pourquoi indiquer mon âge ?</summary>'
    '<p class="pc-p">Les 15-25 ans ont aussi un dispositif dédié, l\'AJA (adolescents et '
    "jeunes adultes), dans leur secteur : il est alors indiqué en premier.</p></details>"
)


def _submit_search() -> None:
    q = search.query_from_params({"q": st.session_state.get("q_input", "")})
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
        st.session_state["q_input"] = search.position_query(pos.get("lat"), pos.get("lon"))
    except PlaceError as exc:
        st.session_state["geo_error"] = str(exc)
        return
    _submit_search()


def _init_search_state() -> None:
    if "q" not in st.session_state:
        q = search.query_from_params(st.query_params)
        st.session_state["q"] = q
        st.session_state["q_input"] = q
        st.session_state["young"] = search.flag_from_params(st.query_params, "jeune")


def _search_form() -> None:
    with st.form("search", border=False, enter_to_submit=True):
        st.text_input(
            "Votre commune, votre code postal, ou vos coordonnées",
            key="q_input",
            placeholder="Par exemple : Le Puy-en-Velay, 43000, ou 45.04, 3.88",
        )
        st.form_submit_button(
            "Rechercher", type="primary", on_click=_submit_search, width="stretch"
        )
    st.toggle("J'ai entre 15 et 25 ans", key="young", on_change=_sync_young)
    # Not the toggle's own "?" (a hover tooltip inside the label: a tap on it flips the
    # switch, and a phone never shows it): a separate fold that a tap or Enter opens.
    st.html(YOUNG_HELP_HTML)
    geolocate_component()(key="geo", on_position_change=_use_position)
    if err := st.session_state.pop("geo_error", ""):
        notice(err, tone="warning")


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
    _search_form()
    _region_line()
    q = st.session_state.get("q", "")
    if q and st.query_params.get("q") != q:  # back from another page: keep the URL shareable
        st.query_params["q"] = q
    if q:
        _answer(q)
    with st.expander("Ce que couvre le forfait, et ce qu'il faut apporter"):
        st.html(markup.list_html(finder_text.forfait_lines()))
        st.markdown(
            "**À apporter :** l'ordonnance de votre médecin pour le parcours (elle est "
            "obligatoire), la liste de vos traitements et vos derniers comptes rendus si vous "
            "les avez. Appelez la structure avant de vous déplacer pour prendre rendez-vous."
        )


def _answer(q: str) -> None:
    """The answer to ``q`` in the session's region, or why that region is not served now."""
    with st.spinner("Recherche en cours…"):
        try:
            source = current_source()
        except RegionSwitchError as exc:  # too many region builds lately: nothing built
            notice(str(exc), tone="warning")
            return
        outcome = search.run_search(source.finder, q)
    show_outcome(outcome, source)


#: ``st.session_state`` key of the region picker.
REGION_CHOICE = "region_choice"


def _region_line() -> None:
    """Which region the answers are for, and a way to choose another."""
    served = session_region()
    text(f"Service pour la région : {served.name}.", css_class="pc-caption")
    with st.expander("Vous habitez une autre région ?"):
        regions = [*geography.all_regions(), geography.france_spec()]
        names = {r.code: r.name for r in regions}
        if st.session_state.get(REGION_CHOICE) not in names:
            st.session_state[REGION_CHOICE] = served.code
        st.selectbox(
            "Région",
            list(names),
            format_func=names.__getitem__,
            key=REGION_CHOICE,
            on_change=_choose_region,
        )


def _choose_region() -> None:
    set_region(str(st.session_state.get(REGION_CHOICE, "")))


def _show_candidates(outcome: SearchOutcome, finder: Finder) -> None:
    notice(outcome.message)
    for place in outcome.candidates:
        query = search.candidate_query(place, finder)
        label = place.patient_label + (f" – {place.detail}" if place.detail else "")
        st.button(
            md(label), key=f"cand-{place.insee}", on_click=_pick, args=(query,), width="stretch"
        )


def _show_message(outcome: SearchOutcome) -> None:
    notice(outcome.message, tone="warning")
    if outcome.region_code:
        known = (
            f"cet outil y connaît {outcome.offer_structures} structure(s)"
            if outcome.offer_structures
            else "aucune structure n'y est encore enregistrée dans cet outil"
        )
        text(f"Région {outcome.region_name} : {known}.", css_class="pc-caption")
        st.button(
            f"Voir la réponse pour la région {outcome.region_name}",
            key="other-region",
            on_click=set_region,
            args=(outcome.region_code,),
            type="primary",
        )
    if outcome.suggestions and outcome.kind == "unknown":
        text("Essayez :", css_class="pc-caption")
        for s in outcome.suggestions[:5]:
            st.button(md(s), key=f"sugg-{s}", on_click=_pick, args=(s,))


def show_outcome(outcome: SearchOutcome, source: Source) -> None:
    """Candidates, a French message, or the answer (cards, AJA device, map)."""
    if outcome.kind == "ambiguous":
        _show_candidates(outcome, source.finder)
    elif outcome.kind != "result" or outcome.result is None:
        _show_message(outcome)
    else:
        _show_result(outcome, outcome.result, source)


def _show_aja(result: FinderResult, young: bool) -> None:
    if young and result.aja is not None:
        st.html(
            structure_card_html(
                result.aja.device,
                model_label=result.model_label,
                badge="Pour les 15-25 ans : dispositif AJA",
            )
        )
        text(f"Secteur AJA : {result.aja.zone_label}.", css_class="pc-caption")
    elif young and result.aja_missing_reason:
        notice(result.aja_missing_reason)


def _show_cards(result: FinderResult, young: bool) -> None:
    if result.structures.empty:
        st.info("Aucune structure tous publics n'est localisée dans le registre.")
    cards = [
        structure_card_html(row, model_label=result.model_label, rank=i)
        for i, row in enumerate(result.structures.to_dict("records"), start=1)
    ]
    st.html('<section aria-label="Structures les plus proches">' + "".join(cards) + "</section>")
    if not young and result.aja is not None:
        text(
            "Vous avez entre 15 et 25 ans ? Activez l'option ci-dessus pour voir le "
            "dispositif AJA de votre secteur.",
            css_class="pc-caption",
        )
    if not result.not_located.empty:
        st.markdown(
            f"**Labellisées dans votre département ({result.place.dep}) mais sans "
            "commune connue** (contactez-les pour connaître le lieu) :"
        )
        st.html(markup.list_html([str(n) for n in result.not_located["name"]]))


def _show_result(outcome: SearchOutcome, result: FinderResult, source: Source) -> None:
    young = bool(st.session_state.get("young"))
    st.header(search.result_heading(result))
    text(f"Distances {result.model_label}, {result.origin_note}.", css_class="pc-caption")
    if note := finder_text.approximate_note(result):
        notice(note)
    _show_aja(result, young)
    if warning := search.far_warning(result):
        notice(warning, tone="warning")
    _show_cards(result, young)
    html = source.finder_map(outcome.query, young, result)
    html_frame(html, height=400)
    st.download_button(
        "Télécharger la carte (HTML)",
        html,
        mime="text/html",
        on_click="ignore",
        file_name=DOWNLOAD_NAMES["finder_map"],
    )
    text(result.completeness, css_class="pc-caption")
