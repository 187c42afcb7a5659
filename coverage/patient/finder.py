"""Finder: for a place (and optionally an age), the nearest labelled structures and AJA device.

Distances come from a ``TravelModel`` (geodesic by default, OSRM road times when a dataset is
active), so the finder never measures anything itself. The answer also carries what the
forfait covers, the structures of the patient's département that are labelled but not located,
and the registry's completeness statement, so it answers the patient's next question.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from coverage import settings
from coverage._errors import ValidationError
from coverage.data.places import Lookup, Place, locate_point, lookup
from coverage.data.region import Region, load_region
from coverage.data.registry import Registry, load_registry
from coverage.data.zones import AjaZones
from coverage.patient import forfait
from coverage.travel.base import TravelModel
from coverage.travel.catchments import load_zones
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


#: Beyond this distance (km) to the nearest structure, the text answer warns that the embedded
#: registry is incomplete.
FAR_KM = 60.0


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
    registry_is_default: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (see the README's ``--json`` section)."""
        p = self.place
        return {
            "place": {
                "insee": p.insee,
                "name": p.name,
                "dep": p.dep,
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
                "summary": forfait.summary_fr(),
            },
            "registry": {"completeness": self.completeness},
        }

    def far_warning_fr(self) -> str:
        """Warning when the embedded (incomplete) registry's nearest structure is far, else ""."""
        s = self.structures
        far = float(s["distance_km"].min()) if not s.empty else math.inf
        if not (self.registry_is_default and far > FAR_KM):
            return ""
        return (
            f"le registre intégré ne nomme qu'une partie des "
            f"{settings.ARS_LABELLED_2021_TOUS_PUBLICS} structures tous publics labellisées : "
            "une structure plus proche existe peut-être. Demandez à votre médecin ou à l'ARS."
        )

    def approximate_note_fr(self) -> str:
        """A request to check the commune when the typed name only approximately matched."""
        p = self.place
        if p.matched != "nom approché":
            return ""
        return f"Nom approché : vérifiez qu'il s'agit bien {de(p.name)} ({p.dep})."

    def to_text_fr(self) -> str:
        """The answer as plain French text for a terminal."""
        p = self.place
        out = [f"Lieu : {p.label}, code INSEE {p.insee}" + (f" ({p.detail})" if p.detail else "")]
        if note := self.approximate_note_fr():
            out.append(note)
        out.append(f"Distances {self.model_label}, {self.origin_note}.")
        out.append("")
        if self.structures.empty:
            out.append("Aucune structure tous publics localisée dans le registre.")
        else:
            out.append("Structures porteuses les plus proches (tous publics) :")
            for i, r in enumerate(self.structures.to_dict("records"), start=1):
                out.extend(_structure_lines(r, i))
        if warning := self.far_warning_fr():
            out.append(f"   Attention : {warning}")
        out.append("")
        if self.aja is not None:
            d = self.aja.device
            head = "Pour les 15-25 ans, dispositif AJA de votre secteur"
            if self.aja.applies is False:
                head = "Pour information (réservé aux 15-25 ans), dispositif AJA du secteur"
            out.append(f"{head} :")
            out.extend(_structure_lines(d, None))
            out.append(f"   Secteur : {self.aja.zone_label}.")
        elif self.aja_missing_reason:
            out.append(self.aja_missing_reason)
        if not self.not_located.empty:
            out.append("")
            out.append(
                f"Labellisées dans votre département ({p.dep}) mais sans commune connue "
                "(à contacter pour connaître le lieu) :"
            )
            for r in self.not_located.to_dict("records"):
                out.append(f" - {r['name']} (source : {r['source']})")
        out.append("")
        out.append("Ce que couvre le forfait :")
        out.extend(f" - {line}" for line in forfait.summary_fr())
        out.append("")
        out.append(f"Registre : {self.completeness}")
        return "\n".join(out)


def format_km(km: float) -> str:
    """French distance: "8,4 km" under 10 km, "187 km" above."""
    if km is None or (isinstance(km, float) and math.isnan(km)):
        return "distance inconnue"
    text = f"{km:.1f}" if km < 10 else f"{km:.0f}"
    return text.replace(".", ",") + " km"


def format_min(minutes: float | None) -> str:
    """French duration: "45 min", "1 h 05"."""
    if minutes is None or (isinstance(minutes, float) and math.isnan(minutes)):
        return ""
    m = round(minutes)
    return f"{m} min" if m < 60 else f"{m // 60} h {m % 60:02d}"


def _structure_lines(r: dict[str, Any], rank: int | None) -> list[str]:
    dist = format_km(r["distance_km"])
    if r.get("duration_min") is not None and not _isnan(r.get("duration_min")):
        dist += f", {format_min(r['duration_min'])}"
    lead = f" {rank}. " if rank is not None else "   "
    where = f"{r['commune_name']} ({r['dep']})"
    lines = [f"{lead}{r['name']} — {where} — {dist}"]
    contact = [r[k] for k in ("address", "phone", "email", "website") if r.get(k)]
    lines.append(
        "    Contact : "
        + (
            " ; ".join(contact)
            if contact
            else "non publié par les sources consultées ; renseignez-vous auprès de votre "
            "médecin ou de l'ARS."
        )
    )
    if r.get("services"):
        lines.append(f"    Services : {r['services']}")
    if r.get("commune_inferred"):
        lines.append(
            "    Lieu déduit, non confirmé par une source : " + str(r.get("location_note", ""))
        )
    return lines


def _isnan(v: Any) -> bool:
    return isinstance(v, float) and math.isnan(v)


def _structure_json(r: dict[str, Any]) -> dict[str, Any]:
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


@dataclass
class Finder:
    """Region, registry, AJA zones and a travel model, loaded once; answers queries fast."""

    region: Region
    registry: Registry
    zones: AjaZones
    model: TravelModel = field(default_factory=GeodesicModel)
    _memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def load(
        cls,
        *,
        registry_path: str | os.PathLike[str] | None = None,
        zones_path: str | os.PathLike[str] | None = None,
        model: TravelModel | None = None,
        cache_root: str | os.PathLike[str] | None = None,
    ) -> Finder:
        """Load everything a finder needs (region cache, registry, zones)."""
        region = load_region(cache_root)
        registry = load_registry(registry_path, region=region)
        model = model or GeodesicModel()
        zones = load_zones(zones_path, region=region, registry=registry, model=model)
        return cls(region, registry, zones, model)

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
                kinds=loc["kind"].to_numpy(dtype=object),
                records=loc[fields].to_dict("records"),
                index={str(i): n for n, i in enumerate(loc["id"])},
                not_located={
                    str(dep): grp.reset_index(drop=True) for dep, grp in unlocated.groupby("dep")
                },
                no_rows=unlocated.iloc[0:0],
                completeness=self.registry.completeness_fr(),
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
            raise ValidationError(f"`k` must be an integer from 1 to 50; got {k!r}.")
        if age is not None and (
            isinstance(age, bool) or not isinstance(age, int) or not 0 <= age <= 120
        ):
            raise ValidationError(f"L'âge doit être un nombre entier de 0 à 120 ; reçu {age!r}.")
        pre = self._prepared()
        origin = pd.DataFrame({"id": ["place"], "lon": [place.lon], "lat": [place.lat]})
        table = self.model.table(origin, pre["points"])
        pos = {d: n for n, d in enumerate(table["destination"])}
        order = np.array([pos[i] for i in pre["ids"]])
        dist = table["distance_km"].to_numpy(dtype=float)[order]
        dur = table["duration_min"].to_numpy(dtype=float)[order]
        primary = dur if self.model.has_time else dist
        primary = np.where(np.isnan(primary), np.inf, primary)
        ranked = np.lexsort((pre["ids"], dist, primary))

        def record(n: int) -> dict[str, Any]:
            return {**pre["records"][n], "distance_km": dist[n], "duration_min": dur[n]}

        picked = [n for n in ranked if pre["kinds"][n] == "tous_publics"][:k]
        nearest_all = pd.DataFrame([record(n) for n in picked], columns=list(STRUCTURE_FIELDS))

        aja, reason = None, ""
        device_id = self.zones.device_for(place.insee)
        if device_id is None:
            reason = "Aucun secteur AJA ne couvre cette commune" + (
                " dans le zonage chargé." if self.zones.official else "."
            )
        elif device_id not in pre["index"]:
            reason = f"Le dispositif AJA {device_id!r} du zonage n'est pas localisé."
        else:
            applies = None if age is None else (settings.AJA_AGE_MIN <= age <= settings.AJA_AGE_MAX)
            aja = AjaAnswer(
                record(pre["index"][device_id]), self.zones.official, self.zones.label_fr, applies
            )
        not_located = pre["not_located"].get(place.dep, pre["no_rows"])
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
        )


def de(name: str) -> str:
    """French "de" + a commune name, contracting articles: "du Puy-en-Velay", "d'Aurillac"."""
    if name.startswith("Le "):
        return "du " + name[3:]
    if name.startswith("Les "):
        return "des " + name[4:]
    if name[:1].upper() in "AEIOUYÉÈÊÂÎÔH" and not name.startswith("Ha"):
        return "d'" + name
    return "de " + name


def origin_note(place: Place, region: Region) -> str:
    """Where distances are measured from, in French."""
    if place.matched == "coordonnées":
        return "depuis le point indiqué"
    row = region.commune(place.insee)
    if place.detail and (place.lon, place.lat) != (float(row["lon"]), float(row["lat"])):
        return f"depuis la mairie {de(place.detail)}"
    source = str(row["point_source"])
    if source == "mairie":
        return f"depuis la mairie {de(place.name)}"
    return f"depuis un point à l'intérieur de la commune {de(place.name)} (mairie non localisée)"
