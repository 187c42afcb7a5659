"""Headline figures: the population-weighted distribution of one cost, as a typed ``Headline``.

Also the AJA zone groups, the what-if deltas and the JSON helpers shared by the analysis
modules (the checks of a threshold and a cost are in ``coverage.analysis.checks``). Pure
functions: arrays in, typed facts out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from coverage.analysis import metrics
from coverage.analysis.access import AccessTable
from coverage.analysis.access_matrix import Cost
from coverage.analysis.results import Headline, TheilSplit, ThresholdShare, clean, threshold_key

#: Default acceptable distance (km), changeable by the planner.
DEFAULT_THRESHOLD: float = 30.0
#: Thresholds always reported (same unit as the cost).
REPORTED_THRESHOLDS: tuple[float, ...] = metrics.DEFAULT_THRESHOLDS
#: Group of communes in no AJA zone (an official zoning may leave some out).
NO_ZONE = "hors zone"
#: French unit of each cost.
UNITS: dict[str, str] = {"distance_km": "km", "duration_min": "min"}


def _thresholds(threshold: float) -> list[float]:
    return sorted({*REPORTED_THRESHOLDS, threshold})


_key = threshold_key


def headline(
    values: np.ndarray,
    weights: np.ndarray,
    *,
    threshold: float,
    deps: np.ndarray | None = None,
    zones: np.ndarray | None = None,
) -> Headline | None:
    """Headline figures of one cost per commune (NaN: no route, counted apart).

    The figures of ``metrics.summary`` at the thresholds 20, 30, 45 and ``threshold`` (which is
    also the half-distance of the Atkinson access score ``2^(-d/threshold)``), the
    communes and people with no route, and the Theil T decomposition by département and by
    AJA zone when the groups are given. ``None`` when no commune has a cost (no structure
    reachable).
    """
    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    ok = np.isfinite(values)
    if not ok.any() or not weights[ok].sum() > 0:
        return None
    x, w = values[ok], weights[ok]
    zs = _thresholds(threshold)
    s = metrics.summary(x, w, thresholds=zs, half_distance=threshold)
    shares = tuple(
        ThresholdShare(
            threshold=z,
            share=s[f"share_beyond_{_key(z)}"],
            population=s[f"population_beyond_{_key(z)}"],
            fgt_gap=s[f"fgt_gap_{_key(z)}"],
            fgt_severity=s[f"fgt_severity_{_key(z)}"],
        )
        for z in zs
    )
    split = {
        suffix: _theil_split(x, w, groups, ok, positive=s["mean"] > 0)
        for suffix, groups in (("dep", deps), ("aja", zones))
    }
    return Headline(
        communes=s["communes"],
        population=s["population"],
        mean=s["mean"],
        median=s["median"],
        p90=s["p90"],
        max=s["max"],
        gini=s["gini"],
        theil_t=s["theil_t"],
        palma=s["palma"],
        atkinson=s["atkinson"],
        thresholds=shares,
        threshold=threshold,
        communes_beyond=int(((x > threshold) & (w > 0)).sum()),
        communes_no_route=int((~ok).sum()),
        population_no_route=float(weights[~ok].sum()),
        theil_dep=split["dep"],
        theil_aja=split["aja"],
    )


def _theil_split(
    x: np.ndarray, w: np.ndarray, groups: np.ndarray | None, ok: np.ndarray, *, positive: bool
) -> TheilSplit | None:
    """Theil T between/within ``groups`` (``None`` without groups; undefined at mean 0)."""
    if groups is None:
        return None
    if not positive:
        return TheilSplit(between=None, within=None, between_share=None)
    d = metrics.theil_decomposition(x, w, np.asarray(groups, dtype=object)[ok])
    return TheilSplit(between=d.between, within=d.within, between_share=d.between_share)


def zone_groups(access: AccessTable) -> np.ndarray:
    """AJA zone of each commune (device id, or ``NO_ZONE``), as Theil groups."""
    device = access.col("aja_zone_device")
    return np.where(device == "", NO_ZONE, device)


def access_headline(access: AccessTable, *, threshold: float, by: Cost) -> Headline | None:
    """``headline`` of the nearest all-patients structure's ``by`` cost for ``access``."""
    return headline(
        access.nearest_cost("tous_publics", by),
        access.population,
        threshold=threshold,
        deps=access.col("dep"),
        zones=zone_groups(access),
    )


def _records(frame: pd.DataFrame | None, limit: int | None = None) -> list[dict[str, Any]]:
    if frame is None:
        return []
    rows = frame if limit is None else frame.head(limit)
    return [{str(k): clean(v) for k, v in r.items()} for r in rows.to_dict("records")]


def _clean_dict(d: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if d is None:
        return None
    return {k: clean(v) for k, v in d.items()}


def headline_deltas(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> dict[str, float | None]:
    """``after - before`` for every numeric headline key present in both (None if undefined)."""
    out: dict[str, float | None] = {}
    before, after = before or {}, after or {}
    for key, b in before.items():
        a = after.get(key)
        if isinstance(b, (int, float)) and isinstance(a, (int, float)) and not isinstance(b, bool):
            out[key] = float(a) - float(b)
        elif key in after:
            out[key] = None
    return out
