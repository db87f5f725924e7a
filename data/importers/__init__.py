"""Importers of official open-data files and of the Caf's structure list.

Public API::

    import_file(kind, path, store=None, *, filename=None) -> ImportReport
    write_structures(frame, store, nature, source, vintage, extra=None) -> ImportReport
    KINDS                       kind -> KindSpec(label, publisher, extensions)
    run_import_cli(kind, file, as_json=False) -> exit code
    ImportValidationError(.problems), Problem, ImportReport

Every file is validated as a whole before anything is written; the layers are
then replaced in one atomic ``Store.write_layers`` call, so a rejected file
leaves the store exactly as it was.  See docs/IMPORTS.md for the accepted
columns of each kind.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..store import Store
from .caf import build_caf_couverture, build_caf_places
from .common import (AVERTISSEMENT, ERREUR, MAX_FILE_MB, Built, ImportReport, ImportValidationError, Problem,
                     Problems, check_size)
from .naissances import build_naissances
from .official import (build_dgcl, build_enfants, build_frr, build_grille, build_populations, build_qpv,
                       build_qpv_polygones, build_zrr)
from .structures import TYPES as STRUCTURE_TYPES
from .structures import build_structures, write_structures

__all__ = ["KINDS", "KindSpec", "import_file", "write_structures", "run_import_cli", "ImportReport",
           "ImportValidationError", "Problem", "STRUCTURE_TYPES", "MAX_FILE_MB"]


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
    KindSpec("structures", "Liste des structures de la Caf (EAJE, micro-crèches, MAM, RPE…)", "Caf (fichier interne)",
             "structures", build_structures, options=("mapping", "millesime")),
]}


def import_file(kind: str, path: str | Path, store: Store | None = None, *, filename: str | None = None,
                max_mb: float | None = None, mapping: dict[str, str] | None = None,
                millesime: object = None) -> ImportReport:
    """Validate the whole file, then write its layer(s) atomically.

    ``filename`` is the name shown in messages (an uploaded file saved under a
    temporary name keeps its real name).  ``mapping`` (field -> column) and ``millesime`` are
    taken by the kinds that declare them (``structures``).  Raises ``ImportValidationError``.
    """
    path = Path(path)
    fichier = filename or path.name
    probs = Problems(fichier)
    spec = KINDS.get(kind)
    if spec is None:
        raise probs.fatal(f"type d'import « {kind} » inconnu — types possibles : {', '.join(KINDS)}.")
    store = store or Store()
    opts = {k: v for k, v in (("mapping", mapping), ("millesime", millesime)) if v}
    unsupported = [k for k in opts if k not in spec.options]
    if unsupported:
        raise probs.fatal(f"option(s) {', '.join(unsupported)} non prise(s) en charge pour le type « {kind} » "
                          "(seulement pour « structures »).")
    check_size(path, probs, max_mb)
    try:
        built = spec.build(path, fichier, store, probs, spec.publisher, **opts)
    except ImportValidationError:
        raise
    except (MemoryError, KeyboardInterrupt):
        raise
    except Exception as exc:  # a reader bug must still come out as a French message
        raise probs.fatal(f"fichier illisible pour le type « {kind} » ({type(exc).__name__} : {exc}) — vérifiez "
                          "que c'est le bon fichier et le bon type d'import.")
    probs.raise_if_errors()
    for name, (_frame, info) in built.layers.items():
        info.name = name
    store.write_layers(built.layers)
    return ImportReport(kind=kind, fichier=fichier, layers=list(built.layers), rows=built.rows,
                        warnings=probs.warnings, vintage=built.vintage,
                        source=next(iter(built.layers.values()))[1].source, encoding=built.encoding,
                        notes=built.notes)


def run_import_cli(kind: str, file: str, as_json: bool = False, colonnes: str | None = None,
                   correspondance: str | None = None, millesime: str | None = None) -> int:
    """``python -m data import KIND FILE [--colonnes …] [--correspondance NOM] [--millesime AAAA]``:
    French report on stdout, errors on stderr."""
    mapping = None
    if colonnes or correspondance:
        from .mapping import FIELD_LABELS, MappingError, load_mapping, parse_colonnes

        try:
            if kind not in FIELD_LABELS:
                raise MappingError(f"--colonnes et --correspondance ne s'appliquent qu'aux types "
                                   f"{', '.join(FIELD_LABELS)}.")
            mapping = load_mapping(Store(), kind, correspondance) if correspondance else {}
            if colonnes:
                mapping.update(parse_colonnes(colonnes, list(FIELD_LABELS[kind])))
        except MappingError as exc:
            print(f"Import refusé : {exc} Le magasin de données n'a pas été modifié.", file=sys.stderr)
            return 2
    try:
        report = import_file(kind, file, mapping=mapping, millesime=millesime)
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
    if as_json:
        print(json.dumps({"ok": True, **report.to_dict()}, ensure_ascii=False, indent=2))
    else:
        print(report.summary(max_warnings=50))
    return 0
