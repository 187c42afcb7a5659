"""The cost of straight lines: disagreement between straight-line and road nearest, extra minutes.

A hand-sized case is worked out on paper; on the real Isère matrix (``/work/shared/roads/
isere``, skipped when absent) the figures are checked against a plain numpy computation that
expands every inhabitant (``np.repeat``) and takes ordinary quantiles.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coverage._errors import ArgumentError
from coverage._geodesy import geodesic_km
from coverage.analysis.access_build import access_from_frames
from coverage.analysis.straight_line import (
    straight_line_cost,
    straight_line_for_access,
    weighted_quantile,
)
from coverage.data.region import Region
from coverage.travel import GeodesicModel, make_model

ISERE = Path(__file__).resolve().parents[1].parent / "shared" / "roads" / "isere"


def test_a_hand_case() -> None:
    # Three communes, two structures. Straight lines (km) and road minutes:
    straight = np.array([[5.0, 8.0], [9.0, 4.0], [3.0, 3.5]])
    road = np.array([[20.0, 12.0], [30.0, 10.0], [np.inf, 7.0]])
    pop = np.array([100.0, 50.0, 10.0])
    dep = np.array(["38", "38", "73"])
    report = straight_line_cost(straight, road, pop, departement=dep)
    # Commune 0: straight picks 0 (20 min), road picks 1 (12 min): 8 extra minutes.
    # Commune 1: both pick 1. Commune 2: straight picks 0, which has no road time: unknown.
    o = report.overall
    assert (o.communes, o.population, o.unknown_communes) == (2, 150.0, 1)
    assert (o.disagree_communes, o.disagree_population) == (1, 100.0)
    assert o.disagree_share == pytest.approx(100 / 150)
    assert (o.extra_min_median, o.extra_min_p90) == (8.0, 8.0)
    assert report.by_departement["73"].communes == 0
    assert np.isnan(report.by_departement["73"].disagree_share)
    assert report.to_dict()["by_departement"]["73"]["extra_min_median"] is None
    assert report.to_dict()["overall"]["disagree_population"] == 100.0


def test_equal_road_times_are_not_a_disagreement() -> None:
    report = straight_line_cost([[1.0, 2.0]], [[10.0, 10.0]], [5.0])
    assert report.overall.disagree_communes == 0
    assert np.isnan(report.overall.extra_min_median)


def test_weighted_quantile_equals_the_expanded_quantile() -> None:
    rng = np.random.default_rng(2)
    values, weights = rng.normal(size=40), rng.integers(0, 9, 40)
    expanded = np.repeat(values, weights)
    for q in (0.1, 0.5, 0.9):
        assert weighted_quantile(values, weights, q) == np.quantile(
            expanded, q, method="inverted_cdf"
        )


def test_shapes_are_checked() -> None:
    with pytest.raises(ArgumentError, match=r"must be n x m \(m >= 1\)"):
        straight_line_cost(np.ones((2, 2)), np.ones((2, 3)), np.ones(2))


@pytest.fixture(scope="module")
def isere(region: Region) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """(codes, km between the matrix's points, minutes, population) read with csv/json."""
    matrix, points = ISERE / "TimeDistCarIsere.csv", ISERE / "isere.geojson"
    if not (matrix.is_file() and points.is_file()):
        pytest.skip(f"real Isère matrix absent: looked for {matrix} and {points}")
    with open(matrix, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    codes = rows[0][1:]
    by_code = {r[0]: r[1:] for r in rows[1:]}
    minutes = np.array([[float(v) for v in by_code[c]] for c in codes]) / 60.0
    props = {
        f["properties"]["id"]: f["properties"]
        for f in json.loads(points.read_text(encoding="utf-8"))["features"]
    }
    lon = np.array([props[c]["lon"] for c in codes])
    lat = np.array([props[c]["lat"] for c in codes])
    km = geodesic_km(lon[:, None], lat[:, None], lon[None, :], lat[None, :])
    pop = np.array([float(props[c]["population"]) for c in codes])
    return codes, km, minutes, pop


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_on_the_isere_matrix_it_equals_a_plain_numpy_computation(isere: tuple, seed: int):
    codes, km, minutes, pop = isere
    cols = np.random.default_rng(seed).choice(len(codes), 5, replace=False)
    straight, road = km[:, cols], minutes[:, cols]
    report = straight_line_cost(straight, road, pop)
    by_line = road[np.arange(len(codes)), straight.argmin(axis=1)]
    best = road.min(axis=1)
    extra = by_line - best
    wrong = extra > 0
    people = np.repeat(extra[wrong], pop[wrong].astype(int))
    o = report.overall
    assert o.communes == len(codes) and o.unknown_communes == 0
    assert o.disagree_communes == int(wrong.sum())
    assert o.disagree_population == pop[wrong].sum()
    assert o.disagree_share == pytest.approx(pop[wrong].sum() / pop.sum(), rel=1e-12)
    assert o.extra_min_median == np.quantile(people, 0.5, method="inverted_cdf")
    assert o.extra_min_p90 == np.quantile(people, 0.9, method="inverted_cdf")
    # The data's README: about 1 commune in 6 disagrees with 5 random destinations.
    assert 0.03 < wrong.mean() < 0.4


def test_on_a_matrix_access_table_it_uses_the_straight_lines_it_carries(
    region: Region, isere: tuple
) -> None:
    c = region.communes
    picked = c[c["dep"] == "38"].nlargest(6, "population")
    sites = pd.DataFrame(
        {
            "id": [f"s{i}" for i in range(6)],
            "name": [f"s{i}" for i in range(6)],
            "kind": ["tous_publics"] * 5 + ["aja"],
            "lon": picked["lon"].to_numpy(),
            "lat": picked["lat"].to_numpy(),
        }
    )
    model = make_model(
        "matrix", matrix=str(ISERE / "TimeDistCarIsere.csv"), unit="s", region=region
    )
    access = access_from_frames(c, sites, model=model)
    geo = access_from_frames(c, sites, model=GeodesicModel())
    report = straight_line_for_access(access)
    assert report is not None
    expected = straight_line_cost(
        np.asarray(geo.distance_km)[:, :5],
        np.asarray(access.duration_min)[:, :5],
        c["population"].to_numpy(dtype=float),
        departement=c["dep"].to_numpy(),
    )
    assert report.to_dict() == expected.to_dict()  # NaN (no one) compares as None
    assert report.overall.communes == int((c["dep"] == "38").sum())
    assert set(report.by_departement) == set(c["dep"])
    assert report.by_departement["15"].communes == 0  # Cantal: outside the matrix
    assert straight_line_for_access(geo) is None  # straight lines against themselves
