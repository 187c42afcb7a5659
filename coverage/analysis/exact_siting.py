"""Exact siting: spopt's integer programmes (MCLP, p-median), solved by CBC through PuLP.

The same problem as ``coverage.analysis.siting`` (the existing structures stay open), solved
to optimality: ``exact`` gives the reference that ``benchmarks/bench_siting.py`` measures the
greedy and interchange searches against. Its size grows with n_demand x n_candidates, so
restrict the candidates for the full region. PuLP and spopt are imported when a model is built.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from coverage._errors import CoverageError, ValidationError
from coverage.analysis.checks import check_candidates, check_siting
from coverage.analysis.siting_base import (
    Objective,
    Problem,
    SitingResult,
    greedy_order,
    siting_result,
)

#: CBC options per objective. The p-median's LP relaxation is usually integral, and CBC's
#: preprocessing of its ~n x m assignment variables costs far more than it saves (same optimum
#: without it).
_CBC_OPTIONS: dict[str, list[str]] = {"coverage": [], "median": ["preprocess off"]}


#: Set ``PARCOURS_CBC_LOG=1`` to see CBC's log of the exact solver.
_CBC_LOG_ENV = "PARCOURS_CBC_LOG"


def _solve(model, objective: str, time_limit: float | None) -> bool:
    """Solve a spopt model with CBC; return whether optimality was proven."""
    import pulp

    msg = os.environ.get(_CBC_LOG_ENV, "") == "1"
    solver = pulp.PULP_CBC_CMD(msg=msg, timeLimit=time_limit, options=_CBC_OPTIONS[objective])
    model.problem.solve(solver)
    if model.problem.sol_status not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        status = pulp.LpStatus[model.problem.status]
        raise CoverageError(
            f"The exact {objective} solver found no solution (CBC status {status!r}"
            + (f", time limit {time_limit!r} s)." if time_limit else ").")
        )
    return model.problem.sol_status == pulp.LpSolutionOptimal


def exact(
    cost: npt.ArrayLike,
    weights: npt.ArrayLike,
    *,
    objective: Objective,
    k: int,
    existing: npt.ArrayLike | None = None,
    threshold: float | None = None,
    candidates: Sequence[int] | None = None,
    time_limit: float | None = None,
) -> SitingResult:
    """Optimal ``k`` sites from spopt's integer programmes, solved by CBC through PuLP.

    Coverage uses ``spopt.locate.MCLP.from_cost_matrix``; median uses
    ``spopt.locate.PMedian.from_cost_matrix`` with one extra column holding ``existing`` and
    marked as a predefined facility (``predefined_facilities_arr``), so the existing
    structures stay open and the model opens ``k + 1`` facilities.

    Exact reductions applied before building the model (they change its size, not its
    optimum): uninhabited rows are dropped; for coverage, rows already covered by the
    existing structures are dropped (their population is added back) and candidates that
    cover no remaining row are left out unless needed to reach ``k``; for median, rows that
    no candidate can improve are dropped (their cost is added back).

    Parameters
    ----------
    cost, weights, objective, k, existing, threshold, candidates
        As for ``coverage.analysis.siting.greedy``.
    time_limit
        Seconds given to CBC; when it stops early, ``optimal`` is ``False``. Set
        ``PARCOURS_CBC_LOG=1`` to see CBC's log.
    """
    started = time.perf_counter()
    p, z = check_siting(cost, weights, existing, k, objective, threshold)
    cols = check_candidates(candidates, p.n_candidates, k)
    with warnings.catch_warnings():
        # PuLP 3.x warns once per variable about its 4.0 API, which spopt still uses.
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"pulp(\.|$)")
        return _exact(p, z, cols, k, objective, (time_limit, started))


def _exact(
    p: Problem,
    z: float | None,
    cols: np.ndarray,
    k: int,
    objective: str,
    limit_started: tuple[float | None, float],
) -> SitingResult:
    from spopt.locate import MCLP, PMedian

    time_limit, started = limit_started
    notes: list[str] = []
    sub = np.asarray(p.cost[:, cols], dtype=float)
    if objective == "coverage":
        assert z is not None
        rows = p.existing > z
        reach = sub[rows] <= z
        useful = reach.any(axis=0)
        if useful.sum() < k:  # pad with useless columns so that k sites can be opened
            useful[np.flatnonzero(~useful)[: k - int(useful.sum())]] = True
        keep_cols = np.flatnonzero(useful)
        notes.append(
            f"model: {int(rows.sum())} uncovered inhabited rows x {keep_cols.size} candidates "
            f"(of {p.cost.shape[0]} x {cols.size})"
        )
        model = MCLP.from_cost_matrix(
            sub[rows][:, keep_cols], p.weights[rows], service_radius=z, p_facilities=k
        )
        optimal = _solve(model, objective, time_limit)
        opened = [j for j, v in enumerate(model.fac_vars) if (v.value() or 0) > 0.5]
        picks = [int(cols[keep_cols[j]]) for j in opened]
    else:
        if np.isfinite(p.existing).all():
            rows = sub.min(axis=1) < p.existing
            matrix = np.column_stack([p.existing[rows], sub[rows]])
            predefined = np.zeros(cols.size + 1, dtype=int)
            predefined[0] = 1
            notes.append(
                f"model: {int(rows.sum())} improvable inhabited rows x {cols.size} candidates "
                "+ 1 predefined column for the existing structures"
            )
            model = PMedian.from_cost_matrix(
                matrix, p.weights[rows], p_facilities=k + 1, predefined_facilities_arr=predefined
            )
            offset = 1
        else:
            rows = np.ones(p.cost.shape[0], dtype=bool)
            notes.append(f"model: {int(rows.sum())} inhabited rows x {cols.size} candidates")
            model = PMedian.from_cost_matrix(sub, p.weights, p_facilities=k)
            offset = 0
        optimal = _solve(model, objective, time_limit)
        opened = [j for j, v in enumerate(model.fac_vars) if (v.value() or 0) > 0.5]
        picks = [int(cols[j - offset]) for j in opened if j >= offset]
    notes.append("CBC: optimal" if optimal else "CBC: stopped early, not proven optimal")
    if len(picks) != k:
        raise ValidationError(f"The solver opened {len(picks)!r} sites instead of k={k!r}.")
    order = greedy_order(p, picks, objective, z)
    return siting_result(
        p, order, objective, z, method="exact", started=started, optimal=optimal, notes=notes
    )
