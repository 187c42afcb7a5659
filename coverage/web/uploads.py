"""Registry uploads: validated from a private temporary file, kept in the session only."""

from __future__ import annotations

import dataclasses
import hashlib
import re
import tempfile
from pathlib import Path, PurePath

from coverage._errors import RegistryError
from coverage.data.region import Region
from coverage.data.registry import MAX_FILE_BYTES, Registry, load_registry

#: Upload suffixes the registry reader understands.
UPLOAD_SUFFIXES = (".csv", ".geojson", ".json")


def upload_name(name: str) -> str:
    """The uploaded file's base name, cleaned for display (no folders, no control chars)."""
    base = PurePath(str(name).replace("\\", "/")).name
    base = re.sub(r"[\x00-\x1f\x7f]", "", base).strip()[:120]
    return base or "fichier"


def load_upload(name: str, data: bytes, *, region: Region) -> Registry:
    """Validate an uploaded registry file and return it; nothing is written under ``data/``.

    The bytes go to a private temporary folder (deleted on return), are read and validated by
    :func:`coverage.data.registry.load_registry`, and the registry's ``path`` is set to the
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
                ".csv, .geojson ou .json."
            ],
        )
    if len(data) > MAX_FILE_BYTES:
        raise RegistryError(
            shown,
            [f"fichier trop gros ({len(data)} octets) ; au plus {MAX_FILE_BYTES} octets."],
        )
    with tempfile.TemporaryDirectory(prefix="parcours-upload-") as folder:
        path = Path(folder) / f"registre{suffix}"
        path.write_bytes(data)
        try:
            registry = load_registry(path, region=region)
        except RegistryError as exc:
            problems = [p.replace(str(path), shown).replace(path.name, shown) for p in exc.problems]
            raise RegistryError(shown, problems) from None
    return dataclasses.replace(registry, path=shown, is_default=False)


def upload_key(data: bytes) -> str:
    """Cache key of an uploaded registry: a digest of its bytes."""
    return "upload:" + hashlib.sha256(data).hexdigest()
