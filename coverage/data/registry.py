"""Structure registry: load and validate the list of labelled "structures porteuses".

The registry is a CSV (or GeoJSON) file with one row per structure; ``data/structures.csv``
holds the structures that public sources name, each with its source. A planner loads the ARS's
own file with ``--registry PATH`` or ``$PARCOURS_REGISTRY``.

Validation happens here, once, where the data enters: every row is checked and a bad file is
rejected as a whole with one French message per problem (file, line, field, what was expected,
what was found); nothing of it is loaded. A structure without coordinates is placed at its
commune's representative point (or its arrondissement's / commune déléguée's town hall) and
flagged as such; a structure without a commune is kept, listed as "non localisée", and left
out of every distance.

Schema (columns; only ``id``, ``name``, ``kind`` and ``source`` are required):

==================  =========================================================================
id                  unique identifier: letters, digits, ``-``, ``_`` (1-64 characters)
name                name shown to users
kind                ``tous_publics`` or ``aja`` (adolescents and young adults, 15-25 years)
insee               INSEE code of the commune (or arrondissement / commune déléguée) of the
                    region; empty when no source states it (the structure is "non localisée")
dep                 département code (one of the region's 12), optional
address             street address, optional
lat, lon            WGS84 coordinates, optional (both or neither), inside the region
phone, email        public contact details, optional
website             http(s) URL, optional
services            what the structure offers, ``;``-separated
capacity            patients a year, optional positive integer (used by the E2SFCA index)
commune_inferred    ``oui`` when the town is inferred rather than stated by a source
location_note       how the location was established
source              http(s) URL of the public source of the row (required)
==================  =========================================================================
"""

from __future__ import annotations

import json
import math
import os
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from coverage import settings
from coverage._errors import RegistryError, ValidationError
from coverage.data.region import Region

KINDS: tuple[str, ...] = ("tous_publics", "aja")
REQUIRED_COLUMNS: tuple[str, ...] = ("id", "name", "kind", "source")
OPTIONAL_COLUMNS: tuple[str, ...] = (
    "insee",
    "dep",
    "address",
    "lat",
    "lon",
    "phone",
    "email",
    "website",
    "services",
    "capacity",
    "commune_inferred",
    "location_note",
)
COLUMNS: tuple[str, ...] = REQUIRED_COLUMNS[:3] + OPTIONAL_COLUMNS + REQUIRED_COLUMNS[3:]

#: Limits that keep a hostile or mistaken file from exhausting memory or time.
MAX_FILE_BYTES = 5_000_000
MAX_ROWS = 5_000
MAX_FIELD_CHARS = {"name": 200, "address": 300, "services": 500, "location_note": 1_000}
DEFAULT_MAX_FIELD = 300
MAX_PROBLEMS_SHOWN = 50

_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_INSEE_RE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
_PHONE_RE = re.compile(r"^\+?[0-9 .()-]{6,25}$")
_EMAIL_RE = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[A-Za-z]{2,}$")
_URL_RE = re.compile(r"^https?://[^\s<>\"']+$", re.IGNORECASE)
_FORMULA_START = ("=", "+", "-", "@")
_TEXT_FIELDS = ("name", "address", "services", "location_note")
_YES = {"oui", "yes", "true", "1", "o", "y"}
_NO = {"non", "no", "false", "0", "n", ""}


@dataclass(frozen=True)
class Registry:
    """A validated registry.

    ``structures`` has the schema's columns plus ``commune_insee`` (the commune of the region),
    ``commune_name``, ``located`` (bool) and ``placement`` (``"coordonnees"`` when the file
    gives lat/lon, ``"commune"`` / ``"arrondissement"`` / ``"commune_deleguee"`` when placed at
    a town-hall point, ``""`` when not located). ``lat``/``lon`` are NaN when not located.
    """

    structures: pd.DataFrame
    path: str
    is_default: bool

    def located(self, kind: str | None = None) -> pd.DataFrame:
        """Located structures, optionally of one ``kind``."""
        df = self.structures[self.structures["located"]]
        if kind is not None:
            _check_kind(kind)
            df = df[df["kind"] == kind]
        return df.reset_index(drop=True)

    def not_located(self) -> pd.DataFrame:
        """Structures listed without a known commune (left out of distances)."""
        return self.structures[~self.structures["located"]].reset_index(drop=True)

    def points(self, kind: str | None = None) -> pd.DataFrame:
        """Located structures as a travel-model point set (``id``, ``lon``, ``lat``)."""
        return self.located(kind)[["id", "lon", "lat"]]

    def counts(self) -> dict[str, int]:
        """Counts by kind and location status."""
        s = self.structures
        return {
            "total": len(s),
            "located": int(s["located"].sum()),
            "not_located": int((~s["located"]).sum()),
            "tous_publics": int((s["kind"] == "tous_publics").sum()),
            "aja": int((s["kind"] == "aja").sum()),
            "tous_publics_located": int(((s["kind"] == "tous_publics") & s["located"]).sum()),
            "aja_located": int(((s["kind"] == "aja") & s["located"]).sum()),
        }

    def completeness_fr(self) -> str:
        """A plain French statement of how complete the registry is, and how to load another."""
        c = self.counts()
        head = (
            f"{c['located']} structure(s) localisée(s) sur {c['total']} dans le registre "
            f"({c['tous_publics']} tous publics, {c['aja']} dispositifs AJA)"
        )
        if c["not_located"]:
            head += f" ; {c['not_located']} sans commune connue, non placée(s) sur la carte"
        ars = (
            f"L'ARS en a labellisé {settings.ARS_LABELLED_2021_TOTAL} en 2021 "
            f"({settings.ARS_LABELLED_2021_TOUS_PUBLICS} tous publics, "
            f"{settings.ARS_LABELLED_2021_AJA} AJA), d'autres depuis."
        )
        if self.is_default:
            how = (
                "Ce registre ne contient que les structures nommées par des sources publiques : "
                "il est incomplet. Pour utiliser la liste officielle, chargez le fichier de l'ARS "
                f"avec --registry FICHIER ou la variable {settings.REGISTRY_ENV}."
            )
        else:
            how = f"Registre chargé depuis {self.path!r}."
        return f"{head}. {ars} {how}"


def default_registry_path() -> Path:
    """The registry file in force: ``$PARCOURS_REGISTRY`` if set, else the embedded one."""
    env = os.environ.get(settings.REGISTRY_ENV)
    return Path(env) if env else settings.DEFAULT_REGISTRY


def load_registry(path: str | os.PathLike[str] | None = None, *, region: Region) -> Registry:
    """Read, validate and place a registry file (CSV or GeoJSON).

    Raises
    ------
    RegistryError
        With one message per problem; nothing is loaded from a rejected file.
    """
    chosen = Path(path) if path is not None else default_registry_path()
    is_default = chosen.resolve() == settings.DEFAULT_REGISTRY.resolve()
    raw = read_rows(chosen)
    frame, problems, total = _validate(raw, str(chosen), region)
    if problems:
        raise RegistryError(str(chosen), problems, total=total)
    return Registry(frame, str(chosen), is_default)


# --- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Schema:
    """Columns a file must and may have, and how its errors name it."""

    required: tuple[str, ...]
    allowed: tuple[str, ...]
    what: str = "de structures"


STRUCTURES = Schema(REQUIRED_COLUMNS, COLUMNS)


def read_rows(path: Path, schema: Schema = STRUCTURES) -> list[tuple[int, dict[str, str]]]:
    """Read a CSV or GeoJSON file into (line number, {column: text}) rows.

    Only reading, decoding and header problems are reported here (a ``RegistryError`` naming
    the file); field checks are the caller's.
    """
    name = str(path)
    try:
        return _read_rows(path, name, schema)
    except RegistryError as exc:
        if schema.what == "de structures":
            raise
        raise RegistryError(name, exc.problems, what=schema.what, total=exc.total) from None


def _read_rows(path: Path, name: str, schema: Schema) -> list[tuple[int, dict[str, str]]]:
    if not path.is_file():
        raise RegistryError(name, [f"{name} : fichier introuvable."])
    size = path.stat().st_size
    if size == 0:
        raise RegistryError(name, [f"{name} : le fichier est vide."])
    if size > MAX_FILE_BYTES:
        raise RegistryError(
            name, [f"{name} : fichier trop gros ({size} octets ; au plus {MAX_FILE_BYTES})."]
        )
    data = path.read_bytes()
    text = _decode(data, name)
    if path.suffix.lower() in {".geojson", ".json"}:
        return _geojson_rows(text, name, schema)
    return _csv_rows(text, name, schema)


def _decode(data: bytes, name: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise RegistryError(
            name,
            [
                f"{name} : fichier encodé en UTF-16 ; attendu UTF-8 "
                "(enregistrez-le en « CSV UTF-8 »)."
            ],
        )
    if b"\x00" in data[:4096]:
        raise RegistryError(
            name, [f"{name} : fichier binaire ou encodé en UTF-16 ; attendu UTF-8."]
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise RegistryError(
            name,
            [
                f"{name}, ligne {line} : caractères non UTF-8 (octet {data[exc.start]:#04x}) ; "
                "le fichier semble encodé en Latin-1/Windows-1252 : enregistrez-le en UTF-8."
            ],
        ) from None
    return text


def _csv_rows(text: str, name: str, schema: Schema) -> list[tuple[int, dict[str, str]]]:
    import csv
    import io

    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise RegistryError(name, [f"{name} : la première ligne (les noms de colonnes) est vide."])
    sample = lines[0]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    problems: list[str] = []
    hidden = 0  # problems beyond MAX_PROBLEMS_SHOWN: counted, not kept (bounded memory)
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        header = [h.strip() for h in next(reader)]
        _check_header(header, name, problems, schema)
        if problems:
            raise RegistryError(name, problems)
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(rows) >= MAX_ROWS:
                raise RegistryError(
                    name, [f"{name} : trop de lignes (plus de {MAX_ROWS} structures)."]
                )
            if len(record) != len(header):
                if len(problems) >= MAX_PROBLEMS_SHOWN:
                    hidden += 1
                    continue
                problems.append(
                    f"{name}, ligne {line} : {len(record)} valeur(s) pour {len(header)} "
                    "colonne(s) (guillemets ou séparateurs en trop ?)."
                )
                continue
            rows.append((line, dict(zip(header, record, strict=True))))
    except csv.Error as exc:
        problems.append(f"{name}, ligne {reader.line_num} : CSV illisible ({exc}).")
    if problems:
        total = len(problems) + hidden
        if hidden:
            problems.append(f"… et {hidden} autre(s) problème(s).")
        raise RegistryError(name, problems, total=total)
    if not rows:
        raise RegistryError(name, [f"{name} : aucune structure (le fichier n'a que l'en-tête)."])
    return rows


def _geojson_rows(text: str, name: str, schema: Schema) -> list[tuple[int, dict[str, str]]]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RegistryError(
            name, [f"{name}, ligne {exc.lineno} : JSON illisible ({exc.msg})."]
        ) from None
    except (ValueError, RecursionError):  # a 5,000-digit number, [[[[... nested too deep
        raise RegistryError(
            name, [f"{name} : JSON illisible (nombre trop long ou imbrication trop profonde)."]
        ) from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise RegistryError(name, [f"{name} : attendu une FeatureCollection GeoJSON."])
    feats = doc.get("features")
    if not isinstance(feats, list) or not feats:
        raise RegistryError(name, [f"{name} : aucune structure (« features » vide)."])
    if len(feats) > MAX_ROWS:
        raise RegistryError(name, [f"{name} : trop de structures (plus de {MAX_ROWS})."])
    rows: list[tuple[int, dict[str, str]]] = []
    problems: list[str] = []
    for i, feat in enumerate(feats, start=1):
        props = feat.get("properties") if isinstance(feat, dict) else None
        if not isinstance(props, dict):
            problems.append(f"{name}, structure n° {i} : « properties » manquant.")
            continue
        row = {k: "" if v is None else str(v) for k, v in props.items()}
        geom = feat.get("geometry")
        if isinstance(geom, dict) and geom.get("type") == "Point":
            coords = geom.get("coordinates")
            if isinstance(coords, list) and len(coords) >= 2:
                row["lon"], row["lat"] = str(coords[0]), str(coords[1])
            else:
                problems.append(
                    f"{name}, structure n° {i} : point sans coordonnées [longitude, latitude] ; "
                    f"trouvé {str(coords)[:60]!r}."
                )
        rows.append((i, row))
    header = sorted({k for _, r in rows for k in r})
    _check_header(header, name, problems, schema)
    if problems:
        raise RegistryError(name, problems)
    return [(i, {c: r.get(c, "") for c in header}) for i, r in rows]


def _check_header(header: list[str], name: str, problems: list[str], schema: Schema) -> None:
    missing = [c for c in schema.required if c not in header]
    if missing:
        problems.append(f"{name}, ligne 1 : colonne(s) obligatoire(s) absente(s) : {missing!r}.")
    unknown = [c for c in header if c not in schema.allowed]
    if unknown:
        shown = f"{unknown[:10]!r}"
        if len(unknown) > 10:
            shown += f" (et {len(unknown) - 10} autres)"
        problems.append(
            f"{name}, ligne 1 : colonne(s) inconnue(s) {shown} ; colonnes permises : "
            f"{list(schema.allowed)!r}."
        )
    dup = sorted(c for c, n in Counter(header).items() if n > 1)[:10]
    if dup:
        problems.append(f"{name}, ligne 1 : colonne(s) en double : {dup!r}.")


# --- validation ------------------------------------------------------------------------------


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValidationError(f"`kind` must be one of {KINDS!r}; got {kind!r}.")


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch) in {"Cc", "Cf"} and ch not in "\t" for ch in text)


def _validate(
    raw: list[tuple[int, dict[str, str]]], name: str, region: Region
) -> tuple[pd.DataFrame, list[str], int]:
    problems: list[str] = []
    out: list[dict] = []
    seen: dict[str, int] = {}
    communes = region.communes
    aliases = region.aliases.set_index("code")
    for line, row in raw:
        rec = {c: (row.get(c) or "").strip() for c in COLUMNS}

        def bad(field: str, expected: str, *, line: int = line, rec: dict = rec) -> None:
            value = rec.get(field, "")
            shown = value if len(value) <= 60 else value[:57] + "..."
            problems.append(
                f"{name}, ligne {line}, champ « {field} » : attendu {expected} ; trouvé {shown!r}."
            )

        for field, value in rec.items():
            limit = MAX_FIELD_CHARS.get(field, DEFAULT_MAX_FIELD)
            if len(value) > limit:
                bad(field, f"au plus {limit} caractères (il y en a {len(value)})")
                rec[field] = value[:limit]
            elif _has_control(value):
                bad(field, "un texte sans caractère de contrôle")
        if not _ID_RE.match(rec["id"]):
            bad("id", "un identifiant de 1 à 64 lettres, chiffres, « - » ou « _ »")
        elif rec["id"] in seen:
            bad("id", f"un identifiant unique (déjà utilisé ligne {seen[rec['id']]})")
        else:
            seen[rec["id"]] = line
        if not rec["name"]:
            bad("name", "un nom non vide")
        for field in _TEXT_FIELDS:
            if rec[field].startswith(_FORMULA_START):
                bad(field, "un texte qui ne commence pas par = + - @ (formule de tableur)")
        if rec["kind"] not in KINDS:
            bad("kind", "« tous_publics » ou « aja »")
        if not _URL_RE.match(rec["source"]):
            bad("source", "l'adresse http(s) de la source publique")
        if rec["website"] and not _URL_RE.match(rec["website"]):
            bad("website", "une adresse http(s)")
        if rec["email"] and not _EMAIL_RE.match(rec["email"]):
            bad("email", "une adresse électronique")
        if rec["phone"] and not _PHONE_RE.match(rec["phone"]):
            bad("phone", "un numéro de téléphone (chiffres, espaces, +)")
        if rec["dep"] and rec["dep"].zfill(2) not in settings.ARA_DEPARTEMENTS:
            bad("dep", f"un département de la région {list(settings.ARA_DEPARTEMENTS)!r}")
        inferred = rec["commune_inferred"].lower()
        if inferred not in _YES | _NO:
            bad("commune_inferred", "« oui » ou « non »")
        capacity = np.nan
        if rec["capacity"]:
            try:
                capacity = float(rec["capacity"])
                if not (math.isfinite(capacity) and capacity > 0 and capacity == int(capacity)):
                    raise ValueError
            except ValueError:
                bad("capacity", "un nombre entier positif de patients par an")
                capacity = np.nan

        commune_insee, commune_name, placement = "", "", ""
        lat = lon = np.nan
        code = rec["insee"]
        if code:
            if not _INSEE_RE.match(code):
                bad("insee", "un code INSEE à 5 caractères")
            elif region.is_commune(code):
                commune_insee = code
                placement = "commune"
            elif code in aliases.index:
                commune_insee = str(aliases.loc[code, "parent_insee"])
                alias = aliases.loc[code]
                if pd.notna(alias["lon"]) and pd.notna(alias["lat"]):
                    lon, lat = float(alias["lon"]), float(alias["lat"])
                    placement = "arrondissement" if alias["type"] == "ARM" else "commune_deleguee"
                else:
                    placement = "commune"
            else:
                bad("insee", "le code INSEE d'une commune d'Auvergne-Rhône-Alpes")
        if commune_insee:
            crow = region.commune(commune_insee)
            commune_name = str(crow["name"])
            if placement == "commune":
                lon, lat = float(crow["lon"]), float(crow["lat"])
            if rec["dep"] and rec["dep"].zfill(2) != crow["dep"]:
                bad("dep", f"le département de la commune {commune_insee} ({crow['dep']})")

        if rec["lat"] or rec["lon"]:
            try:
                flat, flon = float(rec["lat"]), float(rec["lon"])
                if not (math.isfinite(flat) and math.isfinite(flon)):
                    raise ValueError
            except ValueError:
                bad("lat", "une latitude et une longitude décimales (les deux ou aucune)")
            else:
                w, s, e, n = settings.ARA_BBOX
                if not (w <= flon <= e and s <= flat <= n):
                    hint = (
                        " (latitude et longitude inversées ?)"
                        if (w <= flat <= e and s <= flon <= n)
                        else ""
                    )
                    bad("lat", f"un point en Auvergne-Rhône-Alpes{hint}")
                else:
                    at = region.commune_at(flon, flat)
                    if at is None:
                        bad("lat", "un point situé dans une commune d'Auvergne-Rhône-Alpes")
                    elif commune_insee and at != commune_insee:
                        bad("lat", f"un point dans la commune {commune_insee} (il est dans {at})")
                    else:
                        if not commune_insee:
                            commune_insee = at
                            commune_name = str(region.commune(at)["name"])
                        lat, lon, placement = flat, flon, "coordonnees"

        out.append(
            {
                **{c: rec[c] for c in COLUMNS if c not in {"lat", "lon", "capacity"}},
                "dep": rec["dep"].zfill(2) if rec["dep"] else "",
                "commune_inferred": inferred in _YES,
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
        frame.loc[frame["dep"].eq("") & frame["located"], "dep"] = frame["commune_insee"].map(
            dict(zip(communes["insee"], communes["dep"], strict=True))
        )
    return frame, problems, total
