"""Straight-line travel: geodesic distance on the WGS84 ellipsoid, and the circuity estimate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from coverage._errors import ValidationError
from coverage._geodesy import geodesic_km
from coverage.travel.base import check_points, cross_index, frame

__all__ = ["FRANCE_CIRCUITY", "CircuityModel", "GeodesicModel", "geodesic_km"]


@dataclass(frozen=True)
class GeodesicModel:
    """Straight-line ("à vol d'oiseau") distance on the WGS84 ellipsoid; no travel time."""

    name: ClassVar[str] = "geodesic"
    label_fr: ClassVar[str] = "à vol d'oiseau"
    has_time: ClassVar[bool] = False

    def table(self, origins: pd.DataFrame, destinations: pd.DataFrame) -> pd.DataFrame:
        o = check_points(origins, name="origins")
        d = check_points(destinations, name="destinations")
        oi, di = cross_index(o, d)
        km = geodesic_km(
            o["lon"].to_numpy()[oi],
            o["lat"].to_numpy()[oi],
            d["lon"].to_numpy()[di],
            d["lat"].to_numpy()[di],
        )
        return frame(o, d, oi, di, km, np.full(len(km), np.nan), self.name)


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
