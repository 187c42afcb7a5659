"""Tests of coverage.scenario: what-ifs on real data checked by an independent computation."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from pyproj import Geod

from coverage import settings
from coverage._errors import OutsideRegionError, PlaceError, ValidationError
from coverage.analysis.access_build import build_access
from coverage.analysis.scenario import Scenario, Site, WhatIf, resolve_site
from coverage.outputs.text import scenario_lines
from coverage.travel.catchments import computed_zones
from coverage.travel.geodesic import GeodesicModel

GEOD = Geod(ellps="WGS84")
AURILLAC = "15014"  # Cantal: every commune is > 150 km from the embedded registry's structure


@pytest.fixture(scope="module")
def base(region, registry):
    zones = computed_zones(region=region, registry=registry)
    return build_access(region, registry, zones=zones, model=GeodesicModel())


@pytest.fixture(scope="module")
def whatif(base, region):
    return WhatIf(base, region, threshold=30.0)


def _km_to(region, lon: float, lat: float) -> np.ndarray:
    c = region.communes
    n = len(c)
    _, _, m = GEOD.inv(c["lon"].to_numpy(), c["lat"].to_numpy(), np.full(n, lon), np.full(n, lat))
    return np.asarray(m) / 1000.0


def _share(region, dist: np.ndarray, z: float) -> tuple[float, float]:
    w = region.communes["population"].to_numpy(dtype=float)
    return float(w[dist > z].sum()), float(w[dist > z].sum() / w.sum())


def test_adding_a_structure_where_nobody_is_covered_lowers_the_share_exactly(
    whatif, region, registry
):
    tp = registry.located("tous_publics")
    before = np.min(
        [_km_to(region, lo, la) for lo, la in zip(tp["lon"], tp["lat"], strict=True)], axis=0
    )
    au = region.commune(AURILLAC)
    after = np.minimum(before, _km_to(region, float(au["lon"]), float(au["lat"])))
    pop_before, share_before = _share(region, before, 30.0)
    pop_after, share_after = _share(region, after, 30.0)
    assert pop_after < pop_before  # the area was uncovered: the what-if helps

    res = whatif.run(Scenario(add=(AURILLAC,)))
    assert res.before.population_beyond == pop_before
    assert res.after.population_beyond == pop_after
    assert res.deltas["population_beyond"] == pop_after - pop_before
    assert res.deltas["share_beyond"] == pytest.approx(share_after - share_before, abs=1e-15)
    assert res.after.share_beyond == pytest.approx(share_after, abs=1e-15)
    w = region.communes["population"].to_numpy(dtype=float)
    assert res.after.mean == pytest.approx(np.dot(w, after) / w.sum(), rel=1e-12)
    assert res.changes[0].startswith("Ajout : structure tous publics à Aurillac (15)")
    cantal = res.departements.set_index("dep").loc["15"]
    assert cantal["share_beyond_after"] < cantal["share_beyond_before"] == 1.0


def test_a_scenario_never_writes_the_registry_nor_changes_the_base(whatif, base):
    digest = hashlib.sha256(settings.DEFAULT_REGISTRY.read_bytes()).hexdigest()
    matrix = np.asarray(base.distance_km).copy()
    ids = base.structures["id"].tolist()
    whatif.run(
        Scenario(
            add=(AURILLAC,),
            remove=("aja-chu-clermont-ferrand",),
            move=(("sisa-pont-d-ain-sante", "63113"),),
        )
    )
    assert hashlib.sha256(settings.DEFAULT_REGISTRY.read_bytes()).hexdigest() == digest
    np.testing.assert_array_equal(base.distance_km, matrix)
    assert base.structures["id"].tolist() == ids


def test_move_keeps_the_structure_and_remove_the_last_one_empties_the_figures(whatif, region):
    res = whatif.run(Scenario(move=(("sisa-pont-d-ain-sante", "Clermont-Ferrand"),)))
    s = res.access.structures
    moved = s[s["id"] == "sisa-pont-d-ain-sante"].iloc[0]
    assert moved["name"] == "SISA Pont d'Ain Santé" and moved["commune_insee"] == "63113"
    cf = region.commune("63113")
    assert (moved["lon"], moved["lat"]) == (cf["lon"], cf["lat"])
    assert res.changes[0].startswith("Déplacement : SISA Pont d'Ain Santé")

    gone = whatif.run(Scenario(remove=("sisa-pont-d-ain-sante",)))
    assert gone.after is None and gone.deltas == {}
    assert "non calculables" in "\n".join(scenario_lines(gone))


def test_adding_an_aja_device_redraws_computed_zones(whatif):
    res = whatif.run(Scenario(add_aja=(AURILLAC,)))
    assert res.aja_after.mean < res.aja_before.mean
    zones = res.access.communes.set_index("insee")["aja_zone_device"]
    assert zones[AURILLAC] == "ajout-1"
    # An all-patients what-if leaves the AJA figures as they were.
    assert whatif.run(Scenario(add=(AURILLAC,))).aja_after == whatif.aja_before


def test_sites_from_codes_names_and_points(region):
    by_code = resolve_site("15014", region)
    by_name = resolve_site("Aurillac", region)
    assert by_code.insee == by_name.insee == "15014"
    assert (by_code.lon, by_code.lat) == (by_name.lon, by_name.lat)
    point = resolve_site("45.1, 2.5", region)
    assert (point.lat, point.lon) == (45.1, 2.5) and point.dep == "15"
    assert isinstance(point, Site) and point.label.endswith("(15)")
    with pytest.raises(OutsideRegionError, match="hors d'Auvergne-Rhône-Alpes"):
        resolve_site("48.85, 2.35", region)
    with pytest.raises(PlaceError, match="plusieurs communes"):
        resolve_site("Saint-Martin", region)
    with pytest.raises(ValidationError, match="Lieu vide"):
        resolve_site("  ", region)


def test_scenarios_are_validated(whatif, base, region):
    with pytest.raises(ValidationError, match="deux fois"):
        Scenario(remove=("a",), move=(("a", "15014"),))
    with pytest.raises(ValidationError, match="must be a tuple"):
        Scenario(add="15014")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="inconnue ou non localisée"):
        whatif.run(Scenario(remove=("ligue-cancer-03",)))  # labelled but not located
    assert Scenario().is_empty
    same = WhatIf(base, region).run(Scenario())
    assert same.after == same.before
    assert all(v == 0 for v in same.deltas.values() if v is not None)


def test_to_dict_is_json(whatif):
    import json

    d = whatif.run(Scenario(add=(AURILLAC,))).to_dict()
    text = json.dumps(d, allow_nan=False, ensure_ascii=False)
    assert json.loads(text)["deltas"]["share_beyond"] < 0


@pytest.mark.parametrize(
    "scenario",
    [
        Scenario(add=(AURILLAC,)),
        Scenario(add_aja=(AURILLAC,)),
        Scenario(move=(("sisa-pont-d-ain-sante", "63113"),)),
    ],
    ids=["add", "add-aja", "move"],
)
def test_siting_after_a_scenario_suggests_k_sites(whatif, region, registry, scenario):
    # Issue 13 item 5b: `parcours analyse --site K` with --add, --add-aja or --move raised
    # ValueError ("All arrays must be of the same length").
    from coverage.analysis.analyse import analyse
    from coverage.analysis.inputs import SitingRequest

    after = whatif.run(scenario).access
    res = analyse(after, region=region, registry=registry, threshold=30.0, siting=SitingRequest(3))
    assert res.siting is not None
    table = res.siting.table
    assert len(table) == 3 and table["rank"].tolist() == [1, 2, 3]
    # Each suggestion is checked by hand: the people it newly brings within 30 km, given the
    # scenario's structures and the suggestions before it.
    best = after.nearest_cost("tous_publics", "distance_km").copy()
    best[np.isnan(best)] = np.inf
    w = after.population
    for row in table.itertuples():
        km = _km_to(region, row.lon, row.lat)
        assert row.people_within == pytest.approx(float(w[(best > 30) & (km <= 30)].sum()))
        best = np.minimum(best, km)


def test_a_planner_five_digit_code_is_the_insee_code_even_when_it_is_a_postcode(region):
    # "03190" is Moulins's INSEE code and the postcode of other Allier communes: patients'
    # lookup reads the postcode, the planners' what-if reads the INSEE code.
    site = resolve_site("03190", region)
    assert site.insee == "03190" and site.commune == "Moulins" and site.dep == "03"
