"""Inequality metrics of travel distance: pure, population-weighted functions over numpy arrays.

Every function takes ``values`` (one travel distance or time per commune, e.g. the nearest
structure's distance from the access table) and ``weights`` (the communes' populations), and
treats a commune as ``weight`` people who all share its value. With equal weights the results
equal the usual unweighted formulas (checked against PySAL ``inequality`` in the tests).

Here: location (mean, quantiles), shares beyond a threshold and FGT, the Theil T and
its decomposition, and ``summary``. The Lorenz curve, Gini, Palma and Atkinson are in
:mod:`coverage.analysis.inequality_indices`; the checks and overflow-safe sums both modules
share, in :mod:`coverage.analysis._weighted`.

Conventions
-----------
- ``values`` must be finite: a commune with no reachable structure has no distance, and is
  reported apart by the caller rather than counted as infinitely far.
- ``weights`` must be finite, >= 0, with a positive sum; a weight of 0 removes a commune.
- Distance-based inequality indices (Gini, Theil, Palma, FGT) need ``values >= 0``.
- Units are the caller's (km or min); every index except the means and quantiles is
  scale-free.
- Huge but finite inputs never overflow into a division by zero: weights, and the values of
  the scale-free indices, are scaled by a power of two (exact: the figures of ordinary inputs
  do not change by one bit) when their sums could overflow, means are taken as convex
  combinations, and the Atkinson index of distances so large that their access score is 0
  is computed in log space. A figure that still cannot be a finite float (an FGT severity
  of 1e300 km) is ``inf`` from its function and ``None`` in ``summary``.

References
----------
Cowell, F. A. (2011). *Measuring Inequality*, 3rd ed., Oxford University Press.
Foster, J., Greer, J., Thorbecke, E. (1984). A class of decomposable poverty measures.
*Econometrica* 52(3), 761-766.
Hyndman, R. J., Fan, Y. (1996). Sample quantiles in statistical packages. *The American
Statistician* 50(4), 361-365.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from coverage._errors import ValidationError
from coverage.analysis._weighted import (
    ArrayLike,
    _as_values,
    _as_weights,
    _check_aversion,
    _check_threshold,
    _mean,
    _positive_mean,
    _prepare,
    _sorted,
    _tamed,
)
from coverage.analysis.inequality_indices import DEFAULT_HALF_DISTANCE, atkinson, gini, palma

#: Distance thresholds of ``summary`` (same unit as the values: km or min).
DEFAULT_THRESHOLDS: tuple[float, ...] = (20.0, 30.0, 45.0)


# --------------------------------------------------------------------------------------------
# Location: mean, quantiles
# --------------------------------------------------------------------------------------------


def weighted_mean(values: ArrayLike, weights: ArrayLike | None = None) -> float:
    r"""Population-weighted mean.

    .. math:: \mu = \frac{\sum_i w_i x_i}{\sum_i w_i}

    Parameters
    ----------
    values
        One value per commune (distance or time).
    weights
        Population per commune; ``None`` for equal weights.

    Returns
    -------
    float
        The mean distance travelled by an inhabitant.
    """
    x, w = _prepare(values, weights)
    return _mean(x, w)


def weighted_quantile(
    values: ArrayLike, weights: ArrayLike | None = None, q: float | Sequence[float] = 0.5
) -> float | np.ndarray:
    r"""Population-weighted quantile: the inverse of the weighted empirical distribution.

    .. math:: Q(q) = \min\{x_i : F(x_i) \ge q\}, \qquad
              F(x) = \frac{\sum_{j: x_j \le x} w_j}{\sum_j w_j}

    This is Hyndman & Fan's (1996) definition 1 (``numpy.quantile(..., method="inverted_cdf")``,
    which accepts the same weights): ``Q(0.9)`` is the smallest distance within which at least
    90 % of the population lives. It is always one of the observed values (no interpolation
    between communes), and zero-weight communes are never returned.

    Parameters
    ----------
    values
        One value per commune.
    weights
        Population per commune; ``None`` for equal weights.
    q
        Probability or sequence of probabilities, each in [0, 1].

    Returns
    -------
    float or numpy.ndarray
        A float for a scalar ``q``, else an array shaped like ``q``.
    """
    x, w = _prepare(values, weights)
    qa = np.asarray(q, dtype=float)
    if not np.all(np.isfinite(qa)) or (qa < 0).any() or (qa > 1).any():
        raise ValidationError(f"`q` must be between 0 and 1; got {q!r}.")
    xs, ws = _sorted(x, w)
    cdf = np.cumsum(ws)
    cdf /= cdf[-1]
    idx = np.searchsorted(cdf, qa, side="left")
    out = xs[np.minimum(idx, xs.size - 1)]
    return float(out) if qa.ndim == 0 else out


def p90(values: ArrayLike, weights: ArrayLike | None = None) -> float:
    """Distance within which at least 90 % of the population lives (``weighted_quantile`` 0.9)."""
    return float(weighted_quantile(values, weights, 0.9))


# --------------------------------------------------------------------------------------------
# Thresholds: share beyond, FGT
# --------------------------------------------------------------------------------------------


def share_beyond(values: ArrayLike, weights: ArrayLike | None, threshold: float) -> float:
    r"""Share of the population whose value is strictly beyond ``threshold``.

    .. math:: H(z) = \frac{\sum_i w_i \, [x_i > z]}{\sum_i w_i}

    A commune exactly at the threshold is *within* it (same convention as the siting's
    coverage, ``cost <= threshold``). Equals ``fgt(values, weights, threshold, alpha=0)``.
    """
    z = _check_threshold(threshold)
    x, w = _prepare(values, weights)
    return float(w[x > z].sum() / w.sum())


def shares_beyond(
    values: ArrayLike, weights: ArrayLike | None, thresholds: Iterable[float]
) -> dict[float, float]:
    """``share_beyond`` for several thresholds at once: ``{threshold: share}`` in given order."""
    x, w = _prepare(values, weights)
    total = w.sum()
    zs = [_check_threshold(t, name="thresholds") for t in thresholds]
    if not zs:
        raise ValidationError("`thresholds` is empty.")
    xs, ws = _sorted(x, w)
    tail = np.concatenate([np.cumsum(ws[::-1])[::-1], [0.0]])
    pos = np.searchsorted(xs, np.asarray(zs), side="right")
    return {z: float(tail[p] / total) for z, p in zip(zs, pos, strict=True)}


def fgt(values: ArrayLike, weights: ArrayLike | None, threshold: float, alpha: float) -> float:
    r"""Foster-Greer-Thorbecke index of distance beyond a threshold.

    .. math:: P_\alpha(z) = \frac{1}{W} \sum_{i:\,x_i > z} w_i
              \left(\frac{x_i - z}{z}\right)^{\alpha}, \qquad W = \sum_i w_i

    Foster, Greer & Thorbecke (1984), with income shortfall ``(z - y)/z`` replaced by the
    normalised excess distance ``(x - z)/z``. ``alpha=0`` is the headcount (share of the
    population strictly beyond ``z``), ``alpha=1`` the gap (mean excess, in units of ``z``,
    over the whole population), ``alpha=2`` the severity (weights the farthest more).
    The index is additively decomposable over groups of communes.

    Parameters
    ----------
    values
        Distances or times, >= 0.
    weights
        Population per commune; ``None`` for equal weights.
    threshold
        The acceptable distance ``z`` (> 0), same unit as ``values``.
    alpha
        Aversion parameter, >= 0.
    """
    z = _check_threshold(threshold, positive=True)
    a = _check_aversion(alpha, name="alpha")
    x, w = _prepare(values, weights, nonnegative=True)
    beyond = x > z
    with np.errstate(over="ignore"):  # a gap too large for a float is inf, said as such
        gap = (x[beyond] - z) / z
        terms = np.ones_like(gap) if a == 0 else gap**a
        return float(np.dot(w[beyond], terms) / w.sum())


# --------------------------------------------------------------------------------------------
# Theil T and its decomposition
# --------------------------------------------------------------------------------------------


def _theil_t(x: np.ndarray, w: np.ndarray) -> float:
    mu = _mean(x, w)
    r = x / mu
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(r > 0, r * np.log(np.where(r > 0, r, 1.0)), 0.0)
    return float(np.dot(w, terms) / w.sum())


def theil_t(values: ArrayLike, weights: ArrayLike | None = None) -> float:
    r"""Population-weighted Theil T index (generalised entropy GE(1)).

    .. math:: T = \frac{1}{W} \sum_i w_i \frac{x_i}{\mu} \ln \frac{x_i}{\mu}

    with :math:`0 \ln 0 = 0`, so a commune at distance 0 is allowed (Theil 1967; Cowell 2011,
    ch. 3). Lies in [0, ln W]; equals PySAL ``inequality.theil.Theil`` with equal weights and
    positive values. It is the index that ``theil_decomposition`` splits exactly.
    """
    x, w = _prepare(values, weights, nonnegative=True)
    _positive_mean(x, w, index="The Theil index")
    return _theil_t(x, w)


@dataclass(frozen=True)
class TheilDecomposition:
    """Theil T split into a between-groups and a within-groups part.

    Attributes
    ----------
    total
        Theil T of all communes.
    between
        :math:`\\sum_g s_g \\ln(\\mu_g / \\mu)`: inequality left if every commune took its
        group's mean.
    within
        :math:`\\sum_g s_g T_g`: the groups' own inequality, weighted by value share.
    groups
        One row per group (index: group label) with ``population``, ``mean``, ``value_share``
        :math:`s_g`, ``theil`` :math:`T_g`, ``within`` :math:`s_g T_g` and ``between``
        :math:`s_g \\ln(\\mu_g/\\mu)`.
    """

    total: float
    between: float
    within: float
    groups: pd.DataFrame

    @property
    def between_share(self) -> float:
        """Part of the total explained by differences between groups (0 when total is 0)."""
        return self.between / self.total if self.total > 0 else 0.0


def theil_decomposition(
    values: ArrayLike, weights: ArrayLike | None, groups: ArrayLike
) -> TheilDecomposition:
    r"""Exact between/within decomposition of the population-weighted Theil T.

    .. math:: T = \underbrace{\sum_g s_g \ln\frac{\mu_g}{\mu}}_{\text{between}}
              + \underbrace{\sum_g s_g T_g}_{\text{within}},
              \qquad s_g = \frac{W_g \mu_g}{W \mu}

    (Shorrocks 1980, "The class of additively decomposable inequality measures",
    *Econometrica* 48(3); Cowell 2011, ch. 3). Each part is computed from its own formula, so
    ``between + within`` reproduces ``total`` to float rounding (a check, not a definition).

    Parameters
    ----------
    values
        Distances or times, >= 0.
    weights
        Population per commune; ``None`` for equal weights.
    groups
        One label per commune (e.g. the département or the EPCI), same length as ``values``.
    """
    x = _as_values(values, nonnegative=True)
    w = _as_weights(weights, x.size)
    g = np.asarray(groups, dtype=object)
    if g.ndim != 1 or g.size != x.size:
        raise ValidationError(
            f"`values` and `groups` must have the same length; got {x.size!r} and {g.size!r}."
        )
    if pd.isna(g).any():
        raise ValidationError("`groups` has missing labels; give every commune a group.")
    keep = w > 0
    x, w, g = _tamed(x[keep]), w[keep], g[keep]  # scale-free
    mu = _positive_mean(x, w, index="The Theil index")
    total_w = w.sum()
    codes, labels = pd.factorize(g, sort=True)
    pop = np.bincount(codes, weights=w)
    wx = np.bincount(codes, weights=w * x)
    mean_g = wx / pop
    share = wx / (total_w * mu)
    theil_g = np.array(
        [_theil_t(x[codes == k], w[codes == k]) if wx[k] > 0 else 0.0 for k in range(len(labels))]
    )
    with np.errstate(divide="ignore"):
        between_g = np.where(share > 0, share * np.log(np.where(mean_g > 0, mean_g, 1.0) / mu), 0.0)
    within_g = share * theil_g
    frame = pd.DataFrame(
        {
            "population": pop,
            "mean": mean_g,
            "value_share": share,
            "theil": theil_g,
            "within": within_g,
            "between": between_g,
        },
        index=pd.Index(labels, name="group"),
    )
    return TheilDecomposition(
        total=_theil_t(x, w),
        between=float(between_g.sum()),
        within=float(within_g.sum()),
        groups=frame,
    )


# --------------------------------------------------------------------------------------------
# Summary
# --------------------------------------------------------------------------------------------


def _key(z: float) -> str:
    return f"{z:g}"


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def summary(
    values: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    thresholds: Iterable[float] = DEFAULT_THRESHOLDS,
    half_distance: float = DEFAULT_HALF_DISTANCE,
) -> dict[str, Any]:
    """Headline figures of a distance distribution, as a flat JSON-ready dict.

    Keys: ``communes`` and ``population`` (counted), ``mean``, ``median``, ``p90``, ``max``,
    ``gini``, ``theil_t``, ``palma``, ``atkinson`` (epsilon 1 on ``access_score`` with
    ``half_distance``); and for each threshold ``z`` (key written ``f"{z:g}"``):
    ``share_beyond_<z>``, ``population_beyond_<z>``, ``fgt_gap_<z>`` (alpha 1) and
    ``fgt_severity_<z>`` (alpha 2). An index that is undefined (every distance 0, or Palma
    when the nearest 40 % travel 0) is ``None``. Values are plain Python numbers.

    Parameters
    ----------
    values
        Distances or times, >= 0, one per commune.
    weights
        Population per commune; ``None`` for equal weights.
    thresholds
        Acceptable distances, same unit as ``values``.
    half_distance
        Half-distance of the Atkinson access score.
    """
    x, w = _prepare(values, weights, nonnegative=True)
    zs = [_check_threshold(t, name="thresholds", positive=True) for t in thresholds]
    raw = np.ones(x.size) if weights is None else np.asarray(weights, dtype=float)
    raw = raw[raw > 0]  # the weights as given (``w`` may be scaled), zero weights dropped
    with np.errstate(over="ignore"):
        total = _finite_or_none(float(raw.sum()))
    mean = _mean(x, w)
    q50, q90 = np.atleast_1d(weighted_quantile(x, w, [0.5, 0.9]))
    out: dict[str, Any] = {
        "communes": int(x.size),
        "population": total,
        "mean": mean,
        "median": float(q50),
        "p90": float(q90),
        "max": float(x.max()),
    }
    if mean > 0:
        out["gini"] = gini(x, w)
        out["theil_t"] = _theil_t(x, w)
        out["palma"] = _finite_or_none(palma(x, w))
    else:
        out["gini"] = out["theil_t"] = out["palma"] = None
    out["atkinson"] = atkinson(x, w, epsilon=1.0, half_distance=half_distance)
    shares = shares_beyond(x, w, zs) if zs else {}
    for z in zs:
        out[f"share_beyond_{_key(z)}"] = shares[z]
        with np.errstate(over="ignore"):
            out[f"population_beyond_{_key(z)}"] = _finite_or_none(float(raw[x > z].sum()))
        out[f"fgt_gap_{_key(z)}"] = _finite_or_none(fgt(x, w, z, 1))
        out[f"fgt_severity_{_key(z)}"] = _finite_or_none(fgt(x, w, z, 2))
    return out
