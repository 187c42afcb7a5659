"""Fuzzing lane, command line: >= 10,000 generated ``parcours`` command lines (issue 13).

Each command line is drawn from the parser itself (every sub-command, option, choice and
positional ``coverage.cli.build_parser`` declares, so new options are fuzzed as they land),
with values from a pool of places, numbers written both ways, hostile text and paths in a
private folder (missing, a folder, a FIFO, a file under a file, a copy of the registry).
``coverage.cli.main`` must return an exit code or exit through argparse (``SystemExit``),
print no traceback, and take less than ``BOUND_S`` per command line.

What runs for real: ``find`` (the finder is loaded once per registry/zoning/model and
reused), ``registry`` (check, show, import, template) and ``roads info``. ``analyse`` (seconds
per run), ``roads build`` and ``roads serve`` (a build, a server) are parsed and type-checked
only. No value names a path outside the private folder, and no URL needs a name lookup.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coverage import cli

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("PARCOURS_FUZZ_EXAMPLES", "10000"))
BOUND_S = 10.0
#: Sub-commands parsed but not run (cost or side effect: an analysis, a build, a server).
PARSE_ONLY = frozenset({("analyse",), ("roads", "build"), ("roads", "serve")})


class Hang(BaseException):
    """A command line ran past ``BOUND_S``."""


@dataclass(frozen=True)
class Leaf:
    """One sub-command: its words, its options (name, takes a value, choices), positionals."""

    words: tuple[str, ...]
    options: tuple[tuple[str, bool, tuple[str, ...]], ...]
    positionals: tuple[tuple[str, str | int | None], ...]


def _leaves(
    parser: argparse.ArgumentParser, words: tuple[str, ...] = ()
) -> Iterator[tuple[Leaf, argparse.ArgumentParser]]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if subs:
        for name, sub in subs[0].choices.items():
            yield from _leaves(sub, (*words, name))
        return
    options, positionals = [], []
    for a in parser._actions:
        if isinstance(a, argparse._HelpAction):
            continue
        choices = tuple(str(c) for c in a.choices) if a.choices is not None else ()
        if a.option_strings:
            options.append((a.option_strings[-1], a.nargs != 0, choices))
        else:
            positionals.append((a.dest, a.nargs))
    yield Leaf(words, tuple(options), tuple(positionals)), parser


@pytest.fixture(scope="module")
def sandbox() -> Iterator[dict[str, str]]:
    """Paths the command lines may name, all inside a private folder."""
    from coverage import settings as cfg

    with tempfile.TemporaryDirectory(prefix="parcours-fuzz-cli-") as folder:
        root = Path(folder)
        (root / "dossier").mkdir()
        os.mkfifo(root / "tube.csv")
        (root / "fichier").write_text("x", encoding="utf-8")
        shutil.copy(cfg.DEFAULT_REGISTRY, root / "registre.csv")
        (root / "vide.csv").write_bytes(b"")
        (root / "binaire.csv").write_bytes(bytes(range(256)))
        yield {
            "new_html": str(root / "sortie.html"),
            "new_csv": str(root / "sortie.csv"),
            "new_xlsx": str(root / "modele.xlsx"),
            "folder": str(root / "dossier"),
            "fifo": str(root / "tube.csv"),
            "under_file": str(root / "fichier" / "x.csv"),
            "missing": str(root / "absent.csv"),
            "registry": str(root / "registre.csv"),
            "empty": str(root / "vide.csv"),
            "binary": str(root / "binaire.csv"),
        }


VALUES = (
    "Aurillac",
    "15000",
    "15014",
    "43",
    "45.0, 3.0",
    "Paris",
    "30",
    "30,4",
    "0",
    "-1",
    "nan",
    "inf",
    "1e400",
    "120",
    "15",
    "s1=Aurillac",
    "=x",
    "ligue-cancer-03",
    "http://127.0.0.1:9",
    "ftp://x",
    "",
    " ",
    "--",
    "-",
    "<script>",
    "{{7*7}}",
    "\u202e",
)


def _value(sandbox: dict[str, str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(VALUES),
        st.sampled_from(sorted(sandbox.values())),
        st.text(max_size=20).filter(lambda t: "\x00" not in t),
    )


@st.composite
def command_line(draw: st.DrawFn, leaves: list[Leaf], sandbox: dict[str, str]) -> list[str]:
    leaf = draw(st.sampled_from(leaves))
    argv = list(leaf.words)
    value = _value(sandbox)
    for _dest, nargs in leaf.positionals:
        if nargs == "?" and draw(st.booleans()):
            continue
        argv.append(draw(value))
    for name, takes_value, choices in leaf.options:
        if draw(st.integers(0, 3)) != 0:
            continue
        argv.append(name)
        if takes_value:
            pool = st.sampled_from(choices) if choices and draw(st.integers(0, 4)) else value
            argv.append(draw(pool))
    if draw(st.integers(0, 49)) == 0:
        argv.append(draw(st.sampled_from(["-h", "--inconnue", "en-trop"])))
    return draw(st.permutations(argv)) if draw(st.integers(0, 9)) == 0 else argv


@dataclass
class Outcomes:
    inputs: int = 0
    codes: dict[str, int] = field(default_factory=dict)
    slowest_s: float = 0.0

    def count(self, key: str) -> None:
        self.codes[key] = self.codes.get(key, 0) + 1


@contextlib.contextmanager
def _bounded(outcomes: Outcomes) -> Iterator[None]:
    def alarm(signum: int, frame: FrameType | None) -> None:
        raise Hang(f"a command line ran over {BOUND_S} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    outer, interval = signal.getitimer(signal.ITIMER_REAL)
    signal.setitimer(signal.ITIMER_REAL, BOUND_S)
    start = time.perf_counter()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        spent = time.perf_counter() - start
        if outer > 0:
            signal.setitimer(signal.ITIMER_REAL, max(outer - spent, 0.001), interval)
        outcomes.inputs += 1
        outcomes.slowest_s = max(outcomes.slowest_s, spent)


def _quiet_parser() -> tuple[argparse.ArgumentParser, list[Leaf]]:
    """The real parser, built once, with the parse-only sub-commands' actions stubbed."""
    parser = cli.build_parser()
    leaves = []
    for leaf, sub in _leaves(parser):
        leaves.append(leaf)
        if leaf.words in PARSE_ONLY:
            sub.set_defaults(func=lambda args: 0)
    return parser, leaves


def test_cli_options(
    monkeypatch: pytest.MonkeyPatch, sandbox: dict[str, str], tmp_path: Path
) -> None:
    from coverage.patient.finder import Finder

    monkeypatch.chdir(tmp_path)  # a relative path in a value lands in a scratch folder
    parser, leaves = _quiet_parser()
    assert any(leaf.words == ("find",) for leaf in leaves)
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    loaded: dict[Any, Finder] = {}
    real_load = Finder.load

    def load_once(**kwargs: Any) -> Finder:
        model = kwargs.get("model")
        key = (kwargs.get("registry_path"), kwargs.get("zones_path"), repr(model))
        if key not in loaded:
            loaded[key] = real_load(**kwargs)
        return loaded[key]

    monkeypatch.setattr(Finder, "load", staticmethod(load_once))
    outcomes = Outcomes()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(argv=command_line(leaves, sandbox))
    def run(argv: list[str]) -> None:
        out, err = io.StringIO(), io.StringIO()
        with _bounded(outcomes), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main(argv)
            except SystemExit as exc:  # argparse: a usage error (2) or --help (0)
                code = exc.code if isinstance(exc.code, int) else 2
                outcomes.count(f"argparse {code}")
            else:
                outcomes.count(f"exit {code}")
        assert "Traceback" not in err.getvalue(), (argv, err.getvalue())
        assert isinstance(code, int)

    run()
    print(
        f"\ncli.main: {outcomes.inputs} command lines, {dict(sorted(outcomes.codes.items()))}, "
        f"slowest {outcomes.slowest_s * 1000:.0f} ms, {len(loaded)} finder(s) loaded"
    )
    assert outcomes.inputs >= EXAMPLES
    assert outcomes.slowest_s < BOUND_S
    assert os.stat(sandbox["fifo"]).st_mode & 0o170000 == 0o010000  # still a FIFO


#: Command lines also run as real processes (``python -m coverage.cli``): the same parser and
#: validation as in-process, plus the interpreter's start, the console's encoding and the exit
#: status a shell sees. Each process loads the finder again (~1-3 s), hence only a few.
SUBPROCESS_RUNS = 12


def test_cli_options_in_real_processes(sandbox: dict[str, str], tmp_path: Path) -> None:
    import subprocess
    import sys

    from hypothesis import Phase

    _, leaves = _quiet_parser()
    runnable = [leaf for leaf in leaves if leaf.words not in PARSE_ONLY]
    seen: list[tuple[list[str], int, str]] = []

    @settings(
        max_examples=SUBPROCESS_RUNS,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(argv=command_line(runnable, sandbox))
    def run(argv: list[str]) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "coverage.cli", *argv],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
            env={k: v for k, v in os.environ.items() if not k.startswith("PARCOURS_")},
        )
        assert "Traceback" not in done.stderr, (argv, done.stderr)
        assert done.returncode in (0, 1, 2, 3), (argv, done.returncode, done.stderr[-500:])
        if done.returncode != 0:  # says why: on stderr, or in the JSON answer with --json
            assert (done.stderr + done.stdout).strip(), (argv, "an error exit says why")
        seen.append((argv, done.returncode, done.stderr))

    run()
    print(f"\n{len(seen)} real processes, exit codes {sorted(c for _, c, _ in seen)}")
    assert len(seen) == SUBPROCESS_RUNS
    assert os.stat(sandbox["fifo"]).st_mode & 0o170000 == 0o010000  # still a FIFO
