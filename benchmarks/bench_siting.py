"""Benchmark of siting (greedy vs spopt exact) and of E2SFCA vs PySAL access, on real data.

Demand: the region's 4,025 communes weighted by population; candidate sites: the communes'
own points; costs: geodesic km (``coverage.travel.geodesic.geodesic_km``). Existing sites: the
registry's located structures when ``coverage.data.registry.load_registry()`` works, else the 12
préfectures (labelled as such: test points, not care structures).

Prints, for k new sites:

- MCLP (population within ``--threshold`` km): greedy, greedy + swap, and spopt's exact MCLP
  (PuLP + CBC) over every commune as candidate; times, objectives, gap to the optimum (%) on
  the covered population and on the gain, time ratio. Target: greedy within 2 %.
- p-median (population-weighted distance): greedy over every commune; spopt's exact
  ``PMedian`` over the communes of ``--median-min-pop`` inhabitants or more (its
  n x m assignment variables make the full set intractable), with the greedy on the same
  restricted set for a like-for-like gap.
- E2SFCA (``coverage.analysis.capacity``) vs PySAL ``access`` (``enhanced_two_stage_fca`` and
  ``two_stage_fca``) on the same long table (communes x restricted candidates). ``access``
  needs capacities: a capacity of 1 per site is used for the timing only, never as a figure.

Run: ``.venv/bin/python benchmarks/bench_siting.py`` (about 3 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
import warnings

import numpy as np
import pandas as pd

from coverage.analysis import capacity, siting
from coverage.data.region import load_region
from coverage.travel.geodesic import geodesic_km

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
TARGET_GAP_PCT = 2.0


def timed(fn, *, repeat: int = 1):
    """Median wall time of ``repeat`` calls and the last result."""
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def existing_sites(region) -> tuple[pd.DataFrame, str]:
    """Located registry structures, else the préfectures (with a label saying which)."""
    try:
        from coverage.data.registry import load_registry

        located = load_registry(region=region).located()
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


def gap_pct(greedy: float, exact: float, *, maximise: bool) -> float:
    if exact == 0:
        return 0.0
    return 100.0 * ((exact - greedy) if maximise else (greedy - exact)) / abs(exact)


def line(label: str, res: siting.SitingResult, seconds: float, ids: np.ndarray) -> str:
    names = ", ".join(str(ids[j]) for j in res.chosen)
    return (
        f"  {label:<28} {seconds:9.3f} s   before {res.before:>14,.0f}   "
        f"after {res.after:>14,.0f}   sites [{names}]"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--threshold", type=float, default=30.0, help="MCLP threshold, km")
    ap.add_argument(
        "--median-min-pop",
        type=int,
        default=10_000,
        help="exact p-median candidates: communes of at least this population",
    )
    ap.add_argument(
        "--mclp-min-pop", type=int, default=0, help="exact MCLP candidates (0: every commune)"
    )
    ap.add_argument("--skip-exact", action="store_true")
    args = ap.parse_args()
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    logging.getLogger("access").setLevel(logging.WARNING)

    region = load_region()
    c = region.communes
    insee = c["insee"].to_numpy()
    lon, lat = c["lon"].to_numpy(), c["lat"].to_numpy()
    pop = c["population"].to_numpy(dtype=float)
    sites, label = existing_sites(region)
    print(f"Demand: {len(c):,} communes, {pop.sum():,.0f} inhabitants; k = {args.k}")
    print(f"Existing sites: {label}")

    t_matrix, cost = timed(
        lambda: geodesic_km(lon[:, None], lat[:, None], lon[None, :], lat[None, :])
    )
    existing = geodesic_km(
        lon[:, None],
        lat[:, None],
        sites["lon"].to_numpy()[None, :],
        sites["lat"].to_numpy()[None, :],
    ).min(axis=1)
    print(
        f"Cost matrix {cost.shape[0]:,} x {cost.shape[1]:,} geodesic km: {t_matrix:.1f} s "
        "(one-off, travel model)"
    )
    z = args.threshold
    verdicts: list[str] = []

    # ------------------------------------------------------------------ MCLP
    print(f"\nMCLP: population within {z:g} km (every commune a candidate unless said)")
    kw = {"objective": "coverage", "k": args.k, "existing": existing, "threshold": z}
    tg, g = timed(lambda: siting.greedy(cost, pop, **kw), repeat=3)
    ts, sw = timed(lambda: siting.greedy(cost, pop, refine=True, **kw))
    print(line("greedy", g, tg, insee))
    print(line("greedy + swap", sw, ts, insee))
    if not args.skip_exact:
        cand = None if args.mclp_min_pop <= 0 else np.flatnonzero(pop >= args.mclp_min_pop)
        te, ex = timed(lambda: siting.exact(cost, pop, candidates=cand, **kw))
        where = "all communes" if cand is None else f"{cand.size} communes >= {args.mclp_min_pop}"
        print(line(f"spopt MCLP exact ({where})", ex, te, insee))
        print(f"    {'; '.join(ex.notes)}")
        for name, res, t in (("greedy", g, tg), ("greedy + swap", sw, ts)):
            gp = gap_pct(res.after, ex.after, maximise=True)
            gain_gap = gap_pct(res.improvement, ex.improvement, maximise=True)
            print(
                f"  {name}: gap {gp:.3f} % of covered population, {gain_gap:.3f} % of the "
                f"gain; exact/greedy time ratio {te / t:,.0f}x"
            )
            if name == "greedy":
                verdicts.append(
                    f"MCLP greedy gap {gp:.3f} % (target <= {TARGET_GAP_PCT} %): "
                    + ("OK" if gp <= TARGET_GAP_PCT else "MISSED")
                )

    # ------------------------------------------------------------------ p-median
    print("\np-median: population-weighted distance (person-km)")
    kw = {"objective": "median", "k": args.k, "existing": existing}
    tg, g = timed(lambda: siting.greedy(cost, pop, **kw), repeat=3)
    ts, sw = timed(lambda: siting.greedy(cost, pop, refine=True, **kw))
    print(line("greedy (all communes)", g, tg, insee))
    print(line("greedy + swap (all communes)", sw, ts, insee))
    print(f"    mean distance {g.mean_before:.2f} km -> {g.mean_after:.2f} km (greedy)")
    cand = np.flatnonzero(pop >= args.median_min_pop)
    tgr, gr = timed(lambda: siting.greedy(cost, pop, candidates=cand, **kw), repeat=3)
    tsr, swr = timed(lambda: siting.greedy(cost, pop, candidates=cand, refine=True, **kw))
    print(line(f"greedy ({cand.size} communes)", gr, tgr, insee))
    print(line(f"greedy + swap ({cand.size} communes)", swr, tsr, insee))
    if not args.skip_exact:
        te, ex = timed(lambda: siting.exact(cost, pop, candidates=cand, **kw))
        print(line(f"spopt PMedian exact ({cand.size})", ex, te, insee))
        print(
            f"    candidates restricted to communes >= {args.median_min_pop:,} inhabitants; "
            f"{'; '.join(ex.notes)}"
        )
        for name, res, t in (("greedy", gr, tgr), ("greedy + swap", swr, tsr)):
            gp_ = gap_pct(res.after, ex.after, maximise=False)
            gain_gap = gap_pct(res.improvement, ex.improvement, maximise=True)
            print(
                f"  {name} ({cand.size}): gap {gp_:.3f} % of weighted distance, "
                f"{gain_gap:.3f} % of the gain; exact/greedy time {te / t:,.0f}x"
            )
        gp = gap_pct(gr.after, ex.after, maximise=False)
        full_vs = gap_pct(g.after, ex.after, maximise=False)
        print(
            f"  greedy over all communes vs exact over {cand.size}: {full_vs:+.3f} % "
            "(negative: the larger candidate set beats the restricted optimum)"
        )
        verdicts.append(
            f"p-median greedy gap {gp:.3f} % (target <= {TARGET_GAP_PCT} %): "
            + ("OK" if gp <= TARGET_GAP_PCT else "MISSED")
        )

    # ------------------------------------------------------------------ E2SFCA vs access
    from access import Access

    sub = cost[:, cand]
    table = pd.DataFrame(
        {
            "origin": np.repeat(insee, cand.size),
            "destination": np.tile(insee[cand], len(insee)),
            "distance_km": sub.ravel(),
            "model": "geodesic",
        }
    )
    population = pd.Series(pop, index=insee)
    unit = pd.Series(1.0, index=insee[cand])  # timing only: not a capacity
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

    if verdicts:
        print("\n" + "\n".join(verdicts))


if __name__ == "__main__":
    main()
