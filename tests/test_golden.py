"""Golden outputs: ``parcours analyse --json`` on the embedded data answers as it did before the
layered rewrite (tests/golden/analyse*.json were written by the flat-module version, commit
da4f4f2), and ``parcours find Lyon`` answers as it did before every region of France came in
(tests/golden/find_lyon.*, commit 2acf814).

An intended change of a figure updates the golden file in the same commit, which says why.
Only the cache build date and the registry's absolute path differ between machines.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from coverage.cli import main

GOLDEN = Path(__file__).parent / "golden"


def _machine_free(d: dict[str, Any]) -> dict[str, Any]:
    d["meta"]["data"].pop("built_at")
    d["meta"]["registry"].pop("path")
    return d


@pytest.mark.parametrize(
    ("args", "golden"),
    [([], "analyse.json"), (["--site", "3"], "analyse_site3.json")],
)
def test_analyse_json_equals_the_golden_output(args, golden, capsys, monkeypatch) -> None:
    monkeypatch.delenv("PARCOURS_REGISTRY", raising=False)
    monkeypatch.delenv("PARCOURS_AJA_ZONES", raising=False)
    assert main(["analyse", "--json", *args]) == 0
    got = _machine_free(json.loads(capsys.readouterr().out))
    want = _machine_free(json.loads((GOLDEN / golden).read_text(encoding="utf-8")))
    assert got.keys() == want.keys()
    for key in want:
        assert got[key] == want[key], f"`{key}` differs from {golden}"


#: Keys the multi-region version adds to the finder's next step (tests/golden/find_lyon.*
#: were written by the single-region version, commit 2acf814).
NEW_NEXT_STEP_KEYS = {"region_code", "served_region", "offer_structures"}


def test_find_lyon_answers_exactly_as_before_the_regions(capsys, monkeypatch) -> None:
    for name in ("PARCOURS_REGISTRY", "PARCOURS_AJA_ZONES", "PARCOURS_REGION"):
        monkeypatch.delenv(name, raising=False)
    assert main(["find", "Lyon"]) == 0
    assert capsys.readouterr().out == (GOLDEN / "find_lyon.txt").read_text(encoding="utf-8")
    assert main(["find", "Lyon", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    want = json.loads((GOLDEN / "find_lyon.json").read_text(encoding="utf-8"))
    added = set(got["next_step"]) - set(want["next_step"])
    assert added == NEW_NEXT_STEP_KEYS
    assert got["next_step"]["served_region"] == "Auvergne-Rhône-Alpes"
    for key in NEW_NEXT_STEP_KEYS:
        got["next_step"].pop(key)
    assert got == want
