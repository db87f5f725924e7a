"""Persistence of simulator scenarios in a real database.

SQLite by default (``<data dir>/scenarios.sqlite``), PostgreSQL when
``DATABASE_URL`` is set (``postgresql://`` is read as ``postgresql+psycopg://``).
The schema is migrated to the latest revision (Alembic, ``data/migrations``)
every time a :class:`ScenarioStore` is opened; this is idempotent.

A scenario is an opaque JSON-able dict (the simulator's format) stored as JSON
text, with metadata: name (unique per territoire), territoire, author, version.

Every write runs in one transaction and uses optimistic concurrency: the caller
passes the version it loaded; if someone saved in between, :class:`ConflitDeVersion`
is raised and nothing is written.  Each saved version is also copied into
``scenario_versions`` (kept even after a deletion), within a retention policy
(:class:`Retention`: the last N versions always, older ones while younger than D days,
never more than M per scenario; enforced in the same transaction as each save).
One scenario is at most :data:`DATA_MAX_OCTETS` of JSON text.
A crash in the middle of a save rolls the transaction back: the last saved
version stays what :meth:`ScenarioStore.get` returns.

Concurrency details: on PostgreSQL the scenario row is locked (``SELECT ... FOR
UPDATE``) before the version check; on SQLite write transactions start with
``BEGIN IMMEDIATE`` (WAL mode, 30 s busy timeout), so writers queue instead of
failing with "database is locked".
"""
from __future__ import annotations

import json
import threading
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from data import audit
from data.droits import ActionRefusee, exiger_departement, exiger_role, utilisateur_ou_local
from data.identite import ROLE_CONSEILLER, ROLE_LECTEUR, Utilisateur, normaliser_departement
from data.scenarios_model import (  # noqa: F401 - tables, values, errors and address re-exported from here
    DATA_MAX_OCTETS, MIGRATIONS_DIR, NAME_MAX, SQLITE_FILE, TERRITOIRE_MAX, VERSION_TABLE, ConflitDeVersion,
    EnregistrementRefuse, NomDejaUtilise, Retention, Scenario, ScenarioErreur, ScenarioIntrouvable, ScenarioMeta,
    ScenarioRefuse, ScenarioVersion, default_url, departement_de_commune, departement_du_scenario, engine_for,
    metadata, normaliser_url, scenario_versions, scenarios,
)

_MIGRATION_LOCK = 727_001  # pg_advisory_xact_lock key serialising concurrent migrations
_ALEMBIC_LOCK = threading.Lock()  # alembic's `context` proxy is process-global: one migration at a time


# --- helpers -------------------------------------------------------------------------------

def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(d: datetime) -> datetime:
    return d if d.tzinfo else d.replace(tzinfo=timezone.utc)  # SQLite drops the offset


def _clean_name(name: Any, what: str = "Le nom du scénario", limit: int = NAME_MAX) -> str:
    if not isinstance(name, str) or not " ".join(name.split()):
        raise EnregistrementRefuse(f"{what} est vide : saisissez un nom.")
    name = " ".join(name.split())
    if len(name) > limit:
        raise EnregistrementRefuse(
            f"{what} est trop long ({len(name)} caractères, {limit} au plus) : raccourcissez-le."
        )
    return name


def _dump(data: Any) -> str:
    if not isinstance(data, dict):
        raise EnregistrementRefuse(
            f"Le contenu du scénario doit être un dictionnaire JSON, pas « {type(data).__name__} »."
        )
    try:
        text = json.dumps(data, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        raise EnregistrementRefuse(
            "Le contenu du scénario n'est pas enregistrable en JSON : n'utilisez que des textes, "
            "nombres finis, booléens, listes et dictionnaires (sans imbrication démesurée)."
        ) from None
    size = len(text.encode("utf-8"))
    if size > DATA_MAX_OCTETS:
        raise EnregistrementRefuse(
            f"Le scénario est trop volumineux ({size / 1e6:.1f} Mo, {DATA_MAX_OCTETS // 1_000_000} Mo au plus) : "
            "découpez le territoire en plusieurs scénarios.".replace(".", ",", 1)
        )
    return text


def _check_version(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise EnregistrementRefuse(f"Numéro de version invalide : {v!r} (entier positif attendu).")
    return v


def _meta(row: Any) -> ScenarioMeta:
    return ScenarioMeta(
        id=row.id, name=row.name, territoire=row.territoire, version=row.version,
        auteur=row.auteur, created_at=_aware(row.created_at), updated_at=_aware(row.updated_at),
        departement=row.departement,
    )




@contextmanager
def _droits() -> Iterator[None]:
    """A refusal of data.droits becomes the store's own error (pages catch ScenarioErreur)."""
    try:
        yield
    except ScenarioRefuse:
        raise
    except ActionRefusee as exc:
        raise ScenarioRefuse(str(exc)) from None


def _peut_ecrire(utilisateur: Utilisateur | None, action: str) -> Utilisateur:
    with _droits():
        user = utilisateur_ou_local(utilisateur)
        exiger_role(user, ROLE_CONSEILLER, action)
    return user


def _couvre(user: Utilisateur, departement: str | None, action: str) -> None:
    with _droits():
        exiger_departement(user, departement, action)


def _journal(conn: Connection, user: Utilisateur, action: str, row_or_meta: Any, version: int,
             **details: Any) -> None:
    audit.inserer(conn, user, action, f"{row_or_meta.name} ({row_or_meta.territoire})",
                  {"scenario": row_or_meta.id, "version": version, **details},
                  departement=row_or_meta.departement)


def _nom_pris(name: str, territoire: str | None) -> NomDejaUtilise:
    where = f"le territoire {territoire}" if territoire else "ce territoire"
    return NomDejaUtilise(
        f"Un scénario nommé « {name} » existe déjà pour {where} : choisissez un autre nom."
    )


def _apply_update(conn: Connection, scenario_id: str, from_version: int, values: dict) -> None:
    """Move the scenario row from ``from_version`` to the new state (second step of a save)."""
    res = conn.execute(
        scenarios.update()
        .where(scenarios.c.id == scenario_id, scenarios.c.version == from_version)
        .values(**values)
    )
    if res.rowcount != 1:  # cannot happen with the row lock; kept as a safety net
        raise ConflitDeVersion(values.get("name", scenario_id), -1, from_version)


ACTIONS_JOURNAL = {"modification": "modification", "renommage": "renommage", "restauration": "restauration"}


# --- the store ------------------------------------------------------------------------------

class ScenarioStore:
    """Scenarios of every territoire; thread-safe (one engine, pooled connections).

    In Streamlit, create it once per process (``st.cache_resource``).
    """

    def __init__(self, url: str | None = None, retention: Retention | None = None):
        self.retention = retention if retention is not None else Retention.from_env()
        raw = normaliser_url(url) if url else default_url()
        try:
            self._url = sa.make_url(raw)
        except sa.exc.ArgumentError:
            raise ScenarioErreur(
                f"Adresse de base de données illisible : « {raw} ». Exemple attendu : "
                "postgresql://utilisateur@hôte:5432/base (variable DATABASE_URL)."
            ) from None
        self.is_sqlite = self._url.get_backend_name() == "sqlite"
        self._engine: Engine = engine_for(self._url)
        self._migrate()

    @property
    def url(self) -> str:
        """Database address, password hidden (to show in the UI)."""
        return self._url.render_as_string(hide_password=True)

    def close(self) -> None:
        self._engine.dispose()

    def transaction(self, write: bool = False):
        """One transaction on this database, for the stores that share it (``data/baremes_db.py``)."""
        return self._tx(write)

    # -- plumbing

    @contextmanager
    def _tx(self, write: bool) -> Iterator[Connection]:
        try:
            with self._engine.connect() as conn:
                conn.execution_options(atlas_write=write)
                with conn.begin():
                    yield conn
        except sa.exc.OperationalError as e:
            raise ScenarioErreur(
                f"La base des scénarios ({self.url}) est indisponible : "
                f"{str(e.orig).strip().splitlines()[0] if e.orig else e}. Réessayez dans un instant ; "
                "si le problème persiste, vérifiez DATABASE_URL ou le serveur."
            ) from None

    def _migrate(self) -> None:
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        cfg.set_main_option("version_table", VERSION_TABLE)
        with _ALEMBIC_LOCK, self._tx(write=True) as conn:
            if not self.is_sqlite:
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def _locked_row(self, conn: Connection, scenario_id: str, expected: int | None) -> Any:
        q = sa.select(scenarios).where(scenarios.c.id == scenario_id)
        if not self.is_sqlite:
            q = q.with_for_update()
        row = conn.execute(q).first()
        if row is None:
            raise ScenarioIntrouvable(
                f"Le scénario {scenario_id} n'existe pas ou a été supprimé : rechargez la liste."
            )
        if expected is not None and row.version != expected:
            raise ConflitDeVersion(row.name, row.version, expected)
        return row

    def _check_free(self, conn: Connection, territoire: str, name: str, own_id: str | None) -> None:
        q = sa.select(scenarios.c.id).where(
            scenarios.c.territoire == territoire, scenarios.c.name == name
        )
        found = conn.execute(q).scalar()
        if found is not None and found != own_id:
            raise _nom_pris(name, territoire)

    def _save(self, conn: Connection, *, row: Any, name: str, data_text: str, auteur: str | None,
              action: str, user: Utilisateur, **details: Any) -> None:
        """Insert the new version into the history, move the scenario row to it, write the audit entry."""
        now, version = _now(), row.version + 1
        conn.execute(scenario_versions.insert().values(
            scenario_id=row.id, version=version, name=name, territoire=row.territoire,
            auteur=auteur, action=action, data=data_text, saved_at=now, departement=row.departement,
        ))
        _apply_update(conn, row.id, row.version,
                      {"name": name, "data": data_text, "version": version, "updated_at": now})
        self._prune(conn, row.id, version, now)
        _journal(conn, user, f"scenario_{ACTIONS_JOURNAL[action]}", self._written(conn, row.id).meta, version,
                 **details)

    def _prune(self, conn: Connection, scenario_id: str, latest: int, now: datetime) -> int:
        """Apply the retention to one scenario's history (versions are consecutive integers, so « the
        last N » is ``version > latest - N``).  Same transaction as the save: a crash drops neither."""
        r = self.retention
        v = scenario_versions.c
        res = conn.execute(scenario_versions.delete().where(
            v.scenario_id == scenario_id,
            v.version <= latest - r.versions,
            sa.or_(v.saved_at < now - timedelta(days=r.jours), v.version <= latest - r.max_versions),
        ))
        return res.rowcount or 0

    def _insert(self, conn: Connection, name: str, territoire: str, data_text: str,
                auteur: str | None, departement: str | None) -> str:
        self._check_free(conn, territoire, name, None)
        sid, now = uuid.uuid4().hex, _now()
        conn.execute(scenarios.insert().values(
            id=sid, name=name, territoire=territoire, auteur=auteur, version=1,
            data=data_text, created_at=now, updated_at=now, departement=departement,
        ))
        conn.execute(scenario_versions.insert().values(
            scenario_id=sid, version=1, name=name, territoire=territoire, auteur=auteur,
            action="création", data=data_text, saved_at=now, departement=departement,
        ))
        return sid

    @contextmanager
    def _unique_names(self, name: str | None, territoire: str | None = None) -> Iterator[None]:
        """A concurrent insert may still win the race: report it as a duplicate name."""
        try:
            yield
        except sa.exc.IntegrityError:
            raise _nom_pris(name or "", territoire) from None

    @staticmethod
    def _written(conn: Connection, scenario_id: str) -> Scenario:
        """The scenario as this transaction wrote it (read before commit, so that a concurrent
        writer cannot slip in between the save and what the caller gets back)."""
        row = conn.execute(sa.select(scenarios).where(scenarios.c.id == scenario_id)).first()
        return Scenario(_meta(row), json.loads(row.data))

    # -- public API
    #
    # Every method takes the acting ``utilisateur`` (keyword): without one, the local user in local mode,
    # a refusal in service mode (data/droits.py).  Reading needs the scenario's département in the
    # user's scope; writing also needs the conseiller role (or higher).  Refusals raise ScenarioRefuse.

    def transaction(self, write: bool = False):
        """An open transaction on this database (the audit trail and the users table share it)."""
        return self._tx(write)

    def get(self, scenario_id: str, *, utilisateur: Utilisateur | None = None) -> Scenario:
        with _droits():
            user = utilisateur_ou_local(utilisateur)
        with self._tx(write=False) as conn:
            row = conn.execute(sa.select(scenarios).where(scenarios.c.id == scenario_id)).first()
        if row is None:
            raise ScenarioIntrouvable(
                f"Le scénario {scenario_id} n'existe pas ou a été supprimé : rechargez la liste."
            )
        _couvre(user, row.departement, f"l'ouverture du scénario « {row.name} »")
        return Scenario(_meta(row), json.loads(row.data))

    def create(self, name: str, territoire: str, data: dict[str, Any],
               auteur: str | None = None, *, departement: str | None = None,
               utilisateur: Utilisateur | None = None) -> Scenario:
        """``departement``: the scenario's Caf (the page passes the département the territory was picked
        in); default: derived from the territory (:func:`departement_du_scenario`)."""
        user = _peut_ecrire(utilisateur, "enregistrer un scénario")
        name = _clean_name(name)
        territoire = _clean_name(territoire, "Le territoire", TERRITOIRE_MAX)
        auteur = _clean_name(auteur, "Le nom de l'auteur") if auteur else None
        text = _dump(data)
        if departement:
            dep = normaliser_departement(str(departement))
            if dep is None:
                raise EnregistrementRefuse(f"Département « {departement} » inconnu (codes attendus : 89, 2A, 971…).")
        else:
            dep = departement_du_scenario(territoire, data)
        _couvre(user, dep, f"l'enregistrement du scénario « {name} »")
        with self._unique_names(name, territoire), self._tx(write=True) as conn:
            sid = self._insert(conn, name, territoire, text, auteur, dep)
            written = self._written(conn, sid)
            _journal(conn, user, "scenario_creation", written.meta, 1)
        return written

    def _row_for_write(self, conn: Connection, user: Utilisateur, scenario_id: str, expected: int | None,
                       what: str) -> Any:
        row = self._locked_row(conn, scenario_id, None)
        _couvre(user, row.departement, f"{what} du scénario « {row.name} »")
        if expected is not None and row.version != expected:
            raise ConflitDeVersion(row.name, row.version, expected)
        return row

    def update(self, scenario_id: str, data: dict[str, Any], expected_version: int,
               name: str | None = None, auteur: str | None = None, *,
               utilisateur: Utilisateur | None = None) -> Scenario:
        """Save new data (and optionally a new name); returns the scenario at its new version."""
        user = _peut_ecrire(utilisateur, "enregistrer un scénario")
        _check_version(expected_version)
        text = _dump(data)
        new_name = _clean_name(name) if name is not None else None
        auteur = _clean_name(auteur, "Le nom de l'auteur") if auteur else None
        with self._unique_names(new_name), self._tx(write=True) as conn:
            row = self._row_for_write(conn, user, scenario_id, expected_version, "la modification")
            if new_name and new_name != row.name:
                self._check_free(conn, row.territoire, new_name, scenario_id)
            self._save(conn, row=row, name=new_name or row.name, data_text=text, auteur=auteur,
                       action="modification", user=user)
            written = self._written(conn, scenario_id)
        return written

    def rename(self, scenario_id: str, new_name: str, expected_version: int,
               auteur: str | None = None, *, utilisateur: Utilisateur | None = None) -> Scenario:
        user = _peut_ecrire(utilisateur, "renommer un scénario")
        _check_version(expected_version)
        new_name = _clean_name(new_name)
        with self._unique_names(new_name), self._tx(write=True) as conn:
            row = self._row_for_write(conn, user, scenario_id, expected_version, "le renommage")
            self._check_free(conn, row.territoire, new_name, scenario_id)
            self._save(conn, row=row, name=new_name, data_text=row.data, auteur=auteur, action="renommage",
                       user=user, ancien_nom=row.name)
            written = self._written(conn, scenario_id)
        return written

    def restore(self, scenario_id: str, version: int, expected_version: int, auteur: str | None = None, *,
                utilisateur: Utilisateur | None = None) -> Scenario:
        """Make a saved version the current one again (saved as a new version, action « restauration »)."""
        user = _peut_ecrire(utilisateur, "restaurer une version de scénario")
        _check_version(expected_version)
        _check_version(version)
        auteur = _clean_name(auteur, "Le nom de l'auteur") if auteur else None
        with self._tx(write=True) as conn:
            row = self._row_for_write(conn, user, scenario_id, expected_version, "la restauration")
            old = conn.execute(sa.select(scenario_versions.c.data).where(
                scenario_versions.c.scenario_id == scenario_id, scenario_versions.c.version == version)).first()
            if old is None:
                raise ScenarioIntrouvable(f"La version {version} du scénario « {row.name} » n'est plus conservée "
                                          "(voir la rétention de l'historique).")
            self._save(conn, row=row, name=row.name, data_text=old.data, auteur=auteur, action="restauration",
                       user=user, version_restauree=version)
            written = self._written(conn, scenario_id)
        return written

    def duplicate(self, scenario_id: str, new_name: str | None = None,
                  auteur: str | None = None, *, utilisateur: Utilisateur | None = None) -> Scenario:
        """Copy (same territoire and département, version 1). Default name « Copie de X », then
        « Copie de X (2) »…"""
        user = _peut_ecrire(utilisateur, "dupliquer un scénario")
        wanted = _clean_name(new_name) if new_name is not None else None
        auteur = _clean_name(auteur, "Le nom de l'auteur") if auteur else None
        with self._unique_names(wanted), self._tx(write=True) as conn:
            row = self._row_for_write(conn, user, scenario_id, None, "la duplication")
            name = wanted
            if name is None:
                base = f"Copie de {row.name}"[:NAME_MAX]
                taken = set(conn.execute(sa.select(scenarios.c.name).where(
                    scenarios.c.territoire == row.territoire)).scalars())
                name, n = base, 2
                while name in taken:
                    suffix = f" ({n})"
                    name, n = base[: NAME_MAX - len(suffix)] + suffix, n + 1
            sid = self._insert(conn, name, row.territoire, row.data, auteur or row.auteur, row.departement)
            written = self._written(conn, sid)
            _journal(conn, user, "scenario_duplication", written.meta, 1, copie_de=row.id)
        return written

    def delete(self, scenario_id: str, expected_version: int | None = None, *,
               utilisateur: Utilisateur | None = None) -> None:
        """Remove the scenario from the list; its history stays in ``scenario_versions``."""
        user = _peut_ecrire(utilisateur, "supprimer un scénario")
        if expected_version is not None:
            _check_version(expected_version)
        with self._tx(write=True) as conn:
            row = self._row_for_write(conn, user, scenario_id, expected_version, "la suppression")
            conn.execute(scenarios.delete().where(scenarios.c.id == scenario_id))
            _journal(conn, user, "scenario_suppression", row, row.version)

    def history(self, scenario_id: str, *, utilisateur: Utilisateur | None = None) -> list[ScenarioVersion]:
        """Every saved version, oldest first (still available after a deletion)."""
        with _droits():
            user = utilisateur_ou_local(utilisateur)
        with self._tx(write=False) as conn:
            rows = conn.execute(
                sa.select(scenario_versions)
                .where(scenario_versions.c.scenario_id == scenario_id)
                .order_by(scenario_versions.c.version)
            ).all()
        if rows:
            _couvre(user, rows[-1].departement, f"l'historique du scénario « {rows[-1].name} »")
        return [
            ScenarioVersion(
                scenario_id=r.scenario_id, version=r.version, name=r.name, territoire=r.territoire,
                auteur=r.auteur, action=r.action, saved_at=_aware(r.saved_at), data=json.loads(r.data),
                departement=r.departement,
            )
            for r in rows
        ]

    def appliquer_retention(self, compacter: bool = True) -> int:
        """Apply the retention to every history (also of deleted scenarios), e.g. after lowering it;
        returns the number of versions removed.  On SQLite, ``compacter`` then gives the freed space
        back to the disk (VACUUM)."""
        removed = 0
        now = _now()
        with self._tx(write=True) as conn:
            latest = conn.execute(sa.select(scenario_versions.c.scenario_id, sa.func.max(scenario_versions.c.version))
                                  .group_by(scenario_versions.c.scenario_id)).all()
            for sid, last in latest:
                removed += self._prune(conn, sid, int(last), now)
        if compacter and self.is_sqlite:
            raw = self._engine.raw_connection()  # autocommit (isolation_level None): VACUUM outside a transaction
            try:
                raw.driver_connection.execute("VACUUM")
            finally:
                raw.close()
        return removed

    def list(self, territoire: str | None = None, *, utilisateur: Utilisateur | None = None) -> list[ScenarioMeta]:
        """Scenarios (metadata only) of the user's départements, by territoire then name."""
        with _droits():
            user = utilisateur_ou_local(utilisateur)
            exiger_role(user, ROLE_LECTEUR, "consulter les scénarios")
        q = sa.select(*[c for c in scenarios.c if c.name != "data"])
        if territoire is not None:
            q = q.where(scenarios.c.territoire == territoire)
        if not user.tous_departements:
            q = q.where(scenarios.c.departement.in_(sorted(user.departements)))
        with self._tx(write=False) as conn:
            rows = conn.execute(q.order_by(scenarios.c.territoire, scenarios.c.name)).all()
        return [_meta(r) for r in rows]
