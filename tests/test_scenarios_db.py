"""Scenario store (data/scenarios_db.py) against SQLite and, when available, PostgreSQL.

PostgreSQL tests (marker ``postgres``) need ``ATLAS_TEST_POSTGRES_URL`` (start a server with
``bash scripts/postgres.sh``); without it they are skipped, except in CI (``CI=true``) where
they fail.  Each test gets a fresh SQLite file or a fresh PostgreSQL schema.
"""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import uuid

import pytest
import sqlalchemy as sa

from data.store import PROJECT_ROOT
from tests.conftest import require_tool
from data import scenarios_db
from data.scenarios_db import (
    ConflitDeVersion,
    NomDejaUtilise,
    ScenarioErreur,
    ScenarioIntrouvable,
    EnregistrementRefuse,
    ScenarioStore,
    normaliser_url,
)

PG_ENV = "ATLAS_TEST_POSTGRES_URL"


def _pg_base_url() -> str:
    url = os.environ.get(PG_ENV, "").strip()
    require_tool(bool(url), f"PostgreSQL : {PG_ENV} non défini : lancez `bash scripts/postgres.sh` et exportez "
                            "l'URL affichée")
    return normaliser_url(url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'scenarios.sqlite'}"
        return
    base = _pg_base_url()
    schema = f"test_{uuid.uuid4().hex[:12]}"  # fresh, private schema for this test
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def store(db_url):
    s = ScenarioStore(db_url)
    yield s
    s.close()


DATA = {"nom": "Crèche des Lilas", "places": 24, "taux": 0.66, "communes": ["75056"], "psu": True}


# --- basic operations ---------------------------------------------------------------------

def test_create_get_list_and_history(store):
    a = store.create("Plan 2026", "75", DATA, auteur="Camille")
    b = store.create("Plan 2026", "93", {"places": 10})  # same name, other territoire: allowed
    assert a.version == 1 and a.meta.auteur == "Camille"
    got = store.get(a.id)
    assert got.data == DATA  # accents, floats, lists and booleans round-trip
    assert got.meta == a.meta
    assert [m.id for m in store.list("75")] == [a.id]
    assert {m.id for m in store.list()} == {a.id, b.id}
    assert [(h.version, h.action) for h in store.history(a.id)] == [(1, "création")]


def test_update_increments_version_and_keeps_every_version(store):
    a = store.create("Plan", "75", {"places": 10})
    b = store.update(a.id, {"places": 12}, expected_version=1)
    c = store.update(a.id, {"places": 15}, expected_version=2, name="Plan révisé", auteur="Léa")
    assert (b.version, c.version) == (2, 3)
    assert store.get(a.id).data == {"places": 15} and store.get(a.id).meta.name == "Plan révisé"
    hist = store.history(a.id)
    assert [(h.version, h.data["places"], h.name) for h in hist] == [
        (1, 10, "Plan"), (2, 12, "Plan"), (3, 15, "Plan révisé")]
    assert hist[2].auteur == "Léa"
    assert c.meta.created_at == a.meta.created_at and c.meta.updated_at >= a.meta.updated_at


def test_two_connections_same_version_exactly_one_wins(db_url, store):
    other = ScenarioStore(db_url)  # a second user: its own engine and connections
    try:
        a = store.create("Plan", "75", {"places": 10})
        mine, theirs = store.get(a.id), other.get(a.id)
        assert mine.version == theirs.version == 1
        other.update(a.id, {"places": 20}, theirs.version)
        with pytest.raises(ConflitDeVersion) as exc:
            store.update(a.id, {"places": 30}, mine.version)
        assert str(exc.value) == (
            "Le scénario « Plan » a été modifié par ailleurs (version 2, vous aviez la version 1) : "
            "rechargez-le avant d'enregistrer.")
        assert store.get(a.id).data == {"places": 20}  # the loser wrote nothing
        assert [h.version for h in store.history(a.id)] == [1, 2]
    finally:
        other.close()


def test_threaded_writers_lose_no_update(db_url, store):
    # 4 writers, each makes 5 successful read-modify-write increments (retrying on conflict):
    # 4 × 5 = 20 increments, so the counter ends at 20 and the version at 1 + 20 = 21.
    a = store.create("Compteur", "75", {"n": 0})
    writers, per_writer, errors = 4, 5, []

    def work(k: int) -> None:
        s = ScenarioStore(db_url)
        try:
            done = 0
            while done < per_writer:
                cur = s.get(a.id)
                try:
                    new = s.update(a.id, {"n": cur.data["n"] + 1, "par": k}, cur.version)
                except ConflitDeVersion:
                    continue
                assert new.version == cur.version + 1
                done += 1
        except Exception as e:  # noqa: BLE001 - reported to the main thread
            errors.append(e)
        finally:
            s.close()

    threads = [threading.Thread(target=work, args=(k,)) for k in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    final = store.get(a.id)
    assert final.data["n"] == 20 and final.version == 21
    hist = store.history(a.id)
    assert [h.version for h in hist] == list(range(1, 22))
    assert [h.data["n"] for h in hist] == list(range(0, 21))  # each version = previous + 1


# --- rename, duplicate, delete ------------------------------------------------------------

def test_rename_checks_version_and_unique_name(store):
    a = store.create("A", "75", {"x": 1})
    store.create("B", "75", {"x": 2})
    store.create("C", "93", {"x": 3})
    with pytest.raises(NomDejaUtilise, match="« B » existe déjà pour le territoire 75"):
        store.rename(a.id, "B", 1)
    with pytest.raises(ConflitDeVersion):
        store.rename(a.id, "A bis", 7)
    r = store.rename(a.id, "C", 1)  # « C » exists only in territoire 93
    assert (r.meta.name, r.version, r.data) == ("C", 2, {"x": 1})
    assert store.history(a.id)[-1].action == "renommage"


def test_create_duplicate_name_is_refused_in_french(store):
    store.create("Plan", "75", {})
    with pytest.raises(NomDejaUtilise) as exc:
        store.create("  Plan ", "75", {})  # spaces are trimmed before the check
    assert str(exc.value) == (
        "Un scénario nommé « Plan » existe déjà pour le territoire 75 : choisissez un autre nom.")
    assert len(store.list("75")) == 1


def test_duplicate_names_copies_and_is_independent(store):
    a = store.create("Plan", "75", {"places": 10}, auteur="Camille")
    store.update(a.id, {"places": 11}, 1)
    c1 = store.duplicate(a.id)
    c2 = store.duplicate(a.id)
    c3 = store.duplicate(a.id, new_name="Variante")
    assert [c1.meta.name, c2.meta.name, c3.meta.name] == ["Copie de Plan", "Copie de Plan (2)", "Variante"]
    assert c1.data == {"places": 11} and c1.version == 1 and c1.meta.territoire == "75"
    store.update(c1.id, {"places": 99}, 1)
    assert store.get(a.id).data == {"places": 11} and store.get(a.id).version == 2
    with pytest.raises(NomDejaUtilise):
        store.duplicate(a.id, new_name="Plan")


def test_delete_checks_version_and_keeps_history(store):
    a = store.create("Plan", "75", {"places": 10})
    store.update(a.id, {"places": 12}, 1)
    with pytest.raises(ConflitDeVersion):
        store.delete(a.id, expected_version=1)
    store.delete(a.id, expected_version=2)
    with pytest.raises(ScenarioIntrouvable, match="n'existe pas ou a été supprimé"):
        store.get(a.id)
    with pytest.raises(ScenarioIntrouvable):
        store.update(a.id, {"places": 1}, 2)
    assert store.list() == []
    assert [h.data["places"] for h in store.history(a.id)] == [10, 12]  # nothing is lost
    store.create("Plan", "75", {})  # the name is free again


# --- validation ------------------------------------------------------------------------------

@pytest.mark.parametrize("name, data, fragment", [
    ("", {}, "est vide"),
    ("   ", {}, "est vide"),
    ("x" * 121, {}, "trop long (121 caractères, 120 au plus)"),
    ("Plan", {"communes": {"75056"}}, "pas enregistrable en JSON"),
    ("Plan", {"taux": float("nan")}, "pas enregistrable en JSON"),
    ("Plan", ["pas", "un", "dict"], "doit être un dictionnaire JSON"),
])
def test_invalid_input_is_refused_and_nothing_written(store, name, data, fragment):
    with pytest.raises(EnregistrementRefuse, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        store.create(name, "75", data)
    assert store.list() == []


def test_invalid_update_leaves_scenario_untouched(store):
    a = store.create("Plan", "75", {"x": 1})
    with pytest.raises(EnregistrementRefuse):
        store.update(a.id, {"x": object()}, 1)
    with pytest.raises(EnregistrementRefuse, match="Numéro de version invalide"):
        store.update(a.id, {"x": 2}, "1")
    with pytest.raises(EnregistrementRefuse):
        store.rename(a.id, "", 1)
    assert store.get(a.id).version == 1 and store.get(a.id).data == {"x": 1}


# --- crash safety --------------------------------------------------------------------------------

def test_failure_between_version_insert_and_update_keeps_last_version(store, monkeypatch):
    a = store.create("Plan", "75", {"places": 10})

    def boom(*_args, **_kwargs):
        raise RuntimeError("panne simulée")

    monkeypatch.setattr(scenarios_db, "_apply_update", boom)
    with pytest.raises(RuntimeError):
        store.update(a.id, {"places": 99}, 1)
    monkeypatch.undo()
    got = store.get(a.id)
    assert (got.version, got.data) == (1, {"places": 10})
    assert [h.version for h in store.history(a.id)] == [1]  # the inserted version was rolled back
    assert store.update(a.id, {"places": 11}, 1).version == 2


CRASH_SCRIPT = """
import os, sys
from data import scenarios_db
store = scenarios_db.ScenarioStore(sys.argv[1])
scenarios_db._apply_update = lambda *a, **k: os._exit(3)  # process dies mid-transaction
store.update(sys.argv[2], {"places": 99}, 1)
"""


def test_process_killed_mid_save_keeps_last_version(db_url, store):
    a = store.create("Plan", "75", {"places": 10})
    proc = subprocess.run([sys.executable, "-c", CRASH_SCRIPT, db_url, a.id],
                          cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert proc.returncode == 3, proc.stderr
    got = store.get(a.id)
    assert (got.version, got.data) == (1, {"places": 10})
    assert store.update(a.id, {"places": 11}, 1).version == 2


# --- opening, migrations, URLs ---------------------------------------------------------------------

def test_migrations_are_idempotent_and_match_the_tables(db_url, store):
    a = store.create("Plan", "75", {"x": 1})
    for _ in range(2):
        ScenarioStore(db_url).close()  # reopening re-runs "upgrade head": a no-op
    assert store.get(a.id).data == {"x": 1}
    engine = sa.create_engine(normaliser_url(db_url))
    try:
        insp = sa.inspect(engine)
        from alembic.config import Config
        from alembic.script import ScriptDirectory

        from data import audit, baremes_db, utilisateurs

        tables = [*scenarios_db.metadata.tables.values(), *baremes_db.metadata.tables.values(), audit.journal,
                  utilisateurs.comptes]
        for table in tables:
            assert {c["name"] for c in insp.get_columns(table.name)} == set(table.columns.keys())
        cfg = Config()
        cfg.set_main_option("script_location", str(scenarios_db.MIGRATIONS_DIR))
        with engine.connect() as conn:
            heads = conn.execute(sa.text(f"SELECT version_num FROM {scenarios_db.VERSION_TABLE}")).all()
        assert heads == [(ScriptDirectory.from_config(cfg).get_current_head(),)]
    finally:
        engine.dispose()


def test_default_is_sqlite_in_data_dir_with_wal(tmp_path, monkeypatch):
    monkeypatch.setenv("ATLAS_DATA_DIR", str(tmp_path / "store"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    s = ScenarioStore()
    try:
        s.create("Plan", "75", {})
        path = tmp_path / "store" / "scenarios.sqlite"
        assert s.url.endswith("scenarios.sqlite") and path.exists()
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        s.close()


def test_urls_are_normalised_for_psycopg(monkeypatch):
    assert normaliser_url("postgresql://u@h:5432/db") == "postgresql+psycopg://u@h:5432/db"
    assert normaliser_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normaliser_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normaliser_url("sqlite:////tmp/x.sqlite") == "sqlite:////tmp/x.sqlite"
    monkeypatch.setenv("DATABASE_URL", "postgresql://atlas@db.example:5432/atlas")
    assert scenarios_db.default_url() == "postgresql+psycopg://atlas@db.example:5432/atlas"


def test_unreachable_or_unreadable_database_gives_french_error():
    with pytest.raises(ScenarioErreur, match="Adresse de base de données illisible"):
        ScenarioStore("pas une url")
    # Port 1 on loopback: connection refused at once.
    with pytest.raises(ScenarioErreur, match="est indisponible") as exc:
        ScenarioStore("postgresql://atlas:secret@127.0.0.1:1/atlas")
    assert "secret" not in str(exc.value)  # the password is never shown


# --- history retention and size limit (issue 9, item 9) -------------------------------------

from data.scenarios_db import DATA_MAX_OCTETS, Retention  # noqa: E402


def _age_versions(db_url: str, scenario_id: str, days: int) -> None:
    """Make every saved version of a scenario ``days`` old (as if saved long ago)."""
    eng = sa.create_engine(normaliser_url(db_url))
    old = scenarios_db._now() - scenarios_db.timedelta(days=days)
    with eng.begin() as conn:
        conn.execute(scenarios_db.scenario_versions.update()
                     .where(scenarios_db.scenario_versions.c.scenario_id == scenario_id).values(saved_at=old))
    eng.dispose()


def test_history_keeps_last_versions_and_recent_ones_within_a_maximum(db_url):
    s = ScenarioStore(db_url, retention=Retention(versions=3, jours=30, max_versions=5))
    try:
        a = s.create("Plan", "75", {"n": 0})
        for n in range(1, 11):                      # versions 2 … 11
            s.update(a.id, {"n": n}, expected_version=n)
        # all versions are recent: kept up to the maximum, 5 → versions 7 … 11
        assert [h.version for h in s.history(a.id)] == [7, 8, 9, 10, 11]
        assert [h.data["n"] for h in s.history(a.id)] == [6, 7, 8, 9, 10]
        # versions older than 30 days beyond the last 3 go at the next save: 12 saved → 10, 11, 12 kept
        _age_versions(db_url, a.id, 40)
        s.update(a.id, {"n": 11}, expected_version=11)
        assert [h.version for h in s.history(a.id)] == [10, 11, 12]
        assert s.get(a.id).data == {"n": 11} and s.get(a.id).version == 12
        # the history of a deleted scenario stays (within the same retention)
        s.delete(a.id, expected_version=12)
        assert [h.version for h in s.history(a.id)] == [10, 11, 12]
    finally:
        s.close()


def test_applying_a_lower_retention_to_every_history(db_url):
    s = ScenarioStore(db_url, retention=Retention(versions=50, jours=30, max_versions=100))
    a = s.create("A", "75", {"n": 0})
    b = s.create("B", "75", {"n": 0})
    for n in range(1, 6):
        s.update(a.id, {"n": n}, expected_version=n)
    s.close()
    s = ScenarioStore(db_url, retention=Retention(versions=2, jours=0, max_versions=2))
    try:
        assert s.appliquer_retention() == 4            # A had 6 versions, keeps 2; B keeps its only one
        assert [h.version for h in s.history(a.id)] == [5, 6]
        assert [h.version for h in s.history(b.id)] == [1]
    finally:
        s.close()


def test_retention_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ATLAS_SCENARIOS_HISTORIQUE_VERSIONS", "7")
    monkeypatch.setenv("ATLAS_SCENARIOS_HISTORIQUE_JOURS", "10")
    monkeypatch.setenv("ATLAS_SCENARIOS_HISTORIQUE_MAX", "9")
    s = ScenarioStore(f"sqlite:///{tmp_path / 'a.sqlite'}")
    assert s.retention == Retention(7, 10, 9)
    s.close()
    monkeypatch.setenv("ATLAS_SCENARIOS_HISTORIQUE_MAX", "beaucoup")
    with pytest.raises(ScenarioErreur, match="ATLAS_SCENARIOS_HISTORIQUE_MAX = « beaucoup » : nombre entier attendu"):
        ScenarioStore(f"sqlite:///{tmp_path / 'b.sqlite'}")
    monkeypatch.delenv("ATLAS_SCENARIOS_HISTORIQUE_MAX")
    assert Retention.from_env() == Retention(7, 10, 100)
    with pytest.raises(ScenarioErreur, match="Rétention de l'historique invalide"):
        Retention(versions=5, jours=1, max_versions=2)


def test_a_scenario_larger_than_the_limit_is_refused_and_nothing_written(store):
    a = store.create("Plan", "75", {"n": 0})
    big = {"texte": "é" * (DATA_MAX_OCTETS // 2 + 1)}        # 2 bytes per « é » in UTF-8: just over the limit
    with pytest.raises(EnregistrementRefuse, match=r"trop volumineux \(5,0 Mo, 5 Mo au plus\)"):
        store.update(a.id, big, expected_version=1)
    with pytest.raises(EnregistrementRefuse, match="trop volumineux"):
        store.create("Gros", "75", big)
    assert store.get(a.id).version == 1 and [m.name for m in store.list("75")] == ["Plan"]


def test_a_loop_of_saves_does_not_grow_the_sqlite_file(tmp_path):
    """120 saves of a 100 kB scenario (12 MB of versions without retention): with 5 versions kept the
    database file stays under 1 MB (6 copies of 100 kB + pages) and does not grow between the 60th and the
    120th save, nor does its WAL (freed pages are reused)."""
    path = tmp_path / "boucle.sqlite"
    s = ScenarioStore(f"sqlite:///{path}", retention=Retention(versions=5, jours=0, max_versions=5))
    sizes = {}
    try:
        a = s.create("Boucle", "75", {"n": 0, "x": "a" * 100_000})
        for n in range(1, 121):
            s.update(a.id, {"n": n, "x": "a" * 100_000}, expected_version=n)
            if n in (60, 120):
                sizes[n] = {p.name: p.stat().st_size for p in tmp_path.glob("boucle.sqlite*")}
        assert len(s.history(a.id)) == 5
    finally:
        s.close()
    # the versions do not grow the file; the audit trail does, by one small row per save (60 rows of about
    # 200 bytes = 12 kB, rounded up to 4 kB pages): far below one more 100 kB version
    assert sizes[120]["boucle.sqlite-wal"] == sizes[60]["boucle.sqlite-wal"], sizes
    assert 0 <= sizes[120]["boucle.sqlite"] - sizes[60]["boucle.sqlite"] <= 32_768, sizes
    assert sizes[120]["boucle.sqlite"] < 1_000_000, sizes
