"""What the page builds, without Streamlit: finders, plans, what-ifs, maps, reports, exports.

The upload workers (:mod:`coverage.web.tasks`) run these in another process, so this module
imports no Streamlit; :mod:`coverage.web.loaders` wraps some of them in the page's caches.
Heavy modules (maps, report, exports) are imported when first needed.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from coverage.data.region import Region
from coverage.data.registry import Registry
from coverage.patient.finder import Finder, FinderResult
from coverage.travel.base import TravelModel
from coverage.travel.catchments import load_zones

if TYPE_CHECKING:
    import folium

    from coverage.analysis.access import AccessTable
    from coverage.analysis.access_matrix import Cost
    from coverage.analysis.analyse import Analysis
    from coverage.analysis.planning import Plan, PlanningRequest
    from coverage.analysis.scenario import ScenarioResult, WhatIf
    from coverage.analysis.suggestions import SiteSuggestions


def finder_for_registry(region: Region, registry: Registry, *, model: TravelModel) -> Finder:
    """A finder using an uploaded registry (AJA zones computed or read for it)."""
    zones = load_zones(region=region, registry=registry, model=model)
    return Finder(region, registry, zones, model)


def finder_with_model(finder: Finder, model: TravelModel) -> Finder:
    """The same registry measured by ``model``: the official AJA zoning is kept, computed
    zones are computed again by ``model`` (as ``parcours analyse --travel`` computes them)."""
    zones = finder.zones if finder.zones.official else None
    return Finder(finder.region, finder.registry, zones, model, territories=finder.territories)


def render_finder_map(result: FinderResult, finder: Finder) -> str:
    """The patient's map as one HTML document (Leaflet inline)."""
    from coverage.outputs.maps.finder import finder_map

    return _to_html(finder_map(result, finder))


def _to_html(m: folium.Map) -> str:
    from coverage.outputs.maps import base as maps

    return maps.to_html(m)


def build_access_for(finder: Finder) -> AccessTable:
    """Commune x structure costs of the finder's registry (``access_build.build_access``)."""
    from coverage.analysis.access_build import build_access

    return build_access(finder.region, finder.registry, zones=finder.zones, model=finder.model)


def build_plan(access: AccessTable, finder: Finder, request: PlanningRequest) -> Plan:
    """The answer to ``request`` (``coverage.analysis.planning.plan``) for the finder's
    registry, on its commune x structure table ``access``."""
    from coverage.analysis.planning import plan

    return plan(finder.region, finder.registry, request, access=access)


def build_analysis(access: AccessTable, finder: Finder, *, threshold: float, by: Cost) -> Analysis:
    """The analysis of the desk's first screen: :func:`build_plan` of the default request at
    ``threshold`` on cost ``by``."""
    from coverage.analysis.planning import PlanningRequest

    return build_plan(access, finder, PlanningRequest(threshold=threshold, by=by)).analysis


def build_whatif(access: AccessTable, region: Region, *, threshold: float, by: Cost) -> WhatIf:
    """A ``WhatIf`` whose base figures are computed once."""
    from coverage.analysis.scenario import WhatIf

    return WhatIf(access, region, threshold=threshold, by=by)


def run_scenario(whatif: WhatIf, add: tuple[str, ...], remove: tuple[str, ...]) -> ScenarioResult:
    """``WhatIf.run`` for structures added at communes ``add`` (INSEE codes) and ``remove``."""
    from coverage.analysis.scenario import Scenario

    return whatif.run(Scenario(add=add, remove=remove))


def render_sites_map(sites: SiteSuggestions, analysis: Analysis) -> str:
    """The suggested sites beside the existing structures, as one HTML document."""
    from coverage.outputs.maps.coverage import sites_map

    return _to_html(sites_map(sites, analysis))


def render_coverage_map(analysis: Analysis, region: Region) -> str:
    """The coverage choropleth (``coverage.outputs.maps.coverage``) as one HTML document."""
    from coverage.outputs.maps.coverage import coverage_map

    return _to_html(coverage_map(analysis, region))


def render_scenario_map(result: ScenarioResult, finder: Finder) -> str:
    """The coverage map after a what-if (its choropleth and its added structures)."""
    from coverage.analysis.analyse import analyse
    from coverage.outputs.maps.coverage import coverage_map

    after = analyse(
        result.access,
        region=finder.region,
        registry=finder.registry,
        threshold=result.threshold,
        by=result.by,  # type: ignore[arg-type]
    )
    return _to_html(coverage_map(after, finder.region, scenario=result))


def render_report(analysis: Analysis) -> str:
    """The planners' HTML report (``coverage.outputs.report.render_report``)."""
    from coverage.outputs.report import render_report as render

    return render(analysis)


def render_charts(analysis: Analysis) -> tuple[str, str]:
    """(histogram, Lorenz curve) as inline SVG (``""`` when undefined)."""
    from coverage.outputs.report import histogram_svg, lorenz_svg

    return histogram_svg(analysis), lorenz_svg(analysis)


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
