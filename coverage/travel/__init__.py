"""Travel models: how far, and how long, from communes to structures.

``base`` holds the protocol and the long (origin, destination, cost) table; ``geodesic``,
``osrm`` (the road engine) and ``catchments`` (nearest-device zones) build on it. The factory
that knows every model lives here, above them.
"""

from __future__ import annotations

from coverage._errors import ValidationError
from coverage.travel.base import POINT_COLUMNS, TABLE_COLUMNS, TravelModel, check_points, nearest
from coverage.travel.geodesic import CircuityModel, GeodesicModel, geodesic_km

__all__ = [
    "MODEL_KINDS",
    "POINT_COLUMNS",
    "TABLE_COLUMNS",
    "CircuityModel",
    "GeodesicModel",
    "TravelModel",
    "check_points",
    "geodesic_km",
    "make_model",
    "nearest",
]


#: Travel models a user can choose, by name.
MODEL_KINDS: tuple[str, ...] = ("geodesic", "estimate", "osrm")


def make_model(
    kind: str = "geodesic", *, dataset: str | None = None, url: str | None = None
) -> TravelModel:
    """Build a travel model by name: ``geodesic`` (default), ``estimate`` or ``osrm``.

    ``osrm`` needs a dataset built by ``parcours roads build`` (or ``url`` of a running
    ``osrm-routed``); the road engine is imported only then.
    """
    if kind == "geodesic":
        return GeodesicModel()
    if kind == "estimate":
        return CircuityModel()
    if kind == "osrm":
        from coverage.travel.osrm import OsrmModel  # the road engine loads only when asked

        return OsrmModel(dataset=dataset, url=url)
    raise ValidationError(f"`kind` must be one of {MODEL_KINDS!r}; got {kind!r}.")
