"""The cost of straight lines: who is sent to the wrong structure by distance as the crow flies.

Given, for the same communes and structures, a straight-line cost matrix and a road-time
matrix (``AccessTable.matrix("distance_km")`` of a geodesic model and
``AccessTable.matrix("duration_min")`` of a road model, or both from one matrix model whose
distances are straight lines), each commune's straight-line nearest structure is compared with
its nearest by road time. The population whose straight-line nearest is not its nearest by
road, and the extra minutes that choice would cost them (population-weighted median and P90),
are given overall and per département. Pure functions over arrays; no wording.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from coverage._errors import ArgumentError
from coverage.analysis.access import AccessTable

__all__ = [
    "ROAD_MODELS",
    "StraightLineCost",
    "StraightLineReport",
    "straight_line_cost",
    "straight_line_for_access",
    "weighted_quantile",
]

#: Travel models whose times are measured on roads (the estimate's are a function of the
#: straight line, so it never disagrees with it).
ROAD_MODELS: tuple[str, ...] = ("matrix", "osrm")


@dataclass(frozen=True)
class StraightLineCost:
    """The cost of choosing by straight line, for one set of communes.

    Attributes
    ----------
    communes, population
        Communes (and their population) where both choices have a known road time.
    unknown_communes
        Communes left out: no road time to their straight-line or road nearest (e.g. outside
        a matrix that covers one département).
    disagree_communes, disagree_population, disagree_share
        Those whose straight-line nearest is slower by road than their road nearest (strictly;
        equal times agree); the share is of ``population``.
    extra_min_median, extra_min_p90
        Extra minutes of the straight-line choice for that population (population-weighted,
        inverted-CDF quantiles); NaN when nobody disagrees.
    """

    communes: int
    population: float
    unknown_communes: int
    disagree_communes: int
    disagree_population: float
    disagree_share: float
    extra_min_median: float
    extra_min_p90: float

    def to_dict(self) -> dict[str, Any]:
        return {
            k: (None if isinstance(v, float) and np.isnan(v) else v)
            for k, v in asdict(self).items()
        }


@dataclass(frozen=True)
class StraightLineReport:
    """``overall`` and ``by_departement`` (département code -> ``StraightLineCost``)."""

    overall: StraightLineCost
    by_departement: dict[str, StraightLineCost]

    def to_dict(self) -> dict[str, Any]:
        return {
            "overall": self.overall.to_dict(),
            "by_departement": {d: c.to_dict() for d, c in self.by_departement.items()},
        }


def weighted_quantile(values: npt.ArrayLike, weights: npt.ArrayLike, q: float) -> float:
    """Smallest value whose cumulative weight reaches ``q`` of the total (inverted CDF)."""
    v = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    keep = w > 0
    if not keep.any():
        return float("nan")
    order = np.argsort(v[keep], kind="stable")
    sv, cw = v[keep][order], np.cumsum(w[keep][order])
    return float(sv[np.searchsorted(cw, q * cw[-1], side="left")])


def _choices(straight: np.ndarray, road: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(known, extra minutes, disagree) per commune."""
    n = straight.shape[0]
    s = np.where(np.isfinite(straight), straight, np.inf)
    r = np.where(np.isfinite(road), road, np.inf)
    rows = np.arange(n)
    pick_s = np.argmin(s, axis=1)
    pick_r = np.argmin(r, axis=1)
    t_s, t_r = r[rows, pick_s], r[rows, pick_r]
    known = np.isfinite(t_s) & np.isfinite(t_r) & np.isfinite(s[rows, pick_s])
    extra = np.full(n, np.nan)
    extra[known] = t_s[known] - t_r[known]
    return known, extra, known & (extra > 0)


def _summary(
    known: np.ndarray, extra: np.ndarray, disagree: np.ndarray, population: np.ndarray
) -> StraightLineCost:
    pop_known = float(population[known].sum())
    pop_dis = float(population[disagree].sum())
    return StraightLineCost(
        communes=int(known.sum()),
        population=pop_known,
        unknown_communes=int((~known).sum()),
        disagree_communes=int(disagree.sum()),
        disagree_population=pop_dis,
        disagree_share=pop_dis / pop_known if pop_known > 0 else float("nan"),
        extra_min_median=weighted_quantile(extra[disagree], population[disagree], 0.5),
        extra_min_p90=weighted_quantile(extra[disagree], population[disagree], 0.9),
    )


def straight_line_cost(
    straight_km: npt.ArrayLike,
    road_min: npt.ArrayLike,
    population: npt.ArrayLike,
    *,
    departement: npt.ArrayLike | None = None,
) -> StraightLineReport:
    """Compare each commune's straight-line nearest structure with its nearest by road.

    Parameters
    ----------
    straight_km
        Communes x structures straight-line cost (any monotone straight-line cost).
    road_min
        Communes x structures road time, same shape; ``inf``/NaN where unknown.
    population
        Population of each commune.
    departement
        Département code of each commune, for ``by_departement``.

    Ties: the first structure (lowest column) wins, for both choices.
    """
    s = np.asarray(straight_km, dtype=float)
    r = np.asarray(road_min, dtype=float)
    pop = np.asarray(population, dtype=float)
    if s.ndim != 2 or s.shape != r.shape or pop.shape != (s.shape[0],) or s.shape[1] == 0:
        raise ArgumentError(
            "`straight_km` and `road_min` must be n x m (m >= 1) and `population` of length n."
        )
    known, extra, disagree = _choices(s, r)
    overall = _summary(known, extra, disagree, pop)
    by_dep: dict[str, StraightLineCost] = {}
    if departement is not None:
        deps = np.asarray(departement).astype(str)
        if deps.shape != pop.shape:
            raise ArgumentError("`departement` must have one code per commune.")
        for dep in sorted(set(deps.tolist())):
            m = deps == dep
            by_dep[dep] = _summary(known[m], extra[m], disagree[m], pop[m])
    return StraightLineReport(overall=overall, by_departement=by_dep)


def straight_line_for_access(
    access: AccessTable,
    *,
    straight: AccessTable | None = None,
    kind: str = "tous_publics",
) -> StraightLineReport | None:
    """The straight-line cost for the structures of ``kind`` of a road-model access table.

    Returns ``None`` when ``access`` is not measured on roads (``ROAD_MODELS``). The straight
    lines are ``straight``'s distances (a geodesic access table on the same communes and
    structures), or ``access``'s own when its model's distances are straight lines (a matrix
    without distances: ``distance_source == "geodesic"``).
    """
    if access.model_name not in ROAD_MODELS or not access.has_time:
        return None
    if straight is None:
        if getattr(access.model, "distance_source", None) != "geodesic":
            raise ArgumentError(
                "`straight` (a geodesic access table) is needed: this model's distances are "
                "road distances."
            )
        straight = access
    same = np.array_equal(straight.col("insee"), access.col("insee")) and np.array_equal(
        straight.structure_ids(), access.structure_ids()
    )
    if not same:
        raise ArgumentError("`straight` must have the communes and structures of `access`.")
    cols = access.kind_columns(kind)
    return straight_line_cost(
        np.asarray(straight.matrix("distance_km")[:, cols]),
        np.asarray(access.matrix("duration_min")[:, cols]),
        access.population,
        departement=access.col("dep"),
    )
