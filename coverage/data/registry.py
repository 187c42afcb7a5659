"""Structure registry: load and validate the list of labelled "structures porteuses".

The registry is a file with one row per structure: CSV (ours, or as French Excel exports it:
``;``, decimal commas, Windows-1252 or UTF-8), XLSX or ODS (one sheet, ``sheet=``), or GeoJSON.
``data/structures.csv`` holds the structures that public sources name, each with its source. A
planner loads the ARS's own file with ``--registry PATH`` or ``$PARCOURS_REGISTRY``, and
converts it to the canonical CSV with ``parcours registry import``.

Headers may be the canonical names below or the usual French ones ("Nom de la structure",
"Code postal"/"CP", "Commune"/"Ville", "Téléphone"/"Tél.", "Public", ...; see
``FRENCH_HEADERS``), in any case, with or without accents. Without an ``id`` column, ids are
made from the names; without an INSEE code, the commune is found from the postcode and town
(or an address line ending in them) with the place lookup, or the row is refused (an unknown or
ambiguous town is never guessed).

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

import csv
import functools
import io
import math
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from coverage import settings
from coverage._csv import neutralise_cell, restore_cell
from coverage._errors import RegistryError, ValidationError
from coverage.data.headers import HeaderMap, Schema, fold, map_header, read_rows
from coverage.data.locate import Location, locate_row
from coverage.data.region import Region
from coverage.data.spreadsheet import (
    MAX_FILE_BYTES,
    MAX_PROBLEMS_SHOWN,
    MAX_ROWS,
    Table,
    read_table,
)
from coverage.geography import FRANCE, region_spec, travel_areas

__all__ = [
    "COLUMNS",
    "MAX_FILE_BYTES",
    "MAX_PROBLEMS_SHOWN",
    "MAX_ROWS",
    "STRUCTURES",
    "Registry",
    "RegistryImport",
    "Schema",
    "import_registry",
    "load_registry",
    "read_rows",
    "template_csv",
    "template_xlsx",
]

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
_DECIMAL_COMMA_RE = re.compile(r"^\s*[-+]?\d+,\d+\s*$")
_TEXT_FIELDS = ("name", "legal_name", "address", "town", "services", "location_note")
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
    #: INSEE code of the region the registry was read for ("84", "FR").
    region: str = settings.DEFAULT_REGION

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

    def points(self, kind: str | None = None, *, area: str | None = None) -> pd.DataFrame:
        """Located structures as a travel-model point set (``id``, ``lon``, ``lat``),
        optionally of one travel area only (``coverage.geography.travel_area``)."""
        df = self.located(kind)
        if area is not None:
            df = df[travel_areas(df["dep"]) == area]
        return df[["id", "lon", "lat"]]

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
            if self.region == settings.DEFAULT_REGION
            else "Le nombre de structures labellisées par l'ARS de la région n'est pas connu "
            "de cet outil."
        )
        if c["total"] == 0:
            return (
                f"Aucune structure n'est enregistrée dans cet outil pour la région "
                f"{region_spec(self.region).name} : aucune source publique consultée ne les "
                "nomme. Chargez la liste de l'ARS avec --registry FICHIER ou la variable "
                f"{settings.REGISTRY_ENV}."
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


def default_registry_path(region: str | None = None) -> Path | None:
    """The registry file in force: ``$PARCOURS_REGISTRY`` if set, else the embedded one of
    ``region`` (default ``region_spec()``): ``data/structures.csv`` for 84, else
    ``data/regions/<code>/structures.csv``; None when no file exists for the region (or for
    "FR", whose registry is every region's, :func:`embedded_registries`)."""
    env = os.environ.get(settings.REGISTRY_ENV)
    if env:
        return Path(env)
    code = region_spec(region).code
    if code == settings.DEFAULT_REGION:
        return settings.DEFAULT_REGISTRY
    path = settings.regions_dir() / code / "structures.csv"
    return path if path.is_file() else None


def embedded_registries() -> dict[str, Path]:
    """Region code -> its embedded registry file, for every region that has one."""
    out = {settings.DEFAULT_REGION: settings.DEFAULT_REGISTRY}
    for path in sorted(settings.regions_dir().glob("*/structures.csv")):
        out[path.parent.name] = path
    return dict(sorted(out.items()))


def empty_registry(region: Region) -> Registry:
    """A registry with no structure, for a region no public source names any for."""
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in (*COLUMNS, *_DERIVED)})
    frame = frame.astype({"located": bool, "lat": float, "lon": float, "capacity": float})
    return Registry(frame, "", True, region.code)


#: Columns a registry adds to the file's.
_DERIVED = ("commune_insee", "commune_name", "located", "placement", "line")


def load_registry(
    path: str | os.PathLike[str] | None = None,
    *,
    region: Region,
    sheet: str | None = None,
    source: str | None = None,
) -> Registry:
    """Read, validate and place a registry file (CSV, XLSX, ODS or GeoJSON).

    Raises
    ------
    RegistryError
        With one message per problem; nothing is loaded from a rejected file.
    """
    if path is None and default_registry_path(region.code) is None:
        if region.code == FRANCE:
            return _every_region(region)
        return empty_registry(region)
    return import_registry(path, region=region, sheet=sheet, source=source).registry


def _every_region(region: Region) -> Registry:
    """All of France: the embedded registries of every region, one after the other."""
    parts = [
        import_registry(path, region=region).registry.structures
        for path in embedded_registries().values()
    ]
    frame = pd.concat(parts, ignore_index=True)
    dup = frame["id"][frame["id"].duplicated()].tolist()
    if dup:
        raise RegistryError("registres intégrés", [f"identifiants en double : {dup[:5]!r}"])
    paths = ", ".join(str(p) for p in embedded_registries().values())
    return Registry(frame, paths, True, region.code)


@dataclass(frozen=True)
class RowLocation:
    """How one row was located: ``method`` is ``insee`` (code given), ``coordonnees``, one of
    ``coverage.data.locate.METHODS`` (found from postcode/town/address) or ``non_localisee``."""

    line: int
    id: str
    method: str
    query: str
    insee: str
    name: str

    def to_dict(self) -> dict[str, object]:
        return {
            "line": self.line,
            "id": self.id,
            "method": self.method,
            "query": self.query,
            "insee": self.insee,
            "name": self.name,
        }


@dataclass(frozen=True)
class RegistryImport:
    """A registry file read and validated, with what each column became and how each row was
    located; ``records`` are the canonical rows (text) that ``canonical_csv`` writes."""

    registry: Registry
    table: Table
    header: HeaderMap
    made: tuple[str, ...]  # columns the import filled in: "id" (from names), "source"
    locations: tuple[RowLocation, ...]
    records: tuple[dict[str, str], ...]

    def canonical_csv(self) -> bytes:
        """The registry in the canonical schema (UTF-8, ``,``, every column, in order).

        Cells a spreadsheet would run as a formula (``+33 4 …``, ``-abc``) are neutralised
        with a leading ``'`` (``coverage._csv``, as every CSV export); reading the file back
        removes it, so the same registry comes back, and a coordinate (``-0.5``) stays a
        number."""
        return canonical_csv(self.records)

    def to_dict(self) -> dict[str, object]:
        return {
            "file": self.table.to_dict(),
            "columns": [{"header": h, "column": c} for h, c in self.header.columns],
            "made": list(self.made),
            "locations": [loc.to_dict() for loc in self.locations],
            "counts": self.registry.counts(),
        }


def canonical_csv(records: tuple[dict[str, str], ...] | list[dict[str, str]]) -> bytes:
    """Canonical rows as the canonical CSV, every cell neutralised (``RegistryImport``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for rec in records:
        writer.writerow([neutralise_cell(rec.get(c, "")) for c in COLUMNS])
    return out.getvalue().encode("utf-8")


def import_registry(
    path: str | os.PathLike[str] | None = None,
    *,
    region: Region,
    sheet: str | None = None,
    source: str | None = None,
) -> RegistryImport:
    """Read a registry as the ARS keeps it and convert it to the canonical schema.

    ``sheet`` chooses a workbook's sheet (default: the first); ``source`` fills the empty
    sources (the URL of the list the file comes from). Raises ``RegistryError`` with every
    problem, each naming its line; nothing of a rejected file is used.
    """
    chosen = Path(path) if path is not None else default_registry_path(region.code)
    if chosen is None:
        raise RegistryError(
            "registre", [f"aucun registre n'est intégré pour la région {region.name}"]
        )
    embedded = embedded_registries().get(region.code)
    is_default = embedded is not None and chosen.resolve() == embedded.resolve()
    required = ("name", "kind") if source else ("name", "kind", "source")
    table = read_table(
        chosen, sheet=sheet, check_header=lambda h, label: _header_located(h, label, required)
    )
    hmap = _header(list(table.header), required)[0]
    records, made = _canonical_records(table, hmap, source)
    problems: list[str] = []
    found = _locate_all(records, table.label, region, problems)
    frame, problems, total = _validate(records, table.label, region, problems)
    if problems:
        raise RegistryError(str(chosen), problems, total=total)
    registry = Registry(frame, str(chosen), is_default, region.code)
    locations = _row_locations(frame, found)
    return RegistryImport(
        registry, table, hmap, made, locations, tuple(dict(r) for _, r in records)
    )


STRUCTURES = Schema(("name", "kind", "source"), COLUMNS, synonyms=FRENCH_HEADERS)


def _header(header: list[str], required: tuple[str, ...]) -> tuple[HeaderMap, list[str]]:
    """Map a registry header; "Raison sociale" / "Structure porteuse" is the name when the file
    has no other name column. Problems come located on line 1 of the file."""
    schema = Schema(tuple(c for c in required if c != "name"), COLUMNS, synonyms=FRENCH_HEADERS)
    hmap, problems = map_header(header, schema)
    cols = hmap.canonical()
    if "name" not in cols:
        if cols.count("legal_name") == 1:
            hmap = HeaderMap(
                tuple((h, "name" if c == "legal_name" else c) for h, c in hmap.columns)
            )
        elif "name" in required:
            problems.insert(0, "colonne(s) obligatoire(s) absente(s) : ['name'].")
    return hmap, problems


def _header_located(header: list[str], label: str, required: tuple[str, ...]) -> list[str]:
    return [f"{label}, ligne 1 : {p}" for p in _header(header, required)[1]]


def _canonical_records(
    table: Table, hmap: HeaderMap, source: str | None
) -> tuple[list[tuple[int, dict[str, str]]], tuple[str, ...]]:
    cols = hmap.canonical()
    # Values are read leniently (leading zeros a spreadsheet dropped, "AJA" for aja) from a
    # workbook or under a French header; the canonical CSV's own columns stay strict.
    lenient = {c for h, c in hmap.columns if h != c or table.kind in {"xlsx", "ods"}}
    records = []
    for line, cells in table.rows:
        # ``'=x`` is ``=x``, as a spreadsheet reads it (the canonical CSV neutralises cells).
        rec = {
            c: _normal(c, restore_cell(v.strip()), lenient=c in lenient)
            for c, v in zip(cols, cells, strict=True)
        }
        if "kind" in lenient:
            rec["kind"] = KIND_VALUES.get(fold(rec["kind"]), rec["kind"])
        if source and not rec.get("source"):
            rec["source"] = source
        records.append((line, rec))
    made: list[str] = []
    if "id" not in cols:
        made.append("id")
        _make_ids(records)
    if source and "source" not in cols:
        made.append("source")
    return records, tuple(made)


def _normal(column: str, value: str, *, lenient: bool) -> str:
    """A cell as the canonical text: decimal points; when lenient, the leading zeros a
    spreadsheet dropped from a code and spaces in a number."""
    if column in {"lat", "lon"} and _DECIMAL_COMMA_RE.match(value):
        return value.replace(",", ".")
    if not lenient:
        return value
    if column in {"postcode", "insee"} and value.isdigit() and len(value) == 4:
        return value.zfill(5)
    if column == "phone" and value.isdigit() and len(value) == 9:
        return "0" + value
    if column == "capacity":
        return re.sub(r"[\s\u00a0\u202f]", "", value)
    return value


def _make_ids(records: list[tuple[int, dict[str, str]]]) -> None:
    """Ids from the names ("Maison de santé X" -> "maison-de-sante-x"), numbered if repeated."""
    used: set[str] = set()
    for _, rec in records:
        base = re.sub(r"[^a-z0-9]+", "-", fold(rec.get("name", ""))).strip("-")[:56] or "structure"
        candidate, n = base, 1
        while candidate in used:
            n += 1
            candidate = f"{base}-{n}"
        used.add(candidate)
        rec["id"] = candidate


def _locate_all(
    records: list[tuple[int, dict[str, str]]], label: str, region: Region, problems: list[str]
) -> dict[int, Location]:
    """Fill the INSEE code of rows given by postcode/town/address; record problems by line."""
    found: dict[int, Location] = {}
    for line, rec in records:
        if rec.get("insee") or rec.get("lat") or rec.get("lon"):
            continue
        got = locate_row(
            rec.get("postcode", ""), rec.get("town", ""), rec.get("address", ""), region=region
        )
        if got is None:
            continue
        if isinstance(got, str):
            problems.append(f"{label}, ligne {line} : {got}.")
            continue
        found[line] = got
        rec["insee"] = got.insee
        if not rec.get("location_note"):
            rec["location_note"] = (
                f"Commune trouvée d'après « {got.query} » ({got.name}, code INSEE {got.insee})."
            )
    return found


def _row_locations(frame: pd.DataFrame, found: dict[int, Location]) -> tuple[RowLocation, ...]:
    out = []
    for r in frame.to_dict("records"):
        loc = found.get(int(r["line"]))
        if loc is not None:
            method, query = loc.method, loc.query
        elif not r["located"]:
            method, query = "non_localisee", ""
        elif r["placement"] == "coordonnees":
            method, query = "coordonnees", f"{r['lat']}, {r['lon']}"
        else:
            method, query = "insee", str(r["insee"])
        out.append(
            RowLocation(
                int(r["line"]), str(r["id"]), method, query, r["commune_insee"], r["commune_name"]
            )
        )
    return tuple(out)


# --- blank templates -------------------------------------------------------------------------

#: The template's columns, by their usual French header.
TEMPLATE_COLUMNS: tuple[str, ...] = (
    "name",
    "legal_name",
    "kind",
    "address",
    "postcode",
    "town",
    "insee",
    "lat",
    "lon",
    "phone",
    "email",
    "website",
    "services",
    "territories",
    "capacity",
    "source",
)
_TEMPLATE_HELP: dict[str, str] = {
    "name": "Nom affiché aux patients (obligatoire).",
    "legal_name": "Raison sociale de l'organisme porteur.",
    "kind": "« tous publics » ou « AJA » (adolescents et jeunes adultes, 15-25 ans).",
    "address": "Numéro et rue.",
    "postcode": "Code postal à 5 chiffres.",
    "town": "Commune (avec le code postal, elle situe la structure si le code INSEE manque).",
    "insee": "Code INSEE de la commune (facultatif si code postal et commune sont donnés).",
    "lat": "Latitude en degrés décimaux (virgule ou point), facultative.",
    "lon": "Longitude en degrés décimaux (virgule ou point), facultative.",
    "phone": "Téléphone public.",
    "email": "Courriel public.",
    "website": "Site internet (http ou https).",
    "services": "Prestations, séparées par « ; ».",
    "territories": "Identifiants des territoires d'intervention, séparés par « ; ».",
    "capacity": "Patients par an (nombre entier), facultatif.",
    "source": "Adresse http(s) de la source publique de la ligne (obligatoire).",
}


def template_headers() -> list[str]:
    """The template's header cells: each column's usual French name."""
    return [FRENCH_HEADERS[c][0] for c in TEMPLATE_COLUMNS]


def template_csv() -> bytes:
    """A blank registry to fill, as French Excel opens it: ``;``, UTF-8 with BOM."""
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerow(template_headers())
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


@functools.cache
def template_xlsx() -> bytes:
    """A blank registry workbook: a « Structures » sheet to fill and an « Aide » sheet
    (built once per process: the registry page offers it on every run)."""
    import openpyxl  # lazy: only the template needs it
    from openpyxl.styles import Font

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Structures"
    ws.append(template_headers())
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    for col in ("postcode", "insee", "phone"):  # text, so that leading zeros stay
        letter = openpyxl.utils.get_column_letter(TEMPLATE_COLUMNS.index(col) + 1)
        for row in range(2, 502):
            ws[f"{letter}{row}"].number_format = "@"
    help_ws = wb.create_sheet("Aide")
    help_ws.append(["Colonne", "Contenu"])
    for col in TEMPLATE_COLUMNS:
        help_ws.append([FRENCH_HEADERS[col][0], _TEMPLATE_HELP[col]])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- validation ------------------------------------------------------------------------------


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValidationError(f"`kind` must be one of {KINDS!r}; got {kind!r}.")


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch) in {"Cc", "Cf"} and ch not in "\t" for ch in text)


def _validate(
    raw: list[tuple[int, dict[str, str]]],
    name: str,
    region: Region,
    found: list[str] | None = None,
) -> tuple[pd.DataFrame, list[str], int]:
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
