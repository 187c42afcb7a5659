"""An exclusive file lock (``fcntl.flock``) around a cache build, so that concurrent starts wait.

The lock is advisory and held on an open file descriptor: the kernel releases it when the
process ends, even when it is killed, so a crashed builder never leaves others waiting.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path


@contextlib.contextmanager
def file_lock(path: Path, *, on_wait: Callable[[], None] | None = None) -> Iterator[bool]:
    """Hold an exclusive lock on ``path`` (created if needed) for the block.

    ``on_wait`` is called once when another process holds the lock (before waiting). Yields
    True when locked, False when the lock file cannot be created (a read-only folder): the
    block then runs unlocked, as it would have without this lock.
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield True
    finally:
        os.close(fd)  # closing releases the lock
