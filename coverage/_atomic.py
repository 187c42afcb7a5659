"""Atomic file writes: write to a temporary file beside the target, then rename."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

#: A temporary file or folder left by a writer is swept once it is this old (seconds): by then
#: its writer is dead (killed mid-write); a younger one may belong to a writer still running.
STALE_AFTER_S = 3600.0


def sweep_stale(folder: Path, pattern: str, *, older_than: float = STALE_AFTER_S) -> int:
    """Remove files or folders matching ``pattern`` in ``folder`` older than ``older_than``
    seconds (leftovers of killed writers); return how many were removed."""
    removed = 0
    limit = time.time() - older_than
    for path in folder.glob(pattern):
        with contextlib.suppress(OSError):
            if path.lstat().st_mtime < limit:
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink()
                removed += 1
    return removed


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success.

    On any exception the temporary file is removed and ``target`` is left as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale(target.parent, f".{target.name}.*.tmp")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    # mkstemp creates 0600 files; give the result the mode a plain open() would (umask).
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


@contextlib.contextmanager
def atomic_open(
    target: str | os.PathLike[str], mode: str = "w", encoding: str | None = "utf-8"
) -> Iterator[IO]:
    """Open a temporary file for writing; it replaces ``target`` only if the block succeeds."""
    if "b" in mode:
        encoding = None
    with atomic_path(target) as tmp, open(tmp, mode, encoding=encoding) as fh:
        yield fh


def write_text(target: str | os.PathLike[str], text: str) -> Path:
    """Atomically write ``text`` (UTF-8) to ``target`` and return its path."""
    with atomic_open(target, "w") as fh:
        fh.write(text)
    return Path(target)


def write_bytes(target: str | os.PathLike[str], data: bytes) -> Path:
    """Atomically write ``data`` to ``target`` and return its path."""
    with atomic_open(target, "wb") as fh:
        fh.write(data)
    return Path(target)
