"""RPE target (COG-01-11) and the 1 January 2026 obligation; assistants maternels per RPE ETP (COG-01-10)."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from exports.frames import frame_to_csv, frame_to_xlsx
from geo.classes import categories
from geo.coverage_map import geometries
from geo.maps import MapOptions, choropleth_map, map_html
from pages._data import communes_of, coverage_inputs
from planning.formats import fr_frame, fr_int, fr_number, fr_ratio
from pages._ui import (communes_table, demo_banner, guard, manifest_token, md, require_store,
                       store, territory_picker)
from planning.catalogue import cible_cog, libelle_cibles
from planning.rpe import rpe_table
from planning.rpe import PARAM_CIBLE, rpe_target, seuil_obligation
from planning.territoires import FRANCE, resolve

CATEGORIES = ("Sans RPE", "Couverte par un RPE situé dans une autre commune (ne compte pas)", "RPE dans la commune")
CAT_COLORS = ("#D55E00", "#F0E442", "#0072B2")  # Okabe-Ito: vermillion, yellow, blue

st.title(f"Objectif RPE : communes de plus de {fr_int(seuil_obligation(dt.date.today().year))} habitants")
require_store()
terr = territory_picker()
demo_banner()
inp = coverage_inputs()

c1, c2 = st.columns([1, 3])
annee = int(c1.number_input("Année", 2023, 2035, dt.date.today().year, key="rpe_year"))
# the perimeters around the chosen territory: France, its région, its département, the EPCI/EPT itself
perimetres = {"france": FRANCE}
scopes = {"france": "France entière"}
if terr.niveau != "france":
    com = communes_table(manifest_token())
    departement = resolve(com, "departement", terr.departement)
    r = com.loc[com["dep"] == terr.departement, "reg"]
    if len(r) and isinstance(r.iloc[0], str):
        perimetres["region"] = resolve(com, "region", r.iloc[0])
        scopes["region"] = f"Région {perimetres['region'].nom}"
    perimetres["departement"] = departement
    scopes["departement"] = f"Département {terr.departement}"
    if terr.niveau in ("epci", "ept"):
        perimetres["territoire"] = terr
        scopes["territoire"] = terr.libelle
scope = c2.radio("Périmètre", list(scopes), index=len(scopes) - 1, format_func=scopes.get, horizontal=True,
                 key="rpe_scope")

with guard("calculer l'objectif RPE"):
    # an EPCI or EPT: the figures of its département, restricted to its towns
    res = rpe_target(inp, annee, perimetre=perimetres["departement" if scope == "territoire" else scope])
    if scope == "territoire":
        res = res.restreint(terr, communes=communes_of(terr)["code_insee"])
    d = res.to_dict()
    nd = "n.d."  # « donnée non disponible », explained in the warning below
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(f"Communes de plus de {fr_int(res.seuil)} hab.", fr_number(d["nb_communes_plus_10000_perimetre"] if res.sans_liste
                                                       else d["nb_communes_plus_10000"], 0))
    m2.metric("avec un RPE situé dans la commune", nd if res.sans_liste else fr_number(d["nb_avec_rpe"], 0))
    m3.metric(f"Part en {annee}", nd if d["part"] is None else fr_ratio(d["part"]),
              delta=None if d["cible"] is None or d["part"] is None else
              f"{fr_number(100 * (d['part'] - d['cible']), 1)} points par rapport à la cible",
              delta_color="normal")
    m4.metric(f"Cible COG-01-11 {annee}", fr_ratio(d["cible"]) if d["cible"] is not None else "hors COG 2023-2027")
    deadline = dt.date.fromisoformat(d["echeance_legale"])
    if res.sans_liste:
        st.warning(md(res.message_donnee_absente), icon=":material/help:")
        st.caption(f"Obligation légale : depuis le {deadline:%d/%m/%Y}, toute commune de {res.plus_de_seuil} "
                   "doit disposer d'un RPE (loi 2023-1196, art. 17).")
    elif d["echeance_depassee"]:
        st.error(f"Obligation légale : depuis le **{deadline:%d/%m/%Y}**, toute commune de {res.plus_de_seuil} "
                 "doit disposer d'un RPE (loi 2023-1196, art. 17). "
                 f"{d['nb_communes_plus_10000'] - d['nb_avec_rpe']} commune(s) n'en ont pas dans la commune.")
    else:
        st.warning(f"Échéance légale : le {deadline:%d/%m/%Y} toute commune de {res.plus_de_seuil} devra "
                   "disposer d'un RPE.")
    st.caption(md(d["note"]) + f" Source des structures : {md(d['source_structures'])}. Population : populations légales "
               "2023 (en vigueur au 1er janvier 2026).")
    if not res.sans_liste and d["nb_communes_plus_10000_perimetre"] != d["nb_communes_plus_10000"]:
        st.info("Une partie des communes du périmètre n'a pas de liste de structures importée : elles sont "
                "exclues de la part (donnée non disponible).")

    # share vs the COG path
    years = list(range(2023, 2028))
    targets = [cible_cog(PARAM_CIBLE, y) for y in years]
    fig = go.Figure()
    fig.add_scatter(x=years, y=[100 * t if t is not None else None for t in targets], name="Cible COG-01-11",
                    mode="lines+markers", line=dict(color="#000000", dash="dash"), marker_symbol="diamond")
    if d["part"] is not None:
        fig.add_bar(x=[annee], y=[100 * d["part"]], name=f"Part constatée {annee}", marker_color="#0072B2",
                    width=0.5)
    fig.update_layout(height=280, yaxis=dict(range=[0, 105], title="%"), xaxis=dict(dtick=1), separators=", ",
                      margin=dict(t=10), legend=dict(orientation="h", y=-0.3))
    st.plotly_chart(fig, width="stretch", key="rpe_chart")
    st.caption(f"Cibles : {libelle_cibles(PARAM_CIBLE, years)} — COG État–Cnaf 2023-2027.")

    tab = res.table()
    tab["situation"] = [CATEGORIES[2] if a else (CATEGORIES[1] if c else CATEGORIES[0])
                        for a, c in zip(tab["avec_rpe"], tab["couverte_ailleurs"])]
    st.subheader(f"Communes de {res.plus_de_seuil} sans RPE dans la commune")
    missing = tab[~tab["avec_rpe"].astype(bool)]  # bool even when empty (an empty object mask selects columns)
    missing = missing.assign(qpv=missing["qpv"].map({True: "oui", False: "non"}).fillna("n.d."),
                             rpe_ailleurs=missing["rpe_ailleurs"].fillna("—"))
    show = missing[["code", "nom", "population", "taux_eaje", "situation", "epci_nom", "qpv", "rpe_ailleurs"]].rename(
        columns={"code": "Code", "nom": "Commune", "population": "Population", "epci_nom": "EPCI",
                 "qpv": "QPV", "taux_eaje": "Places EAJE pour 100 enfants de moins de 3 ans",
                 "situation": "Situation", "rpe_ailleurs": "RPE intercommunal situé à"})
    map_col, tab_col = st.columns([2, 3]) if scope in ("departement", "territoire") else (None, st.container())
    with tab_col:
        if res.sans_liste:
            com_nd = communes_table(manifest_token()).set_index("code_insee")
            show = pd.DataFrame({"Code": res.villes_sans_donnee,
                                 "Commune": [com_nd.at[c, "nom"] for c in res.villes_sans_donnee],
                                 "Population": [com_nd.at[c, "population"] for c in res.villes_sans_donnee],
                                 "RPE dans la commune": "donnée non disponible"})
            st.dataframe(fr_frame(show), hide_index=True, width="stretch")
        elif show.empty:
            st.success(f"Toutes les communes de {res.plus_de_seuil} du périmètre ont un RPE dans la commune.")
        else:
            st.dataframe(fr_frame(show, {"Places EAJE pour 100 enfants de moins de 3 ans": "decimal1"}),
                         hide_index=True, width="stretch")
        notes = [f"Communes de {res.plus_de_seuil} sans RPE situé dans la commune, {annee}",
                 f"Source des structures : {d['source_structures']}"]
        e1, e2 = st.columns(2)
        e1.download_button("CSV", lambda: frame_to_csv(show, notes), file_name=f"communes_sans_rpe_{annee}.csv",
                           mime="text/csv", key="rpe_dl_csv")  # files built only when clicked
        e2.download_button("Excel", lambda: frame_to_xlsx(show, "Sans RPE", notes), file_name=f"communes_sans_rpe_{annee}.xlsx",
                           key="rpe_dl_xlsx")
    if map_col is not None:
        with map_col:
            @st.cache_data(show_spinner=False, max_entries=16)
            def rpe_map(token: str, dep: str, annee: int, rows: tuple, plus_de_seuil: str) -> str:
                g = geometries(store(), "commune", dep)
                cat = {code: c for code, c in rows}
                g = g[g["code"].isin(cat)].copy()
                g["situation"] = g["code"].map(cat).astype(float)
                cls = categories(g["situation"], CATEGORIES, CAT_COLORS)
                m = choropleth_map(g, "situation", cls, MapOptions(key_col="code", name_col="nom",
                                   tooltip_fields=[("situation", "Situation", lambda v: CATEGORIES[int(v)])],
                                   title=f"RPE dans les communes de {plus_de_seuil} ({annee})",
                                   legend_title="Situation au regard de COG-01-11",
                                   subtitle=f"communes de {plus_de_seuil} (populations légales 2023)",
                                   source=d["source_structures"]))
                return map_html(m)

            rows = tuple((r.code, CATEGORIES.index(r.situation)) for r in tab.itertuples())
            if res.sans_liste:
                st.info("Pas de carte : la situation des communes est inconnue (aucune liste de structures).")
            if rows:
                st.iframe(rpe_map(manifest_token(), terr.departement, annee, rows, res.plus_de_seuil), height=460,
                          alt=f"Carte des communes de {res.plus_de_seuil} selon la présence d'un RPE ; liste dans le "
                              "tableau.")
                st.caption("Le tableau à droite liste les communes sans RPE ; carte accessible au clavier (Tab).")

with guard("calculer les assistants maternels par ETP de RPE"):
    st.subheader("Assistants maternels par ETP d'animation de RPE (COG-01-10)")
    rt = rpe_table(inp, annee, territoire=perimetres[scope])
    target = cible_cog("objectifs_cog.assistants_maternels_par_etp_rpe", annee)
    if res.sans_liste:
        st.info("Donnée non disponible : aucune liste de structures ne couvre ce périmètre.")
    elif rt.empty:
        st.info("Aucun RPE dans la liste des structures pour ce périmètre.")
    else:
        total = rt["nb_assistants_maternels"].sum() / rt["etp_animation"].sum()
        a, b, c = st.columns(3)
        a.metric("RPE", fr_number(len(rt), 0))
        b.metric("Assistants maternels par ETP (périmètre)", fr_number(total, 1))
        c.metric(f"Cible COG-01-10 {annee}", fr_number(target, 0) if target else "hors COG")
        shown = rt[["nom", "commune", "etp_animation", "nb_assistants_maternels", "am_par_etp", "ecart_cible"]].rename(
            columns={"nom": "RPE", "commune": "Commune", "etp_animation": "ETP d'animation",
                     "nb_assistants_maternels": "Assistants maternels", "am_par_etp": "Assistants maternels par ETP",
                     "ecart_cible": "Écart à la cible"})
        st.dataframe(fr_frame(shown, {"ETP d'animation": "decimal1", "Assistants maternels par ETP": "decimal1",
                                      "Écart à la cible": "decimal1"}), hide_index=True, width="stretch")
        st.caption("Au-dessus de la cible : chaque animateur suit plus d'assistants maternels que l'objectif COG. "
                   "Somme des assistants maternels / somme des ETP (pas une moyenne de ratios).")
