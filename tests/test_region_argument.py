"""The region is an argument (issue 23, item 4).

Each front end resolves the region once (the command line from ``--region``, else
``$PARCOURS_REGION``, else 84; the page from ``?region=``, else the server's region) and passes
it down. Below the front ends it is a required parameter: nothing reads the variable back.
"""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path
from typing import Any

import pytest

from coverage import settings
from coverage.analysis import access_build
from coverage.cli import main as cli
from coverage.data.region import load_region

PACKAGE = Path(__file__).resolve().parents[1] / "coverage"
#: The only modules that may read the region's environment variable: where it is named, the
#: command line and the page's server settings.
FRONT_ENDS = ("settings.py", "cli/", "web/config.py")


def _environment_reads(tree: ast.AST) -> list[int]:
    """Lines naming ``REGION_ENV``, the string "PARCOURS_REGION" or calling
    ``region_from_environment``."""
    lines = []
    for node in ast.walk(tree):
        named = (
            (isinstance(node, ast.Name) and node.id in {"REGION_ENV", "region_from_environment"})
            or (
                isinstance(node, ast.Attribute)
                and node.attr in {"REGION_ENV", "region_from_environment"}
            )
            or (isinstance(node, ast.Constant) and node.value == settings.REGION_ENV)
            or (isinstance(node, ast.alias) and node.name == "region_from_environment")
        )
        if named:
            lines.append(getattr(node, "lineno", 0))
    return lines


def test_only_the_front_ends_read_the_region_variable() -> None:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith(FRONT_ENDS):
            continue
        lines = _environment_reads(ast.parse(path.read_text(encoding="utf-8")))
        if lines:
            found[rel] = lines
    assert found == {}, f"modules below the front ends read ${settings.REGION_ENV}: {found}"
    # the check sees what it looks for
    assert _environment_reads(ast.parse("from coverage import settings\nsettings.REGION_ENV"))
    assert _environment_reads(ast.parse("os.environ.get('PARCOURS_REGION')"))


def test_region_option_beats_the_variable_and_leaves_the_environment_alone(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(settings.REGION_ENV, "84")
    seen: list[str | None] = []
    real_load_access = access_build.load_access

    def spy(**kwargs: Any) -> Any:
        seen.append(os.environ.get(settings.REGION_ENV))  # what a deep reader would find
        return real_load_access(**kwargs)

    monkeypatch.setattr(access_build, "load_access", spy)
    assert cli(["analyse", "--region", "94", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["meta"]["region"] == "Corse"
    assert doc["meta"]["departements"] == ["2A", "2B"]
    assert seen == ["84"]  # never rewritten for the command's duration
    assert os.environ.get(settings.REGION_ENV) == "84"


def test_without_the_option_the_variable_chooses(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(settings.REGION_ENV, "Corse")
    assert cli(["analyse", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["meta"]["region"] == "Corse"
    monkeypatch.delenv(settings.REGION_ENV)
    assert settings.region_from_environment() == settings.DEFAULT_REGION == "84"


def test_an_unknown_region_in_the_variable_is_refused_in_french(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(settings.REGION_ENV, "Atlantide")
    assert cli(["analyse", "--json"]) == 2
    error = json.loads(capsys.readouterr().out)["error"]
    assert error["message"].startswith("Région inconnue : 'Atlantide'")


def test_below_the_front_ends_the_region_is_required() -> None:
    with pytest.raises(TypeError, match="region"):
        load_region()  # type: ignore[call-arg]
