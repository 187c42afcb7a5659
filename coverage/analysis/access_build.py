"""Building the access table: from plain frames, or from a region, a registry and AJA zones.

Each way in asks the travel model once for every commune x located structure cost
(:func:`coverage.analysis.access_matrix.cost_matrices`) and returns an
:class:`~coverage.analysis.access.AccessTable`. :func:`load_access` also loads what the table is
built from, as the command line and the page need it.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from coverage._errors import ValidationError
from coverage.analysis.access import AccessTable
from coverage.analysis.access_matrix import (
    COMMUNE_COLUMNS,
    cost_matrices,
    structures_frame,
    with_areas,
)
from coverage.data.region import Region, load_region
from coverage.data.registry import Registry
from coverage.data.registry_files import load_registry
from coverage.data.registry_schema import KINDS
from coverage.data.zones import AjaZones
from coverage.geography import RegionSpec
from coverage.travel.base import TravelModel
from coverage.travel.catchments import load_zones
from coverage.travel.geodesic import GeodesicModel


def access_from_frames(
    communes: pd.DataFrame,
    structures: pd.DataFrame,
    *,
    model: TravelModel,
    zones_official: bool = False,
    zones_label: str = "",
) -> AccessTable:
    """Build an access table from plain tables (one call of the travel model).

    Parameters
    ----------
    communes
        Origins: ``insee``, ``lon``, ``lat``, ``population``, ``dep``; optional ``name``,
        ``epci_code``, ``epci_name``, ``point_source`` (default ``""``) and
        ``aja_zone_device`` (default ``""``: no zone).
    structures
        Located structures: ``id``, ``name``, ``kind``, ``lon``, ``lat``; optional
        ``commune_insee``, ``commune_name``, ``dep``, ``capacity``.
    model
        The travel model.
    zones_official, zones_label
        Provenance of ``aja_zone_device``.
    """
    missing = [c for c in ("insee", "lon", "lat", "population", "dep") if c not in communes]
    if missing:
        raise ValidationError(f"`communes` lacks column(s) {missing!r}.")
    if communes["insee"].duplicated().any():
        raise ValidationError("`communes` repeats INSEE codes.")
    pop = pd.to_numeric(communes["population"], errors="coerce").to_numpy(dtype=float)
    if not (np.isfinite(pop).all() and (pop >= 0).all()):
        raise ValidationError("`communes` population must be finite numbers >= 0.")
    columns = {c: communes[c].to_numpy() if c in communes.columns else "" for c in COMMUNE_COLUMNS}
    columns["population"] = pop
    frame = pd.DataFrame(columns, index=pd.RangeIndex(len(communes)))
    frame["aja_zone_device"] = frame["aja_zone_device"].fillna("").astype(str)
    s = structures
    missing = [c for c in ("id", "name", "kind", "lon", "lat") if c not in s.columns]
    if missing:
        raise ValidationError(f"`structures` lacks column(s) {missing!r}.")
    bad = sorted(set(s["kind"]) - set(KINDS))
    if bad:
        raise ValidationError(f"`structures` kind must be one of {KINDS!r}; got {bad!r}.")
    s = structures_frame(s)
    origins = with_areas(frame[["insee", "lon", "lat"]].copy(), frame["dep"])
    dist, dur = cost_matrices(model, origins, s)
    return AccessTable(
        communes=frame,
        structures=s,
        distance_km=dist,
        duration_min=dur,
        model=model,
        zones_official=zones_official,
        zones_label=zones_label,
    )


def build_access(
    region: Region,
    registry: Registry,
    *,
    zones: AjaZones | None = None,
    model: TravelModel | None = None,
) -> AccessTable:
    """Ask the travel model for every commune x located structure cost (one call).

    Parameters
    ----------
    region
        The region (its communes are the origins).
    registry
        The structures; only located ones are measured (the others are listed by the
        registry's completeness statement).
    zones
        AJA zones; default the official file if configured, else computed zones.
    model
        Travel model; default ``GeodesicModel()``.
    """
    model = model or GeodesicModel()
    if zones is None:
        zones = load_zones(region=region, registry=registry, model=model)
    c = region.communes
    communes = pd.DataFrame({col: c[col].to_numpy() for col in COMMUNE_COLUMNS[:-1]})
    device = dict(zip(zones.assignment["insee"], zones.assignment["device_id"], strict=True))
    communes["aja_zone_device"] = [str(device.get(code, "")) for code in communes["insee"]]
    return access_from_frames(
        communes,
        registry.located(),
        model=model,
        zones_official=zones.official,
        zones_label=zones.label_fr,
    )


def load_access(
    *,
    region: str | RegionSpec,
    registry_path: str | os.PathLike[str] | None = None,
    zones_path: str | os.PathLike[str] | None = None,
    model: TravelModel | None = None,
    cache_root: str | os.PathLike[str] | None = None,
) -> tuple[AccessTable, Region, Registry]:
    """Load the region ``region`` (INSEE code, name or "FR", or its spec), the registry and
    the AJA zones, and build the access table.

    Returns
    -------
    (AccessTable, Region, Registry)
        The table and what it was built from (the analysis reports the region's data date
        and the registry's completeness).
    """
    served = load_region(cache_root, region=region)
    registry = load_registry(registry_path, region=served)
    model = model or GeodesicModel()
    zones = load_zones(zones_path, region=served, registry=registry, model=model)
    return build_access(served, registry, zones=zones, model=model), served, registry
