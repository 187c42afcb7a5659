"""The one way from a planner's question to an analysis: the typed request and :func:`plan`.

Both front ends ask through here: ``parcours analyse`` parses its arguments into a
:class:`PlanningRequest`, the planners' desk builds one from its widgets (and a worker process
receives it), and :func:`plan` turns a region, a registry and the request into a
:class:`Plan`. The defaults live beside the request, so the two front ends give the same
answer to the same question.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from coverage._errors import ValidationError
from coverage.analysis.access import AccessTable
from coverage.analysis.access_build import build_access
from coverage.analysis.access_matrix import Cost
from coverage.analysis.analyse import Analysis, analyse
from coverage.analysis.figures import DEFAULT_THRESHOLD
from coverage.analysis.inputs import PlannerInputs, SitingRequest
from coverage.analysis.scenario import Scenario, ScenarioResult, WhatIf
from coverage.analysis.suggestions import Objective
from coverage.data.region import Region
from coverage.data.registry import Registry
from coverage.data.territories import Territories, default_territories, load_territories

if TYPE_CHECKING:
    from coverage.data.weights import DemandWeights, DeprivationIndex
    from coverage.data.zones import AjaZones
    from coverage.travel.base import TravelModel

#: Sites suggested when a planner asks for siting without saying how many.
DEFAULT_SITES: Final = 3
#: The siting objective by default: the most people brought within the threshold.
DEFAULT_OBJECTIVE: Final[Objective] = "mclp"
#: Candidate communes by default: every commune (``None``), whatever its population.
DEFAULT_CANDIDATES_MIN_POPULATION: Final[int | None] = None
#: The cost measured by default.
DEFAULT_COST: Final[Cost] = "distance_km"


@dataclass(frozen=True)
class Siting:
    """Suggest ``k`` new all-patients sites by ``objective``.

    Candidates are the communes of the applicants when given (``applicants``: the applicants'
    names by INSEE code, ``CandidateSet.names_by_commune``), else every commune;
    ``min_population`` keeps only those of at least that many inhabitants.
    """

    k: int = DEFAULT_SITES
    objective: Objective = DEFAULT_OBJECTIVE
    min_population: int | None = DEFAULT_CANDIDATES_MIN_POPULATION
    applicants: Mapping[str, str] | None = None


@dataclass(frozen=True)
class PlanningRequest:
    """A planner's question, whichever front end asked it.

    Attributes
    ----------
    threshold, by
        The acceptable cost and the cost it applies to (``distance_km``/``duration_min``).
    scenario
        Structures added, removed or moved before measuring (the registry is never changed).
    siting
        New sites to suggest, or ``None``.
    demand, demand_aja, deprivation, territories
        The planner's files, read and checked (``None`` when not given).
    embedded_territories
        Without a territory file, use the region's embedded territories when the registry is
        the embedded one (as ``parcours analyse`` always did).
    """

    threshold: float = DEFAULT_THRESHOLD
    by: Cost = DEFAULT_COST
    scenario: Scenario = field(default_factory=Scenario)
    siting: Siting | None = None
    demand: DemandWeights | None = None
    demand_aja: DemandWeights | None = None
    deprivation: DeprivationIndex | None = None
    territories: Territories | None = None
    embedded_territories: bool = True


@dataclass(frozen=True, eq=False)
class Plan:
    """What :func:`plan` answers: the analysis (after the scenario, when there is one) and
    the scenario's before/after figures."""

    analysis: Analysis
    scenario: ScenarioResult | None = None

    def to_dict(self) -> dict[str, Any]:
        """The analysis's JSON with the scenario's (``None`` without one)."""
        out = self.analysis.to_dict()
        out["scenario"] = None if self.scenario is None else self.scenario.to_dict()
        return out


def plan(
    region: Region,
    registry: Registry,
    request: PlanningRequest,
    *,
    model: TravelModel | None = None,
    zones: AjaZones | None = None,
    access: AccessTable | None = None,
) -> Plan:
    """Answer ``request`` for ``registry`` in ``region``.

    ``access`` is the commune x structure table of ``registry`` when the caller keeps one
    (the page caches it); otherwise it is built with ``model`` (straight lines by default)
    and ``zones`` (the computed AJA zones by default).

    Raises
    ------
    ValidationError
        The request cannot be answered (a duration asked of a model without times, no
        candidate commune left, a place of the scenario unknown...), in French.
    """
    if access is None:
        access = _access(region, registry, model=model, zones=zones)
    access.matrix(request.by)  # refuses, first, a duration of a model without times
    inputs = _inputs(request, access, region, registry)
    result = _what_if(request, access, region)
    if result is not None:
        access = result.access
    analysis = analyse(
        access,
        region=region,
        registry=registry,
        threshold=request.threshold,
        by=request.by,
        siting=_siting(request.siting, access),
        inputs=inputs,
    )
    if result is not None:
        meta = dataclasses.replace(analysis.meta, scenario=tuple(result.changes))
        analysis = dataclasses.replace(analysis, meta=meta)
    return Plan(analysis, result)


def _access(
    region: Region, registry: Registry, *, model: TravelModel | None, zones: AjaZones | None
) -> AccessTable:
    from coverage.travel import GeodesicModel

    return build_access(region, registry, zones=zones, model=model or GeodesicModel())


def territories_for(
    request: PlanningRequest, region: Region, registry: Registry
) -> Territories | None:
    """The territories of the request, else the region's embedded ones with its embedded
    registry (``None`` when there are none)."""
    if request.territories is not None:
        return request.territories
    if not (request.embedded_territories and registry.is_default):
        return None
    paths = default_territories(region.code)
    return load_territories(paths, region=region, registry=registry) if paths else None


def _inputs(
    request: PlanningRequest, access: AccessTable, region: Region, registry: Registry
) -> PlannerInputs:
    return PlannerInputs(
        demand=request.demand,
        demand_aja=request.demand_aja,
        deprivation=request.deprivation,
        territories=territories_for(request, region, registry),
        straight=_straight_table(access, region, registry),
    )


def _straight_table(access: AccessTable, region: Region, registry: Registry) -> AccessTable | None:
    """A straight-line table beside a road engine's, for the cost of straight lines (a matrix
    without distances measures its own straight lines)."""
    if access.model_name != "osrm":
        return None
    from coverage.data.zones import AjaZones
    from coverage.travel import GeodesicModel

    zones = AjaZones(
        access.communes[["insee", "aja_zone_device"]]
        .rename(columns={"aja_zone_device": "device_id"})
        .query("device_id != ''"),
        official=access.zones_official,
        source="",
        model="geodesic",
    )
    return build_access(region, registry, zones=zones, model=GeodesicModel())


def _what_if(
    request: PlanningRequest, access: AccessTable, region: Region
) -> ScenarioResult | None:
    if request.scenario.is_empty:
        return None
    whatif = WhatIf(access, region, threshold=request.threshold, by=request.by)
    return whatif.run(request.scenario)


def candidate_communes(siting: Siting, access: AccessTable) -> tuple[str, ...] | None:
    """The candidate communes of ``siting`` (``None``: every commune)."""
    codes: list[str] | None = None
    if siting.applicants is not None:
        codes = list(siting.applicants)
    if siting.min_population is not None:
        c = access.communes
        big = set(c.loc[c["population"] >= siting.min_population, "insee"].astype(str))
        codes = [i for i in (codes if codes is not None else c["insee"].astype(str)) if i in big]
        if not codes:
            raise ValidationError(
                f"Aucune commune candidate n'a au moins {siting.min_population} habitants."
            )
    return None if codes is None else tuple(codes)


def _siting(siting: Siting | None, access: AccessTable) -> SitingRequest | None:
    if siting is None:
        return None
    names = dict(siting.applicants or {})
    return SitingRequest(
        k=siting.k,
        objective=siting.objective,
        candidates=candidate_communes(siting, access),
        applicants=names,
    )
