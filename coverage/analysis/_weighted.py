"""Validation and overflow-safe arithmetic of weighted values, shared by the metrics modules.

``values`` (one distance or time per commune) and ``weights`` (the communes' populations) are
checked once here, with errors naming the argument; huge but finite inputs are scaled by a power
of two (exact) before a sum could overflow. See the conventions of :mod:`coverage.analysis.metrics`.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from coverage._errors import ValidationError

ArrayLike = npt.ArrayLike


def _as_values(values: ArrayLike, *, name: str = "values", nonnegative: bool = False) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"`{name}` must be numbers; got {values!r:.80}.") from exc
    if arr.ndim != 1:
        raise ValidationError(f"`{name}` must be one-dimensional; got shape {arr.shape!r}.")
    if arr.size == 0:
        raise ValidationError(f"`{name}` is empty.")
    bad = ~np.isfinite(arr)
    if bad.any():
        first = np.flatnonzero(bad)[:3].tolist()
        raise ValidationError(
            f"`{name}` must be finite; {int(bad.sum())} value(s) are NaN or infinite "
            f"(positions {first!r})."
        )
    if nonnegative and (arr < 0).any():
        first = float(arr[arr < 0][0])
        raise ValidationError(f"`{name}` must be >= 0; got {first!r}.")
    return arr


def _as_weights(weights: ArrayLike | None, n: int, *, name: str = "weights") -> np.ndarray:
    if weights is None:
        return np.ones(n)
    w = _as_values(weights, name=name)
    if w.size != n:
        raise ValidationError(
            f"`values` and `{name}` must have the same length; got {n!r} and {w.size!r}."
        )
    if (w < 0).any():
        raise ValidationError(f"`{name}` must be >= 0; got {float(w[w < 0][0])!r}.")
    if not w.max() > 0:
        raise ValidationError(f"`{name}` must have a positive sum; got {float(w.sum())!r}.")
    return _tamed(w)


#: Above this, a sum of products of n values could overflow: scale by a power of two first.
_HUGE = 2.0**400


def _tamed(a: np.ndarray) -> np.ndarray:
    """``a`` scaled by a power of two (exact) so that its largest magnitude is below 1, when it
    exceeds ``_HUGE``; else ``a`` itself (ordinary inputs keep every bit)."""
    top = float(np.abs(a).max()) if a.size else 0.0
    if not top > _HUGE:
        return a
    return np.ldexp(a, -math.frexp(top)[1])


def _mean(x: np.ndarray, w: np.ndarray) -> float:
    """Weighted mean that never overflows: a convex combination when the plain one would."""
    total = w.sum()
    with np.errstate(over="ignore", invalid="ignore"):
        mu = float(np.dot(w, x) / total)
    if math.isfinite(mu):
        return mu
    return float(np.dot(w / total, x))


def _prepare(
    values: ArrayLike, weights: ArrayLike | None, *, nonnegative: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Validated (values, weights) with zero-weight entries removed."""
    x = _as_values(values, nonnegative=nonnegative)
    w = _as_weights(weights, x.size)
    keep = w > 0
    if not keep.all():
        x, w = x[keep], w[keep]
    return x, w


def _sorted(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(x, kind="stable")
    return x[order], w[order]


def _positive_mean(x: np.ndarray, w: np.ndarray, *, index: str) -> float:
    mu = _mean(x, w)
    if not mu > 0:
        raise ValidationError(
            f"{index} is undefined when every weighted value is 0 (`values` mean is {mu!r})."
        )
    return mu


def _check_threshold(threshold: float, *, name: str = "threshold", positive: bool = False) -> float:
    try:
        z = float(threshold)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"`{name}` must be a number; got {threshold!r}.") from exc
    if not math.isfinite(z) or z < 0 or (positive and z == 0):
        need = "> 0" if positive else ">= 0"
        raise ValidationError(f"`{name}` must be a finite number {need}; got {threshold!r}.")
    return z


def _check_aversion(value: float, *, name: str) -> float:
    """An aversion parameter (FGT ``alpha``, Atkinson ``epsilon``) as a finite float >= 0."""
    try:
        a = float(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"`{name}` must be a number >= 0; got {value!r}.") from exc
    if not (math.isfinite(a) and a >= 0):
        raise ValidationError(f"`{name}` must be a finite number >= 0; got {value!r}.")
    return a
