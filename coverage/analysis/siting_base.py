"""Siting's common ground: objectives, search and result types, and the value of a set of sites.

``coverage.analysis.siting`` (greedy and interchange) and ``coverage.analysis.exact_siting``
(spopt's integer programmes) both build on it; the checks that turn raw arguments into a
``Problem`` are in ``coverage.analysis.checks``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from coverage._errors import ValidationError

Objective = Literal["coverage", "median"]
OBJECTIVES: tuple[str, ...] = ("coverage", "median")


@dataclass(frozen=True)
class SitingResult:
    """Sites chosen for one objective, in order, with what each one brings.

    Attributes
    ----------
    objective
        ``"coverage"`` (MCLP) or ``"median"`` (p-median).
    method
        ``"greedy"``, ``"greedy+swap"`` or ``"exact"``.
    chosen
        Candidate column indices, in the order they were added (for ``exact``: the order
        in which adding them one by one gives the largest gain first).
    gains
        Marginal gain of each chosen site in that order: people newly within the threshold
        (coverage) or reduction of the population-weighted cost (median). They add up to
        ``after - before`` (coverage) or ``before - after`` (median).
    before, after
        Objective with the existing structures only, and with the chosen sites added:
        population within the threshold (coverage), or population-weighted total cost
        (median; ``inf`` before when no structure exists yet).
    total_weight
        Total population of the demand.
    threshold
        Coverage threshold (``None`` for the median objective).
    seconds
        Wall-clock time of the search.
    optimal
        ``True`` when the solver proved optimality, ``False`` when it stopped early,
        ``None`` for greedy results.
    notes
        Plain-English remarks (reductions applied, solver status).
    """

    objective: str
    method: str
    chosen: tuple[int, ...]
    gains: tuple[float, ...]
    before: float
    after: float
    total_weight: float
    threshold: float | None
    seconds: float = 0.0
    optimal: bool | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def improvement(self) -> float:
        """Total gain of the chosen sites (same unit as ``gains``)."""
        return float(sum(self.gains))


METHODS: tuple[str, ...] = ("greedy", "interchange", "exact")


@dataclass(frozen=True)
class Search:
    """How ``site`` searches.

    Attributes
    ----------
    method
        ``"greedy"``, ``"interchange"`` (greedy then multi-start interchange, the default of
        ``interchange_search``) or ``"exact"`` (spopt + CBC).
    refine
        Greedy only: swap single sites until none helps (one start).
    starts
        Interchange only: the greedy start plus ``starts - 1`` perturbed restarts.
    seed
        Interchange only: seed of the restarts (the same answer on every run).
    time_limit
        Exact only: seconds given to CBC.
    """

    method: str = "greedy"
    refine: bool = False
    starts: int = 8
    seed: int = 0
    time_limit: float | None = None

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValidationError(f"`method` must be one of {METHODS!r}; got {self.method!r}.")
        if isinstance(self.starts, bool) or not isinstance(self.starts, int) or self.starts < 1:
            raise ValidationError(f"`starts` must be an integer >= 1; got {self.starts!r}.")


@dataclass(frozen=True)
class Problem:
    """A checked siting problem (built by ``coverage.analysis.checks.check_siting``)."""

    cost: np.ndarray  # (n, m), rows with positive weight only
    weights: np.ndarray  # (n,), > 0
    existing: np.ndarray  # (n,)
    total_weight: float
    n_candidates: int


def best_costs(p: Problem, chosen: Sequence[int]) -> np.ndarray:
    """Each row's best cost with the existing structures and the ``chosen`` columns open."""
    best = p.existing.copy()
    if len(chosen):
        best = np.minimum(best, p.cost[:, list(chosen)].min(axis=1))
    return best


def value_of(p: Problem, best: np.ndarray, objective: str, z: float | None) -> float:
    """Population within ``z`` (coverage), or population-weighted total cost (median)."""
    if objective == "coverage":
        return float(p.weights[best <= z].sum())
    if not np.isfinite(best).all():
        return math.inf
    return float(np.dot(p.weights, best))


def gains_in_order(
    p: Problem, order: Sequence[int], objective: str, z: float | None
) -> tuple[tuple[float, ...], float, float]:
    """Marginal gain of each site added in ``order``; return (gains, before, after)."""
    best = p.existing.copy()
    before = current = value_of(p, best, objective, z)
    gains: list[float] = []
    for j in order:
        best = np.minimum(best, p.cost[:, j])
        new = value_of(p, best, objective, z)
        gains.append(new - current if objective == "coverage" else current - new)
        current = new
    return tuple(float(g) for g in gains), before, current


def siting_result(
    p: Problem,
    order: Sequence[int],
    objective: str,
    z: float | None,
    *,
    method: str,
    started: float,
    optimal: bool | None = None,
    notes: Sequence[str] = (),
) -> SitingResult:
    """The ``SitingResult`` of sites added in ``order``; ``started`` is a ``perf_counter``."""
    gains, before, after = gains_in_order(p, order, objective, z)
    return SitingResult(
        objective=objective,
        method=method,
        chosen=tuple(order),
        gains=gains,
        before=before,
        after=after,
        total_weight=p.total_weight,
        threshold=z,
        seconds=time.perf_counter() - started,
        optimal=optimal,
        notes=tuple(notes),
    )


def greedy_order(p: Problem, chosen: Sequence[int], objective: str, z: float | None) -> list[int]:
    """Order a set of sites so that each adds the largest gain given the previous ones."""
    best = p.existing.copy()
    remaining = list(chosen)
    order: list[int] = []
    while remaining:
        values = [value_of(p, np.minimum(best, p.cost[:, j]), objective, z) for j in remaining]
        pick = int(np.argmax(values) if objective == "coverage" else np.argmin(values))
        j = remaining.pop(pick)
        best = np.minimum(best, p.cost[:, j])
        order.append(j)
    return order
