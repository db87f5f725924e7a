"""``python -m planning baremes``: the year's barème entered from a file, and its template.

    baremes import FICHIER.(yaml|xlsx) [--portee national|DD] [--auteur NOM]
        valide puis enregistre les valeurs du fichier (tout ou rien) dans la base des scénarios
        (DATABASE_URL, sinon SQLite du dossier de données) ; --portee remplace celle du fichier
    baremes export [--annee AAAA] [--portee national|DD] [--format yaml|xlsx] [--source TEXTE] [--sortie FICHIER]
        écrit le modèle de l'année, pré-rempli avec les valeurs en vigueur (barème livré et barèmes
        saisis) : un modèle d'import valide une fois la source indiquée
    baremes historique [--portee national|DD] [--parametre CODE]
        les derniers changements (qui, quand, source, ancienne et nouvelle valeur)

Composition root (like the other commands): reads the file and the database through ``data/``, validates
with :mod:`planning.bareme_saisie`.  The command line is the local mode: every right (docs/BAREMES.md).
Exit codes: 0 done, 1 database unavailable, 2 refused (French messages, nothing stored).
"""
from __future__ import annotations

import datetime as dt
import getpass
import sys
from pathlib import Path

USAGE = __doc__.split("\n\n")[1]
_OPTIONS = {"import": {"--portee", "--auteur"},
            "export": {"--annee", "--portee", "--format", "--source", "--sortie"},
            "historique": {"--portee", "--parametre"}}


class _Usage(ValueError):
    pass


def _parse(argv: list[str]) -> tuple[str, list[str], dict[str, str]]:
    if not argv or argv[0] not in _OPTIONS:
        raise _Usage("sous-commande attendue : import, export ou historique")
    cmd, pos, opts = argv[0], [], {}
    it = iter(argv[1:])
    for a in it:
        if a.startswith("--"):
            if a not in _OPTIONS[cmd]:
                raise _Usage(f"option inconnue pour « {cmd} » : {a[:40]}")
            v = next(it, None)
            if v is None:
                raise _Usage(f"{a} : valeur manquante")
            opts[a] = v
        else:
            pos.append(a)
    if cmd == "import" and len(pos) != 1:
        raise _Usage("import : un fichier .yaml ou .xlsx attendu")
    if cmd != "import" and pos:
        raise _Usage(f"argument inattendu : {pos[0][:40]}")
    return cmd, pos, opts


def _utilisateur(nom: str | None):
    from dataclasses import replace

    from data.identite import utilisateur_local

    try:
        defaut = f"ligne de commande ({getpass.getuser()})"
    except Exception:  # no login name (container): still a local user
        defaut = "ligne de commande"
    return replace(utilisateur_local(), nom=" ".join((nom or defaut).split())[:120])


def _importer(fichier: str, opts: dict[str, str]) -> int:
    from data.bareme_fichier import TAILLE_MAX, lire_fichier_bareme
    from data.baremes_db import BaremeStore, libelle_portee, valider_portee

    path = Path(fichier)
    if not path.is_file():
        raise _Usage(f"fichier introuvable : {fichier[:200]}")
    if path.stat().st_size > TAILLE_MAX:
        raise _Usage(f"{path.name} : {path.stat().st_size / 1e6:.1f} Mo, {TAILLE_MAX // 1_000_000} Mo au plus")
    f = lire_fichier_bareme(path.read_bytes(), path.name)
    portee = valider_portee(opts.get("--portee", f.portee))
    store = BaremeStore()
    n = store.enregistrer(_utilisateur(opts.get("--auteur")), portee, f.annee, f.lignes, f.source,
                          origine=f"fichier {path.name}")
    print(f"{path.name} : {len(f.lignes)} valeur(s) lue(s), {n} enregistrée(s) ou modifiée(s) dans "
          f"{libelle_portee(portee)} {f.annee} (base : {store.db.url}).")
    return 0


def _exporter(opts: dict[str, str]) -> int:
    from data.baremes_db import BaremeStore, valider_portee
    from exports.bareme_modele import modele_xlsx, modele_yaml
    from planning.bareme_saisie import lignes_annee, valider_annee
    from planning.parametres import PORTEE_NATIONALE

    annee = valider_annee(opts.get("--annee", dt.date.today().year))
    portee = valider_portee(opts.get("--portee", PORTEE_NATIONALE))
    fmt = opts.get("--format", "yaml")
    if fmt not in ("yaml", "xlsx"):
        raise _Usage("--format : yaml ou xlsx")
    bar = BaremeStore().baremes(None if portee == PORTEE_NATIONALE else portee)
    lignes = lignes_annee(bar, annee)
    source = opts.get("--source")
    if fmt == "yaml":
        texte = modele_yaml(annee, portee, lignes, source)
        if "--sortie" not in opts:
            sys.stdout.write(texte)
            return 0
        Path(opts["--sortie"]).write_text(texte, encoding="utf-8")
    else:
        sortie = opts.get("--sortie", f"bareme_{annee}_{portee}.xlsx")
        Path(sortie).write_bytes(modele_xlsx(annee, portee, lignes, source))
        opts["--sortie"] = sortie
    print(f"Modèle {annee} ({len(lignes)} lignes) écrit dans {opts['--sortie']}.", file=sys.stderr)
    return 0


def _historique(opts: dict[str, str]) -> int:
    from data.baremes_db import BaremeStore, valider_portee
    from planning.formats import fr_parameter_value
    from planning.parametres import Baremes

    portee = valider_portee(opts["--portee"]) if "--portee" in opts else None
    store = BaremeStore()
    rows = store.historique(portee, opts.get("--parametre"))
    if not rows:
        print("Aucun barème saisi.")
    livre = Baremes()
    unites = {n: livre.definition(n).unite for n in livre.names()}
    for c in rows:
        unite = unites.get(c.parametre, "")
        avant = "—" if c.ancienne_valeur is None else fr_parameter_value(c.ancienne_valeur, unite)
        apres = "—" if c.nouvelle_valeur is None else fr_parameter_value(c.nouvelle_valeur, unite)
        print(f"{c.saisi_le:%d/%m/%Y %H:%M} {c.auteur or '?'} [{c.portee}] {c.action} {c.parametre} au "
              f"{c.depuis:%d/%m/%Y} : {avant} → {apres} (source : {c.source}; {c.origine})")
    return 0


def baremes_nationaux():
    """The shipped barèmes merged with the national barème saisi (the shipped ones alone, with a French
    notice on stderr, when the database is unavailable)."""
    from data.baremes_db import BaremeStore
    from data.scenarios_db import ScenarioErreur
    from planning.parametres import Baremes

    try:
        return BaremeStore().baremes(None)
    except ScenarioErreur as exc:
        print(f"Barèmes saisis indisponibles ({exc}) : calcul avec le barème livré.", file=sys.stderr)
        return Baremes()


def main(argv: list[str]) -> int:
    from data.baremes_db import SaisieBaremeInterdite
    from data.scenarios_db import ScenarioErreur
    from planning.bareme_saisie import BaremeInvalide

    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    try:
        cmd, pos, opts = _parse(argv)
        if cmd == "import":
            return _importer(pos[0], opts)
        if cmd == "export":
            return _exporter(opts)
        return _historique(opts)
    except _Usage as exc:
        print(f"Erreur : {exc}.\n{USAGE}", file=sys.stderr)
        return 2
    except (BaremeInvalide, SaisieBaremeInterdite) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except ScenarioErreur as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 1
