"""Classes for a choropleth: exact Fisher-Jenks natural breaks, quantiles, forced bounds."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from coverage._errors import ValidationError


def fisher_jenks_bins(values: np.ndarray, k: int) -> np.ndarray:
    """Exact Fisher-Jenks upper class bounds of ``values`` (NaN-free), in ``O(k n²)``.

    Same optimum as ``mapclassify.FisherJenks`` (minimal within-class sum of squares), found
    by dynamic programming vectorised with numpy, where mapclassify's version is pure Python
    without numba.
    Returns ``min(k, n_unique)`` increasing bounds, the last being the maximum.
    """
    ordered = np.sort(np.asarray(values, dtype=float))
    y = ordered
    n = y.size
    k = min(int(k), int(np.unique(y).size))
    if n == 0 or k < 1:
        raise ValidationError("values est vide.")
    if k == 1:
        return np.array([y[-1]])
    y = y - y.mean()  # centred, for the sums of squares' precision
    s1 = np.concatenate([[0.0], np.cumsum(y)])
    s2 = np.concatenate([[0.0], np.cumsum(y * y)])

    def ssd(i: np.ndarray, j: int) -> np.ndarray:
        """Within-class sum of squares of y[i:j] for each start i."""
        count = j - i
        total = s1[j] - s1[i]
        return (s2[j] - s2[i]) - total * total / count

    # cost[j]: best cost of splitting y[:j] into c classes; start[c][j]: start of the last one.
    cost = np.full(n + 1, np.inf)
    j_all = np.arange(1, n + 1)
    cost[1:] = (s2[j_all] - s2[0]) - (s1[j_all] - s1[0]) ** 2 / j_all
    start = np.zeros((k + 1, n + 1), dtype=np.int64)
    for c in range(2, k + 1):
        new = np.full(n + 1, np.inf)
        for j in range(c, n + 1):
            i = np.arange(c - 1, j)
            total = cost[i] + ssd(i, j)
            best = int(np.argmin(total))
            new[j] = total[best]
            start[c, j] = i[best]
        cost = new
    # Walk back the class starts; each class's upper bound is its largest value.
    ends = []
    j = n
    for c in range(k, 0, -1):
        ends.append(j - 1)
        j = int(start[c, j]) if c > 1 else 0
    return ordered[np.array(ends[::-1])]


@dataclass(frozen=True)
class Classes:
    """A classification of values for a choropleth.

    Attributes
    ----------
    bins : numpy.ndarray
        Upper bound of each class (the last is the maximum); classes are ``(b[i-1], b[i]]``.
    yb : numpy.ndarray
        Class of each value (``-1`` for a missing value).
    counts : numpy.ndarray
        Number of values in each class.
    minimum : float
        Smallest value (lower bound of the first class).
    n_missing : int
        Number of missing values.
    """

    bins: np.ndarray
    yb: np.ndarray
    counts: np.ndarray
    minimum: float
    n_missing: int


def classify(
    values: Iterable[float],
    *,
    k: int = 5,
    scheme: Literal["FisherJenks", "Quantiles"] = "FisherJenks",
    breaks: Sequence[float] = (),
) -> Classes:
    """Split ``values`` into at most ``k`` classes (plus one per forced break).

    Missing values (NaN) get class ``-1``. With fewer distinct values than ``k``, there are
    as many classes as distinct values. Each of ``breaks`` strictly inside the values' range
    becomes a class bound (e.g. the planner's threshold), so no class straddles it. Classes
    are ``(b[i-1], b[i]]``, as ``mapclassify.UserDefined`` assigns them.
    """
    if scheme not in ("FisherJenks", "Quantiles"):
        raise ValidationError(f"scheme doit être 'FisherJenks' ou 'Quantiles', reçu {scheme!r}.")
    if isinstance(k, bool) or not isinstance(k, int) or not 2 <= k <= 9:
        raise ValidationError(f"k doit être un entier de 2 à 9, reçu {k!r}.")
    y = pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce").to_numpy(float)
    if np.isinf(y).any():
        raise ValidationError("Les valeurs à classer contiennent une valeur infinie.")
    present = ~np.isnan(y)
    if not present.any():
        raise ValidationError("Aucune valeur à classer : toutes sont manquantes.")
    data = y[present]
    n_unique = int(np.unique(data).size)
    if scheme == "FisherJenks":
        bins = fisher_jenks_bins(data, k)
    else:
        bins = np.unique(np.quantile(data, np.linspace(0, 1, k + 1)[1:]))
    bins = np.unique(np.append(bins[bins < data.max()], data.max()))[: min(k, n_unique)]
    forced = [float(b) for b in breaks if data.min() < float(b) < data.max()]
    bins = np.unique(np.append(bins, forced))
    cls = np.searchsorted(bins, data, side="left")
    yb = np.full(y.size, -1, dtype=np.int64)
    yb[present] = cls
    return Classes(
        bins=np.asarray(bins, dtype=float),
        yb=yb,
        counts=np.bincount(cls, minlength=bins.size).astype(np.int64),
        minimum=float(data.min()),
        n_missing=int((~present).sum()),
    )


@dataclass(frozen=True)
class Classing:
    """How a choropleth classes its values: ``k`` classes by ``scheme``, plus forced breaks."""

    k: int = 5
    scheme: Literal["FisherJenks", "Quantiles"] = "FisherJenks"
    breaks: tuple[float, ...] = ()
