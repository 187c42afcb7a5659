"""The planners' desk in figures: display tables with French headers, metrics and captions.

This is the only web module that reads an analysis's ``headline``/``meta`` and a what-if's
``before``/``after``/``deltas``: the desk page asks for :class:`Metric` lists, frames and
caption strings, so a change of those result types is one edit here. All number wording goes
through :mod:`coverage.french`, every label through :mod:`coverage.outputs.labels`; the tables
and the indicators are the report's own (:mod:`coverage.outputs.report`), headers included.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from coverage import french, settings
from coverage.outputs import labels, report
from coverage.outputs.report import quintiles_frame_fr, territories_frame_fr
from coverage.outputs.text import weights_line

if TYPE_CHECKING:
    from coverage.analysis.analyse import Analysis
    from coverage.analysis.scenario import ScenarioResult
    from coverage.analysis.suggestions import SiteSuggestions
    from coverage.data.registry import Registry


@dataclass(frozen=True)
class Metric:
    """One headline figure for ``st.metric``: label, value and an optional signed delta."""

    label: str
    value: str
    delta: str | None = None


def threshold_text(a: Analysis) -> str:
    """The threshold with its unit: "30 km"."""
    return labels.threshold(a.threshold, a.unit)


def headline_metrics(a: Analysis) -> list[Metric]:
    """The five headline figures of the desk (empty when nothing is measurable)."""
    head = a.main
    if head is None:
        return []
    return [
        Metric(labels.beyond(a.threshold, a.unit), french.share(head.share_beyond)),
        Metric(labels.POPULATION_CONCERNED, french.number(head.population_beyond)),
        Metric(labels.MEAN_PER_INHABITANT, french.cost(head.mean, a.unit)),
        Metric(labels.P90, french.cost(head.p90, a.unit)),
        Metric(labels.GINI, french.number(head.gini, decimals=3)),
    ]


def headline_rows(a: Analysis) -> list[tuple[str, str]]:
    """The indicators as (French label, value) rows: the report's table of indicators."""
    return report.headline_rows(a)


def measure_caption(a: Analysis) -> str:
    """How costs were measured and from where."""
    return labels.measure(a.meta.travel.label, a.meta.origins)


def registry_warning(a: Analysis, registry: Registry) -> str | None:
    """The warning beside the headline figures when the registry is incomplete (``None``
    when nothing is known to be missing)."""
    labelled = settings.ARS_LABELLED_2021.get(registry.region)
    return labels.incomplete_registry(
        a.meta.registry.counts,
        is_default=a.meta.registry.is_default,
        labelled_all_patients=None if labelled is None else labelled[1],
        how="page « Registre »",
    )


def weights_caption(a: Analysis) -> str:
    """What weighs each commune: the population, or the demand file used."""
    return weights_line(a.meta)


#: The gradient's place on the desk without an index file.
NO_SOCIAL_FR = (
    "Aucun indice de défavorisation chargé : ajoutez-en un dans « Vos fichiers » pour voir "
    "le gradient social."
)


def territories_frame(a: Analysis) -> pd.DataFrame:
    """The intervention territories, headed as in the report (empty without)."""
    return territories_frame_fr(a)


def quintiles_frame(a: Analysis) -> pd.DataFrame:
    """The social gradient's quintiles, headed as in the report (empty without)."""
    return quintiles_frame_fr(a)


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
            labels.beyond(a.threshold, a.unit),
            french.share(f.share_beyond),
            french.signed(d.get("share_beyond"), "point", scale=100),
        ),
        Metric(
            labels.POPULATION_CONCERNED,
            french.number(f.population_beyond),
            french.signed(d.get("population_beyond"), "hab.", decimals=0),
        ),
        Metric(
            labels.MEAN_PER_INHABITANT,
            french.cost(f.mean, a.unit),
            french.signed(d.get("mean"), a.unit),
        ),
        Metric(
            labels.GINI,
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
    return report.sites_change(sites)


# --------------------------------------------------------------------------- tables


def departements_frame(a: Analysis) -> pd.DataFrame:
    """Per-département table with the report's French headers, for display."""
    return report.departements_frame_fr(a)


def aja_zones_frame(a: Analysis) -> pd.DataFrame:
    """Per-AJA-zone table with the report's French headers, for display."""
    return report.aja_zones_frame_fr(a)


def gaps_frame(a: Analysis, *, top: int = 200) -> pd.DataFrame:
    """The most populated communes beyond the threshold, the report's French headers."""
    return report.gaps_frame_fr(a, top=top)


def gaps_epci_frame(a: Analysis, *, top: int = 100) -> pd.DataFrame:
    """The EPCI with the most inhabitants beyond the threshold, the report's French headers."""
    return report.gaps_epci_frame_fr(a, top=top)


def departements_delta_frame(res: ScenarioResult) -> pd.DataFrame:
    """Per-département before/after of a what-if, French headers."""
    d, u = res.departements, res.unit
    share, mean = labels.SHARE_BEYOND, labels.MEAN
    return pd.DataFrame(
        {
            labels.DEPARTEMENT: d["dep"] + " " + d["dep_name"],
            f"{share} avant (%)": (100 * d["share_beyond_before"]).round(1),
            f"{share} après (%)": (100 * d["share_beyond_after"]).round(1),
            f"{mean} avant ({u})": d["mean_before"].round(1),
            f"{mean} après ({u})": d["mean_after"].round(1),
        }
    )


def sites_frame(sites: SiteSuggestions) -> pd.DataFrame:
    """Siting suggestions with French headers."""
    frame = report.sites_frame_fr(sites)
    if "applicant" in sites.table.columns:
        frame["Candidature"] = sites.table["applicant"].to_numpy()
    return frame
