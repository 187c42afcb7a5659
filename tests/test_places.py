"""Place lookup on real data: tricky names, codes, postcodes and points."""

from __future__ import annotations

import pytest
from _facts import ARA_DEPARTEMENT_NAMES

from coverage._errors import OutsideRegionError, PlaceError
from coverage.data.place_names import normalize, normalize_many
from coverage.data.place_results import MAX_QUERY_CHARS, OutsidePlaceError
from coverage.data.places import lookup
from coverage.data.region import Region


@pytest.mark.parametrize(
    ("query", "insee", "matched"),
    [
        ("Le Puy-en-Velay", "43157", "nom"),
        ("le puy en velay", "43157", "nom"),
        ("PUY-EN-VELAY", "43157", "nom"),  # without its article
        ("Puy en Velay (43)", "43157", "nom"),
        ("St-Flour", "15187", "nom"),
        ("saint flour", "15187", "nom"),
        ("Évian-les-Bains", "74119", "nom"),
        ("evian les bains", "74119", "nom"),
        ("L'Abergement-Clémenciat", "01001", "nom"),
        ("abergement clemenciat", "01001", "nom"),
        ("Aurillacc", "15014", "nom approché"),  # a typo
        ("43157", "43157", "code INSEE"),
        ("69388", "69123", "code INSEE"),  # Lyon 8e arrondissement -> Lyon
        ("Lyon 8e Arrondissement", "69123", "arrondissement"),
        ("Bellegarde-sur-Valserine", "01033", "commune déléguée"),  # now Valserhône
        ("Annecy-le-Vieux", "74010", "commune déléguée"),
        ("Murat (15)", "15138", "nom"),
        ("Murat 03", "03191", "nom"),
        ("Murat 15300", "15138", "nom"),  # qualified by postcode
        ("43000", None, "code postal"),
    ],
)
def test_lookup_resolves(region: Region, query: str, insee: str | None, matched: str) -> None:
    found = lookup(query, region)
    assert all(p.matched == matched for p in found.places)
    if insee is not None:
        assert not found.ambiguous
        assert found.place.insee == insee
    else:
        assert all(region.commune(p.insee)["dep"] == "43" for p in found.places)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Murat", {"03191", "15138"}),  # homonyms in Allier and Cantal
        ("Clermont", {"74078", "63113"}),  # Clermont (74) and Clermont-Ferrand
    ],
)
def test_homonyms_return_candidates_never_a_guess(
    region: Region, query: str, expected: set[str]
) -> None:
    found = lookup(query, region)
    assert found.ambiguous
    assert {p.insee for p in found.places} == expected
    with pytest.raises(PlaceError, match="plusieurs communes"):
        _ = found.place


def test_shared_postcode_returns_every_commune(region: Region) -> None:
    found = lookup("15300", region)
    pcs = region.postcodes
    expected = set(pcs.loc[(pcs["postcode"] == "15300") & pcs["in_region"], "insee"])
    assert len(expected) > 1
    assert {p.insee for p in found.places} == expected


def test_a_unique_name_is_not_made_ambiguous_by_smaller_namesakes(region: Region) -> None:
    found = lookup("Saint-Étienne", region)
    assert not found.ambiguous and found.place.insee == "42218"


def test_point_inside_the_region(region: Region) -> None:
    found = lookup("45.7772, 3.0872", region)
    assert found.place.insee == "63113"
    assert found.place.matched == "coordonnées"
    assert (found.place.lat, found.place.lon) == (45.7772, 3.0872)
    assert lookup("45,7772 ; 3,0872", region).place.insee == "63113"  # French decimals


def test_point_outside_the_region(region: Region) -> None:
    with pytest.raises(OutsideRegionError, match="hors d'Auvergne-Rhône-Alpes"):
        lookup("43.2965, 5.3698", region)  # Marseille


def test_swapped_point_is_explained(region: Region) -> None:
    with pytest.raises(OutsideRegionError, match="inversées") as err:
        lookup("3.0872, 45.7772", region)
    assert err.value.suggestions == ["Clermont-Ferrand"]


@pytest.mark.parametrize("query", ["91, 3", "45.5, 200"])
def test_impossible_coordinates(region: Region, query: str) -> None:
    with pytest.raises(PlaceError, match="impossibles"):
        lookup(query, region)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "Marseille",
            "Marseille \\(Bouches-du-Rhône\\) n'est pas en Auvergne-Rhône-Alpes : cette "
            "commune est dans la région Provence-Alpes-Côte d'Azur",
        ),
        ("13001", "hors d'Auvergne-Rhône-Alpes : ce service couvre l'Auvergne-Rhône-Alpes"),
        ("75001", "Paris \\(75\\), dans la région Île-de-France, hors d'Auvergne-Rhône-Alpes"),
        ("Nièvre", "département 58 \\(Nièvre, région Bourgogne-Franche-Comté\\)"),
        ("75", "département 75 \\(Paris, région Île-de-France\\)"),
    ],
)
def test_places_outside_the_region(region: Region, query: str, message: str) -> None:
    with pytest.raises(OutsideRegionError, match=message):
        lookup(query, region)


def test_unknown_place_suggests_the_closest(region: Region) -> None:
    with pytest.raises(PlaceError, match="Vouliez-vous dire") as err:
        lookup("Clermond-Ferant", region)
    assert any("Clermont-Ferrand" in s for s in err.value.suggestions)


@pytest.mark.parametrize("query", ["", "   ", "\u200f\u200e", "\x00\x01"])
def test_empty_input(region: Region, query: str) -> None:
    with pytest.raises(PlaceError, match="Indiquez une commune"):
        lookup(query, region)


def test_overlong_input_is_cut_before_matching(region: Region) -> None:
    with pytest.raises(PlaceError):
        lookup("Aurillac" + "x" * 10_000, region)
    found = lookup("Aurillac" + " " * 10_000, region)
    assert found.place.insee == "15014"
    assert MAX_QUERY_CHARS < 1_000


def test_normalize() -> None:
    assert normalize("St-Étienne-de-Saint-Geoirs") == "saint etienne de saint geoirs"
    assert normalize("L'Œuvre  ") == "l oeuvre"


def test_an_arrondissement_is_measured_from_its_own_town_hall(region: Region) -> None:
    lyon = region.commune("69123")
    eighth = region.aliases.set_index("code").loc["69388"]
    for query in ("69388", "Lyon 8e Arrondissement"):
        place = lookup(query, region).place
        assert place.insee == "69123"
        assert (place.lon, place.lat) == (eighth["lon"], eighth["lat"])
        assert (place.lon, place.lat) != (lyon["lon"], lyon["lat"])
    assert lookup("Lyon", region).place.lon == lyon["lon"]


def test_outside_errors_name_the_departement_and_region_as_facts(region: Region) -> None:
    with pytest.raises(OutsidePlaceError, match="Nevers") as err:
        lookup("Nevers", region)
    assert (err.value.dep, err.value.dep_name, err.value.region_name) == (
        "58",
        "Nièvre",
        "Bourgogne-Franche-Comté",
    )


def test_candidates_show_departement_names_and_read_back(region: Region) -> None:
    found = lookup("Murat", region)
    labels = [p.patient_label for p in found.places]
    assert labels == ["Murat (Allier)", "Murat (Cantal)"]
    for place in found.places:  # what a candidate shows selects it alone
        again = lookup(place.patient_label, region)
        assert lookup(place.label, region).place.insee == place.insee
        assert not again.ambiguous and again.place.insee == place.insee
    assert lookup("Murat, Cantal", region).place.insee == "15138"


@pytest.mark.parametrize(
    ("query", "dep"),
    [("Cantal", "15"), ("le cantal", "15"), ("15", "15"), ("la Haute-Loire", "43"), ("1", "01")],
)
def test_a_departement_typed_alone_offers_its_largest_communes(
    region: Region, query: str, dep: str
) -> None:
    found = lookup(query, region)
    assert found.reading == "département" and found.departement == dep
    c = region.communes[region.communes["dep"] == dep]
    top = c.sort_values("population", ascending=False)["insee"].head(len(found.places))
    assert [p.insee for p in found.places] == list(top)


def test_no_commune_of_the_region_is_hidden_by_a_departement_name(region: Region) -> None:
    deps = {normalize(n) for n in ARA_DEPARTEMENT_NAMES.values()}
    names = {normalize(n) for n in region.communes["name"]}
    assert deps.isdisjoint(names)


def test_an_exact_name_with_its_article_is_never_ambiguous(region: Region) -> None:
    found = lookup("Les Belleville", region)
    assert not found.ambiguous and found.place.insee == "73257"
    # Without its article, the word may be the short form of a larger town: both are offered.
    assert {p.insee for p in lookup("Belleville", region).places} >= {"73257"}


def test_normalize_many_equals_normalize_on_every_name_of_france(region: Region) -> None:
    names = region.france["name"].head(40_000)
    assert normalize_many(names) == [normalize(n) for n in names]


def test_the_place_index_belongs_to_its_region_and_goes_with_it():
    import copy
    import gc

    from coverage.data import place_names, places
    from coverage.data.region import load_region

    region = copy.copy(
        load_region(region="84")
    )  # load_region keeps its own; this one is ours alone
    first = place_names.place_index(region)
    assert place_names.place_index(region) is first  # built once per region object
    assert places.lookup("Aurillac", region).place.insee == "15014"
    assert "places_index" not in region._memo  # nothing stored on the region itself
    key = id(region)
    del region, first
    gc.collect()
    assert key not in place_names._PLACE_INDEXES
