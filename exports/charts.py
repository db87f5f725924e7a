"""Charts as PNG with matplotlib's Agg canvas (no pyplot, safe in a server thread).

Colours: Okabe-Ito (colour-blind safe, same as the structure types on the maps);
French number formatting on the axes; the demo mention under the title when the data
are fictitious. Every chart has a table alternative built by the caller.
"""
from __future__ import annotations

import io
from typing import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from geo.classes import OKABE_ITO, fr_number

from .document import DEMO_MENTION

GRIS = "#555555"


def _fig(figsize, title: str, subtitle: str, fictif: bool, dpi: int):
    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    fig.patch.set_facecolor("white")
    # title, then subtitle, then the demo mention on their own lines (never overlapping)
    y = 0.975
    fig.text(0.02, y, title, fontsize=13, fontweight="bold", va="top")
    y -= 0.06
    if subtitle:
        fig.text(0.02, y, subtitle, fontsize=9, va="top", color="#333333")
        y -= 0.045
    if fictif:
        fig.text(0.02, y, DEMO_MENTION, fontsize=9, va="top", color="#8a1c1c", fontweight="bold")
        y -= 0.045
    ax = fig.add_axes((0.09, 0.16, 0.88, y - 0.2))
    return fig, ax


def _png(fig, dpi: int) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    return buf.getvalue()


def _style(ax, ylabel: str, decimals: int):
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: fr_number(v, decimals)))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=6))
    ax.set_ylabel(ylabel, fontsize=9)
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    for s in ("top", "right"):
        ax.spines[s].set_visible(False)
    ax.tick_params(labelsize=9)


def bar_chart(categories: Sequence, series: dict[str, Sequence[float]], *, title: str, ylabel: str = "",
              subtitle: str = "", source: str = "", stacked: bool = False,
              line: tuple[str, Sequence[float]] | None = None, fictif: bool = False,
              decimals: int = 0, colors: Sequence[str] | None = None, value_labels: bool = True,
              figsize=(10.0, 5.2), dpi: int = 150) -> bytes:
    """Grouped (or stacked) bars per category, optional reference line (e.g. a target path)."""
    fig, ax = _fig(figsize, title, subtitle, fictif, dpi)
    cats = [str(c) for c in categories]
    x = np.arange(len(cats))
    names = list(series)
    colors = list(colors or OKABE_ITO)
    n = max(1, len(names))
    width = 0.8 if stacked else 0.8 / n
    bottom_pos = np.zeros(len(cats))
    bottom_neg = np.zeros(len(cats))
    for i, name in enumerate(names):
        vals = np.array([np.nan if v is None else float(v) for v in series[name]], dtype=float)
        vals0 = np.nan_to_num(vals)
        if stacked:
            base = np.where(vals0 >= 0, bottom_pos, bottom_neg)
            bars = ax.bar(x, vals0, width, bottom=base, label=name, color=colors[i % len(colors)],
                          edgecolor="white", linewidth=0.5)
            bottom_pos += np.where(vals0 >= 0, vals0, 0)
            bottom_neg += np.where(vals0 < 0, vals0, 0)
        else:
            pos = x - 0.4 + width * (i + 0.5)
            bars = ax.bar(pos, vals0, width * 0.95, label=name, color=colors[i % len(colors)])
            if value_labels and len(cats) * n <= 40:
                for b, v in zip(bars, vals):
                    if np.isnan(v):
                        continue
                    ax.annotate(fr_number(v, decimals), (b.get_x() + b.get_width() / 2, v),
                                xytext=(0, 2 if v >= 0 else -10), textcoords="offset points",
                                ha="center", fontsize=7.5, color="#222222", fontfamily="DejaVu Sans")
    if line is not None:
        lname, lvals = line
        ax.plot(x, [np.nan if v is None else float(v) for v in lvals], color="#000000", linewidth=1.8,
                marker="D", markersize=5, label=lname, zorder=6)
    if stacked and value_labels:
        for xi, tot in zip(x, bottom_pos + bottom_neg):
            ax.annotate(fr_number(tot, decimals), (xi, max(tot, 0)), xytext=(0, 3), textcoords="offset points",
                        ha="center", fontsize=8, fontweight="bold", fontfamily="DejaVu Sans")
    ax.axhline(0, color=GRIS, linewidth=0.8)
    ax.set_xticks(x, cats)
    _style(ax, ylabel, decimals)
    ax.margins(y=0.12)
    ax.legend(fontsize=8.5, frameon=False, loc="upper left", bbox_to_anchor=(0.0, -0.08), ncol=min(4, n + 1))
    if source:
        fig.text(0.98, 0.01, source, fontsize=7, ha="right", va="bottom", color="#333333")
    return _png(fig, dpi)


def hbar_chart(labels: Sequence[str], values: Sequence[float], *, title: str, xlabel: str = "",
               subtitle: str = "", source: str = "", reference: tuple[str, float] | None = None,
               fictif: bool = False, decimals: int = 1, figsize=(10.0, 5.2), dpi: int = 150,
               color: str = OKABE_ITO[0], masked: Sequence[bool] | None = None) -> bytes:
    """Horizontal bars (one per territory), optional vertical reference (e.g. the COG target).
    ``masked[i]`` true: no bar, « secret » written instead."""
    fig, ax = _fig(figsize, title, subtitle, fictif, dpi)
    ax.set_position((0.30, 0.16, 0.66, 0.66 if (subtitle or fictif) else 0.70))
    labs = [str(l) if len(str(l)) <= 42 else str(l)[:40] + "…" for l in labels]
    y = np.arange(len(labs))[::-1]
    vals = np.array([np.nan if v is None else float(v) for v in values], dtype=float)
    hidden = np.array(masked if masked is not None else [False] * len(vals), dtype=bool)
    shown = np.where(hidden, np.nan, vals)
    ax.barh(y, np.nan_to_num(shown), color=color, height=0.7)
    vmax = np.nanmax(np.abs(shown)) if np.isfinite(shown).any() else 1.0
    for yi, v, h in zip(y, shown, hidden):
        txt = "secret" if h else ("n.d." if np.isnan(v) else fr_number(v, decimals))
        ax.annotate(txt, (0 if np.isnan(v) else v, yi), xytext=(3, 0), textcoords="offset points",
                    va="center", fontsize=7.5)
    if reference is not None:
        ax.axvline(reference[1], color="#D55E00", linewidth=1.6, linestyle="--")
        ax.annotate(reference[0], (reference[1], y.max() + 0.6 if len(y) else 0), color="#D55E00",
                    fontsize=8, ha="left", xytext=(3, 0), textcoords="offset points")
        vmax = max(vmax, reference[1])
    ax.set_yticks(y, labs, fontsize=8 if len(labs) <= 20 else 6.5)
    ax.set_xlim(0, vmax * 1.15 if vmax > 0 else 1)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: fr_number(v, 0)))
    ax.set_xlabel(xlabel, fontsize=9)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    for s in ("top", "right"):
        ax.spines[s].set_visible(False)
    if source:
        fig.text(0.98, 0.01, source, fontsize=7, ha="right", va="bottom", color="#333333")
    return _png(fig, dpi)


def line_chart(categories: Sequence, series: dict[str, Sequence[float]], *, title: str, ylabel: str = "",
               subtitle: str = "", source: str = "", fictif: bool = False, decimals: int = 1,
               colors: Sequence[str] | None = None, value_labels: bool = True,
               figsize=(10.0, 4.6), dpi: int = 150) -> bytes:
    """One line per series over the categories (years); a missing value breaks the line (no
    interpolation); each point labelled with its value (French format) when the chart is small."""
    fig, ax = _fig(figsize, title, subtitle, fictif, dpi)
    cats = [str(c) for c in categories]
    x = np.arange(len(cats))
    colors = list(colors or OKABE_ITO)
    markers = ["o", "s", "D", "^", "v", "P"]
    names = list(series)
    for i, name in enumerate(names):
        vals = np.array([np.nan if v is None else float(v) for v in series[name]], dtype=float)
        ax.plot(x, vals, color=colors[i % len(colors)], linewidth=2, marker=markers[i % len(markers)],
                markersize=5, label=name)
        if value_labels and len(cats) * len(names) <= 40:
            for xi, v in zip(x, vals):
                if np.isfinite(v):
                    ax.annotate(fr_number(v, decimals), (xi, v), xytext=(0, 5), textcoords="offset points",
                                ha="center", fontsize=7.5, color=colors[i % len(colors)],
                                fontfamily="DejaVu Sans")
    ax.set_xticks(x, cats)
    _style(ax, ylabel, decimals if decimals <= 1 else 1)
    ax.margins(y=0.18)
    if len(names) > 1 or names:
        ax.legend(fontsize=8.5, frameon=False, loc="upper left", bbox_to_anchor=(0.0, -0.08),
                  ncol=min(4, max(1, len(names))))
    if source:
        fig.text(0.98, 0.01, source, fontsize=7, ha="right", va="bottom", color="#333333")
    return _png(fig, dpi)
