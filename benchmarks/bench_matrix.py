"""Benchmark of the commune-matrix travel model on the real Isère matrix, beside the geodesic.

In one run:

- reading the 512 x 512 OSRM car-time matrix (``/work/shared/roads/isere``): cold (parsed,
  validated, units checked) and cached (the ``.npz`` keyed by the file's sha256); target:
  the cached read under 50 ms and at least 5 times faster than the cold one;
- the table of the region (4,025 communes x the located structures of the embedded registry,
  plus the 50 largest communes of Isère as measuring points: no invented structure is
  reported, only times) from the matrix model beside the geodesic model's pairwise table
  (the same geodesic per pair, which the matrix model also computes for its straight-line
  km); target: within 2 times. The access tables (the geodesic one takes the lazy KD-tree
  path, so it is faster still: printed, no target), then the analysis on each; target: the
  matrix analysis within 4 times the geodesic one;
- the straight-line cost (``analysis.straight_line``) on the matrix access table; target
  under 50 ms.

Run: ``.venv/bin/python benchmarks/bench_matrix.py`` (exits 1 on a missed target, 0 with a
message when the Isère matrix is absent).
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _timing import Targets, line, timed  # noqa: E402

from coverage import settings  # noqa: E402
from coverage.analysis.access_build import access_from_frames  # noqa: E402
from coverage.analysis.analyse import analyse  # noqa: E402
from coverage.analysis.straight_line import straight_line_cost  # noqa: E402
from coverage.data.region import load_region  # noqa: E402
from coverage.data.registry_files import load_registry  # noqa: E402
from coverage.travel import GeodesicModel  # noqa: E402
from coverage.travel.matrix import MatrixModel  # noqa: E402
from coverage.travel.matrix_file import read_matrix  # noqa: E402

MATRIX = ROOT.parent / "shared" / "roads" / "isere" / "TimeDistCarIsere.csv"
TARGET_CACHED_S = 0.050
TARGET_CACHE_SPEEDUP = 5.0
TARGET_TABLE_RATIO = 2.0
TARGET_MODEL_RATIO = 4.0
TARGET_STRAIGHT_S = 0.050


def _points(region) -> pd.DataFrame:
    """Located structures of the embedded registry, and the 50 largest Isère communes."""
    registry = load_registry(region=region)
    located = registry.located()[["id", "name", "kind", "lon", "lat"]]
    c = region.communes
    big = c[c["dep"] == "38"].nlargest(50, "population")
    test = pd.DataFrame(
        {
            "id": "bench-" + big["insee"],
            "name": "point de mesure " + big["name"],
            "kind": "tous_publics",
            "lon": big["lon"].to_numpy(),
            "lat": big["lat"].to_numpy(),
        }
    )
    return pd.concat([located, test], ignore_index=True), registry


def main() -> int:
    if not MATRIX.is_file():
        print(f"Matrice d'Isère absente ({MATRIX}) : benchmark non lancé.")
        return 0
    targets = Targets("bench_matrix")
    region = load_region(region="84")
    points = region.communes[["insee", "lon", "lat"]]
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import os

        os.environ[settings.CACHE_ENV] = tmp
        cold, _ = timed(lambda: read_matrix(MATRIX, unit="s", points=points, cache=False))
        read_matrix(MATRIX, unit="s", points=points)  # writes the cache
        warm, matrix = timed(lambda: read_matrix(MATRIX, unit="s", points=points), repeat=9)
    print(line("lecture de la matrice 512 x 512, en cache", warm, cold, ref_label="à froid"))
    targets.check("lecture en cache (s)", warm, at_most=TARGET_CACHED_S)
    targets.check("accélération du cache (x)", cold / warm, at_least=TARGET_CACHE_SPEEDUP)

    structures, registry = _points(region)
    model = MatrixModel(matrix, communes=region.communes, polygons=region.polygons())
    communes = region.communes
    o = communes[["insee", "lon", "lat"]].rename(columns={"insee": "id"})
    d = structures[["id", "lon", "lat"]]
    model.table(o, d)  # places the points once (polygon tree)
    pair_geo, _ = timed(lambda: GeodesicModel().table(o, d), repeat=3)
    pair_mat, _ = timed(lambda: model.table(o, d), repeat=3)
    print(f"{len(communes)} communes x {len(structures)} points :")
    print(line("  table du modèle, matrice", pair_mat, pair_geo, ref_label="géodésique"))
    targets.check("table matrice / géodésique (x)", pair_mat / pair_geo, at_most=TARGET_TABLE_RATIO)
    geo_s, geo = timed(lambda: access_from_frames(communes, structures, model=GeodesicModel()))
    mat_s, acc = timed(lambda: access_from_frames(communes, structures, model=model))
    print(line("  table d'accès, matrice", mat_s, geo_s, ref_label="géodésique, arbre KD"))

    geo_a, _ = timed(lambda: analyse(geo.with_changes(), region=region, registry=registry))
    mat_a, _ = timed(
        lambda: analyse(acc.with_changes(), region=region, registry=registry, by="duration_min")
    )
    print(line("  analyse, matrice (durées)", mat_a, geo_a, ref_label="géodésique (km)"))
    targets.check("analyse matrice / géodésique (x)", mat_a / geo_a, at_most=TARGET_MODEL_RATIO)

    straight = np.asarray(acc.matrix("distance_km"))
    road = np.asarray(acc.matrix("duration_min"))
    pop = acc.communes["population"].to_numpy(dtype=float)
    dep = acc.communes["dep"].to_numpy()
    cost_s, report = timed(lambda: straight_line_cost(straight, road, pop, departement=dep))
    o = report.overall
    print(line("  coût des lignes droites", cost_s))
    print(
        f"    {o.communes} communes mesurées ({o.unknown_communes} hors matrice) ; "
        f"{o.disagree_share:.1%} de la population mal orientée par la ligne droite, "
        f"+{o.extra_min_median:.1f} min médiane, +{o.extra_min_p90:.1f} min P90"
    )
    targets.check("coût des lignes droites (s)", cost_s, at_most=TARGET_STRAIGHT_S)
    return targets.exit_code()


if __name__ == "__main__":
    raise SystemExit(main())
