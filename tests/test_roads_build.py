"""Building and locating OSRM datasets: manifest, coverage check, failures that leave nothing.

Builds use the hand-written network beside Aurillac (``tests/fixtures/roads``), real extracts
from ``/work/shared/osm`` (skipped when absent) and, for the coverage check, OSM files written
here with one short street at each commune point of the region.
"""

from __future__ import annotations

import ast
import hashlib
import json
import shutil
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import osmium
import pytest

from coverage import roads
from coverage._errors import RoadEngineError, ValidationError
from coverage.cli import main
from coverage.cli.roads import render_event
from coverage.data.region import Region

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "roads"
GRID = FIXTURES / "aurillac_grid.osm"
OSM = Path(__file__).resolve().parents[1].parent / "shared" / "osm"
MONACO = OSM / "monaco.osm.pbf"
SAINT_BARTH = OSM / "saint_barthelemy.osm.pbf"
needs_monaco = pytest.mark.skipif(not MONACO.is_file(), reason="monaco.osm.pbf absent")
needs_saint_barth = pytest.mark.skipif(not SAINT_BARTH.is_file(), reason="extract absent")


@pytest.fixture(scope="session")
def grid_build(tmp_path_factory: pytest.TempPathFactory, region: Region) -> tuple[Path, list]:
    """The hand-written network built once (partial: it covers a corner of one commune)."""
    lines: list[str] = []
    out = tmp_path_factory.mktemp("roads") / "grid"
    path = roads.build_dataset(
        GRID,
        out=out,
        partial=True,
        progress=_words(lines),
        activate=False,
        communes=region.communes,
    )
    return path, lines


def _words(lines: list[str]) -> Callable[[roads.BuildEvent], None]:
    """Collect the French line the command line prints for each build event."""
    return lambda event: lines.append(render_event(event))


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _commune_streets(path: Path, region: Region, *, drop_dep: str | None = None) -> Path:
    """An OSM file with a 40 m residential street starting at every commune point."""
    communes = region.communes
    if drop_dep is not None:
        communes = communes[communes["dep"] != drop_dep]
    nodes, ways = [], []
    for i, (lon, lat) in enumerate(zip(communes["lon"], communes["lat"], strict=True)):
        a, b = 2 * i + 1, 2 * i + 2
        nodes.append(f'<node id="{a}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"/>')
        nodes.append(f'<node id="{b}" version="1" lat="{lat + 0.00036:.7f}" lon="{lon:.7f}"/>')
        ways.append(
            f'<way id="{i + 1}" version="1"><nd ref="{a}"/><nd ref="{b}"/>'
            '<tag k="highway" v="residential"/></way>'
        )
    body = "\n".join(
        ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6">', *nodes, *ways, "</osm>"]
    )
    path.write_text(body, encoding="utf-8")
    return path


# --- the manifest --------------------------------------------------------------------------


def test_tiny_network_builds_with_its_manifest(grid_build: tuple[Path, list]) -> None:
    folder, _ = grid_build
    ds = roads.open_dataset(folder)
    m = ds.manifest
    # The latest node timestamp written by hand in the fixture (no date in its header).
    assert m["extract"]["date"] == "2024-06-15T08:00:00Z"
    assert m["extract"]["date_source"] == "max_node_timestamp"
    assert m["extract"]["sha256"] == hashlib.sha256(GRID.read_bytes()).hexdigest()
    assert m["osrm_bindings_version"] == metadata.version("osrm-bindings")
    assert m["algorithm"] == "MLD"
    assert m["partial"] is True
    names = [s["name"] for s in m["stages"]]
    assert names == ["read", "extract", "partition", "customize", "coverage"]
    for stage in m["stages"]:
        assert stage["seconds"] >= 0
        if stage["name"] in ("extract", "partition", "customize"):
            assert stage["peak_rss_mb"] > 0
    assert m["peak_rss_mb"] == max(s["peak_rss_mb"] for s in m["stages"] if s["peak_rss_mb"])
    for suffix in roads.REQUIRED_SUFFIXES:
        assert (folder / (roads.BASE_NAME + suffix)).is_file()
    assert ds.dataset_id and len(ds.dataset_id) == 16
    assert _leftovers(folder.parent) == []


def test_coverage_of_the_tiny_network_is_a_corner_of_cantal(
    grid_build: tuple[Path, list], region: Region
) -> None:
    cov = roads.open_dataset(grid_build[0]).manifest["coverage"]
    assert cov["checked"] is True
    assert cov["missing"] == list(region.departements)  # all 12, Cantal barely touched
    # Aurillac's town hall (2.4450, 44.9303) is 37 m north of the "Rue de test sud".
    assert cov["departements"]["15"]["covered"] >= 1
    assert cov["departements"]["15"]["share"] < roads.COVERED_SHARE
    for dep, row in cov["departements"].items():
        if dep != "15":
            assert row["covered"] == 0


def test_progress_names_each_stage_with_its_time_and_memory(
    grid_build: tuple[Path, list],
) -> None:
    text = "\n".join(grid_build[1])
    for tool in ("osrm-extract", "osrm-partition", "osrm-customize"):
        assert f"({tool})…" in text
    assert text.count("mémoire max") == 3
    assert "Étape 4/4 : vérification de la couverture" in text
    assert "Jeu de données prêt en" in text


@needs_monaco
def test_date_from_the_pbf_header() -> None:
    # /work/shared/osm/README.md gives 2016-03-05 as the OSM data date of this extract.
    date, source = roads.extract_date(MONACO)
    assert date.startswith("2016-03-05T")
    assert source == "osmosis_replication_timestamp"


@needs_saint_barth
def test_date_from_the_latest_node_when_the_header_has_none() -> None:
    class Latest(osmium.SimpleHandler):
        def __init__(self) -> None:
            super().__init__()
            self.best = None

        def node(self, n: osmium.osm.Node) -> None:
            if self.best is None or n.timestamp > self.best:
                self.best = n.timestamp

    handler = Latest()
    handler.apply_file(str(SAINT_BARTH))
    date, source = roads.extract_date(SAINT_BARTH)
    assert source == "max_node_timestamp"
    assert date == handler.best.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- the region must be covered ------------------------------------------------------------


def test_an_extract_covering_every_commune_is_accepted(tmp_path: Path, region: Region) -> None:
    osm = _commune_streets(tmp_path / "ara_streets.osm", region)
    folder = roads.build_dataset(
        osm, out=tmp_path / "ara", activate=False, communes=region.communes
    )
    cov = roads.open_dataset(folder).manifest["coverage"]
    assert cov["missing"] == []
    assert all(r["share"] == 1.0 for r in cov["departements"].values())
    assert roads.open_dataset(folder).manifest["partial"] is False


def test_an_extract_missing_one_departement_is_refused_by_name(
    tmp_path: Path, region: Region
) -> None:
    osm = _commune_streets(tmp_path / "sans_cantal.osm", region, drop_dep="15")
    with pytest.raises(
        RoadEngineError,
        match=r"1 département\(s\) sur 12 absent\(s\) : 15 "
        r"\(Cantal\)\. .*--partial",
    ):
        roads.build_dataset(osm, out=tmp_path / "ds", activate=False, communes=region.communes)
    assert not (tmp_path / "ds").exists()
    assert _leftovers(tmp_path) == []
    # With --partial it is built, and the manifest says what is missing.
    folder = roads.build_dataset(
        osm, out=tmp_path / "ds", partial=True, activate=False, communes=region.communes
    )
    assert roads.open_dataset(folder).manifest["coverage"]["missing"] == ["15"]


@needs_monaco
def test_monaco_is_refused_naming_the_twelve_departements(tmp_path: Path, region: Region) -> None:
    lines: list[str] = []
    with pytest.raises(
        RoadEngineError,
        match=r"'monaco\.osm\.pbf' ne couvre pas la région.*"
        r"12 département\(s\) sur 12 absent\(s\) : 01 \(Ain\), 03 \(Allier\).*"
        r"74 \(Haute-Savoie\)\.",
    ):
        roads.build_dataset(
            MONACO, out=tmp_path / "monaco", progress=_words(lines), communes=region.communes
        )
    # Refused from the header's bounding box, before any tool ran.
    assert not any("Étape" in line for line in lines)
    assert not (tmp_path / "monaco").exists()
    assert _leftovers(tmp_path) == []


def test_the_full_check_refuses_when_the_header_has_no_bounding_box(
    tmp_path: Path, region: Region
) -> None:
    lines: list[str] = []
    with pytest.raises(RoadEngineError, match=r"15 \(Cantal\)"):
        roads.build_dataset(
            GRID,
            out=tmp_path / "grid",
            progress=_words(lines),
            activate=False,
            communes=region.communes,
        )
    assert any("Étape 4/4" in line for line in lines)
    assert not (tmp_path / "grid").exists()
    assert _leftovers(tmp_path) == []


@needs_monaco
def test_coverage_table_of_monaco_is_empty_and_far(tmp_path: Path, region: Region) -> None:
    folder = roads.build_dataset(
        MONACO, out=tmp_path / "m", partial=True, activate=False, communes=region.communes
    )
    table = roads.coverage_by_departement(roads.open_dataset(folder), communes=region.communes)
    assert list(table["dep"]) == list(region.departements)
    assert table["missing"].all()
    assert (table["covered"] == 0).all()
    assert (table["median_snap_m"] > 100_000).all()  # Savoie to Monaco: more than 100 km
    assert table["communes"].sum() == len(region.communes)


# --- failures leave nothing behind ---------------------------------------------------------


def test_a_file_that_is_not_osm_is_refused(tmp_path: Path, region: Region) -> None:
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(b"ceci n'est pas un extrait OpenStreetMap\n" * 10)
    with pytest.raises(
        RoadEngineError,
        match=r"'.*bad\.osm\.pbf' n'est pas un extrait "
        r"OpenStreetMap lisible",
    ):
        roads.build_dataset(bad, out=tmp_path / "ds", partial=True, communes=region.communes)
    assert not (tmp_path / "ds").exists()


@needs_monaco
def test_a_truncated_pbf_fails_at_extraction_and_leaves_nothing(
    tmp_path: Path, region: Region
) -> None:
    cut = tmp_path / "cut.osm.pbf"
    cut.write_bytes(MONACO.read_bytes()[: MONACO.stat().st_size // 2])
    with pytest.raises(
        RoadEngineError,
        match=r"échoué à l'étape « extraction du réseau "
        r"routier » \(osrm-extract .*'cut\.osm\.pbf' est un extrait "
        r"OpenStreetMap complet et non tronqué",
    ):
        roads.build_dataset(cut, out=tmp_path / "ds", partial=True, communes=region.communes)
    assert not (tmp_path / "ds").exists()
    assert _leftovers(tmp_path) == []


@needs_monaco
def test_a_failed_rebuild_keeps_the_previous_dataset(
    tmp_path: Path, region: Region, grid_build: tuple[Path, list]
) -> None:
    out = tmp_path / "ds"
    shutil.copytree(grid_build[0], out)
    before = (out / roads.MANIFEST_NAME).read_text(encoding="utf-8")
    cut = tmp_path / "cut.osm.pbf"
    cut.write_bytes(MONACO.read_bytes()[:500_000])
    with pytest.raises(RoadEngineError, match="osrm-extract"):
        roads.build_dataset(cut, out=out, partial=True, force=True, communes=region.communes)
    assert (out / roads.MANIFEST_NAME).read_text(encoding="utf-8") == before
    roads.open_dataset(out)  # still complete
    assert _leftovers(tmp_path) == []


def test_a_missing_or_empty_extract_is_refused(tmp_path: Path) -> None:
    with pytest.raises(
        RoadEngineError,
        match=r"extrait OpenStreetMap '.*absent\.osm\.pbf' "
        r"est introuvable",
    ):
        roads.build_dataset(tmp_path / "absent.osm.pbf")
    (tmp_path / "vide.osm.pbf").write_bytes(b"")
    with pytest.raises(RoadEngineError, match=r"'.*vide\.osm\.pbf' est vide"):
        roads.build_dataset(tmp_path / "vide.osm.pbf")


def test_building_the_same_extract_twice_reuses_the_dataset(
    tmp_path: Path, region: Region, grid_build: tuple[Path, list]
) -> None:
    out = tmp_path / "ds"
    shutil.copytree(grid_build[0], out)
    before = roads.open_dataset(out).manifest["built_at"]
    lines: list[str] = []
    roads.build_dataset(
        GRID,
        out=out,
        partial=True,
        progress=_words(lines),
        activate=False,
        communes=region.communes,
    )
    assert any("déjà construit" in line for line in lines)
    assert roads.open_dataset(out).manifest["built_at"] == before
    # Asked without --partial, the same partial dataset is refused, not silently reused.
    with pytest.raises(RoadEngineError, match=r"15 \(Cantal\)"):
        roads.build_dataset(GRID, out=out, activate=False, communes=region.communes)


# --- locating datasets ---------------------------------------------------------------------


def test_active_dataset_is_the_last_built_and_the_variable_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, region: Region
) -> None:
    monkeypatch.setenv("PARCOURS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv(roads.DATASET_ENV, raising=False)
    assert roads.active_dataset() is None
    folder = roads.build_dataset(GRID, partial=True, communes=region.communes)
    assert folder.parent == (tmp_path / "cache" / "osrm").resolve()
    assert folder.name.startswith("aurillac_grid-")
    assert roads.active_dataset() == folder
    # Without the pointer file, the newest complete dataset of the cache is found.
    (tmp_path / "cache" / "osrm" / "active.json").unlink()
    assert roads.active_dataset() == folder
    monkeypatch.setenv(roads.DATASET_ENV, str(tmp_path / "ailleurs"))
    assert roads.active_dataset() == tmp_path / "ailleurs"


def test_open_dataset_says_what_is_wrong(tmp_path: Path, grid_build: tuple[Path, list]) -> None:
    with pytest.raises(RoadEngineError, match=r"'.*nulle_part' est introuvable.*roads build"):
        roads.open_dataset(tmp_path / "nulle_part")
    (tmp_path / "vide").mkdir()
    with pytest.raises(RoadEngineError, match=r"'.*vide' ne contient pas un jeu de données"):
        roads.open_dataset(tmp_path / "vide")
    broken = tmp_path / "broken"
    shutil.copytree(grid_build[0], broken)
    (broken / f"{roads.BASE_NAME}.partition").unlink()
    with pytest.raises(
        RoadEngineError,
        match=r"incomplet \(fichiers absents : "
        r"roads\.osrm\.partition\)",
    ):
        roads.open_dataset(broken)
    # The .osrm base path works as well as the folder.
    ds = roads.open_dataset(grid_build[0] / roads.BASE_NAME)
    assert ds.dataset_id == roads.open_dataset(grid_build[0]).dataset_id


# --- the command line ----------------------------------------------------------------------


def test_cli_info_describes_the_dataset(
    grid_build: tuple[Path, list], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["roads", "info", str(grid_build[0])]) == 0
    out = capsys.readouterr().out
    sha = hashlib.sha256(GRID.read_bytes()).hexdigest()
    assert "Date des données : 2024-06-15T08:00:00Z" in out
    assert f"Empreinte sha256 : {sha}" in out
    assert "osrm-bindings 26.10.0" in out
    assert "(osrm-extract) :" in out and "mémoire max" in out
    assert "PARTIELLE" in out and "15 (Cantal)" in out
    assert main(["roads", "info", "--json", str(grid_build[0])]) == 0
    assert json.loads(capsys.readouterr().out)["extract"]["sha256"] == sha


def test_cli_info_without_dataset_says_how_to_build_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PARCOURS_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv(roads.DATASET_ENV, raising=False)
    assert main(["roads", "info"]) == 1
    assert "parcours roads build FICHIER.osm.pbf" in capsys.readouterr().out


def test_cli_build_prints_stages_and_errors_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cli"
    assert main(["roads", "build", str(GRID), "--out", str(out), "--partial", "--no-activate"]) == 0
    printed = capsys.readouterr().out
    assert "Étape 1/4 : extraction du réseau routier (osrm-extract)…" in printed
    assert roads.open_dataset(out).manifest["partial"] is True
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(b"\x00" * 64)
    monkeypatch.setenv("PARCOURS_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["roads", "build", str(bad), "--partial"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Erreur : ") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_a_folder_of_other_files_is_never_replaced(tmp_path: Path, region: Region) -> None:
    mine = tmp_path / "documents"
    mine.mkdir()
    (mine / "rapport.txt").write_text("à garder", encoding="utf-8")
    with pytest.raises(
        RoadEngineError,
        match=r"'.*documents' existe et ne contient pas un jeu "
        r"de données routier : il ne sera pas remplacé",
    ):
        roads.build_dataset(GRID, out=mine, partial=True, activate=False, communes=region.communes)
    assert (mine / "rapport.txt").read_text(encoding="utf-8") == "à garder"
    with pytest.raises(ValidationError, match=r"`threads` must be a positive integer; got 0"):
        roads.build_dataset(
            GRID,
            out=tmp_path / "x",
            partial=True,
            tools=roads.ToolOptions(threads=0),
            communes=region.communes,
        )


def test_a_build_without_communes_is_refused_unless_partial(tmp_path: Path) -> None:
    with pytest.raises(RoadEngineError, match=r"les communes de la région n'ont pas été fournies"):
        roads.build_dataset(GRID, out=tmp_path / "ds", activate=False)
    assert not (tmp_path / "ds").exists()
    events: list[roads.BuildEvent] = []
    folder = roads.build_dataset(
        GRID, out=tmp_path / "ds", partial=True, activate=False, progress=events.append
    )
    assert roads.open_dataset(folder).manifest["coverage"] == {"checked": False, "missing": []}
    kinds = [e.kind for e in events]
    assert "no_communes" in kinds and kinds[-1] == "ready"
    done = [e for e in events if e.kind == "stage_done"]
    assert [e.label_fr for e in done] == [label for _, _, label in roads.STAGES]
    assert all(e.seconds is not None and e.seconds > 0 for e in done)


def test_the_road_engine_imports_nothing_from_the_data_layer() -> None:
    package = Path(roads.__file__).parent
    for path in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                assert not name.startswith("coverage.data"), f"{path.name} imports {name}"
                assert not name.startswith("coverage.outputs"), f"{path.name} imports {name}"


def test_refusals_point_to_the_readme_not_a_missing_doc(tmp_path: Path, region: Region) -> None:
    osm = _commune_streets(tmp_path / "sans_cantal.osm", region, drop_dep="15")
    section = r"voir la section « Road travel times \(OSRM\) » du README"
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert "\n## Road travel times (OSRM)\n" in readme  # the section the message names
    with pytest.raises(RoadEngineError, match=section) as err:
        roads.build_dataset(osm, out=tmp_path / "ds", activate=False, communes=region.communes)
    assert "docs/roads.md" not in str(err.value)
