"""Cached reads of the store for the pages (keyed on the manifest token, never on frames)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from data.entrees import communes_referentiel
from pages._ui import communes_table, manifest_token, store
from planning.territoires import Territoire, masque



@st.cache_data(show_spinner=False, max_entries=4)
def layer_table(name: str, token: str, columns: tuple[str, ...] | None = None) -> pd.DataFrame | None:
    s = store()
    if not s.has(name):
        return None
    df = s.read(name, columns=list(columns) if columns else None)
    if "geometry" in getattr(df, "columns", []):
        df = pd.DataFrame(df.drop(columns="geometry"))
    return df


def table(name: str, columns: tuple[str, ...] | None = None) -> pd.DataFrame | None:
    return layer_table(name, manifest_token(), columns)


def qpv_communes() -> set[str]:
    q = table("qpv")
    return set(q["code_insee"]) if q is not None else set()


def frr_communes(annee: int = 2025) -> set[str]:
    """Communes that get the top bonus-territoire amount as FRR (or legacy ZRR)."""
    from planning.scenario_edit import communes_montant_maximal

    return communes_montant_maximal(table("frr"), table("zrr"), annee)


def communes_of(terr: Territoire) -> pd.DataFrame:
    """Communes of the selected territory (columns of the communes table)."""
    com = communes_table(manifest_token())
    return com[masque(com, terr.niveau, terr.code)]


@st.cache_data(show_spinner=False, max_entries=2)
def _communes_validation(token: str) -> pd.DataFrame | None:
    return communes_referentiel(store())


def communes_validation() -> pd.DataFrame | None:
    """Communes (codes, départements, populations) scenarios are checked against, read once per store state."""
    return _communes_validation(manifest_token())


def potentiel_financier(codes: list[str]) -> float | None:
    """Population-weighted potentiel financier per inhabitant, when the DGCL file is imported."""
    from planning.scenario_edit import potentiel_financier_moyen

    pop = communes_table(manifest_token()).set_index("code_insee")["population"]
    return potentiel_financier_moyen(table("dgcl_criteres"), pop, codes)


@st.cache_resource(show_spinner="Chargement des données de couverture…", max_entries=2)
def _coverage_inputs(token: str):
    from data.entrees import load_inputs

    return load_inputs(store())


def coverage_inputs():
    """planning.coverage inputs, loaded once per store state (an object with its own per-year cache)."""
    return _coverage_inputs(manifest_token())


@st.cache_resource(show_spinner=False)
def warm_up() -> bool:
    """Once per server: simplify the national layers in the background so that the first
    France view does not pay for it (geo caches them per store state)."""
    import threading

    from geo.coverage_map import geometries

    def run() -> None:
        try:
            s = store()
            for echelle in ("departement",):  # the EPCI layer (1 s) is simplified on first use
                geometries(s, echelle, None)
        except Exception:  # noqa: BLE001 - a warm-up never breaks the app
            pass

    threading.Thread(target=run, name="atlas-warm-up", daemon=True).start()
    return True


@st.cache_data(show_spinner=False, max_entries=2)
def departements_avec_structures(token: str) -> tuple[str, ...]:
    """Départements where the structure list has at least one structure (cached on the manifest token)."""
    from data.entrees import departements_avec_structures as deps

    return tuple(deps(store()))
