"""Static PNG choropleth for exports (geo/static_maps.py)."""
import io
import math

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib import image as mpimg
from shapely.geometry import box

from geo.classes import classify
from geo.static_maps import static_choropleth_png


def _gdf():
    # four 0.2° squares near Auxerre; values fall in classes 0, 1, 2 and the missing class
    return gpd.GeoDataFrame(
        {"nom": ["A", "B", "C", "D"], "taux": [10.0, 55.0, 80.0, math.nan]},
        geometry=[box(3.4 + 0.2 * i, 47.6, 3.6 + 0.2 * i, 47.8) for i in range(4)],
        crs=4326,
    )


def test_png_written_with_expected_size_and_colours(tmp_path):
    gdf = _gdf()
    cls = classify(gdf["taux"], method="seuils", seuils=[0, 50, 60])
    pts = pd.DataFrame({"latitude": [47.7], "longitude": [3.5], "type": ["EAJE"], "psu": [True]})
    out = tmp_path / "carte.png"
    data = static_choropleth_png(gdf, "taux", cls, "Taux de couverture — test", "Source : test",
                                 out, points=pts, dpi=50, legend_title="Places pour 100 enfants",
                                 fictif=True)
    assert out.exists() and out.read_bytes() == data
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 5_000
    img = mpimg.imread(out)
    # figsize 8 × 8 inches at 50 dpi → 400 × 400 pixels
    assert img.shape[:2] == (400, 400)
    rgb = np.round(img[..., :3] * 255).astype(int)

    def count(hex_color):
        target = np.array([int(hex_color[i:i + 2], 16) for i in (1, 3, 5)])
        return int((np.abs(rgb - target).sum(axis=2) <= 3).sum())

    # each class colour is painted (map + legend), and so is the grey of the missing class
    for colour in cls.colors:
        assert count(colour) > 50
    assert count("#d9d9d9") > 20


def test_png_to_buffer_without_points():
    gdf = _gdf()
    cls = classify(gdf["taux"], method="quantiles", k=3)
    buf = io.BytesIO()
    data = static_choropleth_png(gdf, "taux", cls, "Titre", "Source", buf, dpi=40, figsize=(6, 4))
    assert buf.getvalue() == data
    assert mpimg.imread(io.BytesIO(data)).shape[:2] == (160, 240)  # 4 in × 40 dpi, 6 in × 40 dpi
