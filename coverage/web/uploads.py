"""Registry uploads: validated from a private temporary file, kept in the session only.

The readers take the task's private folder (``folder``): the server makes it
(``coverage.web.worker.scratch_folder``) and removes it whatever happens to the worker that
reads there. Without one, a reader makes its own and removes it on return.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePath

import pandas as pd

from coverage._errors import RegistryError
from coverage.data.candidates import CandidateSet, load_candidates
from coverage.data.region import Region
from coverage.data.registry import Registry
from coverage.data.registry_files import RegistryImport, import_registry, load_registry
from coverage.web import worker
from coverage.web.budget import check_upload_budget

#: Upload suffixes the registry reader understands.
UPLOAD_SUFFIXES = (".csv", ".geojson", ".json", ".xlsx", ".ods")
#: Longest file name shown (its extension always kept).
MAX_NAME_CHARS = 120
#: Suffixes of a file read as a table: an applicants' list, a planner's file.
TABLE_SUFFIXES = (".csv", ".xlsx", ".ods")


@contextlib.contextmanager
def scratch_file(folder: Path | None, name: str) -> Iterator[Path]:
    """``name`` in ``folder`` (removed after the block), or in a private folder of its own
    when ``folder`` is ``None`` (removed with it)."""
    if folder is None:
        with tempfile.TemporaryDirectory(prefix=worker.SCRATCH_PREFIX) as made:
            yield Path(made) / name
        return
    path = Path(folder) / name
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def shown_problems(problems: list[str], path: Path, shown: str) -> list[str]:
    """``problems`` naming the uploaded file, not its temporary copy."""
    return [p.replace(str(path), shown).replace(path.name, shown) for p in problems]


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


def load_upload(name: str, data: bytes, *, region: Region, folder: Path | None = None) -> Registry:
    """Validate an uploaded registry file and return it; nothing is written under ``data/``.

    The bytes go to the task's private ``folder`` (or one of its own, deleted on return), are
    read and validated by
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
    with scratch_file(folder, f"registre{suffix}") as path:
        path.write_bytes(data)
        try:
            registry = load_registry(path, region=region)
        except RegistryError as exc:
            raise RegistryError(shown, shown_problems(exc.problems, path, shown)) from None
    return dataclasses.replace(registry, path=shown, is_default=False)


def import_upload(
    name: str,
    data: bytes,
    *,
    region: Region,
    sheet: str | None = None,
    folder: Path | None = None,
) -> RegistryImport:
    """Read an uploaded registry as the ARS keeps it (CSV, XLSX, ODS, GeoJSON; French headers;
    communes found from postcode and town) with what each column became and how each row was
    located. Same checks, budget and privacy as :func:`load_upload`."""
    shown = upload_name(name)
    suffix = PurePath(shown).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        load_upload(name, data, region=region)  # raises the French "format non reconnu"
    check_upload_budget(shown, data)
    with scratch_file(folder, f"registre{suffix}") as path:
        path.write_bytes(data)
        try:
            imp = import_registry(path, region=region, sheet=sheet or None)
        except RegistryError as exc:
            problems = shown_problems(exc.problems, path, shown)
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


def import_by_code(
    name: str, data: bytes, region: str, sheet: str | None, folder: Path | None = None
) -> RegistryImport:
    """:func:`import_upload` for the region of INSEE code ``region`` (a worker's task: the
    worker loads the region once)."""
    from coverage.data.region import load_region

    return import_upload(name, data, region=load_region(region=region), sheet=sheet, folder=folder)


def read_and_summarise(
    name: str, data: bytes, region: str, sheet: str | None, folder: Path | None = None
) -> UploadRead:
    """:func:`import_by_code` then :func:`summarise_import` (a worker's task)."""
    return summarise_import(import_by_code(name, data, region, sheet, folder))


def read_upload(name: str, data: bytes, *, region: Region, sheet: str | None = None) -> UploadRead:
    """:func:`import_upload` summarised for the page, in a worker process unless
    ``$PARCOURS_UPLOAD_WORKERS=0`` (``coverage.web.worker``: the reading's memory goes back
    to the system). The budget is checked here first, so that a refused file never reaches
    a worker."""
    check_upload_budget(upload_name(name), data)
    if not worker.workers_enabled():
        return summarise_import(import_upload(name, data, region=region, sheet=sheet))
    with worker.scratch_folder() as folder:
        return worker.run_in_worker(read_and_summarise, name, data, region.code, sheet, folder)


def check_table_upload(name: str, data: bytes, *, what: str = "de structures") -> str:
    """The shown name of an upload read as a table (an applicants' list, a planner's file)
    whose format and budget are checked (in milliseconds, before any reading and any queue).

    Raises
    ------
    RegistryError
        Not a .csv, .xlsx or .ods file (the file named as ``what``), or over the upload budget.
    """
    shown = upload_name(name)
    suffix = PurePath(shown).suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise RegistryError(
            shown,
            [f"format non reconnu : {suffix or 'sans extension'!r} ; attendu .csv, .xlsx ou .ods."],
            what=what,
        )
    check_upload_budget(shown, data)
    return shown


def check_candidates(name: str, data: bytes) -> str:
    """:func:`check_table_upload` of an applicants' list."""
    return check_table_upload(name, data)


def _read_candidates(shown: str, data: bytes, region: Region, folder: Path | None) -> CandidateSet:
    suffix = PurePath(shown).suffix.lower()
    with scratch_file(folder, f"candidats{suffix}") as path:
        path.write_bytes(data)
        try:
            return load_candidates(path, region=region)
        except RegistryError as exc:
            problems = shown_problems(exc.problems, path, shown)
            raise RegistryError(shown, problems, what="de candidats", total=exc.total) from None


def load_candidates_upload(
    name: str, data: bytes, *, region: Region, folder: Path | None = None
) -> CandidateSet:
    """Read an uploaded list of applicants (registry format, communes or points) privately,
    under the same budget as a registry upload."""
    return _read_candidates(check_candidates(name, data), data, region, folder)


def read_candidates(name: str, data: bytes, region: str, folder: Path | None) -> dict[str, str]:
    """The applicants of an upload already checked (:func:`check_candidates`), by commune
    (a worker's task: the worker loads the region of INSEE code ``region`` once)."""
    from coverage.data.region import load_region

    found = _read_candidates(upload_name(name), data, load_region(region=region), folder)
    return found.names_by_commune()


def read_candidates_upload(name: str, data: bytes, *, region: Region) -> dict[str, str]:
    """The applicants of an upload by commune (:meth:`CandidateSet.names_by_commune`), read in
    a worker process unless ``$PARCOURS_UPLOAD_WORKERS=0``, in the bounds of
    ``coverage.web.worker``. Format and budget are checked here first: a refused file never
    reaches a worker."""
    check_candidates(name, data)
    if not worker.workers_enabled():
        return load_candidates_upload(name, data, region=region).names_by_commune()
    with worker.scratch_folder() as folder:
        return worker.run_in_worker(read_candidates, name, data, region.code, folder)


def upload_key(data: bytes, *, name: str) -> str:
    """Key of an uploaded registry: a digest of its name and bytes.

    The name is part of it because what is built from a registry states its file name: the
    same bytes uploaded under another name are another upload.
    """
    digest = hashlib.sha256(upload_name(name).encode("utf-8") + b"\0" + data).hexdigest()
    return "upload:" + digest
