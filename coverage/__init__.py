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
from pathlib import Path
from typing import TYPE_CHECKING, Any

PROJECT_MARKER = "parcours-coverage"


def _public_api() -> dict[str, str]:
    """Public name -> module that defines it, read from the ``TYPE_CHECKING`` imports at the end
    of this file. They are the one list of the API: type checkers and editors read them, and so
    does the loader below (``_API``, and ``__all__`` derived from it), on first use, so that
    ``import coverage`` does not parse them at every start of the command line."""
    import ast

    tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name):
            if node.test.id == "TYPE_CHECKING":
                return {
                    alias.name: str(imp.module)
                    for imp in node.body
                    if isinstance(imp, ast.ImportFrom)
                    for alias in imp.names
                }
    raise ImportError("coverage/__init__.py has lost its TYPE_CHECKING block of public names.")


def _version() -> str:
    """The installed distribution's version (``importlib.metadata``, slow to import: read on
    first use of ``coverage.__version__``, not at every start of the command line)."""
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
    if name == "_API":
        globals()[name] = api = _public_api()
        return api
    if name == "__all__":
        globals()[name] = names = ["PROJECT_MARKER", "__version__", *__getattr__("_API")]
        return names
    module = __getattr__("_API").get(name)
    if module is None:
        raise AttributeError(f"module 'coverage' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__getattr__("_API")))


if TYPE_CHECKING:  # pragma: no cover - for type checkers and editors only
    from coverage._errors import ArgumentError as ArgumentError
    from coverage._errors import CoverageError as CoverageError
    from coverage._errors import CoverageWarning as CoverageWarning
    from coverage._errors import OutsideRegionError as OutsideRegionError
    from coverage._errors import PlaceError as PlaceError
    from coverage._errors import RegistryError as RegistryError
    from coverage._errors import ValidationError as ValidationError
    from coverage.analysis.access import AccessTable as AccessTable
    from coverage.analysis.access_build import build_access as build_access
    from coverage.analysis.access_build import load_access as load_access
    from coverage.analysis.analyse import Analysis as Analysis
    from coverage.analysis.analyse import analyse as analyse
    from coverage.analysis.inputs import PlannerInputs as PlannerInputs
    from coverage.analysis.inputs import SitingRequest as SitingRequest
    from coverage.analysis.results import Headline as Headline
    from coverage.analysis.results import Provenance as Provenance
    from coverage.analysis.results import ThresholdShare as ThresholdShare
    from coverage.analysis.scenario import Scenario as Scenario
    from coverage.analysis.scenario import ScenarioResult as ScenarioResult
    from coverage.analysis.scenario import WhatIf as WhatIf
    from coverage.analysis.suggestions import SiteSuggestions as SiteSuggestions
    from coverage.analysis.suggestions import suggest_sites as suggest_sites
    from coverage.data.places import lookup as lookup
    from coverage.data.region import Region as Region
    from coverage.data.region import load_region as load_region
    from coverage.data.registry import Registry as Registry
    from coverage.data.registry_files import load_registry as load_registry
    from coverage.geography import RegionSpec as RegionSpec
    from coverage.geography import all_regions as all_regions
    from coverage.geography import region_spec as region_spec
    from coverage.outputs.exports import write_csv as write_csv
    from coverage.outputs.maps.coverage import write_coverage_map as write_coverage_map
    from coverage.outputs.report import departements_frame_fr as departements_frame_fr
    from coverage.outputs.report import write_report as write_report
    from coverage.outputs.text import scenario_lines as scenario_lines
    from coverage.outputs.text import siting_lines as siting_lines
    from coverage.outputs.text import summary_lines as summary_lines
    from coverage.patient.finder import Finder as Finder
    from coverage.patient.finder import FinderResult as FinderResult
    from coverage.travel import GeodesicModel as GeodesicModel
    from coverage.travel import TravelModel as TravelModel
    from coverage.travel import make_model as make_model
