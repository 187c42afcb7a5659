"""Shared fixtures: the real region, the embedded registry and a finder, loaded once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from coverage.data.region import Region, load_region
from coverage.data.registry import Registry
from coverage.data.registry_files import load_registry
from coverage.patient.finder import Finder

# Property tests explore new examples on developers' machines; in CI they replay a fixed
# sequence so that a submission is never failed by chance (a failure found locally is kept in
# the test as an explicit example).
hypothesis_settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def region() -> Region:
    return load_region(region="84")


@pytest.fixture(scope="session")
def registry(region: Region) -> Registry:
    from coverage import settings

    return load_registry(settings.DEFAULT_REGISTRY, region=region)


@pytest.fixture(scope="session")
def finder(region: Region, registry: Registry) -> Finder:
    from coverage import settings
    from coverage.travel.catchments import computed_zones

    zones = computed_zones(region=region, registry=registry)
    assert settings.DEFAULT_REGISTRY.is_file()
    return Finder(region, registry, zones)
