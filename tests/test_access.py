"""Tests of coverage.access: a hand-checkable plane fixture, what-if columns, real ARA data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _plane import COMMUNES, STRUCTURES, PlaneModel
from pyproj import Geod

from coverage import settings
from coverage._errors import ValidationError
from coverage.analysis.access import ORIGIN_NOTE_FR
from coverage.analysis.access_build import access_from_frames, build_access
from coverage.travel.catchments import computed_zones
from coverage.travel.geodesic import GeodesicModel

# ----------------------------------------------------------------------------- plane fixture


@pytest.fixture
def plane():
    return access_from_frames(COMMUNES, STRUCTURES, model=PlaneModel())


def test_nearest_by_hand(plane):
    near = plane.nearest("tous_publics")
    # B is 1 km from both S1 and S3: the tie goes to the first structure (registry order).
    assert near["structure_id"].tolist() == ["S1", "S1", "S3", "S3", "S3"]
    assert near["distance_km"].tolist() == [0.0, 1.0, 0.0, 1.0, 8.0]
    assert near["duration_min"].tolist() == [0.0, 2.0, 0.0, 2.0, 16.0]
    aja = plane.nearest("aja")
    assert aja["structure_id"].tolist() == ["S2"] * 5
    assert aja["distance_km"].tolist() == [3.0, 2.0, 1.0, 0.0, 7.0]
    assert plane.main_cost == "duration_min"
    table = plane.per_commune()
    assert table["nearest_name"].tolist() == ["Un", "Un", "Trois", "Trois", "Trois"]
    assert (table["aja_zone_device"] == "").all()
    assert table["aja_zone_km"].isna().all()  # no zone given: no zone distance


def test_long_table_is_the_models_table(plane):
    long = plane.long()
    assert list(long.columns) == ["commune", "structure", "distance_km", "duration_min", "model"]
    assert len(long) == 5 * 3
    ref = PlaneModel().table(COMMUNES.rename(columns={"insee": "id"}), STRUCTURES)
    merged = long.merge(ref, left_on=["commune", "structure"], right_on=["origin", "destination"])
    assert len(merged) == 15
    np.testing.assert_array_equal(merged["distance_km_x"], merged["distance_km_y"])
    np.testing.assert_array_equal(merged["duration_min_x"], merged["duration_min_y"])
    assert set(long["model"]) == {"plane"}


def test_rows_in_any_order_land_in_the_right_cell(plane):
    shuffled = access_from_frames(COMMUNES, STRUCTURES, model=PlaneModel(shuffle=True))
    np.testing.assert_array_equal(shuffled.distance_km, plane.distance_km)
    np.testing.assert_array_equal(shuffled.duration_min, plane.duration_min)


def test_unroutable_pairs_are_inf_and_a_commune_without_route_has_no_nearest():
    # E (4) cannot reach S1 (0) nor S3 (2); B (1) cannot reach S1.
    model = PlaneModel(blocked=frozenset({(4, 0), (4, 2), (1, 0)}))
    acc = access_from_frames(COMMUNES, STRUCTURES, model=model)
    assert np.isinf(acc.distance_km[4, 0]) and np.isinf(acc.distance_km[1, 0])
    near = acc.nearest("tous_publics")
    assert near["structure_id"].tolist() == ["S1", "S3", "S3", "S3", ""]
    assert near["distance_km"].iloc[1] == 1.0  # B falls back on S3
    assert np.isnan(near["distance_km"].iloc[4])
    assert np.isnan(acc.long()["distance_km"]).sum() == 3


def test_with_changes_adds_only_new_columns_and_leaves_the_base_alone(plane):
    before = plane.distance_km.copy()
    add = pd.DataFrame(
        {"id": ["S4"], "name": ["Quatre"], "kind": ["tous_publics"], "lon": [10.0], "lat": [0.0]}
    )
    after = plane.with_changes(add=add, remove=["S1"])
    full = access_from_frames(
        COMMUNES, pd.concat([STRUCTURES.iloc[1:], add], ignore_index=True), model=PlaneModel()
    )
    np.testing.assert_array_equal(after.distance_km, full.distance_km)
    assert after.structures["id"].tolist() == ["S2", "S3", "S4"]
    assert after.structures["added"].tolist() == [False, False, True]
    assert after.nearest("tous_publics")["structure_id"].tolist() == ["S3", "S3", "S3", "S3", "S4"]
    np.testing.assert_array_equal(plane.distance_km, before)
    assert plane.nearest("tous_publics")["structure_id"].iloc[0] == "S1"


def test_with_changes_refuses_unknown_and_clashing_ids(plane):
    with pytest.raises(ValidationError, match="inconnue"):
        plane.with_changes(remove=["S9"])
    clash = pd.DataFrame({"id": ["S1"], "name": ["x"], "kind": ["aja"], "lon": [1.0], "lat": [0.0]})
    with pytest.raises(ValidationError, match="new and unique"):
        plane.with_changes(add=clash)
    with pytest.raises(ValidationError, match="kind"):
        plane.with_changes(add=clash.assign(id="S9", kind="autre"))


def test_computed_zones_follow_the_aja_devices_official_ones_do_not(plane):
    zoned = access_from_frames(
        COMMUNES.assign(aja_zone_device="S2"), STRUCTURES, model=PlaneModel()
    )
    new_device = pd.DataFrame(
        {"id": ["S5"], "name": ["AJA 2"], "kind": ["aja"], "lon": [9.0], "lat": [0.0]}
    )
    after = zoned.with_changes(add=new_device)
    # Computed zones: each commune to its nearest device by distance (E is 1 km from S5).
    assert after.communes["aja_zone_device"].tolist() == ["S2", "S2", "S2", "S2", "S5"]
    assert after.per_commune()["aja_zone_km"].tolist() == [3.0, 2.0, 1.0, 0.0, 1.0]
    assert zoned.communes["aja_zone_device"].tolist() == ["S2"] * 5  # base untouched

    official = access_from_frames(
        COMMUNES.assign(aja_zone_device="S2"), STRUCTURES, model=PlaneModel(), zones_official=True
    )
    assert official.with_changes(add=new_device).communes["aja_zone_device"].tolist() == ["S2"] * 5
    removed = official.with_changes(remove=["S2"])
    assert removed.communes["aja_zone_device"].tolist() == [""] * 5
    assert removed.per_commune()["aja_zone_km"].isna().all()


def test_duration_needs_a_model_with_times(plane):
    geo = access_from_frames(COMMUNES, STRUCTURES, model=GeodesicModel())
    assert not geo.has_time and geo.main_cost == "distance_km"
    with pytest.raises(ValidationError, match="ne donne pas de durée"):
        geo.matrix("duration_min")
    with pytest.raises(ValidationError, match="`by` must be one of"):
        plane.matrix("km")


def test_commune_costs_match_the_model_and_are_cached(tmp_path, monkeypatch):
    monkeypatch.setenv(settings.CACHE_ENV, str(tmp_path))
    acc = access_from_frames(COMMUNES, STRUCTURES, model=GeodesicModel())
    cols = [4, 0]
    costs = acc.commune_costs(columns=cols)
    assert costs.shape == (5, 2) and costs.dtype == np.float32
    geod = Geod(ellps="WGS84")
    c = COMMUNES
    for j, col in enumerate(cols):
        _, _, m = geod.inv(c["lon"], c["lat"], [c["lon"][col]] * 5, [c["lat"][col]] * 5)
        np.testing.assert_allclose(costs[:, j], np.asarray(m) / 1000, rtol=1e-6)
    files = list((tmp_path / "access").glob("communes-geodesic-*.npz"))
    assert len(files) == 1
    again = access_from_frames(COMMUNES, STRUCTURES, model=GeodesicModel())
    np.testing.assert_array_equal(again.commune_costs(columns=cols), costs)
    with pytest.raises(ValidationError, match="columns"):
        acc.commune_costs(columns=[5])


def test_frames_are_validated():
    with pytest.raises(ValidationError, match="lacks column"):
        access_from_frames(COMMUNES.drop(columns="population"), STRUCTURES, model=PlaneModel())
    with pytest.raises(ValidationError, match="repeats"):
        access_from_frames(pd.concat([COMMUNES, COMMUNES.head(1)]), STRUCTURES, model=PlaneModel())
    with pytest.raises(ValidationError, match="kind"):
        access_from_frames(COMMUNES, STRUCTURES.assign(kind="x"), model=PlaneModel())


# ----------------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def real(region, registry):
    zones = computed_zones(region=region, registry=registry)
    return build_access(region, registry, zones=zones, model=GeodesicModel())


def test_real_access_table_is_every_commune_to_every_located_structure(real, region, registry):
    located = registry.located()
    assert real.distance_km.shape == (len(region.communes), len(located))
    assert len(real.communes) == 4025
    assert real.structures["id"].tolist() == located["id"].tolist()
    # Spot-check one column against pyproj directly: Aurillac to each structure.
    row = int(np.flatnonzero(real.communes["insee"] == "15014")[0])
    c = region.commune("15014")
    _, _, m = Geod(ellps="WGS84").inv(
        [c["lon"]] * len(located), [c["lat"]] * len(located), located["lon"], located["lat"]
    )
    np.testing.assert_allclose(real.distance_km[row], np.asarray(m) / 1000, rtol=1e-12)
    assert len(real.long()) == 4025 * len(located)


def test_real_nearest_and_zones(real, registry):
    tp = registry.located("tous_publics")["id"].tolist()
    near = real.nearest("tous_publics")
    assert set(near["structure_id"]) <= set(tp)
    assert near["distance_km"].notna().all()
    # Computed zones are the nearest AJA device, so the zone distance is the AJA minimum.
    table = real.per_commune()
    np.testing.assert_allclose(table["aja_zone_km"], table["aja_distance_km"])
    assert real.zones_label.startswith("zones calculées")


def test_origin_note_says_representative_points(real):
    note = real.origin_note_fr()
    assert note.startswith(ORIGIN_NOTE_FR)
    assert "point représentatif" in note
    inside = int((real.communes["point_source"] == "interieur").sum())
    assert f"{inside} commune(s) au point intérieur" in note


def _damage_in_place(path) -> None:
    """Overwrite the last 4 KB of ``path`` with other bytes: same size, same header."""
    data = bytearray(path.read_bytes())
    tail = len(data) - min(4096, len(data) // 2)
    data[tail:] = bytes((b + 1) % 256 for b in data[tail:])
    path.write_bytes(bytes(data))


def test_a_damaged_candidate_cache_of_the_same_size_is_rebuilt(tmp_path, monkeypatch):
    # Issue 13 item 4: damaged bytes without a change of size used to be read back as costs.
    monkeypatch.setenv(settings.CACHE_ENV, str(tmp_path))
    cols = [4, 0, 2]
    fresh = access_from_frames(COMMUNES, STRUCTURES, model=GeodesicModel()).commune_costs(
        columns=cols
    )
    (path,) = (tmp_path / "access").glob("communes-geodesic-*")
    size = path.stat().st_size
    _damage_in_place(path)
    assert path.stat().st_size == size
    again = access_from_frames(COMMUNES, STRUCTURES, model=GeodesicModel())
    np.testing.assert_array_equal(again.commune_costs(columns=cols), fresh)
    # ... and the damaged file was replaced by a good one, read back as such.
    third = access_from_frames(COMMUNES, STRUCTURES, model=GeodesicModel())
    np.testing.assert_array_equal(third.commune_costs(columns=cols), fresh)
    assert path.read_bytes() != b"" and path.stat().st_size == size


def test_a_truncated_or_foreign_candidate_cache_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv(settings.CACHE_ENV, str(tmp_path))
    cols = [1, 3]
    fresh = access_from_frames(COMMUNES, STRUCTURES, model=GeodesicModel()).commune_costs(
        columns=cols
    )
    (path,) = (tmp_path / "access").glob("communes-geodesic-*")
    np.save(path.with_suffix(".tmp.npy"), np.zeros((5, 2), dtype=np.float32))
    path.with_suffix(".tmp.npy").replace(path)  # right shape, wrong values, no checksum
    again = access_from_frames(COMMUNES, STRUCTURES, model=GeodesicModel())
    np.testing.assert_array_equal(again.commune_costs(columns=cols), fresh)
    path.write_bytes(path.read_bytes()[:100])
    third = access_from_frames(COMMUNES, STRUCTURES, model=GeodesicModel())
    np.testing.assert_array_equal(third.commune_costs(columns=cols), fresh)


def test_added_marks_only_what_the_last_change_added(plane):
    # Issue 13 item 5b: a what-if's table changed again (siting after --add) used to count the
    # scenario's structure among the new sites.
    first = pd.DataFrame(
        {"id": ["S4"], "name": ["Quatre"], "kind": ["tous_publics"], "lon": [10.0], "lat": [0.0]}
    )
    second = first.assign(id="S5", name="Cinq", lon=5.0)
    twice = plane.with_changes(add=first).with_changes(add=second)
    assert twice.structures["id"].tolist() == ["S1", "S2", "S3", "S4", "S5"]
    assert twice.structures["added"].tolist() == [False, False, False, False, True]


def test_commune_pairs_are_the_pairs_within_the_radius(real, region):
    from coverage._geodesy import geodesic_km

    c = region.communes
    lon, lat = c["lon"].to_numpy(), c["lat"].to_numpy()
    cols = np.flatnonzero(c["population"].to_numpy() >= 20_000)
    full = geodesic_km(lon[:, None], lat[:, None], lon[None, cols], lat[None, cols])
    pairs = real.commune_pairs(25.0, columns=cols)
    assert pairs.shape == full.shape and pairs.nnz == int((full <= 25.0).sum())
    np.testing.assert_array_equal(pairs.toarray()[full <= 25.0], full[full <= 25.0])
    with pytest.raises(ValidationError, match="radius"):
        real.commune_pairs(-1.0, columns=cols)


def test_commune_pairs_of_another_model_by_hand(plane):
    # Communes at x = 0, 1, 2, 3, 10; candidates A (0) and E (10); radius 1.5.
    pairs = plane.commune_pairs(1.5, columns=[0, 4])
    assert pairs.nnz == 3  # A-A (0, stored), B-A (1) and E-E (0, stored)
    np.testing.assert_array_equal(pairs.toarray(), [[0, 0], [1, 0], [0, 0], [0, 0], [0, 0]])
    coo = pairs.tocoo()
    assert sorted(zip(coo.row.tolist(), coo.col.tolist(), strict=True)) == [(0, 0), (1, 0), (4, 1)]


def test_straight_line_tables_refuse_points_without_coordinates():
    bad = STRUCTURES.assign(lon=[0.0, np.nan, 2.0])
    with pytest.raises(ValidationError, match=r"`destinations` has 1 point.* rows \[1\]"):
        access_from_frames(COMMUNES, bad, model=GeodesicModel())
    with pytest.raises(ValidationError, match="`origins` has 1 point"):
        access_from_frames(
            COMMUNES.assign(lat=[0, 0, 95.0, 0, 0]), STRUCTURES, model=GeodesicModel()
        )
