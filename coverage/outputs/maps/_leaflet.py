"""Leaflet building blocks for the offline maps: the page's CSS and the JavaScript elements.

Every value reaches JavaScript through :func:`_js` (JSON with no ``</script>``, ``<!--``,
braces or line separators); every HTML given to an element is already escaped.
"""

from __future__ import annotations

import json
import re
from typing import Any

import folium
from branca.element import Element, Figure
from folium.map import Layer
from folium.template import Template

from coverage.outputs.html import esc

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


#: Leaflet's options of every popup card.
_POPUP_OPTIONS = {"maxWidth": 320}


def _tooltip_options(*, permanent: bool) -> dict[str, Any]:
    """Leaflet's options of a tooltip: always shown (a label), or following the pointer."""
    return {"sticky": not permanent, "permanent": permanent, "direction": "top"}


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
        {{ this._parent.get_name() }}.bindPopup({{ this.popup_js }}, {{ this.popup_options_js }});
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
        self.popup_options_js = _js(_POPUP_OPTIONS)
        self.options_js = _js(_tooltip_options(permanent=permanent))

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


class _PointLayer(Layer):
    """Points as one layer: a circle marker each, with its escaped popup card and tooltip,
    under an invisible 44 px disc that opens the same card (a finger-sized target).

    The points are one JSON array (``[lat, lon, popup HTML, tooltip HTML]`` each, the HTML
    already escaped), turned into Leaflet markers in the browser: 5,000 structures are one
    element, not 20,000 folium objects: a far smaller and faster map than one folium marker a
    point (``benchmarks/bench_upload.py`` prints the cost of an upload's two maps).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.featureGroup();
        var {{ this.get_name() }}_points = {{ this.points_js }};
        (function (group, points, dot, tap, card, tip) {
            points.forEach(function (p) {
                var marker = L.circleMarker([p[0], p[1]], dot).addTo(group);
                if (p[2]) { marker.bindPopup(p[2], card); }
                if (p[3]) { marker.bindTooltip(p[3], tip); }
                var target = L.circleMarker([p[0], p[1]], tap).addTo(group);
                if (p[2]) { target.bindPopup(p[2], card); }
            });
        })({{ this.get_name() }}, {{ this.get_name() }}_points, {{ this.dot_js }},
           {{ this.tap_js }}, {{ this.popup_options_js }}, {{ this.tooltip_js }});
        {% endmacro %}
        """
    )

    def __init__(
        self,
        points: list[tuple[float, float, str, str]],
        *,
        color: str,
        name: str,
        show: bool = True,
    ) -> None:
        super().__init__(name=esc(name), overlay=True, control=True, show=show)
        self._name = "PointLayer"
        self.points_js = _js([list(p) for p in points])
        self.dot_js = _js(
            {
                "radius": 8,
                "color": "#1f2937",
                "weight": 1.5,
                "fill": True,
                "fillColor": color,
                "fillOpacity": 0.9,
            }
        )
        self.tap_js = _js({"radius": 22, "stroke": False, "fill": True, "fillOpacity": 0.0})
        self.popup_options_js = _js(_POPUP_OPTIONS)
        self.tooltip_js = _js(_tooltip_options(permanent=False))

    def render(self, **kwargs: Any) -> str:
        _add_css(self)
        return super().render(**kwargs)


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
