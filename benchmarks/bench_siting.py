"""Benchmark of siting: greedy + interchange against spopt's exact optimum, and E2SFCA vs PySAL.

Demand: the region's 4,025 communes weighted by population; candidate sites: the communes'
own points; costs: geodesic km (``coverage._geodesy.geodesic_km``). Existing sites, kept open:
the registry's located all-patients structures (as ``parcours analyse --site`` keeps them),
else the 12 préfectures (labelled as such: test points, not care structures).

For k = 1, 3, 5, 10, 20 and both objectives, in one run:

- MCLP (population within ``--threshold`` km), candidates: communes of ``--mclp-min-pop``
  (2,000) inhabitants or more;
- p-median (population-weighted distance), candidates: communes of ``--median-min-pop``
  (20,000) inhabitants or more (spopt's n x m assignment variables make larger sets take
  hours: 100 candidates took over 15 minutes for k = 1 on 2 loaded cores);

it prints the plain greedy, ``siting.interchange_search`` (greedy + interchange, 8 seeded
starts) and spopt's exact model (PuLP + CBC): objective, gap to the optimum (% of the
objective and % of the gain over the existing structures), times and the exact/interchange
time ratio. Targets: interchange within 1 % of the optimum's objective, and at least 50x
faster than the exact solver, at every k. Then E2SFCA (``coverage.analysis.capacity``) vs
PySAL ``access`` on the same long table (unit capacities, timing only).

Run: ``.venv/bin/python benchmarks/bench_siting.py`` (about 35 minutes on 2 loaded cores,
most of it spopt's k = 10 and k = 20 MCLP models; ``--only mclp`` or ``--only median``); exits 1
when a target is missed.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings

import numpy as np
import pandas as pd
from _timing import Targets, timed

from coverage._geodesy import geodesic_km
from coverage.analysis import capacity, siting
from coverage.data.region import load_region

PREFECTURES = (
    "01053",
    "03190",
    "07186",
    "15014",
    "26362",
    "38185",
    "42218",
    "43157",
    "63113",
    "69123",
    "73065",
    "74010",
)
TARGET_GAP_PCT = 1.0
TARGET_RATIO = 50.0
KS = (1, 3, 5, 10, 20)


def existing_sites(region) -> tuple[pd.DataFrame, str]:
    """Located registry structures, else the préfectures (with a label saying which)."""
    try:
        from coverage.data.registry_files import load_registry

        located = load_registry(region=region).located("tous_publics")
        if len(located):
            pts = located[["id", "lon", "lat"]].reset_index(drop=True)
            kinds = located["kind"].value_counts().to_dict()
            return pts, f"registry: {len(pts)} located structures {kinds}"
        reason = "the registry has no located structure"
    except Exception as exc:  # any failure means: fall back, and say why
        reason = f"registry unavailable ({type(exc).__name__}: {exc})"
    c = region.communes
    pref = c[c["insee"].isin(PREFECTURES)]
    pts = pd.DataFrame({"id": pref["insee"], "lon": pref["lon"], "lat": pref["lat"]})
    return pts.reset_index(drop=True), f"the 12 préfectures (test points; {reason})"


def gap_pct(value: float, optimum: float, *, maximise: bool) -> float:
    """How far ``value`` is from ``optimum``, in % of the optimum (0 when equal)."""
    if optimum == 0:
        return 0.0
    return 100.0 * ((optimum - value) if maximise else (value - optimum)) / abs(optimum)


def once(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def compare(name, cost, pop, *, kw, cand, targets, time_limit) -> None:
    """Greedy, interchange and exact for every k; print and check the targets."""
    maximise = kw["objective"] == "coverage"
    print(
        f"\n{name}: {cand.size} candidates; columns: k, greedy gap %, interchange gap % "
        "(objective / gain), exact s, interchange s, ratio"
    )
    for k in KS:
        args = {**kw, "k": k, "candidates": cand}
        _, g = once(lambda args=args: siting.greedy(cost, pop, **args))
        ti, it = once(lambda args=args: siting.interchange_search(cost, pop, **args))
        te, ex = once(lambda args=args: siting.exact(cost, pop, time_limit=time_limit, **args))
        g_gap = gap_pct(g.after, ex.after, maximise=maximise)
        i_gap = gap_pct(it.after, ex.after, maximise=maximise)
        gain_gap = gap_pct(it.improvement, ex.improvement, maximise=True)
        ratio = te / ti
        print(
            f"  k={k:>2}  greedy {g_gap:6.3f} %   interchange {i_gap:6.3f} % / {gain_gap:6.3f} %"
            f"   exact {te:8.2f} s ({'optimal' if ex.optimal else 'NOT PROVEN'})"
            f"   interchange {ti:6.3f} s   ratio {ratio:7.0f}x"
        )
        targets.check(f"{name} k={k}: interchange gap to exact (%)", i_gap, at_most=TARGET_GAP_PCT)
        targets.check(f"{name} k={k}: exact / interchange time", ratio, at_least=TARGET_RATIO)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threshold", type=float, default=30.0, help="MCLP threshold, km")
    ap.add_argument("--mclp-min-pop", type=int, default=2_000)
    ap.add_argument("--median-min-pop", type=int, default=20_000)
    ap.add_argument("--only", choices=("mclp", "median"), help="one objective only")
    ap.add_argument("--time-limit", type=float, default=900.0, help="CBC seconds per model")
    args = ap.parse_args()
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    logging.getLogger("access").setLevel(logging.WARNING)
    targets = Targets("bench_siting")

    region = load_region(region="84")
    c = region.communes
    insee = c["insee"].to_numpy()
    lon, lat = c["lon"].to_numpy(), c["lat"].to_numpy()
    pop = c["population"].to_numpy(dtype=float)
    sites, label = existing_sites(region)
    print(f"Demand: {len(c):,} communes, {pop.sum():,.0f} inhabitants")
    print(f"Existing sites (kept open): {label}")
    cols = np.flatnonzero(pop >= min(args.mclp_min_pop, args.median_min_pop))
    t_matrix, cost = timed(
        lambda: geodesic_km(lon[:, None], lat[:, None], lon[None, cols], lat[None, cols]),
        repeat=1,
    )
    existing = geodesic_km(
        lon[:, None],
        lat[:, None],
        sites["lon"].to_numpy()[None, :],
        sites["lat"].to_numpy()[None, :],
    ).min(axis=1)
    print(f"Cost matrix {cost.shape[0]:,} x {cost.shape[1]:,} geodesic km: {t_matrix:.1f} s")
    z = args.threshold
    mclp = np.flatnonzero(pop[cols] >= args.mclp_min_pop)
    kw = {"objective": "coverage", "existing": existing, "threshold": z}
    if args.only != "median":
        compare(
            f"MCLP {z:g} km",
            cost,
            pop,
            kw=kw,
            cand=mclp,
            targets=targets,
            time_limit=args.time_limit,
        )
    cand = np.flatnonzero(pop[cols] >= args.median_min_pop)
    kw = {"objective": "median", "existing": existing}
    if args.only != "mclp":
        compare(
            "p-median", cost, pop, kw=kw, cand=cand, targets=targets, time_limit=args.time_limit
        )
    cost = cost[:, cand]
    cand = np.arange(cand.size)
    insee_cols = insee[cols][np.flatnonzero(pop[cols] >= args.median_min_pop)]

    # ------------------------------------------------------------------ E2SFCA vs access
    from access import Access

    sub = cost
    table = pd.DataFrame(
        {
            "origin": np.repeat(insee, cand.size),
            "destination": np.tile(insee_cols, len(insee)),
            "distance_km": sub.ravel(),
            "model": "geodesic",
        }
    )
    population = pd.Series(pop, index=insee)
    unit = pd.Series(1.0, index=insee_cols)  # timing only: not a capacity
    steps = ((20.0, 1.0), (40.0, 0.68), (60.0, 0.22))
    print(
        f"\nE2SFCA vs PySAL access on {len(table):,} pairs ({len(insee):,} communes x "
        f"{cand.size} sites; unit capacity, timing only)"
    )
    t_ours, ours = timed(
        lambda: capacity.e2sfca(table, population, unit, by="distance_km", steps=steps), repeat=3
    )
    t_ours2, ours2 = timed(
        lambda: capacity.two_sfca(table, population, unit, by="distance_km", max_cost=30.0),
        repeat=3,
    )

    def pysal():
        return Access(
            demand_df=population.rename("pop").to_frame().rename_axis("geoid"),
            demand_index=True,
            demand_value="pop",
            supply_df=unit.rename("cap").to_frame().rename_axis("geoid"),
            supply_index=True,
            supply_value="cap",
            cost_df=table,
            cost_origin="origin",
            cost_dest="destination",
            cost_name="distance_km",
        )

    from access.weights import step_fn

    fn = step_fn({20: 1.0, 40: 0.68, 60: 0.22})
    t_theirs, theirs = timed(lambda: pysal().enhanced_two_stage_fca(weight_fn=fn))
    t_theirs2, theirs2 = timed(lambda: pysal().two_stage_fca(max_cost=30.0))
    d1 = np.abs(theirs["e2sfca_cap"].reindex(ours.scores.index).fillna(0) - ours.scores).max()
    d2 = np.abs(theirs2["2sfca_cap"].reindex(ours2.scores.index).fillna(0) - ours2.scores).max()
    print(
        f"  E2SFCA  ours {t_ours:.3f} s   access {t_theirs:.3f} s   "
        f"speed-up {t_theirs / t_ours:.1f}x   max |diff| {d1:.2e}"
    )
    print(
        f"  2SFCA   ours {t_ours2:.3f} s   access {t_theirs2:.3f} s   "
        f"speed-up {t_theirs2 / t_ours2:.1f}x   max |diff| {d2:.2e}"
    )

    return targets.exit_code()


if __name__ == "__main__":
    sys.exit(main())
