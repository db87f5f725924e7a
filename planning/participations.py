"""Participations familiales (national Cnaf barème) at a contract date.

Hourly rate = monthly resources bounded by a floor and a ceiling × taux d'effort.  The taux d'effort
depends on the number of children in charge and on the kind of care: collective, familial, parental,
micro-crèche (the familial table until August 2019, the collective one since).  Each child with AEEH
in the family moves it to the next lower rate.  The floor, the ceiling and the rates change during
the year, so every function takes a date.  Parameters: ``planning/baremes/participations.yaml``.

:func:`participation_famille` is the one function behind the simulator's family calculator and
``python -m planning participation`` (see :func:`main`).
"""
from __future__ import annotations

import datetime as dt
import json
import sys
from dataclasses import dataclass
from typing import Any

from .parametres import Baremes, ParametreAbsent, ParamValue, as_date
from .formats import fr_euros, fr_number, fr_small_ratio
from .psu import Montant

ACCUEILS = ("collectif", "familial", "parental", "micro_creche")
LIBELLES_ACCUEIL = {"collectif": "accueil collectif", "familial": "accueil familial",
                    "parental": "accueil parental", "micro_creche": "micro-crèche (PSU)"}
MAX_ENFANTS = 30
MAX_RESSOURCES = 1e7


def table_taux_effort(quand: int | dt.date | str, accueil: str, baremes: Baremes) -> tuple[ParamValue, list[ParamValue]]:
    """The taux d'effort table for a kind of care at a date, and the parameters that chose it."""
    if accueil not in ACCUEILS:
        raise ValueError(f"Type d'accueil inconnu : {accueil} (attendu : {', '.join(ACCUEILS)}).")
    choix: list[ParamValue] = []
    table = "collectif" if accueil == "collectif" else "familial"
    if accueil == "micro_creche":
        mc = baremes.get("participations.bareme_micro_creche", quand)
        choix.append(mc)
        table = mc.valeur
    return baremes.get(f"participations.taux_effort_{table}", quand), choix


def taux_effort(quand: int | dt.date | str, nb_enfants: int, aeeh: bool | int, baremes: Baremes,
                accueil: str = "collectif") -> Montant:
    """Rate for ``nb_enfants`` children in charge; ``aeeh``: True (one child with AEEH) or the number of
    such children — each moves the family to the next lower rate of the table."""
    if int(nb_enfants) < 1:
        raise ValueError("Le nombre d'enfants à charge doit être au moins 1.")
    n_aeeh = int(aeeh)
    if n_aeeh < 0:
        raise ValueError("Le nombre d'enfants bénéficiaires de l'AEEH ne peut pas être négatif.")
    pv, choix = table_taux_effort(quand, accueil, baremes)
    dec = baremes.get("participations.decalage_aeeh", quand)
    table = {int(k): float(v) for k, v in pv.valeur.items()}
    derniere = max(table)
    ligne = min(int(nb_enfants), derniere)
    taux_base = table[ligne]
    # distinct rates, highest first: AEEH moves down this list (« taux immédiatement inférieur »)
    distincts = sorted(set(table.values()), reverse=True)
    pas = int(dec.valeur) * n_aeeh
    taux = distincts[min(distincts.index(taux_base) + pas, len(distincts) - 1)]
    rang = min(k for k, v in table.items() if v == taux)
    libelle_ligne = f"{ligne} enfant{'s' if ligne > 1 else ''}" + (" et plus" if ligne == derniere else "")
    formule = f"{LIBELLES_ACCUEIL[accueil]}, {libelle_ligne} → {fr_small_ratio(taux_base)}"
    if n_aeeh:
        formule += (f" ; {n_aeeh} enfant{'s' if n_aeeh > 1 else ''} bénéficiaire{'s' if n_aeeh > 1 else ''} de "
                    f"l'AEEH : {pas} taux plus bas → {fr_small_ratio(taux)}")
    return Montant("Taux d'effort horaire", taux, formule,
                   {"nb_enfants": int(nb_enfants), "aeeh": n_aeeh, "accueil": accueil, "rang": rang,
                    "ligne": ligne}, [pv, *choix, dec], unite="ratio")


def ressources_retenues(quand: int | dt.date | str, ressources_mensuelles: float, baremes: Baremes) -> Montant:
    pl = baremes.get("participations.plancher_ressources", quand)
    pf = baremes.get("participations.plafond_ressources", quand)
    r = float(ressources_mensuelles)
    valeur = min(max(r, float(pl.valeur)), float(pf.valeur))
    borne = " (plancher)" if valeur > r else (" (plafond)" if valeur < r else "")
    formule = (f"ressources retenues = min(max({fr_euros(r, 2)} ; plancher {fr_euros(pl.valeur, 2)}) ; "
               f"plafond {fr_euros(pf.valeur, 2)}) = {fr_euros(valeur, 2)}{borne}")
    return Montant("Ressources mensuelles retenues", valeur, formule,
                   {"ressources_mensuelles": r}, [pl, pf], unite="€/mois")


@dataclass
class ParticipationFamille:
    date: dt.date
    accueil: str
    ressources: Montant
    taux: Montant
    tarif_horaire: Montant
    montant_mensuel: Montant

    def parametres(self) -> list[ParamValue]:
        return [*self.ressources.parametres, *self.taux.parametres]

    def to_dict(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "accueil": self.accueil,
            "ressources_mensuelles": self.ressources.entrees["ressources_mensuelles"],
            "ressources_retenues": self.ressources.valeur,
            "taux_effort": self.taux.valeur,
            "taux_effort_pct": round(100 * self.taux.valeur, 6),
            "tarif_horaire": self.tarif_horaire.valeur,
            "tarif_horaire_arrondi": round(self.tarif_horaire.valeur, 2),
            "montant_mensuel": self.montant_mensuel.valeur,
            "formule": self.tarif_horaire.formule,
            "a_verifier": any(p.a_verifier for p in self.parametres()),
            "parametres": [p.explain() for p in self.parametres()],
            "detail": self.montant_mensuel.explain(),
        }


def participation_famille(quand: int | dt.date | str, *, ressources_mensuelles: float, nb_enfants: int,
                          heures_mensuelles: float = 0.0, baremes: Baremes, aeeh: bool | int = False,
                          accueil: str = "collectif") -> ParticipationFamille:
    """Family calculator: hourly rate and monthly amount at a contract date."""
    if float(ressources_mensuelles) < 0 or float(heures_mensuelles) < 0:
        raise ValueError("Les ressources et les heures doivent être positives ou nulles.")
    when = as_date(quand)
    res = ressources_retenues(when, ressources_mensuelles, baremes)
    te = taux_effort(when, nb_enfants, aeeh, baremes, accueil)
    tarif = res.valeur * te.valeur
    tarif_m = Montant("Participation familiale horaire", tarif,
                      f"tarif horaire = {fr_euros(res.valeur, 2)} × {fr_small_ratio(te.valeur)} = {fr_number(tarif, 4)} €/h",
                      {}, [], [res, te], unite="€/h")
    mensuel = tarif * float(heures_mensuelles)
    mens_m = Montant("Participation familiale mensuelle", mensuel,
                     f"montant mensuel = {fr_number(tarif, 4)} €/h × {fr_number(heures_mensuelles, 1)} h "
                     f"= {fr_euros(mensuel, 2)}",
                     {"heures_mensuelles": float(heures_mensuelles)}, [], [tarif_m])
    return ParticipationFamille(when, accueil, res, te, tarif_m, mens_m)


def participations_structure(*, heures_facturees: float, participation_horaire_moyenne: float | None = None,
                             montant: float | None = None) -> Montant:
    """Total participations familiales of a structure for a year: an input amount, or
    the average hourly participation × billed hours."""
    libelle = "Participations familiales"
    if montant is not None:
        return Montant(libelle, float(montant), f"montant saisi : {fr_euros(montant, 2)}",
                       {"montant_saisi": float(montant)})
    if participation_horaire_moyenne is None:
        raise ValueError("Indiquer la participation horaire moyenne ou le montant des participations familiales.")
    v = float(participation_horaire_moyenne) * float(heures_facturees)
    return Montant(libelle, v,
                   f"{fr_number(participation_horaire_moyenne, 2)} €/h en moyenne × "
                   f"{fr_number(heures_facturees, 0)} h facturées = {fr_euros(v, 2)}",
                   {"participation_horaire_moyenne": float(participation_horaire_moyenne),
                    "heures_facturees": float(heures_facturees)})


# --------------------------------------------------------------------------
# Command line: python -m planning participation …
# --------------------------------------------------------------------------
USAGE = ("Usage : python -m planning participation --date AAAA-MM-JJ --ressources R --enfants N "
         "[--accueil collectif|familial|parental|micro_creche] [--aeeh [N]] [--heures H] [--json]")
_OPTIONS = {"--date", "--ressources", "--enfants", "--accueil", "--aeeh", "--heures", "--json"}


class _ErreurUsage(ValueError):
    pass


def _lire_args(argv: list[str]) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    i = 0
    while i < len(argv):
        a = argv[i]
        key, val = (a.split("=", 1) + [None])[:2] if a.startswith("--") else (a, None)
        if key not in _OPTIONS:
            raise _ErreurUsage(f"option inconnue : {a[:40]}")
        if key in opts:
            raise _ErreurUsage(f"option {key} donnée deux fois")
        if key == "--json":
            opts[key] = True
        elif key == "--aeeh":
            if val is None and i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                val = argv[i + 1]
                i += 1
            opts[key] = "1" if val is None else val
        else:
            if val is None:
                if i + 1 >= len(argv) or argv[i + 1].startswith("--"):
                    raise _ErreurUsage(f"valeur manquante après {key}")
                val = argv[i + 1]
                i += 1
            opts[key] = val
        i += 1
    for req in ("--date", "--ressources", "--enfants"):
        if req not in opts:
            raise _ErreurUsage(f"option obligatoire manquante : {req}")
    return opts


def _nombre(texte: str, option: str) -> float:
    t = str(texte).strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace(",", ".")
    try:
        x = float(t)
    except ValueError:
        raise _ErreurUsage(f"{option} : nombre attendu, reçu « {str(texte)[:40]} »") from None
    if x != x or x in (float("inf"), float("-inf")):
        raise _ErreurUsage(f"{option} : nombre fini attendu")
    return x


def _entier(texte: str, option: str, mini: int, maxi: int) -> int:
    x = _nombre(texte, option)
    if not float(x).is_integer():
        raise _ErreurUsage(f"{option} : nombre entier attendu, reçu « {str(texte)[:40]} »")
    if not mini <= x <= maxi:
        raise _ErreurUsage(f"{option} : valeur entre {mini} et {maxi} attendue, reçu {int(x)}")
    return int(x)


def _date_fr(d: dt.date | None) -> str:
    return d.strftime("%d/%m/%Y") if d else "saisie de l'utilisateur"


def texte_resultat(r: ParticipationFamille) -> str:
    """The French text output of the command."""
    d = r.to_dict()
    ress = r.ressources
    pl, pf = ress.parametres
    lines = [
        f"Participation familiale au {_date_fr(r.date)} — {LIBELLES_ACCUEIL[r.accueil]}",
        "",
        f"Ressources mensuelles retenues : {fr_euros(ress.valeur, 2)} "
        f"(déclarées {fr_euros(d['ressources_mensuelles'], 2)} ; plancher {fr_euros(pl.valeur, 2)}, "
        f"plafond {fr_euros(pf.valeur, 2)})",
        f"Taux d'effort : {fr_small_ratio(r.taux.valeur)} ({r.taux.formule})",
        f"Tarif horaire : {fr_number(r.tarif_horaire.valeur, 4)} €/h, soit {fr_euros(r.tarif_horaire.valeur, 2)} "
        f"arrondi ({fr_euros(ress.valeur, 2)} × {fr_small_ratio(r.taux.valeur)})",
    ]
    heures = r.montant_mensuel.entrees.get("heures_mensuelles", 0.0)
    if heures:
        lines.append(f"Montant mensuel pour {fr_number(heures, 1)} h : {fr_euros(r.montant_mensuel.valeur, 2)}")
    lines += ["", "Paramètres utilisés :"]
    for p in r.parametres():
        flag = " — à vérifier" if p.a_verifier else ""
        lines.append(f"  {p.name} (depuis le {_date_fr(p.depuis)}, confiance {p.confiance}{flag}) : {p.source}")
    return "\n".join(lines)


def main(argv: list[str] | None = None, baremes: Baremes | None = None) -> int:
    """``baremes``: the barèmes in force (the command line passes the shipped values merged with the
    national barème saisi); the shipped values when None."""
    argv = list(sys.argv[1:] if argv is None else argv)
    bar = baremes or Baremes()
    if argv and argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    try:
        opts = _lire_args(argv)
        try:
            quand = dt.date.fromisoformat(opts["--date"])
        except ValueError:
            raise _ErreurUsage(f"--date : date au format AAAA-MM-JJ attendue, reçu « {opts['--date'][:40]} »") from None
        ressources = _nombre(opts["--ressources"], "--ressources")
        if ressources < 0:
            raise _ErreurUsage("--ressources : nombre positif ou nul attendu (ressources mensuelles en euros)")
        if ressources > MAX_RESSOURCES:
            raise _ErreurUsage(f"--ressources : {fr_number(ressources, 0)} € par mois, valeur invraisemblable")
        enfants = _entier(opts["--enfants"], "--enfants", 1, MAX_ENFANTS)
        accueil = opts.get("--accueil", "collectif")
        if accueil not in ACCUEILS:
            raise _ErreurUsage(f"--accueil : « {accueil[:40]} » inconnu (attendu : {', '.join(ACCUEILS)})")
        aeeh = _entier(opts["--aeeh"], "--aeeh", 0, enfants) if "--aeeh" in opts else 0
        heures = _nombre(opts.get("--heures", "0"), "--heures")
        if not 0 <= heures <= 744:
            raise _ErreurUsage("--heures : heures d'accueil par mois entre 0 et 744 attendues")
        try:
            r = participation_famille(quand, ressources_mensuelles=ressources, nb_enfants=enfants,
                                      heures_mensuelles=heures, baremes=bar, aeeh=aeeh, accueil=accueil)
        except ParametreAbsent:
            debut = max(bar.definition(n).premiere_date for n in (
                "participations.plancher_ressources", "participations.plafond_ressources",
                "participations.taux_effort_collectif", "participations.taux_effort_familial"))
            raise _ErreurUsage(f"--date : pas de barème des participations familiales connu au {_date_fr(quand)} "
                               f"(premier barème repris : {_date_fr(debut)})") from None
    except _ErreurUsage as exc:
        print(f"Erreur : {exc}.\n{USAGE}", file=sys.stderr)
        return 2
    if opts.get("--json"):
        print(json.dumps(r.to_dict(), ensure_ascii=False, indent=2, default=str))
    else:
        print(texte_resultat(r))
    return 0
