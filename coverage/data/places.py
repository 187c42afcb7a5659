"""Place lookup, offline: what a patient types -> the commune(s) of the region it means.

Accepted inputs: a commune name (any case, with or without accents, hyphens, "St"/"Saint",
with or without its article, optionally followed by a département or postcode such as
"Murat (15)" or "Murat (Cantal)"), a postcode, an INSEE code, a commune déléguée's or an
arrondissement's name, a département's name or number, or "lat, lon" in decimal degrees. An
ambiguous input returns every candidate, never a silent guess; a place outside the region or
unknown raises ``OutsideRegionError`` / ``PlaceError`` with a French message and the closest
suggestions. :func:`lookup` reads the text and sends it on: a point is found in the communes'
polygons and a code in the postcodes and INSEE codes here, a name by
:mod:`coverage.data.place_match` (the answers' types: :mod:`coverage.data.place_results`).

A five-digit code that is both a postcode and another commune's INSEE code (328 codes of the
region, "38100": Grenoble's postcode, Le Cheylas's INSEE code) is read as a postcode, because
patients type postcodes; the answer says so (``Lookup.reading``) and names the commune of the
other reading (``Lookup.other_reading``).

Every lookup's cost is bounded by construction: the query is cut to ``MAX_QUERY_CHARS``
before any matching, and matching is a fixed number of passes over fixed-size name tables.
"""

from __future__ import annotations

import math
import numbers
import re
import unicodedata

import numpy as np

from coverage._errors import OutsideRegionError, PlaceError
from coverage._geodesy import geodesic_km
from coverage.data.place_match import from_name
from coverage.data.place_names import (
    departements_by_name,
    name_key,
    normalize,
    place_index,
    strip_article,
)
from coverage.data.place_results import (
    MAX_CANDIDATES,
    MAX_QUERY_CHARS,
    Lookup,
    OutsidePlaceError,
    Place,
    commune_place,
    departement_of_france,
    departement_outside,
    population,
)
from coverage.data.region import Region
from coverage.geography import departement_names

_COORD_RE = re.compile(
    r"^\s*(?P<a>[-+]?\d{1,3}(?:[.,]\d+)?)\s*[,;/\s]\s*(?P<b>[-+]?\d{1,3}(?:[.,]\d+)?)\s*$"
)
_COORD_DOT_RE = re.compile(r"^\s*(?P<a>[-+]?\d{1,3}\.\d+)\s*,\s*(?P<b>[-+]?\d{1,3}\.\d+)\s*$")
_CODE_RE = re.compile(r"^(\d{5}|2[AaBb]\d{3})$")
_DEP_CODE_RE = re.compile(r"^(?:\d{1,2}|2[AaBb]|97\d)$")
_ORDINAL_RE = re.compile(r"\b(\d{1,2})(?:er|e)\b")


def _clean(query: object) -> str:
    if not isinstance(query, str):
        raise PlaceError(f"Le lieu doit être un texte ; reçu {type(query).__name__}.")
    text = query[:MAX_QUERY_CHARS]
    text = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text)
    return " ".join(text.split())


def _departement_number(text: str, region: Region) -> str | None:
    """The département a typed text names ("Cantal", "le cantal", "15", "2A"), else None:
    any number of France, but only the names of the region's own départements."""
    if _DEP_CODE_RE.match(text):
        code = text.upper().zfill(2)
        return code if code in departement_names() else None
    return departements_by_name(region.departements).get(strip_article(normalize(text)))


def _from_departement(text: str, dep: str, region: Region) -> Lookup:
    """A département typed alone: its most populous communes, to choose from."""
    if dep not in region.departements:
        raise departement_outside(dep, region)
    c = region.communes
    mine = c[c["dep"] == dep].sort_values(["population", "insee"], ascending=[False, True])
    places = tuple(commune_place(region, str(i), 100, "département") for i in mine["insee"].head(5))
    return Lookup(text, places, reading="département", departement=dep)


def _latitudes_fr(region: Region) -> str:
    """ "environ 44 à 47": the region's latitudes, for a hint."""
    _, south, _, north = region.view_bbox
    return f"environ {math.floor(south):.0f} à {math.ceil(north):.0f}"


def lookup(query: str, region: Region) -> Lookup:
    """Resolve what a user typed to one commune of the region, or to candidates.

    Raises
    ------
    OutsideRegionError
        The place exists but lies outside the region (or the point is outside it).
    PlaceError
        Nothing matches well enough; ``suggestions`` holds the closest names.
    """
    text = _clean(query)
    if not text:
        raise PlaceError("Indiquez une commune, un code postal ou des coordonnées (lat, lon).")
    coords = _parse_coords(text)
    if coords is not None:
        return _from_point(text, *coords, region)
    if _CODE_RE.match(text):
        return _from_code(text.upper(), region)
    dep = _departement_number(text, region)
    if dep is not None and not (
        place_index(region).names.by_key.get(name_key(text)) and dep in region.departements
    ):
        return _from_departement(text, dep, region)
    return from_name(text, region)


# --- coordinates -----------------------------------------------------------------------------


def _parse_coords(text: str) -> tuple[float, float] | None:
    m = _COORD_DOT_RE.match(text) or _COORD_RE.match(text)
    if not m:
        return None
    a, b = (float(m.group(g).replace(",", ".")) for g in ("a", "b"))
    return a, b


def check_point(lat: float, lon: float) -> None:
    """Raise ``PlaceError`` unless (lat, lon) are finite degrees within range."""
    numeric = all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in (lat, lon))
    if not (numeric and math.isfinite(lat) and math.isfinite(lon)):
        raise PlaceError(
            "Les coordonnées doivent être des nombres (latitude, longitude) ; "
            f"reçu {lat!r}, {lon!r}."
        )
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise PlaceError(
            f"Coordonnées impossibles : latitude {lat} (de -90 à 90), longitude {lon} "
            "(de -180 à 180)."
        )


def locate_point(lat: float, lon: float, region: Region, *, query: str | None = None) -> Lookup:
    """The commune of the region containing (lat, lon); errors in French otherwise."""
    check_point(lat, lon)
    text = query if query is not None else f"{lat}, {lon}"
    return _from_point(text, lat, lon, region)


def _from_point(text: str, lat: float, lon: float, region: Region) -> Lookup:
    check_point(lat, lon)
    insee = region.commune_at(lon, lat)
    if insee is None:
        swapped = region.commune_at(lat, lon) if (-90 <= lon <= 90) else None
        if swapped is not None:
            name = region.commune(swapped)["name"]
            raise OutsideRegionError(
                f"Le point ({lat}, {lon}) est {region.spec.out_name}. Latitude et longitude "
                f"sont peut-être inversées : ({lon}, {lat}) est à {name}. Écrivez la latitude "
                f"en premier ({_latitudes_fr(region)} dans la région).",
                [str(name)],
            )
        c = region.communes
        km = geodesic_km(lon, lat, c["lon"].to_numpy(), c["lat"].to_numpy())
        j = int(np.argmin(km))
        raise OutsideRegionError(
            f"Le point ({lat}, {lon}) est {region.spec.out_name} (la commune la plus "
            f"proche de la région, {c['name'].iloc[j]}, est à {km[j]:.0f} km).",
            [str(c["name"].iloc[j])],
        )
    row = region.commune(insee)
    place = Place(
        insee=insee,
        name=str(row["name"]),
        dep=str(row["dep"]),
        lon=float(lon),
        lat=float(lat),
        score=100.0,
        matched="coordonnées",
    )
    return Lookup(text, (place,), reading="coordonnées")


# --- codes -----------------------------------------------------------------------------------


def _from_code(code: str, region: Region) -> Lookup:
    """A five-digit code: the postcode's communes first, else the INSEE code's commune."""
    insee_place = _insee_place(code, region)
    pc = region.postcodes[region.postcodes["postcode"] == code]
    ours = pc[pc["in_region"]]
    if len(ours):
        codes = sorted(set(ours["insee"]), key=lambda i: (-population(region, i), i))
        places = tuple(_postcode_place(region, i, code) for i in codes[:MAX_CANDIDATES])
        return Lookup(code, places, reading="code postal", other_reading=insee_place)
    if insee_place is not None:
        return Lookup(code, (insee_place,), reading="code INSEE")
    france = region.france
    elsewhere = france[france["insee"].isin(pc["insee"]) | (france["insee"] == code)]
    if len(elsewhere):
        first = elsewhere.iloc[0]
        dep = str(first["dep"])
        dep_name, region_name = departement_of_france(dep)
        where = f"{first['name']} ({dep if dep_name in ('', first['name']) else dep_name})"
        in_words = f", dans la région {region_name}" if region_name else ""
        raise OutsidePlaceError(
            f"{code} correspond à {where}{in_words}, {region.spec.out_name} : "
            f"{region.spec.covers_fr}",
            [str(n) for n in elsewhere["name"].head(3)],
            dep=dep,
        )
    raise PlaceError(
        f"Le code {code} n'est ni un code postal ni un code INSEE connu. Vérifiez-le, ou tapez "
        "le nom de la commune."
    )


def _insee_place(code: str, region: Region) -> Place | None:
    """The commune (or commune déléguée, arrondissement) whose INSEE code is ``code``."""
    if region.is_commune(code):
        return commune_place(region, code, 100, "code INSEE")
    parent = region.parent_code(code)
    if parent is None:
        return None
    alias = region.aliases.loc[region.aliases["code"] == code, "name"].iloc[0]
    return commune_place(region, parent, 100, "code INSEE", str(alias), code)


def _arrondissements(region: Region) -> dict[str, list[tuple[str, str]]]:
    """City INSEE code -> its arrondissements' (code, name), built once per region."""
    return place_index(region).arrondissements


def _postcode_place(region: Region, insee: str, postcode: str) -> Place:
    """A commune of a postcode; a city with arrondissements (Lyon) is measured from the
    arrondissement the postcode serves (69008 -> the 8th), by La Poste's numbering."""
    for code, name in _arrondissements(region).get(insee, ()):
        m = _ORDINAL_RE.search(str(name))
        if m and int(m.group(1)) == int(postcode[-2:]):
            return commune_place(region, insee, 100, "code postal", str(name), str(code))
    return commune_place(region, insee, 100, "code postal")
