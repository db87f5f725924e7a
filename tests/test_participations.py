"""Participations familiales: national barème at floor and ceiling, AEEH, structure totals."""
import datetime as dt

import pytest

from planning.parametres import Baremes
from planning.participations import participation_famille, participations_structure, taux_effort

B = Baremes()


def test_floor_2023():
    # resources 500 € < floor 754.16 € (2023) ; 1 child 0.0619 % → 754.16 × 0.000619 = 0.46682504 €/h
    # 100 h a month → 46.68 €
    f = participation_famille("2023-03-01", ressources_mensuelles=500, nb_enfants=1, heures_mensuelles=100, baremes=B)
    assert f.ressources.valeur == pytest.approx(754.16)
    assert f.tarif_horaire.valeur == pytest.approx(0.46682504)
    assert f.montant_mensuel.valeur == pytest.approx(46.682504)
    assert "(plancher)" in f.ressources.formule


def test_floor_2019_and_2025():
    # 2025 floor 814.62 × 0.000516 (2 children) = 0.42034392
    f = participation_famille(2025, ressources_mensuelles=0, nb_enfants=2, heures_mensuelles=0, baremes=B)
    assert f.tarif_horaire.valeur == pytest.approx(0.42034392)
    assert B.value("participations.plancher_ressources", 2019) == 705.27


@pytest.mark.parametrize("date,plafond", [
    ("2024-08-31", 6000),   # 6 000 € until August 2024
    ("2024-09-01", 7000),   # 7 000 € from September 2024
    ("2025-08-31", 7000),
    ("2025-09-01", 8500),   # 8 500 € from September 2025
])
def test_ceiling_by_date(date, plafond):
    # 10 000 € of resources are cut to the ceiling ; 1 child: plafond × 0.000619 €/h
    f = participation_famille(date, ressources_mensuelles=10000, nb_enfants=1, heures_mensuelles=150, baremes=B)
    assert f.ressources.valeur == plafond
    assert f.tarif_horaire.valeur == pytest.approx(plafond * 0.000619)   # 7 000 → 4.333 €/h
    assert f.montant_mensuel.valeur == pytest.approx(plafond * 0.000619 * 150)
    assert "(plafond)" in f.ressources.formule


@pytest.mark.parametrize("n,aeeh,taux", [
    (1, False, 0.000619), (2, False, 0.000516), (3, False, 0.000413), (4, False, 0.000310), (7, False, 0.000310),
    (8, False, 0.000206), (12, False, 0.000206),
    (1, True, 0.000516),   # AEEH: one rate down (the 2-children rate)
    (3, True, 0.000310),   # 3 children + AEEH → 4-children rate
    (7, True, 0.000206),
    (10, True, 0.000206),  # no rate below the last one
])
def test_taux_effort(n, aeeh, taux):
    assert taux_effort(dt.date(2024, 1, 1), n, aeeh, B).valeur == pytest.approx(taux)


def test_aeeh_family_amount():
    # 2 children + AEEH, 3 000 € → 3 000 × 0.000413 = 1.239 €/h ; 80 h → 99.12 €
    f = participation_famille("2024-01-15", ressources_mensuelles=3000, nb_enfants=2, aeeh=True,
                              heures_mensuelles=80, baremes=B)
    assert f.tarif_horaire.valeur == pytest.approx(1.239)
    assert f.montant_mensuel.valeur == pytest.approx(99.12)
    d = f.to_dict()
    assert d["detail"]["details"][0]["details"][1]["entrees"]["rang"] == 3


def test_structure_totals():
    # 1.20 €/h × 30 000 h = 36 000 €
    assert participations_structure(heures_facturees=30000, participation_horaire_moyenne=1.2).valeur == \
        pytest.approx(36000)
    assert participations_structure(heures_facturees=30000, montant=12345).valeur == 12345


def test_bad_inputs():
    with pytest.raises(ValueError):
        taux_effort(2024, 0, False, B)
    with pytest.raises(ValueError):
        participation_famille(2024, ressources_mensuelles=-1, nb_enfants=1, heures_mensuelles=10, baremes=B)
    with pytest.raises(ValueError):
        participations_structure(heures_facturees=100)
