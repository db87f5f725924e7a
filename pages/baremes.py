"""Barèmes: every dated parameter with its values by date, unit, source and confidence; filter « à vérifier »,
search, history of one parameter (``?parametre=bonus.mixite_seuils_participation``) and what changed
between two dates."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from pages._texte import md
from pages._ui import guard, leave_legacy_multipage
from planning.formats import fr_valeur_parametre
from planning.parametres import LIBELLES_CONFIANCE, Baremes

THEMES = {
    "psu": "PSU (prestation de service unique)",
    "participations": "Participations familiales",
    "bonus": "Bonus",
    "ctg": "CTG et contrôles du simulateur",
    "objectifs_cog": "Objectifs COG 2023-2027",
    "couverture": "Couverture",
    "saisie": "Valeurs de saisie proposées",
}

leave_legacy_multipage()
st.title("Barèmes et paramètres datés")
st.caption("Chaque montant du simulateur vient d'une de ces valeurs datées. Confiance : **C** confirmé par un texte "
           "institutionnel ou plusieurs sources concordantes ; **P** partiel (une source secondaire, ou année "
           "déduite) ; **?** valeur par défaut **à vérifier**, jamais présentée comme officielle. Une date d'effet "
           "peut elle-même être à vérifier (confiance de la date).")


@st.cache_data(show_spinner=False)
def catalogue(jour: dt.date) -> pd.DataFrame:
    """One row per parameter, with the value in force on ``jour``."""
    b = Baremes()
    rows = []
    for name in b.names():
        d = b.definition(name)
        pv = b.get_or_none(name, jour)
        hist = d.historique()
        rows.append({
            "Code": name,
            "Thème": THEMES.get(name.split(".")[0], name.split(".")[0]),
            "Paramètre": d.description,
            "Valeur au jour choisi": fr_valeur_parametre(pv.valeur, d.unite, d.choix) if pv else
            f"pas de valeur ({d.avant or 'avant la première date'})",
            "Unité": d.unite,
            "En vigueur depuis": pv.depuis.strftime("%d/%m/%Y") if pv and pv.depuis else "—",
            "Confiance": (pv.confiance + (f" (date : {pv.confiance_date})" if pv.confiance_date
                                          and pv.confiance_date != pv.confiance else "")) if pv else "—",
            "Statut": ("à vérifier" if pv.a_verifier else LIBELLES_CONFIANCE[pv.confiance]) if pv else "—",
            "Source": pv.source if pv else "",
            "Valeurs datées": len(hist),
            "À vérifier (une valeur au moins)": any(h.a_verifier for h in hist),
        })
    return pd.DataFrame(rows)


def historique(name: str) -> pd.DataFrame:
    b = Baremes()
    d = b.definition(name)
    rows = []
    for p in d.historique():
        rows.append({
            "En vigueur depuis": p.depuis.strftime("%d/%m/%Y") if p.depuis else "",
            "Valeur": fr_valeur_parametre(p.valeur, d.unite, d.choix),
            "Confiance de la valeur": f"{p.confiance} ({LIBELLES_CONFIANCE[p.confiance]})",
            "Confiance de la date": (f"{p.confiance_date} ({LIBELLES_CONFIANCE[p.confiance_date]})"
                                     if p.confiance_date else "comme la valeur"),
            "Statut": "à vérifier" if p.a_verifier else "officiel",
            "Source": p.source,
            "Lien": p.url or None,
            "Note": p.note,
        })
    return pd.DataFrame(rows)


with guard("afficher les barèmes"):
    bar = Baremes()
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

    cat = catalogue(jour)
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
    st.dataframe(vue.drop(columns=["À vérifier (une valeur au moins)"]), hide_index=True, width="stretch",
                 key="bar_table",
                 column_config={"Paramètre": st.column_config.TextColumn(width="large"),
                                "Source": st.column_config.TextColumn(width="large"),
                                "Valeurs datées": st.column_config.NumberColumn(format="%d")})

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
        st.dataframe(historique(pick), hide_index=True, width="stretch", key="bar_historique",
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
            return "pas encore en vigueur" if pv is None else fr_valeur_parametre(pv.valeur, d.unite, d.choix)

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
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="bar_diff",
                     column_config={"Paramètre": st.column_config.TextColumn(width="large"),
                                    "Source de la nouvelle valeur": st.column_config.TextColumn(width="large")})
