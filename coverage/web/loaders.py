"""Typed cached loaders of the page: finders, analyses, what-ifs, maps and export files.

Every loader takes hashable identifiers (registry key, threshold, cost, query) that make the
Streamlit cache key, and the objects it derives from as leading-underscore arguments, which
Streamlit does not hash. The returned objects are shared between reruns and sessions: they
must not be mutated. Heavy modules (maps, report, exports) are imported when first needed.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from coverage._errors import CoverageError
from coverage.data.region import Region
from coverage.data.registry import Registry
from coverage.patient.finder import Finder, FinderResult
from coverage.travel.base import TravelModel
from coverage.travel.catchments import load_zones
from coverage.web.config import travel_model_from_env

if TYPE_CHECKING:
    import folium

    from coverage.analysis.access import AccessTable, Cost
    from coverage.analysis.analyse import Analysis, Objective, SiteSuggestions
    from coverage.analysis.scenario import ScenarioResult, WhatIf

log = logging.getLogger("coverage.app")


# --------------------------------------------------------------------------- finders


@st.cache_resource(show_spinner=False, max_entries=4)
def get_finder(key: str) -> Finder:
    """The server's finder for the registry in force (``$PARCOURS_REGISTRY`` or embedded).

    ``key`` is :func:`coverage.web.config.registry_key` of the registry file: a new key (file
    edited) loads again.

    Raises
    ------
    RegistryError, DataSourceError
        The registry or the reference data cannot be loaded.
    """
    del key  # only part of the cache key
    finder = Finder.load(model=travel_model_from_env())
    _warm_up(finder)
    return finder


def _warm_up(finder: Finder) -> None:
    """Build the lazy indexes (place names, AJA zone shapes) before the first search."""
    try:
        finder.lookup("Lyon")
        finder.zones.polygons(finder.region)
    except CoverageError:  # pragma: no cover - the page reports errors at search time
        log.exception("warm-up failed")


def finder_for_registry(region: Region, registry: Registry, *, model: TravelModel) -> Finder:
    """A finder using an uploaded registry (AJA zones computed or read for it)."""
    zones = load_zones(region=region, registry=registry, model=model)
    return Finder(region, registry, zones, model)


@st.cache_data(show_spinner=False, max_entries=256)
def finder_map_html(
    key: str, query: str, young: bool, _result: FinderResult, _finder: Finder
) -> str:
    """The patient's map as one HTML document (Leaflet inline), cached per place."""
    from coverage.outputs.maps.finder import finder_map

    del key, query, young
    return _to_html(finder_map(_result, _finder))


def _to_html(m: folium.Map) -> str:
    from coverage.outputs.maps import base as maps

    return maps.to_html(m)


@st.cache_data(show_spinner=False, max_entries=8)
def commune_options(key: str, _region: Region) -> dict[str, str]:
    """INSEE code -> "Name (dep)" for every commune, sorted by name (for pickers)."""
    del key
    c = _region.communes.sort_values(["name", "dep"], kind="stable")
    return dict(zip(c["insee"], c["name"] + " (" + c["dep"] + ")", strict=True))


# --------------------------------------------------------------------------- planners' desk


@st.cache_resource(show_spinner=False, max_entries=8)
def get_access(key: str, _finder: Finder) -> AccessTable:
    """Commune x structure costs of the finder's registry (``access.build_access``)."""
    from coverage.analysis.access import build_access

    del key
    f = _finder
    return build_access(f.region, f.registry, zones=f.zones, model=f.model)


@st.cache_resource(show_spinner=False, max_entries=32)
def get_analysis(
    key: str, threshold: float, by: Cost, _access: AccessTable, _finder: Finder
) -> Analysis:
    """The coverage analysis (``analyse.analyse``) at ``threshold`` on cost ``by``."""
    from coverage.analysis.analyse import analyse

    del key
    return analyse(
        _access, region=_finder.region, registry=_finder.registry, threshold=threshold, by=by
    )


@st.cache_resource(show_spinner=False, max_entries=32)
def get_whatif(
    key: str, threshold: float, by: Cost, _access: AccessTable, _region: Region
) -> WhatIf:
    """A ``WhatIf`` whose base figures are computed once."""
    from coverage.analysis.scenario import WhatIf

    del key
    return WhatIf(_access, _region, threshold=threshold, by=by)


@st.cache_resource(show_spinner=False, max_entries=64)
def run_whatif(
    key: str,
    threshold: float,
    by: Cost,
    add: tuple[str, ...],
    remove: tuple[str, ...],
    _whatif: WhatIf,
) -> ScenarioResult:
    """``WhatIf.run`` for structures added at communes ``add`` (INSEE codes) and ``remove``."""
    from coverage.analysis.scenario import Scenario

    del key, threshold, by
    return _whatif.run(Scenario(add=add, remove=remove))


@st.cache_resource(show_spinner=False, max_entries=32)
def get_sites(
    key: str, threshold: float, by: Cost, k: int, objective: Objective, _access: AccessTable
) -> SiteSuggestions:
    """Greedy siting suggestions (``coverage.analysis.analyse.suggest_sites``)."""
    from coverage.analysis.analyse import suggest_sites

    del key
    return suggest_sites(_access, k=k, objective=objective, threshold=threshold, by=by)


# --------------------------------------------------------------------------- files


@st.cache_data(show_spinner=False, max_entries=16)
def coverage_map_html(
    key: str, threshold: float, by: Cost, *, _analysis: Analysis, _region: Region
) -> str:
    """The coverage choropleth (``coverage.outputs.maps.coverage``) as one HTML document."""
    from coverage.outputs.maps.coverage import coverage_map

    del key, threshold, by
    return _to_html(coverage_map(_analysis, _region))


@st.cache_data(show_spinner=False, max_entries=16)
def scenario_map_html(
    key: str,
    threshold: float,
    by: Cost,
    add: tuple[str, ...],
    remove: tuple[str, ...],
    *,
    _result: ScenarioResult,
    _finder: Finder,
) -> str:
    """The coverage map after a what-if (its choropleth and its added structures)."""
    from coverage.analysis.analyse import analyse
    from coverage.outputs.maps.coverage import coverage_map

    del key, add, remove
    after = analyse(
        _result.access, region=_finder.region, registry=_finder.registry, threshold=threshold, by=by
    )
    return _to_html(coverage_map(after, _finder.region, scenario=_result))


@st.cache_data(show_spinner=False, max_entries=16)
def report_html(key: str, threshold: float, by: Cost, *, _analysis: Analysis) -> str:
    """The planners' HTML report (``coverage.outputs.report.render_report``)."""
    from coverage.outputs.report import render_report

    del key, threshold, by
    return render_report(_analysis)


@st.cache_data(show_spinner=False, max_entries=16)
def charts_svg(key: str, threshold: float, by: Cost, *, _analysis: Analysis) -> tuple[str, str]:
    """(histogram, Lorenz curve) as inline SVG (``""`` when undefined)."""
    from coverage.outputs.report import histogram_svg, lorenz_svg

    del key, threshold, by
    return histogram_svg(_analysis), lorenz_svg(_analysis)


def communes_csv(analysis: Analysis) -> bytes:
    """The per-commune table as the documented French CSV (``coverage.outputs.exports``)."""
    from coverage.outputs import exports

    table = exports.commune_table(analysis)
    decimals = {dst: d for _, dst, d in exports.COMMUNE_EXPORT}
    return exports.to_csv_bytes(table, decimals=decimals)


def communes_gpkg(analysis: Analysis, region: Region) -> bytes:
    """The GeoPackage export as bytes (written in a private temporary folder)."""
    from coverage.outputs import exports

    with tempfile.TemporaryDirectory(prefix="parcours-export-") as folder:
        path = exports.write_gpkg(
            analysis, Path(folder) / exports.EXPORT_NAMES["gpkg"], region=region
        )
        return path.read_bytes()
