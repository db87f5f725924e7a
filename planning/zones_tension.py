"""Zones en tension (décret 2025-253, art. D.214-10-1): « zones géographiques caractérisées par une offre
d'accueil insuffisante ou par des difficultés dans l'accès ».  A transparent classification, every
threshold a dated parameter of ``planning/baremes/sppe.yaml``:

* **offre insuffisante**: the commune's (or EPCI's) rate is below ``sppe.zones_part_reference`` × the
  chosen reference — the same measure for both: the published global rate (data.caf.fr) or the EAJE rate
  computed from the structure list; reference = the département, France or a value the user types.  A
  commune with fewer than ``sppe.zones_enfants_minimum`` children under 3 is not judged on its rate.
* **désert** (an extra lens, labelled as such): more than ``couverture.desert_enfants_par_place``
  children per EAJE place (the ``desert`` column of the indicators).
* **accès difficile**: distance from the commune's point (its representative point: no population-
  weighted point is available) to the nearest EAJE place and to the nearest RPE, straight line in
  EPSG:2154 × ``sppe.zones_facteur_detour`` — « approximation à vol d'oiseau » — above
  ``sppe.zones_distance_max_eaje_km`` / ``sppe.zones_distance_max_rpe_km``.  Only structures of the
  départements the list covers are known: near a border with an uncovered département the distance may
  be overestimated (said in the notes).  Outside the list: « donnée non disponible ».
* An EPCI is in access tension when at least ``sppe.zones_part_enfants_acces_difficile`` of its children
  live in communes of difficult access.

QPV and FRR flags are shown beside the classification, never mixed into it.  Pure: frames in, frames out.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .formats import fr_number, fr_ratio
from .parametres import Baremes

MESURES = {"eaje": "taux EAJE calculé (liste des structures)", "global": "taux global publié (Cnaf, data.caf.fr)"}
REFERENCES = {"departement": "département", "france": "France", "utilisateur": "valeur saisie"}
LIBELLE_DISTANCE = "approximation à vol d'oiseau"
TYPES_EAJE = ("EAJE", "MICRO_CRECHE", "CRECHE_FAMILIALE", "CRECHE_PARENTALE", "HALTE_GARDERIE", "JARDIN_ENFANTS",
              "CRECHE_ENTREPRISE")


@dataclass(frozen=True)
class ParametresZones:
    part_reference: float
    enfants_minimum: float
    facteur_detour: float
    distance_eaje_km: float
    distance_rpe_km: float
    part_enfants_acces: float
    sources: dict[str, Any]

    @classmethod
    def lire(cls, annee: int, baremes: Baremes | None = None) -> "ParametresZones":
        b = baremes or Baremes()
        names = {"part_reference": "sppe.zones_part_reference", "enfants_minimum": "sppe.zones_enfants_minimum",
                 "facteur_detour": "sppe.zones_facteur_detour", "distance_eaje_km": "sppe.zones_distance_max_eaje_km",
                 "distance_rpe_km": "sppe.zones_distance_max_rpe_km",
                 "part_enfants_acces": "sppe.zones_part_enfants_acces_difficile"}
        pv = {k: b.get(n, max(int(annee), 2025)) for k, n in names.items()}
        return cls(**{k: float(v.valeur) for k, v in pv.items()}, sources={k: v for k, v in pv.items()})


def reference_france(mesure: str, annee: int, publie: float | None = None, baremes: Baremes | None = None) -> float:
    """France rate of the measure: the published national figure when imported, else the dated parameter."""
    if publie is not None and np.isfinite(publie):
        return float(publie)
    b = baremes or Baremes()
    return float(b.value("sppe.reference_france", max(int(annee), 2023))[mesure])


# ---------------------------------------------------------------------------
# Distances
# ---------------------------------------------------------------------------
def lambert93(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) in metres, EPSG:2154."""
    from pyproj import Transformer

    tr = Transformer.from_crs(4326, 2154, always_xy=True)
    x, y = tr.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(x), np.asarray(y)


def distance_plus_proche(px, py, qx, qy, chunk: int = 2048) -> np.ndarray:
    """Straight-line distance (m) from each point p to the nearest point q (inf when there is no q)."""
    px, py = np.asarray(px, float), np.asarray(py, float)
    out = np.full(len(px), np.inf)
    if len(qx) == 0:
        return out
    qx, qy = np.asarray(qx, float), np.asarray(qy, float)
    for i in range(0, len(px), chunk):
        dx = px[i:i + chunk, None] - qx[None, :]
        dy = py[i:i + chunk, None] - qy[None, :]
        out[i:i + chunk] = np.sqrt((dx * dx + dy * dy).min(axis=1))
    return out


def points_structures(structures: pd.DataFrame, points: pd.DataFrame, types: tuple[str, ...],
                      avec_places: bool) -> pd.DataFrame:
    """lon/lat of the structures of these types (their commune's point when they have no coordinates)."""
    s = structures[structures["type"].astype(str).str.upper().isin(types)]
    if avec_places:
        s = s[pd.to_numeric(s["places"], errors="coerce").fillna(0) > 0]
    pt = points.set_index("code_insee")
    lon = pd.to_numeric(s.get("longitude"), errors="coerce") if "longitude" in s else pd.Series(np.nan, index=s.index)
    lat = pd.to_numeric(s.get("latitude"), errors="coerce") if "latitude" in s else pd.Series(np.nan, index=s.index)
    lon = lon.where(lon.notna(), s["code_insee"].map(pt["lon"]))
    lat = lat.where(lat.notna(), s["code_insee"].map(pt["lat"]))
    return pd.DataFrame({"lon": lon, "lat": lat}).dropna()


def distances(points: pd.DataFrame, structures: pd.DataFrame | None, connues: set[str],
              facteur: float) -> pd.DataFrame:
    """Per commune of ``points`` (code_insee, lon, lat): km to the nearest EAJE place and RPE × ``facteur``."""
    out = pd.DataFrame({"code_insee": points["code_insee"].astype(str).to_numpy()})
    out["dist_eaje_km"] = np.nan
    out["dist_rpe_km"] = np.nan
    if structures is None or not len(structures):
        return out
    px, py = lambert93(points["lon"], points["lat"])
    for col, types, places in (("dist_eaje_km", TYPES_EAJE, True), ("dist_rpe_km", ("RPE",), False)):
        q = points_structures(structures, points, types, places)
        qx, qy = lambert93(q["lon"], q["lat"])
        d = distance_plus_proche(px, py, qx, qy) / 1000.0 * facteur
        d[~np.isfinite(d)] = np.nan
        out[col] = d
    known = out["code_insee"].isin(connues).to_numpy()
    out.loc[~known, ["dist_eaje_km", "dist_rpe_km"]] = np.nan
    return out


# ---------------------------------------------------------------------------
# Classification
# ---------------------------------------------------------------------------
def _flag(cond: np.ndarray, known: np.ndarray) -> pd.array:
    out = pd.array(np.where(known, cond, False), dtype="boolean")
    out[~known] = pd.NA
    return out


def classer_communes(ind: pd.DataFrame, dist: pd.DataFrame, mesure: str, reference: float,
                     p: ParametresZones, libelle_reference: str) -> pd.DataFrame:
    """One row per commune of ``ind`` (planning.coverage indicators at commune level) with the reasons."""
    d = dist.set_index("code_insee").reindex(ind["code"].astype(str))
    taux = ind["taux_eaje" if mesure == "eaje" else "txcouv_caf"].to_numpy(dtype=float)
    enf = ind["enfants_moins_3"].to_numpy(dtype=float)
    seuil = p.part_reference * reference
    juge = np.isfinite(taux) & (np.isfinite(enf) & (enf >= p.enfants_minimum) if mesure == "eaje" else True)
    out = pd.DataFrame({"code": ind["code"].astype(str).to_numpy(), "nom": ind["nom"].to_numpy(),
                        "niveau": "commune", "epci_siren": ind["epci_siren"].to_numpy(),
                        "ept_code": ind["ept_code"].to_numpy(),
                        "enfants_moins_3": enf, "taux": taux, "reference": seuil,
                        "dist_eaje_km": d["dist_eaje_km"].to_numpy(), "dist_rpe_km": d["dist_rpe_km"].to_numpy(),
                        "qpv": ind["qpv"].to_numpy(), "classement_frr": ind["classement_frr"].to_numpy()})
    out["offre_insuffisante"] = _flag(taux < seuil, juge)
    out["desert"] = ind["desert"].astype("boolean").to_numpy()
    de, dr = out["dist_eaje_km"].to_numpy(float), out["dist_rpe_km"].to_numpy(float)
    out["acces_difficile_eaje"] = _flag(de > p.distance_eaje_km, np.isfinite(de))
    out["acces_difficile_rpe"] = _flag(dr > p.distance_rpe_km, np.isfinite(dr))
    _conclure(out)
    out["motifs"] = [_motifs(r, mesure, libelle_reference, p) for r in out.itertuples()]
    return out


def _conclure(out: pd.DataFrame) -> None:
    flags = out[["offre_insuffisante", "acces_difficile_eaje", "acces_difficile_rpe"]]
    anyt = flags.fillna(False).any(axis=1).to_numpy()
    allna = flags.isna().all(axis=1).to_numpy()
    z = pd.array(anyt, dtype="boolean")
    z[allna] = pd.NA
    out["zone_en_tension"] = z


def est_vrai(x) -> bool:
    """True for a flag that is set (pandas NA and None are not)."""
    return x is not None and not pd.isna(x) and bool(x)


def _motifs(r, mesure: str, libelle_reference: str, p: ParametresZones) -> str:
    parts = []
    if est_vrai(r.offre_insuffisante):
        parts.append(f"{MESURES[mesure]} {fr_number(r.taux, 1)} < {fr_number(r.reference, 1)} ({libelle_reference})")
    if est_vrai(r.acces_difficile_eaje):
        parts.append(f"place d'EAJE la plus proche à {fr_number(r.dist_eaje_km, 1)} km > {fr_number(p.distance_eaje_km, 0)} km")
    if est_vrai(r.acces_difficile_rpe):
        parts.append(f"RPE le plus proche à {fr_number(r.dist_rpe_km, 1)} km > {fr_number(p.distance_rpe_km, 0)} km")
    if est_vrai(getattr(r, "desert", None)):
        parts.append("lecture « désert » : plus de 3 enfants par place")
    if not parts:
        if pd.isna(r.zone_en_tension):
            return "donnée non disponible (aucune liste de structures ni taux publié)"
        return "aucun critère atteint"
    return " ; ".join(parts)


def classer_epci(communes_classees: pd.DataFrame, ind_epci: pd.DataFrame, mesure: str, reference: float,
                 p: ParametresZones, libelle_reference: str) -> pd.DataFrame:
    """EPCI: rate against the reference; access tension when enough of its children live in communes of
    difficult access (EAJE or RPE)."""
    c = communes_classees.copy()
    grp = "ept_code" if c.get("ept_code") is not None and c["ept_code"].notna().any() else "epci_siren"
    c["difficile"] = (c["acces_difficile_eaje"].fillna(False) | c["acces_difficile_rpe"].fillna(False)).astype(bool)
    c["connu"] = c["dist_eaje_km"].notna()
    enf = c["enfants_moins_3"].fillna(0)
    g = pd.DataFrame({"e_diff": enf.where(c["difficile"], 0), "e_connu": enf.where(c["connu"], 0),
                      "epci": c[grp]}).groupby("epci").sum()
    part = (g["e_diff"] / g["e_connu"].where(g["e_connu"] > 0)).reindex(ind_epci["code"].astype(str))
    taux = ind_epci["taux_eaje" if mesure == "eaje" else "txcouv_caf"].to_numpy(dtype=float)
    seuil = p.part_reference * reference
    out = pd.DataFrame({"code": ind_epci["code"].astype(str).to_numpy(), "nom": ind_epci["nom"].to_numpy(),
                        "niveau": "ept" if grp == "ept_code" else "epci", "enfants_moins_3": ind_epci["enfants_moins_3"].to_numpy(float),
                        "taux": taux, "reference": seuil, "part_enfants_acces_difficile": part.to_numpy(float),
                        "qpv": ind_epci["qpv"].to_numpy(), "frr_zrr": ind_epci["frr_zrr"].to_numpy()})
    out["offre_insuffisante"] = _flag(taux < seuil, np.isfinite(taux))
    pa = out["part_enfants_acces_difficile"].to_numpy(float)
    out["acces_difficile"] = _flag(pa >= p.part_enfants_acces, np.isfinite(pa))
    flags = out[["offre_insuffisante", "acces_difficile"]]
    z = pd.array(flags.fillna(False).any(axis=1).to_numpy(), dtype="boolean")
    z[flags.isna().all(axis=1).to_numpy()] = pd.NA
    out["zone_en_tension"] = z
    out["motifs"] = [_motifs_epci(r, mesure, libelle_reference, p) for r in out.itertuples()]
    return out


def _motifs_epci(r, mesure: str, libelle_reference: str, p: ParametresZones) -> str:
    parts = []
    if est_vrai(r.offre_insuffisante):
        parts.append(f"{MESURES[mesure]} {fr_number(r.taux, 1)} < {fr_number(r.reference, 1)} ({libelle_reference})")
    if est_vrai(r.acces_difficile):
        parts.append(f"{fr_ratio(r.part_enfants_acces_difficile, 0)} des enfants dans une commune d'accès difficile "
                     f"(seuil {fr_ratio(p.part_enfants_acces, 0)})")
    if not parts:
        return "donnée non disponible" if pd.isna(r.zone_en_tension) else "aucun critère atteint"
    return " ; ".join(parts)


def notes(p: ParametresZones, mesure: str, libelle_reference: str) -> list[str]:
    """The sentences every screen and document prints under the classification."""
    return [
        f"Offre insuffisante : {MESURES[mesure]} inférieur à {fr_ratio(p.part_reference, 0)} de la référence "
        f"({libelle_reference}) ; communes de moins de {fr_number(p.enfants_minimum, 0)} enfants de moins de 3 ans "
        "non jugées sur leur taux.",
        f"Accès difficile : distance du point représentatif de la commune (faute de point pondéré par la population) "
        f"à la place d'EAJE la plus proche (> {fr_number(p.distance_eaje_km, 0)} km) ou au RPE le plus proche "
        f"(> {fr_number(p.distance_rpe_km, 0)} km) — {LIBELLE_DISTANCE} × {fr_number(p.facteur_detour, 1)} "
        "(facteur de détour). Seules les structures des départements couverts par la liste sont connues : près "
        "d'une limite départementale, la distance peut être surestimée.",
        "Lecture « désert » : plus de 3 enfants de moins de 3 ans par place d'EAJE (Center for American Progress), "
        "lecture complémentaire, pas une norme française. QPV et FRR affichés à côté, non utilisés dans le classement.",
        "Seuils : paramètres datés sppe.zones_* (page Barèmes), valeurs par défaut « à vérifier ».",
    ]
