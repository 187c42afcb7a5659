"""Tests of coverage.travel.nearest: the KD-tree answers equal the brute force over every pair."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyproj import Geod

from coverage._errors import ValidationError
from coverage.analysis.access_build import access_from_frames
from coverage.geography import travel_areas
from coverage.travel.catchments import computed_zones
from coverage.travel.geodesic import CircuityModel, GeodesicModel
from coverage.travel.nearest import (
    R_MIN_KM,
    GeodesicIndex,
    GeodesicMatrix,
    safe_chord,
    straight_line_factor,
    unit_vectors,
)

GEOD = Geod(ellps="WGS84")


def brute(olon, olat, dlon, dlat, factor=1.0, rank=None):
    """Every pair with pyproj directly, then argmin with ties to the lowest rank."""
    n, m = len(olon), len(dlon)
    _, _, metres = GEOD.inv(
        np.repeat(olon, m), np.repeat(olat, m), np.tile(dlon, n), np.tile(dlat, n)
    )
    full = np.asarray(metres).reshape(n, m) / 1000.0 * factor
    order = np.arange(m) if rank is None else np.argsort(rank, kind="stable")
    j = order[np.argmin(full[:, order], axis=1)]
    return j, full[np.arange(n), j], full


@dataclass(frozen=True)
class PairwiseGeodesic:
    """The geodesic model seen as "any other model": the access table asks it every pair."""

    name: ClassVar[str] = "geodesic"
    label_fr: ClassVar[str] = "à vol d'oiseau"
    has_time: ClassVar[bool] = False

    def table(self, origins: pd.DataFrame, destinations: pd.DataFrame) -> pd.DataFrame:
        return GeodesicModel().table(origins, destinations)


def random_registry(region, m: int, seed: int) -> pd.DataFrame:
    """``m`` structures at random points of the region's box, some sharing a point."""
    rng = np.random.default_rng(seed)
    c = region.communes
    lon = rng.uniform(c["lon"].min(), c["lon"].max(), m)
    lat = rng.uniform(c["lat"].min(), c["lat"].max(), m)
    lon[m // 2 : m // 2 + 5], lat[m // 2 : m // 2 + 5] = lon[0], lat[0]  # exact ties
    kind = np.where(rng.random(m) < 0.2, "aja", "tous_publics")
    ids = [f"s{i:04d}" for i in rng.permutation(m)]  # id order differs from column order
    return pd.DataFrame({"id": ids, "name": ids, "kind": kind, "lon": lon, "lat": lat})


# ----------------------------------------------------------------------------- the bound


def test_the_search_chord_bounds_every_geodesic():
    # Hand check of R_MIN: a (1 - e^2) for WGS84.
    assert R_MIN_KM == pytest.approx(6335.439, abs=1e-3)
    rng = np.random.default_rng(3)
    lon1, lon2 = rng.uniform(-180, 180, (2, 20_000))
    lat1, lat2 = rng.uniform(-90, 90, (2, 20_000))
    _, _, metres = GEOD.inv(lon1, lat1, lon2, lat2)
    chord = np.linalg.norm(unit_vectors(lon1, lat1) - unit_vectors(lon2, lat2), axis=1)
    assert (chord <= safe_chord(np.asarray(metres) / 1000.0)).all()
    # Along a meridian at the equator the bound is nearly tight (curvature radius R_MIN there).
    _, _, m = GEOD.inv(0.0, -0.05, 0.0, 0.05)
    tight = np.linalg.norm(unit_vectors([0.0], [-0.05]) - unit_vectors([0.0], [0.05]))
    assert tight / safe_chord(m / 1000.0) > 0.9999


# ----------------------------------------------------------------------------- the region


@pytest.mark.parametrize("m", [1, 5, 500])
def test_nearest_equals_brute_force_on_the_regions_communes(region, m):
    reg = random_registry(region, m, seed=m)
    c = region.communes
    olon, olat = c["lon"].to_numpy(float), c["lat"].to_numpy(float)
    dlon, dlat = reg["lon"].to_numpy(), reg["lat"].to_numpy()
    j, cost = GeodesicIndex(dlon, dlat).nearest(olon, olat)
    bj, bcost, full = brute(olon, olat, dlon, dlat)
    np.testing.assert_array_equal(j, bj)
    np.testing.assert_array_equal(cost, bcost)
    radius = 30.0
    near = GeodesicIndex(dlon, dlat).within(olon, olat, radius)
    assert near.nnz == int((full <= radius).sum())
    np.testing.assert_array_equal(near.toarray()[full <= radius], full[full <= radius])


def test_access_table_from_the_index_equals_the_pairwise_one(region):
    """The 500-structure registry: every figure of the table, and a what-if, unchanged."""
    reg = random_registry(region, 500, seed=11)
    c = region.communes[["insee", "name", "dep", "population", "lon", "lat"]]
    lazy = access_from_frames(c, reg, model=GeodesicModel())
    dense = access_from_frames(c, reg, model=PairwiseGeodesic())
    assert isinstance(lazy.distance_km, GeodesicMatrix)
    assert isinstance(dense.distance_km, np.ndarray)
    pd.testing.assert_frame_equal(lazy.per_commune(), dense.per_commune())
    np.testing.assert_array_equal(np.asarray(lazy.distance_km), dense.distance_km)
    zones_lazy = lazy._nearest_by_distance("aja")
    np.testing.assert_array_equal(zones_lazy, dense._nearest_by_distance("aja"))
    add = reg.head(3).assign(id=["n1", "n2", "n3"], lon=[3.0, 4.5, 6.0], lat=[45.0, 45.5, 46])
    gone = reg["id"].iloc[[0, 10, 20]].tolist()
    a, b = lazy.with_changes(add=add, remove=gone), dense.with_changes(add=add, remove=gone)
    pd.testing.assert_frame_equal(a.per_commune(), b.per_commune())
    np.testing.assert_array_equal(np.asarray(a.distance_km), b.distance_km)


class _Points:
    """The one method of a registry that ``computed_zones`` reads."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame

    def points(self, kind: str | None = None, *, area: str | None = None) -> pd.DataFrame:
        found = self.frame[self.frame["kind"] == kind]
        if area is not None and "dep" in found.columns:
            found = found[travel_areas(found["dep"]) == area]
        return found[["id", "lon", "lat"]].reset_index(drop=True)


def test_computed_zones_from_the_index_equal_the_pairwise_ones(region):
    reg = random_registry(region, 60, seed=8)
    reg.loc[reg.index[-3:], ["lon", "lat", "kind"]] = [
        reg["lon"].iloc[0],
        reg["lat"].iloc[0],
        "aja",
    ]
    registry = _Points(reg)
    fast = computed_zones(region=region, registry=registry, model=GeodesicModel())
    slow = computed_zones(region=region, registry=registry, model=PairwiseGeodesic())
    pd.testing.assert_frame_equal(fast.assignment, slow.assignment)
    assert fast.assignment["device_id"].nunique() > 3


def test_estimate_model_is_the_factor_times_the_geodesic(region):
    reg = random_registry(region, 50, seed=5)
    c = region.communes[["insee", "dep", "population", "lon", "lat"]]
    est = access_from_frames(c, reg, model=CircuityModel())
    assert straight_line_factor(CircuityModel()) == 1.26
    assert straight_line_factor(PairwiseGeodesic()) is None
    table = CircuityModel().table(c.rename(columns={"insee": "id"}), reg)
    np.testing.assert_array_equal(
        np.asarray(est.distance_km).ravel(), table["distance_km"].to_numpy()
    )
    near = est.nearest("tous_publics")
    tp = reg[reg["kind"] == "tous_publics"]
    j, cost, _ = brute(c["lon"], c["lat"], tp["lon"], tp["lat"], factor=1.26)
    assert near["structure_id"].tolist() == tp["id"].to_numpy()[j].tolist()
    np.testing.assert_array_equal(near["distance_km"], cost)


# ----------------------------------------------------------------------------- anywhere

coords = st.tuples(st.floats(-180, 180, allow_nan=False), st.floats(-89.9, 89.9, allow_nan=False))


@given(
    origins=st.lists(coords, min_size=1, max_size=30),
    destinations=st.lists(coords, min_size=1, max_size=30),
    repeat=st.integers(0, 3),
    radius=st.floats(0, 3000),
)
def test_nearest_and_within_equal_brute_force_anywhere(origins, destinations, repeat, radius):
    dest = destinations + destinations[:1] * repeat  # repeated points: ties
    olon, olat = np.array(origins).T
    dlon, dlat = np.array(dest).T
    rank = np.random.default_rng(len(dest)).permutation(len(dest))
    index = GeodesicIndex(dlon, dlat)
    for r in (None, rank):
        j, cost = index.nearest(olon, olat, rank=r)
        bj, bcost, full = brute(olon, olat, dlon, dlat, rank=r)
        np.testing.assert_array_equal(j, bj)
        np.testing.assert_array_equal(cost, bcost)
    near = index.within(olon, olat, radius)
    assert near.nnz == int((full <= radius).sum())
    np.testing.assert_array_equal(near.toarray()[full <= radius], full[full <= radius])


def test_ties_go_to_the_lowest_rank_by_hand():
    # Two structures at the same point, one farther: the first column wins, or the lowest rank.
    index = GeodesicIndex(np.array([2.0, 3.0, 3.0]), np.array([45.0, 45.0, 45.0]))
    j, km = index.nearest([3.0], [45.0])
    assert j.tolist() == [1] and km.tolist() == [0.0]
    j, _ = index.nearest([3.0], [45.0], rank=[0, 2, 1])
    assert j.tolist() == [2]
    empty = GeodesicIndex(np.array([]), np.array([]))
    j, km = empty.nearest([3.0], [45.0])
    assert j.tolist() == [-1] and np.isnan(km).all()
    assert empty.within([3.0], [45.0], 10.0).shape == (1, 0)


def test_geodesic_matrix_indexes_like_numpy():
    rng = np.random.default_rng(2)
    o, d = rng.uniform(0, 5, (2, 7)), rng.uniform(40, 45, (2, 4))
    lazy = GeodesicMatrix(o[0], o[1], d[0], d[1])
    full = np.asarray(lazy)
    _, _, m = GEOD.inv(np.repeat(o[0], 4), np.repeat(o[1], 4), np.tile(d[0], 7), np.tile(d[1], 7))
    np.testing.assert_array_equal(full, np.asarray(m).reshape(7, 4) / 1000.0)
    mask = np.array([True, False, True, True])
    for key in [(3,), (slice(None), 2), (4, 1), ([1, 2], [3, 0]), (slice(1, 5), mask)]:
        np.testing.assert_array_equal(lazy[key if len(key) > 1 else key[0]], full[key])
    assert lazy.shape == (7, 4) and lazy.select(mask).shape == (7, 3)
    np.testing.assert_array_equal(
        np.asarray(lazy.select(mask).append(lazy)), full[:, [0, 2, 3, 0, 1, 2, 3]]
    )
    with pytest.raises(ValidationError, match="finite longitudes"):
        GeodesicIndex(np.array([np.nan]), np.array([45.0]))
    with pytest.raises(ValidationError, match="radius"):
        GeodesicIndex(d[0], d[1]).within(o[0], o[1], -1.0)


def test_a_what_if_that_only_adds_reuses_the_nearest_and_equals_a_fresh_search(region):
    reg = random_registry(region, 200, seed=21)
    c = region.communes[["insee", "dep", "population", "lon", "lat"]]
    base = access_from_frames(c, reg, model=GeodesicModel())
    base.per_commune()  # the nearest structures are now known
    # One added structure on an existing one's point (a tie: the existing one stays), two
    # elsewhere, of both kinds.
    tie = reg.iloc[[7]].assign(id="n-tie")
    two = reg.head(2).assign(
        id=["n1", "n2"], kind=["aja", "tous_publics"], lon=[3.1, 5.9], lat=[45.2, 45.9]
    )
    add = pd.concat([tie, two])
    fast = base.with_changes(add=add)
    assert ("nearest_index", "tous_publics") in fast._memo  # carried, not searched again
    fresh = access_from_frames(c, pd.concat([reg, add]), model=PairwiseGeodesic())
    zones = ["aja_zone_device", "aja_zone_km", "aja_zone_min"]  # zones: redrawn in fast only
    pd.testing.assert_frame_equal(
        fast.per_commune().drop(columns=zones), fresh.per_commune().drop(columns=zones)
    )
    assert (fast.per_commune()["aja_nearest_id"] == "n1").any()
