"""Benchmark of the planners' analysis on the real region (4,025 communes), in one run.

Prints, warm (region cache and cost matrices in memory):

- the full analysis (headline figures, Theil decompositions, tables, gap lists), target
  under 0.5 s;
- one what-if (a structure added at Aurillac), target under 50 ms;
- greedy siting, k = 3, every commune a candidate (cold: the commune x commune matrix;
  warm: the search);
- on a smaller candidate set (communes of 5,000 inhabitants or more), greedy against spopt's
  exact MCLP (PuLP + CBC): time ratio and covered-population ratio;
- the analysis with 5,000 structures (a synthetic registry: structures at random communes'
  town halls, written to a temporary folder; timing only): building the access table and
  the full analysis, target under 2 s and under 500 MB (peak traced memory, tracemalloc, and
  the process's peak RSS are printed); the registry file's reading is timed apart;
- PySAL ``access``'s 2SFCA on the same commune x structure cost table, side by side with
  the analysis (``access`` needs supply capacities: a capacity of 1 per structure is used for
  the timing only, never reported as a figure).

Run: ``.venv/bin/python benchmarks/bench_analysis.py``; exits 1 when a target is missed.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from _timing import Targets, peak_rss_mb, traced_peak_mb

from coverage.analysis.access_build import build_access, load_access
from coverage.analysis.analyse import analyse
from coverage.analysis.scenario import Scenario, WhatIf, resolve_site
from coverage.analysis.suggestions import suggest_sites

TARGET_ANALYSIS_S = 0.5
TARGET_WHATIF_S = 0.050
TARGET_5000_S = 2.0
TARGET_5000_MB = 500.0


def synthetic_registry(region, m: int, folder: Path) -> Path:
    """``m`` structures at random communes (their town halls), for timing only."""
    rng = np.random.default_rng(m)
    c = region.communes
    pick = c.iloc[rng.integers(0, len(c), m)]
    path = folder / f"synthetique-{m}.csv"
    pd.DataFrame(
        {
            "id": [f"synthetique-{i:05d}" for i in range(m)],
            "name": [f"Structure synthétique {i}" for i in range(m)],
            "kind": np.where(rng.random(m) < 0.1, "aja", "tous_publics"),
            "insee": pick["insee"].to_numpy(),
            "dep": pick["dep"].to_numpy(),
            "lat": "",
            "lon": "",
            "source": "https://example.invalid/structures-synthetiques-du-benchmark",
        }
    ).to_csv(path, index=False)
    return path


def five_thousand(targets: Targets) -> None:
    """Build the access table and analyse with 5,000 structures: time and memory."""
    from coverage.data.region import load_region
    from coverage.data.registry_files import load_registry

    region = load_region(region="84")
    with tempfile.TemporaryDirectory() as tmp:
        path = synthetic_registry(region, 5000, Path(tmp))
        t = time.perf_counter()
        registry = load_registry(path, region=region)
        t_read = time.perf_counter() - t

    def run():
        access = build_access(region, registry)
        return access, analyse(access, region=region, registry=registry)

    run()  # warm the imports and the region's memoised columns
    secs, (access, _) = timed(run, repeat=3)
    peak, _ = traced_peak_mb(run)
    n, m = len(access.communes), len(access.structures)
    print(f"Analyse avec {m:,} structures (registre synthétique, {n:,} communes) :")
    line("lecture du registre (data.registry, hors cible)", t_read)
    line("build_access() + analyse() (médiane de 3)", secs)
    print(
        f"    mémoire : pic tracé (tracemalloc) {peak:.1f} MB ; pic RSS du processus "
        f"{peak_rss_mb():.0f} MB ; toutes les paires auraient fait {n * m * 8 / 2**20:.0f} MB "
        "par matrice float64"
    )
    targets.check(f"analyse, {m} structures (s)", secs, at_most=TARGET_5000_S)
    targets.check(f"analyse, {m} structures, pic tracé (MB)", peak, at_most=TARGET_5000_MB)
    targets.check(f"analyse, {m} structures, pic RSS (MB)", peak_rss_mb(), at_most=TARGET_5000_MB)


def timed(fn, *, repeat: int) -> tuple[float, object]:
    """Median wall time of ``repeat`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def line(label: str, seconds: float, extra: str = "") -> None:
    print(f"  {label:<58} {seconds * 1000:10.1f} ms {extra}")


def main() -> int:
    targets = Targets("bench_analysis")
    five_thousand(targets)
    t = time.perf_counter()
    access, region, registry = load_access(region="84")
    print(
        f"Données : {len(access.communes)} communes, {len(access.structures)} structures "
        f"localisées, modèle « {access.model_label} » ; chargement "
        f"{time.perf_counter() - t:.2f} s"
    )

    # --- full analysis (fresh per-table memo each time, commune columns kept: warm)
    analyse(access, region=region, registry=registry)
    secs, _ = timed(
        lambda: analyse(access.with_changes(), region=region, registry=registry), repeat=15
    )
    print("Analyse complète (médiane de 15) :")
    line("analyse()", secs)
    targets.check("analyse() (s)", secs, at_most=TARGET_ANALYSIS_S)

    # --- one what-if
    whatif = WhatIf(access, region, threshold=30)
    site = resolve_site("15014", region)
    whatif.run(Scenario(add=(site,)))
    secs, res = timed(lambda: whatif.run(Scenario(add=(site,))), repeat=50)
    print("Scénario : une structure ajoutée à Aurillac (médiane de 50) :")
    line("WhatIf.run()", secs)
    targets.check("WhatIf.run() (s)", secs, at_most=TARGET_WHATIF_S)
    print(
        f"    part au-delà de 30 km : {res.before['share_beyond']:.4f} -> "
        f"{res.after['share_beyond']:.4f}"
    )

    # --- greedy siting on every commune
    print("Suggestion de sites, k = 3, toutes les communes candidates :")
    t = time.perf_counter()
    access.commune_costs("distance_km")
    line("matrice commune x commune (calcul ou cache disque)", time.perf_counter() - t)
    secs, sites = timed(lambda: suggest_sites(access, k=3, threshold=30), repeat=3)
    line("glouton MCLP (matrice en mémoire)", secs)
    for r in sites.table.to_dict("records"):
        print(f"    {r['rank']}. {r['name']} ({r['dep']}) +{r['people_within']:,.0f} hab.")

    # --- greedy vs exact spopt MCLP on a smaller candidate set
    from coverage.analysis import siting

    c = access.communes
    cand = np.flatnonzero(c["population"].to_numpy() >= 5000)
    cost = access.commune_costs("distance_km", columns=cand).astype(float)
    existing = access.nearest_cost("tous_publics", "distance_km")
    w = access.population
    print(
        f"Glouton contre MCLP exact (spopt + CBC), {cand.size} communes candidates "
        "(>= 5 000 hab.), k = 3 :"
    )
    g_secs, g = timed(
        lambda: siting.greedy(
            cost, w, objective="coverage", k=3, existing=existing, threshold=30.0
        ),
        repeat=3,
    )
    line("glouton", g_secs, f"couverts {g.after:,.0f} hab.")
    if hasattr(siting, "exact"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            e_secs, e = timed(
                lambda: siting.exact(
                    cost,
                    w,
                    objective="coverage",
                    k=3,
                    existing=existing,
                    threshold=30.0,
                    time_limit=300,
                ),
                repeat=1,
            )
        line("spopt MCLP exact", e_secs, f"couverts {e.after:,.0f} hab. (optimal : {e.optimal})")
        print(
            f"    rapport de temps exact / glouton : {e_secs / g_secs:,.0f} ; "
            f"couverture glouton / exact : {g.after / e.after:.4f}"
        )
    else:
        print("    coverage.siting.exact absent : comparaison exacte non faite.")

    # --- PySAL access 2SFCA on the same cost table
    try:
        from access import Access
    except ImportError:
        print("PySAL access absent : comparaison non faite.")
        return targets.exit_code()
    long = access.long()
    demand = pd.DataFrame({"insee": c["insee"], "pop": c["population"]}).set_index("insee")
    supply = pd.DataFrame({"id": access.structures["id"], "cap": 1.0}).set_index("id")
    cost_df = long.rename(
        columns={"commune": "origin", "structure": "dest", "distance_km": "cost"}
    )[["origin", "dest", "cost"]]

    def pysal() -> pd.DataFrame:
        a = Access(
            demand_df=demand,
            demand_value="pop",
            supply_df=supply,
            supply_value="cap",
            cost_df=cost_df,
            cost_origin="origin",
            cost_dest="dest",
            cost_name="cost",
        )
        return a.two_stage_fca(name="2sfca", max_cost=30.0)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p_secs, p_res = timed(pysal, repeat=5)
    print(
        "2SFCA sur la même table de coûts (km, rayon 30 km ; capacité fictive 1 par "
        "structure, pour le chronométrage seulement) :"
    )
    line("PySAL access : Access(...).two_stage_fca(max_cost=30)", p_secs)
    from coverage.analysis import capacity

    population = pd.Series(c["population"].to_numpy(dtype=float), index=c["insee"])
    cap = pd.Series(1.0, index=access.structures["id"])
    pairs = long.rename(columns={"commune": "origin", "structure": "destination"})
    o_secs, o_res = timed(
        lambda: capacity.two_sfca(pairs, population, cap, by="distance_km", max_cost=30.0), repeat=5
    )
    line(
        "coverage.analysis.capacity.two_sfca(max_cost=30)",
        o_secs,
        f"rapport PySAL / nôtre : {p_secs / o_secs:.1f}",
    )
    ours = o_res.scores.reindex(demand.index).to_numpy(dtype=float)
    theirs = p_res["2sfca_cap"].reindex(demand.index).fillna(0).to_numpy(dtype=float)
    print(f"    écart maximal entre les deux indices : {np.nanmax(np.abs(ours - theirs)):.2e}")
    a_secs, _ = timed(
        lambda: analyse(access.with_changes(), region=region, registry=registry), repeat=5
    )
    print(
        f"    analyse complète / 2SFCA PySAL : {a_secs / p_secs:.2f} (l'analyse calcule en "
        "plus Gini, Theil décomposé, Atkinson, Palma, FGT, tableaux et listes)"
    )
    return targets.exit_code()


if __name__ == "__main__":
    sys.exit(main())
