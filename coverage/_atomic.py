"""Atomic file writes: write to a temporary file beside the target, then rename.

Rules every write follows (``check_target`` applies them before anything is written):

- the target must be a regular file or absent: a folder, a named pipe (FIFO), a device, a
  socket is refused with a French message (an atomic rename onto ``/dev/null`` would replace
  the machine's ``/dev/null`` with a regular file);
- a symbolic link is **followed**, as the shell's ``>`` does: the file it points to is replaced
  (atomically, beside that file) and the link is kept; the file it points to obeys the rule
  above, so a link to ``/dev/null`` is refused; a loop of links is refused;
- a missing parent folder is created; a parent that is a file is refused;
- an ``OSError`` while writing (full disk, read-only or forbidden folder, quota) becomes a
  ``ValidationError`` naming the path in French, or a ``DataSourceError`` when the path lies
  in the cache folder (``settings.cache_dir()``);
- leftovers of killed writers (``.NAME.XXXXXXXX.tmp`` and the GeoPackage export's
  ``.tmp.gpkg``, ``-journal``, ``-wal``, ``-shm`` beside it) are swept by the next write of
  the same target once older than ``STALE_AFTER_S``. Names are matched exactly (prefix, the
  8 random characters of ``tempfile``, suffix), never as a glob of the user's file name.

``refuse_inputs`` refuses an output path that is also an input (or another output).

``cache_write`` wraps every write of a rebuildable cache file: a cache folder that cannot
be written (read-only mount, forbidden, full) is warned about in French (``CoverageWarning``)
and the work goes on without it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import stat
import tempfile
import time
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, NoReturn

from coverage import settings
from coverage._errors import CoverageError, CoverageWarning, DataSourceError, ValidationError

#: A temporary file or folder left by a writer is swept once it is this old (seconds): by then
#: its writer is dead (killed mid-write); a younger one may belong to a writer still running.
STALE_AFTER_S = 3600.0
#: Endings of the temporary files of one write: the file itself, then the GeoPackage export's
#: work file and SQLite's companions of it (``exports.write_gpkg``).
TMP_SUFFIXES: tuple[str, ...] = (
    ".tmp",
    ".tmp.gpkg",
    ".tmp.gpkg-journal",
    ".tmp.gpkg-wal",
    ".tmp.gpkg-shm",
)
#: The random part ``tempfile.mkstemp``/``mkdtemp`` put in a name.
_RANDOM = r"[a-z0-9_]{8}"

#: French reading of the ``errno`` of a failed write.
_WRITE_ERRORS: dict[int, str] = {
    errno.ENOSPC: "le disque est plein",
    errno.EDQUOT: "le quota de disque est atteint",
    errno.EFBIG: "le fichier dépasse la taille permise",
    errno.EROFS: "le dossier est en lecture seule",
    errno.EACCES: "l'écriture dans ce dossier n'est pas permise",
    errno.EPERM: "l'écriture dans ce dossier n'est pas permise",
    errno.ENAMETOOLONG: "le nom est trop long",
    errno.EIO: "erreur d'entrée-sortie du disque",
}


# --------------------------------------------------------------------------------------------
# Leftovers of killed writers
# --------------------------------------------------------------------------------------------


def sweep_stale(
    folder: Path,
    prefix: str,
    *,
    suffixes: tuple[str, ...] = ("",),
    folders: bool = False,
    older_than: float = STALE_AFTER_S,
) -> int:
    """Remove leftovers of killed writers in ``folder``; return how many were removed.

    A leftover is named exactly ``prefix`` + the 8 random characters of ``tempfile`` + one of
    ``suffixes``, and is older than ``older_than`` seconds. ``prefix`` is literal text (glob
    characters in it match only themselves). Folders are removed only when ``folders`` is
    true; symbolic links are removed, never followed. The former glob form (``".region-*"``:
    a trailing ``*``) is read as that prefix with ``folders=True``, as it behaved before.
    """
    if prefix.endswith("*"):
        prefix, folders = prefix[:-1], True
    name = re.compile(
        re.escape(prefix) + _RANDOM + "(?:" + "|".join(map(re.escape, suffixes)) + ")"
    )
    limit = time.time() - older_than
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        if name.fullmatch(entry.name) and _remove_if_stale(entry, limit, folders=folders):
            removed += 1
    return removed


def _remove_if_stale(entry: os.DirEntry[str], limit: float, *, folders: bool) -> bool:
    with contextlib.suppress(OSError):
        if entry.stat(follow_symlinks=False).st_mtime >= limit:
            return False
        if entry.is_dir(follow_symlinks=False):
            if not folders:
                return False
            shutil.rmtree(entry.path)
        else:
            os.unlink(entry.path)
        return True
    return False


# --------------------------------------------------------------------------------------------
# What may be written
# --------------------------------------------------------------------------------------------


def _in_cache(path: Path) -> bool:
    cache = Path(os.path.realpath(settings.cache_dir()))
    return path == cache or cache in path.parents


def _also(path: Path, shown: str | None) -> str:
    """What to add after the path as typed: the file a symbolic link leads to, else nothing (a
    relative path, or ``..`` in it, is not a link: the file is the one the user named)."""
    if shown is None or shown == str(path):
        return ""
    if os.path.islink(shown):
        return f" (lien vers {str(path)!r})"
    if os.path.abspath(shown) != str(path):  # a folder of the path is a link
        return f" (chemin réel {str(path)!r})"
    return ""


def _refuse(path: Path, reason: str, *, shown: str | None = None) -> NoReturn:
    """Raise the French error for ``path`` (shown as typed: ``shown``)."""
    where = shown if shown is not None else str(path)
    also = _also(path, shown)
    if _in_cache(path):
        raise DataSourceError(f"Le cache {where!r}{also} ne peut pas être écrit : {reason}.")
    raise ValidationError(f"Impossible d'écrire {where!r}{also} : {reason}.")


def file_kind_fr(mode: int) -> str | None:
    """What a non-regular file is, as a French noun ("un dossier"); ``None`` for a file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "un dossier"
    if stat.S_ISFIFO(mode):
        return "un tube nommé (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "un périphérique"
    if stat.S_ISSOCK(mode):
        return "une prise réseau (socket)"
    return "un fichier spécial"


def _kind_fr(mode: int) -> str | None:
    """Why a non-regular file cannot be written, in French; ``None`` for a regular file."""
    kind = file_kind_fr(mode)
    if kind is None:
        return None
    if kind == "un dossier":
        return "c'est un dossier, pas un fichier"
    if kind == "un fichier spécial":
        return "ce n'est pas un fichier ordinaire"
    return f"c'est {kind}, pas un fichier ordinaire"


def check_target(target: str | os.PathLike[str]) -> Path:
    """The file to write for ``target``: symbolic links followed, checked (module docstring).

    Raises ``ValidationError`` (``DataSourceError`` in the cache folder) when ``target`` is
    not a regular file or absent, is a loop of links, or its parent is not a folder.
    Nothing is written.
    """
    shown = os.fspath(target)
    real = Path(os.path.realpath(target))
    try:
        mode = os.stat(real).st_mode
    except (FileNotFoundError, NotADirectoryError):
        mode = None  # absent, or under a file: ``_check_parents`` says which
    except OSError as exc:
        _refuse(real, _os_reason(exc), shown=shown)
    if mode is not None and (kind := _kind_fr(mode)) is not None:
        _refuse(real, kind, shown=shown)
    _check_parents(real, shown=shown)
    return real


def write_error_fr(exc: OSError) -> str:
    """Why a write failed, in French ("le dossier est en lecture seule", "le disque est plein")."""
    if exc.errno is None:
        return f"erreur du système ({exc})"
    return _os_reason(exc)


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "les liens symboliques forment une boucle"
    if exc.errno == errno.ENOTDIR:
        return "un des dossiers du chemin est un fichier"
    return _WRITE_ERRORS.get(exc.errno or 0, f"erreur du système ({exc.strerror})")


def _check_parents(real: Path, *, shown: str) -> None:
    for parent in real.parents:
        try:
            mode = os.stat(parent).st_mode
        except (FileNotFoundError, NotADirectoryError):
            continue  # created by ``atomic_path``, or a file higher up
        except OSError as exc:
            _refuse(real, _os_reason(exc), shown=shown)
        if not stat.S_ISDIR(mode):
            _refuse(real, f"{str(parent)!r} est un fichier, pas un dossier", shown=shown)
        return


def ensure_folder(folder: str | os.PathLike[str]) -> Path:
    """Create ``folder`` (and its parents) if needed and return it, or raise in French.

    A path that is a file, a read-only or forbidden parent, a full disk: ``ValidationError``
    (``DataSourceError`` in the cache folder) naming the path.
    """
    path = Path(folder)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        _refuse(Path(os.path.realpath(path)), "c'est un fichier, pas un dossier", shown=str(path))
    except OSError as exc:
        _refuse(Path(os.path.realpath(path)), _os_reason(exc), shown=str(path))
    return path


def refuse_inputs(
    outputs: Mapping[str, str | os.PathLike[str] | None],
    inputs: Mapping[str, str | os.PathLike[str] | None],
) -> None:
    """Refuse an output file that is also an input, or that two outputs share.

    ``outputs`` and ``inputs`` map an option name (``"--csv"``, ``"--registry"``) to its path
    (``None``: option not given). Links are followed, so a link to the registry is caught.
    """
    seen: dict[Path, str] = {}
    for option, path in inputs.items():
        if path is not None:
            seen.setdefault(Path(os.path.realpath(path)), option)
    for option, path in outputs.items():
        if path is None:
            continue
        real = Path(os.path.realpath(path))
        if real in seen:
            other = seen[real]
            role = "le fichier lu par" if other in inputs else "la sortie de"
            raise ValidationError(
                f"Le fichier de sortie {os.fspath(path)!r} ({option}) est aussi {role} "
                f"{other} : choisissez un autre nom, il ne sera pas écrasé."
            )
        seen[real] = option


# --------------------------------------------------------------------------------------------
# Atomic writes
# --------------------------------------------------------------------------------------------


def _new_temporary(target: Path) -> Path:
    """Create the parent folders and an empty temporary file beside ``target``."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        sweep_stale(target.parent, f".{target.name}.", suffixes=TMP_SUFFIXES)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
        # mkstemp creates 0600 files; give the result the mode a plain open() would (umask).
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
    except OSError as exc:
        _refuse(target, _os_reason(exc))
    return Path(tmp)


def _commit(tmp_path: Path, target: Path) -> None:
    with open(tmp_path, "rb") as fh:
        os.fsync(fh.fileno())
    # Checked again just before the rename: the target may have changed since the start.
    check_target(target)
    os.replace(tmp_path, target)


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success.

    ``target`` is checked first (``check_target``: a symbolic link is followed, anything but
    a regular file is refused). On any exception the temporary file is removed and the target
    is left as it was; an ``OSError`` of the write (full disk, read-only folder...) is raised
    as a French ``ValidationError`` (``DataSourceError`` for the cache).
    """
    real = check_target(target)
    tmp_path = _new_temporary(real)
    try:
        yield tmp_path
        _commit(tmp_path, real)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        if isinstance(exc, OSError) and not isinstance(exc, CoverageError):
            if exc.errno in _WRITE_ERRORS or exc.filename in (str(tmp_path), str(real)):
                _refuse(real, _os_reason(exc), shown=os.fspath(target))
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


class CacheWarning(CoverageWarning):
    """A cache file could not be written; the work went on without it."""


@contextlib.contextmanager
def cache_write(*, what: str = "") -> Iterator[None]:
    """Around the atomic write of a rebuildable cache file: a cache that cannot be written
    (read-only or forbidden folder, full disk: the French ``DataSourceError`` or
    ``ValidationError`` of ``atomic_path``) is not an error. A ``CacheWarning`` says so in
    French, naming the folder and why, and the block's failure is suppressed::

        with cache_write(what="de la matrice 'm.csv'"), atomic_open(path, "wb") as fh:
            np.savez(fh, ...)

    ``what`` names the cached data in the warning.
    """
    try:
        yield
    except (DataSourceError, ValidationError) as exc:
        kept = f"le cache {what}" if what else "ce cache"
        warnings.warn(
            CacheWarning(
                f"{exc} Le calcul continue sans l'enregistrer (il sera refait la prochaine "
                f"fois) ; pour garder {kept}, choisissez un dossier de cache inscriptible avec "
                f"${settings.CACHE_ENV}."
            ),
            stacklevel=3,
        )
