"""Registry files: reading a registry from any file, importing the ARS's, and blank templates.

The registry is a file with one row per structure: CSV (ours, or as French Excel exports it:
``;``, decimal commas, Windows-1252 or UTF-8), XLSX or ODS (one sheet, ``sheet=``), or GeoJSON.
:func:`load_registry` reads, validates and places one (:mod:`coverage.data.registry_schema`);
:func:`import_registry` also says what each column became and how each row was located, and
converts the file to the canonical CSV (``parcours registry import``).

Without an ``id`` column, ids are made from the names; without an INSEE code, the commune is
found from the postcode and town (or an address line ending in them) with the place lookup, or
the row is refused (an unknown or ambiguous town is never guessed). A bad file is rejected as a
whole with one French message per problem; nothing of it is loaded.
"""

from __future__ import annotations

import csv
import functools
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from coverage._csv import neutralise_cell, restore_cell
from coverage._errors import RegistryError
from coverage.data.headers import HeaderMap, Schema, fold, map_header
from coverage.data.locate import Location, locate_row
from coverage.data.region import Region
from coverage.data.registry import (
    Registry,
    default_registry_path,
    embedded_registries,
    empty_registry,
)
from coverage.data.registry_schema import COLUMNS, FRENCH_HEADERS, KIND_VALUES, validate_rows
from coverage.data.spreadsheet import Table, read_table
from coverage.geography import FRANCE

_DECIMAL_COMMA_RE = re.compile(r"^\s*[-+]?\d+,\d+\s*$")


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
    frame, problems, total = validate_rows(records, table.label, region, problems)
    if problems:
        raise RegistryError(str(chosen), problems, total=total)
    registry = Registry(frame, str(chosen), is_default, region.code)
    locations = _row_locations(frame, found)
    return RegistryImport(
        registry, table, hmap, made, locations, tuple(dict(r) for _, r in records)
    )


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
