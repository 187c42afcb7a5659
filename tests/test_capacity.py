"""Tests of coverage.capacity (E2SFCA): hand fixture, PySAL access, real distances."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _facts import PREFECTURES
from access import Access

from coverage._errors import ValidationError
from coverage.analysis import capacity as cap


def _table(rows, by="duration_min"):
    t = pd.DataFrame(rows, columns=["origin", "destination", by])
    t["model"] = "test"
    return t


# Two communes, two structures, costs in minutes (Luo & Qi zone weights 1 / 0.68 / 0.22 / 0).
HAND = _table([("A", "X", 5.0), ("A", "Y", 25.0), ("B", "X", 15.0), ("B", "Y", 35.0)])
HAND_POP = pd.Series({"A": 1000.0, "B": 3000.0})
HAND_CAP = pd.Series({"X": 400.0, "Y": 100.0})


def test_e2sfca_by_hand():
    r = cap.e2sfca(HAND, HAND_POP, HAND_CAP)
    assert r.computed and r.reason == "" and r.missing == ()
    # X is reached by A (weight 1) and B (0.68): 1000 + 2040 = 3040 people; Y by A (0.22).
    assert r.ratios["X"] == pytest.approx(400 / 3040)
    assert r.ratios["Y"] == pytest.approx(100 / 220)
    assert r.scores["A"] == pytest.approx(400 / 3040 + 0.22 * 100 / 220)
    assert r.scores["B"] == pytest.approx(0.68 * 400 / 3040)
    # every place is used by someone: population-weighted scores add up to the capacity
    assert (r.scores * HAND_POP).sum() == pytest.approx(HAND_CAP.sum())
    scaled = cap.e2sfca(HAND, HAND_POP, HAND_CAP, per=100_000)
    assert scaled.scores["B"] == pytest.approx(100_000 * r.scores["B"])


def test_two_sfca_by_hand():
    r = cap.two_sfca(HAND, HAND_POP, HAND_CAP, max_cost=20)
    # X reached by A and B (4000 people), Y by nobody within 20 min.
    assert r.ratios["X"] == pytest.approx(0.1)
    assert np.isnan(r.ratios["Y"])
    assert r.scores.to_dict() == pytest.approx({"A": 0.1, "B": 0.1})


def test_step_weights_bounds_are_inclusive():
    got = cap.step_weights(
        np.array([0, 10, 10.001, 20, 30, 30.001, np.inf, np.nan]), cap.LUO_QI_2009_STEPS
    )
    np.testing.assert_array_equal(got, [1, 1, 0.68, 0.68, 0.22, 0, 0, 0])


def test_commune_out_of_reach_scores_zero():
    t = pd.concat([HAND, _table([("C", "X", 45.0)])])
    pop = pd.concat([HAND_POP, pd.Series({"C": 50.0, "D": 10.0})])  # D has no row at all
    r = cap.e2sfca(t, pop, HAND_CAP)
    assert r.scores["C"] == 0.0 and r.scores["D"] == 0.0
    assert r.scores["A"] == pytest.approx(cap.e2sfca(HAND, HAND_POP, HAND_CAP).scores["A"])


def test_unknown_capacities_are_not_invented():
    r = cap.e2sfca(HAND, HAND_POP, None)
    assert not r.computed and r.scores is None and r.ratios is None
    assert r.reason == cap.NOT_COMPUTED_FR == "non calculé : capacités des structures inconnues"
    assert set(r.missing) == {"X", "Y"}
    partial = cap.e2sfca(HAND, HAND_POP, pd.Series({"X": 400.0, "Y": np.nan}))
    assert not partial.computed and partial.missing == ("Y",)
    assert "1 structure(s) sans capacité" in partial.reason
    absent = cap.e2sfca(HAND, HAND_POP, pd.Series({"X": 400.0}))
    assert not absent.computed and absent.missing == ("Y",)
    assert cap.e2sfca(HAND, HAND_POP, HAND_CAP).scores is not None


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"steps": ((20, 1.0), (10, 0.5))}, "strictly increasing; got \\[20.0, 10.0\\]"),
        ({"steps": ((10, 1.5),)}, "weights must be between 0 and 1"),
        ({"steps": ()}, "`steps` is empty"),
        ({"steps": "10"}, "`steps` must be \\(upper bound, weight\\) pairs"),
        ({"per": 0}, "`per` must be a positive number; got 0"),
        ({"by": "distance_km"}, "lacks column\\(s\\) \\['distance_km'\\]"),
        ({"capacity": pd.Series({"X": -1.0, "Y": 1.0})}, "`capacity` must be finite numbers >= 0"),
        ({"population": pd.Series({"A": -5.0, "B": 1.0})}, "`population` must be finite numbers"),
        ({"population": {"A": 1.0}}, "`population` must be a pandas Series"),
        ({"capacity": pd.Series([1.0, 2.0], index=["X", "X"])}, "`capacity` repeats ids"),
    ],
)
def test_bad_input_is_refused(kwargs, match):
    args = {"population": HAND_POP, "capacity": HAND_CAP, **kwargs}
    with pytest.raises(ValidationError, match=match):
        cap.e2sfca(HAND, args.pop("population"), args.pop("capacity"), **args)


def test_table_problems_are_refused():
    mixed = HAND.assign(model=["a", "a", "b", "b"])
    with pytest.raises(ValidationError, match="mixes travel models \\['a', 'b'\\]"):
        cap.e2sfca(mixed, HAND_POP, HAND_CAP)
    no_time = HAND.assign(duration_min=np.nan)
    with pytest.raises(ValidationError, match="gives no duration_min; use by='distance_km'"):
        cap.e2sfca(no_time, HAND_POP, HAND_CAP)
    negative = HAND.assign(duration_min=[-1.0, 2.0, 3.0, 4.0])
    with pytest.raises(ValidationError, match=r"must be >= 0; got -1\.0"):
        cap.e2sfca(negative, HAND_POP, HAND_CAP)


# ----------------------------------------------------------------------------- PySAL access


def _pysal(table, pop, capa, by):
    return Access(
        demand_df=pop.rename("pop").to_frame().rename_axis("geoid"),
        demand_index=True,
        demand_value="pop",
        supply_df=capa.rename("cap").to_frame().rename_axis("geoid"),
        supply_index=True,
        supply_value="cap",
        cost_df=table,
        cost_origin="origin",
        cost_dest="destination",
        cost_name=by,
    )


def test_matches_pysal_access_on_synthetic_table():
    rng = np.random.default_rng(3)
    n, m = 200, 15
    origins = [f"o{i}" for i in range(n)]
    dests = [f"d{j}" for j in range(m)]
    t = _table(
        list(zip(np.repeat(origins, m), np.tile(dests, n), rng.uniform(0, 50, n * m), strict=True))
    )
    pop = pd.Series(rng.integers(1, 5000, n).astype(float), index=origins)
    capa = pd.Series(rng.integers(50, 3000, m).astype(float), index=dests)
    ref = _pysal(t, pop, capa, "duration_min")
    ours = cap.e2sfca(t, pop, capa).scores
    theirs = ref.enhanced_two_stage_fca()["e2sfca_cap"].reindex(ours.index).fillna(0.0)
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), rtol=1e-12, atol=1e-15)
    ours2 = cap.two_sfca(t, pop, capa, max_cost=20).scores
    theirs2 = ref.two_stage_fca(max_cost=20)["2sfca_cap"].reindex(ours2.index).fillna(0.0)
    np.testing.assert_allclose(ours2.to_numpy(), theirs2.to_numpy(), rtol=1e-12, atol=1e-15)


@pytest.fixture(scope="module")
def real_table():
    """Geodesic table communes x préfectures, with *synthetic* capacities (test fixture only:
    the préfectures are not care structures and 1,000 patients a year is made up)."""
    from coverage.data.region import load_region
    from coverage.travel.geodesic import GeodesicModel

    c = load_region(region="84").communes
    points = pd.DataFrame({"id": c["insee"], "lon": c["lon"], "lat": c["lat"]})
    table = GeodesicModel().table(points, points[points["id"].isin(PREFECTURES)])
    pop = c.set_index("insee")["population"].astype(float)
    capa = pd.Series(1000.0, index=list(PREFECTURES))
    return table, pop, capa


def test_real_distances_match_pysal_access(real_table):
    table, pop, capa = real_table
    steps = ((20.0, 1.0), (40.0, 0.68), (60.0, 0.22))  # km, for a table without times
    ours = cap.e2sfca(table, pop, capa, by="distance_km", steps=steps)
    ref = _pysal(table, pop, capa, "distance_km")
    weight = {20: 1.0, 40: 0.68, 60: 0.22}
    from access.weights import step_fn

    theirs = ref.enhanced_two_stage_fca(weight_fn=step_fn(weight))["e2sfca_cap"]
    theirs = theirs.reindex(ours.scores.index).fillna(0.0)
    np.testing.assert_allclose(ours.scores.to_numpy(), theirs.to_numpy(), rtol=1e-10, atol=1e-15)
    assert len(ours.scores) == 4025 and (ours.scores > 0).sum() < 4025  # some are out of reach
    with pytest.raises(ValidationError, match="gives no duration_min"):
        cap.e2sfca(table, pop, capa)  # geodesic: no times, the default unit is refused
    # conservation: each préfecture's catchment is inhabited, so all capacity is shared out
    assert (ours.scores * pop).sum() == pytest.approx(capa.sum())


# ----------------------------------------------------------------------------- AccessTable


def _access_table(capacity, with_time=True):
    from coverage.analysis.access import AccessTable
    from coverage.travel.geodesic import GeodesicModel

    communes = pd.DataFrame(
        {"insee": ["A", "B"], "population": [1000.0, 3000.0], "dep": "15", "lon": 0.0, "lat": 0.0}
    )
    structures = pd.DataFrame(
        {
            "id": ["X", "Y", "Z"],
            "name": ["X", "Y", "Z"],
            "kind": ["tous_publics", "tous_publics", "aja"],
            "lon": 0.0,
            "lat": 0.0,
            "capacity": capacity,
        }
    )
    minutes = np.array([[5.0, 25.0, 1.0], [15.0, 35.0, 1.0]])
    return AccessTable(
        communes=communes,
        structures=structures,
        distance_km=minutes,
        duration_min=minutes if with_time else None,
        model=GeodesicModel(),
    )


def test_e2sfca_for_access_table():
    frame, note = cap.e2sfca_for_access(_access_table([400.0, 100.0, np.nan]))
    # the AJA structure Z has no capacity but is not of the requested kind
    expected = cap.e2sfca(HAND, HAND_POP, HAND_CAP, per=100_000).scores
    assert list(frame["insee"]) == ["A", "B"]
    np.testing.assert_allclose(frame["e2sfca"], expected[["A", "B"]])
    assert note == (
        "calculé (Luo & Qi 2009 : zones 0-10 / 10-20 / 20-30 min pondérées 1 ; 0,68 ; 0,22), "
        "en patients par an pour 100 000 habitant(s)"
    )
    none, why = cap.e2sfca_for_access(_access_table([400.0, np.nan, 5.0]))
    assert none is None and why.startswith("non calculé : capacités des structures inconnues")
    none, why = cap.e2sfca_for_access(_access_table([400.0, 100.0, 5.0], with_time=False))
    assert none is None and "ne donne pas de durée" in why
