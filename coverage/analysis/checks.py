"""Argument checks of the analysis layer, in one place.

A planner's threshold and cost (``check_threshold``, ``check_cost``), and a siting problem: its
cost matrix, demand, objective and threshold (``check_siting``, ``check_siting_threshold``), its
candidate columns (``check_candidates``) and the sparse pairs of
``coverage.analysis.sparse_siting`` (``check_pairs``). Messages name the argument and quote the
value received.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from scipy import sparse

from coverage._errors import ValidationError
from coverage.analysis.siting_base import OBJECTIVES, Problem

if TYPE_CHECKING:
    from coverage.analysis.access_matrix import Cost

# --------------------------------------------------------------------------------------------
# A planner's threshold and cost
# --------------------------------------------------------------------------------------------


def check_threshold(threshold: object, *, name: str = "threshold") -> float:
    """A threshold as a positive finite float, else a French error naming it."""
    try:
        z = float(threshold)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValidationError(
            f"Le seuil `{name}` doit être un nombre ; reçu {threshold!r}."
        ) from None
    if not (math.isfinite(z) and z > 0):
        raise ValidationError(
            f"Le seuil `{name}` doit être un nombre positif ; reçu {threshold!r}."
        )
    return z


def check_cost(by: object) -> Cost:
    """``distance_km`` or ``duration_min``, else an error naming ``by``."""
    # Imported here so that siting, which uses only the checks below, does not load the
    # commune table's module (and with it the data and travel layers).
    from coverage.analysis.access_matrix import COSTS

    if by not in COSTS:
        raise ValidationError(f"`by` must be one of {COSTS!r}; got {by!r}.")
    return by  # type: ignore[return-value]


# --------------------------------------------------------------------------------------------
# A siting problem
# --------------------------------------------------------------------------------------------


def _per_row(values: npt.ArrayLike, n: int, *, name: str) -> np.ndarray:
    """``values`` as a float vector with one value per row of ``cost`` (``n`` rows)."""
    a = np.asarray(values, dtype=float)
    if a.shape != (n,):
        raise ValidationError(
            f"`{name}` must have one value per row of `cost` ({n!r}); got shape {a.shape!r}."
        )
    return a


def _check_cost_matrix(cost: npt.ArrayLike) -> np.ndarray:
    """``cost`` as a float matrix, without a copy when it already is one (float32 stays)."""
    try:
        c = np.asarray(cost)
        if c.dtype.kind != "f":
            c = c.astype(float)
    except (TypeError, ValueError) as exc:
        raise ValidationError("`cost` must be a numeric matrix.") from exc
    if c.ndim != 2 or c.shape[0] == 0 or c.shape[1] == 0:
        raise ValidationError(
            f"`cost` must be a non-empty matrix (demand x candidates); got shape {c.shape!r}."
        )
    low = float(np.min(c))  # NaN anywhere makes it NaN: one scan for both checks
    if math.isnan(low):
        raise ValidationError("`cost` has NaN values; use inf for pairs without a route.")
    if low < 0:
        raise ValidationError(f"`cost` must be >= 0; got {low!r}.")
    return c


def _check_demand(
    weights: npt.ArrayLike, existing: npt.ArrayLike | None, n: int
) -> tuple[np.ndarray, np.ndarray]:
    w = _per_row(weights, n, name="weights")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValidationError("`weights` must be finite and >= 0.")
    if not w.sum() > 0:
        raise ValidationError(f"`weights` must have a positive sum; got {float(w.sum())!r}.")
    if existing is None:
        return w, np.full(n, np.inf)
    e = _per_row(existing, n, name="existing")
    if np.isnan(e).any() or (e < 0).any():
        raise ValidationError("`existing` must be >= 0, with inf where no structure exists.")
    return w, e


def check_siting_threshold(objective: str, threshold: float | None) -> float | None:
    """The coverage threshold (``None`` for the median), checked with the ``objective``.

    A siting threshold may be 0 (only a site on the spot covers), unlike a planner's.
    """
    if objective not in OBJECTIVES:
        raise ValidationError(f"`objective` must be one of {OBJECTIVES!r}; got {objective!r}.")
    if objective != "coverage":
        return None
    if threshold is None:
        raise ValidationError("`threshold` is required for the coverage objective.")
    z = float(threshold)
    if not (math.isfinite(z) and z >= 0):
        raise ValidationError(f"`threshold` must be a finite number >= 0; got {threshold!r}.")
    return z


def _check_median(c: np.ndarray, e: np.ndarray) -> None:
    if not np.isfinite(c).all():
        raise ValidationError(
            "`cost` must be finite on every inhabited row for the median objective "
            "(some commune has no route to a candidate); use the coverage objective "
            "or drop those communes."
        )
    finite_e = np.isfinite(e)
    if finite_e.any() and not finite_e.all():
        raise ValidationError(
            "`existing` must be finite on every inhabited row for the median objective, "
            f"or inf everywhere (no structure yet); {int((~finite_e).sum())!r} row(s) are "
            "inf."
        )


def check_siting(
    cost: npt.ArrayLike,
    weights: npt.ArrayLike,
    existing: npt.ArrayLike | None,
    k: int,
    objective: str,
    threshold: float | None,
) -> tuple[Problem, float | None]:
    """The siting problem on its inhabited rows, and the coverage threshold (``None``: median).

    ``cost`` is (n_demand, n_candidates), ``weights`` and ``existing`` have one value per row
    (``existing=None``: no structure yet), ``1 <= k <= n_candidates``.
    """
    z = check_siting_threshold(objective, threshold)
    c = _check_cost_matrix(cost)
    n, m = c.shape
    w, e = _check_demand(weights, existing, n)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= m:
        raise ValidationError(f"`k` must be an integer between 1 and {m!r}; got {k!r}.")
    keep = w > 0
    if not keep.all():
        c, w, e = c[keep], w[keep], e[keep]
    if objective == "median":
        _check_median(c, e)
    return Problem(c, w, e, float(w.sum()), m), z


def check_candidates(candidates: Sequence[int] | None, m: int, k: int) -> np.ndarray:
    """The allowed candidate columns among ``m`` (all when ``None``), at least ``k`` of them."""
    if candidates is None:
        return np.arange(m)
    idx = np.asarray(candidates)
    if idx.ndim != 1 or idx.size == 0 or not np.issubdtype(idx.dtype, np.integer):
        raise ValidationError("`candidates` must be a non-empty list of column indices.")
    if (idx < 0).any() or (idx >= m).any():
        raise ValidationError(f"`candidates` must be column indices in [0, {m!r}).")
    if np.unique(idx).size != idx.size:
        raise ValidationError("`candidates` has repeated indices.")
    if idx.size < k:
        raise ValidationError(f"`k` ({k!r}) exceeds the number of candidates ({idx.size!r}).")
    return idx


def check_pairs(
    pairs: sparse.spmatrix, weights: npt.ArrayLike, existing: npt.ArrayLike | None, k: int
) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
    """Sparse (demand x sites) pairs within reach as CSR, with the weights and existing costs."""
    if not sparse.issparse(pairs) or pairs.ndim != 2 or min(pairs.shape) == 0:
        raise ValidationError("`pairs` must be a non-empty scipy sparse matrix (demand x sites).")
    csr = sparse.csr_matrix(pairs)
    n, m = csr.shape
    w = np.asarray(weights, dtype=float)
    e = np.full(n, np.inf) if existing is None else np.asarray(existing, dtype=float)
    if w.shape != (n,) or e.shape != (n,):
        raise ValidationError(f"`weights` and `existing` must have one value per row ({n!r}).")
    if not (np.isfinite(w).all() and (w >= 0).all() and w.sum() > 0):
        raise ValidationError("`weights` must be finite, >= 0, with a positive sum.")
    if np.isnan(e).any() or (e < 0).any() or np.isnan(csr.data).any() or (csr.data < 0).any():
        raise ValidationError("`existing` and `pairs` must be >= 0 (inf: no structure).")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= m:
        raise ValidationError(f"`k` must be an integer between 1 and {m!r}; got {k!r}.")
    return csr, w, e
