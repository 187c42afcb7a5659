"""HTML maps: self-contained (Leaflet inline, no CDN), escaped popups, French legend, classes."""

from __future__ import annotations

import json
import re

import folium
import geopandas as gpd
import mapclassify
import numpy as np
import pandas as pd
import pytest
from _html_parse import parse
from bs4 import BeautifulSoup
from shapely.geometry import Polygon, box

from coverage import settings
from coverage._errors import ArgumentError, DataSourceError, ValidationError
from coverage.outputs.html import safe_url
from coverage.outputs.maps import base as maps
from coverage.outputs.maps import vendor

HOSTILE_NAME = "<script>alert(1)</script>"
QUOTE_NAME = 'CH " onmouseover="alert(1)'
TEMPLATE_NAME = "Centre `${alert(1)}` \\"
CLERMONT = (45.78, 3.08)


@pytest.fixture
def structures() -> pd.DataFrame:
    """Three points around Clermont-Ferrand with hostile text and links."""
    return pd.DataFrame(
        {
            "id": ["s1", "s2", "s3"],
            "name": [HOSTILE_NAME, QUOTE_NAME, TEMPLATE_NAME],
            "kind": ["tous publics", "AJA", "tous publics"],
            "commune_name": ["Clermont-Ferrand", "Riom", "Issoire <b>"],
            "lat": [45.777, 45.894, 45.544],
            "lon": [3.087, 3.113, 3.249],
            "distance_km": [1.25, 13.0, np.nan],
            "phone": ["04 73 75 00 00", "<img src=x onerror=alert(1)>", None],
            "email": ["accueil@example.fr", None, 'x@y.fr" onclick="alert(1)'],
            "website": ["javascript:alert(1)", "www.example.fr", "data:text/html,<b>x</b>"],
            "address": ["58 rue Montalembert", None, "<svg onload=alert(1)>"],
            "services": ["APA ; diététique", None, "`${x}`"],
        }
    )


def squares(values: list[float | None], names: list[str]) -> gpd.GeoDataFrame:
    """A row of 0.05° squares east of Clermont-Ferrand, one per value."""
    geoms = [box(3.10 + 0.05 * i, 45.75, 3.15 + 0.05 * i, 45.80) for i in range(len(values))]
    return gpd.GeoDataFrame({"name": names, "value": values}, geometry=geoms, crs=settings.WGS84)


def _calls(html: str, method: str) -> list[str]:
    """Decode the first (JSON string) argument of every ``.method(`` call in the page."""
    decoder = json.JSONDecoder()
    out = []
    for m in re.finditer(rf"\.{method}\(", html):
        if html[m.end()] == '"':  # skip calls on variables, e.g. in L.geoJSON's onEachFeature
            out.append(decoder.raw_decode(html, m.end())[0])
    return out


def _points(html: str) -> list[list]:
    """Every structure point of the page: ``[lat, lon, popup, tooltip]`` (``_PointLayer``)."""
    decoder = json.JSONDecoder()
    out = []
    for m in re.finditer(r"_points = ", html):
        out += decoder.raw_decode(html, m.end())[0]
    return out


def _geojson_tooltips(html: str) -> list[str]:
    decoder = json.JSONDecoder()
    out = []
    for m in re.finditer(r"L\.geoJSON\(", html):
        data, _ = decoder.raw_decode(html, m.end())
        out += [f["properties"]["t"] for f in data["features"]]
    return out


ALLOWED_POPUP_TAGS = {"div", "strong", "br", "a"}
ALLOWED_ATTRS = {"class", "href", "target", "rel"}


@pytest.fixture
def finder_like_html(structures) -> str:
    m = maps.base_map(center=(45.78, 3.08), zoom=9, title="Carte <test>")
    maps.add_place(m, lat=45.777, lon=3.087, label="Clermont <img src=x onerror=alert(1)>")
    maps.add_lines(m, (45.777, 3.087), structures)
    maps.add_structures(m, structures, layer_name="Structures <i>", color="#059669")
    maps.add_zones(m, squares([1], [HOSTILE_NAME]), label_field="name", layer_name="Zone AJA")
    maps.add_note(m, "Zones calculées, pas le zonage officiel\n<b>données</b> 2024")
    maps.add_layer_control(m)
    return maps.to_html(m)


def test_page_needs_no_external_script_or_stylesheet(finder_like_html):
    soup = BeautifulSoup(finder_like_html, "html.parser")
    assert soup.find_all("script", src=True) == []
    assert [link for link in soup.find_all("link") if link.get("href")] == []
    assert vendor.external_resources(finder_like_html) == []
    scripts = [s.string or "" for s in soup.find_all("script")]
    # The whole installed library is inline, verbatim (less its source-map comment).
    leaflet = vendor.asset_text("leaflet_js")
    assert "Leaflet 1.9.4" in leaflet and len(leaflet) > 100_000
    assert sum(leaflet in s for s in scripts) == 1
    css = "".join(s.string or "" for s in soup.find_all("style"))
    assert ".leaflet-container" in css
    assert "url(images/" not in css  # control images inlined as data: URIs
    assert "data:image/png;base64," in css
    # Libraries folium links by default that the blocks do not use are gone.
    for name in ("jquery", "bootstrap", "awesome-markers", "fontawesome"):
        assert name not in finder_like_html.lower()
    assert soup.html["lang"] == "fr"
    assert soup.title.string == "Carte <test>"


def test_hostile_text_never_becomes_markup(finder_like_html):
    # Raw hostile strings never appear in the page: they exist only escaped, inside JSON.
    for raw in (HOSTILE_NAME, 'onmouseover="alert', "<img src=x", "${alert", "<svg onload"):
        assert raw not in finder_like_html
    soup = BeautifulSoup(finder_like_html, "html.parser")
    # Only the page's own scripts: inline Leaflet, folium's switches, the map script.
    assert len(soup.find_all("script")) == 3
    assert not soup.find_all(attrs={"onmouseover": True})
    assert not soup.find_all(attrs={"onerror": True})

    points = _points(finder_like_html)
    popups = [p[2] for p in points]
    assert len(popups) == 3 and len(set(popups)) == 3
    # Each structure's card is bound twice, to its marker and to its 44 px tap target, in
    # the browser (the clicks are in tests/test_maps_browser.py).
    assert finder_like_html.count("target.bindPopup(p[2]") == 1
    for popup in popups:
        parsed = parse(popup)
        assert {t for t, _ in parsed.tags} <= ALLOWED_POPUP_TAGS
        assert {a for _, attrs in parsed.tags for a in attrs} <= ALLOWED_ATTRS
        for t, attrs in parsed.tags:
            if t == "a":
                assert safe_url(attrs["href"]) == attrs["href"]
    texts = ["".join(parse(p).text) for p in popups]
    assert HOSTILE_NAME in texts[0]
    assert QUOTE_NAME in texts[1]
    assert TEMPLATE_NAME in texts[2]
    assert "Site : javascript:alert(1)" in texts[0]  # shown, not linked
    assert "Tél. : <img src=x onerror=alert(1)>" in texts[1]
    assert "<svg onload=alert(1)>" in texts[2]

    tooltips = (
        _calls(finder_like_html, "bindTooltip")
        + [p[3] for p in points]
        + _geojson_tooltips(finder_like_html)
    )
    assert len(tooltips) == 1 + 3 + 3 + 1  # place, lines, structures, zone
    for tip in tooltips:
        assert parse(tip).tags == []
    texts = {"".join(parse(t).text) for t in tooltips}
    assert "Clermont <img src=x onerror=alert(1)>" in texts
    assert f"{HOSTILE_NAME} – 1,2 km" in texts  # structure tooltip with its distance
    assert HOSTILE_NAME in texts  # zone tooltip

    layer_names = re.findall(r'^\s*"([^"\n]+)" : ', finder_like_html, flags=re.MULTILINE)
    assert "Structures \\u0026lt;i\\u0026gt;" in layer_names


def test_safe_links_are_rendered_as_links(structures):
    popup = maps.structure_popup(structures.iloc[0], distance_label="Distance par la route")
    parsed = parse(popup)
    hrefs = [a["href"] for t, a in parsed.tags if t == "a"]
    assert hrefs == ["tel:+33473750000", "mailto:accueil@example.fr"]
    assert "Distance par la route : 1,2 km" in "".join(parsed.text)
    second = parse(maps.structure_popup(structures.iloc[1]))
    assert [a["href"] for t, a in second.tags if t == "a"] == ["https://www.example.fr"]


def test_save_map_writes_the_page_atomically(tmp_path, structures):
    m = maps.base_map(center=CLERMONT)
    maps.add_structures(m, structures, layer_name="S", color="red")
    path = maps.save_map(m, tmp_path / "sub" / "carte.html")
    assert path == tmp_path / "sub" / "carte.html"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert vendor.external_resources(text) == []
    assert [p.name for p in path.parent.iterdir()] == ["carte.html"]  # no temporary left


def test_missing_vendor_files_say_to_run_make_setup(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "vendor_dir", lambda: tmp_path)
    with pytest.raises(DataSourceError, match="make setup"):
        maps.to_html(maps.base_map(center=CLERMONT))
    with pytest.raises(DataSourceError, match=r"leaflet/dist/leaflet\.js"):
        vendor.check_installed()


def test_unknown_external_resources_are_refused():
    m = maps.base_map(center=CLERMONT)
    m.get_root().header.add_child(
        folium.JavascriptLink("https://cdn.example.org/plugin.js"), name="plugin"
    )
    with pytest.raises(ValidationError, match=r"ressources externes.*plugin\.js"):
        maps.to_html(m)


def test_blocks_needing_dropped_libraries_are_refused():
    m = maps.base_map(center=CLERMONT)
    folium.CircleMarker([45.78, 3.08], popup=folium.Popup("x")).add_to(m)
    with pytest.raises(ValidationError, match="jQuery"):
        maps.to_html(m)
    m = maps.base_map(center=CLERMONT)
    folium.Marker([45.78, 3.08], icon=folium.Icon(color="red")).add_to(m)
    with pytest.raises(ValidationError, match="awesome-markers"):
        maps.to_html(m)


def test_inline_assets_inlines_each_library_once():
    page = (
        '<html><head><script src="https://cdn.x/leaflet@1.9.3/dist/leaflet.js"></script>'
        '<link rel="stylesheet" href="https://cdn.x/leaflet.css"/>'
        '<script src="https://other.cdn/leaflet.js"></script>'
        '<script src="https://cdn.x/jquery.js"></script></head><body></body></html>'
    )
    out = vendor.inline_assets(page, drop={"https://cdn.x/jquery.js"})
    soup = BeautifulSoup(out, "html.parser")
    assert len(soup.find_all("script")) == 1
    assert len(soup.find_all("style")) == 1
    assert "sourceMappingURL" not in out
    with pytest.raises(ValidationError, match="jquery"):
        vendor.inline_assets(page)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: maps.base_map(center=(145.0, 3.0)), "center"),
        (lambda: maps.base_map(center=CLERMONT, zoom=25), "zoom"),
        (lambda: maps.base_map(bounds=[1, 2, 3]), "bounds"),
        (
            lambda: maps.add_place(maps.base_map(center=CLERMONT), lat="x", lon=3, label="a"),
            "non numériques",
        ),
        (lambda: maps.add_place(object(), lat=45, lon=3, label="a"), "folium.Map"),
    ],
)
def test_bad_arguments_are_refused(call, match):
    with pytest.raises(ValidationError, match=match):
        call()


def test_bad_structures_are_refused(structures):
    m = maps.base_map(center=CLERMONT)
    with pytest.raises(ValidationError, match=r"colonnes manquantes \['lat'\]"):
        maps.add_structures(m, structures.drop(columns="lat"), layer_name="S", color="red")
    bad = structures.assign(lat=[45.7, np.nan, 45.5])
    with pytest.raises(ValidationError, match="structure 's2'"):
        maps.add_structures(m, bad, layer_name="S", color="red")
    with pytest.raises(ValidationError, match="color"):
        maps.add_structures(m, structures, layer_name="S", color="red;background:url(x)")


def test_bad_zones_are_refused():
    m = maps.base_map(center=CLERMONT)
    zones = squares([1, 2], ["a", "b"])
    with pytest.raises(ValidationError, match="label_field='nom'"):
        maps.add_zones(m, zones, label_field="nom", layer_name="Z")
    with pytest.raises(ValidationError, match="crs=None"):
        maps.add_zones(
            m, zones.set_crs(None, allow_override=True), label_field="name", layer_name="Z"
        )
    with pytest.raises(ValidationError, match="polygones attendus"):
        maps.add_zones(
            m, zones.set_geometry(zones.representative_point()), label_field="name", layer_name="Z"
        )
    empty = zones.copy()
    empty.loc[1, "geometry"] = Polygon()
    with pytest.raises(ValidationError, match="1 géométrie"):
        maps.add_zones(m, empty, label_field="name", layer_name="Z")


# --------------------------------------------------------------------------- classes


@pytest.mark.filterwarnings("ignore:Numba not installed")
@pytest.mark.parametrize("k", [2, 3, 5, 7])
def test_fisher_jenks_matches_mapclassify(k):
    rng = np.random.default_rng(k)
    y = rng.gamma(2.0, 12.0, 140)
    expected = mapclassify.FisherJenks(y, k=k).bins
    np.testing.assert_allclose(maps.fisher_jenks_bins(y, k), expected)


def test_fisher_jenks_on_a_hand_checkable_series():
    # Three obvious groups: the optimal 3-class split is between them.
    y = np.array([1, 2, 3, 10, 11, 12, 50, 51])
    assert maps.fisher_jenks_bins(y, 3).tolist() == [3, 12, 51]
    assert maps.fisher_jenks_bins(np.array([4.0, 4.0, 4.0]), 3).tolist() == [4.0]


def test_quantiles_match_mapclassify():
    y = np.random.default_rng(0).normal(30, 10, 200)
    got = maps.classify(y, k=4, scheme="Quantiles")
    ref = mapclassify.Quantiles(y, k=4)
    np.testing.assert_allclose(got.bins, ref.bins)
    assert got.counts.tolist() == ref.counts.tolist()
    assert got.yb.tolist() == ref.yb.tolist()


def test_classify_handles_missing_values_and_few_distinct_values():
    c = maps.classify([1.0, np.nan, 1.0, 2.0], k=5)
    assert c.bins.tolist() == [1.0, 2.0]
    assert c.yb.tolist() == [0, -1, 0, 1]
    assert c.counts.tolist() == [2, 1]
    assert (c.minimum, c.n_missing) == (1.0, 1)
    with pytest.raises(ValidationError, match="toutes sont manquantes"):
        maps.classify([np.nan, None], k=3)
    with pytest.raises(ValidationError, match="k doit"):
        maps.classify([1, 2, 3], k=12)
    with pytest.raises(ValidationError, match="scheme"):
        maps.classify([1, 2, 3], k=2, scheme="EqualInterval")  # type: ignore[arg-type]


def test_choropleth_legend_tooltips_and_missing_shapes():
    gdf = squares([1, 2, 3, 10, 11, None, 7], ["a", "b", "c", "d", "<e>", "f", "g"])
    gdf.loc[6, "geometry"] = None  # a commune without contour: classified, not drawn
    m = maps.base_map(center=CLERMONT)
    classes = maps.add_choropleth(
        m,
        gdf,
        "value",
        classing=maps.Classing(k=2),
        legend=maps.Legend("Distance (km) <moyenne>", fmt=lambda v: f"{v:.0f} km"),
        label_field="name",
    )
    assert classes.bins.tolist() == [3.0, 11.0]
    assert classes.counts.tolist() == [3, 3]
    html = maps.to_html(m)
    tips = ["".join(parse(t).text) for t in _geojson_tooltips(html)]
    assert tips == [
        "a : 1 km",
        "b : 2 km",
        "c : 3 km",
        "d : 10 km",
        "<e> : 11 km",
        "f : sans donnée",
    ]
    legend_html = json.JSONDecoder().raw_decode(html, html.index("div.innerHTML = ") + 16)[0]
    text = " ".join(parse(legend_html).text)
    assert "Distance (km) <moyenne>" in text
    assert "1 km – 3 km" in text and "3 km – 11 km" in text
    assert "Sans donnée" in text
    assert "1 zone(s) sans contour" in text
    assert "seuils naturels (Jenks)" in text


def test_real_departement_choropleth_of_population(region):
    polygons = region.polygons().join(region.communes[["name", "dep", "population"]])
    puy_de_dome = polygons[polygons["dep"] == "63"]
    m = maps.base_map(center=(45.72, 3.15), zoom=9)
    classes = maps.add_choropleth(
        m,
        puy_de_dome,
        "population",
        classing=maps.Classing(k=5),
        legend=maps.Legend("Population municipale"),
        label_field="name",
    )
    assert classes.counts.sum() == len(puy_de_dome)
    assert classes.bins[-1] == puy_de_dome["population"].max()
    html = maps.to_html(m)
    tips = _geojson_tooltips(html)
    drawn = puy_de_dome.geometry.notna() & ~puy_de_dome.geometry.is_empty
    assert len(tips) == int(drawn.sum())
    # Clermont-Ferrand, the département's largest commune, is alone in the top class.
    is_clermont = (puy_de_dome["name"] == "Clermont-Ferrand").to_numpy()
    assert classes.yb[is_clermont].tolist() == [len(classes.bins) - 1]
    assert classes.counts[-1] == 1
    assert any(t.startswith("Clermont-Ferrand : ") for t in tips)
    assert vendor.external_resources(html) == []


@pytest.mark.slow
def test_whole_region_choropleth_stays_small(region):
    polygons = region.polygons().join(region.communes[["name", "population"]])
    m = maps.base_map(center=CLERMONT)
    maps.add_choropleth(
        m, polygons, "population", legend=maps.Legend("Population"), label_field="name"
    )
    size = len(maps.to_html(m).encode("utf-8"))
    # About 3 MB with coordinates rounded to 1e-5 degree: no simplification is needed.
    assert size < 15_000_000


def test_js_strings_carry_no_template_braces() -> None:
    """Braces inside JSON strings are escaped (branca re-reads scripts as Jinja2 templates);
    the JSON structure itself is untouched and decodes to the same value."""
    import json
    import re

    from coverage.outputs.maps._leaflet import _js

    value = {"name": "{{ 7 * 7 }} {# x #} {% if %}", "k{": ["\\{", '"}', 1]}
    text = _js(value)
    assert json.loads(text) == value
    strings = re.findall(r'"(?:[^"\\]|\\.)*"', text)
    assert strings and not any("{" in s or "}" in s for s in strings)


def test_a_forced_break_becomes_a_class_bound_and_matches_mapclassify():
    y = np.array([1.0, 5.0, 12.0, 28.0, 29.0, 31.0, 33.0, 60.0, 61.0, 90.0])
    plain = maps.classify(y, k=3)
    assert 30.0 not in plain.bins  # natural breaks alone straddle the threshold here
    got = maps.classify(y, k=3, breaks=(30.0, 500.0))  # 500 is outside the range: ignored
    assert 30.0 in got.bins and 500.0 not in got.bins
    ref = mapclassify.UserDefined(y, bins=got.bins.tolist())
    assert got.yb.tolist() == ref.yb.tolist() and got.counts.tolist() == ref.counts.tolist()
    # Nobody at or under 30 km shares a class with someone beyond it.
    under = got.yb[y <= 30.0]
    over = got.yb[y > 30.0]
    assert under.max() < over.min()


def test_many_structures_are_one_layer_of_points(structures):
    """A registry's worth of points is one JSON layer, each with its own card and name, not
    one folium object a point (5,000 of them took 12 s to render)."""
    many = pd.concat([structures] * 400, ignore_index=True)  # 1,200 points
    many["name"] = [f"Structure {i} <b>" for i in range(len(many))]
    m = maps.base_map(center=CLERMONT)
    maps.add_structures(m, many, layer_name="S", color="#059669")
    html = maps.to_html(m)
    points = _points(html)
    assert html.count("_points = ") == 1 and len(points) == len(many)
    assert [round(p[0], 6) for p in points] == [round(x, 6) for x in many["lat"]]
    assert [round(p[1], 6) for p in points] == [round(x, 6) for x in many["lon"]]
    for i in (0, 599, len(many) - 1):
        assert f"Structure {i} &lt;b&gt;" in points[i][2] and points[i][3].startswith(
            f"Structure {i} &lt;b&gt;"
        )
    assert "Structure 0 <b>" not in html  # the hostile tag exists only escaped


def test_a_map_is_centred_on_what_it_shows_never_on_a_default_region():
    with pytest.raises(ArgumentError, match="center"):
        maps.base_map()
    m = maps.base_map(bounds=[[48.1, 1.4], [49.3, 3.6]])  # Île-de-France
    assert m.location == pytest.approx([48.7, 2.5])


def test_the_sites_map_of_another_region_shows_that_region():
    from coverage.analysis.planning import PlanningRequest, Siting, plan
    from coverage.data.region import load_region
    from coverage.data.registry_files import load_registry
    from coverage.outputs.maps.coverage import sites_map

    region = load_region(region="94")  # Corse
    registry = load_registry(None, region=region)
    a = plan(region, registry, PlanningRequest(siting=Siting(k=1))).analysis
    assert a.siting is not None
    lat, lon = sites_map(a.siting, a).location
    assert 41.3 < lat < 43.1 and 8.5 < lon < 9.6
