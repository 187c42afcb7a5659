"""Every patient's answer ends with something to act on, ranks by time when time is known, and
shows no developer wording; a registry without any located structure answers too."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from coverage import settings
from coverage._errors import PlaceError
from coverage.data.places import lookup
from coverage.data.region import Region
from coverage.data.registry import Registry
from coverage.data.registry_files import load_registry
from coverage.outputs import finder_text
from coverage.patient.finder import CLOSE_CALL_MIN, Finder
from coverage.patient.next_step import ARS_PAGE_URL, ars_page
from coverage.travel.base import check_points, cross_index, frame
from coverage.travel.geodesic import geodesic_km

#: What patients must never read: options, variables, caches, internal codes, raw addresses.
JARGON = re.compile(
    r"--\w|\$\w|PARCOURS_|\bcache\b|tous_publics|\baja\b|https?://(?!www\.auvergne-rhone-alpes"
    r"\.ars\.sante\.fr/parcours-de-soins-globaux-apres-cancer\?parent=14617$)",
)


def _jargon(text: str) -> list[str]:
    """Jargon found in ``text``; the ARS page's address alone on its line is the one link."""
    found = []
    for line in text.splitlines():
        if line.strip() == ARS_PAGE_URL:
            continue
        found += [m.group(0) for m in JARGON.finditer(line)]
    return found


def test_the_ars_page_is_the_embedded_registrys_own_source() -> None:
    with open(settings.DEFAULT_REGISTRY, encoding="utf-8") as fh:
        sources = {row["source"] for row in csv.DictReader(fh)}
    assert ARS_PAGE_URL in sources
    assert ars_page(sorted(sources)) == ARS_PAGE_URL
    assert ars_page(["https://example.org/x"]) == ARS_PAGE_URL  # another registry: the same page


@pytest.mark.parametrize(
    "query", ["Aurillac", "Moulins", "Grenoble", "38100", "Pont-d'Ain", "Lyon 8e Arrondissement"]
)
def test_every_answer_ends_with_a_next_step_and_no_jargon(finder: Finder, query: str) -> None:
    result = finder.find(lookup(query, finder.region).places[0], age=19)
    text = finder_text.finder_text(result, lookup(query, finder.region))
    tail = text.split("Et maintenant :")[-1]
    assert "Parlez-en à votre médecin, qui prescrit le parcours." in tail
    assert tail.rstrip().endswith(ARS_PAGE_URL)
    assert _jargon(text) == []
    assert result.to_dict()["next_step"]["page"]["url"] == ARS_PAGE_URL


@pytest.mark.parametrize(
    ("query", "region_name"),
    [("Nevers", "Bourgogne-Franche-Comté"), ("75001", "Île-de-France"), ("Gironde", "")],
)
def test_outside_the_region_gets_the_same_and_the_region_in_words(
    finder: Finder, query: str, region_name: str
) -> None:
    with pytest.raises(PlaceError) as err:
        lookup(query, finder.region)
    text = finder_text.place_error_text(err.value, served=finder.region.code)
    assert "Ce service couvre l'Auvergne-Rhône-Alpes" in text
    if region_name:
        assert f"la région {region_name}" in text
    assert "Parlez-en à votre médecin, qui prescrit le parcours." in text
    assert text.rstrip().endswith(ARS_PAGE_URL) and _jargon(text) == []
    doc = finder_text.place_error_dict(err.value, served=finder.region.code)
    assert doc["next_step"]["outside_region"] is True


def test_an_unknown_place_gets_a_next_step_too(finder: Finder) -> None:
    with pytest.raises(PlaceError) as err:
        lookup("Zzyzxville", finder.region)
    text = finder_text.place_error_text(err.value, served=finder.region.code)
    assert "Parlez-en à votre médecin" in text and "Ce service couvre" not in text


def test_the_departements_unlocated_structures_come_before_a_far_one(finder: Finder) -> None:
    result = finder.find(lookup("Moulins", finder.region).place)  # Allier: two without commune
    assert result.structures["distance_km"].min() > 150  # the nearest located is ~165 km
    assert result.not_located_first and len(result.not_located) >= 2
    text = finder_text.finder_text(result)
    first_unlocated = text.index(result.not_located["name"].iloc[0])
    assert first_unlocated < text.index(result.structures["name"].iloc[0])
    near = finder.find(lookup("Pont-d'Ain", finder.region).place)
    assert not near.not_located_first


def _registry_without_communes(tmp_path: Path, region: Region) -> Registry:
    """The embedded registry's structures that have no commune: valid, none located."""
    with open(settings.DEFAULT_REGISTRY, encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if not r["insee"] and not r["lat"]]
    assert rows, "the embedded registry lists structures without commune"
    path = tmp_path / "sans-commune.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return load_registry(path, region=region)


def test_a_registry_where_no_structure_has_a_commune_still_answers(
    tmp_path: Path, region: Region
) -> None:
    registry = _registry_without_communes(tmp_path, region)
    assert registry.counts()["located"] == 0
    finder = Finder(region, registry)
    for query in ("Moulins", "Aurillac", "Lyon"):  # once raised IndexError (issue 13, 5a)
        result = finder.find(lookup(query, region).place, age=19)
        assert result.structures.empty and result.aja is None
        assert result.not_located_first == (not result.not_located.empty)
        assert "Et maintenant" in finder_text.finder_text(result)
    assert finder.zones.assignment.empty  # the whole zoning is empty, not an error


@dataclass(frozen=True)
class FakeRoadModel:
    """A made-up road model: minutes are the geodesic km x 1.5 except for one structure that
    is far in km but fast (a motorway): ranking by time must put it first."""

    fast_id: str
    name: ClassVar[str] = "fake"
    label_fr: ClassVar[str] = "modèle d'essai"
    has_time: ClassVar[bool] = True

    def table(self, origins: pd.DataFrame, destinations: pd.DataFrame) -> pd.DataFrame:
        o = check_points(origins, name="origins")
        d = check_points(destinations, name="destinations")
        oi, di = cross_index(o, d)
        km = geodesic_km(
            o["lon"].to_numpy()[oi],
            o["lat"].to_numpy()[oi],
            d["lon"].to_numpy()[di],
            d["lat"].to_numpy()[di],
        )
        minutes = km * 1.5
        fast = d["id"].to_numpy()[di] == self.fast_id
        minutes = np.where(fast, 1.0, minutes)
        return frame(o, d, oi, di, km, minutes, self.name)


@pytest.fixture(scope="module")
def five(tmp_path_factory: pytest.TempPathFactory, region: Region) -> Registry:
    """The embedded registry's located structures, all counted as all-patients ones (the
    embedded registry locates only one such structure): real places to rank."""
    with open(settings.DEFAULT_REGISTRY, encoding="utf-8") as fh:
        rows = [dict(r, kind="tous_publics") for r in csv.DictReader(fh) if r["insee"]]
    path = tmp_path_factory.mktemp("five") / "cinq.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    registry = load_registry(path, region=region)
    assert registry.counts()["tous_publics_located"] >= 3
    return registry


def test_time_ranks_the_structures_and_comes_first_in_the_text(
    region: Region, five: Registry
) -> None:
    located = five.located("tous_publics")
    place = lookup("Grenoble", region).place
    by_km = Finder(region, five).find(place, k=5)
    fast = str(by_km.structures["id"].iloc[-1])  # the farthest in km
    assert fast != by_km.structures["id"].iloc[0]
    result = Finder(region, five, None, FakeRoadModel(fast)).find(place, k=5)
    assert result.structures["id"].iloc[0] == fast
    d = result.structures["duration_min"].to_numpy()
    assert np.all(np.diff(d) >= 0) and len(d) == min(5, len(located))
    row = result.structures.iloc[0].to_dict()
    line = finder_text.cost_text(row, has_time=True)
    assert line.startswith("≈ 1 min en voiture, ") and line.endswith(" km")
    assert "≈ 1 min en voiture" in finder_text.finder_text(result)


def test_a_close_call_is_explained(region: Region, five: Registry) -> None:
    place = lookup("Pont-d'Ain", region).place
    base = Finder(region, five).find(place, k=2)
    first, second = base.structures["id"].iloc[:2]

    @dataclass(frozen=True)
    class TwoClose(FakeRoadModel):
        def table(self, origins: pd.DataFrame, destinations: pd.DataFrame) -> pd.DataFrame:
            t = FakeRoadModel.table(self, origins, destinations)
            t.loc[t["destination"] == first, "duration_min"] = 30.0
            t.loc[t["destination"] == second, "duration_min"] = 30.0 + CLOSE_CALL_MIN - 1
            return t

    result = Finder(region, five, None, TwoClose("none")).find(place)
    assert result.close_call
    note = finder_text.close_call_note(result)
    assert "moins de 4 min" in note and note in finder_text.finder_text(result)
    assert not base.close_call  # no time, no close call

    @dataclass(frozen=True)
    class TwoApart(TwoClose):
        def table(self, origins: pd.DataFrame, destinations: pd.DataFrame) -> pd.DataFrame:
            t = TwoClose.table(self, origins, destinations)
            t.loc[t["destination"] == second, "duration_min"] = 30.0 + CLOSE_CALL_MIN + 1
            return t

    assert not Finder(region, five, None, TwoApart("none")).find(place).close_call


def test_an_estimated_time_states_its_error(finder: Finder) -> None:
    from coverage.travel.estimate import EstimateModel

    model = EstimateModel()
    result = Finder(finder.region, finder.registry, finder.zones, model).find(
        lookup("Aurillac", finder.region).place
    )
    assert result.time_error_median == pytest.approx(model.error.median)
    text = finder_text.finder_text(result)
    pct = round(100 * model.error.median)
    assert f"(estimation, erreur médiane {pct}\u202f%)" in text
