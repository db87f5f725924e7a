"""Overlays drawn above a choropleth (:func:`geo.maps.choropleth_map`, ``MapOptions.layers``): QPV, FRR,
former ZRR, with their line styles.  Everything here is also importable from :mod:`geo.maps`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


LINE_STYLES = {
    "contour": None,
    "tirets": "8 5",
    "pointilles": "2 4",
    "hachures": None,
}


@dataclass(frozen=True)
class Layer:
    """An overlay drawn above the choropleth (outlines; hatched fill for ``"hachures"``).

    ``style``: ``"contour"`` (solid line), ``"tirets"`` (dashed), ``"pointilles"`` (dotted)
    or ``"hachures"`` (hatched fill + solid line). Only the outline reacts to the mouse
    (tooltip with ``name_col``), so the choropleth below stays usable.
    """

    name: str
    gdf: Any  # GeoDataFrame (EPSG:4326 or any CRS)
    style: str = "contour"
    color: str = "#222222"
    weight: float = 1.5
    name_col: str | None = None
    show: bool = True
    precision: int = 4


# Standard overlay styles: line pattern + colour, readable on the YlGnBu fills.
STYLE_QPV = dict(style="hachures", color="#762a83", weight=1.2)
STYLE_FRR_PLUS = dict(style="contour", color="#b35806", weight=2.5)
STYLE_FRR = dict(style="tirets", color="#b35806", weight=2.0)
STYLE_ZRR_TRANSITION = dict(style="pointilles", color="#b35806", weight=2.0)
STYLE_ZRR = dict(style="tirets", color="#4d4d4d", weight=1.8)


def layer_qpv(qpv_polygones, name: str = "Quartiers prioritaires (QPV, géographie 2024)") -> Layer:
    """QPV polygons (store layer ``qpv_polygones``: code_qp, nom_qp, code_insee, geometry)."""
    col = "nom_qp" if "nom_qp" in qpv_polygones.columns else None
    return Layer(name, qpv_polygones, name_col=col, **STYLE_QPV)


def layer_communes_qpv(communes, qpv, name: str = "Communes comptant au moins un QPV") -> Layer:
    """Hatched communes that hold a QPV (``qpv``: store layer with code_insee)."""
    codes = set(qpv["code_insee"].astype(str))
    sub = communes[communes["code_insee"].isin(codes)]
    return Layer(name, sub, name_col="nom", **STYLE_QPV)


def layers_frr(communes, frr, millesime: str = "2025") -> list[Layer]:
    """FRR+, FRR and « ancienne ZRR en transition » outlines (store layer ``frr``)."""
    lab = frr.set_index(frr["code_insee"].astype(str))["classement"]
    cls = communes["code_insee"].map(lab)
    out = []
    for label, style, name in (
        ("FRR+", STYLE_FRR_PLUS, f"FRR+ (classement {millesime})"),
        ("FRR", STYLE_FRR, f"FRR (classement {millesime})"),
        ("Ancienne ZRR en transition", STYLE_ZRR_TRANSITION, f"Anciennes ZRR en transition ({millesime})"),
    ):
        sub = communes[cls == label]
        if len(sub):
            out.append(Layer(name, sub, name_col="nom", **style))
    return out


def layer_zrr(communes, zrr, name: str = "Ancien zonage ZRR (jusqu'au 30 juin 2024)") -> Layer:
    """Legacy ZRR communes (store layer ``zrr``: zrr "C" classée / "P" partiellement)."""
    codes = set(zrr.loc[zrr["zrr"].isin(["C", "P"]), "code_insee"].astype(str))
    return Layer(name, communes[communes["code_insee"].isin(codes)], name_col="nom", show=False, **STYLE_ZRR)
