"""Tests of coverage.metrics: hand-computed fixtures, properties, PySAL inequality, real data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from _facts import PREFECTURES
from hypothesis import example, given, settings
from hypothesis import strategies as st
from inequality.atkinson import atkinson as pysal_atkinson
from inequality.gini import Gini
from inequality.theil import Theil, TheilD

from coverage._errors import ValidationError
from coverage.analysis import inequality_indices as ineq
from coverage.analysis import metrics as m

# Four communes: distances (km) and populations, small enough to check by hand.
D = np.array([0.0, 10.0, 20.0, 40.0])
W = np.array([1.0, 2.0, 3.0, 4.0])  # total 10 inhabitants; weighted mean 240 / 10 = 24


# ----------------------------------------------------------------------------- hand fixture


def test_mean_and_quantiles_by_hand():
    assert m.weighted_mean(D, W) == pytest.approx(24.0)
    # cumulative population shares of the sorted communes: 0.1, 0.3, 0.6, 1.0
    assert m.weighted_quantile(D, W, 0.1) == 0.0
    assert m.weighted_quantile(D, W, 0.3) == 10.0
    assert m.weighted_quantile(D, W, 0.31) == 20.0
    assert m.weighted_quantile(D, W, 0.5) == 20.0
    assert m.p90(D, W) == 40.0
    np.testing.assert_array_equal(m.weighted_quantile(D, W, [0.0, 0.6, 1.0]), [0.0, 20.0, 40.0])


def test_zero_weight_commune_is_ignored():
    d = np.array([99.0, 10.0, 20.0])
    w = np.array([0.0, 1.0, 1.0])
    assert m.weighted_quantile(d, w, 0.0) == 10.0
    assert ineq.gini(d, w) == pytest.approx(ineq.gini([10.0, 20.0]))


def test_share_beyond_is_strict():
    assert m.share_beyond(D, W, 20) == pytest.approx(0.4)  # 20 km is within 20 km
    assert m.share_beyond(D, W, 19.999) == pytest.approx(0.7)
    assert m.share_beyond(D, W, 0) == pytest.approx(0.9)
    assert m.share_beyond(D, W, 40) == 0.0
    assert m.shares_beyond(D, W, [0, 10, 20, 40]) == pytest.approx(
        {0.0: 0.9, 10.0: 0.7, 20.0: 0.4, 40.0: 0.0}
    )


def test_fgt_by_hand():
    # z = 16: commune at 20 km (3 people) exceeds by 4/16, at 40 km (4 people) by 24/16.
    assert m.fgt(D, W, 16, 0) == pytest.approx(0.7)
    assert m.fgt(D, W, 16, 1) == pytest.approx((3 * 0.25 + 4 * 1.5) / 10)
    assert m.fgt(D, W, 16, 2) == pytest.approx((3 * 0.25**2 + 4 * 1.5**2) / 10)
    assert m.fgt(D, W, 16, 0) == m.share_beyond(D, W, 16)


def test_gini_and_lorenz_by_hand():
    # sum over pairs of w_i w_j |x_i - x_j| = 780; G = 2 * 780 / (2 * 10^2 * 24)
    assert ineq.gini(D, W) == pytest.approx(1560 / 4800)
    p, v = ineq.lorenz(D, W)
    np.testing.assert_allclose(p, [0, 0.1, 0.3, 0.6, 1.0])
    np.testing.assert_allclose(v, [0, 0, 20 / 240, 80 / 240, 1.0])
    area = np.sum(np.diff(p) * (v[1:] + v[:-1]) / 2)
    assert ineq.gini(D, W) == pytest.approx(1 - 2 * area, abs=1e-12)


def test_palma_by_hand():
    # nearest 40 %: 1 person at 0, 2 at 10, 1 at 20 -> 40 km; farthest 10 %: 1 person at 40.
    assert ineq.palma(D, W) == pytest.approx(1.0)
    assert ineq.palma([5.0, 5.0, 5.0]) == pytest.approx(0.25)
    assert ineq.palma([0.0, 0.0, 0.0, 0.0, 7.0]) == math.inf


def test_theil_by_hand():
    expected = (
        2 * (10 / 24) * math.log(10 / 24)
        + 3 * (20 / 24) * math.log(20 / 24)
        + 4 * (40 / 24) * math.log(40 / 24)
    ) / 10
    assert m.theil_t(D, W) == pytest.approx(expected, rel=1e-12)


def test_theil_decomposition_by_hand():
    res = m.theil_decomposition(D, W, ["a", "a", "b", "b"])
    # group a: 3 people, mean 20/3, value share 20/240; group b: 7 people, mean 220/7.
    between = (20 / 240) * math.log((20 / 3) / 24) + (220 / 240) * math.log((220 / 7) / 24)
    assert res.between == pytest.approx(between, rel=1e-12)
    assert res.total == pytest.approx(m.theil_t(D, W), rel=1e-15)
    assert res.between + res.within == pytest.approx(res.total, rel=1e-13)
    assert list(res.groups.index) == ["a", "b"]
    assert res.groups.loc["a", "population"] == 3
    assert res.groups.loc["b", "mean"] == pytest.approx(220 / 7)
    assert res.groups.loc["a", "theil"] == pytest.approx(m.theil_t([0.0, 10.0], [1.0, 2.0]))
    assert res.groups["value_share"].sum() == pytest.approx(1.0)


def test_atkinson_by_hand():
    # half distance 10 km: scores 1, 1/2, 1/4, 1/16; mean score 0.3; geometric mean 2^-2.4.
    np.testing.assert_allclose(ineq.access_score(D, half_distance=10), [1, 0.5, 0.25, 1 / 16])
    assert ineq.atkinson(D, W, epsilon=1, half_distance=10) == pytest.approx(1 - 2**-2.4 / 0.3)
    harmonic = 10 / (1 + 2 * 2 + 3 * 4 + 4 * 16)
    assert ineq.atkinson(D, W, epsilon=2, half_distance=10) == pytest.approx(1 - harmonic / 0.3)
    assert ineq.atkinson(D, W, epsilon=0, half_distance=10) == pytest.approx(0.0, abs=1e-15)


def test_equal_values_have_no_inequality():
    x = np.full(7, 12.5)
    w = np.arange(1.0, 8.0)
    assert ineq.gini(x, w) == pytest.approx(0.0, abs=1e-15)
    assert m.theil_t(x, w) == pytest.approx(0.0, abs=1e-15)
    assert ineq.atkinson(x, w) == pytest.approx(0.0, abs=1e-15)
    assert ineq.palma(x, w) == pytest.approx(0.25)
    dec = m.theil_decomposition(x, w, list("aabbbcc"))
    assert dec.between == pytest.approx(0.0, abs=1e-15)
    assert dec.within == pytest.approx(0.0, abs=1e-15)


def test_summary_keys_and_values():
    s = m.summary(D, W, thresholds=(16, 30))
    assert s["communes"] == 4 and s["population"] == 10.0
    assert s["mean"] == pytest.approx(24.0) and s["median"] == 20.0 and s["p90"] == 40.0
    assert s["max"] == 40.0
    assert s["gini"] == pytest.approx(0.325) and s["palma"] == pytest.approx(1.0)
    assert s["share_beyond_16"] == pytest.approx(0.7)
    assert s["population_beyond_30"] == 4.0
    assert s["fgt_gap_16"] == pytest.approx(0.675)
    assert s["fgt_severity_30"] == pytest.approx(4 * (10 / 30) ** 2 / 10)
    assert all(isinstance(v, (int, float)) for v in s.values())
    everyone_at_zero = m.summary([0.0, 0.0], [1, 1])
    assert everyone_at_zero["gini"] is None and everyone_at_zero["palma"] is None
    assert everyone_at_zero["share_beyond_20"] == 0.0


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("values", "weights", "match"),
    [
        ([1.0, 2.0], [1.0], "same length; got 2 and 1"),
        ([1.0, np.nan], None, "`values` must be finite"),
        ([1.0, np.inf], [1, 1], "`values` must be finite"),
        ([1.0, 2.0], [1.0, -1.0], "`weights` must be >= 0; got -1.0"),
        ([1.0, 2.0], [0.0, 0.0], "positive sum"),
        ([1.0, 2.0], [1.0, np.nan], "`weights` must be finite"),
        ([], None, "`values` is empty"),
        ([[1.0, 2.0]], None, "one-dimensional"),
        ([1.0, -2.0], None, "`values` must be >= 0; got -2.0"),
        (["a", "b"], None, "`values` must be numbers"),
    ],
)
def test_bad_input_names_the_argument(values, weights, match):
    with pytest.raises(ValidationError, match=match):
        ineq.gini(values, weights)


def test_bad_parameters_are_refused():
    with pytest.raises(ValidationError, match="`q` must be between 0 and 1"):
        m.weighted_quantile(D, W, 1.5)
    with pytest.raises(ValidationError, match="`threshold` must be a finite number > 0"):
        m.fgt(D, W, 0, 1)
    with pytest.raises(ValidationError, match="`alpha` must be a finite number >= 0"):
        m.fgt(D, W, 10, -1)
    with pytest.raises(ValidationError, match="`threshold` must be a finite number >= 0"):
        m.share_beyond(D, W, -5)
    with pytest.raises(ValidationError, match=r"`scores` must be > 0; got 0\.0"):
        ineq.atkinson_index([0.0, 1.0])
    with pytest.raises(ValidationError, match="`epsilon` must be a finite number >= 0"):
        ineq.atkinson(D, W, epsilon=-1)
    with pytest.raises(ValidationError, match="`half_distance` must be a finite number > 0"):
        ineq.atkinson(D, W, half_distance=0)
    with pytest.raises(ValidationError, match="Gini coefficient is undefined"):
        ineq.gini([0.0, 0.0])
    with pytest.raises(ValidationError, match="`groups` must have the same length"):
        m.theil_decomposition(D, W, ["a"])
    with pytest.raises(ValidationError, match="`groups` has missing labels"):
        m.theil_decomposition(D, W, ["a", None, "b", "b"])
    with pytest.raises(ValidationError, match="`thresholds` is empty"):
        m.shares_beyond(D, W, [])


# ----------------------------------------------------------------------------- PySAL inequality

positive_arrays = st.lists(
    st.floats(min_value=0.01, max_value=500, allow_nan=False), min_size=2, max_size=60
).map(np.array)


@settings(max_examples=60, deadline=None)
@given(positive_arrays)
def test_equal_weights_match_pysal(x):
    assert ineq.gini(x) == pytest.approx(Gini(x).g, abs=1e-9)
    assert m.theil_t(x) == pytest.approx(Theil(x).T, abs=1e-9)
    assert ineq.atkinson_index(x, epsilon=0.5) == pytest.approx(pysal_atkinson(x, 0.5), abs=1e-9)
    assert ineq.atkinson_index(x, epsilon=1.0) == pytest.approx(pysal_atkinson(x, 1.0), abs=1e-9)


@pytest.mark.filterwarnings("ignore:Setting the shape on a NumPy array:DeprecationWarning")
def test_theil_decomposition_matches_pysal_theild():
    rng = np.random.default_rng(7)
    x = rng.gamma(2.0, 12.0, 300) + 0.5
    groups = rng.integers(0, 6, 300)
    ours = m.theil_decomposition(x, None, groups)
    theirs = TheilD(x, groups)
    assert ours.total == pytest.approx(float(theirs.T), abs=1e-9)
    assert ours.between == pytest.approx(float(np.ravel(theirs.bg)[0]), abs=1e-9)
    assert ours.within == pytest.approx(float(np.ravel(theirs.wg)[0]), abs=1e-9)


# ----------------------------------------------------------------------------- properties

# distances rounded to 1e-6: no subnormal floats (meaningless as distances)
distances = st.floats(min_value=0, max_value=300).map(lambda v: round(v, 6))
weighted = st.integers(min_value=2, max_value=40).flatmap(
    lambda n: st.tuples(
        st.lists(distances, min_size=n, max_size=n),
        st.lists(st.integers(min_value=0, max_value=20), min_size=n, max_size=n),
        st.lists(st.integers(min_value=0, max_value=3), min_size=n, max_size=n),
    )
)


def test_gini_of_equal_values_is_exactly_zero():
    # Without the clamp this case gave -1.5e-17 (rounding in the cumulative sums).
    w = np.array([2.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 3.0, 2.0, 3.0])
    assert ineq.gini(np.full(10, 3.3), w) == 0.0


@settings(max_examples=80, deadline=None)
@given(weighted, st.floats(min_value=0.01, max_value=1000))
@example(([20, 20, 20], [1, 2, 3], [0, 0, 1]), 3.3)
def test_properties(data, scale):
    x, w, g = (np.array(a) for a in data)
    if w.sum() == 0 or np.dot(w, x) == 0:
        return
    w = w.astype(float)
    # scale invariance of the relative indices
    assert ineq.gini(x * scale, w) == pytest.approx(ineq.gini(x, w), abs=1e-9)
    assert m.theil_t(x * scale, w) == pytest.approx(m.theil_t(x, w), abs=1e-9)
    assert ineq.gini(x, w * scale) == pytest.approx(ineq.gini(x, w), abs=1e-9)
    # a commune of weight k is k people: integer weights equal replication
    rep = np.repeat(x, w.astype(int))
    assert ineq.gini(x, w) == pytest.approx(ineq.gini(rep), abs=1e-9)
    assert m.theil_t(x, w) == pytest.approx(m.theil_t(rep), abs=1e-9)
    assert ineq.palma(x, w) == pytest.approx(ineq.palma(rep), rel=1e-9)
    for q in (0.0, 0.25, 0.5, 0.9, 1.0):
        assert m.weighted_quantile(x, w, q) == np.quantile(rep, q, method="inverted_cdf")
    assert 0.0 <= ineq.gini(x, w) < 1.0
    # the decomposition adds up
    dec = m.theil_decomposition(x, w, g)
    assert dec.between + dec.within == pytest.approx(dec.total, abs=1e-12)
    assert dec.within >= -1e-12 and dec.between >= -1e-12
    # FGT: each order is at most the previous one times the largest normalised gap
    z = float(np.median(x)) + 1.0
    g_max = max(0.0, (x[w > 0].max() - z) / z)
    assert m.fgt(x, w, z, 0) == pytest.approx(m.share_beyond(x, w, z))
    assert m.fgt(x, w, z, 1) <= m.fgt(x, w, z, 0) * g_max + 1e-12
    assert m.fgt(x, w, z, 2) <= m.fgt(x, w, z, 1) * g_max + 1e-12


# ----------------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def real():
    """Population and distance (km, geodesic) of every commune to its nearest préfecture.

    The préfectures are test fixtures giving realistic distances, not care structures.
    """
    from coverage.data.region import load_region
    from coverage.travel.base import nearest
    from coverage.travel.geodesic import GeodesicModel

    communes = load_region(region="84").communes
    origins = pd.DataFrame(
        {"id": communes["insee"], "lon": communes["lon"], "lat": communes["lat"]}
    )
    dest = origins[origins["id"].isin(PREFECTURES)]
    near = nearest(GeodesicModel().table(origins, dest)).set_index("origin")
    frame = communes.set_index("insee")[["population", "dep"]].join(near["distance_km"])
    return frame


def test_real_region_is_well_formed(real):
    assert len(real) == 4025
    assert real["distance_km"].notna().all()
    # the 12 préfectures are at distance 0 from themselves, nobody else is
    assert set(real.index[real["distance_km"] == 0]) == set(PREFECTURES)


def test_real_weighted_gini_equals_pysal_on_replicated_population(real):
    d = real["distance_km"].to_numpy()
    pop = real["population"].to_numpy()
    replicated = np.repeat(d, pop)  # one value per inhabitant (~8 million)
    assert ineq.gini(d, pop) == pytest.approx(Gini(replicated).g, abs=1e-9)
    assert m.weighted_quantile(d, pop, 0.5) == np.quantile(replicated, 0.5, method="inverted_cdf")
    assert m.p90(d, pop) == np.quantile(replicated, 0.9, method="inverted_cdf")
    # population weights matter: cities are near their préfecture
    assert m.weighted_mean(d, pop) < m.weighted_mean(d)


def test_real_summary_and_decomposition(real):
    d = real["distance_km"].to_numpy()
    pop = real["population"].to_numpy()
    s = m.summary(d, pop)
    at_zero = real.loc[list(PREFECTURES), "population"].sum()
    assert m.share_beyond(d, pop, 0) == pytest.approx(1 - at_zero / pop.sum())
    assert s["population"] == pop.sum()
    assert s["population_beyond_30"] == pop[d > 30].sum()
    assert s["median"] <= s["p90"] <= s["max"]
    assert s["share_beyond_20"] >= s["share_beyond_30"] >= s["share_beyond_45"] > 0
    assert 0 < s["gini"] < 1 and s["palma"] > 0.25
    dec = m.theil_decomposition(d, pop, real["dep"].to_numpy())
    assert len(dec.groups) == 12
    assert dec.between + dec.within == pytest.approx(dec.total, rel=1e-12)
    assert dec.groups["population"].sum() == pop.sum()
