"""Classification of an indicator into colour classes and palettes.

Palettes (documented choices, all colour-blind safe):

* ``YLGNBU``: ColorBrewer *YlGnBu* sequential palette (Cynthia Brewer, colorbrewer2.org,
  marked "colorblind safe" for 3 to 9 classes). Default for coverage rates: light yellow =
  low coverage, dark blue = high coverage.
* ``CIVIDIS``: *cividis* (Nuñez, Anderton, Renslow 2018), designed for colour-vision
  deficiencies; hex values sampled from matplotlib's colormap at 9 evenly spaced points.
* ``OKABE_ITO``: Okabe & Ito (2008) categorical palette, for structure types.

The "no data" class (« donnée non disponible ») is light grey and drawn with hatching,
so that it can never be mistaken for the lowest class (which starts at zero).

Class labels are written with :mod:`planning.formats` (``1 234,5``, U+202F between thousands).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from planning.formats import NA_LABEL, fr_number
from planning.catalogue import reperes_couverture
from planning.parametres import Baremes

NA_COLOR = "#d9d9d9"        # light grey fill; hatched in legends and maps
NA_HATCH_COLOR = "#8c8c8c"  # colour of the hatching lines

# ColorBrewer YlGnBu, 3..9 classes.
YLGNBU: dict[int, list[str]] = {
    3: ["#edf8b1", "#7fcdbb", "#2c7fb8"],
    4: ["#ffffcc", "#a1dab4", "#41b6c4", "#225ea8"],
    5: ["#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"],
    6: ["#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494"],
    7: ["#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84"],
    8: ["#ffffd9", "#edf8b1", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84"],
    9: ["#ffffd9", "#edf8b1", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#253494",
        "#081d58"],
}

# cividis sampled at 0, 1/8, ..., 1 (matplotlib 3.x).
_CIVIDIS_9 = ["#00224e", "#1a386f", "#434e6c", "#61656f", "#7d7c78", "#9b9476", "#bcae6c",
              "#dec958", "#fee838"]

# Okabe-Ito categorical palette (black last).
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]

# Structure types of the store (`structures.type`) → French label and colour.
TYPES_STRUCTURE: dict[str, tuple[str, str]] = {
    "EAJE": ("Crèche (EAJE)", OKABE_ITO[0]),
    "MICRO_CRECHE": ("Micro-crèche", OKABE_ITO[1]),
    "MAM": ("Maison d'assistants maternels (MAM)", OKABE_ITO[2]),
    "RPE": ("Relais petite enfance (RPE)", OKABE_ITO[3]),
    "HALTE_GARDERIE": ("Halte-garderie", OKABE_ITO[4]),
    "JARDIN_ENFANTS": ("Jardin d'enfants", OKABE_ITO[5]),
    "CRECHE_FAMILIALE": ("Crèche familiale", OKABE_ITO[6]),
    "CRECHE_PARENTALE": ("Crèche parentale", OKABE_ITO[7]),
    "CRECHE_ENTREPRISE": ("Crèche d'entreprise", "#8c510a"),
}
TYPE_AUTRE_COLOR = "#7f7f7f"


def type_structure(code: str) -> tuple[str, str]:
    """French label and colour of a structure type (unknown types: grey, code as label)."""
    return TYPES_STRUCTURE.get(str(code), (str(code), TYPE_AUTRE_COLOR))


def palette(name: str, k: int) -> list[str]:
    """``k`` colours of a sequential palette (``"YlGnBu"`` or ``"cividis"``), light to dark."""
    if k < 1:
        return []
    key = name.lower()
    if key == "ylgnbu":
        if k == 1:
            return [YLGNBU[3][1]]
        if k == 2:
            return [YLGNBU[3][0], YLGNBU[3][2]]
        if k <= 9:
            return list(YLGNBU[k])
        return _interpolate(YLGNBU[9], k)
    if key == "cividis":
        # light to dark, like YlGnBu
        return _interpolate(list(reversed(_CIVIDIS_9)), k)
    raise ValueError(f"Palette inconnue : « {name} » (YlGnBu ou cividis).")


def _interpolate(anchors: list[str], k: int) -> list[str]:
    rgb = np.array([[int(h[i:i + 2], 16) for i in (1, 3, 5)] for h in anchors], dtype=float)
    pos = np.linspace(0, len(anchors) - 1, k) if k > 1 else np.array([0.0])
    out = []
    for p in pos:
        i = min(int(math.floor(p)), len(anchors) - 2)
        t = p - i
        c = rgb[i] * (1 - t) + rgb[i + 1] * t
        out.append("#" + "".join(f"{int(round(v)):02x}" for v in c))
    return out


# --------------------------------------------------------------------------- classes

@dataclass(frozen=True)
class Classification:
    """Classes of an indicator.

    ``bins`` are the class boundaries: class 0 is ``< bins[0]``, class i is
    ``[bins[i-1], bins[i])`` and the last class is ``>= bins[-1]``; so there are
    ``len(bins) + 1`` classes. Missing values get class ``-1`` (« donnée non disponible »).
    """

    method: str
    bins: tuple[float, ...]
    labels: tuple[str, ...]
    colors: tuple[str, ...]
    decimals: int = 1
    counts: tuple[int, ...] = ()
    na_count: int = 0
    na_label: str = NA_LABEL
    na_color: str = NA_COLOR
    palette_name: str = "YlGnBu"
    unit_suffix: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def k(self) -> int:
        return len(self.labels)

    def assign(self, values: pd.Series | Sequence[float]) -> np.ndarray:
        """Class index of each value (int array; -1 for missing values)."""
        v = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        if not self.labels:
            return np.full(len(v), -1, dtype=int)
        idx = np.searchsorted(np.asarray(self.bins, dtype=float), v, side="right").astype(int)
        idx[np.isnan(v)] = -1
        return idx

    def color_of(self, index: int) -> str:
        return self.na_color if index < 0 else self.colors[index]


    def legend_items(self) -> list[tuple[str, str, int | None, bool]]:
        """(label, colour, count or None, is_missing) for every class, NaN class last."""
        items: list[tuple[str, str, int | None, bool]] = []
        for i, (lab, col) in enumerate(zip(self.labels, self.colors)):
            items.append((lab, col, self.counts[i] if self.counts else None, False))
        items.append((self.na_label, self.na_color, self.na_count if self.counts else None, True))
        return items


def _labels(bins: Sequence[float], decimals: int, suffix: str) -> list[str]:
    # whole thresholds are written without decimals (« 50 », not « 50,0 »)
    f = [fr_number(b, 0 if float(b).is_integer() else decimals) + suffix for b in bins]
    if not bins:
        return ["toutes valeurs"]
    labels = [f"moins de {f[0]}"]
    for a, b in zip(f[:-1], f[1:]):
        labels.append(f"{a} à moins de {b}")
    labels.append(f"{f[-1]} et plus")
    return labels


def seuils_couverture(annee: int = 2025, baremes: Baremes | None = None) -> list[float]:
    """Default thresholds for coverage maps (places pour 100 enfants de moins de 3 ans).

    The low and national references of the COG come from the dated parameter
    ``objectifs_cog.taux_couverture_reference`` of ``annee`` (50 and 60 in 2025); 20, 35 and 75
    are presentation breaks only (not rules).
    """
    return sorted({0.0, 20.0, 35.0, *reperes_couverture(annee, baremes), 75.0})


def classify(
    values: pd.Series | Sequence[float],
    method: str = "quantiles",
    k: int = 5,
    seuils: Sequence[float] | None = None,
    *,
    decimals: int = 1,
    palette_name: str = "YlGnBu",
    unit_suffix: str = "",
) -> Classification:
    """Classify ``values``.

    * ``method="seuils"``: fixed thresholds ``seuils`` (lower bounds of the classes;
      values below the first threshold fall into the first class, labelled « moins de … »).
      For coverage rates use :func:`seuils_couverture`.
    * ``method="quantiles"``: ``k`` classes holding about the same number of territories;
      the breaks are rounded to ``decimals`` so that labels and classes agree; repeated
      breaks are merged (fewer classes when values repeat).
    """
    v = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    finite = v[~np.isnan(v)]
    notes: list[str] = []
    if method == "seuils":
        if seuils is None or len(seuils) == 0:
            raise ValueError("Classification par seuils : indiquez au moins un seuil.")
        s = [float(x) for x in seuils]
        if any(b <= a for a, b in zip(s[:-1], s[1:])):
            raise ValueError("Classification par seuils : les seuils doivent être strictement croissants.")
        # the first threshold is the lower bound of the scale, not a break
        bins = s[1:] if len(s) > 1 else s
    elif method == "quantiles":
        if k < 1:
            raise ValueError("Classification par quantiles : k doit valoir au moins 1.")
        if finite.size == 0:
            bins = []
            notes.append("aucune valeur disponible")
        else:
            qs = np.quantile(finite, np.linspace(0, 1, k + 1)[1:-1])
            bins = sorted({round(float(q), decimals) for q in qs})
            # a break at the minimum would leave the first class empty
            bins = [b for b in bins if b > round(float(finite.min()), decimals) or len(bins) == 1]
            if len(bins) + 1 < k:
                notes.append(f"{len(bins) + 1} classes seulement (valeurs répétées)")
    else:
        raise ValueError(f"Méthode de classification inconnue : « {method} » (quantiles ou seuils).")

    labels = _labels(bins, decimals, unit_suffix) if (bins or finite.size) else []
    colors = palette(palette_name, len(labels))
    cls = Classification(method, tuple(bins), tuple(labels), tuple(colors), decimals,
                         palette_name=palette_name, unit_suffix=unit_suffix, notes=tuple(notes))
    idx = cls.assign(v)
    counts = tuple(int((idx == i).sum()) for i in range(len(labels)))
    return Classification(method, tuple(bins), tuple(labels), tuple(colors), decimals, counts,
                          int((idx == -1).sum()), palette_name=palette_name,
                          unit_suffix=unit_suffix, notes=tuple(notes))


def categories(values: pd.Series | Sequence[float], labels: Sequence[str], colors: Sequence[str]) -> Classification:
    """Classification of integer categories 0..n-1 (e.g. sans RPE / couverte ailleurs / RPE)."""
    v = pd.to_numeric(pd.Series(values), errors="coerce")
    n = len(labels)
    counts = tuple(int((v == i).sum()) for i in range(n))
    return Classification(method="categories", bins=tuple(i + 0.5 for i in range(n - 1)), labels=tuple(labels),
                          colors=tuple(colors), decimals=0, counts=counts, na_count=int(v.isna().sum()))
