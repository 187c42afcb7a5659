"""Tabular file readers: CSV (as French Excel writes it), XLSX, ODS and GeoJSON -> text rows.

Every reader returns a ``Table``: the header cells and the data rows as text, each row with the
line (spreadsheet row) it came from. Nothing is interpreted here beyond turning cells into
text; the schema, the header names and the field checks are the callers'. A file that cannot
be read is refused with a ``RegistryError`` whose messages name the file, the sheet and the
line. Costs are bounded before parsing: file size; for a workbook, its uncompressed size and
the rows, cells and shared strings it announces; rows and columns.

- CSV: UTF-8 (with or without BOM) or Windows-1252 (what French Excel writes as "CSV
  (séparateur : point-virgule)"); separator ``;``, ``,`` or tab, chosen from the header line.
- XLSX (openpyxl, read-only) and ODS (streamed by :mod:`coverage.data.ods`): one sheet, the
  first unless ``sheet`` names another. Before either reader runs, the workbook scan
  (:mod:`coverage.data.workbook_scan`) counts its rows, cells and shared strings, repeats
  included, and refuses it above its limits. A cell holding a formula refuses the file (the
  value a reader sees may not be the value stored, and a formula is a known injection path);
  so does a cell holding an error.
- GeoJSON: a FeatureCollection of Point features; the header is the union of property names
  plus ``lon``/``lat``. A non-Point geometry, or a property whose value is a list or an object,
  refuses the file with the feature's number.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import math
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from coverage._atomic import file_kind_fr
from coverage._errors import RegistryError

#: Limits that keep a hostile or mistaken file from exhausting memory or time.
MAX_FILE_BYTES = 5_000_000
MAX_ROWS = 5_000
MAX_COLUMNS = 200
#: Rows scanned in a sheet, blank ones included, before giving up.
MAX_SCANNED_ROWS = 4 * MAX_ROWS
MAX_PROBLEMS_SHOWN = 50

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".ods")
GEOJSON_SUFFIXES = (".geojson", ".json")


@dataclass(frozen=True)
class Table:
    """A file's header and rows as text.

    ``label`` names the file (and the sheet) in messages; ``rows`` holds (line, cells) with
    exactly one cell per header column; ``kind`` is ``csv``, ``xlsx``, ``ods`` or ``geojson``.
    """

    path: str
    label: str
    kind: str
    header: tuple[str, ...]
    rows: tuple[tuple[int, tuple[str, ...]], ...]
    encoding: str = ""
    delimiter: str = ""
    sheet: str = ""
    sheets: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """The table's provenance (not its rows), for JSON."""
        return {
            "path": self.path,
            "kind": self.kind,
            "sheet": self.sheet,
            "sheets": list(self.sheets),
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "columns": list(self.header),
            "rows": len(self.rows),
        }


HeaderCheck = Callable[[list[str], str], list[str]]


def read_table(
    path: str | os.PathLike[str],
    *,
    sheet: str | None = None,
    what: str = "de structures",
    check_header: HeaderCheck | None = None,
) -> Table:
    """Read a CSV, XLSX, ODS or GeoJSON file into a ``Table`` (by its suffix).

    ``check_header(header, label)`` returns the header's problems; it runs as soon as the
    header is read, and a header with problems is refused before any row is parsed.

    Raises
    ------
    RegistryError
        The file is missing, not a regular file, too big, unreadable, or holds a formula.
    """
    global _last_read
    p = Path(path)
    name = str(p)
    try:
        data = _read_bytes(p, name)
        suffix = p.suffix.lower()
        if sheet is not None and suffix not in SPREADSHEET_SUFFIXES:
            raise RegistryError(
                name, [f"{name} : --sheet ne s'applique qu'à un classeur (.xlsx ou .ods)."]
            )
        key = (name, sheet, hashlib.sha256(data).digest())
        last = _last_read
        if last is not None and last.key == key:  # the same bytes read again (see _last_read)
            return last.again(check_header)
        _last_read = None
        read = _Read(key)
        try:
            read.table = _parse(data, name, suffix, sheet, read.recording(check_header))
        except RegistryError as exc:
            if read.header_ok:  # refused for its rows: any reader would refuse them so
                read.refusal = exc
                _last_read = read
            raise
        _last_read = read
        return read.table
    except RegistryError as exc:
        if what == "de structures" and exc.path == name:
            raise
        raise RegistryError(name, exc.problems, what=what, total=exc.total) from None


class _Read:
    """One reading of a file: what identifies it (file name, sheet, digest of its bytes), its
    header as read, and its table or the refusal of its rows."""

    def __init__(self, key: tuple[str, str | None, bytes]) -> None:
        self.key = key
        self.header: list[str] = []
        self.label = ""
        self.header_ok = False
        self.table: Table | None = None
        self.refusal: RegistryError | None = None

    def recording(self, check: HeaderCheck | None) -> HeaderCheck:
        """``check`` that also records the header it was given and whether it passed."""

        def record(header: list[str], label: str) -> list[str]:
            self.header, self.label = list(header), label
            problems = check(header, label) if check is not None else []
            self.header_ok = not problems
            return problems

        return record

    def again(self, check: HeaderCheck | None) -> Table:
        """The same answer for another reader: its header check first, then the table or the
        refusal of the rows."""
        _header_ok(list(self.header), self.label, check)
        if self.refusal is not None:
            raise self.refusal
        assert self.table is not None
        return self.table


#: The last file read. A reader that must look at a file's header before choosing how to
#: read it (the applicants' list: a registry or a list of communes) reads it whole, then the
#: chosen reader gets the same answer back: a workbook is parsed once, not twice.
_last_read: _Read | None = None


def _parse(
    data: bytes, name: str, suffix: str, sheet: str | None, check_header: HeaderCheck | None
) -> Table:
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_table(data, name, sheet, check_header)
    if suffix == ".ods":
        return _ods_table(data, name, sheet, check_header)
    if suffix in GEOJSON_SUFFIXES:
        return _geojson_table(_decode(data, name)[0], name, check_header)
    return _csv_table(data, name, check_header)


def _read_bytes(path: Path, name: str) -> bytes:
    try:
        st = path.stat()
    except FileNotFoundError:
        raise RegistryError(name, [f"{name} : fichier introuvable."]) from None
    except OSError as exc:
        raise RegistryError(name, [f"{name} : fichier illisible ({exc.strerror})."]) from None
    kind = file_kind_fr(st.st_mode)
    if kind is not None:
        raise RegistryError(name, [f"{name} : c'est {kind}, pas un fichier ordinaire."])
    if st.st_size > MAX_FILE_BYTES:
        raise RegistryError(
            name, [f"{name} : fichier trop gros ({st.st_size} octets ; au plus {MAX_FILE_BYTES})."]
        )
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise RegistryError(name, [f"{name} : fichier illisible ({exc.strerror})."]) from None
    if len(data) > MAX_FILE_BYTES:  # grew since stat
        raise RegistryError(name, [f"{name} : fichier trop gros (au plus {MAX_FILE_BYTES})."])
    if not data:  # read, not stat: /proc files say 0 bytes and have content
        raise RegistryError(name, [f"{name} : le fichier est vide."])
    return data


# --- CSV -------------------------------------------------------------------------------------


def _decode(data: bytes, name: str) -> tuple[str, str]:
    """(text, encoding) of a text file: UTF-8 (BOM or not), else Windows-1252."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise RegistryError(
            name,
            [
                f"{name} : fichier encodé en UTF-16 ; attendu UTF-8 "
                "(enregistrez-le en « CSV UTF-8 »)."
            ],
        )
    if b"\x00" in data[:4096]:
        hint = " (un classeur ? nommez-le .xlsx ou .ods)" if data.startswith(b"PK\x03\x04") else ""
        raise RegistryError(
            name, [f"{name} : fichier binaire ou encodé en UTF-16{hint} ; attendu UTF-8."]
        )
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise RegistryError(
            name,
            [
                f"{name}, ligne {line} : caractères ni UTF-8 ni Windows-1252 "
                f"(octet {data[exc.start]:#04x}) : enregistrez le fichier en « CSV UTF-8 »."
            ],
        ) from None


def _csv_table(data: bytes, name: str, check_header: HeaderCheck | None) -> Table:
    text, encoding = _decode(data, name)
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise RegistryError(name, [f"{name} : la première ligne (les noms de colonnes) est vide."])
    first = lines[0]
    delimiter = max((";", ",", "\t"), key=lambda d: (first.count(d), d == ","))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    problems = _Problems()
    rows: list[tuple[int, tuple[str, ...]]] = []
    header: list[str] = []
    try:
        header = [h.strip() for h in next(reader)]
        _header_ok(header, name, check_header)
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            _check_rows(rows, name)
            if len(record) != len(header):
                problems.add(
                    f"{name}, ligne {reader.line_num} : {len(record)} valeur(s) pour "
                    f"{len(header)} colonne(s) (guillemets ou séparateurs en trop ?)."
                )
                continue
            rows.append((reader.line_num, tuple(record)))
    except csv.Error as exc:
        problems.add(f"{name}, ligne {reader.line_num} : CSV illisible ({exc}).")
    problems.raise_if_any(name)
    _check_not_empty(rows, name)
    return Table(name, name, "csv", tuple(header), tuple(rows), encoding, delimiter)


# --- workbooks -------------------------------------------------------------------------------


def _choose_sheet(sheets: list[str], sheet: str | None, name: str) -> str:
    if not sheets:
        raise RegistryError(name, [f"{name} : le classeur n'a aucune feuille."])
    if sheet is None:
        return sheets[0]
    if sheet in sheets:
        return sheet
    raise RegistryError(
        name, [f"{name} : pas de feuille {sheet!r} ; feuilles du classeur : {sheets!r}."]
    )


def cell_text(value: object) -> str:
    """A spreadsheet cell's value as the text a reader sees (integers without ``.0``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _xlsx_table(
    data: bytes, name: str, sheet: str | None, check_header: HeaderCheck | None
) -> Table:
    import openpyxl  # lazy: only workbooks need it

    from coverage.data.workbook_scan import check_workbook

    scan = check_workbook(data, name, kind="xlsx")
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds on a damaged workbook
        raise RegistryError(
            name, [f"{name} : classeur XLSX illisible ({type(exc).__name__})."]
        ) from None
    try:
        chosen = _choose_sheet(list(wb.sheetnames), sheet, name)
        label = f"{name} (feuille « {chosen} »)"
        ws = wb[chosen]
        # Rows up to the last value only (the scan's count), not to the announced dimension:
        # Excel keeps formatted empty cells down to row 1,048,576.
        last = scan.sheet(chosen).rows if chosen in scan.names else MAX_SCANNED_ROWS
        if hasattr(ws, "reset_dimensions"):
            ws.reset_dimensions()
        rows_in = ws.iter_rows(max_col=MAX_COLUMNS + 1, max_row=max(last, 1))
        cells = (
            (i, [(c.value, getattr(c, "data_type", "n")) for c in row])
            for i, row in enumerate(rows_in, start=1)
        )
        header, rows = _sheet_rows(cells, label, check_header)
        sheets = tuple(wb.sheetnames)
    finally:
        wb.close()
    return Table(name, label, "xlsx", header, rows, sheet=chosen, sheets=sheets)


def _ods_table(
    data: bytes, name: str, sheet: str | None, check_header: HeaderCheck | None
) -> Table:
    from coverage.data.ods import ods_rows
    from coverage.data.workbook_scan import check_workbook

    names = check_workbook(data, name, kind="ods").names
    chosen = _choose_sheet(names, sheet, name)
    label = f"{name} (feuille « {chosen} »)"
    cells = ods_rows(data, name, index=names.index(chosen), width=MAX_COLUMNS + 1)
    header, rows = _sheet_rows(cells, label, check_header)
    return Table(name, label, "ods", header, rows, sheet=chosen, sheets=tuple(names))


def _formula_problem(label: str, line: int, formula: str, column: str = "") -> str:
    where = f"{label}, ligne {line}" + (f", colonne {column}" if column else "")
    shown = formula if len(formula) <= 60 else formula[:57] + "..."
    return (
        f"{where} : cellule contenant une formule ({shown!r}) ; un registre ne contient que des "
        "valeurs (copiez la feuille puis « collage spécial : valeurs »)."
    )


def _sheet_rows(
    cells: Iterable[tuple[int, list[tuple[object, str]]]],
    label: str,
    check_header: HeaderCheck | None,
) -> tuple[tuple[str, ...], tuple[tuple[int, tuple[str, ...]], ...]]:
    """Header and rows of a sheet given as (line, [(value, openpyxl data type)])."""
    from openpyxl.utils import get_column_letter

    problems = _Problems()
    header: list[str] | None = None
    rows: list[tuple[int, tuple[str, ...]]] = []
    for line, values in _bounded(cells, label):
        texts: list[str] = []
        for j, (value, dtype) in enumerate(values):
            if dtype == "f" or (isinstance(value, str) and dtype != "s" and value.startswith("=")):
                problems.add(_formula_problem(label, line, str(value), get_column_letter(j + 1)))
            elif dtype == "e":
                problems.add(
                    f"{label}, ligne {line}, colonne {get_column_letter(j + 1)} : "
                    f"cellule en erreur ({value!r})."
                )
            texts.append(cell_text(value).strip())
        if header is None:
            if not any(texts):
                continue  # blank rows above the header
            while texts and not texts[-1]:
                texts.pop()
            _check_width(texts, label)
            _header_ok(texts, label, check_header)
            header = texts
            continue
        if not any(texts):
            continue
        extra = [t for t in texts[len(header) :] if t]
        if extra:
            problems.add(f"{label}, ligne {line} : valeur(s) hors des colonnes nommées {extra!r}.")
        _check_rows(rows, label)
        padded = texts[: len(header)] + [""] * (len(header) - len(texts))
        rows.append((line, tuple(padded)))
    problems.raise_if_any(label)
    if header is None:
        raise RegistryError(label, [f"{label} : la feuille est vide."])
    _check_not_empty(rows, label)
    return tuple(header), tuple(rows)


def _bounded(
    cells: Iterable[tuple[int, list[tuple[object, str]]]], label: str
) -> Iterator[tuple[int, list[tuple[object, str]]]]:
    for line, values in cells:
        if line > MAX_SCANNED_ROWS:
            raise RegistryError(
                label, [f"{label} : trop de lignes (plus de {MAX_SCANNED_ROWS} lues)."]
            )
        yield line, values


# --- GeoJSON ---------------------------------------------------------------------------------


def _geojson_table(text: str, name: str, check_header: HeaderCheck | None) -> Table:
    feats = _features(text, name)
    problems = _Problems()
    records: list[tuple[int, dict[str, str]]] = []
    for i, feat in enumerate(feats, start=1):
        row = _feature_row(feat, i, name, problems)
        if row is not None:
            records.append((i, row))
    header = tuple(sorted({k for _, r in records for k in r}))
    if check_header is not None:
        for p in check_header(list(header), name):
            problems.add(p)
    problems.raise_if_any(name)
    rows = tuple((i, tuple(r.get(c, "") for c in header)) for i, r in records)
    return Table(name, name, "geojson", header, rows, encoding="utf-8")


def _features(text: str, name: str) -> list:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RegistryError(
            name, [f"{name}, ligne {exc.lineno} : JSON illisible ({exc.msg})."]
        ) from None
    except (ValueError, RecursionError):  # a 5,000-digit number, [[[[... nested too deep
        raise RegistryError(
            name, [f"{name} : JSON illisible (nombre trop long ou imbrication trop profonde)."]
        ) from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise RegistryError(name, [f"{name} : attendu une FeatureCollection GeoJSON."])
    feats = doc.get("features")
    if not isinstance(feats, list) or not feats:
        raise RegistryError(name, [f"{name} : aucune structure (« features » vide)."])
    if len(feats) > MAX_ROWS:
        raise RegistryError(name, [f"{name} : trop de structures (plus de {MAX_ROWS})."])
    return feats


def _feature_row(feat: object, i: int, name: str, problems: _Problems) -> dict[str, str] | None:
    where = f"{name}, structure n° {i}"
    props = feat.get("properties") if isinstance(feat, dict) else None
    if not isinstance(props, dict):
        problems.add(f"{where} : « properties » manquant.")
        return None
    nested = sorted(str(k) for k, v in props.items() if isinstance(v, list | dict))
    if nested:
        problems.add(
            f"{where} : propriété(s) {nested[:5]!r} en liste ou en objet ; attendu un texte "
            "ou un nombre."
        )
    row = {str(k): "" if v is None else cell_text(v) for k, v in props.items()}
    geom = feat.get("geometry") if isinstance(feat, dict) else None
    if geom is None:
        return row
    kind = geom.get("type") if isinstance(geom, dict) else type(geom).__name__
    if kind != "Point":
        problems.add(f"{where} : géométrie {str(kind)[:40]!r} ; attendu un point (« Point »).")
        return row
    coords = geom.get("coordinates") if isinstance(geom, dict) else None
    if (
        isinstance(coords, list)
        and len(coords) >= 2
        and not any(isinstance(c, list | dict) for c in coords)
    ):
        row["lon"], row["lat"] = str(coords[0]), str(coords[1])
    else:
        problems.add(
            f"{where} : point sans coordonnées [longitude, latitude] ; trouvé {str(coords)[:60]!r}."
        )
    return row


# --- shared checks ---------------------------------------------------------------------------


class _Problems:
    """Problems found while reading: the first ``MAX_PROBLEMS_SHOWN`` kept, the rest counted."""

    def __init__(self) -> None:
        self.shown: list[str] = []
        self.hidden = 0

    def add(self, message: str) -> None:
        if len(self.shown) >= MAX_PROBLEMS_SHOWN:
            self.hidden += 1
        else:
            self.shown.append(message)

    def raise_if_any(self, name: str) -> None:
        if not self.shown:
            return
        listed = list(self.shown)
        if self.hidden:
            listed.append(f"… et {self.hidden} autre(s) problème(s).")
        raise RegistryError(name, listed, total=len(self.shown) + self.hidden)


def _check_width(header: list[str], name: str) -> None:
    if len(header) > MAX_COLUMNS:
        raise RegistryError(
            name, [f"{name}, ligne 1 : trop de colonnes ({len(header)} ; au plus {MAX_COLUMNS})."]
        )


def _header_ok(header: list[str], label: str, check_header: HeaderCheck | None) -> None:
    if check_header is not None:
        problems = check_header(header, label)
        if problems:
            raise RegistryError(label, problems)


def _check_rows(rows: list, name: str) -> None:
    if len(rows) >= MAX_ROWS:
        raise RegistryError(name, [f"{name} : trop de lignes (plus de {MAX_ROWS} structures)."])


def _check_not_empty(rows: list, name: str) -> None:
    if not rows:
        raise RegistryError(name, [f"{name} : aucune structure (le fichier n'a que l'en-tête)."])
