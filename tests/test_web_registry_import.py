"""The page's registry view reads the ARS's workbook: the mapping and the locating are shown,
the canonical CSV and blank templates can be downloaded. The workbook is built here (two test
rows, French headers, no INSEE code), not the ARS's data."""

from __future__ import annotations

import io

import openpyxl
import pytest
from streamlit.testing.v1 import AppTest

from coverage._errors import RegistryError
from coverage.data.registry_files import load_registry
from coverage.web import budget, uploads

TIMEOUT = 120


def _workbook(source: str) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Structures"
    ws.append(["Nom de la structure", "Public", "Code postal", "Ville", "Source"])
    ws.append(["Centre de test", "tous publics", "15000", "Aurillac", source])
    ws.append(["Dispositif de test", "AJA", "38100", "Grenoble", source])
    other = wb.create_sheet("Notes")
    other.append(["rien à lire ici"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _page() -> None:
    from coverage.web.pages.registry import registry_page

    registry_page()


def test_the_workbook_rows_are_counted_for_the_budget_not_its_bytes(registry) -> None:
    data = _workbook(str(registry.structures["source"].iloc[0]))
    assert budget.count_rows("liste.xlsx", data) == 3 + 1  # two sheets' rows, header included
    assert budget.count_rows("abîmé.xlsx", b"PK\x03\x04 not a zip") == 0


def test_import_upload_reads_the_workbook_with_postcodes_and_towns(region, registry) -> None:
    data = _workbook(str(registry.structures["source"].iloc[0]))
    imp = uploads.import_upload("liste ARS.xlsx", data, region=region)
    s = imp.registry.structures
    assert dict(zip(s["name"], s["insee"], strict=True)) == {
        "Centre de test": "15014",
        "Dispositif de test": "38185",  # Grenoble, from the postcode read as a postcode
    }
    assert imp.registry.path == "liste ARS.xlsx"
    assert ("Nom de la structure", "name") in imp.header.columns


def test_the_page_shows_the_mapping_and_offers_the_canonical_csv(
    region, registry, tmp_path
) -> None:
    data = _workbook(str(registry.structures["source"].iloc[0]))
    at = AppTest.from_function(_page, default_timeout=TIMEOUT).run()
    assert not at.exception
    labels = [b.label for b in at.get("download_button")]
    assert "Modèle à remplir (XLSX)" in labels and "Modèle à remplir (CSV)" in labels
    at.file_uploader(key="registry_file").set_value(
        ("liste.xlsx", data, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    )
    at.run()
    assert not at.exception
    labels = [b.label for b in at.get("download_button")]
    assert "Télécharger le registre converti (CSV canonique)" in labels
    # The converted CSV loads as a registry with the same structures.
    report = at.session_state["registry_import"]
    path = tmp_path / "structures.csv"
    path.write_bytes(report[3])
    again = load_registry(path, region=region)
    assert sorted(again.structures["name"]) == ["Centre de test", "Dispositif de test"]
    assert "Colonne du fichier" in report[1].columns and len(report[2]) == 2


@pytest.mark.parametrize("name", ["liste.pdf", "liste"])
def test_other_formats_are_refused_in_french(region, name) -> None:
    with pytest.raises(RegistryError, match="format non reconnu"):
        uploads.import_upload(name, b"x", region=region)
