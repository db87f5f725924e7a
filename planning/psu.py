"""PSU (prestation de service unique) of one EAJE for one year.

``PSU = taux_psu × min(prix de revient horaire, prix plafond) × heures facturées
− participations familiales``, floored at zero, times the share of the régime
général.  The prix plafond depends on the service level (couches, repas) and on
the taux de facturation, with two rules: "paliers" (3 bands, until 2024) and
"lineaire" (from 2025).  Every number comes from ``planning/baremes/psu.yaml``.

This module also holds :class:`Montant`, the self-explaining amount used by
the whole rules engine (participations, bonus, simulation), and the French
number formatting of the formulas.

The ``*_array`` helpers take numpy arrays (or scalars) and are shared by the
scalar engine and the vectorised one, so both compute the same thing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .formats import fr_number
from .parametres import Baremes, ParamValue

# Tolerance for comparisons of ratios typed by users against thresholds
# (1.07 typed in a scenario must fall in the "≤ 107 %" band).
EPS = 1e-9

NIVEAUX_SERVICE = ("couches_et_repas", "repas_seuls", "couches_seules", "ni_couches_ni_repas")
LIBELLES_NIVEAU = {
    "couches_et_repas": "couches et repas fournis",
    "repas_seuls": "repas fournis, pas les couches",
    "couches_seules": "couches fournies, pas les repas",
    "ni_couches_ni_repas": "ni couches ni repas fournis",
}
REGLES = ("paliers", "lineaire")
LIBELLES_REGLE = {"paliers": "règle par paliers (jusqu'en 2024)", "lineaire": "règle linéaire (depuis 2025)"}


# --------------------------------------------------------------------------
# French formatting
# --------------------------------------------------------------------------
def fr_nombre(x: float, decimales: int = 2) -> str:
    """1234.5 -> '1 234,50' (narrow no-break space as thousands separator)."""
    return fr_number(x, decimales)


def fr_euros(x: float, decimales: int = 2) -> str:
    return f"{fr_nombre(x, decimales)} €"


def fr_pct(ratio: float, decimales: int = 1) -> str:
    """0.563 -> '56,3 %'."""
    return f"{fr_nombre(100 * float(ratio), decimales)} %"


def fr_taux(ratio: float) -> str:
    """Small rates such as 0.000619 -> '0,0619 %' (up to 4 decimals, trailing zeros kept short)."""
    s = f"{100 * float(ratio):.4f}".rstrip("0").rstrip(".")
    return s.replace(".", ",") + " %"


# --------------------------------------------------------------------------
# Self-explaining amount
# --------------------------------------------------------------------------
@dataclass
class Montant:
    """An amount with its 'détail du calcul' (inputs, dated parameters, formula)."""

    libelle: str
    valeur: float
    formule: str
    entrees: dict[str, Any] = field(default_factory=dict)
    parametres: list[ParamValue] = field(default_factory=list)
    details: list["Montant"] = field(default_factory=list)
    unite: str = "€"

    def __float__(self) -> float:
        return float(self.valeur)

    @property
    def a_verifier(self) -> bool:
        return any(p.a_verifier for p in self.parametres) or any(d.a_verifier for d in self.details)

    def explain(self) -> dict[str, Any]:
        return {
            "libelle": self.libelle,
            "valeur": _jsonable(self.valeur),
            "unite": self.unite,
            "formule": self.formule,
            "entrees": {k: _jsonable(v) for k, v in self.entrees.items()},
            "parametres": [p.explain() for p in self.parametres],
            "a_verifier": self.a_verifier,
            "details": [d.explain() for d in self.details],
        }


def _jsonable(v: Any) -> Any:
    if isinstance(v, (np.floating,)):
        return float(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return v


# --------------------------------------------------------------------------
# Prix plafond
# --------------------------------------------------------------------------
def niveau_service(fournit_couches: bool = True, fournit_repas: bool = True) -> str:
    if fournit_couches and fournit_repas:
        return "couches_et_repas"
    if fournit_repas:
        return "repas_seuls"
    if fournit_couches:
        return "couches_seules"
    return "ni_couches_ni_repas"


def regle_facturation(annee: int, baremes: Baremes) -> ParamValue:
    return baremes.get("psu.regle_taux_facturation", annee)


def _seuils_lineaire(annee: int, baremes: Baremes) -> ParamValue:
    """Bounds of the linear rule; for a year before 2025 the 2025 bounds are used
    (so the reform can be applied to any year for comparison)."""
    name = "psu.seuils_lineaire_facturation"
    defn = baremes.definition(name)
    first = defn.valeurs[0][0].year
    return baremes.get(name, max(annee, first))


def coefficient_tranche_array(taux_facturation, regle: str, seuils, coefs: dict) -> np.ndarray:
    """Multiplier of the reference prix plafond for a taux de facturation (vectorised)."""
    t = np.asarray(taux_facturation, dtype=float)
    bas, milieu, haut = float(coefs["bas"]), float(coefs["milieu"]), float(coefs["haut"])
    s1, s2 = float(seuils[0]), float(seuils[1])
    if regle == "paliers":
        return np.where(t <= s1 + EPS, bas, np.where(t <= s2 + EPS, milieu, haut))
    if regle == "lineaire":
        frac = np.clip((t - s1) / (s2 - s1), 0.0, 1.0)
        return bas - frac * (bas - haut)
    raise ValueError(f"Règle de taux de facturation inconnue : {regle} (attendu : paliers ou lineaire).")


def coefficients_tranche(annee: int, baremes: Baremes, regle: str) -> tuple[dict, list[ParamValue], str]:
    """Band coefficients for a year, relative to that year's reference prix plafond, with the parameters
    used and a French note.  Under the linear rule, from the year the ≥ 120 % plateau is frozen
    (``psu.annee_gel_plateau_haut``), the high coefficient is scaled so that the plateau stays at the
    frozen year's level (plus ``psu.revalorisation_2025_plateau_haut``, 0 or 2 %)."""
    tr = baremes.get("psu.coefficients_tranche_facturation", annee)
    coefs = dict(tr.valeur)
    if regle != "lineaire":
        return coefs, [tr], ""
    gel = baremes.get_or_none("psu.annee_gel_plateau_haut", annee)
    if gel is None:
        return coefs, [tr], ""
    reval = baremes.get("psu.revalorisation_2025_plateau_haut", annee)
    ref_y = baremes.get("psu.prix_plafond_reference", annee)
    ref_gel = baremes.get("psu.prix_plafond_reference", int(gel.valeur))
    facteur = float(ref_gel.valeur) * (1.0 + float(reval.valeur)) / float(ref_y.valeur)
    coefs["haut"] = float(coefs["haut"]) * facteur
    note = (f"plateau à partir de {fr_pct(_seuils_lineaire(annee, baremes).valeur[1], 0)} gelé au niveau "
            f"{gel.valeur} : référence {fr_nombre(ref_gel.valeur)} €/h × (1 + {fr_pct(reval.valeur, 0)}) "
            f"÷ {fr_nombre(ref_y.valeur)} €/h = × {fr_nombre(facteur, 4)} sur le coefficient haut")
    return coefs, [tr, gel, reval, ref_gel], note


def prix_plafond(annee: int, taux_facturation: float, niveau: str, baremes: Baremes,
                 regle: str | None = None) -> Montant:
    """Hourly prix plafond for a year, a taux de facturation and a service level.

    ``regle`` forces "paliers" or "lineaire" (to compare the reform); by default
    the rule in force that year.
    """
    ref = baremes.get("psu.prix_plafond_reference", annee)
    niv = baremes.get("psu.coefficients_niveau_service", annee)
    regle_pv = regle_facturation(annee, baremes)
    used_regle = regle or regle_pv.valeur
    coefs, tr_params, gel_note = coefficients_tranche(annee, baremes, used_regle)
    seuils_pv = baremes.get("psu.seuils_paliers_facturation", annee) if used_regle == "paliers" \
        else _seuils_lineaire(annee, baremes)
    if niveau not in niv.valeur:
        raise ValueError(f"Niveau de service inconnu : {niveau} (attendu : {', '.join(NIVEAUX_SERVICE)}).")
    c_niv = float(niv.valeur[niveau])
    c_tr = float(coefficient_tranche_array(taux_facturation, used_regle, seuils_pv.valeur, coefs))
    valeur = float(ref.valeur) * c_niv * c_tr
    s1, s2 = seuils_pv.valeur
    if used_regle == "paliers":
        detail_tr = (f"tranche selon le taux de facturation {fr_pct(taux_facturation)} "
                     f"(≤ {fr_pct(s1, 0)} : {fr_nombre(coefs['bas'], 3)} ; jusqu'à {fr_pct(s2, 0)} : "
                     f"{fr_nombre(coefs['milieu'], 3)} ; au-delà : {fr_nombre(coefs['haut'], 3)})")
    else:
        detail_tr = (f"coefficient linéaire entre {fr_nombre(coefs['bas'], 3)} à {fr_pct(s1, 0)} et "
                     f"{fr_nombre(coefs['haut'], 4)} à {fr_pct(s2, 0)}, pour {fr_pct(taux_facturation)}"
                     + (f" ; {gel_note}" if gel_note else ""))
    formule = (f"prix plafond = référence {fr_nombre(ref.valeur)} €/h × niveau de service "
               f"{fr_nombre(c_niv, 3)} ({LIBELLES_NIVEAU.get(niveau, niveau)}) × coefficient de facturation "
               f"{fr_nombre(c_tr, 4)} [{detail_tr}] = {fr_nombre(valeur, 4)} €/h ({LIBELLES_REGLE[used_regle]})")
    params = [ref, niv, *tr_params, seuils_pv] + ([regle_pv] if regle is None else [])
    return Montant("Prix plafond horaire", valeur, formule,
                   {"annee": annee, "taux_facturation": taux_facturation, "niveau_service": niveau,
                    "regle": used_regle},
                   params, unite="€/h")


# --------------------------------------------------------------------------
# PSU
# --------------------------------------------------------------------------
def psu_array(taux_psu, prix_retenu, heures_facturees, participations, part_rg) -> np.ndarray:
    """max(0, taux × prix × heures − participations) × part du régime général (vectorised)."""
    brut = np.asarray(taux_psu, float) * np.asarray(prix_retenu, float) * np.asarray(heures_facturees, float) \
        - np.asarray(participations, float)
    return np.maximum(brut, 0.0) * np.asarray(part_rg, float)


def calcul_psu(annee: int, *, prix_revient_horaire: float, heures_facturees: float, taux_facturation: float,
               participations_familiales: float, part_regime_general: float, baremes: Baremes,
               niveau: str = "couches_et_repas", regle: str | None = None) -> Montant:
    """PSU of a structure for a year (heures facturées = all the structure's billed hours)."""
    taux = baremes.get("psu.taux_psu", annee)
    pp = prix_plafond(annee, taux_facturation, niveau, baremes, regle)
    retenu = min(float(prix_revient_horaire), pp.valeur)
    brut = float(taux.valeur) * retenu * float(heures_facturees) - float(participations_familiales)
    valeur = float(psu_array(taux.valeur, retenu, heures_facturees, participations_familiales, part_regime_general))
    formule = (f"PSU = max(0 ; {fr_pct(taux.valeur, 0)} × min({fr_nombre(prix_revient_horaire)} €/h ; "
               f"{fr_nombre(pp.valeur, 4)} €/h) × {fr_nombre(heures_facturees, 0)} h facturées − "
               f"{fr_euros(participations_familiales)} de participations familiales) × "
               f"{fr_pct(part_regime_general)} régime général = max(0 ; {fr_euros(brut)}) × "
               f"{fr_pct(part_regime_general)} = {fr_euros(valeur)}")
    return Montant("Prestation de service unique (PSU)", valeur, formule,
                   {"prix_revient_horaire": prix_revient_horaire, "heures_facturees": heures_facturees,
                    "taux_facturation": taux_facturation, "participations_familiales": participations_familiales,
                    "part_regime_general": part_regime_general, "niveau_service": niveau,
                    "prix_retenu": retenu},
                   [taux], [pp])


def comparer_regles_facturation(annee: int, *, prix_revient_horaire: float, heures_facturees: float,
                                taux_facturation: float, participations_familiales: float,
                                part_regime_general: float, baremes: Baremes,
                                niveau: str = "couches_et_repas") -> dict[str, Any]:
    """The same structure and year under the banded rule and the linear rule (effect of the 2025 reform)."""
    kw = dict(prix_revient_horaire=prix_revient_horaire, heures_facturees=heures_facturees,
              taux_facturation=taux_facturation, participations_familiales=participations_familiales,
              part_regime_general=part_regime_general, baremes=baremes, niveau=niveau)
    paliers = calcul_psu(annee, regle="paliers", **kw)
    lineaire = calcul_psu(annee, regle="lineaire", **kw)
    ecart = lineaire.valeur - paliers.valeur
    return {
        "annee": annee,
        "taux_facturation": taux_facturation,
        "paliers": paliers,
        "lineaire": lineaire,
        "ecart": ecart,
        "message": (f"Pour un taux de facturation de {fr_pct(taux_facturation)} en {annee}, la règle linéaire "
                    f"donne {fr_euros(lineaire.valeur)} contre {fr_euros(paliers.valeur)} avec les paliers "
                    f"(écart : {'+' if ecart >= 0 else '−'}{fr_euros(abs(ecart))})."),
    }


# --------------------------------------------------------------------------
# Journées pédagogiques (from 2024)
# --------------------------------------------------------------------------
def journees_pedagogiques(annee: int, *, jours: float, places: float, prix_revient_horaire: float,
                          taux_facturation: float, part_regime_general: float, baremes: Baremes,
                          niveau: str = "couches_et_repas") -> Montant:
    """Paid journées pédagogiques, modelled as extra billed hours without family participation."""
    libelle = "Journées pédagogiques"
    try:
        jmax = baremes.get("psu.journees_pedagogiques_max", annee)
        hpj = baremes.get("psu.heures_par_journee_pedagogique", annee)
    except LookupError:
        return Montant(libelle, 0.0, f"pas de journées pédagogiques payées en {annee} (à partir de 2024)",
                       {"jours": jours, "places": places})
    j = min(float(jours), float(jmax.valeur))
    heures = j * float(hpj.valeur) * float(places)
    taux = baremes.get("psu.taux_psu", annee)
    pp = prix_plafond(annee, taux_facturation, niveau, baremes)
    retenu = min(float(prix_revient_horaire), pp.valeur)
    valeur = float(psu_array(taux.valeur, retenu, heures, 0.0, part_regime_general))
    formule = (f"{fr_nombre(j, 0)} jour(s) (au plus {jmax.valeur}) × {fr_nombre(hpj.valeur, 0)} h × "
               f"{fr_nombre(places, 0)} places = {fr_nombre(heures, 0)} h ; {fr_pct(taux.valeur, 0)} × "
               f"{fr_nombre(retenu, 4)} €/h × {fr_nombre(heures, 0)} h × {fr_pct(part_regime_general)} "
               f"régime général = {fr_euros(valeur)}")
    return Montant(libelle, valeur, formule,
                   {"jours": jours, "jours_retenus": j, "places": places, "heures": heures,
                    "prix_retenu": retenu, "part_regime_general": part_regime_general},
                   [jmax, hpj, taux], [pp])
