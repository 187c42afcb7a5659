"""The commune-matrix travel model: reading, units, refusals, coverage, and real Isère times.

Small matrices written here by hand (three communes of Isère, values worked out on paper)
check the reading rules; the real OSRM car-time matrix of the 512 Isère communes
(``/work/shared/roads/isere``, skipped when absent) checks the finder and the access table
against its cells, read independently with the ``csv`` module.
"""

from __future__ import annotations

import csv
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coverage._errors import ValidationError
from coverage.analysis.access_build import access_from_frames
from coverage.cli import main
from coverage.data.region import Region
from coverage.patient.finder import Finder
from coverage.travel import GeodesicModel, TravelModel, make_model
from coverage.travel.estimate import EstimateModel
from coverage.travel.matrix import MatrixModel
from coverage.travel.matrix_file import MatrixUnitWarning, read_matrix

ISERE = Path(__file__).resolve().parents[1].parent / "shared" / "roads" / "isere"
ISERE_CSV = ISERE / "TimeDistCarIsere.csv"
needs_isere = pytest.mark.skipif(
    not ISERE_CSV.is_file(), reason=f"real Isère matrix absent: looked for {ISERE_CSV}"
)
#: Grenoble, Le Bourg-d'Oisans, Vienne.
THREE = ("38185", "38052", "38544")


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARCOURS_CACHE_DIR", str(tmp_path / "cache"))


def _model(region: Region, path: Path, **kw: object) -> MatrixModel:
    model = make_model("matrix", matrix=str(path), region=region, **kw)  # type: ignore[arg-type]
    assert isinstance(model, MatrixModel)
    return model


def _wide(path: Path, codes: tuple[str, ...], rows: list[list[object]]) -> Path:
    lines = [",".join(['"id"', *(f'"{c}"' for c in codes)])]
    lines += [
        ",".join([f'"{c}"', *(str(v) for v in row)]) for c, row in zip(codes, rows, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


#: Seconds between the three communes (origin rows): plausible car times, asymmetric. The
#: straight lines are 27.6 km (Grenoble-Bourg), 77.3 km (Grenoble-Vienne), 104.8 km.
SECONDS = [[0, 2700, 3900], [2760, 0, 6000], [3960, 6060, 0]]
#: Road km, about 1.3 times the straight lines.
KM = [[0, 36, 100], [36, 0, 136], [100, 136, 0]]


def _points(region: Region, codes: tuple[str, ...]) -> pd.DataFrame:
    c = region.communes.set_index("insee").loc[list(codes)].reset_index()
    return pd.DataFrame({"id": c["insee"], "lon": c["lon"], "lat": c["lat"]})


# --- reading and units ---------------------------------------------------------------------


def test_a_wide_matrix_in_seconds_gives_minutes_cell_by_cell(tmp_path: Path, region: Region):
    model = _model(region, _wide(tmp_path / "m.csv", THREE, SECONDS), unit="s")
    table = model.table(_points(region, THREE), _points(region, THREE))
    got = table.pivot(index="origin", columns="destination", values="duration_min")
    expected = pd.DataFrame(np.array(SECONDS) / 60, index=list(THREE), columns=list(THREE))
    pd.testing.assert_frame_equal(
        got.loc[list(THREE), list(THREE)], expected, check_names=False, check_dtype=False
    )
    assert (table["model"] == "matrix").all()
    assert (table["origin_gap_km"] == 0).all() and (table["destination_gap_km"] == 0).all()
    assert model.has_time and model.distance_source == "geodesic"
    assert "km à vol d'oiseau" in model.label_fr


def test_rows_in_another_order_are_matched_by_code(tmp_path: Path, region: Region):
    path = tmp_path / "m.csv"
    rows = [",".join(['"id"', *(f'"{c}"' for c in THREE)])]
    for i in (2, 0, 1):  # rows shuffled, columns kept
        rows.append(",".join([f'"{THREE[i]}"', *map(str, SECONDS[i])]))
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    m = read_matrix(path, unit="s")
    np.testing.assert_allclose(m.duration_min, np.array(SECONDS) / 60)


def test_a_long_matrix_reads_units_from_its_column_names(tmp_path: Path, region: Region):
    long = pd.DataFrame(
        [
            (o, d, SECONDS[i][j] / 60, KM[i][j])
            for i, o in enumerate(THREE)
            for j, d in enumerate(THREE)
            if i != j
        ],
        columns=["origin", "destination", "duration_min", "distance_km"],
    )
    path = tmp_path / "long.parquet"
    long.to_parquet(path)
    model = _model(region, path)
    assert model.matrix.unit == "min,km" and model.matrix.unit_source == "nom de colonne"
    table = model.table(_points(region, THREE[:1]), _points(region, THREE[1:]))
    assert table["duration_min"].tolist() == pytest.approx([45.0, 65.0])
    assert table["distance_km"].tolist() == pytest.approx([36.0, 100.0])
    assert model.distance_source == "matrix"


def test_an_undeclared_unit_is_inferred_only_with_a_warning(tmp_path: Path, region: Region):
    path = _wide(tmp_path / "m.csv", THREE, SECONDS)
    with pytest.warns(MatrixUnitWarning, match=r"valeurs lues en secondes, la seule unité"):
        model = _model(region, path)
    assert model.matrix.unit == "s" and model.matrix.unit_source == "déduite"


def test_minutes_declared_for_seconds_are_refused(tmp_path: Path, region: Region):
    path = _wide(tmp_path / "m.csv", THREE, SECONDS)
    # Read as minutes, the six values per straight-line km have the median
    # (6000 / 104.8 + 3900 / 77.3 ... ) -> (57.25 + 57.82) / 2 = 57.5 min/km: 60 / 57.5 = 1.0 km/h.
    with pytest.raises(
        ValidationError,
        match=r"^La matrice 'm\.csv' ne semble pas être en minutes : lue ainsi, elle donne une "
        r"vitesse médiane à vol d'oiseau de 1,0 km/h ; vérifiez l'unité \(--matrix-unit s ou "
        r"min \(durées\), km ou m \(distances\)\)\.$",
    ):
        _model(region, path, unit="min")


def test_an_unknown_unit_is_refused(tmp_path: Path, region: Region):
    with pytest.raises(ValidationError, match=r"^Unité de matrice inconnue 'h' : choisissez"):
        _model(region, _wide(tmp_path / "m.csv", THREE, SECONDS), unit="h")


def test_the_read_is_cached_by_file_digest(tmp_path: Path, region: Region):
    path = _wide(tmp_path / "m.csv", THREE, SECONDS)
    first = read_matrix(path, unit="s")
    cached = list((tmp_path / "cache" / "matrices").glob("*.npz"))
    assert len(cached) == 1
    again = read_matrix(path, unit="s")
    np.testing.assert_array_equal(first.duration_min, again.duration_min)
    _wide(path, THREE, [[0, 60, 60], [60, 0, 60], [60, 60, 0]])  # new content, new digest
    assert read_matrix(path, unit="s").duration_min[0, 1] == 1.0
    assert len(list((tmp_path / "cache" / "matrices").glob("*.npz"))) == 2


# --- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("-5", r"ligne 3, colonne '38185' : valeur négative '-5'"),
        ("abc", r"ligne 3, colonne '38185' : valeur non numérique 'abc'"),
        ("", r"ligne 3, colonne '38185' : valeur manquante ''"),
    ],
)
def test_bad_values_are_refused_naming_line_and_column(
    tmp_path: Path, region: Region, cell: str, message: str
):
    rows = [list(r) for r in SECONDS]
    rows[1][0] = cell  # line 3 of the file (header is line 1), column of Grenoble
    with pytest.raises(ValidationError, match=r"^Matrice 'm\.csv', " + message):
        _model(region, _wide(tmp_path / "m.csv", THREE, rows), unit="s")


def test_a_non_square_matrix_is_refused(tmp_path: Path, region: Region):
    path = _wide(tmp_path / "m.csv", THREE, SECONDS)
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines[:3]) + "\n", encoding="utf-8")
    with pytest.raises(
        ValidationError,
        match=r"^La matrice 'm\.csv' n'est pas carrée : 3 colonne\(s\) de communes mais 2 "
        r"ligne\(s\) ; le fichier semble coupé \(lignes manquantes\) ou transposé\.",
    ):
        _model(region, path, unit="s")


def test_a_code_that_is_not_insee_or_lost_its_zero_is_refused(tmp_path: Path, region: Region):
    with pytest.raises(
        ValidationError,
        match=r"^Matrice 'm\.csv' : 1 code\(s\) INSEE inconnu\(s\) en en-tête : \['1053'\] "
        r"\(zéro initial perdu par un tableur \?\)\.$",
    ):
        _model(region, _wide(tmp_path / "m.csv", ("38185", "38052", "1053"), SECONDS), unit="s")


def test_a_commune_outside_the_region_is_refused(tmp_path: Path, region: Region):
    with pytest.raises(
        ValidationError,
        match=r"^Matrice 'm\.csv' : 1 commune\(s\) hors d'Auvergne-Rhône-Alpes \(la région "
        r"servie\) : \['75056'\] ; gardez seulement les communes d'Auvergne-Rhône-Alpes\.$",
    ):
        _model(region, _wide(tmp_path / "m.csv", ("38185", "38052", "75056"), SECONDS), unit="s")


def test_a_code_of_no_french_commune_is_refused(tmp_path: Path, region: Region):
    with pytest.raises(
        ValidationError,
        match=r"^Matrice 'm\.csv' : 1 code\(s\) INSEE inconnu\(s\) \(aucune commune de France\)"
        r" : \['38999'\]\.$",
    ):
        _model(region, _wide(tmp_path / "m.csv", ("38185", "38052", "38999"), SECONDS), unit="s")


def test_the_matrix_file_may_come_from_the_environment(
    tmp_path: Path, region: Region, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("PARCOURS_MATRIX", str(_wide(tmp_path / "env.csv", THREE, SECONDS)))
    monkeypatch.setenv("PARCOURS_MATRIX_UNIT", "s")
    model = make_model("matrix", region=region)
    assert isinstance(model, MatrixModel) and model.matrix.name == "env.csv"
    assert model.matrix.unit_source == "déclarée"


def test_no_matrix_file_is_refused_in_french(region: Region, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("PARCOURS_MATRIX", raising=False)
    with pytest.raises(ValidationError, match=r"indiquez-le avec --matrix FICHIER ou \$PARCOURS"):
        make_model("matrix", region=region)


# --- partial coverage, structures, fallback -------------------------------------------------


def test_uncovered_communes_are_counted_named_and_left_nan(tmp_path: Path, region: Region):
    model = _model(region, _wide(tmp_path / "m.csv", THREE, SECONDS), unit="s")
    cov = model.coverage()
    assert cov.covered == 3 and cov.n_uncovered == len(region.communes) - 3
    isere = int((region.communes["dep"] == "38").sum())
    assert cov.by_departement["38"] == (3, isere)
    assert ("01001", "L'Abergement-Clémenciat", "01") in cov.uncovered
    lyon = region.communes.loc[region.communes["insee"] == "69123"]
    table = model.table(_points(region, THREE[:1]), _points(region, ("69123",)))
    assert np.isnan(table["duration_min"]).all() and table["model"].tolist() == ["matrix"]
    assert table.attrs["uncovered_pairs"] == 1 and len(lyon) == 1


def test_a_fallback_measures_the_uncovered_pairs_and_says_so(tmp_path: Path, region: Region):
    model = _model(region, _wide(tmp_path / "m.csv", THREE, SECONDS), unit="s", fallback="estimate")
    dest = _points(region, ("38052", "69123"))
    table = model.table(_points(region, ("38185",)), dest)
    assert table["model"].tolist() == ["matrix", "estimate"]
    assert table.attrs["fallback"] == "estimate"
    assert table.attrs["fallback_error"]["median"] == EstimateModel().error.median
    ref = EstimateModel().table(_points(region, ("38185",)), dest)
    assert table["duration_min"].tolist() == [45.0, ref["duration_min"].iloc[1]]


def test_a_structure_uses_its_communes_column_with_the_gap_stated(tmp_path: Path, region: Region):
    model = _model(region, _wide(tmp_path / "m.csv", THREE, SECONDS), unit="s")
    grenoble = region.communes.loc[region.communes["insee"] == "38185"].iloc[0]
    # A point 0.01 degree east of Grenoble's point, still inside the commune's polygon.
    lon, lat = grenoble["lon"] + 0.01, grenoble["lat"]
    assert region.commune_at(lon, lat) == "38185"
    site = pd.DataFrame({"id": ["site"], "lon": [lon], "lat": [lat]})
    table = model.table(_points(region, ("38052",)), site)
    assert table["duration_min"].iloc[0] == 2760 / 60
    assert table["destination_insee"].iloc[0] == "38185"
    expected_gap = GeodesicModel().table(site, _points(region, ("38185",)))["distance_km"].iloc[0]
    assert table["destination_gap_km"].iloc[0] == pytest.approx(expected_gap, rel=1e-12)
    assert 0.5 < expected_gap < 1.0  # 0.01 degree of longitude at 45 N is about 0.79 km


def test_the_matrix_model_meets_the_travel_protocol(tmp_path: Path, region: Region):
    model = _model(region, _wide(tmp_path / "m.csv", THREE, SECONDS), unit="s")
    assert isinstance(model, TravelModel)


# --- the real Isère matrix -----------------------------------------------------------------


def _cells() -> dict[tuple[str, str], float]:
    """Every cell of the real matrix in seconds, read with the csv module (not the model)."""
    with open(ISERE_CSV, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0][1:]
    return {(r[0], d): float(v) for r in rows[1:] for d, v in zip(header, r[1:], strict=True)}


@pytest.fixture(scope="module")
def isere_cells() -> dict[tuple[str, str], float]:
    if not ISERE_CSV.is_file():
        pytest.skip(f"real Isère matrix absent: looked for {ISERE_CSV}")
    return _cells()


@needs_isere
def test_the_finder_gives_the_matrix_cell_of_the_structures_commune(
    region: Region, isere_cells: dict, monkeypatch: pytest.MonkeyPatch
):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MatrixUnitWarning)
        model = _model(region, ISERE_CSV)
    finder = Finder.load(model=model, region="84")
    place = finder.lookup("Bourg-d'Oisans").place
    assert place is not None
    result = finder.find(place, k=3)
    assert result.aja is not None
    aja = result.aja.device
    commune = region.commune_at(float(aja["lon"]), float(aja["lat"]))
    assert commune is not None and commune.startswith("38")
    assert aja["duration_min"] == pytest.approx(isere_cells[("38052", commune)] / 60, rel=1e-12)


@needs_isere
def test_the_access_table_holds_the_cells_for_isere_communes(region: Region, isere_cells: dict):
    model = _model(region, ISERE_CSV, unit="s")
    c = region.communes
    isere = c[c["dep"] == "38"].reset_index(drop=True)
    rng = np.random.default_rng(12)
    picked = isere.iloc[rng.choice(len(isere), 5, replace=False)]
    sites = pd.DataFrame(
        {
            "id": [f"s{i}" for i in range(5)],
            "name": [f"s{i}" for i in range(5)],
            "kind": "tous_publics",
            "lon": picked["lon"].to_numpy(),
            "lat": picked["lat"].to_numpy(),
        }
    )
    access = access_from_frames(c, sites, model=model)
    dur = np.asarray(access.matrix("duration_min"))
    # Communes sharing their point with another (a few in the region table) cannot be told
    # apart by a point: they take the commune whose polygon holds it (tested below).
    shared = c.duplicated(["lon", "lat"], keep=False).to_numpy()
    assert shared.sum() <= 10
    rows = np.flatnonzero((c["dep"].to_numpy() == "38") & ~shared)
    expected = np.array(
        [[isere_cells[(c["insee"].iloc[i], d)] / 60 for d in picked["insee"]] for i in rows]
    )
    np.testing.assert_allclose(dur[rows], expected, rtol=1e-12)
    outside = np.flatnonzero(c["dep"].to_numpy() != "38")
    assert np.isinf(dur[outside]).all()  # not covered: no time, never 0


@needs_isere
@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (
            "cut",
            r"n'est pas carrée : 512 colonne\(s\) de communes mais 300 ligne\(s\) ; le "
            r"fichier semble coupé \(lignes manquantes\) ou transposé\.",
        ),
        (
            "partial",
            r"n'est pas carrée : 20 colonne\(s\) de communes mais 512 ligne\(s\) ; le "
            r"fichier semble transposé ou partiel \(colonnes manquantes\)\.",
        ),
        (
            "cut_line",
            r"^Matrice 'damaged\.csv', ligne 301 : 100 valeur\(s\) au lieu de 512 ; le "
            r"fichier semble coupé\.$",
        ),
        (
            "transposed",
            r"^La matrice 'damaged\.csv' n'est pas carrée : 512 colonne\(s\) de "
            r"communes mais 20 ligne\(s\) ; le fichier semble coupé \(lignes manquantes\) ou "
            r"transposé\. Chaque commune doit avoir sa ligne \(origine\) et sa colonne "
            r"\(destination\)\.$",
        ),
        ("minutes", r"ne semble pas être en minutes"),
        ("paris", r"1 commune\(s\) hors d'Auvergne-Rhône-Alpes \(la région servie\) : \['75056'"),
    ],
)
def test_damaged_copies_of_the_real_matrix_are_refused(
    tmp_path: Path, region: Region, damage: str, message: str
):
    wide = pd.read_csv(ISERE_CSV, dtype=str)
    path = tmp_path / "damaged.csv"
    unit = "s"
    if damage == "cut":
        wide.iloc[:300].to_csv(path, index=False)
    elif damage == "cut_line":
        text = ISERE_CSV.read_text(encoding="utf-8").splitlines()
        text[300] = ",".join(text[300].split(",")[:101])
        path.write_text("\n".join(text) + "\n", encoding="utf-8")
    elif damage == "partial":
        wide.iloc[:, :21].to_csv(path, index=False)  # 512 origins x 20 destinations
    elif damage == "transposed":
        part = wide.set_index("id").iloc[:, :20]  # 512 origins x 20 destinations
        part.T.rename_axis("id").reset_index().to_csv(path, index=False)  # 20 rows x 512
    elif damage == "minutes":
        wide.to_csv(path, index=False)
        unit = "min"
    else:
        code = wide["id"].iloc[7]
        wide["id"] = wide["id"].replace(code, "75056")
        wide.rename(columns={code: "75056"}).to_csv(path, index=False)
    with pytest.raises(ValidationError, match=message):
        _model(region, path, unit=unit)


@needs_isere
def test_cli_find_shows_the_matrix_time(capsys: pytest.CaptureFixture[str], isere_cells: dict):
    assert (
        main(
            [
                "find",
                "Bourg-d'Oisans",
                "--travel",
                "matrix",
                "--matrix",
                str(ISERE_CSV),
                "--matrix-unit",
                "s",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "distancier TimeDistCarIsere.csv" in out
    minutes = isere_cells[("38052", "38516")] / 60  # La Tronche, the AJA device's commune
    line = next(x for x in out.splitlines() if "La Tronche (" in x)
    shown = re.search(r"(\d+)\s?h\s?(\d+)", line)
    assert shown is not None
    assert int(shown.group(1)) * 60 + int(shown.group(2)) == round(minutes)


@needs_isere
def test_a_point_two_communes_share_goes_to_the_commune_whose_polygon_holds_it(
    region: Region, isere_cells: dict
):
    model = _model(region, ISERE_CSV, unit="s")
    c = region.communes
    pair = c[c["insee"].isin(["38058", "38180"])]  # Brézins and Gillonnay share a point
    assert pair[["lon", "lat"]].drop_duplicates().shape[0] == 1
    lon, lat = float(pair["lon"].iloc[0]), float(pair["lat"].iloc[0])
    holder = region.commune_at(lon, lat)
    site = pd.DataFrame({"id": ["x"], "lon": [lon], "lat": [lat]})
    table = model.table(site, _points(region, ("38185",)))
    assert table["origin_insee"].iloc[0] == holder
    assert table["duration_min"].iloc[0] == isere_cells[(holder, "38185")] / 60


def test_nearest_accepts_a_matrix_table_with_its_declared_fallback(tmp_path: Path, region: Region):
    from coverage.travel.base import nearest

    model = _model(region, _wide(tmp_path / "m.csv", THREE, SECONDS), unit="s", fallback="estimate")
    table = model.table(_points(region, ("38185",)), _points(region, ("38052", "69123")))
    best = nearest(table, by="duration_min")
    assert best["destination"].tolist() == ["38052"]  # 45 min by the matrix beats Lyon
    assert best.attrs["model"] == "matrix"
    mixed = table.copy()
    mixed.attrs = {"model": "matrix"}  # no fallback declared: refused
    with pytest.raises(ValidationError, match=r"mixes travel models \['estimate', 'matrix'\]"):
        nearest(mixed)


def test_an_access_table_measured_wholly_by_the_fallback_is_accepted(
    tmp_path: Path, region: Region
):
    # Origins and structures all outside the matrix: every row is the fallback's. The table
    # still declares its model and fallback, so the access table takes it (it refused it:
    # the check wanted at least one matrix row).
    model = _model(region, _wide(tmp_path / "m.csv", THREE, SECONDS), unit="s", fallback="estimate")
    c = region.communes
    lyon = c[c["insee"].isin(["69123", "69266"])].reset_index(drop=True)
    site = _points(region, ("15014",)).assign(name="Aurillac", kind="tous_publics")
    access = access_from_frames(lyon, site, model=model)
    expected = EstimateModel().table(
        _points(region, ("69123", "69266")), _points(region, ("15014",))
    )
    np.testing.assert_allclose(
        np.asarray(access.matrix("duration_min"))[:, 0], expected["duration_min"], rtol=1e-12
    )
