"""The desk's planner files: the intervention territories, demand weights and deprivation index
a planner uploads, read as ``parcours analyse`` reads them, kept in the visitor's session."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import streamlit as st

from coverage._errors import ValidationError
from coverage.analysis.planning import PlanningRequest
from coverage.web import budget, worker
from coverage.web.messages import show_error, show_queued
from coverage.web.planner_files import (
    KINDS_FR,
    PlannerFileKind,
    check_planner_file,
    read_planner_file,
)
from coverage.web.uploads import upload_key, upload_name
from coverage.web.worker import offload

if TYPE_CHECKING:
    from coverage.analysis.access_matrix import Cost
    from coverage.analysis.planning import Siting
    from coverage.data.territories import Territories
    from coverage.data.weights import DemandWeights, DeprivationIndex
    from coverage.web.sources import Source

#: ``st.session_state`` key of the files read in this session: kind -> (upload key, values).
FILES_STATE = "planner_files"
#: The direction of a deprivation index, as the desk offers it.
SENS_FR = {
    "fichier": "selon la colonne « direction » du fichier",
    "haut": "plus l'indice est élevé, plus la commune est défavorisée",
    "bas": "plus l'indice est bas, plus la commune est défavorisée",
}
_KINDS: tuple[PlannerFileKind, ...] = ("territories", "demand", "demand_aja", "deprivation")


@dataclass(frozen=True)
class DeskFiles:
    """The planner files in use in this session, and what identifies them (``key``)."""

    territories: Territories | None = None
    demand: DemandWeights | None = None
    demand_aja: DemandWeights | None = None
    deprivation: DeprivationIndex | None = None
    key: tuple[str, ...] = ()

    def request(
        self, threshold: float, by: Cost, *, siting: Siting | None = None
    ) -> PlanningRequest:
        """The planning request of the desk: these files, at ``threshold`` on ``by``."""
        return PlanningRequest(
            threshold=threshold,
            by=by,
            siting=siting,
            demand=self.demand,
            demand_aja=self.demand_aja,
            deprivation=self.deprivation,
            territories=self.territories,
        )


def planner_files(source: Source) -> DeskFiles:
    """The upload widgets of the planner's files (folded), and the files read from them."""
    uploads: dict[str, Any] = {}
    with st.expander("Vos fichiers : territoires, demande, indice de défavorisation"):
        st.markdown(
            "Facultatif. Les mêmes fichiers que `parcours analyse` (CSV, XLSX ou ODS) : les "
            "territoires d'intervention de l'ARS, une pondération de la demande par commune à la "
            "place de la population, un indice de défavorisation (gradient social). Ils restent "
            "dans votre session et ne sont pas conservés."
        )
        for kind in _KINDS:
            uploads[kind] = st.file_uploader(
                f"{KINDS_FR[kind]} (CSV, XLSX, ODS)",
                type=["csv", "xlsx", "ods"],
                key=f"plan_{kind}",
            )
        sens = st.radio(
            "Sens de l'indice de défavorisation",
            list(SENS_FR),
            format_func=SENS_FR.get,
            key="plan_deprivation_sens",
        )
    higher = None if sens == "fichier" else sens == "haut"
    read: dict[str, Any] = {}
    keys: list[str] = []
    for kind in _KINDS:
        upload = uploads[kind]
        if upload is None:
            continue
        try:
            key, values = _read(kind, upload.name, upload.getvalue(), source, higher)
        except ValidationError as exc:
            show_error(exc)
            continue
        read[kind] = values
        keys.append(f"{kind}={key}")
    if read:
        names = ", ".join(f"{KINDS_FR[k].lower()} ({upload_name(uploads[k].name)})" for k in read)
        st.caption(f"Fichiers en usage : {names}.")
    return DeskFiles(**read, key=tuple(keys))


def _read(
    kind: PlannerFileKind, name: str, data: bytes, source: Source, higher: bool | None
) -> tuple[str, Any]:
    """(key, values) of an upload, read once per session (in a worker, in an upload slot)."""
    key = f"{upload_key(data, name=name)}:{source.key}:{higher}"
    kept = st.session_state.setdefault(FILES_STATE, {})
    if kind in kept and kept[kind][0] == key:
        return kept[kind]
    check_planner_file(kind, name, data)  # refused before any queue and any worker
    region = source.finder.region.code
    with budget.upload_slot(on_wait=show_queued), worker.scratch_folder() as folder:
        values = offload(
            read_planner_file, kind, name, data, region, source.finder.registry, higher, folder
        )
    kept[kind] = (key, values)
    return kept[kind]
