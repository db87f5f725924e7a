"""``python -m planning sppe (--departement D | --region R | --france) [--date AAAA-MM-JJ] [--json]``.

The composition root of :mod:`planning.sppe`: loads the layers through ``data/`` (:func:`data.entrees.load_sppe_inputs`) and prints the
authorities of the perimeter with the status of their obligations (JSON keys in README).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys


from .formats import fr_int
from .sppe import NOTE_INFORMATION, PALIERS, ResultatSppe, libelle_palier, resultat
from .territoires import FRANCE, TerritoireInconnu, masque, parse_territoire, resolve

def calculer(store, perimetre, quand: dt.date) -> ResultatSppe:
    """The obligations of the authorities of ``perimetre`` (a :class:`~planning.territoires.Territoire`
    or any form :func:`~planning.territoires.parse_territoire` reads) at ``quand``, from the store's
    layers read by :func:`data.entrees.load_sppe_inputs`."""
    from data.entrees import load_sppe_inputs

    data = load_sppe_inputs(store)
    com = data["communes"]
    niveau, code = parse_territoire(perimetre)
    t = FRANCE if niveau == "france" else resolve(com, niveau, code)
    dans = None if t.niveau == "france" else com.loc[masque(com, t.niveau, t.code), "code_insee"].tolist()
    return resultat(com, quand=quand, territoire=t.to_dict(), dans=dans, competences=data["competences"],
                    structures=data["structures"], departements_couverts=data["departements_couverts"],
                    schemas=data["schemas"], sources=data["sources"])


def texte(res: ResultatSppe) -> str:
    r = res.resume()
    s = res.seuils
    lines = [f"Service public de la petite enfance — {res.territoire['libelle']} — au {res.quand:%d/%m/%Y}",
             f"Autorités organisatrices : {r['autorites']} ({r['par_type']['commune']} communes, "
             f"{r['par_type']['epci']} EPCI compétents)"]
    lines += [f"  {libelle_palier(p, s)} : {r['par_palier'][p]}" for p in reversed(PALIERS)]
    nr, dm = r["obligations_non_remplies"], r["donnees_manquantes"]
    lines += [f"RPE situé dans le territoire (plus de {fr_int(s.rpe)} habitants, depuis le {s.debut_rpe:%d/%m/%Y}) : "
              f"{nr['rpe']} non remplie(s), {dm['rpe']} sans liste de structures",
              f"Schéma pluriannuel (plus de {fr_int(s.schema)} habitants) : {nr['schema']} non rempli(s), "
              f"{dm['schema']} statut non renseigné", NOTE_INFORMATION]
    bad = res.table[res.table["non_remplie"]]
    for x in bad.itertuples():
        lines.append(f"  {x.code} {x.nom} ({fr_int(x.population)} hab.) — RPE : {x.rpe_statut} ; "
                     f"schéma : {x.schema_statut}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    from data.store import Store

    p = argparse.ArgumentParser(prog="python -m planning sppe",
                                description="Obligations des autorités organisatrices (service public de la petite enfance)")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--departement")
    g.add_argument("--region")
    g.add_argument("--france", action="store_true")
    p.add_argument("--date", default=None, help="date de la situation (AAAA-MM-JJ), par défaut aujourd'hui")
    p.add_argument("--json", action="store_true")
    try:
        a = p.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        quand = dt.date.fromisoformat(a.date) if a.date else dt.date.today()
    except ValueError:
        print(f"Erreur : date « {a.date} » illisible : écrivez-la AAAA-MM-JJ.", file=sys.stderr)
        return 2
    store = Store()
    if not store.has("communes"):
        print(f"Erreur : le référentiel des communes est absent ({store.root}) : lancez "
              "`python -m data build-reference`.", file=sys.stderr)
        return 1
    perimetre = ("departement", a.departement) if a.departement else ("region", a.region) if a.region else None
    try:
        res = calculer(store, perimetre, quand)
    except TerritoireInconnu as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 2
    print(json.dumps(res.to_dict(), ensure_ascii=False, indent=2) if a.json else texte(res))
    return 0
