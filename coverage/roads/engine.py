"""The OSRM engine in this process: load a dataset through the bindings, snap points to roads."""

from __future__ import annotations

import contextlib
import functools
from typing import Any

import numpy as np

from coverage._errors import RoadEngineError
from coverage.roads.dataset import ALGORITHM, Dataset, dataset_file
from coverage.roads.tools import osrm_version


@functools.lru_cache(maxsize=2)
def _load_engine(base: str, stamp: int) -> Any:
    del stamp  # part of the cache key only: a rebuilt dataset is loaded again
    try:
        import osrm
    except ImportError as exc:
        raise RoadEngineError(
            "Les liaisons Python d'OSRM (paquet osrm-bindings) ne sont pas installées."
        ) from exc
    return osrm.OSRM(storage_config=base, algorithm=ALGORITHM, use_shared_memory=False)


def load_engine(dataset: Dataset) -> Any:
    """An ``osrm.OSRM`` engine on ``dataset`` (kept for reuse); ``RoadEngineError`` on failure."""
    stamp = dataset_file(dataset.base, ".cell_metrics").stat().st_mtime_ns
    try:
        return _load_engine(str(dataset.base), stamp)
    except RuntimeError as exc:
        built_with = dataset.manifest.get("osrm_bindings_version", "inconnue")
        raise RoadEngineError(
            f"Impossible de charger le jeu de données routier {str(dataset.base)!r} avec "
            f"osrm-bindings {osrm_version()} ({exc}) ; il a été construit avec la version "
            f"{built_with} : reconstruisez-le avec `parcours roads build`."
        ) from exc


def snap_distances(dataset: Dataset, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Distance in metres from each point to the nearest road of the dataset (OSRM nearest)."""
    import osrm

    engine = load_engine(dataset)
    out = np.full(len(lon), np.nan)
    for i, (x, y) in enumerate(zip(lon, lat, strict=True)):
        params = osrm.NearestParameters(coordinates=[(float(x), float(y))])
        params.number_of_results = 1
        with contextlib.suppress(RuntimeError):  # no road at all: stays NaN
            out[i] = float(engine.Nearest(params)["waypoints"][0]["distance"])
    return out


def unload_engines() -> None:
    """Forget the engines kept for reuse (before a dataset folder is moved or replaced)."""
    _load_engine.cache_clear()
