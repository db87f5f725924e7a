"""Who may do what: the one place that turns a user (``data.identite.Utilisateur``) and an action into a
refusal with a French message.  The layers that change data (scenario store, importers, users table,
audit reader) call these checks themselves, so a page that forgot to hide a button still cannot act out
of scope.

Rules (docs/DEPLOIEMENT.md « Rôles et périmètre »), roles cumulative:

* ``lecteur``: maps and documents; reads the scenarios of its départements;
* ``conseiller``: creates, changes and deletes the scenarios of its départements;
* ``administrateur_caf``: plus the structure list of its départements, the users of its Caf and its
  Caf's audit entries;
* ``administrateur_national``: every département, the référentiel (every other import), every user
  and the whole audit trail.

A layer called without a user acts for the implicit local user (every right) in local mode, and refuses
in service mode: there, a page must always say who is acting.
"""
from __future__ import annotations

import os

from data.identite import (LIBELLES_ROLES, ROLE_ADMIN_CAF, ROLE_ADMIN_NATIONAL, Utilisateur,
                           utilisateur_local)


class ActionRefusee(Exception):
    """The user may not do this (message in French, shown as is)."""


def utilisateur_ou_local(utilisateur: Utilisateur | None) -> Utilisateur:
    """The acting user: the one given, else the local user in local mode; refused in service mode."""
    if utilisateur is not None:
        return utilisateur
    from data.service import MODE_SERVICE, mode_courant

    try:
        mode = mode_courant(os.environ)
    except Exception:  # noqa: BLE001 - an unknown mode is refused at start-up; never grant rights on it
        mode = MODE_SERVICE
    if mode == MODE_SERVICE:
        raise ActionRefusee("Action refusée : utilisateur non identifié (mode service). Reconnectez-vous.")
    return utilisateur_local()


def exiger_role(utilisateur: Utilisateur, role: str, action: str) -> None:
    """Refuse ``action`` (« enregistrer un scénario ») unless the user has ``role`` or a higher one."""
    if not utilisateur.peut(role):
        raise ActionRefusee(
            f"Action refusée : {action} demande le rôle « {LIBELLES_ROLES[role]} » ; vous êtes "
            f"« {utilisateur.libelle_roles or LIBELLES_ROLES['lecteur']} »."
        )


def exiger_departement(utilisateur: Utilisateur, departement: str | None, action: str) -> None:
    """Refuse ``action`` on a département the user does not cover (None: France, region, or a scenario
    whose département could not be determined, national administrators only)."""
    if utilisateur.couvre(departement):
        return
    ou = (f"le département {departement}" if departement else
          "un territoire sans département unique (France, région ou scénario ancien sans département)")
    raise ActionRefusee(
        f"Action refusée : {action} concerne {ou}, hors de votre périmètre ({utilisateur.libelle_departements})."
    )


def est_administrateur(utilisateur: Utilisateur) -> bool:
    return utilisateur.peut(ROLE_ADMIN_CAF)


def est_national(utilisateur: Utilisateur) -> bool:
    return utilisateur.peut(ROLE_ADMIN_NATIONAL)
