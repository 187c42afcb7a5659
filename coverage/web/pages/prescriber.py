"""The prescriber's page: bilans and consultations checked against the forfait, printable sheet."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from coverage import french
from coverage.outputs import finder_text, prescription
from coverage.patient import forfait
from coverage.web import markup
from coverage.web.messages import guarded
from coverage.web.session import current_finder
from coverage.web.widgets import html_frame, text

md = markup.md_escape


def _plan_form() -> tuple[list[str], forfait.PlanCheck]:
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
        f"{french.eur(forfait.ANNUAL_CAP_EUR)}.",
    )
    plan = forfait.check_plan(chosen, int(consultations))
    if not chosen:
        st.info("Cochez au moins un bilan.")
    elif plan.ok:
        st.success(md(finder_text.plan_summary(plan)))
    else:
        st.error(md(finder_text.plan_summary(plan)))
    if chosen:
        left = forfait.max_consultations(len(chosen))
        st.caption(
            f"Avec {french.plural(len(chosen), 'bilan')}, le forfait permet jusqu'à "
            f"{french.plural(left, 'consultation')} de suivi."
        )
    return chosen, plan


def structure_label(row: Mapping[Any, Any]) -> str:
    """ "Name – commune (tous publics)" for the structure picker."""
    where = row["commune_name"] if row["located"] else f"département {row['dep']}"
    kind = "AJA, 15-25 ans" if row["kind"] == "aja" else "tous publics"
    return f"{row['name']} – {where} ({kind})"


def _pick_structure() -> dict[Any, Any] | None:
    rows = current_finder().registry.structures.to_dict("records")
    pick = st.selectbox(
        "Structure porteuse",
        list(range(len(rows))),
        format_func=lambda i: structure_label(rows[i]),
        index=None,
        placeholder="Choisissez la structure (facultatif)",
    )
    if pick is None:
        return None
    text(f"Structure choisie : {structure_label(rows[int(pick)])}")
    return rows[int(pick)]


@guarded
def prescriber_page() -> None:
    """Bilans and consultations checked against the forfait; printable sheet."""
    st.title("Prescrire le parcours de soins global après cancer")
    st.markdown(
        "Choisissez les bilans et le nombre de consultations de suivi : l'outil vérifie "
        "qu'ils tiennent dans le forfait et prépare une fiche à imprimer."
    )
    chosen, plan = _plan_form()
    structure = _pick_structure()
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
        html_frame(sheet, height=700)
