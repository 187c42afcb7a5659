"""Post-cancer care pathway coverage in Auvergne-Rhône-Alpes: finder and planning analytics.

The curated public API, importable from the package root::

    from coverage import Finder, load_region, load_registry, build_access, analyse, Scenario

Names are loaded on first use, so ``import coverage`` stays cheap (the command line imports
only what a sub-command needs). The layers live in subpackages: ``data`` (communes, registry,
zonings, places), ``travel`` (travel models), ``roads`` (the OSRM engine), ``patient`` (the
finder's answer), ``analysis`` (access, metrics, scenarios, siting), ``outputs`` (French
wording, report, exports, maps), ``cli`` and ``web`` (front ends).

The import name ``coverage`` is shared with coverage.py; this project never installs
coverage.py. ``coverage.PROJECT_MARKER`` lets a test check that the imported package is ours.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

PROJECT_MARKER = "parcours-coverage"

#: Public name -> module that defines it.
_API: dict[str, str] = {
    # errors
    "CoverageError": "coverage._errors",
    "ValidationError": "coverage._errors",
    "ArgumentError": "coverage._errors",
    "PlaceError": "coverage._errors",
    "OutsideRegionError": "coverage._errors",
    "RegistryError": "coverage._errors",
    "CoverageWarning": "coverage._errors",
    # geography
    "RegionSpec": "coverage.geography",
    "all_regions": "coverage.geography",
    "region_spec": "coverage.geography",
    # data
    "Region": "coverage.data.region",
    "load_region": "coverage.data.region",
    "Registry": "coverage.data.registry",
    "load_registry": "coverage.data.registry_files",
    "lookup": "coverage.data.places",
    # travel
    "TravelModel": "coverage.travel",
    "GeodesicModel": "coverage.travel",
    "make_model": "coverage.travel",
    # patient
    "Finder": "coverage.patient.finder",
    "FinderResult": "coverage.patient.finder",
    # analysis
    "AccessTable": "coverage.analysis.access",
    "build_access": "coverage.analysis.access",
    "load_access": "coverage.analysis.access",
    "Analysis": "coverage.analysis.analyse",
    "SiteSuggestions": "coverage.analysis.analyse",
    "analyse": "coverage.analysis.analyse",
    "suggest_sites": "coverage.analysis.analyse",
    "Headline": "coverage.analysis.results",
    "ThresholdShare": "coverage.analysis.results",
    "Provenance": "coverage.analysis.results",
    "PlannerInputs": "coverage.analysis.inputs",
    "SitingRequest": "coverage.analysis.inputs",
    "Scenario": "coverage.analysis.scenario",
    "ScenarioResult": "coverage.analysis.scenario",
    "WhatIf": "coverage.analysis.scenario",
    # outputs
    "departements_frame_fr": "coverage.outputs.report",
    "scenario_lines": "coverage.outputs.text",
    "siting_lines": "coverage.outputs.text",
    "summary_lines": "coverage.outputs.text",
    "write_report": "coverage.outputs.report",
    "write_coverage_map": "coverage.outputs.maps.coverage",
    "write_csv": "coverage.outputs.exports",
}

__all__ = [
    "PROJECT_MARKER",
    "AccessTable",
    "Analysis",
    "ArgumentError",
    "CoverageError",
    "CoverageWarning",
    "Finder",
    "FinderResult",
    "GeodesicModel",
    "Headline",
    "OutsideRegionError",
    "PlaceError",
    "PlannerInputs",
    "Provenance",
    "Region",
    "RegionSpec",
    "Registry",
    "RegistryError",
    "Scenario",
    "ScenarioResult",
    "SiteSuggestions",
    "SitingRequest",
    "ThresholdShare",
    "TravelModel",
    "ValidationError",
    "WhatIf",
    "__version__",
    "all_regions",
    "analyse",
    "build_access",
    "departements_frame_fr",
    "load_access",
    "load_region",
    "load_registry",
    "lookup",
    "make_model",
    "region_spec",
    "scenario_lines",
    "siting_lines",
    "suggest_sites",
    "summary_lines",
    "write_coverage_map",
    "write_csv",
    "write_report",
]


def _version() -> str:
    """The installed distribution's version (``importlib.metadata``, ~30 ms to import: read
    on first use of ``coverage.__version__``, not at every start of the command line)."""
    from importlib import metadata

    try:
        return metadata.version(PROJECT_MARKER)
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0+unknown"


def __getattr__(name: str) -> Any:
    """Load a public name on first use (PEP 562)."""
    if name == "__version__":
        globals()[name] = value = _version()
        return value
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'coverage' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))


if TYPE_CHECKING:  # pragma: no cover - for type checkers and editors only
    from coverage._errors import (
        ArgumentError,
        CoverageError,
        CoverageWarning,
        OutsideRegionError,
        PlaceError,
        RegistryError,
        ValidationError,
    )
    from coverage.analysis.access import AccessTable, build_access, load_access
    from coverage.analysis.analyse import Analysis, SiteSuggestions, analyse, suggest_sites
    from coverage.analysis.inputs import PlannerInputs, SitingRequest
    from coverage.analysis.results import Headline, Provenance, ThresholdShare
    from coverage.analysis.scenario import Scenario, ScenarioResult, WhatIf
    from coverage.data.places import lookup
    from coverage.data.region import Region, load_region
    from coverage.data.registry import Registry
    from coverage.data.registry_files import load_registry
    from coverage.geography import RegionSpec, all_regions, region_spec
    from coverage.outputs.exports import write_csv
    from coverage.outputs.maps.coverage import write_coverage_map
    from coverage.outputs.report import departements_frame_fr, write_report
    from coverage.outputs.text import scenario_lines, siting_lines, summary_lines
    from coverage.patient.finder import Finder, FinderResult
    from coverage.travel import GeodesicModel, TravelModel, make_model
