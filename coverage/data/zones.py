"""AJA zones: which adolescents-and-young-adults (15-25) device serves each commune.

No official zoning is public. An official file can be loaded (``data/aja_zones.csv``,
``--aja-zones PATH`` or ``$PARCOURS_AJA_ZONES``): one row per device and département or
commune. Without one, the default zones are *computed*: each commune goes to its nearest
located AJA device under the travel model in use, and every output labels them
"zones calculées (dispositif le plus proche), pas le zonage officiel".

Official file columns: ``device_id`` (an ``aja`` structure id of the registry), ``dep`` (a
département of the region) or ``insee`` (a commune; overrides its département's row), and
``source`` (http(s) URL). The same zoning may be given as a territory file
(``coverage.data.territories``: ``territory_id``, ``insee``/``epci``/``dep``, ``structures``,
``source``), one territory per AJA device: one zoning concept for both kinds of structure.
Nothing of a rejected file is used.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from coverage import settings
from coverage._errors import RegistryError, ValidationError
from coverage.data.headers import Schema, fold, read_rows
from coverage.data.region import Region
from coverage.data.registry import Registry
from coverage.data.spreadsheet import read_table
from coverage.data.territories import TERRITORIES, aja_assignment, load_territories

COMPUTED_LABEL_FR = "zones calculées (dispositif AJA le plus proche), pas le zonage officiel"
OFFICIAL_LABEL_FR = "zonage officiel chargé depuis {path}"
ZONE_COLUMNS = ("device_id", "dep", "insee", "source")
ZONES = Schema(("device_id", "source"), ZONE_COLUMNS, what="de zones AJA")
_URL_RE = re.compile(r"^https?://\S+$", re.IGNORECASE)


@dataclass(frozen=True)
class AjaZones:
    """Commune -> AJA device assignment, with its provenance.

    ``assignment`` has columns ``insee`` and ``device_id`` (one row per covered commune).
    """

    assignment: pd.DataFrame
    official: bool
    source: str
    model: str
    _memo: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def label_fr(self) -> str:
        """How users must read these zones."""
        if self.official:
            return OFFICIAL_LABEL_FR.format(path=self.source)
        return COMPUTED_LABEL_FR

    def device_for(self, insee: str) -> str | None:
        """The device whose zone covers the commune, or None when no zone covers it."""
        if "map" not in self._memo:
            a = self.assignment
            self._memo["map"] = dict(zip(a["insee"], a["device_id"], strict=True))
        return self._memo["map"].get(insee)

    def polygons(self, region: Region) -> gpd.GeoDataFrame:
        """One (multi)polygon per device: its communes dissolved (EPSG:4326)."""
        if "poly" not in self._memo:
            polys = region.polygons()[["insee", "geometry"]].merge(self.assignment, on="insee")
            polys = polys[polys.geometry.notna()]
            dissolved = polys.dissolve(by="device_id", as_index=False)[["device_id", "geometry"]]
            self._memo["poly"] = dissolved
        return self._memo["poly"]


def default_zones_path(region: str) -> Path | None:
    """The official zoning file in force, if any: ``$PARCOURS_AJA_ZONES``, else the embedded
    one of ``region`` (INSEE code): ``data/aja_zones.csv`` for 84,
    ``data/regions/<code>/aja_zones.csv`` for another (none is embedded today)."""
    env = os.environ.get(settings.AJA_ZONES_ENV)
    if env:
        return Path(env)
    code = region or settings.DEFAULT_REGION
    path = (
        settings.DEFAULT_AJA_ZONES
        if code == settings.DEFAULT_REGION
        else settings.regions_dir() / code / "aja_zones.csv"
    )
    return path if path.is_file() else None


def read_official(path: Path, *, region: Region, registry: Registry) -> AjaZones:
    """Read and validate an official zoning file; reject it whole on any problem."""
    name = str(path)
    if _is_territory_file(path):
        territories = load_territories(path, region=region, registry=registry)
        assignment = aja_assignment(territories, registry=registry).dropna()
        return AjaZones(assignment.reset_index(drop=True), official=True, source=name, model="")
    if path.suffix.lower() != ".csv":
        raise ValidationError(f"Le fichier de zones AJA {name!r} doit être un CSV (.csv).")
    rows = read_rows(path, ZONES)
    devices = set(registry.structures.loc[registry.structures["kind"] == "aja", "id"])
    problems: list[str] = []
    by_dep: dict[str, str] = {}
    by_insee: dict[str, str] = {}
    for line, row in rows:
        dev = (row.get("device_id") or "").strip()
        dep = (row.get("dep") or "").strip()
        code = (row.get("insee") or "").strip()
        src = (row.get("source") or "").strip()
        where = f"{name}, ligne {line}"
        if dev not in devices:
            problems.append(
                f"{where}, champ « device_id » : attendu l'id d'un dispositif AJA du "
                f"registre {sorted(devices)!r} ; trouvé {dev!r}."
            )
        if bool(dep) == bool(code):
            problems.append(f"{where} : remplir soit « dep » soit « insee » (un seul des deux).")
        if dep:
            dep = dep.zfill(2)
            if dep not in region.departements:
                problems.append(
                    f"{where}, champ « dep » : attendu un département de la région ; "
                    f"trouvé {dep!r}."
                )
            elif dep in by_dep and by_dep[dep] != dev:
                problems.append(
                    f"{where}, champ « dep » : le département {dep} est déjà attribué "
                    f"à {by_dep[dep]!r}."
                )
            else:
                by_dep[dep] = dev
        if code:
            parent = region.parent_code(code)
            if parent is None:
                problems.append(
                    f"{where}, champ « insee » : attendu une commune de la région ; "
                    f"trouvé {code!r}."
                )
            else:
                by_insee[parent] = dev
        if not _URL_RE.match(src):
            problems.append(
                f"{where}, champ « source » : attendu l'adresse http(s) de la source ; "
                f"trouvé {src!r}."
            )
    if problems:
        raise RegistryError(name, problems, what="de zones AJA")
    c = region.communes
    device = c["dep"].map(by_dep)
    device = c["insee"].map(by_insee).fillna(device)
    assignment = pd.DataFrame({"insee": c["insee"], "device_id": device}).dropna()
    return AjaZones(assignment.reset_index(drop=True), official=True, source=name, model="")


def _is_territory_file(path: Path) -> bool:
    """True when the file's header names territories (``territory_id`` or a French synonym)."""
    names = {fold(n) for n in ("territory_id", *TERRITORIES.synonyms["territory_id"])}
    try:
        header = read_table(path, what="de zones AJA").header
    except RegistryError:
        return False  # read_official's own reading reports the problem
    return any(fold(h) in names for h in header)
