"""Structure registry: the ``Registry`` type, and the registries embedded for each region.

A registry is the validated list of labelled "structures porteuses", one row per structure
(columns and rules: :mod:`coverage.data.registry_schema`). ``data/structures.csv`` holds the
structures that public sources name for Auvergne-Rhône-Alpes, each with its source, and
``data/regions/<code>/structures.csv`` those of another region. A planner loads the ARS's own
file with ``--registry PATH`` or ``$PARCOURS_REGISTRY`` (read by
:mod:`coverage.data.registry_files`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from coverage import settings
from coverage.data.region import Region
from coverage.data.registry_schema import COLUMNS, DERIVED_COLUMNS, check_kind
from coverage.geography import region_spec, travel_areas


@dataclass(frozen=True)
class Registry:
    """A validated registry.

    ``structures`` has the schema's columns plus ``commune_insee`` (the commune of the region),
    ``commune_name``, ``located`` (bool) and ``placement`` (``"coordonnees"`` when the file
    gives lat/lon, ``"commune"`` / ``"arrondissement"`` / ``"commune_deleguee"`` when placed at
    a town-hall point, ``""`` when not located). ``lat``/``lon`` are NaN when not located.
    """

    structures: pd.DataFrame
    path: str
    is_default: bool
    #: INSEE code of the region the registry was read for ("84", "FR").
    region: str = settings.DEFAULT_REGION

    def located(self, kind: str | None = None) -> pd.DataFrame:
        """Located structures, optionally of one ``kind``."""
        df = self.structures[self.structures["located"]]
        if kind is not None:
            check_kind(kind)
            df = df[df["kind"] == kind]
        return df.reset_index(drop=True)

    def not_located(self) -> pd.DataFrame:
        """Structures listed without a known commune (left out of distances)."""
        return self.structures[~self.structures["located"]].reset_index(drop=True)

    def points(self, kind: str | None = None, *, area: str | None = None) -> pd.DataFrame:
        """Located structures as a travel-model point set (``id``, ``lon``, ``lat``),
        optionally of one travel area only (``coverage.geography.travel_area``)."""
        df = self.located(kind)
        if area is not None:
            df = df[travel_areas(df["dep"]) == area]
        return df[["id", "lon", "lat"]]

    def counts(self) -> dict[str, int]:
        """Counts by kind and location status."""
        s = self.structures
        return {
            "total": len(s),
            "located": int(s["located"].sum()),
            "not_located": int((~s["located"]).sum()),
            "tous_publics": int((s["kind"] == "tous_publics").sum()),
            "aja": int((s["kind"] == "aja").sum()),
            "tous_publics_located": int(((s["kind"] == "tous_publics") & s["located"]).sum()),
            "aja_located": int(((s["kind"] == "aja") & s["located"]).sum()),
        }

    def completeness_fr(self) -> str:
        """A plain French statement of how complete the registry is, and how to load another."""
        c = self.counts()
        head = (
            f"{c['located']} structure(s) localisée(s) sur {c['total']} dans le registre "
            f"({c['tous_publics']} tous publics, {c['aja']} dispositifs AJA)"
        )
        if c["not_located"]:
            head += f" ; {c['not_located']} sans commune connue, non placée(s) sur la carte"
        ars = (
            f"L'ARS en a labellisé {settings.ARS_LABELLED_2021_TOTAL} en 2021 "
            f"({settings.ARS_LABELLED_2021_TOUS_PUBLICS} tous publics, "
            f"{settings.ARS_LABELLED_2021_AJA} AJA), d'autres depuis."
            if self.region == settings.DEFAULT_REGION
            else "Le nombre de structures labellisées par l'ARS de la région n'est pas connu "
            "de cet outil."
        )
        if c["total"] == 0:
            return (
                f"Aucune structure n'est enregistrée dans cet outil pour la région "
                f"{region_spec(self.region).name} : aucune source publique consultée ne les "
                "nomme. Chargez la liste de l'ARS avec --registry FICHIER ou la variable "
                f"{settings.REGISTRY_ENV}."
            )
        if self.is_default:
            how = (
                "Ce registre ne contient que les structures nommées par des sources publiques : "
                "il est incomplet. Pour utiliser la liste officielle, chargez le fichier de l'ARS "
                f"avec --registry FICHIER ou la variable {settings.REGISTRY_ENV}."
            )
        else:
            how = f"Registre chargé depuis {self.path!r}."
        return f"{head}. {ars} {how}"


def default_registry_path(region: str) -> Path | None:
    """The registry file in force: ``$PARCOURS_REGISTRY`` if set, else the embedded one of
    ``region`` (INSEE code, name or "FR"): ``data/structures.csv`` for 84, else
    ``data/regions/<code>/structures.csv``; None when no file exists for the region (or for
    "FR", whose registry is every region's, :func:`embedded_registries`)."""
    env = os.environ.get(settings.REGISTRY_ENV)
    if env:
        return Path(env)
    code = region_spec(region).code
    if code == settings.DEFAULT_REGION:
        return settings.DEFAULT_REGISTRY
    path = settings.regions_dir() / code / "structures.csv"
    return path if path.is_file() else None


def embedded_registries() -> dict[str, Path]:
    """Region code -> its embedded registry file, for every region that has one."""
    out = {settings.DEFAULT_REGION: settings.DEFAULT_REGISTRY}
    for path in sorted(settings.regions_dir().glob("*/structures.csv")):
        out[path.parent.name] = path
    return dict(sorted(out.items()))


def empty_registry(region: Region) -> Registry:
    """A registry with no structure, for a region no public source names any for."""
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in (*COLUMNS, *DERIVED_COLUMNS)})
    frame = frame.astype({"located": bool, "lat": float, "lon": float, "capacity": float})
    return Registry(frame, "", True, region.code)
