"""Fuzzing lane: >= 10,000 generated inputs per entry point, no traceback, no hang (issue 13).

Entry points: the place lookup (``places.lookup``), the registry file (``load_registry``), the
matrix file (``matrix_file.read_matrix`` then ``check_region``), the territory file
(``load_territories``), the demand and deprivation files (``load_demand``,
``load_deprivation``). Each input must give an answer or a ``CoverageError`` (French message
for a reader); any other exception fails the test, and so does an input that runs longer than
``BOUND_S`` (a per-input alarm: a hang is interrupted and reported with its input). Files are
built from the columns each reader knows, with plausible cells (real INSEE codes, numbers
written the French way, URLs) mixed with arbitrary text, so that some files load and others
are refused line by line; a few are arbitrary bytes.

The CLI lane is ``test_fuzz_cli.py``. ``$PARCOURS_FUZZ_EXAMPLES`` lowers the count for a quick
local run; ``make test`` and CI run the full count (``slow`` marker).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import random
import shutil
import signal
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coverage._errors import CoverageError

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("PARCOURS_FUZZ_EXAMPLES", "10000"))
#: Longest time one input may take (s): generous, the machine is shared; a hang is far longer.
BOUND_S = 10.0
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)


class Hang(BaseException):
    """An input ran past ``BOUND_S`` (BaseException: no ``except Exception`` can swallow it)."""


@dataclass
class Stats:
    """Inputs run, refused (``CoverageError``) and the slowest, for one entry point."""

    name: str
    bound_s: float = BOUND_S
    inputs: int = 0
    refused: int = 0
    slowest_s: float = 0.0
    kinds: dict[str, int] = field(default_factory=dict)

    @contextlib.contextmanager
    def bounded(self) -> Iterator[None]:
        """Run the block under a ``BOUND_S`` alarm; count a ``CoverageError`` as refused."""

        def alarm(signum: int, frame: FrameType | None) -> None:
            raise Hang(f"{self.name}: one input ran over {self.bound_s} s")

        # pytest-timeout may use SIGALRM too: put its handler and remaining time back after.
        previous = signal.signal(signal.SIGALRM, alarm)
        outer, interval = signal.getitimer(signal.ITIMER_REAL)
        signal.setitimer(signal.ITIMER_REAL, self.bound_s)
        start = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                yield
        except CoverageError as exc:
            self.refused += 1
            kind = type(exc).__name__
            self.kinds[kind] = self.kinds.get(kind, 0) + 1
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            spent = time.perf_counter() - start
            if outer > 0:
                signal.setitimer(signal.ITIMER_REAL, max(outer - spent, 0.001), interval)
            self.inputs += 1
            self.slowest_s = max(self.slowest_s, spent)

    def check(self) -> None:
        print(
            f"\n{self.name}: {self.inputs} inputs, {self.refused} refused "
            f"{dict(sorted(self.kinds.items()))}, slowest {self.slowest_s * 1000:.1f} ms"
        )
        assert self.inputs >= EXAMPLES, f"{self.name}: only {self.inputs} inputs"
        assert self.slowest_s < self.bound_s


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="parcours-fuzz-") as folder:
        yield Path(folder)


# --------------------------------------------------------------------------- building inputs
# Hypothesis draws the shape of each input and a seed; the cells are built from that seed with
# ``random.Random`` (drawing every cell through Hypothesis costs 6-15 ms a file, more than the
# readers themselves). A failing input is reproduced from the seed Hypothesis prints.

PAYLOADS = (
    "<script>alert(1)</script>",
    '" onmouseover="x',
    "{{7*7}}",
    '=HYPERLINK("http://x")',
    "@SUM(A1)",
    "+33 4",
    "-1+2",
    "\u202e",
    "\x00",
    "\ufeff",
    "javascript:alert(1)",
    "nan",
    "inf",
    "-0",
    "1e400",
    "1,5",
    "1 234,5",
    "",
    " ",
    ";",
    '"',
    "\r\n",
    "9" * 400,
)
#: Characters of arbitrary cells: letters, accents, separators, quotes, controls, combining
#: marks, zero-width and bidirectional marks, other scripts, NFKD-expanding signs, emoji.
ALPHABET = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    " -',;.()/\"=+@#%&<>{}[]\\|_~`!?*\t\r\n\x00\x1b\x7f"
    "éèêàçôœÉÈÔÇ\u0301\u0308\u200b\u200d\u202e\u2066\ufeff\xa0\u202f"
    "ЖдЯ中文عربي㎯ﬃ①ǅ😀🏥"
)


def _rtext(rng: random.Random, max_len: int = 40) -> str:
    n = rng.choice((0, 1, 2, rng.randint(0, max_len)))
    if rng.random() < 0.05:  # anywhere in Unicode but the surrogates
        return "".join(
            chr(rng.choice((rng.randint(0, 0xD7FF), rng.randint(0xE000, 0x10FFFF))))
            for _ in range(n)
        )
    return "".join(rng.choice(ALPHABET) for _ in range(n))


def _rnumber(rng: random.Random) -> str:
    kind = rng.randint(0, 4)
    if kind == 0:
        return str(rng.randint(-10, 10**6))
    if kind == 1:
        return repr(rng.choice((math.nan, math.inf, -math.inf, 1e308, 5e-324, -0.0)))
    if kind == 2:
        return f"{rng.uniform(0, 1000):.2f}".replace(".", ",")
    if kind == 3:
        return f"{rng.uniform(-1e6, 1e6):.6g}"
    return rng.choice(PAYLOADS)


def _wild(rng: random.Random) -> str:
    return _rnumber(rng) if rng.random() < 0.4 else _rtext(rng)


@dataclass(frozen=True)
class Columns:
    """What a reader knows: valid cells per column, the required ones, unique ones (wrong
    values come from the wild cells: a tidy file with no wild cell should load)."""

    cells: dict[str, list[str]]
    required: tuple[str, ...] = ()
    unique: tuple[str, ...] = ()
    #: Real communes (insee, dep, epci, name): a tidy row takes these together.
    communes: tuple[dict[str, str], ...] = ()

    def tidy_row(
        self, rng: random.Random, header: list[str], line: int, *, clean: bool = False
    ) -> list[str]:
        """A plausible row: one real commune's codes together, a few wild cells unless
        ``clean``."""
        commune = rng.choice(self.communes) if self.communes else {}
        row = []
        for h in header:
            if not clean and rng.random() < 0.07:
                row.append(_wild(rng))
            elif h in self.unique:
                row.append(f"{h}-{line}")
            elif h in commune and rng.random() < 0.9:
                row.append(commune[h])
            else:
                row.append(rng.choice(self.cells.get(h, [""])))
        return row

    def header(self, rng: random.Random, *, tidy: bool) -> list[str]:
        names = list(self.cells)
        if tidy:
            extra = rng.sample(names, rng.randint(0, len(names)))
            header = list(dict.fromkeys([*self.required, *extra]))
            rng.shuffle(header)
            return header
        header = [rng.choice(names) for _ in range(rng.randint(1, len(names) + 1))]
        if rng.random() < 0.1:
            header.append(_rtext(rng, 12))
        return header


def _csv_bytes(header: list[str], rows: list[list[str]], *, sep: str, encoding: str) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=sep, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    text = buf.getvalue()
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:
        return text.encode("utf-8")


#: The shape of a table file: tidy or wild, rows, separator, encoding, a row cut short.
SHAPE = st.fixed_dictionaries(
    {
        "seed": st.integers(0, 2**64 - 1),
        "tidy": st.booleans(),
        "rows": st.integers(0, 6),
        "sep": st.sampled_from([",", ";", "\t"]),
        "encoding": st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-8-sig", "latin-1", "utf-16"]),
        "clean": st.booleans(),
        "cut": st.integers(0, 9),
    }
)


def table_file(cols: Columns) -> st.SearchStrategy[bytes]:
    """A CSV for a reader (tidy: required columns and plausible rows; wild: any columns,
    arbitrary cells), or, one time in twenty, arbitrary bytes."""
    return st.one_of(
        st.binary(max_size=400),
        *([SHAPE.map(lambda shape: _table(cols, shape))] * 19),
    )


def _table(cols: Columns, shape: dict[str, Any]) -> bytes:
    rng = random.Random(shape["seed"])
    header = cols.header(rng, tidy=shape["tidy"])
    if shape["tidy"]:
        rows = [cols.tidy_row(rng, header, i, clean=shape["clean"]) for i in range(shape["rows"])]
    else:
        rows = [[_wild(rng) for _ in header] for _ in range(shape["rows"])]
    if rows and shape["cut"] == 0:
        rows[-1] = rows[-1][: rng.randint(0, len(header))]
    return _csv_bytes(header, rows, sep=shape["sep"], encoding=shape["encoding"])


def _run_file(stats: Stats, path: Path, data: bytes, read: Callable[[Path], object]) -> None:
    path.write_bytes(data)
    with stats.bounded():
        read(path)


@pytest.fixture(scope="module")
def codes(region: Any) -> dict[str, list[str]]:
    """Real codes of the region (and a few elsewhere), to build plausible rows."""
    c = region.communes
    return {
        "insee": [*c["insee"].iloc[::40].tolist(), "75056", "2A004", "13055", "00000"],
        "dep": [*sorted(set(c["dep"])), "75", "2A", "99", "1"],
        "epci": [*sorted(set(c["epci_code"].dropna().astype(str)))[::10], "200054781", "1"],
        "name": c["name"].iloc[::40].tolist(),
        "postcode": ["15000", "43000", "69001", "75001", "00000", "1500"],
    }


@pytest.fixture(scope="module")
def communes(region: Any) -> tuple[dict[str, str], ...]:
    c = region.communes.iloc[::25]
    return tuple(
        {"insee": r.insee, "dep": r.dep, "epci": str(r.epci_code), "name": r.name}
        for r in c.itertuples()
    )


# --------------------------------------------------------------------------- place lookup


def _query(rng: random.Random, names: list[str]) -> str:
    """A composition of names, codes, points, payloads, separators and arbitrary text."""
    parts = []
    for _ in range(rng.randint(1, 6)):
        kind = rng.randint(0, 5)
        if kind == 0:
            parts.append(rng.choice(names))
        elif kind == 1:
            parts.append(rng.choice(["15000", "43000", "69", "01", "2A", "75001", "63113"]))
        elif kind == 2:
            parts.append(f"{rng.uniform(-90, 90):.{rng.randint(0, 8)}f}, {rng.uniform(-180, 180)}")
        elif kind == 3:
            parts.append(rng.choice(PAYLOADS))
        elif kind == 4:
            parts.append(rng.choice([" ", "-", ",", "'", "(", ")", "saint", "St", "le", "sur"]))
        else:
            parts.append(_rtext(rng, 15))
    return "".join(parts)


def test_place_lookup(region: Any, codes: dict[str, list[str]]) -> None:
    from coverage.data import places

    stats = Stats("places.lookup")
    names = [*codes["name"], "Aurillac", "Le Puy-en-Velay", "Saint-Étienne", "Lyon 3e"]
    queries = st.one_of(
        st.text(max_size=300),  # Hypothesis's own text: its edge cases, one time in four
        st.one_of(st.none(), st.integers(), st.floats(), st.binary(max_size=20)),
        *([st.integers(0, 2**64 - 1).map(lambda seed: _query(random.Random(seed), names))] * 6),
    )

    @FUZZ
    @given(query=queries)
    def run(query: object) -> None:
        with stats.bounded():
            places.lookup(query, region)  # type: ignore[arg-type]

    run()
    stats.check()


# --------------------------------------------------------------------------- registry file


def _json_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randint(0, 7 if depth < 3 else 4)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice((True, False))
    if kind == 2:
        return rng.choice((math.nan, math.inf, 1e308, -0.0, rng.uniform(-1e3, 1e3)))
    if kind == 3:
        return rng.randint(-(10**20), 10**20)
    if kind == 4:
        return _rtext(rng, 12)
    if kind <= 5:
        return [_json_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {_rtext(rng, 6): _json_value(rng, depth + 1) for _ in range(rng.randint(0, 3))}


def _feature_collection(cols: Columns, seed: int) -> bytes:
    rng = random.Random(seed)
    features = []
    for i in range(rng.randint(0, 4)):
        header = cols.header(rng, tidy=rng.random() < 0.5)
        props = dict(zip(header, cols.tidy_row(rng, header, i), strict=True))
        if rng.random() < 0.8:
            coords: Any = [rng.uniform(2.0, 7.5), rng.uniform(44.0, 46.9)]
        else:
            coords = _json_value(rng)
        features.append(
            {
                "type": rng.choice(["Feature", "Feature", "feature", "X"]),
                "geometry": {
                    "type": rng.choice(["Point", "Point", "LineString"]),
                    "coordinates": coords,
                },
                "properties": props if rng.random() < 0.9 else _json_value(rng),
            }
        )
    doc: Any = {"type": "FeatureCollection", "features": features}
    if rng.random() < 0.1:
        doc = _json_value(rng)
    return json.dumps(doc, allow_nan=True).encode()


def test_registry_file(
    region: Any,
    codes: dict[str, list[str]],
    communes: tuple[dict[str, str], ...],
    scratch: Path,
) -> None:
    from coverage.data.registry_files import load_registry
    from coverage.data.registry_schema import COLUMNS, REQUIRED_COLUMNS

    cells = {c: [""] for c in COLUMNS}
    cells.update(
        id=["s1", "s2", "s-3"],
        name=["Maison de santé", "Centre", *codes["name"][:5]],
        kind=["tous_publics", "tous_publics", "aja"],
        insee=codes["insee"],
        dep=codes["dep"],
        postcode=[""],
        lat=[""],
        lon=[""],
        source=["https://www.ars.sante.fr/x", "https://a.fr/b"],
        website=["", "https://a.fr"],
        email=["", "a@b.fr"],
        phone=["", "04 73 00 00 00"],
        capacity=["", "10", "250"],
        commune_inferred=["", "oui", "non"],
    )
    columns = Columns(cells, required=REQUIRED_COLUMNS, unique=("id",), communes=communes)
    geojson = st.integers(0, 2**64 - 1).map(lambda seed: _feature_collection(columns, seed))
    stats = Stats("registry.load_registry")

    # Mostly the suffix of the content, one time in ten another one.
    files = st.one_of(
        st.tuples(table_file(columns), st.sampled_from([".csv"] * 9 + [".geojson"])),
        st.tuples(geojson, st.sampled_from([".geojson"] * 5 + [".json"] * 4 + [".csv"])),
    )

    @FUZZ
    @given(file=files)
    def run(file: tuple[bytes, str]) -> None:
        data, suffix = file
        _run_file(
            stats, scratch / f"registre{suffix}", data, lambda p: load_registry(p, region=region)
        )

    run()
    stats.check()


# --------------------------------------------------------------------------- matrix file

MATRIX_COLUMNS = (
    "origin",
    "destination",
    "duration",
    "duration_s",
    "duration_min",
    "distance",
    "distance_km",
    "distance_m",
    "x",
)


def _matrix(insee: list[str], shape: dict[str, Any]) -> bytes:
    rng = random.Random(shape["seed"])

    def value() -> str:
        return f"{rng.uniform(0, 20_000):.1f}" if rng.random() < 0.85 else _wild(rng)

    def code() -> str:
        return rng.choice(insee) if rng.random() < 0.9 else _wild(rng)

    n = shape["rows"]
    if shape["tidy"]:  # wide: a header cell, destinations, one row per origin
        dests = [code() for _ in range(rng.randint(0, 5))]
        header = [rng.choice(["", "origin", "insee"]), *dests]
        rows = [[code(), *(value() for _ in dests)] for _ in range(n)]
    else:  # long: origin, destination, duration and/or distance (unit in the name)
        header = [rng.choice(MATRIX_COLUMNS) for _ in range(rng.randint(1, 5))]
        if rng.random() < 0.5:
            header = ["origin", "destination", *header]
        rows = [
            [code() if h in ("origin", "destination") else value() for h in header]
            for _ in range(n)
        ]
    return _csv_bytes(header, rows, sep=shape["sep"][:1].replace("\t", ","), encoding="utf-8")


def test_matrix_file(region: Any, codes: dict[str, list[str]], scratch: Path) -> None:
    from coverage.travel.matrix_file import check_region, read_matrix

    points = region.communes[["insee", "lon", "lat"]]
    region_codes = set(region.communes["insee"])
    stats = Stats("matrix_file.read_matrix")
    files = st.one_of(
        st.binary(max_size=400), *([SHAPE.map(lambda s: _matrix(codes["insee"], s))] * 19)
    )

    def read(path: Path, unit: str | None, with_points: bool) -> None:
        matrix = read_matrix(path, unit=unit, points=points if with_points else None, cache=False)
        check_region(matrix, region_codes=region_codes)

    @FUZZ
    @given(
        data=files,
        unit=st.sampled_from([None, "s", "min", "km", "m", "s,km", "h", ""]),
        with_points=st.booleans(),
    )
    def run(data: bytes, unit: str | None, with_points: bool) -> None:
        _run_file(stats, scratch / "matrice.csv", data, lambda p: read(p, unit, with_points))

    run()
    stats.check()


# --------------------------------------------------------------------------- territory file


def test_territory_file(
    region: Any, registry: Any, codes: dict[str, list[str]], scratch: Path
) -> None:
    from coverage.data.territories import COLUMNS, load_territories

    ids = registry.structures["id"].tolist()
    cells = {c: [""] for c in COLUMNS}
    cells.update(
        territory_id=["T1", "T2", "nord-15"],
        name=["", "Cantal", "Nord", "Haute-Loire"],
        insee=["", "", "", *codes["insee"]],
        epci=["", "", "", "", *codes["epci"]],
        dep=["", "", "", "", "", *codes["dep"]],
        structures=["", "", *ids[:4], ";".join(ids[:2])],
        source=["https://www.ars.sante.fr/x", "https://a.fr/b"],
    )
    columns = Columns(cells, required=("territory_id", "source"))
    stats = Stats("territories.load_territories")

    @FUZZ
    @given(data=table_file(columns), with_registry=st.booleans())
    def run(data: bytes, with_registry: bool) -> None:
        reg = registry if with_registry else None
        _run_file(
            stats,
            scratch / "territoires.csv",
            data,
            lambda p: load_territories(p, region=region, registry=reg),
        )

    run()
    stats.check()


# --------------------------------------------------------------------------- weight files


def test_weight_files(region: Any, codes: dict[str, list[str]], scratch: Path) -> None:
    from coverage.data.weights import load_demand, load_deprivation

    common = {
        "insee": codes["insee"],
        "label": ["", "60 ans ou plus"],
        "source": ["", "https://www.insee.fr/x"],
    }
    demand_cols = Columns(
        {**common, "weight": ["12", "0", "1 234,5", "3,5"], "Poids": ["3"]},
        required=("insee", "weight"),
    )
    deprivation_cols = Columns(
        {
            **common,
            "index": ["-1,2", "0.5", "2"],
            "direction": [
                "plus_eleve_plus_defavorise",
                "lower_is_more_deprived",
                "plus eleve plus defavorise",
                "",
            ],
            "FDep": ["1,5"],
        },
        required=("insee", "index"),
    )
    stats = Stats("weights.load_demand/load_deprivation")

    @FUZZ
    @given(
        demand=st.booleans(),
        file=st.data(),
        higher=st.sampled_from([None, True, False]),
    )
    def run(demand: bool, file: st.DataObject, higher: bool | None) -> None:
        data = file.draw(table_file(demand_cols if demand else deprivation_cols))

        def read(p: Path) -> object:
            if demand:
                return load_demand(p, region=region)
            return load_deprivation(p, region=region, higher_is_deprived=higher)

        _run_file(stats, scratch / "poids.csv", data, read)

    run()
    stats.check()


def test_the_time_bound_interrupts_a_hang() -> None:
    stats = Stats("self-test", bound_s=0.2)
    start = time.perf_counter()
    with pytest.raises(Hang, match=r"ran over 0\.2 s"), stats.bounded():
        while True:
            math.factorial(100)
    assert time.perf_counter() - start < 5
    with stats.bounded():
        raise CoverageError("refusé")
    assert stats.refused == 1 and stats.inputs == 2


# --------------------------------------------------------------------------- hostile workbooks
# Issue 22's corpus (``tests/_bombs.py``: built here, never committed) and drawn variations of
# it, through every entry point that reads a workbook. Each file, at each entry point, must be
# refused in French (a ``RegistryError``: "… est refusé") or answered, within ``BOMB_CPU_S`` of
# CPU time and ``BOMB_RSS_MB`` of peak RSS growth. The peak is this process's own high-water
# mark (``VmHWM``), reset to the current RSS before each call through ``/proc/self/clear_refs``
# (Linux >= 4.0): each call is measured alone, in-process, whatever ran before it in this
# pytest worker (``-n auto``: each worker is its own process, and calls within one run one
# after the other). A call that would expand a bomb meets an address-space cap first
# (``BOMB_AS_HEADROOM``, a ``MemoryError`` that fails the test with its file), and the lane's
# alarm (``BOUND_S``).

#: CPU time one entry point may spend on one hostile file (``time.process_time``).
BOMB_CPU_S = 2.0
#: Peak RSS growth one entry point may cause on one hostile file, in MB.
BOMB_RSS_MB = 300
#: Address space a call may add before it fails with a ``MemoryError`` (the machine's guard).
BOMB_AS_HEADROOM = 2 * 2**30
#: Drawn variations of the corpus: one per 200 inputs of the lane (50 at the full count).
BOMB_VARIATIONS = max(EXAMPLES // 200, 8)


def _status_kb(name: str) -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(name + ":"):
                return int(line.split()[1])
    raise LookupError(name)


def _reset_peak() -> bool:
    """Reset this process's peak RSS to its current RSS; False where Linux does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
    except OSError:
        return False
    return True


@dataclass
class Cost:
    """What one entry point spent on one file, and how it answered."""

    entry: str
    file: str
    cpu_s: float
    rss_mb: float
    refused: bool
    message: str = ""


def measure(entry: str, file: str, call: Callable[[], object]) -> Cost:
    """Run ``call`` under the lane's alarm and an address-space cap; its CPU time and peak
    RSS growth. A ``RegistryError`` is a refusal; any other exception propagates."""
    import resource

    from coverage._errors import RegistryError

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = _status_kb("VmSize") * 1024 + BOMB_AS_HEADROOM
    exact = _reset_peak()
    before_kb = _status_kb("VmRSS") if exact else resource.getrusage(resource.RUSAGE_SELF)[2]
    refused, message = False, ""
    resource.setrlimit(resource.RLIMIT_AS, (cap if hard < 0 else min(cap, hard), hard))
    start = time.process_time()
    try:
        with Stats(entry).bounded(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                call()
            except RegistryError as exc:
                refused, message = True, str(exc)
    finally:
        cpu = time.process_time() - start
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    peak_kb = _status_kb("VmHWM") if exact else resource.getrusage(resource.RUSAGE_SELF)[2]
    return Cost(entry, file, cpu, max(peak_kb - before_kb, 0) / 1024, refused, message)


@pytest.fixture(scope="module")
def workbook_entry_points(region: Any, registry: Any) -> dict[str, Callable[[Path], object]]:
    """Every entry point that reads a workbook a visitor or a planner gives."""
    from coverage.data.candidates import load_candidates
    from coverage.data.registry_files import import_registry, load_registry
    from coverage.data.territories import load_territories
    from coverage.data.weights import load_demand, load_deprivation
    from coverage.web.budget import check_upload_budget

    return {
        "registry.load_registry": lambda p: load_registry(p, region=region),
        "registry.import_registry": lambda p: import_registry(p, region=region),
        "territories.load_territories": lambda p: load_territories(
            p, region=region, registry=registry
        ),
        "candidates.load_candidates": lambda p: load_candidates(p, region=region),
        "weights.load_demand": lambda p: load_demand(p, region=region),
        "weights.load_deprivation": lambda p: load_deprivation(p, region=region),
        "budget.check_upload_budget": lambda p: check_upload_budget(p.name, p.read_bytes()),
    }


def _log_uniform(rng: random.Random, low: int, high: int) -> int:
    return int(math.exp(rng.uniform(math.log(low), math.log(high))))


def bomb_variation(rng: random.Random, folder: Path, i: int) -> tuple[str, Path, bool]:
    """One drawn variation of the corpus: (its recipe, its path, whether a limit refuses it
    by construction). Sizes are drawn log-uniformly, from well under to far over the limits
    for the ODS repeats (which the readers never expand), and over them for the XLSX files
    the readers would expand (under them, see ``test_workbooks_at_the_limits``)."""
    from coverage.data import workbook_scan as scan
    from coverage.data.spreadsheet import MAX_ROWS
    from tests import _bombs

    family = rng.randrange(8)
    if family == 0:
        rows, cells = _log_uniform(rng, 1, 10**9), _log_uniform(rng, 1, 10**9)
        path = _bombs.ods_repeats(folder, rows=rows, cells=cells, name=f"v{i}.ods")
        over = rows + 1 > scan.MAX_WORKBOOK_ROWS or rows * cells > scan.MAX_WORKBOOK_CELLS
        return f"ODS, {rows} rows x {cells} repeated cells", path, over
    sub = folder / f"v{i}"
    sub.mkdir()
    if family == 1:
        cells = _log_uniform(rng, scan.MAX_WORKBOOK_CELLS + 1, 6_000_000)
        return f"XLSX, one row of {cells} cells", _bombs.xlsx_wide_row(sub, cells), True
    if family == 2:
        n = _log_uniform(rng, scan.MAX_SHARED_STRINGS + 1, 5_500_000)
        return f"XLSX, {n} shared strings", _bombs.xlsx_shared_strings(sub, n), True
    if family == 3:
        mb = rng.randint(1, 94)
        return f"ODS, {mb} MB of content.xml", _bombs.ods_large_content(sub, mb), False
    if family == 4:
        mb = rng.randint(scan.MAX_UNZIPPED_BYTES // 10**6 + 1, 400)
        return f"XLSX, zip of {mb} MB of blanks", _bombs.xlsx_deflate_bomb(sub, mb), True
    if family == 5:
        sheets, rows = rng.randint(2, 40), _log_uniform(rng, 10, 2_000)
        over = sheets * (rows + 1) > scan.MAX_WORKBOOK_ROWS
        path = _bombs.xlsx_many_sheets(sub, sheets, rows)
        return f"XLSX, {sheets} sheets of {rows} rows", path, over
    if family == 6:
        builder = rng.choice([_bombs.ods_entities, _bombs.xlsx_entities])
        return f"entities ({builder.__name__})", builder(sub), True
    count = _log_uniform(rng, 1, 4 * MAX_ROWS)
    part = rng.choice(["xl/worksheets/sheet1.xml", "xl/feuilles/donnees.xml", "donnees.xml"])
    prefix = rng.choice(["", "x", "ss"])
    path = _bombs.xlsx_rows(sub, count, sheet_part=part, prefix=prefix, name="rows.xlsx")
    return f"XLSX, {count} rows at {part} with prefix {prefix!r}", path, False


def _check_costs(costs: list[Cost], recipe: str, *, must_refuse: bool) -> list[str]:
    """The problems of one file's costs: over time or memory, or answered when it must not."""
    out = []
    for c in costs:
        where = f"{recipe}: {c.entry}"
        if c.cpu_s >= BOMB_CPU_S:
            out.append(f"{where}: {c.cpu_s:.2f} s of CPU")
        if c.rss_mb >= BOMB_RSS_MB:
            out.append(f"{where}: {c.rss_mb:.0f} MB of peak RSS growth")
        if c.refused and "est refusé" not in c.message:
            out.append(f"{where}: refused without the French message: {c.message[:200]!r}")
        if must_refuse and not c.refused:
            out.append(f"{where}: answered, though over a limit")
    return out


def _summary(costs: list[Cost]) -> None:
    by_entry: dict[str, list[Cost]] = {}
    for c in costs:
        by_entry.setdefault(c.entry, []).append(c)
    for entry, cs in by_entry.items():
        slow = max(cs, key=lambda c: c.cpu_s)
        big = max(cs, key=lambda c: c.rss_mb)
        print(
            f"\n{entry}: {len(cs)} files, {sum(c.refused for c in cs)} refused, slowest "
            f"{slow.cpu_s * 1000:.0f} ms ({slow.file}), largest peak RSS growth "
            f"{big.rss_mb:.0f} MB ({big.file})"
        )


def test_the_bomb_corpus_costs_milliseconds_at_every_entry_point(
    workbook_entry_points: dict[str, Callable[[Path], object]],
    tmp_path: Path,
) -> None:
    from tests import _bombs

    Maker = Callable[[Path], tuple[str, Path, bool]]
    makers: list[Maker] = [
        lambda folder, name=name, build=build: (name, build(folder), True)
        for name, build in _bombs.CORPUS.items()
    ]
    rng = random.Random(22)
    for i in range(BOMB_VARIATIONS):
        seed = rng.getrandbits(64)

        def variation(folder: Path, seed: int = seed, i: int = i) -> tuple[str, Path, bool]:
            what, path, over = bomb_variation(random.Random(seed), folder, i)
            return f"variation {i} (seed {seed}): {what}", path, over

        makers.append(variation)
    if not _reset_peak():
        print("\n/proc/self/clear_refs refused: RSS growth measured above the earlier peak")
    costs: list[Cost] = []
    problems: list[str] = []
    for index, make in enumerate(makers):
        folder = tmp_path / f"f{index}"
        folder.mkdir()
        recipe, path, must_refuse = make(folder)
        mine = [
            measure(entry, recipe, lambda read=read, p=path: read(p))
            for entry, read in workbook_entry_points.items()
        ]
        problems += _check_costs(mine, recipe, must_refuse=must_refuse)
        costs += mine
        shutil.rmtree(folder)
    _summary(costs)
    assert len(costs) == len(makers) * len(workbook_entry_points)
    assert not problems, "\n".join(problems)


def _at_the_limits() -> dict[str, Callable[[Path], Path]]:
    """Workbooks at the scan's limits (``check_workbook``): the largest a reader is asked to
    read in full (the upload budget refuses the 5,001 rows of the first three, headers
    included, and the 20,000 of the fourth; the command line reads them)."""
    from coverage.data import workbook_scan as scan
    from coverage.data.spreadsheet import MAX_ROWS
    from tests import _bombs

    header = len(_bombs.HEADER)
    return {
        "ods-5000-rows-at-the-cell-limit": lambda f: _bombs.ods_repeats(
            f, rows=MAX_ROWS, cells=scan.MAX_WORKBOOK_CELLS // (MAX_ROWS + 1) - 1
        ),
        "ods-11-mb-of-content": lambda f: _bombs.ods_large_content(f, 11),
        "xlsx-5000-rows": lambda f: _bombs.xlsx_rows(f, MAX_ROWS),
        "xlsx-20-sheets-of-999-rows": lambda f: _bombs.xlsx_many_sheets(
            f, 20, scan.MAX_WORKBOOK_ROWS // 20 - 1
        ),
        "xlsx-one-row-at-the-cell-limit": lambda f: _bombs.xlsx_wide_row(
            f, scan.MAX_WORKBOOK_CELLS - header
        ),
        "xlsx-shared-strings-at-the-limit": lambda f: _bombs.xlsx_shared_strings(
            f, scan.MAX_SHARED_STRINGS
        ),
    }


#: At the bound: the applicants' reader spends about 2 s of CPU on it, so it passes or fails
#: with the machine's load. Not strict.
BORDERLINE_AT_THE_LIMITS = {
    "xlsx-20-sheets-of-999-rows": "1.87-1.98 s (applicants)",
}


def _limit_marks(name: str) -> list[pytest.MarkDecorator]:
    if name in BORDERLINE_AT_THE_LIMITS:
        reason = f"at {BOMB_CPU_S} s of CPU: {BORDERLINE_AT_THE_LIMITS[name]}"
        return [pytest.mark.xfail(reason=reason, strict=False)]
    return []


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=_limit_marks(name))
        for name in (
            "ods-5000-rows-at-the-cell-limit",
            "ods-11-mb-of-content",
            "xlsx-5000-rows",
            "xlsx-20-sheets-of-999-rows",
            "xlsx-one-row-at-the-cell-limit",
            "xlsx-shared-strings-at-the-limit",
        )
    ],
)
def test_workbooks_at_the_limits_are_read_within_the_same_bounds(
    workbook_entry_points: dict[str, Callable[[Path], object]], tmp_path: Path, name: str
) -> None:
    from coverage.data.workbook_scan import check_workbook

    path = _at_the_limits()[name](tmp_path)
    kind = "ods" if path.suffix == ".ods" else "xlsx"
    check_workbook(path.read_bytes(), path.name, kind=kind)  # the scan lets it through
    costs = [
        measure(entry, name, lambda read=read: read(path))
        for entry, read in workbook_entry_points.items()
    ]
    _summary(costs)
    problems = _check_costs(costs, name, must_refuse=False)
    assert not problems, "\n".join(problems)
