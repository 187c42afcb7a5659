"""The OSRM tools shipped in the osrm-bindings wheel: their version, paths, and a measured run.

The engine is the PyPI package ``osrm-bindings``, whose wheel carries the OSRM command-line
tools (``osrm/bin``), the routing profiles (``osrm/share/profiles``) and the Python bindings.
``run_tool`` runs one tool, streams its output and measures its own peak memory.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from coverage._errors import RoadEngineError

#: Distribution name of the engine on PyPI.
OSRM_DISTRIBUTION = "osrm-bindings"

#: Called with every line an OSRM tool prints.
LineSink = Callable[[str], None]


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


def _stream(proc: subprocess.Popen[str], tail: deque[str], log: LineSink | None) -> float | None:
    """Read the tool's output to its end; return the peak memory line's kilobytes."""
    peak_kb: float | None = None
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
    return peak_kb


def run_tool(
    cmd: list[str],
    *,
    label: str,
    pbf: Path,
    log: LineSink | None = None,
) -> tuple[float, float | None]:
    """Run one OSRM tool; return (seconds, peak resident memory of the tool in MB).

    Raises ``RoadEngineError`` (naming the stage ``label`` and the extract ``pbf``) when the
    tool cannot start or fails; the tool's process group is killed if this process is
    interrupted.
    """
    started = time.perf_counter()
    tail: deque[str] = deque(maxlen=40)
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
        peak_kb = _stream(proc, tail, log)
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
