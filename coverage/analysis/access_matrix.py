"""The cost columns of communes x structures, and how a travel model's answer becomes them.

A road (or other) model's answer is kept as a dense commune x structure matrix; a
straight-line model's (geodesic, estimate) keeps only the points
(:class:`coverage.travel.nearest.GeodesicMatrix`): its cells are computed when asked. Pairs
the model cannot route (NaN from OSRM) are ``inf``. When the communes span several travel
areas (all of France), no journey crosses from one area to another. The access table
(:mod:`coverage.analysis.access`), its construction (:mod:`coverage.analysis.access_build`)
and the candidate sites' costs (:mod:`coverage.analysis.candidate_costs`) all measure through
:func:`cost_matrices`.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from coverage._errors import ArgumentError, ValidationError
from coverage.data.registry_schema import KINDS
from coverage.geography import travel_areas
from coverage.travel.base import TravelModel, row_models
from coverage.travel.nearest import GeodesicMatrix, straight_line_factor

Cost = Literal["distance_km", "duration_min"]
COSTS: tuple[str, ...] = ("distance_km", "duration_min")
#: A commune x structure cost matrix: dense (road and other models), or computed when asked
#: (straight-line models: only the points are kept, see ``coverage.travel.nearest``).
CostMatrix = np.ndarray | GeodesicMatrix

#: Columns of ``AccessTable.communes``.
COMMUNE_COLUMNS: tuple[str, ...] = (
    "insee",
    "name",
    "dep",
    "population",
    "epci_code",
    "epci_name",
    "lon",
    "lat",
    "point_source",
    "aja_zone_device",
)
#: Columns of ``AccessTable.structures``.
STRUCTURE_COLUMNS: tuple[str, ...] = (
    "id",
    "name",
    "kind",
    "commune_insee",
    "commune_name",
    "dep",
    "lon",
    "lat",
    "capacity",
    "added",
)


def _as_cost(values: pd.Series) -> np.ndarray:
    """Travel costs as floats, NaN (no route) turned into ``inf``."""
    if values.dtype.kind == "f":
        arr = values.to_numpy(dtype=float, copy=True)
    else:
        arr = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, copy=True)
    arr[np.isnan(arr)] = np.inf
    return arr


def cost_matrices(
    model: TravelModel, origins: pd.DataFrame, points: pd.DataFrame
) -> tuple[CostMatrix, np.ndarray | None]:
    """(distance, duration) matrices origins x points from the travel model.

    A straight-line model (``GeodesicModel``, ``CircuityModel``) gives a ``GeodesicMatrix``
    that keeps the points only: its cells are the model's own values, computed when asked.
    Any other model is asked for its table once; it is given positional ids (0..n-1,
    0..m-1) rather than the INSEE codes and structure ids: the table is indexed back by
    them, which is exact and avoids converting millions of strings.
    """
    n, m = len(origins), len(points)
    factor = straight_line_factor(model)
    oarea, darea = _areas(origins, points)
    if factor is not None:
        olon, olat = _lon_lat(origins, name="origins")
        dlon, dlat = _lon_lat(points, name="destinations")
        return GeodesicMatrix(olon, olat, dlon, dlat, factor, oarea, darea), None
    if m == 0:
        return np.empty((n, 0)), (np.empty((n, 0)) if model.has_time else None)
    o = pd.DataFrame(
        {
            "id": np.arange(n),
            "lon": origins["lon"].to_numpy(dtype=float),
            "lat": origins["lat"].to_numpy(dtype=float),
        }
    )
    d = pd.DataFrame(
        {
            "id": np.arange(m),
            "lon": points["lon"].to_numpy(dtype=float),
            "lat": points["lat"].to_numpy(dtype=float),
        }
    )
    table = model.table(o, d)
    models = set(pd.unique(table["model"].to_numpy()).tolist())
    # A model may measure some pairs with a fallback it declares in the table (a matrix
    # covering one département); its rows say so. Nothing else mixes (travel.base.row_models).
    if not models <= {model.name} | row_models(table):
        raise ArgumentError(
            f"The travel model {model.name!r} returned a table of {sorted(models)!r}."
        )
    oi = table["origin"].to_numpy()
    di = table["destination"].to_numpy()
    if not (
        np.issubdtype(oi.dtype, np.integer)
        and np.issubdtype(di.dtype, np.integer)
        and len(oi)
        and 0 <= oi.min()
        and oi.max() < n
        and 0 <= di.min()
        and di.max() < m
    ):
        raise ValidationError("The travel model returned ids it was not given.")
    dist = np.full((n, m), np.inf)
    dist[oi, di] = _as_cost(table["distance_km"])
    dur = None
    if model.has_time:
        dur = np.full((n, m), np.inf)
        dur[oi, di] = _as_cost(table["duration_min"])
    if oarea is not None and darea is not None:  # no journey between two travel areas
        across = oarea[:, None] != darea[None, :]
        dist[across] = np.inf
        if dur is not None:
            dur[across] = np.inf
    return dist, dur


def with_areas(origins: pd.DataFrame, deps: pd.Series | np.ndarray) -> pd.DataFrame:
    """``origins`` with an ``area`` column when the communes span several travel areas (all
    of France: a structure overseas serves its own area), else as they are."""
    areas = travel_areas(deps)
    if len(set(areas)) > 1:
        origins["area"] = areas
    return origins


def _areas(
    origins: pd.DataFrame, points: pd.DataFrame
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Travel areas of origins and points when the origins span several (all of France):
    a point's area is its département's (``dep``; none given: metropolitan France)."""
    if "area" not in origins.columns:
        return None, None
    if "area" in points.columns:  # communes as candidate sites
        return origins["area"].to_numpy(dtype=object), points["area"].to_numpy(dtype=object)
    deps = points["dep"] if "dep" in points.columns else pd.Series([""] * len(points))
    return origins["area"].to_numpy(dtype=object), travel_areas(deps)


#: Values of the structure columns a frame may lack.
_STRUCTURE_DEFAULTS: dict[str, object] = {
    "added": False,
    "capacity": np.nan,
    "commune_insee": "",
    "commune_name": "",
    "dep": "",
}


def _lon_lat(points: pd.DataFrame, *, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Longitudes and latitudes as floats, checked as ``travel.base.check_points`` does."""
    lon = pd.to_numeric(points["lon"], errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(points["lat"], errors="coerce").to_numpy(dtype=float)
    bad = ~(np.isfinite(lon) & np.isfinite(lat)) | (np.abs(lon) > 180) | (np.abs(lat) > 90)
    if bad.any():
        raise ValidationError(
            f"`{name}` has {int(bad.sum())} point(s) without valid longitude/latitude: "
            f"rows {np.flatnonzero(bad)[:3].tolist()!r}."
        )
    return lon, lat


def structures_frame(located: pd.DataFrame) -> pd.DataFrame:
    """``STRUCTURE_COLUMNS`` of ``located`` (a new frame, built at once), defaults filled."""
    n = len(located)
    return pd.DataFrame(
        {
            col: located[col].to_numpy() if col in located.columns else _STRUCTURE_DEFAULTS[col]
            for col in STRUCTURE_COLUMNS
        },
        index=pd.RangeIndex(n),
    )


def select_columns(matrix: CostMatrix, keep: np.ndarray) -> CostMatrix:
    """The columns ``keep`` (boolean mask) of a cost matrix, of the same type."""
    if isinstance(matrix, GeodesicMatrix):
        return matrix.select(keep)
    return matrix[:, keep]


def join_columns(left: CostMatrix, right: CostMatrix) -> CostMatrix:
    """The columns of ``left`` then those of ``right`` (two matrices of one model)."""
    if isinstance(left, GeodesicMatrix) and isinstance(right, GeodesicMatrix):
        return left.append(right)
    return np.concatenate([np.asarray(left), np.asarray(right)], axis=1)


def check_added(add: pd.DataFrame, *, kept: set[str]) -> pd.DataFrame:
    """Structures a what-if adds, checked (columns, kinds, new and unique ids), marked ``added``."""
    missing = [c for c in ("id", "name", "kind", "lon", "lat") if c not in add.columns]
    if missing:
        raise ValidationError(
            f"`add` must have columns id, name, kind, lon, lat; missing {missing!r}."
        )
    bad_kind = sorted(set(add["kind"]) - set(KINDS))
    if bad_kind:
        raise ValidationError(f"`add` kind must be one of {KINDS!r}; got {bad_kind!r}.")
    clash = sorted(set(add["id"]) & kept)
    if clash or add["id"].duplicated().any():
        raise ValidationError(f"`add` ids must be new and unique; got {add['id'].tolist()!r}.")
    new = add.copy()
    new["added"] = True
    return new
