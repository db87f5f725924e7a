"""CTG simulator: validation messages, a hand-computed year, frames, vectorised = scalar."""
import copy
import json

import pandas as pd
import pytest

from planning.scenario_format import ScenarioInvalide
from planning.simulation import simulate
from planning.validation import validate_scenario

COMMUNES = pd.DataFrame({"code_insee": ["89419", "89086", "97411"], "dep": ["89", "89", "974"],
                         "population": [2571, 4900, 150000]})

SCENARIO = {
    "nom": "Test",
    "periode": {"debut": 2025, "fin": 2025},
    "territoire": {"nom": "CC test", "communes": ["89419", "89086"], "places_psu_cofinancees_reference": 10,
                   "potentiel_financier_par_habitant": 1000, "montant_cej_par_place": 500},
    "structures": [{
        "id": "A", "nom": "Crèche A", "code_insee": "89419", "gestion": "publique",
        "places_ouvertes": {"2023": 10, "2025": 12}, "prix_revient_horaire": 8, "heures_facturees_par_place": 1000,
        "taux_facturation": 1.05, "part_regime_general": 1.0, "participation_horaire_moyenne": 1.10,
    }],
}


def test_hand_computed_year():
    r = simulate(SCENARIO, communes=COMMUNES)
    (a,) = r.annees
    (l,) = a.lignes
    v = l.valeur
    # 12 places × 1 000 h = 12 000 h ; participations 1.10 × 12 000 = 13 200
    assert v("participations_familiales") == pytest.approx(13200)
    # PSU: 0.66 × min(8 ; plafond 9.45) × 12 000 − 13 200 = 63 360 − 13 200 = 50 160
    assert v("psu") == pytest.approx(50160)
    assert v("bonus_mixite") == pytest.approx(9600)           # 1.10 €/h → 800 × 12
    assert v("bonus_inclusion_handicap") == 0
    assert v("bonus_attractivite") == pytest.approx(5700)     # 475 × 12
    assert v("bonus_territoire_nouvelles") == pytest.approx(6200)   # 2 new places × 3 100
    assert v("bonus_territoire_existantes") == pytest.approx(7140)  # 10 × max(500 ; 700) × 1.02
    assert v("bonus_rattrapage") == pytest.approx(6000)       # CEJ 500 < 1 000 ; 10 × 600
    assert v("bonus_trajectoire") == pytest.approx(3600)      # 10 → 12 = +20 % → 300 × 12
    # total 50 160 + 9 600 + 5 700 + 6 200 + 7 140 + 6 000 + 3 600 = 88 400
    assert v("total_caf") == pytest.approx(88400)
    # cost 8 × 12 000 / 1.05 = 91 428.57 ; Caf share 88 400 / 91 428.57 = 96.7 % > 80 % → warning
    assert v("cout_fonctionnement") == pytest.approx(91428.571, abs=0.01)
    assert l.part_caf == pytest.approx(0.96688, abs=1e-4)
    assert l.alerte and "80\u202f%" in l.alerte and r.alertes
    # reste à charge 91 428.57 − 88 400 − 13 200 = −10 171.43
    assert v("reste_a_charge_collectivite") == pytest.approx(-10171.43, abs=0.01)
    assert a.trajectoire.palier == 0.12


def test_dict_and_frames():
    r = simulate(SCENARIO, communes=COMMUNES)
    d = json.loads(json.dumps(r.to_dict(), ensure_ascii=False))
    psu = d["annees"][0]["structures"][0]["detail"]["psu"]
    assert psu["formule"].startswith("PSU = ") and psu["parametres"][0]["parametre"] == "psu.taux_psu"
    assert "psu.prix_plafond_reference" in d["parametres_a_verifier"]
    frames = r.to_frames()
    assert list(frames["par_structure"]["annee"]) == [2025]
    assert frames["par_annee"].loc[0, "total_caf"] == pytest.approx(88400)


def test_trajectory_missing_places_and_other_places():
    s = copy.deepcopy(SCENARIO)
    s["periode"] = {"debut": 2023, "fin": 2027}
    s["territoire"]["places_psu_cofinancees_reference"] = 100  # 90 places not detailed
    s["structures"][0]["places_ouvertes"] = {"2023": 10, "2026": 15}
    r = simulate(s, communes=COMMUNES)
    t = {a.annee: a for a in r.annees}
    # 2026: 100 + 5 = 105 places → +5 % (tier +4 %), 108 needed for +8 % → 3 missing
    assert "Il manque 3 places pour atteindre +8\u202f%" in t[2026].trajectoire.message
    # bonus on the 90 other places of the territory too: 90 × 100 = 9 000
    assert t[2026].totaux["bonus_trajectoire_autres_places"] == pytest.approx(9000)
    assert t[2024].totaux["bonus_trajectoire"] == 0
    assert r.cumul["bonus_trajectoire_autres_places"] == pytest.approx(2 * 9000)  # 2026 and 2027


def test_overseas_threshold_90():
    s = copy.deepcopy(SCENARIO)
    s["territoire"]["communes"] = ["97411"]
    s["structures"][0]["code_insee"] = "97411"
    s["structures"][0]["cofinancements"] = {"autres_part": 0.0}
    r = simulate(s, communes=COMMUNES)
    assert r.outre_mer and r.annees[0].lignes[0].seuil_alerte == 0.90
    assert "90\u202f%" in r.annees[0].lignes[0].alerte  # 96.7 % > 90 %


def test_validation_messages():
    bad = copy.deepcopy(SCENARIO)
    st = bad["structures"][0]
    st["places_ouvertes"] = {"2023": 10, "2026": -3}
    st["taux_facturation"] = 2.5
    del st["prix_revient_horaire"]
    st["heures_facturees_par_place"] = -1
    bad["structures"].append(dict(SCENARIO["structures"][0], id="B", code_insee="89086",
                                  places_ouvertes={"2025": 10000}))
    bad["territoire"]["communes"].append("99999")
    bad["parametres"] = {"psu.inconnu": 1}
    errs = validate_scenario(bad, communes=COMMUNES)
    text = "\n".join(errs)
    assert "structures[0].places_ouvertes.2026 : nombre négatif" in errs
    assert "structures[0].prix_revient_horaire : champ manquant" in errs
    assert "structures[0].heures_facturees_par_place : nombre négatif" in errs
    assert "structures[0].taux_facturation : 2,50 dépasse" in text and "1.10 pour 110 %" in text
    assert "structures[1].places_ouvertes.2025 : 10\u202f000 places pour une commune de 4\u202f900 habitants" in text
    assert "territoire.communes[2] : commune inconnue « 99999 »" in text
    assert "parametres.psu.inconnu : paramètre inconnu" in text
    assert validate_scenario(SCENARIO, communes=COMMUNES) == []
    assert validate_scenario([], communes=COMMUNES)  # not an object
    assert "territoire : champ manquant" in " ".join(validate_scenario({"structures": []}, communes=COMMUNES))
    with pytest.raises(ScenarioInvalide):
        simulate(bad, communes=COMMUNES)


def test_scenario_parameter_override():
    s = copy.deepcopy(SCENARIO)
    s["parametres"] = {"bonus.mixite_montant_intermediaire": 1000}
    r = simulate(s, communes=COMMUNES)
    assert r.annees[0].lignes[0].valeur("bonus_mixite") == pytest.approx(12000)  # 1 000 × 12


def _territory_scenario(row, years):
    return {
        "nom": row["territoire"], "periode": {"debut": years[0], "fin": years[-1]},
        "territoire": {"nom": row["territoire"], "communes": ["89419"],
                       "places_psu_cofinancees_reference": row["places_reference"],
                       "potentiel_financier_par_habitant": row["potentiel_financier_par_habitant"],
                       "frr_zrr": bool(row["prioritaire"]), "montant_cej_par_place": row["montant_cej_par_place"]},
        "structures": [{
            "id": "moy", "nom": "Structure moyenne", "code_insee": "89419", "gestion": row["gestion"],
            "places_ouvertes": {"2023": row["places_reference"], **{str(y): row[f"places_{y}"] for y in years}},
            "prix_revient_horaire": row["prix_revient_horaire"],
            "heures_facturees_par_place": row["heures_facturees_par_place"],
            "taux_facturation": row["taux_facturation"], "part_regime_general": row["part_regime_general"],
            "participation_horaire_moyenne": row["participation_horaire_moyenne"],
            "part_enfants_handicap": row["part_enfants_handicap"],
            "journees_pedagogiques": row["journees_pedagogiques"],
        }],
    }


def test_one_engine_for_a_territory_seen_as_one_structure():
    """A whole territory simulated as one average structure (what the removed vectorised engine did):
    the one engine gives the bonus trajectoire by hand."""
    years = [2023, 2024, 2025, 2026, 2027]
    row = {"territoire": "T1", "places_reference": 100, "places_2023": 100, "places_2024": 102, "places_2025": 105,
           "places_2026": 109, "places_2027": 113, "prix_revient_horaire": 12.0, "heures_facturees_par_place": 1800,
           "taux_facturation": 1.10, "participation_horaire_moyenne": 1.3, "part_regime_general": 0.97,
           "part_enfants_handicap": 0.0, "gestion": "publique", "potentiel_financier_par_habitant": 800,
           "prioritaire": False, "montant_cej_par_place": 500, "journees_pedagogiques": 3}
    r = simulate(_territory_scenario(row, years), communes=COMMUNES)
    t = {a.annee: a for a in r.annees}
    # 2027: 113 / 100 = +13 % → palier +12 % of the bonus trajectoire, 300 € × 113 places
    assert t[2027].totaux["bonus_trajectoire"] == pytest.approx(300 * 113)
    # 2024: +2 %, under the first palier (+4 %), and the bonus is paid from 2025 only
    assert t[2024].totaux["bonus_trajectoire"] == 0
