"""Barèmes entered by administrators, stored in the scenario database (SQLite by default, PostgreSQL
when ``DATABASE_URL`` is set; tables created by the Alembic migration ``0002_baremes_saisis``).

A *barème saisi* is a set of dated values of the parameters of the Cnaf « barème des aides aux
partenaires » (:data:`planning.bareme_saisie.THEMES_SAISIE`), for one scope: ``national`` or a
département code (a local barème, which outranks the national one for that département).  The
values are merged into the shipped timelines by :class:`planning.parametres.Baremes` (``saisies=``).

Scope is enforced here, below the pages (:func:`verifier_droit`): the national administrator enters
the national barème and any département's; a Caf administrator only the barème of its département(s);
a lecteur or a conseiller nothing; the local-mode user everything.  A refused call raises
:class:`SaisieBaremeInterdite` (French message) and writes nothing.

Each call that writes runs in one transaction: a refused value (validation) or a failure leaves the
stored barème as it was.  Every change is appended to ``baremes_saisis_historique`` (author, time,
source, origin, old and new value): the barème's own audit trail.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Iterable

import sqlalchemy as sa

from data.identite import ROLE_ADMIN_CAF, ROLE_ADMIN_NATIONAL, Utilisateur, normaliser_departement
from data.scenarios_db import NAME_MAX, ScenarioStore
from data import audit
from planning.bareme_saisie import BaremeInvalide, LigneSaisie, valider_annee, valider_lignes, valider_source
from planning.parametres import PORTEE_NATIONALE, Baremes, ValeurSaisie

metadata = sa.MetaData()
baremes_saisis = sa.Table(
    "baremes_saisis", metadata,
    sa.Column("portee", sa.String(16), primary_key=True),
    sa.Column("parametre", sa.String(120), primary_key=True),
    sa.Column("depuis", sa.Date, primary_key=True),
    sa.Column("valeur", sa.Text, nullable=False),
    sa.Column("source", sa.String(500), nullable=False),
    sa.Column("auteur", sa.String(120)),
    sa.Column("saisi_le", sa.DateTime(timezone=True), nullable=False),
)
historique = sa.Table(
    "baremes_saisis_historique", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("portee", sa.String(16), nullable=False),
    sa.Column("parametre", sa.String(120), nullable=False),
    sa.Column("depuis", sa.Date, nullable=False),
    sa.Column("action", sa.String(20), nullable=False),
    sa.Column("ancienne_valeur", sa.Text),
    sa.Column("nouvelle_valeur", sa.Text),
    sa.Column("source", sa.String(500)),
    sa.Column("origine", sa.String(200)),
    sa.Column("auteur", sa.String(120)),
    sa.Column("saisi_le", sa.DateTime(timezone=True), nullable=False),
)


class SaisieBaremeInterdite(PermissionError):
    """The user may not change this barème (French message for the UI and the CLI)."""


@dataclass(frozen=True)
class ChangementBareme:
    """One line of the barème's history."""
    id: int
    portee: str
    parametre: str
    depuis: dt.date
    action: str            # saisie, modification, retrait
    ancienne_valeur: Any
    nouvelle_valeur: Any
    source: str | None
    origine: str | None
    auteur: str | None
    saisi_le: dt.datetime


def valider_portee(portee: Any) -> str:
    """« national » or a département code (« 89 », « 2A », « 971 »), else BaremeInvalide."""
    if isinstance(portee, str) and portee.strip().lower() in ("national", "nationale", "france"):
        return PORTEE_NATIONALE
    dep = normaliser_departement(str(portee)) if portee is not None else None
    if dep is None:
        raise BaremeInvalide([f"portée « {str(portee)[:40]} » inconnue : « national » ou un code de département "
                              "(89, 2A, 971…) attendu"])
    return dep


def libelle_portee(portee: str) -> str:
    return "le barème national" if portee == PORTEE_NATIONALE else f"le barème local du département {portee}"


def _court(portee: str) -> str:
    return "national" if portee == PORTEE_NATIONALE else f"local {portee}"


def verifier_droit(user: Utilisateur, portee: str) -> None:
    """Raise :class:`SaisieBaremeInterdite` unless ``user`` may change the barème of ``portee``."""
    if user.local or user.a_role(ROLE_ADMIN_NATIONAL):
        return
    if not user.a_role(ROLE_ADMIN_CAF):
        raise SaisieBaremeInterdite(
            f"{user.nom} ({user.libelle_roles or 'sans rôle'}) ne peut pas modifier les barèmes : réservé aux "
            "administrateurs (Caf pour le barème local, national pour le barème national). Rien n'a été enregistré.")
    if portee == PORTEE_NATIONALE:
        raise SaisieBaremeInterdite(
            f"{user.nom} ne peut pas modifier le barème national : réservé à l'administrateur national. "
            "Rien n'a été enregistré.")
    if not user.couvre(portee):
        raise SaisieBaremeInterdite(
            f"{user.nom} administre le barème local de {user.libelle_departements}, pas celui du département "
            f"{portee}. Rien n'a été enregistré.")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _aware(d: dt.datetime) -> dt.datetime:
    return d if d.tzinfo else d.replace(tzinfo=dt.timezone.utc)  # SQLite drops the offset


def _auteur(user: Utilisateur) -> str | None:
    return " ".join(user.nom.split())[:NAME_MAX] or None if user.nom else None


def _dumps(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False, sort_keys=False)


def _loads_valeur(text: str | None, parametre: str, bar: Baremes) -> Any:
    """JSON turns table keys into strings: give back the keys' type of the shipped parameter."""
    if text is None:
        return None
    v = json.loads(text)
    if isinstance(v, dict) and parametre in bar.names():
        keys = {str(k): k for k in bar.definition(parametre).valeurs[-1][1]}
        v = {keys.get(k, k): x for k, x in v.items()}
    return v


def departement_des_communes(codes: Iterable[Any]) -> str | None:
    """The département of a list of INSEE codes when they are all in one (« 89 », « 2A », « 971 »), else None."""
    deps = {c[:3] if c.startswith("97") else c[:2] for c in map(str, codes)}
    return deps.pop() if len(deps) == 1 else None


def baremes_du_scenario(data: Any, store: "BaremeStore | None" = None) -> tuple[Baremes, str | None]:
    """The barèmes in force for a scenario (national barème saisi, and the local one when all its communes
    are in one département) and a French notice when the database is unavailable (shipped values then)."""
    from data.scenarios_db import ScenarioErreur

    terr = data.get("territoire") if isinstance(data, dict) else None
    codes = terr.get("communes") if isinstance(terr, dict) and isinstance(terr.get("communes"), list) else []
    try:
        return (store or BaremeStore()).baremes(departement_des_communes(codes)), None
    except ScenarioErreur as exc:
        return Baremes(), f"Barèmes saisis indisponibles ({exc}) : calcul avec le barème livré."


class BaremeStore:
    """The entered barèmes; shares the scenario database (and its migrations) of ``scenarios``."""

    def __init__(self, scenarios: ScenarioStore | None = None):
        self.db = scenarios if scenarios is not None else ScenarioStore()
        self._bar = Baremes()  # shipped definitions, for validation and for the keys of tables

    # -- reading

    def revision(self) -> int:
        """Number of the last change (0: nothing entered yet): a cheap key for a cache."""
        with self.db.transaction() as conn:
            return int(conn.execute(sa.select(sa.func.max(historique.c.id))).scalar() or 0)

    def saisies(self, departement: str | None = None, toutes: bool = False) -> list[ValeurSaisie]:
        """The national values and those of ``departement`` (or every scope with ``toutes``), by date."""
        q = sa.select(baremes_saisis).order_by(baremes_saisis.c.depuis, baremes_saisis.c.parametre)
        if not toutes:
            q = q.where(baremes_saisis.c.portee.in_([PORTEE_NATIONALE] + ([departement] if departement else [])))
        with self.db.transaction() as conn:
            rows = conn.execute(q).all()
        return [ValeurSaisie(r.parametre, r.depuis, _loads_valeur(r.valeur, r.parametre, self._bar), r.source,
                             r.portee, r.auteur, _aware(r.saisi_le)) for r in rows]

    def baremes(self, departement: str | None = None, overrides: dict | None = None) -> Baremes:
        """The barèmes in force for a territory of ``departement`` (None: national only)."""
        return Baremes(overrides, saisies=self.saisies(departement), departement=departement)

    def historique(self, portee: str | None = None, parametre: str | None = None,
                   limite: int = 1000) -> list[ChangementBareme]:
        """Latest changes first."""
        q = sa.select(historique).order_by(historique.c.id.desc()).limit(limite)
        if portee:
            q = q.where(historique.c.portee == portee)
        if parametre:
            q = q.where(historique.c.parametre == parametre)
        with self.db.transaction() as conn:
            rows = conn.execute(q).all()
        return [ChangementBareme(r.id, r.portee, r.parametre, r.depuis, r.action,
                                 _loads_valeur(r.ancienne_valeur, r.parametre, self._bar),
                                 _loads_valeur(r.nouvelle_valeur, r.parametre, self._bar),
                                 r.source, r.origine, r.auteur, _aware(r.saisi_le)) for r in rows]

    # -- writing

    def enregistrer(self, user: Utilisateur, portee: str, annee: int, lignes: Iterable[LigneSaisie],
                    source: str, origine: str = "page Barèmes") -> int:
        """Validate and store the values of one year for one scope; returns the number of values that
        changed (an identical value with the same source is not rewritten).  All or nothing."""
        portee = valider_portee(portee)
        verifier_droit(user, portee)
        annee = valider_annee(annee)
        source = valider_source(source)
        valeurs = valider_lignes(annee, list(lignes), self._bar)
        auteur = _auteur(user)
        origine = " ".join(str(origine).split())[:200]
        now = _now()
        changes = 0
        faits: list[dict] = []
        with self.db.transaction(write=True) as conn:
            for nom, depuis, valeur in valeurs:
                key = (baremes_saisis.c.portee == portee, baremes_saisis.c.parametre == nom,
                       baremes_saisis.c.depuis == depuis)
                old = conn.execute(sa.select(baremes_saisis.c.valeur, baremes_saisis.c.source).where(*key)).first()
                text = _dumps(valeur)
                if old is not None and old.valeur == text and old.source == source:
                    continue
                if old is None:
                    conn.execute(baremes_saisis.insert().values(portee=portee, parametre=nom, depuis=depuis,
                                                                valeur=text, source=source, auteur=auteur,
                                                                saisi_le=now))
                else:
                    conn.execute(baremes_saisis.update().where(*key).values(valeur=text, source=source,
                                                                            auteur=auteur, saisi_le=now))
                conn.execute(historique.insert().values(
                    portee=portee, parametre=nom, depuis=depuis, action="saisie" if old is None else "modification",
                    ancienne_valeur=None if old is None else old.valeur, nouvelle_valeur=text, source=source,
                    origine=origine, auteur=auteur, saisi_le=now))
                changes += 1
                faits.append({"parametre": nom, "depuis": depuis.isoformat(),
                              "avant": None if old is None else old.valeur, "apres": text})
            if faits:   # the audit trail, in the same transaction: no value without its entry
                audit.inserer(conn, user, "bareme_saisie", f"barème {_court(portee)} {annee}",
                              {"source": source, "origine": origine, "valeurs": faits[:50], "nombre": len(faits)},
                              departement=None if portee == PORTEE_NATIONALE else portee)
        return changes

    def retirer(self, user: Utilisateur, portee: str, parametre: str, depuis: dt.date | str,
                origine: str = "page Barèmes") -> None:
        """Remove one entered value (the shipped one applies again at its dates); kept in the history."""
        portee = valider_portee(portee)
        verifier_droit(user, portee)
        depuis = dt.date.fromisoformat(str(depuis)[:10])
        auteur = _auteur(user)
        key = (baremes_saisis.c.portee == portee, baremes_saisis.c.parametre == parametre,
               baremes_saisis.c.depuis == depuis)
        with self.db.transaction(write=True) as conn:
            old = conn.execute(sa.select(baremes_saisis.c.valeur, baremes_saisis.c.source).where(*key)).first()
            if old is None:
                raise BaremeInvalide([f"{parametre} : aucune valeur saisie au {depuis:%d/%m/%Y} pour "
                                      f"{libelle_portee(portee)}"])
            conn.execute(baremes_saisis.delete().where(*key))
            conn.execute(historique.insert().values(
                portee=portee, parametre=parametre, depuis=depuis, action="retrait", ancienne_valeur=old.valeur,
                nouvelle_valeur=None, source=old.source, origine=origine, auteur=auteur, saisi_le=_now()))
            audit.inserer(conn, user, "bareme_retrait", f"barème {_court(portee)} : {parametre}",
                          {"depuis": depuis.isoformat(), "avant": old.valeur, "origine": origine},
                          departement=None if portee == PORTEE_NATIONALE else portee)
