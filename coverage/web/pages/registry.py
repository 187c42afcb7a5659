"""The registry page: the structures in use, their sources, and the upload of the ARS's file."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from coverage._errors import ValidationError
from coverage.data.registry import Registry
from coverage.data.registry_files import template_csv, template_xlsx
from coverage.web import markup
from coverage.web.budget import check_upload_budget, upload_slot
from coverage.web.builders import finder_for_registry
from coverage.web.messages import guarded, show_error, show_queued
from coverage.web.session import clear_upload, current_finder, session_upload, set_upload
from coverage.web.sources import UploadSource
from coverage.web.uploads import read_upload, upload_key, upload_name
from coverage.web.widgets import notice, table, text


def registry_frame(registry: Registry) -> pd.DataFrame:
    """The structures with French headers and words, for display."""
    s = registry.structures
    return pd.DataFrame(
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


def _show_registry(registry: Registry) -> None:
    text(registry.completeness_fr())
    shown = registry_frame(registry)
    table(shown)
    with st.expander("Liste des structures (texte)"):
        st.html(
            markup.list_html(
                [f"{n} – {c}" for n, c in zip(shown["Nom"], shown["Commune"], strict=True)]
            )
        )
    st.markdown("**Sources**")
    st.html(markup.sources_html(registry.structures))


IMPORT_STATE = "registry_import"


def _upload_form() -> None:
    st.header("Charger le fichier de l'ARS")
    st.markdown(
        "Le tableur de l'ARS tel qu'il est tenu : **XLSX, ODS ou CSV** (export d'Excel en "
        "français accepté : `;`, virgules décimales), ou GeoJSON. Les en-têtes usuels sont "
        "reconnus (« Nom de la structure », « Code postal », « Commune », « Téléphone », "
        "« Public »…) ; sans code INSEE, la commune est retrouvée par le code postal et la "
        "ville. Le fichier est vérifié ligne par ligne et utilisé **pour votre session "
        "seulement** : il n'est ni enregistré sur le serveur ni visible des autres utilisateurs."
    )
    _templates()
    upload = st.file_uploader(
        "Fichier de structures",
        type=["xlsx", "ods", "csv", "geojson", "json"],
        key="registry_file",
    )
    sheet = st.text_input("Feuille du classeur (facultatif : la première sinon)", key="sheet")
    if upload is None:
        return
    data = upload.getvalue()
    key = upload_key(data + b"\0sheet:" + sheet.encode("utf-8"), name=upload.name)
    up = session_upload()
    if up and up.key == key:
        return
    finder = current_finder()
    try:
        # The budget first (milliseconds): a bomb never waits in the queue for a slot.
        check_upload_budget(upload_name(upload.name), data)
        with upload_slot(on_wait=show_queued):
            imp = read_upload(upload.name, data, region=finder.region, sheet=sheet or None)
            new = finder_for_registry(finder.region, imp.registry, model=finder.model)
    except ValidationError as exc:
        show_error(exc)
        st.caption("Le registre en usage n'a pas changé.")
        return
    set_upload(UploadSource(key=key, name=imp.registry.path, finder=new))
    st.session_state[IMPORT_STATE] = (key, imp.columns, imp.locations, imp.canonical_csv)
    notice(
        f"Fichier « {imp.registry.path} » accepté : {imp.registry.completeness_fr()}",
        tone="success",
    )
    st.rerun()


def _templates() -> None:
    """Blank files to fill, in the schema the import reads."""
    left, right = st.columns(2)
    left.download_button(
        "Modèle à remplir (XLSX)",
        data=template_xlsx(),
        file_name="modele-structures.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    right.download_button(
        "Modèle à remplir (CSV)", data=template_csv(), file_name="modele-structures.csv"
    )


def _show_import(key: str) -> None:
    """The import report of this session's upload: mapping, locations, canonical CSV."""
    state = st.session_state.get(IMPORT_STATE)
    if not state or state[0] != key:
        return
    _, mapping, locations, canonical = state
    with st.expander("Ce que chaque colonne est devenue, et comment chaque ligne a été localisée"):
        table(mapping, localized=False)
        table(locations, localized=False)
    st.download_button(
        "Télécharger le registre converti (CSV canonique)",
        data=canonical,
        file_name="structures.csv",
        mime="text/csv",
    )


@guarded
def registry_page() -> None:
    """The registry in use, its sources, and the upload of the ARS's file (this session)."""
    st.title("Registre des structures labellisées")
    reg = current_finder().registry
    if up := session_upload():
        notice(f"Vous utilisez le fichier « {up.name} », chargé pour cette session seulement.")
        st.button("Revenir au registre du serveur", on_click=clear_upload)
        _show_import(up.key)
    _show_registry(reg)
    _upload_form()
