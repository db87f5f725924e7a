"""The year's barème entered once (issue 11 part 4): overlay only for its dates, local over national,
validation, a refused file changes nothing, scope in the store, CLI import/export round trip, the
barème version recorded by a simulation."""
from __future__ import annotations

import datetime as dt
import io
import json

import pytest
import yaml

from data.bareme_fichier import lire_fichier_bareme
from data.baremes_db import BaremeStore, SaisieBaremeInterdite
from data.identite import Utilisateur, utilisateur_local
from data.scenarios_db import ScenarioStore
from planning.__main__ import main as planning_main
from planning.bareme_saisie import BaremeInvalide, LigneSaisie, lignes_annee, lire_valeur, statut, valider_lignes
from planning.parametres import NATURE_SAISIE, Baremes
from planning.participations import participation_famille

LOCAL = utilisateur_local()
PLANCHER = "participations.plancher_ressources"


def user(roles, deps=(), nom="Test"):
    return Utilisateur(nom.lower(), nom, None, frozenset(roles), frozenset(deps))


@pytest.fixture()
def db_url(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'scenarios.sqlite'}"
    monkeypatch.setenv("DATABASE_URL", url)
    return url


@pytest.fixture()
def store(db_url):
    s = BaremeStore(ScenarioStore(db_url))
    yield s
    s.db.close()


def tarif(bar, quand) -> float:
    """Hourly participation of one child, collective care, resources 500 €/month (below every floor)."""
    return participation_famille(quand, ressources_mensuelles=500, nb_enfants=1, baremes=bar).tarif_horaire.valeur


def test_an_entered_value_wins_only_for_its_dates(store):
    # Shipped floors: 765,77 € in 2024, 801,00 € from 01/01/2025, 814,62 € from 01/01/2026.
    # The national barème 2025 is entered with a floor of 805,00 € from 01/01/2025.
    n = store.enregistrer(LOCAL, "national", 2025, [LigneSaisie(PLANCHER, "01/01/2025", "805,00")],
                          "Cnaf, lettre circulaire 2025-001 (test)")
    assert n == 1
    bar = store.baremes("93")
    # 1 child, collective care: taux d'effort 0,0619 % = 0.000619; resources 500 € are raised to the floor.
    assert tarif(bar, "2024-12-31") == pytest.approx(765.77 * 0.000619)   # 0,47401 €/h: shipped 2024 floor
    assert tarif(bar, "2025-01-01") == pytest.approx(805.00 * 0.000619)   # 0,49830 €/h: entered value
    assert tarif(bar, "2025-12-31") == pytest.approx(805.00 * 0.000619)
    assert tarif(bar, "2026-01-01") == pytest.approx(814.62 * 0.000619)   # 0,50425 €/h: shipped 2026 floor
    pv = bar.get(PLANCHER, "2025-06-30")
    assert pv.nature == NATURE_SAISIE and not pv.a_verifier and statut(pv) == "barème saisi"
    assert pv.source == "Cnaf, lettre circulaire 2025-001 (test)"
    assert statut(bar.get(PLANCHER, 2026)) != "barème saisi"
    # the shipped barème (no entered values) is unchanged
    assert tarif(Baremes(), "2025-06-30") == pytest.approx(801.00 * 0.000619)


def test_command_line_calculator_uses_the_national_bareme_saisi(store, capsys):
    store.enregistrer(LOCAL, "national", 2025, [LigneSaisie(PLANCHER, None, "805")], "Cnaf (test)")
    assert planning_main(["participation", "--date", "2025-03-01", "--ressources", "500", "--enfants", "1",
                          "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ressources_retenues"] == 805 and out["tarif_horaire"] == pytest.approx(805 * 0.000619)  # 0,498295


def test_local_value_outranks_the_national_one_for_its_departement_only(store):
    store.enregistrer(LOCAL, "national", 2025, [LigneSaisie(PLANCHER, None, "805")], "Cnaf (test)")
    store.enregistrer(LOCAL, "89", 2025, [LigneSaisie(PLANCHER, None, "810,5")], "Caf de l'Yonne (test)")
    assert store.baremes("89").value(PLANCHER, 2025) == 810.5
    assert store.baremes("93").value(PLANCHER, 2025) == 805
    assert store.baremes(None).value(PLANCHER, 2025) == 805
    assert "Yonne" in store.baremes("89").get(PLANCHER, 2025).source


def test_french_text_of_values_and_validation_messages():
    b = Baremes()
    assert lire_valeur("0,66", b.definition("psu.taux_psu")) == 0.66
    assert lire_valeur("66 %", b.definition("psu.taux_psu")) == 0.66
    assert lire_valeur("0,87 ; 1,15 ; 1,46", b.definition("bonus.mixite_seuils_participation")) == [0.87, 1.15, 1.46]
    assert lire_valeur("publique : 500 ; privee : 1 000", b.definition("bonus.attractivite_par_place")) == \
        {"publique": 500, "privee": 1000}
    with pytest.raises(BaremeInvalide) as e:
        valider_lignes(2025, [
            LigneSaisie("bonus.mixite_seuils_participation", None, "0,87 ; 1,15", "ligne 1"),      # a band missing
            LigneSaisie("bonus.attractivite_par_place", None, "publique : 500", "ligne 2"),         # a key missing
            LigneSaisie("psu.regle_taux_facturation", None, "progressive", "ligne 3"),              # unknown choice
            LigneSaisie("psu.taux_psu", "01/01/2024", "0,66", "ligne 4"),                           # wrong year
            LigneSaisie("bonus.mixite_montant_max", None, "-5", "ligne 5"),                         # negative
            LigneSaisie("psu.taux_psu", "01/03/2025", "66", "ligne 6"),                             # ratio > 10
            LigneSaisie("participations.plafond_ressources", "01/09/2025", "8500", "ligne 7"),
            LigneSaisie("participations.plafond_ressources", "01/01/2025", "7000", "ligne 8"),      # date order
            LigneSaisie("ctg.periode_defaut", None, "2023 ; 2027", "ligne 9"),                      # not in the barème
        ], b)
    msgs = e.value.erreurs
    assert len(msgs) == 8, msgs
    assert msgs[0].startswith("ligne 1 — bonus.mixite_seuils_participation (€/heure) : liste de 3 nombres")
    assert "clés" in msgs[1] and "privee" in msgs[1]
    assert "lineaire, paliers" in msgs[2]
    assert "hors de l'année 2025" in msgs[3]
    assert msgs[4].endswith("nombre négatif")
    assert "ratio attendu" in msgs[5]
    assert msgs[6].startswith("ligne 8 — participations.plafond_ressources : date d'effet 01/01/2025 pas après")
    assert "barème des aides aux partenaires" in msgs[7]


def test_a_refused_file_changes_nothing(store, tmp_path):
    store.enregistrer(LOCAL, "national", 2025, [LigneSaisie(PLANCHER, None, "805")], "Cnaf (test)")
    avant = (store.revision(), store.saisies(toutes=True))
    texte = ("annee: 2025\nportee: national\nsource: Cnaf LC (test)\nvaleurs:\n"
             "  - {parametre: participations.plancher_ressources, depuis: 2025-01-01, valeur: '900'}\n"
             "  - {parametre: psu.taux_psu, depuis: 2025-01-01, valeur: 'soixante'}\n")
    f = lire_fichier_bareme(texte.encode(), "bareme_2025.yaml")
    with pytest.raises(BaremeInvalide) as e:
        store.enregistrer(LOCAL, f.portee, f.annee, f.lignes, f.source, origine="fichier bareme_2025.yaml")
    assert e.value.erreurs == ["bareme_2025.yaml, ligne 6 — psu.taux_psu (ratio) : « soixante » n'est pas un nombre"]
    assert (store.revision(), store.saisies(toutes=True)) == avant   # the good first line was not stored either
    # the CLI says the same, exit code 2
    path = tmp_path / "bareme_2025.yaml"
    path.write_text(texte, encoding="utf-8")
    assert planning_main(["baremes", "import", str(path)]) == 2
    assert (store.revision(), store.saisies(toutes=True)) == avant


def test_excel_formula_and_missing_column_are_refused():
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for row in (["Année", 2025], ["Portée", "national"], ["Source", "Cnaf"], ["Paramètre", "En vigueur depuis", "Valeur"],
                ["psu.taux_psu", "01/01/2025", "=1-0,34"]):
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(BaremeInvalide) as e:
        lire_fichier_bareme(buf.getvalue(), "b.xlsx")
    assert e.value.erreurs == ["b.xlsx, cellule C5 — formule refusée : saisissez la valeur"]
    ws.delete_cols(3)
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(BaremeInvalide, match="b.xlsx : ligne 4 : colonne\\(s\\) manquante\\(s\\) : Valeur"):
        lire_fichier_bareme(buf.getvalue(), "b.xlsx")


def test_scope_is_enforced_in_the_store(store):
    ligne = [LigneSaisie(PLANCHER, None, "805")]
    caf93 = user({"administrateur_caf"}, {"93"}, "Alice")
    national = user({"administrateur_national"}, (), "Bruno")
    for u in (user({"lecteur"}, {"93"}), user({"conseiller"}, {"93"})):
        for portee in ("national", "93"):
            with pytest.raises(SaisieBaremeInterdite, match="ne peut pas modifier les barèmes"):
                store.enregistrer(u, portee, 2025, ligne, "Cnaf")
    with pytest.raises(SaisieBaremeInterdite, match="Alice ne peut pas modifier le barème national"):
        store.enregistrer(caf93, "national", 2025, ligne, "Cnaf")
    with pytest.raises(SaisieBaremeInterdite, match="pas celui du département 89"):
        store.enregistrer(caf93, "89", 2025, ligne, "Caf 89")
    assert store.revision() == 0 and store.saisies(toutes=True) == []
    assert store.enregistrer(caf93, "93", 2025, ligne, "Caf 93") == 1
    assert store.enregistrer(national, "national", 2025, ligne, "Cnaf") == 1
    assert store.enregistrer(national, "89", 2025, ligne, "Caf 89 par la Cnaf") == 1
    with pytest.raises(SaisieBaremeInterdite):
        store.retirer(caf93, "national", PLANCHER, "2025-01-01")
    store.retirer(caf93, "93", PLANCHER, "2025-01-01")
    assert store.baremes("93").value(PLANCHER, 2025) == 805  # the national value applies again
    hist = store.historique()
    assert [(h.portee, h.action, h.auteur) for h in hist] == [
        ("93", "retrait", "Alice"), ("89", "saisie", "Bruno"), ("national", "saisie", "Bruno"), ("93", "saisie", "Alice")]
    assert hist[0].ancienne_valeur == 805 and hist[0].nouvelle_valeur is None


def test_history_keeps_old_and_new_values(store):
    store.enregistrer(LOCAL, "national", 2025, [LigneSaisie(PLANCHER, None, "805")], "Cnaf LC A")
    assert store.enregistrer(LOCAL, "national", 2025, [LigneSaisie(PLANCHER, None, "805")], "Cnaf LC A") == 0
    store.enregistrer(LOCAL, "national", 2025, [LigneSaisie(PLANCHER, None, "806,5")], "Cnaf LC B")
    h = store.historique(parametre=PLANCHER)
    assert [(x.action, x.ancienne_valeur, x.nouvelle_valeur, x.source) for x in h] == [
        ("modification", 805, 806.5, "Cnaf LC B"), ("saisie", None, 805, "Cnaf LC A")]


def test_barème_changes_are_in_the_audit_trail(store, db_url):
    from data import audit

    admin89 = user({"administrateur_caf"}, {"89"}, nom="Alix")
    store.enregistrer(admin89, "89", 2025, [LigneSaisie(PLANCHER, None, "805")], "Caf 89, délibération (test)")
    store.enregistrer(admin89, "89", 2025, [LigneSaisie(PLANCHER, None, "805")], "Caf 89, délibération (test)")
    store.retirer(admin89, "89", PLANCHER, "2025-01-01")
    entries = audit.lire(LOCAL, action=None, departement="89")
    # two changes (an identical second entry changes nothing and is not journaled), newest first
    assert [(e.action, e.utilisateur, e.departement) for e in entries] == [
        ("bareme_retrait", "alix", "89"), ("bareme_saisie", "alix", "89")]
    assert (entries[1].objet, entries[0].objet) == ("barème local 89 2025", f"barème local 89 : {PLANCHER}")
    assert entries[1].details["valeurs"] == [{"parametre": PLANCHER, "depuis": "2025-01-01", "avant": None,
                                              "apres": "805.0"}]
    assert entries[1].details["source"] == "Caf 89, délibération (test)" and entries[0].details["avant"] == "805.0"


def test_cli_export_import_round_trip(db_url, tmp_path, capsys):
    out = tmp_path / "b.yaml"
    assert planning_main(["baremes", "export", "--annee", "2025", "--sortie", str(out)]) == 0
    doc = yaml.safe_load(out.read_text(encoding="utf-8"))
    rows = {(v["parametre"], v["depuis"]): v["valeur"] for v in doc["valeurs"]}
    assert rows[(PLANCHER, dt.date(2025, 1, 1))] == "801"
    # two values of the plafond in 2025: 7 000 € from 1 January, 8 500 € from 1 September
    assert rows[("participations.plafond_ressources", dt.date(2025, 9, 1))] == "8500"
    # the template as exported is refused until its source is filled in
    assert planning_main(["baremes", "import", str(out)]) == 2
    assert "source : indiquez le texte officiel" in capsys.readouterr().err
    texte = out.read_text(encoding="utf-8").replace(doc["source"], "Cnaf, LC 2025-001 (test)")
    texte = texte.replace('parametre: participations.plancher_ressources, depuis: 2025-01-01, valeur: "801"',
                          'parametre: participations.plancher_ressources, depuis: 2025-01-01, valeur: "805,5"')
    out.write_text(texte, encoding="utf-8")
    assert planning_main(["baremes", "import", str(out), "--auteur", "Claire"]) == 0
    assert f"{len(rows)} valeur(s) lue(s)" in capsys.readouterr().out
    # export again, in Excel: same rows, the new floor, and it imports back with no change
    xl = tmp_path / "b.xlsx"
    assert planning_main(["baremes", "export", "--annee", "2025", "--format", "xlsx", "--sortie", str(xl),
                          "--source", "Cnaf, LC 2025-001 (test)"]) == 0
    f = lire_fichier_bareme(xl.read_bytes(), "b.xlsx")
    assert (f.annee, f.portee, f.source) == (2025, "national", "Cnaf, LC 2025-001 (test)")
    back = {(x.parametre, dt.datetime.strptime(x.depuis, "%d/%m/%Y").date()): x.valeur for x in f.lignes}
    assert set(back) == set(rows)
    assert back[(PLANCHER, dt.date(2025, 1, 1))] == "805,5"
    assert planning_main(["baremes", "import", str(xl)]) == 0
    assert "0 enregistrée(s) ou modifiée(s)" in capsys.readouterr().out
    s = BaremeStore(ScenarioStore(db_url))
    assert s.baremes().value(PLANCHER, 2025) == 805.5
    assert s.historique(parametre=PLANCHER)[0].auteur == "Claire"
    assert planning_main(["baremes", "historique", "--parametre", PLANCHER]) == 0
    assert "801 → 805,5" not in capsys.readouterr().out  # first entry: « — → 805,5 »


def test_version_is_stable_and_follows_entered_values(store):
    assert Baremes().version == Baremes().version
    assert Baremes({"psu.taux_psu": 0.7}).version == Baremes().version   # scenario overrides are not the barème
    store.enregistrer(LOCAL, "89", 2025, [LigneSaisie(PLANCHER, None, "810")], "Caf 89")
    assert store.baremes("89").version != Baremes().version
    assert store.baremes("93").version == Baremes().version            # the 89's barème does not apply to 93
    assert store.baremes("89").with_overrides({"psu.taux_psu": 0.7}).version == store.baremes("89").version


def test_simulation_records_the_bareme_version():
    from pathlib import Path

    from planning.simulation import simulate

    ex = json.loads(next((Path(__file__).resolve().parent.parent / "examples" / "scenarios").glob("*.json"))
                    .read_text(encoding="utf-8"))
    r = simulate(ex)
    assert r.bareme_version == Baremes().version and r.to_dict()["bareme_version"] == r.bareme_version
    buf = io.StringIO()
    r.ecrire_json(buf)
    assert json.loads(buf.getvalue())["bareme_version"] == r.bareme_version


def test_rows_of_a_year_prefill_every_parameter_of_the_barème():
    rows = lignes_annee(Baremes(), 2025)
    noms = {r["parametre"] for r in rows}
    assert all(n.split(".")[0] in ("psu", "participations", "bonus") for n in noms)
    assert "saisie.prix_revient_horaire" not in noms and "psu.taux_psu" in noms
    # every prefilled row validates as it is (the grid can be saved untouched)
    assert len(valider_lignes(2025, [LigneSaisie(r["parametre"], r["depuis"], r["texte"]) for r in rows],
                              Baremes())) == len(rows)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_db(request, tmp_path):
    """A fresh SQLite file, or a private schema of the test PostgreSQL (ATLAS_TEST_POSTGRES_URL)."""
    import uuid

    import sqlalchemy as sa

    from tests.test_scenarios_db import _pg_base_url

    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'scenarios.sqlite'}"
        return
    base = _pg_base_url()
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    yield sa.make_url(base).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False)
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def test_store_round_trip_and_all_or_nothing_on_each_database(any_db):
    s = BaremeStore(ScenarioStore(any_db))
    try:
        taux = "1 : 0,0006 ; 2 : 0,0005 ; 3 : 0,0004 ; 4 : 0,0003 ; 5 : 0,0003 ; 6 : 0,0003 ; 7 : 0,0003 ; " \
               "8 : 0,0002 ; 9 : 0,0002 ; 10 : 0,0002 ; 11 : 0,0001"
        assert s.enregistrer(LOCAL, "2A", 2025, [LigneSaisie("participations.taux_effort_collectif", "01/09/2025", taux),
                                                 LigneSaisie(PLANCHER, None, "805")], "Caf de Corse-du-Sud (test)") == 2
        bar = s.baremes("2A")
        assert bar.value("participations.taux_effort_collectif", "2025-09-01")[2] == 0.0005  # integer keys back
        assert bar.value("participations.taux_effort_collectif", "2025-08-31")[2] == 0.000516  # shipped before
        avant = s.saisies(toutes=True)
        with pytest.raises(BaremeInvalide):
            s.enregistrer(LOCAL, "2A", 2025, [LigneSaisie(PLANCHER, None, "806"),
                                              LigneSaisie(PLANCHER, "01/02/2025", "abc")], "Caf (test)")
        assert s.saisies(toutes=True) == avant and s.revision() == 2
    finally:
        s.db.close()
