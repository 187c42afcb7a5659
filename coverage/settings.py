"""Typed defaults: the region, coordinate systems, paths and published facts.

Nothing here writes anywhere; functions that need a folder create it when they write.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

#: The 12 départements of Auvergne-Rhône-Alpes (INSEE codes).
ARA_DEPARTEMENTS: Final[tuple[str, ...]] = (
    "01",
    "03",
    "07",
    "15",
    "26",
    "38",
    "42",
    "43",
    "63",
    "69",
    "73",
    "74",
)

#: Names of the 12 départements, for what planners and patients read.
DEPARTEMENT_NAMES: Final[dict[str, str]] = {
    "01": "Ain",
    "03": "Allier",
    "07": "Ardèche",
    "15": "Cantal",
    "26": "Drôme",
    "38": "Isère",
    "42": "Loire",
    "43": "Haute-Loire",
    "63": "Puy-de-Dôme",
    "69": "Rhône",
    "73": "Savoie",
    "74": "Haute-Savoie",
}

#: INSEE code of the region.
ARA_REGION_CODE: Final = "84"

#: Geographic coordinates (longitude, latitude) as used by GeoJSON, folium and OSRM.
WGS84: Final = "EPSG:4326"
#: Metric projection for measuring in metropolitan France (Lambert-93).
LAMBERT93: Final = "EPSG:2154"

#: Loose bounding box of the region (lon_min, lat_min, lon_max, lat_max), used only to give a
#: fast first answer to "is this point in the region?"; the exact test uses the polygons.
ARA_BBOX: Final[tuple[float, float, float, float]] = (2.05, 44.10, 7.20, 46.81)

#: The ARS's published count of labelled structures (first wave, 2021).
ARS_LABELLED_2021_TOTAL: Final = 22
ARS_LABELLED_2021_TOUS_PUBLICS: Final = 18
ARS_LABELLED_2021_AJA: Final = 4

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


def cache_dir() -> Path:
    """Folder for derived, rebuildable files (git-ignored); ``$PARCOURS_CACHE_DIR`` wins."""
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else PROJECT_ROOT / ".cache"


def vendor_dir() -> Path:
    """Folder where set-up placed the JavaScript/CSS libraries inlined into HTML maps.

    ``make setup`` runs ``npm ci --prefix js``, so it is ``js/node_modules`` (git-ignored).
    """
    return PROJECT_ROOT / "js" / "node_modules"
