"""ODS sheet reader: the rows of one sheet of content.xml, streamed, repeats never blown up.

The sheet is read with expat in chunks (no tree of the document). A row is given as the
values of its cells, with ``"f"`` as the type of a cell holding a formula (its formula as the
value) and ``"s"`` otherwise, the way ``spreadsheet._sheet_rows`` takes them. Values are those
pandas' ODF reader gives (numbers as numbers, dates as datetimes, text with ``text:s`` spaces,
line breaks and one line per paragraph, annotations left out), so that a sheet reads the same
as before. Repeated cells are expanded only up to ``width`` cells, empty ones only when a value
follows; empty rows are skipped (their lines counted), repeated rows with a value are yielded
once per repeat. The workbook scan (:mod:`coverage.data.workbook_scan`) has bounded rows and
cells before this runs.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import zipfile
from collections.abc import Iterator

from coverage.data.workbook_scan import parse_chunk, repeat, xml_parser

_SEP = "}"
_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0" + _SEP
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0" + _SEP
_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0" + _SEP
_CHUNK = 256 * 1024
_CELLS = (_TABLE + "table-cell", _TABLE + "covered-table-cell")

Cell = tuple[object, str]


class _Frame:
    """One element being read inside a cell: whether a paragraph was seen among its children."""

    __slots__ = ("seen_p",)

    def __init__(self) -> None:
        self.seen_p = False


class _SheetReader:
    """expat handlers collecting the rows of the ``index``-th top-level table."""

    def __init__(self, index: int, width: int) -> None:
        self.index = index
        self.width = width
        self.tables = -1
        self.depth = 0
        self.line = 0
        self.done = False
        self.ready: list[tuple[int, list[Cell]]] = []
        self.row: list[Cell] | None = None
        self.row_repeat = 1
        self.empty_cells = 0
        self.cell: dict[str, str] | None = None
        self.cell_repeat = 1
        self.frames: list[_Frame] = []
        self.skip = 0  # depth inside an annotation
        self.text: list[str] = []  # the cell's value text (pandas' rules)
        self.full: list[str] = []  # every character of the cell (its string value)
        self.pending = ""  # a text node not yet ended

    @property
    def active(self) -> bool:
        return self.depth == 1 and self.tables == self.index and not self.done

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if tag == _TABLE + "table":
            self.depth += 1
            if self.depth == 1:
                self.tables += 1
            return
        if not self.active:
            return
        if self.cell is not None:
            self._flush()
            if self.skip or tag == _OFFICE + "annotation":
                self.skip += 1
            elif tag == _TEXT + "s":
                self.text.append(" " * repeat(attrs.get(_TEXT + "c")))
            elif tag == _TEXT + "line-break":
                self.text.append("\n")
            else:
                parent = self.frames[-1]
                if tag == _TEXT + "p":
                    if parent.seen_p:
                        self.text.append("\n")
                    parent.seen_p = True
            self.frames.append(_Frame())
        elif tag == _TABLE + "table-row":
            self.row = []
            self.row_repeat = repeat(attrs.get(_TABLE + "number-rows-repeated"))
            self.empty_cells = 0
        elif self.row is not None and tag in _CELLS:
            self.cell = attrs
            self.cell_repeat = repeat(attrs.get(_TABLE + "number-columns-repeated"))
            self.text, self.full, self.pending = [], [], ""
            self.frames = [_Frame()]
            self.skip = 0

    def chars(self, data: str) -> None:
        if self.cell is not None and self.active:
            self.full.append(data)
            if not self.skip:
                self.pending += data

    def _flush(self) -> None:
        if self.pending:
            self.text.append(self.pending.strip("\n"))
            self.pending = ""

    def end(self, tag: str) -> None:
        if tag == _TABLE + "table":
            if self.active:
                self.done = True
            self.depth -= 1
            return
        if not self.active:
            return
        if self.cell is not None and len(self.frames) > 1:
            self._flush()
            self.frames.pop()
            if self.skip:
                self.skip -= 1
        elif self.cell is not None and tag in _CELLS:
            self._flush()
            self._end_cell(tag)
        elif self.row is not None and tag == _TABLE + "table-row":
            self._end_row()

    def _end_cell(self, tag: str) -> None:
        attrs, row = self.cell, self.row
        assert attrs is not None and row is not None
        self.cell = None
        formula = attrs.get(_TABLE + "formula")
        if formula:
            value: Cell | None = (formula, "f")
        elif tag == _TABLE + "covered-table-cell" and _OFFICE + "value" not in attrs:
            value = None
        else:
            found = _value(attrs, "".join(self.text), "".join(self.full))
            value = None if found is None or found == "" else (found, "s")
        if value is None:
            self.empty_cells += self.cell_repeat
            return
        room = self.width - len(row)
        gap = min(self.empty_cells, room)
        row.extend([(None, "s")] * gap)
        self.empty_cells = 0
        row.extend([value] * min(self.cell_repeat, room - gap))

    def _end_row(self) -> None:
        row = self.row
        assert row is not None
        self.row = None
        if not row:
            self.line += self.row_repeat
            return
        for _ in range(self.row_repeat):
            self.line += 1
            self.ready.append((self.line, list(row)))


def _value(attrs: dict[str, str], text: str, full: str) -> object:
    """A cell's value as pandas' ODF reader gives it (None: empty)."""
    if full == "#N/A":
        return None
    kind = attrs.get(_OFFICE + "value-type")
    if kind is None:
        return None
    if kind == "boolean":
        flag = attrs.get(_OFFICE + "boolean-value")
        return flag == "true" if flag is not None else full == "TRUE"
    if kind in ("float", "percentage", "currency"):
        try:
            number = float(attrs.get(_OFFICE + "value", ""))
        except ValueError:
            return text
        if kind == "float" and math.isfinite(number) and number.is_integer():
            return int(number)
        return number
    if kind == "date":
        stamp = attrs.get(_OFFICE + "date-value", "")
        try:
            return dt.datetime.fromisoformat(stamp)
        except ValueError:
            return stamp
    if kind == "time":
        try:
            return dt.time.fromisoformat(full.strip())
        except ValueError:
            return full
    return text


def ods_rows(data: bytes, name: str, *, index: int, width: int) -> Iterator[tuple[int, list[Cell]]]:
    """(line, cells) of the rows holding a value in the ``index``-th sheet of an ODS, each row
    cut at ``width`` cells.

    Raises
    ------
    RegistryError
        The XML is malformed or declares entities.
    """
    reader = _SheetReader(index, width)
    parser = xml_parser(name)
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.chars
    with zipfile.ZipFile(io.BytesIO(data)) as zf, zf.open("content.xml") as stream:
        while not reader.done:
            chunk = stream.read(_CHUNK)
            parse_chunk(parser, chunk, name, final=not chunk)
            yield from reader.ready
            reader.ready.clear()
            if not chunk:
                break
