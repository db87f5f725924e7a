"""Importers of official open-data files and of the Caf's structure list.

Public API::

    import_file(kind, path, store=None, *, filename=None, limits=None, progress=None) -> ImportReport
    write_structures(frame, store, nature, source, vintage, extra=None) -> ImportReport
    KINDS                       kind -> KindSpec(label, publisher, extensions)
    run_import_cli(kind, file, as_json=False) -> exit code
    ImportValidationError(.problems), Problem, ImportReport
    Limits                      what one import may consume (docs/LIMITES.md)

Every file is validated as a whole before anything is written; the layers are
then replaced in one atomic ``Store.write_layers`` call, so a rejected file
leaves the store exactly as it was.  See docs/IMPORTS.md for the accepted
columns of each kind.
"""
from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..droits import ActionRefusee, exiger_role, utilisateur_ou_local
from ..identite import (ROLE_ADMIN_CAF, ROLE_ADMIN_NATIONAL, Utilisateur, utilisateur_depuis_json,
                        utilisateur_local)
from ..store import Store
from .caf import build_caf_couverture, build_caf_places
from .common import Built
from .problems import AVERTISSEMENT, ERREUR, ImportReport, ImportValidationError, Problem, Problems
from .table import check_size, Col, MAX_FILE_MB, os_error_message, read_table, Table
from .naissances import build_naissances
from .readers import Limits, reading_context, time_limit_message
from .official import build_dgcl, build_enfants, build_frr, build_grille, build_populations, build_qpv, build_zrr
from .qpv_contours import build_qpv_polygones
from .sppe import build_competences, build_schemas
from .structures import TYPES as STRUCTURE_TYPES
from .structures import build_structures, write_structures

__all__ = ["KINDS", "KindSpec", "import_file", "write_structures", "run_import_cli", "ImportReport",
           "ImportValidationError", "Problem", "Problems", "Col", "Table", "read_table", "STRUCTURE_TYPES",
           "MAX_FILE_MB", "Limits", "ImportTimeout"]


@dataclass(frozen=True)
class KindSpec:
    kind: str
    label: str
    publisher: str
    layers: str                   # layer name(s) written, for the import page
    build: Callable[..., Built]
    extensions: tuple[str, ...] = (".csv", ".txt", ".xlsx")
    options: tuple[str, ...] = ()   # keyword options the builder takes (column mapping, millésime)


KINDS: dict[str, KindSpec] = {s.kind: s for s in [
    KindSpec("qpv", "Liste des quartiers prioritaires (QPV) par commune — ANCT", "ANCT (data.gouv.fr)", "qpv",
             build_qpv),
    KindSpec("qpv_polygones", "Contours des QPV (GeoJSON) — ANCT", "ANCT (data.gouv.fr)", "qpv_polygones",
             build_qpv_polygones, (".geojson", ".json", ".gpkg")),
    KindSpec("frr", "Classement France Ruralités Revitalisation (codefrr) — Observatoire des territoires",
             "ANCT — Observatoire des territoires", "frr", build_frr),
    KindSpec("zrr", "Ancien zonage ZRR (historique, jusqu'au 30/06/2024)", "data.gouv.fr", "zrr", build_zrr),
    KindSpec("enfants_moins_3", "Enfants de moins de 3 ans (INSEE base-cc-evol-struct-pop, PYY_POP0002)", "INSEE",
             "enfants_moins_3", build_enfants),
    KindSpec("naissances", "Naissances domiciliées par commune (INSEE, xlsx NAIS_DOM_ANNUELLES ou base_naissances "
             "NAISDyy) — estime aussi les enfants de moins de 3 ans", "INSEE", "naissances, enfants_moins_3",
             build_naissances),
    KindSpec("populations", "Populations légales (INSEE donnees_communes.csv)", "INSEE", "populations",
             build_populations),
    KindSpec("caf_couverture", "Taux de couverture petite enfance (data.caf.fr txcouv_pe_com/epci/dep/reg/nat, "
             "fichiers « hist » compris)", "Cnaf (data.caf.fr)", "caf_couverture_{com,epci,dep,reg,nat}",
             build_caf_couverture, (".csv", ".txt", ".xlsx", ".json")),
    KindSpec("caf_places", "Places d'accueil petite enfance (data.caf.fr nbpla_pe_com/epci/dep/reg/nat)",
             "Cnaf (data.caf.fr)", "caf_places_{com,epci,dep,reg,nat}", build_caf_places,
             (".csv", ".txt", ".xlsx", ".json")),
    KindSpec("dgcl_criteres", "Critères de répartition des dotations (DGCL criteres_repartition_AAAA.csv)",
             "DGCL", "dgcl_criteres", build_dgcl),
    KindSpec("grille_densite", "Grille communale de densité (INSEE, 7 niveaux)", "INSEE", "grille_densite",
             build_grille),
    KindSpec("competences", "EPCI (ou EPT) détenant la compétence petite enfance : colonne siren_epci, date_transfert "
             "facultative", "Caf ou préfecture (liste interne)", "competences", build_competences),
    KindSpec("schemas", "Schémas pluriannuels des autorités organisatrices : code (INSEE ou SIREN), statut (adopté, CTG, "
             "en cours, aucun), date facultative", "Caf (suivi interne)", "schemas_pluriannuels", build_schemas),
    KindSpec("structures", "Liste des structures de la Caf (EAJE, micro-crèches, MAM, RPE…)", "Caf (fichier interne)",
             "structures", build_structures, options=("mapping", "millesime")),
]}


class ImportRefuse(ImportValidationError, ActionRefusee):
    """The user may not run this import (role or département); nothing was read or written."""

    def __init__(self, fichier: str, message: str):
        super().__init__([Problem(fichier, None, None, message)])


def verifier_droits_import(kind: str, utilisateur: Utilisateur | None, fichier: str = "") -> Utilisateur:
    """Who may import what (data/droits.py): the structure list of its départements for an
    administrateur Caf, every kind and every département for a national administrator."""
    try:
        user = utilisateur_ou_local(utilisateur)
        if kind == "structures":
            exiger_role(user, ROLE_ADMIN_CAF, "l'import de la liste des structures")
        else:
            exiger_role(user, ROLE_ADMIN_NATIONAL, "l'import d'un fichier du référentiel national")
    except ActionRefusee as exc:
        raise ImportRefuse(fichier, str(exc).removeprefix("Action refusée : ")) from None
    return user


class ImportTimeout(Exception):
    """Raised (by the CLI's alarm) when one import runs longer than its time limit."""


_log = logging.getLogger("atlas.import")
_log.addHandler(logging.NullHandler())   # technical detail: the server log of a page import, never a user's screen
_GEO_MODULES = ("pyogrio", "fiona", "shapely", "geopandas", "osgeo")


def display_name(name: str) -> str:
    """The file name shown in messages: no control characters, at most 200 characters."""
    s = "".join(ch if ch.isprintable() else "?" for ch in str(name))
    return s if len(s) <= 200 else s[:150] + "…" + s[-40:]


def _library_warnings(caught: list, probs: Problems) -> None:
    """Warnings of the reading libraries become one French warning each kind (never their English text)."""
    seen: set[str] = set()
    for w in caught:
        module = getattr(w, "filename", "") or ""
        text = str(getattr(w, "message", ""))
        _log.info("avertissement d'une bibliothèque pendant un import : %s (%s)", text, module)
        if not any(f"/{m}/" in module or f"/{m}." in module for m in _GEO_MODULES) \
                and not issubclass(w.category, RuntimeWarning):
            continue
        if "Several features with id" in text:
            msg = ("plusieurs objets du fichier portent le même identifiant (« id ») : ils ont été renumérotés à la "
                   "lecture — vérifiez qu'il n'y a pas de doublon.")
        elif "invalid value" in text or "NaN" in text or "nan" in text:
            msg = ("des coordonnées non numériques (NaN) ou des géométries invalides ont été rencontrées en lisant le "
                   "fichier — vérifiez les contours concernés.")
        elif any(m in module for m in _GEO_MODULES):
            msg = ("le lecteur de fichiers géographiques a signalé une anomalie dans le fichier (objet, attribut ou "
                   "système de coordonnées inhabituel) — vérifiez le résultat sur la carte.")
        else:
            msg = "une valeur inhabituelle a été rencontrée pendant la lecture — vérifiez le résultat."
        if msg not in seen:
            seen.add(msg)
            probs.warn(msg)


def _origin(exc: BaseException) -> str:
    """'data/importers/structures.py:166': the innermost frame of the project in a traceback."""
    root = str(Path(__file__).resolve().parent.parent.parent)
    where = "?"
    tb = exc.__traceback__
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name.startswith(root) and "site-packages" not in name:
            where = f"{os.path.relpath(name, root)}:{tb.tb_lineno}"
        tb = tb.tb_next
    return where


def import_file(kind: str, path: str | Path, store: Store | None = None, *, filename: str | None = None,
                max_mb: float | None = None, mapping: dict[str, str] | None = None,
                millesime: object = None, limits: Limits | None = None,
                progress: Callable[[float, str], None] | None = None,
                utilisateur: Utilisateur | None = None) -> ImportReport:
    """Validate the whole file, then write its layer(s) atomically.

    ``filename`` is the name shown in messages (an uploaded file saved under a
    temporary name keeps its real name).  ``mapping`` (field -> column) and ``millesime`` are
    taken by the kinds that declare them (``structures``).  ``limits`` (default: from the environment,
    see docs/LIMITES.md) bound what reading may consume; ``progress(fraction, message)``
    is called while reading.  Raises ``ImportValidationError`` with French messages for
    every refusal, including unreadable files and exhausted limits.

    ``utilisateur``: who imports (data/droits.py; None: the local user in local mode, refused in
    service mode).  An administrateur Caf imports the structure list of its départements only: rows of
    other départements are refused, and the stored structures of other départements are kept
    (:class:`ImportRefuse` for a kind the user may not import).  A successful import is written to the
    audit trail (file name, sha256, rows).
    """
    fichier = display_name(filename or Path(str(path)).name)
    user = verifier_droits_import(kind, utilisateur, fichier)
    lim = (limits or Limits.from_env()).with_(max_file_mb=max_mb)
    probs = Problems(fichier, max_errors=lim.max_errors, max_warnings=lim.max_warnings)
    spec = KINDS.get(kind)
    if spec is None:
        raise probs.fatal(f"type d'import « {kind} » inconnu — types possibles : {', '.join(KINDS)}.")
    opts = {k: v for k, v in (("mapping", mapping), ("millesime", millesime)) if v}
    unsupported = [k for k in opts if k not in spec.options]
    if unsupported:
        raise probs.fatal(f"option(s) {', '.join(unsupported)} non prise(s) en charge pour le type « {kind} » "
                          "(seulement pour « structures »).")
    path = Path(path)
    store = store or Store()
    scope = {"departements": user.departements} if kind == "structures" and not user.tous_departements else {}
    with reading_context(lim, progress) as ctx, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_size(path, probs)
        built = _build(spec, kind, path, fichier, store, probs, lim, opts, scope)
        _library_warnings(caught, probs)
        probs.raise_if_errors()
        empty = [name for name, (frame, _info) in built.layers.items() if len(frame) == 0]
        if empty or not built.rows:   # replacing a layer by nothing is never what an import means
            raise probs.fatal("aucune ligne utilisable : toutes les lignes du fichier ont été écartées (voir les "
                              "avertissements), rien ne serait importé — corrigez le fichier.")
        ctx.report(0.9, "Enregistrement dans le magasin de données…", force=True)
        for name, (_frame, info) in built.layers.items():
            info.name = name
        try:
            store.write_layers(built.layers)
        except OSError as exc:
            _log.exception("import %s de %s : écriture impossible", kind, fichier)
            raise probs.fatal("écriture impossible dans le magasin de données (disque plein ou droits insuffisants) "
                              f"— rien n'a été modifié ({os_error_message(exc)})") from None
        ctx.report(1.0, "Import terminé.", force=True)
    _journal_import(user, kind, fichier, path, built.rows, scope, store)
    return ImportReport(kind=kind, fichier=fichier, layers=list(built.layers), rows=built.rows,
                        warnings=probs.warnings, vintage=built.vintage,
                        source=next(iter(built.layers.values()))[1].source, encoding=built.encoding,
                        notes=built.notes)


def _build(spec: KindSpec, kind: str, path: Path, fichier: str, store: Store, probs: Problems, lim: Limits,
           opts: dict, scope: dict) -> Built:
    """Read and validate the file (``spec.build``); any failure of the reading becomes a French refusal."""
    failure: str | None = None
    origin: str | None = None
    try:
        built = spec.build(path, fichier, store, probs, spec.publisher, **opts, **scope)
    except ImportValidationError:
        raise
    except KeyboardInterrupt:
        raise
    except MemoryError:
        failure = (f"mémoire insuffisante pour vérifier ce fichier (limite de l'import : {lim.max_memory_mb} Mo, "
                   "ATLAS_IMPORT_MAX_MEMOIRE_MO) — filtrez-le sur votre territoire ou découpez-le.")
    except ImportTimeout:
        failure = time_limit_message(lim)
    except RecursionError:
        failure = "structure du fichier trop imbriquée pour être lue — vérifiez que c'est le bon fichier."
    except OSError as exc:
        failure = os_error_message(exc)
    except Exception as exc:  # a reader bug must still come out as a French message, never English
        origin = _origin(exc)
        _log.exception("import %s de %s : erreur de lecture (%s)", kind, fichier, origin)
        failure = (f"fichier illisible pour le type « {spec.label} » : son contenu ne correspond pas à ce que "
                   "cet import attend — vérifiez que c'est le bon fichier et le bon type d'import (si c'est le "
                   "cas, signalez-le : c'est une erreur interne de l'application).")
    if failure is not None:   # raised here, once the frames of the failed reading are freed
        err = probs.fatal(failure)
        err.origine = origin  # where an internal error came from (server log, tests), never shown
        raise err
    return built


def _journal_import(user: Utilisateur, kind: str, fichier: str, path: Path, rows: int, scope: dict,
                    store: Store) -> None:
    """Audit entry of a written import.  The data are already written: a database failure here is
    logged for the server, never turned into a refusal of an import that did happen."""
    deps = sorted(scope.get("departements") or ())
    try:
        from .. import audit
        from ..reference import sha256_fichier

        details = {"type": kind, "sha256": sha256_fichier(path), "lignes": rows,
                   **({"departements": ",".join(deps)} if deps else {})}
        audit.enregistrer_dans(audit.url_du_magasin(store.root), user, "import", fichier, details,
                               departement=deps[0] if len(deps) == 1 else None)
    except Exception:  # noqa: BLE001
        _log.exception("import %s de %s : écriture dans le journal des actions impossible", kind, fichier)


def _progress_writer(path: str | None) -> Callable[[float, str], None] | None:
    """Progress for a parent process: a small JSON file replaced atomically."""
    if not path:
        return None
    target = Path(path)

    def write(fraction: float, message: str) -> None:
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(json.dumps({"fraction": round(fraction, 4), "message": message}, ensure_ascii=False),
                       encoding="utf-8")
        os.replace(tmp, target)
    return write


def apply_os_limits(limits: Limits) -> None:
    """Limits of the operating system on this process (an import run by the page in its own process):
    address space, CPU time, and the lowest priority (nice 19): the server's sessions and their
    browsers always get the processor first."""
    import resource

    mem = int(limits.max_memory_mb) * 1024 * 1024
    try:
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    except (ValueError, OSError):
        pass
    cpu = int(limits.max_seconds) + 30
    try:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 30))
    except (ValueError, OSError):
        pass
    try:
        os.nice(19)
    except OSError:
        pass


def _cli_mapping(kind: str, colonnes: str | None, correspondance: str | None,
                 colonnes_json: str | None) -> dict[str, str]:
    """The column mapping given on the command line (saved mapping, then JSON file, then
    ``--colonnes``, later ones winning); raises ``MappingError``."""
    from .mapping import FIELD_LABELS, MappingError, load_mapping, parse_colonnes

    if kind not in FIELD_LABELS:
        raise MappingError(f"--colonnes et --correspondance ne s'appliquent qu'aux types "
                           f"{', '.join(FIELD_LABELS)}.")
    mapping = load_mapping(Store(), kind, correspondance) if correspondance else {}
    if colonnes_json:
        try:
            given = json.loads(Path(colonnes_json).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise MappingError("correspondance de colonnes illisible.") from None
        if not isinstance(given, dict):
            raise MappingError("correspondance de colonnes illisible.")
        mapping.update({str(k): str(v) for k, v in given.items()})
    if colonnes:
        mapping.update(parse_colonnes(colonnes, list(FIELD_LABELS[kind])))
    return mapping


def run_import_cli(kind: str, file: str, as_json: bool = False, colonnes: str | None = None,
                   correspondance: str | None = None, millesime: str | None = None, *, nom: str | None = None,
                   progression: str | None = None, isoler: bool = False,
                   colonnes_json: str | None = None, utilisateur_json: str | None = None) -> int:
    """``python -m data import KIND FILE [--colonnes …] [--correspondance NOM] [--millesime AAAA]``:
    French report on stdout, errors on stderr.

    ``nom``: name shown in messages; ``progression``: JSON file where progress is written;
    ``isoler``: apply the memory/CPU limits of the operating system to this process (what the
    Import page does for the process it starts); ``colonnes_json``: a JSON file {field: column}
    (the page's column mapping, exact whatever the column names); ``utilisateur_json``: the signed-in
    user the Import page imports for (rights and audit; without it, the command line, run by whoever
    has a shell on the server, acts with every right).  Exit code 0 (imported),
    1 (refused), 2 (unusable column mapping).
    """
    mapping = None
    if colonnes or correspondance or colonnes_json:
        from .mapping import MappingError

        try:
            mapping = _cli_mapping(kind, colonnes, correspondance, colonnes_json)
        except MappingError as exc:
            if as_json:
                print(json.dumps({"ok": False, "problems": [Problem(display_name(nom or Path(file).name), None, None,
                                                                   str(exc)).to_dict()]},
                                 ensure_ascii=False, indent=2))
            print(f"Import refusé : {exc} Le magasin de données n'a pas été modifié.", file=sys.stderr)
            return 2
    utilisateur = utilisateur_local()
    if utilisateur_json:
        try:
            utilisateur = utilisateur_depuis_json(Path(utilisateur_json).read_text(encoding="utf-8"))
        except (OSError, ValueError, TypeError, KeyError):
            print("Import refusé : utilisateur illisible (--utilisateur-json). Le magasin de données n'a pas été "
                  "modifié.", file=sys.stderr)
            return 2
    limits = Limits.from_env()
    if isoler:
        apply_os_limits(limits)
        # run by the Import page: the technical detail goes to the error output, which the page
        # copies to the server log (never shown to the user)
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s : %(message)s"))
        _log.addHandler(handler)
    use_alarm = threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGALRM")
    if use_alarm:
        def on_alarm(_signum, _frame):
            raise ImportTimeout()
        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.alarm(int(limits.max_seconds) + 5)
    try:
        report = import_file(kind, file, filename=nom, mapping=mapping, millesime=millesime, limits=limits,
                             progress=_progress_writer(progression), utilisateur=utilisateur)
    except ImportValidationError as exc:
        if as_json:
            print(json.dumps({"ok": False, "problems": [p.to_dict() for p in exc.problems]}, ensure_ascii=False,
                             indent=2))
        errors = exc.errors
        print(f"Import refusé : {len(errors)} erreur(s). Le magasin de données n'a pas été modifié.",
              file=sys.stderr)
        for p in errors[:50]:
            print(f"  {p}", file=sys.stderr)
        if len(errors) > 50:
            print(f"  … et {len(errors) - 50} autres erreurs.", file=sys.stderr)
        return 1
    finally:
        if use_alarm:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
    if as_json:
        print(json.dumps({"ok": True, **report.to_dict(), "summary": report.summary()}, ensure_ascii=False, indent=2))
    else:
        print(report.summary(max_warnings=50))
    return 0
