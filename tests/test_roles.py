"""Roles and per-Caf scope enforced by the layers themselves (no page involved): the scenario store, the
importers and import jobs, the users table and the audit trail refuse out-of-scope actions with a
French message (docs/DEPLOIEMENT.md « Rôles et périmètre »)."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from data import audit, utilisateurs
from data.droits import ActionRefusee
from data.identite import Utilisateur
from data.importers import ImportRefuse, ImportValidationError, import_file
from data.importers.jobs import REFUSE, TERMINE, start_import
from data.scenarios_db import ScenarioRefuse, ScenarioStore, departement_du_scenario
from exports.frames import frame_to_csv
from tests.test_importers_validation import snapshot
from tests.test_scenarios_db import db_url  # noqa: F401 - fixture (SQLite, and PostgreSQL when available)


def personne(sub: str, roles: set[str], deps: set[str], nom: str | None = None) -> Utilisateur:
    return Utilisateur(identifiant=sub, nom=nom or sub, email=f"{sub}@caf.example", roles=frozenset(roles),
                       departements=frozenset(deps))


CONSEILLER_89 = personne("camille", {"conseiller"}, {"89"}, "Camille Martin")
CONSEILLER_93 = personne("samir", {"conseiller"}, {"93"}, "Samir Haddad")
LECTEUR_89 = personne("lea", {"lecteur"}, {"89"})
ADMIN_89 = personne("admin89", {"administrateur_caf"}, {"89"})
ADMIN_93 = personne("admin93", {"administrateur_caf"}, {"93"})
NATIONAL = personne("cnaf", {"administrateur_national"}, set())
DONNEES_89 = {"territoire": {"communes": ["89024", "89387"]}, "n": 1}
DONNEES_93 = {"territoire": {"communes": ["93008"]}, "n": 1}


@pytest.fixture
def base(db_url, monkeypatch):  # noqa: F811
    """A fresh scenario database that the audit trail and the users table also use."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("ATLAS_MODE", raising=False)
    s = ScenarioStore(db_url)
    yield s
    s.close()
    for key in list(audit._BASES):
        audit._BASES.pop(key).close()


# --- scenarios -----------------------------------------------------------------------------------

def test_departement_of_a_scenario_from_its_territory_or_its_communes():
    assert departement_du_scenario("departement:2A", {}) == "2A"
    assert departement_du_scenario("commune:97411", {}) == "974"
    assert departement_du_scenario("epci:200067114", DONNEES_89) == "89"
    mixte = {"territoire": {"communes": ["89024", "10387"]}}   # an EPCI across the Yonne and the Aube
    assert departement_du_scenario("epci:200000000", mixte) is None
    assert departement_du_scenario("france", {}) is None
    assert departement_du_scenario("epci:1", {"territoire": "89024"}) is None      # malformed content
    assert departement_du_scenario("epci:1", {"territoire": {"communes": "89024"}}) is None


def test_a_malformed_departement_is_refused_or_kept_aside(base):
    from data.scenarios_db import EnregistrementRefuse

    with pytest.raises(EnregistrementRefuse, match="Département « 8900 » inconnu"):
        base.create("Plan", "epci:200067114", DONNEES_89, departement="8900", utilisateur=NATIONAL)
    audit.enregistrer(NATIONAL, "connexion", "session", departement="<b>")
    (e,) = audit.lire(NATIONAL)
    assert e.departement is None and e.details == {"departement_donne": "<b>"}


def test_a_conseiller_of_89_cannot_list_open_change_or_delete_a_scenario_of_93(base):
    s93 = base.create("Plan Saint-Denis", "epci:200054781", DONNEES_93, utilisateur=CONSEILLER_93)
    s89 = base.create("Plan Auxerrois", "epci:200067114", DONNEES_89, utilisateur=CONSEILLER_89)
    assert (s89.meta.departement, s93.meta.departement) == ("89", "93")
    assert [m.name for m in base.list(utilisateur=CONSEILLER_89)] == ["Plan Auxerrois"]
    assert base.list("epci:200054781", utilisateur=CONSEILLER_89) == []
    refus = [
        lambda: base.get(s93.id, utilisateur=CONSEILLER_89),
        lambda: base.update(s93.id, {"n": 2}, expected_version=1, utilisateur=CONSEILLER_89),
        lambda: base.rename(s93.id, "Pris", expected_version=1, utilisateur=CONSEILLER_89),
        lambda: base.duplicate(s93.id, utilisateur=CONSEILLER_89),
        lambda: base.delete(s93.id, expected_version=1, utilisateur=CONSEILLER_89),
        lambda: base.restore(s93.id, 1, expected_version=1, utilisateur=CONSEILLER_89),
        lambda: base.history(s93.id, utilisateur=CONSEILLER_89),
        lambda: base.create("Intrus", "epci:200054781", DONNEES_93, utilisateur=CONSEILLER_89),
    ]
    for action in refus:
        with pytest.raises(ScenarioRefuse) as err:
            action()
        assert "hors de votre périmètre (89)" in str(err.value) and "département 93" in str(err.value)
    # nothing changed: still version 1, still listed for its own Caf and for the national administrator
    assert base.get(s93.id, utilisateur=CONSEILLER_93).version == 1
    assert sorted(m.name for m in base.list(utilisateur=NATIONAL)) == ["Plan Auxerrois", "Plan Saint-Denis"]


def test_a_lecteur_reads_its_scenarios_but_cannot_save(base):
    s = base.create("Plan", "departement:89", {"n": 1}, utilisateur=CONSEILLER_89)
    assert base.get(s.id, utilisateur=LECTEUR_89).data == {"n": 1}
    with pytest.raises(ScenarioRefuse) as err:
        base.update(s.id, {"n": 2}, expected_version=1, utilisateur=LECTEUR_89)
    assert str(err.value) == ("Action refusée : enregistrer un scénario demande le rôle « conseiller » ; vous êtes "
                              "« lecteur ».")
    with pytest.raises(ScenarioRefuse):
        base.create("Autre", "departement:89", {"n": 1}, utilisateur=LECTEUR_89)


def test_france_and_unknown_departement_scenarios_are_for_national_administrators(base):
    s = base.create("Plan national", "france", {"n": 1}, utilisateur=NATIONAL)
    assert s.meta.departement is None and base.list(utilisateur=ADMIN_89) == []
    with pytest.raises(ScenarioRefuse, match="sans département unique"):
        base.get(s.id, utilisateur=ADMIN_89)
    assert base.get(s.id, utilisateur=NATIONAL).data == {"n": 1}


def test_without_a_user_local_mode_has_every_right_and_service_mode_refuses(base, monkeypatch):
    s = base.create("Plan", "departement:93", {"n": 1})             # local mode: the implicit user
    assert base.list()[0].departement == "93"
    monkeypatch.setenv("ATLAS_MODE", "service")
    with pytest.raises(ScenarioRefuse, match="utilisateur non identifié"):
        base.list()
    with pytest.raises(ScenarioRefuse, match="utilisateur non identifié"):
        base.delete(s.id)


# --- audit trail ---------------------------------------------------------------------------------

def test_every_change_of_a_scenario_is_in_the_audit_trail_of_its_caf(base):
    s = base.create("Plan Auxerrois", "epci:200067114", DONNEES_89, utilisateur=CONSEILLER_89)   # v1
    s = base.update(s.id, {**DONNEES_89, "n": 2}, expected_version=1, utilisateur=CONSEILLER_89)  # v2
    s = base.restore(s.id, 1, expected_version=2, utilisateur=CONSEILLER_89)                     # v3 = v1
    assert s.version == 3 and s.data == DONNEES_89
    base.delete(s.id, expected_version=3, utilisateur=CONSEILLER_89)
    base.create("Plan Saint-Denis", "epci:200054781", DONNEES_93, utilisateur=CONSEILLER_93)

    entrees = audit.lire(ADMIN_89)                      # newest first; the 93 entry is not there
    assert [(e.action, e.details["version"], e.departement, e.utilisateur) for e in entrees] == [
        ("scenario_suppression", 3, "89", "camille"), ("scenario_restauration", 3, "89", "camille"),
        ("scenario_modification", 2, "89", "camille"), ("scenario_creation", 1, "89", "camille")]
    assert entrees[1].details["version_restauree"] == 1
    assert entrees[0].objet == "Plan Auxerrois (epci:200067114)" and entrees[0].nom == "Camille Martin"
    assert [e.objet for e in audit.lire(ADMIN_93)] == ["Plan Saint-Denis (epci:200054781)"]
    assert len(audit.lire(NATIONAL)) == 5
    # filters: action, person (part of the name, case ignored), département, period (Paris days)
    assert len(audit.lire(NATIONAL, action="scenario_creation")) == 2
    assert len(audit.lire(NATIONAL, qui="HADDAD")) == 1
    assert len(audit.lire(NATIONAL, departement="93")) == 1
    today = datetime.now(audit.PARIS).date()
    assert len(audit.lire(NATIONAL, debut=today, fin=today)) == 5
    assert audit.lire(NATIONAL, fin=today - timedelta(days=1)) == []
    with pytest.raises(ActionRefusee, match="hors de votre périmètre"):
        audit.lire(ADMIN_89, departement="93")


def test_only_administrators_read_the_audit_trail(base):
    for user in (CONSEILLER_89, LECTEUR_89):
        with pytest.raises(ActionRefusee, match="réservé aux administrateurs"):
            audit.lire(user)


def test_audit_entries_time_in_utc_shown_in_paris_and_csv_neutralised(base):
    meurtrier = personne("=cmd|' /C calc'!A0", {"conseiller"}, {"89"}, "@SOMME(A1)")
    audit.enregistrer(meurtrier, "connexion", "+session", {"ip": "-1"}, departement="89")
    (e,) = audit.lire(NATIONAL)
    assert e.horodatage.tzinfo is not None and e.horodatage.utcoffset() == timedelta(0)
    # Paris is UTC+1 in winter, UTC+2 in summer
    assert e.heure_paris.utcoffset() in (timedelta(hours=1), timedelta(hours=2))
    assert e.heure_paris.replace(tzinfo=None) == (e.horodatage + e.heure_paris.utcoffset()).replace(tzinfo=None)
    text = frame_to_csv(audit.en_tableau([e])).decode("utf-8-sig")
    row = next(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert row["Utilisateur"].startswith("'=") and row["Nom"] == "'@SOMME(A1)" and row["Objet"] == "'+session"
    assert row["Action"] == "connexion" and row["Département"] == "89"


def test_old_entries_leave_after_the_retention(base, monkeypatch):
    audit.enregistrer(NATIONAL, "connexion", "session")
    with audit.base().transaction(write=True) as conn:   # make it 400 days old
        conn.execute(audit.journal.update().values(horodatage=datetime.now(timezone.utc) - timedelta(days=400)))
    monkeypatch.setenv(audit.RETENTION_ENV, "365")
    audit.enregistrer(NATIONAL, "connexion", "session 2")
    assert [e.objet for e in audit.lire(NATIONAL)] == ["session 2"]


# --- migration of existing scenarios ---------------------------------------------------------------

def test_migration_gives_old_scenarios_their_departement(tmp_path):
    from alembic import command
    from alembic.config import Config

    from data.scenarios_db import MIGRATIONS_DIR, VERSION_TABLE

    url = f"sqlite:///{tmp_path / 'ancienne.sqlite'}"
    engine = sa.create_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("version_table", VERSION_TABLE)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001_scenarios")            # a database of before this change
        now = datetime.now(timezone.utc)
        old = {"a": ("departement:89", {}), "b": ("commune:93008", {}), "c": ("epci:200067114", DONNEES_89),
               "d": ("epci:200000000", {"territoire": {"communes": ["89024", "10387"]}}), "e": ("france", {})}
        for sid, (terr, data) in old.items():
            conn.execute(sa.text("INSERT INTO scenarios VALUES (:id, :n, :t, NULL, 1, :d, :c, :c)"),
                         {"id": sid, "n": sid, "t": terr, "d": json.dumps(data), "c": now})
            conn.execute(sa.text("INSERT INTO scenario_versions VALUES (:id, 1, :n, :t, NULL, 'création', :d, :c)"),
                         {"id": sid, "n": sid, "t": terr, "d": json.dumps(data), "c": now})
    engine.dispose()
    s = ScenarioStore(url)                                # upgrade to head
    try:
        assert {m.id: m.departement for m in s.list(utilisateur=NATIONAL)} == {
            "a": "89", "b": "93", "c": "89", "d": None, "e": None}
        assert {v.departement for v in s.history("c", utilisateur=CONSEILLER_89)} == {"89"}
        assert [m.id for m in s.list(utilisateur=CONSEILLER_89)] == ["a", "c"]  # by territoire, then name
    finally:
        s.close()


# --- users table ---------------------------------------------------------------------------------

def test_users_table_rows_replace_the_claims_and_stay_in_the_caf(base):
    utilisateurs.enregistrer_compte(ADMIN_89, "Camille.Martin@caf.example", "Camille", ["administrateur_caf"], "89")
    # the table wins over the claims (conseiller 89 in the provider's token), matched by e-mail
    claims = personne("sub-123", {"conseiller"}, {"89"})
    claims = Utilisateur("sub-123", "Camille", "camille.martin@caf.example", claims.roles, claims.departements)
    assert utilisateurs.appliquer(claims).roles == frozenset({"administrateur_caf"})
    assert utilisateurs.appliquer(CONSEILLER_93) == CONSEILLER_93            # no row: claims unchanged
    refus = {
        "hors de votre périmètre": lambda: utilisateurs.enregistrer_compte(ADMIN_89, "x", None, "conseiller", "93"),
        "seul un administrateur national": lambda: utilisateurs.enregistrer_compte(
            ADMIN_89, "x", None, "administrateur_national", "89"),
        "inconnu": lambda: utilisateurs.enregistrer_compte(ADMIN_89, "x", None, "conseiller", "99"),
        "réservée aux administrateurs": lambda: utilisateurs.enregistrer_compte(
            CONSEILLER_89, "x", None, "conseiller", "89"),
        "autre périmètre": lambda: utilisateurs.supprimer_compte(ADMIN_93, "camille.martin@caf.example"),
    }
    for attendu, action in refus.items():
        with pytest.raises(ActionRefusee, match=attendu):
            action()
    assert [c.identifiant for c in utilisateurs.lister(ADMIN_89)] == ["camille.martin@caf.example"]
    assert utilisateurs.lister(ADMIN_93) == []
    utilisateurs.supprimer_compte(NATIONAL, "camille.martin@caf.example")
    assert [e.action for e in audit.lire(NATIONAL)] == ["utilisateur_suppression", "utilisateur_modification"]
    # both concern a row of the 89: the Caf's administrator sees who removed it
    assert [e.utilisateur for e in audit.lire(ADMIN_89)] == ["cnaf", "admin89"]


# --- imports ---------------------------------------------------------------------------------------

ENTETE = "code_insee;type;nom;places;psu;gestion;date_ouverture;date_fermeture;latitude;longitude\n"


def _deps(store) -> dict[str, str]:
    com = store.read("communes", columns=["code_insee", "dep"])
    return dict(zip(com["code_insee"], com["dep"]))


def test_a_structure_list_of_caf_89_replaces_only_the_89_structures(tmp_store, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'journal.sqlite'}")
    before = tmp_store.read("structures")
    dep = before["code_insee"].map(_deps(tmp_store))
    autres = before[dep != "89"].sort_values("id").reset_index(drop=True)
    assert (dep == "89").sum() > 2 and len(autres) > 0          # the demo has structures in 89 and elsewhere
    f = tmp_path / "structures_89.csv"
    f.write_text(ENTETE + "89024;EAJE;Crèche A;30;oui;publique;01/09/2015;;;\n"
                          "89387;EAJE;Crèche B;20;oui;publique;01/09/2016;;;\n", encoding="utf-8")
    report = import_file("structures", f, tmp_store, utilisateur=ADMIN_89)
    after = tmp_store.read("structures")
    dep_after = after["code_insee"].map(_deps(tmp_store))
    assert report.rows == 2 and sorted(after.loc[dep_after == "89", "nom"]) == ["Crèche A", "Crèche B"]
    kept = after[dep_after != "89"].sort_values("id").reset_index(drop=True)
    assert kept["id"].tolist() == autres["id"].tolist() and len(after) == len(autres) + 2
    (e,) = audit.lire(NATIONAL)
    assert (e.action, e.objet, e.departement, e.details["lignes"], e.details["type"]) == (
        "import", "structures_89.csv", "89", 2, "structures")
    import hashlib
    assert e.details["sha256"] == hashlib.sha256(f.read_bytes()).hexdigest()

    # the national administrator replaces the whole list
    import_file("structures", f, tmp_store, utilisateur=NATIONAL)
    assert len(tmp_store.read("structures")) == 2


def test_a_structure_row_outside_the_caf_is_refused_with_line_and_column(tmp_store, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'journal.sqlite'}")
    f = tmp_path / "structures.csv"
    f.write_text(ENTETE + "89024;EAJE;Crèche A;30;oui;publique;01/09/2015;;;\n"
                          "93008;EAJE;Crèche de Bobigny;40;oui;publique;01/09/2015;;;\n", encoding="utf-8")
    before = snapshot(tmp_store)
    with pytest.raises(ImportValidationError) as err:
        import_file("structures", f, tmp_store, utilisateur=ADMIN_89)
    assert str(err.value.errors[0]).startswith("structures.csv, ligne 3, colonne « code_insee » : la commune 93008 "
                                               "est dans le département 93, hors du périmètre de votre Caf (89)")
    assert snapshot(tmp_store) == before and audit.lire(NATIONAL) == []


def test_only_administrators_import_and_the_referentiel_is_national(tmp_store, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'journal.sqlite'}")
    fix = Path(__file__).parent / "fixtures" / "imports"
    before = snapshot(tmp_store)
    with pytest.raises(ImportRefuse) as err:
        import_file("structures", fix / "structures.csv", tmp_store, utilisateur=CONSEILLER_89)
    assert str(err.value.errors[0]) == ("structures.csv : l'import de la liste des structures demande le rôle "
                                        "« administrateur Caf » ; vous êtes « conseiller ».")
    with pytest.raises(ImportRefuse, match="référentiel national"):
        import_file("qpv", fix / "qpv_liste.csv", tmp_store, utilisateur=ADMIN_89)
    with pytest.raises(ImportRefuse):   # the page's job refuses before starting a process
        start_import("qpv", (fix / "qpv_liste.csv").read_bytes(), "qpv_liste.csv", tmp_store, utilisateur=ADMIN_89)
    assert snapshot(tmp_store) == before
    assert import_file("qpv", fix / "qpv_liste.csv", tmp_store, utilisateur=NATIONAL).rows > 0


def test_the_import_process_gets_the_user_checks_it_again_and_journals(tmp_store, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'journal.sqlite'}")
    ok = (ENTETE + "89024;EAJE;Crèche A;30;oui;publique;01/09/2015;;;\n").encode()
    job = start_import("structures", ok, "liste 89.csv", tmp_store, utilisateur=ADMIN_89)
    state = job.wait(timeout=120)
    job.cleanup()
    assert state.status == TERMINE, state.problems
    (e,) = audit.lire(ADMIN_89)
    assert (e.utilisateur, e.objet, e.details["lignes"]) == ("admin89", "liste 89.csv", 1)
    bad = (ENTETE + "93008;EAJE;Crèche de Bobigny;40;oui;publique;01/09/2015;;;\n").encode()
    job = start_import("structures", bad, "liste 89.csv", tmp_store, utilisateur=ADMIN_89)
    state = job.wait(timeout=120)
    job.cleanup()
    assert state.status == REFUSE and state.problems[0].ligne == 2 and state.problems[0].colonne == "code_insee"


def test_a_sign_in_is_journaled_once_per_identity_token(base):
    assert not audit.connexion_deja_notee(CONSEILLER_89, "1764612000")
    audit.enregistrer(CONSEILLER_89, "connexion", "session", {"jeton": "1764612000", "roles": "conseiller"},
                      departement="89")
    assert audit.connexion_deja_notee(CONSEILLER_89, "1764612000")
    assert not audit.connexion_deja_notee(CONSEILLER_89, "1764615600")      # signed in again an hour later
    assert not audit.connexion_deja_notee(CONSEILLER_93, "1764612000")
