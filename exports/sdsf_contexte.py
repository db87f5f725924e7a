"""What every section of the SDSF pack is built from: one département, one year, the indicators
computed once (used by :mod:`exports.sdsf`, which re-exports :class:`ExportImpossible`)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from .common import is_fictif


class ExportImpossible(ValueError):
    """French message for the CLI and the page."""


def _commune_geoms(store, dep: str):
    import geopandas as gpd

    return gpd.read_parquet(store.layer_path("communes"),
                            columns=["code_insee", "nom", "dep", "epci_siren", "ept_code", "geometry"],
                            filters=[("dep", "==", dep)])


@dataclass
class ContexteSdsf:
    """What every section of the pack is built from (one département, one year)."""
    store: object
    inputs: object
    today: dt.date
    annee: int
    dep: str
    terr: object
    fictif: bool
    spec: str
    src_struct: str
    src_line: str
    nom_dep: str
    com: pd.DataFrame
    depi: pd.Series
    has_ept: bool
    niveau_grp: str
    lib_grp: str
    grp: pd.DataFrame
    traj_fin: int
    traj: pd.DataFrame
    rpe: object
    rpes: pd.DataFrame
    geoms: object


def contexte_sdsf(departement: str, store, annee: int | None, inputs, today: dt.date | None) -> ContexteSdsf:
    """Check the inputs and compute the indicators shared by the sections."""
    from data.store import Store
    from data.entrees import load_inputs
    from planning.coverage import indicateurs
    from planning.flux import trajectoire_cog_psu
    from planning.rpe import rpe_table
    from planning.rpe import rpe_target
    from planning.territoires import TerritoireInconnu, resolve

    store = store or Store()
    today = today or dt.date.today()
    annee = int(annee or today.year)
    dep = str(departement).strip().upper()
    if dep.isdigit() and len(dep) == 1:
        dep = "0" + dep
    inputs = inputs or load_inputs(store)
    try:
        terr = resolve(inputs.base, "departement", dep)
    except TerritoireInconnu as exc:
        raise ExportImpossible(str(exc)) from None
    if not inputs.has_structures():
        raise ExportImpossible("La couche « structures » est absente : importez la liste des structures "
                               "(`python -m data import structures FICHIER`) ou lancez `python -m data demo`.")
    fictif = is_fictif(store)
    spec = f"departement:{dep}"
    src_struct = inputs.prov("structures").libelle
    src_line = f"Sources : {src_struct} ; {inputs.prov('enfants_moins_3').libelle} ; {inputs.prov('communes').libelle}"
    nom_dep = f"{terr.nom} ({dep})"

    com = indicateurs(inputs, "commune", annee, spec)
    depi = indicateurs(inputs, "departement", annee, spec).iloc[0]
    has_ept = com["ept_code"].notna().any()
    niveau_grp = "ept" if has_ept else "epci"
    lib_grp = "EPT" if has_ept else "EPCI"
    grp = indicateurs(inputs, niveau_grp, annee, spec).sort_values("nom").reset_index(drop=True)
    traj_fin = min(annee, 2027)
    traj = trajectoire_cog_psu(inputs, 2023, traj_fin, spec)
    rpe = rpe_target(inputs, annee, departement=dep)
    rpes = rpe_table(inputs, annee, spec)

    geoms = _commune_geoms(store, dep)
    return ContexteSdsf(store=store, inputs=inputs, today=today, annee=annee, dep=dep, terr=terr, fictif=fictif,
                     spec=spec, src_struct=src_struct, src_line=src_line, nom_dep=nom_dep, com=com, depi=depi,
                     has_ept=has_ept, niveau_grp=niveau_grp, lib_grp=lib_grp, grp=grp, traj_fin=traj_fin,
                     traj=traj, rpe=rpe, rpes=rpes, geoms=geoms)
