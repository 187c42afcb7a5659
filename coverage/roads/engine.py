"""Road datasets: build an OSRM (MLD, car profile) dataset from an OpenStreetMap extract, find it.

The engine is the PyPI package ``osrm-bindings``, whose wheel carries the OSRM command-line
tools (``osrm/bin``), the routing profiles (``osrm/share/profiles``) and the Python bindings.
A dataset is one folder::

    <folder>/roads.osrm.*      files written by osrm-extract, osrm-partition, osrm-customize
    <folder>/manifest.json     extract date, sha256, osrm-bindings version, stage times, coverage

``build_dataset`` writes into a hidden temporary folder beside the target and renames it at the
end, so a failed or interrupted build leaves nothing half built. Before accepting a dataset it
checks that the extract covers the 12 départements of Auvergne-Rhône-Alpes (each commune's point
must lie within ``COVERED_SNAP_M`` of a road of the extract), unless ``partial=True``.

``active_dataset`` says which dataset the tools use: ``$PARCOURS_OSRM_DATASET`` if set, else
the last dataset built (``<cache>/osrm/active.json``), else the newest one in ``<cache>/osrm``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coverage import settings
from coverage._atomic import write_text
from coverage._errors import CoverageError, RoadEngineError, ValidationError

#: Environment variable naming the dataset (folder or ``.osrm`` base path) to use.
DATASET_ENV = "PARCOURS_OSRM_DATASET"
#: Environment variable naming a running ``osrm-routed`` (e.g. ``http://127.0.0.1:5000``).
URL_ENV = "PARCOURS_OSRM_URL"
#: Distribution name of the engine on PyPI.
OSRM_DISTRIBUTION = "osrm-bindings"
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
#: A commune is covered when its point lies within this distance of a road of the extract.
COVERED_SNAP_M = 2000.0
#: A département is covered when at least this share of its communes is covered.
COVERED_SHARE = 0.9
DEPARTEMENT_NAMES = settings.DEPARTEMENT_NAMES
UNKNOWN_DATE = "inconnue"

#: The build's tool stages: (key, tool, French label).
STAGES: tuple[tuple[str, str, str], ...] = (
    ("extract", "osrm-extract", "extraction du réseau routier"),
    ("partition", "osrm-partition", "partition du graphe"),
    ("customize", "osrm-customize", "calcul des poids"),
)

Progress = Callable[[str], None]


# --------------------------------------------------------------------------------------------
# The engine's files
# --------------------------------------------------------------------------------------------


def osrm_version() -> str:
    """Installed version of ``osrm-bindings`` (raises ``RoadEngineError`` when absent)."""
    try:
        return metadata.version(OSRM_DISTRIBUTION)
    except metadata.PackageNotFoundError as exc:
        raise RoadEngineError(
            "Le moteur routier OSRM n'est pas installé : installez le paquet "
            f"{OSRM_DISTRIBUTION!r} (`make setup`)."
        ) from exc


def _package_dir() -> Path:
    osrm_version()
    dist = metadata.distribution(OSRM_DISTRIBUTION)
    return Path(str(dist.locate_file("osrm")))


def tool_path(tool: str) -> Path:
    """Path of an OSRM command-line tool shipped in the wheel, e.g. ``tool_path("extract")``."""
    name = tool if tool.startswith("osrm-") else f"osrm-{tool}"
    path = _package_dir() / "bin" / name
    if not path.is_file():
        found = shutil.which(name)
        if found is None:
            raise RoadEngineError(
                f"L'outil OSRM {name!r} est introuvable (ni dans {str(path.parent)!r} ni dans "
                "le PATH) : réinstallez osrm-bindings."
            )
        return Path(found)
    return path


def car_profile() -> Path:
    """The car routing profile (``car.lua``) shipped with osrm-bindings."""
    path = _package_dir() / "share" / "profiles" / "car.lua"
    if not path.is_file():
        raise RoadEngineError(f"Le profil voiture d'OSRM est introuvable : {str(path)!r}.")
    return path


def sha256_file(path: str | os.PathLike[str], *, block: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(block):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------
# Reading the extract
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Datasets on disk
# --------------------------------------------------------------------------------------------


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


def _file(base: Path, suffix: str) -> Path:
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
    elif _file(path, ".properties").is_file():
        base, folder = path, path.parent
        manifest = _read_manifest(folder)
        if manifest.get("osrm_base") not in (None, base.name):
            manifest = {}
    else:
        raise RoadEngineError(
            f"Le jeu de données routier {str(path)!r} est introuvable : construisez-le avec "
            "`parcours roads build FICHIER.osm.pbf` ou indiquez un autre dossier."
        )
    missing = [s for s in REQUIRED_SUFFIXES if not _file(base, s).is_file()]
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


# --------------------------------------------------------------------------------------------
# The engine in this process
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=2)
def _load_engine(base: str, stamp: int) -> Any:
    del stamp  # part of the cache key only: a rebuilt dataset is loaded again
    try:
        import osrm
    except ImportError as exc:
        raise RoadEngineError(
            "Les liaisons Python d'OSRM (paquet osrm-bindings) ne sont pas installées."
        ) from exc
    return osrm.OSRM(storage_config=base, algorithm=ALGORITHM, use_shared_memory=False)


def load_engine(dataset: Dataset) -> Any:
    """An ``osrm.OSRM`` engine on ``dataset`` (kept for reuse); ``RoadEngineError`` on failure."""
    stamp = _file(dataset.base, ".cell_metrics").stat().st_mtime_ns
    try:
        return _load_engine(str(dataset.base), stamp)
    except RuntimeError as exc:
        built_with = dataset.manifest.get("osrm_bindings_version", "inconnue")
        raise RoadEngineError(
            f"Impossible de charger le jeu de données routier {str(dataset.base)!r} avec "
            f"osrm-bindings {osrm_version()} ({exc}) ; il a été construit avec la version "
            f"{built_with} : reconstruisez-le avec `parcours roads build`."
        ) from exc


def snap_distances(dataset: Dataset, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Distance in metres from each point to the nearest road of the dataset (OSRM nearest)."""
    import osrm

    engine = load_engine(dataset)
    out = np.full(len(lon), np.nan)
    for i, (x, y) in enumerate(zip(lon, lat, strict=True)):
        params = osrm.NearestParameters(coordinates=[(float(x), float(y))])
        params.number_of_results = 1
        with contextlib.suppress(RuntimeError):  # no road at all: stays NaN
            out[i] = float(engine.Nearest(params)["waypoints"][0]["distance"])
    return out


# --------------------------------------------------------------------------------------------
# Coverage of the region
# --------------------------------------------------------------------------------------------


def _communes(region: Any | None) -> pd.DataFrame:
    if region is None:
        from coverage.data.region import load_region

        region = load_region()
    return pd.DataFrame(region.communes[["insee", "dep", "lon", "lat"]])


def _missing_from_bbox(bbox: tuple, communes: pd.DataFrame) -> list[str]:
    lon_min, lat_min, lon_max, lat_max = bbox
    inside = communes["lon"].between(lon_min, lon_max) & communes["lat"].between(lat_min, lat_max)
    present = set(communes.loc[inside, "dep"])
    return [d for d in settings.ARA_DEPARTEMENTS if d not in present]


def coverage_by_departement(
    dataset: Dataset,
    *,
    region: Any | None = None,
    snap_limit_m: float = COVERED_SNAP_M,
) -> pd.DataFrame:
    """Per département, how many of its communes lie near a road of the dataset.

    Returns
    -------
    DataFrame
        One row per département of the region: ``dep``, ``name``, ``communes``, ``covered``
        (points within ``snap_limit_m`` of a road), ``share``, ``median_snap_m``, ``missing``
        (share below ``COVERED_SHARE``).
    """
    communes = _communes(region)
    snaps = snap_distances(dataset, communes["lon"].to_numpy(), communes["lat"].to_numpy())
    frame = communes.assign(snap_m=snaps, covered=np.nan_to_num(snaps, nan=np.inf) <= snap_limit_m)
    rows = []
    for dep in settings.ARA_DEPARTEMENTS:
        part = frame[frame["dep"] == dep]
        n = len(part)
        k = int(part["covered"].sum())
        share = k / n if n else 0.0
        rows.append(
            {
                "dep": dep,
                "name": DEPARTEMENT_NAMES.get(dep, dep),
                "communes": n,
                "covered": k,
                "share": share,
                "median_snap_m": float(np.nanmedian(part["snap_m"])) if n else float("nan"),
                "missing": share < COVERED_SHARE,
            }
        )
    return pd.DataFrame(rows)


def _name_deps(deps: list[str]) -> str:
    return ", ".join(f"{d} ({DEPARTEMENT_NAMES.get(d, d)})" for d in deps)


def _refuse_area(pbf: Path, missing: list[str]) -> RoadEngineError:
    return RoadEngineError(
        f"L'extrait {pbf.name!r} ne couvre pas la région Auvergne-Rhône-Alpes : "
        f"{len(missing)} département(s) sur 12 absent(s) : {_name_deps(missing)}. "
        "Utilisez l'extrait de la région (voir docs/roads.md) ou relancez avec --partial "
        "(partial=True) pour accepter un jeu de données partiel."
    )


# --------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------


def fr_seconds(seconds: float) -> str:
    """Duration for a French reader: ``"0,08 s"``, ``"2,5 s"``, ``"12 min 05 s"``."""
    if seconds < 1:
        return f"{seconds:.2f} s".replace(".", ",")
    if seconds < 60:
        return f"{seconds:.1f} s".replace(".", ",")
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def fr_megabytes(mb: float | None) -> str:
    """Memory for a French reader: ``"58 Mo"``, ``"3,2 Go"``."""
    if mb is None:
        return "non mesurée"
    if mb < 1024:
        return f"{mb:.0f} Mo"
    return f"{mb / 1024:.1f} Go".replace(".", ",")


def _error_detail(lines: list[str]) -> str:
    for line in reversed(lines):
        low = line.lower()
        if "[error]" in low or "what():" in low or "error" in low:
            return line.split("what():")[-1].split("[error]")[-1].strip()
    return lines[-1].strip() if lines else "aucun message"


#: Runs one tool in a grandchild and reports its peak memory. A child spawned straight from
#: this (large) Python process would report this process's memory as its own peak: Linux keeps
#: the pre-``exec`` high-water mark in ``ru_maxrss``. A small interpreter forks the tool, so
#: the figure is the tool's own (plus the few MB of that interpreter at most).
_MEASURE = """
import os, sys
pid = os.fork()
if pid == 0:
    try:
        os.execv(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
sys.stdout.flush()
print("%s %d" % (sys.argv[1], usage.ru_maxrss), flush=True)
code = os.waitstatus_to_exitcode(status)
sys.exit(128 - code if code < 0 else code)
"""
_MEASURE_TAG = "__parcours_peak_rss_kb__"


def _run_tool(
    cmd: list[str],
    *,
    label: str,
    pbf: Path,
    log: Progress | None,
) -> tuple[float, float | None]:
    """Run one OSRM tool; return (seconds, peak resident memory of the tool in MB)."""
    import sys

    started = time.perf_counter()
    tail: deque[str] = deque(maxlen=40)
    peak_kb: float | None = None
    try:
        proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _MEASURE, _MEASURE_TAG, *cmd],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            bufsize=1,
            start_new_session=True,
        )
    except OSError as exc:
        raise RoadEngineError(f"Impossible de lancer {cmd[0]!r} ({exc}).") from exc
    try:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.rstrip()
            if line.startswith(_MEASURE_TAG):
                with contextlib.suppress(ValueError, IndexError):
                    peak_kb = float(line.split()[1])
                continue
            tail.append(line)
            if log is not None:
                log(line)
        proc.wait()
    except BaseException:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, 9)
        proc.wait()
        raise
    finally:
        if proc.stdout is not None:
            proc.stdout.close()
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        code = proc.returncode if proc.returncode < 128 else f"{proc.returncode}, arrêt brutal"
        raise RoadEngineError(
            f"La construction du jeu de données routier a échoué à l'étape « {label} » "
            f"({Path(cmd[0]).name} a renvoyé le code {code} : "
            f"{_error_detail(list(tail))!r}). Vérifiez que {pbf.name!r} est un extrait "
            "OpenStreetMap complet et non tronqué ; aucun jeu de données partiel n'a été gardé."
        )
    return seconds, (peak_kb / 1024.0 if peak_kb is not None else None)  # Linux: kilobytes


def _dataset_id(pbf_sha: str, version: str, profile_sha: str) -> str:
    text = f"{pbf_sha}|osrm-bindings {version}|{profile_sha}|{ALGORITHM}|schema {MANIFEST_SCHEMA}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _stem(pbf: Path) -> str:
    name = pbf.name
    for suffix in (".osm.pbf", ".osm.bz2", ".osm", ".pbf"):
        if name.endswith(suffix):
            return name[: -len(suffix)] or "extrait"
    return pbf.stem or "extrait"


def _check_target(out: Path) -> None:
    """Refuse to replace a folder that is neither empty nor a road dataset (user files)."""
    if not out.exists():
        return
    if not out.is_dir():
        raise RoadEngineError(f"{str(out)!r} existe et n'est pas un dossier : choisissez --out.")
    ours = (out / MANIFEST_NAME).is_file() or any(out.glob(f"{BASE_NAME}.*"))
    if not ours and any(out.iterdir()):
        raise RoadEngineError(
            f"Le dossier {str(out)!r} existe et ne contient pas un jeu de données routier : "
            "il ne sera pas remplacé ; choisissez un dossier neuf avec --out."
        )


def _reusable(out: Path, dataset_id: str, partial: bool, pbf: Path) -> Dataset | None:
    try:
        ds = open_dataset(out)
    except CoverageError:
        return None
    if ds.dataset_id != dataset_id:
        return None
    missing = ds.manifest.get("coverage", {}).get("missing", [])
    if missing and not partial:
        raise _refuse_area(pbf, list(missing))
    return ds


def _tool_stages(
    pbf: Path,
    base: Path,
    profile: Path,
    threads: int,
    dataset_id: str,
    say: Progress,
    log: Progress | None,
    stages: list[dict],
) -> None:
    """Run osrm-extract, osrm-partition and osrm-customize into ``base``; append stage times."""
    commands = {
        "extract": [
            str(tool_path("extract")),
            str(pbf),
            "-p",
            str(profile),
            "-t",
            str(threads),
            "-o",
            str(base),
            "-d",
            dataset_id,
        ],
        "partition": [str(tool_path("partition")), str(base), "-t", str(threads)],
        "customize": [str(tool_path("customize")), str(base), "-t", str(threads)],
    }
    n_steps = len(STAGES) + 1
    for i, (key, tool, label) in enumerate(STAGES, start=1):
        say(f"Étape {i}/{n_steps} : {label} ({tool})…")
        seconds, peak = _run_tool(commands[key], label=label, pbf=pbf, log=log)
        peak_mb = round(peak, 1) if peak is not None else None
        stages.append(
            {
                "name": key,
                "label_fr": label,
                "tool": tool,
                "seconds": round(seconds, 3),
                "peak_rss_mb": peak_mb,
            }
        )
        say(f"  {label} : {fr_seconds(seconds)} (mémoire max {fr_megabytes(peak)})")


def _coverage_stage(
    base: Path, communes: pd.DataFrame, say: Progress, stages: list[dict]
) -> dict[str, Any]:
    """Check the freshly built dataset against the communes; return the manifest's entry."""
    label = "vérification de la couverture des 12 départements"
    n_steps = len(STAGES) + 1
    say(f"Étape {n_steps}/{n_steps} : {label}…")
    t0 = time.perf_counter()
    try:
        table = coverage_by_departement(
            Dataset(folder=base.parent, base=base, manifest={}), region=_RegionLike(communes)
        )
    finally:
        _load_engine.cache_clear()  # the folder is about to be renamed
    seconds = time.perf_counter() - t0
    stages.append(
        {"name": "coverage", "label_fr": label, "seconds": round(seconds, 3), "peak_rss_mb": None}
    )
    missing = table.loc[table["missing"], "dep"].tolist()
    say(
        f"  couverture vérifiée : {fr_seconds(seconds)} ; "
        + (
            "12 départements sur 12"
            if not missing
            else f"départements absents : {_name_deps(missing)}"
        )
    )
    return {
        "checked": True,
        "snap_limit_m": COVERED_SNAP_M,
        "min_share": COVERED_SHARE,
        "missing": missing,
        "departements": {
            r.dep: {
                "communes": int(r.communes),
                "covered": int(r.covered),
                "share": round(float(r.share), 4),
            }
            for r in table.itertuples()
        },
    }


def build_dataset(
    pbf: str | os.PathLike[str],
    *,
    out: str | os.PathLike[str] | None = None,
    partial: bool = False,
    progress: Progress | None = None,
    log: Progress | None = None,
    profile: str | os.PathLike[str] | None = None,
    threads: int | None = None,
    activate: bool = True,
    force: bool = False,
    region: Any | None = None,
) -> Path:
    """Build an OSRM dataset (MLD pipeline, car profile) from an OpenStreetMap extract.

    Parameters
    ----------
    pbf
        The extract (``.osm.pbf``, or ``.osm`` XML).
    out
        Folder of the dataset; default ``<cache>/osrm/<name>-<id>``.
    partial
        Accept an extract that does not cover the 12 départements of the region.
    progress
        Called with one French line per step (stage started, stage done with time and memory).
    log
        Called with every line the OSRM tools print (for ``--verbose``).
    profile
        Lua routing profile; default the car profile of osrm-bindings.
    threads
        Threads given to the tools; default every CPU.
    activate
        Record the dataset as the one the tools use by default (``active_dataset``).
    force
        Rebuild even when ``out`` already holds the same dataset.
    region
        A ``Region`` (tests); default ``load_region()``.

    Returns
    -------
    Path
        The dataset folder.

    Raises
    ------
    RoadEngineError
        Missing or unreadable extract, an extract that misses départements (without
        ``partial``), a failing tool. Nothing is left behind.
    """
    say = progress or (lambda _msg: None)
    pbf = Path(pbf).expanduser().resolve()
    if not pbf.is_file():
        raise RoadEngineError(f"L'extrait OpenStreetMap {str(pbf)!r} est introuvable.")
    if pbf.stat().st_size == 0:
        raise RoadEngineError(f"L'extrait OpenStreetMap {str(pbf)!r} est vide.")
    profile_path = Path(profile).expanduser().resolve() if profile else car_profile()
    if not profile_path.is_file():
        raise RoadEngineError(f"Le profil de routage {str(profile_path)!r} est introuvable.")
    if threads is not None and (not isinstance(threads, int) or threads < 1):
        raise ValidationError(f"`threads` must be a positive integer; got {threads!r}.")
    threads = int(threads or os.cpu_count() or 1)
    version = osrm_version()
    started = time.perf_counter()
    stages: list[dict] = []

    t0 = time.perf_counter()
    size_mb = f"{pbf.stat().st_size / 1e6:.1f}".replace(".", ",")
    say(f"Lecture de l'extrait {pbf.name} ({size_mb} Mo)…")
    pbf_sha = sha256_file(pbf)
    profile_sha = sha256_file(profile_path)
    dataset_id = _dataset_id(pbf_sha, version, profile_sha)
    stamp, bbox = extract_header(pbf)
    out_dir = (
        Path(out).expanduser().resolve()
        if out is not None
        else datasets_root().resolve() / f"{_stem(pbf)}-{dataset_id[:12]}"
    )
    _check_target(out_dir)
    if not force:
        existing = _reusable(out_dir, dataset_id, partial, pbf)
        if existing is not None:
            say(
                f"Jeu de données déjà construit le {existing.manifest.get('built_at', '?')} "
                f"dans {out_dir} : rien à refaire (--force pour reconstruire)."
            )
            if activate:
                set_active(out_dir)
            return out_dir

    communes = None
    try:
        communes = _communes(region)
    except CoverageError as exc:
        if not partial:
            raise RoadEngineError(
                "Impossible de vérifier que l'extrait couvre la région (communes "
                f"indisponibles : {exc}) ; relancez avec --partial pour construire sans "
                "vérification."
            ) from exc
        say("Communes de la région indisponibles : couverture non vérifiée.")
    if communes is not None and bbox is not None:
        missing = _missing_from_bbox(bbox, communes)
        if missing and not partial:
            raise _refuse_area(pbf, missing)
    if stamp:
        date, date_source = stamp, "osmosis_replication_timestamp"
    else:
        say("  L'en-tête de l'extrait n'a pas de date : lecture de la date des nœuds…")
        latest = max_node_timestamp(pbf)
        date, date_source = (latest, "max_node_timestamp") if latest else (UNKNOWN_DATE,) * 2
    stages.append(
        {
            "name": "read",
            "label_fr": "lecture de l'extrait (sha256, date)",
            "seconds": round(time.perf_counter() - t0, 3),
            "peak_rss_mb": None,
        }
    )
    took = fr_seconds(stages[-1]["seconds"])
    say(f"  date des données : {date} ; sha256 {pbf_sha[:12]}… ({took})")

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.build-", dir=out_dir.parent))
    try:
        base = tmp / BASE_NAME
        _tool_stages(pbf, base, profile_path, threads, dataset_id, say, log, stages)
        coverage: dict[str, Any] = {"checked": False, "missing": []}
        if communes is not None:
            coverage = _coverage_stage(base, communes, say, stages)
            if coverage["missing"] and not partial:
                raise _refuse_area(pbf, coverage["missing"])

        tool_peaks = [s["peak_rss_mb"] for s in stages if s["peak_rss_mb"] is not None]
        manifest = {
            "schema": MANIFEST_SCHEMA,
            "dataset_id": dataset_id,
            "osrm_base": BASE_NAME,
            "algorithm": ALGORITHM,
            "extract": {
                "file": pbf.name,
                "path": str(pbf),
                "bytes": pbf.stat().st_size,
                "sha256": pbf_sha,
                "date": date,
                "date_source": date_source,
                "bbox": list(bbox) if bbox else None,
            },
            "profile": {"file": profile_path.name, "sha256": profile_sha},
            "osrm_bindings_version": version,
            "threads": threads,
            "partial": bool(partial),
            "coverage": coverage,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "build_seconds": round(time.perf_counter() - started, 3),
            "peak_rss_mb": max(tool_peaks) if tool_peaks else None,
            "stages": stages,
            "files": {p.name: p.stat().st_size for p in sorted(tmp.glob(f"{BASE_NAME}.*"))},
        }
        write_text(tmp / MANIFEST_NAME, json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")
        _replace_dir(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if activate:
        set_active(out_dir)
    say(f"Jeu de données prêt en {fr_seconds(time.perf_counter() - started)} : {out_dir}")
    return out_dir


@dataclass(frozen=True)
class _RegionLike:
    """Just the ``communes`` attribute of a ``Region``, to reuse a table already read."""

    communes: pd.DataFrame


def _replace_dir(tmp: Path, target: Path) -> None:
    """Move ``tmp`` onto ``target``; an older ``target`` is removed once ``tmp`` is in place."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}-{time.time_ns()}")
        os.replace(target, old)
    try:
        os.replace(tmp, target)
    except BaseException:
        if old is not None:
            os.replace(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
