"""One planning path: the desk answers exactly what ``parcours analyse`` answers.

The same question is asked of the command line (``--json``) and of the planners' desk (the
page run by Streamlit's AppTest, files given through its upload widgets): the headline figures,
the territory and social tables and the suggested sites must be identical. The demand and
deprivation files are test fixtures built from real INSEE codes (none is the ARS's data).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from coverage import french
from coverage.cli import main
from coverage.outputs import labels

TIMEOUT = 180


def _desk_script() -> None:
    from coverage.web.pages.desk import planner_page

    planner_page()


def _desk(**params: str) -> AppTest:
    at = AppTest.from_function(_desk_script, default_timeout=TIMEOUT)
    for k, v in params.items():
        at.query_params[k] = v
    return at


def _cli(*args: str) -> dict:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["analyse", "--json", *args]) == 0
    return json.loads(out.getvalue())


def _write(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


@pytest.fixture(scope="module")
def files(region, tmp_path_factory) -> dict[str, Path]:
    """A demand unlike the population (twice in the Cantal, none in the Rhône) and an index
    that rises from west to east: both hand-made, so that every weighted figure moves."""
    folder = tmp_path_factory.mktemp("planner-files")
    c = region.communes
    dep = c["dep"].to_numpy()
    weight = c["population"].to_numpy(dtype=float) * np.where(dep == "15", 2.0, 1.0)
    weight[dep == "69"] = 0.0
    demand = _write(
        folder / "demande.csv",
        ["insee", "weight", "label", "source"],
        [
            [i, f"{w:.3f}", "demande d'essai", "https://example.org/essai"]
            for i, w in zip(c["insee"], weight, strict=True)
        ],
    )
    lon = c["lon"].to_numpy(dtype=float)
    deprivation = _write(
        folder / "defavorisation.csv",
        ["insee", "index", "label", "source"],
        [
            [i, f"{x:.4f}", "indice d'essai", "https://example.org/essai"]
            for i, x in zip(c["insee"], lon, strict=True)
        ],
    )
    return {"demand": demand, "deprivation": deprivation}


def _upload(at: AppTest, key: str, path: Path) -> None:
    at.file_uploader(key=key).set_value((path.name, path.read_bytes(), "text/csv"))


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _headline_metrics(out: dict) -> dict[str, str]:
    """The desk's five headline metrics, worded from the command line's JSON."""
    head = out["headline"].get(out["by"])
    if not head:
        return {}
    return {
        labels.beyond(out["threshold"], out["unit"]): french.share(head["share_beyond"]),
        labels.POPULATION_CONCERNED: french.number(head["population_beyond"]),
        labels.MEAN_PER_INHABITANT: french.cost(head["mean"], out["unit"]),
        labels.P90: french.cost(head["p90"], out["unit"]),
        labels.GINI: french.number(head["gini"], decimals=3),
    }


def _said(at: AppTest) -> str:
    """Every text of the page: Markdown and the escaped paragraphs (``widgets.text``)."""
    return "\n".join(
        [str(m.value) for m in at.markdown] + [str(e.proto.body) for e in at.get("html")]
    )


def _frames(at: AppTest) -> list[pd.DataFrame]:
    return [d.value for d in at.dataframe]


def _frame_with(at: AppTest, column: str) -> pd.DataFrame:
    found = [f for f in _frames(at) if column in f.columns]
    assert found, f"no table with a column {column!r}: {[list(f.columns) for f in _frames(at)]}"
    return found[0]


def test_demand_and_deprivation_give_the_same_figures_and_gradient(files):
    cli = _cli(
        "--demand", str(files["demand"]), "--deprivation", str(files["deprivation"]),
        "--deprivation-sens", "haut",
    )  # fmt: skip
    at = _desk()
    at.run()
    plain = _metrics(at)
    _upload(at, "plan_demand", files["demand"])
    _upload(at, "plan_deprivation", files["deprivation"])
    at.radio(key="plan_deprivation_sens").set_value("haut")
    at.run()
    assert not at.exception, at.exception
    desk = _metrics(at)
    assert desk == _headline_metrics(cli)
    assert desk != plain  # the demand moved every weighted figure
    at.query_params["onglet"] = "Tableaux"
    at.run()
    assert not at.exception, at.exception
    quintiles = _frame_with(at, "Quintile (1 : le moins défavorisé)")
    expected = pd.DataFrame(cli["social"]["quintiles"])
    assert quintiles["Communes"].tolist() == expected["communes"].tolist()
    assert quintiles["Moyenne (km)"].tolist() == expected["mean_cost"].round(1).tolist()
    said = _said(at)
    index = french.number(cli["social"]["concentration_index"], decimals=3)
    assert f"indice de concentration {index}" in said
    assert "Pondération : demande d&#x27;essai (fichier demande.csv" in said


def test_the_desk_shows_the_region_s_embedded_territories_as_the_cli_does():
    cli = _cli("--region", "11")
    assert cli["territories"]["territories"] > 0
    at = _desk(region="11", onglet="Tableaux")
    at.run()
    assert not at.exception, at.exception
    table = _frame_with(at, "Territoire")
    expected = pd.DataFrame(cli["territories"]["table"])
    assert (
        table["Territoire"].tolist()
        == (expected["name"] + " (" + expected["territory_id"] + ")").tolist()
    )
    assert table["Habitants"].tolist() == expected["population"].round(0).tolist()
    assert table["Couvert"].tolist() == ["oui" if c else "non" for c in expected["covered"]]
    assert _headline_metrics(cli) == {}  # no all-patients structure located in Île-de-France


def test_the_desk_says_on_its_first_screen_that_the_registry_is_incomplete(registry):
    at = _desk()
    at.run()
    assert not at.exception
    warnings = " ".join(str(w.value) for w in at.warning)
    located = registry.counts()["tous_publics_located"]
    assert f"{located} des 18 structures tous publics labellisées" in warnings
    assert "pas la couverture réelle" in warnings


def test_the_travel_model_chosen_on_the_desk_measures_as_the_cli_s():
    cli = _cli("--travel", "estimate", "--by", "duree", "--threshold", "45")
    at = _desk()
    at.run()
    at.selectbox(key="travel").set_value("estimate")
    at.run()
    at.radio(key="by").set_value("duration_min")
    at.slider(key="seuil").set_value(45)
    at.run()
    assert not at.exception, at.exception
    assert _metrics(at) == _headline_metrics(cli)
    assert "Au-delà de 45 min" in _metrics(at)


def test_the_suggested_sites_are_the_cli_s_with_the_same_demand(files):
    cli = _cli("--demand", str(files["demand"]), "--site", "3")
    at = _desk(onglet="Sites suggérés")
    at.run()
    _upload(at, "plan_demand", files["demand"])
    at.run()
    at.button[0].click().run()  # "Suggérer", with the defaults: 3 sites, every commune
    assert not at.exception, at.exception
    sites = _frame_with(at, "Habitants ramenés sous le seuil")
    expected = pd.DataFrame(cli["siting"]["suggestions"])
    assert sites["Commune"].tolist() == expected["name"].tolist()
    assert sites["Habitants ramenés sous le seuil"].tolist() == (
        expected["people_within"].round(0).tolist()
    )
