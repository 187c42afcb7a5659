"""Coverage report: the analysis as a self-contained French HTML page.

The HTML page has no script and no external resource: its two charts (Lorenz curve,
population-weighted distance histogram) are matplotlib SVG inlined in the page, its style
is one inline ``<style>``, and a Content-Security-Policy forbids anything else. Every text
that comes from data (commune, EPCI, structure names, file paths, labels) is escaped with
:func:`coverage.outputs.html.esc`. The page repeats the facts needed to read the figures: origins
of the distances, travel model, AJA zone label, data date, registry completeness.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from coverage import french
from coverage._atomic import write_text
from coverage.analysis.analyse import Analysis
from coverage.french import share as format_share
from coverage.geography import departement_names
from coverage.outputs import labels
from coverage.outputs.charts import histogram_svg, lorenz_svg
from coverage.outputs.html import esc
from coverage.outputs.labels import Column
from coverage.outputs.text import (
    _between_share,
    _cost,
    _idx,
    _int,
    _num,
    data_date_fr,
    e2sfca_figures,
    scenario_lines,
    siting_lines,
    social_lines,
    straight_line_lines,
    summary_lines,
    territory_lines,
    title,
    travel_coverage_lines,
    weights_line,
)

# The terminal text and the charts have their own modules; these names stay importable here.
__all__ = [
    "aja_zones_frame_fr",
    "departements_frame_fr",
    "display_frame",
    "gaps_epci_frame_fr",
    "gaps_frame_fr",
    "headline_rows",
    "histogram_svg",
    "lorenz_svg",
    "quintiles_frame_fr",
    "render_report",
    "scenario_lines",
    "sites_change",
    "sites_frame_fr",
    "siting_lines",
    "summary_lines",
    "territories_frame_fr",
    "write_report",
]

if TYPE_CHECKING:
    from coverage.analysis.scenario import ScenarioResult
    from coverage.analysis.suggestions import SiteSuggestions

#: Rows of the gap lists shown in the report (the CSV export has every commune).
TOP_COMMUNES = 25
TOP_EPCI = 15

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_CSS = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2937;
  max-width: 1100px; margin: 0 auto; padding: 1.5rem; }
h1 { font-size: 1.6rem; margin-bottom: .3rem; } h2 { margin-top: 2.2rem; font-size: 1.25rem;
  border-bottom: 2px solid #e5e7eb; padding-bottom: .2rem; }
.lead { color: #4b5563; } .warn { background: #fff7ed; border-left: 4px solid #f97316;
  padding: .6rem .9rem; } .note { color: #4b5563; font-size: .92rem; }
table { border-collapse: collapse; width: 100%; margin: .6rem 0; font-size: .92rem; }
th, td { border-bottom: 1px solid #e5e7eb; padding: .3rem .5rem; text-align: left;
  vertical-align: top; } th { background: #f3f4f6; }
td.n, th.n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(190px, 1fr));
  gap: .8rem; } .card { background: #f9fafb; border: 1px solid #e5e7eb; border-radius: 6px;
  padding: .7rem .9rem; } .card .v { font-size: 1.5rem; font-weight: 650; }
.card .l { color: #4b5563; font-size: .88rem; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr));
  gap: 1rem; } figure { margin: 0; } figure svg { width: 100%; height: auto; }
figcaption { color: #4b5563; font-size: .88rem; } .scroll { overflow-x: auto; }
dl.meta dt { font-weight: 600; margin-top: .5rem; } dl.meta dd { margin-left: 1rem; }
"""


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------


def _table(headers: Sequence[tuple[str, bool]], rows: Sequence[Sequence[str]]) -> str:
    """An HTML table; ``headers`` are (escaped label, numeric?) and cells already escaped."""
    head = "".join(f'<th{" class=n" if n else ""} scope="col">{h}</th>' for h, n in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{' class=n' if n else ''}>{c}</td>" for c, (_, n) in zip(r, headers, strict=True)
        )
        + "</tr>"
        for r in rows
    )
    return (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _card(value: str, label: str) -> str:
    return f'<div class="card"><div class="v">{value}</div><div class="l">{label}</div></div>'


def headline_rows(a: Analysis) -> list[tuple[str, str]]:
    """The indicators as (French label, value) rows: the report's table, and the desk's."""
    head = a.main
    if head is None:
        return []
    u, z = a.unit, a.threshold
    rows: list[tuple[str, str]] = []
    for cost, h in a.headline.items():
        if h is None:
            continue
        unit = "km" if cost == "distance_km" else "min"
        rows.extend(
            (labels.cost_figure(cost, labels.HEADLINE[key]), _cost(getattr(h, key), unit))
            for key in ("mean", "median", "p90", "max")
        )
        rows.extend(
            (
                labels.cost_figure(cost, labels.share_beyond_at(t.threshold, unit)),
                f"{format_share(t.share)} ({_int(t.population)} hab.)",
            )
            for t in h.thresholds
        )
    at = head.at_threshold
    rows += [
        (labels.GINI, _idx(head.gini)),
        (labels.THEIL, _idx(head.theil_t)),
        (labels.THEIL_BETWEEN["dep"], format_share(_between_share(head, "dep"))),
        (labels.THEIL_BETWEEN["aja"], format_share(_between_share(head, "aja"))),
        (labels.atkinson(z), _idx(head.atkinson)),
        (labels.PALMA_READING, _num(head.palma, 2)),
        (labels.fgt(1, z, u), _idx(at.fgt_gap)),
        (labels.fgt(2, z, u), _idx(at.fgt_severity)),
        (labels.NO_ROUTE, _int(head.communes_no_route)),
    ]
    return rows


def _headline_html(a: Analysis) -> str:
    head = a.main
    if head is None:
        return f'<p class="warn">{esc(labels.NOT_COMPUTED)}</p>'
    u = a.unit
    cards = [
        _card(format_share(head.share_beyond), esc(labels.beyond(a.threshold, u))),
        _card(_int(head.population_beyond), esc(labels.POPULATION_CONCERNED)),
        _card(_cost(head.mean, esc(u)), esc(labels.MEAN_PER_INHABITANT)),
        _card(_cost(head.median, esc(u)), esc(labels.MEDIAN)),
        _card(_cost(head.p90, esc(u)), esc(labels.P90)),
        _card(_idx(head.gini), esc(labels.GINI)),
    ]
    table = _table(
        [(labels.INDICATOR, False), (labels.VALUE, True)],
        [[esc(label), value] for label, value in headline_rows(a)],
    )
    return f'<div class="cards">{"".join(cards)}</div>{table}'


# --------------------------------------------------------------------------------------------
# Tables: one column list (coverage.outputs.labels) gives the report's and the desk's headers
# --------------------------------------------------------------------------------------------


def _cell(column: Column, value: object) -> str:
    """One escaped cell of the report's tables."""
    if column.kind == "text":
        return esc(value)
    if column.kind == "share":
        return _num(None if french.is_missing(value) else 100 * float(value))  # type: ignore[arg-type]
    if column.kind == "index":
        return _idx(value)
    return _num(value) if column.kind == "cost" else _int(value)


def _columns_table(columns: tuple[Column, ...], frame: pd.DataFrame, unit: str) -> str:
    """An HTML table of ``frame``'s ``columns``, headed as on the desk."""
    return _table(
        [(esc(c.header(unit)), c.numeric) for c in columns],
        [[_cell(c, r[c.key]) for c in columns] for r in frame.to_dict("records")],
    )


def display_frame(columns: tuple[Column, ...], frame: pd.DataFrame, unit: str) -> pd.DataFrame:
    """``frame``'s ``columns`` for display: French headers, numbers rounded as in the report."""
    shown: dict[str, pd.Series] = {}
    for c in columns:
        values = frame[c.key]
        if c.kind == "share":
            values = (100 * values).round(1)
        elif c.kind != "text":
            values = values.round({"count": 0, "cost": 1, "index": 3}[c.kind])
        shown[c.header(unit)] = values
    return pd.DataFrame(shown)


def _departements(a: Analysis) -> pd.DataFrame:
    d = a.departements
    return d.assign(departement=d["dep"] + " " + d["dep_name"])


def _aja_zones(a: Analysis) -> pd.DataFrame:
    z = a.aja_zones
    name = z["device_name"].fillna("")
    return z.assign(device=name.where(name != "", z["device_id"]))


def _departements_html(a: Analysis) -> str:
    return _columns_table(labels.DEPARTEMENT_COLUMNS, _departements(a), esc(a.unit))


def _aja_html(a: Analysis) -> str:
    meta = a.meta
    label = esc(meta.aja_zones_label)
    if a.aja_zones.empty:
        return f"<p>Aucune zone AJA : aucun dispositif localisé. ({label})</p>"
    zone_kind = "Zonage officiel" if meta.aja_zones_official else "Zones calculées"
    return (
        f'<p class="warn"><strong>{esc(zone_kind)}</strong> : {label}.</p>'
        + _columns_table(labels.AJA_ZONE_COLUMNS, _aja_zones(a), esc(a.unit))
        + f'<p class="note">{esc(meta.aja_population_note)} Distance au dispositif de la '
        "zone de chaque commune.</p>"
    )


def _gaps_html(a: Analysis) -> str:
    u = esc(a.unit)
    z = french.decimal(a.threshold)
    if a.main is None:
        return "<p>Non calculé.</p>"
    intro = (
        f"<p>{_int(len(a.gaps))} communes, {_int(a.main.population_beyond)} habitants, "
        f"sont à plus de {z} {u} d'une structure tous publics localisée. Les plus peuplées "
        "d'abord : c'est là que sont les habitants à rapprocher.</p>"
    )
    return (
        intro + f"<h3>Les {min(TOP_COMMUNES, len(a.gaps))} communes les plus peuplées au-delà du "
        "seuil</h3>"
        + _columns_table(labels.gap_columns(a.by), a.gaps.head(TOP_COMMUNES), u)
        + f"<h3>Les {min(TOP_EPCI, len(a.gaps_epci))} EPCI avec le plus d'habitants au-delà du "
        "seuil</h3>"
        + _columns_table(labels.GAP_EPCI_COLUMNS, a.gaps_epci.head(TOP_EPCI), u)
        + '<p class="note">Liste complète : export CSV (parcours analyse --csv).</p>'
    )


def _siting_html(a: Analysis) -> str:
    s = a.siting
    if s is None:
        return "<p>Non demandé (parcours analyse --site K pour suggérer K sites).</p>"
    u = esc(a.unit)
    what = (
        "couverture maximale (MCLP) : le plus d'habitants possible à moins du seuil"
        if s.objective == "mclp"
        else "p-médiane : la plus petite distance totale parcourue"
    )
    return (
        f"<p>Objectif : {esc(what)}. Recherche gloutonne (chaque site choisi apporte le plus "
        "compte tenu des précédents), puis échanges de sites depuis 8 départs tant qu'un "
        f"échange améliore l'objectif, parmi les {esc(s.candidates_fr)} ; "
        f"les structures existantes restent ouvertes. {esc(sites_change(s))}</p>"
        + _columns_table(labels.SITE_COLUMNS, s.table, u)
        + '<p class="note">Suggestions de calcul, à confronter au terrain (offre de soins, '
        "locaux, équipes) ; elles ne désignent aucune structure existante.</p>"
    )


def sites_change(s: SiteSuggestions) -> str:
    """The share beyond the threshold before and after the suggested sites, in one sentence."""
    before = format_share(None if s.before is None else s.before.share_beyond)
    after = format_share(None if s.after is None else s.after.share_beyond)
    return f"{labels.SHARE_OF_INHABITANTS_BEYOND} : {before} → {after}."


def _e2sfca_html(a: Analysis) -> str:
    e2 = e2sfca_figures(a)
    return f" : {esc(e2)}." if e2 else ""


def _method_html(a: Analysis) -> str:
    meta = a.meta
    nl = a.not_located
    not_located = "".join(
        f"<li>{esc(r['name'])} ({esc(r['kind'])}, département {esc(r['dep'])})</li>"
        for r in nl.to_dict("records")
    )
    items = [
        ("Origine des distances", esc(meta.origins)),
        (
            "Mesure des trajets",
            esc(meta.travel.label) + ("" if meta.travel.has_time else " ; pas de durée de trajet"),
        ),
        ("Zones AJA", esc(meta.aja_zones_label)),
        ("Données", esc(data_date_fr(meta)) + " ; " + esc(meta.data.source)),
        ("Registre des structures", esc(meta.registry.completeness)),
        (labels.E2SFCA, esc(a.e2sfca_note) + _e2sfca_html(a)),
        ("Définitions", esc(labels.DEFINITIONS)),
    ]
    dl = "".join(f"<dt>{esc(t)}</dt><dd>{d}</dd>" for t, d in items)
    if not_located:
        dl += (
            "<dt>Structures labellisées sans commune connue (hors calcul)</dt>"
            f"<dd><ul>{not_located}</ul></dd>"
        )
    return f'<dl class="meta">{dl}</dl>'


def _scenario_banner(a: Analysis) -> str:
    changes = a.meta.scenario
    if not changes:
        return ""
    items = "".join(f"<li>{esc(c)}</li>" for c in changes)
    return (
        '<div class="warn"><strong>Scénario calculé</strong> (le registre n\'est pas modifié) : '
        "les chiffres de ce rapport décrivent la situation après ces changements."
        f"<ul>{items}</ul></div>"
    )


def _territories(a: Analysis) -> pd.DataFrame:
    t = a.territories
    assert t is not None
    table = t.table
    return table.assign(
        territory=table["name"] + " (" + table["territory_id"] + ")",
        structures=table["structures"].where(table["structures"] != "", "aucune"),
        served=table["covered"].map({True: "oui", False: "non"}),
    )


def _territories_html(a: Analysis) -> str:
    """Covered and uncovered territories: the summary lines, then one row per territory."""
    lines = "".join(f"<p>{esc(line.strip())}</p>" for line in territory_lines(a))
    if a.territories is None:
        return lines
    return lines + _columns_table(labels.TERRITORY_COLUMNS, _territories(a), esc(a.unit))


def _social_html(a: Analysis) -> str:
    """The social gradient: its sentence, then the quintile table (nothing without)."""
    lines = social_lines(a)
    if a.social is None or not lines:
        return ""
    table = _columns_table(labels.QUINTILE_COLUMNS, a.social.quintiles, esc(a.unit))
    return f'<h2 id="gradient-social">Gradient social</h2><p>{esc(lines[0])}</p>{table}'


def _lines_section(anchor: str, title: str, lines: list[str]) -> str:
    """A titled section of escaped French lines (nothing when there are none)."""
    if not lines:
        return ""
    items = "".join(f"<li>{esc(line.strip())}</li>" for line in lines[1:])
    return f'<h2 id="{anchor}">{esc(title)}</h2><p>{esc(lines[0])}</p>' + (
        f"<ul>{items}</ul>" if items else ""
    )


def render_report(a: Analysis, *, scenario: ScenarioResult | None = None) -> str:
    """The full French HTML report of ``a`` (and of a what-if, when given)."""
    meta = a.meta
    u = esc(a.unit)
    lorenz = lorenz_svg(a)
    hist = histogram_svg(a)
    charts = ""
    if lorenz or hist:
        charts = (
            '<div class="charts">'
            + (
                f"<figure>{hist}<figcaption>Habitants selon la distance à la structure tous "
                f"publics la plus proche (tranches de {u}), seuil en pointillés.</figcaption>"
                "</figure>"
                if hist
                else ""
            )
            + (
                f"<figure>{lorenz}<figcaption>Courbe de Lorenz : part de la distance totale "
                "parcourue par les x % d'habitants les plus proches. Plus elle s'écarte de la "
                "diagonale, plus la distance est inégalement répartie.</figcaption></figure>"
                if lorenz
                else ""
            )
            + "</div>"
        )
    scen = ""
    if scenario is not None:
        scen = (
            '<h2 id="scenario">Scénario</h2><pre>'
            + esc("\n".join(scenario_lines(scenario)))
            + "</pre>"
        )
    names = departement_names()
    deps = ", ".join(f"{c} {names.get(c, c)}" for c in meta.departements)
    body = f"""
<header>
<h1>{esc(title(meta.region))}</h1>
<p class="lead">Mesure : {esc(meta.travel.label)}, seuil de {french.decimal(a.threshold)} {u}.
Données : {esc(data_date_fr(meta))}. Les {len(meta.departements)} départements : {esc(deps)}.</p>
<p class="warn"><strong>{labels.REGISTRY} :</strong> {esc(meta.registry.completeness)}</p>
{_scenario_banner(a)}
<p class="note">{esc(meta.origins)}</p>
<p class="note">{esc(weights_line(meta))}</p>
{"".join(f'<p class="note">{esc(x.strip())}</p>' for x in travel_coverage_lines(meta))}
</header>
<main>
<h2 id="chiffres-cles">Chiffres clés</h2>
{_headline_html(a)}
{charts}
<h2 id="departements">Par département</h2>
{_departements_html(a)}
<h2 id="zones-aja">Par zone AJA (dispositifs 15-25 ans)</h2>
{_aja_html(a)}
<h2 id="ecarts">Où sont les habitants au-delà du seuil</h2>
{_gaps_html(a)}
<h2 id="sites">Sites suggérés</h2>
{_siting_html(a)}
<h2 id="territoires">Territoires d'intervention</h2>
{_territories_html(a)}
{_social_html(a)}
{_lines_section("lignes-droites", "Coût des lignes droites", straight_line_lines(a))}
{scen}
<h2 id="methode">Méthode et sources</h2>
{_method_html(a)}
</main>
"""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="fr"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title(a.meta.region))}</title><style>{_CSS}</style></head><body>"
        f"{body}</body></html>\n"
    )


def write_report(
    a: Analysis, path: str | os.PathLike[str], *, scenario: ScenarioResult | None = None
) -> Path:
    """Write ``render_report(a)`` atomically to ``path`` and return the path."""
    return write_text(path, render_report(a, scenario=scenario))


def departements_frame_fr(a: Analysis) -> pd.DataFrame:
    """The per-département table with the report's French headers (for notebooks and the desk)."""
    return display_frame(labels.DEPARTEMENT_COLUMNS, _departements(a), a.unit)


def aja_zones_frame_fr(a: Analysis) -> pd.DataFrame:
    """The per-AJA-zone table with the report's French headers (empty without a zone)."""
    if a.aja_zones.empty:
        return pd.DataFrame()
    return display_frame(labels.AJA_ZONE_COLUMNS, _aja_zones(a), a.unit)


def gaps_frame_fr(a: Analysis, *, top: int = TOP_COMMUNES) -> pd.DataFrame:
    """The ``top`` most populated communes beyond the threshold, French headers."""
    return display_frame(labels.gap_columns(a.by), a.gaps.head(top), a.unit)


def gaps_epci_frame_fr(a: Analysis, *, top: int = TOP_EPCI) -> pd.DataFrame:
    """The ``top`` EPCI with the most inhabitants beyond the threshold, French headers."""
    return display_frame(labels.GAP_EPCI_COLUMNS, a.gaps_epci.head(top), a.unit)


def territories_frame_fr(a: Analysis) -> pd.DataFrame:
    """The intervention territories with the report's French headers (empty without)."""
    if a.territories is None:
        return pd.DataFrame()
    return display_frame(labels.TERRITORY_COLUMNS, _territories(a), a.unit)


def quintiles_frame_fr(a: Analysis) -> pd.DataFrame:
    """The social gradient's quintiles with the report's French headers (empty without)."""
    if a.social is None:
        return pd.DataFrame()
    return display_frame(labels.QUINTILE_COLUMNS, a.social.quintiles, a.unit)


def sites_frame_fr(sites: SiteSuggestions) -> pd.DataFrame:
    """The suggested sites with the report's French headers."""
    unit = "km" if sites.by == "distance_km" else "min"
    return display_frame(labels.SITE_COLUMNS, sites.table, unit)
