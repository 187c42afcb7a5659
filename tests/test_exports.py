"""Tests of coverage.exports: CSV for French spreadsheets (formulas neutralised), GeoPackage."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pyogrio
import pytest

from coverage._errors import ValidationError
from coverage.analysis.access_build import build_access
from coverage.analysis.analyse import analyse
from coverage.outputs.exports import (
    EXPORT_NAMES,
    GPKG_LAYERS,
    export_folder,
    neutralise_cell,
    to_csv_bytes,
    write_csv,
    write_gpkg,
)
from coverage.travel.catchments import computed_zones
from coverage.travel.geodesic import GeodesicModel


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+33 4 73 00 00 00", "'+33 4 73 00 00 00"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-3,5", "-3,5"),  # a plain number the tool wrote: not a formula
        ("-12", "-12"),
        ("Lyon", "Lyon"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_neutralise_cell(cell, expected):
    assert neutralise_cell(cell) == expected


def test_csv_format_round_trips_and_neutralises():
    frame = pd.DataFrame(
        {
            "nom": ["=cmd|' /C calc'!A0", "Saint-Étienne; centre", 'Le "Puy"', "@x"],
            "n": [1, 2, 3, 4],
            "km": [1.5, -2.25, np.nan, 1234.5],
            "ok": [True, False, True, False],
        }
    )
    data = to_csv_bytes(frame, decimals={"km": 2})
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark for Excel
    text = data.decode("utf-8-sig")
    lines = text.split("\r\n")
    assert lines[0] == "nom;n;km;ok"
    assert lines[1] == "'=cmd|' /C calc'!A0;1;1,50;oui"
    assert lines[2] == '"Saint-Étienne; centre";2;-2,25;non'  # quoted, negative kept a number
    assert lines[3] == '"Le ""Puy""";3;;oui'
    assert lines[4].startswith("'@x;")
    back = pd.read_csv(
        io.BytesIO(data),
        sep=";",
        decimal=",",
        encoding="utf-8-sig",
        keep_default_na=False,
        na_values=[""],
    )
    assert back["km"].tolist()[:2] == [1.5, -2.25] and np.isnan(back["km"].iloc[2])
    assert back["nom"].iloc[1] == "Saint-Étienne; centre"
    assert not any(str(v).startswith(("=", "+", "@")) for v in back["nom"])


def test_headers_are_neutralised_too():
    data = to_csv_bytes(pd.DataFrame({"=x": [1]})).decode("utf-8-sig")
    assert data.startswith("'=x\r\n")


@pytest.fixture(scope="module")
def analysis(region, registry):
    zones = computed_zones(region=region, registry=registry)
    access = build_access(region, registry, zones=zones, model=GeodesicModel())
    return analyse(access, region=region, registry=registry)


def test_commune_csv_matches_the_analysis(analysis, tmp_path):
    path = write_csv(analysis, tmp_path / "communes.csv")
    back = pd.read_csv(
        path,
        sep=";",
        decimal=",",
        encoding="utf-8-sig",
        dtype={"code_insee": str, "departement": str, "code_epci": str},
    )
    assert len(back) == 4025
    assert back["code_insee"].tolist() == analysis.communes["insee"].tolist()
    np.testing.assert_allclose(back["distance_km"], analysis.communes["distance_km"], atol=0.005)
    assert back["population"].sum() == analysis.communes["population"].sum()
    assert set(back["au_dela_du_seuil"]) <= {"oui", "non"}
    assert (back["au_dela_du_seuil"] == "oui").sum() == len(analysis.gaps)
    assert back["departement"].str.len().eq(2).all()  # "01" keeps its leading zero
    assert sorted(p.name for p in tmp_path.iterdir()) == ["communes.csv"]  # no temp file left


def test_geopackage_layers(analysis, region, tmp_path):
    path = write_gpkg(analysis, tmp_path / "communes.gpkg", region=region)
    layers = dict(pyogrio.list_layers(path))
    assert set(layers) == set(GPKG_LAYERS)
    assert layers["structures"] == "Point"
    info = pyogrio.read_info(path, layer="communes")
    assert info["features"] == 4025 and info["crs"] == "EPSG:4326"
    df = pyogrio.read_dataframe(path, layer="communes", read_geometry=False)
    np.testing.assert_allclose(df["distance_km"], analysis.communes["distance_km"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["communes.gpkg"]


def test_export_folder_uses_fixed_names_and_checks_suffixes(analysis, region, tmp_path):
    paths = export_folder(analysis, tmp_path, region=region)
    assert {p.name for p in paths.values()} == set(EXPORT_NAMES.values())
    with pytest.raises(ValidationError, match=r"« \.csv »"):
        write_csv(analysis, tmp_path / "communes.xlsx")
    with pytest.raises(ValidationError, match=r"« \.gpkg »"):
        write_gpkg(analysis, tmp_path / "communes.csv", region=region)


def test_geopackage_on_a_full_disk_is_a_french_error(analysis, region, tmp_path):
    import os
    import shutil
    import subprocess

    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip(f"mounting a tmpfs under {tmp_path} needs root and mount(8)")
    small = tmp_path / "petit"
    small.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(small)], check=False
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs at {small}")
    try:
        # The GeoPackage is several MB: GDAL fails midway with "database or disk is full".
        with pytest.raises(ValidationError, match=r"GeoPackage '.*communes\.gpkg'.*disque"):
            write_gpkg(analysis, small / "communes.gpkg", region=region)
        assert list(small.iterdir()) == []  # work file and journal removed
    finally:
        subprocess.run(["umount", "-l", str(small)], check=False)
