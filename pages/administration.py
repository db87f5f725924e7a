"""Administration (administrators only): the users table (roles and départements given in the app) and
the audit trail with its filters and CSV export.  Every check is also made by the layers below
(data/utilisateurs.py, data/audit.py): this page only shows what they return."""
from __future__ import annotations

from datetime import datetime, timedelta

import streamlit as st

from data import audit, utilisateurs
from data.droits import ActionRefusee, est_administrateur, est_national
from data.identite import LIBELLES_ROLES, ROLE_ADMIN_NATIONAL, ROLES
from exports.frames import frame_to_csv
from pages._session import utilisateur_courant
from pages._ui import guard, md
from planning.formats import fr_int

st.title("Administration")
user = utilisateur_courant()
if not est_administrateur(user):
    st.error("Page réservée aux administrateurs (administrateur Caf ou national).")
    st.stop()
national = est_national(user)
qui_suis_je = "Mode local : tous les droits" if user.local else \
    f"Vous êtes {user.libelle_roles} — {user.libelle_departements}"
st.caption(md(f"{qui_suis_je}. " + ("Vous voyez tous les utilisateurs et tout le journal." if national else
                                     "Vous voyez les utilisateurs et le journal des actions de votre Caf.")))
if user.local:
    st.caption("La table des utilisateurs ne sert qu'en mode service (connexion par le fournisseur d'identité).")

onglet_journal, onglet_utilisateurs = st.tabs(["Journal des actions", "Utilisateurs"])

with onglet_journal, guard("lire le journal des actions"):
    today = datetime.now(audit.PARIS).date()
    f1, f2, f3, f4 = st.columns([2, 2, 2, 1])
    periode = f1.date_input("Période", (today - timedelta(days=30), today), format="DD/MM/YYYY", key="adm_periode")
    qui = f2.text_input("Utilisateur (identifiant ou nom, en partie)", key="adm_qui", max_chars=100)
    actions = [""] + list(audit.ACTIONS)
    action = f3.selectbox("Action", actions, format_func=lambda a: audit.ACTIONS.get(a, "toutes"), key="adm_action")
    deps = [""] + (sorted(user.departements) if not national else [])
    if national:
        departement = f4.text_input("Département", key="adm_dep", max_chars=3).strip().upper()
    else:
        departement = f4.selectbox("Département", deps, format_func=lambda d: d or "tous", key="adm_dep")
    debut, fin = (periode if isinstance(periode, (list, tuple)) and len(periode) == 2 else (periode, periode)) \
        if periode else (None, None)
    try:
        entrees = audit.lire(user, debut=debut, fin=fin, qui=qui or None, action=action or None,
                             departement=departement or None)
    except ActionRefusee as exc:
        st.error(md(exc))
        entrees = []
    tableau = audit.en_tableau(entrees)
    plus = " (les plus récentes seulement : resserrez les filtres)" if len(entrees) >= audit.LIMITE_LECTURE else ""
    st.caption(f"{fr_int(len(entrees))} entrée(s){plus}. Heures de Paris ; conservation "
               f"{fr_int(audit.conservation_jours())} jours ({audit.RETENTION_ENV}).")
    st.dataframe(tableau, hide_index=True, width="stretch", key="adm_journal")
    st.download_button("Télécharger le journal filtré (CSV)", frame_to_csv(tableau), file_name="journal_atlas.csv",
                       mime="text/csv", key="adm_journal_csv", disabled=tableau.empty)

with onglet_utilisateurs, guard("gérer les utilisateurs"):
    st.markdown("Une ligne de cette table **remplace** les rôles et départements transmis par le fournisseur "
                "d'identité pour la personne concernée (identifiant de connexion « sub » ou adresse e-mail). "
                "Sans ligne, ce sont ceux du fournisseur qui s'appliquent.")
    if msg := st.session_state.pop("adm_message", None):   # after the rerun that refreshed the table
        st.success(md(msg))
    comptes = utilisateurs.lister(user)
    import pandas as pd

    st.dataframe(pd.DataFrame([{
        "Identifiant": c.identifiant, "Nom": c.nom or "", "Rôles": ", ".join(LIBELLES_ROLES[r] for r in ROLES
                                                                             if r in c.roles),
        "Départements": ", ".join(sorted(c.departements)) or "tous",
        "Modifié par": c.modifie_par or "", "Le": c.modifie_le.astimezone(audit.PARIS).strftime("%d/%m/%Y %H:%M"),
    } for c in comptes], columns=["Identifiant", "Nom", "Rôles", "Départements", "Modifié par", "Le"]),
        hide_index=True, width="stretch", key="adm_comptes")
    with st.form("adm_compte", clear_on_submit=False):
        st.markdown("**Ajouter ou modifier une personne**")
        c1, c2 = st.columns(2)
        ident = c1.text_input("Identifiant de connexion (sub) ou e-mail", max_chars=200)
        nom = c2.text_input("Nom (facultatif)", max_chars=200)
        roles_possibles = [r for r in ROLES if national or r != ROLE_ADMIN_NATIONAL]
        roles = c1.multiselect("Rôles", roles_possibles, format_func=LIBELLES_ROLES.get, default=["conseiller"])
        defaut = ", ".join(sorted(user.departements)) if len(user.departements) == 1 else ""
        deps_txt = c2.text_input("Départements (codes séparés par des virgules)", value=defaut, max_chars=400)
        if st.form_submit_button("Enregistrer", type="primary"):
            try:
                c = utilisateurs.enregistrer_compte(user, ident, nom, roles, deps_txt)
            except ActionRefusee as exc:
                st.error(md(exc))
            else:
                st.session_state["adm_message"] = (f"« {c.identifiant} » enregistré. Les nouveaux droits "
                                                   "s'appliquent à sa prochaine connexion.")
                st.rerun()
    if comptes:
        r1, r2 = st.columns([3, 1])
        cible = r1.selectbox("Retirer une personne de la table (elle retrouve les droits du fournisseur)",
                             [""] + [c.identifiant for c in comptes], format_func=lambda i: i or "—",
                             key="adm_retirer")
        if r2.button("Retirer", key="adm_retirer_go", disabled=not cible):
            try:
                utilisateurs.supprimer_compte(user, cible)
            except ActionRefusee as exc:
                st.error(md(exc))
            else:
                st.session_state["adm_message"] = f"« {cible} » retiré de la table."
                st.rerun()
