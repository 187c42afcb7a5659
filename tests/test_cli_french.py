"""The command line speaks French: usage, help, errors; JSON errors with ``--json``; ranges
checked by argparse; programmer errors never shown verbatim."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import pytest

from coverage import cli
from coverage._errors import ArgumentError

PARCOURS = [sys.executable, "-m", "coverage.cli"]
#: argparse's own English words, which must not reach a reader.
ENGLISH = (
    "usage:",
    "positional arguments",
    "options:",
    "show this help",
    "error:",
    "invalid choice",
    "required",
    "unrecognized",
    "expected one argument",
    "invalid int value",
)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PARCOURS, *args], capture_output=True, text=True, timeout=120, env=dict(os.environ)
    )


def _english(text: str) -> list[str]:
    return [w for w in ENGLISH if w in text]


@pytest.mark.parametrize("command", [[], ["find"], ["registry"], ["analyse"], ["roads"]])
def test_help_is_french(command: list[str]) -> None:
    out = run(*command, "--help")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("usage : parcours")
    assert "afficher cette aide et quitter" in out.stdout
    assert _english(out.stdout) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["find", "Aurillac", "-k", "99"], "argument -k : doit être un nombre entier de 1 à 50"),
        (["find", "Aurillac", "-k", "0"], "argument -k : doit être un nombre entier de 1 à 50"),
        (["find", "Aurillac", "-k", "trois"], "un nombre entier est attendu (de 1 à 50)"),
        (["find", "Aurillac", "--age", "130"], "argument --age : doit être un nombre entier"),
        (["find"], "arguments requis : LIEU"),
        (["find", "Aurillac", "--travel", "avion"], "argument --travel : choix invalide : 'avion'"),
        (["find", "Aurillac", "--zzz"], "arguments non reconnus : --zzz"),
        (["find", "Aurillac", "-k"], "argument -k : une valeur est attendue"),
        ([], "arguments requis : COMMANDE"),
    ],
)
def test_usage_errors_are_french(args: list[str], message: str) -> None:
    out = run(*args)
    assert out.returncode == 2
    assert message in out.stderr
    assert "parcours" in out.stderr and " : erreur : " in out.stderr
    assert _english(out.stderr) == [] and "Traceback" not in out.stderr


def test_usage_errors_with_json_are_json() -> None:
    out = run("find", "Aurillac", "-k", "99", "--json")
    assert out.returncode == 2
    doc = json.loads(out.stdout)
    assert doc["error"]["kind"] == "usage"
    assert "doit être un nombre entier de 1 à 50 ; reçu 99" in doc["error"]["message"]


def test_place_errors_with_json_are_json() -> None:
    out = run("find", "Nevers", "--json")
    assert out.returncode == 2
    doc = json.loads(out.stdout)
    assert doc["error"]["kind"] == "outside_region"
    assert doc["next_step"]["region_name"] == "Bourgogne-Franche-Comté"


def test_the_reading_of_a_code_is_said() -> None:
    out = run("find", "38100")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("Lieu : Grenoble (Isère)")
    assert "38100 est lu comme un code postal" in out.stdout
    assert "tapez « Le Cheylas (Isère) »" in out.stdout
    doc = json.loads(run("find", "38100", "--json").stdout)
    assert doc["reading"] == "code postal"
    assert doc["place"]["insee"] == "38185" and doc["other_reading"]["insee"] == "38100"


def test_french_error_keeps_unknown_messages() -> None:
    assert cli.french_error("something new") == "something new"
    assert cli.french_error("argument -x: weird") == "argument -x : weird"


def test_a_programmer_error_is_never_shown_verbatim(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "`k` must be an integer; got 'internal detail'"

    def broken(args: argparse.Namespace) -> int:
        raise ArgumentError(secret)

    monkeypatch.setattr("coverage.cli.find.run", broken)
    # ``set_defaults(func=run)`` bound the original: patch the parser's default instead.
    real = cli.build_parser

    def patched() -> argparse.ArgumentParser:
        parser = real()
        for action in parser._subparsers._group_actions:  # type: ignore[union-attr]
            action.choices["find"].set_defaults(func=broken)  # type: ignore[index]
        return parser

    monkeypatch.setattr(cli, "build_parser", patched)
    assert cli.main(["find", "Aurillac"]) == 70
    err = capsys.readouterr().err
    assert secret not in err and "Erreur interne du programme" in err
    assert cli.main(["find", "Aurillac", "--json"]) == 70
    doc = json.loads(capsys.readouterr().out)
    assert doc["error"]["kind"] == "internal" and secret not in doc["error"]["message"]
