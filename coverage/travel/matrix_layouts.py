"""The two layouts of a commune matrix file, parsed and checked cell by cell.

- **wide** CSV (e.g. an R ``osrm::osrmTable`` or ``/table`` export): a header cell, then one
  INSEE code per destination column; one row per origin, its code then one value per column;
  it must be square, with the same communes in rows and columns, and no row cut short;
- **long** CSV or Parquet: ``origin``, ``destination`` and ``duration`` and/or ``distance``
  (a unit suffix ``_s``, ``_min``, ``_km``, ``_m`` in the column name gives the unit).

Errors are French ``ValidationError`` naming the file, the line and the column.

Every check is linear in the file's size (codes are counted with a ``Counter``), and
``check_size`` bounds a file by the pairs the region can have before any reader builds objects:
at most ``n`` codes a side and ``n²`` long rows for the ``n`` communes of the region (and never
more than ``MAX_MATRIX_COMMUNES``), read from a Parquet file's metadata or counted on a CSV's
raw bytes.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coverage import french
from coverage._errors import ValidationError

_INSEE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
_PARQUET = (".parquet", ".pq")

#: Communes a matrix may have a side, whatever the region: a square array of them is
#: 288 MB of float64 (the largest region, Grand Est, has about 5,100 communes).
MAX_MATRIX_COMMUNES = 6_000
#: Columns a long Parquet matrix may declare (it needs four at most).
MAX_LONG_COLUMNS = 16


def _numbers(cells: pd.DataFrame, *, name: str, rows: list[int], what: object) -> np.ndarray:
    """Cells (strings) as floats; refuse empty, non-numeric and negative cells, naming them."""
    raw = cells.to_numpy(dtype=object)
    try:
        values = raw.astype(float)
    except (TypeError, ValueError):
        values = None
    if values is not None and np.isfinite(values).all() and (values >= 0).all():
        return values
    text = np.array([["" if v is None or v != v else str(v).strip() for v in r] for r in raw])
    values = pd.DataFrame(text).apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    checks = (
        (text == "", "valeur manquante"),
        (np.isnan(values) & (text != ""), "valeur non numérique"),
        (~np.isfinite(values) & ~np.isnan(values), "valeur infinie"),
        (values < 0, "valeur négative"),
    )
    for bad, label in checks:
        if bad.any():
            r, c = np.argwhere(bad)[0]
            place = what(c) if callable(what) else what
            raise ValidationError(
                f"Matrice {name!r}, ligne {rows[r]}, {place} : {label} {str(text[r, c])!r} "
                f"({int(bad.sum())} cellule(s) en tout) ; les durées et distances doivent être "
                "des nombres positifs ou nuls."
            )
    return values


def check_code_format(codes: list[str], *, name: str, where: str) -> None:
    """Refuse codes that cannot be INSEE commune codes (a lost leading zero is named)."""
    bad = [c for c in codes if not _INSEE.match(c)]
    if bad:
        hint = " (zéro initial perdu par un tableur ?)" if any(len(c) == 4 for c in bad) else ""
        raise ValidationError(
            f"Matrice {name!r} : {len(bad)} code(s) INSEE inconnu(s) {where} : {bad[:5]!r}{hint}."
        )


# --------------------------------------------------------------------------------------------
# Layouts
# --------------------------------------------------------------------------------------------


def read_wide(path: Path, *, name: str) -> tuple[tuple[str, ...], np.ndarray]:
    """(codes, values) of a wide CSV, rows reordered to the columns' order."""
    try:
        # ``header=None``: pandas would rename a repeated column code ("38185.1").
        raw = pd.read_csv(
            path, dtype=str, keep_default_na=False, skip_blank_lines=True, header=None
        )
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise ValidationError(f"La matrice {name!r} n'est pas un CSV lisible ({exc}).") from exc
    if raw.empty:
        raise ValidationError(f"La matrice {name!r} est vide (aucune ligne).")
    cols = [str(c).strip() for c in raw.iloc[0, 1:]]
    wide = raw.iloc[1:]
    rows = [str(c).strip() for c in wide.iloc[:, 0]]
    check_code_format(cols, name=name, where="en en-tête")
    check_code_format(rows, name=name, where="en début de ligne")
    _check_square(cols, rows, name=name)
    _check_cut(path, name=name)
    values = _numbers(
        wide.iloc[:, 1:], name=name, rows=list(range(2, len(rows) + 2)), what=_column(cols)
    )
    order = {c: i for i, c in enumerate(rows)}
    return tuple(cols), values[[order[c] for c in cols], :]


def _column(cols: list[str]) -> object:
    return lambda c: f"colonne {cols[c]!r}"


def _repeated(codes: list[str]) -> list[str]:
    """The codes given more than once, sorted (one pass: a ``Counter``)."""
    return sorted(c for c, n in Counter(codes).items() if n > 1)


def _check_square(cols: list[str], rows: list[str], *, name: str) -> None:
    for codes, where in ((cols, "colonnes (en-tête)"), (rows, "lignes")):
        repeated = _repeated(codes)
        if repeated:
            raise ValidationError(
                f"Matrice {name!r} : {len(repeated)} code(s) INSEE répété(s) dans les {where} : "
                f"{repeated[:5]!r} ; chaque commune doit avoir une seule "
                f"{'colonne' if where != 'lignes' else 'ligne'}."
            )
    if len(rows) != len(cols):
        hint = (
            "coupé (lignes manquantes) ou transposé"
            if len(rows) < len(cols)
            else "transposé ou partiel (colonnes manquantes)"
        )
        raise ValidationError(
            f"La matrice {name!r} n'est pas carrée : {len(cols)} colonne(s) de communes mais "
            f"{len(rows)} ligne(s) ; le fichier semble {hint}. Chaque commune doit avoir sa "
            "ligne (origine) et sa colonne (destination)."
        )
    row_set, col_set = set(rows), set(cols)
    if row_set != col_set:
        only_rows = sorted(row_set - col_set)[:5]
        only_cols = sorted(col_set - row_set)[:5]
        raise ValidationError(
            f"La matrice {name!r} n'a pas les mêmes communes en lignes et en colonnes : "
            f"seulement en lignes {only_rows!r}, seulement en colonnes {only_cols!r}."
        )


def _check_cut(path: Path, *, name: str) -> None:
    """Refuse a row that stops early (fewer fields than the header, not merely empty ones)."""
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        counts = [len(row) for row in csv.reader(fh) if row]
    short = [i for i, n in enumerate(counts) if n < counts[0]]
    if short:
        i = short[0]
        raise ValidationError(
            f"Matrice {name!r}, ligne {i + 1} : {counts[i] - 1} valeur(s) au lieu de "
            f"{counts[0] - 1} ; le fichier semble coupé."
        )


_LONG_VALUE = re.compile(r"^(duration|distance)(?:_(s|min|km|m))?$")


def _parquet_file(path: Path) -> Any:
    """``pyarrow.parquet.ParquetFile(path)``: metadata and schema, no row read yet."""
    import pyarrow.parquet as pq  # type: ignore[import-untyped]  # loaded only for Parquet

    return pq.ParquetFile(path)


def _long_frame(path: Path, *, name: str) -> pd.DataFrame:
    try:
        if path.suffix.lower() in _PARQUET:
            names = _parquet_file(path).schema_arrow.names
            wanted = [
                c
                for c in names
                if str(c).strip().lower() in ("origin", "destination")
                or _LONG_VALUE.match(str(c).strip().lower())
            ]
            frame = pd.read_parquet(path, columns=wanted or None)
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OSError) as exc:
        raise ValidationError(f"La matrice {name!r} est illisible ({exc}).") from exc
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    return frame


def is_long(path: Path) -> bool:
    """True when the file is a long matrix (Parquet, or a CSV whose header has ``origin``)."""
    if path.suffix.lower() in _PARQUET:
        return True
    with open(path, encoding="utf-8", errors="replace") as fh:
        header = fh.readline().lower()
    names = [h.strip().strip('"') for h in header.split(",")]
    return "origin" in names and "destination" in names


def _long_columns(frame: pd.DataFrame, *, name: str) -> dict[str, tuple[str, str | None]]:
    """quantity -> (column, unit from its name or None)."""
    missing = [c for c in ("origin", "destination") if c not in frame.columns]
    found: dict[str, tuple[str, str | None]] = {}
    for col in frame.columns:
        m = _LONG_VALUE.match(col)
        if m:
            if m.group(1) in found:
                raise ValidationError(f"Matrice {name!r} : deux colonnes de {m.group(1)!r}.")
            found[m.group(1)] = (col, m.group(2))
    if missing or not found:
        raise ValidationError(
            f"La matrice {name!r} doit avoir les colonnes 'origin', 'destination' et "
            f"'duration' et/ou 'distance' (colonnes lues : {list(frame.columns)[:8]!r})."
        )
    return found


def read_long(
    path: Path, *, name: str
) -> tuple[tuple[str, ...], dict[str, tuple[np.ndarray, str | None]]]:
    """(codes, quantity -> (square values, unit from the column name)) of a long file."""
    frame = _long_frame(path, name=name)
    columns = _long_columns(frame, name=name)
    origin = frame["origin"].astype(str).str.strip().tolist()
    dest = frame["destination"].astype(str).str.strip().tolist()
    check_code_format(sorted(set(origin)), name=name, where="dans 'origin'")
    check_code_format(sorted(set(dest)), name=name, where="dans 'destination'")
    pairs = pd.Series(list(zip(origin, dest, strict=True)))
    if pairs.duplicated().any():
        first = pairs[pairs.duplicated()].iloc[0]
        raise ValidationError(f"Matrice {name!r} : la paire {first!r} est donnée deux fois.")
    codes = tuple(sorted(set(origin) | set(dest)))
    pos = {c: i for i, c in enumerate(codes)}
    oi = np.array([pos[c] for c in origin], dtype=int)
    di = np.array([pos[c] for c in dest], dtype=int)
    first_line = 2 if path.suffix.lower() not in _PARQUET else 1
    lines = list(range(first_line, first_line + len(frame)))
    out: dict[str, tuple[np.ndarray, str | None]] = {}
    for quantity, (col, unit) in columns.items():
        values = _numbers(frame[[col]], name=name, rows=lines, what=f"colonne {col!r}")[:, 0]
        square = np.full((len(codes), len(codes)), np.nan)
        square[oi, di] = values
        out[quantity] = (square, unit)
    return codes, out


# --------------------------------------------------------------------------------------------
# Size, before reading
# --------------------------------------------------------------------------------------------


def side_limit(communes: int | None) -> int:
    """Communes a matrix may have a side: the region's, never more than MAX_MATRIX_COMMUNES."""
    n = MAX_MATRIX_COMMUNES if communes is None else max(0, int(communes))
    return min(n, MAX_MATRIX_COMMUNES)


def _why(communes: int | None) -> str:
    n = side_limit(communes)
    if communes is not None and n == communes:
        return f"les {french.number(n)} communes de la région"
    return f"au plus {french.number(n)} communes par matrice"


def check_size(path: Path, *, name: str, communes: int | None) -> None:
    """Refuse a matrix larger than the region allows, before any reader builds objects.

    ``communes`` is the number of communes of the region (``None``: ``MAX_MATRIX_COMMUNES``).
    A long file has at most one row per pair (``n²``), a wide one ``n`` columns and ``n`` rows.
    A Parquet file is measured from its metadata (rows, columns, row groups), a CSV by counting
    its line ends and its header's fields; both in one pass at most over the raw bytes.
    """
    n = side_limit(communes)
    pairs = n * n
    if path.suffix.lower() in _PARQUET:
        _check_parquet_size(path, name=name, pairs=pairs, why=_why(communes))
        return
    lines = _count_lines(path)
    if is_long(path):
        if lines - 1 > pairs:
            raise ValidationError(
                f"La matrice {name!r} a {french.number(lines - 1)} lignes : au plus "
                f"{french.number(pairs)} (une ligne par paire de communes, pour "
                f"{_why(communes)}) ; le fichier est refusé sans être lu."
            )
        return
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        header = next(csv.reader(fh), [])
    side = max(len(header) - 1, lines - 1)
    if side > n:
        what = "colonnes" if len(header) - 1 >= lines - 1 else "lignes"
        raise ValidationError(
            f"La matrice {name!r} a {french.number(side)} {what} de communes : au plus "
            f"{french.number(n)} ({_why(communes)}) ; le fichier est refusé sans être lu."
        )


def _count_lines(path: Path) -> int:
    """Lines of a text file (a last line without its line end counts), read in 1 MiB chunks."""
    count, last = 0, b"\n"
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def _check_parquet_size(path: Path, *, name: str, pairs: int, why: str) -> None:
    try:
        meta = _parquet_file(path).metadata
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise ValidationError(f"La matrice {name!r} est illisible ({exc}).") from exc
    if meta.num_columns > MAX_LONG_COLUMNS:
        raise ValidationError(
            f"La matrice {name!r} déclare {french.number(meta.num_columns)} colonnes : au plus "
            f"{MAX_LONG_COLUMNS} (origin, destination, duration, distance) ; le fichier est "
            "refusé sans être lu."
        )
    if meta.num_rows > pairs or meta.num_row_groups > max(pairs, 1):
        raise ValidationError(
            f"La matrice {name!r} annonce {french.number(meta.num_rows)} lignes en "
            f"{french.number(meta.num_row_groups)} groupe(s) : au plus {french.number(pairs)} "
            f"(une ligne par paire de communes, pour {why}) ; le fichier est refusé sans "
            "être lu."
        )
