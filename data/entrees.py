"""The inputs of planning's computations, read from the store: the composition point between
persistence (:mod:`data.store`) and the pure computations of :mod:`planning`, which take them as
arguments and read no file.

* :func:`load_inputs`: every layer the coverage indicators use, as a
  :class:`planning.entrees.CoverageInputs` (pages cache it per store state; CLIs and exports read it
  once).
* :func:`communes_referentiel`: the communes a scenario is checked against (INSEE codes,
  département, population), or ``None`` before the référentiel is built.
* :func:`load_sppe_inputs`: the frames :func:`planning.sppe.resultat` takes (communes with their
  total population, structures, competences, schémas, the départements the structure list covers).
"""
from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from data import sppe as persist

from data.store import Store
from planning.entrees import COMMUNE_COLUMNS, CoucheAbsente, CoverageInputs, Provenance
from planning.parametres import Baremes

COLONNES_VALIDATION = ["code_insee", "dep", "population"]


def load_inputs(store: Store | None = None, baremes: Baremes | None = None) -> CoverageInputs:
    """Read every layer the indicators use from a :class:`data.store.Store` (default store).

    Raises :class:`CoucheAbsente` when the communes layer is missing; every other
    layer is optional (its indicators are then NaN, « donnée non disponible »).
    """
    store = (store or Store()).instantane()   # every layer from one version of the store, even mid-import
    if not store.has("communes"):
        raise CoucheAbsente(
            f"Le référentiel des communes est absent du magasin de données ({store.root}). "
            "Lancez `python -m data build-reference` (ou la commande d'installation du README)."
        )
    layers = store.layers()
    prov: dict[str, Provenance] = {}

    def read(name: str, columns: list[str] | None = None) -> pd.DataFrame | None:
        info = layers.get(name)
        present = info is not None and store.layer_path(name).exists()
        prov[name] = Provenance(name, present, info.nature, info.vintage, info.source, info.label) if present \
            else Provenance(name, False)
        if not present:
            return None
        if columns is not None:
            names = set(pq.read_schema(store.layer_path(name)).names)
            columns = [c for c in columns if c in names]
        return store.read(name, columns=columns)

    communes = read("communes", COMMUNE_COLUMNS)
    enfants = read("enfants_moins_3")
    structures = read("structures")
    sinfo = layers.get("structures")
    deps = None
    if structures is not None and sinfo is not None and (sinfo.extra or {}).get("departements"):
        deps = tuple(str(d) for d in sinfo.extra["departements"])
    caf_cov = {}
    caf_pl = {}
    for k in ("com", "epci", "dep", "reg", "nat"):
        f = read(f"caf_couverture_{k}")
        if f is not None:
            caf_cov[k] = f
        p = read(f"caf_places_{k}")
        if p is not None:
            caf_pl[k] = p
    return CoverageInputs(
        communes=communes, enfants=enfants, structures=structures,
        qpv=read("qpv", ["code_qp", "code_insee"]), frr=read("frr"), zrr=read("zrr"),
        grille_densite=read("grille_densite"), caf_couverture=caf_cov, caf_places=caf_pl,
        provenance=prov, structures_departements=deps, baremes=baremes, naissances=read("naissances"),
    )


def communes_referentiel(store: Store | None = None) -> pd.DataFrame | None:
    """Communes of the référentiel (code_insee, dep, population) a scenario is validated against;
    ``None`` when the store has no référentiel yet (the INSEE codes are then not checked)."""
    store = store or Store()
    if not store.has("communes"):
        return None
    return store.read("communes", columns=COLONNES_VALIDATION)


COLONNES_SPPE = ["code_insee", "nom", "dep", "dep_nom", "reg", "reg_nom", "population", "epci_siren", "epci_nom", "ept_code", "ept_nom"]


def load_sppe_inputs(store: Store) -> dict[str, Any]:
    """Every frame :func:`planning.sppe.resultat` takes, read from the store (absent layers → None)."""
    communes = store.read("communes", columns=COLONNES_SPPE)
    if store.has("populations"):
        pop = store.read("populations", columns=["code_insee", "ptot"])
        communes = communes.merge(pop, on="code_insee", how="left")
    structures = store.read("structures") if store.has("structures") else None
    return {"communes": communes, "structures": structures,
            "departements_couverts": _departements_couverts(store, structures, communes),
            "competences": persist.lire(store, persist.COMPETENCES), "schemas": persist.lire(store, persist.SCHEMAS),
            "sources": _sources_sppe(store)}


def _departements_couverts(store, structures: pd.DataFrame | None, communes: pd.DataFrame) -> tuple[str, ...]:
    """Départements the structure list covers: declared in the manifest, else those of its structures."""
    if structures is None:
        return ()
    info = store.info("structures")
    declared = (info.extra or {}).get("departements") if info is not None else None
    if declared:
        return tuple(str(d) for d in declared)
    deps = communes.loc[communes["code_insee"].isin(set(structures["code_insee"].astype(str))), "dep"]
    return tuple(sorted(set(deps.dropna().astype(str))))


def departements_avec_structures(store: Store | None = None) -> list[str]:
    """Départements that hold at least one structure of the list (SDSF packs ``--tous``, the coverage
    page's structure points)."""
    store = store or Store()
    if not store.has("structures"):
        return []
    s = store.read("structures", columns=["code_insee"])
    c = store.read("communes", columns=["code_insee", "dep"])
    deps = c[c["code_insee"].isin(set(s["code_insee"].astype(str)))]["dep"].dropna().unique()
    return sorted(str(d) for d in deps)


def _sources_sppe(store) -> dict[str, str]:
    out = {}
    for name in ("communes", "populations", "structures", "competences", "schemas_pluriannuels"):
        info = store.info(name)
        out[name] = "donnée non disponible (couche absente)" if info is None else \
            f"{info.label or name} — {info.nature} — {info.vintage} — {info.source}"
    return out
