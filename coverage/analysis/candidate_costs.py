"""Costs from every commune to communes taken as candidate sites, with their checked disk cache.

Siting ranks candidate sites placed at communes' points. Their costs are asked of the travel
model in blocks of columns (:func:`commune_costs`) and, for the straight-line models, kept on
disk as float32 beside a SHA-256 of their bytes: a damaged or foreign file is never trusted,
it is measured again. :func:`commune_pairs` keeps only the pairs within a radius, for the
sparse siting of a national candidate set. ``AccessTable.commune_costs`` and
``AccessTable.commune_pairs`` (:mod:`coverage.analysis.access`) keep the answers in memory.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse

from coverage import settings
from coverage._atomic import atomic_open, cache_write
from coverage._errors import ValidationError
from coverage.analysis.access_matrix import Cost, CostMatrix, cost_matrices
from coverage.travel.base import TravelModel
from coverage.travel.nearest import GeodesicIndex, GeodesicMatrix

#: Candidate sites' columns asked of the travel model at once (bounds memory to ~n x 256).
_CANDIDATE_CHUNK = 256
#: Travel models whose candidate costs are kept on disk (the road model caches its own tables).
_CACHED_MODELS = ("geodesic", "estimate")


def candidate_positions(columns: Sequence[int] | np.ndarray | None, n: int) -> np.ndarray:
    """Row positions of the communes used as candidate sites (default: all ``n``), checked."""
    cols = np.arange(n) if columns is None else np.asarray(columns, dtype=np.int64)
    if cols.ndim != 1 or cols.size == 0 or (cols < 0).any() or (cols >= n).any():
        raise ValidationError(f"`columns` must be commune positions in [0, {n}).")
    return cols


def positions_digest(cols: np.ndarray) -> str:
    """A short digest of candidate positions (``candidate_positions``), naming their costs."""
    return hashlib.sha256(cols.tobytes()).hexdigest()[:16]


def commune_costs(
    model: TravelModel,
    origins: pd.DataFrame,
    *,
    by: Cost,
    columns: np.ndarray,
    cache: bool = True,
) -> np.ndarray:
    """Commune x candidate matrix of ``by`` (float32), the candidates being communes' points.

    Parameters
    ----------
    model
        The travel model.
    origins
        The communes as a travel-model point set (``AccessTable.origins``: ``id`` = INSEE
        code, ``lon``, ``lat``, and ``area`` when they span several travel areas).
    by
        ``distance_km`` or ``duration_min`` (the model must give it).
    columns
        Row positions of the candidate communes (``candidate_positions``).
    cache
        Keep the result on disk (geodesic and estimate models only), in
        ``settings.cache_dir() / "access"``.

    Notes
    -----
    float32 keeps a metre of precision at 100 km: use the result to *rank* candidate sites, and
    measure the chosen ones again with ``AccessTable.with_changes`` (float64, one call).
    """
    n = len(origins)
    path = _cache_path(model, origins, by, positions_digest(columns)) if cache else None
    cached = None if path is None else _read_checked(path, (n, columns.size))
    if cached is not None:
        return cached
    out = np.empty((n, columns.size), dtype=np.float32)
    for s in range(0, columns.size, _CANDIDATE_CHUNK):
        block = origins.iloc[columns[s : s + _CANDIDATE_CHUNK]]
        dist, dur = cost_matrices(model, origins, block)
        out[:, s : s + len(block)] = np.asarray(dist if by == "distance_km" else dur)
    if path is not None:  # a cache only saves time: unwritable, it is warned and skipped
        _write_checked(path, out)
    return out


def commune_pairs(
    matrix: CostMatrix,
    *,
    lon: np.ndarray,
    lat: np.ndarray,
    columns: np.ndarray,
    radius: float,
    dense: Callable[[], np.ndarray],
) -> sparse.csr_matrix:
    """Commune x candidate costs ``<= radius`` only (CSR), the candidates being communes.

    For a straight-line model (``matrix`` is a ``GeodesicMatrix``) the pairs come from a KD-tree
    (``GeodesicIndex.within``) over the communes' points ``lon``, ``lat``, and only they are
    measured: a national candidate set fits in memory. For any other model they are cut from
    ``dense()``, the commune x candidate costs (``AccessTable.commune_costs``). Use with
    ``coverage.analysis.sparse_siting.coverage_from_pairs``.
    """
    if not (np.isfinite(radius) and radius >= 0):
        raise ValidationError(f"`radius` must be a finite number >= 0; got {radius!r}.")
    if isinstance(matrix, GeodesicMatrix):
        index = GeodesicIndex(lon[columns], lat[columns], factor=matrix.factor)
        return index.within(lon, lat, float(radius))
    costs = dense().astype(float)
    rows, hits = np.nonzero(costs <= radius)
    return sparse.csr_matrix((costs[rows, hits], (rows, hits)), shape=costs.shape)


def _cache_path(model: TravelModel, origins: pd.DataFrame, by: str, digest: str) -> Path | None:
    """Where the candidate costs of ``model`` are kept, named by everything they depend on."""
    if model.name not in _CACHED_MODELS:
        return None
    h = hashlib.sha256()
    h.update(repr(model).encode())
    h.update(by.encode())
    h.update(digest.encode())
    h.update("\n".join(origins["id"].to_numpy(dtype=object)).encode())
    h.update(origins["lon"].to_numpy(dtype=float).tobytes())
    h.update(origins["lat"].to_numpy(dtype=float).tobytes())
    name = f"communes-{model.name}-{h.hexdigest()[:20]}.npz"
    return settings.cache_dir() / "access" / name


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
