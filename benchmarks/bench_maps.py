"""Map output: size and build time of a whole-region choropleth; Fisher-Jenks vs mapclassify.

Run: ``.venv/bin/python benchmarks/bench_maps.py``. Prints the HTML size of the 4,025-commune
choropleth (the reason no geometry simplification is applied: it stays far below 15 MB), the
time to build and render it, and the speed of ``coverage.outputs.maps.base.fisher_jenks_bins``
against ``mapclassify.FisherJenks`` (pure Python without numba) on the same values. Exits 1 on
a missed target (``benchmarks/_timing.py``).
"""

from __future__ import annotations

import sys
import time
import warnings

import mapclassify
import numpy as np
import shapely
from _timing import Targets

from coverage.data.region import load_region
from coverage.outputs.maps import base as maps

SIZE_LIMIT_MB = 15.0


def main() -> int:
    targets = Targets("bench_maps")
    region = load_region(region="84")
    polygons = region.polygons().join(region.communes[["name", "population"]])
    vertices = int(shapely.get_num_coordinates(polygons.geometry.to_numpy()).sum())
    print(f"communes: {len(polygons)}, polygon vertices: {vertices:,}")

    t0 = time.perf_counter()
    m = maps.base_map()
    maps.add_choropleth(
        m, polygons, "population", legend=maps.Legend("Population"), label_field="name"
    )
    t1 = time.perf_counter()
    html = maps.to_html(m)
    t2 = time.perf_counter()
    size_mb = len(html.encode("utf-8")) / 1e6
    print(
        f"whole-region choropleth: {size_mb:.2f} MB (limit {SIZE_LIMIT_MB:.0f} MB, ratio "
        f"{size_mb / SIZE_LIMIT_MB:.2f}); build {t1 - t0:.2f} s, render {t2 - t1:.2f} s"
    )

    values = polygons["population"].to_numpy(float)
    sample = np.sort(values)[:: max(1, len(values) // 800)]  # mapclassify is O(k n^2) in Python
    t0 = time.perf_counter()
    ours = maps.fisher_jenks_bins(sample, 5)
    t1 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = mapclassify.FisherJenks(sample, k=5).bins
    t2 = time.perf_counter()
    same = np.allclose(ours, ref)
    speedup = (t2 - t1) / (t1 - t0)
    print(
        f"Fisher-Jenks on {len(sample)} values, k=5: ours {t1 - t0:.3f} s, mapclassify "
        f"{t2 - t1:.3f} s, speed-up x{speedup:.0f}, same bins: {same}"
    )
    t0 = time.perf_counter()
    maps.fisher_jenks_bins(values, 5)
    print(f"Fisher-Jenks on all {len(values)} values, k=5: ours {time.perf_counter() - t0:.3f} s")
    targets.check("whole-region choropleth size (MB)", size_mb, at_most=SIZE_LIMIT_MB)
    targets.check("Fisher-Jenks bins equal mapclassify's (1 = yes)", float(same), at_least=1)
    targets.check("Fisher-Jenks speed-up over mapclassify", speedup, at_least=1)
    return targets.exit_code()


if __name__ == "__main__":
    sys.exit(main())
