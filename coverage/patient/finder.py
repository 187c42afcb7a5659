"""Finder: for a place (and optionally an age), the nearest labelled structures and AJA device.

Distances come from a ``TravelModel`` (geodesic by default, OSRM road times when a dataset is
active), so the finder never measures anything itself. The answer also carries what the
forfait covers, the structures of the patient's département that are labelled but not located,
the registry's counts and a next step (``coverage.patient.next_step``), so it answers the
patient's next question. The answer holds facts and decisions as booleans
(``registry_may_miss_nearer``, ``not_located_first``, ``close_call``); its wording lives in
``coverage.outputs.finder_text``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coverage import french, settings
from coverage._errors import ArgumentError, ValidationError
from coverage.data.place_results import Lookup, Place
from coverage.data.places import locate_point, lookup
from coverage.data.region import Region, load_region
from coverage.data.registry import Registry
from coverage.data.registry_files import load_registry
from coverage.data.territories import Territories, default_territories, load_territories
from coverage.data.zones import COMPUTED_LABEL_FR, AjaZones, default_zones_path, read_official
from coverage.geography import RegionSpec, travel_area, travel_areas
from coverage.patient import forfait
from coverage.patient.next_step import NextStep, next_step
from coverage.travel.base import TravelModel
from coverage.travel.geodesic import GeodesicModel

#: Columns of each structure in an answer (see ``FinderResult.structures``).
STRUCTURE_FIELDS: tuple[str, ...] = (
    "id",
    "name",
    "kind",
    "commune_name",
    "commune_insee",
    "dep",
    "lat",
    "lon",
    "placement",
    "distance_km",
    "duration_min",
    "address",
    "phone",
    "email",
    "website",
    "services",
    "commune_inferred",
    "location_note",
    "source",
)


#: Beyond this distance (km) to the nearest structure, the answer warns that the embedded
#: registry is incomplete, and the département's structures without a known commune come first.
FAR_KM = 60.0
#: Beyond this travel time (minutes, when the model gives time), the same.
FAR_MIN = 60.0
#: Two structures whose travel times differ by at most this many minutes are a close call.
CLOSE_CALL_MIN = 5.0


@dataclass(frozen=True)
class AjaAnswer:
    """The AJA device whose zone covers the place."""

    device: dict[str, Any]
    zone_official: bool
    zone_label: str
    applies: bool | None  # True: age 15-25; False: other age; None: age not given


@dataclass(frozen=True)
class FinderResult:
    """The answer to "where is the nearest labelled structure for me?"."""

    place: Place
    model: str
    model_label: str
    has_time: bool
    structures: pd.DataFrame
    aja: AjaAnswer | None
    aja_missing_reason: str
    not_located: pd.DataFrame
    completeness: str
    age: int | None
    origin_note: str
    #: The next step (the served region's list of structures, the doctor).
    next_step: NextStep
    registry_is_default: bool = False
    #: INSEE code of the region the finder serves ("84", "FR").
    region_code: str = settings.DEFAULT_REGION
    registry_counts: dict[str, int] = field(default_factory=dict)
    #: The embedded (incomplete) registry's nearest structure is far: one nearer may exist.
    registry_may_miss_nearer: bool = False
    #: The département's structures without a known commune are a better lead than the
    #: nearest located one (far or none): show them first.
    not_located_first: bool = False
    #: The first two structures are within ``CLOSE_CALL_MIN`` minutes of each other.
    close_call: bool = False
    #: Median error (a fraction, 0.11 for 11 %) of estimated times; None for measured ones.
    time_error_median: float | None = None
    #: The intervention territories of the place (names; empty without a territory file).
    territory_names: tuple[str, ...] = ()
    #: Ids of the structures serving those territories: listed first, whatever their distance.
    territory_structure_ids: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (see the README's ``--json`` section)."""
        p = self.place
        return {
            "place": {
                "insee": p.insee,
                "name": p.name,
                "dep": p.dep,
                "dep_name": p.dep_name,
                "lat": p.lat,
                "lon": p.lon,
                "matched": p.matched,
                "score": round(p.score, 1),
                "detail": p.detail,
                "origin": self.origin_note,
            },
            "travel_model": {
                "name": self.model,
                "label": self.model_label,
                "has_time": self.has_time,
            },
            "structures": [_structure_json(r) for r in self.structures.to_dict("records")],
            "territories": {
                "names": list(self.territory_names),
                "structures": list(self.territory_structure_ids),
            },
            "not_located": [
                {
                    "id": r["id"],
                    "name": r["name"],
                    "kind": r["kind"],
                    "dep": r["dep"],
                    "located": False,
                    "source": r["source"],
                }
                for r in self.not_located.to_dict("records")
            ],
            "aja": None
            if self.aja is None
            else {
                "device": _structure_json(self.aja.device),
                "zone": {"official": self.aja.zone_official, "label": self.aja.zone_label},
                "applies": self.aja.applies,
            },
            "aja_missing_reason": self.aja_missing_reason or None,
            "age": self.age,
            "forfait": {
                "bilan_eur": forfait.BILAN_EUR,
                "consultation_eur": forfait.CONSULTATION_EUR,
                "annual_cap_eur": forfait.ANNUAL_CAP_EUR,
                "max_consultations": forfait.MAX_CONSULTATIONS,
            },
            "registry": {
                "completeness": self.completeness,
                "is_default": self.registry_is_default,
                "counts": dict(self.registry_counts),
            },
            "decisions": {
                "registry_may_miss_nearer": self.registry_may_miss_nearer,
                "not_located_first": self.not_located_first,
                "close_call": self.close_call,
            },
            "next_step": self.next_step.to_dict(),
        }


def _isnan(v: Any) -> bool:
    return isinstance(v, float) and math.isnan(v)


def _structure_json(r: Mapping[Any, Any]) -> dict[str, Any]:
    out = {k: r.get(k) for k in STRUCTURE_FIELDS}
    out["commune"] = out.pop("commune_name")
    out["insee"] = out.pop("commune_insee")
    for k in ("distance_km", "duration_min", "lat", "lon"):
        v = out.get(k)
        out[k] = (
            None if v is None or _isnan(v) else round(float(v), 6 if k in ("lat", "lon") else 3)
        )
    out["located"] = True
    out["commune_inferred"] = bool(out["commune_inferred"])
    return out


class Finder:
    """Region, registry, AJA zones and a travel model, loaded once; answers queries fast.

    ``zones`` is the official zoning when one is given or configured; without one, the
    computed zones (each commune to its nearest AJA device, ``travel.catchments``) are built
    on first use of ``zones``, and a single answer finds its device directly: a ``find`` from
    the command line never builds the whole zoning (nor loads scipy's KD-tree for it).
    """

    def __init__(
        self,
        region: Region,
        registry: Registry,
        zones: AjaZones | None = None,
        model: TravelModel | None = None,
        *,
        territories: Territories | None = None,
    ) -> None:
        self.region = region
        self.registry = registry
        self._zones = zones
        self.model: TravelModel = model if model is not None else GeodesicModel()
        self.territories = territories
        self._memo: dict[str, Any] = {}

    def __repr__(self) -> str:
        zones = "computed" if self._zones is None else repr(self._zones.source)
        return f"Finder(registry={self.registry.path!r}, zones={zones}, model={self.model.name!r})"

    @property
    def zones(self) -> AjaZones:
        """The AJA zones in force (computed on first use when no official zoning is loaded)."""
        if self._zones is None:
            # Computed zones need the KD-tree (scipy): loaded only when the whole zoning is.
            from coverage.travel.catchments import computed_zones

            self._zones = computed_zones(
                region=self.region, registry=self.registry, model=self.model
            )
        return self._zones

    @zones.setter
    def zones(self, value: AjaZones) -> None:
        self._zones = value

    @classmethod
    def load(
        cls,
        *,
        registry_path: str | os.PathLike[str] | None = None,
        zones_path: str | os.PathLike[str] | None = None,
        model: TravelModel | None = None,
        cache_root: str | os.PathLike[str] | None = None,
        territories_path: str | os.PathLike[str] | None = None,
        region: str | RegionSpec,
    ) -> Finder:
        """Load everything a finder needs (region cache, registry, the official zoning if one
        is given or configured; computed zones are built on first use; the intervention
        territories when a file is given, else the region's embedded ones that go with its
        embedded registry). ``region`` (required): INSEE code, name or "FR", or its spec."""
        served = load_region(cache_root, region=region)
        registry = load_registry(registry_path, region=served)
        chosen = Path(zones_path) if zones_path is not None else default_zones_path(served.code)
        zones = None if chosen is None else read_official(chosen, region=served, registry=registry)
        paths = territories_path or (
            default_territories(served.code) if registry.is_default else ()
        )
        territories = None
        if paths:
            territories = load_territories(paths, region=served, registry=registry)
        return cls(served, registry, zones, model, territories=territories)

    def _prepared(self) -> dict[str, Any]:
        """Per-structure data computed once per finder (arrays, records, statements)."""
        if self._memo.get("registry") is not self.registry:
            loc = self.registry.located()
            fields = [f for f in STRUCTURE_FIELDS if f not in ("distance_km", "duration_min")]
            unlocated = self.registry.not_located()
            self._memo.clear()
            self._memo.update(
                registry=self.registry,
                points=loc[["id", "lon", "lat"]],
                ids=loc["id"].to_numpy(dtype=object),
                areas=travel_areas(loc["dep"]),
                kinds=loc["kind"].to_numpy(dtype=object),
                records=loc[fields].to_dict("records"),
                index={str(i): n for n, i in enumerate(loc["id"])},
                not_located={
                    str(dep): grp.reset_index(drop=True) for dep, grp in unlocated.groupby("dep")
                },
                no_rows=unlocated.iloc[0:0],
                completeness=self.registry.completeness_fr(),
                counts=self.registry.counts(),
                sources=tuple(dict.fromkeys(str(x) for x in self.registry.structures["source"])),
            )
        return self._memo

    def lookup(self, query: str) -> Lookup:
        """Resolve a typed place (see ``coverage.data.places.lookup``)."""
        return lookup(query, self.region)

    def locate(self, lat: float, lon: float) -> Lookup:
        """Resolve a point, e.g. the browser's location."""
        return locate_point(lat, lon, self.region)

    def find(self, place: Place, *, age: int | None = None, k: int = 3) -> FinderResult:
        """The ``k`` nearest located all-patients structures and the AJA device of the place."""
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 50:
            raise ArgumentError(f"`k` must be an integer from 1 to 50; got {k!r}.")
        if age is not None and (
            isinstance(age, bool) or not isinstance(age, int) or not 0 <= age <= 120
        ):
            raise ValidationError(f"L'âge doit être un nombre entier de 0 à 120 ; reçu {age!r}.")
        pre = self._prepared()
        dist, dur, attrs = self._costs(place, pre)
        primary = dur if self.model.has_time else dist
        primary = np.where(np.isnan(primary), np.inf, primary)
        ranked = np.lexsort((pre["ids"], dist, primary))
        # All of France: only the structures of the place's travel area (never an ocean away).
        ranked = ranked[pre["areas"][ranked] == travel_area(place.dep)]

        def record(n: int) -> dict[str, Any]:
            return {**pre["records"][n], "distance_km": dist[n], "duration_min": dur[n]}

        names, serving = self._territory_of(place)
        all_public = [int(n) for n in ranked if pre["kinds"][n] == "tous_publics"]
        own = [n for n in all_public if pre["ids"][n] in serving]
        picked = (own + [n for n in all_public if n not in own])[: max(k, len(own))]
        nearest_all = pd.DataFrame([record(n) for n in picked], columns=list(STRUCTURE_FIELDS))
        aja, reason = self._aja(place, age, pre, record)
        not_located = pre["not_located"].get(place.dep, pre["no_rows"])
        far = _is_far(dist[picked], dur[picked], has_time=self.model.has_time)
        return FinderResult(
            place=place,
            model=self.model.name,
            model_label=self.model.label_fr,
            has_time=self.model.has_time,
            structures=nearest_all,
            aja=aja,
            aja_missing_reason=reason,
            not_located=not_located,
            completeness=pre["completeness"],
            age=age,
            origin_note=origin_note(place, self.region),
            registry_is_default=self.registry.is_default,
            region_code=self.region.code,
            registry_counts=pre["counts"],
            next_step=next_step(sources=pre["sources"], served=self.region.code),
            registry_may_miss_nearer=self.registry.is_default and far,
            not_located_first=far and not not_located.empty,
            close_call=_close_call(dur[picked]) if self.model.has_time else False,
            time_error_median=_error_median(attrs) if self.model.has_time else None,
            territory_names=names,
            territory_structure_ids=tuple(str(pre["ids"][n]) for n in own),
        )

    def _territory_of(self, place: Place) -> tuple[tuple[str, ...], set[str]]:
        """Names of the place's intervention territories and the structures serving them."""
        t = self.territories
        if t is None or not t.loaded or (place.matched == "coordonnées" and not place.insee):
            return (), set()
        ids = t.territories_of(place.insee)
        return tuple(t.names[i] for i in ids), {s for i in ids for s in t.structures_of(i)}

    def _costs(
        self, place: Place, pre: dict[str, Any]
    ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        """Distance (km) and duration (min) from the place to every located structure, in the
        order of ``pre["ids"]`` (empty arrays when no structure is located), and the table's
        attributes (e.g. ``estimate_error``)."""
        if len(pre["ids"]) == 0:
            return np.empty(0), np.empty(0), {}
        origin = pd.DataFrame({"id": ["place"], "lon": [place.lon], "lat": [place.lat]})
        table = self.model.table(origin, pre["points"])
        pos = {d: n for n, d in enumerate(table["destination"])}
        order = np.array([pos[i] for i in pre["ids"]], dtype=np.intp)
        dist = table["distance_km"].to_numpy(dtype=float)[order]
        dur = table["duration_min"].to_numpy(dtype=float)[order]
        return dist, dur, {str(k): v for k, v in table.attrs.items()}

    def _aja(
        self, place: Place, age: int | None, pre: dict[str, Any], record: Any
    ) -> tuple[AjaAnswer | None, str]:
        """The AJA device of the place's zone, or why there is none."""
        if self._zones is None:
            device_id, official, label = self._nearest_device(place.insee), False, COMPUTED_LABEL_FR
        else:
            z = self._zones
            device_id, official, label = z.device_for(place.insee), z.official, z.label_fr
        if device_id is None:
            return None, "Aucun secteur AJA ne couvre cette commune" + (
                " dans le zonage chargé." if official else "."
            )
        if device_id not in pre["index"]:
            return None, "Le dispositif AJA de ce secteur n'a pas de lieu connu."
        applies = None if age is None else (settings.AJA_AGE_MIN <= age <= settings.AJA_AGE_MAX)
        device = record(pre["index"][device_id])
        return AjaAnswer(device, official, label, applies), ""

    def _nearest_device(self, insee: str) -> str | None:
        """The computed zones' device of one commune: its nearest located AJA device of its
        travel area by the model, from the commune's point (``computed_zones``' own rule)."""
        from coverage.travel.catchments import nearest_devices

        row = self.region.commune(insee)
        devices = self.registry.points("aja", area=travel_area(str(row["dep"])))
        if devices.empty:
            return None
        origin = pd.DataFrame(
            {"id": [insee], "lon": [float(row["lon"])], "lat": [float(row["lat"])]}
        )
        best = nearest_devices(origin, devices, self.model)
        return str(best["device_id"].iloc[0]) if len(best) else None


def _error_median(attrs: dict[str, Any]) -> float | None:
    """The stated median error of an estimated time (``estimate_error`` table attribute)."""
    error = attrs.get("estimate_error")
    median = error.get("median") if isinstance(error, dict) else None
    return float(median) if isinstance(median, (int, float)) and math.isfinite(median) else None


def _is_far(dist: np.ndarray, dur: np.ndarray, *, has_time: bool) -> bool:
    """No structure, or the nearest beyond ``FAR_KM`` (``FAR_MIN`` when time is known)."""
    if len(dist) == 0:
        return True
    if has_time and np.isfinite(dur).any():
        return bool(np.nanmin(dur) > FAR_MIN)
    return bool(np.nanmin(np.where(np.isnan(dist), np.inf, dist)) > FAR_KM)


def _close_call(dur: np.ndarray) -> bool:
    """The first two structures' times differ by at most ``CLOSE_CALL_MIN`` minutes."""
    if len(dur) < 2 or not np.isfinite(dur[:2]).all():
        return False
    return bool(abs(dur[1] - dur[0]) <= CLOSE_CALL_MIN)


def origin_note(place: Place, region: Region) -> str:
    """Where distances are measured from, in French."""
    if place.matched == "coordonnées":
        return "depuis le point indiqué"
    row = region.commune(place.insee)
    if place.detail and (place.lon, place.lat) != (float(row["lon"]), float(row["lat"])):
        return f"depuis la mairie {french.de(place.detail)}"
    source = str(row["point_source"])
    if source == "mairie":
        return f"depuis la mairie {french.de(place.name)}"
    return (
        f"depuis un point à l'intérieur de la commune {french.de(place.name)} "
        "(mairie non localisée)"
    )
