"""The finder on real data: distances checked against an independent pyproj computation."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pyproj import Geod

from coverage import french
from coverage._errors import ValidationError
from coverage.data.places import lookup
from coverage.outputs import finder_text
from coverage.patient.finder import Finder

GEOD = Geod(ellps="WGS84")


def _independent_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    return GEOD.inv(lon1, lat1, lon2, lat2)[2] / 1000.0


def test_aurillac_distances_match_pyproj_geod(finder: Finder) -> None:
    place = lookup("Aurillac", finder.region).place
    result = finder.find(place, k=5)
    located = finder.registry.located("tous_publics")
    assert len(result.structures) == min(5, len(located))
    for row in result.structures.to_dict("records"):
        expected = _independent_km(place.lat, place.lon, row["lat"], row["lon"])
        assert row["distance_km"] == pytest.approx(expected, rel=0.005)
    # Ranked by distance, and no located all-patients structure is nearer than the first.
    d = result.structures["distance_km"].to_numpy()
    assert np.all(np.diff(d) >= 0)
    everyone = [
        _independent_km(place.lat, place.lon, la, lo)
        for la, lo in zip(located["lat"], located["lon"], strict=True)
    ]
    assert d[0] == pytest.approx(min(everyone), rel=0.005)


def test_aja_device_is_the_nearest_one_for_computed_zones(finder: Finder) -> None:
    place = lookup("Aurillac", finder.region).place
    result = finder.find(place, age=19)
    devices = finder.registry.located("aja")
    dist = {
        r["id"]: _independent_km(place.lat, place.lon, r["lat"], r["lon"])
        for r in devices.to_dict("records")
    }
    assert result.aja is not None
    assert result.aja.device["id"] == min(dist, key=dist.get)
    assert result.aja.applies is True
    assert not result.aja.zone_official
    assert "pas le zonage officiel" in result.aja.zone_label


@pytest.mark.parametrize(
    ("age", "applies"),
    [(None, None), (14, False), (15, True), (25, True), (26, False), (70, False)],
)
def test_age_decides_whether_the_aja_device_applies(
    finder: Finder, age: int | None, applies: bool | None
) -> None:
    result = finder.find(lookup("Grenoble", finder.region).place, age=age)
    assert result.aja is not None and result.aja.applies is applies


@pytest.mark.parametrize("age", [-1, 121, 19.5, True])
def test_bad_age(finder: Finder, age: object) -> None:
    with pytest.raises(ValidationError, match="L'âge doit être un nombre entier"):
        finder.find(lookup("Grenoble", finder.region).place, age=age)  # type: ignore[arg-type]


def test_unlocated_structures_of_the_departement_are_listed(finder: Finder) -> None:
    result = finder.find(lookup("Moulins", finder.region).place)
    unlocated = finder.registry.not_located()
    expected = set(unlocated.loc[unlocated["dep"] == "03", "id"])
    assert expected and set(result.not_located["id"]) == expected
    assert set(result.structures["id"]).isdisjoint(expected)  # never given a distance
    assert "lieu des séances non publié" in finder_text.finder_text(result)


def test_json_answer_has_the_documented_shape(finder: Finder) -> None:
    result = finder.find(lookup("Le Puy-en-Velay", finder.region).place, age=19)
    doc = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert doc["place"]["insee"] == "43157" and doc["place"]["name"] == "Le Puy-en-Velay"
    s = doc["structures"][0]
    assert {"id", "name", "kind", "commune", "lat", "lon", "distance_km", "located"} <= set(s)
    assert s["located"] is True and s["kind"] == "tous_publics"
    assert doc["aja"]["zone"]["official"] is False
    assert doc["travel_model"] == {"name": "geodesic", "label": "à vol d'oiseau", "has_time": False}
    assert doc["forfait"]["annual_cap_eur"] == 180.0


def test_text_answer_in_french(finder: Finder) -> None:
    text = finder_text.finder_text(
        finder.find(lookup("Le Puy-en-Velay", finder.region).place, age=19)
    )
    assert "depuis la mairie du Puy-en-Velay" in text
    assert "à vol d'oiseau" in text
    assert "180,00 €" in text and "22,50 €" in text
    assert "15-25 ans" in text


def test_formats() -> None:
    assert french.km(8.44) == "8,4 km"
    assert french.km(187.4) == "187 km"
    assert french.minutes(45.2) == "45 min"
    assert french.minutes(65) == "1 h 05"


def test_an_approximate_name_is_flagged_for_checking(finder: Finder) -> None:
    place = lookup("Aurillacc", finder.region).place
    assert place.matched == "nom approché"
    text = finder_text.finder_text(finder.find(place))
    assert "Nom approché : vérifiez qu'il s'agit bien d'Aurillac (Cantal)." in text
    exact = finder_text.finder_text(finder.find(lookup("Aurillac", finder.region).place))
    assert "Nom approché" not in exact


def test_far_warning_with_the_incomplete_embedded_registry(finder: Finder) -> None:
    far = finder.find(lookup("Aurillac", finder.region).place)  # nearest: 258 km
    assert far.registry_is_default and far.structures["distance_km"].min() > 60
    assert far.registry_may_miss_nearer
    warning = finder_text.far_warning(far)
    assert "une structure plus proche existe peut-être" in warning
    assert f"Attention : {warning}" in finder_text.finder_text(far)
    near = finder.find(lookup("Pont-d'Ain", finder.region).place)
    assert not near.registry_may_miss_nearer
    assert finder_text.far_warning(near) == ""
    assert "Attention" not in finder_text.finder_text(near)


def test_lazy_computed_zones_give_the_zoning_device_of_every_commune(finder: Finder) -> None:
    from coverage.travel.catchments import computed_zones

    lazy = Finder(finder.region, finder.registry)  # no zoning given: found one commune at a time
    full = computed_zones(region=finder.region, registry=finder.registry)
    codes = finder.region.communes["insee"]
    sample = [*codes[::37], "15014", "69123", "38185"]
    for insee in sample:
        assert lazy._nearest_device(insee) == full.device_for(insee), insee
    assert lazy._zones is None  # answering did not build the whole zoning
    assert lazy.zones.device_for("15014") == full.device_for("15014")


def test_isere_road_times_are_the_matrix_cells(finder: Finder) -> None:
    """On the real OSRM matrix of Isère, the finder's time is the cell (origin commune ->
    the structure's commune), read here with plain csv."""
    import csv

    from conftest import SHARED

    path = SHARED / "roads" / "isere" / "TimeDistCarIsere.csv"
    if not path.is_file():
        pytest.skip(f"real matrix not found: {path}")
    from coverage.travel import make_model

    model = make_model("matrix", matrix=str(path), unit="s", region=finder.region)
    timed = Finder(finder.region, finder.registry, finder.zones, model)
    place = lookup("Bourg-d'Oisans", finder.region).place
    result = timed.find(place, age=19)
    assert result.aja is not None and result.has_time
    with open(path, encoding="utf-8", newline="") as fh:
        rows = csv.reader(fh)
        header = next(rows)[1:]
        cells = {r[0]: r[1:] for r in rows}
    device = result.aja.device
    seconds = float(cells[place.insee][header.index(device["commune_insee"])])
    assert device["duration_min"] == pytest.approx(seconds / 60, abs=1e-6)
    text = finder_text.finder_text(result)
    assert f"≈ {french.minutes(seconds / 60)} en voiture" in text
    assert "(temps de trajet inconnu)" in text  # Pont-d'Ain (Ain) is outside the matrix


@pytest.mark.parametrize("k", [0, 51, 2.5, True])
def test_a_bad_k_is_a_programmer_error(finder: Finder, k: object) -> None:
    from coverage._errors import ArgumentError

    with pytest.raises(ArgumentError, match="`k` must be an integer from 1 to 50"):
        finder.find(lookup("Grenoble", finder.region).place, k=k)  # type: ignore[arg-type]
