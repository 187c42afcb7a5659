"""Benchmark of the analysis of all of France (``--region FR``, ~35,000 communes), in one run.

Prints, for the national region (metropolitan France and overseas, each overseas
département in its own projection):

- loading the national region from its cache (warm, in a fresh state of the memory cache);
- building the access table (geodesic, the embedded registries of every region) and the full
  analysis, warm (the second and later runs), target under 3 s, with its peak traced memory;
- the same, repeated with 500 structures at random communes (timing only), so that the cost's
  growth with the number of structures is seen;
- the reference measured in the same run: a plain scipy cKDTree nearest structure for every
  commune on 3-D unit vectors (no analysis, no tables), and the ratio;
- the per-commune work: seconds per 1,000 communes, to extrapolate (README, "Where a single
  process stops");
- a simulated 200 m population grid of metropolitan France (``--grid-cells``, default
  2,300,000 random points in its box): the exact nearest of 5,000 structures for every cell
  (the index's KD-tree then exact geodesics), its time and peak traced memory, against the
  same with a bare cKDTree (chord only, not exact).

Run: ``.venv/bin/python benchmarks/bench_national.py``; exits 1 when a target is missed.
The national cache is built on first use (about 4 s, printed on standard error).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
from _timing import Targets, line, peak_rss_mb, timed, traced_peak_mb
from bench_analysis import synthetic_registry
from scipy.spatial import cKDTree

from coverage.analysis.access_build import build_access
from coverage.analysis.analyse import analyse
from coverage.data.region import clear_memory_cache, load_region
from coverage.data.registry_files import load_registry

TARGET_NATIONAL_S = 3.0
TARGET_NATIONAL_MB = 500.0


def _unit(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    lo, la = np.radians(lon), np.radians(lat)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def _reference(region, registry) -> np.ndarray:
    """Nearest located structure per commune by chord length (the peer: a bare KD-tree)."""
    s = registry.located()
    tree = cKDTree(_unit(s["lon"].to_numpy(), s["lat"].to_numpy()))
    c = region.communes
    return tree.query(_unit(c["lon"].to_numpy(), c["lat"].to_numpy()), k=1)[1]


def _analysis(region, registry):
    access = build_access(region=region, registry=registry)
    return analyse(access, region=region, registry=registry)


def main() -> int:
    targets = Targets("national")
    clear_memory_cache()
    load_s, region = timed(lambda: load_region(region="FR"), repeat=1)
    clear_memory_cache()
    load_s, region = timed(lambda: load_region(region="FR"), repeat=1)
    registry = load_registry(region=region)
    n = len(region.communes)
    print(f"France: {n} communes, {len(region.departements)} départements, ", end="")
    print(f"{len(registry.structures)} structures ({len(registry.located())} located)")
    print(line("load the national region (cache, warm disk)", load_s))

    warm_s, a = timed(lambda: _analysis(region, registry), repeat=3, warmup=1)
    ref_s, _ = timed(lambda: _reference(region, registry), repeat=5)
    print(line("access table + full analysis, warm", warm_s, ref_s, ref_label="cKDTree nearest"))
    mb, _ = traced_peak_mb(lambda: _analysis(region, registry))
    print(f"  peak traced memory {mb:.0f} MB; process peak RSS {peak_rss_mb():.0f} MB")
    print(f"  {warm_s / n * 1000 * 1000:.1f} ms per 1,000 communes")
    head = a.main
    if head is not None:
        print(f"  communes measured: {head.communes}, population {head.population:,.0f}")
    targets.check("national analysis, warm (s)", warm_s, at_most=TARGET_NATIONAL_S)
    targets.check("national analysis, peak traced (MB)", mb, at_most=TARGET_NATIONAL_MB)

    with tempfile.TemporaryDirectory() as tmp:
        path = synthetic_registry(region, 500, Path(tmp))
        big = load_registry(path, region=region)
        t500, _ = timed(lambda: _analysis(region, big), repeat=2, warmup=1)
        r500, _ = timed(lambda: _reference(region, big), repeat=5)
        print(line("the same with 500 structures, warm", t500, r500, ref_label="cKDTree nearest"))
        _grid(region, big, cells=_cells())
    return targets.exit_code()


def _cells() -> int:
    if "--grid-cells" in sys.argv:
        return int(sys.argv[sys.argv.index("--grid-cells") + 1])
    return 2_300_000


def _grid(region, registry, *, cells: int) -> None:
    """Nearest structure for ``cells`` random points of metropolitan France (a grid's work)."""
    from coverage.travel.nearest import GeodesicIndex

    rng = np.random.default_rng(7)
    w, s, e, n = region.view_bbox
    lon, lat = rng.uniform(w, e, cells), rng.uniform(s, n, cells)
    c = region.communes
    pick = c.iloc[rng.integers(0, len(c), 5000)]
    index = GeodesicIndex(pick["lon"].to_numpy(), pick["lat"].to_numpy())
    t, _ = timed(lambda: index.nearest(lon, lat), repeat=1)
    mb, _ = traced_peak_mb(lambda: index.nearest(lon[: cells // 10], lat[: cells // 10]))
    tree = cKDTree(_unit(pick["lon"].to_numpy(), pick["lat"].to_numpy()))
    ref, _ = timed(lambda: tree.query(_unit(lon, lat), k=1), repeat=1)
    print(
        line(
            f"simulated grid: {cells:,} cells x 5,000 structures, exact nearest",
            t,
            ref,
            ref_label="cKDTree chord only",
        )
    )
    print(
        f"  {t / cells * 1e6:.2f} µs per cell; peak traced memory for a tenth of the cells "
        f"{mb:.0f} MB (about {mb * 10:.0f} MB for all)"
    )


if __name__ == "__main__":
    sys.exit(main())
