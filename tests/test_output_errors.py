"""Failed writes give one French line, never a traceback (issue 13, item 7).

Through the real command line (``coverage.cli.main``): an output that is a folder or under a
file, a full disk, a read-only output folder, a read-only cache with ``--site``, a cache root
that is a file. A full disk and a read-only folder are made real with a tiny tmpfs when the
tests run as root (``mount`` works), and simulated by monkeypatching otherwise (both run
where they can).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from coverage import _atomic as atomic
from coverage import cli, settings
from coverage._errors import DataSourceError, ValidationError
from coverage.data.region import load_region

PLACE = ["find", "Aurillac"]


@contextlib.contextmanager
def tmpfs(path: Path, *, size_kb: int) -> Iterator[Path]:
    """A tmpfs of ``size_kb`` mounted at ``path``; skip when mounting is not possible."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip(f"mounting a tmpfs at {path} needs root and mount(8)")
    path.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs at {path}: {done.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def _read_only(path: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True)


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run the CLI, check it fails with exit 2 and one French error; return stderr."""
    code = cli.main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("Erreur : ") and "Traceback" not in err and "Errno" not in err
    return err


def test_an_output_that_is_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "carte.html"
    folder.mkdir()
    err = _run([*PLACE, "--html", str(folder)], capsys)
    assert f"{str(folder)!r}" in err and "c'est un dossier" in err


def test_an_output_under_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parent = tmp_path / "sorties"
    parent.write_text("un fichier", encoding="utf-8")
    err = _run([*PLACE, "--html", str(parent / "carte.html")], capsys)
    assert f"{str(parent)!r} est un fichier, pas un dossier" in err
    assert parent.read_text(encoding="utf-8") == "un fichier"


class _FullDisk:
    """A file object whose writes fail as on a full disk."""

    def __init__(self, fh: object) -> None:
        self._fh = fh

    def write(self, data: object) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __enter__(self) -> _FullDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self._fh.close()  # type: ignore[attr-defined]


def test_a_full_disk_simulated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_open(file: object, mode: str = "r", **kw: object) -> object:
        fh = open(file, mode, **kw)  # type: ignore[call-overload]
        return _FullDisk(fh) if "w" in mode else fh

    monkeypatch.setattr(atomic, "open", full_open, raising=False)
    target = tmp_path / "carte.html"
    target.write_text("précédente", encoding="utf-8")
    err = _run([*PLACE, "--html", str(target)], capsys)
    assert f"{str(target)!r}" in err and "le disque est plein" in err
    assert target.read_text(encoding="utf-8") == "précédente"
    assert [p.name for p in tmp_path.iterdir()] == ["carte.html"]


def test_a_full_disk_for_real(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with tmpfs(tmp_path / "petit", size_kb=64) as small:  # the map is about 200 kB
        err = _run([*PLACE, "--html", str(small / "carte.html")], capsys)
        assert "le disque est plein" in err
        assert list(small.iterdir()) == []  # the partial temporary file is removed


def test_a_read_only_output_folder_simulated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(*args: object, **kwargs: object) -> tuple[int, str]:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(tmp_path))

    monkeypatch.setattr(tempfile, "mkstemp", refused)
    err = _run([*PLACE, "--html", str(tmp_path / "carte.html")], capsys)
    assert "carte.html" in err and "l'écriture dans ce dossier n'est pas permise" in err


def test_a_read_only_output_folder_for_real(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with tmpfs(tmp_path / "ro", size_kb=1024) as folder:
        (folder / "carte.html").write_text("précédente", encoding="utf-8")
        _read_only(folder)
        err = _run([*PLACE, "--html", str(folder / "carte.html")], capsys)
        assert "le dossier est en lecture seule" in err
        assert (folder / "carte.html").read_text(encoding="utf-8") == "précédente"


def test_a_cache_write_fails_with_a_data_source_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(settings.CACHE_ENV, str(tmp_path / "cache"))
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "access").write_text("pas un dossier", encoding="utf-8")
    target = tmp_path / "cache" / "access" / "communes.npz"
    with pytest.raises(DataSourceError, match=r"Le cache '.*access/communes\.npz' ne peut pas"):
        atomic.write_bytes(target, b"x")


def _copy_region_cache(into: Path) -> None:
    """The default region's cache only (another region's, all of France's, would not fit)."""
    folder = load_region(region="84").folder
    shutil.copytree(folder, into / folder.name)


@pytest.mark.slow
def test_a_read_only_cache_with_site(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with tmpfs(tmp_path / "cache", size_kb=32 * 1024) as cache:
        _copy_region_cache(cache)
        _read_only(cache)
        monkeypatch.setenv(settings.CACHE_ENV, str(cache))
        # A cache only saves time: the answer comes, with one French warning.
        code = cli.main(["analyse", "--site", "1"])
        captured = capsys.readouterr()
        assert code == 0, captured.err
        assert "Site suggéré" in captured.out or "site" in captured.out.lower()
        err = captured.err
        assert err.startswith("Attention : Le cache") and "Traceback" not in err
        assert "le dossier est en lecture seule" in err and "continue sans l'enregistrer" in err


def test_ensure_folder_refuses_a_file_in_french(tmp_path: Path) -> None:
    (tmp_path / "cache").write_text("un fichier", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"'.*cache' : c'est un fichier, pas un dossier"):
        atomic.ensure_folder(tmp_path / "cache")
    with pytest.raises(ValidationError, match=r"un des dossiers du chemin est un fichier"):
        atomic.ensure_folder(tmp_path / "cache" / "access")
    assert atomic.ensure_folder(tmp_path / "a" / "b").is_dir()


def test_a_cache_root_that_is_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "cache"
    root.write_text("un fichier", encoding="utf-8")
    monkeypatch.setenv(settings.CACHE_ENV, str(root))
    err = _run(PLACE, capsys)
    assert str(root) in err
    assert root.read_text(encoding="utf-8") == "un fichier"


# --------------------------------------------------------------------------- words and figures
# Issue 13, item 9: the figures printed must say what was computed (fixed in a9d1484).


@pytest.fixture(scope="module")
def access_table(region, registry):  # type: ignore[no-untyped-def]
    from coverage.analysis.access_build import build_access
    from coverage.travel.catchments import computed_zones
    from coverage.travel.geodesic import GeodesicModel

    zones = computed_zones(region=region, registry=registry)
    return build_access(region, registry, zones=zones, model=GeodesicModel())


def test_a_decimal_threshold_is_printed_as_given(access_table, region, registry) -> None:  # type: ignore[no-untyped-def]
    from coverage.analysis.analyse import analyse
    from coverage.outputs.report import summary_lines

    a = analyse(access_table, region=region, registry=registry, threshold=30.4)
    text = "\n".join(summary_lines(a))
    assert "Seuil : 30,4 km." in text
    # Two different thresholds (30 and 30.4) must never be written the same way.
    beyond = [line for line in text.splitlines() if "au-delà de 30 km :" in line]
    assert all(line.count("au-delà de 30 km :") == 1 for line in beyond), beyond
    assert "au-delà de 30,4 km :" in text


def _readme_atkinson_half_distance() -> str:
    readme = Path(__file__).resolve().parents[1] / "README.md"
    if not readme.is_file():
        pytest.skip(f"no README at {readme}")
    import re

    found = re.search(r"2\^\(-d/([A-Za-z0-9_]+)\)", readme.read_text(encoding="utf-8"))
    assert found, "README.md no longer states the Atkinson access score 2^(-d/…)"
    return found.group(1)


def test_the_readme_states_the_atkinson_half_distance_the_code_uses(
    access_table,  # type: ignore[no-untyped-def]
    region,
    registry,
) -> None:
    import numpy as np

    from coverage.analysis import inequality_indices as ineq
    from coverage.analysis.analyse import analyse

    a = analyse(access_table, region=region, registry=registry, threshold=45.0)
    c = a.communes
    ok = np.isfinite(c["distance_km"].to_numpy(dtype=float))
    x = c["distance_km"].to_numpy(dtype=float)[ok]
    w = c["population"].to_numpy(dtype=float)[ok]
    by_threshold = ineq.atkinson(x, w, half_distance=45.0)
    fixed = ineq.atkinson(x, w, half_distance=ineq.DEFAULT_HALF_DISTANCE)
    assert abs(by_threshold - fixed) > 1e-6  # the two readings differ on the region
    code_uses = "threshold" if abs(a.main.atkinson - by_threshold) < 1e-12 else "30"
    assert abs(a.main.atkinson - (by_threshold if code_uses == "threshold" else fixed)) < 1e-12
    assert _readme_atkinson_half_distance() == code_uses


# --------------------------------------------------------------------------- outputs onto inputs


def test_find_refuses_an_output_that_is_its_registry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = tmp_path / "structures.csv"
    shutil.copy(settings.DEFAULT_REGISTRY, registry)
    before = registry.read_bytes()
    err = _run([*PLACE, "--registry", str(registry), "--html", str(registry)], capsys)
    assert "--html" in err and "--registry" in err
    assert registry.read_bytes() == before


def test_an_empty_read_only_cache_says_in_french_that_it_must_be_built(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 22, item 10: an empty cache folder on a read-only mount gave an OSError traceback."""
    with tmpfs(tmp_path / "cache", size_kb=1024) as cache:
        _read_only(cache)
        monkeypatch.setenv(settings.CACHE_ENV, str(cache))
        monkeypatch.setattr("coverage.data.region._load_region_cached", _uncached(), raising=True)
        code = cli.main(["analyse"])
        err = capsys.readouterr().err
        assert code == 2 and "Traceback" not in err and "Errno" not in err, err
        assert "\nErreur : Le cache des communes (Auvergne-Rhône-Alpes) doit être construit" in err
        assert "le dossier est en lecture seule" in err


def _uncached():  # type: ignore[no-untyped-def]
    """A fresh ``_load_region_cached`` (the session's region must not answer from memory)."""
    import functools

    from coverage.data import region as region_mod

    return functools.cache(region_mod._load_region_cached.__wrapped__)
