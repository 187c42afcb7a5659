"""Does an extract cover the region? Per département, the share of communes near a road.

The communes come from the caller as a plain frame (``insee``, ``dep``, ``lon``, ``lat``):
this layer reads nothing from ``coverage.data``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from coverage import geography
from coverage._errors import ArgumentError, RoadEngineError
from coverage.roads.dataset import Dataset
from coverage.roads.engine import snap_distances

#: Columns of the communes frame the check needs.
COMMUNE_COLUMNS: tuple[str, ...] = ("insee", "dep", "lon", "lat")
#: A commune is covered when its point lies within this distance of a road of the extract.
COVERED_SNAP_M = 2000.0
#: A département is covered when at least this share of its communes is covered.
COVERED_SHARE = 0.9
#: Where the README tells how to get the region's extract.
README_SECTION = "la section « Road travel times (OSRM) » du README"


def commune_points(communes: pd.DataFrame) -> pd.DataFrame:
    """The ``COMMUNE_COLUMNS`` of a communes frame (e.g. ``load_region(region=...).communes``)."""
    missing = [c for c in COMMUNE_COLUMNS if c not in communes.columns]
    if missing:
        raise ArgumentError(f"`communes` must have columns {COMMUNE_COLUMNS}; missing {missing!r}.")
    return pd.DataFrame(communes[list(COMMUNE_COLUMNS)]).reset_index(drop=True)


def missing_from_bbox(bbox: tuple, communes: pd.DataFrame) -> list[str]:
    """Départements of the region with no commune inside the extract's bounding box."""
    lon_min, lat_min, lon_max, lat_max = bbox
    inside = communes["lon"].between(lon_min, lon_max) & communes["lat"].between(lat_min, lat_max)
    present = set(communes.loc[inside, "dep"])
    return [d for d in _departements(communes) if d not in present]


def _departements(communes: pd.DataFrame) -> list[str]:
    """The départements of the region, as its communes frame lists them."""
    return sorted({str(d) for d in communes["dep"]})


def coverage_by_departement(
    dataset: Dataset,
    *,
    communes: pd.DataFrame,
    snap_limit_m: float = COVERED_SNAP_M,
) -> pd.DataFrame:
    """Per département, how many of its communes lie near a road of the dataset.

    Parameters
    ----------
    communes
        One row per commune of the region, columns ``insee``, ``dep``, ``lon``, ``lat``.

    Returns
    -------
    DataFrame
        One row per département of the region: ``dep``, ``name``, ``communes``, ``covered``
        (points within ``snap_limit_m`` of a road), ``share``, ``median_snap_m``, ``missing``
        (share below ``COVERED_SHARE``).
    """
    points = commune_points(communes)
    snaps = snap_distances(dataset, points["lon"].to_numpy(), points["lat"].to_numpy())
    frame = points.assign(snap_m=snaps, covered=np.nan_to_num(snaps, nan=np.inf) <= snap_limit_m)
    rows = []
    for dep in _departements(points):
        part = frame[frame["dep"] == dep]
        n = len(part)
        k = int(part["covered"].sum())
        share = k / n if n else 0.0
        rows.append(
            {
                "dep": dep,
                "name": geography.departement_names().get(dep, dep),
                "communes": n,
                "covered": k,
                "share": share,
                "median_snap_m": float(np.nanmedian(part["snap_m"])) if n else float("nan"),
                "missing": share < COVERED_SHARE,
            }
        )
    return pd.DataFrame(rows)


def name_departements(deps: list[str]) -> str:
    """``"15 (Cantal), 43 (Haute-Loire)"``."""
    names = geography.departement_names()
    return ", ".join(f"{d} ({names.get(d, d)})" for d in deps)


def refuse_area(pbf: Path, missing: list[str], total: int | None = None) -> RoadEngineError:
    """The error for an extract that misses départements of the region (of ``total``)."""
    among = f" sur {total}" if total else ""
    return RoadEngineError(
        f"L'extrait {pbf.name!r} ne couvre pas la région servie : "
        f"{len(missing)} département(s){among} absent(s) : {name_departements(missing)}. "
        f"Utilisez l'extrait de la région (voir {README_SECTION}) ou relancez avec --partial "
        "(partial=True) pour accepter un jeu de données partiel."
    )
