"""``python -m planning simulate SCENARIO.json [--json]``: run a CTG funding scenario.

Exit codes: 0 success, 2 bad usage or bad scenario (French messages on stderr).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

USAGE = "Usage : python -m planning simulate SCENARIO.json [--json]"


def _err(msg: str) -> None:
    print(msg, file=sys.stderr)


def read_scenario(path: str) -> tuple[dict | None, list[str]]:
    """The scenario dict read from a JSON file (UTF-8, with or without BOM), or French messages."""
    from .scenario_format import MAX_OCTETS, MAX_PROFONDEUR, profondeur_excessive
    from .formats import fr_number

    p = Path(path)
    if not p.is_file():
        return None, [f"{path} : fichier introuvable. Indiquez le chemin d'un scénario JSON (voir docs/SCENARIOS.md)."]
    try:
        size = p.stat().st_size
        if size > MAX_OCTETS:
            return None, [f"{path} : fichier de {fr_number(size / 1e6, 1)} Mo, trop gros pour un scénario "
                          f"({fr_number(MAX_OCTETS / 1e6, 0)} Mo au plus, voir docs/SCENARIOS.md « Limites »)."]
        raw = p.read_bytes()
    except OSError as exc:
        return None, [f"{path} : lecture impossible ({exc.strerror or 'erreur du système'})."]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [f"{path} : le fichier n'est pas en UTF-8 (octet {exc.start + 1}). Réenregistrez-le en UTF-8."]
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, [f"{path}, ligne {exc.lineno}, colonne {exc.colno} : JSON invalide ({_motif(exc.msg)}). "
                      "Corrigez la syntaxe (virgules, guillemets, accolades)."]
    except RecursionError:
        return None, [f"{path} : objets et listes imbriqués trop profondément ({MAX_PROFONDEUR} niveaux au plus)."]
    except ValueError:  # e.g. an integer of thousands of digits
        return None, [f"{path} : JSON illisible (nombre démesuré ou valeur non représentable)."]
    if profondeur_excessive(data):
        return None, [f"{path} : objets et listes imbriqués trop profondément ({MAX_PROFONDEUR} niveaux au plus)."]
    return data, []


_MOTIFS = {
    "Expecting value": "valeur attendue",
    "Expecting property name enclosed in double quotes": "nom de champ entre guillemets attendu",
    "Expecting ':' delimiter": "« : » attendu",
    "Expecting ',' delimiter": "« , » attendue",
    "Unterminated string starting at": "texte non terminé",
    "Invalid control character at": "caractère de contrôle dans un texte",
    "Invalid \\escape": "échappement « \\ » invalide",
    "Extra data": "données en trop après la fin de l'objet",
    "Invalid \\uXXXX escape": "échappement \\u invalide",
}


def _motif(msg: str) -> str:
    """The json module's English reason, in French."""
    for en, fr in _MOTIFS.items():
        if msg.startswith(en):
            return fr
    return "syntaxe incorrecte"


def tableau(result) -> str:
    """Readable French table of a SimulationResult."""
    from .formats import fr_euros, fr_number, fr_ratio
    from .parametres import NATURE_SAISIE

    lines = [f"Scénario : {result.nom} — {result.territoire['nom']} ({result.debut}–{result.fin})"]
    if result.outre_mer:
        lines.append("Territoire d'outre-mer : seuil d'alerte de cofinancement à 90 %.")
    head = ["Année", "Places", "PSU", "Bonus", "Total Caf", "Familles", "Reste à charge coll.", "Part Caf du coût"]
    rows = []
    for a in result.annees:
        t = a.totaux
        bonus = t["total_caf_territoire"] - t["psu"]
        rows.append([str(a.annee), fr_number(a.trajectoire.places, 0), fr_euros(t["psu"], 0), fr_euros(bonus, 0),
                     fr_euros(t["total_caf_territoire"], 0), fr_euros(t["participations_familiales"], 0),
                     fr_euros(t["reste_a_charge_collectivite"], 0), fr_ratio(a.part_caf)])
    c = result.cumul
    rows.append(["Cumul", "", fr_euros(c["psu"], 0), fr_euros(c["total_caf_territoire"] - c["psu"], 0),
                 fr_euros(c["total_caf_territoire"], 0), fr_euros(c["participations_familiales"], 0),
                 fr_euros(c["reste_a_charge_collectivite"], 0), ""])
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    fmt = lambda r: "  ".join(x.rjust(w) for x, w in zip(r, widths))  # noqa: E731
    lines += ["", fmt(head), "  ".join("-" * w for w in widths), *map(fmt, rows), "", "Bonus trajectoire :"]
    lines += [f"  {a.trajectoire.message}" for a in result.annees]
    if result.alertes:
        lines += ["", "Alertes :", *[f"  ⚠ {a}" for a in result.alertes]]
    if result.notes:
        lines += ["", *result.notes]
    params = result.parametres_utilises()
    av = sorted({p["parametre"] for p in params if p["a_verifier"]})
    if av:
        lines += ["", f"Paramètres à vérifier (valeurs par défaut modifiables) : {', '.join(av)}"]
    saisis = sorted({p["parametre"] for p in params if p.get("nature") == NATURE_SAISIE})
    if saisis:
        lines += [f"Paramètres du barème saisi : {', '.join(saisis)}"]
    lines.append(f"Barème utilisé : version {result.bareme_version[:8]}. Détail du calcul de chaque montant : option --json.")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    args = list(argv)
    as_json = "--json" in args
    args = [a for a in args if a != "--json"]
    if any(a in ("-h", "--help") for a in args):
        print(USAGE)
        return 0
    unknown = [a for a in args if a.startswith("-")]
    if unknown or len(args) != 1:
        _err(("Option inconnue : " + ", ".join(unknown) + ". ") if unknown else "Un seul fichier de scénario attendu. ")
        _err(USAGE)
        return 2
    data, errs = read_scenario(args[0])
    if errs:
        _err("\n".join(errs))
        return 2
    from data.entrees import communes_referentiel

    from .scenario_format import ScenarioInvalide
    from .simulation import simulate
    from .validation import validate_scenario

    communes = communes_referentiel()
    errs = validate_scenario(data, communes=communes)
    if errs:
        _err(f"{args[0]} : scénario invalide ({len(errs)} erreur{'s' if len(errs) > 1 else ''}) :")
        _err("\n".join(f"  - {e}" for e in errs))
        return 2
    from data.baremes_db import baremes_du_scenario

    bar, notice = baremes_du_scenario(data)  # shipped values + barèmes saisis of the scenario's territory
    if notice:
        _err(notice)
    try:
        result = simulate(data, baremes=bar, communes=communes, deja_valide=True)
    except ScenarioInvalide as exc:
        _err("\n".join(exc.erreurs))
        return 2
    if as_json:
        result.ecrire_json(sys.stdout)
        sys.stdout.write("\n")
    else:
        print(tableau(result))
    return 0
