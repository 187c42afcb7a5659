"""The road estimate: its fit, its spatial cross-validation, and the error it states.

Synthetic times with a known law check the fit and the folds by hand; the real OSRM car-time
matrix of Isère (``/work/shared/roads/isere``, skipped when absent) re-runs the
cross-validation, independently of ``scripts/fit_travel_estimate.py``, and checks the figures
the code states.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coverage._errors import ArgumentError, ValidationError
from coverage._geodesy import geodesic_km
from coverage.data.region import Region
from coverage.travel import EstimateModel, GeodesicModel, make_model
from coverage.travel.estimate import (
    ISERE_CV_ERROR,
    ISERE_FIT,
    TimeFit,
    fit_loglog,
    predict_minutes,
    spatial_cv,
)
from coverage.travel.geodesic import FRANCE_CIRCUITY

ISERE = Path(__file__).resolve().parents[1].parent / "shared" / "roads" / "isere"


def test_the_fit_recovers_a_known_power_law() -> None:
    km = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    minutes = 3.0 * km**0.8
    fit = fit_loglog(km, minutes)
    assert fit.scale == pytest.approx(3.0, rel=1e-12)
    assert fit.exponent == pytest.approx(0.8, rel=1e-12)


def test_a_prediction_by_hand() -> None:
    # 3.6017 x 10^0.7501 = 3.6017 x 5.6247 = 20.26 min for 10 km as the crow flies.
    assert predict_minutes(10.0) == pytest.approx(3.6017 * 10**0.7501)
    assert predict_minutes(0.0) == 0.0


def test_pairs_too_short_are_not_fitted() -> None:
    with pytest.raises(ArgumentError, match=r"needs at least two pairs with km >= 0\.5"):
        fit_loglog([0.1, 0.2], [1.0, 2.0])


def test_cross_validation_holds_out_whole_groups() -> None:
    # Six communes on a line; group "a" at 0, 4, 10 km, group "b" at 20, 27, 40 km. From an
    # origin in "a" the time is 3 min per km, from "b" 2 min per km. Holding out "a" fits on the
    # pairs within "b" only (t = 2 km exactly) and misses every pair from "a" by 1/3; holding
    # out "b" fits t = 3 km and misses every pair from "b" by 1/2. 15 pairs each.
    x = np.array([0.0, 4.0, 10.0, 20.0, 27.0, 40.0])
    km = np.abs(x[:, None] - x[None, :])
    groups = np.array(["a", "a", "a", "b", "b", "b"])
    minutes = np.where((groups == "a")[:, None], 3.0, 2.0) * km
    cv = spatial_cv(km, minutes, groups, grouping="test")
    assert (cv.groups, cv.pairs, cv.grouping) == (2, 30, "test")
    assert cv.median == pytest.approx((1 / 3 + 1 / 2) / 2)
    assert cv.p90 == pytest.approx(0.5)


def test_cross_validation_errors_match_a_plain_loop() -> None:
    rng = np.random.default_rng(4)
    n = 30
    xy = rng.uniform(0, 60, (n, 2))
    km = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    minutes = 3.5 * np.maximum(km, 1e-9) ** 0.75 * rng.lognormal(0, 0.15, (n, n))
    groups = rng.integers(0, 5, n)
    cv = spatial_cv(km, minutes, groups, grouping="g")
    errors = []
    for g in np.unique(groups):
        train = [(i, j) for i in range(n) for j in range(n) if groups[i] != g and groups[j] != g]
        train = [(i, j) for i, j in train if km[i, j] >= 0.5]
        b, a = np.polyfit(
            [np.log(km[i, j]) for i, j in train], [np.log(minutes[i, j]) for i, j in train], 1
        )
        for i in np.flatnonzero(groups == g):
            for j in range(n):
                if km[i, j] >= 0.5:
                    pred = np.exp(a) * km[i, j] ** b
                    errors.append(abs(pred - minutes[i, j]) / minutes[i, j])
    assert cv.pairs == len(errors)
    assert cv.median == pytest.approx(float(np.median(errors)), rel=1e-9)
    assert cv.p90 == pytest.approx(float(np.percentile(errors, 90)), rel=1e-9)


def test_the_estimate_model_gives_distance_and_time() -> None:
    pts = pd.DataFrame({"id": ["a", "b"], "lon": [2.44, 2.64], "lat": [44.93, 44.93]})
    table = EstimateModel().table(pts.iloc[:1], pts.iloc[1:])
    geo = GeodesicModel().table(pts.iloc[:1], pts.iloc[1:])["distance_km"].iloc[0]
    assert table["distance_km"].iloc[0] == pytest.approx(geo * FRANCE_CIRCUITY)
    assert table["duration_min"].iloc[0] == pytest.approx(3.6017 * geo**0.7501)
    assert table["model"].tolist() == ["estimate"]
    assert table.attrs["estimate_error"]["median"] == ISERE_CV_ERROR.median
    model = make_model("estimate")
    assert model.has_time and "estimation" in model.label_fr


def test_a_factor_out_of_range_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"`factor` must be between 1 and 3; got 0\.5"):
        EstimateModel(factor=0.5)


@pytest.fixture(scope="module")
def isere(region: Region) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(km, minutes, EPCI) of the real matrix, read with csv and json only."""
    matrix, points = ISERE / "TimeDistCarIsere.csv", ISERE / "isere.geojson"
    if not (matrix.is_file() and points.is_file()):
        pytest.skip(f"real Isère matrix absent: looked for {matrix} and {points}")
    with open(matrix, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    codes = rows[0][1:]
    order = {r[0]: r[1:] for r in rows[1:]}
    seconds = np.array([[float(v) for v in order[c]] for c in codes])
    features = json.loads(points.read_text(encoding="utf-8"))["features"]
    where = {
        f["properties"]["id"]: (f["properties"]["lon"], f["properties"]["lat"]) for f in features
    }
    lon = np.array([where[c][0] for c in codes])
    lat = np.array([where[c][1] for c in codes])
    km = geodesic_km(lon[:, None], lat[:, None], lon[None, :], lat[None, :])
    epci = region.communes.set_index("insee").loc[codes, "epci_code"].to_numpy()
    return km, seconds / 60.0, epci


def test_the_stated_constants_are_the_fit_on_the_isere_matrix(isere: tuple) -> None:
    km, minutes, _ = isere
    off = ~np.eye(len(km), dtype=bool)
    fit = fit_loglog(km[off], minutes[off])
    assert fit == TimeFit(
        scale=pytest.approx(ISERE_FIT.scale, abs=5e-5),  # type: ignore[arg-type]
        exponent=pytest.approx(ISERE_FIT.exponent, abs=5e-5),  # type: ignore[arg-type]
    )


def test_the_stated_error_is_the_isere_cross_validation(isere: tuple) -> None:
    km, minutes, epci = isere
    cv = spatial_cv(km, minutes, epci, grouping="EPCI")
    assert cv.groups == ISERE_CV_ERROR.groups == 18
    assert cv.pairs == ISERE_CV_ERROR.pairs
    assert cv.median == pytest.approx(ISERE_CV_ERROR.median, abs=5e-5)
    assert cv.p90 == pytest.approx(ISERE_CV_ERROR.p90, abs=5e-5)
    # The README of the data: a straight line misses the real time by a median of about 11 %.
    assert 0.09 < cv.median < 0.12


def test_cli_find_aurillac_with_the_estimate_states_its_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from coverage import french
    from coverage.cli import main

    assert main(["find", "Aurillac", "--travel", "estimate"]) == 0
    out = capsys.readouterr().out
    stated = french.share(ISERE_CV_ERROR.median, decimals=0)  # "11 %" (10.5 % rounded)
    assert f"en voiture (estimation, erreur médiane {stated})" in out
