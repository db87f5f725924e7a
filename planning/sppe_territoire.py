"""The SPPE figures of one territory, assembled from the indicators (shared by the page, the diagnostic
of the schéma pluriannuel and the SDSF pack, so that they always agree).

Inputs are passed in: a :class:`planning.coverage.CoverageInputs` and the communes' representative points
(``code_insee, lon, lat``, from the communes layer).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import besoins as bz
from . import inegalites, zones_tension as zt
from .coverage import indicateurs, ouvertes


@dataclass
class Zones:
    communes: pd.DataFrame
    epci: pd.DataFrame
    mesure: str
    reference: float
    libelle_reference: str
    notes: list[str] = field(default_factory=list)


def _reference(inputs, annee: int, dep: str, mesure: str, choix: str, valeur: float | None,
               dep_row: pd.Series) -> tuple[float, str]:
    if choix == "utilisateur":
        if valeur is None or not np.isfinite(valeur) or valeur < 0:
            raise ValueError("Indiquez une valeur de référence (places pour 100 enfants de moins de 3 ans).")
        return float(valeur), f"valeur saisie : {valeur:g}".replace(".", ",")
    if choix == "france":
        nat = indicateurs(inputs, "france", annee).iloc[0]
        publie = nat["txcouv_caf"] if mesure == "global" else nat["txcouv_caf_eaje"]
        return zt.reference_france(mesure, annee, publie, inputs.baremes), "France"
    v = dep_row["taux_eaje"] if mesure == "eaje" else dep_row["txcouv_caf"]
    return float(v), f"département {dep}"


def niveau_groupement(com: pd.DataFrame) -> str:
    """EPT inside the Métropole du Grand Paris (the working level of a CTG there), else EPCI."""
    return "ept" if com["ept_code"].notna().any() else "epci"


def structures_ouvertes(inputs, annee: int) -> pd.DataFrame | None:
    s = inputs.structures
    return None if s is None else s[ouvertes(s, annee).to_numpy()]


def zones_departement(inputs, points: pd.DataFrame, annee: int, dep: str, *, mesure: str = "eaje",
                      reference: str = "departement", valeur: float | None = None) -> Zones:
    """Communes and EPCI of a département classified (see :mod:`planning.zones_tension`)."""
    spec = ("departement", dep)
    com = indicateurs(inputs, "commune", annee, spec)
    epci = indicateurs(inputs, niveau_groupement(com), annee, spec)
    dep_row = indicateurs(inputs, "departement", annee, spec).iloc[0]
    ref, lib = _reference(inputs, annee, dep, mesure, reference, valeur, dep_row)
    p = zt.ParametresZones.lire(annee, inputs.baremes)
    connues = set(inputs.base.loc[inputs.structures_known, "code_insee"])
    pts = points[points["code_insee"].isin(set(com["code"]))]
    dist = zt.distances(pts, structures_ouvertes(inputs, annee), connues, p.facteur_detour)
    cc = zt.classer_communes(com, dist, mesure, ref, p, lib)
    ce = zt.classer_epci(cc, epci, mesure, ref, p, lib)
    return Zones(cc, ce, mesure, ref, lib, zt.notes(p, mesure, lib))


def places_et_enfants(inputs, annee: int, niveau: str, code: str) -> dict[str, Any]:
    row = indicateurs(inputs, niveau, annee, (niveau, code))
    row = row[row["code"].astype(str) == str(code)]
    if row.empty:
        return {"places_eaje": np.nan, "enfants_moins_3": np.nan, "taux_eaje": np.nan, "dep": None}
    r = row.iloc[0]
    return {k: r[k] for k in ("places_eaje", "enfants_moins_3", "taux_eaje", "dep", "places_psu", "places_hors_psu",
                              "places_mam", "nb_rpe", "txcouv_caf", "annee_txcouv_caf", "population", "nom")}


def cible(inputs, annee: int, niveau: str, dep: str, choix: str, valeur: float | None) -> tuple[float | None, str]:
    """Target coverage (EAJE places per 100 children): median of the units of the same level of the
    département, France (parameter or published), or a user value."""
    if choix == "utilisateur":
        return (float(valeur) if valeur is not None else None), "valeur saisie"
    if choix == "france":
        nat = indicateurs(inputs, "france", annee).iloc[0]
        return zt.reference_france("eaje", annee, nat["txcouv_caf_eaje"], inputs.baremes), "France (taux EAJE)"
    if choix == "departement":
        d = indicateurs(inputs, "departement", annee, ("departement", dep)).iloc[0]
        v = float(d["taux_eaje"])
        return (v if np.isfinite(v) else None), f"taux EAJE du département {dep}"
    lvl = "epci" if niveau in ("epci", "ept") else "commune"
    ind = indicateurs(inputs, lvl, annee, ("departement", dep))
    if lvl == "commune":
        p = zt.ParametresZones.lire(annee, inputs.baremes)
        ind = ind[ind["enfants_moins_3"] >= p.enfants_minimum]
    m = bz.mediane(ind["taux_eaje"])
    unit = "des EPCI" if lvl == "epci" else "des communes (au moins 30 enfants)"
    return m, f"médiane {unit} du département {dep}"


def besoin_territoire(inputs, codes: list[str], annee: int, places: float, taux_cible: float, *,
                      ajustement: float = 0.0, horizon: int | None = None, fenetre: int | None = None) -> pd.DataFrame:
    serie = bz.naissances_territoire(inputs.naissances, codes)
    return bz.besoin(serie, places, annee, taux_cible=taux_cible, ajustement=ajustement, horizon=horizon,
                     fenetre=fenetre, baremes=inputs.baremes)


def inegalites_epci(inputs, dep: str, annees: range) -> pd.DataFrame:
    """Top fifth ÷ bottom fifth of the EPCI of a département, per year: published EPCI rates when imported,
    else the EAJE rate computed from the structure list (years when the list covers the département)."""
    caf = inputs.caf_couverture.get("epci")
    lvl = niveau_groupement(indicateurs(inputs, "commune", max(annees), ("departement", dep)))
    codes = set(indicateurs(inputs, lvl, max(annees), ("departement", dep))["code"].astype(str))
    if caf is not None and len(caf):
        f = caf[caf["code"].astype(str).isin(codes)]
        out = inegalites.quintiles(f.rename(columns={"txcouv": "taux"})[["annee", "code", "taux"]])
        out.attrs["mesure"] = "taux global publié (Cnaf)"
        return out
    frames = []
    for y in annees:
        ind = indicateurs(inputs, lvl, y, ("departement", dep))
        frames.append(pd.DataFrame({"annee": y, "code": ind["code"], "taux": ind["taux_eaje"]}))
    out = inegalites.quintiles(pd.concat(frames, ignore_index=True))
    out.attrs["mesure"] = "taux EAJE calculé (liste des structures)"
    return out
