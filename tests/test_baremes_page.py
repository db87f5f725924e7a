"""Barèmes page (AppTest): every parameter, history by date, filter « à vérifier », search, what changed
between two dates, deep link ``?parametre=…`` from the simulator's « détail du calcul »."""
from __future__ import annotations

import datetime as dt

import pytest
from streamlit.testing.v1 import AppTest

from data.store import PROJECT_ROOT
from planning.parametres import Baremes


def _page(reference_store, parametre: str | None = None) -> AppTest:
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/baremes.py")
    if parametre is not None:
        at.query_params["parametre"] = parametre
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def table(at, key):
    """The page's tables, in order: catalogue, history of one parameter, changes between two dates."""
    return at.dataframe[{"bar_table": 0, "bar_historique": 1, "bar_diff": 2}[key]].value


def test_lists_every_parameter_and_filters(reference_store):
    at = _page(reference_store)
    assert at.title[0].value == "Barèmes et paramètres datés"
    cat = table(at, "bar_table")
    assert len(cat) == len(Baremes().names())
    assert {"Code", "Valeur au jour choisi", "Unité", "En vigueur depuis", "Confiance", "Statut", "Source"} <= set(cat)
    # filter « à vérifier »: only parameters with a « ? » value or start date
    at.checkbox(key="bar_a_verifier").check().run()
    vue = table(at, "bar_table")
    assert 0 < len(vue) < len(cat)
    assert "bonus.mixite_seuils_participation" in set(vue["Code"])      # its 2024 date is « à vérifier »
    assert "participations.plafond_ressources" not in set(vue["Code"])  # confirmed values only
    # search (with the filter still on)
    at.text_input(key="bar_recherche").input("plateau").run()
    assert set(table(at, "bar_table")["Code"]) == {"psu.revalorisation_2025_plateau_haut"}


def test_deep_link_shows_the_history_of_one_parameter(reference_store):
    at = _page(reference_store, "bonus.mixite_seuils_participation")
    assert list(table(at, "bar_table")["Code"]) == ["bonus.mixite_seuils_participation"]
    h = table(at, "bar_historique")
    assert list(h["En vigueur depuis"]) == ["01/01/2019", "01/01/2024"]
    assert list(h["Valeur"]) == ["0,75 ; 1,00 ; 1,25", "0,87 ; 1,15 ; 1,46"]
    assert list(h["Statut"]) == ["officiel", "à vérifier"]
    assert h["Confiance de la date"].iloc[1].startswith("?")
    assert "2018-002" in h["Source"].iloc[0]
    assert any("Avant le 01/01/2019" in c.value for c in at.caption)


def test_unknown_parameter_in_link_is_said_in_french(reference_store):
    at = _page(reference_store, "bonus.inexistant")
    assert any("Paramètre inconnu" in w.value for w in at.warning)
    assert len(table(at, "bar_table")) == len(Baremes().names())


def test_what_changed_between_two_dates(reference_store):
    at = _page(reference_store)
    at.date_input(key="bar_d1").set_value(dt.date(2023, 6, 1))
    at.date_input(key="bar_d2").set_value(dt.date(2024, 9, 1)).run()
    diff = table(at, "bar_diff").set_index("Code")
    assert diff.loc["participations.plafond_ressources", "Au 01/06/2023"] == "6\u202f000"
    assert diff.loc["participations.plafond_ressources", "Au 01/09/2024"] == "7\u202f000"
    assert diff.loc["participations.plancher_ressources", "Au 01/09/2024"] == "765,77"
    assert diff.loc["bonus.attractivite_par_place", "Au 01/06/2023"] == "pas encore en vigueur"
    assert diff.loc["bonus.mixite_seuils_participation", "Statut"] == "à vérifier"
    assert "participations.taux_effort_collectif" not in diff.index   # unchanged since 2022
