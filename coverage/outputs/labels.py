"""What each figure is called: the labels, table headers and recurring sentences of every reader.

The terminal (:mod:`coverage.outputs.text`), the HTML report (:mod:`coverage.outputs.report`)
and the planners' desk (``coverage.web.frames`` and its glossary) read their words here, so one
figure has one name on every screen and a change of wording is one edit. Constants and small
pure functions only: the renderers format the values (through :mod:`coverage.french`) and lay
them out; nothing here renders.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from coverage import french

# --------------------------------------------------------------------------- headline figures

MEAN = "Moyenne"
MEAN_PER_INHABITANT = "Moyenne par habitant"
MEDIAN = "Médiane"
P90 = "P90"
MAX = "Maximum"
GINI = "Indice de Gini"
THEIL = "Indice de Theil (T)"
#: The share of Theil's index due to the gaps between groups, by grouping ("dep", "aja").
THEIL_BETWEEN: dict[str, str] = {
    "dep": "Theil : part due aux écarts entre départements",
    "aja": "Theil : part due aux écarts entre zones AJA",
}
ATKINSON = "Indice d'Atkinson"
PALMA = "Ratio de Palma"
PALMA_READING = f"{PALMA} (10 % les plus éloignés / 40 % les plus proches)"
FGT = "FGT α"
#: What each order of the Foster-Greer-Thorbecke index measures.
FGT_TERMS: dict[int, str] = {0: "part", 1: "écart moyen", 2: "sévérité"}
NO_ROUTE = "Communes sans itinéraire"
E2SFCA_TERM = "E2SFCA"
E2SFCA = f"Accessibilité {E2SFCA_TERM}"
POPULATION_CONCERNED = "Habitants concernés"
SHARE_BEYOND = "Part au-delà du seuil"
POPULATION_BEYOND = "Habitants au-delà du seuil"
SHARE_OF_INHABITANTS_BEYOND = "Part des habitants au-delà du seuil"
DEPARTEMENT = "Département"
INDICATOR = "Indicateur"
VALUE = "Valeur"
#: The name of each cost a commune is measured by.
COST_NAMES: dict[str, str] = {"distance_km": "Distance", "duration_min": "Durée"}


def in_sentence(label: str) -> str:
    """A label inside a sentence: "Indice de Gini" -> "indice de Gini"; "P90" stays "P90"."""
    if len(label) > 1 and label[0].isupper() and label[1].islower():
        return label[0].lower() + label[1:]
    return label


def threshold(value: float, unit: str) -> str:
    """A threshold with its unit: "30 km", "30,4 km"."""
    return f"{french.decimal(value)} {unit}"


def beyond(value: float, unit: str) -> str:
    """The share of inhabitants beyond a threshold, as a headline: "Au-delà de 30 km"."""
    return f"Au-delà de {threshold(value, unit)}"


def population_beyond(value: float, unit: str) -> str:
    """ "Habitants à plus de 30 km"."""
    return f"Habitants à plus de {threshold(value, unit)}"


def cost_figure(by: str, label: str) -> str:
    """One figure of one cost: ("distance_km", MEAN) -> "Distance : moyenne"."""
    return f"{COST_NAMES[by]} : {in_sentence(label)}"


def share_beyond_at(value: float, unit: str) -> str:
    """ "part des habitants au-delà de 30 km" (one of the reported thresholds)."""
    return f"part des habitants au-delà de {threshold(value, unit)}"


def atkinson(value: float) -> str:
    """Atkinson's index with its parameter and the access score it is computed on."""
    return f"{ATKINSON} (ε = 1, score d'accès 2^(−d/{french.decimal(value)}))"


def fgt(alpha: int, value: float, unit: str) -> str:
    """ "FGT α = 1 (écart moyen au seuil de 30 km)"."""
    return f"{FGT} = {alpha} ({FGT_TERMS[alpha]} au seuil de {threshold(value, unit)})"


# --------------------------------------------------------------------------- tables

#: Headline figures by their field name in :class:`coverage.analysis.results.Headline`.
HEADLINE: dict[str, str] = {
    "mean": MEAN,
    "median": MEDIAN,
    "p90": P90,
    "max": MAX,
    "gini": GINI,
    "theil_t": THEIL,
    "atkinson": ATKINSON,
    "palma": PALMA,
    "share_beyond": SHARE_BEYOND,
    "population_beyond": POPULATION_BEYOND,
    "communes_no_route": NO_ROUTE,
}


def headline_label(key: str, unit: str | None = None) -> str:
    """The label of a headline figure by its field name, with its unit when given."""
    label = HEADLINE[key]
    return label if unit is None else f"{label} ({unit})"


# --------------------------------------------------------------------------- tables

#: How a column's values read: a name, a count, a cost in the analysis's unit, a share shown in
#: percent, an inequality index.
Kind = Literal["text", "count", "cost", "share", "index"]


@dataclass(frozen=True)
class Column:
    """One column of a table: the results' column it shows, its label and how it reads."""

    key: str
    label: str
    kind: Kind = "count"

    def header(self, unit: str) -> str:
        """The header, with the unit of costs ("Moyenne (km)") and of shares ("… (%)")."""
        if self.kind == "cost":
            return f"{self.label} ({unit})"
        if self.kind == "share":
            return f"{self.label} (%)"
        return self.label

    @property
    def numeric(self) -> bool:
        """Whether the column holds numbers (aligned right)."""
        return self.kind != "text"


def headers(columns: tuple[Column, ...], unit: str) -> list[str]:
    """The headers of ``columns`` for costs in ``unit``."""
    return [c.header(unit) for c in columns]


#: The per-département table; ``departement`` is the code and the name ("63 Puy-de-Dôme").
DEPARTEMENT_COLUMNS: tuple[Column, ...] = (
    Column("departement", DEPARTEMENT, "text"),
    Column("communes", "Communes"),
    Column("population", "Habitants"),
    Column("mean", MEAN, "cost"),
    Column("median", MEDIAN, "cost"),
    Column("p90", P90, "cost"),
    Column("max", "Max.", "cost"),
    Column("share_beyond", SHARE_BEYOND, "share"),
    Column("population_beyond", "Habitants au-delà"),
    Column("theil", "Theil interne", "index"),
    Column("tous_publics", "Structures tous publics"),
    Column("aja", "Dispositifs AJA"),
    Column("not_located", "Non localisées"),
)

#: The per-AJA-zone table; ``device`` is the device's name (its id when it has none).
AJA_ZONE_COLUMNS: tuple[Column, ...] = (
    Column("device", "Dispositif", "text"),
    Column("device_commune", "Commune", "text"),
    Column("communes", "Communes"),
    Column("population", "Habitants"),
    Column("mean", MEAN, "cost"),
    Column("p90", P90, "cost"),
    Column("max", "Max.", "cost"),
    Column("share_beyond", SHARE_BEYOND, "share"),
)


def gap_columns(by: str) -> tuple[Column, ...]:
    """The communes beyond the threshold; their cost column is ``by`` ("Distance (km)")."""
    return (
        Column("name", "Commune", "text"),
        Column("insee", "Code INSEE", "text"),
        Column("dep", "Dép.", "text"),
        Column("epci_name", "EPCI", "text"),
        Column("population", "Habitants"),
        Column(by, COST_NAMES[by], "cost"),
        Column("nearest_name", "Structure la plus proche", "text"),
    )


#: The EPCI with the most inhabitants beyond the threshold.
GAP_EPCI_COLUMNS: tuple[Column, ...] = (
    Column("epci_name", "EPCI", "text"),
    Column("deps", "Dép.", "text"),
    Column("communes_beyond", "Communes au-delà"),
    Column("communes", "Communes de l'EPCI"),
    Column("population_beyond", "Habitants au-delà"),
    Column("share_beyond", "Part de l'EPCI", "share"),
    Column("mean", MEAN, "cost"),
)

#: The suggested sites, in the order chosen.
SITE_COLUMNS: tuple[Column, ...] = (
    Column("rank", "Rang"),
    Column("name", "Commune", "text"),
    Column("dep", "Dép.", "text"),
    Column("epci_name", "EPCI", "text"),
    Column("people_within", "Habitants ramenés sous le seuil"),
    Column("share_beyond_after", f"{SHARE_BEYOND} ensuite", "share"),
)

#: The intervention territories; ``territory`` is the name and the id ("Lyon Est (T3)"),
#: ``served`` "oui"/"non".
TERRITORY_COLUMNS: tuple[Column, ...] = (
    Column("territory", "Territoire", "text"),
    Column("communes", "Communes"),
    Column("population", "Habitants"),
    Column("structures", "Structures qui le servent", "text"),
    Column("located_structures", "Localisées"),
    Column("served", "Couvert", "text"),
)

#: The social gradient's quintiles (1 least deprived, 5 most).
QUINTILE_COLUMNS: tuple[Column, ...] = (
    Column("quintile", "Quintile (1 : le moins défavorisé)"),
    Column("communes", "Communes"),
    Column("weight", "Habitants (pondération)"),
    Column("mean_cost", MEAN, "cost"),
)

# --------------------------------------------------------------------------- sentences

NOT_COMPUTED = "Non calculé : aucune structure tous publics localisée dans le registre."


def incomplete_registry(
    counts: Mapping[str, int],
    *,
    is_default: bool,
    labelled_all_patients: int | None,
    how: str,
) -> str | None:
    """The warning shown beside the headline figures when they describe an incomplete
    registry (``None`` when nothing is known to be missing).

    ``counts`` are ``Registry.counts()``; ``labelled_all_patients`` the ARS's published number
    of all-patients structures when known; ``how`` says how to load the ARS's list there
    ("page « Registre »", "--registry FICHIER").
    """
    located = counts.get("tous_publics_located", 0)
    missing = counts.get("not_located", 0)
    tail = (
        "ces chiffres décrivent ce registre, pas la couverture réelle ; chargez la liste de "
        f"l'ARS ({how})."
    )
    if is_default and labelled_all_patients:
        return (
            f"{located} des {labelled_all_patients} structures tous publics labellisées par "
            f"l'ARS sont localisées dans ce registre : {tail}"
        )
    if is_default:
        return (
            "Ce registre ne contient que les structures nommées par des sources publiques "
            f"({located} tous publics localisées) : {tail}"
        )
    if missing:
        return (
            f"{missing} structure(s) du registre sans commune connue ne sont pas comptées "
            "dans ces chiffres."
        )
    return None


REGISTRY = "Registre"


def measure(travel: str, origins: str) -> str:
    """How costs were measured and from where: "Mesure : à vol d'oiseau. Distances …"."""
    return f"Mesure : {travel}. {origins}"


#: The report's definitions of its figures, in one paragraph.
DEFINITIONS = (
    "Chaque commune compte pour ses habitants (population municipale) à la distance de "
    "la structure tous publics la plus proche. P90 : distance en deçà de laquelle vivent "
    "90 % des habitants. Gini et Theil : 0 quand tous parcourent la même distance. "
    "Theil se décompose exactement en écarts entre groupes (départements, zones AJA) et "
    "écarts internes. Atkinson : sur le score d'accès 2^(−d/seuil), part de l'accès moyen "
    "perdue par sa répartition inégale. FGT : part (α = 0), écart moyen (α = 1) et "
    "sévérité (α = 2) du dépassement du seuil."
)

#: One line for each term of the desk, the report and the exports that a planner may not know.
GLOSSARY: tuple[tuple[str, str], ...] = (
    (P90, "90 % des habitants ont un trajet plus court que cette valeur."),
    (
        GINI,
        "0 quand tous les habitants sont à la même distance d'une structure ; plus il "
        "approche de 1, plus l'accès est inégal.",
    ),
    (
        THEIL,
        "une autre mesure d'inégalité, qui se partage entre les écarts entre départements "
        "et les écarts à l'intérieur de chacun.",
    ),
    (
        PALMA,
        "trajet total des 10 % d'habitants les plus éloignés rapporté à celui des 40 % les "
        "plus proches.",
    ),
    (
        FGT,
        "indices de Foster, Greer et Thorbecke au seuil : α = 0 la part des habitants "
        "au-delà, α = 1 l'écart moyen au seuil, α = 2 la sévérité (les grands écarts "
        "comptent davantage).",
    ),
    (
        E2SFCA_TERM,
        "accessibilité « à deux étapes » : l'offre de chaque structure rapportée aux "
        "habitants à sa portée, puis additionnée pour chaque commune ; plus elle est "
        "élevée, meilleur est l'accès.",
    ),
    (
        NO_ROUTE,
        "communes d'où le calcul ne trouve aucun trajet vers une structure (aucune route "
        "connue) : elles sont comptées à part, pas comme proches.",
    ),
)
