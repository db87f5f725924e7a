"""QPV list and contours: several communes per QPV, overseas collectivities, hostile geometries.

``qpv_contours_anct.geojson`` has the ANCT attributes of the real 2024 file (fid, code_qp, lib_qp,
insee_reg … insee_com, lib_com, siren_epci), ``urn:ogc:def:crs:OGC:1.3:CRS84`` and MultiPolygons;
hostile variants are derived from it in each test.  Every refusal names the feature (« ligne » =
feature number) and the attribute, and leaves the store untouched; no warning leaks.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from data.importers import ImportValidationError, import_file

FIX = Path(__file__).parent / "fixtures" / "imports"
BASE = json.loads((FIX / "qpv_contours_anct.geojson").read_text(encoding="utf-8"))


def _import(store, path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # a shapely / pyogrio warning would fail the test
        return import_file("qpv_polygones", path, store)


def _variant(tmp_path, change, crs=True, raw_nan=False) -> Path:
    fc = json.loads(json.dumps(BASE))
    change(fc["features"])
    if not crs:
        fc.pop("crs")
    text = json.dumps(fc, ensure_ascii=False)
    if raw_nan:
        text = text.replace('"__NAN__"', "NaN")
    path = tmp_path / "contours.geojson"
    path.write_text(text, encoding="utf-8")
    return path


def _refused(store, path):
    before = store.manifest()
    with pytest.raises(ImportValidationError) as exc:
        _import(store, path)
    assert store.manifest() == before and not store.has("qpv_polygones")
    return exc.value.errors[0]


def test_anct_contours_several_communes_overseas_and_bow_tie(estimate_store):
    report = _import(estimate_store, FIX / "qpv_contours_anct.geojson")
    g = estimate_store.read("qpv_polygones").set_index("code_qp")
    assert list(g.index) == ["QN08901I", "QN08902M", "QN09301M", "QN09302M"]     # QN97801M dropped
    assert g.loc["QN09301M", "codes_insee"] == "93001,93066" and g.loc["QN09301M", "code_insee"] == "93001"
    assert g.loc["QN09302M", "codes_insee"] == "93066,93001"                     # « A;B » form
    assert g.loc["QN09301M", "dep"] == "93" and g.loc["QN08901I", "nom_qp"] == "Rive Droite"
    assert g.geometry.is_valid.all()
    # the bow-tie is repaired into its two triangles (same outline), listed in one warning
    assert g.loc["QN08902M", "geometry"].geom_type == "MultiPolygon" and len(g.loc["QN08902M", "geometry"].geoms) == 2
    assert any("nœud papillon" in str(w) and "n° 2" in str(w) for w in report.warnings)
    assert sum("outre-mer" in str(w) and "97801" in str(w) for w in report.warnings) == 1


def test_qpv_list_several_communes_and_overseas(estimate_store, tmp_path):
    path = tmp_path / "qpv_liste.csv"
    path.write_text("code_qp;lib_qp;insee_com;lib_com\n"
                    'QN09301M;Quartier sur deux communes;"93001, 93066";"Aubervilliers, Saint-Denis"\n'
                    "QN97801M;Quartier d'Orléans;97801;Saint-Martin\n"
                    "QN98701M;Quartier de Papeete;98735;Papeete\n", encoding="utf-8")
    report = import_file("qpv", path, estimate_store)
    q = estimate_store.read("qpv")
    assert sorted(q["code_insee"]) == ["93001", "93066"] and set(q["code_qp"]) == {"QN09301M"}
    w = [str(x) for x in report.warnings if "outre-mer" in str(x)]
    assert len(w) == 1 and "2 QPV" in w[0] and "97801" in w[0] and "98735" in w[0]


def test_point_instead_of_polygon_is_refused(estimate_store, tmp_path):
    def change(f):
        f[2]["geometry"] = {"type": "Point", "coordinates": [2.37, 48.91]}
    err = _refused(estimate_store, _variant(tmp_path, change))
    assert (err.ligne, err.colonne) == (3, "geometry") and "Point" in err.message


def test_line_instead_of_polygon_is_refused(estimate_store, tmp_path):
    def change(f):
        f[0]["geometry"] = {"type": "LineString", "coordinates": [[3.57, 47.79], [3.58, 47.80]]}
    err = _refused(estimate_store, _variant(tmp_path, change))
    assert err.ligne == 1 and "LineString" in err.message


def test_nan_coordinates_are_refused(estimate_store, tmp_path):
    def change(f):
        f[1]["geometry"]["coordinates"][0][0][2] = ["__NAN__", 47.79]
    err = _refused(estimate_store, _variant(tmp_path, change, raw_nan=True))
    assert (err.ligne, err.colonne) == (2, "geometry") and "NaN" in err.message


def test_lambert93_declared_as_wgs84_is_refused(estimate_store, tmp_path):
    def change(f):   # Auxerre in Lambert-93 metres, file still declaring CRS84
        f[0]["geometry"]["coordinates"] = [[[[742000, 6744000], [743000, 6744000], [743000, 6745000],
                                              [742000, 6744000]]]]
    err = _refused(estimate_store, _variant(tmp_path, change))
    assert (err.ligne, err.colonne) == (1, "crs") and "Lambert-93" in err.message


def test_lambert93_undeclared_is_refused(estimate_store, tmp_path):
    def change(f):
        for feat in f:
            feat["geometry"]["coordinates"] = [[[[742000, 6744000], [743000, 6744000], [743000, 6745000],
                                                 [742000, 6744000]]]]
    err = _refused(estimate_store, _variant(tmp_path, change, crs=False))
    assert err.ligne == 1 and "aucun système de coordonnées déclaré" in err.message and "EPSG:2154" in err.message


def test_swapped_latitude_longitude_is_refused(estimate_store, tmp_path):
    def change(f):
        ring = f[0]["geometry"]["coordinates"][0][0]
        f[0]["geometry"]["coordinates"][0][0] = [[y, x] for x, y in ring]
    err = _refused(estimate_store, _variant(tmp_path, change))
    assert err.ligne == 1 and "inversées" in err.message


def test_coordinates_beyond_wgs84_bounds_are_refused(estimate_store, tmp_path):
    def change(f):
        f[3]["geometry"]["coordinates"][0][0][1] = [2.37, 148.9]
    err = _refused(estimate_store, _variant(tmp_path, change))
    assert err.ligne == 4 and "bornes du WGS 84" in err.message


def test_bad_code_qp_names_feature_and_attribute(estimate_store, tmp_path):
    def change(f):
        f[1]["properties"]["code_qp"] = "<svg/onload=alert(1)>"
    err = _refused(estimate_store, _variant(tmp_path, change))
    assert (err.ligne, err.colonne) == (2, "code_qp")
