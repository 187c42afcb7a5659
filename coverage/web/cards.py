"""Structure cards of the patient page: one escaped HTML block per structure."""

from __future__ import annotations

import math
from collections.abc import Mapping
from numbers import Real
from typing import Any

from coverage import french
from coverage.outputs.html import contact_html, esc


def _text(row: Mapping[Any, Any], key: str) -> str:
    v = row.get(key)
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return str(v).strip()


def distance_text(row: Mapping[Any, Any], *, model_label: str) -> str:
    """ "159 km à vol d'oiseau", with the travel time when the model has one."""
    km, minutes = row.get("distance_km"), row.get("duration_min")
    text = "distance inconnue"
    if isinstance(km, Real) and not french.is_missing(km):
        text = f"{french.km(float(km))} {model_label}"
    if isinstance(minutes, Real) and not french.is_missing(minutes):
        text += f", environ {french.minutes(float(minutes))}"
    return text


def _contact(row: Mapping[Any, Any]) -> str:
    contact = contact_html(
        address=row.get("address"),
        phone=row.get("phone"),
        email=row.get("email"),
        website=row.get("website"),
    )
    if contact:
        return f'<div class="pc-contact">{contact}</div>'
    return (
        '<div class="pc-contact pc-muted">Coordonnées non publiées par les sources '
        "consultées : demandez-les à votre médecin ou à l'ARS.</div>"
    )


def _inferred_note(row: Mapping[Any, Any]) -> str:
    inferred = row.get("commune_inferred")
    if not inferred or (isinstance(inferred, float) and math.isnan(inferred)):
        return ""
    note = _text(row, "location_note")
    return (
        '<div class="pc-note">Lieu déduit, non confirmé par une source'
        + (f" : {esc(note)}" if note else ".")
        + "</div>"
    )


def structure_card_html(
    row: Mapping[Any, Any],
    *,
    model_label: str,
    rank: int | None = None,
    badge: str = "",
) -> str:
    """One structure as an escaped HTML card: name, town, distance, contact, services, note.

    Parameters
    ----------
    row
        A structure of a ``FinderResult`` (``finder.STRUCTURE_FIELDS``).
    model_label
        How distances were measured ("à vol d'oiseau").
    rank
        1, 2, 3... shown before the name.
    badge
        Short trusted label shown above the name (a constant of the page, not data).
    """
    name = esc(_text(row, "name")) or "Structure sans nom"
    lead = f"{rank}. " if rank is not None else ""
    town = _text(row, "commune_name")
    dep = _text(row, "dep")
    where = esc(f"{town} ({dep})" if town and dep else town or dep)
    parts = ['<article class="pc-card">']
    if badge:
        parts.append(f'<div class="pc-badge">{esc(badge)}</div>')
    parts.append(f'<h3 class="pc-name">{lead}{name}</h3>')
    if where:
        parts.append(f'<div class="pc-where">{where}</div>')
    parts.append(f'<div class="pc-dist">{esc(distance_text(row, model_label=model_label))}</div>')
    parts.append(_contact(row))
    if services := _text(row, "services"):
        parts.append(f'<div class="pc-services">Services : {esc(services)}</div>')
    parts.append(_inferred_note(row))
    parts.append("</article>")
    return "".join(parts)
