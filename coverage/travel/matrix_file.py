"""Reading a commune-to-commune matrix file (wide or long), its units, and refusing bad ones.

Two layouts are read:

- **wide** CSV (e.g. an R ``osrm::osrmTable`` or ``/table`` export): a header cell, then one
  INSEE code per destination column; one row per origin, its code then one value per column;
- **long** CSV or Parquet: ``origin``, ``destination`` and ``duration`` and/or ``distance``
  (a unit suffix ``_s``, ``_min``, ``_km``, ``_m`` in the column name gives the unit).

Units are declared (``unit="s"``, ``"min"``, ``"km"``, ``"m"``, or ``"s,km"`` for a long file
with both) or read from the column names. A wide file has no unit in its names: without a
declared unit the unit is inferred from the speeds it implies against the communes' straight
lines, only when exactly one unit is plausible, and said in a ``MatrixUnitWarning``. A declared
unit is checked the same way, so seconds read as minutes are refused. Errors are French
``ValidationError`` naming the file, the line and the column. Parsed matrices are cached on
disk, keyed by the file's sha256 and the declared unit.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import warnings
from collections.abc import Collection
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from coverage import settings
from coverage._atomic import atomic_path
from coverage._errors import CoverageWarning, DataSourceError, ValidationError
from coverage._geodesy import geodesic_km

#: Bump when the cached arrays change meaning.
CACHE_SCHEMA = 1
#: Multiplier from each unit to the table's unit (minutes, kilometres), by quantity.
UNITS: dict[str, tuple[str, float]] = {
    "s": ("duration", 1 / 60),
    "min": ("duration", 1.0),
    "km": ("distance", 1.0),
    "m": ("distance", 1 / 1000),
}
#: Plausible medians of value / straight-line km, per unit (15 to 120 km/h; circuity 0.9-3).
PLAUSIBLE: dict[str, tuple[float, float]] = {
    "s": (30.0, 240.0),
    "min": (0.5, 4.0),
    "km": (0.9, 3.0),
    "m": (900.0, 3000.0),
}
#: French name of each unit, for messages.
UNIT_NAMES: dict[str, str] = {
    "s": "secondes",
    "min": "minutes",
    "km": "kilomètres",
    "m": "mètres",
}
#: Pairs farther apart than this (km) are used to check units.
_CHECK_KM = 2.0
_INSEE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
_UNIT_HINT = "--matrix-unit s ou min (durées), km ou m (distances)"


class MatrixUnitWarning(CoverageWarning):
    """The unit of a matrix was not declared and was inferred from the speeds it implies."""


@dataclass(frozen=True, eq=False)
class CommuneMatrix:
    """A validated commune x commune matrix: origin rows, destination columns, same codes.

    ``duration_min`` and ``distance_km`` are NaN for pairs the file does not give (long
    files). ``unit`` is what the file's values were in (``"s"``, ``"s,km"``...) and
    ``unit_source`` how it was known: ``"déclarée"``, ``"nom de colonne"`` or ``"déduite"``.
    """

    path: str
    sha256: str
    layout: str
    codes: tuple[str, ...]
    duration_min: np.ndarray | None
    distance_km: np.ndarray | None
    unit: str
    unit_source: str

    @cached_property
    def index(self) -> dict[str, int]:
        """Position of each INSEE code in the rows and columns."""
        return {c: i for i, c in enumerate(self.codes)}

    @property
    def name(self) -> str:
        """The file's name."""
        return Path(self.path).name

    def to_dict(self) -> dict[str, object]:
        """Provenance of the matrix, for JSON."""
        return {
            "file": self.name,
            "sha256": self.sha256,
            "layout": self.layout,
            "communes": len(self.codes),
            "unit": self.unit,
            "unit_source": self.unit_source,
            "has_duration": self.duration_min is not None,
            "has_distance": self.distance_km is not None,
        }


# --------------------------------------------------------------------------------------------
# Units
# --------------------------------------------------------------------------------------------


def parse_units(unit: str | None) -> dict[str, str]:
    """``"s,km"`` -> ``{"duration": "s", "distance": "km"}``; ``None`` -> ``{}``."""
    out: dict[str, str] = {}
    for part in (unit or "").replace(" ", "").split(","):
        if not part:
            continue
        if part not in UNITS:
            raise ValidationError(f"Unité de matrice inconnue {part!r} : choisissez {_UNIT_HINT}.")
        quantity = UNITS[part][0]
        if quantity in out:
            raise ValidationError(
                f"Deux unités de {'durée' if quantity == 'duration' else 'distance'} "
                f"déclarées ({out[quantity]!r} et {part!r}) : gardez-en une."
            )
        out[quantity] = part
    return out


def straight_km(codes: tuple[str, ...], points: pd.DataFrame | None) -> np.ndarray | None:
    """Straight-line km between the communes' points (``insee``, ``lon``, ``lat``); NaN if
    a commune has no point; ``None`` without points."""
    if points is None:
        return None
    where = pd.DataFrame(points).drop_duplicates("insee").set_index("insee")
    pts = where.reindex(list(codes))
    lon = pts["lon"].to_numpy(dtype=float)
    lat = pts["lat"].to_numpy(dtype=float)
    return geodesic_km(lon[:, None], lat[:, None], lon[None, :], lat[None, :])


def _ratio(values: np.ndarray, km: np.ndarray) -> float:
    keep = np.isfinite(values) & np.isfinite(km) & (km >= _CHECK_KM)
    return float(np.median(values[keep] / km[keep])) if keep.any() else float("nan")


def _implied(unit: str, ratio: float) -> str:
    if UNITS[unit][0] == "duration":
        speed = 60.0 / (ratio * UNITS[unit][1])
        return f"une vitesse médiane à vol d'oiseau de {speed:.1f} km/h".replace(".", ",")
    factor = ratio * UNITS[unit][1]
    return f"un détour médian de {factor:.2f} fois la ligne droite".replace(".", ",")


def settle_unit(
    values: np.ndarray, km: np.ndarray | None, *, declared: str | None, quantities: tuple, name: str
) -> tuple[str, str]:
    """(unit, source) of one matrix of values, checked against the straight lines ``km``.

    ``quantities`` are the quantities the values may be (``("duration", "distance")`` for a
    wide file, one of them for a long file's column).
    """
    ratio = _ratio(values, km) if km is not None else float("nan")
    if declared is not None:
        lo, hi = PLAUSIBLE[declared]
        if np.isfinite(ratio) and not lo <= ratio <= hi:
            raise ValidationError(
                f"La matrice {name!r} ne semble pas être en {UNIT_NAMES[declared]} : lue "
                f"ainsi, elle donne {_implied(declared, ratio)} ; vérifiez l'unité "
                f"({_UNIT_HINT})."
            )
        return declared, "déclarée"
    fits = [
        u
        for u, (lo, hi) in PLAUSIBLE.items()
        if UNITS[u][0] in quantities and np.isfinite(ratio) and lo <= ratio <= hi
    ]
    if len(fits) != 1:
        raise ValidationError(
            f"L'unité des valeurs de la matrice {name!r} n'est pas indiquée et ne peut pas être "
            f"déduite sans ambiguïté : précisez-la avec {_UNIT_HINT}."
        )
    warnings.warn(
        MatrixUnitWarning(
            f"Unité de la matrice {name!r} non indiquée : valeurs lues en "
            f"{UNIT_NAMES[fits[0]]}, la seule unité plausible ({_implied(fits[0], ratio)}) ; "
            f"précisez-la avec {_UNIT_HINT}."
        ),
        stacklevel=3,
    )
    return fits[0], "déduite"


# --------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------


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


def _read_wide(path: Path, *, name: str) -> tuple[tuple[str, ...], np.ndarray]:
    """(codes, values) of a wide CSV, rows reordered to the columns' order."""
    try:
        wide = pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=True)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise ValidationError(f"La matrice {name!r} n'est pas un CSV lisible ({exc}).") from exc
    cols = [str(c).strip() for c in wide.columns[1:]]
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
    return sorted({c for c in codes if codes.count(c) > 1}) if len(set(codes)) < len(codes) else []


def _check_square(cols: list[str], rows: list[str], *, name: str) -> None:
    for codes, where in ((cols, "colonnes"), (rows, "lignes")):
        if _repeated(codes):
            raise ValidationError(
                f"Matrice {name!r} : code(s) répété(s) dans les {where} : {_repeated(codes)[:5]!r}."
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
    if set(rows) != set(cols):
        only_rows = sorted(set(rows) - set(cols))[:5]
        only_cols = sorted(set(cols) - set(rows))[:5]
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


def _long_frame(path: Path, *, name: str) -> pd.DataFrame:
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OSError) as exc:
        raise ValidationError(f"La matrice {name!r} est illisible ({exc}).") from exc
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    return frame


def is_long(path: Path) -> bool:
    """True when the file is a long matrix (Parquet, or a CSV whose header has ``origin``)."""
    if path.suffix.lower() in (".parquet", ".pq"):
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


def _read_long(
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
    first_line = 2 if path.suffix.lower() not in (".parquet", ".pq") else 1
    lines = list(range(first_line, first_line + len(frame)))
    out: dict[str, tuple[np.ndarray, str | None]] = {}
    for quantity, (col, unit) in columns.items():
        values = _numbers(frame[[col]], name=name, rows=lines, what=f"colonne {col!r}")[:, 0]
        square = np.full((len(codes), len(codes)), np.nan)
        square[oi, di] = values
        out[quantity] = (square, unit)
    return codes, out


# --------------------------------------------------------------------------------------------
# Reading, with the cache
# --------------------------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _cache_path(sha: str, unit: str | None) -> Path:
    key = hashlib.sha256(f"schema {CACHE_SCHEMA};{sha};{unit or ''}".encode()).hexdigest()
    return settings.cache_dir() / "matrices" / f"{key[:24]}.npz"


def _from_cache(path: Path, file: Path, sha: str) -> CommuneMatrix | None:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            dur = z["duration_min"] if meta["has_duration"] else None
            dist = z["distance_km"] if meta["has_distance"] else None
            codes = tuple(str(c) for c in z["codes"])
    except (OSError, ValueError, KeyError):
        return None  # a damaged cache is rebuilt
    return CommuneMatrix(
        path=str(file),
        sha256=sha,
        layout=meta["layout"],
        codes=codes,
        duration_min=dur,
        distance_km=dist,
        unit=meta["unit"],
        unit_source=meta["unit_source"],
    )


def _to_cache(path: Path, m: CommuneMatrix) -> None:
    meta = {
        "layout": m.layout,
        "unit": m.unit,
        "unit_source": m.unit_source,
        "has_duration": m.duration_min is not None,
        "has_distance": m.distance_km is not None,
    }
    empty = np.empty((0, 0))
    try:
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez(
                fh,
                meta=np.array(json.dumps(meta)),
                codes=np.array(m.codes, dtype=str),
                duration_min=m.duration_min if m.duration_min is not None else empty,
                distance_km=m.distance_km if m.distance_km is not None else empty,
            )
    except DataSourceError:
        pass  # an unwritable cache only costs the next read


def _parse(file: Path, *, sha: str, unit: str | None, points: pd.DataFrame | None) -> CommuneMatrix:
    name = file.name
    declared = parse_units(unit)
    if is_long(file):
        codes, found = _read_long(file, name=name)
        layout = "long"
    else:
        codes, values = _read_wide(file, name=name)
        if len(declared) > 1:
            raise ValidationError(
                f"La matrice {name!r} n'a qu'une valeur par paire : déclarez une seule unité."
            )
        quantity = UNITS[next(iter(declared.values()))][0] if declared else None
        found = {quantity or "?": (values, None)}
        layout = "wide"
    return _settle(file, sha, layout, codes, found, declared, points)


def _settle(
    file: Path,
    sha: str,
    layout: str,
    codes: tuple[str, ...],
    found: dict[str, tuple[np.ndarray, str | None]],
    declared: dict[str, str],
    points: pd.DataFrame | None,
) -> CommuneMatrix:
    """Fix each quantity's unit and scale it to minutes / kilometres."""
    km = straight_km(codes, points)
    scaled: dict[str, np.ndarray] = {}
    units, sources = [], []
    for quantity, (values, named) in found.items():
        own = declared.get(quantity) if quantity != "?" else next(iter(declared.values()), None)
        if named is not None and own is not None and own != named:
            raise ValidationError(
                f"Matrice {file.name!r} : l'unité déclarée {own!r} contredit le nom de la "
                f"colonne ({quantity}_{named})."
            )
        if named is not None:
            unit, source = settle_unit(
                values, km, declared=named, quantities=(quantity,), name=file.name
            )
            source = "nom de colonne"
        else:
            kinds = ("duration", "distance") if quantity == "?" else (quantity,)
            unit, source = settle_unit(values, km, declared=own, quantities=kinds, name=file.name)
        scaled[UNITS[unit][0]] = values * UNITS[unit][1]
        units.append(unit)
        sources.append(source)
    return CommuneMatrix(
        path=str(file),
        sha256=sha,
        layout=layout,
        codes=codes,
        duration_min=scaled.get("duration"),
        distance_km=scaled.get("distance"),
        unit=",".join(units),
        unit_source=",".join(sorted(set(sources))),
    )


def read_matrix(
    path: str | os.PathLike[str],
    *,
    unit: str | None = None,
    points: pd.DataFrame | None = None,
    cache: bool = True,
) -> CommuneMatrix:
    """Read and validate a commune matrix file (values only; codes: ``check_region``).

    Parameters
    ----------
    path
        Wide CSV, long CSV or Parquet.
    unit
        ``"s"``, ``"min"``, ``"km"``, ``"m"`` or two of them (``"s,km"``); default: from the
        column names, else inferred from ``points`` and warned.
    points
        Communes' points (``insee``, ``lon``, ``lat``) to check (or infer) the unit.
    cache
        Keep the parsed matrix under ``settings.cache_dir() / "matrices"``.
    """
    file = Path(path).expanduser()
    if not file.is_file():
        raise ValidationError(f"La matrice {str(file)!r} est introuvable.")
    sha = sha256_of(file)
    where = _cache_path(sha, unit)
    found = _from_cache(where, file, sha) if cache else None
    if found is not None:
        if "déduite" in found.unit_source:
            warnings.warn(
                MatrixUnitWarning(
                    f"Unité de la matrice {file.name!r} non indiquée : valeurs lues en "
                    f"{UNIT_NAMES.get(found.unit, found.unit)} ; précisez-la avec {_UNIT_HINT}."
                ),
                stacklevel=2,
            )
        return found
    matrix = _parse(file, sha=sha, unit=unit, points=points)
    if cache:
        _to_cache(where, matrix)
    return matrix


def check_region(
    matrix: CommuneMatrix,
    *,
    region_codes: Collection[str],
    known_codes: Collection[str] | None = None,
) -> None:
    """Refuse codes that are not communes (``known_codes``) or lie outside the region."""
    region = set(region_codes)
    if known_codes is not None:
        known = set(known_codes)
        unknown = [c for c in matrix.codes if c not in known and c not in region]
        if unknown:
            raise ValidationError(
                f"Matrice {matrix.name!r} : {len(unknown)} code(s) INSEE inconnu(s) (aucune "
                f"commune de France) : {unknown[:5]!r}."
            )
    outside = [c for c in matrix.codes if c not in region]
    if outside:
        raise ValidationError(
            f"Matrice {matrix.name!r} : {len(outside)} commune(s) hors de la région "
            f"Auvergne-Rhône-Alpes : {outside[:5]!r} ; gardez seulement les communes de la "
            "région."
        )
