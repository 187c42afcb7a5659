"""Road datasets on disk: the folder layout, its manifest, opening one, and which one is active.

A dataset is one folder::

    <folder>/roads.osrm.*      files written by osrm-extract, osrm-partition, osrm-customize
    <folder>/manifest.json     extract date, sha256, osrm-bindings version, stage times, coverage

``active_dataset`` says which dataset the tools use: ``$PARCOURS_OSRM_DATASET`` if set, else
the last dataset built (``<cache>/osrm/active.json``), else the newest one in ``<cache>/osrm``.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from coverage import settings
from coverage._atomic import write_text
from coverage._errors import CoverageError, RoadEngineError
from coverage.roads.extract import UNKNOWN_DATE

#: Environment variable naming the dataset (folder or ``.osrm`` base path) to use.
DATASET_ENV = "PARCOURS_OSRM_DATASET"
#: Environment variable naming a running ``osrm-routed`` (e.g. ``http://127.0.0.1:5000``).
URL_ENV = "PARCOURS_OSRM_URL"
#: Bump when the manifest's fields or the folder layout change.
MANIFEST_SCHEMA = 1
MANIFEST_NAME = "manifest.json"
#: Base name of the OSRM files inside a dataset folder.
BASE_NAME = "roads.osrm"
ALGORITHM = "MLD"
#: Files an MLD dataset cannot be loaded without (suffixes after ``roads.osrm``).
REQUIRED_SUFFIXES: tuple[str, ...] = (
    ".ebg_nodes",
    ".geometry",
    ".names",
    ".properties",
    ".ramIndex",
    ".fileIndex",
    ".partition",
    ".cells",
    ".mldgr",
    ".cell_metrics",
)


@dataclass(frozen=True)
class Dataset:
    """A built OSRM dataset: its folder, the ``.osrm`` base path and its manifest."""

    folder: Path
    base: Path
    manifest: dict

    @property
    def dataset_id(self) -> str | None:
        """Identity of the dataset (extract checksum, engine version, profile); None if unknown."""
        value = self.manifest.get("dataset_id")
        return str(value) if value else None

    @property
    def extract_date(self) -> str:
        """Date of the OpenStreetMap data, or ``"inconnue"``."""
        return str(self.manifest.get("extract", {}).get("date", UNKNOWN_DATE))


def dataset_file(base: Path, suffix: str) -> Path:
    """One file of a dataset: ``base`` (``…/roads.osrm``) with ``suffix`` appended."""
    return base.with_name(base.name + suffix)


def _read_manifest(folder: Path) -> dict:
    path = folder / MANIFEST_NAME
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RoadEngineError(
            f"Le manifeste du jeu de données routier {str(path)!r} est illisible ({exc})."
        ) from exc
    return data if isinstance(data, dict) else {}


def open_dataset(path: str | os.PathLike[str]) -> Dataset:
    """Locate a dataset from its folder or its ``.osrm`` base path and check it is complete.

    Raises ``RoadEngineError`` (in French) when it is missing, incomplete or not MLD.
    """
    path = Path(path).expanduser()
    if path.is_dir():
        folder = path
        manifest = _read_manifest(folder)
        if manifest.get("osrm_base"):
            base = folder / str(manifest["osrm_base"])
        else:
            bases = sorted(p.with_suffix("") for p in folder.glob("*.osrm.properties"))
            if len(bases) != 1:
                raise RoadEngineError(
                    f"Le dossier {str(folder)!r} ne contient pas un jeu de données routier "
                    "OSRM (construisez-le avec `parcours roads build FICHIER.osm.pbf`)."
                )
            base = bases[0]
    elif dataset_file(path, ".properties").is_file():
        base, folder = path, path.parent
        manifest = _read_manifest(folder)
        if manifest.get("osrm_base") not in (None, base.name):
            manifest = {}
    else:
        raise RoadEngineError(
            f"Le jeu de données routier {str(path)!r} est introuvable : construisez-le avec "
            "`parcours roads build FICHIER.osm.pbf` ou indiquez un autre dossier."
        )
    missing = [s for s in REQUIRED_SUFFIXES if not dataset_file(base, s).is_file()]
    if missing:
        raise RoadEngineError(
            f"Le jeu de données routier {str(base)!r} est incomplet (fichiers absents : "
            f"{', '.join(base.name + s for s in missing)}) ; il faut un jeu de données "
            "MLD complet : reconstruisez-le avec `parcours roads build`."
        )
    return Dataset(folder=folder, base=base, manifest=manifest)


def datasets_root() -> Path:
    """Folder holding the datasets built with the default ``out``."""
    return settings.cache_dir() / "osrm"


def _active_file() -> Path:
    return datasets_root() / "active.json"


def set_active(folder: str | os.PathLike[str]) -> Path:
    """Record ``folder`` as the dataset the tools use by default; return the pointer file."""
    folder = Path(folder).resolve()
    payload = {"dataset": str(folder), "set_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    return write_text(_active_file(), json.dumps(payload, ensure_ascii=False, indent=1) + "\n")


def active_dataset() -> Path | None:
    """The dataset to use by default, or ``None`` when no road dataset is available.

    ``$PARCOURS_OSRM_DATASET`` wins (returned as given, even if it does not exist, so that the
    error names it); then the last dataset built; then the newest complete dataset in
    ``datasets_root()``.
    """
    env = os.environ.get(DATASET_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    pointer = _active_file()
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        target = Path(json.loads(pointer.read_text(encoding="utf-8"))["dataset"])
        with contextlib.suppress(CoverageError):
            open_dataset(target)
            return target
    candidates = []
    root = datasets_root()
    if root.is_dir():
        for folder in root.iterdir():
            if folder.name.startswith(".") or not (folder / MANIFEST_NAME).is_file():
                continue
            with contextlib.suppress(CoverageError):
                ds = open_dataset(folder)
                candidates.append((str(ds.manifest.get("built_at", "")), folder))
    return max(candidates)[1] if candidates else None
