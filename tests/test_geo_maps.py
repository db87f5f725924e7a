"""Offline folium maps (geo/maps.py, geo/assets.py): escaping, local assets, legend, clusters."""
import json
import math
import re

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from geo.assets import vendored_texts
from geo.classes import classify
from planning.formats import fr_number
from geo.maps import Layer, MapOptions, choropleth_map, map_html, payload_size

EVIL = "<script>alert(1)</script>"


@pytest.fixture()
def gdf():
    # three 0.1° squares near Auxerre; the first is named with a script tag, the last has no value
    return gpd.GeoDataFrame(
        {
            "code": ["89001", "89002", "89003"],
            "nom": [EVIL, "Auxerre", "Sens"],
            "taux": [42.0, 61.5, math.nan],
            "rang": ["2e sur 2", "1er sur 2", ""],
        },
        geometry=[box(3.5, 47.7, 3.6, 47.8), box(3.6, 47.7, 3.7, 47.8), box(3.7, 47.7, 3.8, 47.8)],
        crs=4326,
    )


@pytest.fixture()
def points():
    return pd.DataFrame({
        "latitude": [47.75, 47.76, math.nan],
        "longitude": [3.55, 3.65, 3.0],
        "nom": ["Crèche <img src=x onerror=alert(2)>", "RPE du Tonnerrois", "sans coordonnées"],
        "type": ["EAJE", "RPE", "MAM"],
        "places": [40, 0, 12],
        "psu": [True, False, None],
        "gestion": ["publique", "privee", None],
    })


def _map(gdf, **kw):
    cls = classify(gdf["taux"], method="seuils", seuils=[0, 50, 60])
    args = dict(
        key_col="code", name_col="nom",
        tooltip_fields=[("taux", "Taux de couverture", fr_number), ("rang", "Rang", str)],
        title="Couverture <test>", legend_title="Taux de couverture",
        subtitle="places pour 100 enfants de moins de 3 ans, 2023", source="Source : Cnaf (test)",
    )
    args.update(kw)
    return choropleth_map(gdf, "taux", cls, MapOptions(**args))


def test_names_are_escaped(gdf, points):
    html = map_html(_map(gdf, points=points, layers=[Layer("QPV", gdf.head(1), style="hachures", name_col="nom")]))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert EVIL not in html
    assert "<script>alert" not in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "Couverture &lt;test&gt;" in html  # title (page <title> and map title)
    assert "<test>" not in html


def test_no_jinja_evaluation_of_data(gdf):
    g = gdf.copy()
    g.loc[1, "nom"] = "{{ 7*7 }}"
    html = map_html(_map(g))
    assert "{{ 7*7 }}" in html and "49" not in re.findall(r'"n":"([^"]*)"', html)


@pytest.mark.parametrize("mode", ["static", "inline"])
def test_no_external_url(gdf, points, mode):
    html = map_html(_map(gdf, points=points), asset_mode=mode)
    if mode == "inline":
        # the vendored library texts contain a namespace URI and a comment; nothing else may
        for text in vendored_texts(["leaflet", "markercluster"]):
            assert text in html
            html = html.replace(text, "")
    assert "http://" not in html and "https://" not in html
    assert "cdn" not in html.lower()
    assert "jquery" not in html.lower() and "bootstrap" not in html.lower()


def test_static_mode_links_local_vendor_files(gdf):
    html = map_html(_map(gdf))
    assert '<script src="/app/static/vendor/leaflet/leaflet.js"></script>' in html
    assert '<link rel="stylesheet" href="/app/static/vendor/leaflet/leaflet.css"/>' in html
    assert "markercluster" not in html  # no points → no cluster plugin


def test_inline_mode_holds_leaflet_code(gdf):
    html = map_html(_map(gdf), asset_mode="inline")
    assert "Leaflet 1.9.4" in html
    assert "/app/static" not in html
    assert "url(images/" not in html  # CSS images became data URIs
    assert payload_size(html) > 140_000  # leaflet.js alone is 147 552 bytes


def test_markercluster_with_points(gdf, points):
    html = map_html(_map(gdf, points=points, points_fictifs=True))
    assert "/app/static/vendor/markercluster/leaflet.markercluster.js" in html
    assert "L.markerClusterGroup(" in html
    assert "données fictives de démonstration" in html
    assert "1 structure(s) sans coordonnées" in html  # the third point has no latitude
    rows = json.loads(re.search(r"var D=(\[\[.*?\]\]);", html).group(1))
    assert len(rows) == 2
    # [lat, lon, type index, psu, nom, places, gestion]
    assert rows[0][3] == 1 and rows[1][3] == 0
    assert rows[1][6] == "privée"


def test_legend_and_classes(gdf):
    html = map_html(_map(gdf))
    after = html.split('"atlas-box atlas-legend"')[1]
    legend = json.loads(re.search(r'd.innerHTML=("(?:[^"\\]|\\.)*")', after).group(1))
    for text in ("Taux de couverture", "places pour 100 enfants de moins de 3 ans, 2023",
                 "moins de 50 (1)", "50 à moins de 60 (0)", "60 et plus (1)",
                 "donnée non disponible (1)", "Source : Cnaf (test)", "atlas-sw-na"):
        assert text in legend
    data = json.loads(re.search(r"var D=(\{\"type\":\"FeatureCollection\".*?\});", html).group(1))
    props = [f["properties"] for f in data["features"]]
    # 42 → class 0, 61.5 → class 2 (60 et plus), NaN → -1
    assert [p["c"] for p in props] == [0, 2, -1]
    assert props[1]["v"] == ["61,5", "1er sur 2"]
    assert props[2]["v"][0] == "donnée non disponible"


def test_accessibility_hooks(gdf):
    html = map_html(_map(gdf, highlight_codes=["89002"]))
    assert '"keyboard": true' in html
    assert "setAttribute('aria-label'" in html and "Carte : Couverture" in html
    assert '<html lang="fr">' in html
    assert '"h":1' in html


def test_overlay_layers_and_control(gdf):
    html = map_html(_map(gdf, layers=[Layer("FRR (classement 2025)", gdf.tail(2), style="tirets")]))
    assert "FRR (classement 2025)" in html
    assert "L.control.layers(" in html
    assert '"dashArray":"8 5"' in html


def test_missing_column_french_message(gdf):
    with pytest.raises(ValueError, match="colonne « absente »"):
        _map(gdf, name_col="absente")


def test_payload_size_counts_utf8_bytes():
    assert payload_size("é") == 2
