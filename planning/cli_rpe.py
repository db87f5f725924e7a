"""``python -m planning rpe-target``: COG-01-11 for the nation, a région or a département.

    python -m planning rpe-target [--departement DD | --region RR] [--annee AAAA] [--json]

Composition root: reads the store through :mod:`data.entrees`, computes with
:func:`planning.rpe.rpe_target`.  Exit codes: 0 done, 1 store or layer missing, 2 invalid option or
unknown territory.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from .cli_commun import run_command
from .formats import fr_number, fr_ratio
from .rpe import RpeTargetResult, rpe_target

USAGE = ("Usage : python -m planning rpe-target [--departement DD | --region RR] [--annee AAAA] [--json]\n"
         "  Objectif COG-01-11 : part des communes au-dessus du seuil légal de population (barème "
         "objectifs_cog.seuil_population_obligation_rpe) disposant d'un RPE situé dans la commune.")


def _parse(argv: list[str]) -> dict[str, Any]:
    opts: dict[str, Any] = {"departement": None, "region": None, "annee": dt.date.today().year, "json": False}
    i = 0
    while i < len(argv):
        a = argv[i]
        key, val = (a.split("=", 1) + [None])[:2] if a.startswith("--") and "=" in a else (a, None)
        if key in ("-h", "--help"):
            opts["aide"] = True
            return opts
        if key == "--json":
            opts["json"] = True
            i += 1
            continue
        if key in ("--departement", "--département", "--dep", "--region", "--région", "--annee", "--année"):
            if val is None:
                if i + 1 >= len(argv):
                    raise ValueError(f"l'option {key} attend une valeur.")
                val = argv[i + 1]
                i += 1
            name = {"--dep": "departement", "--département": "departement", "--région": "region",
                    "--année": "annee"}.get(key, key[2:])
            if name == "annee":
                if not str(val).isdigit() or not 1900 < int(val) < 2200:
                    raise ValueError(f"année « {val} » invalide : écrivez-la sur quatre chiffres (par exemple 2026).")
                val = int(val)
            opts[name] = val
            i += 1
            continue
        raise ValueError(f"argument « {a} » inconnu.")
    return opts


def format_text(res: RpeTargetResult) -> str:
    lines = [
        f"Objectif COG-01-11 — communes de {res.plus_de_seuil} disposant d'un RPE situé dans la commune",
        f"Territoire : {res.territoire.libelle} ; année {res.annee} (RPE ouverts au 31 décembre)",
        f"Source : {res.source_structures}",
    ]
    if res.sans_liste:
        return "\n".join(lines + [res.message_donnee_absente,
                                  "Communes concernées : " + ", ".join(res.villes_sans_donnee)])
    lines += [
        f"Communes de {res.plus_de_seuil} : {res.nb_communes}",
        f"  dont avec un RPE dans la commune : {res.nb_avec_rpe}",
        f"  part : {fr_ratio(res.part)}",
    ]
    if res.cible is None:
        lines.append(f"  cible COG {res.annee} : aucune (la COG 2023-2027 ne fixe pas de cible pour cette année)")
    else:
        etat = "atteinte" if res.atteinte else "non atteinte" if res.atteinte is False else "non évaluable"
        lines.append(f"  cible COG {res.annee} : {fr_ratio(res.cible)} — {etat}")
    ech = res.echeance_legale.strftime("%d/%m/%Y")
    lines.append(f"Obligation légale au {ech} : " + ("en vigueur" if res.echeance_depassee else "pas encore en vigueur"))
    if res.villes_sans_donnee:
        lines.append(f"Sans liste de structures (non comptées) : {len(res.villes_sans_donnee)} communes "
                     f"hors des départements couverts ({', '.join(res.departements_structures) or 'aucun'})")
    sans = res.sans_rpe
    lines.append(f"Communes sans RPE dans la commune : {len(sans)}")
    for v in sans:
        extra = ""
        if v.couverte_ailleurs:
            ou = ", ".join(f"{r['nom']} ({r['code']})" for r in v.rpe_ailleurs[:3])
            extra = f" — couverte depuis une autre commune : {ou} (ne compte pas pour l'indicateur)"
        lines.append(f"  {v.code} {v.nom} ({fr_number(v.population, 0)} hab.){extra}")
    return "\n".join(lines)


COUCHES_REQUISES = (
    ("communes", "le magasin de données est absent ou incomplet ({root}) : lancez `python -m data build-reference`."),
    ("structures", "la couche « structures » est absente du magasin de données ({root}) : importez la liste des "
                   "structures de la Caf (`python -m data import structures FICHIER` ou page Import des données) "
                   "ou générez la démonstration (`python -m data demo`)."),
)


def main(argv: list[str]) -> int:
    return run_command(
        argv, USAGE, _parse,
        lambda inputs, opts: rpe_target(inputs, opts["annee"], departement=opts["departement"], region=opts["region"]),
        format_text, RpeTargetResult.to_dict, COUCHES_REQUISES)
