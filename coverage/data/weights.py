"""Demand weights and deprivation index per commune, read from planners' files.

Total population is only a proxy of demand: survivors after treatment are mostly older adults,
and AJA concerns 15-25 year-olds. A demand file (``--demand``, ``--demand-aja``) gives one
weight per commune; a deprivation file (``--deprivation``) gives a socio-economic index per
commune (e.g. FDep) with its direction declared. Nothing is shipped or invented here.

Demand file columns (CSV, XLSX or ODS; French headers accepted): ``insee`` (a commune of the
region, an arrondissement or commune déléguée adds to its commune), ``weight`` (a finite
number >= 0; decimal commas and spaces as thousands separators accepted), and optionally
``label`` (what the weight is, e.g. "population de 60 ans ou plus") and ``source``. Rows of
communes outside the region are counted and left out (a national file may be given);
communes of the region absent from the file are counted (``missing``) and weigh 0.

Deprivation file columns: ``insee``, ``index`` (finite number, any sign), ``direction``
(``plus_eleve_plus_defavorise`` / ``higher_is_more_deprived`` or ``plus_bas_plus_defavorise`` /
``lower_is_more_deprived``: on every row, or on the first and empty after), optional ``label``
and ``source``. Communes absent from it are counted and have no index (NaN).

Negative (for weights), non-numeric or non-finite values, a commune given twice and an
undeclared or contradictory direction refuse the file with the line. A weight above
``MAX_WEIGHT`` is refused too: each value may be finite while their sum over the region is
not (three weights of 1e308 add up to infinity), and every figure divides by that sum. A
demand whose total over the region is 0 weighs nothing and is refused, saying so.
"""

from __future__ import annotations

import math
import os
import re
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from coverage import french
from coverage._errors import RegistryError
from coverage.data.headers import Schema, fold, read_rows
from coverage.data.region import Region

_COMMON = {
    "insee": ("Code INSEE", "Code commune", "INSEE", "CODGEO"),
    "label": ("Libellé", "Indicateur", "Libellé du poids"),
    "source": ("Source",),
}
DEMAND = Schema(
    ("insee", "weight"),
    ("insee", "weight", "label", "source"),
    what="de demande",
    synonyms={
        **_COMMON,
        "weight": ("Poids", "Demande", "Effectif", "Population", "Valeur"),
    },
)
DEPRIVATION = Schema(
    ("insee", "index"),
    ("insee", "index", "direction", "label", "source"),
    what="d'indice de défavorisation",
    synonyms={
        **_COMMON,
        "index": ("Indice", "FDep", "Indice de défavorisation", "Valeur"),
        "direction": ("Sens", "Sens de l'indice"),
    },
)
_HIGHER = {
    "plus eleve plus defavorise",
    "higher is more deprived",
    "higher more deprived",
    "haut",
    "croissant",
}
_LOWER = {
    "plus bas plus defavorise",
    "lower is more deprived",
    "lower more deprived",
    "bas",
    "decroissant",
}
_NUMBER_SPACES = re.compile(r"[\s\u00a0\u202f]")
#: Largest demand weight of one commune: ten thousand times the population of France. Sums and
#: products of the weights over every commune of France (about 35,000) stay far from the
#: largest float (1.8e308), so every figure weighted by them is finite.
MAX_WEIGHT: float = 1e12


@dataclass(frozen=True)
class CommuneValues:
    """One value per commune of the region, read from a file.

    ``values`` is indexed by the region's INSEE codes (in the region's order); ``missing``
    lists the communes the file does not give, ``outside`` counts its rows of communes outside
    the region (left out). ``label`` says what the values are.
    """

    values: pd.Series
    label: str
    source: str
    path: str
    missing: tuple[str, ...]
    outside: int

    def for_communes(self, insee: pd.Series | list[str]) -> np.ndarray:
        """The values of the given communes, in that order."""
        return self.values.reindex(list(insee)).to_numpy(dtype=float)

    def to_dict(self) -> dict[str, object]:
        return {
            "label": self.label,
            "source": self.source,
            "path": self.path,
            "communes": len(self.values) - len(self.missing),
            "missing": len(self.missing),
            "outside": self.outside,
        }


@dataclass(frozen=True)
class DemandWeights(CommuneValues):
    """Demand weight per commune (0 for the communes missing from the file)."""

    kind: str = "tous_publics"

    @property
    def total(self) -> float:
        return float(self.values.sum())


@dataclass(frozen=True)
class DeprivationIndex(CommuneValues):
    """A socio-economic index per commune (NaN where missing) and its declared direction."""

    higher_is_deprived: bool = True

    def deprivation(self) -> pd.Series:
        """The index oriented so that a higher value always means more deprived."""
        return self.values if self.higher_is_deprived else -self.values


def parse_number(text: str) -> float | None:
    """A French or English decimal ("1 234,5", "1234.5"); None when not a finite number."""
    t = _NUMBER_SPACES.sub("", text.strip())
    if t.count(",") == 1 and "." not in t:
        t = t.replace(",", ".")
    try:
        value = float(t)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def load_demand(
    path: str | os.PathLike[str],
    *,
    region: Region,
    kind: str = "tous_publics",
    sheet: str | None = None,
) -> DemandWeights:
    """Read a demand file (``--demand``; ``kind="aja"`` for ``--demand-aja``)."""
    reader = _Reader(path, DEMAND, region, sheet)
    reader.read(
        "weight",
        lambda v: 0 <= v <= MAX_WEIGHT,
        f"un nombre positif ou nul d'au plus {french.number(MAX_WEIGHT)} (la demande de la "
        "commune)",
    )
    values = reader.values.reindex(region.communes["insee"]).fillna(0.0)
    label, source, missing = reader.common()
    if not values.sum() > 0:
        given = len(region.communes) - len(missing)
        outside = (
            f" ; {reader.outside} ligne(s) hors de la région laissée(s) de côté"
            if reader.outside
            else ""
        )
        reader.bad(
            1,
            f"la demande totale des communes {region.spec.of_name} est nulle ({given} commune(s) "
            f"de la région données, toutes de poids 0{outside}) : aucun chiffre ne peut être "
            "pondéré par ce fichier",
        )
        reader.raise_if_any()
    return DemandWeights(values, label, source, reader.name, missing, reader.outside, kind=kind)


def load_deprivation(
    path: str | os.PathLike[str],
    *,
    region: Region,
    higher_is_deprived: bool | None = None,
    sheet: str | None = None,
) -> DeprivationIndex:
    """Read a deprivation file; its direction comes from its ``direction`` column, or from
    ``higher_is_deprived`` when the file has none (both given must agree)."""
    reader = _Reader(path, DEPRIVATION, region, sheet)
    reader.read("index", lambda v: True, "un nombre (l'indice de la commune)")
    higher = reader.direction(higher_is_deprived)
    values = reader.values.reindex(region.communes["insee"])
    label, source, missing = reader.common()
    return DeprivationIndex(
        values, label, source, reader.name, missing, reader.outside, higher_is_deprived=higher
    )


#: Every commune code of France, per region object (a region is read-only once loaded).
_FRANCE_CODES: dict[int, tuple[weakref.ref[Region], frozenset[str]]] = {}
_FRANCE_LOCK = threading.Lock()


def france_codes(region: Region) -> frozenset[str]:
    """The codes of ``region.france`` (every commune of France), built once per region.

    Building the set reads 35,000 codes one by one from an Arrow column: once per region,
    not at every read of a file.
    """
    with _FRANCE_LOCK:
        hit = _FRANCE_CODES.get(id(region))
        if hit is not None and hit[0]() is region:
            return hit[1]
        codes = frozenset(region.france["insee"].tolist())
        for key, (ref, _) in list(_FRANCE_CODES.items()):
            if ref() is None:
                del _FRANCE_CODES[key]
        _FRANCE_CODES[id(region)] = (weakref.ref(region), codes)
        return codes


class _Reader:
    """Rows of a per-commune file, checked, summed into their commune."""

    def __init__(
        self, path: str | os.PathLike[str], schema: Schema, region: Region, sheet: str | None
    ) -> None:
        self.name = str(Path(path))
        self.schema = schema
        self.region = region
        self.rows = read_rows(path, schema, sheet=sheet)
        self.problems: list[str] = []
        self.values = pd.Series(dtype=float)
        self.outside = 0
        self.labels: set[str] = set()
        self.sources: set[str] = set()

    def bad(self, line: int, message: str) -> None:
        self.problems.append(f"{self.name}, ligne {line} : {message}.")

    def read(self, column: str, accept: Callable[[float], bool], expected: str) -> None:
        given: dict[str, int] = {}
        by_commune: dict[str, float] = {}
        for line, row in self.rows:
            code = (row.get("insee") or "").strip().upper()
            code = code.zfill(5) if code.isdigit() and len(code) == 4 else code
            text = (row.get(column) or "").strip()
            value = parse_number(text)
            if value is None or not accept(value):
                self.bad(line, f"champ « {column} » : attendu {expected} ; trouvé {text!r}")
                continue
            parent = self.region.parent_code(code)
            if parent is None:
                if code in france_codes(self.region):
                    self.outside += 1
                else:
                    self.bad(line, f"champ « insee » : code INSEE inconnu {code!r}")
                continue
            if code in given:
                self.bad(line, f"la commune {code!r} est déjà donnée ligne {given[code]}")
                continue
            given[code] = line
            self.labels.add((row.get("label") or "").strip())
            self.sources.add((row.get("source") or "").strip())
            by_commune[parent] = by_commune.get(parent, 0.0) + value
        for code, line in given.items():
            parent = self.region.parent_code(code)
            if parent != code and parent in given:
                self.bad(line, f"{code!r} et sa commune {parent!r} sont tous deux donnés")
        self.values = pd.Series(by_commune, dtype=float)
        self.raise_if_any()

    def direction(self, declared: bool | None) -> bool:
        said = {
            fold(r.get("direction") or "").replace("_", " ")
            for _, r in self.rows
            if (r.get("direction") or "").strip()
        }
        unknown = said - _HIGHER - _LOWER
        if unknown or (said & _HIGHER and said & _LOWER):
            self.bad(1, f"champ « direction » : un seul sens, parmi {sorted(_HIGHER | _LOWER)!r}")
        elif said:
            higher = bool(said & _HIGHER)
            if declared is not None and declared != higher:
                self.bad(1, "le sens déclaré par le fichier contredit celui demandé")
            self.raise_if_any()
            return higher
        elif declared is None:
            self.bad(
                1,
                "sens de l'indice non déclaré : ajoutez une colonne « direction » "
                "(plus_eleve_plus_defavorise ou plus_bas_plus_defavorise)",
            )
        self.raise_if_any()
        return bool(declared)

    def raise_if_any(self) -> None:
        if self.problems:
            raise RegistryError(
                self.name, self.problems[:50], what=self.schema.what, total=len(self.problems)
            )

    def common(self) -> tuple[str, str, tuple[str, ...]]:
        """(label, source, communes missing) of the file read."""
        labels = sorted(self.labels - {""})
        if len(labels) > 1:
            self.bad(1, f"champ « label » : un seul libellé attendu ; trouvé {labels[:3]!r}")
            self.raise_if_any()
        given = set(self.values.index)
        missing = tuple(c for c in self.region.communes["insee"].tolist() if c not in given)
        label = labels[0] if labels else Path(self.name).stem
        return label, "; ".join(sorted(self.sources - {""})), missing
