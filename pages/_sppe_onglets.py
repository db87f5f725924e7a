"""Tabs of the « Service public de la petite enfance » page (not a page): zones en tension, demand to the
horizon, inequality, settings (competences, schéma statuses), diagnostic of the schéma pluriannuel."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from exports.frames import frame_to_csv, frame_to_xlsx
from pages._data import communes_of, coverage_inputs, table
from pages._sppe_vue import nombre_fr
from pages._texte import html_texte, md, md_lignes
from pages._ui import guard, store
from planning.formats import fr_int, fr_number, fr_ratio

OUI_NON = {True: "oui", False: "non"}


def _oui(x) -> str:
    return "donnée non disponible" if x is None or pd.isna(x) else OUI_NON[bool(x)]


def zones_en_tension(zones, terr) -> None:
    with guard("afficher les zones en tension"):
        st.markdown(md_lignes(zones.notes))
        c = zones.communes
        z = c[c["zone_en_tension"].fillna(False).astype(bool)]
        st.markdown(f"**{fr_int(len(z))} commune(s) en tension sur {fr_int(len(c))}** — référence : "
                    f"{md(zones.libelle_reference)} ({fr_number(zones.reference, 1)} places pour 100 enfants)")
        show = pd.DataFrame({
            "Code": z["code"], "Commune": z["nom"], "Enfants de moins de 3 ans": z["enfants_moins_3"].map(fr_int),
            "Taux (pour 100 enfants)": z["taux"].map(lambda v: fr_number(v, 1)),
            "EAJE le plus proche (km)": z["dist_eaje_km"].map(lambda v: fr_number(v, 1)),
            "RPE le plus proche (km)": z["dist_rpe_km"].map(lambda v: fr_number(v, 1)),
            "Motifs": z["motifs"], "QPV": z["qpv"].map(_oui), "FRR": z["classement_frr"].fillna("donnée non disponible")})
        st.dataframe(show, hide_index=True, width="stretch")
        e = zones.epci
        st.markdown("**Intercommunalités**")
        st.dataframe(pd.DataFrame({
            "Code": e["code"], "Nom": e["nom"], "Taux (pour 100 enfants)": e["taux"].map(lambda v: fr_number(v, 1)),
            "Part des enfants en accès difficile": e["part_enfants_acces_difficile"].map(lambda v: fr_ratio(v, 0)),
            "Zone en tension": e["zone_en_tension"].map(_oui), "Motifs": e["motifs"],
            "QPV": e["qpv"].map(_oui), "FRR ou ZRR": e["frr_zrr"].map(_oui)}), hide_index=True, width="stretch")
        notes = [f"Zones en tension — {terr.libelle}"] + zones.notes
        a, b = st.columns(2)
        a.download_button("Zones (CSV)", frame_to_csv(show, notes), file_name=f"zones_tension_{terr.departement}.csv",
                          mime="text/csv", key="sppe_zones_csv")
        b.download_button("Zones (Excel)", frame_to_xlsx(show, "Zones en tension", notes),
                          file_name=f"zones_tension_{terr.departement}.xlsx", key="sppe_zones_xlsx")


def _autorite_choisie(terr, res) -> tuple[str, str, list[str], str]:
    """(code, type, communes, nom) of the authority the demand is computed for."""
    t = res.table
    options = {r.code: f"{r.nom} ({'EPCI' if r.type == 'epci' else 'commune'}, {fr_int(r.population)} hab.)"
               for r in t[t["palier"].isin(["10000", "3500"])].itertuples()}
    if terr.niveau == "commune":
        row = t[t["communes"].apply(lambda cs: terr.code in cs)]
        options = {r.code: f"{r.nom}" for r in row.itertuples()} | options
    if not options:
        options = {r.code: r.nom for r in t.head(50).itertuples()}
    code = st.selectbox("Autorité organisatrice", list(options), format_func=options.get, key="sppe_besoin_aut")
    row = t[t["code"] == code].iloc[0]
    return code, row["type"], list(row["communes"]), row["nom"]


def demande(terr, res, quand: dt.date) -> None:
    from planning import sppe_territoire as T
    from planning.besoins import CIBLES

    with guard("projeter la demande"):
        code, typ, membres, nom = _autorite_choisie(terr, res)
        inp = coverage_inputs()
        c1, c2, c3, c4 = st.columns(4)
        horizon = int(c1.number_input("Horizon", quand.year + 1, 2040, max(2030, quand.year + 1), key="sppe_horizon"))
        fenetre = int(c2.number_input("Tendance sur (années de naissances)", 2, 15, 5, key="sppe_fenetre"))
        ajust_txt = c3.text_input("Scénario (points par an)", "0", key="sppe_ajust",
                                  help="Ajouté au taux annuel de la tendance des naissances : +1 = un point de plus "
                                       "par an, -0,5 = un demi-point de moins (de -10 à 10).")
        ajust = nombre_fr(ajust_txt, -10.0, 10.0)
        if ajust is None:
            c3.error("Nombre de -10 à 10 attendu (ex. -0,5).")
            ajust = 0.0
        choix = c4.selectbox("Couverture cible (places EAJE pour 100 enfants)", list(CIBLES), format_func=CIBLES.get,
                             key="sppe_cible")
        val_txt = st.text_input("Valeur cible saisie", "30", key="sppe_cible_val", disabled=choix != "utilisateur",
                                help="Places pour 100 enfants de moins de 3 ans, de 0 à 150 (ex. 33,5).")
        val = nombre_fr(val_txt, 0.0, 150.0)
        if val is None:
            if choix == "utilisateur":
                st.error("Valeur cible : nombre de 0 à 150 attendu (ex. 33,5).")
                return
            val = 30.0
        niveau = "commune" if typ == "commune" else ("ept" if terr.niveau == "ept" else "epci")
        cible, lib = T.cible(inp, quand.year, niveau if typ != "commune" else "commune", terr.departement, choix,
                             float(val))
        pe = _places(inp, quand.year, membres)
        if cible is None:
            st.info("Cible non disponible (aucune valeur pour ce choix) : choisissez une autre cible.")
            return
        b = T.besoin_territoire(inp, membres, quand.year, pe, cible, ajustement=ajust / 100, horizon=horizon,
                                fenetre=fenetre)
        _afficher_besoin(b, nom, lib, cible, pe)
        _bouton_scenario(terr, b, membres, code, nom)


def _places(inp, annee: int, membres: list[str]) -> float:
    from planning.coverage import indicateurs

    ind = indicateurs(inp, "commune", annee)
    return float(ind.loc[ind["code"].isin(set(membres)), "places_eaje"].sum(min_count=len(membres)))


def _afficher_besoin(b: pd.DataFrame, nom: str, lib: str, cible: float, places: float) -> None:
    a = b.attrs
    t = a.get("tendance")
    st.caption(md(f"{nom} : naissances domiciliées (INSEE) jusqu'en {a.get('derniere_annee')}, tendance "
                  f"{'non calculable' if t is None else fr_ratio(t, 1)} par an sur {a['fenetre']} ans, taux appliqué "
                  f"{fr_ratio(a['taux_applique'], 1)} ; cible {fr_number(cible, 1)} ({lib}) ; places EAJE actuelles "
                  f"{fr_number(places, 0)}. Enfants de l'année N = naissances N-2, N-1 et N."))
    if b.empty:
        st.info("Pas assez de naissances publiées pour ce territoire.")
        return
    if not pd.notna(places):
        st.warning("Places EAJE actuelles : donnée non disponible (aucune liste de structures ne couvre ce "
                   "territoire) — seules les places nécessaires sont calculées.", icon=":material/help:")
    fig = go.Figure()
    fig.add_bar(x=b["annee"], y=b["places_a_creer"], name="Places à créer", marker_color="#D55E00")
    fig.add_scatter(x=b["annee"], y=b["places_necessaires"], name="Places nécessaires", mode="lines+markers",
                    line=dict(color="#0072B2"))
    fig.update_layout(height=300, separators=", ", margin=dict(t=10), legend=dict(orientation="h", y=-0.25),
                      xaxis=dict(dtick=1), yaxis=dict(title="places"), title=html_texte(""))
    st.plotly_chart(fig, width="stretch", key="sppe_besoin_chart")
    st.dataframe(pd.DataFrame({"Année": b["annee"].astype(str),
                               "Enfants de moins de 3 ans": b["enfants_moins_3"].map(lambda v: fr_number(v, 0)),
                               "Projection": b["projete"].map({True: "oui", False: "non"}),
                               "Places nécessaires": b["places_necessaires"].map(fr_int),
                               "Places à créer": b["places_a_creer"].map(fr_int)}), hide_index=True, width="stretch")


def _bouton_scenario(terr, b: pd.DataFrame, membres: list[str], code: str, nom: str) -> None:
    if not st.button("Créer un scénario CTG à partir de ce besoin", key="sppe_scenario",
                     help="Ouvre le simulateur pré-rempli avec les places existantes et les places à créer par année."):
        return
    from pages._data import frr_communes, potentiel_financier, qpv_communes
    from planning.besoins import scenario_depuis_besoin
    from planning.scenario_edit import scenario_from_store

    base = scenario_from_store(nom, membres, table("structures"), qpv_communes=qpv_communes(),
                               frr_communes=frr_communes(), potentiel_financier=potentiel_financier(membres))
    from pages._ui import communes_table, manifest_token

    pop = communes_table(manifest_token()).set_index("code_insee")["population"]
    host = max(membres, key=lambda c: pop.get(c, 0))   # the largest commune hosts the new places (editable)
    data = scenario_depuis_besoin(base, b, host)
    key = f"{terr.niveau}:{terr.code}" if terr.code else "france"
    st.session_state.update(sim_data=data, sim_id=None, sim_version=None, sim_name=data["nom"], sim_terr=key,
                            sim_rev=st.session_state.get("sim_rev", 0) + 1)
    st.switch_page("pages/simulateur.py")


def inegalites(terr, quand: dt.date) -> None:
    from planning import inegalites as ineg
    from planning import sppe_territoire as T

    with guard("calculer les inégalités"):
        inp = coverage_inputs()
        rep = ineg.repss(inp.caf_couverture.get("dep"))
        st.markdown("**Indicateur REPSS Famille 1.4.1** : couverture moyenne des 20 départements les mieux couverts ÷ "
                    "celle des 20 moins bien couverts (taux global publié par la Cnaf).")
        if rep.empty:
            st.info("Donnée non disponible : importez les taux de couverture départementaux (data.caf.fr).")
        else:
            st.dataframe(_ratio_table(rep), hide_index=True, width="stretch")
        if terr.niveau == "france":
            return
        q = T.inegalites_epci(inp, terr.departement, range(2017, quand.year + 1))
        st.markdown(f"**Intercommunalités du département {md(terr.departement)}** : cinquième le mieux couvert ÷ "
                    f"cinquième le moins bien couvert ({md(q.attrs.get('mesure', ''))}).")
        st.dataframe(_ratio_table(q.dropna(subset=["haut"])), hide_index=True, width="stretch")
        st.caption("« non calculable » : le cinquième le moins couvert n'a aucune place ; l'écart en points reste donné.")


def _ratio_table(r: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"Année": r["annee"].astype(str), "Moyenne haute": r["haut"].map(lambda v: fr_number(v, 1)),
                         "Moyenne basse": r["bas"].map(lambda v: fr_number(v, 1)),
                         "Rapport": r["ratio"].map(lambda v: fr_number(v, 2, na="non calculable")),
                         "Écart (points)": r["ecart"].map(lambda v: fr_number(v, 1)),
                         "Territoires par groupe": r["n"].map(fr_int)})


def reglages(terr, res) -> None:
    from data import sppe as persist

    with guard("enregistrer les réglages"):
        com = communes_of(terr)
        grp = com.dropna(subset=["epci_siren"]).drop_duplicates("epci_siren")[["epci_siren", "epci_nom"]]
        grp = pd.concat([grp, com.dropna(subset=["ept_code"]).drop_duplicates("ept_code")[["ept_code", "ept_nom"]]
                         .rename(columns={"ept_code": "epci_siren", "ept_nom": "epci_nom"})]).sort_values("epci_nom")
        comp = persist.lire(store(), persist.COMPETENCES).set_index("siren_epci")
        st.markdown("**Compétence petite enfance des EPCI** (enregistrée dans le magasin de données ; un import de "
                    "type « competences » remplace la liste importée)")
        for r in grp.itertuples():
            actuel = bool(comp.loc[r.epci_siren, "competence"]) if r.epci_siren in comp.index else False
            nouveau = st.toggle(r.epci_nom, value=actuel, key=f"sppe_comp_{r.epci_siren}")
            if nouveau != actuel:
                persist.enregistrer_competence(store(), r.epci_siren, r.epci_nom, nouveau)
                st.cache_data.clear()
                st.rerun()
        _statut_schema(res, persist)


def _statut_schema(res, persist) -> None:
    from planning.sppe import STATUTS_SCHEMA

    st.markdown("**Statut du schéma pluriannuel d'une autorité**")
    t = res.table[res.table["palier"].isin(["10000", "3500"])]
    if t.empty:
        st.info("Aucune autorité de plus de 3 500 habitants dans ce territoire.")
        return
    with st.form("sppe_schema_form"):
        a, b, c = st.columns([3, 2, 2])
        opts = dict(zip(t["code"], t["nom"]))
        code = a.selectbox("Autorité", list(opts), format_func=opts.get, key="sppe_schema_aut")
        statut = b.selectbox("Statut", list(STATUTS_SCHEMA), format_func=STATUTS_SCHEMA.get, key="sppe_schema_statut")
        date = c.date_input("Date (adoption, délibération)", None, format="DD/MM/YYYY", key="sppe_schema_date")
        if st.form_submit_button("Enregistrer le statut"):
            persist.enregistrer_statut_schema(store(), code, statut, date)
            st.cache_data.clear()
            st.success(md(f"Statut enregistré pour {opts[code]}."))
            st.rerun()


def diagnostic(terr, res, quand: dt.date) -> None:
    with guard("produire le diagnostic du schéma pluriannuel"):
        t = res.table[res.table["palier"].isin(["10000", "3500"])]
        if t.empty:
            st.info("Aucune autorité de plus de 3 500 habitants dans ce territoire.")
            return
        opts = dict(zip(t["code"], t["nom"]))
        code = st.selectbox("Autorité", list(opts), format_func=opts.get, key="sppe_diag_aut")
        if st.button("Préparer le diagnostic (Word et PDF)", key="sppe_diag"):
            from exports.diagnostic import build_diagnostic

            st.session_state["sppe_diag_files"] = build_diagnostic(code, quand=quand)
        files = st.session_state.get("sppe_diag_files") or {}
        for i, (name, data) in enumerate(files.items()):
            st.download_button(name, data, file_name=name, key=f"sppe_diag_dl_{i}")
        st.caption("Document Word modifiable : les parties « à compléter par la commune » sont signalées.")
