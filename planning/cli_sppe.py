"""``python -m planning sppe (--departement D | --region R | --france) [--date AAAA-MM-JJ] [--json]``.

The composition root of :mod:`planning.sppe`: loads the layers through ``data/`` and prints the
authorities of the perimeter with the status of their obligations (JSON keys in README).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

import pandas as pd

from .formats import fr_int
from .sppe import NOTE_INFORMATION, PALIERS, ResultatSppe, libelle_palier, resultat
from .territoires import FRANCE, TerritoireInconnu, masque, resoudre

COLONNES = ["code_insee", "nom", "dep", "dep_nom", "reg", "reg_nom", "population", "epci_siren", "epci_nom", "ept_code", "ept_nom"]


def charger(store) -> dict[str, Any]:
    """Every frame :func:`planning.sppe.resultat` takes, read from the store (absent layers → None)."""
    from data import sppe as persist

    communes = store.read("communes", columns=COLONNES)
    if store.has("populations"):
        pop = store.read("populations", columns=["code_insee", "ptot"])
        communes = communes.merge(pop, on="code_insee", how="left")
    structures = store.read("structures") if store.has("structures") else None
    return {"communes": communes, "structures": structures,
            "departements_couverts": departements_couverts(store, structures, communes),
            "competences": persist.lire(store, persist.COMPETENCES), "schemas": persist.lire(store, persist.SCHEMAS),
            "sources": sources(store)}


def departements_couverts(store, structures: pd.DataFrame | None, communes: pd.DataFrame) -> tuple[str, ...]:
    """Départements the structure list covers: declared in the manifest, else those of its structures."""
    if structures is None:
        return ()
    info = store.info("structures")
    declared = (info.extra or {}).get("departements") if info is not None else None
    if declared:
        return tuple(str(d) for d in declared)
    deps = communes.loc[communes["code_insee"].isin(set(structures["code_insee"].astype(str))), "dep"]
    return tuple(sorted(set(deps.dropna().astype(str))))


def sources(store) -> dict[str, str]:
    out = {}
    for name in ("communes", "populations", "structures", "competences", "schemas_pluriannuels"):
        info = store.info(name)
        out[name] = "donnée non disponible (couche absente)" if info is None else \
            f"{info.label or name} — {info.nature} — {info.vintage} — {info.source}"
    return out


def calculer(store, perimetre: str, code: str | None, quand: dt.date) -> ResultatSppe:
    data = charger(store)
    com = data["communes"]
    t = FRANCE if perimetre == "france" else resoudre(com, perimetre, code)
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
    perimetre, code = ("departement", a.departement) if a.departement else \
        ("region", a.region) if a.region else ("france", None)
    try:
        res = calculer(store, perimetre, code, quand)
    except TerritoireInconnu as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 2
    print(json.dumps(res.to_dict(), ensure_ascii=False, indent=2) if a.json else texte(res))
    return 0
