"""The audit trail (journal): who signed in, imported which file, saved, restored or deleted which scenario
version, changed which user's rights — with the time.

Stored in the scenario database (same ``DATABASE_URL``, SQLite by default; table ``journal``, migration
``0003_roles_audit``).  Times are stored in UTC and shown in Europe/Paris.  Entries older than
``ATLAS_JOURNAL_CONSERVATION_JOURS`` days (default 365) are removed as new ones are written.

Writers::

    enregistrer(utilisateur, "import", "structures.csv", {"sha256": …, "lignes": 42}, departement="89")

The scenario store writes its entries itself, in the transaction of the change (:func:`inserer`), so a
saved version is never missing from the trail.  Reader (administrators only, refused otherwise)::

    lire(utilisateur, debut=date(2026, 1, 1), fin=None, qui="camille", action="import", departement="89")

An administrateur Caf reads the entries of its départements; entries without a département (the
sign-in of a person of several départements, the référentiel imports) are for national administrators.
"""
from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from data.droits import ActionRefusee, est_administrateur, exiger_departement, utilisateur_ou_local
from data.identite import Utilisateur, normaliser_departement

PARIS = ZoneInfo("Europe/Paris")
RETENTION_ENV = "ATLAS_JOURNAL_CONSERVATION_JOURS"
RETENTION_DEFAUT = 365
DETAILS_MAX = 4000       # characters of JSON details kept per entry
LIMITE_LECTURE = 10_000  # entries returned by one read (the page says when there are more)

journal = sa.Table(
    "journal", sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("horodatage", sa.DateTime(timezone=True), nullable=False),
    sa.Column("utilisateur", sa.String(200), nullable=False),
    sa.Column("nom", sa.String(200)),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("objet", sa.String(400), nullable=False),
    sa.Column("departement", sa.String(3)),
    sa.Column("details", sa.Text),
)

ACTIONS = {
    "connexion": "connexion",
    "import": "import de fichier",
    "scenario_creation": "scénario créé",
    "scenario_modification": "scénario modifié",
    "scenario_renommage": "scénario renommé",
    "scenario_duplication": "scénario dupliqué",
    "scenario_restauration": "version de scénario restaurée",
    "scenario_suppression": "scénario supprimé",
    "utilisateur_modification": "droits d'un utilisateur modifiés",
    "utilisateur_suppression": "utilisateur retiré de la table",
    "bareme_saisie": "barème saisi ou modifié",
    "bareme_retrait": "valeur de barème saisie retirée",
}


@dataclass(frozen=True)
class EntreeJournal:
    id: int
    horodatage: datetime          # UTC
    utilisateur: str
    nom: str | None
    action: str
    objet: str
    departement: str | None
    details: dict[str, Any]

    @property
    def heure_paris(self) -> datetime:
        return self.horodatage.astimezone(PARIS)


def conservation_jours() -> int:
    raw = os.environ.get(RETENTION_ENV, "").strip()
    if not raw:
        return RETENTION_DEFAUT
    try:
        value = int(raw)
    except ValueError:
        raise ActionRefusee(f"{RETENTION_ENV} = « {raw} » : nombre entier de jours attendu.") from None
    if value < 1:
        raise ActionRefusee(f"{RETENTION_ENV} = {value} : au moins 1 jour attendu.")
    return value


# --- database -------------------------------------------------------------------------------

_BASES: dict[str, Any] = {}
_LOCK = threading.Lock()


def base(url: str | None = None):
    """The scenario database (a migrated ``ScenarioStore``, one per address and process)."""
    from data.scenarios_db import ScenarioStore, default_url, normaliser_url

    key = normaliser_url(url) if url else default_url()
    with _LOCK:
        store = _BASES.get(key)
        if store is None:
            store = _BASES[key] = ScenarioStore(key)
    return store


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _cut(value: Any, limit: int) -> str:
    s = "".join(ch if ch.isprintable() else " " for ch in str(value))
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _details_text(details: dict | None) -> str | None:
    if not details:
        return None
    text = json.dumps(details, ensure_ascii=False, default=str, sort_keys=True)
    return text if len(text) <= DETAILS_MAX else json.dumps({"resume": text[: DETAILS_MAX - 40] + "…"},
                                                           ensure_ascii=False)


def inserer(conn: Connection, utilisateur: Utilisateur, action: str, objet: str, details: dict | None = None,
            *, departement: str | None = None) -> None:
    """Write one entry in an open transaction (the scenario store's), and drop the expired ones."""
    now = _now()
    dep = normaliser_departement(str(departement)) if departement else None
    if departement and dep is None:   # never lose the entry for a malformed code: keep it in the details
        details = {**(details or {}), "departement_donne": str(departement)[:20]}
    conn.execute(journal.insert().values(
        horodatage=now, utilisateur=_cut(utilisateur.identifiant, 200), nom=_cut(utilisateur.nom, 200),
        action=_cut(action, 40), objet=_cut(objet, 400), departement=dep, details=_details_text(details)))
    conn.execute(journal.delete().where(journal.c.horodatage < now - timedelta(days=conservation_jours())))


def enregistrer(utilisateur: Utilisateur, action: str, objet: str, details: dict | None = None, *,
                departement: str | None = None) -> None:
    """Append one entry to the audit trail (own transaction)."""
    enregistrer_dans(None, utilisateur, action, objet, details, departement=departement)


def url_du_magasin(dossier) -> str:
    """The scenario database that goes with a data store folder: ``DATABASE_URL`` if set, else the SQLite
    file in that folder (what ``ScenarioStore()`` opens when ``ATLAS_DATA_DIR`` is that folder).  An
    import into a store other than the default one (tests, benchmarks) is journaled beside it."""
    from pathlib import Path

    from data.scenarios_db import SQLITE_FILE, default_url

    if os.environ.get("DATABASE_URL", "").strip():
        return default_url()
    return sa.URL.create("sqlite", database=str(Path(dossier) / SQLITE_FILE)).render_as_string()


def enregistrer_dans(url: str | None, utilisateur: Utilisateur, action: str, objet: str,
                     details: dict | None = None, *, departement: str | None = None) -> None:
    with base(url).transaction(write=True) as conn:
        inserer(conn, utilisateur, action, objet, details, departement=departement)


def connexion_deja_notee(utilisateur: Utilisateur, jeton: str) -> bool:
    """True when this sign-in (same person, same identity token, by its issue time ``iat``) is already in
    the trail: every page load opens a new Streamlit session, only the first one is a sign-in."""
    motif = f'%"jeton": {json.dumps(str(jeton))}%'
    j = journal.c
    with base().transaction(write=False) as conn:
        found = conn.execute(sa.select(j.id).where(j.action == "connexion", j.utilisateur == utilisateur.identifiant[:200],
                                                   j.details.like(motif)).limit(1)).first()
    return found is not None


def _instant(d: date | datetime | None, fin: bool) -> datetime | None:
    """A date is a whole day in Europe/Paris (the end date included)."""
    if d is None:
        return None
    if isinstance(d, datetime):
        return d if d.tzinfo else d.replace(tzinfo=PARIS)
    jour = d + timedelta(days=1) if fin else d
    return datetime.combine(jour, time(0), tzinfo=PARIS)


def lire(utilisateur: Utilisateur | None, *, debut: date | datetime | None = None,
         fin: date | datetime | None = None, qui: str | None = None, action: str | None = None,
         departement: str | None = None, limite: int = LIMITE_LECTURE) -> list[EntreeJournal]:
    """Entries, newest first, that this administrator may read, filtered by period (dates in Europe/Paris,
    both days included), person (identifier or name, part of it, case ignored), action and département."""
    user = utilisateur_ou_local(utilisateur)
    if not est_administrateur(user):
        raise ActionRefusee("Action refusée : le journal des actions est réservé aux administrateurs "
                            "(administrateur Caf ou national).")
    j = journal.c
    q = sa.select(journal)
    if departement:
        exiger_departement(user, departement, "la lecture du journal")
        q = q.where(j.departement == departement)
    elif not user.tous_departements:
        q = q.where(j.departement.in_(sorted(user.departements)))
    if (t := _instant(debut, False)) is not None:
        q = q.where(j.horodatage >= t)
    if (t := _instant(fin, True)) is not None:
        q = q.where(j.horodatage < t)
    if qui and qui.strip():
        motif = f"%{qui.strip().lower()}%"
        q = q.where(sa.or_(sa.func.lower(j.utilisateur).like(motif), sa.func.lower(j.nom).like(motif)))
    if action:
        q = q.where(j.action == action)
    q = q.order_by(j.horodatage.desc(), j.id.desc()).limit(max(1, int(limite)))
    with base().transaction(write=False) as conn:
        rows = conn.execute(q).all()
    out = []
    for r in rows:
        try:
            details = json.loads(r.details) if r.details else {}
        except ValueError:
            details = {"texte": r.details}
        h = r.horodatage if r.horodatage.tzinfo else r.horodatage.replace(tzinfo=timezone.utc)
        out.append(EntreeJournal(r.id, h, r.utilisateur, r.nom, r.action, r.objet, r.departement,
                                 details if isinstance(details, dict) else {"valeur": details}))
    return out


def en_tableau(entrees: list[EntreeJournal]):
    """The entries as a table for the page and the CSV export (time in Europe/Paris)."""
    import pandas as pd

    def detail(d: dict) -> str:
        return " ; ".join(f"{k} : {v}" for k, v in d.items())

    return pd.DataFrame([{
        "Date et heure (Paris)": e.heure_paris.strftime("%d/%m/%Y %H:%M:%S"),
        "Utilisateur": e.utilisateur, "Nom": e.nom or "", "Action": ACTIONS.get(e.action, e.action),
        "Objet": e.objet, "Département": e.departement or "", "Détails": detail(e.details),
    } for e in entrees], columns=["Date et heure (Paris)", "Utilisateur", "Nom", "Action", "Objet", "Département",
                                  "Détails"])
