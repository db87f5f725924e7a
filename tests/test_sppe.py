"""SPPE obligations (planning/sppe.py): tiers, competent authority, RPE located in the territory, schéma.

Every case is a hand-made commune table whose answer can be read off the law (DOMAIN.md §10):
« plus de 3 500 » / « plus de 10 000 » means strictly more; an EPCI holding the competence counts the
population of all its communes; an RPE in the next commune does not make the commune's obligation met.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from planning.sppe import autorites, palier, resultat, rpe_par_commune, seuils

QUAND = dt.date(2026, 6, 1)


def _communes(rows):
    return pd.DataFrame(rows, columns=["code_insee", "nom", "dep", "reg", "population", "epci_siren", "epci_nom",
                                       "ept_code", "ept_nom"])


COMMUNES = _communes([
    # code,   nom,          dep,  reg,  population, EPCI
    ("89001", "Trois-Mille", "89", "27", 3499, "200000001", "CC Une", None, None),
    ("89002", "Pile", "89", "27", 3500, "200000001", "CC Une", None, None),
    ("89003", "Juste-Au-Dessus", "89", "27", 3501, "200000001", "CC Une", None, None),
    ("89004", "Dix-Mille", "89", "27", 10000, "200000001", "CC Une", None, None),
    ("89005", "Ville", "89", "27", 10001, "200000002", "CC Deux", None, None),
    ("89006", "Voisine", "89", "27", 800, "200000002", "CC Deux", None, None),
    ("89007", "Bourg-A", "89", "27", 6000, "200000003", "CC Trois", None, None),
    ("89008", "Bourg-B", "89", "27", 5000, "200000003", "CC Trois", None, None),
    ("01001", "Ailleurs", "01", "84", 15000, "200000009", "CC de l'Ain", None, None),
])


def _rpe(code, ouverture="2015-09-01", fermeture=None):
    return {"code_insee": code, "type": "RPE", "date_ouverture": pd.Timestamp(ouverture),
            "date_fermeture": pd.Timestamp(fermeture) if fermeture else pd.NaT}


STRUCTURES = pd.DataFrame([_rpe("89006"), _rpe("89008", "2021-03-15"), _rpe("89004", "2010-01-01", "2024-12-31")])
COMPETENCES = pd.DataFrame({"siren_epci": ["200000003"], "competence": [True], "date_transfert": [pd.NaT]})


def test_tiers_at_the_boundaries():
    s = seuils(QUAND)
    assert (s.planification, s.schema, s.rpe) == (3500, 10000, 10000)
    # population → palier: « plus de » is strictly more
    table = {3499: "toutes", 3500: "toutes", 3501: "3500", 10000: "3500", 10001: "10000"}
    assert {p: palier(p, s) for p in table} == table
    assert palier(np.nan, s) is None


def test_epci_holding_the_competence_is_one_authority_with_its_total_population():
    s = seuils(QUAND)
    aut = autorites(COMMUNES, COMPETENCES, QUAND, s).set_index("code")
    # Bourg-A 6 000 + Bourg-B 5 000 = 11 000 > 10 000: the EPCI must have a schéma and an RPE,
    # although neither commune alone would
    assert aut.loc["200000003", "type"] == "epci"
    assert aut.loc["200000003", "population"] == 11000
    assert aut.loc["200000003", "palier"] == "10000"
    assert aut.loc["200000003", "communes"] == ["89007", "89008"]
    assert "89007" not in aut.index and "89008" not in aut.index
    # without the competence each commune is its own authority (palier 3500 each)
    aut0 = autorites(COMMUNES, None, QUAND, s).set_index("code")
    assert aut0.loc[["89007", "89008"], "palier"].tolist() == ["3500", "3500"]
    # a transfer dated after the day asked does not count yet
    later = COMPETENCES.assign(date_transfert=[pd.Timestamp("2027-01-01")])
    assert "89007" in autorites(COMMUNES, later, QUAND, s)["code"].tolist()


def _table(quand=QUAND, schemas=None, deps=("89",)):
    res = resultat(COMMUNES, quand=quand, territoire={"libelle": "test"}, dans=None, competences=COMPETENCES,
                   structures=STRUCTURES, departements_couverts=deps, schemas=schemas)
    return res, res.table.set_index("code")


def test_rpe_just_outside_the_commune_does_not_count():
    _res, t = _table()
    # Ville (10 001) has no RPE; its neighbour Voisine has one: obligation not met
    ville = t.loc["89005"]
    assert ville["rpe_dans_le_territoire"]["present"] is False
    assert ville["rpe_statut"] == "non remplie"
    # Voisine (800) has an RPE but no obligation
    assert t.loc["89006", "rpe_statut"] == "non concernée"
    assert t.loc["89006", "rpe_dans_le_territoire"]["present"] is True
    # the EPCI authority has the RPE of Bourg-B, open since 15 March 2021
    epci = t.loc["200000003", "rpe_dans_le_territoire"]
    assert (epci["present"], epci["nombre"], epci["depuis"]) == (True, 1, "2021-03-15")
    assert t.loc["200000003", "rpe_statut"] == "remplie"
    # Dix-Mille's RPE closed on 31 December 2024: none open in 2026 (and 10 000 is not over 10 000)
    assert t.loc["89004", "rpe_dans_le_territoire"]["present"] is False
    assert t.loc["89004", "rpe_statut"] == "non concernée"


def test_missing_structure_list_reads_as_missing_never_as_zero():
    _res, t = _table()
    ailleurs = t.loc["01001"]        # département 01: no structure list
    assert ailleurs["rpe_dans_le_territoire"]["present"] is None
    assert ailleurs["rpe_dans_le_territoire"]["nombre"] is None
    assert ailleurs["rpe_statut"] == "donnée non disponible"
    assert not ailleurs["non_remplie"]


def test_schema_statuses_and_the_resume():
    schemas = pd.DataFrame({"code": ["89005", "200000003"], "statut": ["en_cours", "ctg"],
                            "date_statut": [pd.NaT, pd.Timestamp("2024-07-01")], "origine": ["saisie", "import"]})
    res, t = _table(schemas=schemas)
    assert t.loc["89005", "schema_statut"] == "non remplie"        # en cours is not adopted
    assert t.loc["200000003", "schema_statut"] == "remplie"         # a CTG stands for the schéma
    assert t.loc["200000003", "schema"]["date"] == "2024-07-01"
    assert t.loc["01001", "schema_statut"] == "non renseigné"       # nobody said: not « aucun »
    assert t.loc["89004", "schema_statut"] == "non concernée"
    r = res.resume()
    # authorities: 89001-89006 (6 communes) + the EPCI + 01001 = 8
    assert r["autorites"] == 8 and r["par_type"] == {"commune": 7, "epci": 1}
    # paliers: toutes = 89001, 89002, 89006; 3500 = 89003, 89004; 10000 = 89005, EPCI, 01001
    assert r["par_palier"] == {"toutes": 3, "3500": 2, "10000": 3}
    assert r["obligations_non_remplies"] == {"rpe": 1, "schema": 1}      # both Ville (89005)
    assert r["donnees_manquantes"] == {"rpe": 1, "schema": 1}            # both 01001
    d = res.to_dict()
    assert set(d["autorites"][0]) == {"code", "type", "nom", "population", "palier", "rpe_dans_le_territoire",
                                      "schema"}


def test_before_1_january_2026_the_rpe_obligation_is_not_yet_in_force():
    _res, t = _table(quand=dt.date(2025, 12, 31))
    assert t.loc["89005", "rpe_statut"] == "pas encore en vigueur"
    assert t.loc["89005", "schema_statut"] == "non renseigné"    # the schéma obligation started 1 January 2025


def test_total_population_when_the_legal_population_file_is_imported():
    s = seuils(QUAND)
    assert s.population == "totale"
    com = COMMUNES.assign(ptot=[3499, 3500, 3501, 10050, 10001, 800, 6000, 5000, 15000])
    aut = autorites(com, None, QUAND, s).set_index("code")
    # Dix-Mille: 10 000 municipale but 10 050 totale → over 10 000
    assert aut.loc["89004", "palier"] == "10000"


def test_rpe_per_commune_unknown_outside_the_list():
    r = rpe_par_commune(STRUCTURES, ["89006", "01001"], QUAND, connues=["89006"]).set_index("code_insee")
    assert r.loc["89006", "nb_rpe"] == 1 and np.isnan(r.loc["01001", "nb_rpe"])
