"""Siting: where k new structures help most, by greedy search or exactly with spopt.

Inputs are a cost matrix ``cost`` (n_demand x n_candidates, km or min; ``inf`` where a pair
has no route), the demand ``weights`` (population per commune) and ``existing``, each
commune's current best cost to the structures already open (``inf`` where none). The
existing structures stay open: a new site only helps where it beats them.

Two objectives:

- ``"coverage"``, the maximal covering location problem (MCLP; Church & ReVelle 1974, "The
  maximal covering location problem", *Papers of the Regional Science Association* 32):
  maximise the population within ``threshold`` (``cost <= threshold``) of an open
  structure. A site's gain is the number of people it newly brings within the threshold.
- ``"median"``, the p-median problem (Hakimi 1964, *Operations Research* 12(3); ReVelle &
  Swain 1970, *Geographical Analysis* 2(1)): minimise the population-weighted total cost
  :math:`\\sum_i w_i \\min(e_i, \\min_{j \\in S} c_{ij})`. A site's gain is the reduction
  of that sum (person-km or person-minutes).

``greedy`` adds, k times, the candidate with the largest marginal gain (vectorised numpy).
Both objectives are monotone submodular, so the
greedy value is at least (1 - 1/e) of the optimum's gain (Nemhauser, Wolsey & Fisher 1978,
*Mathematical Programming* 14); ``refine=True`` then applies one-site swaps until none helps
(Teitz & Bart 1968, *Operations Research* 16(5)). ``exact`` (``coverage.analysis.exact_siting``)
solves the integer programme with spopt's ``MCLP`` / ``PMedian`` (PuLP + CBC); its size grows
with n_demand x n_candidates, so restrict the candidates for the full region.

The types and the value of a set of sites are in ``coverage.analysis.siting_base``, the checks
of the arguments in ``coverage.analysis.checks``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy import sparse

from coverage._errors import ValidationError
from coverage.analysis import _interchange as interchange
from coverage.analysis.checks import check_candidates, check_siting
from coverage.analysis.exact_siting import exact
from coverage.analysis.siting_base import (
    Objective,
    Problem,
    Search,
    SitingResult,
    best_costs,
    greedy_order,
    siting_result,
    value_of,
)

#: Candidate columns evaluated at once by the p-median greedy (bounds memory to ~n x 512).
_CHUNK = 512


# --------------------------------------------------------------------------------------------
# Greedy
# --------------------------------------------------------------------------------------------


def _columns(p: Problem, cols: np.ndarray, start: int = 0, stop: int | None = None) -> np.ndarray:
    """``p.cost[:, cols[start:stop]]``, as a view (no copy) when ``cols`` is every column."""
    if cols.size == p.n_candidates and cols[0] == 0 and (np.diff(cols) == 1).all():
        return p.cost[:, start:stop]
    return p.cost[:, cols[start:stop]]


def _coverage_matrix(p: Problem, cols: np.ndarray, z: float) -> sparse.csr_matrix:
    """Candidates x demand (CSR) incidence of ``cost <= z``."""
    rows, hits = np.nonzero(_columns(p, cols) <= np.float64(z))  # row-major: rows sorted
    indptr = np.searchsorted(rows, np.arange(p.cost.shape[0] + 1))
    inc = sparse.csr_matrix(
        (np.ones(rows.size, dtype=np.float64), hits, indptr), shape=(p.cost.shape[0], cols.size)
    )
    return inc.T.tocsr()


def _greedy_coverage(p: Problem, cols: np.ndarray, k: int, z: float) -> list[int]:
    reach = _coverage_matrix(p, cols, z)
    open_w = np.where(p.existing <= z, 0.0, p.weights)
    taken = np.zeros(cols.size, dtype=bool)
    picks: list[int] = []
    for _ in range(k):
        gains = reach @ open_w
        gains[taken] = -1.0
        j = int(np.argmax(gains))
        taken[j] = True
        picks.append(j)
        open_w[reach.indices[reach.indptr[j] : reach.indptr[j + 1]]] = 0.0
    return [int(cols[j]) for j in picks]


def _median_gains(p: Problem, cols: np.ndarray, best: np.ndarray) -> np.ndarray:
    """Reduction of sum_i w_i min(best_i, c_ij) for each candidate column (chunked)."""
    out = np.empty(cols.size)
    if not np.isfinite(best).all():  # no structure yet: rank by the resulting total
        for s in range(0, cols.size, _CHUNK):
            block = _columns(p, cols, s, s + _CHUNK)
            out[s : s + _CHUNK] = -(p.weights @ block)
        return out
    for s in range(0, cols.size, _CHUNK):
        block = _columns(p, cols, s, s + _CHUNK)
        out[s : s + _CHUNK] = p.weights @ np.maximum(best[:, None] - block, 0.0)
    return out


def _greedy_median(p: Problem, cols: np.ndarray, k: int) -> list[int]:
    best = p.existing.copy()
    taken = np.zeros(cols.size, dtype=bool)
    picks: list[int] = []
    gains = _median_gains(p, cols, best)
    for step in range(k):
        masked = np.where(taken, -np.inf, gains)
        j = int(np.argmax(masked))
        taken[j] = True
        picks.append(int(cols[j]))
        new = np.minimum(best, p.cost[:, cols[j]])
        if step + 1 < k:
            if np.isfinite(best).all():
                # Only rows whose best cost dropped change the other candidates' gains.
                rows = np.flatnonzero(new < best)
                w, b_old, b_new = p.weights[rows], best[rows, None], new[rows, None]
                sub = p.cost[rows]
                for s in range(0, cols.size, _CHUNK):
                    block = sub[:, cols[s : s + _CHUNK]]
                    lost = np.maximum(b_old - block, 0.0) - np.maximum(b_new - block, 0.0)
                    gains[s : s + _CHUNK] -= w @ lost
            else:
                gains = _median_gains(p, cols, new)
        best = new
    return picks


def _local_search(
    p: Problem, cols: np.ndarray, picks: list[int], objective: str, z: float | None
) -> list[int]:
    """Interchange until no single swap improves (see ``coverage.analysis._interchange``)."""
    if objective == "coverage":
        assert z is not None
        reach = _coverage_matrix(p, cols, z)
        pos = {int(c): i for i, c in enumerate(cols)}
        open_w = np.where(p.existing <= z, 0.0, p.weights)
        out = interchange.coverage_swaps(reach, open_w, [pos[j] for j in picks])
        return [int(cols[i]) for i in out]
    return interchange.median_swaps(p.cost, p.weights, p.existing, cols, picks)


def _multistart(
    p: Problem, cols: np.ndarray, picks: list[int], objective: str, z: float | None, search: Search
) -> list[int]:
    """Iterated local search: the greedy start, then ``starts - 1`` perturbed restarts."""
    sense = 1.0 if objective == "coverage" else -1.0
    best = _local_search(p, cols, picks, objective, z)
    best_value = sense * value_of(p, best_costs(p, best), objective, z)
    rng = np.random.default_rng(search.seed)
    for _ in range(search.starts - 1):
        trial = _local_search(p, cols, interchange.perturb(best, cols, rng), objective, z)
        value = sense * value_of(p, best_costs(p, trial), objective, z)
        if value > best_value + 1e-12 * max(1.0, abs(best_value)):
            best, best_value = trial, value
    return best


def greedy(
    cost: npt.ArrayLike,
    weights: npt.ArrayLike,
    *,
    objective: Objective,
    k: int,
    existing: npt.ArrayLike | None = None,
    threshold: float | None = None,
    candidates: Sequence[int] | None = None,
    refine: bool = False,
) -> SitingResult:
    """Add ``k`` sites one at a time, each with the largest marginal gain.

    Parameters
    ----------
    cost
        (n_demand, n_candidates) travel cost, >= 0, ``inf`` where there is no route.
    weights
        (n_demand,) population of each demand point.
    objective
        ``"coverage"`` (maximise the population within ``threshold``) or ``"median"``
        (minimise the population-weighted total cost).
    k
        Number of new sites.
    existing
        (n_demand,) current best cost to the existing structures, ``inf`` where none;
        ``None`` when there is no structure yet.
    threshold
        Acceptable cost, same unit as ``cost`` (coverage only; ``cost <= threshold`` covers).
    candidates
        Column indices allowed as sites (default: every column).
    refine
        After the greedy pass, swap single sites while that improves the objective.

    Returns
    -------
    SitingResult
        Ties go to the lowest column index; once nothing more can be gained, the remaining
        sites are still returned, with a gain of 0.
    """
    started = time.perf_counter()
    p, z = check_siting(cost, weights, existing, k, objective, threshold)
    cols = check_candidates(candidates, p.n_candidates, k)
    if objective == "coverage":
        assert z is not None
        picks = _greedy_coverage(p, cols, k, z)
    else:
        picks = _greedy_median(p, cols, k)
    method = "greedy"
    if refine:
        picks = greedy_order(p, _local_search(p, cols, picks, objective, z), objective, z)
        method = "greedy+swap"
    return siting_result(p, picks, objective, z, method=method, started=started)


def _greedy_picks(
    p: Problem, cols: np.ndarray, k: int, objective: str, z: float | None
) -> list[int]:
    if objective == "coverage":
        assert z is not None
        return _greedy_coverage(p, cols, k, z)
    return _greedy_median(p, cols, k)


def interchange_search(
    cost: npt.ArrayLike,
    weights: npt.ArrayLike,
    *,
    objective: Objective,
    k: int,
    existing: npt.ArrayLike | None = None,
    threshold: float | None = None,
    candidates: Sequence[int] | None = None,
    search: Search | None = None,
) -> SitingResult:
    """Greedy, then interchange local search from several starts (the best set is kept).

    The greedy set is improved by best single swaps until none helps (Teitz & Bart 1968;
    every swap of a step scored at once, Whitaker 1983), then ``search.starts - 1`` times a
    third of the best set is replaced at random (seeded: the same answer on every run) and
    the swaps start again. Parameters as for ``greedy``; the existing structures stay open.
    Measured against spopt's exact optimum by ``benchmarks/bench_siting.py``.
    """
    search = search or Search(method="interchange")
    started = time.perf_counter()
    p, z = check_siting(cost, weights, existing, k, objective, threshold)
    cols = check_candidates(candidates, p.n_candidates, k)
    picks = _multistart(p, cols, _greedy_picks(p, cols, k, objective, z), objective, z, search)
    order = greedy_order(p, picks, objective, z)
    notes = (f"interchange from {search.starts} start(s), seed {search.seed}",)
    return siting_result(
        p, order, objective, z, method="greedy+interchange", started=started, notes=notes
    )


def site(
    cost: npt.ArrayLike,
    weights: npt.ArrayLike,
    *,
    objective: Objective,
    k: int,
    existing: npt.ArrayLike | None = None,
    threshold: float | None = None,
    candidates: Sequence[int] | None = None,
    search: Search | str = "greedy",
) -> SitingResult:
    """``greedy``, ``interchange_search`` or ``exact``, by ``search`` (a ``Search`` or a name)."""
    how = Search(method=search) if isinstance(search, str) else search
    if not isinstance(how, Search):
        raise ValidationError(f"`search` must be a Search or a method name; got {search!r}.")
    if how.method == "greedy":
        return greedy(
            cost,
            weights,
            objective=objective,
            k=k,
            existing=existing,
            threshold=threshold,
            candidates=candidates,
            refine=how.refine,
        )
    if how.method == "interchange":
        return interchange_search(
            cost,
            weights,
            objective=objective,
            k=k,
            existing=existing,
            threshold=threshold,
            candidates=candidates,
            search=how,
        )
    return exact(
        cost,
        weights,
        objective=objective,
        k=k,
        existing=existing,
        threshold=threshold,
        candidates=candidates,
        time_limit=how.time_limit,
    )
