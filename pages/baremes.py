"""Barèmes: every dated parameter with its values by date, unit, source and confidence; filter « à vérifier »,
search, history of one parameter (``?parametre=bonus.mixite_seuils_participation``) and what changed
between two dates; the barème of a year entered once by an administrator (national, or local to a
département: ``?portee=89``), with its history."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from data.baremes_db import SaisieBaremeInterdite, libelle_portee
from data.identite import ROLE_ADMIN_CAF, ROLE_ADMIN_NATIONAL, Utilisateur, normaliser_departement
from pages._baremes_saisis import bareme_store, baremes_en_vigueur, libelle_version
from pages._session import utilisateur_courant
from pages._texte import md, md_lignes
from pages._ui import guard, leave_legacy_multipage
from planning.bareme_saisie import BaremeInvalide, LigneSaisie, lignes_annee, statut
from planning.formats import fr_frame, fr_parameter_value
from planning.parametres import LIBELLES_CONFIANCE, NATURE_SAISIE, PORTEE_NATIONALE, Baremes

THEMES = {
    "psu": "PSU (prestation de service unique)",
    "participations": "Participations familiales",
    "bonus": "Bonus",
    "ctg": "CTG et contrôles du simulateur",
    "objectifs_cog": "Objectifs COG 2023-2027",
    "couverture": "Couverture",
    "saisie": "Valeurs de saisie proposées",
}

# the 101 départements, for the scope picker
DEPARTEMENTS = [f"{i:02d}" for i in range(1, 20)] + ["2A", "2B"] + [f"{i:02d}" for i in range(21, 96)] + \
    ["971", "972", "973", "974", "976"]

leave_legacy_multipage()
st.title("Barèmes et paramètres datés")
st.caption("Chaque montant du simulateur vient d'une de ces valeurs datées. Confiance : **C** confirmé par un texte "
           "institutionnel ou plusieurs sources concordantes ; **P** partiel (une source secondaire, ou année "
           "déduite) ; **?** valeur par défaut **à vérifier**, jamais présentée comme officielle. Une date d'effet "
           "peut elle-même être à vérifier (confiance de la date). **Barème saisi** : valeur du barème de l'année "
           "saisie par un administrateur, avec sa source ; elle remplace le barème livré à ses dates seulement.")


@st.cache_data(show_spinner=False, max_entries=64)
def catalogue(jour: dt.date, departement: str | None, version: str) -> pd.DataFrame:  # noqa: ARG001 - cache key
    """One row per parameter, with the value in force on ``jour``."""
    b = baremes_en_vigueur(departement)[0]
    rows = []
    for name in b.names():
        d = b.definition(name)
        pv = b.get_or_none(name, jour)
        hist = d.historique()
        rows.append({
            "Code": name,
            "Thème": THEMES.get(name.split(".")[0], name.split(".")[0]),
            "Paramètre": d.description,
            "Valeur au jour choisi": fr_parameter_value(pv.valeur, d.unite, d.choix) if pv else
            f"pas de valeur ({d.avant or 'avant la première date'})",
            "Unité": d.unite,
            "En vigueur depuis": pv.depuis.strftime("%d/%m/%Y") if pv and pv.depuis else "—",
            "Confiance": (pv.confiance + (f" (date : {pv.confiance_date})" if pv.confiance_date
                                          and pv.confiance_date != pv.confiance else "")) if pv else "—",
            "Statut": (NATURE_SAISIE if pv.nature == NATURE_SAISIE else "à vérifier" if pv.a_verifier
                       else LIBELLES_CONFIANCE[pv.confiance]) if pv else "—",
            "Source": pv.source if pv else "",
            "Valeurs datées": len(hist),
            "À vérifier (une valeur au moins)": any(h.a_verifier for h in hist),
        })
    return pd.DataFrame(rows)


def historique(b: Baremes, name: str) -> pd.DataFrame:
    d = b.definition(name)
    rows = []
    for p in d.historique():
        rows.append({
            "En vigueur depuis": p.depuis.strftime("%d/%m/%Y") if p.depuis else "",
            "Valeur": fr_parameter_value(p.valeur, d.unite, d.choix),
            "Confiance de la valeur": f"{p.confiance} ({LIBELLES_CONFIANCE[p.confiance]})",
            "Confiance de la date": (f"{p.confiance_date} ({LIBELLES_CONFIANCE[p.confiance_date]})"
                                     if p.confiance_date else "comme la valeur"),
            "Statut": statut(p),
            "Source": p.source,
            "Lien": p.url or None,
            "Note": p.note,
        })
    return pd.DataFrame(rows)


def portees_permises(user: Utilisateur) -> list[str]:
    """The barèmes this user may change (the store checks again: this only shapes the screen)."""
    if user.local or user.a_role(ROLE_ADMIN_NATIONAL):
        return [PORTEE_NATIONALE] + DEPARTEMENTS
    if user.a_role(ROLE_ADMIN_CAF):
        return sorted(user.departements)
    return []


def libelle_choix_portee(p: str) -> str:
    return "Barème national" if p == PORTEE_NATIONALE else f"Barème local du département {p}"


def saisie_annee(bar: Baremes, portee: str, user: Utilisateur) -> None:
    """One screen per year: the grid prefilled with the values in force, French decimals accepted."""
    st.subheader("Saisir le barème d'une année")
    st.caption("Barème des aides aux partenaires de la Cnaf : chaque valeur saisie remplace le barème livré "
               "à partir de sa date d'effet, jusqu'à la valeur datée suivante ; un barème local l'emporte sur le "
               "barème national pour son département. Nombres avec virgule (0,66 ou 66 %), listes « a ; b ; c », "
               "tables « clé : valeur ; … ». Une ligne modifiée est enregistrée ; cochez « Confirmer » pour enregistrer "
               "une valeur inchangée que le texte de l'année confirme. Fichier : "
               "`python -m planning baremes export --annee AAAA --format xlsx`, puis `… baremes import`.")
    c1, c2 = st.columns([1, 4])
    annee = int(c1.number_input("Année", 2000, 2040, dt.date.today().year, key="bar_saisie_annee"))
    source = c2.text_input("Source (texte officiel : lettre circulaire n°, délibération du CA de la Cnaf, date)",
                           key="bar_saisie_source", max_chars=500)
    tout = st.checkbox("Le texte de l'année fixe toutes ces valeurs (tout confirmer)", key="bar_saisie_tout")
    rows = lignes_annee(bar, annee)
    grille = pd.DataFrame([{
        "Confirmer": tout, "Code": r["parametre"], "En vigueur depuis": r["depuis"].strftime("%d/%m/%Y"),
        "Valeur": r["texte"], "Unité": r["unite"],
        "Valeur actuelle": fr_parameter_value(r["valeur"], r["unite"], r["choix"]), "Statut actuel": statut(r),
        "Paramètre": r["description"], "Source actuelle": r["source"]} for r in rows])
    edited = st.data_editor(
        grille, hide_index=True, width="stretch", num_rows="fixed",
        key=f"bar_saisie_{annee}_{portee}_{bar.version}_{int(tout)}",
        disabled=["Code", "Paramètre", "Unité", "Valeur actuelle", "Statut actuel", "Source actuelle"],
        column_config={"Confirmer": st.column_config.CheckboxColumn("Confirmer", width="small"),
                       "Paramètre": st.column_config.TextColumn(width="large"),
                       "En vigueur depuis": st.column_config.TextColumn("En vigueur depuis (JJ/MM/AAAA)",
                                                                        max_chars=10),
                       "Valeur": st.column_config.TextColumn("Valeur saisie", max_chars=2000, width="medium"),
                       "Source actuelle": st.column_config.TextColumn(width="large")})
    if st.button(f"Enregistrer le barème {annee}", type="primary", key="bar_saisie_ok",
                 help=f"Enregistre les lignes modifiées ou confirmées dans {libelle_portee(portee)}."):
        lignes = [LigneSaisie(r["Code"], r["En vigueur depuis"], r["Valeur"], f"ligne {i + 1} du tableau")
                  for i, (r, r0) in enumerate(zip(edited.to_dict("records"), grille.to_dict("records")))
                  if r["Confirmer"] or r["Valeur"] != r0["Valeur"] or r["En vigueur depuis"] != r0["En vigueur depuis"]]
        try:
            n = bareme_store().enregistrer(user, portee, annee, lignes, source, origine="page Barèmes")
        except BaremeInvalide as exc:
            st.error("Barème refusé, rien n'a été enregistré :\n\n" + md_lignes(exc.erreurs))
        except SaisieBaremeInterdite as exc:
            st.error(md(exc))
        else:
            st.session_state["bar_saisie_message"] = (f"{n} valeur(s) enregistrée(s) ou modifiée(s) dans "
                                                      f"{libelle_portee(portee)} {annee}.")
            st.rerun()
    if st.session_state.get("bar_saisie_message"):
        st.success(md(st.session_state.pop("bar_saisie_message")))


def historique_saisies(portee: str) -> None:
    with st.expander("Historique des saisies (qui, quand, source, ancienne et nouvelle valeur)"):
        rows = bareme_store().historique(portee, limite=500)
        if not rows:
            st.caption(f"Aucune saisie dans {libelle_portee(portee)}.")
            return
        b = Baremes()
        unite = {n: b.definition(n).unite for n in b.names()}

        def val(v, n):
            return "—" if v is None else fr_parameter_value(v, unite.get(n, ""))

        st.dataframe(pd.DataFrame([{
            "Le": c.saisi_le.strftime("%d/%m/%Y %H:%M"), "Par": c.auteur or "", "Action": c.action,
            "Code": c.parametre, "En vigueur depuis": c.depuis.strftime("%d/%m/%Y"),
            "Ancienne valeur": val(c.ancienne_valeur, c.parametre), "Nouvelle valeur": val(c.nouvelle_valeur, c.parametre),
            "Source": c.source or "", "Origine": c.origine or ""} for c in rows]),
            hide_index=True, width="stretch", key="bar_saisie_historique")


with guard("afficher les barèmes"):
    user = utilisateur_courant()
    permises = portees_permises(user)
    demande_portee = normaliser_departement(str(st.query_params.get("portee", ""))) or PORTEE_NATIONALE
    choix_portee = [PORTEE_NATIONALE] + DEPARTEMENTS
    portee = st.selectbox("Barème affiché", choix_portee, index=choix_portee.index(demande_portee),
                          format_func=libelle_choix_portee, key="bar_portee",
                          help="Le barème d'un département : barème livré, barème national saisi et barème local "
                               "de ce département saisi par sa Caf.")
    departement = None if portee == PORTEE_NATIONALE else portee
    bar, err = baremes_en_vigueur(departement)
    if err:
        st.warning(md(err))
    st.caption(f"Barème affiché : {libelle_version(bar)}.")
    names = bar.names()
    demande = st.query_params.get("parametre", "")
    if demande and demande not in names:
        st.warning(f"Paramètre inconnu dans le lien : « {md(demande[:80])} ». Tous les paramètres sont listés.")
        demande = ""

    # -- filters -------------------------------------------------------------------------------------
    f1, f2, f3, f4 = st.columns([3, 2, 2, 2])
    recherche = f1.text_input("Rechercher (code, description, source)", value=demande, key="bar_recherche",
                              max_chars=100, help="Par exemple « mixité », « plafond » ou « 2019-005 ».")
    themes = f2.multiselect("Thèmes", list(THEMES.values()), key="bar_themes", placeholder="Tous les thèmes")
    jour = f3.date_input("Valeurs en vigueur au", value=dt.date.today(), min_value=dt.date(2000, 1, 1),
                         max_value=dt.date(2040, 12, 31), key="bar_jour", format="DD/MM/YYYY")
    seulement = f4.checkbox("À vérifier seulement", key="bar_a_verifier",
                            help="Paramètres dont une valeur au moins (ou sa date d'effet) est à vérifier.")

    cat = catalogue(jour, departement, bar.version)
    vue = cat
    if recherche.strip():
        q = recherche.strip().lower()
        texte = (vue["Code"] + " " + vue["Paramètre"] + " " + vue["Source"]).str.lower()
        vue = vue[texte.str.contains(q, regex=False)]
    if themes:
        vue = vue[vue["Thème"].isin(themes)]
    if seulement:
        vue = vue[vue["À vérifier (une valeur au moins)"]]
    n_verif = int(cat["À vérifier (une valeur au moins)"].sum())
    st.markdown(f"**{len(vue)}** paramètre(s) affiché(s) sur {len(cat)} — {n_verif} ont au moins une valeur "
                "à vérifier.")
    st.dataframe(fr_frame(vue.drop(columns=["À vérifier (une valeur au moins)"])), hide_index=True, width="stretch",
                 key="bar_table",
                 column_config={"Paramètre": st.column_config.TextColumn(width="large"),
                                "Source": st.column_config.TextColumn(width="large")})

    # -- history of one parameter ------------------------------------------------------------------------
    st.subheader("Valeurs par date d'un paramètre")
    choix = list(vue["Code"]) or names
    index = choix.index(demande) if demande in choix else 0
    descr = dict(zip(cat["Code"], cat["Paramètre"]))
    pick = st.selectbox("Paramètre", choix, index=index, key="bar_parametre",
                        format_func=lambda c: f"{c} — {descr.get(c, '')}")
    if pick:
        d = bar.definition(pick)
        st.markdown(f"**{md(d.description)}** — code {md(pick)}, unité : {md(d.unite)}")
        if d.avant:
            st.caption(f"Avant le {d.premiere_date:%d/%m/%Y} : pas de valeur — {md(d.avant)}.")
        if d.choix:
            st.caption("Valeurs possibles : " + " ; ".join(f"« {md(k)} » = {md(v)}" for k, v in d.choix.items()))
        st.dataframe(historique(bar, pick), hide_index=True, width="stretch", key="bar_historique",
                     column_config={"Source": st.column_config.TextColumn(width="large"),
                                    "Lien": st.column_config.LinkColumn("Lien", display_text="ouvrir"),
                                    "Note": st.column_config.TextColumn(width="medium")})

    # -- what changed between two dates -------------------------------------------------------------------
    st.subheader("Ce qui a changé entre deux dates")
    c1, c2 = st.columns(2)
    this_year = dt.date.today().year
    d1 = c1.date_input("Première date", value=dt.date(this_year - 1, 1, 1), min_value=dt.date(2000, 1, 1),
                       max_value=dt.date(2040, 12, 31), key="bar_d1", format="DD/MM/YYYY")
    d2 = c2.date_input("Seconde date", value=dt.date(this_year, 1, 1), min_value=dt.date(2000, 1, 1),
                       max_value=dt.date(2040, 12, 31), key="bar_d2", format="DD/MM/YYYY")
    diffs = bar.differences(d1, d2)
    if not diffs:
        st.info("Aucun paramètre n'a changé de valeur entre ces deux dates.")
    else:
        def cellule(pv, d) -> str:
            return "pas encore en vigueur" if pv is None else fr_parameter_value(pv.valeur, d.unite, d.choix)

        rows = []
        for x in diffs:
            d = bar.definition(x["parametre"])
            apres = x["apres"]
            rows.append({"Code": x["parametre"], "Paramètre": x["description"],
                         f"Au {d1:%d/%m/%Y}": cellule(x["avant"], d), f"Au {d2:%d/%m/%Y}": cellule(apres, d),
                         "Unité": x["unite"],
                         "Statut": ("à vérifier" if apres and apres.a_verifier else "officiel") if apres else "—",
                         "Source de la nouvelle valeur": apres.source if apres else ""})
        st.markdown(f"**{len(rows)}** paramètre(s) ont changé entre le {d1:%d/%m/%Y} et le {d2:%d/%m/%Y}.")
        st.dataframe(fr_frame(pd.DataFrame(rows)), hide_index=True, width="stretch", key="bar_diff",
                     column_config={"Paramètre": st.column_config.TextColumn(width="large"),
                                    "Source de la nouvelle valeur": st.column_config.TextColumn(width="large")})

    # -- the year's barème, entered once ----------------------------------------------------------------
    if not err:
        if portee in permises:
            saisie_annee(bar, portee, user)
        elif permises:
            st.info(f"Vous pouvez saisir : {md(', '.join(libelle_choix_portee(p) for p in permises[:3]))}"
                    f"{' …' if len(permises) > 3 else ''} — choisissez-le dans « Barème affiché ».")
        historique_saisies(portee)
