"""Shared fixtures: the real region, the embedded registry and a finder, loaded once."""

from __future__ import annotations

from pathlib import Path

import pytest

from coverage.finder import Finder
from coverage.region import Region, load_region
from coverage.registry import Registry, load_registry

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def region() -> Region:
    return load_region()


@pytest.fixture(scope="session")
def registry(region: Region) -> Registry:
    from coverage import settings

    return load_registry(settings.DEFAULT_REGISTRY, region=region)


@pytest.fixture(scope="session")
def finder(region: Region, registry: Registry) -> Finder:
    from coverage import settings
    from coverage.aja import computed_zones

    zones = computed_zones(region=region, registry=registry)
    assert settings.DEFAULT_REGISTRY.is_file()
    return Finder(region, registry, zones)
