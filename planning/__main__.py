"""Command line of the planning layer: ``python -m planning COMMAND``.

    simulate SCENARIO.json [--json]          run a CTG funding scenario
    rpe-target [--departement DD | --region RR] [--json] [--annee YYYY]
                                             COG-01-11: towns over the legal threshold with an RPE
    participation --date YYYY-MM-DD --ressources R --enfants N
                  [--accueil collectif|familial|parental|micro_creche] [--aeeh [N]] [--heures H] [--json]
                                             hourly participation familiale at a contract date
    couverture (--commune C | --epci S | --departement D | --region R | --france) [--annee Y] [--json]
                                             coverage of one territory: children, places, computed
                                             and published (data.caf.fr) rates
    sppe (--departement D | --region R | --france) [--date AAAA-MM-JJ] [--json]
                                             service public de la petite enfance: authorities, tiers,
                                             RPE and schéma pluriannuel obligations
    baremes import FICHIER.(yaml|xlsx) | export [--annee A] [--format yaml|xlsx] | historique
                                             the year's barème entered once (docs/BAREMES.md)

Each sub-command lives in its own module; this file only dispatches, so that
the page and the command share one function.
"""
from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    cmd, rest = argv[0], argv[1:]
    try:
        if cmd == "simulate":
            from .cli_simulate import main as run
        elif cmd == "rpe-target":
            from .cli_rpe import main as run
        elif cmd == "participation":
            from .cli_baremes import baremes_nationaux
            from .participations import main as participation

            def run(args: list[str]) -> int:
                return participation(args, baremes=baremes_nationaux())
        elif cmd == "couverture":
            from .cli_couverture import main as run
        elif cmd == "sppe":
            from .cli_sppe import main as run
        elif cmd == "baremes":
            from .cli_baremes import main as run
        else:
            print(f"Commande inconnue : {cmd}. Voir `python -m planning --help`.", file=sys.stderr)
            return 2
        return run(rest)
    except BrokenPipeError:
        from planning.cli_sortie import tube_ferme

        return tube_ferme()
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a French message, never a traceback
        print(f"Erreur inattendue ({type(exc).__name__}) : {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
