"""Hostile input to the place lookup: whatever a patient types gets an answer or a French error.

Table-driven cases (payloads, control characters, RTL marks, emoji, scripts, coordinates) plus
property-based ones (hypothesis, derandomized so CI is stable). Every outcome is either a
``Lookup`` whose places are communes of the region, or a ``PlaceError`` (``OutsideRegionError``
is one) with a French message: never another exception. The lookup's cost is bounded by
construction (the query is cut to ``MAX_QUERY_CHARS`` before matching): checked here by
spying on the matcher; the worst-case time is measured in ``benchmarks/soak.py``.
"""

from __future__ import annotations

import math
import re
from unittest import mock

import pytest
from _facts import ARA_DEPARTEMENTS
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from coverage._errors import OutsideRegionError, PlaceError
from coverage.data import place_match, place_names, places
from coverage.data.place_results import MAX_CANDIDATES, MAX_QUERY_CHARS
from coverage.data.places import locate_point, lookup
from coverage.data.region import Region

#: Bounded, reproducible property runs (the counts are quoted in RELIABILITY.md).
EXAMPLES = 150
LONG_EXAMPLES = 50  # each runs two full fuzzy matches of a 120-character query
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)

#: Every French message of ``places`` names one of these.
_FRENCH = re.compile(r"commune|[Cc]oordonnées|Auvergne-Rhône-Alpes|[Cc]ode")


def outcome(query: object, region: Region) -> tuple:
    """("ok", insee codes) or ("error", class name, message); asserts the invariants."""
    try:
        found = lookup(query, region)  # type: ignore[arg-type]
    except PlaceError as exc:
        message = str(exc)
        assert _FRENCH.search(message), message
        # The message quotes at most the cut query, so it stays short whatever was typed.
        assert len(message) < 1_000 + 4 * MAX_QUERY_CHARS
        assert all(isinstance(s, str) and s for s in exc.suggestions)
        return ("error", type(exc).__name__, message)
    assert 1 <= len(found.places) <= MAX_CANDIDATES
    codes = [p.insee for p in found.places]
    assert len(set(codes)) == len(codes)
    for p in found.places:
        assert region.is_commune(p.insee)
        assert p.dep in ARA_DEPARTEMENTS
        assert math.isfinite(p.lat) and math.isfinite(p.lon)
    return ("ok", tuple(codes))


# --------------------------------------------------------------------------- table-driven


@pytest.mark.parametrize(
    ("query", "insee"),
    [
        ("\u202eAurillac\u202c", "15014"),  # right-to-left override around the name
        ("Aurillac\u200f", "15014"),  # right-to-left mark
        ("\u200bAurillac\u200b", "15014"),  # zero-width spaces
        ("AURILLAC\x00", "15014"),  # NUL
        ("Aurillac\r\n\t", "15014"),
        ("Aurillac 🎗️", "15014"),  # emoji dropped
        ("Ａｕｒｉｌｌａｃ", "15014"),  # full-width letters (NFKD)
        ("Aurilla\u0301c", "15014"),  # stray combining accent
        ("  le   PUY-en-velay  ", "43157"),
        ("Aurillac" + " " * 10_000, "15014"),  # 10 kB of padding
    ],
)
def test_noise_around_a_real_name_is_ignored(region: Region, query: str, insee: str) -> None:
    assert outcome(query, region) == ("ok", (insee,))


@pytest.mark.parametrize(
    ("query", "error", "message"),
    [
        ("", PlaceError, "Indiquez une commune"),
        ("\x00\x01\x7f\u200e\u200f", PlaceError, "Indiquez une commune"),
        ("🎗️🏥💊", PlaceError, "ne ressemble pas à un nom de commune"),
        ("Лион", PlaceError, "ne ressemble pas à un nom de commune"),  # Cyrillic
        ("里昂", PlaceError, "ne ressemble pas à un nom de commune"),  # Chinese
        ("ليون", PlaceError, "ne ressemble pas à un nom de commune"),  # Arabic
        ("<script>alert(1)</script>", PlaceError, "Aucune commune .* « <script>alert\\(1\\)"),
        ('" onmouseover="alert(1)', PlaceError, "Aucune commune"),
        ("javascript:alert(document.cookie)", PlaceError, "Aucune commune"),
        ("{{7*7}} ${7*7} %s %n", PlaceError, "Aucune commune"),
        ("a", PlaceError, "Aucune commune .* « a »"),  # one letter: no list of 24 communes
        ("zz", PlaceError, "Aucune commune"),
        ("x" * 10_000, PlaceError, "Aucune commune"),
        ("99999", PlaceError, "ni un code postal ni un code INSEE"),
        ("2A004", OutsideRegionError, "Ajaccio"),
        ("Lyon (99)", PlaceError, "aucune de ces communes n'est dans 99"),
        ("nan, nan", PlaceError, "Aucune commune"),  # not coordinates
        ("91, 0", PlaceError, "Coordonnées impossibles"),
        ("45.7, 200", PlaceError, "Coordonnées impossibles"),
        ("4.8, 45.75", OutsideRegionError, "inversées"),  # swapped: says so
        ("48.8566, 2.3522", OutsideRegionError, "hors d'Auvergne-Rhône-Alpes"),  # Paris
        ("-0, -0", OutsideRegionError, "hors d'Auvergne-Rhône-Alpes"),
        ("Marseille", OutsideRegionError, "n'est pas en Auvergne-Rhône-Alpes"),
        ("Murat (Paris)", OutsideRegionError, "département 75 \\(Paris, région Île-de-France"),
        ("Murat (Gironde)", OutsideRegionError, "département 33 \\(Gironde"),
        ("Murat (58)", OutsideRegionError, "département 58 \\(Nièvre"),
        ("Lyon (Cantal)", PlaceError, "aucune de ces communes n'est dans le département Cantal"),
        ("2A", OutsideRegionError, "département 2A \\(Corse-du-Sud, région Corse\\)"),
        ("976", OutsideRegionError, "département 976"),
        ("Gironde", OutsideRegionError, "région Nouvelle-Aquitaine"),
        ("00", PlaceError, "Aucune commune"),
    ],
)
def test_bad_input_gets_a_specific_french_error(
    region: Region, query: str, error: type[PlaceError], message: str
) -> None:
    with pytest.raises(error, match=message):
        lookup(query, region)
    assert outcome(query, region)[0] == "error"


@pytest.mark.parametrize(
    "query",
    [
        "' OR 1=1 --",
        "'; DROP TABLE communes;--",
        "Robert'); DROP TABLE Students;--",
        "<img src=x onerror=alert(1)>",
        "../../../etc/passwd",
        "%00%0d%0a",
        "\\x41\\u0041",
        "Saint " * 40,
        "st-" * 60,
        "(" * 200,
        "1," * 200,
        "Lyon" * 100,
        "ǅ ﬁ Ⅸ ㎒ ﷺ",
    ],
)
def test_injection_like_text_is_only_text(region: Region, query: str) -> None:
    # A commune name inside the text may be recognised (La Table in "DROP TABLE"): either
    # way the outcome obeys the invariants and equals that of the cut query.
    assert outcome(query, region) == outcome(query[:MAX_QUERY_CHARS], region)


def test_non_text_queries_are_refused_in_french(region: Region) -> None:
    for query in (None, 12345, 4.5, b"Aurillac", ["Aurillac"]):
        with pytest.raises(PlaceError, match="Le lieu doit être un texte"):
            lookup(query, region)  # type: ignore[arg-type]


def test_the_query_is_cut_before_any_matching(region: Region) -> None:
    """The matcher never sees more than MAX_QUERY_CHARS typed characters (cost bounded)."""
    seen: list[int] = []
    from rapidfuzz import process  # place_match imports it when a name needs fuzzy matching

    real_normalize, real_extract = place_names.normalize, process.extract

    def normalize(text: str) -> str:
        seen.append(len(text))
        return real_normalize(text)

    def extract(query: str, *args: object, **kwargs: object) -> list:
        # Cut again after NFKD, which may lengthen the text ("㎯" is six letters).
        assert len(query) <= MAX_QUERY_CHARS
        return real_extract(query, *args, **kwargs)

    with (
        mock.patch.object(places, "normalize", normalize),
        mock.patch.object(place_match, "normalize", normalize),
        mock.patch.object(place_names, "normalize", normalize),
        mock.patch.object(process, "extract", extract),
    ):
        for query in ("x" * 100_000, "Saint-Flour " * 10_000, "ﷺ" * 50_000, "㎯" * 50_000):
            outcome(query, region)
    assert seen and max(seen) <= MAX_QUERY_CHARS


# --------------------------------------------------------------------------- coordinates


@pytest.mark.parametrize(
    ("lat", "lon", "error", "message"),
    [
        (math.nan, 3.0, PlaceError, "doivent être des nombres"),
        (45.0, math.inf, PlaceError, "doivent être des nombres"),
        (-math.inf, -math.inf, PlaceError, "doivent être des nombres"),
        (None, 3.0, PlaceError, "doivent être des nombres"),  # an empty form field
        ("45.7", "4.8", PlaceError, "doivent être des nombres"),
        (True, False, PlaceError, "doivent être des nombres"),
        (90.000001, 4.0, PlaceError, "Coordonnées impossibles"),
        (45.0, -180.5, PlaceError, "Coordonnées impossibles"),
        (1e308, 0.0, PlaceError, "Coordonnées impossibles"),
        (4.8, 45.75, OutsideRegionError, "inversées"),
        (-90.0, -180.0, OutsideRegionError, "hors d'Auvergne-Rhône-Alpes"),
        (43.2965, 5.3698, OutsideRegionError, "hors d'Auvergne-Rhône-Alpes"),  # Marseille
    ],
)
def test_bad_points(
    region: Region, lat: object, lon: object, error: type[PlaceError], message: str
) -> None:
    with pytest.raises(error, match=message):
        locate_point(lat, lon, region)  # type: ignore[arg-type]


def test_a_point_in_aurillac(region: Region) -> None:
    row = region.commune("15014")
    found = locate_point(float(row["lat"]), float(row["lon"]), region)
    assert found.place.insee == "15014" and found.place.matched == "coordonnées"


# --------------------------------------------------------------------------- properties

_FRAGMENTS = [
    "Aurillac",
    "Le Puy-en-Velay",
    "St-Flour",
    "Murat",
    "Clermont",
    "Lyon",
    "69388",
    "43000",
    "(15)",
    " 03",
    ",",
    ";",
    " ",
    "-",
    "'",
    '"',
    "<",
    ">",
    "&",
    "\x00",
    "\u202e",
    "\u200f",
    "🎗️",
    "Лион",
    "里昂",
    "é",
    "œ",
    "45.7",
    "4.8",
    "nan",
    "inf",
    "1e999",
    "--",
    "/*",
    "*/",
    "<script>",
    "javascript:",
    "\\",
    "\n",
    "ﷺ",
    "Ⅸ",
]

any_text = st.text(max_size=300)
composed = st.lists(st.sampled_from(_FRAGMENTS), max_size=12).map("".join)
long_text = st.text(min_size=MAX_QUERY_CHARS, max_size=3 * MAX_QUERY_CHARS)


@PROPERTY
@given(query=st.one_of(any_text, composed))
@example(query="\ud800")  # a lone surrogate (from a badly decoded form)
def test_any_text_gets_an_answer_or_a_french_error(region: Region, query: str) -> None:
    outcome(query, region)  # any exception other than PlaceError fails the property


@settings(PROPERTY, max_examples=LONG_EXAMPLES)
@given(query=long_text)
def test_only_the_first_characters_count(region: Region, query: str) -> None:
    assert outcome(query, region) == outcome(query[:MAX_QUERY_CHARS], region)


finite = st.floats(allow_nan=False, allow_infinity=False)
any_float = st.floats(allow_nan=True, allow_infinity=True)


@PROPERTY
@given(lat=any_float, lon=any_float)
def test_any_point_gets_an_answer_or_a_french_error(region: Region, lat: float, lon: float) -> None:
    try:
        found = locate_point(lat, lon, region)
    except PlaceError as exc:
        assert _FRENCH.search(str(exc))
        ok_range = math.isfinite(lat) and math.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180
        assert isinstance(exc, OutsideRegionError) == ok_range
        return
    assert region.commune_at(lon, lat) == found.place.insee


@PROPERTY
@given(
    lat=st.floats(min_value=44.1, max_value=46.81),
    lon=st.floats(min_value=2.05, max_value=7.2),
    sep=st.sampled_from([", ", ",", " ", "; ", " / "]),
    swap=st.booleans(),
)
def test_typed_coordinates_match_locate_point(
    region: Region, lat: float, lon: float, sep: str, swap: bool
) -> None:
    a, b = (lon, lat) if swap else (lat, lon)
    text = f"{a:.5f}{sep}{b:.5f}"
    typed = outcome(text, region)
    try:
        direct = ("ok", (locate_point(round(a, 5), round(b, 5), region).place.insee,))
    except PlaceError as exc:
        direct = ("error", type(exc).__name__)
    assert typed[:2] == direct[:2]
    if swap and typed[0] == "error":
        # Latitude first is the rule; a swapped point inside the region is explained.
        assert typed[1] == "OutsideRegionError"
