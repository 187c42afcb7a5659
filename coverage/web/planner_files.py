"""The planners' own files uploaded on the desk: territories, demand weights, deprivation index.

Each is read exactly as ``parcours analyse`` reads ``--territories``, ``--demand``,
``--demand-aja`` and ``--deprivation`` (the loaders of :mod:`coverage.data`), from a private
temporary folder, under the upload budget of :mod:`coverage.web.budget`. :func:`read_planner_file`
is a worker's task (no Streamlit here): the server receives the checked values, and names the
file by its uploaded name only, never by a server path.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Final, Literal

from coverage._errors import RegistryError

if TYPE_CHECKING:
    from coverage.data.registry import Registry
    from coverage.data.territories import Territories
    from coverage.data.weights import DemandWeights, DeprivationIndex

PlannerFileKind = Literal["territories", "demand", "demand_aja", "deprivation"]

#: What each kind of file is, in the desk's words.
KINDS_FR: Final[dict[str, str]] = {
    "territories": "Territoires d'intervention",
    "demand": "Pondération de la demande (tous publics)",
    "demand_aja": "Pondération de la demande AJA (15-25 ans)",
    "deprivation": "Indice de défavorisation",
}


def read_planner_file(
    kind: PlannerFileKind,
    name: str,
    data: bytes,
    region: str,
    registry: Registry,
    higher_is_deprived: bool | None = None,
    folder: Path | None = None,
) -> Territories | DemandWeights | DeprivationIndex:
    """Read an uploaded planner file of ``kind``, already checked by
    :func:`check_planner_file`, for the region of INSEE code ``region``, from the task's
    private ``folder`` (``coverage.web.worker.scratch_folder``; one of its own when ``None``).

    Raises
    ------
    RegistryError
        The file's rows are refused, each problem in French, naming the uploaded file (never
        the temporary one).
    """
    from coverage.web.uploads import scratch_file, shown_problems, upload_name

    shown = upload_name(name)
    with scratch_file(folder, f"{kind}{PurePath(shown).suffix.lower()}") as path:
        path.write_bytes(data)
        try:
            loaded = _load(kind, path, region, registry, higher_is_deprived)
        except RegistryError as exc:
            problems = shown_problems(exc.problems, path, shown)
            raise RegistryError(shown, problems, what=_what(kind), total=exc.total) from None
    from coverage.data.territories import Territories

    if isinstance(loaded, Territories):
        source = shown_problems([loaded.source], path, shown)[0]
        return dataclasses.replace(loaded, source=source)
    return dataclasses.replace(loaded, path=shown)


def check_planner_file(kind: PlannerFileKind, name: str, data: bytes) -> str:
    """The shown name of a planner's upload whose format and budget are checked, in
    milliseconds: a refused file never waits for a slot nor reaches a worker."""
    from coverage.web.uploads import check_table_upload

    return check_table_upload(name, data, what=_what(kind))


def _what(kind: str) -> str:
    return "de territoires" if kind == "territories" else "de valeurs par commune"


def _load(
    kind: PlannerFileKind,
    path: Path,
    code: str,
    registry: Registry,
    higher_is_deprived: bool | None,
) -> Territories | DemandWeights | DeprivationIndex:
    from coverage.data.region import load_region

    region = load_region(region=code)  # loaded once per process
    if kind == "territories":
        from coverage.data.territories import load_territories

        return load_territories(path, region=region, registry=registry)
    from coverage.data.weights import load_demand, load_deprivation

    if kind == "deprivation":
        return load_deprivation(path, region=region, higher_is_deprived=higher_is_deprived)
    return load_demand(path, region=region, kind="aja" if kind == "demand_aja" else "tous_publics")
