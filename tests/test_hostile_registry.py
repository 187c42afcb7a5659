"""Hostile and malformed registry files: each is loaded whole or refused whole, in French.

A planner uploads whatever their spreadsheet exported. Every file here either loads completely
and correctly, or raises ``RegistryError`` (a ``CoverageError``) whose problems name the file,
the line and what was expected: never another exception, never a hang, never a half-loaded
registry. Big files are generated in ``tmp_path`` at test time.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from coverage._errors import RegistryError
from coverage.data.region import Region
from coverage.data.registry_files import load_registry
from coverage.data.registry_schema import COLUMNS, MAX_FIELD_CHARS
from coverage.data.spreadsheet import MAX_FILE_BYTES, MAX_PROBLEMS_SHOWN, MAX_ROWS

EXAMPLES = 100
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
SRC = "https://example.org/source"


def row(**fields: str) -> dict[str, str]:
    base = {c: "" for c in COLUMNS}
    base.update({"id": "s1", "name": "Structure", "kind": "tous_publics", "source": SRC})
    base.update(fields)
    return base


def csv_text(
    rows: list[dict[str, str]], *, columns: tuple[str, ...] = COLUMNS, sep: str = ","
) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=sep, lineterminator="\n")
    writer.writerow(columns)
    for r in rows:
        writer.writerow([r.get(c, "") for c in columns])
    return out.getvalue()


def write(tmp_path: Path, data: bytes | str, name: str = "structures.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def refused(path: Path, region: Region, match: str) -> RegistryError:
    with pytest.raises(RegistryError, match=match) as err:
        load_registry(path, region=region)
    exc = err.value
    assert exc.problems and all(str(path) in p or p.startswith("…") for p in exc.problems)
    assert len(exc.problems) <= MAX_PROBLEMS_SHOWN + 1
    assert str(exc).startswith(f"Le fichier de structures {str(path)!r} est refusé")
    return exc


GOOD = csv_text([row(id="a", insee="15014"), row(id="b", kind="aja", insee="63113")])


# --------------------------------------------------------------------------- encodings


def test_utf8_with_bom_loads(region: Region, tmp_path: Path) -> None:
    path = write(tmp_path, codecs.BOM_UTF8 + GOOD.replace("Structure", "Léon Bérard").encode())
    reg = load_registry(path, region=region)
    assert list(reg.structures["id"]) == ["a", "b"]  # no BOM glued to the first column
    assert set(reg.structures["name"]) == {"Léon Bérard"}


def test_crlf_and_semicolons_load(region: Region, tmp_path: Path) -> None:
    text = csv_text([row(id="a", insee="15014")], sep=";").replace("\n", "\r\n")
    reg = load_registry(write(tmp_path, text), region=region)
    assert reg.structures.loc[0, "commune_insee"] == "15014"


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"", "le fichier est vide"),
        (codecs.BOM_UTF8, "la première ligne \\(les noms de colonnes\\) est vide"),
        (b"\n\n\n", "la première ligne \\(les noms de colonnes\\) est vide"),
        (GOOD.encode("cp1252").replace(b"Structure", b"Caf\xe9 \x81"), "ligne 2 : caract"),
        (codecs.BOM_UTF16_LE + GOOD.encode("utf-16-le"), "encodé en UTF-16"),
        (codecs.BOM_UTF16_BE + GOOD.encode("utf-16-be"), "encodé en UTF-16"),
        (GOOD.encode("utf-16-le"), "binaire ou encodé en UTF-16"),  # no BOM
        (GOOD.encode("utf-32"), "UTF-16"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binaire"),
        (b"PK\x03\x04" + bytes(300), "binaire"),  # an .xlsx renamed .csv
    ],
    ids=[
        "empty",
        "bom-only",
        "blank-lines",
        "not-cp1252",
        "utf16-le",
        "utf16-be",
        "utf16-no-bom",
        "utf32",
        "png",
        "xlsx",
    ],
)
def test_unreadable_encodings(region: Region, tmp_path: Path, data: bytes, match: str) -> None:
    refused(write(tmp_path, data), region, match)


def test_windows_1252_as_french_excel_writes_it_loads(region: Region, tmp_path: Path) -> None:
    text = csv_text([row(name="Café de l'Élan €", insee="15014")], sep=";")
    reg = load_registry(write(tmp_path, text.encode("cp1252")), region=region)
    assert reg.structures["name"].tolist() == ["Café de l'Élan €"]


def test_missing_file_and_special_files_say_what_they_are(region: Region, tmp_path: Path) -> None:
    import os

    refused(tmp_path / "absent.csv", region, "fichier introuvable")
    folder = tmp_path / "dossier.csv"
    folder.mkdir()
    refused(folder, region, "c'est un dossier, pas un fichier ordinaire")
    fifo = tmp_path / "tube.csv"
    os.mkfifo(fifo)
    refused(fifo, region, "c'est un tube nommé \\(FIFO\\), pas un fichier ordinaire")
    if Path("/dev/null").exists():
        with pytest.raises(RegistryError, match="c'est un périphérique"):
            load_registry("/dev/null", region=region)


# --------------------------------------------------------------------------- structure


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (GOOD[: GOOD.index("\n") + 1], "aucune structure \\(le fichier n'a que l'en-tête\\)"),
        (
            GOOD[: GOOD.rindex("\n", 0, -1) + 12],
            f"ligne 3 : 2 valeur\\(s\\) pour {len(COLUMNS)} colonne\\(s\\)",
        ),
        (GOOD.rstrip("\n") + ',"https://exemple.fr/tronqu', "CSV illisible"),
        ("id,name\ns1,x\n", "obligatoire\\(s\\) absente\\(s\\) : \\['kind', 'source'\\]"),
        (csv_text([row()], columns=(*COLUMNS, "extra")), "inconnue\\(s\\) \\['extra'\\]"),
        (csv_text([row()], columns=(*COLUMNS, "id")), "en double : \\['id'\\]"),
        (csv_text([row()], columns=(*COLUMNS, "")), "inconnue\\(s\\) \\[''\\]"),
        (csv_text([row(id="a"), row(id="a")]), "identifiant unique \\(déjà utilisé ligne 2\\)"),
        (csv_text([row(id="")]), "champ « id » : attendu un identifiant"),
        (csv_text([row(id="a b")]), "champ « id »"),
        (csv_text([row(id="x" * 65)]), "champ « id »"),
        (csv_text([row(name="")]), "champ « name » : attendu un nom non vide"),
        (csv_text([row(kind="AJA")]), "champ « kind »"),
        (csv_text([row(source="")]), "champ « source »"),
    ],
    ids=[
        "header-only",
        "truncated-row",
        "truncated-quote",
        "missing-columns",
        "extra-column",
        "duplicate-column",
        "empty-column-name",
        "duplicate-id",
        "empty-id",
        "space-in-id",
        "long-id",
        "empty-name",
        "kind-case",
        "no-source",
    ],
)
def test_malformed_structure(region: Region, tmp_path: Path, text: str, match: str) -> None:
    refused(write(tmp_path, text), region, match)


@pytest.mark.parametrize("field", ["name", "address", "services", "location_note"])
@pytest.mark.parametrize("formula", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)"])
def test_spreadsheet_formulas_are_refused(
    region: Region, tmp_path: Path, field: str, formula: str
) -> None:
    path = write(tmp_path, csv_text([row(**{field: formula})]))
    refused(path, region, f"champ « {field} » : attendu un texte qui ne commence pas par = \\+ - @")


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"name": "Centre\x07"}, "champ « name » : attendu un texte sans caractère de contrôle"),
        ({"name": "\u202eerutcurts"}, "champ « name » : attendu un texte sans caractère"),
        ({"address": "1 rue\x1b[31m"}, "champ « address » : attendu un texte sans caractère"),
        ({"website": "javascript:alert(1)"}, "champ « website » : attendu une adresse http"),
        ({"website": 'https://x.fr/"><script>'}, "champ « website »"),
        ({"source": "data:text/html,<script>alert(1)</script>"}, "champ « source »"),
        ({"email": "<img src=x onerror=alert(1)>"}, "champ « email »"),
        ({"phone": "<script>"}, "champ « phone »"),
        ({"insee": "13055"}, "champ « insee » : attendu le code INSEE d'une commune d'Auvergne"),
        ({"insee": "1501"}, "champ « insee » : attendu un code INSEE à 5 caractères"),
        ({"insee": "15014", "dep": "63"}, "champ « dep » : attendu le département de la commune"),
        ({"dep": "75"}, "champ « dep » : attendu un département de la région"),
        ({"lat": "nan", "lon": "nan"}, "champ « lat » : attendu une latitude et une longitude"),
        ({"lat": "inf", "lon": "3"}, "champ « lat » : attendu une latitude et une longitude"),
        ({"lat": "45.7"}, "champ « lat » : attendu une latitude et une longitude"),
        ({"lat": "4.8", "lon": "45.75"}, "inversées"),
        ({"lat": "48.85", "lon": "2.35"}, "champ « lat » : attendu un point en Auvergne"),
        ({"lat": "45.7797", "lon": "3.0863", "insee": "15014"}, "un point dans la commune 15014"),
        ({"capacity": "-3"}, "champ « capacity » : attendu un nombre entier positif"),
        ({"capacity": "1.5"}, "champ « capacity »"),
        ({"capacity": "nan"}, "champ « capacity »"),
        ({"capacity": "1e400"}, "champ « capacity »"),
        ({"capacity": "beaucoup"}, "champ « capacity »"),
        ({"commune_inferred": "peut-être"}, "champ « commune_inferred » : attendu « oui »"),
    ],
)
def test_bad_fields(region: Region, tmp_path: Path, fields: dict, match: str) -> None:
    refused(write(tmp_path, csv_text([row(**fields)])), region, match)


def test_every_problem_is_listed_and_nothing_is_loaded(region: Region, tmp_path: Path) -> None:
    rows = [row(id=f"ok{i}", insee="15014") for i in range(10)]
    rows[3]["kind"] = "x"
    rows[7]["website"] = "javascript:alert(1)"
    exc = refused(write(tmp_path, csv_text(rows)), region, "ligne 5, champ « kind »")
    assert len(exc.problems) == 2 and "ligne 9, champ « website »" in exc.problems[1]


# --------------------------------------------------------------------------- size


def test_huge_cells(region: Region, tmp_path: Path) -> None:
    limit = MAX_FIELD_CHARS["name"]
    exc = refused(
        write(tmp_path, csv_text([row(name="N" * 10_000)])),
        region,
        f"champ « name » : attendu au plus {limit} caractères \\(il y en a 10000\\)",
    )
    assert len(str(exc)) < 1_000  # the value is shown cut
    # A 200 kB cell: refused whole, whether the csv module's field limit or ours trips first.
    refused(write(tmp_path, csv_text([row(address="A" * 200_000)])), region, "ligne 2")


def test_files_over_the_size_limit(region: Region, tmp_path: Path) -> None:
    text = csv_text(
        [row(id=f"s{i}", location_note="n" * 900) for i in range(MAX_FILE_BYTES // 900)]
    )
    refused(
        write(tmp_path, text),
        region,
        f"fichier trop gros \\(\\d+ octets ; au plus {MAX_FILE_BYTES}\\)",
    )


def test_100000_rows(region: Region, tmp_path: Path) -> None:
    lines = ["id,name,kind,source"] + [f"s{i},N,tous_publics,{SRC}" for i in range(100_000)]
    path = write(tmp_path, "\n".join(lines) + "\n")
    assert path.stat().st_size < MAX_FILE_BYTES  # refused for its rows, not its bytes
    refused(path, region, f"trop de lignes \\(plus de {MAX_ROWS} structures\\)")


def test_the_largest_accepted_file_loads_whole(region: Region, tmp_path: Path) -> None:
    rows = [row(id=f"s{i}", insee="15014" if i % 2 else "") for i in range(MAX_ROWS)]
    reg = load_registry(write(tmp_path, csv_text(rows)), region=region)
    assert len(reg.structures) == MAX_ROWS and reg.counts()["located"] == MAX_ROWS // 2
    rows.append(row(id="one-too-many"))
    refused(write(tmp_path, csv_text(rows)), region, "trop de lignes")


def test_200000_malformed_rows_give_a_short_error(region: Region, tmp_path: Path) -> None:
    path = write(tmp_path, ",".join(COLUMNS) + "\n" + "a,b\n" * 200_000)
    exc = refused(path, region, f"ligne 2 : 2 valeur\\(s\\) pour {len(COLUMNS)} colonne\\(s\\)")
    assert exc.problems[-1] == f"… et {200_000 - MAX_PROBLEMS_SHOWN} autre(s) problème(s)."
    assert len(str(exc)) < 20_000


def test_a_header_of_100000_columns(region: Region, tmp_path: Path) -> None:
    header = ",".join(["id", "name", "kind", "source", *(f"c{i}" for i in range(100_000)), "id"])
    exc = refused(write(tmp_path, header + "\ns1\n"), region, "\\(et 99990 autres\\)")
    assert "en double : ['id']" in exc.problems[-1]
    assert len(str(exc)) < 2_000


# --------------------------------------------------------------------------- GeoJSON


def _feature(coords: object = (2.4449, 44.9303), **props: object) -> dict:
    base = {"id": "g1", "name": "G", "kind": "aja", "source": SRC}
    base.update(props)
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": coords},
        "properties": base,
    }


@pytest.mark.parametrize(
    ("doc", "match"),
    [
        ('{"type": "FeatureCollection", "features": [', "ligne 1 : JSON illisible"),
        ("[" * 100_000 + "]" * 100_000, "JSON illisible \\(nombre trop long ou imbrication"),
        ('{"type": "FeatureCollection", "features": [' + "9" * 5_000 + "]}", "JSON illisible"),
        ('{"type": "Feature"}', "attendu une FeatureCollection GeoJSON"),
        ('["FeatureCollection"]', "attendu une FeatureCollection GeoJSON"),
        ('{"type": "FeatureCollection", "features": []}', "aucune structure"),
        ('{"type": "FeatureCollection", "features": {"a": 1}}', "aucune structure"),
        ('{"type": "FeatureCollection", "features": [1, null]}', "structure n° 1 : « properties »"),
        (
            json.dumps({"type": "FeatureCollection", "features": [_feature(5)]}),
            "structure n° 1 : point sans coordonnées \\[longitude, latitude\\] ; trouvé '5'",
        ),
        (
            json.dumps({"type": "FeatureCollection", "features": [_feature("ab")]}),
            "point sans coordonnées",
        ),
        (
            json.dumps({"type": "FeatureCollection", "features": [_feature([44.93, 2.44])]}),
            "inversées",
        ),
        (
            json.dumps({"type": "FeatureCollection", "features": [_feature(id=["x"])]}),
            "structure n° 1 : propriété\\(s\\) \\['id'\\] en liste ou en objet",
        ),
        (
            json.dumps(
                {"type": "FeatureCollection", "features": [_feature(), _feature(name={"a": 1})]}
            ),
            "structure n° 2 : propriété\\(s\\) \\['name'\\] en liste ou en objet",
        ),
        (
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        _feature(),
                        {
                            "type": "Feature",
                            "geometry": {
                                "type": "LineString",
                                "coordinates": [[2.44, 44.93], [2.45, 44.94]],
                            },
                            "properties": {"id": "l", "name": "L", "kind": "aja", "source": SRC},
                        },
                    ],
                }
            ),
            "structure n° 2 : géométrie 'LineString' ; attendu un point",
        ),
        (
            json.dumps({"type": "FeatureCollection", "features": [_feature(evil="<script>")]}),
            "colonne\\(s\\) inconnue\\(s\\) \\['evil'\\]",
        ),
    ],
    ids=[
        "truncated",
        "deep-nesting",
        "huge-number",
        "not-a-collection",
        "list",
        "no-features",
        "features-dict",
        "feature-not-object",
        "coords-number",
        "coords-string",
        "coords-swapped",
        "id-list",
        "dict-property",
        "linestring",
        "extra-property",
    ],
)
def test_malformed_geojson(region: Region, tmp_path: Path, doc: str, match: str) -> None:
    refused(write(tmp_path, doc, "structures.geojson"), region, match)


# --------------------------------------------------------------------------- properties

printable = st.text(st.characters(exclude_categories=("Cc", "Cf", "Cs")), max_size=80)
cell = st.one_of(printable, st.text(max_size=80))
ascii_cell = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)


def mostly(*valid: str) -> st.SearchStrategy[str]:
    """Empty, one of ``valid``, or random printable ASCII."""
    return st.one_of(st.just(""), st.sampled_from(valid), st.sampled_from(valid), ascii_cell)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile_registry")


def _load_or_refuse(path: Path, region: Region):
    try:
        reg = load_registry(path, region=region)
    except RegistryError as exc:
        assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)
        assert len(exc.problems) <= MAX_PROBLEMS_SHOWN + 1
        event("refused")
        return None
    event("loaded")
    return reg


@PROPERTY
@given(
    cells=st.fixed_dictionaries(
        {
            "name": cell,
            "address": cell,
            "services": cell,
            "phone": mostly("04 71 45 46 47", "+33 (0)4 71 45 46 47"),
            "email": mostly("contact@exemple.fr"),
            "website": mostly("https://exemple.fr/a?b=1&c=%3Cd%3E"),
            "capacity": mostly("1", "250", "1e3"),
            "location_note": cell,
            "insee": st.sampled_from(["", "15014", "69388", "63113", "2A004"]),
        }
    ),
    n=st.integers(1, 3),
)
def test_any_cell_text_loads_exactly_or_is_refused(
    region: Region, scratch: Path, cells: dict[str, str], n: int
) -> None:
    rows = [row(id=f"s{i}", **cells) for i in range(n)]
    path = write(scratch, csv_text(rows))
    reg = _load_or_refuse(path, region)
    if reg is None:
        return
    # Loaded: every row, each text as written (stripped), nothing invented.
    s = reg.structures
    assert len(s) == n and list(s["id"]) == [f"s{i}" for i in range(n)]
    for field in ("name", "address", "services", "phone", "email", "website", "location_note"):
        assert (s[field] == cells[field].strip()).all()


@PROPERTY
@given(data=st.binary(max_size=2_000))
def test_random_bytes_never_escape_as_another_exception(
    region: Region, scratch: Path, data: bytes
) -> None:
    for suffix in (".csv", ".geojson"):
        # Any exception but RegistryError fails the property.
        _load_or_refuse(write(scratch, data, f"random{suffix}"), region)


@PROPERTY
@given(cut=st.integers(min_value=0, max_value=len(GOOD.encode())))
def test_a_file_cut_anywhere_loads_a_prefix_or_is_refused(
    region: Region, scratch: Path, cut: int
) -> None:
    path = write(scratch, GOOD.encode()[:cut])
    reg = _load_or_refuse(path, region)
    if reg is not None:
        ids = list(reg.structures["id"])
        assert ids in (["a"], ["a", "b"])  # whole rows only, in order
