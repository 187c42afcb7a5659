"""Exports of the per-commune table: CSV for spreadsheets, GeoPackage for GIS software.

CSV format (chosen for French spreadsheets, documented in the README):

- UTF-8 with a byte-order mark, so Excel reads accents right when the file is double-clicked;
- ``;`` between fields and ``,`` as the decimal mark (the French Excel defaults: with ``,``
  between fields and ``.`` decimals, Excel FR reads ``12.5`` as a date or text);
  ``pandas.read_csv(path, sep=";", decimal=",", encoding="utf-8-sig")`` reads it back;
- CRLF line ends, fields quoted only when needed (RFC 4180);
- spreadsheet formula injection neutralised: every cell that begins with ``=``, ``+``, ``-``,
  ``@``, a tab or a carriage return gets a leading ``'`` (OWASP "CSV injection"), unless it
  is a plain number such as ``-3,5`` that the tool wrote itself (``coverage._csv``: the same
  rule for every CSV the tool writes, the canonical registry included).

GeoPackage: layer ``communes`` (commune polygons, EPSG:4326, with the same columns as the CSV
plus the origin point's ``lon``/``lat``) and layer ``structures`` (points of the located
structures). Every file is written atomically; file and layer names never come from data
(``EXPORT_NAMES`` gives the fixed names used when exporting to a folder).
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio.errors

from coverage import settings
from coverage._atomic import atomic_path, write_bytes
from coverage._csv import neutralise_cell
from coverage._errors import ValidationError

if TYPE_CHECKING:
    from coverage.analysis.analyse import Analysis
    from coverage.data.region import Region

#: Fixed file names used by :func:`export_folder`.
EXPORT_NAMES: dict[str, str] = {"csv": "communes.csv", "gpkg": "communes.gpkg"}
#: Fixed layer names of the GeoPackage.
GPKG_LAYERS: tuple[str, str] = ("communes", "structures")
CSV_SEPARATOR = ";"
CSV_DECIMAL = ","

#: Files SQLite may create beside a GeoPackage being written.
_SQLITE_COMPANIONS: tuple[str, ...] = ("-journal", "-wal", "-shm")

#: Per-commune columns exported: (source column, French header, decimals or None for text).
#: With a demand file, ``population`` is the weight used and ``habitants`` the population;
#: ``territoire`` appears when a territory file is loaded.
COMMUNE_EXPORT: tuple[tuple[str, str, int | None], ...] = (
    ("insee", "code_insee", None),
    ("name", "commune", None),
    ("dep", "departement", None),
    ("epci_code", "code_epci", None),
    ("epci_name", "epci", None),
    ("population", "population", 0),
    ("inhabitants", "habitants", 0),
    ("nearest_id", "structure_tous_publics_id", None),
    ("nearest_name", "structure_tous_publics", None),
    ("distance_km", "distance_km", 2),
    ("duration_min", "duree_min", 1),
    ("beyond", "au_dela_du_seuil", None),
    ("aja_zone_device", "dispositif_aja_de_la_zone", None),
    ("aja_zone_km", "distance_dispositif_aja_km", 2),
    ("aja_zone_min", "duree_dispositif_aja_min", 1),
    ("aja_nearest_id", "dispositif_aja_le_plus_proche", None),
    ("aja_distance_km", "distance_aja_le_plus_proche_km", 2),
    ("e2sfca", "accessibilite_e2sfca", 3),
    ("territory_id", "territoire", None),
    ("point_source", "origine_du_point", None),
    ("lon", "longitude_origine", 6),
    ("lat", "latitude_origine", 6),
)


def _format(value: Any, decimals: int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "oui" if value else "non"
    if decimals is not None:
        try:
            number = float(value)
        except (TypeError, ValueError):
            return neutralise_cell(str(value))
        if not math.isfinite(number):
            return ""
        return f"{number:.{decimals}f}".replace(".", CSV_DECIMAL)
    if isinstance(value, float) and math.isnan(value):
        return ""
    return neutralise_cell(str(value))


def commune_table(analysis: Analysis) -> pd.DataFrame:
    """The per-commune table with the exported columns, French headers, raw values."""
    table = analysis.communes
    cols = [(src, dst) for src, dst, _ in COMMUNE_EXPORT if src in table.columns]
    out = table[[src for src, _ in cols]].copy()
    out.columns = [dst for _, dst in cols]
    return out


def to_csv_bytes(frame: pd.DataFrame, *, decimals: dict[str, int | None] | None = None) -> bytes:
    """``frame`` as the documented CSV (BOM, ``;``, decimal comma, CRLF, cells neutralised).

    Parameters
    ----------
    frame
        Any table; its headers are written as they are (neutralised too).
    decimals
        Decimals per column (``None``: text). Float columns not listed get 6 decimals,
        integer columns 0.
    """
    decimals = dict(decimals or {})
    buf = io.StringIO()
    writer = csv.writer(
        buf, delimiter=CSV_SEPARATOR, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL
    )
    writer.writerow([neutralise_cell(str(c)) for c in frame.columns])
    specs = []
    for col in frame.columns:
        if col in decimals:
            specs.append(decimals[col])
        elif pd.api.types.is_bool_dtype(frame[col]):
            specs.append(None)
        elif pd.api.types.is_integer_dtype(frame[col]):
            specs.append(0)
        elif pd.api.types.is_float_dtype(frame[col]):
            specs.append(6)
        else:
            specs.append(None)
    columns = [frame[c].to_numpy(dtype=object) for c in frame.columns]
    for i in range(len(frame)):
        writer.writerow([_format(col[i], spec) for col, spec in zip(columns, specs, strict=True)])
    return "\ufeff".encode() + buf.getvalue().encode("utf-8")


def write_csv(analysis: Analysis, path: str | os.PathLike[str]) -> Path:
    """Write the per-commune table as CSV (see the module docstring) atomically."""
    table = commune_table(analysis)
    decimals = {dst: d for _, dst, d in COMMUNE_EXPORT}
    return write_bytes(_checked(path, ".csv"), to_csv_bytes(table, decimals=decimals))


def write_gpkg(analysis: Analysis, path: str | os.PathLike[str], *, region: Region) -> Path:
    """Write the GeoPackage (layers ``communes`` and ``structures``) atomically."""
    target = _checked(path, ".gpkg")
    table = commune_table(analysis)
    polygons = region.polygons()
    geom = polygons.set_index("insee").geometry.reindex(analysis.communes["insee"])
    communes = gpd.GeoDataFrame(
        table.reset_index(drop=True), geometry=geom.to_numpy(), crs=settings.WGS84
    )
    s = analysis.structures
    structures = gpd.GeoDataFrame(
        s[["id", "name", "kind", "commune_insee", "commune_name", "dep"]].reset_index(drop=True),
        geometry=gpd.points_from_xy(s["lon"], s["lat"]),
        crs=settings.WGS84,
    )
    with atomic_path(target) as tmp:
        # GDAL picks the format from the extension: write beside, then move onto ``tmp``.
        # A kill here leaves ``work`` and its SQLite journal: the next write sweeps them
        # (``_atomic.TMP_SUFFIXES``).
        work = tmp.with_name(tmp.name + ".gpkg")
        try:
            _to_gpkg(communes, work, layer=GPKG_LAYERS[0], shown=path)
            _to_gpkg(structures, work, layer=GPKG_LAYERS[1], shown=path, append=True)
            os.replace(work, tmp)
        finally:
            for leftover in (work, *(Path(f"{work}{end}") for end in _SQLITE_COMPANIONS)):
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()
    return target


def _to_gpkg(
    frame: gpd.GeoDataFrame,
    work: Path,
    *,
    layer: str,
    shown: str | os.PathLike[str],
    append: bool = False,
) -> None:
    """Write one layer; GDAL's failure (full disk, read-only folder) in French."""
    try:
        frame.to_file(work, driver="GPKG", layer=layer, mode="a" if append else "w")
    except (OSError, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise ValidationError(
            f"Impossible d'écrire le GeoPackage {os.fspath(shown)!r} : {_gdal_reason(exc)}."
        ) from exc


def _gdal_reason(exc: Exception) -> str:
    text = str(exc).lower()
    if "no space" in text or "disk is full" in text or "disk full" in text or "i/o" in text:
        return "le disque est plein ou en erreur"
    if "read-only" in text or "readonly" in text or "permission" in text:
        return "le dossier est en lecture seule ou protégé"
    return f"erreur de GDAL ({str(exc)[:200]})"


def export_folder(analysis: Analysis, folder: str | os.PathLike[str], *, region: Region) -> dict:
    """Write both exports into ``folder`` under the fixed ``EXPORT_NAMES``."""
    folder = Path(folder)
    return {
        "csv": write_csv(analysis, folder / EXPORT_NAMES["csv"]),
        "gpkg": write_gpkg(analysis, folder / EXPORT_NAMES["gpkg"], region=region),
    }


def _checked(path: str | os.PathLike[str], suffix: str) -> Path:
    p = Path(path)
    if p.suffix.lower() != suffix:
        raise ValidationError(
            f"Le fichier d'export doit se terminer par « {suffix} » ; reçu {str(p)!r}."
        )
    if p.is_dir():
        raise ValidationError(f"{str(p)!r} est un dossier, pas un fichier.")
    return p
