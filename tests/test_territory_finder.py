"""With intervention territories loaded, a patient gets the structure(s) of their territory
first, whatever the distance, then the nearest others. The registry and the territory file
are test fixtures built here (two structures named "test"), not the ARS's data."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from coverage._errors import RegistryError
from coverage.cli import main
from coverage.outputs.finder_text import finder_text
from coverage.patient.finder import Finder

HEADER = (
    "id,name,kind,insee,dep,address,lat,lon,phone,email,website,services,capacity,"
    "commune_inferred,location_note,source"
)


def _files(tmp_path: Path) -> tuple[Path, Path]:
    registry = tmp_path / "structures.csv"
    registry.write_text(
        HEADER
        + "\ntest-aurillac,Structure de test Aurillac,tous_publics,15014,15,,,,,,,,,,,https://example.org/test"
        + "\ntest-lyon,Structure de test Lyon,tous_publics,69123,69,,,,,,,,,,,https://example.org/test\n",
        encoding="utf-8",
    )
    territories = tmp_path / "territoires.csv"
    with territories.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["territory_id", "name", "insee", "epci", "dep", "structures", "source"])
        w.writerow(
            [
                "T15",
                "Territoire de test du Cantal",
                "",
                "",
                "15",
                "test-lyon",
                "https://example.org/test",
            ]
        )
    return registry, territories


def test_the_territory_structure_comes_first_and_is_said(tmp_path: Path) -> None:
    registry, territories = _files(tmp_path)
    plain = Finder.load(region="84", registry_path=registry)
    near = plain.find(plain.lookup("Aurillac").place)
    assert near.structures["id"].tolist()[0] == "test-aurillac"  # nearest by distance
    finder = Finder.load(region="84", registry_path=registry, territories_path=territories)
    result = finder.find(finder.lookup("Aurillac").place)
    assert result.structures["id"].tolist() == ["test-lyon", "test-aurillac"]
    assert result.territory_structure_ids == ("test-lyon",)
    assert result.territory_names == ("Territoire de test du Cantal",)
    text = finder_text(result)
    assert "Structure de votre territoire d'intervention (Territoire de test du Cantal)." in text
    # Outside the territory (Lyon), the order is by distance again.
    lyon = finder.find(finder.lookup("Lyon").place)
    assert lyon.structures["id"].tolist()[0] == "test-lyon" and lyon.territory_names == ()


def test_the_command_line_takes_the_territory_file(tmp_path: Path, capsys) -> None:
    registry, territories = _files(tmp_path)
    args = ["find", "Aurillac", "--registry", str(registry), "--territories", str(territories)]
    assert main([*args, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [s["id"] for s in out["structures"]] == ["test-lyon", "test-aurillac"]
    assert out["territories"]["structures"] == ["test-lyon"]


def test_a_territory_file_naming_an_unknown_structure_is_refused(tmp_path: Path, capsys) -> None:
    registry, territories = _files(tmp_path)
    territories.write_text(
        territories.read_text(encoding="utf-8").replace("test-lyon", "inconnue"), encoding="utf-8"
    )
    code = main(
        ["find", "Aurillac", "--registry", str(registry), "--territories", str(territories)]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "territoires" in err and "ligne 2" in err and "inconnue" in err
    with pytest.raises(RegistryError, match="inconnue"):
        Finder.load(region="84", registry_path=registry, territories_path=territories)
