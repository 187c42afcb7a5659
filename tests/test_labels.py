"""One name per figure: the terminal, the report and the desk read their labels in one module.

One real analysis (embedded registry, straight lines, three suggested sites) goes through the
three renderers; each must call the same figure by the label of ``coverage.outputs.labels``,
and each table must have the same headers in the report and on the page.
"""

from __future__ import annotations

import re

import pytest
from _html_parse import parse

from coverage.analysis.access_build import build_access
from coverage.analysis.analyse import Analysis, analyse
from coverage.analysis.inputs import SitingRequest
from coverage.outputs import labels
from coverage.outputs.labels import in_sentence
from coverage.outputs.report import render_report
from coverage.outputs.text import summary_lines
from coverage.travel.catchments import computed_zones
from coverage.travel.geodesic import GeodesicModel
from coverage.web import frames

#: Figures every renderer names (the terminal inside a sentence).
FIGURES = (
    labels.MEAN,
    labels.MEDIAN,
    labels.P90,
    labels.MAX,
    labels.GINI,
    labels.THEIL,
    labels.ATKINSON,
    labels.PALMA,
)


@pytest.fixture(scope="module")
def analysis(region, registry) -> Analysis:
    zones = computed_zones(region=region, registry=registry)
    access = build_access(region, registry, zones=zones, model=GeodesicModel())
    siting = SitingRequest(3, candidates=("15014", "43157", "03190", "07186"))
    return analyse(access, region=region, registry=registry, siting=siting)


@pytest.fixture(scope="module")
def report_html(analysis) -> str:
    return render_report(analysis)


def _section(html: str, anchor: str) -> str:
    """The report's HTML from the ``<h2 id=anchor>`` to the next ``<h2``."""
    start = html.index(f'<h2 id="{anchor}">')
    end = html.find("<h2", start + 1)
    return html[start : end if end > 0 else None]


def _tables(fragment: str) -> list[list[str]]:
    """The headers of each table of ``fragment``, as text."""
    return [
        [parse(th).text[0] for th in re.findall(r"<th[^>]*>.*?</th>", table)]
        for table in re.findall(r"<thead>.*?</thead>", fragment)
    ]


def _cells(html: str) -> set[str]:
    """The text of every table cell and card label of ``html``."""
    found = re.findall(r'<t[dh][^>]*>(.*?)</t[dh]>|<div class="l">(.*?)</div>', html)
    return {"".join(parse(a or b).text) for a, b in found}


def test_the_terminal_the_report_and_the_desk_name_each_figure_alike(analysis, report_html):
    terminal = "\n".join(summary_lines(analysis))
    report_cells = _cells(report_html)
    desk_labels = [label for label, _ in frames.headline_rows(analysis)]
    for figure in FIGURES:
        assert in_sentence(figure) in terminal, figure
        assert any(figure in label or in_sentence(figure) in label for label in desk_labels)
    # The desk's table of indicators is the report's, label for label.
    assert desk_labels and set(desk_labels) <= report_cells
    for label in (labels.GINI, labels.THEIL, labels.NO_ROUTE, labels.PALMA_READING):
        assert label in desk_labels and label in report_cells
    # The desk's headline metrics are the report's cards.
    metric_labels = [m.label for m in frames.headline_metrics(analysis)]
    assert metric_labels[0] == labels.beyond(analysis.threshold, analysis.unit)
    assert set(metric_labels) <= report_cells


def test_each_table_has_one_set_of_headers_in_the_report_and_on_the_page(analysis, report_html):
    unit = analysis.unit
    deps = labels.headers(labels.DEPARTEMENT_COLUMNS, unit)
    assert _tables(_section(report_html, "departements")) == [deps]
    assert list(frames.departements_frame(analysis).columns) == deps
    assert "Part au-delà du seuil (%)" in deps  # the terminal's words, with the unit

    aja = labels.headers(labels.AJA_ZONE_COLUMNS, unit)
    assert _tables(_section(report_html, "zones-aja")) == [aja]
    assert list(frames.aja_zones_frame(analysis).columns) == aja

    gaps = labels.headers(labels.gap_columns(analysis.by), unit)
    epci = labels.headers(labels.GAP_EPCI_COLUMNS, unit)
    assert _tables(_section(report_html, "ecarts")) == [gaps, epci]
    assert list(frames.gaps_frame(analysis).columns) == gaps
    assert list(frames.gaps_epci_frame(analysis).columns) == epci

    assert analysis.siting is not None
    sites = labels.headers(labels.SITE_COLUMNS, unit)
    assert _tables(_section(report_html, "sites")) == [sites]
    assert list(frames.sites_frame(analysis.siting).columns)[: len(sites)] == sites


def test_the_terminal_lists_the_departements_by_the_tables_labels(analysis):
    terminal = summary_lines(analysis)
    assert "Par département (moyenne ; part au-delà du seuil ; structures tous publics) :" in (
        terminal
    )


def test_the_glossary_explains_the_labels_the_readers_see():
    terms = dict(labels.GLOSSARY)
    for label in (labels.P90, labels.GINI, labels.THEIL, labels.PALMA, labels.NO_ROUTE):
        assert label in terms
    assert labels.FGT in terms and labels.E2SFCA_TERM in terms


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Indice de Gini", "indice de Gini"),
        ("P90", "P90"),
        ("E2SFCA", "E2SFCA"),
        ("Moyenne", "moyenne"),
    ],
)
def test_a_label_inside_a_sentence_keeps_its_acronyms(label, expected):
    assert in_sentence(label) == expected


def test_headers_carry_the_unit_of_costs_and_shares():
    assert labels.headline_label("mean", "km") == "Moyenne (km)"
    column = {c.key: c for c in labels.DEPARTEMENT_COLUMNS}
    assert column["mean"].header("min") == "Moyenne (min)"
    assert column["share_beyond"].header("km") == "Part au-delà du seuil (%)"
    assert column["population"].header("km") == "Habitants"
    assert labels.fgt(1, 30.4, "km") == "FGT α = 1 (écart moyen au seuil de 30,4 km)"
