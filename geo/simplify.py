"""Coverage-preserving simplification and compact GeoJSON for fast web maps.

Communes, EPCI and départements form a *coverage* (polygons sharing their borders).
Simplifying each polygon on its own opens gaps and overlaps along shared borders;
``shapely.coverage_simplify`` (GEOS ≥ 3.12, shapely ≥ 2.1) simplifies the shared edges
once, so neighbours stay glued.

Tolerances are in metres: each zone is projected to a metric CRS first — Lambert-93
(EPSG:2154) for mainland France and Corsica, the official UTM projection of each overseas
département (they are thousands of km away from the Lambert-93 area) — then reprojected
back to EPSG:4326. Features outside every known zone are simplified in EPSG:3857.
"""
from __future__ import annotations

import json
import math
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
import shapely

try:  # geopandas is only needed for the frame-level helpers
    import geopandas as gpd
except ImportError:  # pragma: no cover
    gpd = None  # type: ignore[assignment]

# (name, metric EPSG, lon_min, lat_min, lon_max, lat_max)
ZONES: tuple[tuple[str, int, float, float, float, float], ...] = (
    ("metro", 2154, -5.8, 41.2, 10.0, 51.3),
    ("guadeloupe", 5490, -62.0, 15.7, -60.9, 16.6),   # RGAF09 / UTM 20N
    ("martinique", 5490, -61.3, 14.3, -60.7, 14.95),  # RGAF09 / UTM 20N
    ("guyane", 2972, -54.7, 2.0, -51.5, 6.0),         # RGFG95 / UTM 22N
    ("reunion", 2975, 55.1, -21.5, 55.9, -20.8),      # RGR92 / UTM 40S
    ("mayotte", 4471, 44.9, -13.1, 45.4, -12.5),      # RGM04 / UTM 38S
)
FALLBACK_EPSG = 3857

# Suggested tolerances (metres) per layer for interactive maps.
TOLERANCES_M = {"departements": 1500.0, "epci": 1000.0, "communes": 250.0}  # national views; communes inside one département

METRO_BOUNDS = ((41.3, -5.2), (51.1, 9.6))  # ((south, west), (north, east)) for Leaflet


def zone_of(geoms: Sequence) -> np.ndarray:
    """Zone name of each geometry (from its representative point), ``"autre"`` if none."""
    arr = np.asarray(geoms, dtype=object)
    out = np.full(len(arr), "autre", dtype=object)
    ok = ~shapely.is_missing(arr) & ~shapely.is_empty(np.where(shapely.is_missing(arr), None, arr))
    if not ok.any():
        return out
    pts = shapely.point_on_surface(arr[ok])
    x, y = shapely.get_x(pts), shapely.get_y(pts)
    res = out[ok]
    for name, _epsg, x0, y0, x1, y1 in ZONES:
        inside = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1) & (res == "autre")
        res[inside] = name
    out[ok] = res
    return out


def metric_epsg(zone: str) -> int:
    for name, epsg, *_ in ZONES:
        if name == zone:
            return epsg
    return FALLBACK_EPSG


def simplify_coverage(gdf: "gpd.GeoDataFrame", tolerance_m: float) -> "gpd.GeoDataFrame":
    """Topology-preserving simplification of a polygon coverage; returns EPSG:4326.

    Rows, order and attributes are kept; missing geometries stay missing. A zone whose
    coverage cannot be simplified as a whole (invalid coverage) falls back to a
    per-polygon ``simplify(preserve_topology=True)``.
    """
    if gdf.crs is None:
        raise ValueError("La couche n'a pas de système de coordonnées (CRS) : impossible de la simplifier.")
    src = gdf.to_crs(4326) if gdf.crs.to_epsg() != 4326 else gdf
    geoms = src.geometry.to_numpy().copy()
    if tolerance_m <= 0:
        return src.copy()
    zones = zone_of(geoms)
    result = np.array(geoms, dtype=object)
    for zone in pd.unique(zones):
        mask = (zones == zone)
        mask &= ~shapely.is_missing(geoms)
        if not mask.any():
            continue
        sub = gpd.GeoSeries(geoms[mask], crs=4326).to_crs(metric_epsg(zone))
        arr = sub.to_numpy()
        try:
            simp = shapely.coverage_simplify(arr, tolerance_m)
        except Exception:  # GEOS error on an invalid coverage
            simp = shapely.simplify(arr, tolerance_m, preserve_topology=True)
        # a polygon must never vanish: keep the original where the result is empty/invalid
        bad = shapely.is_empty(simp) | ~shapely.is_valid(simp)
        if bad.any():
            simp = np.where(bad, shapely.make_valid(simp), simp)
            still = shapely.is_empty(simp) | ~shapely.is_valid(simp)
            simp = np.where(still, arr, simp)
        back = gpd.GeoSeries(simp, crs=sub.crs).to_crs(4326).to_numpy()
        bad = shapely.is_empty(back) | ~shapely.is_valid(back)
        if bad.any():  # rare: a degenerate ring; keep the original polygon
            back = np.where(bad, geoms[mask], back)
        result[mask] = back
    out = src.copy()
    out[out.geometry.name] = gpd.GeoSeries(result, index=src.index, crs=4326)
    return out


def vertex_count(gdf: "gpd.GeoDataFrame") -> int:
    """Total number of coordinates of the geometries."""
    return int(shapely.get_num_coordinates(gdf.geometry.to_numpy()).sum())


def _round_geoms(geoms: np.ndarray, precision: int) -> np.ndarray:
    factor = 10.0 ** precision
    return shapely.transform(geoms, lambda c: np.round(c * factor) / factor)


def _json_value(v):
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(v) else float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_json_value(x) for x in v]
    return v


def to_geojson_light(
    gdf: "gpd.GeoDataFrame",
    properties: Iterable[str] | dict[str, str] = (),
    precision: int = 5,
    extra_properties: dict[str, Sequence] | None = None,
) -> str:
    """Compact GeoJSON FeatureCollection (EPSG:4326, coordinates rounded to ``precision``).

    ``properties`` are the columns to keep, or a ``{column: json key}`` mapping to
    rename them with short keys. ``extra_properties`` adds ready-made per-row values
    (same length as ``gdf``). Rows without geometry are skipped. No whitespace.
    """
    src = gdf.to_crs(4326) if (gdf.crs is not None and gdf.crs.to_epsg() != 4326) else gdf
    mapping = dict(properties) if isinstance(properties, dict) else {c: c for c in properties}
    geoms = src.geometry.to_numpy()
    present = ~shapely.is_missing(geoms)
    if present.any():
        present &= ~shapely.is_empty(np.where(present, geoms, None))
    rounded = _round_geoms(geoms[present], precision)
    gjson = shapely.to_geojson(rounded)
    cols = {key: src[col].tolist() for col, key in mapping.items()}
    if extra_properties:
        cols.update({k: list(v) for k, v in extra_properties.items()})
    rows = np.flatnonzero(present)
    parts = []
    dumps = json.dumps
    for g, i in zip(gjson, rows):
        props = {k: _json_value(vals[i]) for k, vals in cols.items()}
        parts.append('{"type":"Feature","properties":' + dumps(props, ensure_ascii=False, separators=(",", ":"))
                     + ',"geometry":' + g + "}")
    return '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"
