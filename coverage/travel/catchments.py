"""Computed AJA catchments: each commune to its nearest located AJA device (a labelled stand-in).

No official AJA zoning is public. :func:`load_zones` reads the official file when one is given
or configured (:mod:`coverage.data.zones`); otherwise :func:`computed_zones` assigns every
commune to its nearest AJA device under the travel model in use, and every output labels the
result "zones calculées (dispositif le plus proche), pas le zonage officiel".
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from coverage.data.region import Region
from coverage.data.registry import Registry
from coverage.data.zones import AjaZones, default_zones_path, read_official
from coverage.travel.base import TravelModel, nearest
from coverage.travel.geodesic import GeodesicModel
from coverage.travel.nearest import GeodesicIndex, straight_line_factor


def load_zones(
    path: str | os.PathLike[str] | None = None,
    *,
    region: Region,
    registry: Registry,
    model: TravelModel | None = None,
) -> AjaZones:
    """Load the official zoning if a file is given or configured, else compute the zones."""
    chosen = Path(path) if path is not None else default_zones_path(region.code)
    if chosen is not None:
        return read_official(chosen, region=region, registry=registry)
    return computed_zones(region=region, registry=registry, model=model)


def computed_zones(
    *, region: Region, registry: Registry, model: TravelModel | None = None
) -> AjaZones:
    """Each commune to its nearest located AJA device (a stand-in, labelled as such)."""
    model = model or GeodesicModel()
    devices = registry.points("aja")
    if devices.empty:
        empty = pd.DataFrame({"insee": pd.Series(dtype=str), "device_id": pd.Series(dtype=str)})
        return AjaZones(empty, official=False, source="", model=model.name)
    origins = region.communes[["insee", "lon", "lat"]].rename(columns={"insee": "id"})
    factor = straight_line_factor(model)
    if factor is None:  # a road model: every pair from the model, then the nearest
        best = nearest(model.table(origins, devices))
        insee, device = best["origin"], best["destination"]
    else:  # a KD-tree and the exact geodesics of a few candidates: the same answer
        ids = devices["id"].to_numpy(dtype=object)
        rank = np.empty(len(ids), dtype=np.int64)
        rank[np.argsort(ids, kind="stable")] = np.arange(len(ids))  # ties: lowest id
        index = GeodesicIndex(
            devices["lon"].to_numpy(dtype=float),
            devices["lat"].to_numpy(dtype=float),
            factor=factor,
        )
        j, _ = index.nearest(origins["lon"], origins["lat"], rank=rank)
        by_code = np.argsort(origins["id"].to_numpy(dtype=object), kind="stable")
        insee, device = origins["id"].iloc[by_code], pd.Series(ids[j][by_code])
    assignment = pd.DataFrame(
        {"insee": insee.astype(str).to_numpy(), "device_id": device.astype(str).to_numpy()}
    )
    return AjaZones(assignment, official=False, source="", model=model.name)
