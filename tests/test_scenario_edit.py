"""Scenario pre-filling from the structure list and the editable-table round trip."""
from __future__ import annotations

import json

import pandas as pd

from planning.parametres import Baremes
from planning.scenario_edit import (apply_structures_frame, overrides_from_frame, parametres_frame,
                                    scenario_from_store, structures_frame)
from planning.simulation import simulate, validate_scenario
from data.store import PROJECT_ROOT


def _structures():
    return pd.DataFrame([
        # open since 2010: 30 places every year
        {"id": "A", "code_insee": "89024", "type": "EAJE", "nom": "Crèche A", "places": 30, "psu": True,
         "gestion": "publique", "date_ouverture": "2010-01-01", "date_fermeture": None},
        # opens in March 2025: 0 places in 2023-2024, 12 from 2025
        {"id": "B", "code_insee": "89387", "type": "MICRO_CRECHE", "nom": "Micro B", "places": 12, "psu": True,
         "gestion": "privee", "date_ouverture": "2025-03-01", "date_fermeture": None},
        # closes in June 2024: 20 places in 2023, 0 from 2024 (a structure closed during year Y is not counted in Y)
        {"id": "C", "code_insee": "89024", "type": "EAJE", "nom": "Crèche C", "places": 20, "psu": True,
         "gestion": "publique", "date_ouverture": "2000-01-01", "date_fermeture": "2024-06-30"},
        # not PSU, not a crèche, or outside the territory: ignored
        {"id": "D", "code_insee": "89024", "type": "EAJE", "nom": "Privée D", "places": 40, "psu": False,
         "gestion": "privee", "date_ouverture": "2010-01-01", "date_fermeture": None},
        {"id": "E", "code_insee": "89024", "type": "RPE", "nom": "RPE", "places": 0, "psu": False,
         "gestion": "publique", "date_ouverture": "2010-01-01", "date_fermeture": None},
        {"id": "F", "code_insee": "93066", "type": "EAJE", "nom": "Ailleurs", "places": 60, "psu": True,
         "gestion": "publique", "date_ouverture": "2010-01-01", "date_fermeture": None},
    ])


def test_prefill_follows_opening_and_closing_dates():
    sc = scenario_from_store("Test", ["89024", "89387"], _structures(), qpv_communes=["89387"])
    by_id = {s["id"]: s for s in sc["structures"]}
    assert sorted(by_id) == ["A", "B", "C"]
    assert by_id["A"]["places_ouvertes"] == {"2023": 30}
    assert by_id["B"]["places_ouvertes"] == {"2023": 0, "2025": 12}
    assert by_id["C"]["places_ouvertes"] == {"2023": 20, "2024": 0}
    # 2023 co-financed PSU places of the territory: A 30 + C 20 = 50
    assert sc["territoire"]["places_psu_cofinancees_reference"] == 50
    assert by_id["B"]["qpv"] is True and by_id["A"]["qpv"] is False and sc["territoire"]["qpv"] is True
    # defaults come from the dated, « à vérifier » input parameters
    assert by_id["A"]["prix_revient_horaire"] == Baremes().value("saisie.prix_revient_horaire", 2023)
    assert validate_scenario(sc, communes=pd.DataFrame({"code_insee": ["89024", "89387"], "dep": ["89", "89"],
                                                        "population": [35097, 27106]})) == []


def test_table_round_trip_keeps_per_year_values_and_applies_edits():
    path = PROJECT_ROOT / "examples" / "scenarios" / "ctg_yonne_rural.json"
    sc = json.loads(path.read_text(encoding="utf-8"))
    frame = structures_frame(sc)
    same = apply_structures_frame(sc, frame)
    # nothing edited → same simulation result (per-year costs preserved)
    assert simulate(same).to_dict()["cumul"]["total_caf"] == simulate(sc).to_dict()["cumul"]["total_caf"]
    # add 10 places in 2026-2027 to the first structure: its places become {..., 2026: +10}
    frame.loc[0, ["places_2026", "places_2027"]] = frame.loc[0, "places_2025"] + 10
    edited = apply_structures_frame(sc, frame)
    first = edited["structures"][0]["places_ouvertes"]
    assert first["2026"] == frame.loc[0, "places_2025"] + 10
    r0, r1 = simulate(sc).to_dict(), simulate(edited).to_dict()
    assert r1["cumul"]["total_caf"] > r0["cumul"]["total_caf"]


def test_parameter_overrides_are_the_changed_values_only():
    b = Baremes()
    frame = parametres_frame(b, 2025, {})
    assert overrides_from_frame(frame) == {}
    i = frame.index[frame["parametre"] == "bonus.rattrapage_montant_intermediaire"][0]
    frame.loc[i, "valeur"] = 650.0
    assert overrides_from_frame(frame) == {"bonus.rattrapage_montant_intermediaire": 650.0}
    assert bool(frame.loc[i, "a_verifier"]) is True


def test_top_amount_communes_and_weighted_financial_potential():
    from planning.scenario_edit import communes_montant_maximal, potentiel_financier_moyen

    frr = pd.DataFrame({"code_insee": ["A", "B", "C", "D"],
                        "classement": ["FRR", "FRR+", "Ancienne ZRR en transition", "Non classée"]})
    zrr = pd.DataFrame({"code_insee": ["A", "E"], "zrr": ["C", "P"]})
    assert communes_montant_maximal(frr, zrr, 2025) == {"A", "B", "C"}
    assert communes_montant_maximal(None, zrr, 2025) == {"A", "E"}  # legacy list only without FRR
    dgcl = pd.DataFrame({"code_insee": ["A", "B"], "potentiel_financier_hab": [1000.0, 700.0]})
    pop = pd.Series({"A": 3000, "B": 1000})
    # (1000 × 3000 + 700 × 1000) / 4000 = 925
    assert potentiel_financier_moyen(dgcl, pop, ["A", "B"]) == 925.0
    assert potentiel_financier_moyen(dgcl, pop, ["Z"]) is None and potentiel_financier_moyen(None, pop, ["A"]) is None


def test_validation_messages_name_the_structure_and_the_column():
    from planning.scenario_edit import message_lisible

    sc = {"structures": [{"nom": "Crèche des Lilas"}, {"nom": ""}]}
    assert message_lisible("structures[0].places_ouvertes.2024 : nombre négatif", sc) == \
        "« Crèche des Lilas » (ligne 1) — Places 2024 : nombre négatif"
    assert message_lisible("structures[1].prix_revient_horaire : champ obligatoire manquant", sc) == \
        "Ligne 2 — Prix de revient (€/h) : champ obligatoire manquant"
    assert message_lisible("territoire.communes : liste vide", sc) == "territoire.communes : liste vide"

