"""Command line of the data layer: ``python -m data COMMAND``.

    build-reference [--force]     build the national référentiel (registries)
    status [--json]               what the store holds
    import KIND FILE              import an official file (see ``import --help``)
    fetch [--base-url URL]        download official open-data files and import them
    demo [--seed N]               demo territory: Yonne (89) + Seine-Saint-Denis (93)

Errors are printed in French on stderr with a non-zero exit code, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import sys


def _print_status(as_json: bool) -> int:
    from .store import Store

    status = Store().status()
    if as_json:
        print(json.dumps(status, ensure_ascii=False, indent=2))
        return 0
    print(f"Magasin de données : {status['data_dir']}")
    if not status["layers"]:
        print("  (vide) — lancez `python -m data build-reference`")
    for name, entry in status["layers"].items():
        print(f"  {name:<22} {entry['rows']:>7} lignes  [{entry['nature']}]  {entry['vintage']}  — {entry['source']}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m data", description="Données d'Atlas Petite Enfance")
    sub = parser.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("build-reference", help="construire le référentiel national depuis les paquets épinglés")
    p.add_argument("--force", action="store_true", help="reconstruire même si tout est à jour")

    p = sub.add_parser("status", help="contenu du magasin de données")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("import", help="importer un fichier officiel ou la liste des structures")
    p.add_argument("kind", help="type de fichier (voir `python -m data kinds`)")
    p.add_argument("file")
    p.add_argument("--json", action="store_true", help="rapport d'import en JSON")
    p.add_argument("--nom", default=None, help="nom du fichier affiché dans les messages (fichier téléversé)")
    p.add_argument("--progression", default=None, help="fichier JSON où écrire l'avancement (page Import)")
    p.add_argument("--isoler", action="store_true",
                   help="appliquer à ce processus les limites de mémoire et de temps (docs/LIMITES.md)")
    p.add_argument("--colonnes-json", default=None, metavar="FICHIER",
                   help="correspondance des colonnes en JSON {champ: colonne} (page Import)")
    p.add_argument("--utilisateur-json", default=None, metavar="FICHIER",
                   help="utilisateur de la page Import pour qui l'import est fait (droits, journal) ; sans cette "
                        "option, la ligne de commande agit avec tous les droits")
    p.add_argument("--colonnes", default=None, metavar="CHAMP=COLONNE,…",
                   help="correspondance des colonnes (structures) : nom=Nom de l'établissement,places=Capacité")
    p.add_argument("--correspondance", default=None, metavar="NOM",
                   help="correspondance de colonnes enregistrée sous ce nom (page Import)")
    p.add_argument("--millesime", default=None, metavar="AAAA|JJ/MM/AAAA",
                   help="structures sans date d'ouverture : ouvertes à cette date (défaut : date du fichier)")

    sub.add_parser("kinds", help="types de fichiers importables")

    p = sub.add_parser("fetch", help="télécharger les fichiers open data officiels et les importer")
    p.add_argument("--base-url", default=None, help="racine alternative (miroir ou serveur de test)")
    p.add_argument("--timeout", type=float, default=10.0)

    p = sub.add_parser("demo", help="territoire de démonstration (89 et 93) avec structures fictives")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--shared", default=None, help="dossier des fichiers QPV/FRR (défaut : ../shared/data s'il existe)")
    return parser


def _run(args: argparse.Namespace) -> int:
    """Run the sub-command; 2 when it is unknown."""
    if args.cmd == "build-reference":
        from .reference import build_reference

        build_reference(force=args.force)
        return 0
    if args.cmd == "status":
        return _print_status(args.json)
    if args.cmd == "kinds":
        from .importers import KINDS

        for kind, spec in KINDS.items():
            print(f"{kind:<22} {spec.label}")
        return 0
    if args.cmd == "import":
        from .importers import run_import_cli

        return run_import_cli(args.kind, args.file, as_json=args.json, colonnes=args.colonnes,
                              correspondance=args.correspondance, millesime=args.millesime, nom=args.nom,
                              progression=args.progression, isoler=args.isoler,
                              colonnes_json=args.colonnes_json, utilisateur_json=args.utilisateur_json)
    if args.cmd == "fetch":
        from .fetch import run_fetch_cli

        return run_fetch_cli(base_url=args.base_url, timeout=args.timeout)
    if args.cmd == "demo":
        from .demo import run_demo_cli

        return run_demo_cli(seed=args.seed, shared=args.shared)
    return 2


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except BrokenPipeError:
        from planning.cli_sortie import tube_ferme

        return tube_ferme()
    except KeyboardInterrupt:
        print("Interrompu.", file=sys.stderr)
        return 130
    except Exception as exc:  # last resort: a French message, not a traceback
        from .reference import ErreurReferentiel

        if isinstance(exc, ErreurReferentiel):
            print(f"Erreur : {exc}", file=sys.stderr)
        else:
            print(f"Erreur inattendue ({type(exc).__name__}) : {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
