"""AJA zones: computed catchments by default, an official file when given."""

from __future__ import annotations

from pathlib import Path

import pytest

from coverage._errors import RegistryError
from coverage.data.region import Region
from coverage.data.registry import Registry
from coverage.travel.catchments import computed_zones, load_zones

SRC = "https://example.org/zonage"


def test_computed_zones_cover_every_commune(region: Region, registry: Registry) -> None:
    zones = computed_zones(region=region, registry=registry)
    assert not zones.official
    assert "pas le zonage officiel" in zones.label_fr
    assert len(zones.assignment) == len(region.communes)
    devices = set(registry.located("aja")["id"])
    assert set(zones.assignment["device_id"]) == devices
    # Each device's own commune is in its own zone.
    for row in registry.located("aja").to_dict("records"):
        assert zones.device_for(row["commune_insee"]) == row["id"]
    polys = zones.polygons(region)
    assert sorted(polys["device_id"]) == sorted(devices)
    assert polys.geometry.is_valid.all()


def test_official_file_overrides(region: Region, registry: Registry, tmp_path: Path) -> None:
    path = tmp_path / "zones.csv"
    path.write_text(
        "device_id,dep,insee,source\n"
        f"aja-chu-clermont-ferrand,15,,{SRC}\n"
        f"aja-chu-grenoble-alpes,,15014,{SRC}\n",
        encoding="utf-8",
    )
    zones = load_zones(path, region=region, registry=registry)
    assert zones.official and str(path) in zones.label_fr
    assert zones.device_for("15187") == "aja-chu-clermont-ferrand"  # Saint-Flour, by dep
    assert zones.device_for("15014") == "aja-chu-grenoble-alpes"  # Aurillac, by commune
    assert zones.device_for("63113") is None  # not covered by this file


def test_bad_official_file_is_rejected(region: Region, registry: Registry, tmp_path: Path) -> None:
    path = tmp_path / "zones.csv"
    path.write_text(
        "device_id,dep,insee,source\n"
        f"unknown,15,,{SRC}\n"
        f"aja-chu-clermont-ferrand,75,,{SRC}\n"
        f"aja-chu-clermont-ferrand,15,15014,not-a-url\n",
        encoding="utf-8",
    )
    with pytest.raises(RegistryError, match="Le fichier de zones AJA") as err:
        load_zones(path, region=region, registry=registry)
    text = "\n".join(err.value.problems)
    assert "ligne 2, champ « device_id »" in text
    assert "ligne 3, champ « dep »" in text
    assert "ligne 4 : remplir soit « dep » soit « insee »" in text
    assert "ligne 4, champ « source »" in text
