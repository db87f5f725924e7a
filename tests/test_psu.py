"""PSU and prix plafond: worked examples (arithmetic in comments) and properties."""
import pytest
from hypothesis import given, settings, strategies as st

from planning.parametres import Baremes
from planning.psu import calcul_psu, comparer_regles_facturation, journees_pedagogiques, prix_plafond

B = Baremes()
# Default reference prix plafond 2024 and 2025: 9.22 €/h (derived, "?"); band coefficients
# bas 1.025 / milieu 1.0 / haut 0.975; linear rule between 107 % and 120 % from 2025.


@pytest.mark.parametrize("annee,taux,attendu", [
    (2024, 1.07, 9.22 * 1.025),   # exactly 107 % is in the low band: 9.4505
    (2024, 1.10, 9.22),           # 107–117 %: 9.22
    (2024, 1.17, 9.22),           # exactly 117 % still in the middle band
    (2024, 1.18, 9.22 * 0.975),   # > 117 %: 8.9895
    (2023, 1.12, 8.91),           # 2023 reference, middle band
    (2018, 1.12, 7.87),           # the only known point: 7.87 €/h at 112 % in 2018
])
def test_prix_plafond_paliers(annee, taux, attendu):
    assert prix_plafond(annee, taux, "couches_et_repas", B).valeur == pytest.approx(attendu)


@pytest.mark.parametrize("taux,attendu", [
    (1.00, 9.4505),                                   # constant up to 107 %
    (1.07, 9.4505),
    (1.10, 9.4505 - 0.03 / 0.13 * (9.4505 - 8.9895)),  # 9.4505 − 0.2308 × 0.461 = 9.344115
    (1.18, 9.4505 - 0.11 / 0.13 * (9.4505 - 8.9895)),  # 9.4505 − 0.8462 × 0.461 = 9.060423
    (1.20, 8.9895),                                   # constant from 120 %
    (1.35, 8.9895),
])
def test_prix_plafond_lineaire_2025(taux, attendu):
    pp = prix_plafond(2025, taux, "couches_et_repas", B)
    assert pp.entrees["regle"] == "lineaire"
    assert pp.valeur == pytest.approx(attendu)


def test_niveau_service_sans_couches_ni_repas():
    # 9.22 × 0.96 = 8.8512 (2024, middle band)
    assert prix_plafond(2024, 1.10, "ni_couches_ni_repas", B).valeur == pytest.approx(8.8512)


def test_psu_worked_example_and_regime_general():
    # 0.66 × min(12 ; 9.22) × 40 000 h − 60 000 = 243 408 − 60 000 = 183 408 ; × 0.95 = 174 237.60
    m = calcul_psu(2024, prix_revient_horaire=12, heures_facturees=40000, taux_facturation=1.10,
                   participations_familiales=60000, part_regime_general=0.95, baremes=B)
    assert m.valeur == pytest.approx(174237.60)
    assert "66 %" in m.formule and "174\u202f237,60 €" in m.formule  # narrow no-break space
    # the prix de revient is kept when below the ceiling: 0.66 × 8 × 1 000 = 5 280 ; × 0.5 = 2 640
    m2 = calcul_psu(2024, prix_revient_horaire=8, heures_facturees=1000, taux_facturation=1.10,
                    participations_familiales=0, part_regime_general=0.5, baremes=B)
    assert m2.valeur == pytest.approx(2640)


def test_psu_floored_at_zero():
    # 0.66 × 9.22 × 1 000 = 6 085.20 < 10 000 of participations → 0
    m = calcul_psu(2024, prix_revient_horaire=12, heures_facturees=1000, taux_facturation=1.10,
                   participations_familiales=10000, part_regime_general=1.0, baremes=B)
    assert m.valeur == 0


@pytest.mark.parametrize("taux,psu_2024,psu_2025", [
    # 2024 paliers: 0.66 × 9.22 × 40 000 − 60 000 = 183 408 ; 2025 linear: 0.66 × 9.344115 × 40 000 − 60 000 = 186 684.65
    (1.10, 183408.0, 186684.65),
    # 2024 paliers: 0.66 × 8.9895 × 40 000 − 60 000 = 177 322.80 ; 2025: 0.66 × 9.060423 × 40 000 − 60 000 = 179 195.17
    (1.18, 177322.80, 179195.17),
])
def test_billing_rate_reform_2024_2025(taux, psu_2024, psu_2025):
    kw = dict(prix_revient_horaire=12, heures_facturees=40000, taux_facturation=taux,
              participations_familiales=60000, part_regime_general=1.0, baremes=B)
    assert calcul_psu(2024, **kw).valeur == pytest.approx(psu_2024, abs=0.01)
    assert calcul_psu(2025, **kw).valeur == pytest.approx(psu_2025, abs=0.01)
    # same structure, same year (2025 reference 9.22 = 2024), both rules
    comp = comparer_regles_facturation(2025, **kw)
    assert comp["paliers"].valeur == pytest.approx(psu_2024, abs=0.01)
    assert comp["lineaire"].valeur == pytest.approx(psu_2025, abs=0.01)
    assert comp["ecart"] == pytest.approx(psu_2025 - psu_2024, abs=0.01)


def test_override_and_explain():
    b = Baremes({"psu.taux_psu": 0.5})
    # 0.5 × 9.22 × 1 000 = 4 610
    m = calcul_psu(2024, prix_revient_horaire=12, heures_facturees=1000, taux_facturation=1.10,
                   participations_familiales=0, part_regime_general=1.0, baremes=b)
    assert m.valeur == pytest.approx(4610)
    e = m.explain()
    assert e["parametres"][0]["surcharge"] is True
    pp = e["details"][0]["parametres"][0]
    assert pp["parametre"] == "psu.prix_plafond_reference" and pp["depuis"] == "2024-01-01"
    assert pp["confiance"] == "?" and "3,49" in pp["source"]


def test_journees_pedagogiques():
    kw = dict(jours=5, places=20, prix_revient_horaire=12, taux_facturation=1.10, part_regime_general=1.0, baremes=B)
    assert journees_pedagogiques(2023, **kw).valeur == 0  # not paid before 2024
    # capped at 3 days: 3 × 10 h × 20 places = 600 h ; 0.66 × 9.22 × 600 = 3 651.12
    assert journees_pedagogiques(2024, **kw).valeur == pytest.approx(3651.12)


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
