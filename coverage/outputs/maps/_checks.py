"""Checks of what map builders receive: the map, points, colours, corners, polygons."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coverage import settings
from coverage._errors import ValidationError

_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})|[a-z]{3,20}")
_POSITIONS = ("topleft", "topright", "bottomleft", "bottomright")
_COORD_DECIMALS = 5
STRUCTURE_COLUMNS: tuple[str, ...] = ("id", "name", "lat", "lon")


def _check_map(m: object) -> folium.Map:
    if not isinstance(m, folium.Map):
        raise ValidationError(f"m doit être une carte folium.Map, reçu {type(m).__name__!r}.")
    return m


def _check_latlon(lat: object, lon: object, *, what: str) -> tuple[float, float]:
    try:
        la, lo = float(lat), float(lon)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValidationError(
            f"{what} : coordonnées non numériques (lat={lat!r}, lon={lon!r})."
        ) from None
    if not (math.isfinite(la) and math.isfinite(lo) and -90 <= la <= 90 and -180 <= lo <= 180):
        raise ValidationError(f"{what} : coordonnées invalides (lat={lat!r}, lon={lon!r}).")
    return la, lo


def _check_color(color: str, *, name: str = "color") -> str:
    if not isinstance(color, str) or not _COLOR.fullmatch(color):
        raise ValidationError(
            f"{name} doit être une couleur « #rrggbb » ou un nom CSS, reçu {color!r}."
        )
    return color


def _check_position(position: str) -> str:
    if position not in _POSITIONS:
        raise ValidationError(f"position doit être l'une de {_POSITIONS!r}, reçu {position!r}.")
    return position


def _check_structures(structures: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(structures, pd.DataFrame):
        raise ValidationError(
            f"structures doit être un DataFrame, reçu {type(structures).__name__!r}."
        )
    missing = [c for c in STRUCTURE_COLUMNS if c not in structures.columns]
    if missing:
        raise ValidationError(f"structures : colonnes manquantes {missing!r}.")
    for row in structures.itertuples(index=False):
        _check_latlon(row.lat, row.lon, what=f"structure {row.id!r}")
    return structures


def _wgs84_polygons(
    gdf: gpd.GeoDataFrame, *, name: str, allow_empty: bool = False
) -> gpd.GeoSeries:
    """The polygons of ``gdf`` in WGS84; empty/missing ones refused unless ``allow_empty``."""
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise ValidationError(f"{name} doit être un GeoDataFrame, reçu {type(gdf).__name__!r}.")
    if gdf.crs is None:
        raise ValidationError(f"{name} n'a pas de système de coordonnées (crs=None).")
    geoms = gdf.geometry
    bad = (geoms.isna() | geoms.is_empty).to_numpy()
    if bad.any() and not allow_empty:
        raise ValidationError(
            f"{name} : {int(bad.sum())} géométrie(s) vide(s), "
            f"par exemple à l'index {geoms.index[bad][0]!r}."
        )
    kinds = set(geoms[~bad].geom_type)
    if not kinds <= {"Polygon", "MultiPolygon"}:
        raise ValidationError(f"{name} : polygones attendus, reçu {sorted(kinds)!r}.")
    return geoms.to_crs(settings.WGS84)


def _features(geoms: gpd.GeoSeries, styles: Sequence[int], tips: Sequence[str]) -> list[dict]:
    rounded = shapely.transform(np.asarray(geoms.array), lambda xy: np.round(xy, _COORD_DECIMALS))
    return [
        {"type": "Feature", "properties": {"s": int(s), "t": t}, "geometry": g.__geo_interface__}
        for g, s, t in zip(rounded, styles, tips, strict=True)
    ]
