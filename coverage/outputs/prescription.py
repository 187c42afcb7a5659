"""Printable prescription sheet: the bilans and consultations chosen, and the structure.

The prescriber (oncologist, GP, paediatrician) picks bilans and a number of follow-up
consultations; :func:`coverage.patient.forfait.check_plan` checks them against the forfait, and
:func:`prescription_html` writes a one-page HTML sheet to print or save as PDF from the
browser: the plan, its cost within the forfait, the structure chosen (with its contact
details as read from the registry, escaped), blank lines for the patient's and prescriber's
names, and the forfait's rules. It carries no script and loads nothing.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping
from typing import Any

from coverage import french
from coverage._errors import ValidationError
from coverage.outputs import finder_text
from coverage.outputs.html import contact_html, esc
from coverage.patient import forfait

__all__ = ["FILE_NAME", "prescription_html"]

#: Name of the downloaded file (fixed: the same for every sheet).
FILE_NAME = "prescription-parcours-soins-apres-cancer.html"


_CSS = """
* { box-sizing: border-box; }
body { font: 12pt/1.45 "DejaVu Sans", Arial, sans-serif; color: #111; margin: 0;
  background: #fff; }
main { max-width: 18cm; margin: 1.5cm auto; padding: 0 0.5cm; }
h1 { font-size: 17pt; margin: 0 0 0.2cm; }
h2 { font-size: 13pt; margin: 0.6cm 0 0.2cm; border-bottom: 1px solid #999; }
.sub { color: #444; margin: 0 0 0.4cm; }
.field { display: flex; gap: 0.3cm; margin: 0.25cm 0; }
.field span:first-child { white-space: nowrap; }
.line { flex: 1; border-bottom: 1px dotted #555; min-height: 1.2em; }
table { border-collapse: collapse; width: 100%; }
td, th { border: 1px solid #999; padding: 0.15cm 0.25cm; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; white-space: nowrap; }
.box { border: 1px solid #999; padding: 0.3cm; }
.small { font-size: 10pt; color: #333; }
.sign { margin-top: 1cm; display: flex; justify-content: space-between; gap: 1cm; }
.sign div { flex: 1; border-top: 1px solid #555; padding-top: 0.15cm; min-height: 2cm; }
@media print {
  main { margin: 0; max-width: none; }
  a { color: #111; text-decoration: none; }
  .noprint { display: none; }
}
@page { size: A4; margin: 1.5cm; }
"""


def _value(row: Mapping[str, Any], key: str) -> str:
    v = row.get(key)
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return str(v).strip()


def _structure_block(structure: Mapping[str, Any] | None) -> str:
    if structure is None:
        return (
            '<div class="box"><div class="field"><span>Structure :</span>'
            '<span class="line"></span></div></div>'
        )
    name = esc(_value(structure, "name")) or "Structure sans nom"
    town = _value(structure, "commune_name")
    dep = _value(structure, "dep")
    where = esc(
        f"{town} ({dep})" if town and dep else town or (f"département {dep}" if dep else "")
    )
    contact = contact_html(
        address=structure.get("address"),
        phone=structure.get("phone"),
        email=structure.get("email"),
        website=structure.get("website"),
    )
    lines = [f"<strong>{name}</strong>"]
    if where:
        lines.append(where)
    lines.append(
        contact or "Coordonnées non publiées par les sources consultées : à demander à l'ARS."
    )
    return '<div class="box">' + "<br>".join(lines) + "</div>"


def prescription_html(
    plan: forfait.PlanCheck,
    structure: Mapping[str, Any] | None = None,
    *,
    issued: _dt.date | None = None,
) -> str:
    """A printable prescription sheet for ``plan`` at ``structure`` (complete HTML document).

    Parameters
    ----------
    plan
        A checked plan (:func:`coverage.patient.forfait.check_plan`); it must fit the forfait.
    structure
        The structure chosen (a registry or finder row: ``name``, ``commune_name``, ``dep``,
        ``address``, ``phone``, ``email``, ``website``), or ``None`` to leave a blank line.
    issued
        Date printed on the sheet; defaults to today.

    Raises
    ------
    ValidationError
        ``plan`` is not a ``PlanCheck`` or does not fit the forfait (its problems are quoted).
    """
    if not isinstance(plan, forfait.PlanCheck):
        raise ValidationError(f"`plan` must be a forfait.PlanCheck; got {type(plan).__name__!r}.")
    if not plan.ok:
        raise ValidationError(
            "La prescription ne respecte pas le forfait : " + " ".join(plan.problems)
        )
    if structure is not None and not isinstance(structure, Mapping):
        raise ValidationError(
            f"`structure` must be a mapping (a structure row); got {type(structure).__name__!r}."
        )
    day = issued or _dt.date.today()
    rows = [
        f"<tr><td>{esc(forfait.BILANS[b].capitalize())} (1 heure)</td>"
        f'<td class="num">1</td><td class="num">{esc(french.eur(forfait.BILAN_EUR))}</td>'
        "</tr>"
        for b in plan.bilans
    ]
    if plan.consultations:
        cost = forfait.CONSULTATION_EUR * plan.consultations
        rows.append(
            "<tr><td>Consultations de suivi diététique ou psychologique (30 minutes)</td>"
            f'<td class="num">{plan.consultations}</td>'
            f'<td class="num">{esc(french.eur(cost))}</td></tr>'
        )
    rows.append(
        f'<tr><th>Total (pris en charge par le forfait)</th><th class="num"></th>'
        f'<th class="num">{esc(french.eur(plan.total_eur))}</th></tr>'
    )
    facts = "".join(f"<li>{esc(line)}</li>" for line in finder_text.forfait_lines())
    return f"""<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Prescription : parcours de soins global après cancer</title>
<style>{_CSS}</style>
</head>
<body>
<main>
<h1>Prescription : parcours de soins global après cancer</h1>
<p class="sub">Forfait annuel de {esc(french.eur(forfait.ANNUAL_CAP_EUR))},
sans frais pour le patient. Fait le {esc(french.date(day))}.</p>

<h2>Patient</h2>
<div class="field"><span>Nom et prénom :</span><span class="line"></span></div>
<div class="field"><span>Date de naissance :</span><span class="line"></span></div>
<div class="field"><span>Date de fin des traitements actifs :</span><span class="line"></span>
</div>

<h2>Bilans et consultations prescrits</h2>
<table>
<thead><tr><th>Prestation</th><th class="num">Nombre</th><th class="num">Montant</th></tr>
</thead>
<tbody>{"".join(rows)}</tbody>
</table>
<p class="small">{esc(finder_text.plan_summary(plan))}</p>

<h2>Structure porteuse choisie</h2>
{_structure_block(structure)}

<h2>Prescripteur</h2>
<div class="field"><span>Nom, qualité (cancérologue, médecin traitant, pédiatre) :</span>
<span class="line"></span></div>
<div class="field"><span>N° RPPS :</span><span class="line"></span></div>
<div class="sign"><div>Cachet</div><div>Signature</div></div>

<h2>Le forfait</h2>
<ul class="small">{facts}</ul>
</main>
</body>
</html>
"""
