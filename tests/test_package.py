"""The imported ``coverage`` is this project's package, never coverage.py."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest

import coverage


def test_imported_coverage_is_ours() -> None:
    assert coverage.PROJECT_MARKER == "parcours-coverage"
    root = Path(__file__).resolve().parents[1]
    assert Path(coverage.__file__).resolve().parent == root / "coverage"
    assert not hasattr(coverage, "Coverage")  # coverage.py's main class


def test_coverage_py_is_not_installed() -> None:
    with pytest.raises(metadata.PackageNotFoundError):
        metadata.version("coverage")
    with pytest.raises(metadata.PackageNotFoundError):
        metadata.version("pytest-cov")
