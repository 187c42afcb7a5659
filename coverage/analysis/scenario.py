"""What-if scenarios: add, remove or move structures and compare every headline figure.

A scenario never touches the registry file: it works on a copy of the
:class:`~coverage.analysis.access.AccessTable`, whose cost matrix is reused, so that only the
added or moved structures are measured by the travel model (one call of communes x a few
pairs). The base figures are computed once (:class:`WhatIf`), not at every what-if.

Places are given as a planner types them: an INSEE code (``"15014"``), a commune name, a
postcode, or a point ``"lat, lon"`` (resolved by :func:`coverage.data.places.lookup`; an ambiguous
name is refused with suggestions). A structure added at a commune is placed at the commune's
representative point, the origin every distance is measured from.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from coverage._errors import ValidationError
from coverage.analysis.access import AccessTable
from coverage.analysis.access_matrix import Cost
from coverage.analysis.checks import check_cost, check_threshold
from coverage.analysis.figures import (
    DEFAULT_THRESHOLD,
    UNITS,
    _clean_dict,
    _records,
    access_headline,
    headline,
    headline_deltas,
)
from coverage.analysis.results import Headline
from coverage.data.places import lookup
from coverage.data.region import Region
from coverage.geography import departement_names


@dataclass(frozen=True)
class Site:
    """A point where a structure is added or moved to.

    Attributes
    ----------
    lon, lat
        WGS84 coordinates.
    insee, commune
        The commune the point lies in.
    dep
        Its département.
    query
        What the planner typed.
    """

    lon: float
    lat: float
    insee: str
    commune: str
    dep: str
    query: str

    @property
    def label(self) -> str:
        """French label, e.g. "Aurillac (15)"."""
        return f"{self.commune} ({self.dep})"


def resolve_site(query: str | Site, region: Region) -> Site:
    """A place typed by a planner (INSEE code, name, postcode or "lat, lon") as a ``Site``.

    A commune gives its representative point; a point is kept as given (it must lie in the
    region). Raises ``PlaceError`` (French, with suggestions) when the place is unknown or
    ambiguous, ``OutsideRegionError`` when it lies outside Auvergne-Rhône-Alpes.
    """
    if isinstance(query, Site):
        return query
    if not isinstance(query, str) or not query.strip():
        raise ValidationError(f"Lieu vide ou invalide : {query!r}.")
    code = query.strip().upper()
    if len(code) == 5 and region.is_commune(code):
        # Planners give INSEE codes (the registry's own key), not postcodes: "03190" is
        # Moulins here, even though patients typing it mean the postcode of Hérisson's area.
        row = region.commune(code)
        return Site(
            lon=float(row["lon"]),
            lat=float(row["lat"]),
            insee=code,
            commune=str(row["name"]),
            dep=str(row["dep"]),
            query=query.strip(),
        )
    place = lookup(query, region).place
    if place.matched == "coordonnées":
        lon, lat = place.lon, place.lat
    else:
        row = region.commune(place.insee)
        lon, lat = float(row["lon"]), float(row["lat"])
    return Site(
        lon=lon, lat=lat, insee=place.insee, commune=place.name, dep=place.dep, query=query.strip()
    )


@dataclass(frozen=True)
class Scenario:
    """Changes to the located structures; nothing is written anywhere.

    Attributes
    ----------
    add
        Places where an all-patients structure is added.
    add_aja
        Places where an AJA device is added.
    remove
        Ids of located structures removed.
    move
        ``(id, place)`` pairs: the structure keeps its id, name, kind and capacity, at a new
        place.
    """

    add: tuple[str | Site, ...] = ()
    add_aja: tuple[str | Site, ...] = ()
    remove: tuple[str, ...] = ()
    move: tuple[tuple[str, str | Site], ...] = ()

    def __post_init__(self) -> None:
        for name in ("add", "add_aja", "remove", "move"):
            value = getattr(self, name)
            if isinstance(value, str) or not isinstance(value, Iterable):
                raise ValidationError(f"`{name}` must be a tuple; got {value!r}.")
            object.__setattr__(self, name, tuple(value))
        ids = [*self.remove, *(i for i, _ in self.move)]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValidationError(f"Une structure est retirée ou déplacée deux fois : {dup!r}.")

    @property
    def is_empty(self) -> bool:
        """True when the scenario changes nothing."""
        return not (self.add or self.add_aja or self.remove or self.move)


@dataclass(frozen=True, eq=False)
class ScenarioResult:
    """Headline figures before and after a scenario.

    Attributes
    ----------
    before, after
        Headline figures (``coverage.analysis.figures.headline``) of the nearest all-patients
        structure's cost ``by``.
    deltas
        ``after - before`` for every numeric figure (``None`` when either is undefined).
    aja_before, aja_after
        Headline figures of the cost to each commune's AJA zone device.
    departements
        Per département: ``dep``, ``dep_name``, ``population``, ``share_beyond_before``,
        ``share_beyond_after``, ``mean_before``, ``mean_after``.
    changes
        What the scenario did, one French sentence per change.
    added
        The structures added or moved (``id``, ``name``, ``kind``, ``lon``, ``lat``,
        ``commune_insee``, ``commune_name``, ``dep``).
    access
        The access table after the changes (the base one is unchanged).
    threshold, by, unit
        The acceptable cost, which cost, and its unit.
    seconds
        Time spent.
    """

    before: Headline | None
    after: Headline | None
    deltas: dict[str, float | None]
    aja_before: Headline | None
    aja_after: Headline | None
    departements: pd.DataFrame
    changes: tuple[str, ...]
    added: pd.DataFrame
    access: AccessTable
    threshold: float
    by: str
    unit: str
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "threshold": self.threshold,
            "by": self.by,
            "unit": self.unit,
            "changes": list(self.changes),
            "added": _records(self.added),
            "before": _json(self.before),
            "after": _json(self.after),
            "deltas": _clean_dict(self.deltas),
            "aja_before": _json(self.aja_before),
            "aja_after": _json(self.aja_after),
            "departements": _records(self.departements),
        }


def _json(head: Headline | None) -> dict[str, Any] | None:
    """A headline's JSON layout (``None`` when it was not computed)."""
    return None if head is None else head.to_dict()


def _dep_table(access: AccessTable, by: Cost, threshold: float) -> pd.DataFrame:
    """Per département: population, share beyond the threshold and mean cost (vectorised)."""
    x = access.nearest_cost("tous_publics", by)
    w = access.population
    codes, labels = pd.factorize(access.col("dep"), sort=True)
    ok = np.isfinite(x)
    xs = np.where(ok, x, 0.0)
    pop = np.bincount(codes, weights=np.where(ok, w, 0.0), minlength=len(labels))
    beyond = np.bincount(
        codes, weights=np.where(ok & (xs > threshold), w, 0.0), minlength=len(labels)
    )
    wx = np.bincount(codes, weights=w * xs, minlength=len(labels))
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.DataFrame(
            {"dep": labels, "population": pop, "share": beyond / pop, "mean": wx / pop}
        )


class WhatIf:
    """Runs scenarios against one base access table, whose figures are computed once.

    Parameters
    ----------
    access
        The base access table (from the registry as loaded).
    region
        The region, to resolve places.
    threshold
        Acceptable cost (default 30).
    by
        ``"distance_km"`` (default) or ``"duration_min"``.
    """

    def __init__(
        self,
        access: AccessTable,
        region: Region,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        by: Cost = "distance_km",
    ) -> None:
        self.access = access
        self.region = region
        self.threshold = check_threshold(threshold)
        self.by = check_cost(by)
        access.matrix(self.by)
        self.before = access_headline(access, threshold=self.threshold, by=self.by)
        self.aja_before = _aja_headline(access, self.threshold, self.by)
        self._deps_before = _dep_table(access, self.by, self.threshold)

    def run(self, scenario: Scenario) -> ScenarioResult:
        """Apply ``scenario`` to a copy of the base table and compare the figures."""
        started = time.perf_counter()
        if not isinstance(scenario, Scenario):
            raise ValidationError(
                f"`scenario` must be a Scenario; got {type(scenario).__name__!r}."
            )
        base = self.access
        s = base.structures
        located = set(s["id"])
        changes: list[str] = []
        rows: list[dict[str, Any]] = []
        for kind, places in (("tous_publics", scenario.add), ("aja", scenario.add_aja)):
            for place in places:
                site = resolve_site(place, self.region)
                n = len(rows) + 1
                what = "Structure tous publics" if kind == "tous_publics" else "Dispositif AJA"
                rows.append(
                    _row(
                        f"ajout-{n}",
                        f"{what} ajouté(e) n° {n} : {site.commune}",
                        kind,
                        site,
                        np.nan,
                    )
                )
                changes.append(
                    f"Ajout : {what.lower()} à {site.label} (point {site.lat:.5f}, {site.lon:.5f})."
                )
        for sid in scenario.remove:
            _check_located(sid, located)
            name = str(s.loc[s["id"] == sid, "name"].iloc[0])
            changes.append(f"Retrait : {name} ({sid}).")
        for sid, place in scenario.move:
            _check_located(sid, located)
            old = s.loc[s["id"] == sid].iloc[0]
            site = resolve_site(place, self.region)
            rows.append(_row(sid, str(old["name"]), str(old["kind"]), site, old["capacity"]))
            changes.append(
                f"Déplacement : {old['name']} ({sid}), de {old['commune_name']} à {site.label}."
            )
        add = pd.DataFrame(rows, columns=_ADDED_COLUMNS)
        removed = [*scenario.remove, *(i for i, _ in scenario.move)]
        after_access = base.with_changes(add=add, remove=removed)
        after = access_headline(after_access, threshold=self.threshold, by=self.by)
        touches_aja = bool(scenario.add_aja) or bool(
            s.loc[s["id"].isin(removed), "kind"].eq("aja").any()
        )
        aja_after = (
            _aja_headline(after_access, self.threshold, self.by) if touches_aja else self.aja_before
        )
        deps_after = _dep_table(after_access, self.by, self.threshold)
        b = self._deps_before
        deps = pd.DataFrame(
            {
                "dep": b["dep"].to_numpy(),
                "dep_name": [departement_names().get(d, d) for d in b["dep"]],
                "population": b["population"].to_numpy(),
                "share_beyond_before": b["share"].to_numpy(),
                "share_beyond_after": deps_after.set_index("dep")["share"]
                .reindex(b["dep"])
                .to_numpy(),
                "mean_before": b["mean"].to_numpy(),
                "mean_after": deps_after.set_index("dep")["mean"].reindex(b["dep"]).to_numpy(),
            }
        )
        return ScenarioResult(
            before=self.before,
            after=after,
            deltas=headline_deltas(_json(self.before), _json(after)),
            aja_before=self.aja_before,
            aja_after=aja_after,
            departements=deps,
            changes=tuple(changes),
            added=add.drop(columns=["capacity"]),
            access=after_access,
            threshold=self.threshold,
            by=self.by,
            unit=UNITS[self.by],
            seconds=time.perf_counter() - started,
        )


_ADDED_COLUMNS = (
    "id",
    "name",
    "kind",
    "lon",
    "lat",
    "commune_insee",
    "commune_name",
    "dep",
    "capacity",
)


def _row(sid: str, name: str, kind: str, site: Site, capacity: float) -> dict[str, Any]:
    return {
        "id": sid,
        "name": name,
        "kind": kind,
        "lon": site.lon,
        "lat": site.lat,
        "commune_insee": site.insee,
        "commune_name": site.commune,
        "dep": site.dep,
        "capacity": capacity,
    }


def _check_located(sid: str, located: set[str]) -> None:
    if sid not in located:
        raise ValidationError(
            f"Structure {sid!r} inconnue ou non localisée ; identifiants localisés : "
            f"{sorted(located)!r}."
        )


def _aja_headline(access: AccessTable, threshold: float, by: Cost) -> Headline | None:
    return headline(access.zone_cost(by), access.population, threshold=threshold)
