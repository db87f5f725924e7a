"""Participations familiales by contract date: worked examples (arithmetic written out), the day before
and the day of every change of the national barème, AEEH, 11+ children, familial/parental and
micro-crèche tables, and the command line."""
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from planning.parametres import Baremes
from planning.participations import (main, participation_famille, participations_structure, taux_effort)

B = Baremes()
ROOT = Path(__file__).resolve().parent.parent


def tarif(date, ressources, enfants, accueil="collectif", aeeh=False):
    return participation_famille(date, ressources_mensuelles=ressources, nb_enfants=enfants, baremes=B,
                                 accueil=accueil, aeeh=aeeh)


# -- worked examples -----------------------------------------------------------------------------
def test_worked_example_2023_two_children_collective():
    # 3 000 € between floor 754.16 and ceiling 6 000 ; 2 children, collective, 2023: 0.0516 %
    # 3 000 × 0.000516 = 1.548 €/h ; 120 h a month → 185.76 €
    f = participation_famille("2023-06-15", ressources_mensuelles=3000, nb_enfants=2, heures_mensuelles=120,
                              baremes=B)
    assert f.ressources.valeur == 3000
    assert f.taux.valeur == pytest.approx(0.000516)
    assert f.tarif_horaire.valeur == pytest.approx(1.548)
    assert f.montant_mensuel.valeur == pytest.approx(185.76)
    d = f.to_dict()
    assert d["tarif_horaire"] == pytest.approx(1.548) and d["ressources_retenues"] == 3000
    assert {p["parametre"] for p in d["parametres"]} == {
        "participations.plancher_ressources", "participations.plafond_ressources",
        "participations.taux_effort_collectif", "participations.decalage_aeeh"}


def test_floor_clamp_2023_and_2025_and_2026():
    # 2023: 500 € < floor 754.16 € ; 1 child 0.0619 % → 754.16 × 0.000619 = 0.46682504 €/h ; 100 h → 46.68 €
    f = participation_famille("2023-03-01", ressources_mensuelles=500, nb_enfants=1, heures_mensuelles=100, baremes=B)
    assert f.ressources.valeur == pytest.approx(754.16)
    assert f.tarif_horaire.valeur == pytest.approx(0.46682504)
    assert f.montant_mensuel.valeur == pytest.approx(46.682504)
    assert "(plancher)" in f.ressources.formule
    # 2025 floor 801.00 (derived, P) × 0.000516 (2 children) = 0.413316 €/h
    assert tarif("2025-06-01", 0, 2).tarif_horaire.valeur == pytest.approx(0.413316)
    # 2026 floor 814.62 × 0.000516 = 0.42034392 €/h (814.62 is the 2026 value, not 2025)
    assert tarif("2026-01-01", 0, 2).tarif_horaire.valeur == pytest.approx(0.42034392)


@pytest.mark.parametrize("veille,jour,avant,apres", [
    ("2018-12-31", "2019-01-01", 687.30, 705.27),
    ("2020-12-31", "2021-01-01", 705.27, 711.62),
    ("2021-12-31", "2022-01-01", 711.62, 712.33),
    ("2022-12-31", "2023-01-01", 712.33, 754.16),
    ("2023-12-31", "2024-01-01", 754.16, 765.77),
    ("2024-12-31", "2025-01-01", 765.77, 801.00),
    ("2025-12-31", "2026-01-01", 801.00, 814.62),
])
def test_floor_steps(veille, jour, avant, apres):
    assert B.value("participations.plancher_ressources", veille) == avant
    assert B.value("participations.plancher_ressources", jour) == apres
    # a family with no resources pays the floor × 0.0619 % (1 child, from 2022) or the rate of the day
    assert tarif(jour, 0, 1).ressources.valeur == apres


@pytest.mark.parametrize("veille,jour,avant,apres", [
    ("2019-08-31", "2019-09-01", 4874.62, 5300),   # 1 Sep 2019
    ("2019-12-31", "2020-01-01", 5300, 5600),
    ("2020-12-31", "2021-01-01", 5600, 5800),
    ("2021-12-31", "2022-01-01", 5800, 6000),
    ("2024-08-31", "2024-09-01", 6000, 7000),      # 1 Sep 2024
    ("2025-08-31", "2025-09-01", 7000, 8500),      # 1 Sep 2025 (running contracts too)
])
def test_ceiling_steps(veille, jour, avant, apres):
    # 10 000 € of resources are cut to the ceiling ; rate of the day for 1 child
    for d, plafond in ((veille, avant), (jour, apres)):
        f = tarif(d, 10000, 1)
        assert f.ressources.valeur == plafond and "(plafond)" in f.ressources.formule
        assert f.tarif_horaire.valeur == pytest.approx(plafond * f.taux.valeur)
    # e.g. 1 Sep 2025: 8 500 × 0.000619 = 5.2615 €/h
    if jour == "2025-09-01":
        assert tarif(jour, 10000, 1).tarif_horaire.valeur == pytest.approx(5.2615)


@pytest.mark.parametrize("veille,jour,avant,apres", [
    # 1 child, collective: 0.06 % → 0.0605 % (1 Sep 2019) → 0.0610 % → 0.0615 % → 0.0619 % (1 Jan 2022, not Sept)
    ("2019-08-31", "2019-09-01", 0.0006, 0.000605),
    ("2019-12-31", "2020-01-01", 0.000605, 0.00061),
    ("2020-12-31", "2021-01-01", 0.00061, 0.000615),
    ("2021-12-31", "2022-01-01", 0.000615, 0.000619),
])
def test_collective_rate_steps_one_child(veille, jour, avant, apres):
    assert taux_effort(veille, 1, False, B).valeur == pytest.approx(avant)
    assert taux_effort(jour, 1, False, B).valeur == pytest.approx(apres)
    # unchanged after 2022
    assert taux_effort("2026-06-01", 1, False, B).valeur == pytest.approx(0.000619)


@pytest.mark.parametrize("n,taux_2018,taux_2022", [
    (1, 0.0006, 0.000619), (2, 0.0005, 0.000516), (3, 0.0004, 0.000413),
    (4, 0.0003, 0.00031), (7, 0.0003, 0.00031),      # 4 to 7 children
    (8, 0.0002, 0.000206), (10, 0.0002, 0.000206),   # 8 to 10 children
    (11, 0.0002, 0.0001), (15, 0.0002, 0.0001),      # 11 and more: 0.01 % (from Sept 2019; one source)
])
def test_collective_table(n, taux_2018, taux_2022):
    assert taux_effort("2018-06-01", n, False, B).valeur == pytest.approx(taux_2018)
    assert taux_effort("2022-01-01", n, False, B).valeur == pytest.approx(taux_2022)


@pytest.mark.parametrize("date,n,attendu", [
    # familial and parental, children 1 / 2 / 3–5 / 6+
    ("2019-08-31", 1, 0.0005), ("2019-08-31", 3, 0.0003), ("2019-08-31", 6, 0.0002),
    ("2019-09-01", 1, 0.000504), ("2019-09-01", 2, 0.000403), ("2019-09-01", 5, 0.000302), ("2019-09-01", 6, 0.000202),
    ("2020-01-01", 1, 0.000508), ("2020-01-01", 9, 0.000203),
    ("2021-12-31", 1, 0.000512), ("2021-12-31", 4, 0.000307),
    ("2022-01-01", 1, 0.000516), ("2022-01-01", 2, 0.000413), ("2022-01-01", 3, 0.00031), ("2022-01-01", 6, 0.000206),
])
def test_familial_and_parental_table(date, n, attendu):
    assert taux_effort(date, n, False, B, accueil="familial").valeur == pytest.approx(attendu)
    assert taux_effort(date, n, False, B, accueil="parental").valeur == pytest.approx(attendu)


def test_familial_worked_example_2024():
    # 2 500 €, 1 child, familial care in 2024: 2 500 × 0.0516 % = 1.29 €/h (collective would be 0.0619 %: 1.5475)
    assert tarif("2024-03-01", 2500, 1, "familial").tarif_horaire.valeur == pytest.approx(1.29)
    assert tarif("2024-03-01", 2500, 1, "collectif").tarif_horaire.valeur == pytest.approx(1.5475)


def test_micro_creche_uses_familial_table_until_august_2019_then_collective():
    # 31 Aug 2019: familial table, 1 child 0.05 % ; 1 Sep 2019: collective table 0.0605 %
    a = taux_effort("2019-08-31", 1, False, B, accueil="micro_creche")
    b = taux_effort("2019-09-01", 1, False, B, accueil="micro_creche")
    assert a.valeur == pytest.approx(0.0005) and b.valeur == pytest.approx(0.000605)
    assert [p.name for p in a.parametres][:2] == ["participations.taux_effort_familial",
                                                  "participations.bareme_micro_creche"]
    # 2023, 3 000 €, 1 child: 3 000 × 0.0619 % = 1.857 €/h, same as collective
    assert tarif("2023-01-01", 3000, 1, "micro_creche").tarif_horaire.valeur == pytest.approx(1.857)


@pytest.mark.parametrize("n,aeeh,accueil,taux", [
    (1, True, "collectif", 0.000516),   # AEEH: the next lower rate (2-children rate)
    (2, True, "collectif", 0.000413),
    (3, True, "collectif", 0.00031),    # 3 children + AEEH → the 4–7 rate
    (4, True, "collectif", 0.000206),   # 4 children: next lower rate is the 8–10 one (not « 5 children »)
    (7, True, "collectif", 0.000206),
    (8, True, "collectif", 0.0001),     # 8–10 → 11 and more
    (12, True, "collectif", 0.0001),    # no rate below the last one
    (2, 2, "collectif", 0.00031),       # two children with AEEH: two rates down
    (1, True, "familial", 0.000413),
    (3, True, "familial", 0.000206),    # 3–5 → 6+
    (6, True, "familial", 0.000206),
])
def test_aeeh_moves_one_rate_down(n, aeeh, accueil, taux):
    assert taux_effort(dt.date(2024, 1, 1), n, aeeh, B, accueil).valeur == pytest.approx(taux)


def test_aeeh_family_amount():
    # 2 children + AEEH, 3 000 € → 3 000 × 0.000413 = 1.239 €/h ; 80 h → 99.12 €
    f = participation_famille("2024-01-15", ressources_mensuelles=3000, nb_enfants=2, aeeh=True,
                              heures_mensuelles=80, baremes=B)
    assert f.tarif_horaire.valeur == pytest.approx(1.239)
    assert f.montant_mensuel.valeur == pytest.approx(99.12)
    assert f.taux.entrees["rang"] == 3 and "AEEH" in f.taux.formule


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
    with pytest.raises(ValueError, match="Type d'accueil inconnu"):
        taux_effort(2024, 1, False, B, accueil="domicile")
    with pytest.raises(ValueError):
        participations_structure(heures_facturees=100)


# -- command line ----------------------------------------------------------------------------------
def run(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_json(capsys):
    code, out, _ = run(capsys, "--date", "2023-06-15", "--ressources", "3000", "--enfants", "2", "--json")
    assert code == 0
    d = json.loads(out)
    # 3 000 × 0.0516 % = 1.548 €/h
    assert d["tarif_horaire"] == pytest.approx(1.548) and d["ressources_retenues"] == 3000
    assert d["taux_effort"] == pytest.approx(0.000516) and d["accueil"] == "collectif"
    for p in d["parametres"]:
        assert p["depuis"] and p["source"] and p["confiance"] in ("C", "P", "?")
    taux = next(p for p in d["parametres"] if p["parametre"] == "participations.taux_effort_collectif")
    assert taux["depuis"] == "2022-01-01" and "2019-005" in taux["source"]


def test_cli_options_and_text(capsys):
    code, out, _ = run(capsys, "--date=2019-08-31", "--ressources", "3 000,00", "--enfants", "4", "--aeeh",
                       "--accueil", "micro_creche", "--heures", "100")
    assert code == 0
    # micro-crèche before Sept 2019: familial table, 4 children 0.03 % → AEEH → 0.02 % ; 3 000 × 0.02 % = 0.60 €/h
    assert "Tarif horaire : 0,6000 €/h" in out and "micro-crèche" in out
    assert "Montant mensuel pour 100,0 h : 60,00 €" in out
    assert "Paramètres utilisés" in out and "participations.bareme_micro_creche" in out
    code, out, _ = run(capsys, "--date", "2024-02-01", "--ressources", "3000", "--enfants", "2", "--aeeh", "2",
                       "--json")
    # 2 children 0.0516 %, both with AEEH: two rates down → 0.0310 %
    assert code == 0 and json.loads(out)["taux_effort"] == pytest.approx(0.00031)


@pytest.mark.parametrize("args,message", [
    (["--ressources", "3000", "--enfants", "2"], "option obligatoire manquante : --date"),
    (["--date", "15/06/2023", "--ressources", "3000", "--enfants", "2"], "date au format AAAA-MM-JJ"),
    (["--date", "2023-06-15", "--ressources", "trois mille", "--enfants", "2"], "--ressources : nombre attendu"),
    (["--date", "2023-06-15", "--ressources", "-5", "--enfants", "2"], "nombre positif ou nul"),
    (["--date", "2023-06-15", "--ressources", "3000", "--enfants", "0"], "--enfants : valeur entre 1 et 30"),
    (["--date", "2023-06-15", "--ressources", "3000", "--enfants", "2,5"], "nombre entier attendu"),
    (["--date", "2023-06-15", "--ressources", "3000", "--enfants", "2", "--accueil", "domicile"], "inconnu"),
    (["--date", "2023-06-15", "--ressources", "3000", "--enfants", "2", "--aeeh", "3"], "--aeeh : valeur entre 0 et 2"),
    (["--date", "2023-06-15", "--ressources", "3000", "--enfants", "2", "--tarif", "1"], "option inconnue"),
    (["--date", "2010-06-15", "--ressources", "3000", "--enfants", "2"], "premier barème repris : 01/01/2018"),
])
def test_cli_errors_in_french_exit_2(capsys, args, message):
    code, out, err = run(capsys, *args)
    assert code == 2 and out == ""
    assert message in err and err.startswith("Erreur : ") and "Traceback" not in err


def test_cli_as_a_process():
    r = subprocess.run([sys.executable, "-m", "planning", "participation", "--date", "2026-01-05", "--ressources",
                        "9000", "--enfants", "1", "--json"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 0, r.stderr
    # ceiling 8 500 (since 1 Sep 2025) × 0.0619 % = 5.2615 €/h
    assert json.loads(r.stdout)["tarif_horaire"] == pytest.approx(5.2615)
    r = subprocess.run([sys.executable, "-m", "planning", "participation", "--date", "demain"],
                       capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 2 and "Erreur" in r.stderr and "Traceback" not in r.stderr
