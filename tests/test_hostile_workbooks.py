"""Issue 22: a budget of cells, not bytes, checked before any reader builds objects.

Each hostile workbook is a few hundred bytes or kilobytes on disk and asked a naive reader for
minutes and gigabytes. The workbook scan counts what they announce (ODS repeats, XLSX rows,
cells and shared strings, every sheet) while streaming their XML, and refuses them in
milliseconds, through the command line and through the page's upload budget alike. The files
are built here (``tests/_bombs.py``), never committed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from _measure import run_parcours

from coverage._errors import RegistryError
from coverage.data.spreadsheet import MAX_ROWS, read_table
from coverage.web import budget
from tests import _bombs

ROOT = Path(__file__).resolve().parents[1]
#: What a refused bomb may cost the command (the interpreter and the region included).
CPU_S = 2.0
RSS_MB = 300
#: What the upload budget may spend on one bomb, in the server process.
BUDGET_CPU_S = 0.5

BOMBS: dict[str, tuple[Callable[[Path], Path], str]] = {
    "ods-repeated-rows": (_bombs.ods_repeated_rows, r"trop de lignes"),
    "ods-repeated-cells": (
        _bombs.ods_repeated_cells,
        r"trop de cellules .*annoncées par des répétitions ; au plus",
    ),
    "ods-large-content": (_bombs.ods_large_content, r"trop de lignes|XML trop volumineux"),
    "xlsx-wide-row": (_bombs.xlsx_wide_row, r"trop de cellules .*; au plus"),
    "xlsx-shared-strings": (_bombs.xlsx_shared_strings, r"trop de textes partagés .*; au plus"),
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bombs")


def _run(args: list[str]) -> tuple[int, str, float, float]:
    """(exit code, stderr, CPU seconds, peak RSS in MB) of ``parcours args``, measured alone
    (``tests/_measure.py``) and capped so that a reader that does expand the bomb fails the
    test instead of the machine."""
    return run_parcours(args, cpu_cap_s=20)


@pytest.mark.parametrize("bomb", sorted(BOMBS))
@pytest.mark.parametrize(
    "command",
    [["registry", "check"], ["analyse", "--territories"]],
    ids=["registry", "territories"],
)
def test_the_command_line_refuses_each_bomb_in_bounded_time_and_memory(
    folder: Path, bomb: str, command: list[str]
) -> None:
    build, message = BOMBS[bomb]
    path = build(folder)
    code, stderr, cpu, rss = _run([*command, str(path)])
    assert code == 2, stderr[-2000:]
    assert "est refusé" in stderr
    import re

    assert re.search(message, stderr), stderr[-2000:]
    assert cpu < CPU_S, f"{bomb}: {cpu:.2f} s of CPU"
    assert rss < RSS_MB, f"{bomb}: {rss:.0f} MB"


@pytest.mark.parametrize("bomb", sorted(BOMBS))
def test_the_upload_budget_refuses_each_bomb_in_milliseconds(folder: Path, bomb: str) -> None:
    build, message = BOMBS[bomb]
    path = build(folder)
    data = path.read_bytes()
    start = time.process_time()
    with pytest.raises(RegistryError, match=message):
        budget.check_upload_budget(path.name, data)
    assert time.process_time() - start < BUDGET_CPU_S
    start = time.process_time()
    assert budget.count_rows(path.name, data) > budget.UPLOAD_MAX_ROWS
    assert time.process_time() - start < BUDGET_CPU_S


@pytest.mark.parametrize("bomb", sorted(BOMBS))
def test_every_reader_refuses_each_bomb_before_building_objects(folder: Path, bomb: str) -> None:
    build, message = BOMBS[bomb]
    path = build(folder)
    start = time.process_time()
    with pytest.raises(RegistryError, match=message):
        read_table(path, what="de territoires")
    assert time.process_time() - start < BUDGET_CPU_S


def test_xml_entities_are_refused(folder: Path) -> None:
    path = _bombs.ods_entities(folder)
    with pytest.raises(RegistryError, match="entités XML"):
        read_table(path)
    with pytest.raises(RegistryError, match="entités XML"):
        budget.check_upload_budget(path.name, path.read_bytes())


# ------------------------------------------------------------------------ valid workbooks load


def test_a_workbook_of_5000_rows_still_loads(folder: Path) -> None:
    path = _bombs.xlsx_rows(folder, MAX_ROWS, name="cinq-mille.xlsx")
    table = read_table(path)
    assert len(table.rows) == MAX_ROWS and table.header == _bombs.HEADER
    assert table.rows[-1] == (
        MAX_ROWS + 1,
        (f"s{MAX_ROWS - 1}", "Structure", "tous_publics", "69123", "x"),
    )
    body = _bombs._row("".join(_bombs._cell(h) for h in _bombs.HEADER)) + "".join(
        _bombs._row("".join(_bombs._cell(v) for v in (f"s{i}", "S", "aja", "15014", "x")))
        for i in range(MAX_ROWS)
    )
    ods = _bombs.write_ods(folder / "cinq-mille.ods", body)
    start = time.process_time()
    table = read_table(ods)
    assert time.process_time() - start < 2.0
    assert len(table.rows) == MAX_ROWS and table.rows[0] == (2, ("s0", "S", "aja", "15014", "x"))


def test_a_libreoffice_sheet_with_trailing_empty_repeats_loads(folder: Path) -> None:
    path = _bombs.ods_libreoffice_style(folder, count=3)
    start = time.process_time()
    table = read_table(path)
    assert time.process_time() - start < 0.5
    assert table.header == _bombs.HEADER and table.sheets == ("Feuille1",)
    # The header, two empty rows, then the data on lines 4 to 6.
    text = "Centre  de soins\n2e ligne"
    assert table.rows == tuple(
        (4 + i, (f"s{i}", text, "", "", "2024-01-05T00:00:00")) for i in range(3)
    )
    budget.check_upload_budget(path.name, path.read_bytes())
    assert budget.count_rows(path.name, path.read_bytes()) == 4


def test_libreoffice_cell_text_is_read_as_pandas_read_it(folder: Path) -> None:
    body = (
        _bombs._row("".join(_bombs._cell(h) for h in ("a", "b", "c", "d")))
        + _bombs._row(
            '<table:table-cell office:value-type="string"><text:p>Centre<text:s text:c="2"/>'
            "de <text:span>soins</text:span><text:line-break/>suite</text:p>"
            "<text:p>2e ligne</text:p></table:table-cell>"
            '<table:table-cell office:value-type="float" office:value="69123">'
            "<text:p>69 123</text:p></table:table-cell>"
            '<table:table-cell office:value-type="float" office:value="0.5">'
            "<text:p>0,5</text:p></table:table-cell>"
            '<table:table-cell office:value-type="date" office:date-value="2024-01-05">'
            "<text:p>05/01/2024</text:p></table:table-cell>"
            '<table:table-cell table:number-columns-repeated="1020"/>',
            repeat=2,
        )
        + '<table:table-row table:number-rows-repeated="1048570">'
        '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
    )
    path = _bombs.write_ods(folder / "textes.ods", body)
    table = read_table(path)
    expected = ("Centre  de soins\nsuite\n2e ligne", "69123", "0.5", "2024-01-05T00:00:00")
    assert table.rows == ((2, expected), (3, expected))


def test_excel_trailing_formatting_loads(folder: Path) -> None:
    path = _bombs.xlsx_trailing_format(folder, count=3)
    table = read_table(path)
    assert [line for line, _ in table.rows] == [2, 3, 4]
    budget.check_upload_budget(path.name, path.read_bytes())
    assert budget.count_rows(path.name, path.read_bytes()) == 4


# ------------------------------------------------------------------ issue 22, case 11: counts


@pytest.mark.parametrize(
    ("sheet_part", "prefix"),
    [
        ("xl/worksheets/sheet1.xml", ""),
        ("xl/feuilles/donnees.xml", ""),
        ("xl/worksheets/sheet1.xml", "x"),
    ],
    ids=["plain", "outside-worksheets", "prefixed"],
)
def test_the_upload_counts_every_sheet_and_prefixed_rows(
    folder: Path, sheet_part: str, prefix: str
) -> None:
    count = budget.UPLOAD_MAX_ROWS + 10
    path = _bombs.xlsx_rows(
        folder,
        count,
        sheet_part=sheet_part,
        prefix=prefix,
        name=f"rows-{prefix}{len(sheet_part)}.xlsx",
    )
    data = path.read_bytes()
    assert budget.count_rows(path.name, data) == count + 1  # the header included
    with pytest.raises(RegistryError, match="trop de lignes"):
        budget.check_upload_budget(path.name, data)
    small = _bombs.xlsx_rows(
        folder,
        3,
        sheet_part=sheet_part,
        prefix=prefix,
        name=f"small-{prefix}{len(sheet_part)}.xlsx",
    )
    assert budget.count_rows(small.name, small.read_bytes()) == 4
    table = read_table(small)
    assert len(table.rows) == 3 and table.header == _bombs.HEADER
