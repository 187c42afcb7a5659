"""A hand-checkable travel model and five communes on a line, shared by the coverage tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from coverage.travel.base import check_points


@dataclass(frozen=True)
class PlaneModel:
    """Straight line on a plane: 1 unit of lon/lat = 1 km, 2 minutes per km.

    ``blocked`` pairs (origin index, destination index) have no route (NaN), as OSRM gives.
    """

    blocked: frozenset = frozenset()
    shuffle: bool = False
    name: ClassVar[str] = "plane"
    label_fr: ClassVar[str] = "plan de test"
    has_time: ClassVar[bool] = True

    def table(self, origins: pd.DataFrame, destinations: pd.DataFrame) -> pd.DataFrame:
        o = check_points(origins, name="origins")
        d = check_points(destinations, name="destinations")
        oi = np.repeat(np.arange(len(o)), len(d))
        di = np.tile(np.arange(len(d)), len(o))
        km = np.hypot(
            o["lon"].to_numpy()[oi] - d["lon"].to_numpy()[di],
            o["lat"].to_numpy()[oi] - d["lat"].to_numpy()[di],
        )
        for a, b in self.blocked:
            km[(oi == a) & (di == b)] = np.nan
        t = pd.DataFrame(
            {
                "origin": o["id"].to_numpy()[oi],
                "destination": d["id"].to_numpy()[di],
                "distance_km": km,
                "duration_min": 2 * km,
                "model": self.name,
            }
        )
        if self.shuffle:
            t = t.sample(frac=1.0, random_state=7).reset_index(drop=True)
        return t


# Five communes on a line (x = lon, in km) and three structures:
#   A(0) B(1) C(2) D(3) ........ E(10)       S1 tous publics at 0, S3 tous publics at 2,
#   pop 100 200 300 400         1000         S2 AJA at 3.
COMMUNES = pd.DataFrame(
    {
        "insee": ["A", "B", "C", "D", "E"],
        "name": ["Aa", "Bb", "Cc", "Dd", "Ee"],
        "dep": ["01", "01", "02", "02", "02"],
        "population": [100, 200, 300, 400, 1000],
        "epci_code": ["e1", "e1", "e2", "e2", "e2"],
        "epci_name": ["Un", "Un", "Deux", "Deux", "Deux"],
        "lon": [0.0, 1.0, 2.0, 3.0, 10.0],
        "lat": [0.0] * 5,
        "point_source": ["mairie"] * 5,
    }
)
STRUCTURES = pd.DataFrame(
    {
        "id": ["S1", "S2", "S3"],
        "name": ["Un", "Deux", "Trois"],
        "kind": ["tous_publics", "aja", "tous_publics"],
        "lon": [0.0, 3.0, 2.0],
        "lat": [0.0, 0.0, 0.0],
    }
)
