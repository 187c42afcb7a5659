"""Soak test of the Streamlit app, and the worst case of the place lookup.

Run: ``.venv/bin/python benchmarks/soak.py [--sessions 8] [--seconds 120] [--no-lookups]``

1. Place lookup, worst case: the slowest of a set of adversarial queries (10 kB of letters,
   digits, separators, NFKD-expanding characters, repeated words) against a normal query, in
   the same process (min of 5 runs each). Every lookup's cost is bounded by construction (the
   query is cut to ``places.MAX_QUERY_CHARS``): this prints the bound as measured.
2. Server soak: starts ``streamlit run app.py`` headless on a free loopback port, then runs
   ``--sessions`` concurrent clients for ``--seconds``, browser-free, over Streamlit's own
   protocol (the websocket ``/_stcore/stream``, protobuf messages): each search is a new
   session (``?q=...`` in the query string, as a shared link opens it), alternating valid
   places, ambiguous ones and hostile text; every few searches a client also loads the page
   (``/``) and the health check. It prints the errors (must be 0), median and p95 of a
   search (session opened to script finished) and of the page loads, and the server's
   memory (RSS of the server and its children, sampled every 0.25 s): medians of the first,
   middle and last thirds, and the growth from the middle to the last third.

An error is: a failed or timed-out request, a run that does not finish successfully, an
exception shown on the page, an error message for a valid place, an answer whose heading
names another place than the one this session asked for (sessions mixed up), or an error
logged by the server (``error in`` / ``Traceback``). French messages for hostile queries are
expected.

Only 127.0.0.1 is contacted; every loop is bounded in time and the server is stopped at the
end. ``tests/test_soak.py`` runs the same soak for ~20 s.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # see tests/_browser.py
from _browser import ROOT, streamlit_server

#: Places a patient types (and whether an error message is a failure for them).
VALID_QUERIES: tuple[str, ...] = (
    "Aurillac",
    "Le Puy-en-Velay",
    "Clermont-Ferrand",
    "43000",
    "63113",
    "45.7797, 3.0863",
    "Annecy",
    "Saint-Flour",
    "Lyon 8e Arrondissement",
    "Valence",
    "Murat",
    "st flour",
)
HOSTILE_QUERIES: tuple[str, ...] = (
    "<script>alert(1)</script>",
    "x" * 2_000,
    "Marseille",
    "'; DROP TABLE communes;--",
    "🎗️",
    "4.8, 45.7",
    "{{7*7}}",
    "\u202eLyon",
    "",
    "99999",
)


# --------------------------------------------------------------------------- server


@dataclass
class Server:
    """``streamlit run app.py`` on a free loopback port; its log goes to ``log``."""

    port: int
    proc: subprocess.Popen
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_errors(self) -> list[str]:
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return [
            line
            for line in text.splitlines()
            if "Traceback" in line or "error in " in line or " ERROR " in line
        ]


@contextlib.contextmanager
def running_server(*, app: Path = ROOT / "app.py", start_timeout: float = 120) -> Iterator[Server]:
    """Start the app headless on 127.0.0.1, wait for ``/_stcore/health``, stop it at the end."""
    with tempfile.TemporaryDirectory(prefix="parcours-soak-") as tmp:
        log = Path(tmp) / "server.log"
        with streamlit_server(app, log=log, timeout=start_timeout) as running:
            yield Server(running.port, running.proc, log)


def http_get(server: Server, path: str, *, timeout: float = 30) -> tuple[int, bytes]:
    with urllib.request.urlopen(server.base + path, timeout=timeout) as response:
        return response.status, response.read()


# --------------------------------------------------------------------------- one session


#: How the page's own error notices start (``coverage.web.markup.notice_html``).
ERROR_NOTICE = 'class="pc-notice pc-error"'


@dataclass
class Run:
    """One script run seen by a client."""

    seconds: float
    finished: bool
    exceptions: int = 0
    error_alerts: int = 0
    headings: list[str] = field(default_factory=list)


def search(server: Server, query: str, *, young: bool = False, timeout: float = 60) -> Run:
    """Open a new session on ``?q=query`` (as a shared link does) and wait for the script."""
    from streamlit.proto.Alert_pb2 import Alert
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.sync.client import connect

    params = {"q": query, **({"jeune": "1"} if young else {})}
    msg = BackMsg()
    msg.rerun_script.query_string = urllib.parse.urlencode(params)
    msg.rerun_script.page_script_hash = ""
    started = time.perf_counter()
    run = Run(0.0, False)
    url = f"ws://127.0.0.1:{server.port}/_stcore/stream"
    with connect(
        url, subprotocols=["streamlit"], origin=server.base, max_size=None, open_timeout=timeout
    ) as ws:
        ws.send(msg.SerializeToString())
        deadline = started + timeout
        while True:
            fm = ForwardMsg()
            fm.ParseFromString(ws.recv(timeout=max(0.1, deadline - time.perf_counter())))
            kind = fm.WhichOneof("type")
            if kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                element = fm.delta.new_element
                what = element.WhichOneof("type")
                if what == "exception":
                    run.exceptions += 1
                elif what == "heading":
                    run.headings.append(element.heading.body)
                elif what == "alert" and element.alert.format == Alert.ERROR:
                    run.error_alerts += 1
                elif what == "html" and ERROR_NOTICE in element.html.body:
                    run.error_alerts += 1  # the page's own error box (markup.notice_html)
            elif kind == "script_finished":
                run.finished = fm.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY
                break
    run.seconds = time.perf_counter() - started
    return run


# --------------------------------------------------------------------------- the soak


@dataclass
class SoakReport:
    sessions: int
    seconds: float
    searches: list[float] = field(default_factory=list)
    pages: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    rss: list[tuple[float, int]] = field(default_factory=list)
    hostile: int = 0

    def thirds_mb(self) -> tuple[float, float, float]:
        values = [r for _, r in self.rss]
        n = len(values) // 3
        if n == 0:
            return (float("nan"),) * 3
        parts = (values[:n], values[n : 2 * n], values[2 * n :])
        return tuple(statistics.median(p) / 2**20 for p in parts)  # type: ignore[return-value]

    def growth_pct(self) -> float:
        _, middle, last = self.thirds_mb()
        return 100.0 * (last - middle) / middle

    def lines(self) -> list[str]:
        def q(xs: list[float], p: float) -> float:
            return statistics.quantiles(xs, n=100)[int(p) - 1] if len(xs) >= 2 else float("nan")

        first, middle, last = self.thirds_mb()
        out = [
            f"sessions simultanées : {self.sessions}, durée : {self.seconds:.0f} s",
            f"recherches : {len(self.searches)} (dont {self.hostile} textes hostiles), "
            f"chargements de page : {len(self.pages)}",
            f"erreurs : {len(self.errors)}",
        ]
        if self.searches:
            out.append(
                f"recherche (session ouverte -> script terminé) : médiane "
                f"{statistics.median(self.searches) * 1000:.0f} ms, p95 "
                f"{q(self.searches, 95) * 1000:.0f} ms, max {max(self.searches) * 1000:.0f} ms"
            )
        if self.pages:
            out.append(
                f"page / et /_stcore/health : médiane {statistics.median(self.pages) * 1000:.0f}"
                f" ms, p95 {q(self.pages, 95) * 1000:.0f} ms"
            )
        out.append(
            f"mémoire du serveur (RSS, Mo) par tiers : {first:.0f} / {middle:.0f} / {last:.0f} "
            f"; croissance du tiers du milieu au dernier : {self.growth_pct():+.1f} %"
        )
        out.extend(f"  ERREUR : {e}" for e in self.errors[:20])
        return out


def _rss(pid: int) -> int:
    import psutil

    proc = psutil.Process(pid)
    total = proc.memory_info().rss
    for child in proc.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            total += child.memory_info().rss
    return total


def expected_names() -> dict[str, str]:
    """For each unambiguous valid query, the commune name its answer's heading must show."""
    from coverage.data import places
    from coverage.data.region import load_region

    region = load_region()
    out = {}
    for query in VALID_QUERIES:
        found = places.lookup(query, region)
        if not found.ambiguous:
            out[query] = str(region.commune(found.place.insee)["base_name"])
    return out


def soak(server: Server, *, sessions: int, seconds: float, seed: int = 6) -> SoakReport:
    """Run ``sessions`` concurrent clients for ``seconds`` (after one warm-up search).

    Each answer must be the one to its own query: under concurrency, a session that showed
    another session's place would be counted as an error.
    """
    report = SoakReport(sessions, seconds)
    expected = expected_names()
    lock = threading.Lock()
    warm = search(server, "Aurillac")  # loads the region, registry and zones once
    if not warm.finished or warm.exceptions:
        report.errors.append(f"warm-up search failed: {warm}")
    stop = time.monotonic() + seconds

    def sample() -> None:
        t0 = time.monotonic()
        while time.monotonic() < stop:
            with contextlib.suppress(Exception):
                report.rss.append((time.monotonic() - t0, _rss(server.proc.pid)))
            time.sleep(0.25)

    def client(i: int) -> None:
        rng = random.Random(seed * 1000 + i)
        n = 0
        while time.monotonic() < stop:
            n += 1
            hostile = rng.random() < 0.25
            query = rng.choice(HOSTILE_QUERIES if hostile else VALID_QUERIES)
            try:
                run = search(server, query, young=rng.random() < 0.3)
            except Exception as exc:
                with lock:
                    report.errors.append(f"search {query[:40]!r}: {type(exc).__name__}: {exc}")
                continue
            problems = []
            if not run.finished:
                problems.append("script not finished successfully")
            if run.exceptions:
                problems.append(f"{run.exceptions} exception(s) shown")
            if run.error_alerts and not hostile:
                problems.append(f"error message for a valid place ({run.error_alerts})")
            name = expected.get(query)
            if name is not None and not any(name in h for h in run.headings):
                problems.append(f"answer is not about {name!r}: {run.headings[:3]!r}")
            with lock:
                report.searches.append(run.seconds)
                report.hostile += hostile
                report.errors.extend(f"search {query[:40]!r}: {p}" for p in problems)
            if n % 3 == 0:
                for path in ("/", "/_stcore/health"):
                    t = time.perf_counter()
                    try:
                        status, body = http_get(server, path)
                        ok = status == 200 and body
                    except Exception as exc:
                        ok, status = False, f"{type(exc).__name__}: {exc}"
                    with lock:
                        report.pages.append(time.perf_counter() - t)
                        if not ok:
                            report.errors.append(f"GET {path}: {status}")

    threads = [threading.Thread(target=sample)]
    threads += [threading.Thread(target=client, args=(i,)) for i in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 120)
    report.errors.extend(f"server log: {line}" for line in server.log_errors())
    if server.proc.poll() is not None:
        report.errors.append(f"server exited with code {server.proc.returncode}")
    return report


# --------------------------------------------------------------------------- lookup bound


def lookup_worst_case(*, repeats: int = 5) -> list[str]:
    """Time the place lookup on adversarial queries against a normal one (same process)."""
    from coverage._errors import PlaceError
    from coverage.data import places
    from coverage.data.region import load_region

    region = load_region()
    cut = places.MAX_QUERY_CHARS

    def best(query: str) -> float:
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            with contextlib.suppress(PlaceError):
                places.lookup(query, region)
            times.append(time.perf_counter() - t)
        return min(times)

    places.lookup("Aurillac", region)  # name tables built once
    normal = statistics.median(best(q) for q in ("Aurillac", "Clermont-Ferand", "43000"))
    adversarial = {
        "10 kB de lettres": "x" * 10_000,
        "10 kB de chiffres": "1" * 10_000,
        "virgules et chiffres": "1," * 5_000,
        "mots répétés": "Saint " * 2_000,
        "tirets": "st-" * 3_000,
        "parenthèses": "a (" * 3_000,
        "NFKD qui s'allonge (㎯)": "㎯" * 5_000,
        "NFKD qui s'allonge (ﷺ)": "ﷺ" * 5_000,
        "noms de communes collés": "LyonAurillacValence" * 500,
        "emoji": "🎗️" * 3_000,
    }
    rows = [(name, best(q)) for name, q in adversarial.items()]
    worst_name, worst = max(rows, key=lambda r: r[1])
    out = [f"requête coupée à {cut} caractères ; requête normale : {normal * 1000:.1f} ms"]
    out += [f"  {name:<28} {s * 1000:7.1f} ms" for name, s in rows]
    ratio = worst / normal
    out.append(
        f"pire cas : {worst_name}, {worst * 1000:.1f} ms = {ratio:.1f} × une requête normale"
    )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--no-lookups", dest="lookups", action="store_false")
    parser.add_argument("--no-server", dest="server", action="store_false")
    args = parser.parse_args(argv)
    if args.lookups:
        print("== Recherche de lieu : pire cas")
        print("\n".join(lookup_worst_case()))
    if args.server:
        if not (ROOT / "app.py").is_file():
            print("app.py absent : pas d'essai de charge du serveur.")
            return 0
        print(f"== Charge : {args.sessions} sessions pendant {args.seconds:.0f} s")
        with running_server() as server:
            report = soak(server, sessions=args.sessions, seconds=args.seconds)
        print("\n".join(report.lines()))
        return 1 if report.errors else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
