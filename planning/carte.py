"""What the coverage map shows: indicator values of one scale, flows over a period, filters.

Pure pandas on top of planning.coverage; the coverage page caches the results.
"""
from __future__ import annotations

from typing import Any, Mapping

import pandas as pd

from .catalogue import INDICATEURS, description
from .coverage import indicateurs
from .entrees import CoverageInputs
from .flux import variation_places

# Flows over a period (created, closed, net), from variation_places
PERIOD_INDICATORS = {
    "variation_nette": "Variation nette des places d'EAJE sur la période",
    "places_creees": "Places d'EAJE créées sur la période",
    "places_fermees": "Places d'EAJE fermées sur la période",
    "variation_nette_psu": "Variation nette des places d'EAJE en PSU sur la période",
    "places_creees_psu": "Places d'EAJE en PSU créées sur la période",
    "places_fermees_psu": "Places d'EAJE en PSU fermées sur la période",
}
MAP_INDICATORS = [c for c in INDICATEURS if c not in ("variation_nette_psu", "part_villes_10000_avec_rpe")] \
    + list(PERIOD_INDICATORS)


def indicator_label(code: str) -> str:
    return PERIOD_INDICATORS.get(code) or INDICATEURS[code].label


def filtrer(df: pd.DataFrame, filtres: Mapping[str, Any]) -> pd.DataFrame:
    """Commune filters: ``qpv`` (has a QPV), ``frr`` (FRR or FRR+), ``taille`` (size classes),
    ``densite`` (INSEE density levels)."""
    if filtres.get("qpv"):
        df = df[df["qpv"].fillna(False).astype(bool)]
    if filtres.get("frr"):
        df = df[df["classement_frr"].isin(["FRR", "FRR+"])]
    if filtres.get("taille"):
        df = df[df["taille"].isin(filtres["taille"])]
    if filtres.get("densite"):
        df = df[df["niveau_densite"].isin(filtres["densite"])]
    return df


def valeurs(inputs: CoverageInputs, echelle: str, territoire, annee: int, filtres: Mapping[str, Any] | None = None,
            periode: tuple[int, int] | tuple = ()) -> pd.DataFrame:
    """Indicators of every territory of a scale (plus flows over ``periode``), filtered."""
    df = indicateurs(inputs, echelle, annee, territoire=territoire)
    if periode:
        flows = variation_places(inputs, periode[0], periode[1], niveau=echelle, territoire=territoire,
                                 par_annee=False)
        df = df.merge(flows[["code"] + list(PERIOD_INDICATORS)], on="code", how="left")
    return filtrer(df, filtres or {}).reset_index(drop=True)


def meta(code: str, inputs: CoverageInputs, annee: int, periode: tuple = ()) -> dict[str, Any]:
    """Label, unit, date and source of a map indicator (period flows included)."""
    if code not in PERIOD_INDICATORS:
        return description(code, inputs, annee)
    base = description("places_eaje", inputs, annee)
    return {**base, "code": code, "label": f"{PERIOD_INDICATORS[code]} {periode[0]}-{periode[1]}",
            "unite": "places (créations moins fermetures)" if code.startswith("variation") else "places",
            "format": "nombre", "higher_is_better": True,
            "description": "Places des structures ouvertes (ou fermées) entre le 1er janvier de la première année et "
                           "le 31 décembre de la dernière, d'après les dates d'ouverture et de fermeture de la liste "
                           "des structures."}
