"""Participations familiales in collective care (national Cnaf barème).

Hourly rate = monthly resources bounded by a floor and a ceiling × taux d'effort
(by number of children; a child with AEEH moves the family one rate down).
Parameters: ``planning/baremes/participations.yaml``; the floor and the ceiling
change during the year, so the family calculator takes a date.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from .parametres import Baremes, _as_date
from .psu import Montant, fr_euros, fr_nombre, fr_taux


def rang_taux_effort(nb_enfants: int, aeeh: bool, decalage: int, rangs: list[int]) -> int:
    """Row of the barème used: number of children, moved down by ``decalage`` with AEEH, within the table."""
    n = int(nb_enfants) + (int(decalage) if aeeh else 0)
    return max(min(rangs), min(n, max(rangs)))


def taux_effort(quand: int | dt.date | str, nb_enfants: int, aeeh: bool, baremes: Baremes) -> Montant:
    if int(nb_enfants) < 1:
        raise ValueError("Le nombre d'enfants à charge doit être au moins 1.")
    pv = baremes.get("participations.taux_effort_collectif", quand)
    dec = baremes.get("participations.decalage_aeeh", quand)
    table = {int(k): float(v) for k, v in pv.valeur.items()}
    rang = rang_taux_effort(nb_enfants, aeeh, dec.valeur, list(table))
    taux = table[rang]
    formule = (f"taux d'effort de la ligne « {rang} enfant(s) » = {fr_taux(taux)}"
               + (f" ({nb_enfants} enfant(s), AEEH : un rang plus bas)" if aeeh else ""))
    return Montant("Taux d'effort horaire", taux, formule,
                   {"nb_enfants": nb_enfants, "aeeh": aeeh, "rang": rang}, [pv, dec], unite="ratio")


def ressources_retenues(quand: int | dt.date | str, ressources_mensuelles: float, baremes: Baremes) -> Montant:
    pl = baremes.get("participations.plancher_ressources", quand)
    pf = baremes.get("participations.plafond_ressources", quand)
    r = float(ressources_mensuelles)
    valeur = min(max(r, float(pl.valeur)), float(pf.valeur))
    borne = " (plancher)" if valeur > r else (" (plafond)" if valeur < r else "")
    formule = (f"ressources retenues = min(max({fr_euros(r)} ; plancher {fr_euros(pl.valeur)}) ; "
               f"plafond {fr_euros(pf.valeur)}) = {fr_euros(valeur)}{borne}")
    return Montant("Ressources mensuelles retenues", valeur, formule,
                   {"ressources_mensuelles": r}, [pl, pf], unite="€/mois")


@dataclass
class ParticipationFamille:
    date: dt.date
    ressources: Montant
    taux: Montant
    tarif_horaire: Montant
    montant_mensuel: Montant

    def to_dict(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "tarif_horaire": self.tarif_horaire.valeur,
            "montant_mensuel": self.montant_mensuel.valeur,
            "detail": self.montant_mensuel.explain(),
        }


def participation_famille(quand: int | dt.date | str, *, ressources_mensuelles: float, nb_enfants: int,
                          heures_mensuelles: float, baremes: Baremes, aeeh: bool = False) -> ParticipationFamille:
    """Family calculator: hourly rate and monthly amount for given resources, children, AEEH and hours."""
    if float(ressources_mensuelles) < 0 or float(heures_mensuelles) < 0:
        raise ValueError("Les ressources et les heures doivent être positives ou nulles.")
    when = _as_date(quand)
    res = ressources_retenues(when, ressources_mensuelles, baremes)
    te = taux_effort(when, nb_enfants, aeeh, baremes)
    tarif = res.valeur * te.valeur
    tarif_m = Montant("Participation familiale horaire", tarif,
                      f"tarif horaire = {fr_euros(res.valeur)} × {fr_taux(te.valeur)} = {fr_nombre(tarif, 4)} €/h",
                      {}, [], [res, te], unite="€/h")
    mensuel = tarif * float(heures_mensuelles)
    mens_m = Montant("Participation familiale mensuelle", mensuel,
                     f"montant mensuel = {fr_nombre(tarif, 4)} €/h × {fr_nombre(heures_mensuelles, 1)} h "
                     f"= {fr_euros(mensuel)}",
                     {"heures_mensuelles": float(heures_mensuelles)}, [], [tarif_m])
    return ParticipationFamille(when, res, te, tarif_m, mens_m)


def participations_structure(*, heures_facturees: float, participation_horaire_moyenne: float | None = None,
                             montant: float | None = None) -> Montant:
    """Total participations familiales of a structure for a year: an input amount, or
    the average hourly participation × billed hours."""
    libelle = "Participations familiales"
    if montant is not None:
        return Montant(libelle, float(montant), f"montant saisi : {fr_euros(montant)}",
                       {"montant_saisi": float(montant)})
    if participation_horaire_moyenne is None:
        raise ValueError("Indiquer la participation horaire moyenne ou le montant des participations familiales.")
    v = float(participation_horaire_moyenne) * float(heures_facturees)
    return Montant(libelle, v,
                   f"{fr_nombre(participation_horaire_moyenne, 2)} €/h en moyenne × "
                   f"{fr_nombre(heures_facturees, 0)} h facturées = {fr_euros(v)}",
                   {"participation_horaire_moyenne": float(participation_horaire_moyenne),
                    "heures_facturees": float(heures_facturees)})
