"""Registry uploads: validated from a private temporary file, kept in the session only."""

from __future__ import annotations

import dataclasses
import hashlib
import re
import tempfile
from pathlib import Path, PurePath

import pandas as pd

from coverage._errors import RegistryError
from coverage.data.candidates import CandidateSet, load_candidates
from coverage.data.region import Region
from coverage.data.registry import Registry
from coverage.data.registry_files import RegistryImport, import_registry, load_registry
from coverage.web.budget import check_upload_budget

#: Upload suffixes the registry reader understands.
UPLOAD_SUFFIXES = (".csv", ".geojson", ".json", ".xlsx", ".ods")
#: Longest file name shown (its extension always kept).
MAX_NAME_CHARS = 120


def upload_name(name: str) -> str:
    """The uploaded file's base name, cleaned for display (no folders, no control chars).

    A name over :data:`MAX_NAME_CHARS` characters is cut before its extension, which says
    how to read the file and is kept.
    """
    base = PurePath(str(name).replace("\\", "/")).name
    base = re.sub(r"[\x00-\x1f\x7f]", "", base).strip()
    if len(base) > MAX_NAME_CHARS:
        suffix = PurePath(base).suffix[:16]
        base = base[: MAX_NAME_CHARS - len(suffix) - 1].rstrip() + "…" + suffix
    return base or "fichier"


def load_upload(name: str, data: bytes, *, region: Region) -> Registry:
    """Validate an uploaded registry file and return it; nothing is written under ``data/``.

    The bytes go to a private temporary folder (deleted on return), are read and validated by
    :func:`coverage.data.registry_files.load_registry`, and the registry's ``path`` is set to the
    file's base name for display.

    Raises
    ------
    RegistryError
        The file is refused; ``problems`` lists one French message per problem (line, field).
    """
    shown = upload_name(name)
    suffix = PurePath(shown).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise RegistryError(
            shown,
            [
                f"format non reconnu : {suffix or 'sans extension'!r} ; attendu un fichier "
                ".csv, .xlsx, .ods, .geojson ou .json."
            ],
        )
    check_upload_budget(shown, data)
    with tempfile.TemporaryDirectory(prefix="parcours-upload-") as folder:
        path = Path(folder) / f"registre{suffix}"
        path.write_bytes(data)
        try:
            registry = load_registry(path, region=region)
        except RegistryError as exc:
            problems = [p.replace(str(path), shown).replace(path.name, shown) for p in exc.problems]
            raise RegistryError(shown, problems) from None
    return dataclasses.replace(registry, path=shown, is_default=False)


def import_upload(
    name: str, data: bytes, *, region: Region, sheet: str | None = None
) -> RegistryImport:
    """Read an uploaded registry as the ARS keeps it (CSV, XLSX, ODS, GeoJSON; French headers;
    communes found from postcode and town) with what each column became and how each row was
    located. Same checks, budget and privacy as :func:`load_upload`."""
    shown = upload_name(name)
    suffix = PurePath(shown).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        load_upload(name, data, region=region)  # raises the French "format non reconnu"
    check_upload_budget(shown, data)
    with tempfile.TemporaryDirectory(prefix="parcours-upload-") as folder:
        path = Path(folder) / f"registre{suffix}"
        path.write_bytes(data)
        try:
            imp = import_registry(path, region=region, sheet=sheet or None)
        except RegistryError as exc:
            problems = [p.replace(str(path), shown).replace(path.name, shown) for p in exc.problems]
            raise RegistryError(shown, problems, total=exc.total) from None
    registry = dataclasses.replace(imp.registry, path=shown, is_default=False)
    return dataclasses.replace(imp, registry=registry)


@dataclasses.dataclass(frozen=True, eq=False)
class UploadRead:
    """An upload read for the registry page: the registry, what each column of the file
    became, how each row was located (French tables) and the canonical CSV. Compact: a
    worker sends it back as a few arrays, not the file's rows as Python text."""

    registry: Registry
    columns: pd.DataFrame
    locations: pd.DataFrame
    canonical_csv: bytes


_METHODS_FR = {
    "insee": "code INSEE donné",
    "coordonnees": "coordonnées données",
    "non_localisee": "non localisée (aucune commune donnée)",
}


def summarise_import(imp: RegistryImport) -> UploadRead:
    """The registry page's view of ``imp``."""
    columns = pd.DataFrame(
        {
            "Colonne du fichier": [h for h, _ in imp.header.columns],
            "Champ du registre": [c for _, c in imp.header.columns],
        }
    )
    locations = pd.DataFrame(
        {
            "Ligne": [loc.line for loc in imp.locations],
            "Structure": [loc.id for loc in imp.locations],
            "Localisée par": [
                _METHODS_FR.get(loc.method, loc.method.replace("_", " ")) for loc in imp.locations
            ],
            "Texte lu": [loc.query for loc in imp.locations],
            "Commune": [f"{loc.name} ({loc.insee})" if loc.insee else "" for loc in imp.locations],
        }
    )
    return UploadRead(imp.registry, columns, locations, imp.canonical_csv())


def import_by_code(name: str, data: bytes, region: str, sheet: str | None) -> RegistryImport:
    """:func:`import_upload` for the region of INSEE code ``region`` (a worker's task: the
    worker loads the region once)."""
    from coverage.data.region import load_region

    return import_upload(name, data, region=load_region(region=region), sheet=sheet)


def read_and_summarise(name: str, data: bytes, region: str, sheet: str | None) -> UploadRead:
    """:func:`import_by_code` then :func:`summarise_import` (a worker's task)."""
    return summarise_import(import_by_code(name, data, region, sheet))


def read_upload(name: str, data: bytes, *, region: Region, sheet: str | None = None) -> UploadRead:
    """:func:`import_upload` summarised for the page, in a worker process unless
    ``$PARCOURS_UPLOAD_WORKERS=0`` (``coverage.web.worker``: the reading's memory goes back
    to the system). The budget is checked here first, so that a refused file never reaches
    a worker."""
    from coverage.web import worker

    check_upload_budget(upload_name(name), data)
    if not worker.workers_enabled():
        return summarise_import(import_upload(name, data, region=region, sheet=sheet))
    return worker.run_in_worker(read_and_summarise, name, data, region.code, sheet)


def load_candidates_upload(name: str, data: bytes, *, region: Region) -> CandidateSet:
    """Read an uploaded list of applicants (registry format, communes or points) privately,
    under the same budget as a registry upload."""
    shown = upload_name(name)
    suffix = PurePath(shown).suffix.lower()
    if suffix not in (".csv", ".xlsx", ".ods"):
        raise RegistryError(
            shown,
            [f"format non reconnu : {suffix or 'sans extension'!r} ; attendu .csv, .xlsx ou .ods."],
        )
    check_upload_budget(shown, data)
    with tempfile.TemporaryDirectory(prefix="parcours-upload-") as folder:
        path = Path(folder) / f"candidats{suffix}"
        path.write_bytes(data)
        try:
            return load_candidates(path, region=region)
        except RegistryError as exc:
            problems = [p.replace(str(path), shown).replace(path.name, shown) for p in exc.problems]
            raise RegistryError(shown, problems, what="de candidats", total=exc.total) from None


def upload_key(data: bytes, *, name: str) -> str:
    """Key of an uploaded registry: a digest of its name and bytes.

    The name is part of it because what is built from a registry states its file name: the
    same bytes uploaded under another name are another upload.
    """
    digest = hashlib.sha256(upload_name(name).encode("utf-8") + b"\0" + data).hexdigest()
    return "upload:" + digest
