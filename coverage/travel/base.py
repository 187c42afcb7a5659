"""Travel models: origin points x destination points -> a long (origin, destination, cost) table.

Every consumer (finder, coverage analytics, app, exports) asks a ``TravelModel`` for costs and
never computes distances itself, so the road engine (``coverage.roads``) slots in without
touching them. A table always carries the model that produced it (``model`` column and
``table.attrs["model"]``): tables from two models are never mixed silently.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from coverage._errors import ValidationError

#: Columns of a point set given to a travel model.
POINT_COLUMNS: tuple[str, ...] = ("id", "lon", "lat")
#: Columns of the long table every travel model returns.
TABLE_COLUMNS: tuple[str, ...] = (
    "origin",
    "destination",
    "distance_km",
    "duration_min",
    "model",
)


@runtime_checkable
class TravelModel(Protocol):
    """What the finder and the analytics need from a way of measuring travel.

    The three facts are read-only properties, so a model may give them as class constants
    (``ClassVar``), plain attributes or computed properties.
    """

    @property
    def name(self) -> str:
        """Short machine name, e.g. ``"geodesic"``, ``"estimate"``, ``"osrm"``."""
        ...

    @property
    def label_fr(self) -> str:
        """French label shown next to every number, e.g. ``"à vol d'oiseau"``."""
        ...

    @property
    def has_time(self) -> bool:
        """True when ``duration_min`` is filled."""
        ...

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


def cross_index(origins: pd.DataFrame, destinations: pd.DataFrame) -> tuple[np.ndarray, ...]:
    n, m = len(origins), len(destinations)
    oi = np.repeat(np.arange(n), m)
    di = np.tile(np.arange(m), n)
    return oi, di


def frame(
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


def row_models(table: pd.DataFrame) -> set[str]:
    """Models a table may hold rows of: its own (``attrs["model"]``) and its declared fallback
    (``attrs["fallback"]``, a matrix model's measure for the pairs it does not cover)."""
    declared = {table.attrs.get("model"), table.attrs.get("fallback")} - {None}
    return {str(m) for m in declared}


def nearest(table: pd.DataFrame, *, by: str = "distance_km") -> pd.DataFrame:
    """Per origin, the row of the cheapest destination (ties: first destination id).

    A table mixing models is refused unless they are its model and the fallback it declares
    (each row then says which model measured it).
    """
    if table.empty:
        return table.copy()
    models = sorted(str(m) for m in pd.unique(table["model"].to_numpy()))
    if len(models) != 1 and not set(models) <= row_models(table):
        raise ValidationError(f"`table` mixes travel models {models!r}; use one.")
    ordered = table.sort_values(["origin", by, "destination"], kind="stable")
    out = ordered.drop_duplicates("origin", keep="first").reset_index(drop=True)
    out.attrs["model"] = table.attrs.get("model", models[0]) if len(models) > 1 else models[0]
    return out
