"""PSU and prix plafond: worked examples (arithmetic in comments) and properties."""
import pytest
from hypothesis import given, settings, strategies as st

from planning.parametres import Baremes
from planning.psu import calcul_psu, comparer_regles_facturation, journees_pedagogiques, prix_plafond

B = Baremes()
# Default reference prix plafond (derived, "?"): 2023 9.13 €/h, 2024 9.45 €/h, 2025 9.64 €/h (9.45 × 1.02,
# the retroactive +2 % of 2025); band coefficients bas 1.025 / milieu 1.0 / haut 0.975; linear rule between
# 107 % and 120 % from 2025, the plateau from 120 % frozen at the 2024 level (9.45 × 0.975 = 9.21375) unless
# the +2 % is applied to it too (parameter psu.revalorisation_2025_plateau_haut, "?").
BAS_2025 = 9.64 * 1.025            # 9.881
HAUT_2025 = 9.45 * 0.975           # 9.21375 (frozen plateau)


@pytest.mark.parametrize("annee,taux,attendu", [
    (2024, 1.07, 9.45 * 1.025),   # exactly 107 % is in the low band: 9.68625
    (2024, 1.10, 9.45),           # 107–117 %: 9.45
    (2024, 1.17, 9.45),           # exactly 117 % still in the middle band
    (2024, 1.18, 9.45 * 0.975),   # > 117 %: 9.21375
    (2023, 1.12, 9.13),           # 2023 reference, middle band
    (2018, 1.12, 7.87),           # the only (unconfirmed) point: 7.87 €/h at 112 % in 2018
])
def test_prix_plafond_paliers(annee, taux, attendu):
    assert prix_plafond(annee, taux, "couches_et_repas", B).valeur == pytest.approx(attendu)


@pytest.mark.parametrize("taux,attendu", [
    (1.00, BAS_2025),                                       # constant up to 107 %: 9.881
    (1.07, BAS_2025),
    (1.10, BAS_2025 - 0.03 / 0.13 * (BAS_2025 - HAUT_2025)),  # 9.881 − 0.230769 × 0.66725 = 9.727019
    (1.18, BAS_2025 - 0.11 / 0.13 * (BAS_2025 - HAUT_2025)),  # 9.881 − 0.846154 × 0.66725 = 9.316404
    (1.20, HAUT_2025),                                      # constant from 120 %: frozen 9.21375
    (1.35, HAUT_2025),
])
def test_prix_plafond_lineaire_2025(taux, attendu):
    pp = prix_plafond(2025, taux, "couches_et_repas", B)
    assert pp.entrees["regle"] == "lineaire"
    assert pp.valeur == pytest.approx(attendu)


def test_frozen_plateau_and_its_2025_increase():
    # 2026: reference 9.64 (2025 carried, "?"), plateau still 9.45 × 0.975 = 9.21375
    assert prix_plafond(2026, 1.25, "couches_et_repas", B).valeur == pytest.approx(9.21375)
    # with the +2 % on the plateau: 9.45 × 1.02 × 0.975 = 9.398025
    b = Baremes({"psu.revalorisation_2025_plateau_haut": 0.02})
    pp = prix_plafond(2025, 1.25, "couches_et_repas", b)
    assert pp.valeur == pytest.approx(9.398025)
    assert "gelé au niveau 2024" in pp.formule
    assert {p.name for p in pp.parametres} >= {"psu.annee_gel_plateau_haut", "psu.revalorisation_2025_plateau_haut"}
    # 2024 (no freeze yet) with the linear rule forced: plateau = 9.45 × 0.975, no scaling
    assert prix_plafond(2024, 1.25, "couches_et_repas", B, regle="lineaire").valeur == pytest.approx(9.21375)
    # 31 Dec 2024 vs 1 Jan 2025: the reference moves from 9.45 to 9.64 (+2 %)
    assert B.value("psu.prix_plafond_reference", "2024-12-31") == 9.45
    assert B.value("psu.prix_plafond_reference", "2025-01-01") == 9.64


def test_niveau_service_sans_couches_ni_repas():
    # 9.45 × 0.96 = 9.072 (2024, middle band)
    assert prix_plafond(2024, 1.10, "ni_couches_ni_repas", B).valeur == pytest.approx(9.072)


def test_psu_worked_example_and_regime_general():
    # 0.66 × min(12 ; 9.45) × 40 000 h − 60 000 = 249 480 − 60 000 = 189 480 ; × 0.95 = 180 006.00
    m = calcul_psu(2024, prix_revient_horaire=12, heures_facturees=40000, taux_facturation=1.10,
                   participations_familiales=60000, part_regime_general=0.95, baremes=B)
    assert m.valeur == pytest.approx(180006.00)
    assert "66 %" in m.formule and "180\u202f006,00 €" in m.formule  # narrow no-break space
    # the prix de revient is kept when below the ceiling: 0.66 × 8 × 1 000 = 5 280 ; × 0.5 = 2 640
    m2 = calcul_psu(2024, prix_revient_horaire=8, heures_facturees=1000, taux_facturation=1.10,
                    participations_familiales=0, part_regime_general=0.5, baremes=B)
    assert m2.valeur == pytest.approx(2640)


def test_psu_floored_at_zero():
    # 0.66 × 9.45 × 1 000 = 6 237 < 10 000 of participations → 0
    m = calcul_psu(2024, prix_revient_horaire=12, heures_facturees=1000, taux_facturation=1.10,
                   participations_familiales=10000, part_regime_general=1.0, baremes=B)
    assert m.valeur == 0


@pytest.mark.parametrize("taux,psu_2024,psu_2025_paliers,psu_2025", [
    # 2024 paliers: 0.66 × 9.45 × 40 000 − 60 000 = 189 480 ; 2025 with the old bands: 0.66 × 9.64 × 40 000 − 60 000
    # = 194 496 ; 2025 linear: 0.66 × 9.727019 × 40 000 − 60 000 = 196 793.31
    (1.10, 189480.0, 194496.0, 196793.31),
    # 2024: 0.66 × 9.21375 × 40 000 − 60 000 = 183 243 ; 2025 bands: 0.66 × 9.64 × 0.975 × 40 000 − 60 000 = 188 133.60 ;
    # 2025 linear: 0.66 × 9.316404 × 40 000 − 60 000 = 185 953.07
    (1.18, 183243.0, 188133.60, 185953.07),
])
def test_billing_rate_reform_2024_2025(taux, psu_2024, psu_2025_paliers, psu_2025):
    kw = dict(prix_revient_horaire=12, heures_facturees=40000, taux_facturation=taux,
              participations_familiales=60000, part_regime_general=1.0, baremes=B)
    assert calcul_psu(2024, **kw).valeur == pytest.approx(psu_2024, abs=0.01)
    assert calcul_psu(2025, **kw).valeur == pytest.approx(psu_2025, abs=0.01)
    # same structure, same year, both rules
    comp = comparer_regles_facturation(2025, **kw)
    assert comp["paliers"].valeur == pytest.approx(psu_2025_paliers, abs=0.01)
    assert comp["lineaire"].valeur == pytest.approx(psu_2025, abs=0.01)
    assert comp["ecart"] == pytest.approx(psu_2025 - psu_2025_paliers, abs=0.01)


def test_override_and_explain():
    b = Baremes({"psu.taux_psu": 0.5})
    # 0.5 × 9.45 × 1 000 = 4 725
    m = calcul_psu(2024, prix_revient_horaire=12, heures_facturees=1000, taux_facturation=1.10,
                   participations_familiales=0, part_regime_general=1.0, baremes=b)
    assert m.valeur == pytest.approx(4725)
    e = m.explain()
    assert e["parametres"][0]["surcharge"] is True
    pp = e["details"][0]["parametres"][0]
    assert pp["parametre"] == "psu.prix_plafond_reference" and pp["depuis"] == "2024-01-01"
    assert pp["confiance"] == "?" and "3,49" in pp["source"]


def test_journees_pedagogiques():
    kw = dict(jours=5, places=20, prix_revient_horaire=12, taux_facturation=1.10, part_regime_general=1.0, baremes=B)
    assert journees_pedagogiques(2023, **kw).valeur == 0  # not paid before 2024
    # capped at 3 days: 3 × 10 h × 20 places = 600 h ; 0.66 × 9.45 × 600 = 3 742.20
    assert journees_pedagogiques(2024, **kw).valeur == pytest.approx(3742.20)


@settings(max_examples=60, deadline=None)
@given(heures=st.floats(0, 5e6), pf=st.floats(0, 1e7), prix=st.floats(0.5, 30), taux=st.floats(0.8, 1.6),
       annee=st.sampled_from([2023, 2024, 2025, 2026]))
def test_psu_never_negative(heures, pf, prix, taux, annee):
    m = calcul_psu(annee, prix_revient_horaire=prix, heures_facturees=heures, taux_facturation=taux,
                   participations_familiales=pf, part_regime_general=0.9, baremes=B)
    assert m.valeur >= 0


@settings(max_examples=60, deadline=None)
@given(h1=st.floats(0, 1e6), extra=st.floats(0, 1e6), pf_h=st.floats(0, 8), prix=st.floats(0.5, 30),
       taux=st.floats(0.8, 1.6), annee=st.sampled_from([2024, 2025]))
def test_more_hours_never_lower_psu(h1, extra, pf_h, prix, taux, annee):
    def psu(h):
        return calcul_psu(annee, prix_revient_horaire=prix, heures_facturees=h, taux_facturation=taux,
                          participations_familiales=pf_h * h, part_regime_general=1.0, baremes=B).valeur
    assert psu(h1 + extra) >= psu(h1) - 1e-6
