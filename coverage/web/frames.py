"""The planners' desk in figures: display tables with French headers, metrics and captions.

This is the only web module that reads an analysis's ``headline``/``meta`` and a what-if's
``before``/``after``/``deltas``: the desk page asks for :class:`Metric` lists, frames and
caption strings, so a change of those result types is one edit here. All number wording goes
through :mod:`coverage.french`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from coverage import french

if TYPE_CHECKING:
    from coverage.analysis.analyse import Analysis, SiteSuggestions
    from coverage.analysis.scenario import ScenarioResult


@dataclass(frozen=True)
class Metric:
    """One headline figure for ``st.metric``: label, value and an optional signed delta."""

    label: str
    value: str
    delta: str | None = None


def threshold_text(a: Analysis) -> str:
    """The threshold with its unit: "30 km"."""
    return f"{french.decimal(a.threshold)} {a.unit}"


def headline_metrics(a: Analysis) -> list[Metric]:
    """The five headline figures of the desk (empty when nothing is measurable)."""
    head = a.main
    if head is None:
        return []
    return [
        Metric(f"Au-delà de {threshold_text(a)}", french.share(head.share_beyond)),
        Metric("Habitants concernés", french.number(head.population_beyond)),
        Metric("Moyenne par habitant", french.cost(head.mean, a.unit)),
        Metric("P90", french.cost(head.p90, a.unit)),
        Metric("Indice de Gini", french.number(head.gini, decimals=3)),
    ]


def headline_rows(a: Analysis) -> list[tuple[str, str]]:
    """The headline figures as (French label, value) rows, for a compact table."""
    head, unit = a.main, a.unit
    if head is None:
        return []
    z = french.decimal(a.threshold)
    return [
        (
            f"Habitants à plus de {z} {unit}",
            f"{french.number(head.population_beyond)} ({french.share(head.share_beyond)})",
        ),
        ("Moyenne par habitant", french.cost(head.mean, unit)),
        ("Médiane", french.cost(head.median, unit)),
        ("P90 (90 % des habitants en deçà)", french.cost(head.p90, unit)),
        ("Maximum", french.cost(head.max, unit)),
        ("Indice de Gini", french.number(head.gini, decimals=3)),
        ("Indice de Theil (T)", french.number(head.theil_t, decimals=3)),
        (
            "Theil : part due aux écarts entre départements",
            french.share(None if head.theil_dep is None else head.theil_dep.between_share),
        ),
        ("Ratio de Palma", french.number(head.palma, decimals=2)),
        ("Communes sans itinéraire", french.number(head.communes_no_route)),
    ]


def measure_caption(a: Analysis) -> str:
    """How costs were measured and from where."""
    meta = a.meta
    return f"Mesure : {meta.travel.label}. {meta.origins}"


def registry_statement(a: Analysis) -> str:
    """What the registry in use covers (its completeness statement)."""
    return a.meta.registry.completeness


def aja_caption(a: Analysis) -> str:
    """The AJA devices' figures in one sentence ("" when no device is located)."""
    h = a.aja_headline
    if h is None:
        return ""
    return (
        "Dispositifs AJA (distance au dispositif de la zone de chaque commune) : moyenne "
        f"{french.cost(h.mean, a.unit)}, P90 {french.cost(h.p90, a.unit)}, "
        f"{french.share(h.share_beyond)} des habitants au-delà de {threshold_text(a)}. "
        f"{a.meta.aja_population_note}"
    )


def aja_zones_caption(a: Analysis) -> str:
    """Where the AJA zones come from, and the population note."""
    return f"{a.meta.aja_zones_label}. {a.meta.aja_population_note}"


def gaps_sentence(a: Analysis) -> str:
    """ "N communes sont à plus de 30 km…" (plain text)."""
    n = len(a.gaps)
    return (
        f"{french.plural(n, 'commune')} {'est' if n < 2 else 'sont'} à plus de "
        f"{threshold_text(a)} d'une structure tous publics localisée ; les plus peuplées d'abord."
    )


def scenario_metrics(res: ScenarioResult, a: Analysis) -> list[Metric]:
    """The four figures after a what-if, with their change ("" list when nothing is left)."""
    f, d = res.after, res.deltas
    if f is None:
        return []
    return [
        Metric(
            f"Au-delà de {threshold_text(a)}",
            french.share(f.share_beyond),
            french.signed(d.get("share_beyond"), "point", scale=100),
        ),
        Metric(
            "Habitants concernés",
            french.number(f.population_beyond),
            french.signed(d.get("population_beyond"), "hab.", decimals=0),
        ),
        Metric(
            "Moyenne par habitant",
            french.cost(f.mean, a.unit),
            french.signed(d.get("mean"), a.unit),
        ),
        Metric(
            "Indice de Gini",
            french.number(f.gini, decimals=3),
            french.signed(d.get("gini"), "", decimals=3),
        ),
    ]


def scenario_before(res: ScenarioResult, a: Analysis) -> str:
    """The figures before the what-if, in one sentence."""
    b = res.before
    return (
        f"Avant : {french.share(None if b is None else b.share_beyond)} des habitants à plus "
        f"de {threshold_text(a)}, moyenne {french.cost(None if b is None else b.mean, a.unit)}."
    )


def sites_change(sites: SiteSuggestions) -> str:
    """The share beyond the threshold before and after the suggested sites."""
    before = french.share(None if sites.before is None else sites.before.share_beyond)
    after = french.share(None if sites.after is None else sites.after.share_beyond)
    return f"Part des habitants au-delà du seuil : {before} → {after}."


# --------------------------------------------------------------------------- tables


def departements_frame(a: Analysis) -> pd.DataFrame:
    """Per-département table with French headers, for display."""
    d, u = a.departements, a.unit
    return pd.DataFrame(
        {
            "Département": d["dep"] + " " + d["dep_name"],
            "Habitants": d["population"].round(0),
            f"Moyenne ({u})": d["mean"].round(1),
            f"Médiane ({u})": d["median"].round(1),
            f"P90 ({u})": d["p90"].round(1),
            "Au-delà du seuil (%)": (100 * d["share_beyond"]).round(1),
            "Habitants au-delà": d["population_beyond"].round(0),
            "Structures tous publics": d["tous_publics"],
            "Dispositifs AJA": d["aja"],
            "Non localisées": d["not_located"],
        }
    )


def aja_zones_frame(a: Analysis) -> pd.DataFrame:
    """Per-AJA-zone table with French headers, for display."""
    z, u = a.aja_zones, a.unit
    if z.empty:
        return pd.DataFrame()
    return pd.DataFrame(
        {
            "Dispositif": z["device_name"].where(z["device_name"] != "", z["device_id"]),
            "Commune": z["device_commune"],
            "Communes": z["communes"],
            "Habitants": z["population"].round(0),
            f"Moyenne ({u})": z["mean"].round(1),
            f"P90 ({u})": z["p90"].round(1),
            f"Max. ({u})": z["max"].round(1),
            "Au-delà du seuil (%)": (100 * z["share_beyond"]).round(1),
        }
    )


def gaps_frame(a: Analysis, *, top: int = 200) -> pd.DataFrame:
    """The most populated communes beyond the threshold, French headers."""
    g, u = a.gaps.head(top), a.unit
    return pd.DataFrame(
        {
            "Commune": g["name"],
            "Code INSEE": g["insee"],
            "Dép.": g["dep"],
            "EPCI": g["epci_name"],
            "Habitants": g["population"].round(0),
            f"Coût ({u})": g[a.by].round(1),
            "Structure la plus proche": g["nearest_name"],
        }
    )


def gaps_epci_frame(a: Analysis, *, top: int = 100) -> pd.DataFrame:
    """The EPCI with the most inhabitants beyond the threshold, French headers."""
    e = a.gaps_epci.head(top)
    return pd.DataFrame(
        {
            "EPCI": e["epci_name"],
            "Dép.": e["deps"],
            "Communes au-delà": e["communes_beyond"],
            "Habitants au-delà": e["population_beyond"].round(0),
            "Part de l'EPCI (%)": (100 * e["share_beyond"]).round(1),
        }
    )


def departements_delta_frame(res: ScenarioResult) -> pd.DataFrame:
    """Per-département before/after of a what-if, French headers."""
    d, u = res.departements, res.unit
    return pd.DataFrame(
        {
            "Département": d["dep"] + " " + d["dep_name"],
            "Au-delà avant (%)": (100 * d["share_beyond_before"]).round(1),
            "Au-delà après (%)": (100 * d["share_beyond_after"]).round(1),
            f"Moyenne avant ({u})": d["mean_before"].round(1),
            f"Moyenne après ({u})": d["mean_after"].round(1),
        }
    )


def sites_frame(sites: SiteSuggestions) -> pd.DataFrame:
    """Siting suggestions with French headers."""
    t = sites.table
    return pd.DataFrame(
        {
            "Rang": t["rank"],
            "Commune": t["name"],
            "Dép.": t["dep"],
            "EPCI": t["epci_name"],
            "Habitants ramenés sous le seuil": t["people_within"].round(0),
            "Au-delà du seuil ensuite (%)": (100 * t["share_beyond_after"]).round(1),
            **({"Candidature": t["applicant"]} if "applicant" in t.columns else {}),
        }
    )
