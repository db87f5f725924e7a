"""Territorial inequality of coverage.

* REPSS Famille indicator 1.4.1 (social security finance reports): mean coverage of the 20 best-covered
  départements ÷ mean coverage of the 20 worst (simple means of the published global rates), per year.
* The same idea inside a département: mean rate of the best-covered fifth of its EPCI ÷ that of the worst
  fifth (at least one EPCI in each fifth), per year available.

Pure: rates in, a frame out (annee, haut, bas, ratio, ecart = haut − bas in points, n).  A zero bottom
mean gives no ratio (NaN, « non calculable »): the gap in points is still given.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

N_REPSS = 20


def ratio_extremes(taux: pd.Series, n: int) -> dict[str, float]:
    """Mean of the ``n`` highest ÷ mean of the ``n`` lowest finite values."""
    v = np.sort(pd.to_numeric(taux, errors="coerce").dropna().to_numpy(dtype=float))
    if v.size < 2 * n or n < 1:
        return {"haut": np.nan, "bas": np.nan, "ratio": np.nan, "ecart": np.nan, "n": int(n), "effectif": int(v.size)}
    haut, bas = float(v[-n:].mean()), float(v[:n].mean())
    return {"haut": haut, "bas": bas, "ratio": haut / bas if bas > 0 else np.nan, "ecart": haut - bas, "n": int(n),
            "effectif": int(v.size)}


def repss(caf_dep: pd.DataFrame, colonne: str = "txcouv", n: int = N_REPSS) -> pd.DataFrame:
    """REPSS ratio per year from the published département rates (``caf_couverture_dep``)."""
    if caf_dep is None or not len(caf_dep):
        return pd.DataFrame(columns=["annee", "haut", "bas", "ratio", "ecart", "n", "effectif"])
    rows = [{"annee": int(y), **ratio_extremes(g[colonne], n)} for y, g in caf_dep.groupby("annee")]
    return pd.DataFrame(rows)


def quintiles(taux_par_annee: pd.DataFrame) -> pd.DataFrame:
    """Top fifth ÷ bottom fifth per year; ``taux_par_annee``: columns annee, code, taux (one unit a row)."""
    rows = []
    for y, g in taux_par_annee.groupby("annee"):
        k = int(pd.to_numeric(g["taux"], errors="coerce").notna().sum())
        n = max(1, math.floor(k / 5)) if k >= 2 else 1
        rows.append({"annee": int(y), **ratio_extremes(g["taux"], n)})
    return pd.DataFrame(rows, columns=["annee", "haut", "bas", "ratio", "ecart", "n", "effectif"])
