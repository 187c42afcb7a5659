"""Tests of coverage.siting: hand fixtures, brute force, spopt exact vs greedy, real data."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from _facts import PREFECTURES

from coverage._errors import CoverageError, ValidationError
from coverage.analysis import metrics
from coverage.analysis import siting as s

# Coverage trap for the greedy: A covers the two heavy middle rows (6 people), B and C each
# cover one end and one middle row (5 people); the best pair is B + C (10), not A + x (8).
TRAP_W = np.array([2.0, 3.0, 3.0, 2.0])
TRAP_COST = np.array(
    [
        # A    B    C
        [99.0, 1.0, 99.0],
        [1.0, 1.0, 99.0],
        [1.0, 99.0, 1.0],
        [99.0, 99.0, 1.0],
    ]
)

# Median on a line: demand and candidates at 0, 10, 20, 30 km; 5 people at 30 km, 1 elsewhere;
# an existing structure is 15 km from everyone.
LINE = np.array([0.0, 10.0, 20.0, 30.0])
LINE_COST = np.abs(LINE[:, None] - LINE[None, :])
LINE_W = np.array([1.0, 1.0, 1.0, 5.0])
LINE_EXISTING = np.full(4, 15.0)


def objective_value(cost, weights, chosen, *, objective, existing=None, threshold=None):
    """A set of sites' objective, computed naively: covered people or weighted total cost."""
    cost, weights = np.asarray(cost, dtype=float), np.asarray(weights, dtype=float)
    best = np.full(len(weights), np.inf) if existing is None else np.asarray(existing, float)
    if len(chosen):
        best = np.minimum(best, cost[:, list(chosen)].min(axis=1))
    if objective == "coverage":
        return float(weights[best <= threshold].sum())
    return float(np.dot(weights, best)) if np.isfinite(best).all() else math.inf


def brute_force(cost, weights, k, objective, existing=None, threshold=None):
    best = None
    for combo in itertools.combinations(range(cost.shape[1]), k):
        v = objective_value(
            cost, weights, combo, objective=objective, existing=existing, threshold=threshold
        )
        if best is None or (v > best if objective == "coverage" else v < best):
            best = v
    return best


# ----------------------------------------------------------------------------- hand fixtures


def test_coverage_greedy_by_hand_and_its_trap():
    r = s.greedy(TRAP_COST, TRAP_W, objective="coverage", k=2, threshold=10)
    assert r.chosen == (0, 1)  # A first (6 people), then B adds row 0 (tie with C: lowest)
    assert r.gains == (6.0, 2.0)
    assert (r.before, r.after, r.total_weight) == (0.0, 8.0, 10.0)
    assert r.threshold == 10.0 and r.method == "greedy" and r.optimal is None
    swapped = s.greedy(TRAP_COST, TRAP_W, objective="coverage", k=2, threshold=10, refine=True)
    assert sorted(swapped.chosen) == [1, 2] and swapped.after == 10.0
    assert swapped.gains == (5.0, 5.0) and swapped.method == "greedy+swap"


def test_coverage_keeps_existing_structures():
    existing = np.array([0.5, np.inf, np.inf, 40.0])  # row 0 already within 10 km
    r = s.greedy(TRAP_COST, TRAP_W, objective="coverage", k=1, existing=existing, threshold=10)
    assert r.before == 2.0
    assert r.chosen == (0,) and r.gains == (6.0,) and r.after == 8.0
    r2 = s.greedy(TRAP_COST, TRAP_W, objective="coverage", k=2, existing=existing, threshold=10)
    assert r2.chosen == (0, 2) and r2.gains == (6.0, 2.0)  # B would add nothing new


def test_threshold_is_inclusive():
    cost = np.array([[10.0], [10.000001]])
    r = s.greedy(cost, [1.0, 1.0], objective="coverage", k=1, threshold=10)
    assert r.after == 1.0


def test_median_greedy_by_hand():
    r = s.greedy(LINE_COST, LINE_W, objective="median", k=2, existing=LINE_EXISTING)
    # before: 8 people x 15 km; the site at 30 km saves 80 person-km; then 0 km and 10 km
    # tie (20 each) and the lowest index wins.
    assert r.before == 120.0
    assert r.chosen == (3, 0)
    assert r.gains == (80.0, 20.0)
    assert r.after == 20.0
    assert r.improvement == 100.0


def test_median_from_scratch():
    r = s.greedy(LINE_COST, LINE_W, objective="median", k=1)
    # totals for one site at 0/10/20/30 km: 180, 120, 80, 60
    assert r.chosen == (3,) and r.after == 60.0
    assert r.before == math.inf and r.gains == (math.inf,)


def test_exact_solves_the_hand_fixtures():
    cov = s.exact(TRAP_COST, TRAP_W, objective="coverage", k=2, threshold=10)
    assert sorted(cov.chosen) == [1, 2] and cov.after == 10.0 and cov.optimal is True
    assert sum(cov.gains) == cov.after - cov.before
    med = s.exact(LINE_COST, LINE_W, objective="median", k=2, existing=LINE_EXISTING)
    assert med.after == 20.0 and med.chosen[0] == 3 and med.optimal is True
    scratch = s.exact(LINE_COST, LINE_W, objective="median", k=1)
    assert scratch.chosen == (3,) and scratch.after == 60.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_exact_matches_brute_force_and_bounds_greedy(seed):
    rng = np.random.default_rng(seed)
    demand = rng.uniform(0, 100, (30, 2))
    sites = rng.uniform(0, 100, (8, 2))
    cost = np.linalg.norm(demand[:, None, :] - sites[None, :, :], axis=2)
    w = rng.integers(1, 50, 30).astype(float)
    existing = np.linalg.norm(demand - np.array([50.0, 50.0]), axis=1)
    for objective, z in (("coverage", 25.0), ("median", None)):
        kw = {"objective": objective, "k": 3, "existing": existing, "threshold": z}
        ex = s.exact(cost, w, **kw)
        gr = s.greedy(cost, w, **kw)
        sw = s.greedy(cost, w, refine=True, **kw)
        assert ex.after == pytest.approx(brute_force(cost, w, 3, objective, existing, z))
        if objective == "coverage":
            assert gr.after <= ex.after + 1e-9 and gr.after <= sw.after <= ex.after + 1e-9
        else:
            assert gr.after >= ex.after - 1e-6 and gr.after >= sw.after >= ex.after - 1e-6
        for res in (ex, gr, sw):
            total = sum(res.gains)
            assert total == pytest.approx(abs(res.after - res.before))
            # both objectives are submodular: gains never grow along the order
            assert all(a >= b - 1e-9 for a, b in itertools.pairwise(res.gains))


def test_greedy_median_incremental_update_matches_naive_recompute():
    rng = np.random.default_rng(11)
    cost = rng.uniform(0, 80, (200, 150))
    w = rng.integers(1, 1000, 200).astype(float)
    existing = rng.uniform(10, 60, 200)
    picks, best = [], existing.copy()
    for _ in range(6):
        totals = [np.dot(w, np.minimum(best, cost[:, j])) for j in range(150)]
        for j in picks:
            totals[j] = np.inf
        j = int(np.argmin(totals))
        picks.append(j)
        best = np.minimum(best, cost[:, j])
    r = s.greedy(cost, w, objective="median", k=6, existing=existing)
    assert list(r.chosen) == picks
    assert r.after == pytest.approx(np.dot(w, best))


def test_candidates_restrict_the_choice():
    r = s.greedy(TRAP_COST, TRAP_W, objective="coverage", k=1, threshold=10, candidates=[1, 2])
    assert r.chosen == (1,)
    with pytest.raises(ValidationError, match="`candidates` must be column indices in"):
        s.greedy(TRAP_COST, TRAP_W, objective="coverage", k=1, threshold=10, candidates=[5])
    with pytest.raises(ValidationError, match="exceeds the number of candidates"):
        s.greedy(TRAP_COST, TRAP_W, objective="coverage", k=2, threshold=10, candidates=[1])


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"k": 0}, "`k` must be an integer between 1 and 3; got 0"),
        ({"k": 4}, "`k` must be an integer between 1 and 3; got 4"),
        ({"k": 1.5}, "`k` must be an integer"),
        ({"threshold": None}, "`threshold` is required for the coverage objective"),
        ({"threshold": -1}, "`threshold` must be a finite number >= 0; got -1"),
        ({"objective": "center"}, "`objective` must be one of"),
        ({"weights": [1.0, 1.0]}, "`weights` must have one value per row of `cost` \\(4\\)"),
        ({"weights": [0.0] * 4}, "`weights` must have a positive sum"),
        ({"weights": [1.0, -1.0, 1.0, 1.0]}, "`weights` must be finite and >= 0"),
        ({"existing": [1.0, 2.0]}, "`existing` must have one value per row"),
        ({"existing": [np.nan] * 4}, "`existing` must be >= 0, with inf where"),
        ({"cost": np.full((4, 3), np.nan)}, "`cost` has NaN values; use inf"),
        ({"cost": -TRAP_COST}, "`cost` must be >= 0"),
        ({"cost": np.ones(4)}, "`cost` must be a non-empty matrix"),
    ],
)
def test_bad_input_is_refused(kwargs, match):
    args = {
        "cost": TRAP_COST,
        "weights": TRAP_W,
        "objective": "coverage",
        "k": 1,
        "threshold": 10.0,
        **kwargs,
    }
    with pytest.raises(ValidationError, match=match):
        s.greedy(args.pop("cost"), args.pop("weights"), **args)


def test_median_refuses_partial_existing_and_unreachable_pairs():
    partial = np.array([1.0, np.inf, 2.0, 3.0])
    with pytest.raises(ValidationError, match="`existing` must be finite on every inhabited row"):
        s.greedy(LINE_COST, LINE_W, objective="median", k=1, existing=partial)
    unreachable = LINE_COST.copy()
    unreachable[0, :] = np.inf
    with pytest.raises(ValidationError, match="`cost` must be finite on every inhabited row"):
        s.greedy(unreachable, LINE_W, objective="median", k=1)
    # an uninhabited unreachable commune is no obstacle
    w = LINE_W.copy()
    w[0] = 0
    assert s.greedy(unreachable, w, objective="median", k=1).chosen == (3,)


def test_exact_time_limit_without_solution_is_a_clear_error(monkeypatch):
    import pulp

    monkeypatch.setattr(
        pulp.LpProblem,
        "solve",
        lambda self, solver=None: (
            self.__setattr__("sol_status", pulp.LpSolutionNoSolutionFound) or 0
        ),
    )
    with pytest.raises(CoverageError, match="found no solution"):
        s.exact(TRAP_COST, TRAP_W, objective="coverage", k=1, threshold=10, time_limit=1)


def test_site_dispatches_by_search():
    kw = {"objective": "coverage", "k": 2, "threshold": 10}
    assert s.site(TRAP_COST, TRAP_W, **kw).method == "greedy"
    assert s.site(TRAP_COST, TRAP_W, search="exact", **kw).after == 10.0
    assert s.site(TRAP_COST, TRAP_W, search=s.Search(refine=True), **kw).method == "greedy+swap"
    res = s.site(TRAP_COST, TRAP_W, search=s.Search("interchange", starts=2), **kw)
    assert res.after == 10.0 and res.notes == ("interchange from 2 start(s), seed 0",)
    with pytest.raises(ValidationError, match=r"`method` must be one of .*; got 'best'"):
        s.site(TRAP_COST, TRAP_W, search="best", **kw)
    with pytest.raises(ValidationError, match="`starts` must be an integer >= 1; got 0"):
        s.Search("interchange", starts=0)


# ----------------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def region_costs():
    """Geodesic km between all ARA communes and the 100 communes of 10,000+ inhabitants.

    The existing "structures" are the 12 préfectures, used as realistic test points only.
    """
    from coverage.data.region import load_region
    from coverage.travel.geodesic import geodesic_km

    c = load_region(region="84").communes
    lon, lat = c["lon"].to_numpy(), c["lat"].to_numpy()
    pop = c["population"].to_numpy(dtype=float)
    cand = np.flatnonzero(pop >= 10_000)
    pref = np.flatnonzero(c["insee"].isin(PREFECTURES).to_numpy())
    cost = geodesic_km(lon[:, None], lat[:, None], lon[None, cand], lat[None, cand])
    existing = geodesic_km(lon[:, None], lat[:, None], lon[None, pref], lat[None, pref]).min(1)
    return cost, pop, existing, c["insee"].to_numpy()[cand]


def test_real_coverage_greedy_vs_exact(region_costs):
    cost, pop, existing, labels = region_costs
    kw = {"objective": "coverage", "k": 3, "existing": existing, "threshold": 30.0}
    gr = s.greedy(cost, pop, **kw)
    ex = s.exact(cost, pop, **kw)
    assert ex.optimal is True
    assert gr.after <= ex.after
    assert gr.after >= 0.98 * ex.after  # well within the (1 - 1/e) guarantee
    # cross-check with metrics: covered population = W x (1 - share strictly beyond 30 km)
    best = np.minimum(existing, cost[:, list(ex.chosen)].min(axis=1))
    assert ex.after == pytest.approx(pop.sum() * (1 - metrics.share_beyond(best, pop, 30.0)))
    assert ex.before == pop[existing <= 30].sum()
    assert ex.gains[0] > 0 and all(g >= 0 for g in ex.gains)
    assert not set(labels[list(ex.chosen)]) & set(PREFECTURES)  # no site next to an existing one


def test_real_median_greedy_is_close_to_exact(region_costs):
    cost, pop, existing, _ = region_costs
    sub = cost[:, :40]  # the exact p-median grows with rows x candidates: keep 40 here
    gr = s.greedy(sub, pop, objective="median", k=3, existing=existing)
    ex = s.exact(sub, pop, objective="median", k=3, existing=existing)
    assert ex.optimal is True
    assert ex.after <= gr.after <= 1.02 * ex.after
    assert gr.before == pytest.approx(np.dot(pop, existing))
    assert gr.after / pop.sum() == pytest.approx(
        metrics.weighted_mean(np.minimum(existing, sub[:, list(gr.chosen)].min(1)), pop)
    )


# ----------------------------------------------------------------------------- interchange


def _no_swap_improves(res, cost, w, objective, existing, threshold):
    """Every single swap (one chosen out, one other in), scored naively, is no better."""
    kw = {"objective": objective, "existing": existing, "threshold": threshold}
    value = objective_value(cost, w, res.chosen, **kw)
    for t, j in itertools.product(range(len(res.chosen)), range(cost.shape[1])):
        if j in res.chosen:
            continue
        trial = [*res.chosen[:t], j, *res.chosen[t + 1 :]]
        v = objective_value(cost, w, trial, **kw)
        assert (v <= value + 1e-9) if objective == "coverage" else (v >= value - 1e-6)
    return value


def test_interchange_closes_the_greedy_trap():
    r = s.interchange_search(TRAP_COST, TRAP_W, objective="coverage", k=2, threshold=10)
    assert sorted(r.chosen) == [1, 2] and r.after == 10.0 and r.gains == (5.0, 5.0)
    m = s.interchange_search(LINE_COST, LINE_W, objective="median", k=2, existing=LINE_EXISTING)
    assert m.after == 20.0  # 30 km + one of the others: brute force below agrees
    assert m.after == brute_force(LINE_COST, LINE_W, 2, "median", LINE_EXISTING)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("objective", ["coverage", "median"])
def test_interchange_is_a_swap_optimum_at_least_as_good_as_greedy(seed, objective):
    rng = np.random.default_rng(100 + seed)
    demand, sites = rng.uniform(0, 100, (60, 2)), rng.uniform(0, 100, (14, 2))
    cost = np.linalg.norm(demand[:, None, :] - sites[None, :, :], axis=2)
    w = rng.integers(1, 80, 60).astype(float)
    w[:3] = 0.0  # uninhabited rows are dropped, not scored
    existing = None if seed % 2 else np.linalg.norm(demand - [50.0, 50.0], axis=1)
    z = 18.0 if objective == "coverage" else None
    k = 2 + seed % 4
    kw = {"objective": objective, "k": k, "existing": existing, "threshold": z}
    res = s.interchange_search(cost, w, **kw)
    gr = s.greedy(cost, w, **kw)
    value = _no_swap_improves(res, cost, w, objective, existing, z)
    assert value == pytest.approx(res.after)
    optimum = brute_force(cost, w, k, objective, existing, z)
    if objective == "coverage":
        assert gr.after <= res.after <= optimum + 1e-9
        assert res.after >= 0.99 * optimum
    else:
        assert gr.after >= res.after >= optimum - 1e-6
        assert res.after <= 1.01 * optimum
    assert sum(res.gains) == pytest.approx(abs(res.after - res.before))
    assert len(set(res.chosen)) == k


def test_interchange_keeps_to_the_candidates_and_is_reproducible():
    rng = np.random.default_rng(4)
    cost = rng.uniform(0, 50, (40, 12))
    w = rng.integers(1, 9, 40).astype(float)
    kw = {"objective": "coverage", "k": 3, "threshold": 12.0, "candidates": [1, 4, 6, 7, 9]}
    a, b = s.interchange_search(cost, w, **kw), s.interchange_search(cost, w, **kw)
    assert a.chosen == b.chosen and set(a.chosen) <= {1, 4, 6, 7, 9}
    f32 = s.interchange_search(cost.astype(np.float32), w, **kw)
    assert set(f32.chosen) == set(a.chosen) or f32.after == a.after


def test_float32_costs_are_compared_in_float64():
    # 30.4 is not a float32: a float32 cost of 30.4 is just above 30.4 in float64.
    cost = np.array([[30.4], [30.0]], dtype=np.float32)
    r = s.greedy(cost, [1.0, 1.0], objective="coverage", k=1, threshold=30.4)
    assert r.after == (2.0 if float(np.float32(30.4)) <= 30.4 else 1.0)
    assert (
        r.after
        == s.greedy(cost.astype(float), [1.0, 1.0], objective="coverage", k=1, threshold=30.4).after
    )


# ----------------------------------------------------------------------------- sparse pairs


@pytest.mark.parametrize("seed", range(4))
def test_sparse_pairs_give_the_dense_interchange_answer(seed):
    from scipy import sparse

    from coverage.analysis.sparse_siting import coverage_from_pairs

    rng = np.random.default_rng(200 + seed)
    demand, sites = rng.uniform(0, 100, (80, 2)), rng.uniform(0, 100, (25, 2))
    cost = np.linalg.norm(demand[:, None, :] - sites[None, :, :], axis=2)
    cost[0, 0] = 0.0  # a zero cost is a pair within reach, stored explicitly
    w = rng.integers(1, 60, 80).astype(float)
    existing = np.linalg.norm(demand - [20.0, 80.0], axis=1)
    z, k = 15.0, 2 + seed
    dense = s.interchange_search(cost, w, objective="coverage", k=k, existing=existing, threshold=z)
    rows, cols = np.nonzero(cost <= 25.0)  # pairs kept up to a wider radius than z
    pairs = sparse.csr_matrix((cost[rows, cols], (rows, cols)), shape=cost.shape)
    res = coverage_from_pairs(pairs, w, k=k, threshold=z, existing=existing)
    assert set(res.chosen) == set(dense.chosen)
    assert (res.before, res.after) == (dense.before, dense.after)
    assert res.gains == pytest.approx(dense.gains)
    with pytest.raises(ValidationError, match="scipy sparse"):
        coverage_from_pairs(cost, w, k=k, threshold=z)
    with pytest.raises(ValidationError, match="`k` must be an integer between 1 and 25"):
        coverage_from_pairs(pairs, w, k=26, threshold=z)
