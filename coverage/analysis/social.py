"""Social gradient of access: the concentration index of travel cost along deprivation.

Do the more deprived communes live farther from a structure? Communes are ranked by a
deprivation index, least deprived first, each weighing its population (or demand); the
concentration index of the travel cost (distance or time) along that rank answers it in one
number, and the per-quintile table shows the gradient.

Concentration index (Kakwani, Wagstaff & van Doorslaer 1997, "Socioeconomic inequalities in
health: measurement, computation, and statistical inference", J. Econometrics 77(1):87-103;
O'Donnell, van Doorslaer, Wagstaff & Lindelow 2008, "Analyzing Health Equity Using Household
Survey Data", World Bank, ch. 8, eq. 8.7 with weights)::

    C = 2 * cov_w(h, r) / mu_w

where ``h`` is the travel cost, ``mu_w`` its weighted mean, and ``r`` the weighted fractional
rank along deprivation: with units sorted from least to most deprived and total weight
``W``, ``r_i = (W_before_i + w_i / 2) / W``; units with equal index share the rank of their
group (``W_before`` of the group, plus half the group's weight). ``C`` lies in (-1, 1):
``C > 0`` means the cost is concentrated among the more deprived (they live farther),
``C < 0`` among the less deprived, 0 no gradient. Note the sign convention: ranking from
least to most deprived is the reverse of the usual poorest-to-richest income rank, so a
positive value here is the "pro-poor-unfavourable" case.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from coverage._errors import ArgumentError

QUINTILES = 5


def _arrays(
    values: object, index: object, weights: object
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    h = np.asarray(values, dtype=float)
    x = np.asarray(index, dtype=float)
    w = np.asarray(weights, dtype=float)
    if not (h.ndim == x.ndim == w.ndim == 1 and len(h) == len(x) == len(w)):
        raise ArgumentError("`values`, `index` and `weights` must be 1-D and of equal length.")
    if not (np.isfinite(h).all() and np.isfinite(x).all() and np.isfinite(w).all()):
        raise ArgumentError("`values`, `index` and `weights` must be finite (drop missing rows).")
    if (w < 0).any() or w.sum() <= 0:
        raise ArgumentError("`weights` must be >= 0 with a positive sum.")
    return h, x, w


def fractional_rank(index: object, weights: object) -> np.ndarray:
    """Weighted fractional rank in (0, 1) along ``index`` ascending; ties share their rank."""
    x = np.asarray(index, dtype=float)
    w = np.asarray(weights, dtype=float)
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], w[order]
    _, start = np.unique(xs, return_index=True)
    group_w = np.add.reduceat(ws, start) if len(ws) else ws
    before = np.concatenate([[0.0], np.cumsum(group_w)[:-1]])
    group_rank = (before + group_w / 2.0) / w.sum()
    ranks = np.empty_like(x)
    ranks[order] = np.repeat(group_rank, np.diff(np.append(start, len(xs))))
    return ranks


def concentration_index(values: object, index: object, weights: object) -> float:
    """Concentration index of ``values`` (travel cost) along ``index`` (higher = more deprived).

    ``weights`` are the communes' populations (or demand). See the module docstring for the
    formula and references. Returns NaN when the weighted mean cost is 0.
    """
    h, x, w = _arrays(values, index, weights)
    mu = float(np.average(h, weights=w))
    if mu == 0:
        return float("nan")
    r = fractional_rank(x, w)
    cov = float(np.average((h - mu) * (r - np.average(r, weights=w)), weights=w))
    return 2.0 * cov / mu


def quintile_table(values: object, index: object, weights: object) -> pd.DataFrame:
    """Weighted mean cost per deprivation quintile (1 = least deprived, 5 = most deprived).

    Quintiles split the weighted population along the fractional rank (each holds about a fifth
    of the weight; tied index values stay together). Columns: ``quintile``, ``communes``,
    ``weight``, ``index_min``, ``index_max``, ``mean_cost`` (weighted).
    """
    h, x, w = _arrays(values, index, weights)
    q = np.minimum(np.floor(fractional_rank(x, w) * QUINTILES).astype(int) + 1, QUINTILES)
    rows = []
    for k in range(1, QUINTILES + 1):
        m = q == k
        wk = w[m]
        rows.append(
            {
                "quintile": k,
                "communes": int(m.sum()),
                "weight": float(wk.sum()),
                "index_min": float(x[m].min()) if m.any() else float("nan"),
                "index_max": float(x[m].max()) if m.any() else float("nan"),
                "mean_cost": float(np.average(h[m], weights=wk)) if wk.sum() > 0 else float("nan"),
            }
        )
    return pd.DataFrame(rows)
