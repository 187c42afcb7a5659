"""Benchmark: what one registry upload costs the page's server (issue 13 item 1).

In one process, as the page does it for a visitor: a 5,000-row registry file (the budget's
maximum, ``coverage.web.budget.UPLOAD_MAX_ROWS``; synthetic test rows, never written under
``data/``) is checked and validated (``uploads.load_upload``), turned into a finder, searched
once, then the desk's access table and analysis at 30 km are built and its coverage map
rendered, all held by a ``coverage.web.sources.UploadSource`` as a session holds it.

Figures: wall time and extra resident memory (peak while it runs, RSS sampled every 10 ms,
over the level once the region is loaded), against a reference measured in the same run:
the same steps on the embedded registry. Then three uploads are held at once (three
sessions) and dropped: the memory after they are freed must come back near its level before.

Targets: a 5,000-row upload (validated, searched, the desk's figures) under 3 s and under
300 MB extra; three sessions uploading at once under 600 MB extra at their peak, and once
they close, memory within 50 MB of its level before them; the same upload with its two maps
drawn (patient, coverage: every structure drawn) under twice the embedded registry's two maps
in the same run (``MAPS_RATIO``; it was 33-49 s, one folium object a point, before the point
layer of ``coverage.outputs.maps._leaflet``).
Run: ``.venv/bin/python benchmarks/bench_upload.py``.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import Targets, fmt_s

logging.getLogger("streamlit").setLevel(logging.ERROR)

ROWS = 5_000
SESSIONS = 3
#: The two maps of a 5,000-row upload against those of the embedded registry (7 structures):
#: the commune choropleth is the same, the points must not cost more than it does.
MAPS_RATIO = 2.0


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def release_memory() -> None:
    """Collect garbage and give freed heap pages back to the system (glibc)."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:  # pragma: no cover - not glibc
        pass


def peak_extra_mb(fn: Callable[[], object]) -> tuple[float, float, object]:
    """(seconds, peak RSS over the level before, in MB, result) of one call of ``fn``."""
    base = rss_mb()
    peak = [base]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_mb())
            time.sleep(0.01)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    started = time.perf_counter()
    try:
        result = fn()
    finally:
        seconds = time.perf_counter() - started
        done.set()
        t.join()
    return seconds, max(peak[0], rss_mb()) - base, result


def registry_bytes(region, source: str, rows: int, *, salt: str = "") -> bytes:
    """A valid registry CSV of ``rows`` structures at real communes (test rows)."""
    insee = list(region.communes["insee"])
    lines = ["id,name,kind,insee,source"]
    for i in range(rows):
        kind = "aja" if i % 100 == 0 else "tous_publics"
        commune = insee[(i * 7919) % len(insee)]
        lines.append(f"essai{salt}-{i},Structure d'essai {i},{kind},{commune},{source}")
    return ("\n".join(lines) + "\n").encode()


def upload_session(name: str, data: bytes, region, model, *, maps: bool = False):
    """What the page builds for one upload: finder, a search, desk access and analysis.

    ``maps``: also the patient's map and the desk's coverage map (timed apart: their cost is
    the maps' code, ``coverage.outputs.maps``).
    """
    from coverage.web.budget import upload_slot
    from coverage.web.builders import finder_for_registry
    from coverage.web.sources import UploadSource
    from coverage.web.uploads import load_upload, upload_key

    with upload_slot(on_wait=lambda: None):  # as the registry page does
        registry = load_upload(name, data, region=region)
        finder = finder_for_registry(region, registry, model=model)
    source = UploadSource(key=upload_key(data, name=name), name=registry.path, finder=finder)
    return _answers(source, maps=maps)


def _answers(source, *, maps: bool):
    from coverage.web.search import run_search

    outcome = run_search(source.finder, "Aurillac")
    assert outcome.result is not None
    a = source.analysis(30.0, "distance_km")
    if maps:
        source.finder_map("Aurillac", False, outcome.result)
        source.coverage_map(a)
    return source


def server_session(finder, *, maps: bool = False):
    """The same steps on the server's (embedded) registry: the reference."""
    from coverage.web.sources import UploadSource

    return _answers(UploadSource(key="reference", name="embarqué", finder=finder), maps=maps)


def concurrent(files: list[bytes], region, model) -> list:
    """One thread per session, each uploading its file at the same time (slots queue them)."""
    out: list = [None] * len(files)

    def run(i: int) -> None:
        out[i] = upload_session(f"essai-{i}.csv", files[i], region, model)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(files))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(s is not None for s in out)
    return out


def main() -> int:
    from coverage.patient.finder import Finder

    targets = Targets("bench_upload")
    finder = Finder.load(region="84")
    region, model = finder.region, finder.model
    source = str(finder.registry.structures["source"].iloc[0])
    server_session(finder)  # warm-up: imports, region indexes, the map's code
    release_memory()

    ref_s, ref_mb, _ = peak_extra_mb(lambda: server_session(finder))
    print(
        f"référence (registre embarqué, {len(finder.registry.structures)} structures) : "
        f"{fmt_s(ref_s)}, +{ref_mb:.0f} Mo au plus"
    )
    data = registry_bytes(region, source, ROWS)
    release_memory()
    secs, extra, held = peak_extra_mb(lambda: upload_session("essai.csv", data, region, model))
    print(
        f"dépôt de {ROWS} lignes ({len(data) / 1e6:.2f} Mo) : {fmt_s(secs)} "
        f"(ratio {secs / ref_s:.1f}x la référence), +{extra:.0f} Mo au plus"
    )
    targets.check(f"dépôt de {ROWS} lignes (s)", secs, at_most=3.0)
    targets.check(f"dépôt de {ROWS} lignes, mémoire en plus (Mo)", extra, at_most=300.0)
    del held
    release_memory()
    ref_maps, _, _ = peak_extra_mb(lambda: server_session(finder, maps=True))
    maps_s, maps_mb, held = peak_extra_mb(
        lambda: upload_session("cartes.csv", data, region, model, maps=True)
    )
    print(
        f"le même dépôt avec ses deux cartes (patient, couverture) : {fmt_s(maps_s)}, "
        f"+{maps_mb:.0f} Mo au plus (référence {fmt_s(ref_maps)}, ratio "
        f"{maps_s / ref_maps:.1f}x)"
    )
    targets.check(
        f"dépôt de {ROWS} lignes et ses deux cartes, rapport à la référence",
        maps_s / ref_maps,
        at_most=MAPS_RATIO,
    )
    del held

    release_memory()
    before = rss_mb()
    files = [registry_bytes(region, source, ROWS, salt=str(i)) for i in range(SESSIONS)]
    secs, peak, sessions = peak_extra_mb(lambda: concurrent(files, region, model))
    during = rss_mb()
    del sessions
    release_memory()
    after = rss_mb()
    print(
        f"{SESSIONS} sessions déposant en même temps ({fmt_s(secs)}, pic +{peak:.0f} Mo) : "
        f"{before:.0f} Mo avant, {during:.0f} Mo pendant, {after:.0f} Mo après leur fermeture"
    )
    targets.check(f"{SESSIONS} dépôts simultanés, pic de mémoire en plus (Mo)", peak, at_most=600)
    targets.check(
        "mémoire après fermeture des sessions, en plus d'avant (Mo)", after - before, at_most=50.0
    )
    return targets.exit_code()


if __name__ == "__main__":
    sys.exit(main())
