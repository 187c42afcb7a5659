"""The road travel model (OSRM) against lengths known by hand and an independent Dijkstra.

- The hand-written network beside Aurillac (``tests/fixtures/roads/aurillac_grid.osm``) has
  streets whose lengths are computed here with pyproj on the WGS84 ellipsoid, a one-way side
  and an isolated street: it runs everywhere.
- On the real Monaco extract (skipped when absent), OSRM is compared with a plain Dijkstra
  (scipy) over the same OSM ways read with osmium (``fixtures/roads/reference_graph.py``).

Tolerances. OSRM stores coordinates to 1e-6 degree, measures segments with its own fast
approximation of the WGS84 ellipsoid and rounds distances to 0.1 m; pyproj solves the exact
geodesic. Over the streets of these tests the two agree within 0.2 % + 1 m (observed: within
0.13 %). Where they disagree by more, OSRM is longer: it honours turn restrictions and node
barriers that the plain graph ignores; hence "OSRM >= Dijkstra" for every pair and "equal
within tolerance" for most pairs (observed: 98 % of the 3,540 sampled pairs in Monaco;
asserted: 90 %; with the matrix transposed by mistake only 11 % agree).
"""

from __future__ import annotations

import itertools
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from coverage import roads
from coverage._errors import RoadEngineError, ValidationError
from coverage.data.region import Region
from coverage.travel import make_model
from coverage.travel.base import TABLE_COLUMNS, TravelModel, nearest
from coverage.travel.geodesic import GeodesicModel
from coverage.travel.osrm import OsrmModel, RoadTravelWarning, _blocks

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "roads"
GRID = FIXTURES / "aurillac_grid.osm"
MONACO = Path(__file__).resolve().parents[1].parent / "shared" / "osm" / "monaco.osm.pbf"
needs_monaco = pytest.mark.skipif(not MONACO.is_file(), reason="monaco.osm.pbf absent")
GEOD = Geod(ellps="WGS84")
REL, ABS_M = 0.002, 1.0  # see the module docstring

# The hand-written network (lon, lat), as in the fixture's comment.
NODES = {
    "A": (2.4400, 44.9300),
    "B": (2.4500, 44.9300),
    "C": (2.4400, 44.9380),
    "D": (2.4500, 44.9380),
    "E": (2.4600, 44.9200),
    "F": (2.4620, 44.9200),
}


def _m(*names: str) -> float:
    """Length in metres of the path through the named nodes (pyproj, WGS84)."""
    total = 0.0
    for a, b in itertools.pairwise(names):
        total += GEOD.inv(*NODES[a], *NODES[b])[2]
    return total


def _points(names: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": list(names),
            "lon": [NODES[n][0] for n in names],
            "lat": [NODES[n][1] for n in names],
        }
    )


def _km(table: pd.DataFrame, origin: object, destination: object) -> float:
    row = table[(table["origin"] == origin) & (table["destination"] == destination)]
    assert len(row) == 1
    return float(row["distance_km"].iloc[0])


def _min(table: pd.DataFrame, origin: object, destination: object) -> float:
    row = table[(table["origin"] == origin) & (table["destination"] == destination)]
    return float(row["duration_min"].iloc[0])


@pytest.fixture(scope="session")
def grid(tmp_path_factory: pytest.TempPathFactory, region: Region) -> Path:
    out = tmp_path_factory.mktemp("road_travel") / "grid"
    return roads.build_dataset(
        GRID, out=out, partial=True, activate=False, communes=region.communes
    )


@pytest.fixture(scope="session")
def grid_model(grid: Path) -> OsrmModel:
    return OsrmModel(dataset=grid, cache=False)


# --- the hand-written network --------------------------------------------------------------


def test_known_lengths_and_the_one_way_detour(grid_model: OsrmModel) -> None:
    table = grid_model.table(_points("ABCD"), _points("ABCD"))
    expected = {
        ("A", "B"): _m("A", "B"),
        ("A", "C"): _m("A", "C"),
        ("C", "D"): _m("C", "D"),
        ("B", "D"): _m("B", "D"),  # along the one-way street
        ("D", "B"): _m("D", "C", "A", "B"),  # against it: round the block
        ("A", "D"): _m("A", "B", "D"),
        ("D", "A"): _m("D", "C", "A"),
    }
    for (o, d), metres in expected.items():
        assert _km(table, o, d) * 1000 == pytest.approx(metres, rel=REL, abs=ABS_M), (o, d)
    assert _km(table, "D", "B") > 2.5 * _km(table, "B", "D")
    assert _min(table, "D", "B") > _min(table, "B", "D") > 0
    for p in "ABCD":
        assert _km(table, p, p) == 0.0 and _min(table, p, p) == 0.0
    # Points given exactly at the nodes are snapped where they are.
    assert table["origin_snap_m"].max() < 0.5 and table["destination_snap_m"].max() < 0.5


def test_two_way_streets_are_symmetric(grid_model: OsrmModel) -> None:
    table = grid_model.table(_points("ABCD"), _points("ABCD"))
    for a, b in [("A", "B"), ("A", "C"), ("C", "D")]:
        assert _km(table, a, b) == pytest.approx(_km(table, b, a), abs=1e-4)
        assert _min(table, a, b) == pytest.approx(_min(table, b, a), abs=0.01)


def test_durations_match_a_plausible_speed(grid_model: OsrmModel) -> None:
    table = grid_model.table(_points("AB"), _points("AB"))
    kmh = _km(table, "A", "B") / (_min(table, "A", "B") / 60)
    # car.lua drives residential streets at 25 km/h before turn and signal penalties.
    assert 10 < kmh <= 25


def test_unreachable_pairs_are_nan_and_counted(grid_model: OsrmModel) -> None:
    pts = _points("ABCDEF")
    with pytest.warns(
        RoadTravelWarning,
        match=r"^16 paire\(s\) origine-destination sur 36 "
        r"sans itinéraire.*jamais 0",
    ):
        table = grid_model.table(pts, pts)
    assert table.attrs["unreachable_pairs"] == 16
    cut = table["origin"].isin(["E", "F"]) != table["destination"].isin(["E", "F"])
    assert cut.sum() == 16
    assert table.loc[cut, ["distance_km", "duration_min"]].isna().all().all()
    assert table.loc[~cut, ["distance_km", "duration_min"]].notna().all().all()
    assert _km(table, "E", "F") * 1000 == pytest.approx(_m("E", "F"), rel=REL, abs=ABS_M)


def test_points_far_from_every_road_are_nan(grid: Path) -> None:
    lyon = pd.DataFrame({"id": ["lyon"], "lon": [4.8357], "lat": [45.7640]})
    with pytest.warns(
        RoadTravelWarning,
        match=r"1 origine\(s\) et 0 destination\(s\) à plus "
        r"de 5000 m de toute route.*\['lyon'\]",
    ):
        table = OsrmModel(dataset=grid, cache=False).table(lyon, _points("AB"))
    assert table[["distance_km", "duration_min"]].isna().all().all()
    assert table.attrs["far_origins"] == 1 and table.attrs["far_destinations"] == 0
    gap_m = GEOD.inv(4.8357, 45.7640, *NODES["B"])[2]
    assert table["origin_snap_m"].iloc[0] == pytest.approx(gap_m, rel=0.01)
    # Without the limit, the point is snapped 190 km away and routed from there.
    kept = OsrmModel(dataset=grid, cache=False, max_snap_m=None).table(lyon, _points("AB"))
    assert kept["distance_km"].notna().all()


def test_table_contract_matches_the_geodesic_model(grid_model: OsrmModel) -> None:
    o, d = _points("ABD"), _points("CA")
    table = grid_model.table(o, d)
    geo = GeodesicModel().table(o, d)
    assert isinstance(grid_model, TravelModel)
    assert list(table.columns) == [*TABLE_COLUMNS, "origin_snap_m", "destination_snap_m"]
    assert table.attrs["model"] == "osrm" and (table["model"] == "osrm").all()
    assert table[["origin", "destination"]].equals(geo[["origin", "destination"]])
    assert (table["distance_km"] >= geo["distance_km"] * (1 - REL)).all()
    assert grid_model.has_time and grid_model.label_fr == "par la route (OSRM, voiture)"
    best = nearest(table)
    assert dict(zip(best["origin"], best["destination"], strict=True)) == {
        "A": "A",
        "B": "A",
        "D": "C",
    }
    empty = grid_model.table(o.iloc[:0], d)
    assert empty.empty and list(empty.columns) == list(table.columns)


def test_blocks_cover_every_cell_once_within_the_limit() -> None:
    for n, m, limit in [(1, 1, 2), (7, 3, 4), (3, 9, 5), (50, 50, 10), (4025, 30, 100)]:
        seen = np.zeros((n, m), dtype=int)
        for si, dj in _blocks(n, m, limit):
            assert (si.stop - si.start) + (dj.stop - dj.start) <= limit
            seen[si, dj] += 1
        assert (seen == 1).all()


@pytest.mark.parametrize("chunk", [2, 3, 5])
def test_small_chunks_give_the_same_table(grid: Path, grid_model: OsrmModel, chunk: int) -> None:
    pts = _points("ABCDEF")
    with pytest.warns(RoadTravelWarning):
        whole = grid_model.table(pts, pts)
    with pytest.warns(RoadTravelWarning):
        parts = OsrmModel(dataset=grid, chunk_size=chunk, cache=False).table(pts, pts)
    pd.testing.assert_frame_equal(whole, parts)


def test_results_are_cached_on_disk(
    grid: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARCOURS_CACHE_DIR", str(tmp_path))
    model = OsrmModel(dataset=grid)
    first = model.table(_points("ABCD"), _points("AD"))
    files = list((tmp_path / "osrm-tables").rglob("*.npz"))
    assert len(files) == 1 and files[0].parent.name == model.dataset.dataset_id

    def broken(*args: object, **kwargs: object) -> None:
        raise AssertionError("the engine should not be asked again")

    monkeypatch.setattr(roads, "load_engine", broken)
    again = model.table(_points("ABCD"), _points("AD"))
    pd.testing.assert_frame_equal(first, again)
    # Same coordinates under other ids: the cache serves them with the new ids.
    renamed = _points("ABCD").assign(id=[10, 11, 12, 13])
    assert model.table(renamed, _points("AD"))["origin"].tolist() == [
        10,
        10,
        11,
        11,
        12,
        12,
        13,
        13,
    ]
    # A damaged cache file is recomputed, not trusted.
    monkeypatch.undo()
    monkeypatch.setenv("PARCOURS_CACHE_DIR", str(tmp_path))
    files[0].write_bytes(b"abime")
    pd.testing.assert_frame_equal(model.table(_points("ABCD"), _points("AD")), first)


# --- errors --------------------------------------------------------------------------------


def test_a_missing_dataset_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RoadEngineError, match=r"'.*absent' est introuvable"):
        OsrmModel(dataset=tmp_path / "absent")


def test_a_missing_dataset_named_by_the_variable_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(roads.URL_ENV, raising=False)
    monkeypatch.setenv(roads.DATASET_ENV, str(tmp_path / "parti"))
    with pytest.raises(
        RoadEngineError,
        match=r"'.*parti' est introuvable.*\(jeu de données "
        r"indiqué par \$PARCOURS_OSRM_DATASET\)",
    ):
        OsrmModel()


def test_without_any_dataset_the_geodesic_model_still_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARCOURS_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv(roads.DATASET_ENV, raising=False)
    monkeypatch.delenv(roads.URL_ENV, raising=False)
    with pytest.raises(
        RoadEngineError,
        match=r"Aucun jeu de données routier OSRM.*"
        r"parcours roads build.*vol d'oiseau restent disponibles",
    ):
        make_model("osrm")
    table = make_model("geodesic").table(_points("AB"), _points("AB"))
    assert _km(table, "A", "B") * 1000 == pytest.approx(_m("A", "B"), rel=1e-9)


def test_make_model_builds_the_road_model(grid: Path) -> None:
    model = make_model("osrm", dataset=str(grid))
    assert isinstance(model, OsrmModel) and model.dataset.folder == grid
    assert "OSM du 2024-06-15T08:00:00Z" in model.source


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"url": "ftp://127.0.0.1:5000"}, r"`url` must be an http\(s\) address"),
        ({"url": "127.0.0.1:5000"}, r"`url` must be an http\(s\) address"),
        ({"url": "http://127.0.0.1:1", "max_snap_m": -3.0}, r"`max_snap_m` must be a positive"),
        ({"url": "http://127.0.0.1:1", "chunk_size": 1}, r"`chunk_size` must be an integer"),
        ({"url": "http://127.0.0.1:1", "timeout_s": 0}, r"`timeout_s` must be a positive"),
    ],
)
def test_bad_options_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        OsrmModel(**kwargs)


def test_bad_points_are_refused(grid_model: OsrmModel) -> None:
    bad = pd.DataFrame({"id": ["x"], "lon": [float("nan")], "lat": [45.0]})
    with pytest.raises(ValidationError, match=r"`origins` has 1 point\(s\) without valid"):
        grid_model.table(bad, _points("A"))


# --- a running osrm-routed -----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_until_up(url: str, proc: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"osrm-routed stopped with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/nearest/v1/driving/2.44,44.93", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("osrm-routed did not start")


def test_a_running_osrm_routed_answers_like_the_bindings_then_a_stopped_one_is_an_error(
    grid: Path, grid_model: OsrmModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARCOURS_CACHE_DIR", str(tmp_path))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [
        str(roads.tool_path("routed")),
        "--algorithm",
        "MLD",
        "-i",
        "127.0.0.1",
        "-p",
        str(port),
        str(grid / roads.BASE_NAME),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_until_up(url, proc)
        served = OsrmModel(url=url + "/", chunk_size=3, cache=False)
        assert served.url == url
        pts = _points("ABCD")
        remote = served.table(pts, pts)
        local = grid_model.table(pts, pts)
        pd.testing.assert_frame_equal(remote, local, atol=1e-3)
        with pytest.warns(RoadTravelWarning, match="16 paire"):
            served.table(_points("ABCDEF"), _points("ABCDEF"))
        # The server reports the dataset's identity (its data version): results are cached
        # under the same key as in this process.
        OsrmModel(url=url).table(pts, pts)
        cached = list((tmp_path / "osrm-tables").rglob("*.npz"))
        assert [p.parent.name for p in cached] == [roads.open_dataset(grid).dataset_id]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    with pytest.raises(
        RoadEngineError,
        match=rf"Le serveur OSRM '{url}' ne répond pas "
        r"\(connexion refusée\).*vol d'oiseau restent disponibles",
    ):
        served.table(pts, pts)


def test_a_server_that_is_not_osrm_is_one_clear_error(tmp_path: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        with pytest.raises(RoadEngineError, match=r"a refusé la requête \(HTTP 404"):
            OsrmModel(url=f"http://127.0.0.1:{port}").table(_points("A"), _points("B"))
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# --- real data: Monaco ---------------------------------------------------------------------

DISTANCE_PROFILE = """\
package.path = "{folder}/?.lua;" .. package.path
local car = dofile("{profile}")
local base_setup = car.setup
car.setup = function()
  local profile = base_setup()
  profile.properties.weight_name = "distance"
  return profile
end
return car
"""


@pytest.fixture(scope="session")
def monaco(tmp_path_factory: pytest.TempPathFactory, region: Region) -> Path:
    if not MONACO.is_file():
        pytest.skip("monaco.osm.pbf absent")
    out = tmp_path_factory.mktemp("monaco") / "car"
    return roads.build_dataset(
        MONACO, out=out, partial=True, activate=False, communes=region.communes
    )


@pytest.fixture(scope="session")
def monaco_shortest(tmp_path_factory: pytest.TempPathFactory, region: Region) -> Path:
    """Monaco with car.lua set to route by distance (``weight_name = "distance"``)."""
    if not MONACO.is_file():
        pytest.skip("monaco.osm.pbf absent")
    folder = tmp_path_factory.mktemp("monaco_shortest")
    car = roads.car_profile()
    lua = folder / "car_distance.lua"
    lua.write_text(DISTANCE_PROFILE.format(folder=car.parent, profile=car), encoding="utf-8")
    return roads.build_dataset(
        MONACO,
        out=folder / "ds",
        partial=True,
        tools=roads.ToolOptions(profile=lua),
        activate=False,
        communes=region.communes,
    )


@pytest.fixture(scope="session")
def reference():
    sys.path.insert(0, str(FIXTURES))
    try:
        from reference_graph import load_graph
    finally:
        sys.path.remove(str(FIXTURES))
    return load_graph(MONACO)


@pytest.fixture(scope="session")
def sample(reference) -> tuple[np.ndarray, pd.DataFrame]:
    rng = np.random.default_rng(20240615)
    pick = rng.choice(reference.plain_nodes(), 60, replace=False)
    pts = pd.DataFrame(
        {"id": reference.node_ids[pick], "lon": reference.lon[pick], "lat": reference.lat[pick]}
    )
    return pick, pts


@needs_monaco
def test_shortest_routes_equal_an_independent_dijkstra(monaco_shortest, reference, sample):
    pick, pts = sample
    table = OsrmModel(dataset=monaco_shortest, cache=False).table(pts, pts)
    osrm_m = table["distance_km"].to_numpy().reshape(len(pts), len(pts)) * 1000
    ref_m = reference.shortest_m(pick, pick)
    off = ~np.eye(len(pts), dtype=bool)
    assert np.isfinite(osrm_m).all() and np.isfinite(ref_m).all()
    assert table["origin_snap_m"].max() < 0.5
    # Never shorter than the shortest path over the same ways...
    assert (osrm_m[off] >= ref_m[off] * (1 - REL) - ABS_M).all()
    # ...and equal to it unless a turn restriction or barrier forces a detour.
    equal = np.abs(osrm_m[off] - ref_m[off]) <= ref_m[off] * REL + ABS_M
    assert equal.mean() >= 0.90


@needs_monaco
def test_fastest_routes_are_never_shorter_than_the_shortest_path(monaco, reference, sample):
    pick, pts = sample
    table = OsrmModel(dataset=monaco, cache=False).table(pts, pts)
    n = len(pts)
    osrm_m = table["distance_km"].to_numpy().reshape(n, n) * 1000
    ref_m = reference.shortest_m(pick, pick)
    off = ~np.eye(n, dtype=bool)
    assert (osrm_m[off] >= ref_m[off] * (1 - REL) - ABS_M).all()
    dur = table["duration_min"].to_numpy().reshape(n, n)
    assert (dur[off] > 0).all() and (osrm_m[off] > 0).all()
    # At most 130 km/h (car.lua's fastest default), at least walking pace over 100 m.
    speed_kmh = osrm_m[off] / 1000 / (dur[off] / 60)
    assert (speed_kmh < 130).all()
    geo = GeodesicModel().table(pts, pts)["distance_km"].to_numpy().reshape(n, n) * 1000
    assert (osrm_m[off] >= geo[off] * (1 - REL) - ABS_M).all()


@needs_monaco
def test_two_way_segments_are_symmetric_in_monaco(monaco, reference):
    m = reference.matrix
    both = m.multiply(m.T > 0).tocoo()  # segments present in both directions
    plain = reference.plain
    keep = plain[both.row] & plain[both.col] & (both.row < both.col) & (both.data > 30)
    rng = np.random.default_rng(7)
    chosen = rng.choice(np.flatnonzero(keep), 25, replace=False)
    model = OsrmModel(dataset=monaco, cache=False)
    for k in chosen:
        a, b = both.row[k], both.col[k]
        pts = pd.DataFrame(
            {"id": ["a", "b"], "lon": reference.lon[[a, b]], "lat": reference.lat[[a, b]]}
        )
        t = model.table(pts, pts)
        assert _km(t, "a", "b") == pytest.approx(_km(t, "b", "a"), abs=1e-3)
        assert _km(t, "a", "b") * 1000 == pytest.approx(both.data[k], rel=REL, abs=ABS_M)


@needs_monaco
def test_a_4025_by_30_table_is_cut_into_blocks(monaco):
    rng = np.random.default_rng(4025)
    n, m = 4025, 30
    lon = rng.uniform(7.41, 7.44, n + m)  # inside the extract, on land
    lat = rng.uniform(43.725, 43.745, n + m)
    o = pd.DataFrame({"id": np.arange(n), "lon": lon[:n], "lat": lat[:n]})
    d = pd.DataFrame({"id": [f"d{i}" for i in range(m)], "lon": lon[n:], "lat": lat[n:]})
    model = OsrmModel(dataset=monaco, cache=False)
    table = model.table(o, d)
    assert len(table) == n * m
    assert table.attrs["unreachable_pairs"] == int(table["distance_km"].isna().sum())
    assert table["distance_km"].notna().mean() > 0.95
    # Any slice of the big table equals the same pairs asked on their own.
    part = model.table(o.iloc[1000:1010], d.iloc[5:8])
    joined = part.merge(table, on=["origin", "destination"], suffixes=("", "_big"))
    assert len(joined) == 30
    np.testing.assert_allclose(joined["distance_km"], joined["distance_km_big"])
    np.testing.assert_allclose(joined["duration_min"], joined["duration_min_big"])
