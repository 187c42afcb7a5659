"""Workbook budget: rows, cells and shared strings of an XLSX or ODS, counted while streaming.

A workbook is a zip of XML, and its XML can announce far more than it holds: an ODS cell
repeated a million times in a row repeated a thousand times is 840 bytes on disk and a
thousand million cells to a reader that expands it. This module counts what a workbook
announces, while streaming its XML (zip members read in chunks, fed to expat: no tree is
built), and refuses it above the limits below, in milliseconds, before any reader builds
objects from it. It is the one place those limits live: ``read_table`` (every reader, the
command line included) and the page's upload budget both call :func:`check_workbook`.

What is counted, per sheet (every sheet: found through ``xl/_rels/workbook.xml.rels`` in an
XLSX, as ``table:table`` elements in an ODS; tags matched by namespace, whatever their prefix):

- rows up to the last one holding a value, repeats (``table:number-rows-repeated``) and
  skipped row numbers (``<row r="…">``) included;
- cells up to the last value of each row, repeats (``table:number-columns-repeated``) and
  skipped columns (``<c r="…">``) included, times the row's repeats.

Empty repeated rows and cells after the last value (LibreOffice closes every sheet with a
million of them; Excel keeps formatted empty cells down to row 1,048,576) are never counted
nor expanded. XLSX shared strings are counted (the ``count`` announced and the ``<si>``
elements), and so are the uncompressed bytes of XML read. A DOCTYPE or an entity declaration
refuses the file: no workbook needs one, and that is how entity bombs begin.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from dataclasses import dataclass, field
from typing import Final, Literal
from xml.parsers import expat

from coverage import french
from coverage._errors import RegistryError
from coverage.data.spreadsheet import MAX_ROWS, MAX_SCANNED_ROWS

#: Rows of a workbook (every sheet), up to the last value of each: those a reader scans.
MAX_WORKBOOK_ROWS: Final[int] = MAX_SCANNED_ROWS
#: Cells of a workbook (every sheet), up to the last value of each row, repeats included: 20
#: columns for each of ``MAX_ROWS`` structures. openpyxl builds the cells one by one: at this
#: bound a reader stays within the hostile-file tests' 2 s of CPU, under a full test run too.
MAX_WORKBOOK_CELLS: Final[int] = 20 * MAX_ROWS
#: Shared strings of an XLSX (each is at least one cell).
MAX_SHARED_STRINGS: Final[int] = MAX_WORKBOOK_CELLS
#: Uncompressed XML read while counting (well above a 5,000-row registry of 20 columns).
MAX_XML_BYTES: Final[int] = 40_000_000
#: A workbook is a zip: refuse one whose members would inflate beyond this (a zip bomb).
MAX_UNZIPPED_BYTES: Final[int] = 100_000_000

_CHUNK = 64 * 1024
_SEP = "}"
_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0" + _SEP
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0" + _SEP
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main" + _SEP
_STRICT = "http://purl.oclc.org/ooxml/spreadsheetml/main" + _SEP
_PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships" + _SEP
_DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships" + _SEP
_STRICT_RELS = "http://purl.oclc.org/ooxml/officeDocument/relationships" + _SEP

Kind = Literal["xlsx", "ods"]


@dataclass(frozen=True)
class SheetCount:
    """What one sheet holds: ``rows`` up to the last value, ``filled_rows`` holding a value,
    ``cells`` up to the last value of each row (repeats included); ``dimension`` is the range
    an XLSX sheet announces (``""`` if none), recorded but not trusted."""

    name: str
    rows: int
    filled_rows: int
    cells: int
    dimension: str = ""


@dataclass(frozen=True)
class WorkbookScan:
    """A workbook's counts, and the problems (French, one per limit passed) that refuse it.

    A scan stops at the first limit passed: its counts are then lower bounds.
    """

    kind: Kind
    sheets: tuple[SheetCount, ...]
    shared_strings: int
    xml_bytes: int
    problems: tuple[str, ...] = ()

    @property
    def filled_rows(self) -> int:
        """Rows holding a value, over every sheet (headers included)."""
        return sum(s.filled_rows for s in self.sheets)

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.sheets]

    def sheet(self, name: str) -> SheetCount:
        return next(s for s in self.sheets if s.name == name)

    def raise_if_over(self, name: str) -> None:
        """Raise a ``RegistryError`` naming ``name`` if a limit was passed."""
        if self.problems:
            raise RegistryError(name, list(self.problems))


def check_workbook(data: bytes, name: str, *, kind: Kind) -> WorkbookScan:
    """Scan a workbook and refuse it above the limits (see :func:`scan_workbook`).

    Raises
    ------
    RegistryError
        The workbook is damaged, declares entities, or passes a limit; the message says what
        was found and the limit.
    """
    scan = scan_workbook(data, name, kind=kind)
    scan.raise_if_over(name)
    return scan


def scan_workbook(data: bytes, name: str, *, kind: Kind) -> WorkbookScan:
    """Count a workbook's rows, cells and shared strings, stopping at the first limit passed
    (the problem is then in ``problems``).

    Raises
    ------
    RegistryError
        The workbook is not a readable zip of XML, or declares entities.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            inflated = sum(info.file_size for info in zf.infolist())
            if inflated > MAX_UNZIPPED_BYTES:
                raise RegistryError(
                    name,
                    [f"{name} : classeur trop gros une fois décompressé ({inflated} octets)."],
                )
            counter = _Counter(name, kind)
            try:
                if kind == "ods":
                    _scan_ods(zf, counter)
                else:
                    _scan_xlsx(zf, counter)
            except _OverBudget as over:
                counter.problems.append(over.problem)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError):
        raise RegistryError(name, [f"{name} : classeur illisible (fichier zip abîmé)."]) from None
    return WorkbookScan(
        kind,
        tuple(counter.sheets),
        counter.shared_strings,
        counter.xml_bytes,
        tuple(counter.problems),
    )


# --- streaming XML ---------------------------------------------------------------------------


class _OverBudget(Exception):
    """A limit was passed: scanning stops (internal; becomes a problem of the scan)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def xml_parser(name: str) -> expat.XMLParserType:
    """An expat parser with namespaces resolved (``uri}local`` names) that refuses any DOCTYPE
    or entity declaration (``RegistryError``) and never reads external entities."""
    parser = expat.ParserCreate(namespace_separator=_SEP)
    parser.buffer_text = True
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def refuse(*_: object) -> None:
        raise RegistryError(
            name,
            [
                f"{name} : classeur refusé : son XML déclare des entités XML ou une DOCTYPE, "
                "ce qu'aucun tableur n'écrit."
            ],
        )

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = lambda *_: 0
    return parser


def parse_chunk(parser: expat.XMLParserType, chunk: bytes, name: str, *, final: bool) -> None:
    """Parse one chunk of a document; a malformed document refuses the file."""
    try:
        parser.Parse(chunk, final)
    except expat.ExpatError as exc:
        raise RegistryError(
            name, [f"{name} : classeur illisible (XML abîmé : {expat.ErrorString(exc.code)})."]
        ) from None


def repeat(value: str | None) -> int:
    """A repeat attribute's value; absent or not a positive integer: 1."""
    if not value or not value.isdigit():
        return 1
    return max(int(value), 1)


@dataclass
class _Counter:
    """Running totals of a scan, checked against the limits as they grow."""

    name: str
    kind: Kind
    sheets: list[SheetCount] = field(default_factory=list)
    rows: int = 0
    cells: int = 0
    shared_strings: int = 0
    xml_bytes: int = 0
    problems: list[str] = field(default_factory=list)

    def read(self, zf: zipfile.ZipFile, member: str, parser: expat.XMLParserType) -> None:
        try:
            info = zf.getinfo(member)
        except KeyError:
            raise RegistryError(
                self.name, [f"{self.name} : classeur illisible ({member} absent)."]
            ) from None
        with zf.open(info) as stream:
            while chunk := stream.read(_CHUNK):
                self._add_bytes(len(chunk))
                parse_chunk(parser, chunk, self.name, final=False)
            parse_chunk(parser, b"", self.name, final=True)

    def _add_bytes(self, size: int) -> None:
        self.xml_bytes += size
        if self.xml_bytes > MAX_XML_BYTES:
            self._over_bytes(self.xml_bytes)

    def _over_bytes(self, size: int) -> None:
        raise _OverBudget(
            f"{self.name} : contenu XML trop volumineux : {french.number(size)} octets "
            f"décompressés à lire ; au plus {french.number(MAX_XML_BYTES)}."
        )

    def check_rows(self, sheet: str, rows: int, repeated: bool) -> None:
        if self.rows + rows > MAX_WORKBOOK_ROWS:
            how = " annoncées par des répétitions" if repeated else ""
            raise _OverBudget(
                f"{self.name} : trop de lignes dans la feuille « {sheet} » : au moins "
                f"{french.number(self.rows + rows)}{how} ; au plus "
                f"{french.number(MAX_WORKBOOK_ROWS)} par classeur."
            )

    def check_cells(self, sheet: str, cells: int, repeated: bool) -> None:
        if self.cells + cells > MAX_WORKBOOK_CELLS:
            how = " annoncées par des répétitions" if repeated else ""
            raise _OverBudget(
                f"{self.name} : trop de cellules dans la feuille « {sheet} » : au moins "
                f"{french.number(self.cells + cells)}{how} ; au plus "
                f"{french.number(MAX_WORKBOOK_CELLS)} par classeur."
            )

    def check_strings(self, count: int, announced: bool) -> None:
        if count > MAX_SHARED_STRINGS:
            how = "annoncés" if announced else "au moins"
            shown = french.number(count)
            raise _OverBudget(
                f"{self.name} : trop de textes partagés (xl/sharedStrings.xml) : "
                + (f"{shown} {how}" if announced else f"{how} {shown}")
                + f" ; au plus {french.number(MAX_SHARED_STRINGS)}."
            )

    def add_sheet(self, sheet: SheetCount) -> None:
        self.sheets.append(sheet)


# --- ODS -------------------------------------------------------------------------------------


_T_TABLE = _TABLE + "table"
_T_ROW = _TABLE + "table-row"
_T_CELLS = frozenset((_TABLE + "table-cell", _TABLE + "covered-table-cell"))
_A_NAME = _TABLE + "name"
_A_ROWS = _TABLE + "number-rows-repeated"
_A_COLS = _TABLE + "number-columns-repeated"
_A_VALUES = (_OFFICE + "value-type", _TABLE + "formula", _OFFICE + "value")


class _OdsSheets:
    """expat start handler counting the ``table:table`` elements of an ODS content.xml.

    No end handler (half the cost): a row is closed when the next row or sheet starts, or
    at the end of the document (:meth:`close`)."""

    def __init__(self, counter: _Counter) -> None:
        self.counter = counter
        self.name = ""
        self.open = False  # a sheet is being counted
        self.rows = self.filled = self.cells = 0
        self.pending_rows = 0  # empty rows not yet followed by a value
        self.row_repeat = 0  # 0: no row open
        self.repeated = False
        self.extent = 0  # cells up to the last value in the row
        self.pending_cells = 0

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if tag in _T_CELLS:
            if not self.row_repeat:
                return
            n = repeat(attrs.get(_A_COLS))
            if not any(a in attrs for a in _A_VALUES):
                self.pending_cells += n
                return
            if not self.extent:  # the row's first value: it and the empty rows above count
                rows = self.pending_rows + self.row_repeat
                self.counter.check_rows(self.name, rows, self.row_repeat > 1)
            self.extent += self.pending_cells + n
            self.pending_cells = 0
            self.repeated = self.repeated or n > 1
            self.counter.check_cells(self.name, self.extent * self.row_repeat, self.repeated)
        elif tag == _T_ROW:
            self._end_row()
            self.row_repeat = repeat(attrs.get(_A_ROWS))
            self.repeated = self.row_repeat > 1
            self.extent = self.pending_cells = 0
        elif tag == _T_TABLE:
            self.close()
            self.open = True
            self.name = attrs.get(_A_NAME, "")
            self.rows = self.filled = self.cells = self.pending_rows = 0

    def _end_row(self) -> None:
        if not self.row_repeat:
            return
        repeat_, self.row_repeat = self.row_repeat, 0
        if not self.extent:
            self.pending_rows += repeat_
            return
        rows = self.pending_rows + repeat_
        cells = self.extent * repeat_
        c = self.counter
        c.check_rows(self.name, rows, self.repeated)
        c.check_cells(self.name, cells, self.repeated)
        c.rows += rows
        c.cells += cells
        self.rows += rows
        self.filled += repeat_
        self.cells += cells
        self.pending_rows = 0

    def close(self) -> None:
        """End the sheet being counted (if any)."""
        self._end_row()
        if self.open:
            self.counter.add_sheet(SheetCount(self.name, self.rows, self.filled, self.cells))
            self.open = False


def _scan_ods(zf: zipfile.ZipFile, counter: _Counter) -> None:
    parser = xml_parser(counter.name)
    sheets = _OdsSheets(counter)
    parser.StartElementHandler = sheets.start
    try:
        counter.read(zf, "content.xml", parser)
    finally:
        sheets.close()


# --- XLSX ------------------------------------------------------------------------------------


def _letters_to_index(ref: str) -> int:
    """``"AB12"`` -> 28 (the column of a cell reference); no letters: 0."""
    n = 0
    for ch in ref:
        if "A" <= ch <= "Z":
            n = n * 26 + ord(ch) - 64
        elif "a" <= ch <= "z":
            n = n * 26 + ord(ch) - 96
        else:
            break
    return n


def _small_xml(zf: zipfile.ZipFile, member: str, counter: _Counter) -> list[tuple[str, dict]]:
    """Every element (tag, attributes) of a small part (workbook, relationships)."""
    found: list[tuple[str, dict]] = []
    parser = xml_parser(counter.name)
    parser.StartElementHandler = lambda tag, attrs: found.append((tag, attrs))
    counter.read(zf, member, parser)
    return found


def _rels(zf: zipfile.ZipFile, part: str, counter: _Counter) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type, member) of ``part``'s relationships (absent: none)."""
    folder, base = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", base + ".rels")
    if rels not in zf.namelist():
        return {}
    out: dict[str, tuple[str, str]] = {}
    for tag, attrs in _small_xml(zf, rels, counter):
        if tag != _PKG_RELS + "Relationship" or attrs.get("TargetMode") == "External":
            continue
        target = attrs.get("Target", "")
        member = (
            target.lstrip("/")
            if target.startswith("/")
            else posixpath.normpath(posixpath.join(folder, target))
        )
        out[attrs.get("Id", "")] = (attrs.get("Type", ""), member)
    return out


def _xlsx_parts(zf: zipfile.ZipFile, counter: _Counter) -> tuple[list[tuple[str, str]], str]:
    root = _rels(zf, "", counter)
    book = next((m for t, m in root.values() if t.endswith("/officeDocument")), "xl/workbook.xml")
    rels = _rels(zf, book, counter)
    sheets: list[tuple[str, str]] = []
    for tag, attrs in _small_xml(zf, book, counter):
        if tag not in (_MAIN + "sheet", _STRICT + "sheet"):
            continue
        rid = attrs.get(_DOC_RELS + "id") or attrs.get(_STRICT_RELS + "id") or ""
        if rid in rels:
            sheets.append((attrs.get("name", ""), rels[rid][1]))
    strings = next((m for t, m in rels.values() if t.endswith("/sharedStrings")), "")
    return sheets, strings


_X_CELL, _X_VALUE, _X_ROW, _X_DIMENSION = range(4)
_X_TAGS = {
    ns + local: code
    for ns in (_MAIN, _STRICT)
    for local, code in (
        ("c", _X_CELL),
        ("v", _X_VALUE),
        ("is", _X_VALUE),
        ("f", _X_VALUE),
        ("row", _X_ROW),
        ("dimension", _X_DIMENSION),
    )
}


class _XlsxSheet:
    """expat start handler counting one XLSX worksheet (a row is closed when the next one
    starts, or by :meth:`close`: no end handler)."""

    def __init__(self, counter: _Counter, name: str) -> None:
        self.counter = counter
        self.name = name
        self.dimension = ""
        self.row = 0  # the current row's number
        self.rows = self.filled = self.cells = 0
        self.col = 0  # the current cell's column
        self.extent = 0  # the row's last column holding a value

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        code = _X_TAGS.get(tag)
        if code is None:
            return
        if code == _X_CELL:
            ref = attrs.get("r")
            self.col = _letters_to_index(ref) if ref else self.col + 1
        elif code == _X_VALUE:
            if self.col > self.extent:
                if not self.extent:  # the row's first value: the rows above it count
                    self.counter.check_rows(self.name, self.row - self.rows, False)
                self.extent = self.col
                self.counter.check_cells(self.name, self.extent, False)
        elif code == _X_ROW:
            self.close()
            ref = attrs.get("r", "")
            self.row = int(ref) if ref.isdigit() else self.row + 1
        else:
            self.dimension = attrs.get("ref", "")[:40]

    def close(self) -> None:
        """End the row being counted (if it holds a value)."""
        if not self.extent:
            self.col = 0
            return
        rows = max(self.row - self.rows, 1)
        c = self.counter
        c.check_rows(self.name, rows, False)
        c.check_cells(self.name, self.extent, False)
        c.rows += rows
        c.cells += self.extent
        self.rows += rows
        self.filled += 1
        self.cells += self.extent
        self.extent = self.col = 0


def _scan_xlsx(zf: zipfile.ZipFile, counter: _Counter) -> None:
    sheets, strings = _xlsx_parts(zf, counter)
    if strings and strings in zf.namelist():
        _scan_strings(zf, strings, counter)
    for name, member in sheets:
        parser = xml_parser(counter.name)
        sheet = _XlsxSheet(counter, name)
        parser.StartElementHandler = sheet.start
        try:
            counter.read(zf, member, parser)
            sheet.close()
        finally:
            counter.add_sheet(
                SheetCount(name, sheet.rows, sheet.filled, sheet.cells, sheet.dimension)
            )


def _scan_strings(zf: zipfile.ZipFile, member: str, counter: _Counter) -> None:
    def start(tag: str, attrs: dict[str, str]) -> None:
        local = tag.rpartition(_SEP)[2]
        if local == "si":
            counter.shared_strings += 1
            if counter.shared_strings > MAX_SHARED_STRINGS:
                counter.check_strings(counter.shared_strings, announced=False)
        elif local == "sst":
            for key in ("uniqueCount", "count"):
                counter.check_strings(repeat(attrs.get(key)), announced=True)

    parser = xml_parser(counter.name)
    parser.StartElementHandler = start
    counter.read(zf, member, parser)
