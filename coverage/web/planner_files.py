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
#: The suffixes the planners' readers understand.
SUFFIXES: Final = (".csv", ".xlsx", ".ods")


def read_planner_file(
    kind: PlannerFileKind,
    name: str,
    data: bytes,
    region: str,
    registry: Registry,
    higher_is_deprived: bool | None = None,
    folder: Path | None = None,
) -> Territories | DemandWeights | DeprivationIndex:
    """Read an uploaded planner file of ``kind`` for the region of INSEE code ``region``, from
    the task's private ``folder`` (``coverage.web.worker.scratch_folder``; one of its own when
    ``None``).

    Raises
    ------
    RegistryError
        The file is refused (format, budget, or its rows), each problem in French, naming the
        uploaded file (never the temporary one).
    """
    from coverage.web.budget import check_upload_budget
    from coverage.web.uploads import scratch_file, upload_name

    shown = upload_name(name)
    suffix = PurePath(shown).suffix.lower()
    if suffix not in SUFFIXES:
        raise RegistryError(
            shown,
            [f"format non reconnu : {suffix or 'sans extension'!r} ; attendu .csv, .xlsx ou .ods."],
            what=_what(kind),
        )
    check_upload_budget(shown, data)
    with scratch_file(folder, f"{kind}{suffix}") as path:
        path.write_bytes(data)
        try:
            loaded = _load(kind, path, region, registry, higher_is_deprived)
        except RegistryError as exc:
            problems = [_named(p, path, shown) for p in exc.problems]
            raise RegistryError(shown, problems, what=_what(kind), total=exc.total) from None
    from coverage.data.territories import Territories

    if isinstance(loaded, Territories):
        return dataclasses.replace(loaded, source=_named(loaded.source, path, shown))
    return dataclasses.replace(loaded, path=shown)


def _what(kind: str) -> str:
    return "de territoires" if kind == "territories" else "de valeurs par commune"


def _named(text: str, path: Path, shown: str) -> str:
    return text.replace(str(path), shown).replace(path.name, shown)


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
