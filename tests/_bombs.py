"""Hostile workbooks and files, built by the tests (never committed): each is small on disk and
asks a naive reader for minutes and gigabytes. Issue 22's corpus.

Every builder writes one file under ``folder`` and returns its path. The sizes in the
docstrings are those of the files as built here.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

_ODS_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
    'manifest:version="1.2">'
    '<manifest:file-entry manifest:full-path="/" manifest:version="1.2" '
    'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)
_ODS_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
    '<office:body><office:spreadsheet><table:table table:name="Feuille1">'
)
_ODS_TAIL = "</table:table></office:spreadsheet></office:body></office:document-content>"

HEADER = ("id", "name", "kind", "insee", "source")


def _cell(text: str, repeat: int = 1) -> str:
    rep = f' table:number-columns-repeated="{repeat}"' if repeat > 1 else ""
    return (
        f'<table:table-cell office:value-type="string"{rep}><text:p>{text}</text:p>'
        "</table:table-cell>"
    )


def _row(cells: str, repeat: int = 1) -> str:
    rep = f' table:number-rows-repeated="{repeat}"' if repeat > 1 else ""
    return f"<table:table-row{rep}>{cells}</table:table-row>"


def write_ods(path: Path, body: str) -> Path:
    """An ODS whose first sheet's rows are ``body`` (``table:table-row`` elements)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("META-INF/manifest.xml", _ODS_MANIFEST)
        z.writestr("content.xml", _ODS_HEAD + body + _ODS_TAIL)
    return path


def _header_row() -> str:
    return _row("".join(_cell(h) for h in HEADER))


def ods_repeated_rows(folder: Path) -> Path:
    """One data row repeated a million times (about 900 bytes): issue 22, case 1."""
    body = _header_row() + _row(_cell("x", 5), repeat=1_000_000)
    return write_ods(folder / "repeated-rows.ods", body)


def ods_repeated_cells(folder: Path) -> Path:
    """1,000 rows of 1,000,000 repeated cells each (about 850 bytes): a 7 GiB allocation."""
    body = _header_row() + _row(_cell("x", 1_000_000), repeat=1_000)
    return write_ods(folder / "repeated-cells.ods", body)


def ods_large_content(folder: Path, megabytes: int = 94) -> Path:
    """A content.xml of about ``megabytes`` MB of plain cells (a few hundred kB zipped)."""
    row = _row("".join(_cell("abcdefgh" * 4) for _ in range(5)))
    count = megabytes * 1_000_000 // len(row)
    return write_ods(folder / "large-content.ods", _header_row() + row * count)


_XLSX_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/{sheet}" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "{extra}"
    "</Types>"
)
_XLSX_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_XLSX_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Feuille1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_XLSX_WB_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="{target}"/>'
    "{extra}"
    "</Relationships>"
)
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<{p}worksheet xmlns{colon}{pn}="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    "{dim}<{p}sheetData>"
)


def write_xlsx(
    path: Path,
    rows: str,
    *,
    sheet_part: str = "xl/worksheets/sheet1.xml",
    shared_strings: str | None = None,
    prefix: str = "",
    dimension: str = "",
) -> Path:
    """An XLSX whose one sheet (stored at ``sheet_part``) holds ``rows`` (``<row>`` elements,
    written with the namespace ``prefix`` when one is given, e.g. ``x``)."""
    p = f"{prefix}:" if prefix else ""
    dim = f'<{p}dimension ref="{dimension}"/>' if dimension else ""
    head = _SHEET_HEAD.format(p=p, colon=":" if prefix else "", pn=prefix, dim=dim)
    sheet = head + rows + f"</{p}sheetData></{p}worksheet>"
    target = sheet_part.removeprefix("xl/") if sheet_part.startswith("xl/") else "/" + sheet_part
    extra_rel = extra_type = ""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        if shared_strings is not None:
            extra_rel = (
                '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/'
                '2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
            )
            extra_type = (
                '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            )
            z.writestr("xl/sharedStrings.xml", shared_strings)
        z.writestr("[Content_Types].xml", _XLSX_TYPES.format(sheet=sheet_part, extra=extra_type))
        z.writestr("_rels/.rels", _XLSX_ROOT_RELS)
        z.writestr("xl/workbook.xml", _XLSX_WORKBOOK)
        z.writestr(
            "xl/_rels/workbook.xml.rels", _XLSX_WB_RELS.format(target=target, extra=extra_rel)
        )
        z.writestr(sheet_part, sheet)
    return path


def _xrow(n: int, cells: list[str], prefix: str = "") -> str:
    p = f"{prefix}:" if prefix else ""
    inner = "".join(f'<{p}c t="inlineStr"><{p}is><{p}t>{c}</{p}t></{p}is></{p}c>' for c in cells)
    return f'<{p}row r="{n}">{inner}</{p}row>'


def xlsx_wide_row(folder: Path, cells: int = 6_000_000) -> Path:
    """One row of ``cells`` cells under a normal header (about 180 kB zipped, 90 MB of XML at
    6 M: under the 100 MB unzip cap, as in the issue)."""
    row = '<row r="2">' + "<c><v>1</v></c>" * cells + "</row>"
    return write_xlsx(folder / "wide-row.xlsx", _xrow(1, list(HEADER)) + row)


def xlsx_shared_strings(folder: Path, strings: int = 5_500_000) -> Path:
    """A valid small sheet with ``strings`` shared strings beside it (about 230 kB zipped)."""
    sst = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'count="{strings}" uniqueCount="{strings}">' + "<si><t>a</t></si>" * strings + "</sst>"
    )
    rows = _xrow(1, list(HEADER)) + _xrow(2, ["s1", "Structure", "tous_publics", "69123", "x"])
    return write_xlsx(folder / "shared-strings.xlsx", rows, shared_strings=sst)


def xlsx_rows(
    folder: Path,
    count: int,
    *,
    sheet_part: str = "xl/worksheets/sheet1.xml",
    prefix: str = "",
    name: str = "rows.xlsx",
) -> Path:
    """A header and ``count`` small data rows, in a sheet stored at ``sheet_part`` and written
    with namespace ``prefix`` (issue 22, case 11: row counts that missed both)."""
    rows = _xrow(1, list(HEADER), prefix) + "".join(
        _xrow(i + 2, [f"s{i}", "Structure", "tous_publics", "69123", "x"], prefix)
        for i in range(count)
    )
    return write_xlsx(folder / name, rows, sheet_part=sheet_part, prefix=prefix)


def ods_libreoffice_style(folder: Path, count: int = 3) -> Path:
    """A sheet as LibreOffice saves it: a header, two empty rows, ``count`` data rows (a gap
    of two empty cells, spaces written as ``text:s``, two paragraphs, a span, a date), every row
    padded with empty repeated cells to column AMJ, and a million empty rows to close the
    sheet. It must load: the trailing repeats are empty."""
    pad = '<table:table-cell table:number-columns-repeated="1019"/>'
    empty_rows = (
        '<table:table-row table:style-name="ro1" table:number-rows-repeated="1048553">'
        '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
    )
    header = _row("".join(_cell(h) for h in HEADER) + pad)
    rows = []
    for i in range(count):
        cells = (
            _cell(f"s{i}")
            + '<table:table-cell office:value-type="string"><text:p>Centre<text:s text:c="2"/>'
            "de <text:span>soins</text:span></text:p><text:p>2e ligne</text:p>"
            "</table:table-cell>"
            + '<table:table-cell table:number-columns-repeated="2"/>'
            + '<table:table-cell office:value-type="date" office:date-value="2024-01-05">'
            "<text:p>05/01/2024</text:p></table:table-cell>" + pad
        )
        rows.append(_row(cells))
    gap = '<table:table-row table:number-rows-repeated="2"><table:table-cell/></table:table-row>'
    return write_ods(folder / "libreoffice.ods", header + gap + "".join(rows) + empty_rows)


def xlsx_trailing_format(folder: Path, count: int = 3) -> Path:
    """An XLSX as Excel saves a sheet formatted down to its last row: a dimension of
    A1:XFD1048576 and styled empty cells in the last row. It must load."""
    rows = _xrow(1, list(HEADER)) + "".join(
        _xrow(i + 2, [f"s{i}", "Structure", "tous_publics", "69123", "x"]) for i in range(count)
    )
    rows += '<row r="1048576" s="1" customFormat="1"><c r="XFD1048576" s="1"/></row>'
    return write_xlsx(folder / "trailing-format.xlsx", rows, dimension="A1:XFD1048576")


def ods_entities(folder: Path) -> Path:
    """An ODS whose content.xml declares nested entities (a billion laughs, 600 bytes)."""
    lol = "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    head = _ODS_HEAD.replace(
        "<office:document-content",
        f'<!DOCTYPE office:document-content [<!ENTITY l0 "lol">{lol}]><office:document-content',
        1,
    )
    body = _header_row() + _row(_cell("&l9;") * 5)
    with zipfile.ZipFile(folder / "entities.ods", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("META-INF/manifest.xml", _ODS_MANIFEST)
        z.writestr("content.xml", head + body + _ODS_TAIL)
    return folder / "entities.ods"


# ---------------------------------------------------------------- the corpus and its variations


def ods_repeats(folder: Path, *, rows: int, cells: int, name: str = "repeats.ods") -> Path:
    """A header and one data row of ``cells`` repeated cells, repeated ``rows`` times (the
    family of cases 1 and 2, at any size)."""
    body = _header_row() + _row(_cell("x", cells), repeat=rows)
    return write_ods(folder / name, body)


def xlsx_entities(folder: Path) -> Path:
    """An XLSX whose sheet declares nested entities (a billion laughs in a worksheet)."""
    lol = "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    path = write_xlsx(folder / "entities.xlsx", _xrow(1, list(HEADER)))
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    head, _, rest = sheet.partition("<worksheet")
    parts["xl/worksheets/sheet1.xml"] = (
        f'{head}<!DOCTYPE worksheet [<!ENTITY l0 "lol">{lol}]><worksheet{rest}'.replace(
            "</sheetData>", _xrow(2, ["&l9;"] * 5) + "</sheetData>"
        ).encode()
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for part, data in parts.items():
            z.writestr(part, data)
    return path


def xlsx_deflate_bomb(folder: Path, megabytes: int = 150) -> Path:
    """A zip bomb: a sheet whose XML inflates to ``megabytes`` MB of blanks inside a row (about
    ``megabytes`` kB on disk; over the 100 MB unzip cap at the default). Written in chunks."""
    path = write_xlsx(folder / "deflate-bomb.xlsx", "")
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist() if n != "xl/worksheets/sheet1.xml"}
    head, _, tail = (
        _SHEET_HEAD.format(p="", colon="", pn="", dim="")
        + _xrow(1, list(HEADER))
        + '<row r="2"><c><v>1</v></c>\x00</row></sheetData></worksheet>'
    ).partition("\x00")
    blanks = b" " * 1_000_000
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for part, data in parts.items():
            z.writestr(part, data)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(head.encode())
            for _ in range(megabytes):
                sheet.write(blanks)
            sheet.write(tail.encode())
    return path


def xlsx_many_sheets(folder: Path, sheets: int = 30, rows: int = 800) -> Path:
    """An XLSX of ``sheets`` sheets of ``rows`` data rows each, every one found through the
    workbook's relationships (the budget counts every sheet, not the first one only)."""
    path = folder / f"sheets-{sheets}x{rows}.xlsx"
    data = _xrow(1, list(HEADER)) + "".join(
        _xrow(i + 2, [f"s{i}", "Structure", "tous_publics", "69123", "x"]) for i in range(rows)
    )
    sheet = _SHEET_HEAD.format(p="", colon="", pn="", dim="") + data + "</sheetData></worksheet>"
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(2, sheets + 1)
    )
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/'
        f'2006/relationships/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(2, sheets + 1)
    )
    listed = "".join(
        f'<sheet name="Feuille{i}" sheetId="{i}" r:id="rId{i}"/>' for i in range(1, sheets + 1)
    )
    workbook = _XLSX_WORKBOOK.replace('<sheet name="Feuille1" sheetId="1" r:id="rId1"/>', listed)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            _XLSX_TYPES.format(sheet="xl/worksheets/sheet1.xml", extra=overrides),
        )
        z.writestr("_rels/.rels", _XLSX_ROOT_RELS)
        z.writestr("xl/workbook.xml", workbook)
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            _XLSX_WB_RELS.format(target="worksheets/sheet1.xml", extra=rels),
        )
        for i in range(1, sheets + 1):
            z.writestr(f"xl/worksheets/sheet{i}.xml", sheet)
    return path


#: Issue 22's hostile files, each at the size the issue measured (or the smallest that passes
#: a limit): the corpus of the fuzzing lane and of the hostile-upload soak. Every one must be
#: refused, in French, in milliseconds.
CORPUS: dict[str, Callable[[Path], Path]] = {
    "ods-repeated-rows": ods_repeated_rows,
    "ods-repeated-cells": ods_repeated_cells,
    "ods-large-content": ods_large_content,
    "ods-entities": ods_entities,
    "xlsx-wide-row": xlsx_wide_row,
    "xlsx-shared-strings": xlsx_shared_strings,
    "xlsx-entities": xlsx_entities,
    "xlsx-deflate-bomb": xlsx_deflate_bomb,
    "xlsx-many-sheets": xlsx_many_sheets,
    "xlsx-rows-outside-worksheets": lambda folder: xlsx_rows(
        folder, 5_001, sheet_part="xl/feuilles/donnees.xml", name="rows-outside.xlsx"
    ),
    "xlsx-rows-prefixed": lambda folder: xlsx_rows(
        folder, 5_001, prefix="x", name="rows-prefixed.xlsx"
    ),
}
