"""A person's session: the login gate of ``app.py``, the account box, and the resumption after a
reconnection.

One place turns Streamlit's ``st.user`` (service mode: claims of the Caf's OpenID Connect provider)
or the implicit local user (local mode) into a ``data.identite.Utilisateur``; pages call
:func:`utilisateur_courant`.  Not a page itself (not listed in ``st.navigation``).
"""
from __future__ import annotations

import os

import streamlit as st

from data import audit
from data.identite import IdentiteInvalide, Utilisateur, utilisateur_depuis_claims, utilisateur_local
from data.utilisateurs import appliquer as appliquer_table
from data.service import MODE_SERVICE, ConfigurationInvalide, config_oidc, mode_courant
from pages._texte import md

SESSION_KEY = "_atlas_utilisateur"


def mode() -> str:
    return mode_courant(os.environ)


def _secrets_dict() -> dict:
    try:
        return st.secrets.to_dict()
    except Exception:  # noqa: BLE001 - no secrets.toml: the environment may still configure the provider
        return {}


def _claims() -> dict:
    try:
        return dict(st.user.to_dict())
    except Exception:  # noqa: BLE001
        return {}


def utilisateur_courant() -> Utilisateur:
    """The user of this session (local mode: the implicit user with every right).

    In service mode, only valid after :func:`porte` let the session through (app.py calls it first).
    """
    if mode() != MODE_SERVICE:
        return utilisateur_local()
    user = st.session_state.get(SESSION_KEY)
    if isinstance(user, Utilisateur):
        return user
    cfg = config_oidc(_secrets_dict(), os.environ)
    claims = _claims()
    user = utilisateur_depuis_claims(claims, cfg.claim_roles, cfg.claim_departements)
    user = appliquer_table(user)            # the users table edited in Administration wins over the claims
    deps = sorted(user.departements)
    jeton = str(claims.get("iat") or "")    # one sign-in = one identity token; each page load is a new session
    if not jeton or not audit.connexion_deja_notee(user, jeton):
        audit.enregistrer(user, "connexion", "session", {"roles": ",".join(sorted(user.roles)), "jeton": jeton},
                          departement=deps[0] if len(deps) == 1 else None)
    st.session_state[SESSION_KEY] = user
    return user


def _ecran_connexion() -> None:
    st.title("Atlas Petite Enfance")
    st.markdown("Tableau de bord des conseillers territoriaux de la Caf. **Connectez-vous** avec le compte de "
                "votre Caf pour continuer.")
    if st.button("Se connecter", type="primary", key="atlas_login", icon=":material/login:"):
        st.login()
    st.caption("La connexion passe par le fournisseur d'identité de la Caf (OpenID Connect) ; l'application ne "
               "voit jamais votre mot de passe.")


def porte() -> Utilisateur:
    """Login gate, first thing app.py runs: in service mode, a visitor who is not signed in sees the
    sign-in screen only (the script stops there); local mode lets everyone through as the local user."""
    try:
        m = mode()
    except ConfigurationInvalide as exc:
        st.error(md(exc))
        st.stop()
    if m != MODE_SERVICE:
        return utilisateur_local()
    secrets = _secrets_dict()
    problems = config_oidc(secrets, os.environ).problemes()
    if not problems and not secrets.get("auth"):
        problems = ["la configuration ne vient que des variables ATLAS_OIDC_*, que seul le lanceur lit : démarrez "
                    "par scripts/serve.py --mode service, ou écrivez-la dans .streamlit/secrets.toml"]
    if problems:  # plain `streamlit run` in service mode; scripts/serve.py refuses to start instead
        st.error("Mode service : le fournisseur d'identité n'est pas configuré, connexion impossible. Il manque :\n\n"
                 + "\n".join(f"- {md(p)}" for p in problems))
        st.stop()
    if not st.user.get("is_logged_in"):
        st.session_state.pop(SESSION_KEY, None)
        from pages._ui import leave_legacy_multipage

        leave_legacy_multipage()
        _ecran_connexion()
        st.stop()
    try:
        return utilisateur_courant()
    except IdentiteInvalide as exc:
        st.error(md(exc))
        if st.button("Se déconnecter", key="atlas_logout_invalid"):
            st.logout()
        st.stop()
    except Exception as exc:  # noqa: BLE001 - users table or audit trail unreachable: no rights can be given
        st.error("Connexion impossible pour l'instant : la base des scénarios, qui porte la table des utilisateurs "
                 f"et le journal des actions, ne répond pas ({md(exc) if str(exc).isprintable() else 'erreur'}). "
                 "Réessayez dans un instant ; si cela persiste, prévenez l'administrateur.")
        st.stop()


def encart_utilisateur(user: Utilisateur) -> None:
    """Who is signed in (sidebar): name, roles, départements and the sign-out button; in local mode a
    discreet mention only."""
    sb = st.sidebar
    if user.local:
        sb.caption(":material/computer: mode local, sans authentification")
        return
    sb.markdown(f":material/account_circle: **{md(user.nom)}**")
    sb.caption(f"{md(user.libelle_roles)} — {md(user.libelle_departements)}")
    if sb.button("Se déconnecter", key="atlas_logout", icon=":material/logout:"):
        st.session_state.pop(SESSION_KEY, None)
        st.logout()


@st.fragment(run_every="12h")
def _veille() -> None:
    """Draws nothing; see :func:`reprendre_apres_reconnexion`."""


def reprendre_apres_reconnexion() -> None:
    """Make the browser re-run the page as soon as its connection comes back.

    Streamlit keeps a session's state in the server process that runs it.  When that process stops
    (an instance killed or restarted behind nginx), the browser reconnects, through nginx, to another
    instance that knows nothing of the session.  Streamlit's front end asks for a run on reconnection
    only when a script was running or an automatic rerun is registered; otherwise it keeps showing the
    old page, and the person's next action starts a fresh session that drops that action (the
    simulator re-fills its editors).  This empty fragment registers an automatic rerun (every 12 h,
    a no-op), so the page is re-run at once: fresh session state, territory restored from the address,
    still signed in (the identity cookie is signed with the secret shared by every instance).
    """
    with st.sidebar:
        _veille()
