"""Coverage simplification and compact GeoJSON (geo/simplify.py) on the national référentiel."""
import json

import numpy as np
import pytest
import shapely

from geo.simplify import TOLERANCES_M, simplify_coverage, to_geojson_light, vertex_count, zone_of


@pytest.fixture(scope="module")
def yonne(reference_store):
    c = reference_store.read("communes", columns=["code_insee", "nom", "dep", "geometry"])
    return c[c["dep"] == "89"].reset_index(drop=True)


def test_yonne_simplified_keeps_every_commune_valid(yonne):
    simp = simplify_coverage(yonne, TOLERANCES_M["communes"])
    assert len(simp) == len(yonne) == 423  # DATA.md: Yonne has 423 communes
    assert list(simp["code_insee"]) == list(yonne["code_insee"])
    assert simp.crs.to_epsg() == 4326
    geoms = simp.geometry.to_numpy()
    assert shapely.is_valid(geoms).all()
    assert not shapely.is_empty(geoms).any()
    assert vertex_count(simp) < vertex_count(yonne)
    # shared borders stay shared: the simplified communes still form a valid coverage
    # (no gaps or overlaps), checked in Lambert-93
    assert shapely.coverage_is_valid(simp.to_crs(2154).geometry.to_numpy())


def test_area_barely_changes(yonne):
    simp = simplify_coverage(yonne, TOLERANCES_M["communes"])
    a0 = yonne.to_crs(2154).area.sum()
    a1 = simp.to_crs(2154).area.sum()
    assert abs(a1 - a0) / a0 < 0.01


def test_zone_of_overseas(reference_store):
    d = reference_store.read("departements", columns=["dep", "geometry"])
    z = dict(zip(d["dep"], zone_of(d.geometry.to_numpy())))
    assert (z["89"], z["2A"], z["971"], z["972"], z["973"], z["974"], z["976"]) == (
        "metro", "metro", "guadeloupe", "martinique", "guyane", "reunion", "mayotte")


def test_geojson_light_is_compact_and_rounded(yonne):
    sub = yonne.head(3)
    text = to_geojson_light(sub, {"code_insee": "k", "nom": "n"}, precision=3)
    assert ": " not in text and ", " not in text  # no whitespace between tokens
    fc = json.loads(text)
    assert [f["properties"]["k"] for f in fc["features"]] == list(sub["code_insee"])
    coords = np.array([c for f in fc["features"] for ring in f["geometry"]["coordinates"][0] for c in ring])
    assert np.allclose(coords, np.round(coords, 3))
    # rounding to 3 decimals moves a vertex by at most 0.0005° on each axis
    orig = shapely.get_coordinates(sub.geometry.to_numpy())
    assert len(coords) == len(orig)
    assert np.abs(coords - orig).max() <= 0.0005 + 1e-12


def test_geojson_light_skips_missing_geometry(yonne):
    sub = yonne.head(2).copy()
    sub.loc[0, "geometry"] = None
    fc = json.loads(to_geojson_light(sub, ["code_insee"]))
    assert [f["properties"]["code_insee"] for f in fc["features"]] == [sub["code_insee"].iloc[1]]
