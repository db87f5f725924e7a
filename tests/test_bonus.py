"""Bonuses at and around each threshold (mixité: inclusive upper bounds; others "from", ≥), arithmetic written out."""
import pytest
from hypothesis import given, settings, strategies as st

from planning.bonus import (bonus_attractivite, bonus_inclusion_handicap, bonus_mixite, bonus_rattrapage,
                            bonus_territoire_places_existantes, bonus_territoire_places_nouvelles, bonus_trajectoire,
                            palier_trajectoire)
from planning.parametres import Baremes

B = Baremes()


@pytest.mark.parametrize("annee,pf_h,par_place", [
    # 2019 version (lettre circulaire 2018-002), in force until 31 Dec 2023: up to 0.75 / 1.00 / 1.25 € included
    (2023, 0.50, 2100), (2023, 0.75, 2100),    # up to 0.75 €/h included: 2 100 €
    (2023, 0.76, 800), (2023, 1.00, 800),      # 0.75–1.00 €/h: 800 €
    (2023, 1.01, 300), (2023, 1.25, 300),      # 1.00–1.25 €/h: 300 €
    (2023, 1.26, 0), (2023, 3.00, 0),          # above 1.25 €/h: no bonus
    # later version (Caf partner page), from 1 Jan 2024 (date « à vérifier »): < 0.87 / 0.88–1.15 / 1.16–1.46 €
    (2024, 0.86, 2100), (2024, 0.87, 2100),
    (2024, 0.88, 800), (2024, 1.15, 800),
    (2024, 1.16, 300), (2024, 1.46, 300),
    (2024, 1.47, 0),
])
def test_mixite(annee, pf_h, par_place):
    # 10 places × amount per place
    assert bonus_mixite(annee, participation_horaire_moyenne=pf_h, places=10, baremes=B).valeur == par_place * 10


def test_mixite_thresholds_change_on_1_january_2024_with_a_date_to_check():
    # 31 Dec 2023: 2019 version ; 1 Jan 2024: later version, whose values are confirmed but not the date
    old, new = B.get("bonus.mixite_seuils_participation", "2023-12-31"), B.get("bonus.mixite_seuils_participation",
                                                                                 "2024-01-01")
    assert old.valeur == [0.75, 1.00, 1.25] and not old.a_verifier
    assert new.valeur == [0.87, 1.15, 1.46] and new.confiance == "C" and new.confiance_date == "?"
    assert new.a_verifier and new.explain()["confiance_date"] == "?"
    # 1.10 €/h: 300 € in 2023 (above 1.00), 800 € in 2024 (within 0.88–1.15) ; × 12 places
    assert bonus_mixite(2023, participation_horaire_moyenne=1.10, places=12, baremes=B).valeur == 3600
    m = bonus_mixite(2024, participation_horaire_moyenne=1.10, places=12, baremes=B)
    assert m.valeur == 9600 and m.a_verifier and "date d'effet à vérifier" in m.formule
    # the amounts are confirmed (lettre circulaire 2018-002): 2 100 / 800 / 300
    assert [B.get(f"bonus.mixite_montant_{k}", 2024).confiance for k in ("max", "intermediaire", "min")] == ["C"] * 3


@settings(max_examples=50, deadline=None)
@given(a=st.floats(0, 5), b=st.floats(0, 5), annee=st.sampled_from([2019, 2023, 2024, 2025]))
def test_mixite_monotone(a, b, annee):
    lo, hi = sorted((a, b))
    f = lambda x: bonus_mixite(annee, participation_horaire_moyenne=x, places=1, baremes=B).valeur  # noqa: E731
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
def test_inclusion_handicap_amount_per_place(part, cout, par_place):
    # reading « toutes_places »: the amount per place × every place (10)
    m = bonus_inclusion_handicap(2024, part_enfants_handicap=part, cout_par_place=cout, places=10, baremes=B,
                                 lecture="toutes_places")
    assert m.valeur == pytest.approx(par_place * 10)
    # reading « proportionnelle »: × the places of the children concerned, 10 × part
    m = bonus_inclusion_handicap(2024, part_enfants_handicap=part, cout_par_place=cout, places=10, baremes=B,
                                 lecture="proportionnelle")
    assert m.valeur == pytest.approx(par_place * 10 * part)


def test_handicap_two_readings_on_the_published_example():
    """A 60-place crèche with one child concerned (1 enrolled child in 60, part 1/60), yearly cost
    15 000 € per place. Published: « about 1 000 € a year in total », « 1 300 € maximum, often much less »."""
    kw = dict(part_enfants_handicap=1 / 60, cout_par_place=15000, places=60, baremes=B)
    # per place: < 5 % → 15 % × 15 000 = 2 250, capped at 1 300
    per_place = bonus_inclusion_handicap(2023, lecture="toutes_places", **kw)
    assert per_place.entrees["montant_par_place"] == 1300
    # « toutes_places »: 1 300 × 60 = 78 000 € for a single child — far from the published ~1 000 €
    assert per_place.valeur == pytest.approx(78000)
    # « proportionnelle »: 1 300 × 60 × 1/60 = 1 300 € (one place financed): the published order of magnitude
    prop = bonus_inclusion_handicap(2023, lecture="proportionnelle", **kw)
    assert prop.valeur == pytest.approx(1300)
    # with 80 children enrolled for the 60 places (part 1/80): 1 300 × 60 / 80 = 975 € ≈ « about 1 000 € »
    assert bonus_inclusion_handicap(2023, lecture="proportionnelle", **{**kw, "part_enfants_handicap": 1 / 80}
                                    ).valeur == pytest.approx(975)
    # a cheaper crèche, 6 000 € per place: 15 % × 6 000 = 900 € (« beaucoup moins très souvent »)
    assert bonus_inclusion_handicap(2023, lecture="proportionnelle", **{**kw, "cout_par_place": 6000}
                                    ).valeur == pytest.approx(900)


def test_handicap_default_reading_is_a_dated_choice_to_check():
    pv = B.get("bonus.handicap_lecture", 2024)
    assert pv.valeur == "proportionnelle" and pv.a_verifier
    assert set(B.definition("bonus.handicap_lecture").choix) == {"proportionnelle", "toutes_places"}
    m = bonus_inclusion_handicap(2024, part_enfants_handicap=0.10, cout_par_place=4000, places=20, baremes=B)
    # 10 % → 45 % × 4 000 = 1 800, capped 1 300 ; × 20 places × 10 % = 2 places → 2 600 €
    assert m.valeur == pytest.approx(2600)
    assert m.a_verifier and "à vérifier" in m.formule and "places occupées" in m.formule
    assert "bonus.handicap_lecture" in [p.name for p in m.parametres]
    # a scenario may choose the other reading: 1 300 × 20 = 26 000 €
    b = Baremes({"bonus.handicap_lecture": "toutes_places"})
    m2 = bonus_inclusion_handicap(2024, part_enfants_handicap=0.10, cout_par_place=4000, places=20, baremes=b)
    assert m2.valeur == pytest.approx(26000) and "toutes les places" in m2.formule


def test_handicap_cap_2019_confirmed():
    pv = B.get("bonus.handicap_plafond_par_place", 2020)
    assert pv.valeur == 1300 and pv.confiance == "C" and "2020-011" in pv.source
    assert "2018-002" in B.get("bonus.handicap_plafond_par_place", "2019-12-31").source
    assert B.get("bonus.handicap_plafond_par_place", 2022).confiance == "?"


def test_attractivite():
    assert bonus_attractivite(2023, gestion="publique", places=10, baremes=B).valeur == 0   # from 2024
    assert bonus_attractivite(2024, gestion="publique", places=10, baremes=B).valeur == 4750  # 475 × 10
    assert bonus_attractivite(2025, gestion="privee", places=10, baremes=B).valeur == 9700    # 970 × 10


@pytest.mark.parametrize("pf,prio,par_place", [
    (500, False, 3600), (899.99, False, 3600),   # below 900 €/hab: 3 600 € (2021+: 2 600–3 600 €)
    (900, False, 3100), (1199, False, 3100),      # from 900: 3 100 € (default "?")
    (1200, False, 2600), (2500, False, 2600),     # from 1 200: 2 600 €
    (2500, True, 3600),                           # QPV or ZRR/FRR: top amount
    (None, False, 3100),                          # unknown wealth: middle amount
])
def test_territoire_places_nouvelles(pf, prio, par_place):
    m = bonus_territoire_places_nouvelles(2025, places=4, potentiel_financier_hab=pf, prioritaire=prio, baremes=B)
    assert m.valeur == par_place * 4


@pytest.mark.parametrize("jour,mx,mn", [
    ("2020-12-31", 3100, 2100),   # 2020: 2 100 € to 3 100 € (circulaire CTG du 16 janvier 2020)
    ("2021-01-01", 3600, 2600),   # from 2021: +500 € (plan rebond), 2 600 € to 3 600 €
])
def test_territoire_amounts_2020_and_2021(jour, mx, mn):
    assert B.value("bonus.territoire_nouvelles_montant_max", jour) == mx
    assert B.value("bonus.territoire_nouvelles_montant_min", jour) == mn
    # QPV: top amount × 3 places
    m = bonus_territoire_places_nouvelles(int(jour[:4]), places=3, potentiel_financier_hab=None, prioritaire=True,
                                          baremes=B)
    assert m.valeur == 3 * mx


def test_rattrapage_starts_in_2021_and_other_dated_starts():
    for name, first in [("bonus.rattrapage_montant_max", "2021-01-01"), ("bonus.attractivite_par_place", "2024-01-01"),
                        ("bonus.trajectoire_montants", "2025-01-01"), ("bonus.ctre_places_nouvelles", "2025-01-01"),
                        ("bonus.mixite_montant_max", "2019-01-01"), ("bonus.territoire_nouvelles_montant_max",
                                                                     "2020-01-01")]:
        d = B.definition(name)
        assert d.premiere_date.isoformat() == first and d.avant, name   # « not in force before X », with why
    assert B.get_or_none("bonus.rattrapage_montant_max", "2020-12-31") is None
    assert B.value("bonus.rattrapage_montant_max", "2021-01-01") == 800
    assert B.value("bonus.rattrapage_montant_min", "2021-01-01") == 400
    assert B.value("bonus.ctre_places_nouvelles", 2025) == 2800
    assert B.value("bonus.attractivite_par_place", "2024-01-01") == {"publique": 475, "privee": 970}
    assert B.get_or_none("bonus.attractivite_par_place", "2023-12-31") is None
    assert B.value("bonus.trajectoire_montants", 2025) == [100, 200, 300]
    assert B.value("bonus.trajectoire_seuils_croissance", 2025) == [0.04, 0.08, 0.12]


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
