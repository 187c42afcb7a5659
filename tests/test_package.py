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


def test_public_api_names_resolve_and_match_their_modules() -> None:
    import importlib

    for name in coverage.__all__:
        if name in ("PROJECT_MARKER", "__version__"):
            continue
        value = getattr(coverage, name)
        module = importlib.import_module(coverage._API[name])
        assert getattr(module, name) is value, name
    assert set(coverage.__all__) - {"PROJECT_MARKER", "__version__"} == set(coverage._API)
    with pytest.raises(AttributeError, match="no attribute 'Coverage'"):
        coverage.Coverage  # noqa: B018


def test_version_comes_from_the_package_metadata() -> None:
    assert coverage.__version__ == metadata.version("parcours-coverage")


def test_importing_the_package_loads_no_layer() -> None:
    import subprocess
    import sys

    code = "import coverage, sys; print(sorted(m for m in sys.modules if m.startswith('coverage')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['coverage']"
