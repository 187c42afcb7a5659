"""Tiny tasks for the worker tests, at module level so that a spawned worker imports them."""

from __future__ import annotations

import os
import time
from pathlib import Path


def pid_after(seconds: float, value: object) -> tuple[int, object]:
    """(this process's id, ``value``) after sleeping ``seconds``."""
    time.sleep(seconds)
    return os.getpid(), value


def write_then_sleep(folder: Path, seconds: float) -> str:
    """A file written in ``folder`` (as an upload's reading does), then a long sleep."""
    (folder / "registre.csv").write_bytes(b"id,name\n" * 1_000)
    time.sleep(seconds)
    return "done"


def grow(step: int) -> int:
    """Allocate ``step`` bytes at a time, keeping them all, until the allocator refuses."""
    kept = []
    while True:
        kept.append(bytearray(step))


def vm_data_limit() -> tuple[int, int]:
    """The data-segment limit this process runs under (soft, hard)."""
    import resource

    return resource.getrlimit(resource.RLIMIT_DATA)


def modules_loaded(*names: str) -> tuple[bool, ...]:
    """Whether each of ``names`` is imported in this process."""
    import sys

    return tuple(name in sys.modules for name in names)
