"""The structure registry: the embedded file, placement rules, and rejection of bad files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from _facts import ARA_DEPARTEMENTS

from coverage import settings
from coverage._errors import RegistryError
from coverage.data.region import Region
from coverage.data.registry import Registry
from coverage.data.registry_files import load_registry
from coverage.data.registry_schema import COLUMNS

HEADER = ",".join(COLUMNS)
SRC = "https://example.org/source"


def _csv(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    path = tmp_path / "structures.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def _row(**fields: str) -> str:
    base = {c: "" for c in COLUMNS}
    base.update({"id": "s1", "name": "Structure", "kind": "tous_publics", "source": SRC})
    base.update(fields)
    return ",".join(f'"{base[c]}"' if "," in base[c] else base[c] for c in COLUMNS)


def test_embedded_registry(registry: Registry) -> None:
    s = registry.structures
    assert registry.is_default
    assert s["id"].is_unique
    assert s["source"].str.match(r"^https?://").all()
    assert set(s["kind"]) == {"tous_publics", "aja"}
    aja = registry.located("aja")
    assert sorted(aja["commune_insee"]) == ["38516", "42275", "63113", "69123"]
    # Structures whose commune no source states are listed but never placed.
    unlocated = registry.not_located()
    assert len(unlocated) >= 1
    assert unlocated["lat"].isna().all() and (unlocated["commune_insee"] == "").all()
    counts = registry.counts()
    assert counts["located"] + counts["not_located"] == counts["total"] == len(s)


def test_completeness_is_stated(registry: Registry) -> None:
    text = registry.completeness_fr()
    c = registry.counts()
    assert f"{c['located']} structure(s) localisée(s) sur {c['total']}" in text
    assert f"labellisé {settings.ARS_LABELLED_2021_TOTAL} en 2021" in text
    assert "--registry" in text and settings.REGISTRY_ENV in text


def test_placement_at_commune_arrondissement_or_coordinates(region: Region, tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        _row(id="a", insee="15014"),
        _row(id="b", insee="69388"),
        _row(id="c", insee="63113", lat="45.7797", lon="3.0863"),
        _row(id="d", lat="45.7797", lon="3.0863"),
        _row(id="e", dep="03"),
    )
    reg = load_registry(path, region=region)
    s = reg.structures.set_index("id")
    assert s.loc["a", "placement"] == "commune"
    assert (s.loc["a", "lat"], s.loc["a", "lon"]) == (
        region.commune("15014")["lat"],
        region.commune("15014")["lon"],
    )
    assert s.loc["b", "placement"] == "arrondissement" and s.loc["b", "commune_insee"] == "69123"
    assert s.loc["c", "placement"] == "coordonnees" and s.loc["c", "lat"] == 45.7797
    assert s.loc["d", "commune_insee"] == "63113"  # commune found from the point
    assert not s.loc["e", "located"] and np.isnan(s.loc["e", "lat"])
    assert not reg.is_default


def test_malformed_registry_lists_every_problem_and_loads_nothing(
    region: Region, tmp_path: Path
) -> None:
    path = _csv(
        tmp_path,
        _row(id="ok", insee="15014"),
        _row(id="ok", insee="15014"),
        _row(id="bad id!", kind="tous", insee="13055"),
        _row(id="x", source="ftp://nope", website="javascript:alert(1)", email="nobody"),
        _row(id="y", name="=HYPERLINK(1)", lat="3.08", lon="45.77", insee="63113"),
        _row(id="z", capacity="-3", dep="75"),
    )
    with pytest.raises(RegistryError) as err:
        load_registry(path, region=region)
    name = str(path)
    assert err.value.problems == [
        f"{name}, ligne 3, champ « id » : attendu un identifiant unique (déjà utilisé ligne 2) ; "
        "trouvé 'ok'.",
        f"{name}, ligne 4, champ « id » : attendu un identifiant de 1 à 64 lettres, chiffres, "
        "« - » ou « _ » ; trouvé 'bad id!'.",
        f"{name}, ligne 4, champ « kind » : attendu « tous_publics » ou « aja » ; trouvé 'tous'.",
        f"{name}, ligne 4, champ « insee » : attendu le code INSEE d'une commune "
        "d'Auvergne-Rhône-Alpes ; trouvé '13055'.",
        f"{name}, ligne 5, champ « source » : attendu l'adresse http(s) de la source publique ; "
        "trouvé 'ftp://nope'.",
        f"{name}, ligne 5, champ « website » : attendu une adresse http(s) ; "
        "trouvé 'javascript:alert(1)'.",
        f"{name}, ligne 5, champ « email » : attendu une adresse électronique ; trouvé 'nobody'.",
        f"{name}, ligne 6, champ « name » : attendu un texte qui ne commence pas par = + - @ "
        "(formule de tableur) ; trouvé '=HYPERLINK(1)'.",
        f"{name}, ligne 6, champ « lat » : attendu un point en Auvergne-Rhône-Alpes (latitude "
        "et longitude inversées ?) ; trouvé '3.08'.",
        f"{name}, ligne 7, champ « dep » : attendu un département de la région "
        f"{list(ARA_DEPARTEMENTS)!r} ; trouvé '75'.",
        f"{name}, ligne 7, champ « capacity » : attendu un nombre entier positif de patients "
        "par an ; trouvé '-3'.",
    ]
    assert str(err.value).startswith(
        f"Le fichier de structures {name!r} est refusé (11 problème(s))"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "le fichier est vide"),
        (
            b"id,name\n",
            "colonne\\(s\\) obligatoire\\(s\\) absente\\(s\\) : \\['kind', 'source'\\]",
        ),
        (f"{HEADER},extra\n".encode(), "colonne\\(s\\) inconnue\\(s\\) \\['extra'\\]"),
        (f"{HEADER}\n".encode(), "aucune structure"),
        (
            f"{HEADER}\ns1,Nom,tous_publics\n".encode(),
            f"ligne 2 : 3 valeur\\(s\\) pour {len(COLUMNS)} colonne",
        ),
        ((HEADER + "\n" + _row()).encode("utf-8") + b"\x81\n", "ni UTF-8 ni Windows-1252"),
        ((HEADER + "\n" + _row()).encode("utf-16"), "UTF-16"),
    ],
)
def test_unreadable_files(region: Region, tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "reg.csv"
    path.write_bytes(content)
    with pytest.raises(RegistryError, match=message):
        load_registry(path, region=region)


def test_utf8_bom_and_semicolons_are_accepted(region: Region, tmp_path: Path) -> None:
    text = HEADER.replace(",", ";") + "\n" + _row(insee="15014", name="Élan").replace(",", ";")
    path = tmp_path / "reg.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    reg = load_registry(path, region=region)
    assert reg.structures.loc[0, "name"] == "Élan"
    assert reg.structures.loc[0, "located"]


def test_geojson_registry(region: Region, tmp_path: Path) -> None:
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [2.4449, 44.9303]},
                "properties": {"id": "g1", "name": "G", "kind": "aja", "source": SRC},
            },
        ],
    }
    path = tmp_path / "reg.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    reg = load_registry(path, region=region)
    assert reg.structures.loc[0, "commune_insee"] == "15014"
    assert reg.structures.loc[0, "placement"] == "coordonnees"


def test_environment_variable_selects_the_registry(
    region: Region, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _csv(tmp_path, _row(id="env", insee="15014"))
    monkeypatch.setenv(settings.REGISTRY_ENV, str(path))
    reg = load_registry(region=region)
    assert list(reg.structures["id"]) == ["env"]
    assert str(path) in reg.completeness_fr()


def test_the_registry_file_is_not_modified(region: Region) -> None:
    before = settings.DEFAULT_REGISTRY.read_bytes()
    load_registry(settings.DEFAULT_REGISTRY, region=region)
    assert settings.DEFAULT_REGISTRY.read_bytes() == before


def test_a_long_list_of_problems_is_cut_but_counted(region: Region, tmp_path: Path) -> None:
    path = _csv(tmp_path, *(_row(id=f"s{i}", kind="autre") for i in range(120)))
    with pytest.raises(RegistryError, match=r"est refusé \(120 problème\(s\)\)") as err:
        load_registry(path, region=region)
    assert err.value.total == 120
    assert len(err.value.problems) == 51
    assert err.value.problems[-1] == "… et 70 autre(s) problème(s)."
