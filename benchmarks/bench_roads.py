"""Benchmark of the road engine: dataset build per stage, and a 4,025 x 30 table against Dijkstra.

Run: ``.venv/bin/python benchmarks/bench_roads.py [--extract PATH.osm.pbf]``

1. Builds an OSRM dataset from the extract (default: the largest real extract here,
   ``/work/shared/osm/monaco.osm.pbf``) in a temporary folder and prints each stage's time and
   peak memory (as recorded in the manifest), plus the extract's size and road graph size.
2. Draws 4,025 origins and 30 destinations (seeded) spread over the extract's roads, and
   times the table: OSRM in this process (first call with the engine load, then warm calls),
   OSRM through a local osrm-routed (HTTP, blocks of 100 coordinates), the disk cache, and
   a plain Dijkstra (scipy.sparse.csgraph, one run per destination on the reversed graph)
   over the same OSM ways read with osmium, with the points snapped to the nearest graph node.
3. Prints the ratios and how the road distances compare with the shortest paths.
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import Transformer
from scipy.spatial import cKDTree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "roads"))

from reference_graph import load_graph  # noqa: E402

from coverage import roads, settings  # noqa: E402
from coverage.travel.osrm import OsrmModel  # noqa: E402

DEFAULT_EXTRACT = ROOT.parent / "shared" / "osm" / "monaco.osm.pbf"


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def _points(graph, n: int, m: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Points near random road nodes (jittered by up to ~100 m), like commune town halls."""
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(graph.lon), n + m, replace=True)
    lon = graph.lon[idx] + rng.uniform(-0.0012, 0.0012, n + m)
    lat = graph.lat[idx] + rng.uniform(-0.0009, 0.0009, n + m)
    o = pd.DataFrame({"id": np.arange(n), "lon": lon[:n], "lat": lat[:n]})
    d = pd.DataFrame({"id": [f"s{i}" for i in range(m)], "lon": lon[n:], "lat": lat[n:]})
    return o, d


def _dijkstra_table(graph, o: pd.DataFrame, d: pd.DataFrame) -> np.ndarray:
    """Reference: snap to the nearest node (Lambert-93), one Dijkstra per destination."""
    from scipy.sparse.csgraph import dijkstra

    to_l93 = Transformer.from_crs(settings.WGS84, settings.LAMBERT93, always_xy=True)
    gx, gy = to_l93.transform(graph.lon, graph.lat)
    tree = cKDTree(np.column_stack([gx, gy]))
    ox, oy = to_l93.transform(o["lon"].to_numpy(), o["lat"].to_numpy())
    dx, dy = to_l93.transform(d["lon"].to_numpy(), d["lat"].to_numpy())
    _, o_node = tree.query(np.column_stack([ox, oy]))
    _, d_node = tree.query(np.column_stack([dx, dy]))
    from_dest = dijkstra(graph.matrix.T.tocsr(), directed=True, indices=d_node)
    return from_dest[:, o_node].T  # metres, origins x destinations


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extract", type=Path, default=DEFAULT_EXTRACT)
    parser.add_argument("--origins", type=int, default=4025)
    parser.add_argument("--destinations", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=84)
    args = parser.parse_args()
    if not args.extract.is_file():
        print(f"Extrait absent : {args.extract}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="bench-roads-") as tmp:
        os.environ[settings.CACHE_ENV] = str(Path(tmp) / "cache")  # tables cache only
        return _run(args, Path(tmp))


def _run(args: argparse.Namespace, tmp: Path) -> int:
    from coverage.data.region import load_region

    region = load_region(ROOT / ".cache", region="84")
    size_mb = args.extract.stat().st_size / 1e6
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"== Construction : {args.extract.name} ({size_mb:.2f} Mo), osrm-bindings "
        f"{roads.osrm_version()}, {os.cpu_count()} CPU, charge {load}"
    )
    t0 = time.perf_counter()
    folder = roads.build_dataset(
        args.extract, out=tmp / "ds", partial=True, activate=False, communes=region.communes
    )
    build_s = time.perf_counter() - t0
    ds = roads.open_dataset(folder)
    for st in ds.manifest["stages"]:
        mem = f"{st['peak_rss_mb']:8.1f} Mo" if st["peak_rss_mb"] else "        --"
        print(f"  {st['name']:<10} {st['seconds']:8.3f} s  mémoire max {mem}")
    files_mb = sum(ds.manifest["files"].values()) / 1e6
    print(f"  total      {build_s:8.3f} s  (jeu de données : {files_mb:.1f} Mo sur disque)")

    t0 = time.perf_counter()
    graph = load_graph(args.extract)
    graph_s = time.perf_counter() - t0
    print(
        f"  graphe de référence (osmium + scipy) : {len(graph.lon)} nœuds, "
        f"{graph.matrix.nnz} arcs, lu en {graph_s:.3f} s"
    )

    n, m = args.origins, args.destinations
    o, d = _points(graph, n, m, args.seed)
    print(
        f"\n== Table {n} origines x {m} destinations ({n * m} paires), "
        f"médiane de {args.repeat} essais"
    )
    model = OsrmModel(dataset=folder, cache=False)
    rss0 = _rss_mb()
    t0 = time.perf_counter()
    table = model.table(o, d)
    first_s = time.perf_counter() - t0
    rss1 = _rss_mb()
    warm_s, _ = _timed(lambda: model.table(o, d), args.repeat)
    big_s, _ = _timed(
        lambda: OsrmModel(dataset=folder, cache=False, chunk_size=5000).table(o, d), args.repeat
    )
    cached = OsrmModel(dataset=folder, cache=True)
    cached.table(o, d)
    cache_s, _ = _timed(lambda: cached.table(o, d), args.repeat)

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [
            str(roads.tool_path("routed")),
            "--algorithm",
            "MLD",
            "-i",
            "127.0.0.1",
            "-p",
            str(port),
            str(ds.base),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(
                    f"{url}/nearest/v1/driving/{o.lon[0]},{o.lat[0]}", timeout=1
                ).close()
                break
            except OSError:
                time.sleep(0.05)
        http_s, http_table = _timed(
            lambda: OsrmModel(url=url, cache=False).table(o, d), args.repeat
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    ref_s, ref_m = _timed(lambda: _dijkstra_table(graph, o, d), args.repeat)

    print(
        f"  OSRM en mémoire, 1er appel (chargement compris) : {first_s:8.3f} s "
        f"(+{rss1 - rss0:.0f} Mo de mémoire)"
    )
    print(f"  OSRM en mémoire, blocs de 1000 coordonnées      : {warm_s:8.3f} s")
    print(f"  OSRM en mémoire, un seul bloc                    : {big_s:8.3f} s")
    print(f"  OSRM via osrm-routed (HTTP, blocs de 100)       : {http_s:8.3f} s")
    print(f"  cache disque (même jeu de points)                : {cache_s:8.3f} s")
    print(f"  Dijkstra scipy (30 parcours + accrochage KD-tree): {ref_s:8.3f} s")
    print("\n== Rapports")
    print(f"  OSRM en mémoire / Dijkstra       : {warm_s / ref_s:6.2f}")
    print(f"  OSRM un seul bloc / Dijkstra     : {big_s / ref_s:6.2f}")
    print(f"  osrm-routed HTTP / OSRM mémoire  : {http_s / warm_s:6.2f}")
    print(f"  cache / OSRM mémoire             : {cache_s / warm_s:6.3f}")

    osrm_m = table["distance_km"].to_numpy().reshape(n, m) * 1000
    ok = np.isfinite(osrm_m) & np.isfinite(ref_m) & (ref_m > 200)
    ratio = osrm_m[ok] / ref_m[ok]
    http_m = http_table["distance_km"].to_numpy().reshape(n, m) * 1000
    same = np.allclose(osrm_m, http_m, equal_nan=True, atol=0.1)
    print(
        f"\n== Résultats : {int(np.isnan(osrm_m).sum())} paire(s) sans itinéraire OSRM ; "
        f"HTTP identique à la mémoire : {'oui' if same else 'NON'}"
    )
    q = np.quantile(ratio, [0.1, 0.5, 0.9])
    print(
        f"  distance OSRM (trajet le plus rapide) / plus court chemin (> 200 m) : "
        f"déciles 1/5/9 = {q[0]:.3f} / {q[1]:.3f} / {q[2]:.3f}"
    )
    print(
        "  (écarts : itinéraire le plus rapide et non le plus court, sens interdits de tourner,"
        " accrochage au segment et non au nœud le plus proche)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
