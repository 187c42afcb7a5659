"""Server settings of the page: environment variables, the travel model, file names, budgets."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from coverage._errors import CoverageError
from coverage.data.region import Region, load_region
from coverage.data.registry import default_registry_path
from coverage.geography import RegionSpec, region_spec
from coverage.settings import region_from_environment
from coverage.travel import MATRIX_ENV, make_model
from coverage.travel.base import TravelModel
from coverage.travel.geodesic import GeodesicModel

log = logging.getLogger("coverage.app")

#: Environment variables choosing the page's travel model (default: as the crow flies).
TRAVEL_ENV = "PARCOURS_TRAVEL"
OSRM_DATASET_ENV = "PARCOURS_OSRM_DATASET"
OSRM_URL_ENV = "PARCOURS_OSRM_URL"

#: Fixed names of the files the page offers for download.
DOWNLOAD_NAMES: dict[str, str] = {
    "coverage_map": "carte-couverture.html",
    "scenario_map": "carte-scenario.html",
    "report": "rapport-couverture.html",
    "csv": "communes.csv",
    "gpkg": "communes.gpkg",
    "finder_map": "carte-structures-proches.html",
}


def served_region() -> RegionSpec:
    """The region this server serves by default: ``$PARCOURS_REGION``, else 84.

    The page's one reading of the variable; a session's own choice (``?region=``) is
    :func:`coverage.web.session.session_region`. Everything below takes the region as an
    argument.
    """
    return region_spec(region_from_environment())


def travel_model_from_env(region: str) -> TravelModel:
    """The travel model named by ``$PARCOURS_TRAVEL`` (``geodesic`` when unset), for
    ``region`` (INSEE code; its communes load only to check a commune matrix).

    ``osrm`` also reads ``$PARCOURS_OSRM_DATASET`` / ``$PARCOURS_OSRM_URL``. A model that
    cannot start falls back to the geodesic one (the page says which model measured).
    """
    kind = os.environ.get(TRAVEL_ENV, "geodesic").strip() or "geodesic"
    try:
        served = load_region(region=region) if kind == "matrix" else None
        return make_model(
            kind,
            dataset=os.environ.get(OSRM_DATASET_ENV) or None,
            url=os.environ.get(OSRM_URL_ENV) or None,
            region=served,
        )
    except CoverageError:
        log.exception("travel model %r unavailable; using the geodesic model", kind)
        return GeodesicModel()


#: The travel models the desk offers, in its words (as ``parcours analyse --travel``).
TRAVEL_FR: dict[str, str] = {
    "geodesic": "À vol d'oiseau",
    "estimate": "Estimation routière (durées estimées, erreur indiquée)",
    "matrix": "Distancier de communes du serveur",
    "osrm": "Par la route (OSRM)",
}


def desk_travel_kinds(current: str) -> list[str]:
    """The travel models the desk can offer on this server: straight lines and the estimate
    always, the commune matrix when ``$PARCOURS_MATRIX`` names one, OSRM when a dataset or a
    running engine is configured; ``current`` (the server's model) first when it is another."""
    kinds = ["geodesic", "estimate"]
    if os.environ.get(MATRIX_ENV, "").strip():
        kinds.append("matrix")
    if os.environ.get(OSRM_DATASET_ENV) or os.environ.get(OSRM_URL_ENV):
        kinds.append("osrm")
    return kinds if current in kinds else [current, *kinds]


def travel_model(kind: str, region: Region) -> TravelModel:
    """The travel model ``kind`` as this server configures it (dataset, engine, matrix)."""
    return make_model(
        kind,
        dataset=os.environ.get(OSRM_DATASET_ENV) or None,
        url=os.environ.get(OSRM_URL_ENV) or None,
        region=region,
    )


def registry_key(path: str | os.PathLike[str] | None = None, *, region: str) -> str:
    """Cache key of the page's data: the region served (``region``: INSEE code, name or "FR")
    and its registry file's path, modification time and size."""
    region = region_spec(region).code
    p = Path(path) if path is not None else default_registry_path(region)
    if p is None:
        return f"{region}:aucun-registre"
    try:
        stat = p.stat()
    except OSError:
        return f"{region}:{p}:absent"
    return f"{region}:{p.resolve()}:{stat.st_mtime_ns}:{stat.st_size}"


def region_name() -> str:
    """The name of the region the page serves by default (:func:`served_region`)."""
    return served_region().name
