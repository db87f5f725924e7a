"""The users table an administrator edits in the Administration page: roles and départements given in
the app rather than by the identity provider.

Rule (docs/DEPLOIEMENT.md « Table des utilisateurs ») — **the table wins**: when a row matches the
signed-in person (its ``identifiant`` equals the provider's ``sub``, or the person's e-mail, case
ignored), the row's roles and départements replace those of the claims; without a row, the claims
apply.  So an administrator can give rights to someone the provider knows nothing about, restrict
someone (a row with the role « lecteur »), or move someone to another Caf, without touching the SSO.

Who edits what: a national administrator every row; an administrateur Caf the rows whose
départements are all among its own, with roles up to « administrateur Caf » (never national) and
départements among its own.  Each change is written to the audit trail.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone

import sqlalchemy as sa

from data import audit
from data.droits import ActionRefusee, est_administrateur, est_national, utilisateur_ou_local
from data.identite import (LIBELLES_ROLES, ROLE_ADMIN_NATIONAL, ROLES, Utilisateur, normaliser_departement,
                           roles_depuis_claim)

IDENTIFIANT_MAX = 200

comptes = sa.Table(
    "utilisateurs", sa.MetaData(),
    sa.Column("identifiant", sa.String(IDENTIFIANT_MAX), primary_key=True),
    sa.Column("nom", sa.String(200)),
    sa.Column("roles", sa.String(200), nullable=False),
    sa.Column("departements", sa.String(400), nullable=False),
    sa.Column("modifie_par", sa.String(200)),
    sa.Column("modifie_le", sa.DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class Compte:
    identifiant: str
    nom: str | None
    roles: frozenset[str]
    departements: frozenset[str]
    modifie_par: str | None
    modifie_le: datetime


def _compte(row) -> Compte:
    return Compte(row.identifiant, row.nom, frozenset(r for r in row.roles.split(",") if r),
                  frozenset(d for d in row.departements.split(",") if d), row.modifie_par,
                  row.modifie_le if row.modifie_le.tzinfo else row.modifie_le.replace(tzinfo=timezone.utc))


def _admin(utilisateur: Utilisateur | None) -> Utilisateur:
    user = utilisateur_ou_local(utilisateur)
    if not est_administrateur(user):
        raise ActionRefusee("Action refusée : la table des utilisateurs est réservée aux administrateurs "
                            "(administrateur Caf ou national).")
    return user


def _dans_perimetre(admin: Utilisateur, compte: Compte) -> bool:
    return admin.tous_departements or (bool(compte.departements) and compte.departements <= admin.departements)


def lister(utilisateur: Utilisateur | None) -> list[Compte]:
    """Rows this administrator may see and edit (national: all; Caf: those of its départements)."""
    admin = _admin(utilisateur)
    with audit.base().transaction() as conn:
        rows = conn.execute(sa.select(comptes).order_by(comptes.c.identifiant)).all()
    return [c for c in map(_compte, rows) if _dans_perimetre(admin, c)]


def _clean_identifiant(identifiant: str) -> str:
    ident = " ".join(str(identifiant or "").split())
    if not ident:
        raise ActionRefusee("L'identifiant est vide : saisissez l'identifiant de connexion (sub) ou l'e-mail.")
    if len(ident) > IDENTIFIANT_MAX:
        raise ActionRefusee(f"L'identifiant est trop long ({len(ident)} caractères, {IDENTIFIANT_MAX} au plus).")
    return ident.lower() if "@" in ident else ident


def enregistrer_compte(utilisateur: Utilisateur | None, identifiant: str, nom: str | None,
                       roles: list[str] | str, departements: list[str] | str) -> Compte:
    """Create or replace one row (checked against the administrator's scope)."""
    admin = _admin(utilisateur)
    ident = _clean_identifiant(identifiant)
    les_roles = roles_depuis_claim(roles)
    if not les_roles:
        raise ActionRefusee(f"Aucun rôle reconnu : choisissez parmi {', '.join(LIBELLES_ROLES.values())}.")
    raw = departements.replace(";", ",").split(",") if isinstance(departements, str) else list(departements)
    deps, mauvais = set(), []
    for d in (str(x).strip() for x in raw):
        if d:
            n = normaliser_departement(d)
            deps.add(n) if n else mauvais.append(d)
    if mauvais:
        raise ActionRefusee(f"Département(s) inconnu(s) : {', '.join(mauvais)} (codes attendus : 89, 2A, 971…).")
    if ROLE_ADMIN_NATIONAL in les_roles and not est_national(admin):
        raise ActionRefusee("Action refusée : seul un administrateur national peut donner le rôle "
                            "« administrateur national ».")
    if not deps and ROLE_ADMIN_NATIONAL not in les_roles:
        raise ActionRefusee("Indiquez au moins un département (le périmètre de la Caf de cette personne).")
    if not admin.tous_departements and not deps <= admin.departements:
        raise ActionRefusee(f"Action refusée : département(s) {', '.join(sorted(deps - admin.departements))} hors "
                            f"de votre périmètre ({admin.libelle_departements}).")
    nom = " ".join(str(nom or "").split())[:200] or None
    now = datetime.now(timezone.utc)
    values = dict(nom=nom, roles=",".join(r for r in ROLES if r in les_roles), departements=",".join(sorted(deps)),
                  modifie_par=admin.identifiant[:200], modifie_le=now)
    with audit.base().transaction(write=True) as conn:
        old = conn.execute(sa.select(comptes).where(comptes.c.identifiant == ident)).first()
        if old is not None:
            if not _dans_perimetre(admin, _compte(old)):
                raise ActionRefusee(f"Action refusée : « {ident} » relève d'un autre périmètre que le vôtre.")
            conn.execute(comptes.update().where(comptes.c.identifiant == ident).values(**values))
        else:
            conn.execute(comptes.insert().values(identifiant=ident, **values))
        avant = ({"avant_roles": old.roles, "avant_departements": old.departements} if old is not None else {})
        audit.inserer(conn, admin, "utilisateur_modification", ident,
                      {"roles": values["roles"], "departements": values["departements"], **avant},
                      departement=sorted(deps)[0] if len(deps) == 1 else None)
        row = conn.execute(sa.select(comptes).where(comptes.c.identifiant == ident)).first()
    return _compte(row)


def supprimer_compte(utilisateur: Utilisateur | None, identifiant: str) -> None:
    """Remove a row: the person's rights come from the provider's claims again."""
    admin = _admin(utilisateur)
    ident = _clean_identifiant(identifiant)
    with audit.base().transaction(write=True) as conn:
        old = conn.execute(sa.select(comptes).where(comptes.c.identifiant == ident)).first()
        if old is None:
            raise ActionRefusee(f"« {ident} » n'est pas dans la table des utilisateurs.")
        compte = _compte(old)
        if not _dans_perimetre(admin, compte):
            raise ActionRefusee(f"Action refusée : « {ident} » relève d'un autre périmètre que le vôtre.")
        conn.execute(comptes.delete().where(comptes.c.identifiant == ident))
        audit.inserer(conn, admin, "utilisateur_suppression", ident,
                      {"roles": old.roles, "departements": old.departements},
                      departement=sorted(compte.departements)[0] if len(compte.departements) == 1 else None)


def appliquer(utilisateur: Utilisateur) -> Utilisateur:
    """The signed-in user with the table's row applied (the table wins), or unchanged without a row."""
    if utilisateur.local:
        return utilisateur
    keys = [utilisateur.identifiant] + ([utilisateur.email.lower()] if utilisateur.email else [])
    with audit.base().transaction() as conn:
        rows = {r.identifiant: r for r in conn.execute(sa.select(comptes).where(comptes.c.identifiant.in_(keys)))}
    row = next((rows[k] for k in keys if k in rows), None)
    if row is None:
        return utilisateur
    c = _compte(row)
    return replace(utilisateur, roles=c.roles, departements=c.departements)
