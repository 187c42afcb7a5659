"""Tests of ``parcours analyse``: the make-run command, JSON, scenarios, siting, errors."""

from __future__ import annotations

import json

import pytest
from _facts import ARA_DEPARTEMENTS

from coverage.cli import main


def _json(capsys, argv: list[str]) -> dict:
    assert main(["analyse", "--json", *argv]) == 0
    return json.loads(capsys.readouterr().out)


def test_make_run_command_writes_the_three_files(tmp_path, capsys):
    report, carte, csv = tmp_path / "rapport.html", tmp_path / "carte.html", tmp_path / "c.csv"
    code = main(["analyse", "--report", str(report), "--map", str(carte), "--csv", str(csv)])
    out = capsys.readouterr().out
    assert code == 0
    assert report.stat().st_size > 10_000 and carte.stat().st_size > 1_000_000
    assert csv.read_bytes().startswith(b"\xef\xbb\xbfcode_insee;")
    assert f"Rapport écrit : {report}" in out and f"Carte écrite : {carte}" in out
    assert "Seuil : 30 km" in out and "Registre :" in out


def test_json_has_every_headline_figure_and_the_departements(capsys):
    d = _json(capsys, [])
    head = d["headline"]["distance_km"]
    for key in (
        "mean",
        "median",
        "p90",
        "max",
        "gini",
        "theil_t",
        "atkinson",
        "palma",
        "share_beyond_20",
        "share_beyond_30",
        "share_beyond_45",
        "fgt_gap_30",
        "fgt_severity_30",
        "theil_between_dep",
        "theil_within_dep",
        "theil_between_aja",
    ):
        assert isinstance(head[key], float), key
    assert "duration_min" not in d["headline"]  # the geodesic model gives no time
    assert tuple(r["dep"] for r in d["departements"]) == ARA_DEPARTEMENTS
    assert d["meta"]["travel_model"]["label"] == "à vol d'oiseau"
    assert d["e2sfca"]["computed"] is False and d["e2sfca"]["summary"] is None
    assert d["e2sfca"]["note"].startswith("non calculé : capacités inconnues")
    assert d["scenario"] is None and d["siting"] is None


def test_threshold_option(capsys):
    d = _json(capsys, ["--threshold", "45"])
    head = d["headline"]["distance_km"]
    assert d["threshold"] == 45.0 and head["share_beyond"] == head["share_beyond_45"]


def test_scenario_options(capsys):
    d = _json(capsys, ["--add", "15014", "--add-aja", "43157"])
    s = d["scenario"]
    assert s["deltas"]["share_beyond"] < 0
    assert [a["commune_insee"] for a in s["added"]] == ["15014", "43157"]
    assert d["headline"]["distance_km"]["share_beyond"] == s["after"]["share_beyond"]
    assert d["meta"]["scenario"] == s["changes"]
    assert main(["analyse", "--add", "15014"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Scénario (le registre n'est pas modifié) :")
    assert "Part au-delà du seuil : " in out


def test_siting_option(capsys):
    d = _json(capsys, ["--site", "2", "--candidates-min-population", "50000"])
    s = d["siting"]
    assert s["objective"] == "mclp" and len(s["suggestions"]) == 2
    assert s["share_beyond_after"] < s["share_beyond_before"]
    assert all(r["population"] >= 50000 for r in s["suggestions"])
    p = _json(
        capsys, ["--site", "1", "--objective", "pmedian", "--candidates-min-population", "50000"]
    )
    assert p["siting"]["objective"] == "pmedian"
    assert p["siting"]["mean_after"] < p["siting"]["mean_before"]


def test_errors_are_french_and_exit_2(capsys):
    assert main(["analyse", "--remove", "nope"]) == 2
    assert "inconnue ou non localisée" in capsys.readouterr().err
    assert main(["analyse", "--by", "duree"]) == 2
    assert "--travel osrm" in capsys.readouterr().err
    assert main(["analyse", "--add", "Paris"]) == 2
    assert "Erreur :" in capsys.readouterr().err
    assert main(["analyse", "--csv", "x.xlsx"]) == 2
    assert "« .csv »" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["analyse", "--threshold", "0"])
    assert exc.value.code == 2
    assert "nombre positif attendu" in capsys.readouterr().err


def test_scenario_report_says_its_figures_are_after_the_changes(tmp_path, capsys):
    report = tmp_path / "rapport.html"
    assert main(["analyse", "--add", "15014", "--report", str(report)]) == 0
    capsys.readouterr()
    html = report.read_text(encoding="utf-8")
    assert "Scénario calculé</strong> (le registre n&#x27;est pas modifié)" in html or (
        "Scénario calculé</strong> (le registre n'est pas modifié)" in html
    )
    assert "<li>Ajout : structure tous publics à Aurillac (15)" in html


def test_a_decimal_comma_threshold_is_read_and_printed_as_given(capsys):
    # "--threshold 30,4" printed "Seuil : 30 km", then two contradicting "au-delà de 30 km".
    assert main(["analyse", "--threshold", "30,4"]) == 0
    out = capsys.readouterr().out
    assert "Seuil : 30,4 km." in out
    assert out.count("au-delà de 30 km :") == 1 and "au-delà de 30,4 km :" in out
    assert "FGT au seuil de 30,4 km" in out
