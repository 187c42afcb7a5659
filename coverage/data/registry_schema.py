"""The registry's schema: its columns, their French headers, and the rules every row passes.

A registry (:mod:`coverage.data.registry`) has one row per labelled structure. Headers may be
the canonical names below or the usual French ones ("Nom de la structure", "Code postal"/"CP",
"Commune"/"Ville", "Téléphone"/"Tél.", "Public", ...; see ``FRENCH_HEADERS``), in any case, with
or without accents.

Every row is checked here, once, where the data enters (:func:`validate_rows`): each problem is
one French message (file, line, field, what was expected, what was found). A structure without
coordinates is placed at its commune's representative point (or its arrondissement's / commune
déléguée's town hall) and flagged as such; a structure without a commune is kept, listed as
"non localisée", and left out of every distance.

Columns (only ``id``, ``name``, ``kind`` and ``source`` are required):

==================  =========================================================================
id                  unique identifier: letters, digits, ``-``, ``_`` (1-64 characters)
name                name shown to users
legal_name          the carrying organisation's legal name ("Raison sociale"), optional
kind                ``tous_publics`` or ``aja`` (adolescents and young adults, 15-25 years)
insee               INSEE code of the commune (or arrondissement / commune déléguée) of the
                    region; empty when no source states it (the structure is "non localisée")
dep                 département code (one of the region's 12), optional
address             street address, optional
postcode, town      postcode and town as written in the source, optional
lat, lon            WGS84 coordinates, optional (both or neither), inside the region
phone, email        public contact details, optional
website             http(s) URL, optional
services            what the structure offers, ``;``-separated
territories         ids of the intervention territories it serves, ``;``-separated, optional
capacity            patients a year, optional positive integer (used by the E2SFCA index)
commune_inferred    ``oui`` when the town is inferred rather than stated by a source
location_note       how the location was established
source              http(s) URL of the public source of the row (required)
==================  =========================================================================
"""

from __future__ import annotations

import math
import re
import unicodedata

import numpy as np
import pandas as pd

from coverage._errors import ValidationError
from coverage.data.region import Region
from coverage.data.spreadsheet import MAX_PROBLEMS_SHOWN

KINDS: tuple[str, ...] = ("tous_publics", "aja")
REQUIRED_COLUMNS: tuple[str, ...] = ("id", "name", "kind", "source")
OPTIONAL_COLUMNS: tuple[str, ...] = (
    "legal_name",
    "insee",
    "dep",
    "address",
    "postcode",
    "town",
    "lat",
    "lon",
    "phone",
    "email",
    "website",
    "services",
    "territories",
    "capacity",
    "commune_inferred",
    "location_note",
)
COLUMNS: tuple[str, ...] = REQUIRED_COLUMNS[:3] + OPTIONAL_COLUMNS + REQUIRED_COLUMNS[3:]

#: The usual French headers of each column (compared without case, accents or spacing).
FRENCH_HEADERS: dict[str, tuple[str, ...]] = {
    "id": ("Identifiant", "ID structure"),
    "name": ("Nom de la structure", "Nom", "Structure", "Nom structure"),
    "legal_name": ("Raison sociale", "Structure porteuse", "Porteur"),
    "kind": ("Public", "Type de public", "Public accueilli"),
    "insee": ("Code INSEE", "INSEE", "Code commune", "Code INSEE commune"),
    "dep": ("Département", "Dép", "Dept", "Code département"),
    "address": ("Adresse", "Adresse postale"),
    "postcode": ("Code postal", "CP"),
    "town": ("Commune", "Ville", "Localité"),
    "lat": ("Latitude",),
    "lon": ("Longitude", "Lng"),
    "phone": ("Téléphone", "Tél", "Tel"),
    "email": ("Courriel", "Mail", "E-mail", "Adresse mail", "Adresse électronique"),
    "website": ("Site internet", "Site web", "Site"),
    "services": ("Prestations", "Services proposés", "Offre"),
    "territories": ("Territoire", "Territoires", "Territoire d'intervention"),
    "capacity": ("Capacité", "Capacité annuelle", "Patients par an"),
    "location_note": ("Note de localisation",),
    "commune_inferred": ("Commune déduite",),
    "source": ("Source",),
}

#: "Public" values -> kind (folded).
KIND_VALUES: dict[str, str] = {
    "tous publics": "tous_publics",
    "tous public": "tous_publics",
    "tout public": "tous_publics",
    "tout publics": "tous_publics",
    "tous_publics": "tous_publics",
    "adultes": "tous_publics",
    "aja": "aja",
    "ado jeunes adultes": "aja",
    "adolescents et jeunes adultes": "aja",
    "adolescents et jeunes adultes aja": "aja",
    "aja 15 25 ans": "aja",
    "15 25 ans": "aja",
}

MAX_FIELD_CHARS = {
    "name": 200,
    "legal_name": 200,
    "address": 300,
    "services": 500,
    "location_note": 1_000,
}
DEFAULT_MAX_FIELD = 300

_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_INSEE_RE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
_PHONE_RE = re.compile(r"^\+?[0-9 .()-]{6,25}$")
#: An address; never one a spreadsheet would run as a formula (``=2+5+HYPERLINK(A1)@x.org``).
_EMAIL_RE = re.compile(r"^(?![=+\-@])[^@\s<>\"']+@[^@\s<>\"']+\.[A-Za-z]{2,}$")
_URL_RE = re.compile(r"^https?://[^\s<>\"']+$", re.IGNORECASE)
_FORMULA_START = ("=", "+", "-", "@")
_POSTCODE_RE = re.compile(r"^\d{5}$")
_TERRITORY_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_TEXT_FIELDS = ("name", "legal_name", "address", "town", "services", "location_note")
_YES = {"oui", "yes", "true", "1", "o", "y"}
_NO = {"non", "no", "false", "0", "n", ""}

#: Columns a registry adds to the file's.
DERIVED_COLUMNS = ("commune_insee", "commune_name", "located", "placement", "line")


# --- validation ------------------------------------------------------------------------------


def check_kind(kind: str) -> None:
    """Raise ``ValidationError`` unless ``kind`` is one of ``KINDS``."""
    if kind not in KINDS:
        raise ValidationError(f"`kind` must be one of {KINDS!r}; got {kind!r}.")


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch) in {"Cc", "Cf"} and ch not in "\t" for ch in text)


def validate_rows(
    raw: list[tuple[int, dict[str, str]]],
    name: str,
    region: Region,
    found: list[str] | None = None,
) -> tuple[pd.DataFrame, list[str], int]:
    """Check every row of ``raw`` ((line, cells by column)) and place it in ``region``.

    Returns the frame (the schema's columns plus ``DERIVED_COLUMNS``), the problems in
    French (at most ``MAX_PROBLEMS_SHOWN``, then a count of the others; those in ``found``
    first) and how many there were in all. ``name`` is the file's label in the messages.
    """
    problems: list[str] = list(found or [])
    out: list[dict] = []
    seen: dict[str, int] = {}
    aliases = region.aliases.set_index("code")
    for line, row in raw:
        check = _RowCheck(name, line, {c: (row.get(c) or "").strip() for c in COLUMNS}, problems)
        check.texts()
        check.identity(seen)
        check.contacts(region.departements)
        capacity = check.capacity()
        place = check.place_by_code(region, aliases)
        place = check.place_by_point(region, place)
        rec = check.rec
        commune_insee, commune_name, lat, lon, placement = place
        out.append(
            {
                **{c: rec[c] for c in COLUMNS if c not in {"lat", "lon", "capacity"}},
                "dep": rec["dep"].zfill(2) if rec["dep"] else "",
                "commune_inferred": rec["commune_inferred"].lower() in _YES,
                "capacity": capacity,
                "commune_insee": commune_insee,
                "commune_name": commune_name,
                "lat": lat,
                "lon": lon,
                "located": bool(commune_insee) and not (np.isnan(lat) or np.isnan(lon)),
                "placement": placement if commune_insee else "",
                "line": line,
            }
        )
    total = len(problems)
    if total > MAX_PROBLEMS_SHOWN:
        extra = total - MAX_PROBLEMS_SHOWN
        problems = [*problems[:MAX_PROBLEMS_SHOWN], f"… et {extra} autre(s) problème(s)."]
    frame = pd.DataFrame(out)
    if not frame.empty:
        communes = region.communes
        frame.loc[frame["dep"].eq("") & frame["located"], "dep"] = frame["commune_insee"].map(
            dict(zip(communes["insee"], communes["dep"], strict=True))
        )
    return frame, problems, total


#: (commune INSEE, commune name, lat, lon, placement) of a row; "" and NaN when not located.
_Place = tuple[str, str, float, float, str]


class _RowCheck:
    """The checks of one row; each problem is appended to ``problems`` in French."""

    def __init__(self, name: str, line: int, rec: dict[str, str], problems: list[str]) -> None:
        self.name, self.line, self.rec, self.problems = name, line, rec, problems

    def bad(self, field: str, expected: str) -> None:
        value = self.rec.get(field, "")
        shown = value if len(value) <= 60 else value[:57] + "..."
        self.problems.append(
            f"{self.name}, ligne {self.line}, champ « {field} » : attendu {expected} ; "
            f"trouvé {shown!r}."
        )

    def texts(self) -> None:
        rec = self.rec
        for field, value in rec.items():
            limit = MAX_FIELD_CHARS.get(field, DEFAULT_MAX_FIELD)
            if len(value) > limit:
                self.bad(field, f"au plus {limit} caractères (il y en a {len(value)})")
                rec[field] = value[:limit]
            elif _has_control(value):
                self.bad(field, "un texte sans caractère de contrôle")
        for field in _TEXT_FIELDS:
            if rec[field].startswith(_FORMULA_START):
                self.bad(field, "un texte qui ne commence pas par = + - @ (formule de tableur)")

    def identity(self, seen: dict[str, int]) -> None:
        rec = self.rec
        if not _ID_RE.match(rec["id"]):
            self.bad("id", "un identifiant de 1 à 64 lettres, chiffres, « - » ou « _ »")
        elif rec["id"] in seen:
            self.bad("id", f"un identifiant unique (déjà utilisé ligne {seen[rec['id']]})")
        else:
            seen[rec["id"]] = self.line
        if not rec["name"]:
            self.bad("name", "un nom non vide")
        if rec["kind"] not in KINDS:
            self.bad("kind", "« tous_publics » ou « aja »")
        if not _URL_RE.match(rec["source"]):
            self.bad("source", "l'adresse http(s) de la source publique")
        if rec["territories"] and not all(
            _TERRITORY_RE.match(t.strip()) for t in rec["territories"].split(";")
        ):
            self.bad("territories", "des identifiants de territoire séparés par « ; »")

    def contacts(self, departements: tuple[str, ...]) -> None:
        rec = self.rec
        checks = (
            ("website", _URL_RE, "une adresse http(s)"),
            ("email", _EMAIL_RE, "une adresse électronique"),
            ("phone", _PHONE_RE, "un numéro de téléphone (chiffres, espaces, +)"),
            ("postcode", _POSTCODE_RE, "un code postal à 5 chiffres"),
        )
        for field, pattern, expected in checks:
            if rec[field] and not pattern.match(rec[field]):
                self.bad(field, expected)
        if rec["dep"] and rec["dep"].zfill(2) not in departements:
            shown = list(departements) if len(departements) <= 20 else "de France"
            self.bad("dep", f"un département de la région {shown!r}")
        if rec["commune_inferred"].lower() not in _YES | _NO:
            self.bad("commune_inferred", "« oui » ou « non »")

    def capacity(self) -> float:
        if not self.rec["capacity"]:
            return np.nan
        try:
            capacity = float(self.rec["capacity"])
            if not (math.isfinite(capacity) and capacity > 0 and capacity == int(capacity)):
                raise ValueError
        except ValueError:
            self.bad("capacity", "un nombre entier positif de patients par an")
            return np.nan
        return capacity

    def place_by_code(self, region: Region, aliases: pd.DataFrame) -> _Place:
        code = self.rec["insee"]
        if not code:
            return "", "", np.nan, np.nan, ""
        if not _INSEE_RE.match(code):
            self.bad("insee", "un code INSEE à 5 caractères")
            return "", "", np.nan, np.nan, ""
        lat = lon = np.nan
        placement = "commune"
        if region.is_commune(code):
            insee = code
        elif code in aliases.index:
            alias = aliases.loc[[code]].iloc[0]
            insee = str(alias["parent_insee"])
            if pd.notna(alias["lon"]) and pd.notna(alias["lat"]):
                lon, lat = float(alias["lon"]), float(alias["lat"])
                placement = "arrondissement" if alias["type"] == "ARM" else "commune_deleguee"
        else:
            self.bad("insee", f"le code INSEE d'une commune {region.spec.of_name}")
            return "", "", np.nan, np.nan, ""
        crow = region.commune_facts(insee)
        if placement == "commune":
            lon, lat = float(crow["lon"]), float(crow["lat"])
        dep = self.rec["dep"]
        if dep and dep.zfill(2) != crow["dep"]:
            self.bad("dep", f"le département de la commune {insee} ({crow['dep']})")
        return insee, str(crow["name"]), lat, lon, placement

    def place_by_point(self, region: Region, place: _Place) -> _Place:
        rec = self.rec
        if not (rec["lat"] or rec["lon"]):
            return place
        try:
            flat, flon = float(rec["lat"]), float(rec["lon"])
            if not (math.isfinite(flat) and math.isfinite(flon)):
                raise ValueError
        except ValueError:
            self.bad("lat", "une latitude et une longitude décimales (les deux ou aucune)")
            return place
        w, s, e, n = region.bbox
        if not (w <= flon <= e and s <= flat <= n):
            swapped = w <= flat <= e and s <= flon <= n
            hint = " (latitude et longitude inversées ?)" if swapped else ""
            self.bad("lat", f"un point {region.spec.in_name}{hint}")
            return place
        at = region.commune_at(flon, flat)
        insee, name = place[0], place[1]
        if at is None:
            self.bad("lat", f"un point situé dans une commune {region.spec.of_name}")
            return place
        if insee and at != insee:
            self.bad("lat", f"un point dans la commune {insee} (il est dans {at})")
            return place
        if not insee:
            insee, name = at, str(region.commune_facts(at)["name"])
        return insee, name, flat, flon, "coordonnees"
