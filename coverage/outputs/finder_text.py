"""The patient's answer in words: terminal text and the sentences the page shows.

Everything a patient reads about a ``FinderResult`` (and a ``Lookup``, a place error, the
forfait) is worded here, with the numbers and names of ``coverage.french``. Nothing
here names a command-line option, an environment variable, a cache, an internal code or a raw
address in a sentence: a page is shown as a titled link (``next_step_link``), and the terminal
prints its address on a line of its own after its title.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from coverage import french, settings
from coverage._errors import OutsideRegionError, PlaceError
from coverage.data.place_results import Lookup, OutsidePlaceError
from coverage.geography import departement_names, region_spec
from coverage.patient import forfait
from coverage.patient.finder import FinderResult
from coverage.patient.next_step import NextStep, next_step

__all__ = [
    "approximate_note",
    "candidates_text",
    "close_call_note",
    "cost_text",
    "far_warning",
    "finder_text",
    "forfait_lines",
    "measure_line",
    "next_step_lines",
    "next_step_link",
    "next_step_sentences",
    "place_error_dict",
    "place_error_text",
    "plan_summary",
    "reading_note",
    "registry_line",
    "result_heading",
    "source_name",
    "without_urls",
]

# --- the place --------------------------------------------------------------------------------


def result_heading(result: FinderResult) -> str:
    """ "Structures les plus proches du Puy-en-Velay (Haute-Loire)"."""
    p = result.place
    if p.matched == "coordonnées":
        return f"Structures les plus proches du point indiqué ({p.patient_label})"
    return f"Structures les plus proches {french.de(p.name)} ({p.dep_name})"


def approximate_note(result: FinderResult) -> str:
    """A request to check the commune when the typed name only approximately matched, or ""."""
    p = result.place
    if p.matched != "nom approché":
        return ""
    return f"Nom approché : vérifiez qu'il s'agit bien {french.de(p.name)} ({p.dep_name})."


def reading_note(found: Lookup) -> str:
    """How a code was read, when it could be read two ways ("" otherwise)."""
    other = found.other_reading
    if found.reading != "code postal" or other is None:
        return ""
    return (
        f"{found.query} est lu comme un code postal. C'est aussi le code INSEE "
        f"{french.de(other.name)} ({other.dep_name}) : pour cette commune, tapez "
        f"« {other.patient_label} »."
    )


def measure_line(result: FinderResult) -> str:
    """ "Distances à vol d'oiseau, depuis la mairie d'Aurillac." and its time variants."""
    label = result.model_label
    if result.has_time:
        head = f"Temps de trajet en voiture : {label}"
    elif result.model == "estimate" or label.startswith("estimation"):
        head = f"Distances estimées ({label})"
    else:
        head = f"Distances {label}"
    return f"{head}, {result.origin_note}."


# --- structures ---------------------------------------------------------------------------------


def _missing(value: object) -> bool:
    return french.is_missing(value)


def cost_text(row: Mapping[str, Any], *, has_time: bool, error: float | None = None) -> str:
    """ "≈ 45 min en voiture, 38 km" when time is known, else "8,4 km"; estimates say so."""
    km = french.km(row.get("distance_km"))
    minutes = row.get("duration_min")
    if not has_time:
        return km
    if _missing(minutes):
        return f"{km} (temps de trajet inconnu)"
    text = f"≈ {french.minutes(minutes)} en voiture"
    if error is not None:
        text += f" (estimation, erreur médiane {french.share(error, decimals=0)})"
    return f"{text}, {km}"


def close_call_note(result: FinderResult) -> str:
    """Why the second structure may suit as well as the first (times within 5 min), or ""."""
    if not result.close_call or len(result.structures) < 2:
        return ""
    a, b = result.structures.to_dict("records")[:2]
    gap = abs(float(b["duration_min"]) - float(a["duration_min"]))
    return (
        f"Les deux premières structures sont à moins de {french.minutes(max(gap, 1))} "
        "l'une de l'autre en temps de trajet : choisissez aussi selon les horaires, les "
        "services et l'accès (transports, stationnement)."
    )


def far_warning(result: FinderResult) -> str:
    """The warning when the embedded registry's nearest structure is far, else ""."""
    if not result.registry_may_miss_nearer:
        return ""
    known = settings.ARS_LABELLED_2021.get(result.region_code)
    which = f"des {known[1]} structures tous publics" if known else "des structures"
    return (
        f"La liste utilisée ne nomme qu'une partie {which} "
        "labellisées : une structure plus proche existe peut-être. Demandez à votre médecin "
        "ou consultez la page de l'ARS indiquée plus bas."
    )


def source_name(source: object) -> str:
    """A source as a reader names it: the site ("concourspluripro.fr"), never its address."""
    text = "" if source is None or source != source else str(source).strip()  # NaN != NaN
    host = urlsplit(text).hostname if "://" in text else None
    if host:
        return host.removeprefix("www.")
    return text


_URL_RE = re.compile(r"https?://[^\s()<>]+?(?=[)\s,;]|[.](?:\s|$)|$)")


def without_urls(text: str) -> str:
    """A note with each web address replaced by its site's name ("francetvinfo.fr")."""
    return _URL_RE.sub(lambda m: source_name(m.group(0)), text)


def _structure_lines(r: Mapping[Any, Any], rank: int | None, result: FinderResult) -> list[str]:
    cost = cost_text(r, has_time=result.has_time, error=result.time_error_median)
    lead = f" {rank}. " if rank is not None else "   "
    dep = departement_names().get(str(r.get("dep", "")), str(r.get("dep", "")))
    lines = [f"{lead}{r['name']} — {r['commune_name']} ({dep}) — {cost}"]
    contact = [str(r[k]) for k in ("address", "phone", "email", "website") if r.get(k)]
    lines.append(
        "    Contact : "
        + (
            " ; ".join(contact)
            if contact
            else "non publié par les sources consultées ; demandez-le à votre médecin ou à l'ARS."
        )
    )
    if str(r.get("id")) in result.territory_structure_ids:
        territory = " ; ".join(result.territory_names)
        lines.append(f"    Structure de votre territoire d'intervention ({territory}).")
    if r.get("services"):
        lines.append(f"    Services : {r['services']}")
    if r.get("commune_inferred") is True or r.get("commune_inferred") == 1:
        note = without_urls(str(r.get("location_note") or ""))
        lines.append(
            "    Lieu déduit, non confirmé par une source" + (f" : {note}" if note else ".")
        )
    return lines


def _located_lines(result: FinderResult) -> list[str]:
    if result.structures.empty:
        return ["Aucune structure tous publics n'a de lieu connu dans la liste utilisée."]
    out = ["Structures porteuses les plus proches (tous publics) :"]
    for i, r in enumerate(result.structures.to_dict("records"), start=1):
        out.extend(_structure_lines(r, i, result))
    if note := close_call_note(result):
        out.append(f"   {note}")
    return out


def _not_located_lines(result: FinderResult) -> list[str]:
    if result.not_located.empty:
        return []
    p = result.place
    n = len(result.not_located)
    word = "Labellisée" if n == 1 else "Labellisées"
    out = [
        f"{word} dans votre département ({p.dep_name}), lieu des séances non publié "
        "(contactez-les pour le connaître) :"
    ]
    for r in result.not_located.to_dict("records"):
        src = source_name(r.get("source"))
        out.append(f" - {r['name']}" + (f" (source : {src})" if src else ""))
    return out


def _aja_lines(result: FinderResult) -> list[str]:
    if result.aja is None:
        return [result.aja_missing_reason] if result.aja_missing_reason else []
    head = "Pour les 15-25 ans, dispositif AJA de votre secteur"
    if result.aja.applies is False:
        head = "Pour information (réservé aux 15-25 ans), dispositif AJA du secteur"
    return [
        f"{head} :",
        *_structure_lines(result.aja.device, None, result),
        f"   Secteur : {result.aja.zone_label}.",
    ]


# --- registry, forfait, next step ---------------------------------------------------------------


def registry_line(result: FinderResult) -> str:
    """How complete the list used is, in patients' words (no option, file or variable)."""
    c = result.registry_counts
    if not c:
        return ""
    if not c.get("total"):
        return (
            f"Liste utilisée : aucune structure n'est enregistrée dans cet outil pour la région "
            f"{result.next_step.served_region} ; aucune source publique consultée ne les nomme."
        )
    located = french.plural(c.get("located", 0), "structure localisée", "structures localisées")
    text = f"Liste utilisée : {located} sur {c.get('total', 0)}"
    if c.get("not_located"):
        text += f", dont {french.plural(c['not_located'], 'sans lieu connu', 'sans lieu connu')}"
    known = settings.ARS_LABELLED_2021.get(result.region_code)
    text += (
        f". L'ARS a labellisé {known[0]} structures en 2021, d'autres depuis"
        if known
        else ". Le nombre de structures labellisées par l'ARS de la région n'est pas connu de "
        "cet outil"
    )
    if result.registry_is_default:
        text += " : cette liste publique est incomplète"
    return text + "."


def forfait_lines() -> list[str]:
    """What the forfait covers, in plain French lines for patients."""
    f = forfait
    return [
        "Le parcours de soins global après cancer est sans frais pour vous : la structure est "
        f"payée par un forfait de {french.eur(f.ANNUAL_CAP_EUR)} par an.",
        "Il comprend un bilan d'activité physique adaptée (APA) et un bilan diététique et/ou "
        f"psychologique (1 heure, {french.eur(f.BILAN_EUR)} chacun), puis jusqu'à "
        f"{f.MAX_CONSULTATIONS} consultations de suivi diététique ou psychologique (30 minutes, "
        f"{french.eur(f.CONSULTATION_EUR)} chacune), dans la limite du forfait : par exemple "
        "1 bilan + 6 consultations, 2 bilans + 4 consultations ou 3 bilans + 2 consultations.",
        "Il est prescrit par votre cancérologue, votre médecin traitant ou votre pédiatre, dans "
        f"les {f.PRESCRIPTION_WINDOW_MONTHS} mois qui suivent la fin des traitements actifs ; il "
        f"se déroule sur les {f.PATHWAY_MONTHS} mois qui suivent le premier bilan.",
        "Les séances d'activité physique adaptée elles-mêmes ne sont pas comprises dans le "
        "forfait.",
    ]


def plan_summary(plan: forfait.PlanCheck) -> str:
    """One sentence: the combination, its cost, and whether it fits the forfait."""
    what = (
        f"{french.plural(len(plan.bilans), 'bilan')} + "
        f"{french.plural(plan.consultations, 'consultation')}"
    )
    cost = f"{french.eur(plan.total_eur)} sur {french.eur(forfait.ANNUAL_CAP_EUR)}"
    if plan.ok:
        return f"{what} = {cost} : dans le forfait, sans frais pour le patient."
    return f"{what} = {cost} : hors forfait. " + " ".join(plan.problems)


def next_step_sentences(step: NextStep) -> list[str]:
    """What to do now, as sentences (the page's link comes from ``next_step_link``)."""
    out = []
    if step.outside_region:
        where = f"la région {step.region_name}" if step.region_name else "votre région"
        dep = f" ({step.dep_name})" if step.dep_name else ""
        out.append(
            f"Ce service couvre {region_spec(step.served_region).the_name} ; votre lieu est dans "
            f"{where}{dep}. Le parcours de soins global après cancer est national : l'agence "
            "régionale de santé de votre région publie la liste de ses structures."
        )
        if step.offer_structures:
            known = french.plural(step.offer_structures, "structure", "structures")
            out.append(
                f"Cet outil connaît {known} de {where} : choisissez cette région pour voir "
                "sa réponse."
            )
        elif step.region_code:
            out.append(f"Aucune structure de {where} n'est encore enregistrée dans cet outil.")
    out.append("Parlez-en à votre médecin, qui prescrit le parcours.")
    out.append(
        f"La liste officielle des structures labellisées est publiée par l'{step.page_publisher}."
    )
    return out


def next_step_link(step: NextStep) -> tuple[str, str]:
    """(title, address) of the page to open, for a titled link."""
    return f"{step.page_title} — {step.page_publisher}", step.page_url


def next_step_lines(step: NextStep) -> list[str]:
    """The next step for a terminal: the sentences, then the page's title and address."""
    title, url = next_step_link(step)
    page = [f"   Page « {title} » :", f"   {url}"] if url else []
    return ["Et maintenant :", *(f" - {s}" for s in next_step_sentences(step)), *page]


def _step_for_error(exc: PlaceError, served: str) -> NextStep:
    if isinstance(exc, OutsidePlaceError):
        return next_step(
            served=served,
            outside_region=True,
            region_name=exc.region_name,
            dep_name=exc.dep_name,
            region_code=exc.region_code,
        )
    return next_step(served=served, outside_region=isinstance(exc, OutsideRegionError))


def place_error_text(exc: PlaceError, *, served: str) -> str:
    """A place error (unknown, outside the region) followed by the next step; ``served``:
    the INSEE code of the region the tool serves."""
    return "\n".join([str(exc), "", *next_step_lines(_step_for_error(exc, served))])


def place_error_dict(exc: PlaceError, *, served: str) -> dict[str, Any]:
    """A place error for ``--json``: message, suggestions and the next step (``served``: the
    INSEE code of the region the tool serves)."""
    return {
        "error": {
            "kind": "outside_region" if isinstance(exc, OutsideRegionError) else "place",
            "message": str(exc),
            "suggestions": list(exc.suggestions),
        },
        "next_step": _step_for_error(exc, served).to_dict(),
    }


def candidates_text(found: Lookup) -> str:
    """The candidates of an ambiguous query, each with what to type to choose it."""
    if found.reading == "département":
        dep = departement_names().get(found.departement, found.departement)
        named = "" if found.query.strip().lower().endswith(dep.lower()) else f" ({dep})"
        head = (
            f"« {found.query} » est un département{named} : indiquez votre commune ou son code "
            "postal. Les communes les plus peuplées :"
        )
    elif found.reading == "code postal":
        head = f"Le code postal {found.query} dessert plusieurs communes ; choisissez la vôtre :"
    else:
        head = f"« {found.query} » peut désigner plusieurs communes ; choisissez la vôtre :"
    lines = [head, *(f" - {p.patient_label} : tapez « {p.patient_label} »" for p in found.places)]
    if note := reading_note(found):
        lines.append(note)
    return "\n".join(lines)


# --- the whole answer ---------------------------------------------------------------------------


def finder_text(result: FinderResult, found: Lookup | None = None) -> str:
    """The answer as plain French text for a terminal."""
    p = result.place
    out = [f"Lieu : {p.patient_label}" + (f" ({p.detail})" if p.detail else "")]
    if found is not None and (note := reading_note(found)):
        out.append(note)
    if note := approximate_note(result):
        out.append(note)
    out.append(measure_line(result))
    out.append("")
    located, unlocated = _located_lines(result), _not_located_lines(result)
    blocks = [unlocated, located] if result.not_located_first else [located, unlocated]
    for block in blocks:
        if block:
            out.extend([*block, ""])
    if warning := far_warning(result):
        out.extend([f"Attention : {warning}", ""])
    if aja := _aja_lines(result):
        out.extend([*aja, ""])
    out.append("Ce que couvre le forfait :")
    out.extend(f" - {line}" for line in forfait_lines())
    out.append("")
    if line := registry_line(result):
        out.extend([line, ""])
    out.extend(next_step_lines(result.next_step))
    return "\n".join(out)
