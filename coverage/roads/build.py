"""Building a road dataset: OSRM's MLD pipeline (car profile) on an extract, as named stages.

``build_dataset`` writes into a hidden temporary folder beside the target and renames it at the
end, so a failed or interrupted build leaves nothing half built. Before accepting a dataset it
checks that the extract covers every département of the region (each commune's point
must lie within ``check.COVERED_SNAP_M`` of a road of the extract), unless ``partial=True``.
Progress is reported as ``BuildEvent`` facts; the command line words them in French.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from coverage._atomic import write_text
from coverage._errors import CoverageError, RoadEngineError, ValidationError
from coverage.roads.check import (
    COVERED_SHARE,
    COVERED_SNAP_M,
    commune_points,
    coverage_by_departement,
    missing_from_bbox,
    refuse_area,
)
from coverage.roads.dataset import (
    ALGORITHM,
    BASE_NAME,
    MANIFEST_NAME,
    MANIFEST_SCHEMA,
    Dataset,
    datasets_root,
    open_dataset,
    set_active,
)
from coverage.roads.engine import unload_engines
from coverage.roads.extract import (
    UNKNOWN_DATE,
    extract_header,
    extract_stem,
    max_node_timestamp,
    sha256_file,
)
from coverage.roads.tools import LineSink, car_profile, osrm_version, run_tool, tool_path

#: The build's tool stages: (key, tool, French label).
STAGES: tuple[tuple[str, str, str], ...] = (
    ("extract", "osrm-extract", "extraction du réseau routier"),
    ("partition", "osrm-partition", "partition du graphe"),
    ("customize", "osrm-customize", "calcul des poids"),
)
#: Label of the last stage, the coverage check.
COVERAGE_LABEL = "vérification de la couverture des départements de la région"
#: Stages counted in "Étape i/n": the tools, then the coverage check.
N_STEPS = len(STAGES) + 1


@dataclass(frozen=True)
class BuildEvent:
    """One fact of a build's progress, for the caller to show.

    ``kind`` is one of ``"read_start"`` (``extract``, ``megabytes``), ``"no_header_date"``,
    ``"read_done"`` (``date``, ``sha256``, ``seconds``), ``"reused"`` (``built_at``,
    ``folder``), ``"no_communes"``, ``"stage_start"`` (``step``, ``label_fr``, ``tool``),
    ``"stage_done"`` (``label_fr``, ``seconds``, ``peak_rss_mb``), ``"coverage_done"``
    (``seconds``, ``missing``) and ``"ready"`` (``seconds``, ``folder``).
    """

    kind: str
    step: int = 0
    steps: int = N_STEPS
    label_fr: str = ""
    tool: str = ""
    extract: str = ""
    megabytes: float | None = None
    seconds: float | None = None
    peak_rss_mb: float | None = None
    date: str = ""
    sha256: str = ""
    built_at: str = ""
    folder: Path | None = None
    missing: tuple[str, ...] = ()


Progress = Callable[[BuildEvent], None]
#: The region's communes, or a function giving them when the build needs them (not called when
#: the dataset is reused, nor before the extract has been read), or ``None``.
CommunesSource = pd.DataFrame | Callable[[], pd.DataFrame | None] | None


@dataclass(frozen=True)
class ToolOptions:
    """How the OSRM tools run: the Lua routing profile (default the car profile of
    osrm-bindings), their threads (default every CPU), and ``log``, called with every line they
    print (for ``--verbose``)."""

    profile: str | os.PathLike[str] | None = None
    threads: int | None = None
    log: LineSink | None = None


@dataclass
class _Run:
    """One build in progress: where its events go, its stage times so far, when it began."""

    say: Progress
    log: LineSink | None
    partial: bool
    started: float
    stages: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class _Inputs:
    """The checked inputs of a build and the identity they give the dataset."""

    pbf: Path
    profile: Path
    threads: int
    version: str
    pbf_sha: str
    profile_sha: str
    dataset_id: str
    stamp: str | None
    bbox: tuple | None


def _dataset_id(pbf_sha: str, version: str, profile_sha: str) -> str:
    text = f"{pbf_sha}|osrm-bindings {version}|{profile_sha}|{ALGORITHM}|schema {MANIFEST_SCHEMA}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _checked_paths(
    pbf: str | os.PathLike[str], profile: str | os.PathLike[str] | None, threads: int | None
) -> tuple[Path, Path, int]:
    """The extract, the profile and the thread count, refused in French when unusable."""
    path = Path(pbf).expanduser().resolve()
    if not path.is_file():
        raise RoadEngineError(f"L'extrait OpenStreetMap {str(path)!r} est introuvable.")
    if path.stat().st_size == 0:
        raise RoadEngineError(f"L'extrait OpenStreetMap {str(path)!r} est vide.")
    profile_path = Path(profile).expanduser().resolve() if profile else car_profile()
    if not profile_path.is_file():
        raise RoadEngineError(f"Le profil de routage {str(profile_path)!r} est introuvable.")
    if threads is not None and (not isinstance(threads, int) or threads < 1):
        raise ValidationError(f"`threads` must be a positive integer; got {threads!r}.")
    return path, profile_path, int(threads or os.cpu_count() or 1)


def _identify(pbf: Path, profile: Path, threads: int, say: Progress) -> _Inputs:
    """Checksums, header and dataset identity of the extract."""
    version = osrm_version()
    say(BuildEvent("read_start", extract=pbf.name, megabytes=pbf.stat().st_size / 1e6))
    pbf_sha = sha256_file(pbf)
    profile_sha = sha256_file(profile)
    stamp, bbox = extract_header(pbf)
    return _Inputs(
        pbf=pbf,
        profile=profile,
        threads=threads,
        version=version,
        pbf_sha=pbf_sha,
        profile_sha=profile_sha,
        dataset_id=_dataset_id(pbf_sha, version, profile_sha),
        stamp=stamp,
        bbox=bbox,
    )


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
    """The dataset already in ``out`` when it is this very build, else ``None``."""
    try:
        ds = open_dataset(out)
    except CoverageError:
        return None
    if ds.dataset_id != dataset_id:
        return None
    missing = ds.manifest.get("coverage", {}).get("missing", [])
    if missing and not partial:
        raise refuse_area(pbf, list(missing))
    return ds


def _precheck_area(
    source: CommunesSource, inputs: _Inputs, partial: bool, say: Progress
) -> pd.DataFrame | None:
    """The communes' points, after refusing an extract whose box misses départements."""
    communes = source() if callable(source) else source
    if communes is None:
        if not partial:
            raise RoadEngineError(
                "Impossible de vérifier que l'extrait couvre la région : les communes de la "
                "région n'ont pas été fournies ; relancez avec --partial pour construire sans "
                "vérification."
            )
        say(BuildEvent("no_communes"))
        return None
    points = commune_points(communes)
    if inputs.bbox is not None:
        missing = missing_from_bbox(inputs.bbox, points)
        if missing and not partial:
            raise refuse_area(inputs.pbf, missing, points["dep"].nunique())
    return points


def _data_date(inputs: _Inputs, say: Progress) -> tuple[str, str]:
    """(date, source) of the OpenStreetMap data: the header's, else the latest node's."""
    if inputs.stamp:
        return inputs.stamp, "osmosis_replication_timestamp"
    say(BuildEvent("no_header_date"))
    latest = max_node_timestamp(inputs.pbf)
    return (latest, "max_node_timestamp") if latest else (UNKNOWN_DATE, UNKNOWN_DATE)


def _tool_commands(inputs: _Inputs, base: Path) -> dict[str, list[str]]:
    threads = str(inputs.threads)
    return {
        "extract": [
            str(tool_path("extract")),
            str(inputs.pbf),
            "-p",
            str(inputs.profile),
            "-t",
            threads,
            "-o",
            str(base),
            "-d",
            inputs.dataset_id,
        ],
        "partition": [str(tool_path("partition")), str(base), "-t", threads],
        "customize": [str(tool_path("customize")), str(base), "-t", threads],
    }


def _tool_stages(inputs: _Inputs, base: Path, run: _Run) -> None:
    """Run osrm-extract, osrm-partition and osrm-customize into ``base``; append stage times."""
    commands = _tool_commands(inputs, base)
    for i, (key, tool, label) in enumerate(STAGES, start=1):
        run.say(BuildEvent("stage_start", step=i, label_fr=label, tool=tool))
        seconds, peak = run_tool(commands[key], label=label, pbf=inputs.pbf, log=run.log)
        peak_mb = round(peak, 1) if peak is not None else None
        run.stages.append(
            {
                "name": key,
                "label_fr": label,
                "tool": tool,
                "seconds": round(seconds, 3),
                "peak_rss_mb": peak_mb,
            }
        )
        run.say(BuildEvent("stage_done", label_fr=label, seconds=seconds, peak_rss_mb=peak))


def _coverage_stage(base: Path, communes: pd.DataFrame, run: _Run) -> dict[str, Any]:
    """Check the freshly built dataset against the communes; return the manifest's entry."""
    run.say(BuildEvent("stage_start", step=N_STEPS, label_fr=COVERAGE_LABEL))
    t0 = time.perf_counter()
    try:
        table = coverage_by_departement(
            Dataset(folder=base.parent, base=base, manifest={}), communes=communes
        )
    finally:
        unload_engines()  # the folder is about to be renamed
    seconds = time.perf_counter() - t0
    run.stages.append(
        {
            "name": "coverage",
            "label_fr": COVERAGE_LABEL,
            "seconds": round(seconds, 3),
            "peak_rss_mb": None,
        }
    )
    missing = table.loc[table["missing"], "dep"].tolist()
    run.say(BuildEvent("coverage_done", seconds=seconds, missing=tuple(missing)))
    return {
        "checked": True,
        "snap_limit_m": COVERED_SNAP_M,
        "min_share": COVERED_SHARE,
        "missing": missing,
        "departements": {
            str(dep): {"communes": int(n), "covered": int(k), "share": round(float(sh), 4)}
            for dep, n, k, sh in zip(
                table["dep"], table["communes"], table["covered"], table["share"], strict=True
            )
        },
    }


def _manifest(
    inputs: _Inputs,
    folder: Path,
    *,
    date: tuple[str, str],
    coverage: dict[str, Any],
    run: _Run,
) -> dict[str, Any]:
    stages = run.stages
    tool_peaks = [s["peak_rss_mb"] for s in stages if s["peak_rss_mb"] is not None]
    pbf = inputs.pbf
    return {
        "schema": MANIFEST_SCHEMA,
        "dataset_id": inputs.dataset_id,
        "osrm_base": BASE_NAME,
        "algorithm": ALGORITHM,
        "extract": {
            "file": pbf.name,
            "path": str(pbf),
            "bytes": pbf.stat().st_size,
            "sha256": inputs.pbf_sha,
            "date": date[0],
            "date_source": date[1],
            "bbox": list(inputs.bbox) if inputs.bbox else None,
        },
        "profile": {"file": inputs.profile.name, "sha256": inputs.profile_sha},
        "osrm_bindings_version": inputs.version,
        "threads": inputs.threads,
        "partial": bool(run.partial),
        "coverage": coverage,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "build_seconds": round(time.perf_counter() - run.started, 3),
        "peak_rss_mb": max(tool_peaks) if tool_peaks else None,
        "stages": stages,
        "files": {p.name: p.stat().st_size for p in sorted(folder.glob(f"{BASE_NAME}.*"))},
    }


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


def _build_into(
    inputs: _Inputs,
    out_dir: Path,
    *,
    points: pd.DataFrame | None,
    date: tuple[str, str],
    run: _Run,
) -> None:
    """Run every stage in a hidden folder beside ``out_dir``, then move it into place."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.build-", dir=out_dir.parent))
    try:
        base = tmp / BASE_NAME
        _tool_stages(inputs, base, run)
        coverage: dict[str, Any] = {"checked": False, "missing": []}
        if points is not None:
            coverage = _coverage_stage(base, points, run)
            if coverage["missing"] and not run.partial:
                raise refuse_area(inputs.pbf, coverage["missing"], points["dep"].nunique())
        manifest = _manifest(inputs, tmp, date=date, coverage=coverage, run=run)
        write_text(tmp / MANIFEST_NAME, json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")
        _replace_dir(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def build_dataset(
    pbf: str | os.PathLike[str],
    *,
    communes: CommunesSource = None,
    out: str | os.PathLike[str] | None = None,
    partial: bool = False,
    progress: Progress | None = None,
    tools: ToolOptions | None = None,
    activate: bool = True,
    force: bool = False,
) -> Path:
    """Build an OSRM dataset (MLD pipeline, car profile) from an OpenStreetMap extract.

    Parameters
    ----------
    pbf
        The extract (``.osm.pbf``, or ``.osm`` XML).
    communes
        The region's communes (columns ``insee``, ``dep``, ``lon``, ``lat``, e.g.
        ``load_region(region=...).communes``), or a function returning them (called only once the
        extract has been read and is not already built), to check the extract covers them;
        ``None`` only with
        ``partial`` (coverage then not checked).
    out
        Folder of the dataset; default ``<cache>/osrm/<name>-<id>``.
    partial
        Accept an extract that does not cover every département of the region.
    progress
        Called with one ``BuildEvent`` per step (stage started, stage done with time and memory).
    tools
        Routing profile, threads and output lines of the OSRM tools (``ToolOptions``).
    activate
        Record the dataset as the one the tools use by default (``active_dataset``).
    force
        Rebuild even when ``out`` already holds the same dataset.

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
    say: Progress = progress or (lambda _event: None)
    opts = tools or ToolOptions()
    run = _Run(say=say, log=opts.log, partial=partial, started=time.perf_counter())
    inputs = _identify(*_checked_paths(pbf, opts.profile, opts.threads), say)
    out_dir = (
        Path(out).expanduser().resolve()
        if out is not None
        else datasets_root().resolve() / f"{extract_stem(inputs.pbf)}-{inputs.dataset_id[:12]}"
    )
    _check_target(out_dir)
    existing = None if force else _reusable(out_dir, inputs.dataset_id, partial, inputs.pbf)
    if existing is not None:
        built_at = str(existing.manifest.get("built_at", "?"))
        say(BuildEvent("reused", built_at=built_at, folder=out_dir))
    else:
        points = _precheck_area(communes, inputs, partial, say)
        date = _data_date(inputs, say)
        read_s = round(time.perf_counter() - run.started, 3)
        say(BuildEvent("read_done", date=date[0], sha256=inputs.pbf_sha, seconds=read_s))
        run.stages.append(
            {
                "name": "read",
                "label_fr": "lecture de l'extrait (sha256, date)",
                "seconds": read_s,
                "peak_rss_mb": None,
            }
        )
        _build_into(inputs, out_dir, points=points, date=date, run=run)
    if activate:
        set_active(out_dir)
    if existing is None:
        say(BuildEvent("ready", seconds=time.perf_counter() - run.started, folder=out_dir))
    return out_dir
