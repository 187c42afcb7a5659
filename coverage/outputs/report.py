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
from coverage.analysis.analyse import Analysis, e2sfca_summary
from coverage.french import share as format_share
from coverage.geography import departement_names
from coverage.outputs.charts import histogram_svg, lorenz_svg
from coverage.outputs.html import esc
from coverage.outputs.text import (
    _between_share,
    _cost,
    _idx,
    _int,
    _num,
    data_date_fr,
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
    "departements_frame_fr",
    "histogram_svg",
    "lorenz_svg",
    "render_report",
    "scenario_lines",
    "siting_lines",
    "summary_lines",
    "write_report",
]

if TYPE_CHECKING:
    from coverage.analysis.scenario import ScenarioResult

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


def _headline_html(a: Analysis) -> str:
    head = a.main
    if head is None:
        return (
            '<p class="warn">Non calculé : aucune structure tous publics localisée dans le '
            "registre.</p>"
        )
    u = a.unit
    z = french.decimal(a.threshold)
    cards = [
        _card(format_share(head.share_beyond), f"des habitants à plus de {z} {esc(u)}"),
        _card(_int(head.population_beyond), f"habitants à plus de {z} {esc(u)}"),
        _card(
            _cost(head.mean, esc(u)),
            "distance moyenne par habitant"
            if a.by == "distance_km"
            else "durée moyenne par habitant",
        ),
        _card(_cost(head.median, esc(u)), "médiane"),
        _card(_cost(head.p90, esc(u)), "P90 (90 % des habitants en deçà)"),
        _card(_idx(head.gini), "indice de Gini"),
    ]
    rows = []
    for cost, h in a.headline.items():
        if h is None:
            continue
        unit = "km" if cost == "distance_km" else "min"
        what = "Distance" if cost == "distance_km" else "Durée"
        rows.append([f"{what} : moyenne", _cost(h.mean, unit)])
        rows.append([f"{what} : médiane", _cost(h.median, unit)])
        rows.append([f"{what} : P90", _cost(h.p90, unit)])
        rows.append([f"{what} : maximum", _cost(h.max, unit)])
        rows.extend(
            [
                f"{what} : part des habitants au-delà de {french.decimal(t.threshold)} {unit}",
                f"{format_share(t.share)} ({_int(t.population)} hab.)",
            ]
            for t in h.thresholds
        )
    at = head.at_threshold
    rows += [
        ["Indice de Gini", _idx(head.gini)],
        ["Indice de Theil (T)", _idx(head.theil_t)],
        [
            "Theil : part due aux écarts entre départements",
            format_share(_between_share(head, "dep")),
        ],
        [
            "Theil : part due aux écarts entre zones AJA",
            format_share(_between_share(head, "aja")),
        ],
        [f"Indice d'Atkinson (ε = 1, score d'accès 2^(−d/{z}))", _idx(head.atkinson)],
        ["Ratio de Palma (10 % les plus éloignés / 40 % les plus proches)", _num(head.palma, 2)],
        [f"FGT α = 1 (écart moyen au seuil de {z} {u})", _idx(at.fgt_gap)],
        [f"FGT α = 2 (sévérité au seuil de {z} {u})", _idx(at.fgt_severity)],
        ["Communes sans itinéraire", _int(head.communes_no_route)],
    ]
    table = _table([("Indicateur", False), ("Valeur", True)], [[esc(r[0]), r[1]] for r in rows])
    return f'<div class="cards">{"".join(cards)}</div>{table}'


def _departements_html(a: Analysis) -> str:
    u = esc(a.unit)
    headers = [
        ("Département", False),
        ("Communes", True),
        ("Habitants", True),
        (f"Moyenne ({u})", True),
        (f"Médiane ({u})", True),
        (f"P90 ({u})", True),
        (f"Max. ({u})", True),
        ("Au-delà du seuil", True),
        ("Habitants au-delà", True),
        ("Theil interne", True),
        ("Structures tous publics", True),
        ("Dispositifs AJA", True),
        ("Non localisées", True),
    ]
    rows = [
        [
            esc(f"{r['dep']} {r['dep_name']}"),
            _int(r["communes"]),
            _int(r["population"]),
            _num(r["mean"]),
            _num(r["median"]),
            _num(r["p90"]),
            _num(r["max"]),
            format_share(r["share_beyond"]),
            _int(r["population_beyond"]),
            _idx(r["theil"]),
            _int(r["tous_publics"]),
            _int(r["aja"]),
            _int(r["not_located"]),
        ]
        for r in a.departements.to_dict("records")
    ]
    return _table(headers, rows)


def _aja_html(a: Analysis) -> str:
    meta = a.meta
    label = esc(meta.aja_zones_label)
    if a.aja_zones.empty:
        return f"<p>Aucune zone AJA : aucun dispositif localisé. ({label})</p>"
    u = esc(a.unit)
    headers = [
        ("Dispositif", False),
        ("Commune", False),
        ("Communes", True),
        ("Habitants", True),
        (f"Moyenne ({u})", True),
        (f"P90 ({u})", True),
        (f"Max. ({u})", True),
        ("Au-delà du seuil", True),
    ]
    rows = [
        [
            esc(r["device_name"] or r["device_id"]),
            esc(r["device_commune"]),
            _int(r["communes"]),
            _int(r["population"]),
            _num(r["mean"]),
            _num(r["p90"]),
            _num(r["max"]),
            format_share(r["share_beyond"]),
        ]
        for r in a.aja_zones.to_dict("records")
    ]
    zone_kind = "Zonage officiel" if meta.aja_zones_official else "Zones calculées"
    return (
        f'<p class="warn"><strong>{esc(zone_kind)}</strong> : {label}.</p>'
        + _table(headers, rows)
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
    what = "Distance" if a.by == "distance_km" else "Durée"
    headers = [
        ("Commune", False),
        ("Code INSEE", False),
        ("Dép.", False),
        ("EPCI", False),
        ("Habitants", True),
        (f"{what} ({u})", True),
        ("Structure la plus proche", False),
    ]
    rows = [
        [
            esc(r["name"]),
            esc(r["insee"]),
            esc(r["dep"]),
            esc(r["epci_name"]),
            _int(r["population"]),
            _num(r[a.by]),
            esc(r["nearest_name"]),
        ]
        for r in a.gaps.head(TOP_COMMUNES).to_dict("records")
    ]
    e_headers = [
        ("EPCI", False),
        ("Dép.", False),
        ("Communes au-delà", True),
        ("Habitants au-delà", True),
        ("Part de l'EPCI", True),
        (f"Moyenne ({u})", True),
    ]
    e_rows = [
        [
            esc(r["epci_name"]),
            esc(r["deps"]),
            f"{_int(r['communes_beyond'])} / {_int(r['communes'])}",
            _int(r["population_beyond"]),
            format_share(r["share_beyond"]),
            _num(r["mean"]),
        ]
        for r in a.gaps_epci.head(TOP_EPCI).to_dict("records")
    ]
    return (
        intro + f"<h3>Les {min(TOP_COMMUNES, len(a.gaps))} communes les plus peuplées au-delà du "
        "seuil</h3>"
        + _table(headers, rows)
        + f"<h3>Les {min(TOP_EPCI, len(a.gaps_epci))} EPCI avec le plus d'habitants au-delà du "
        "seuil</h3>"
        + _table(e_headers, e_rows)
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
    headers = [
        ("Rang", True),
        ("Commune", False),
        ("Dép.", False),
        ("EPCI", False),
        (f"Habitants ramenés à moins de {french.decimal(s.threshold)} {u}", True),
        ("Part au-delà du seuil ensuite", True),
    ]
    rows = [
        [
            _int(r["rank"]),
            esc(r["name"]),
            esc(r["dep"]),
            esc(r["epci_name"]),
            _int(r["people_within"]),
            format_share(r["share_beyond_after"]),
        ]
        for r in s.table.to_dict("records")
    ]
    return (
        f"<p>Objectif : {esc(what)}. Recherche gloutonne (chaque site choisi apporte le plus "
        "compte tenu des précédents), puis échanges de sites depuis 8 départs tant qu'un "
        f"échange améliore l'objectif, parmi les {esc(s.candidates_fr)} ; "
        "les structures existantes restent ouvertes. Part des habitants au-delà du seuil : "
        f"{format_share(None if s.before is None else s.before.share_beyond)} → "
        f"{format_share(None if s.after is None else s.after.share_beyond)}.</p>"
        + _table(headers, rows)
        + '<p class="note">Suggestions de calcul, à confronter au terrain (offre de soins, '
        "locaux, équipes) ; elles ne désignent aucune structure existante.</p>"
    )


def _e2sfca_html(a: Analysis) -> str:
    e2 = e2sfca_summary(a.communes)
    if e2 is None:
        return ""
    return (
        f" : moyenne par habitant {_num(e2['mean'], 2)}, médiane {_num(e2['median'], 2)}, "
        f"P10 {_num(e2['p10'], 2)} ; {_int(e2['population_zero'])} habitants "
        f"({format_share(e2['share_zero'])}) sans structure accessible dans les zones de temps."
    )


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
        ("Accessibilité E2SFCA", esc(a.e2sfca_note) + _e2sfca_html(a)),
        (
            "Définitions",
            "Chaque commune compte pour ses habitants (population municipale) à la distance de "
            "la structure tous publics la plus proche. P90 : distance en deçà de laquelle vivent "
            "90 % des habitants. Gini et Theil : 0 quand tous parcourent la même distance. "
            "Theil se décompose exactement en écarts entre groupes (départements, zones AJA) et "
            "écarts internes. Atkinson : sur le score d'accès 2^(−d/seuil), part de l'accès moyen "
            "perdue par sa répartition inégale. FGT : part (α = 0), écart moyen (α = 1) et "
            "sévérité (α = 2) du dépassement du seuil.",
        ),
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


def _territories_html(a: Analysis) -> str:
    """Covered and uncovered territories: the summary lines, then one row per territory."""
    lines = "".join(f"<p>{esc(line.strip())}</p>" for line in territory_lines(a))
    t = a.territories
    if t is None:
        return lines
    headers = [
        ("Territoire", False),
        ("Communes", True),
        ("Habitants", True),
        ("Structures qui le servent", False),
        ("Localisées", True),
        ("Couvert", False),
    ]
    rows = [
        [
            esc(f"{r['name']} ({r['territory_id']})"),
            _int(r["communes"]),
            _int(r["population"]),
            esc(r["structures"] or "aucune"),
            _int(r["located_structures"]),
            "oui" if r["covered"] else "<strong>non</strong>",
        ]
        for r in t.table.to_dict("records")
    ]
    return lines + _table(headers, rows)


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
<p class="warn"><strong>Registre :</strong> {esc(meta.registry.completeness)}</p>
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
{_lines_section("gradient-social", "Gradient social", social_lines(a))}
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
    """The per-département table with French headers (for notebooks and displays)."""
    d = a.departements
    return pd.DataFrame(
        {
            "Département": d["dep"] + " " + d["dep_name"],
            "Habitants": d["population"],
            f"Moyenne ({a.unit})": d["mean"].round(1),
            f"P90 ({a.unit})": d["p90"].round(1),
            "Part au-delà du seuil": (100 * d["share_beyond"]).round(1),
            "Structures tous publics": d["tous_publics"],
        }
    )
