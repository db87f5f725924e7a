"""Pieces of the « Service public de la petite enfance » page (not a page): cached computations keyed on
the store state, the map of tiers and statuses, the tables shown and exported."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from geo.classes import categories
from geo.coverage_map import geometries
from geo.maps import Layer, MapOptions, choropleth_map, map_html
from pages._data import coverage_inputs
from pages._ui import manifest_token, store
from planning.formats import fr_int, fr_number
from planning.sppe import STATUTS_SCHEMA, libelle_palier
from planning.zones_tension import est_vrai

COULEURS = ("#0072B2", "#D55E00", "#F0E442", "#56B4E9", "#E8E8E8")   # Okabe-Ito + light grey


def categories_carte(s) -> tuple[str, ...]:
    big = f"Plus de {fr_int(s.schema)} hab."
    return (f"{big} : obligations remplies", f"{big} : obligation non remplie",
            f"{big} : à renseigner (statut du schéma ou liste des structures)",
            f"{libelle_palier('3500', s).capitalize()} : planification", libelle_palier("toutes", s).capitalize())


@st.cache_data(show_spinner="Calcul des obligations…", max_entries=16)
def resultat_sppe(token: str, perimetre, quand: dt.date):
    from planning.cli_sppe import calculer

    return calculer(store(), perimetre, quand)


@st.cache_data(show_spinner="Classement des zones en tension…", max_entries=16)
def zones(token: str, dep: str, annee: int, mesure: str, reference: str, valeur: float | None):
    from planning.sppe_territoire import zones_departement

    pts = store().read("communes", columns=["code_insee", "lon", "lat"])
    return zones_departement(coverage_inputs(), pts, annee, dep, mesure=mesure, reference=reference, valeur=valeur)


def categorie(row) -> int:
    if row["palier"] == "10000":
        if row["non_remplie"]:
            return 1
        if "donnée non disponible" in (row["rpe_statut"], row["schema_statut"]) or \
                "non renseigné" in (row["rpe_statut"], row["schema_statut"]):
            return 2
        return 0
    return 3 if row["palier"] == "3500" else 4


def table_autorites(res, zones_communes: pd.DataFrame | None = None) -> pd.DataFrame:
    """The authorities as the page and the exports show them (French headers, texts formatted)."""
    s = res.seuils
    t = res.table
    rows = []
    zc = zones_communes.set_index("code") if zones_communes is not None else None
    for r in t.itertuples(index=False):
        rpe = r.rpe_dans_le_territoire
        present = {True: "oui", False: "non", None: "donnée non disponible"}[rpe["present"]]
        if rpe["present"] and rpe["depuis"]:
            present += f" (depuis le {dt.date.fromisoformat(rpe['depuis']):%d/%m/%Y})"
        sch = r.schema
        statut = STATUTS_SCHEMA.get(sch["statut"], "non renseigné")
        if sch["date"]:
            statut += f" ({dt.date.fromisoformat(sch['date']):%d/%m/%Y})"
        tension = ""
        if zc is not None and r.type == "commune" and r.code in zc.index:
            z = zc.loc[r.code]
            tension = "oui — " + z["motifs"] if est_vrai(z["zone_en_tension"]) else ""
        rows.append({"Autorité": r.nom, "Population": fr_int(r.population), "Obligation RPE": r.rpe_statut,
                     "Obligation schéma": r.schema_statut, "RPE dans le territoire": present,
                     "Schéma pluriannuel": statut, "Zone en tension": tension,
                     "Palier": libelle_palier(r.palier, s), "Type": "EPCI" if r.type == "epci" else "Commune",
                     "Code": r.code})
    return pd.DataFrame(rows)


@st.cache_data(show_spinner=False, max_entries=16)
def carte(token: str, dep: str, rows: tuple, tension: tuple, titre: str, labels: tuple, source: str) -> str:
    g = geometries(store(), "commune", dep)
    cat = dict(rows)
    g = g[g["code"].isin(cat)].copy()
    g["categorie"] = g["code"].map(cat).astype(float)
    g["autorite"] = g["code"].map(dict(tension)).fillna("")
    cls = categories(g["categorie"], labels, COULEURS)
    layers = []
    zt_codes = {c for c, motif in tension if motif}
    if zt_codes:
        layers.append(Layer("Zones en tension (décret 2025-253)", g[g["code"].isin(zt_codes)], style="hachures",
                            color="#444444", weight=0.6, name_col="nom"))
    m = choropleth_map(g, "categorie", cls, MapOptions(key_col="code", name_col="nom",
                       tooltip_fields=[("categorie", "Situation", lambda v: labels[int(v)]),
                                       ("autorite", "Zone en tension", lambda v: v or "non")],
                       title=titre, legend_title="Autorité organisatrice (palier, obligations)",
                       subtitle="commune colorée selon son autorité compétente (commune ou EPCI)", source=source,
                       layers=layers))
    return map_html(m)


def nombre(x) -> str:
    return fr_number(x, 0)


def jeton() -> str:
    return manifest_token()


def nombre_fr(texte: str, minimum: float, maximum: float) -> float | None:
    """A number typed the French way (« 20,5 », « 20.5 », « 20 ») within [minimum, maximum], else None."""
    from data.importers.common import parse_number

    x = parse_number(str(texte or ""))
    if x is None or x != x or not minimum <= x <= maximum:
        return None
    return float(x)
