"""Outputs onto special files are refused, never replaced (issue 13, item 2).

An atomic rename onto a FIFO, a device or ``/dev/null`` would turn it into a regular file (as
root, the machine's ``/dev/null``). ``/dev/null`` is never written here: every test that
names it replaces ``os.replace`` by a guard that fails the test instead of renaming.
Symbolic links are followed (the file they point to is replaced, the link is kept).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from coverage import cli
from coverage._atomic import atomic_open, check_target, write_text
from coverage._errors import ValidationError


@pytest.fixture
def no_rename(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test, without renaming, if anything is renamed onto a special file."""
    real_replace = os.replace

    def guarded(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        dst_real = os.path.realpath(dst)
        if os.path.exists(dst_real) and not stat.S_ISREG(os.stat(dst_real).st_mode):
            raise AssertionError(f"renamed onto the special file {dst_real!r}")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", guarded)


def _fifo(tmp_path: Path) -> Path:
    fifo = tmp_path / "tube.html"
    os.mkfifo(fifo)
    return fifo


def _others(folder: Path, *keep: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p not in keep)


def test_a_fifo_is_refused_and_stays_a_fifo(tmp_path: Path, no_rename: None) -> None:
    fifo = _fifo(tmp_path)
    with pytest.raises(ValidationError, match=r"tube\.html.*tube nommé \(FIFO\)"):
        write_text(fifo, "<html>")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert _others(tmp_path, fifo) == []  # no temporary file left


def test_dev_null_is_refused_without_being_written(no_rename: None) -> None:
    before = os.stat("/dev/null")
    with pytest.raises(ValidationError, match=r"'/dev/null'.*périphérique"):
        check_target("/dev/null")
    with pytest.raises(ValidationError, match=r"'/dev/null'.*périphérique"):
        write_text("/dev/null", "x")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino


def test_a_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "carte.html"
    folder.mkdir()
    with pytest.raises(ValidationError, match=r"carte\.html.*c'est un dossier"):
        write_text(folder, "x")
    assert folder.is_dir() and list(folder.iterdir()) == []


def test_a_symlink_is_followed_and_kept(tmp_path: Path) -> None:
    real = tmp_path / "vrai.html"
    real.write_text("ancien", encoding="utf-8")
    link = tmp_path / "lien.html"
    link.symlink_to(real)
    assert write_text(link, "nouveau") == link
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text(encoding="utf-8") == "nouveau"
    assert _others(tmp_path, real, link) == []


def test_a_relative_symlink_into_another_folder_is_followed(tmp_path: Path) -> None:
    (tmp_path / "sorties").mkdir()
    link = tmp_path / "lien.csv"
    link.symlink_to(Path("sorties") / "communes.csv")  # dangling: its target is created
    with atomic_open(link, "wb") as fh:
        fh.write(b"a;b\r\n")
    assert link.is_symlink()
    assert (tmp_path / "sorties" / "communes.csv").read_bytes() == b"a;b\r\n"


def test_a_symlink_to_a_special_file_is_refused(tmp_path: Path, no_rename: None) -> None:
    fifo = _fifo(tmp_path)
    to_fifo = tmp_path / "vers-tube.html"
    to_fifo.symlink_to(fifo)
    with pytest.raises(ValidationError, match=r"vers-tube\.html.*lien vers.*tube nommé"):
        write_text(to_fifo, "x")
    to_null = tmp_path / "vers-null.html"
    to_null.symlink_to("/dev/null")
    with pytest.raises(ValidationError, match=r"vers-null\.html.*'/dev/null'.*périphérique"):
        write_text(to_null, "x")
    assert to_null.is_symlink() and stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_loop_of_links_is_refused(tmp_path: Path) -> None:
    a, b = tmp_path / "a.html", tmp_path / "b.html"
    a.symlink_to(b)
    b.symlink_to(a)
    with pytest.raises(ValidationError, match=r"a\.html.*boucle"):
        write_text(a, "x")
    assert a.is_symlink() and b.is_symlink()


def test_a_parent_that_is_a_file_is_refused(tmp_path: Path) -> None:
    parent = tmp_path / "rapport.html"
    parent.write_text("un fichier", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"rapport\.html' est un fichier, pas un dossier"):
        write_text(parent / "carte.html", "x")
    with pytest.raises(ValidationError, match=r"rapport\.html' est un fichier, pas un dossier"):
        write_text(parent / "sous" / "carte.html", "x")
    assert parent.read_text(encoding="utf-8") == "un fichier"


def test_the_cli_refuses_a_fifo_with_a_french_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_rename: None
) -> None:
    fifo = _fifo(tmp_path)
    assert cli.main(["find", "Aurillac", "--html", str(fifo)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Erreur : Impossible d'écrire") and "tube nommé (FIFO)" in err
    assert "Traceback" not in err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
