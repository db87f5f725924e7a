"""Zones en tension, demand to 2030 and the inequality ratios, on hand-made inputs worked out by hand."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from planning import besoins as bz
from planning import inegalites
from planning import zones_tension as zt


def test_distance_in_lambert93_times_the_detour_factor():
    # Auxerre's town hall (3.5673 E, 47.7986 N) and a point 0.1° of latitude north: 11,1 km in a straight line
    x, y = zt.lambert93([3.5673, 3.5673], [47.7986, 47.8986])
    d = zt.distance_plus_proche(x[:1], y[:1], x[1:], y[1:])[0] / 1000
    assert d == pytest.approx(11.12, abs=0.05)
    pts = pd.DataFrame({"code_insee": ["89024", "89025"], "lon": [3.5673, 3.5673], "lat": [47.7986, 47.8986]})
    s = pd.DataFrame({"code_insee": ["89025", "89025"], "type": ["EAJE", "RPE"], "places": [20, 0],
                      "longitude": [np.nan, np.nan], "latitude": [np.nan, np.nan]})   # no coordinates: commune point
    dist = zt.distances(pts, s, {"89024", "89025"}, facteur=1.3).set_index("code_insee")
    assert dist.loc["89024", "dist_eaje_km"] == pytest.approx(11.12 * 1.3, abs=0.1)    # 14,5 km
    assert dist.loc["89025", "dist_rpe_km"] == 0
    unknown = zt.distances(pts, s, {"89025"}, facteur=1.3).set_index("code_insee")
    assert np.isnan(unknown.loc["89024", "dist_eaje_km"])                                 # outside the list


def _ind(rows):
    return pd.DataFrame(rows, columns=["code", "nom", "epci_siren", "ept_code", "enfants_moins_3", "taux_eaje",
                                       "txcouv_caf", "desert", "qpv", "classement_frr"])


def test_classification_with_its_reasons():
    p = zt.ParametresZones(1.0, 30, 1.3, 10, 15, 0.25, {})
    ind = _ind([
        ("1", "Sous la référence", "E", None, 100, 10.0, np.nan, True, False, "FRR"),
        ("2", "Au-dessus", "E", None, 100, 30.0, np.nan, False, True, "Non classée"),
        ("3", "Trop petite", "E", None, 12, 0.0, np.nan, True, False, "FRR"),
        ("4", "Hors liste", "F", None, 100, np.nan, np.nan, pd.NA, False, "Non classée"),
    ])
    dist = pd.DataFrame({"code_insee": ["1", "2", "3", "4"], "dist_eaje_km": [2.0, 3.0, 12.5, np.nan],
                         "dist_rpe_km": [1.0, 16.0, 4.0, np.nan]})
    c = zt.classer_communes(ind, dist, "eaje", 20.0, p, "département 89").set_index("code")
    # 10 < 20: insufficient offer; 30 ≥ 20: not; 12 children < 30: rate not judged
    assert c.loc["1", "offre_insuffisante"] == True and c.loc["2", "offre_insuffisante"] == False  # noqa: E712
    assert pd.isna(c.loc["3", "offre_insuffisante"])
    assert "10,0 < 20,0 (département 89)" in c.loc["1", "motifs"]
    # RPE 16 km > 15; EAJE 12,5 km > 10
    assert c.loc["2", "acces_difficile_rpe"] == True and "RPE le plus proche à 16,0 km > 15 km" in c.loc["2", "motifs"]  # noqa: E712
    assert c.loc["3", "zone_en_tension"] == True and "12,5 km > 10 km" in c.loc["3", "motifs"]  # noqa: E712
    assert pd.isna(c.loc["4", "zone_en_tension"]) and "donnée non disponible" in c.loc["4", "motifs"]
    # EPCI E: children in communes of difficult access = 100 (n°2) + 12 (n°3) of 212 = 52,8 % ≥ 25 %
    epci = pd.DataFrame({"code": ["E"], "nom": ["CC E"], "enfants_moins_3": [212.0], "taux_eaje": [21.0],
                         "txcouv_caf": [np.nan], "qpv": [True], "frr_zrr": [True]})
    e = zt.classer_epci(c.reset_index(), epci, "eaje", 20.0, p, "département 89").iloc[0]
    assert e["part_enfants_acces_difficile"] == pytest.approx(112 / 212)
    assert e["offre_insuffisante"] == False and e["acces_difficile"] == True  # noqa: E712
    assert "53\u202f% des enfants" in e["motifs"]


def test_demand_projection_worked_by_hand():
    # births 2020-2024: 100, 98, 96, 94, 92; window 5 years → rate (92/100)^(1/4) − 1 = −2,06 %
    births = pd.Series([100.0, 98, 96, 94, 92], index=[2020, 2021, 2022, 2023, 2024])
    r = bz.tendance(births, 5)
    assert r == pytest.approx((0.92) ** 0.25 - 1)
    out = bz.besoin(births, places_actuelles=50, annee_debut=2024, taux_cible=60, horizon=2026, fenetre=5)
    row = out.set_index("annee")
    # 2024: children = births 2022 + 2023 + 2024 = 96 + 94 + 92 = 282; 60 % → 169,2 → 170 places; 120 to create
    assert row.loc[2024, "enfants_moins_3"] == 282
    assert (row.loc[2024, "places_necessaires"], row.loc[2024, "places_a_creer"]) == (170, 120)
    assert not row.loc[2024, "projete"]
    # 2025: 94 + 92 + 92 × (1 + r) = 276,1 → 60 % = 165,7 → 166
    b25 = 92 * (1 + r)
    assert row.loc[2025, "enfants_moins_3"] == pytest.approx(94 + 92 + b25)
    assert row.loc[2025, "places_necessaires"] == 166 and row.loc[2025, "projete"]
    # a « +1 point a year » scenario raises the projected births
    up = bz.besoin(births, 50, 2024, taux_cible=60, horizon=2026, fenetre=5, ajustement=0.01)
    assert up.set_index("annee").loc[2026, "enfants_moins_3"] > row.loc[2026, "enfants_moins_3"]


def test_scenario_from_the_need_opens_places_year_by_year():
    base = {"nom": "CTG Sens 2023-2027", "periode": {"debut": 2023, "fin": 2027},
            "territoire": {"nom": "Sens", "communes": ["89387"], "qpv": True, "frr_zrr": False}, "structures": []}
    need = pd.DataFrame({"annee": [2026, 2027, 2028, 2029, 2030], "places_a_creer": [10, 25, 20, 30, 30]})
    sc = bz.scenario_depuis_besoin(base, need, "89387")
    s = sc["structures"][-1]
    assert sc["periode"] == {"debut": 2023, "fin": 2030}
    # never closing what was opened: 2028 keeps 25 places
    assert s["places_ouvertes"] == {"2026": 10, "2027": 25, "2029": 30}
    from planning.simulation import validate_scenario

    validate_scenario(sc)      # the simulator accepts it


def test_repss_and_quintiles():
    # 45 départements: rates 1..45 → top 20 mean = (26+…+45)/20 = 35,5 ; bottom 20 mean = 10,5
    dep = pd.DataFrame({"annee": 2023, "code": [str(i) for i in range(1, 46)], "txcouv": np.arange(1, 46, dtype=float)})
    r = inegalites.repss(dep).iloc[0]
    assert (r["haut"], r["bas"]) == (35.5, 10.5) and r["ratio"] == pytest.approx(35.5 / 10.5)
    # 10 EPCI: fifth = 2 → (9 + 10) / 2 ÷ (1 + 2) / 2 = 9,5 / 1,5
    q = inegalites.quintiles(pd.DataFrame({"annee": 2024, "code": list("abcdefghij"),
                                           "taux": np.arange(1, 11, dtype=float)})).iloc[0]
    assert q["n"] == 2 and q["ratio"] == pytest.approx(9.5 / 1.5)
    zero = inegalites.quintiles(pd.DataFrame({"annee": 2024, "code": list("abcde"), "taux": [0, 1, 2, 3, 4.0]}))
    assert np.isnan(zero.iloc[0]["ratio"]) and zero.iloc[0]["ecart"] == 4
