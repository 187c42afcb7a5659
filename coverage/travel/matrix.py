"""Matrix travel model: road times (and distances) read from a commune-to-commune matrix.

``MatrixModel`` implements ``travel.TravelModel``. Each point is given its commune (a
commune's own point exactly, else the commune whose polygon holds it), and a pair's time is the
matrix cell of the two communes: a structure uses its commune's column, and the gap from its
own point to its commune's point is stated in the table (``destination_gap_km``; the same for
origins). Distances come from the matrix when it has them, else they are straight lines
(``distance_source``). A matrix may cover part of the region (one département): pairs it
does not cover are NaN, or measured by a ``fallback`` model, and every row says which model
measured it (``model`` column). ``MatrixCoverage`` counts and names the communes left out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import shapely

from coverage._errors import ArgumentError
from coverage._geodesy import geodesic_km
from coverage.geography import RegionSpec, all_regions, france_spec
from coverage.travel.base import TABLE_COLUMNS, TravelModel, check_points, cross_index
from coverage.travel.matrix_file import CommuneMatrix, check_region, read_matrix

__all__ = ["GAP_COLUMNS", "MatrixCoverage", "MatrixModel", "commune_points"]

#: Extra columns of a matrix table: each point's commune and its distance to that commune's
#: point (km, straight line).
GAP_COLUMNS: tuple[str, ...] = (
    "origin_insee",
    "destination_insee",
    "origin_gap_km",
    "destination_gap_km",
)
#: Columns of the communes frame the model needs.
COMMUNE_COLUMNS: tuple[str, ...] = ("insee", "name", "dep", "lon", "lat")


@dataclass(frozen=True)
class MatrixCoverage:
    """Which communes of the region the matrix covers.

    ``uncovered`` lists ``(insee, name, dep)`` of every region commune the matrix lacks;
    ``by_departement`` maps a département to ``(covered, communes)``.
    """

    matrix_communes: int
    region_communes: int
    covered: int
    uncovered: tuple[tuple[str, str, str], ...]
    by_departement: dict[str, tuple[int, int]]

    @property
    def n_uncovered(self) -> int:
        """Communes of the region outside the matrix."""
        return len(self.uncovered)

    @property
    def complete(self) -> bool:
        """True when the matrix covers every commune of the region."""
        return not self.uncovered

    def to_dict(self) -> dict[str, Any]:
        return {
            "matrix_communes": self.matrix_communes,
            "region_communes": self.region_communes,
            "covered": self.covered,
            "n_uncovered": self.n_uncovered,
            "uncovered": [{"insee": i, "name": n, "dep": d} for i, n, d in self.uncovered],
            "by_departement": {
                d: {"covered": c, "communes": n} for d, (c, n) in self.by_departement.items()
            },
        }


def commune_points(communes: pd.DataFrame) -> pd.DataFrame:
    """The ``COMMUNE_COLUMNS`` of a communes frame (e.g. ``load_region(region=...).communes``)."""
    missing = [c for c in COMMUNE_COLUMNS if c not in communes.columns]
    if missing:
        raise ArgumentError(f"`communes` must have columns {COMMUNE_COLUMNS}; missing {missing!r}.")
    return pd.DataFrame(communes[list(COMMUNE_COLUMNS)]).reset_index(drop=True)


def region_of(communes: pd.DataFrame) -> RegionSpec | None:
    """The region whose départements are exactly those of ``communes`` (France for all of
    them), to name it in messages; ``None`` for any other set of communes."""
    deps = set(communes["dep"].astype(str))
    france = france_spec()
    for spec in (*all_regions(), france):
        if set(spec.departements) == deps:
            return spec
    return None


def _coord_keys(lon: np.ndarray, lat: np.ndarray) -> list[tuple[float, float]]:
    return list(zip(np.round(lon, 7).tolist(), np.round(lat, 7).tolist(), strict=True))


def _repeated_codes(codes: np.ndarray, index: np.ndarray) -> pd.Categorical:
    """``codes[index]`` as a categorical (one string per point, not per pair)."""
    cats, inverse = np.unique(codes.astype(str), return_inverse=True)
    pair_codes = np.asarray(inverse, dtype=np.int64)[index]
    return pd.Categorical.from_codes(pair_codes, categories=pd.Index(cats.tolist()))


class MatrixModel:
    """Road travel from a commune-to-commune matrix (see the module's docstring).

    Parameters
    ----------
    matrix
        A validated ``CommuneMatrix`` (``read_matrix``).
    communes
        The region's communes (``insee``, ``name``, ``dep``, ``lon``, ``lat``); the matrix's
        codes must all be among them.
    polygons
        The communes' polygons (``insee``, ``geometry``, WGS84) to place points that are not a
        commune's own point; without them such points are not covered.
    fallback
        Model measuring the pairs the matrix does not cover; ``None`` leaves them NaN.
    region
        The region served, named in messages; default: the region whose départements are
        those of ``communes`` (``region_of``).
    """

    name: ClassVar[str] = "matrix"

    def __init__(
        self,
        matrix: CommuneMatrix,
        *,
        communes: pd.DataFrame,
        polygons: pd.DataFrame | None = None,
        fallback: TravelModel | None = None,
        region: RegionSpec | None = None,
    ) -> None:
        self.matrix = matrix
        self.communes = commune_points(communes)
        self.region = region if region is not None else region_of(self.communes)
        check_region(matrix, region_codes=set(self.communes["insee"]), region=self.region)
        self.polygons = polygons
        self.fallback = fallback

    @classmethod
    def from_file(
        cls,
        path: str | os.PathLike[str],
        *,
        communes: pd.DataFrame,
        polygons: pd.DataFrame | None = None,
        known_codes: set[str] | None = None,
        unit: str | None = None,
        fallback: TravelModel | None = None,
        cache: bool = True,
        region: RegionSpec | None = None,
    ) -> MatrixModel:
        """Read ``path`` (``read_matrix``: no larger than the region's communes allow), check
        its codes, and build the model."""
        points = commune_points(communes)
        region = region if region is not None else region_of(points)
        matrix = read_matrix(
            path, unit=unit, points=points, cache=cache, communes=int(points["insee"].nunique())
        )
        check_region(
            matrix, region_codes=set(points["insee"]), known_codes=known_codes, region=region
        )
        return cls(matrix, communes=points, polygons=polygons, fallback=fallback, region=region)

    @property
    def label_fr(self) -> str:
        """French label shown next to every number."""
        straight = "" if self.matrix.distance_km is not None else " ; km à vol d'oiseau"
        return f"par la route (distancier {self.matrix.name}{straight})"

    @property
    def has_time(self) -> bool:
        """True when the matrix gives durations."""
        return self.matrix.duration_min is not None

    @property
    def distance_source(self) -> str:
        """``"matrix"`` when distances are the matrix's, ``"geodesic"`` (straight lines)."""
        return "matrix" if self.matrix.distance_km is not None else "geodesic"

    def __repr__(self) -> str:
        fallback = self.fallback.name if self.fallback is not None else None
        return f"MatrixModel({self.matrix.sha256[:16]}, fallback={fallback!r})"

    @cached_property
    def _by_point(self) -> dict[tuple[float, float], int]:
        """Row of the commune at each commune point; a point two communes share goes to the
        commune whose polygon holds it (else the first)."""
        c = self.communes
        lon, lat = c["lon"].to_numpy(dtype=float), c["lat"].to_numpy(dtype=float)
        keys = _coord_keys(lon, lat)
        out: dict[tuple[float, float], int] = {}
        shared: set[tuple[float, float]] = set()
        for i, k in enumerate(keys):
            if k in out:
                shared.add(k)
            else:
                out[k] = i
        for k in shared:
            inside = self._in_polygon(np.array([k[0]]), np.array([k[1]]))[0]
            if inside >= 0:
                out[k] = int(inside)
        return out

    def _in_polygon(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Row of the commune whose polygon holds each point (-1 when none or no polygons)."""
        out = np.full(len(lon), -1, dtype=int)
        if self._tree is None or not len(lon):
            return out
        tree, rows = self._tree
        hits = tree.query(shapely.points(lon, lat), predicate="within")
        first = pd.Series(rows[hits[1]]).groupby(hits[0]).first()
        out[first.index.to_numpy()] = first.to_numpy()
        return out

    @cached_property
    def _tree(self) -> tuple[shapely.STRtree, np.ndarray] | None:
        if self.polygons is None:
            return None
        pos = {c: i for i, c in enumerate(self.communes["insee"])}
        rows = np.array([pos.get(str(c), -1) for c in self.polygons["insee"]], dtype=int)
        return shapely.STRtree(np.asarray(self.polygons.geometry)), rows

    def communes_of(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Row in ``communes`` of each point's commune (-1 when none)."""
        by_point = self._by_point
        out = np.array([by_point.get(k, -1) for k in _coord_keys(lon, lat)], dtype=int)
        todo = np.flatnonzero(out < 0)
        out[todo] = self._in_polygon(lon[todo], lat[todo])
        return out

    def coverage(self) -> MatrixCoverage:
        """How many communes of the region the matrix covers, and which it lacks."""
        c = self.communes
        inside = c["insee"].isin(self.matrix.index).to_numpy()
        lacking = c.loc[~inside]
        by_dep = {
            str(dep): (int(grp.sum()), len(grp))
            for dep, grp in pd.Series(inside).groupby(c["dep"].to_numpy())
        }
        return MatrixCoverage(
            matrix_communes=len(self.matrix.codes),
            region_communes=len(c),
            covered=int(inside.sum()),
            uncovered=tuple(
                zip(lacking["insee"], lacking["name"], lacking["dep"].astype(str), strict=True)
            ),
            by_departement=by_dep,
        )

    def _located(self, points: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(matrix index or -1, INSEE or "", gap km) of each point."""
        lon = points["lon"].to_numpy(dtype=float)
        lat = points["lat"].to_numpy(dtype=float)
        row = self.communes_of(lon, lat)
        insee = np.where(row >= 0, self.communes["insee"].to_numpy(dtype=object)[row], "")
        idx = np.array([self.matrix.index.get(str(c), -1) for c in insee], dtype=int)
        clon = self.communes["lon"].to_numpy(dtype=float)[row]
        clat = self.communes["lat"].to_numpy(dtype=float)[row]
        gap = np.where(row >= 0, geodesic_km(lon, lat, clon, clat), np.nan)
        return idx, insee, gap

    def table(self, origins: pd.DataFrame, destinations: pd.DataFrame) -> pd.DataFrame:
        """One row per pair: ``TABLE_COLUMNS`` then ``GAP_COLUMNS``."""
        o = check_points(origins, name="origins")
        d = check_points(destinations, name="destinations")
        (o_idx, o_insee, o_gap), (d_idx, d_insee, d_gap) = self._located(o), self._located(d)
        oi, di = cross_index(o, d)
        ri, ci = o_idx[oi], d_idx[di]
        covered = (ri >= 0) & (ci >= 0)
        km = geodesic_km(
            o["lon"].to_numpy()[oi],
            o["lat"].to_numpy()[oi],
            d["lon"].to_numpy()[di],
            d["lat"].to_numpy()[di],
        )
        dur = self._cells(self.matrix.duration_min, ri, ci, covered)
        dist = (
            km
            if self.matrix.distance_km is None
            else self._cells(self.matrix.distance_km, ri, ci, covered)
        )
        model = np.full(len(oi), self.name, dtype=object)
        if self.fallback is not None and not covered.all():
            self._fill(o, d, ~covered, dist=dist, dur=dur, model=model)
        table = pd.DataFrame(
            {
                "origin": o["id"].to_numpy()[oi],
                "destination": d["id"].to_numpy()[di],
                "distance_km": dist,
                "duration_min": dur,
                "model": model,
                "origin_insee": _repeated_codes(o_insee, oi),
                "destination_insee": _repeated_codes(d_insee, di),
                "origin_gap_km": o_gap[oi],
                "destination_gap_km": d_gap[di],
            },
            columns=[*TABLE_COLUMNS, *GAP_COLUMNS],
        )
        table.attrs.update(self._attrs(covered))
        return table

    @staticmethod
    def _cells(
        values: np.ndarray | None, ri: np.ndarray, ci: np.ndarray, covered: np.ndarray
    ) -> np.ndarray:
        out = np.full(len(ri), np.nan)
        if values is not None:
            out[covered] = values[ri[covered], ci[covered]]
        return out

    def _fill(
        self,
        o: pd.DataFrame,
        d: pd.DataFrame,
        todo: np.ndarray,
        *,
        dist: np.ndarray,
        dur: np.ndarray,
        model: np.ndarray,
    ) -> None:
        """Measure the uncovered pairs with the fallback model, in place."""
        assert self.fallback is not None
        other = self.fallback.table(o, d)  # same cross order: origins outer, destinations inner
        dist[todo] = other["distance_km"].to_numpy(dtype=float)[todo]
        dur[todo] = other["duration_min"].to_numpy(dtype=float)[todo]
        model[todo] = self.fallback.name

    def _attrs(self, covered: np.ndarray) -> dict[str, Any]:
        error = getattr(self.fallback, "error", None)
        to_dict = getattr(error, "to_dict", None)
        return {
            "fallback_error": to_dict() if callable(to_dict) else None,
            "model": self.name,
            "matrix": self.matrix.to_dict(),
            "distance_source": self.distance_source,
            "pairs": int(covered.size),
            "uncovered_pairs": int((~covered).sum()),
            "fallback": self.fallback.name if self.fallback is not None else None,
        }
