"""Coverage maps: the geometry of each scale (simplified once, cached) and the map built from
an indicator frame of planning.coverage.  No Streamlit here; pages cache the returned HTML.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Sequence

import pandas as pd

from data.store import Store

from .classes import classify, fr_int, fr_number, seuils_couverture
from .maps import choropleth_map, layer_communes_qpv, layer_qpv, layer_zrr, layers_frr, map_html
from .simplify import TOLERANCES_M, simplify_coverage

# Scale of the map for each kind of selected territory (first = default)
ECHELLES = {
    # France and region: communes only for the rates the Cnaf publishes (towns over 10 000, ~1 050)
    "france": ("departement", "epci", "commune"),
    "region": ("departement", "epci", "commune"),
    "departement": ("commune", "epci"),
    "epci": ("commune",),
    "ept": ("commune",),
    "commune": ("commune",),
}
# Polygons reachable with Tab only on small maps: beyond that the map would trap keyboard users
# (the table beside the map carries the same figures).
KEYBOARD_MAX = 60
ECHELLE_LABEL = {"departement": "Départements", "epci": "EPCI", "commune": "Communes"}


def _token(store: Store) -> str:
    try:
        return f"{store.root}:{store.manifest_path.stat().st_mtime_ns}"
    except FileNotFoundError:
        return f"{store.root}:absent"


@lru_cache(maxsize=32)
def _geometries(root: str, token: str, echelle: str, departement: str | None, codes: tuple[str, ...] | None = None):
    store = Store(root)
    if echelle == "departement":
        g = store.read("departements", columns=["dep", "nom", "geometry"]).rename(columns={"dep": "code"})
        tol = TOLERANCES_M["departements"]
    elif echelle == "epci":
        g = store.read("epci", columns=["epci_siren", "nom", "deps", "geometry"]).rename(columns={"epci_siren": "code"})
        if departement:
            g = g[g["deps"].str.split(",").apply(lambda ds: departement in ds)]
            tol = 200.0
        else:
            tol = TOLERANCES_M["epci"]
    else:
        g = store.read("communes", columns=["code_insee", "nom", "dep", "epci_siren", "ept_code", "has_polygon",
                                             "geometry"]).rename(columns={"code_insee": "code"})
        g = g[g["has_polygon"]]
        if codes is not None:   # a national subset (the towns a national file publishes)
            g = g[g["code"].isin(set(codes))]
        if departement:
            g = g[g["dep"] == departement]
            tol = 0.0 if len(g) < 200 else 60.0
        else:
            tol = TOLERANCES_M["communes"]
    g = g[g.geometry.notna()].reset_index(drop=True)
    return simplify_coverage(g, tol) if tol > 0 else g


def geometries(store: Store, echelle: str, departement: str | None = None, codes: Sequence[str] | None = None):
    """Simplified polygons of a scale (optionally inside one département, or only ``codes``: communes
    of a national subset), cached per store state."""
    key = tuple(sorted(set(map(str, codes)))) if codes is not None else None
    return _geometries(str(store.root), _token(store), echelle, departement, key)


def _fmt(fmt: str):
    if fmt == "taux":
        return lambda v: fr_number(v, 1)
    if fmt == "booleen":
        return lambda v: "donnée non disponible" if pd.isna(v) else ("oui" if v else "non")
    return lambda v: fr_number(v, 1) if isinstance(v, float) and not float(v).is_integer() else fr_int(v)


def coverage_map_html(
    geoms,
    values: pd.DataFrame,
    *,
    indicateur: dict[str, Any],
    annee: int,
    methode: str = "seuils",
    titre: str,
    couches: dict[str, Any] | None = None,
    structures: pd.DataFrame | None = None,
    structures_fictives: bool = False,
    highlight: Sequence[str] | None = None,
    asset_mode: str = "static",
) -> str:
    """HTML of the coverage map for an indicator frame (``code`` + the indicator column).

    ``indicateur`` is ``planning.coverage.description(code, inputs, annee)``; ``couches`` may
    hold the store frames ``communes_geo`` (for overlays), ``qpv``, ``qpv_polygones``, ``frr``, ``zrr``.
    """
    code = indicateur["code"]
    year_col = {"naissances": "annee_naissances"}.get(code, "annee_txcouv_caf" if code.startswith("txcouv_caf")
                                                                             else None)
    cols = ["code", code] + [c for c in (year_col, "enfants_moins_3", "places_eaje", "places_psu", "nb_rpe", "qpv",
                                         "classement_frr", "rang_dans_departement", "population")
                             if c and c in values.columns and c != code]
    data = values[cols].copy()
    if indicateur.get("format") == "booleen":
        data[code] = data[code].map(lambda v: float(v) if pd.notna(v) else float("nan"))
    gdf = geoms.merge(data, on="code", how="left")
    fmt = _fmt(indicateur.get("format", "nombre"))
    if indicateur.get("format") == "taux" and methode == "seuils" and not code.startswith("txcouv_caf_"):
        cls = classify(gdf[code], "seuils", seuils=seuils_couverture(annee))
    elif indicateur.get("format") == "booleen":
        cls = classify(gdf[code], "seuils", seuils=[0, 0.5], decimals=0)
    else:
        cls = classify(gdf[code], "quantiles", k=5, decimals=1)
    tips = [(code, indicateur["label"], fmt)]
    if year_col and year_col in gdf.columns:
        tips.append((year_col, "Année publiée" if year_col == "annee_txcouv_caf" else "Année",
                     lambda v: "donnée non disponible" if pd.isna(v) else str(int(v))))
    labels = {"enfants_moins_3": ("Enfants de moins de 3 ans", lambda v: fr_number(v, 0)),
              "places_eaje": ("Places d'EAJE", fr_int), "places_psu": ("dont PSU", fr_int),
              "nb_rpe": ("RPE situés ici", fr_int),
              "qpv": ("Quartier prioritaire", lambda v: "donnée non disponible" if pd.isna(v) else ("oui" if v else "non")),
              "classement_frr": ("Classement FRR", lambda v: "donnée non disponible" if pd.isna(v) else str(v)),
              "rang_dans_departement": ("Rang dans le département", None)}
    if "rang_dans_departement" in gdf.columns:
        n_ranked = int(gdf["rang_dans_departement"].notna().sum())
        labels["rang_dans_departement"] = (
            "Rang dans le département",
            lambda v: "donnée non disponible" if pd.isna(v) else f"{fr_int(v)} sur {fr_int(n_ranked)} (ex æquo possibles)")
    for c, (lab, f) in labels.items():
        if c in gdf.columns and c != code:
            tips.append((c, lab, f))
    layers = []
    couches = couches or {}
    cg = couches.get("communes_geo")
    if couches.get("qpv_polygones") is not None:
        layers.append(layer_qpv(couches["qpv_polygones"]))
    elif couches.get("qpv") is not None and cg is not None:
        layers.append(layer_communes_qpv(cg, couches["qpv"], name="Communes comptant au moins un QPV (contours des QPV non importés)"))
    if couches.get("frr") is not None and cg is not None:
        layers.extend(layers_frr(cg, couches["frr"]))
    if couches.get("zrr") is not None and cg is not None:
        layers.append(layer_zrr(cg, couches["zrr"]))
    m = choropleth_map(
        gdf, code, cls, key_col="code", name_col="nom", tooltip_fields=tips, title=titre,
        legend_title=indicateur["label"],
        subtitle=f"{indicateur['unite']} — {indicateur.get('annee_libelle') or annee}",
        source=indicateur.get("source", ""), layers=layers, points=structures,
        points_fictifs=structures_fictives, highlight_codes=highlight,
        keyboard_max=KEYBOARD_MAX,
    )
    return map_html(m, asset_mode=asset_mode)
