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
from coverage.geography import travel_areas
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
    """Each commune to its nearest located AJA device of its travel area (a stand-in,
    labelled as such); all of France is zoned area by area, never across an ocean."""
    model = model or GeodesicModel()
    commune_areas = travel_areas(region.communes["dep"])
    parts = []
    for area in sorted(set(commune_areas)):
        devices = registry.points("aja", area=area)
        if devices.empty:
            continue
        mine = region.communes.loc[commune_areas == area, ["insee", "lon", "lat"]]
        parts.append(nearest_devices(mine.rename(columns={"insee": "id"}), devices, model))
    if not parts:
        empty = pd.DataFrame({"insee": pd.Series(dtype=str), "device_id": pd.Series(dtype=str)})
        return AjaZones(empty, official=False, source="", model=model.name)
    if len(parts) == 1:
        assignment = parts[0]
    else:
        assignment = pd.concat(parts, ignore_index=True).sort_values("insee", kind="stable")
        assignment = assignment.reset_index(drop=True)
    return AjaZones(assignment, official=False, source="", model=model.name)


def nearest_devices(
    origins: pd.DataFrame, devices: pd.DataFrame, model: TravelModel
) -> pd.DataFrame:
    """(insee, device_id) of each origin (``id``, ``lon``, ``lat``) to its nearest device by
    ``model``, sorted by INSEE code, ties to the lowest device id."""
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
    return pd.DataFrame(
        {"insee": insee.astype(str).to_numpy(), "device_id": device.astype(str).to_numpy()}
    )
