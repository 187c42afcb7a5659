"""Choropleth layers: polygons coloured by classes of a value, with a French legend."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.utilities import color_brewer

from coverage._errors import ValidationError
from coverage.outputs.html import esc, format_number
from coverage.outputs.maps._checks import _check_map, _check_position, _features, _wgs84_polygons
from coverage.outputs.maps._leaflet import _GeoJsonLayer, _HtmlControl
from coverage.outputs.maps.classes import Classes, Classing, classify

_MISSING_COLOR = "#d9d9d9"


def _palette(k: int) -> list[str]:
    if k >= 3:
        return list(color_brewer("YlOrRd", k))
    return ["#fd8d3c"] if k == 1 else ["#ffeda0", "#f03b20"]


def _default_fmt(values: np.ndarray) -> Callable[[float], str]:
    finite = values[np.isfinite(values)]
    decimals = 0 if np.all(np.equal(np.mod(finite, 1), 0)) else 1
    return lambda v: format_number(v, decimals=decimals)


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
    classing: Classing | None = None,
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
    classing = classing or Classing()
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
