"""Soak test of the Streamlit app, and the worst case of the place lookup.

Run: ``.venv/bin/python benchmarks/soak.py`` (20 sessions for 300 s; ``--sessions``,
``--seconds``, ``--think``, ``--no-lookups``, ``--no-server``).

1. Place lookup, worst case: the slowest of a set of adversarial queries (10 kB of letters,
   digits, separators, NFKD-expanding characters, repeated words) against a normal query, in
   the same process (min of 5 runs each). Every lookup's cost is bounded by construction (the
   query is cut to ``places.MAX_QUERY_CHARS``): this prints the bound as measured.
2. Server soak: starts ``streamlit run app.py`` headless on a free loopback port (the
   project's ``.streamlit/config.toml``, and the environment of ``make serve``:
   ``PYTHONMALLOC=malloc``; ``--pymalloc``: without it), then runs ``--sessions``
   concurrent clients for ``--seconds``, browser-free, over Streamlit's own protocol (the
   websocket ``/_stcore/stream``, protobuf messages, the XSRF cookie a browser gets from
   ``/_stcore/health``, and the HTTP ``PUT`` of ``st.file_uploader``). Each client picks, one
   after the other, with a pause of ``--think`` seconds (0.5-1.5 times, at random) between:

   - a **search** (60 %): a new session on ``?q=...`` as a shared link opens it, valid places,
     ambiguous ones and hostile text;
   - an **upload** (15 %): a new session opens the registry page, then uploads a 5,000-row
     registry (``bench_upload.registry_bytes``, the budget's maximum, different bytes for each
     client) through the file widget; half of the time the same session then opens the
     planners' desk on the uploaded registry and runs a what-if there;
   - a **what-if** (25 %): a new session opens the desk's "Scénario" tab on the server's
     registry and submits 1 to 3 scenarios (1-3 communes added at random, sometimes a
     structure removed).

   Every third action the client also loads the page (``/``) and the health check.

Latencies are client-side wall times on the same machine (the clients share its 2 cores
with the server), one per kind:

- ``recherche``: websocket opened -> first script run finished (its answer and map sent);
- ``ouverture``: a new session opening the registry page or the desk (the same span);
- ``dépôt``: the file URL asked for -> ``PUT`` of the file -> the reruns finished and the
  page showing the uploaded registry in use (validation, finder, the page's tables);
- ``scénario``: the form submitted -> the run finished with the scenario's figures.

The overall p95 is over all four kinds; the static ``GET``s are reported apart.

Memory, every 0.25 s: the PSS of the server and its children added up (a page shared by two
processes, such as the libraries' code a spawned upload worker maps too, counts once; their
RSS added up is printed beside it), and the server process's alone. Its level after a
warm-up (one of each action, a 2-row upload) once the upload workers have stopped (the idle
service), the peak while the clients run, and its level once they have all closed. A closed
tab's session is kept by Streamlit for ``server.disconnectedSessionTTL`` seconds in case the
tab reconnects, then dropped when the next session is stored: the soak waits that long, opens
and closes one more session, waits for one whole round of the server's housekeeping (which
gives freed memory back) and for the idle upload workers to stop, and measures again.
``--cycles N`` runs the load N times on the same server, each settled, and checks the
server's settled level from the first cycle to the last: what a first load leaves (allocator
pools grown to its peak) is paid once, a leak would add up.

An error is: a failed or timed-out request, a run that does not finish successfully, an
exception shown on the page, an error message for a valid place, an upload or a what-if,
an answer whose heading names another place than the one this session asked for (sessions
mixed up), an upload not in use after its run, a what-if whose figures or changes are
missing, or an error logged by the server (``error in`` / ``Traceback``). French messages
for hostile queries are expected; so is the upload queue's notice (counted).

Targets (exit 1 when one is missed, as every benchmark: ``_timing.Targets``): 0 errors, p95
of all actions under 2 s, peak memory (PSS) under ``MEMORY_BUDGET_MB``, and memory after
the sessions close within ``SETTLED_MB`` of its level after the warm-up, for the server and
its workers and for the server process alone (with ``--cycles``, also from cycle to cycle).

Only 127.0.0.1 is contacted; every loop is bounded in time and the server is stopped at the
end. ``tests/test_soak.py`` runs the same soak for ~20 s.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # see tests/_browser.py
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _browser import ROOT, streamlit_server
from _timing import Targets

from coverage.web import housekeeping, worker
from coverage.web.budget import BUSY_MESSAGE_FR

#: Peak memory (PSS) the server and its upload workers may reach during the soak, in MB. Set
#: for one process before the upload workers existed (~400 MB loaded, plus the two upload
#: slots at their 300 MB target each, ``bench_upload.py``, plus ~200 MB for the sessions
#: held: search answers, what-ifs, uploads kept until their sessions expire), and kept.
MEMORY_BUDGET_MB = 1_200.0
#: How far above its level after the warm-up the memory may stay once every session has
#: closed and expired, in MB (``bench_upload.py`` allows 50 MB for three closed uploads).
SETTLED_MB = 50.0
#: The project's ``server.disconnectedSessionTTL`` (``.streamlit/config.toml``; Streamlit's
#: default 120 s when it is not set).
DEFAULT_SESSION_TTL_S = int(
    tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    .get("server", {})
    .get("disconnectedSessionTTL", 120)
)
#: Structures in each uploaded registry: the upload budget's maximum.
UPLOAD_ROWS = 5_000
#: Share of each action in a client's sequence.
MIX = (("search", 0.60), ("upload", 0.15), ("whatif", 0.25))

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
REGISTRY_PAGE = "registre"
DESK_PAGE = "planification"
SCENARIO_QUERY = urllib.parse.urlencode({"onglet": "Scénario"})


# --------------------------------------------------------------------------- server


@dataclass
class Server:
    """``streamlit run app.py`` on a free loopback port; its log goes to ``log``."""

    port: int
    proc: subprocess.Popen
    log: Path
    session_ttl_s: float = DEFAULT_SESSION_TTL_S

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_errors(self) -> list[str]:
        """Errors the server logged; a traceback is given with its exception's line."""
        lines = self.log.read_text(encoding="utf-8", errors="replace").splitlines()
        out = []
        for i, line in enumerate(lines):
            if "Traceback" in line:
                cause = next((x for x in lines[i + 1 :] if x and not x[0].isspace()), "")
                out.append(f"{line.strip()} {cause.strip()}")
            elif "error in " in line or " ERROR " in line:
                out.append(line)
        return out


@contextlib.contextmanager
def running_server(
    *,
    app: Path = ROOT / "app.py",
    start_timeout: float = 120,
    session_ttl_s: int | None = None,
    served: bool = True,
) -> Iterator[Server]:
    """Start the app headless on 127.0.0.1, wait for ``/_stcore/health``, stop it at the end.

    ``session_ttl_s``: Streamlit's ``server.disconnectedSessionTTL`` (``None``: the project's
    setting, Streamlit's default); the short test lowers it so that closed sessions expire
    within its run. ``served``: in the environment ``make serve`` gives it
    (``housekeeping.SERVER_ENVIRONMENT``); False: in this process's environment only.
    """
    args = [] if session_ttl_s is None else ["--server.disconnectedSessionTTL", str(session_ttl_s)]
    ttl = DEFAULT_SESSION_TTL_S if session_ttl_s is None else session_ttl_s
    env = {**os.environ, **(housekeeping.SERVER_ENVIRONMENT if served else {})}
    with tempfile.TemporaryDirectory(prefix="parcours-soak-") as tmp:
        log = Path(tmp) / "server.log"
        with streamlit_server(app, log=log, timeout=start_timeout, args=args, env=env) as running:
            yield Server(running.port, running.proc, log, session_ttl_s=ttl)


def http_get(server: Server, path: str, *, timeout: float = 30) -> tuple[int, bytes]:
    with urllib.request.urlopen(server.base + path, timeout=timeout) as response:
        return response.status, response.read()


def xsrf_cookie(server: Server, *, timeout: float = 30) -> str:
    """The XSRF token a browser gets with ``/_stcore/health`` (needed to upload a file)."""
    with urllib.request.urlopen(server.base + "/_stcore/health", timeout=timeout) as response:
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            if name.strip() == "_streamlit_xsrf":
                return rest.split(";", 1)[0]
    return ""


# --------------------------------------------------------------------------- one session


#: How the page's own error notices start (``coverage.web.markup.notice_html``).
ERROR_NOTICE = 'class="pc-notice pc-error"'


@dataclass
class Run:
    """One script run (with the reruns it asked for) seen by a client."""

    seconds: float
    finished: bool
    exceptions: int = 0
    error_alerts: int = 0
    queued: int = 0
    #: answers refusing an upload because the queue is full (``budget.BUSY_MESSAGE_FR``)
    busy: int = 0
    headings: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    metrics: list[tuple[str, str, str]] = field(default_factory=list)
    #: The widgets drawn, by the end of their id (their ``key``, or a button's label).
    widgets: dict[str, Any] = field(default_factory=dict)

    def problems(self, *, errors_expected: bool = False) -> list[str]:
        out = []
        if not self.finished:
            out.append("script not finished successfully")
        if self.exceptions:
            out.append(f"{self.exceptions} exception(s) shown")
        if self.error_alerts and not errors_expected:
            out.append(f"{self.error_alerts} error message(s) shown")
        return out


class Session:
    """One browser tab: a websocket on ``/_stcore/stream`` holding one Streamlit session."""

    def __init__(self, server: Server, *, timeout: float = 60) -> None:
        from websockets.sync.client import connect

        self.server = server
        self.timeout = timeout
        self.xsrf = xsrf_cookie(server, timeout=timeout)
        self.session_id = ""
        self.ws = connect(
            f"ws://127.0.0.1:{server.port}/_stcore/stream",
            subprotocols=["streamlit"],
            origin=server.base,
            max_size=None,
            open_timeout=timeout,
            additional_headers={"Cookie": f"_streamlit_xsrf={self.xsrf}"},
        ).__enter__()  # the connection is this tab's: closed by __exit__ below

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.ws.__exit__(None, None, None)

    def run(
        self, *, page: str = "", query: str = "", widgets: Sequence[Any] = (), started: float = 0
    ) -> Run:
        """Ask for a script run of ``page`` with ``query`` and widget states; wait for it."""
        from streamlit.proto.BackMsg_pb2 import BackMsg

        msg = BackMsg()
        msg.rerun_script.query_string = query
        msg.rerun_script.page_script_hash = ""
        msg.rerun_script.page_name = page
        for w in widgets:
            msg.rerun_script.widget_states.widgets.append(w)
        started = started or time.perf_counter()
        self.ws.send(msg.SerializeToString())
        return self._read(started)

    def _next(self, deadline: float) -> Any:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        fm = ForwardMsg()
        fm.ParseFromString(self.ws.recv(timeout=max(0.1, deadline - time.perf_counter())))
        if fm.WhichOneof("type") == "new_session":
            self.session_id = fm.new_session.initialize.session_id
        return fm

    def _read(self, started: float) -> Run:
        from streamlit.proto.Alert_pb2 import Alert
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        run = Run(0.0, False)
        deadline = started + self.timeout
        while True:
            fm = self._next(deadline)
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
                    run.busy += BUSY_MESSAGE_FR in element.alert.body
                elif what == "alert" and "file d'attente" in element.alert.body:
                    run.queued += 1
                elif what == "html":
                    if ERROR_NOTICE in element.html.body:
                        run.error_alerts += 1  # the page's own error box (markup.notice_html)
                        run.busy += BUSY_MESSAGE_FR in html.unescape(element.html.body)
                    if "<style" not in element.html.body:
                        run.html.append(element.html.body)
                elif what == "metric":
                    m = element.metric
                    run.metrics.append((m.label, m.body, m.delta))
                elif what in ("file_uploader", "multiselect", "button"):
                    widget = getattr(element, what)
                    run.widgets[widget.id.rsplit("-", 1)[-1]] = widget
            elif kind == "script_finished":
                status = fm.script_finished
                if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue  # st.rerun(): the server starts the next run by itself
                run.finished = status == ForwardMsg.FINISHED_SUCCESSFULLY
                break
        run.seconds = time.perf_counter() - started
        return run

    def upload(
        self,
        uploader: Any,
        name: str,
        data: bytes,
        *,
        page: str,
        query: str = "",
        widgets: Sequence[Any] = (),
    ) -> Run:
        """Upload ``data`` through the file widget ``uploader``, as the browser does it: ask
        for a file URL, ``PUT`` the file there, then rerun with the widget's new state (and
        ``widgets``: a form's submit button when the widget is in a form)."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        started = time.perf_counter()
        ask = BackMsg()
        ask.file_urls_request.request_id = uuid.uuid4().hex
        ask.file_urls_request.file_names.append(name)
        ask.file_urls_request.session_id = self.session_id
        self.ws.send(ask.SerializeToString())
        deadline = started + self.timeout
        while True:
            fm = self._next(deadline)
            if fm.WhichOneof("type") == "file_urls_response":
                if fm.file_urls_response.error_msg:
                    raise RuntimeError(f"file URL refused: {fm.file_urls_response.error_msg}")
                urls = fm.file_urls_response.file_urls[0]
                break
        boundary = uuid.uuid4().hex
        body = (
            (
                f"--{boundary}\r\nContent-Disposition: form-data; "
                f'name="file"; filename="{name}"\r\nContent-Type: text/csv\r\n\r\n'
            ).encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        request = urllib.request.Request(
            self.server.base + urls.upload_url,
            data=body,
            method="PUT",
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "X-Xsrftoken": self.xsrf,
                "Cookie": f"_streamlit_xsrf={self.xsrf}",
            },
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            if response.status != 204:
                raise RuntimeError(f"PUT {urls.upload_url}: {response.status}")
        state = WidgetState(id=uploader.id)
        info = state.file_uploader_state_value.uploaded_file_info.add()
        info.name, info.size, info.file_id = name, len(data), urls.file_id
        info.file_urls.CopyFrom(urls)
        return self.run(page=page, query=query, widgets=[state, *widgets], started=started)


def search(server: Server, query: str, *, young: bool = False, timeout: float = 60) -> Run:
    """Open a new session on ``?q=query`` (as a shared link does) and wait for the script."""
    params = {"q": query, **({"jeune": "1"} if young else {})}
    started = time.perf_counter()
    with Session(server, timeout=timeout) as tab:
        return tab.run(query=urllib.parse.urlencode(params), started=started)


# --------------------------------------------------------------------------- the actions


@dataclass
class Timed:
    """One action's latency, of one kind, and what was wrong with its answer."""

    kind: str
    seconds: float
    problems: list[str] = field(default_factory=list)
    hostile: bool = False


def _multiselect_state(widget: Any, values: Sequence[str]) -> Any:
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    state = WidgetState(id=widget.id)
    state.string_array_value.data.extend(values)
    return state


def _trigger(widget: Any) -> Any:
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    return WidgetState(id=widget.id, trigger_value=True)


def what_ifs(tab: Session, rng: random.Random, count: int, *, label: str) -> list[Timed]:
    """Open the desk's "Scénario" tab in ``tab`` and submit ``count`` scenarios."""
    started = time.perf_counter()
    opened = tab.run(page=DESK_PAGE, query=SCENARIO_QUERY, started=started)
    out = [Timed("ouverture", opened.seconds, [f"desk ({label}): {p}" for p in opened.problems()])]
    add, remove, submit = (opened.widgets.get(k) for k in ("sc_add", "sc_remove", "Comparer"))
    if add is None or remove is None or submit is None:
        out[0].problems.append(f"desk ({label}): scenario form not drawn")
        return out
    for _ in range(count):
        picks = rng.sample(list(add.options), rng.randint(1, 3))
        gone = rng.sample(list(remove.options), 1) if rng.random() < 0.3 else []
        states = [
            _multiselect_state(add, picks),
            _multiselect_state(remove, gone),
            _trigger(submit),
        ]
        run = tab.run(page=DESK_PAGE, query=SCENARIO_QUERY, widgets=states)
        problems = run.problems()
        changes = "\n".join(run.html)
        if not any(delta for _, _, delta in run.metrics):
            problems.append("no figure with its change")
        missing = [p for p in picks if f"à {html.escape(p)} (point" not in changes]
        problems += [f"change not listed: {p!r}" for p in missing]
        out.append(Timed("scénario", run.seconds, [f"what-if ({label}): {p}" for p in problems]))
    return out


def upload_registry(
    tab: Session, name: str, data: bytes, rows: int
) -> tuple[list[Timed], bool, Run | None]:
    """Open the registry page in ``tab`` and upload ``data``: (timings, in use, the
    upload's run; ``None`` when the page drew no file widget)."""
    started = time.perf_counter()
    opened = tab.run(page=REGISTRY_PAGE, started=started)
    out = [Timed("ouverture", opened.seconds, [f"registry page: {p}" for p in opened.problems()])]
    uploader = opened.widgets.get("registry_file")
    if uploader is None:
        out[0].problems.append("registry page: no file widget")
        return out, False, None
    run = tab.upload(uploader, name, data, page=REGISTRY_PAGE)
    problems = run.problems()
    shown = "\n".join(run.html)
    in_use = f"« {name} », chargé pour cette session" in shown
    if not in_use:
        problems.append("the uploaded registry is not in use")
    if f"{rows} structure(s) localisée(s) sur {rows}" not in shown:
        problems.append(f"the page does not list the {rows} structures")
    out.append(Timed("dépôt", run.seconds, [f"upload {name}: {p}" for p in problems]))
    return out, in_use, run


# --------------------------------------------------------------------------- the soak


KINDS = ("recherche", "ouverture", "dépôt", "scénario")


@dataclass(frozen=True)
class Sample:
    """The memory at one moment of the soak, in bytes."""

    #: seconds since the soak started
    t: float
    #: "warm-up", "start", "load", "closed" or "settled"
    phase: str
    #: PSS of the server and its children added up: a page two processes share (the
    #: libraries' code a spawned worker maps too) counts once; RSS where there is no PSS
    total: int
    #: PSS of the server process alone (without its upload workers)
    alone: int
    #: plain RSS of the server and its children added up (shared pages in every process)
    rss_sum: int


@dataclass
class SoakReport:
    sessions: int
    seconds: float
    think_s: float
    timed: list[Timed] = field(default_factory=list)
    pages: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    #: the memory, every 0.25 s (``_rss``)
    samples: list[Sample] = field(default_factory=list)
    hostile: int = 0
    queued: int = 0
    #: uploads refused because the queue was full (``budget.BUSY_MESSAGE_FR``)
    busy: int = 0
    uploads_in_use: int = 0
    settled: bool = False

    # ---- figures

    def times(self, kind: str | None = None) -> list[float]:
        return [t.seconds for t in self.timed if kind is None or t.kind == kind]

    @property
    def searches(self) -> list[float]:
        return self.times("recherche")

    def count(self, kind: str) -> int:
        return len(self.times(kind))

    def p95(self, kind: str | None = None) -> float:
        return _quantile(self.times(kind), 95)

    def _phase(self, phase: str, *, alone: bool = False) -> list[int]:
        return [s.alone if alone else s.total for s in self.samples if s.phase == phase]

    def start_mb(self, *, alone: bool = False) -> float:
        values = self._phase("start", alone=alone)
        return statistics.median(values) / 2**20 if values else float("nan")

    def peak_mb(self, *, alone: bool = False) -> float:
        values = self._phase("load", alone=alone)
        return max(values) / 2**20 if values else float("nan")

    def peak_rss_sum_mb(self) -> float:
        values = [s.rss_sum for s in self.samples if s.phase == "load"]
        return max(values) / 2**20 if values else float("nan")

    def settled_mb(self, *, alone: bool = False) -> float:
        values = self._phase("settled", alone=alone)
        return statistics.median(values) / 2**20 if values else float("nan")

    def _settled_text(self, *, alone: bool = False) -> str:
        if not self.settled:
            return "sessions fermées : non mesuré"
        return f"{self.settled_mb(alone=alone):.0f} une fois les sessions fermées et expirées"

    def thirds_mb(self) -> tuple[float, float, float]:
        values = self._phase("load")
        n = len(values) // 3
        if n == 0:
            return (float("nan"),) * 3
        parts = (values[:n], values[n : 2 * n], values[2 * n :])
        return tuple(statistics.median(p) / 2**20 for p in parts)  # type: ignore[return-value]

    def growth_pct(self) -> float:
        _, middle, last = self.thirds_mb()
        return 100.0 * (last - middle) / middle

    def lines(self) -> list[str]:
        def ms(x: float) -> str:
            return f"{x * 1000:.0f}"

        first, middle, last = self.thirds_mb()
        rate = len(self.timed) / self.seconds if self.seconds else float("nan")
        out = [
            f"sessions simultanées : {self.sessions}, durée : {self.seconds:.0f} s, pause entre "
            f"deux actions : {self.think_s:g} s en moyenne ; {len(self.timed)} actions "
            f"({rate:.1f} par seconde)",
            f"recherches : {self.count('recherche')} (dont {self.hostile} textes hostiles), "
            f"ouvertures de page : {self.count('ouverture')}, dépôts de {UPLOAD_ROWS} lignes : "
            f"{self.count('dépôt')} ({self.uploads_in_use} en usage, {self.queued} mis en file "
            f"d'attente, {self.busy} refusés pour file pleine), scénarios : "
            f"{self.count('scénario')} ; GET / et /_stcore/health : {len(self.pages)}",
            f"erreurs : {len(self.errors)}",
        ]
        for kind in KINDS:
            xs = self.times(kind)
            if xs:
                out.append(
                    f"  {kind:<10} médiane {ms(statistics.median(xs)):>5} ms, p95 "
                    f"{ms(_quantile(xs, 95)):>5} ms, max {ms(max(xs)):>5} ms  ({len(xs)})"
                )
        if self.timed:
            out.append(f"  toutes      p95 {ms(self.p95())} ms")
        if self.pages:
            out.append(
                f"  GET        médiane {ms(statistics.median(self.pages))} ms, p95 "
                f"{ms(_quantile(self.pages, 95))} ms"
            )
        out.append(
            f"mémoire du serveur et de ses lecteurs de dépôts (PSS, Mo) : {self.start_mb():.0f} "
            f"après l'échauffement, pic {self.peak_mb():.0f}, par tiers de la charge "
            f"{first:.0f} / {middle:.0f} / {last:.0f} ({self.growth_pct():+.1f} % du tiers du "
            f"milieu au dernier), {self._settled_text()}"
        )
        out.append(
            f"  pic en RSS additionnés (chaque page partagée comptée dans chaque processus) : "
            f"{self.peak_rss_sum_mb():.0f}"
        )
        out.append(
            f"  dont le processus du serveur seul (sans ses lecteurs de dépôts) : "
            f"{self.start_mb(alone=True):.0f} après l'échauffement, pic "
            f"{self.peak_mb(alone=True):.0f}, {self._settled_text(alone=True)}"
        )
        out.extend(f"  ERREUR : {e}" for e in self.errors[:20])
        return out

    def check(
        self, targets: Targets, *, budget_mb: float = MEMORY_BUDGET_MB, all_p95: bool = True
    ) -> None:
        """Record this soak's targets: errors, p95, peak memory, memory once closed
        (``all_p95=False``: without the p95 of all actions, which the hostile soak prints but
        does not hold the valid sessions to: it holds their searches' p95)."""
        targets.check("erreurs", len(self.errors), at_most=0)
        if all_p95:
            targets.check("p95 de toutes les actions (s)", self.p95(), at_most=2.0)
        targets.check("pic de mémoire du serveur (Mo)", self.peak_mb(), at_most=budget_mb)
        if self.settled:
            targets.check(
                "mémoire une fois les sessions fermées, en plus de son niveau de départ (Mo)",
                self.settled_mb() - self.start_mb(),
                at_most=SETTLED_MB,
            )
            # Both levels are the idle service (no upload worker running): the server
            # process alone must come back near its own start too.
            targets.check(
                "serveur seul, une fois les sessions fermées, en plus de son départ (Mo)",
                self.settled_mb(alone=True) - self.start_mb(alone=True),
                at_most=SETTLED_MB,
            )


def _quantile(xs: list[float], p: int) -> float:
    if len(xs) < 2:
        return xs[0] if xs else float("nan")
    return statistics.quantiles(xs, n=100, method="inclusive")[p - 1]


def _wait_for_idle_workers(pid: int) -> None:
    """Wait until the server ``pid`` runs no upload worker (the pool stops after
    ``worker.IDLE_S`` idle, at a housekeeping round), then for the trim of that round."""
    import psutil

    deadline = time.monotonic() + worker.IDLE_S + 3 * housekeeping.INTERVAL_S
    while time.monotonic() < deadline:
        with contextlib.suppress(psutil.Error):
            if not any(
                "spawn_main" in " ".join(c.cmdline())
                for c in psutil.Process(pid).children(recursive=True)
            ):
                break
        time.sleep(1.0)
    time.sleep(3.0)


def _rss(pid: int) -> tuple[int, int, int]:
    """(memory of the process and its children, of the process alone, their RSS added up),
    in bytes: :class:`Sample`'s ``total``, ``alone`` and ``rss_sum``."""
    import psutil

    def pss_rss(p: psutil.Process) -> tuple[int, int]:
        try:
            info = p.memory_full_info()
            return int(info.pss), int(info.rss)
        except (AttributeError, psutil.AccessDenied):  # pragma: no cover - no smaps
            rss = int(p.memory_info().rss)
            return rss, rss

    proc = psutil.Process(pid)
    alone, rss_sum = pss_rss(proc)
    total = alone
    for child in proc.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            pss, rss = pss_rss(child)
            total += pss
            rss_sum += rss
    return total, alone, rss_sum


def expected_names() -> dict[str, str]:
    """For each unambiguous valid query, the commune name its answer's heading must show."""
    from coverage.data import places
    from coverage.data.region import load_region

    region = load_region(region="84")
    out = {}
    for query in VALID_QUERIES:
        found = places.lookup(query, region)
        if not found.ambiguous:
            out[query] = str(region.commune(found.place.insee)["base_name"])
    return out


def upload_files(count: int, rows: int = UPLOAD_ROWS) -> list[bytes]:
    """``count`` different valid registries of ``rows`` structures (``bench_upload``'s)."""
    from bench_upload import registry_bytes

    from coverage.data.region import load_region
    from coverage.data.registry_files import load_registry
    from coverage.settings import DEFAULT_REGISTRY

    region = load_region(region="84")
    source = str(load_registry(DEFAULT_REGISTRY, region=region).structures["source"].iloc[0])
    return [registry_bytes(region, source, rows, salt=f"s{i}") for i in range(count)]


def _search_action(server: Server, rng: random.Random, expected: dict[str, str]) -> Timed:
    hostile = rng.random() < 0.25
    query = rng.choice(HOSTILE_QUERIES if hostile else VALID_QUERIES)
    run = search(server, query, young=rng.random() < 0.3)
    problems = run.problems(errors_expected=hostile)
    name = expected.get(query)
    if name is not None and not any(name in h for h in run.headings):
        problems.append(f"answer is not about {name!r}: {run.headings[:3]!r}")
    return Timed(
        "recherche", run.seconds, [f"search {query[:40]!r}: {p}" for p in problems], hostile
    )


def soak(
    server: Server,
    *,
    sessions: int,
    seconds: float,
    think_s: float = 0.0,
    seed: int = 6,
    rows: int = UPLOAD_ROWS,
    settle: bool = True,
    wait_workers: bool = True,
    extra_clients: Callable[[float], Sequence[threading.Thread]] | None = None,
) -> SoakReport:
    """Run ``sessions`` concurrent clients for ``seconds`` (after a warm-up), then, when
    ``settle``, wait for the closed sessions to expire (and, with ``wait_workers``, for the
    idle upload workers to stop) and measure the memory again.

    ``extra_clients(stop)``: more clients (threads, not started) to run beside these ones
    during the load, until ``time.monotonic()`` reaches ``stop``: the hostile-upload soak's
    bombers (``soak_hostile.py``). They are joined before the memory settles.

    Each answer must be the one to its own query: under concurrency, a session that showed
    another session's place, or no longer its upload, would be counted as an error.
    """
    report = SoakReport(sessions, seconds, think_s)
    expected = expected_names()
    files = upload_files(sessions, rows)
    lock = threading.Lock()
    t0 = time.monotonic()
    phase = ["warm-up"]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            with contextlib.suppress(Exception):
                total, alone, rss_sum = _rss(server.proc.pid)
                report.samples.append(
                    Sample(time.monotonic() - t0, phase[0], total, alone, rss_sum)
                )
            time.sleep(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    warm = _warm_up(server)
    report.errors += [f"warm-up: {p}" for p in warm]
    if wait_workers:  # the start is the idle service, as the end: no upload worker running
        _wait_for_idle_workers(server.proc.pid)
    time.sleep(1.0)
    phase[0] = "start"
    time.sleep(3.0)
    phase[0] = "load"
    stop = time.monotonic() + seconds

    def record(timed: list[Timed]) -> None:
        with lock:
            for t in timed:
                report.timed.append(t)
                report.hostile += t.hostile
                report.errors.extend(t.problems)

    def act(rng: random.Random, i: int, n: int) -> list[Timed]:
        kind = rng.choices([k for k, _ in MIX], weights=[w for _, w in MIX])[0]
        if kind == "search":
            return [_search_action(server, rng, expected)]
        with Session(server) as tab:
            if kind == "whatif":
                return what_ifs(tab, rng, rng.randint(1, 3), label="registre du serveur")
            timed, in_use, run = upload_registry(tab, f"ars-{i}-{n}.csv", files[i], rows)
            with lock:
                report.uploads_in_use += in_use
                report.queued += run.queued if run else 0
                report.busy += run.busy if run else 0
            if in_use and rng.random() < 0.5:
                timed += what_ifs(tab, rng, 1, label="registre déposé")
            return timed

    def client(i: int) -> None:
        rng = random.Random(seed * 1000 + i)
        n = 0
        while time.monotonic() < stop:
            n += 1
            try:
                record(act(rng, i, n))
            except Exception as exc:
                with lock:
                    report.errors.append(f"client {i}, action {n}: {type(exc).__name__}: {exc}")
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
            if think_s > 0:
                time.sleep(min(think_s * rng.uniform(0.5, 1.5), max(0.0, stop - time.monotonic())))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(sessions)]
    threads += extra_clients(stop) if extra_clients else []
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 180)
    phase[0] = "closed"
    if settle and server.proc.poll() is None:
        # Closed tabs' sessions are kept for the TTL, then dropped when a session is stored;
        # what they held is given back at the housekeeping's next round (two intervals: one
        # whole round after the drop), and the idle upload workers stop at a later round.
        time.sleep(server.session_ttl_s + 2)
        with contextlib.suppress(Exception):
            search(server, "Aurillac")
        if wait_workers:
            time.sleep(2 * housekeeping.INTERVAL_S + 3)
            _wait_for_idle_workers(server.proc.pid)
        else:
            time.sleep(3.0)
        phase[0] = "settled"
        time.sleep(3.0)
        report.settled = True
    done.set()
    sampler.join(timeout=5)
    report.errors.extend(f"server log: {line}" for line in server.log_errors())
    if server.proc.poll() is not None:
        report.errors.append(f"server exited with code {server.proc.returncode}")
    return report


def _warm_up(server: Server) -> list[str]:
    """One of each action (a 2-row upload): imports, the region, the server's caches."""
    problems = []
    warm = search(server, "Aurillac")
    problems += warm.problems()
    rng = random.Random(0)
    with Session(server) as tab:
        for t in what_ifs(tab, rng, 1, label="échauffement"):
            problems += t.problems
    with Session(server) as tab:
        small = upload_files(1, rows=2)[0]
        timed, _, _ = upload_registry(tab, "echauffement.csv", small, 2)
        for t in timed:
            problems += t.problems
    return problems


# --------------------------------------------------------------------------- lookup bound


def lookup_worst_case(*, repeats: int = 5) -> list[str]:
    """Time the place lookup on adversarial queries against a normal one (same process)."""
    from coverage._errors import PlaceError
    from coverage.data import places
    from coverage.data.region import load_region

    region = load_region(region="84")
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


def check_cycles(reports: Sequence[SoakReport], targets: Targets) -> None:
    """Load cycles on one server: each later cycle's settled level against the first one's.

    What the first load leaves (allocator pools grown to its peak, code run once, bounded
    caches filled) is paid once; a leak would add to every cycle.
    """
    first = reports[0].settled_mb(alone=True)
    levels = " / ".join(f"{r.settled_mb(alone=True):.0f}" for r in reports)
    print(f"serveur seul, une fois les sessions fermées, cycle après cycle (Mo) : {levels}")
    targets.check(
        "serveur seul : du premier au dernier cycle, une fois les sessions fermées (Mo)",
        reports[-1].settled_mb(alone=True) - first,
        at_most=SETTLED_MB,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--think", type=float, default=0.0, help="mean pause between actions (s)")
    parser.add_argument("--no-settle", dest="settle", action="store_false")
    parser.add_argument(
        "--cycles", type=int, default=1, help="load cycles on the same server, each settled"
    )
    parser.add_argument("--no-lookups", dest="lookups", action="store_false")
    parser.add_argument("--no-server", dest="server", action="store_false")
    parser.add_argument(
        "--pymalloc",
        dest="served",
        action="store_false",
        help="server with Python's own allocator (not as `make serve` starts it)",
    )
    args = parser.parse_args(argv)
    targets = Targets("soak")
    if args.lookups:
        print("== Recherche de lieu : pire cas")
        print("\n".join(lookup_worst_case()))
    if args.server:
        if not (ROOT / "app.py").is_file():
            print("app.py absent : pas d'essai de charge du serveur.")
            return 0
        print(f"== Charge : {args.sessions} sessions pendant {args.seconds:.0f} s")
        reports = []
        with running_server(served=args.served) as server:
            for cycle in range(args.cycles):
                if args.cycles > 1:
                    print(f"-- cycle {cycle + 1} sur {args.cycles}", flush=True)
                reports.append(
                    soak(
                        server,
                        sessions=args.sessions,
                        seconds=args.seconds,
                        think_s=args.think,
                        settle=args.settle or args.cycles > 1,
                    )
                )
                print("\n".join(reports[-1].lines()), flush=True)
        reports[0].check(targets)
        if len(reports) > 1:
            check_cycles(reports, targets)
    return targets.exit_code()


if __name__ == "__main__":
    sys.exit(main())
