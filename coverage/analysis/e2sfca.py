"""E2SFCA accessibility of the analysis: computed only when every capacity is known."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from coverage.analysis import metrics
from coverage.analysis.access import AccessTable

E2SFCA_UNKNOWN_FR = "non calculé : capacités inconnues"


def e2sfca_status(access: AccessTable) -> tuple[pd.DataFrame | None, str]:
    """The E2SFCA index per commune (``coverage.analysis.capacity``), or why it was not computed.

    Returns ``(None, "non calculé : capacités inconnues (...)")`` when any all-patients
    structure lacks a capacity: capacities are never invented. Otherwise
    ``coverage.analysis.capacity.e2sfca_for_access`` decides (it needs travel times).
    """
    from coverage.analysis import capacity

    s = access.structures
    cols = access.kind_columns("tous_publics")
    if cols.size == 0:
        return None, "non calculé : aucune structure tous publics localisée"
    cap = s["capacity"].to_numpy(dtype=float)[cols]
    if np.isnan(cap).any():
        unknown = int(np.isnan(cap).sum())
        return None, f"{E2SFCA_UNKNOWN_FR} ({unknown} structure(s) sur {cols.size} sans capacité)"
    return capacity.e2sfca_for_access(access)


def e2sfca_summary(table: pd.DataFrame) -> dict[str, Any] | None:
    """Population-weighted figures of the ``e2sfca`` column (``None`` when absent).

    Keys: ``mean``, ``median``, ``p10`` (index below which 10 % of the inhabitants live),
    ``population_zero`` and ``share_zero`` (inhabitants who reach no structure in time).
    """
    if "e2sfca" not in table.columns:
        return None
    x = table["e2sfca"].to_numpy(dtype=float)
    w = table["population"].to_numpy(dtype=float)
    ok = np.isfinite(x) & (w > 0)
    if not ok.any():
        return None
    xs, ws = x[ok], w[ok]
    q10, q50 = np.atleast_1d(metrics.weighted_quantile(xs, ws, [0.1, 0.5]))
    zero = float(ws[xs == 0].sum())
    return {
        "mean": metrics.weighted_mean(xs, ws),
        "median": float(q50),
        "p10": float(q10),
        "population_zero": zero,
        "share_zero": zero / float(ws.sum()),
    }
