"""Static choropleth maps (PNG) for PDF/PPTX exports, with matplotlib's Agg canvas.

Same classes, colours and legend (including the hatched « donnée non disponible » class)
as the interactive maps. Uses ``matplotlib.figure.Figure`` + ``FigureCanvasAgg`` directly
(no pyplot, no global backend switch, safe in a Streamlit server thread).

Mainland France is drawn in Lambert-93 (EPSG:2154); a national layer that also holds
overseas départements gets one small inset per overseas zone, each in its own UTM
projection (see :data:`geo.simplify.ZONES`).
"""
from __future__ import annotations

import io
import textwrap
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.lines import Line2D

from geo.classes import NA_HATCH_COLOR, Classification, type_structure
from planning.formats import fr_int
from geo.simplify import metric_epsg, zone_of

from data.store import DEMO_LABEL  # noqa: E402  (one wording everywhere)
ZONE_NAMES = {"guadeloupe": "Guadeloupe", "martinique": "Martinique", "guyane": "Guyane",
              "reunion": "La Réunion", "mayotte": "Mayotte", "autre": "Autres"}


def _draw(ax, gdf, colors: list[str], na_mask: np.ndarray, epsg: int, edge: float) -> None:
    g = gdf.to_crs(epsg)
    if (~na_mask).any():
        g[~na_mask].plot(ax=ax, color=[c for c, n in zip(colors, na_mask) if not n],
                         edgecolor="white", linewidth=edge)
    if na_mask.any():
        g[na_mask].plot(ax=ax, facecolor="#d9d9d9", edgecolor=NA_HATCH_COLOR, hatch="////",
                        linewidth=edge)
    ax.set_axis_off()
    ax.set_aspect("equal")


def static_choropleth_png(
    gdf,
    value_col: str,
    classification: Classification,
    title: str,
    source_line: str,
    path_or_buffer: str | Path | BinaryIO | None = None,
    points: pd.DataFrame | None = None,
    dpi: int = 150,
    *,
    legend_title: str = "",
    subtitle: str = "",
    fictif: bool = False,
    figsize: tuple[float, float] = (8.0, 8.0),
) -> bytes:
    """Write a PNG choropleth (``figsize × dpi`` pixels) and return its bytes.

    ``points``: structures (latitude, longitude, type, psu) drawn on top, coloured by type
    (Okabe-Ito), black edge for PSU. ``fictif=True`` writes « données fictives de
    démonstration » under the title. ``path_or_buffer=None`` only returns the bytes.
    """
    if value_col not in gdf.columns:
        raise ValueError(f"Carte statique : la colonne « {value_col} » est absente des données.")
    g = gdf[~pd.isna(gdf.geometry.to_numpy())]
    if g.crs is None:
        raise ValueError("Carte statique : la couche n'a pas de système de coordonnées (CRS).")
    g = g.to_crs(4326)
    idx = classification.assign(g[value_col])
    colors = [classification.color_of(int(i)) for i in idx]
    na_mask = idx < 0
    zones = zone_of(g.geometry.to_numpy())
    main_zone = "metro" if "metro" in set(zones) else pd.Series(zones).mode().iloc[0]
    others = [z for z in pd.unique(zones) if z != main_zone]

    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    fig.patch.set_facecolor("white")
    ax = fig.add_axes((0.02, 0.12, 0.70, 0.74))
    m = zones == main_zone
    many = len(g) > 2000
    _draw(ax, g[m], [c for c, k in zip(colors, m) if k], na_mask[m], metric_epsg(main_zone),
          0.05 if many else 0.3)

    # overseas insets along the bottom-left
    for j, z in enumerate(others[:6]):
        iax = fig.add_axes((0.02 + j * 0.12, 0.02, 0.11, 0.09))
        mz = zones == z
        _draw(iax, g[mz], [c for c, k in zip(colors, mz) if k], na_mask[mz], metric_epsg(z), 0.2)
        iax.set_title(ZONE_NAMES.get(z, z), fontsize=6)

    if points is not None and len(points):
        _draw_points(ax, points, metric_epsg(main_zone))
    _title_block(fig, title, subtitle, fictif)
    _legends(fig, classification, legend_title, points)
    fig.text(0.98, 0.015, source_line, fontsize=7, ha="right", va="bottom", color="#333333", wrap=True)

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    data = buf.getvalue()
    if path_or_buffer is not None:
        if isinstance(path_or_buffer, (str, Path)):
            Path(path_or_buffer).write_bytes(data)
        else:
            path_or_buffer.write(data)
    return data


def _draw_points(ax, points: pd.DataFrame, epsg: int) -> None:
    """Structures on top of the map, coloured by type (Okabe-Ito), black edge for PSU."""
    lat = pd.to_numeric(points.get("latitude"), errors="coerce")
    lon = pd.to_numeric(points.get("longitude"), errors="coerce")
    ok = (lat.notna() & lon.notna()).to_numpy()
    if not ok.any():
        return
    import geopandas as gpd

    p = points[ok]
    pts = gpd.GeoSeries(gpd.points_from_xy(lon[ok], lat[ok]), crs=4326).to_crs(epsg)
    types = p["type"].astype(str).tolist() if "type" in p else ["?"] * len(p)
    psu = p["psu"].fillna(False).astype(bool).to_numpy() if "psu" in p else np.zeros(len(p), bool)
    ax.scatter(pts.x, pts.y, s=14, c=[type_structure(t)[1] for t in types],
               edgecolors=np.where(psu, "black", "#777777"), linewidths=np.where(psu, 0.9, 0.4),
               zorder=5)


def _title_block(fig, title: str, subtitle: str, fictif: bool) -> None:
    fig.text(0.02, 0.965, title, fontsize=14, fontweight="bold", va="top")
    y = 0.925
    if subtitle:
        fig.text(0.02, y, subtitle, fontsize=9.5, va="top", color="#333333")
        y -= 0.03
    if fictif:
        fig.text(0.02, y, DEMO_LABEL.capitalize(), fontsize=9.5, va="top", color="#8a1c1c",
                 fontweight="bold")


def _legends(fig, classification: Classification, legend_title: str, points: pd.DataFrame | None) -> None:
    """Legend of the classes (with the « donnée non disponible » class), then of the structure types."""
    handles = []
    for label, color, count, is_na in classification.legend_items():
        lab = textwrap.fill(label + (f" ({fr_int(count)})" if count is not None else ""), 30)
        if is_na:
            handles.append(Patch(facecolor="#d9d9d9", edgecolor=NA_HATCH_COLOR, hatch="////", label=lab))
        else:
            handles.append(Patch(facecolor=color, edgecolor="#555555", linewidth=0.5, label=lab))
    leg = fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.73, 0.86), frameon=False,
                     fontsize=8, title=legend_title or None, title_fontsize=9, alignment="left")
    if legend_title:
        leg.get_title().set_fontweight("bold")
    if points is not None and len(points) and "type" in points:
        th = [Line2D([], [], marker="o", linestyle="", markerfacecolor=type_structure(t)[1],
                     markeredgecolor="black", markersize=6,
                     label=textwrap.fill(type_structure(t)[0], 26))
              for t in dict.fromkeys(points["type"].astype(str))]
        th.append(Line2D([], [], marker="o", linestyle="", markerfacecolor="white",
                         markeredgecolor="black", markeredgewidth=1.2, markersize=6, label="contour noir : PSU"))
        fig.legend(handles=th, loc="upper left", bbox_to_anchor=(0.73, 0.45), frameon=False, fontsize=7.5,
                   title="Structures", title_fontsize=8.5, alignment="left")
