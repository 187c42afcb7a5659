"""Siting candidates from a file: a registry, a list of communes, or a list of points.

The files are built at test time from the embedded registry and the region's communes; the
candidates are test fixtures, not real applicants.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from coverage import settings
from coverage._errors import RegistryError
from coverage.data.candidates import load_candidates
from coverage.data.region import Region
from coverage.data.registry import Registry


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_registry_file_gives_its_located_structures(region: Region, registry: Registry) -> None:
    # The embedded registry has structures without a commune: they cannot be candidates.
    with pytest.raises(RegistryError, match="sans commune ni coordonnées"):
        load_candidates(settings.DEFAULT_REGISTRY, region=region)


def test_registry_of_located_structures(region: Region, registry: Registry, tmp_path: Path) -> None:
    located = registry.located()
    text = "Nom de la structure;Public;Code INSEE;Source\n" + "".join(
        f"{r['name']};{r['kind']};{r['insee']};{r['source']}\n" for r in located.to_dict("records")
    )
    cands = load_candidates(_write(tmp_path / "c.csv", text), region=region)
    assert cands.from_registry
    assert cands.frame["insee"].tolist() == located["commune_insee"].tolist()


def test_a_list_of_communes_and_points(region: Region, tmp_path: Path) -> None:
    aurillac = region.commune("15014")
    pc = region.postcodes.loc[region.postcodes["insee"] == "63113", "postcode"].min()
    text = (
        "id,Nom,Code INSEE,Code postal,Commune,Latitude,Longitude\n"
        "a,,15014,,,,\n"
        f"b,Candidat B,,{pc},Clermont-Ferrand,,\n"
        f'c,,,,,"{aurillac["lat"]:.5f}","{aurillac["lon"]:.5f}"\n'
        ",Nom seul,38185,,,,\n"
    )
    cands = load_candidates(_write(tmp_path / "c.csv", text), region=region)
    f = cands.frame
    assert not cands.from_registry
    assert f["id"].tolist() == ["a", "b", "c", "nom-seul"]
    assert f["insee"].tolist() == ["15014", "63113", "15014", "38185"]
    assert f["name"].iloc[0] == aurillac["name"] and f["name"].iloc[1] == "Candidat B"
    assert f.loc[0, "lon"] == pytest.approx(aurillac["lon"])
    assert list(cands.points().columns) == ["id", "lon", "lat"]


@pytest.mark.parametrize(
    ("row", "match"),
    [
        ("a,13055,,", "ligne 2 : champ « insee »"),
        ("a,,48.85,2.35", "ligne 2 : le point"),
        ("a,,x,y", "ligne 2 : latitude et longitude"),
        ("a,,,", "ligne 2 : ni coordonnées"),
        ("a,15014,,\na,63113,,", "ligne 3 : id 'a' déjà utilisé ligne 2"),
    ],
)
def test_bad_rows_refuse_the_file(row: str, match: str, region: Region, tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match=match):
        load_candidates(_write(tmp_path / "c.csv", f"id,insee,lat,lon\n{row}\n"), region=region)


def test_an_applicants_workbook_is_parsed_once(region, tmp_path, monkeypatch):
    # The reader looks at the header to tell a registry from a list, then reads the rows: the
    # same parse serves both (a workbook at the cell limit took over 2 s read twice).
    import _bombs

    from coverage.data import spreadsheet

    parses: list[str] = []
    real = spreadsheet._parse
    monkeypatch.setattr(
        spreadsheet, "_parse", lambda data, name, *a: parses.append(name) or real(data, name, *a)
    )
    path = _bombs.xlsx_rows(tmp_path, 3)  # a registry's columns, three rows without a source
    with pytest.raises(RegistryError, match="source"):
        load_candidates(path, region=region)
    assert parses == [str(path)]
    bad = tmp_path / "liste.csv"
    bad.write_text("insee,name\n99999,Nulle part\n", encoding="utf-8")
    with pytest.raises(RegistryError, match=r"Nulle part|99999"):
        load_candidates(bad, region=region)
    assert parses.count(str(bad)) == 1  # refused for its rows: still one parse
