"""The heavy builds of an uploaded registry, as tasks a worker process can run.

Each task is a module-level function of picklable arguments (``coverage.web.worker.offload``
sends them to a worker): the registry's :class:`FinderParts` instead of its finder (whose
region, four thousand commune shapes, every process loads for itself), access tables,
analyses and what-if results. Each returns what the page shows: a table, figures, or a map
or report as HTML text. The builders themselves are :mod:`coverage.web.builders`'s.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from coverage.web import builders

if TYPE_CHECKING:
    from coverage.analysis.access import AccessTable
    from coverage.analysis.access_matrix import Cost
    from coverage.analysis.analyse import Analysis
    from coverage.analysis.planning import Plan, PlanningRequest
    from coverage.analysis.scenario import ScenarioResult
    from coverage.data.region import Region
    from coverage.data.registry import Registry
    from coverage.data.territories import Territories
    from coverage.data.zones import AjaZones
    from coverage.patient.finder import Finder, FinderResult
    from coverage.travel.base import TravelModel

Changes = tuple[tuple[str, ...], tuple[str, ...]]

#: Finders a worker keeps, rebuilt from their parts (their zone shapes are drawn once).
FINDERS_KEPT = 4
_finders: OrderedDict[str, Finder] = OrderedDict()
_finders_lock = threading.Lock()


def _region(code: str) -> Region:
    from coverage.data.region import load_region

    return load_region(region=code)  # loaded once per process


@dataclass(frozen=True, eq=False)
class FinderParts:
    """What rebuilds a finder in another process: its key, region code, registry, zones,
    travel model and territories. In the process that made it, :meth:`finder` is the
    original finder itself (it is not sent)."""

    key: str
    region: str
    registry: Registry
    zones: AjaZones
    model: TravelModel
    territories: Territories | None
    local: Finder | None = field(default=None, repr=False)

    @classmethod
    def of(cls, key: str, finder: Finder) -> FinderParts:
        """The parts of ``finder``, whose answers are kept under ``key``."""
        return cls(
            key=key,
            region=finder.region.code,
            registry=finder.registry,
            zones=finder.zones,
            model=finder.model,
            territories=finder.territories,
            local=finder,
        )

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "local": None}

    def finder(self) -> Finder:
        """The finder (the original one here; in a worker, rebuilt once per key)."""
        if self.local is not None:
            return self.local
        from coverage.patient.finder import Finder

        with _finders_lock:
            kept = _finders.get(self.key)
            if kept is not None:
                _finders.move_to_end(self.key)
                return kept
        finder = Finder(
            _region(self.region),
            self.registry,
            self.zones,
            self.model,
            territories=self.territories,
        )
        with _finders_lock:
            _finders[self.key] = finder
            while len(_finders) > FINDERS_KEPT:
                _finders.popitem(last=False)
        return finder


def access(parts: FinderParts) -> AccessTable:
    """Commune x structure costs of the registry."""
    return builders.build_access_for(parts.finder())


def analysis(parts: FinderParts, table: AccessTable, threshold: float, by: Cost) -> Analysis:
    """The coverage analysis at ``threshold`` on cost ``by``."""
    return builders.build_analysis(table, parts.finder(), threshold=threshold, by=by)


def plan(parts: FinderParts, table: AccessTable, request: PlanningRequest) -> Plan:
    """The answer to a planning request (``coverage.analysis.planning.plan``)."""
    return builders.build_plan(table, parts.finder(), request)


def scenario(
    region: str, table: AccessTable, threshold: float, by: Cost, changes: Changes
) -> ScenarioResult:
    """A what-if: structures added at the communes ``changes[0]``, ``changes[1]`` removed."""
    whatif = builders.build_whatif(table, _region(region), threshold=threshold, by=by)
    return builders.run_scenario(whatif, *changes)


def finder_map(parts: FinderParts, result: FinderResult) -> str:
    """The patient's map of ``result``, as one HTML document."""
    return builders.render_finder_map(result, parts.finder())


def coverage_map(region: str, a: Analysis) -> str:
    """The coverage choropleth of ``a``, as one HTML document."""
    return builders.render_coverage_map(a, _region(region))


def scenario_map(parts: FinderParts, result: ScenarioResult) -> str:
    """The coverage map after a what-if, as one HTML document."""
    return builders.render_scenario_map(result, parts.finder())


def report(a: Analysis) -> str:
    """The planners' HTML report of ``a``."""
    return builders.render_report(a)


def charts(a: Analysis) -> tuple[str, str]:
    """(histogram, Lorenz curve) of ``a`` as inline SVG."""
    return builders.render_charts(a)
