"""Interactive maps: folium building blocks that write self-contained, escaped HTML.

Every map the tool writes (the patient finder's export, the planners' choropleth, the
Streamlit page) is made of these blocks and written by :func:`to_html` / :func:`save_map`:

- Leaflet is inlined from the copy ``make setup`` installed (:mod:`coverage.outputs.maps.vendor`);
  the other libraries folium links by default (jQuery, Bootstrap, awesome-markers, Font
  Awesome) are dropped because no block uses them: points are Leaflet circle markers (a set
  of structures is one JSON layer), popups and tooltips are bound with Leaflet's own
  ``bindPopup``/``bindTooltip``, legends and notes are plain Leaflet controls. The page
  therefore opens with no network; only the OpenStreetMap basemap tiles, the one
  third-party request, stay blank offline.
- Every text that comes from data (names, addresses, labels, layer names) goes through
  :func:`coverage.outputs.html.esc`, every link through
  :func:`coverage.outputs.html.safe_url`, and is passed to JavaScript
  as a JSON string, so hostile values stay text.
- Texts shown to a reader are French.

Polygons are written with coordinates rounded to 5 decimals (about 1 m). The 4,025 commune
polygons of Auvergne-Rhône-Alpes hold about 133,000 vertices, so a whole-region choropleth
stays small enough that no geometry simplification is applied (``benchmarks/bench_maps.py``
prints its size).
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import pandas as pd
from branca.element import Figure
from folium.map import Layer

from coverage._atomic import write_text
from coverage._errors import ArgumentError, ValidationError
from coverage.outputs.html import contact_html, esc, format_number
from coverage.outputs.maps import vendor
from coverage.outputs.maps._checks import (
    _check_color,
    _check_latlon,
    _check_map,
    _check_position,
    _check_structures,
    _features,
    _wgs84_polygons,
)
from coverage.outputs.maps._leaflet import (
    KIND_COLORS,
    KIND_LABELS,
    _Bind,
    _Controls,
    _GeoJsonLayer,
    _HtmlControl,
    _LayerControl,
    _PointLayer,
)
from coverage.outputs.maps.choropleth import Legend, add_choropleth
from coverage.outputs.maps.classes import Classes, Classing, classify, fisher_jenks_bins

#: One structure: a row of a structures table, as a Series or a record.
Row = pd.Series | Mapping[Hashable, Any]

__all__ = [
    "KIND_COLORS",
    "KIND_LABELS",
    "OSM_ATTRIBUTION",
    "Classes",
    "Classing",
    "Legend",
    "add_choropleth",
    "add_layer_control",
    "add_lines",
    "add_note",
    "add_place",
    "add_structures",
    "add_symbol_legend",
    "add_zones",
    "base_map",
    "classify",
    "fisher_jenks_bins",
    "save_map",
    "structure_popup",
    "to_html",
]

OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = (
    '© <a href="https://www.openstreetmap.org/copyright" target="_blank" '
    'rel="noopener noreferrer">contributeurs OpenStreetMap</a>'
)

#: Libraries folium links by default that no block of this module calls: removed from pages.
_UNUSED_URLS: frozenset[str] = frozenset(
    url
    for name, url in (*folium.Map.default_js, *folium.Map.default_css)
    if not name.startswith("leaflet")
)

#: Signs in the rendered script that a page calls a library we do not inline.
_NEEDS_DROPPED = {
    "jQuery (folium.Popup, folium.Html)": re.compile(r"\$\(\s*`"),
    "awesome-markers (folium.Icon)": re.compile(r"L\.AwesomeMarkers"),
}

_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})|[a-z]{3,20}")
_POSITIONS = ("topleft", "topright", "bottomleft", "bottomright")
_MISSING_COLOR = "#d9d9d9"
_COORD_DECIMALS = 5

STRUCTURE_COLUMNS: tuple[str, ...] = ("id", "name", "lat", "lon")
OPTIONAL_STRUCTURE_COLUMNS: tuple[str, ...] = (
    "kind",
    "commune_name",
    "distance_km",
    "phone",
    "email",
    "website",
    "address",
    "services",
)

# --------------------------------------------------------------------------- base map


def base_map(
    *,
    center: tuple[float, float] | None = None,
    zoom: int = 8,
    bounds: Sequence[Sequence[float]] | None = None,
    title: str = "Carte",
) -> folium.Map:
    """An empty map: OpenStreetMap tiles, French zoom buttons, metric scale bar.

    Parameters
    ----------
    center
        ``(lat, lon)`` of the initial view; defaults to the centre of ``bounds`` (one of the
        two is required: no map is centred on a region it does not show).
    zoom
        Initial zoom level (0-19).
    bounds
        ``[[lat_min, lon_min], [lat_max, lon_max]]``: if given, the view fits it instead.
    title
        Title of the HTML page (escaped).
    """
    box = None if bounds is None else _check_bounds(bounds)
    if center is None:
        if box is None:
            raise ArgumentError("base_map needs `center` or `bounds`.")
        (s, w), (n, e) = box
        center = ((s + n) / 2, (w + e) / 2)
    lat, lon = _check_latlon(*center, what="center")
    if not isinstance(zoom, int) or not 0 <= zoom <= 19:
        raise ValidationError(f"zoom doit être un entier de 0 à 19, reçu {zoom!r}.")
    m = folium.Map(
        location=[lat, lon], zoom_start=zoom, tiles=None, zoom_control=False, control_scale=False
    )
    root = m.get_root()
    assert isinstance(root, Figure)
    root.title = esc(title)
    folium.TileLayer(
        tiles=OSM_TILES, attr=OSM_ATTRIBUTION, name="OpenStreetMap", max_zoom=19, control=False
    ).add_to(m)
    _Controls().add_to(m)
    if box is not None:
        m.fit_bounds(box)
    return m


def _check_bounds(bounds: Sequence[Sequence[float]]) -> list[list[float]]:
    """``[[south, west], [north, east]]`` of ``bounds`` given in either corner order."""
    try:
        (s, w), (n, e) = bounds
    except (TypeError, ValueError):
        raise ValidationError(
            f"bounds doit être [[lat_min, lon_min], [lat_max, lon_max]], reçu {bounds!r}."
        ) from None
    s, w = _check_latlon(s, w, what="bounds")
    n, e = _check_latlon(n, e, what="bounds")
    return [[min(s, n), min(w, e)], [max(s, n), max(w, e)]]


def add_place(m: folium.Map, *, lat: float, lon: float, label: str) -> folium.CircleMarker:
    """Mark the place searched (the patient's commune) with a labelled dark point."""
    _check_map(m)
    la, lo = _check_latlon(lat, lon, what="add_place")
    marker = folium.CircleMarker(
        location=[la, lo],
        radius=9,
        color="#111827",
        weight=3,
        fill=True,
        fill_color="#ffffff",
        fill_opacity=1.0,
    )
    marker.add_child(_Bind(tooltip=esc(label), permanent=True))
    marker.add_to(m)
    return marker


def _text(row: Row, column: str) -> str:
    value = row.get(column)
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value).strip()


def structure_popup(row: Row, *, distance_label: str = "Distance") -> str:
    """Escaped HTML card of one structure: name, kind, commune, distance, contact, services.

    Parameters
    ----------
    row
        One row of a structures table (see :func:`add_structures` for the columns).
    distance_label
        Label of the ``distance_km`` line, e.g. "Distance par la route".
    """
    lines = [f"<strong>{esc(_text(row, 'name'))}</strong>"]
    kind = KIND_LABELS.get(_text(row, "kind"), _text(row, "kind"))
    sub = " – ".join(esc(t) for t in (kind, _text(row, "commune_name")) if t)
    if sub:
        lines.append(sub)
    distance = row.get("distance_km")
    if distance is not None and not pd.isna(distance):
        lines.append(f"{esc(distance_label)} : {format_number(distance, decimals=1)} km")
    contact = contact_html(
        address=row.get("address"),
        phone=row.get("phone"),
        email=row.get("email"),
        website=row.get("website"),
    )
    if contact:
        lines.append(contact)
    if services := _text(row, "services"):
        lines.append(f"Services : {esc(services)}")
    return '<div class="pc-popup">' + "<br>".join(lines) + "</div>"


def add_structures(
    m: folium.Map,
    structures: pd.DataFrame,
    *,
    layer_name: str,
    color: str,
    distance_label: str = "Distance",
    show: bool = True,
) -> Layer:
    """Add structures as coloured points with an escaped popup card and a name tooltip.

    Parameters
    ----------
    m
        The map.
    structures
        Columns ``id``, ``name``, ``lat``, ``lon`` (required) and ``kind``, ``commune_name``,
        ``distance_km``, ``phone``, ``email``, ``website``, ``address``, ``services``
        (optional, blank when absent). Links are written only when safe.
    layer_name
        Name of the layer in the layer control (escaped).
    color
        ``#rrggbb`` or a CSS colour name.
    distance_label
        Label of the distance line in the popup.
    show
        Whether the layer is visible on opening.
    """
    _check_map(m)
    _check_structures(structures)
    _check_color(color)
    points = []
    for row in structures.to_dict("records"):
        tip = esc(_text(row, "name"))
        distance = row.get("distance_km")
        if distance is not None and not pd.isna(distance):
            tip += f" – {format_number(distance, decimals=1)} km"
        popup = structure_popup(row, distance_label=distance_label)
        points.append((float(row["lat"]), float(row["lon"]), popup, tip))
    layer = _PointLayer(points, color=color, name=layer_name, show=show)
    layer.add_to(m)
    return layer


def add_symbol_legend(
    m: folium.Map, items: Sequence[tuple[str, str]], *, position: str = "bottomright"
) -> None:
    """A legend of the map's symbols: ``(kind, label)`` pairs, drawn in ``KIND_COLORS``.

    The kind ``"line"`` draws a dashed line (straight lines, not road routes).
    """
    _check_map(m)
    _check_position(position)
    rows = []
    for kind, label in items:
        if kind == "line":
            mark = '<span class="pc-dash"></span>'
        else:
            fill = "#ffffff" if kind == "place" else KIND_COLORS[kind]
            mark = f'<span class="pc-dot" style="background:{esc(fill)}"></span>'
        rows.append(f'<div class="pc-row">{mark}<span>{esc(label)}</span></div>')
    _HtmlControl(
        "".join(rows), position=position, css_class="pc-box pc-legend", fold_title="Légende"
    ).add_to(m)


def add_lines(
    m: folium.Map,
    origin: tuple[float, float],
    structures: pd.DataFrame,
    *,
    layer_name: str = "Lignes vers les structures",
    color: str = "#374151",
) -> folium.FeatureGroup:
    """Draw dashed straight lines from ``origin`` ``(lat, lon)`` to each structure.

    The lines only link the points; they are not road routes. When ``structures`` has a
    ``distance_km`` column, each line's tooltip shows it.
    """
    _check_map(m)
    o_lat, o_lon = _check_latlon(*origin, what="origin")
    _check_structures(structures)
    _check_color(color)
    group = folium.FeatureGroup(name=esc(layer_name))
    for _, row in structures.iterrows():
        line = folium.PolyLine(
            [[o_lat, o_lon], [float(row["lat"]), float(row["lon"])]],
            color=color,
            weight=2,
            opacity=0.8,
            dash_array="6 6",
        )
        distance = row.get("distance_km")
        tip = esc(_text(row, "name"))
        if distance is not None and not pd.isna(distance):
            tip += f" : {format_number(distance, decimals=1)} km"
        line.add_child(_Bind(tooltip=tip))
        line.add_to(group)
    group.add_to(m)
    return group


def add_zones(
    m: folium.Map,
    zones: gpd.GeoDataFrame,
    *,
    label_field: str,
    layer_name: str,
    color: str = "#2563eb",
    show: bool = True,
) -> Layer:
    """Outline polygons (e.g. computed AJA zones) with a light fill and an escaped tooltip."""
    _check_map(m)
    geoms = _wgs84_polygons(zones, name="zones")
    if label_field not in zones.columns:
        raise ValidationError(f"label_field={label_field!r} n'est pas une colonne de zones.")
    _check_color(color)
    style = {"color": color, "weight": 2, "fillColor": color, "fillOpacity": 0.12}
    tips = [esc(v) for v in zones[label_field]]
    layer = _GeoJsonLayer(
        _features(geoms, [0] * len(zones), tips), [style], name=layer_name, show=show
    )
    layer.add_to(m)
    return layer


# --------------------------------------------------------------------------- choropleth


def add_note(m: folium.Map, text: str, *, position: str = "bottomleft") -> None:
    """Show plain ``text`` (escaped; line breaks kept) in a corner box of the map.

    For facts the reader needs beside the map: data date, "zones calculées, pas le zonage
    officiel", the travel model used.
    """
    _check_map(m)
    _check_position(position)
    html = "<br>".join(esc(line) for line in str(text).splitlines())
    _HtmlControl(html, position=position, css_class="pc-box pc-note", fold_title="Notes").add_to(m)


def add_layer_control(m: folium.Map, *, collapsed: bool | None = None) -> folium.LayerControl:
    """Add the layer switcher (overlays only; the basemap is fixed). Call it last.

    ``collapsed=None`` (default) folds it on phones only, so it never covers the place or
    the zoom buttons there; ``True``/``False`` force it.
    """
    _check_map(m)
    control = _LayerControl(collapsed=collapsed)
    control.add_to(m)
    return control


# --------------------------------------------------------------------------- output


def to_html(m: folium.Map) -> str:
    """Render ``m`` as a complete HTML document that needs no network except for tiles.

    Leaflet is inlined from the local copy; folium's other default libraries are removed.

    Raises
    ------
    DataSourceError
        Leaflet is not installed (run ``make setup``).
    ValidationError
        The map uses a library that is not available offline (an external script or
        stylesheet, jQuery through ``folium.Popup``, awesome-markers through ``folium.Icon``).
    """
    _check_map(m)
    html = m.get_root().render()
    html = vendor.inline_assets(html, drop=_UNUSED_URLS)
    # Scripts were inlined (Leaflet) or dropped above; look for calls into dropped libraries
    # in the page's own code, i.e. after the inline Leaflet.
    own = html.split("</head>", 1)[-1]
    for library, pattern in _NEEDS_DROPPED.items():
        if pattern.search(own):
            raise ValidationError(
                f"La carte utilise {library}, qui n'est pas disponible hors ligne ; "
                "utilisez les fonctions de coverage.outputs.maps."
            )
    html = html.replace("<html>", '<html lang="fr">', 1)
    html = re.sub(
        r'<meta name="viewport"[^>]*>',
        '<meta name="viewport" content="width=device-width, initial-scale=1.0" />',
        html,
        count=1,
    )
    return html


def save_map(m: folium.Map, path: str | Path) -> Path:
    """Write ``to_html(m)`` atomically to ``path`` and return the path."""
    return write_text(path, to_html(m))
