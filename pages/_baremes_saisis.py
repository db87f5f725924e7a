"""The barèmes in force for the pages: shipped values merged with the barèmes entered by administrators
(``data/baremes_db.py``), cached per process and refreshed as soon as anyone (any replica) enters a
value: the key of the cache is the store's revision, one cheap query per rerun.  Not a page."""
from __future__ import annotations

import streamlit as st

from data.baremes_db import BaremeStore
from data.scenarios_db import ScenarioErreur
from planning.parametres import PORTEE_NATIONALE, Baremes


@st.cache_resource(show_spinner=False)
def bareme_store() -> BaremeStore:
    return BaremeStore()


@st.cache_resource(show_spinner=False, max_entries=32)
def _baremes(departement: str | None, revision: int) -> Baremes:  # noqa: ARG001 - revision: cache key
    return bareme_store().baremes(departement)


def baremes_en_vigueur(departement: str | None) -> tuple[Baremes, str | None]:
    """The barèmes of a territory of ``departement`` (None: national barème only), and an error message
    (French) when the database is unavailable — the shipped values are then used."""
    try:
        return _baremes(departement, bareme_store().revision()), None
    except ScenarioErreur as exc:
        return Baremes(), (f"Barèmes saisis indisponibles ({exc}) : les calculs utilisent le barème livré avec "
                           "l'application.")


def libelle_version(bar: Baremes) -> str:
    """« version 1a2b3c4d (barème livré + barèmes saisis : national, local 89) »."""
    portees = sorted({v.portee for v in bar.saisies if v.portee in (PORTEE_NATIONALE, bar.departement)},
                     key=lambda p: p != PORTEE_NATIONALE)
    detail = ("barème livré + barème saisi : " + ", ".join(
        "national" if p == PORTEE_NATIONALE else f"local {p}" for p in portees)) if portees else "barème livré"
    return f"version {bar.version[:8]} ({detail})"
