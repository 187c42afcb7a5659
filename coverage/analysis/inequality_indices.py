"""Inequality indices of travel distance: the Lorenz curve, Gini, Palma and Atkinson.

The Lorenz curve and the indices read off it (Gini coefficient, Palma ratio), and the Atkinson
index of an access score. Population-weighted, pure functions over numpy arrays, under the
conventions of :mod:`coverage.analysis.metrics` (finite values >= 0, weights >= 0 with a
positive sum; every index here is scale-free). With equal weights they equal PySAL
``inequality``'s. The Theil T and its decomposition, which the analysis' tables split by
département and AJA zone, are in :mod:`coverage.analysis.metrics`.

References
----------
Cowell, F. A. (2011). *Measuring Inequality*, 3rd ed., Oxford University Press.
Palma, J. G. (2011). Homogeneous middles vs. heterogeneous tails, and the end of the
"inverted-U". *Development and Change* 42(1), 87-153.
Cobham, A., Sumner, A. (2013). Is it all about the tails? The Palma measure of income
inequality. Center for Global Development, working paper 343.
"""

from __future__ import annotations

import math

import numpy as np

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

#: Default half-distance of the access score used by ``atkinson`` (same unit as the values).
DEFAULT_HALF_DISTANCE: float = 30.0


def lorenz(values: ArrayLike, weights: ArrayLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    r"""Population-weighted Lorenz curve of the values (communes sorted by increasing value).

    Returns the points :math:`(P_k, L_k)`, :math:`k = 0..n`, with
    :math:`P_k = \sum_{i \le k} w_i / W` and :math:`L_k = \sum_{i \le k} w_i x_i / \sum_i w_i x_i`,
    starting at (0, 0) and ending at (1, 1). Linear interpolation between points is exact
    when each commune is read as ``w`` people sharing its value.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Population share and value share, each of length ``n + 1`` (zero-weight communes
        dropped).
    """
    x, w = _prepare(values, weights, nonnegative=True)
    x = _tamed(x)  # the curve is scale-free
    _positive_mean(x, w, index="The Lorenz curve")
    xs, ws = _sorted(x, w)
    p = np.concatenate([[0.0], np.cumsum(ws)])
    v = np.concatenate([[0.0], np.cumsum(ws * xs)])
    p /= p[-1]
    v /= v[-1]
    return p, v


def gini(values: ArrayLike, weights: ArrayLike | None = None) -> float:
    r"""Population-weighted Gini coefficient (mean absolute difference form).

    .. math:: G = \frac{\sum_i \sum_j w_i w_j |x_i - x_j|}{2 W^2 \mu}
              = \frac{\sum_k w_k x_k (2 C_k - w_k - W)}{W \sum_k w_k x_k}

    with communes sorted by increasing value and :math:`C_k` the cumulative weight through
    :math:`k` (Cowell 2011, ch. 2). It equals one minus twice the area under ``lorenz``,
    lies in [0, 1) and, with equal weights, equals PySAL ``inequality.gini.Gini``
    (no small-sample correction ``n/(n-1)``). O(n log n).

    For distances: 0 when everyone travels the same distance; near 1 when a few people
    carry almost all the distance travelled.
    """
    x, w = _prepare(values, weights, nonnegative=True)
    x = _tamed(x)  # scale-free
    _positive_mean(x, w, index="The Gini coefficient")
    xs, ws = _sorted(x, w)
    total_w = ws.sum()
    cum = np.cumsum(ws)
    wx = ws * xs
    g = float(np.dot(wx, 2.0 * cum - ws - total_w) / (total_w * wx.sum()))
    # Rounding can leave -1e-17 for equal values, where the exact answer is 0.
    return max(g, 0.0)


def _lorenz_at(p: np.ndarray, v: np.ndarray, share: float) -> float:
    return float(np.interp(share, p, v))


def palma(values: ArrayLike, weights: ArrayLike | None = None) -> float:
    r"""Population-weighted Palma ratio: share held by the top 10 % over the bottom 40 %.

    .. math:: \text{Palma} = \frac{1 - L(0.9)}{L(0.4)}

    where :math:`L` is the ``lorenz`` curve, interpolated linearly so that a commune straddling
    a cut is split by population (Palma 2011; Cobham & Sumner 2013).

    For distances: the total distance travelled by the farthest 10 % of the population
    divided by that travelled by the nearest 40 %. A Palma of 2 means the farthest tenth
    travels, per person, 8 times as far as the nearest four tenths (2 x 40/10). Equal
    distances give 0.25. Returns ``inf`` when the nearest 40 % all travel 0.
    """
    p, v = lorenz(values, weights)
    bottom = _lorenz_at(p, v, 0.4)
    top = 1.0 - _lorenz_at(p, v, 0.9)
    return float(top / bottom) if bottom > 0 else math.inf


def access_score(values: ArrayLike, *, half_distance: float = DEFAULT_HALF_DISTANCE) -> np.ndarray:
    r"""Access score of a distance: negative-exponential decay, halving every ``half_distance``.

    .. math:: s(d) = 2^{-d / h} = e^{-\ln 2 \, d / h}

    The negative-exponential impedance of gravity accessibility (Hansen 1959, "How
    accessibility shapes land use", *JAIP* 25(2); Handy & Niemeier 1997, *Environment and
    Planning A* 29(7)). It turns a distance (less is better) into an access level in (0, 1]
    (more is better, positive), which is what the Atkinson index needs: 1 at distance 0,
    0.5 at ``half_distance``, 0.25 at twice it.
    """
    d = _as_values(values, nonnegative=True)
    h = _check_threshold(half_distance, name="half_distance", positive=True)
    return np.exp2(-d / h)


def atkinson_index(
    scores: ArrayLike, weights: ArrayLike | None = None, *, epsilon: float = 1.0
) -> float:
    r"""Population-weighted Atkinson index of positive "more is better" values.

    .. math:: A_\varepsilon = 1 - \frac{\left(\frac1W \sum_i w_i s_i^{1-\varepsilon}
              \right)^{1/(1-\varepsilon)}}{\mu}, \qquad
              A_1 = 1 - \frac{\exp\left(\frac1W \sum_i w_i \ln s_i\right)}{\mu}

    (Atkinson 1970, "On the measurement of inequality", *J. Econ. Theory* 2(3)). The
    numerator is the equally-distributed equivalent level; :math:`A` is the share of the mean
    that could be given up for equality. Equals PySAL ``inequality.atkinson.atkinson`` with
    equal weights.
    """
    s = _as_values(scores, name="scores")
    if (s <= 0).any():
        raise ValidationError(f"`scores` must be > 0; got {float(s[s <= 0][0])!r}.")
    w = _as_weights(weights, s.size)
    eps = _check_aversion(epsilon, name="epsilon")
    keep = w > 0
    s, w = _tamed(s[keep]), w[keep]  # the index is scale-free
    total_w = w.sum()
    mu = _mean(s, w)
    if eps == 1.0:
        ede = math.exp(float(np.dot(w, np.log(s)) / total_w))
    else:
        with np.errstate(over="ignore", divide="ignore"):
            ede = float(np.dot(w, s ** (1.0 - eps)) / total_w) ** (1.0 / (1.0 - eps))
    if not (mu > 0 and math.isfinite(ede)):
        return _atkinson_log(np.log(s), w, eps)
    return float(1.0 - ede / mu)


def _log_mean_exp(a: np.ndarray, w: np.ndarray) -> float:
    """``log(sum(w * exp(a)) / sum(w))`` without overflow or underflow (log-sum-exp)."""
    top = float(a.max())
    return top + math.log(float(np.dot(w / w.sum(), np.exp(a - top))))


def _atkinson_log(log_s: np.ndarray, w: np.ndarray, eps: float) -> float:
    """Atkinson index from the logarithms of the scores (scores too small or too spread for
    floats): ``1 - exp(log ede - log mu)``."""
    log_mu = _log_mean_exp(log_s, w)
    if eps == 1.0:
        log_ede = float(np.dot(w / w.sum(), log_s))
    else:
        log_ede = _log_mean_exp((1.0 - eps) * log_s, w) / (1.0 - eps)
    return float(-math.expm1(min(log_ede - log_mu, 0.0)))


def atkinson(
    values: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    epsilon: float = 1.0,
    half_distance: float = DEFAULT_HALF_DISTANCE,
) -> float:
    r"""Atkinson index of the access score of distances (``access_score`` then ``atkinson_index``).

    The Atkinson index assumes positive values where more is better (an income); a distance
    is the opposite, and may be 0. The distances are therefore mapped to
    :math:`s = 2^{-d/h}` first (see ``access_score``). With ``epsilon=1`` the index has a
    plain reading: :math:`1 - 2^{-\bar d/h} / \bar s`, the part of the mean access score lost
    to its unequal spread. Larger ``epsilon`` weighs the worst-served more.

    Parameters
    ----------
    values
        Distances or times, >= 0.
    weights
        Population per commune; ``None`` for equal weights.
    epsilon
        Inequality aversion, >= 0 (0: index is 0; 1: geometric mean; 2: harmonic mean).
    half_distance
        Distance at which the access score halves, same unit as ``values``.
    """
    scores = access_score(values, half_distance=half_distance)
    if (scores > 0).all():
        return atkinson_index(scores, weights, epsilon=epsilon)
    # Distances so far (beyond ~1,075 half-distances) that 2^(-d/h) is 0 as a float: the same
    # index from log s = -d ln 2 / h, which is finite.
    d = _as_values(values, nonnegative=True)
    w = _as_weights(weights, d.size)
    eps = _check_aversion(epsilon, name="epsilon")
    keep = w > 0
    h = _check_threshold(half_distance, name="half_distance", positive=True)
    return _atkinson_log(-math.log(2.0) * (d[keep] / h), w[keep], eps)
