"""Reading a commune-to-commune matrix file: layout, units, validation, and the on-disk cache.

``read_matrix`` reads a wide or long file (``matrix_layouts``), settles each quantity's unit
(``matrix_units``: declared, named by its column, or inferred from the speeds it implies and
warned) and scales durations to minutes and distances to kilometres. Parsed matrices are cached
on disk, keyed by the file's sha256 and the declared unit; a cache that cannot be written is
warned about and skipped (``_atomic.cache_write``). A file larger than the region allows is
refused before it is read (``matrix_layouts.check_size``). ``check_region`` refuses codes that
are no commune, or a commune outside the region, naming the region in use.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Collection
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from coverage import settings
from coverage._atomic import atomic_open, cache_write
from coverage._errors import ValidationError
from coverage.geography import RegionSpec
from coverage.travel.matrix_layouts import check_size, is_long, read_long, read_wide
from coverage.travel.matrix_units import (
    UNIT_HINT,
    UNIT_NAMES,
    UNITS,
    MatrixUnitWarning,
    parse_units,
    settle_unit,
    straight_km,
)

__all__ = ["UNITS", "CommuneMatrix", "MatrixUnitWarning", "check_region", "read_matrix"]

#: Bump when the cached arrays change meaning.
CACHE_SCHEMA = 1


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
    with cache_write(what=f"de la matrice {m.name!r}"), atomic_open(path, "wb") as fh:
        np.savez(
            fh,
            meta=np.array(json.dumps(meta)),
            codes=np.array(m.codes, dtype=str),
            duration_min=m.duration_min if m.duration_min is not None else empty,
            distance_km=m.distance_km if m.distance_km is not None else empty,
        )


def _parse(
    file: Path,
    *,
    sha: str,
    unit: str | None,
    points: pd.DataFrame | None,
    communes: int | None = None,
) -> CommuneMatrix:
    name = file.name
    declared = parse_units(unit)
    check_size(file, name=name, communes=communes)
    if is_long(file):
        codes, found = read_long(file, name=name)
        layout = "long"
    else:
        codes, values = read_wide(file, name=name)
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
    communes: int | None = None,
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
    communes
        Number of communes of the region: a larger file (more than ``n`` codes a side, more
        than ``n²`` long rows) is refused before it is read; default ``len(points)`` when
        points are given, else ``matrix_layouts.MAX_MATRIX_COMMUNES``.
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
                    f"{UNIT_NAMES.get(found.unit, found.unit)} ; précisez-la avec {UNIT_HINT}."
                ),
                stacklevel=2,
            )
        return found
    if communes is None and points is not None:
        communes = int(pd.DataFrame(points)["insee"].nunique())
    matrix = _parse(file, sha=sha, unit=unit, points=points, communes=communes)
    if cache:
        _to_cache(where, matrix)
    return matrix


def check_region(
    matrix: CommuneMatrix,
    *,
    region_codes: Collection[str],
    known_codes: Collection[str] | None = None,
    region: RegionSpec | None = None,
) -> None:
    """Refuse codes that are not communes (``known_codes``) or lie outside the region.

    ``region`` names the region in the message ("hors de Bretagne"); without it the message
    says "hors de la région servie".
    """
    codes = set(region_codes)
    if known_codes is not None:
        known = set(known_codes)
        unknown = [c for c in matrix.codes if c not in known and c not in codes]
        if unknown:
            raise ValidationError(
                f"Matrice {matrix.name!r} : {len(unknown)} code(s) INSEE inconnu(s) (aucune "
                f"commune de France) : {unknown[:5]!r}."
            )
    outside = [c for c in matrix.codes if c not in codes]
    if outside:
        where, keep = (
            (f"{region.out_name} (la région servie)", f"les communes {region.of_name}")
            if region is not None
            else ("hors de la région servie", "les communes de la région")
        )
        raise ValidationError(
            f"Matrice {matrix.name!r} : {len(outside)} commune(s) {where} : {outside[:5]!r} ; "
            f"gardez seulement {keep}."
        )
