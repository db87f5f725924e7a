"""Bonuses at and around each threshold (thresholds are "from": ≥), with the arithmetic written out."""
import pytest
from hypothesis import given, settings, strategies as st

from planning.bonus import (bonus_attractivite, bonus_inclusion_handicap, bonus_mixite, bonus_rattrapage,
                            bonus_territoire_places_existantes, bonus_territoire_places_nouvelles, bonus_trajectoire,
                            palier_trajectoire)
from planning.parametres import Baremes

B = Baremes()


@pytest.mark.parametrize("pf_h,par_place", [
    (0.50, 2100), (0.99, 2100),   # below 1.00 €/h: 2 100 €
    (1.00, 800), (1.24, 800),     # from 1.00 €/h: 800 € (default "?")
    (1.25, 300), (1.49, 300),     # from 1.25 €/h: 300 €
    (1.50, 0), (3.00, 0),         # from 1.50 €/h: no bonus
])
def test_mixite(pf_h, par_place):
    # 10 places × amount per place
    assert bonus_mixite(2024, participation_horaire_moyenne=pf_h, places=10, baremes=B).valeur == par_place * 10


@settings(max_examples=50, deadline=None)
@given(a=st.floats(0, 5), b=st.floats(0, 5))
def test_mixite_monotone(a, b):
    lo, hi = sorted((a, b))
    f = lambda x: bonus_mixite(2025, participation_horaire_moyenne=x, places=1, baremes=B).valeur  # noqa: E731
    assert f(lo) >= f(hi)


@pytest.mark.parametrize("part,cout,par_place", [
    (0.0, 4000, 0),        # no child with a disability
    (0.01, 4000, 600),     # < 5 %: 15 % × 4 000 = 600
    (0.049, 4000, 600),
    (0.05, 4000, 1200),    # from 5 %: 30 % × 4 000 = 1 200
    (0.0749, 4000, 1200),
    (0.075, 2000, 900),    # from 7.5 %: 45 % × 2 000 = 900
    (0.075, 4000, 1300),   # 45 % × 4 000 = 1 800, capped at 1 300
    (0.05, 5000, 1300),    # 30 % × 5 000 = 1 500, capped at 1 300
])
def test_inclusion_handicap(part, cout, par_place):
    m = bonus_inclusion_handicap(2024, part_enfants_handicap=part, cout_par_place=cout, places=10, baremes=B)
    assert m.valeur == pytest.approx(par_place * 10)


def test_handicap_cap_2019_confirmed():
    pv = B.get("bonus.handicap_plafond_par_place", 2020)
    assert pv.valeur == 1300 and pv.confiance == "C"
    assert B.get("bonus.handicap_plafond_par_place", 2022).confiance == "?"


def test_attractivite():
    assert bonus_attractivite(2023, gestion="publique", places=10, baremes=B).valeur == 0   # from 2024
    assert bonus_attractivite(2024, gestion="publique", places=10, baremes=B).valeur == 4750  # 475 × 10
    assert bonus_attractivite(2025, gestion="privee", places=10, baremes=B).valeur == 9700    # 970 × 10


@pytest.mark.parametrize("pf,prio,par_place", [
    (500, False, 3600), (899.99, False, 3600),   # below 900 €/hab: 3 600 €
    (900, False, 3100), (1199, False, 3100),      # from 900: 3 100 € (default "?")
    (1200, False, 2600), (2500, False, 2600),     # from 1 200: 2 600 €
    (2500, True, 3600),                           # QPV or ZRR/FRR: top amount
    (None, False, 3100),                          # unknown wealth: middle amount
])
def test_territoire_places_nouvelles(pf, prio, par_place):
    m = bonus_territoire_places_nouvelles(2025, places=4, potentiel_financier_hab=pf, prioritaire=prio, baremes=B)
    assert m.valeur == par_place * 4


def test_territoire_places_existantes():
    # 2024: max(500 ; floor 700) × (1 + 0 %) = 700 €/place ; × 10 = 7 000
    f = lambda y, cej: bonus_territoire_places_existantes(  # noqa: E731
        y, places=10, montant_cej_par_place=cej, annee_reference=2023, baremes=B).valeur
    assert f(2024, 500) == pytest.approx(7000)
    # 2026: 700 × 1.00 (2024) × 1.02 (2025) × 1.02 (2026) = 728.28 ; × 10 = 7 282.80
    assert f(2026, 500) == pytest.approx(7282.80)
    # 2025: CEJ above the floor: 1 500 × 1.02 = 1 530 ; × 10 = 15 300
    assert f(2025, 1500) == pytest.approx(15300)
    assert f(2025, None) == pytest.approx(7140)  # floor only: 700 × 1.02 × 10


@pytest.mark.parametrize("cej,pf,prio,par_place", [
    (999, 1000, False, 600),    # old CEJ below 1 000: middle wealth band → 600
    (1000, 1000, False, 0),     # from the CEJ threshold: no rattrapage
    (0, 800, False, 800),       # modest territory: 800
    (0, 1300, False, 400),      # rich territory: 400
    (0, 1300, True, 800),       # QPV / ZRR-FRR: 800
])
def test_rattrapage(cej, pf, prio, par_place):
    m = bonus_rattrapage(2025, places=5, montant_cej_par_place=cej, potentiel_financier_hab=pf, prioritaire=prio,
                         baremes=B)
    assert m.valeur == par_place * 5


@pytest.mark.parametrize("places,par_place,manquantes", [
    (103, 0, 1),      # +3 %: nothing; 104 needed for +4 %
    (104, 100, 4),    # exactly +4 %: 100 €/place; 108 needed for +8 %
    (105, 100, 3),    # "il manque 3 places pour atteindre +8 %"
    (108, 200, 4),    # exactly +8 %
    (112, 300, None),  # exactly +12 %: top tier, nothing further
    (90, 0, 14),      # places lost: 104 − 90 = 14 missing
])
def test_trajectoire_thresholds(places, par_place, manquantes):
    p = palier_trajectoire(2026, places_reference=100, places_par_annee={2026: places}, baremes=B)
    assert p.montant_par_place == par_place
    assert p.places_manquantes == manquantes
    # bonus on every place of the territory: amount × places
    assert bonus_trajectoire(p, places=places).valeur == par_place * places


def test_trajectoire_message_and_dates():
    p = palier_trajectoire(2026, places_reference=100, places_par_annee={2026: 105}, baremes=B)
    assert "Il manque 3 places pour atteindre +8 %" in p.message
    # before 2025: growth measured, no bonus
    p24 = palier_trajectoire(2024, places_reference=100, places_par_annee={2024: 120}, baremes=B)
    assert p24.montant_par_place == 0 and not p24.en_vigueur and "à partir de 2025" in p24.message
    # after 2027 the growth is the one reached in 2027: 2029 has 130 places but 2027 had 104 → +4 %
    p29 = palier_trajectoire(2029, places_reference=100, places_par_annee={2027: 104, 2029: 130}, baremes=B)
    assert p29.annee_mesure == 2027 and p29.montant_par_place == 100
    # 50 places × 1.04 = 52 exactly (no float rounding up to 53)
    p50 = palier_trajectoire(2025, places_reference=50, places_par_annee={2025: 51}, baremes=B)
    assert p50.places_manquantes == 1


@settings(max_examples=60, deadline=None)
@given(a=st.integers(0, 400), b=st.integers(0, 400), base=st.integers(1, 300))
def test_trajectoire_monotone_in_growth(a, b, base):
    lo, hi = sorted((a, b))
    f = lambda n: palier_trajectoire(2026, places_reference=base, places_par_annee={2026: n},  # noqa: E731
                                     baremes=B).montant_par_place
    assert f(lo) <= f(hi)
