"""Nearest points on the WGS84 ellipsoid from a KD-tree, with the brute-force geodesic answers.

Every point becomes the unit vector of its ellipsoid normal (geodetic latitude), and a
``scipy.spatial.cKDTree`` of the destinations gives, for each origin, a few candidates by
chord length. The exact geodesics (:func:`coverage._geodesy.geodesic_km`, the same call the
travel models make) are then computed for those candidates only, and a provably safe radius
says when a candidate could still be missing:

along any curve of length ``s`` on the ellipsoid, the normal turns by at most ``s / R_min``
radians, ``R_min = a (1 - e²)`` (6,335.44 km, the meridian's radius of curvature at the
equator, the smallest principal radius of curvature of WGS84). So a destination whose
geodesic is at most ``g`` km away has its normal within a chord of
``2 sin(min(g / (2 R_min), π/2))`` of the origin's. Querying the tree within that chord (with a
margin of one part in a billion) for ``g`` = the best geodesic found so far returns every
destination that can tie or beat it: the answer, ties included, equals the brute force over
every pair.

:class:`GeodesicMatrix` is the commune x structure cost matrix of a straight-line model
(geodesic, or geodesic x a circuity factor) that holds only the points: a column, a few cells
or the nearest structure are computed when asked, never every pair at once unless the whole
matrix is asked for (``numpy.asarray``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.spatial import cKDTree

from coverage._errors import ValidationError
from coverage._geodesy import geodesic_km
from coverage.travel.base import TravelModel
from coverage.travel.geodesic import CircuityModel, GeodesicModel

#: WGS84 semi-major axis (km) and first eccentricity squared.
_A_KM = 6378.137
_E2 = 6.69437999014e-3
#: Smallest principal radius of curvature of WGS84 (km): the meridian's, at the equator.
R_MIN_KM = _A_KM * (1.0 - _E2)
#: Relative margin on the search chord (float rounding of vectors, chords and geodesics).
_MARGIN = 1e-9
#: Candidates asked of the tree per origin before the safe-radius check.
_FIRST_K = 2


def unit_vectors(lon: npt.ArrayLike, lat: npt.ArrayLike) -> np.ndarray:
    """(n, 3) unit normals of the ellipsoid at WGS84 ``lon``/``lat`` degrees."""
    lam = np.radians(np.asarray(lon, dtype=float))
    phi = np.radians(np.asarray(lat, dtype=float))
    cos_phi = np.cos(phi)
    return np.column_stack([cos_phi * np.cos(lam), cos_phi * np.sin(lam), np.sin(phi)])


def safe_chord(km: npt.ArrayLike) -> np.ndarray:
    """Chord between unit normals that no geodesic of length ``km`` can exceed (with margin)."""
    half = np.minimum(np.asarray(km, dtype=float) / (2.0 * R_MIN_KM), np.pi / 2)
    return 2.0 * np.sin(half) * (1.0 + _MARGIN) + 1e-12


def straight_line_factor(model: TravelModel) -> float | None:
    """The factor on the geodesic of a straight-line model, ``None`` for any other model.

    ``GeodesicModel`` gives 1, ``CircuityModel`` its factor; subclasses and other models
    (roads, test models) are not assumed to be straight lines.
    """
    if type(model) is GeodesicModel:
        return 1.0
    if type(model) is CircuityModel:
        return float(model.factor)
    return None


def _points(lon: npt.ArrayLike, lat: npt.ArrayLike, *, name: str) -> tuple[np.ndarray, ...]:
    x = np.asarray(lon, dtype=float).ravel()
    y = np.asarray(lat, dtype=float).ravel()
    if x.shape != y.shape or not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValidationError(f"`{name}` must be finite longitudes and latitudes of one length.")
    return x, y


@dataclass(frozen=True, eq=False)
class GeodesicIndex:
    """A KD-tree on destination points, answering nearest and within-radius exactly.

    Parameters
    ----------
    lon, lat
        Destinations (WGS84 degrees).
    factor
        Costs are ``geodesic_km * factor`` (1 for the geodesic model, the circuity factor
        for the estimate).
    """

    lon: np.ndarray
    lat: np.ndarray
    factor: float = 1.0
    _tree: Any = field(init=False, repr=False)

    def __post_init__(self) -> None:
        x, y = _points(self.lon, self.lat, name="destinations")
        if not (np.isfinite(self.factor) and self.factor > 0):
            raise ValidationError(f"`factor` must be a positive number; got {self.factor!r}.")
        object.__setattr__(self, "lon", x)
        object.__setattr__(self, "lat", y)
        object.__setattr__(self, "_tree", cKDTree(unit_vectors(x, y)) if x.size else None)

    def __len__(self) -> int:
        return int(self.lon.size)

    def cost(self, olon: np.ndarray, olat: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Costs from origins to destinations ``j`` (broadcast), as the travel model gives."""
        km = geodesic_km(olon, olat, self.lon[j], self.lat[j])
        return km if self.factor == 1.0 else km * self.factor

    def nearest(
        self, lon: npt.ArrayLike, lat: npt.ArrayLike, *, rank: npt.ArrayLike | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per origin, the destination of least cost and that cost.

        Ties go to the lowest ``rank`` (default: the destination's position), so the answer
        equals ``argmin`` over every pair in that order. With no destination, every index is
        -1 and every cost NaN.
        """
        x, y = _points(lon, lat, name="origins")
        m = len(self)
        if m == 0:
            return np.full(x.size, -1, dtype=np.int64), np.full(x.size, np.nan)
        r = np.arange(m) if rank is None else np.asarray(rank)
        q = unit_vectors(x, y)
        k = min(m, _FIRST_K)
        chord, j = self._tree.query(q, k=k)
        chord, j = chord.reshape(x.size, k), j.reshape(x.size, k)
        rows = np.repeat(np.arange(x.size), k)
        cols = j.ravel()
        costs = self.cost(x[rows], y[rows], cols)
        best_km = costs.reshape(x.size, k).min(axis=1) / self.factor
        radius = safe_chord(best_km)
        unsure = np.flatnonzero(chord[:, -1] <= radius) if k < m else np.empty(0, dtype=int)
        if unsure.size:
            found = self._tree.query_ball_point(q[unsure], radius[unsure])
            more_rows = np.repeat(unsure, [len(f) for f in found])
            more_cols = np.fromiter((c for f in found for c in f), dtype=np.int64)
            rows = np.concatenate([rows, more_rows])
            cols = np.concatenate([cols, more_cols])
            costs = np.concatenate([costs, self.cost(x[more_rows], y[more_rows], more_cols)])
        order = np.lexsort((r[cols], costs, rows))
        first = order[np.r_[True, rows[order][1:] != rows[order][:-1]]]
        return cols[first].astype(np.int64), costs[first]

    def within(self, lon: npt.ArrayLike, lat: npt.ArrayLike, radius: float) -> sparse.csr_matrix:
        """Origins x destinations (CSR) of the costs ``<= radius``; absent pairs are farther.

        Zero costs are stored explicitly (``sparse.csr_matrix.nnz`` counts them), so a
        stored entry always means "within the radius".
        """
        x, y = _points(lon, lat, name="origins")
        if not (np.isfinite(radius) and radius >= 0):
            raise ValidationError(f"`radius` must be a finite number >= 0; got {radius!r}.")
        shape = (x.size, len(self))
        if len(self) == 0 or x.size == 0:
            return sparse.csr_matrix(shape)
        chord = float(safe_chord(radius / self.factor))
        found = self._tree.query_ball_point(unit_vectors(x, y), chord)
        rows = np.repeat(np.arange(x.size), [len(f) for f in found])
        cols = np.fromiter((c for f in found for c in f), dtype=np.int64, count=rows.size)
        costs = self.cost(x[rows], y[rows], cols)
        ok = costs <= radius
        rows, cols, costs = rows[ok], cols[ok], costs[ok]
        order = np.lexsort((cols, rows))
        indptr = np.searchsorted(rows[order], np.arange(x.size + 1))
        return sparse.csr_matrix((costs[order], cols[order], indptr), shape=shape)


def _axis(key: Any, size: int) -> tuple[np.ndarray, bool, bool]:
    """One axis of an index: (positions, is_scalar, is_slice)."""
    if isinstance(key, slice):
        return np.arange(size)[key], False, True
    if isinstance(key, (int, np.integer)):
        return np.asarray(np.arange(size)[key]), True, False
    a = np.asarray(key)
    if a.dtype == bool:
        if a.shape != (size,):
            raise IndexError(f"boolean index of shape {a.shape!r} for an axis of {size!r}")
        return np.flatnonzero(a), False, False
    return np.arange(size)[a], False, False


@dataclass(frozen=True, eq=False)
class GeodesicMatrix:
    """Origins x destinations costs of a straight-line model, computed when asked.

    Indexes like a numpy array (``m[i]``, ``m[:, j]``, ``m[rows, cols]`` pointwise,
    ``m[rows][:, mask]``...), and ``numpy.asarray(m)`` computes the whole matrix (the only
    operation that costs every pair). ``nearest`` uses a KD-tree (:class:`GeodesicIndex`).
    """

    olon: np.ndarray
    olat: np.ndarray
    dlon: np.ndarray
    dlat: np.ndarray
    factor: float = 1.0
    #: Travel areas of the origins and destinations (``coverage.geography.travel_area``),
    #: or None when all are in one: a pair across two areas costs ``inf`` (no journey).
    oarea: np.ndarray | None = None
    darea: np.ndarray | None = None

    ndim = 2
    dtype = np.dtype(float)

    @property
    def shape(self) -> tuple[int, int]:
        """(n origins, m destinations)."""
        return (int(self.olon.size), int(self.dlon.size))

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self[:, :]
        return out if dtype is None else out.astype(dtype)

    def __getitem__(self, key: Any) -> Any:
        rk, ck = key if isinstance(key, tuple) else (key, slice(None))
        n, m = self.shape
        ri, r_scalar, r_slice = _axis(rk, n)
        ci, c_scalar, c_slice = _axis(ck, m)
        if not (r_scalar or r_slice or c_scalar or c_slice):
            ri_b, ci_b = np.broadcast_arrays(ri, ci)  # two integer arrays: pointwise, as numpy
        elif r_scalar or c_scalar:
            ri_b, ci_b = ri, ci
        else:
            ri_b, ci_b = ri[:, None], ci[None, :]
        km = geodesic_km(self.olon[ri_b], self.olat[ri_b], self.dlon[ci_b], self.dlat[ci_b])
        out = km if self.factor == 1.0 else km * self.factor
        if self.oarea is not None and self.darea is not None:
            out = np.where(self.oarea[ri_b] == self.darea[ci_b], out, np.inf)
        return float(out) if np.ndim(out) == 0 else out

    def index(self, columns: np.ndarray) -> GeodesicIndex:
        """A KD-tree on the destinations ``columns``."""
        return GeodesicIndex(self.dlon[columns], self.dlat[columns], factor=self.factor)

    def nearest(
        self, columns: np.ndarray, *, rank: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per origin, the column (among ``columns``) of least cost, and that cost.

        Ties go to the lowest ``rank`` (default: the order of ``columns``). -1 and NaN when
        ``columns`` is empty.
        """
        cols = np.asarray(columns, dtype=np.int64)
        if self.oarea is None or self.darea is None:
            j, cost = self.index(cols).nearest(self.olon, self.olat, rank=rank)
            out = np.full(j.shape, -1, dtype=np.int64)
            out[j >= 0] = cols[j[j >= 0]]
            return out, cost
        # One index per travel area: an origin's nearest is among its own area's columns.
        ranks = np.arange(cols.size) if rank is None else np.asarray(rank)
        out = np.full(self.olon.size, -1, dtype=np.int64)
        cost = np.full(self.olon.size, np.nan)
        for area in np.unique(self.oarea):
            rows = np.flatnonzero(self.oarea == area)
            mine = np.flatnonzero(self.darea[cols] == area)
            if mine.size == 0:
                continue
            index = GeodesicIndex(self.dlon[cols[mine]], self.dlat[cols[mine]], factor=self.factor)
            j, c = index.nearest(self.olon[rows], self.olat[rows], rank=ranks[mine])
            out[rows] = cols[mine[j]]
            cost[rows] = c
        return out, cost

    def select(self, columns: np.ndarray) -> GeodesicMatrix:
        """The same origins with the destinations ``columns`` (positions or a boolean mask)."""
        cols, _, _ = _axis(columns, self.shape[1])
        darea = None if self.darea is None else self.darea[cols]
        return GeodesicMatrix(
            self.olon, self.olat, self.dlon[cols], self.dlat[cols], self.factor, self.oarea, darea
        )

    def append(self, other: GeodesicMatrix) -> GeodesicMatrix:
        """The destinations of ``self`` then those of ``other`` (same origins and factor)."""
        if other.factor != self.factor or other.shape[0] != self.shape[0]:
            raise ValidationError("Only matrices of the same origins and factor can be joined.")
        if (self.darea is None) != (other.darea is None):
            raise ValidationError("Only matrices with travel areas on both sides can be joined.")
        darea = (
            None
            if self.darea is None or other.darea is None
            else np.concatenate([self.darea, other.darea])
        )
        return GeodesicMatrix(
            self.olon,
            self.olat,
            np.concatenate([self.dlon, other.dlon]),
            np.concatenate([self.dlat, other.dlat]),
            self.factor,
            self.oarea,
            darea,
        )
