"""Scenario storage: tables, values returned, errors, history retention, database address and engine.

The tables are those of the latest migration (``data/migrations`` creates them); the store itself
(:class:`data.scenarios_db.ScenarioStore`) uses them for its queries.  Every public name here is also importable
from :mod:`data.scenarios_db`.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from data.droits import ActionRefusee
from data.identite import normaliser_departement


NAME_MAX = 120
DATA_MAX_OCTETS = 5_000_000  # one scenario as JSON text (same limit as a scenario file, docs/SCENARIOS.md)
TERRITOIRE_MAX = 64
SQLITE_FILE = "scenarios.sqlite"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "atlas_scenarios_schema"  # Alembic's version table (own name: the database may be shared)


# Tables as of the latest migration (the migrations create them; these are for queries).
metadata = sa.MetaData()
scenarios = sa.Table(
    "scenarios",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(NAME_MAX), nullable=False),
    sa.Column("territoire", sa.String(TERRITOIRE_MAX), nullable=False),
    sa.Column("auteur", sa.String(NAME_MAX)),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("departement", sa.String(3)),
    sa.UniqueConstraint("territoire", "name", name="uq_scenarios_territoire_name"),
)
scenario_versions = sa.Table(
    "scenario_versions",
    metadata,
    sa.Column("scenario_id", sa.String(32), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(NAME_MAX), nullable=False),
    sa.Column("territoire", sa.String(TERRITOIRE_MAX), nullable=False),
    sa.Column("auteur", sa.String(NAME_MAX)),
    sa.Column("action", sa.String(20), nullable=False),
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("departement", sa.String(3)),
)


# --- errors (French messages, shown as is in the UI) -------------------------------------

class ScenarioErreur(Exception):
    """Base class; ``str(e)`` is a French message for the user."""


class EnregistrementRefuse(ScenarioErreur, ValueError):
    """Bad input (empty or too long name, data not JSON-serialisable...)."""


class NomDejaUtilise(EnregistrementRefuse):
    """Another scenario of the same territoire already has this name."""


class ScenarioIntrouvable(ScenarioErreur, LookupError):
    """No scenario with this id (never created, or deleted)."""


class ScenarioRefuse(ActionRefusee, ScenarioErreur):
    """Out of the user's role or départements (docs/SCENARIOS_DB.md « Droits »)."""


class ConflitDeVersion(ScenarioErreur):
    """The scenario was saved by someone else since it was loaded."""

    def __init__(self, nom: str, version_actuelle: int, version_attendue: int):
        self.nom = nom
        self.version_actuelle = version_actuelle
        self.version_attendue = version_attendue
        super().__init__(
            f"Le scénario « {nom} » a été modifié par ailleurs (version {version_actuelle}, "
            f"vous aviez la version {version_attendue}) : rechargez-le avant d'enregistrer."
        )


# --- values returned -------------------------------------------------------------------

@dataclass(frozen=True)
class ScenarioMeta:
    id: str
    name: str
    territoire: str
    version: int
    auteur: str | None
    created_at: datetime
    updated_at: datetime
    departement: str | None = None   # None: France, region, or an old scenario (national administrators)


@dataclass(frozen=True)
class Scenario:
    meta: ScenarioMeta
    data: dict[str, Any]

    @property
    def id(self) -> str:
        return self.meta.id

    @property
    def version(self) -> int:
        return self.meta.version


@dataclass(frozen=True)
class ScenarioVersion:
    """One saved state in the history (``action``: création, modification, renommage)."""

    scenario_id: str
    version: int
    name: str
    territoire: str
    auteur: str | None
    action: str
    saved_at: datetime
    data: dict[str, Any]
    departement: str | None = None


# --- history retention ---------------------------------------------------------------------

def _env_int(name: str, default: int, minimum: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ScenarioErreur(f"{name} = « {raw} » : nombre entier attendu.") from None
    if value < minimum:
        raise ScenarioErreur(f"{name} = {value} : au moins {minimum} attendu.")
    return value


@dataclass(frozen=True)
class Retention:
    """How much history each scenario keeps (docs/SCENARIOS_DB.md « Historique »).

    The last ``versions`` versions are always kept; an older version is kept while it is younger
    than ``jours`` days, but a scenario never keeps more than ``max_versions`` versions.  So a loop of
    saves cannot grow the database without bound: at most ``max_versions`` × 5 Mo per scenario.
    """

    versions: int = 20
    jours: int = 30
    max_versions: int = 100

    def __post_init__(self) -> None:
        if self.versions < 1 or self.jours < 0 or self.max_versions < self.versions:
            raise ScenarioErreur(
                "Rétention de l'historique invalide : au moins 1 version, 0 jour ou plus, et un maximum "
                f"supérieur ou égal au nombre de versions gardées (reçu {self.versions}, {self.jours}, "
                f"{self.max_versions})."
            )

    @classmethod
    def from_env(cls) -> "Retention":
        """``ATLAS_SCENARIOS_HISTORIQUE_VERSIONS``, ``…_JOURS``, ``…_MAX`` (defaults 20, 30, 100)."""
        d = cls()
        n = _env_int("ATLAS_SCENARIOS_HISTORIQUE_VERSIONS", d.versions, 1)
        return cls(n, _env_int("ATLAS_SCENARIOS_HISTORIQUE_JOURS", d.jours, 0),
                   _env_int("ATLAS_SCENARIOS_HISTORIQUE_MAX", max(d.max_versions, n), n))


# --- helpers -------------------------------------------------------------------------------

def normaliser_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` → ``postgresql+psycopg://`` (psycopg 3)."""
    return re.sub(r"^postgres(?:ql)?://", "postgresql+psycopg://", url.strip())


def default_url() -> str:
    """``DATABASE_URL`` if set, else the SQLite file in the data folder."""
    env = os.environ.get("DATABASE_URL", "").strip()
    if env:
        return normaliser_url(env)
    from data.store import data_dir

    folder = data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return sa.URL.create("sqlite", database=str(folder / SQLITE_FILE)).render_as_string()


def engine_for(url: sa.URL) -> Engine:
    """The engine of the scenario database: on SQLite, WAL mode, a 30 s busy timeout and write
    transactions that start with ``BEGIN IMMEDIATE`` (writers queue instead of failing)."""
    if url.get_backend_name() == "sqlite":
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see _sqlite_begin)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    mode = "IMMEDIATE" if conn.get_execution_options().get("atlas_write") else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")


def departement_de_commune(code: str) -> str | None:
    """« 89024 » → « 89 », « 2A004 » → « 2A », « 97411 » → « 974 »."""
    code = str(code).strip().upper()
    if len(code) != 5:
        return None
    return code[:3] if code.startswith("97") else code[:2]


def departement_du_scenario(territoire: str, data: dict[str, Any] | None) -> str | None:
    """The département a scenario belongs to: from its territory key (``departement:89``,
    ``commune:89024``), else from its communes when they all lie in one département; None otherwise
    (France, a region, an EPCI across two départements: visible to national administrators only)."""
    niveau, _, code = (territoire or "").partition(":")
    if niveau == "departement" and code:
        return normaliser_departement(code)
    if niveau == "commune" and code:
        return departement_de_commune(code)
    terr = data.get("territoire") if isinstance(data, dict) else None
    communes = terr.get("communes") if isinstance(terr, dict) else None
    deps = {departement_de_commune(c) for c in communes if isinstance(c, str)} if isinstance(communes, list) else set()
    return deps.pop() if len(deps) == 1 and None not in deps else None
