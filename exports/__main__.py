"""Command line: ``python -m exports sdsf|ctg ...`` (French messages, no traceback).

    python -m exports sdsf --departement 89 --out DIR [--formats pptx,pdf,xlsx] [--annee AAAA]
    python -m exports sdsf --tous --out DIR            every département that has structures
    python -m exports ctg SCENARIO.json --out DIR
    python -m exports schema (--commune C | --epci S | --departement D --tous) --out DIR [--formats docx,pdf]
                                                       diagnostic for the schéma pluriannuel (docx, pdf)
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def _write(out: Path, files: dict[str, bytes], t0: float, what: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (out / name).write_bytes(data)
        print(f"  {out / name}  ({len(data) / 1024:,.0f} Ko)".replace(",", "\u202f"))
    secondes = f"{time.perf_counter() - t0:.1f}".replace(".", ",")
    print(f"{what} : {len(files)} fichier(s) en {secondes} s", flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m exports", description="Documents de comité (SDSF, CTG)")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sdsf", help="pack départemental SDSF (pptx, pdf, xlsx)")
    g = s.add_mutually_exclusive_group(required=True)
    g.add_argument("--departement", help="code du département, ex. 89")
    g.add_argument("--tous", action="store_true", help="tous les départements qui ont des structures")
    s.add_argument("--out", required=True, help="dossier de sortie")
    s.add_argument("--formats", default="pptx,pdf,xlsx", help="pptx,pdf,xlsx (par défaut les trois)")
    s.add_argument("--annee", type=int, default=None, help="année de la situation (par défaut l'année en cours)")
    c = sub.add_parser("ctg", help="fiche CTG d'un scénario (pdf, xlsx)")
    c.add_argument("scenario", help="fichier JSON du scénario (voir examples/scenarios)")
    c.add_argument("--out", required=True, help="dossier de sortie")
    d = sub.add_parser("schema", help="diagnostic du schéma pluriannuel (docx, pdf)")
    gd = d.add_mutually_exclusive_group(required=True)
    gd.add_argument("--commune", help="code INSEE de la commune")
    gd.add_argument("--epci", help="SIREN de l'EPCI détenant la compétence petite enfance")
    gd.add_argument("--departement", help="avec --tous : toutes les autorités de plus de 3 500 habitants")
    d.add_argument("--tous", action="store_true")
    d.add_argument("--out", required=True, help="dossier de sortie")
    d.add_argument("--formats", default="docx,pdf")
    d.add_argument("--date", default=None, help="date de la situation (AAAA-MM-JJ), par défaut aujourd'hui")
    args = p.parse_args(argv)

    from .sdsf import ExportImpossible

    try:
        if args.cmd == "sdsf":
            from data.entrees import departements_avec_structures

            from .sdsf import build_sdsf_pack

            formats = [f for f in args.formats.split(",") if f.strip()]
            deps = departements_avec_structures() if args.tous else [args.departement]
            if not deps:
                print("Aucun département n'a de structures : importez la liste des structures ou lancez "
                      "`python -m data demo`.", file=sys.stderr)
                return 1
            inputs = None
            if len(deps) > 1:
                from data.entrees import load_inputs

                inputs = load_inputs()
            for dep in deps:
                t0 = time.perf_counter()
                files = build_sdsf_pack(dep, formats=formats, annee=args.annee, inputs=inputs)
                _write(Path(args.out), files, t0, f"Pack SDSF {dep}")
            return 0
        if args.cmd == "schema":
            return _schema(args)
        from .ctg import build_ctg_onepager

        path = Path(args.scenario)
        try:
            scenario = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            print(f"{path} : fichier introuvable.", file=sys.stderr)
            return 1
        except json.JSONDecodeError as exc:
            print(f"{path}, ligne {exc.lineno}, colonne {exc.colno} : JSON illisible ({exc.msg}). "
                  "Corrigez le fichier (voir examples/scenarios).", file=sys.stderr)
            return 1
        t0 = time.perf_counter()
        from data.baremes_db import baremes_du_scenario

        bar, notice = baremes_du_scenario(scenario)
        if notice:
            print(notice, file=sys.stderr)
        _write(Path(args.out), build_ctg_onepager(scenario, baremes=bar), t0, f"Fiche CTG {path.name}")
        return 0
    except ExportImpossible as exc:
        print(f"{getattr(args, 'scenario', '')}{' : ' if getattr(args, 'scenario', '') else ''}{exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        from planning.cli_sortie import tube_ferme

        return tube_ferme()
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a French message, never a traceback
        print(f"Erreur inattendue ({type(exc).__name__}) : {exc}", file=sys.stderr)
        return 1


def _schema(args) -> int:
    """Diagnostics of one authority, or of every authority over 3 500 inhabitants of a département."""
    import datetime as dt

    from data.store import Store

    from .diagnostic import Contexte, autorites_du_departement, build_diagnostic
    from .sdsf import ExportImpossible

    if args.departement and not args.tous:
        raise ExportImpossible("--departement s'utilise avec --tous (toutes les autorités de plus de 3 500 habitants).")
    try:
        quand = dt.date.fromisoformat(args.date) if args.date else dt.date.today()
    except ValueError:
        raise ExportImpossible(f"date « {args.date} » illisible : écrivez-la AAAA-MM-JJ.") from None
    t_all = time.perf_counter()
    ctx = Contexte(Store(), quand)
    formats = [f for f in args.formats.split(",") if f.strip()]
    if args.departement:
        dep = args.departement.strip().upper().zfill(2)
        if dep not in set(ctx.inputs.base["dep"]):
            raise ExportImpossible(f"Code de département « {dep} » inconnu dans le référentiel des communes.")
        codes = autorites_du_departement(ctx, dep)
    else:
        codes = [args.commune or args.epci]
    for i, code in enumerate(codes, start=1):
        t0 = time.perf_counter()
        files = build_diagnostic(code, formats=formats, contexte=ctx)
        _write(Path(args.out), files, t0, f"[{i}/{len(codes)}] Diagnostic {code}")
    if len(codes) > 1:
        secondes = f"{time.perf_counter() - t_all:.1f}".replace(".", ",")
        print(f"{len(codes)} diagnostic(s) en {secondes} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
