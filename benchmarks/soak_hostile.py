"""Hostile-upload soak: valid visitors beside visitors uploading workbook bombs (issue 22).

Run: ``.venv/bin/python benchmarks/soak_hostile.py`` (20 sessions, 5 of them bombers, for
300 s; ``--sessions``, ``--bombers``, ``--seconds``, ``--think``, ``--no-settle``,
``--pymalloc``).

The server is started as ``benchmarks/soak.py`` starts it (headless, a free loopback port,
the environment of ``make serve``), and ``--sessions`` minus ``--bombers`` clients run
``soak.py``'s mix unchanged: searches, 5,000-row registry uploads through the file widget
(HTTP ``PUT``), what-ifs on the desk. Meanwhile each of the ``--bombers`` clients uploads, one
after the other and without pause, the files of issue 22's corpus (``tests/_bombs.py``:
``CORPUS``, each built once into a temporary folder, a few hundred bytes to 460 kB on disk),
alternately through the registry page's file widget (``registry_file``) and through the
desk's applicants list ("Sites suggérés", ``site_candidates``, submitted with its form).

A bomb's answer must be a French refusal: the run finishes, no exception is shown, the page's
error box says the file "est refusé". Its latency is the file URL asked for -> the answer.

Targets (exit 1 when one is missed):

- the valid sessions' own targets (``SoakReport.check``): no error, the server's peak
  memory (PSS, with its upload workers) under ``soak.MEMORY_BUDGET_MB``, and back within
  ``soak.SETTLED_MB`` of its start once the sessions have closed and expired (the p95 of all
  their actions is printed, not held: a 5,000-row upload beside five bombers takes seconds);
- the valid searches' p95 under 2 s;
- no valid upload refused for a full queue (``budget.BUSY_MESSAGE_FR``): 0;
- every bomb answered with a French refusal (and no bomber's request failing).

Only 127.0.0.1 is contacted; every loop is bounded in time and the server is stopped at the
end. ``tests/test_soak.py`` runs a short variant (a few sessions, ~60 s).
"""

from __future__ import annotations

import argparse
import html
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import soak as base  # puts tests/ on the path too, for _bombs
from _bombs import CORPUS
from _timing import Targets

#: The two upload widgets a bomber aims at: (label, page, query, widget key, submit button).
TARGETS: tuple[tuple[str, str, str, str, str], ...] = (
    ("registre", base.REGISTRY_PAGE, "", "registry_file", ""),
    (
        "candidatures",
        base.DESK_PAGE,
        urllib.parse.urlencode({"onglet": "Sites suggérés"}),
        "site_candidates",
        "Suggérer",
    ),
)
#: What the page's error box says of a refused file (``RegistryError``'s French message).
REFUSED_FR = "est refusé"


@dataclass(frozen=True)
class BombAnswer:
    """One bomb uploaded through one widget, and what came back."""

    bomb: str
    target: str
    seconds: float
    refused: bool
    problems: tuple[str, ...] = ()


@dataclass
class HostileReport:
    """The valid sessions' report (``soak.SoakReport``) and the bombers' answers."""

    valid: base.SoakReport
    bombers: int
    answers: list[BombAnswer] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def sessions(self) -> int:
        return self.valid.sessions + self.bombers

    @property
    def not_refused(self) -> list[BombAnswer]:
        return [a for a in self.answers if not a.refused]

    def lines(self) -> list[str]:
        def ms(x: float) -> str:
            return f"{x * 1000:.0f}"

        out = [
            f"== {self.sessions} sessions : {self.valid.sessions} visiteurs valides, "
            f"{self.bombers} déposant des bombes",
            *self.valid.lines(),
            f"recherches valides : p95 {ms(_p95(self.valid_searches()))} ms "
            f"({len(self.valid_searches())}) ; dépôts valides refusés pour file pleine : "
            f"{self.valid.busy}",
            f"bombes déposées : {len(self.answers)}, refusées en français : "
            f"{len(self.answers) - len(self.not_refused)}, erreurs des déposants : "
            f"{len(self.errors)}",
        ]
        for label, *_ in TARGETS:
            xs = [a.seconds for a in self.answers if a.target == label]
            if xs:
                out.append(
                    f"  par « {label} » : {len(xs)}, réponse médiane {ms(statistics.median(xs))} "
                    f"ms, p95 {ms(_p95(xs))} ms, max {ms(max(xs))} ms"
                )
        for bomb in CORPUS:
            xs = [a.seconds for a in self.answers if a.bomb == bomb]
            if xs:
                out.append(
                    f"    {bomb:<30} {len(xs):>4} dépôts, médiane {ms(statistics.median(xs)):>5} "
                    f"ms, max {ms(max(xs)):>5} ms"
                )
        out += [f"  NON REFUSÉE : {a.bomb} par {a.target} : {a.problems}" for a in self.not_refused]
        out += [f"  ERREUR (déposant) : {e}" for e in self.errors[:20]]
        return out

    def valid_searches(self) -> list[float]:
        return [t.seconds for t in self.valid.timed if t.kind == "recherche" and not t.hostile]

    def check(self, targets: Targets) -> None:
        self.valid.check(targets, all_p95=False)
        targets.check("p95 des recherches valides (s)", _p95(self.valid_searches()), at_most=2.0)
        targets.check("dépôts valides refusés pour file pleine", self.valid.busy, at_most=0)
        targets.check("bombes non refusées en français", len(self.not_refused), at_most=0)
        targets.check("erreurs des déposants de bombes", len(self.errors), at_most=0)
        targets.check("bombes déposées", len(self.answers), at_least=2 * self.bombers)


def _p95(xs: list[float]) -> float:
    return base._quantile(xs, 95)


def bomb_files(folder: Path) -> list[tuple[str, str, bytes]]:
    """Each bomb of the corpus built in ``folder``: (its name, its file name, its bytes)."""
    out = []
    for name, build in CORPUS.items():
        path = build(folder)
        out.append((name, path.name, path.read_bytes()))
        path.unlink()
    return out


def upload_bomb(
    server: base.Server, bomb: str, file_name: str, data: bytes, target: str
) -> BombAnswer:
    """Open a new session on the page of ``target`` and upload one bomb through its widget."""
    _, page, query, key, submit_label = next(t for t in TARGETS if t[0] == target)
    with base.Session(server) as tab:
        opened = tab.run(page=page, query=query)
        uploader = opened.widgets.get(key)
        submit = opened.widgets.get(submit_label) if submit_label else None
        if uploader is None or (submit_label and submit is None):
            return BombAnswer(bomb, target, opened.seconds, False, ("upload widget not drawn",))
        extra = [base._trigger(submit)] if submit is not None else []
        run = tab.upload(uploader, file_name, data, page=page, query=query, widgets=extra)
    text = html.unescape("\n".join(run.html))
    problems = list(run.problems(errors_expected=True))
    if not run.error_alerts or REFUSED_FR not in text:
        problems.append("no French refusal shown")
    return BombAnswer(bomb, target, run.seconds, not problems, tuple(problems))


def hostile_soak(
    server: base.Server,
    *,
    sessions: int,
    bombers: int,
    seconds: float,
    think_s: float = 0.0,
    settle: bool = True,
    wait_workers: bool = True,
) -> HostileReport:
    """``sessions - bombers`` valid clients (``soak.soak``) and ``bombers`` clients uploading
    the corpus's bombs without pause, for ``seconds``."""
    if not 0 < bombers < sessions:
        raise ValueError("--bombers: at least one, and fewer than --sessions")
    with tempfile.TemporaryDirectory(prefix="parcours-bombs-") as folder:
        files = bomb_files(Path(folder))
    answers: list[BombAnswer] = []
    errors: list[str] = []
    lock = threading.Lock()

    def bomber(i: int, stop: float) -> None:
        n = 0
        while time.monotonic() < stop:
            bomb, file_name, data = files[(i + n // len(TARGETS)) % len(files)]
            target = TARGETS[(i + n) % len(TARGETS)][0]
            n += 1
            try:
                answer = upload_bomb(server, bomb, file_name, data, target)
            except Exception as exc:
                with lock:
                    errors.append(f"bomber {i}, {bomb} by {target}: {type(exc).__name__}: {exc}")
                continue
            with lock:
                answers.append(answer)

    def extra(stop: float) -> list[threading.Thread]:
        return [threading.Thread(target=bomber, args=(i, stop)) for i in range(bombers)]

    valid = base.soak(
        server,
        sessions=sessions - bombers,
        seconds=seconds,
        think_s=think_s,
        settle=settle,
        wait_workers=wait_workers,
        extra_clients=extra,
    )
    return HostileReport(valid, bombers, answers, errors)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20, help="all sessions, bombers included")
    parser.add_argument("--bombers", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--think", type=float, default=0.0, help="valid clients' mean pause (s)")
    parser.add_argument("--no-settle", dest="settle", action="store_false")
    parser.add_argument(
        "--pymalloc",
        dest="served",
        action="store_false",
        help="server with Python's own allocator (not as `make serve` starts it)",
    )
    args = parser.parse_args(argv)
    targets = Targets("soak hostile")
    print(
        f"== Charge hostile : {args.sessions} sessions dont {args.bombers} déposant des bombes, "
        f"pendant {args.seconds:.0f} s",
        flush=True,
    )
    with base.running_server(served=args.served) as server:
        report = hostile_soak(
            server,
            sessions=args.sessions,
            bombers=args.bombers,
            seconds=args.seconds,
            think_s=args.think,
            settle=args.settle,
        )
    print("\n".join(report.lines()), flush=True)
    report.check(targets)
    return targets.exit_code()


if __name__ == "__main__":
    sys.exit(main())
