"""Travel models: origin points x destination points -> a long (origin, destination, cost) table.

Every consumer (finder, coverage analytics, app, exports) asks a ``TravelModel`` for costs and
never computes distances itself, so the road engine (``coverage.roads``) slots in without
touching them. A table always carries the model that produced it (``model`` column and
``table.attrs["model"]``): tables from two models are never mixed silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol, runtime_checkable

import numpy as np
import pandas as pd
from pyproj import Geod

from ._errors import ValidationError

#: Columns of a point set given to a travel model.
POINT_COLUMNS: tuple[str, ...] = ("id", "lon", "lat")
#: Columns of the long table every travel model returns.
TABLE_COLUMNS: tuple[str, ...] = (
    "origin", "destination", "distance_km", "duration_min", "model",
)  # fmt: skip

_GEOD = Geod(ellps="WGS84")


@runtime_checkable
class TravelModel(Protocol):
    """What the finder and the analytics need from a way of measuring travel."""

    #: Short machine name, e.g. ``"geodesic"``, ``"estimate"``, ``"osrm"``.
    name: str
    #: French label shown next to every number, e.g. ``"à vol d'oiseau"``.
    label_fr: str
    #: True when ``duration_min`` is filled.
    has_time: bool

    def table(self, origins: pd.DataFrame, destinations: pd.DataFrame) -> pd.DataFrame:
        """Return one row per (origin, destination) pair with ``TABLE_COLUMNS``."""
        ...


def check_points(points: pd.DataFrame, *, name: str) -> pd.DataFrame:
    """Validate a point set (columns ``id``, ``lon``, ``lat``; finite WGS84 degrees)."""
    missing = [c for c in POINT_COLUMNS if c not in points.columns]
    if missing:
        raise ValidationError(f"`{name}` must have columns {POINT_COLUMNS}; missing {missing!r}.")
    lon = pd.to_numeric(points["lon"], errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(points["lat"], errors="coerce").to_numpy(dtype=float)
    bad = ~(np.isfinite(lon) & np.isfinite(lat)) | (np.abs(lon) > 180) | (np.abs(lat) > 90)
    if bad.any():
        first = points["id"].to_numpy()[bad][:3].tolist()
        raise ValidationError(
            f"`{name}` has {int(bad.sum())} point(s) without valid longitude/latitude: {first!r}."
        )
    if points["id"].duplicated().any():
        dup = points.loc[points["id"].duplicated(), "id"].head(3).tolist()
        raise ValidationError(f"`{name}` ids must be unique; repeated: {dup!r}.")
    return pd.DataFrame({"id": points["id"].to_numpy(), "lon": lon, "lat": lat})


def geodesic_km(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Geodesic distance in km on the WGS84 ellipsoid (vectorised, pyproj ``Geod.inv``)."""
    lon1, lat1, lon2, lat2 = np.broadcast_arrays(
        *(np.asarray(a, dtype=float) for a in (lon1, lat1, lon2, lat2))
    )
    _, _, metres = _GEOD.inv(lon1.ravel(), lat1.ravel(), lon2.ravel(), lat2.ravel())
    return np.asarray(metres, dtype=float).reshape(lon1.shape) / 1000.0


def _cross(origins: pd.DataFrame, destinations: pd.DataFrame) -> tuple[np.ndarray, ...]:
    n, m = len(origins), len(destinations)
    oi = np.repeat(np.arange(n), m)
    di = np.tile(np.arange(m), n)
    return oi, di


def _frame(
    origins: pd.DataFrame,
    destinations: pd.DataFrame,
    oi: np.ndarray,
    di: np.ndarray,
    distance_km: np.ndarray,
    duration_min: np.ndarray,
    model: str,
) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "origin": origins["id"].to_numpy()[oi],
            "destination": destinations["id"].to_numpy()[di],
            "distance_km": distance_km,
            "duration_min": duration_min,
            "model": model,
        }
    )
    table.attrs["model"] = model
    return table


@dataclass(frozen=True)
class GeodesicModel:
    """Straight-line ("à vol d'oiseau") distance on the WGS84 ellipsoid; no travel time."""

    name: ClassVar[str] = "geodesic"
    label_fr: ClassVar[str] = "à vol d'oiseau"
    has_time: ClassVar[bool] = False

    def table(self, origins: pd.DataFrame, destinations: pd.DataFrame) -> pd.DataFrame:
        o = check_points(origins, name="origins")
        d = check_points(destinations, name="destinations")
        oi, di = _cross(o, d)
        km = geodesic_km(o["lon"].to_numpy()[oi], o["lat"].to_numpy()[oi],
                         d["lon"].to_numpy()[di], d["lat"].to_numpy()[di])  # fmt: skip
        return _frame(o, d, oi, di, km, np.full(len(km), np.nan), self.name)


#: Road circuity (road distance / straight-line distance) for France. Source: Ballou, Rahardja
#: & Sakai (2002), "Selected country circuity factors for road travel distance estimation",
#: Transportation Research Part A 36(9):843-848, table 1: France 1.26.
FRANCE_CIRCUITY: float = 1.26


@dataclass(frozen=True)
class CircuityModel:
    """Road-distance *estimate*: geodesic distance x a published circuity factor; no time."""

    factor: float = FRANCE_CIRCUITY
    name: ClassVar[str] = "estimate"
    label_fr: ClassVar[str] = "estimation par la route (vol d'oiseau x 1,26)"
    has_time: ClassVar[bool] = False

    def __post_init__(self) -> None:
        if not (np.isfinite(self.factor) and 1.0 <= self.factor <= 3.0):
            raise ValidationError(f"`factor` must be between 1 and 3; got {self.factor!r}.")

    def table(self, origins: pd.DataFrame, destinations: pd.DataFrame) -> pd.DataFrame:
        base = GeodesicModel().table(origins, destinations)
        base["distance_km"] = base["distance_km"] * self.factor
        base["model"] = self.name
        base.attrs["model"] = self.name
        return base


def nearest(table: pd.DataFrame, *, by: str = "distance_km") -> pd.DataFrame:
    """Per origin, the row of the cheapest destination (ties: first destination id)."""
    if table.empty:
        return table.copy()
    models = table["model"].unique()
    if len(models) != 1:
        raise ValidationError(f"`table` mixes travel models {sorted(models)!r}; use one.")
    ordered = table.sort_values(["origin", by, "destination"], kind="stable")
    out = ordered.drop_duplicates("origin", keep="first").reset_index(drop=True)
    out.attrs["model"] = models[0]
    return out


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
        from .road_travel import OsrmModel

        return OsrmModel(dataset=dataset, url=url)
    raise ValidationError(f"`kind` must be one of {MODEL_KINDS!r}; got {kind!r}.")
