"""Reading an OpenStreetMap extract: its checksum, header (date, bounding box) and data date."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Any

from coverage._errors import RoadEngineError

#: What a date that cannot be read is called in manifests and messages.
UNKNOWN_DATE = "inconnue"


def sha256_file(path: str | os.PathLike[str], *, block: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(block):
            digest.update(chunk)
    return digest.hexdigest()


def _osmium() -> Any:
    try:
        import osmium
    except ImportError as exc:  # pragma: no cover - osmium is a dev dependency of the project
        raise RoadEngineError(
            "Le paquet Python 'osmium' est nécessaire pour lire l'extrait OpenStreetMap."
        ) from exc
    return osmium


def extract_header(pbf: str | os.PathLike[str]) -> tuple[str | None, tuple | None]:
    """Replication timestamp and bounding box from the extract's header (``None`` if absent).

    Raises ``RoadEngineError`` when the file cannot be read as OpenStreetMap data.
    """
    osmium = _osmium()
    try:
        reader = osmium.io.Reader(str(pbf), osmium.osm.osm_entity_bits.NOTHING)
        try:
            header = reader.header()
            stamp = header.get("osmosis_replication_timestamp") or None
            box = header.box()
        finally:
            reader.close()
    except RuntimeError as exc:
        raise RoadEngineError(
            f"Le fichier {str(pbf)!r} n'est pas un extrait OpenStreetMap lisible ({exc})."
        ) from exc
    bbox = None
    if box.valid():
        bl, tr = box.bottom_left, box.top_right
        bbox = (bl.lon, bl.lat, tr.lon, tr.lat)
    return stamp, bbox


def max_node_timestamp(pbf: str | os.PathLike[str]) -> str | None:
    """Latest node timestamp of the extract (ISO 8601, UTC), or ``None`` if nodes carry none."""
    osmium = _osmium()
    best = 0
    try:
        for node in osmium.FileProcessor(str(pbf), osmium.osm.NODE):
            stamp = node.timestamp
            if stamp is not None:
                seconds = int(stamp.timestamp())
                best = max(best, seconds)
    except RuntimeError as exc:
        raise RoadEngineError(
            f"Le fichier {str(pbf)!r} n'est pas un extrait OpenStreetMap lisible ({exc})."
        ) from exc
    if best <= 0:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(best))


def extract_date(pbf: str | os.PathLike[str]) -> tuple[str, str]:
    """Date of the OpenStreetMap data and where it was read.

    Returns
    -------
    (date, source)
        ``source`` is ``"osmosis_replication_timestamp"`` (the header), ``"max_node_timestamp"``
        (the latest node edit, read when the header has no date) or ``"inconnue"``.
    """
    stamp, _ = extract_header(pbf)
    if stamp:
        return stamp, "osmosis_replication_timestamp"
    latest = max_node_timestamp(pbf)
    if latest:
        return latest, "max_node_timestamp"
    return UNKNOWN_DATE, UNKNOWN_DATE


def extract_stem(pbf: Path) -> str:
    """The extract's name without its OpenStreetMap suffixes (``"auvergne-rhone-alpes"``)."""
    name = pbf.name
    for suffix in (".osm.pbf", ".osm.bz2", ".osm", ".pbf"):
        if name.endswith(suffix):
            return name[: -len(suffix)] or "extrait"
    return pbf.stem or "extrait"
