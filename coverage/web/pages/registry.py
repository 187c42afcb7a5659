"""The registry page: the structures in use, their sources, and the upload of the ARS's file."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from coverage._errors import ValidationError
from coverage.data.registry import Registry
from coverage.web import markup
from coverage.web.budget import QUEUE_MESSAGE_FR, upload_slot
from coverage.web.loaders import finder_for_registry
from coverage.web.messages import guarded, show_error
from coverage.web.session import clear_upload, current_finder, session_upload, set_upload
from coverage.web.sources import UploadSource
from coverage.web.uploads import load_upload, upload_key
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


def _upload_form() -> None:
    st.header("Charger le fichier de l'ARS")
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
    key = upload_key(data, name=upload.name)
    up = session_upload()
    if up and up.key == key:
        return
    finder = current_finder()
    try:
        with upload_slot(on_wait=_queued):
            registry = load_upload(upload.name, data, region=finder.region)
            new = finder_for_registry(finder.region, registry, model=finder.model)
    except ValidationError as exc:
        show_error(exc)
        st.caption("Le registre en usage n'a pas changé.")
        return
    set_upload(UploadSource(key=key, name=registry.path, finder=new))
    notice(f"Fichier « {registry.path} » accepté : {registry.completeness_fr()}", tone="success")
    st.rerun()


def _queued() -> None:
    st.info(QUEUE_MESSAGE_FR)


@guarded
def registry_page() -> None:
    """The registry in use, its sources, and the upload of the ARS's file (this session)."""
    st.title("Registre des structures labellisées")
    reg = current_finder().registry
    if up := session_upload():
        notice(f"Vous utilisez le fichier « {up.name} », chargé pour cette session seulement.")
        st.button("Revenir au registre du serveur", on_click=clear_upload)
    _show_registry(reg)
    _upload_form()
