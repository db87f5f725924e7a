"""Bonuses paid with the PSU (per place and per year).

Bonus mixité sociale, inclusion handicap, attractivité, bonus territoire CTG
(places nouvelles, places existantes, rattrapage) and bonus trajectoire.  Every
threshold is "from" (≥): a value equal to a threshold goes to the next band.
Parameters: ``planning/baremes/bonus.yaml``.

The ``*_array`` helpers are shared by the scalar functions (which add the
'détail du calcul') and the vectorised simulation of many territories.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .parametres import Baremes, ParametreAbsent, ParamValue
from .psu import EPS, Montant, fr_euros, fr_nombre, fr_pct


def _bande(x, seuils) -> np.ndarray:
    """Index of the band: number of thresholds ≤ x (a value at a threshold goes up)."""
    return np.searchsorted(np.asarray(seuils, float), np.asarray(x, float) + EPS, side="right")


def _get_or_none(baremes: Baremes, name: str, annee: int) -> ParamValue | None:
    try:
        return baremes.get(name, annee)
    except ParametreAbsent:
        return None


# --------------------------------------------------------------------------
# Bonus mixité sociale
# --------------------------------------------------------------------------
def _bande_incluse(x, seuils) -> np.ndarray:
    """Index of the band when thresholds are inclusive upper bounds: number of thresholds < x
    (a value equal to a threshold stays in the lower band)."""
    return np.searchsorted(np.asarray(seuils, float), np.asarray(x, float) - EPS, side="right")


def mixite_par_place_array(participation_horaire, seuils, montants) -> np.ndarray:
    """montants = [up to the 1st threshold, up to the 2nd, up to the 3rd]; above the last threshold: 0.
    Thresholds are inclusive upper bounds (« jusqu'à 0,75 € »)."""
    table = np.asarray(list(montants) + [0.0], float)
    return table[_bande_incluse(participation_horaire, seuils)]


def _mixite_params(annee: int, baremes: Baremes):
    s = baremes.get("bonus.mixite_seuils_participation", annee)
    mx = baremes.get("bonus.mixite_montant_max", annee)
    mi = baremes.get("bonus.mixite_montant_intermediaire", annee)
    mn = baremes.get("bonus.mixite_montant_min", annee)
    return s, [mx, mi, mn]


def bonus_mixite(annee: int, *, participation_horaire_moyenne: float, places: float, baremes: Baremes) -> Montant:
    s, ms = _mixite_params(annee, baremes)
    montants = [m.valeur for m in ms]
    par_place = float(mixite_par_place_array(participation_horaire_moyenne, s.valeur, montants))
    v = par_place * float(places)
    s1, s2, s3 = s.valeur
    formule = (f"participation moyenne {fr_nombre(participation_horaire_moyenne)} €/h → "
               f"{fr_euros(par_place, 0)} par place (jusqu'à {fr_nombre(s1)} €/h : {fr_euros(montants[0], 0)} ; "
               f"jusqu'à {fr_nombre(s2)} €/h : {fr_euros(montants[1], 0)} ; jusqu'à {fr_nombre(s3)} €/h : "
               f"{fr_euros(montants[2], 0)} ; au-delà : 0 €) × {fr_nombre(places, 0)} places "
               f"= {fr_euros(v)}")
    if s.confiance_date == "?" and s.depuis is not None:
        formule += (f" — seuils en vigueur depuis le {s.depuis:%d/%m/%Y}, date d'effet à vérifier")
    return Montant("Bonus mixité sociale", v, formule,
                   {"participation_horaire_moyenne": participation_horaire_moyenne, "places": places,
                    "montant_par_place": par_place}, [s, *ms])


# --------------------------------------------------------------------------
# Bonus inclusion handicap
# --------------------------------------------------------------------------
LECTURES_HANDICAP = ("proportionnelle", "toutes_places")


def handicap_par_place_array(part_enfants, cout_par_place, seuils, taux, plafond) -> np.ndarray:
    """Amount per place: min(rate of the band × cost per place, cap); 0 without any child concerned."""
    part = np.asarray(part_enfants, float)
    t = np.asarray(taux, float)[np.minimum(_bande(part, seuils), len(taux) - 1)]
    t = np.where(part > EPS, t, 0.0)  # from the first child with a disability
    return np.minimum(t * np.asarray(cout_par_place, float), float(plafond))


def handicap_places_financees_array(places, part_enfants, lecture: str) -> np.ndarray:
    """Places the per-place amount is paid on: every place (« toutes_places »), or the places
    occupied by the children concerned, places × share (« proportionnelle »)."""
    places = np.asarray(places, float)
    if lecture == "toutes_places":
        return places
    if lecture == "proportionnelle":
        return places * np.clip(np.asarray(part_enfants, float), 0.0, 1.0)
    raise ValueError(f"Lecture du bonus inclusion handicap inconnue : {lecture} "
                     f"(attendu : {' ou '.join(LECTURES_HANDICAP)}).")


def bonus_inclusion_handicap(annee: int, *, part_enfants_handicap: float, cout_par_place: float, places: float,
                             baremes: Baremes, lecture: str | None = None) -> Montant:
    """Bonus inclusion handicap.  ``lecture`` forces one reading of the formula (to compare them); by
    default the one of parameter ``bonus.handicap_lecture`` (a choice flagged « à vérifier »):

    - « toutes_places »: min(rate × cost per place, cap) × every place of the structure;
    - « proportionnelle »: the same amount per place × places × share of children concerned, i.e. paid
      on the places those children occupy (60 places, 1 child in 60: 1 place × at most 1 300 €).
    """
    s = baremes.get("bonus.handicap_seuils_part_enfants", annee)
    t = baremes.get("bonus.handicap_taux", annee)
    p = baremes.get("bonus.handicap_plafond_par_place", annee)
    lec_pv = baremes.get("bonus.handicap_lecture", annee)
    used = lecture or lec_pv.valeur
    par_place = float(handicap_par_place_array(part_enfants_handicap, cout_par_place, s.valeur, t.valeur, p.valeur))
    financees = float(handicap_places_financees_array(places, part_enfants_handicap, used))
    v = par_place * financees
    if part_enfants_handicap <= EPS:
        taux_txt = "aucun enfant en situation de handicap → 0 %"
    else:
        i = min(int(_bande(part_enfants_handicap, s.valeur)), len(t.valeur) - 1)
        taux_txt = (f"{fr_pct(part_enfants_handicap)} d'enfants en situation de handicap → {fr_pct(t.valeur[i], 0)} "
                    f"(seuils {fr_pct(s.valeur[0])} et {fr_pct(s.valeur[1])})")
    base = (f"{taux_txt} ; min(taux × coût par place {fr_euros(cout_par_place)} ; plafond "
            f"{fr_euros(p.valeur, 0)}) = {fr_euros(par_place)} par place")
    if used == "toutes_places":
        formule = f"{base} × {fr_nombre(places, 0)} places (toutes les places) = {fr_euros(v)}"
    else:
        formule = (f"{base} × {fr_nombre(places, 0)} places × {fr_pct(part_enfants_handicap)} d'enfants concernés "
                   f"= {fr_nombre(financees, 2)} place(s) financée(s) → {fr_euros(v)}")
    libelle = baremes.definition("bonus.handicap_lecture").libelle_choix(used)
    formule += (f" — lecture : {libelle}"
                + (", à vérifier : la formule officielle se lit de deux façons" if lec_pv.a_verifier or lecture
                   else ""))
    params = [s, t, p] + ([lec_pv] if lecture is None else [])
    return Montant("Bonus inclusion handicap", v, formule,
                   {"part_enfants_handicap": part_enfants_handicap, "cout_par_place": cout_par_place,
                    "places": places, "montant_par_place": par_place, "places_financees": financees,
                    "lecture": used}, params)


def comparer_lectures_handicap(annee: int, *, part_enfants_handicap: float, cout_par_place: float, places: float,
                               baremes: Baremes) -> dict[str, Montant]:
    """The same structure under both readings of the bonus inclusion handicap."""
    return {lec: bonus_inclusion_handicap(annee, part_enfants_handicap=part_enfants_handicap,
                                          cout_par_place=cout_par_place, places=places, baremes=baremes,
                                          lecture=lec) for lec in LECTURES_HANDICAP}


# --------------------------------------------------------------------------
# Bonus attractivité (2024+)
# --------------------------------------------------------------------------
def bonus_attractivite(annee: int, *, gestion: str, places: float, baremes: Baremes) -> Montant:
    pv = _get_or_none(baremes, "bonus.attractivite_par_place", annee)
    if pv is None:
        return Montant("Bonus attractivité", 0.0, f"pas de bonus attractivité en {annee} (à partir de 2024)",
                       {"gestion": gestion, "places": places})
    par_place = float(pv.valeur[gestion])
    v = par_place * float(places)
    libelle_g = "gestion publique" if gestion == "publique" else "gestion privée"
    return Montant("Bonus attractivité", v,
                   f"{fr_euros(par_place, 0)} par place ({libelle_g}) × {fr_nombre(places, 0)} places = {fr_euros(v)}",
                   {"gestion": gestion, "places": places, "montant_par_place": par_place}, [pv])


# --------------------------------------------------------------------------
# Bonus territoire CTG
# --------------------------------------------------------------------------
def bande_richesse_array(potentiel_financier_hab, prioritaire, seuils, montants) -> np.ndarray:
    """montants = [modest, middle, rich]; priority territories (QPV, ZRR/FRR) get the modest (top) amount.
    A missing potentiel financier (NaN) also gets the top amount only if priority; otherwise the middle one."""
    pf = np.asarray(potentiel_financier_hab, float)
    table = np.asarray(montants, float)
    by_band = table[np.minimum(_bande(np.nan_to_num(pf, nan=0.0), seuils), len(montants) - 1)]
    by_band = np.where(np.isnan(pf), table[1], by_band)
    return np.where(np.asarray(prioritaire, bool), table[0], by_band)


def _territoire_texte(pf: float | None, prioritaire: bool, seuils, montants, par_place: float) -> str:
    if prioritaire:
        return f"territoire prioritaire (QPV ou ZRR/FRR) → montant maximal {fr_euros(par_place, 0)}"
    if pf is None or (isinstance(pf, float) and math.isnan(pf)):
        return f"potentiel financier non renseigné → montant intermédiaire {fr_euros(par_place, 0)}"
    return (f"potentiel financier {fr_nombre(pf, 0)} €/hab → {fr_euros(par_place, 0)} (moins de "
            f"{fr_nombre(seuils[0], 0)} €/hab : {fr_euros(montants[0], 0)} ; à partir de {fr_nombre(seuils[0], 0)} : "
            f"{fr_euros(montants[1], 0)} ; à partir de {fr_nombre(seuils[1], 0)} : {fr_euros(montants[2], 0)})")


def _pf_or_nan(pf):
    return float("nan") if pf is None else float(pf)


def bonus_territoire_places_nouvelles(annee: int, *, places: float, potentiel_financier_hab: float | None,
                                      prioritaire: bool, baremes: Baremes) -> Montant:
    s = baremes.get("bonus.territoire_seuils_potentiel_financier", annee)
    ms = [baremes.get(f"bonus.territoire_nouvelles_montant_{k}", annee) for k in ("max", "intermediaire", "min")]
    montants = [m.valeur for m in ms]
    par_place = float(bande_richesse_array(_pf_or_nan(potentiel_financier_hab), prioritaire, s.valeur, montants))
    v = par_place * float(places)
    formule = (f"{_territoire_texte(potentiel_financier_hab, prioritaire, s.valeur, montants, par_place)} × "
               f"{fr_nombre(places, 0)} places nouvelles = {fr_euros(v)}")
    return Montant("Bonus territoire — places nouvelles", v, formule,
                   {"places_nouvelles": places, "potentiel_financier_hab": potentiel_financier_hab,
                    "prioritaire": prioritaire, "montant_par_place": par_place}, [s, *ms])


def indexation_cumulee(annee: int, annee_reference: int, baremes: Baremes) -> tuple[float, list[ParamValue]]:
    """Product of (1 + indexation) for the years after the reference year up to ``annee`` (a year before the
    bonus territoire existed has no indexation: factor 1)."""
    facteur, used = 1.0, []
    for y in range(annee_reference + 1, annee + 1):
        pv = _get_or_none(baremes, "bonus.territoire_existantes_indexation", y)
        if pv is None:
            continue
        facteur *= 1.0 + float(pv.valeur)
        if pv not in used:
            used.append(pv)
    return facteur, used


def existantes_par_place_array(cej_par_place, plancher, facteur) -> np.ndarray:
    cej = np.nan_to_num(np.asarray(cej_par_place, float), nan=0.0)
    return np.maximum(cej, float(plancher)) * float(facteur)


def bonus_territoire_places_existantes(annee: int, *, places: float, montant_cej_par_place: float | None,
                                       annee_reference: int, baremes: Baremes) -> Montant:
    pl = baremes.get("bonus.territoire_existantes_plancher", annee)
    facteur, idx = indexation_cumulee(annee, annee_reference, baremes)
    cej = 0.0 if montant_cej_par_place is None else float(montant_cej_par_place)
    par_place = float(existantes_par_place_array(cej, pl.valeur, facteur))
    v = par_place * float(places)
    formule = (f"max(ancien montant CEJ {fr_euros(cej)} ; plancher {fr_euros(pl.valeur, 0)}) × indexation "
               f"{fr_nombre(facteur, 4)} (depuis {annee_reference}) = {fr_euros(par_place)} par place × "
               f"{fr_nombre(places, 0)} places existantes = {fr_euros(v)}")
    return Montant("Bonus territoire — places existantes", v, formule,
                   {"places_existantes": places, "montant_cej_par_place": montant_cej_par_place,
                    "indexation_cumulee": facteur, "montant_par_place": par_place}, [pl, *idx])


def rattrapage_par_place_array(cej_par_place, potentiel_financier_hab, prioritaire, seuil_cej, seuils,
                               montants) -> np.ndarray:
    cej = np.nan_to_num(np.asarray(cej_par_place, float), nan=0.0)
    amount = bande_richesse_array(potentiel_financier_hab, prioritaire, seuils, montants)
    return np.where(cej < float(seuil_cej) - EPS, amount, 0.0)


def bonus_rattrapage(annee: int, *, places: float, montant_cej_par_place: float | None,
                     potentiel_financier_hab: float | None, prioritaire: bool, baremes: Baremes) -> Montant:
    sc = baremes.get("bonus.rattrapage_seuil_cej", annee)
    s = baremes.get("bonus.territoire_seuils_potentiel_financier", annee)
    ms = [baremes.get(f"bonus.rattrapage_montant_{k}", annee) for k in ("max", "intermediaire", "min")]
    montants = [m.valeur for m in ms]
    cej = 0.0 if montant_cej_par_place is None else float(montant_cej_par_place)
    par_place = float(rattrapage_par_place_array(cej, _pf_or_nan(potentiel_financier_hab), prioritaire,
                                                 sc.valeur, s.valeur, montants))
    v = par_place * float(places)
    if cej >= float(sc.valeur) - EPS:
        formule = (f"ancien montant CEJ {fr_euros(cej)} par place, pas en dessous du seuil "
                   f"{fr_euros(sc.valeur, 0)} → pas de rattrapage")
    else:
        formule = (f"ancien montant CEJ {fr_euros(cej)} < seuil {fr_euros(sc.valeur, 0)} ; "
                   f"{_territoire_texte(potentiel_financier_hab, prioritaire, s.valeur, montants, par_place)} × "
                   f"{fr_nombre(places, 0)} places existantes = {fr_euros(v)}")
    return Montant("Bonus rattrapage", v, formule,
                   {"places_existantes": places, "montant_cej_par_place": montant_cej_par_place,
                    "potentiel_financier_hab": potentiel_financier_hab, "prioritaire": prioritaire,
                    "montant_par_place": par_place}, [sc, s, *ms])


# --------------------------------------------------------------------------
# Bonus trajectoire (from 2025)
# --------------------------------------------------------------------------
def trajectoire_par_place_array(croissance, seuils, montants) -> np.ndarray:
    table = np.asarray([0.0] + list(montants), float)
    return table[_bande(croissance, seuils)]


@dataclass
class PalierTrajectoire:
    """Growth of the territory's co-financed PSU places and the bonus trajectoire tier reached."""

    annee: int
    annee_reference: int
    annee_mesure: int
    places_reference: float
    places: float
    croissance: float
    en_vigueur: bool
    palier: float | None          # growth threshold reached (0.04…) or None
    montant_par_place: float
    palier_suivant: float | None
    places_manquantes: int | None
    message: str
    parametres: list[ParamValue]

    def to_dict(self) -> dict[str, Any]:
        return {
            "annee": self.annee, "annee_reference": self.annee_reference, "annee_mesure": self.annee_mesure,
            "places_reference": self.places_reference, "places": self.places, "croissance": self.croissance,
            "en_vigueur": self.en_vigueur, "palier_atteint": self.palier, "montant_par_place": self.montant_par_place,
            "palier_suivant": self.palier_suivant, "places_manquantes": self.places_manquantes,
            "message": self.message, "parametres": [p.explain() for p in self.parametres],
        }


def places_pour_palier(places_reference: float, seuil: float) -> int:
    """Smallest whole number of places whose growth over the reference reaches ``seuil``."""
    return math.ceil(round(float(places_reference) * (1.0 + float(seuil)), 6))


def palier_trajectoire(annee: int, *, places_reference: float, places_par_annee: dict[int, float],
                       baremes: Baremes) -> PalierTrajectoire:
    """Tier of the bonus trajectoire for ``annee``: growth between the reference year (2023) and
    min(annee, 2027) of the co-financed PSU places (``places_par_annee``: year → places)."""
    seuils_pv = _get_or_none(baremes, "bonus.trajectoire_seuils_croissance", annee)
    en_vigueur = seuils_pv is not None
    ref_year_param = baremes.definition("bonus.trajectoire_annee_reference").valeurs[0][0].year
    when = annee if en_vigueur else ref_year_param
    seuils_pv = seuils_pv or baremes.get("bonus.trajectoire_seuils_croissance", when)
    montants_pv = baremes.get("bonus.trajectoire_montants", when)
    ref_pv = baremes.get("bonus.trajectoire_annee_reference", when)
    fin_pv = baremes.get("bonus.trajectoire_annee_fin", when)
    annee_mesure = min(annee, int(fin_pv.valeur))
    places = float(places_par_annee.get(annee_mesure, places_par_annee.get(annee, 0.0)))
    base = float(places_reference)
    croissance = (places - base) / base if base > 0 else (0.0 if places <= 0 else float("inf"))
    seuils, montants = list(seuils_pv.valeur), list(montants_pv.valeur)
    i = int(_bande(croissance if math.isfinite(croissance) else 1e9, seuils))
    palier = seuils[i - 1] if i > 0 else None
    par_place = float(montants[i - 1]) if (i > 0 and en_vigueur) else 0.0
    suivant = seuils[i] if i < len(seuils) else None
    manquantes = None
    if suivant is not None and base > 0:
        manquantes = max(0, places_pour_palier(base, suivant) - int(math.ceil(places - EPS)))
    croiss_txt = (f"{'+' if croissance >= 0 else '−'}{fr_pct(abs(croissance))}" if math.isfinite(croissance)
                  else "non mesurable (aucune place en référence)")
    parts = [f"{annee} : {fr_nombre(places, 0)} places PSU cofinancées ({annee_mesure}) contre "
             f"{fr_nombre(base, 0)} en {ref_pv.valeur}, croissance {croiss_txt}."]
    if palier is not None:
        parts.append(f"Palier +{fr_pct(palier, 0)} atteint"
                     + (f" : {fr_euros(par_place, 0)} par place." if en_vigueur else "."))
    else:
        parts.append("Aucun palier atteint.")
    if suivant is not None and manquantes is not None:
        parts.append(f"Il manque {manquantes} place{'s' if manquantes > 1 else ''} pour atteindre "
                     f"+{fr_pct(suivant, 0)}.")
    if not en_vigueur:
        parts.append(f"Bonus trajectoire versé à partir de {seuils_pv.depuis.year if seuils_pv.depuis else '2025'}.")
    return PalierTrajectoire(annee, int(ref_pv.valeur), annee_mesure, base, places, croissance, en_vigueur,
                             palier, par_place, suivant, manquantes, " ".join(parts),
                             [seuils_pv, montants_pv, ref_pv, fin_pv])


def bonus_trajectoire(palier: PalierTrajectoire, *, places: float) -> Montant:
    v = palier.montant_par_place * float(places)
    return Montant("Bonus trajectoire", v,
                   f"{palier.message} {fr_euros(palier.montant_par_place, 0)} par place × "
                   f"{fr_nombre(places, 0)} places = {fr_euros(v)}",
                   {"places": places, "croissance": palier.croissance, "montant_par_place": palier.montant_par_place},
                   list(palier.parametres))
