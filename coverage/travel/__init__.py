"""Travel models: how far, and how long, from communes to structures.

``base`` holds the protocol and the long (origin, destination, cost) table; ``geodesic``,
``estimate`` (a fitted road estimate), ``osrm`` (the road engine), ``matrix`` (a planner's
commune-to-commune matrix) and ``catchments`` (nearest-device zones) build on it. The factory
that knows every model lives here, above them.
"""

from __future__ import annotations

import os
from typing import Any

from coverage._errors import ArgumentError, ValidationError
from coverage.travel.base import POINT_COLUMNS, TABLE_COLUMNS, TravelModel, check_points
from coverage.travel.estimate import EstimateModel
from coverage.travel.geodesic import CircuityModel, GeodesicModel, geodesic_km

__all__ = [
    "FALLBACK_KINDS",
    "MATRIX_ENV",
    "MATRIX_UNIT_ENV",
    "MODEL_KINDS",
    "POINT_COLUMNS",
    "TABLE_COLUMNS",
    "CircuityModel",
    "EstimateModel",
    "GeodesicModel",
    "TravelModel",
    "check_points",
    "geodesic_km",
    "make_model",
]
# ``nearest`` (the cheapest row per origin) is imported from ``coverage.travel.base``: the
# package attribute of that name is the ``coverage.travel.nearest`` module (KD-tree search).


#: Travel models a user can choose, by name.
MODEL_KINDS: tuple[str, ...] = ("geodesic", "estimate", "osrm", "matrix")
#: Models that may measure the pairs a matrix does not cover (``"none"``: left out, NaN).
FALLBACK_KINDS: tuple[str, ...] = ("none", "geodesic", "estimate")
#: Environment variables naming the matrix file and its unit.
MATRIX_ENV = "PARCOURS_MATRIX"
MATRIX_UNIT_ENV = "PARCOURS_MATRIX_UNIT"


def _matrix_model(
    matrix: str | os.PathLike[str] | None,
    *,
    unit: str | None,
    fallback: str | None,
    region: Any | None,
) -> TravelModel:
    from coverage.travel.matrix import MatrixModel

    if region is None:
        raise ArgumentError("The `matrix` travel model needs `region` (the Region it serves).")

    path = matrix or os.environ.get(MATRIX_ENV, "").strip() or None
    if path is None:
        raise ValidationError(
            "Le modèle de trajet « matrix » demande un distancier de communes : indiquez-le "
            f"avec --matrix FICHIER ou ${MATRIX_ENV}."
        )
    kind = fallback or "none"
    if kind not in FALLBACK_KINDS:
        raise ArgumentError(f"`fallback` must be one of {FALLBACK_KINDS!r}; got {fallback!r}.")
    return MatrixModel.from_file(
        path,
        communes=region.communes,
        polygons=region.polygons(),
        known_codes=set(region.france["insee"]),
        unit=unit or os.environ.get(MATRIX_UNIT_ENV, "").strip() or None,
        fallback=None if kind == "none" else make_model(kind),
    )


def make_model(
    kind: str = "geodesic",
    *,
    dataset: str | None = None,
    url: str | None = None,
    matrix: str | os.PathLike[str] | None = None,
    unit: str | None = None,
    fallback: str | None = None,
    region: Any | None = None,
) -> TravelModel:
    """Build a travel model by name: ``geodesic`` (default), ``estimate``, ``osrm``, ``matrix``.

    ``osrm`` needs a dataset built by ``parcours roads build`` (or ``url`` of a running
    ``osrm-routed``); the road engine is imported only then. ``matrix`` reads the commune
    matrix file ``matrix`` (default ``$PARCOURS_MATRIX``) in ``unit`` (default
    ``$PARCOURS_MATRIX_UNIT``, else the column names, else inferred and warned), checked
    against ``region`` (the :class:`~coverage.data.region.Region` served, required for this
    model: the front ends resolve it and pass it down); ``fallback`` (``"none"``, ``"geodesic"``,
    ``"estimate"``) measures the pairs it does not cover.
    """
    if kind == "geodesic":
        return GeodesicModel()
    if kind == "estimate":
        return EstimateModel()
    if kind == "osrm":
        from coverage.travel.osrm import OsrmModel  # the road engine loads only when asked

        return OsrmModel(dataset=dataset, url=url)
    if kind == "matrix":
        return _matrix_model(matrix, unit=unit, fallback=fallback, region=region)
    raise ValidationError(f"`kind` must be one of {MODEL_KINDS!r}; got {kind!r}.")
