"""Coverage map: EAJE and RPE coverage by département, EPCI and commune, with QPV and FRR/ZRR layers,
a sortable table beside the map and the net change of PSU places against the COG path."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from data.store import NATURE_FICTIF
from exports.frames import frame_to_csv, frame_to_xlsx
from geo.coverage_map import ECHELLE_LABEL, ECHELLES, coverage_map_html, geometries
from pages._data import coverage_inputs, table, territoire_spec
from pages._texte import md
from pages._ui import (children_estimate_note, demo_banner, guard, manifest_token, require_store, store,
                       territory_picker)
from planning.carte import MAP_INDICATORS, PERIOD_INDICATORS, indicator_label, valeurs
from planning.carte import meta as carte_meta
from planning.coverage import ouvertes, trajectoire_cog_psu

TABLE_COLUMNS = {
    "code": "Code", "nom": "Nom", "population": "Population", "enfants_moins_3": "Enfants de moins de 3 ans",
    "places_eaje": "Places EAJE", "places_psu": "dont PSU", "places_hors_psu": "dont hors PSU",
    "places_psu_non_renseigne": "dont PSU non renseigné",
    "places_mam": "Places en MAM", "taux_eaje": "Places EAJE pour 100 enfants de moins de 3 ans",
    "taux_eaje_psu": "Places PSU pour 100 enfants", "enfants_par_place": "Enfants par place",
    "nb_rpe": "RPE situés ici", "am_par_etp": "Assistants maternels par ETP de RPE",
    "txcouv_caf": "Taux de couverture global Caf", "qpv": "QPV", "classement_frr": "FRR",
    "taille": "Taille", "rang_dans_departement": "Rang dans le département",
}

st.title("Couverture en EAJE et RPE")
require_store()
terr = territory_picker()
demo_banner()
children_estimate_note()

inp = coverage_inputs()
this_year = dt.date.today().year

c1, c2, c3, c4 = st.columns([3, 1, 2, 2])
ind = c1.selectbox("Indicateur", MAP_INDICATORS, format_func=indicator_label, key="cov_ind")
annee = int(c2.number_input("Année (au 31 décembre)", 2015, 2035, this_year, key="cov_year"))
periode = (annee, annee)
if ind in PERIOD_INDICATORS:
    periode = st.slider("Période (créations et fermetures du 1er janvier de la première année au 31 décembre de la "
                        "dernière)", 2015, 2035, (2023, annee), key="cov_period")
echelles = ECHELLES[terr.niveau]
echelle = c3.radio("Échelle de la carte", echelles, format_func=ECHELLE_LABEL.get, key=f"cov_scale_{terr.niveau}",
                   horizontal=True)
methode = c4.radio("Classes", ["seuils", "quantiles"], horizontal=True, key="cov_method",
                   format_func={"seuils": "Seuils fixes (repères 50 et 60)", "quantiles": "Quantiles"}.get,
                   help="Seuils fixes pour les taux : les repères nationaux 50 et 60 places pour 100 enfants sont "
                        "des limites de classe. Quantiles : autant de territoires dans chaque classe.")

has = {name: store().has(name) for name in ("qpv", "qpv_polygones", "frr", "zrr", "grille_densite", "structures")}
l1, l2, l3, l4 = st.columns(4)
show_qpv = l1.checkbox("Quartiers prioritaires (QPV)", value=has["qpv"] or has["qpv_polygones"],
                       disabled=not (has["qpv"] or has["qpv_polygones"]), key="cov_l_qpv")
show_frr = l2.checkbox("FRR / FRR+ / anciennes ZRR en transition", value=False, disabled=not has["frr"],
                       key="cov_l_frr")
show_zrr = l3.checkbox("Ancien zonage ZRR (importé)", value=False, disabled=not has["zrr"], key="cov_l_zrr")
show_pts = l4.checkbox("Structures (points)", value=has["structures"] and echelle == "commune",
                       disabled=not has["structures"] or terr.niveau == "france", key="cov_l_pts")

filters: dict = {}
if echelle == "commune":
    with st.expander("Filtres des communes"):
        f1, f2, f3, f4 = st.columns(4)
        filters["qpv"] = f1.checkbox("Seulement les communes avec un QPV", key="cov_f_qpv", disabled=not has["qpv"])
        filters["frr"] = f2.checkbox("Seulement les communes FRR / FRR+", key="cov_f_frr", disabled=not has["frr"])
        filters["taille"] = tuple(f3.multiselect("Taille de commune", ["moins de 3 500", "3 500 à 10 000",
                                                                      "plus de 10 000"], key="cov_f_size"))
        filters["densite"] = tuple(f4.multiselect(
            "Grille de densité INSEE", [1, 2, 3, 4, 5, 6, 7], key="cov_f_dens", disabled=not has["grille_densite"],
            help="1 = grands centres urbains … 7 = rural à habitat très dispersé (grille communale 2025)."))


def spec_for_scale() -> tuple[str, str] | None:
    if terr.niveau == "commune":
        com = table("communes", ("code_insee", "epci_siren", "ept_code"))
        row = com[com["code_insee"] == terr.code].iloc[0]
        if isinstance(row["ept_code"], str) and row["ept_code"]:
            return ("ept", row["ept_code"])
        return ("epci", row["epci_siren"]) if isinstance(row["epci_siren"], str) else ("commune", terr.code)
    return territoire_spec(terr)


@st.cache_data(show_spinner=False, max_entries=64)
def values_for(token: str, echelle: str, spec: tuple | None, annee: int, filt: tuple,
               periode: tuple = ()) -> pd.DataFrame:
    return valeurs(coverage_inputs(), echelle, spec, annee, dict(filt), periode)


def indicator_meta(ind: str, annee: int, periode: tuple) -> dict:
    return carte_meta(ind, coverage_inputs(), annee, periode)


@st.cache_data(show_spinner=False, max_entries=32)
def traj_chart(token: str, spec: tuple | None, this_year: int) -> bytes:
    from exports.charts import bar_chart

    t = trajectoire_cog_psu(coverage_inputs(), 2023, 2027, territoire=spec)
    obs = t["annee"] <= this_year
    nan = float("nan")
    return bar_chart(
        t["annee"].tolist(),
        {"Variation nette (toutes communes)": t["variation_nette_psu"].where(obs, nan).tolist(),
         "dont communes avec QPV": t["variation_nette_psu_qpv"].where(obs, nan).tolist(),
         "dont communes FRR / ZRR": t["variation_nette_psu_frr_zrr"].where(obs, nan).tolist()},
        title="Variation nette des places PSU par an", ylabel="places PSU",
        subtitle="Années non encore observées : pas de barre",
        line=("Trajectoire COG-01-01 rapportée au territoire", t["cible_territoire"].tolist()),
        fictif=store().info("structures") is not None and store().info("structures").nature == NATURE_FICTIF,
        figsize=(10.0, 4.2), dpi=110)


@st.cache_data(show_spinner="Construction de la carte…", max_entries=32)
def map_for(token: str, echelle: str, spec: tuple | None, dep: str | None, ind: str, annee: int, methode: str,
            layers: tuple, filt: tuple, titre: str, highlight: str | None, asset_mode: str = "static",
            periode: tuple = ()) -> str:
    s = store()
    vals = values_for(token, echelle, spec, annee, filt, periode)
    geoms = geometries(s, echelle, dep)
    geoms = geoms[geoms["code"].isin(vals["code"])]
    couches: dict = {}
    if ("qpv" in layers or "frr" in layers or "zrr" in layers) and echelle == "commune":
        couches["communes_geo"] = geometries(s, "commune", dep).rename(columns={"code": "code_insee"})
    if "qpv" in layers:
        if s.has("qpv_polygones"):
            couches["qpv_polygones"] = s.read("qpv_polygones")
        elif echelle == "commune":
            couches["qpv"] = table("qpv")
    if "frr" in layers and echelle == "commune":
        couches["frr"] = table("frr")
    if "zrr" in layers and echelle == "commune":
        couches["zrr"] = table("zrr")
    pts, fictif = None, False
    if "structures" in layers:
        st_df = table("structures")
        if st_df is not None:
            codes = set(geometries(s, "commune", dep)["code"]) if echelle != "commune" else set(geoms["code"])
            pts = st_df[st_df["code_insee"].isin(codes) & ouvertes(st_df, annee)]
            fictif = (s.info("structures").nature == NATURE_FICTIF)
    return coverage_map_html(geoms, vals, indicateur=indicator_meta(ind, annee, periode), annee=annee,
                             methode=methode, titre=titre, couches=couches, structures=pts,
                             structures_fictives=fictif, highlight=[highlight] if highlight else None,
                             asset_mode=asset_mode)


with guard("construire la carte de couverture"):
    spec = spec_for_scale()
    if echelle == "commune" and spec is None:
        st.warning("La carte des communes de toute la France est trop lourde : choisissez un département.")
        st.stop()
    dep = terr.departement if terr.niveau != "france" else None
    # a disabled checkbox keeps its last value: structures are never drawn on the France view
    layers = tuple(k for k, on in (("qpv", show_qpv), ("frr", show_frr), ("zrr", show_zrr),
                                   ("structures", show_pts and terr.niveau != "france")) if on)
    filt = tuple(sorted((k, v) for k, v in filters.items() if v))
    per = tuple(periode) if ind in PERIOD_INDICATORS else ()
    meta = indicator_meta(ind, annee, per)
    titre = f"{meta['label']} — {terr.libelle if terr.niveau != 'commune' else terr.nom} ({annee})"
    token = manifest_token()
    vals = values_for(token, echelle, spec, annee, filt, per)
    html = map_for(token, echelle, spec, dep, ind, annee, methode, layers, filt, titre,
                   terr.code if terr.niveau == "commune" else None, "static", per)

    st.markdown(f"**{md(meta['label'])}** — {md(meta['unite'])}, {annee}. Source : {md(meta['source'])}.")
    if meta.get("description"):
        st.caption(meta["description"])
    col_map, col_tab = st.columns([3, 2])
    with col_map:
        st.iframe(html, height=640, alt=f"Carte : {titre}. Les mêmes chiffres sont dans le tableau à droite.")
        st.caption("Carte : survolez ou parcourez au clavier (Tab) un territoire pour ses chiffres ; la couche "
                   "grise hachurée signale une **donnée non disponible** (différente de zéro). Le tableau à droite "
                   "donne les mêmes chiffres.")
    with col_tab:
        cols = [c for c in TABLE_COLUMNS if c in vals.columns and c != ind]
        cols.insert(2, ind)  # the mapped figure right after the name
        shown = vals[cols].rename(columns={**TABLE_COLUMNS, ind: meta["label"]})
        for c in shown.columns:  # booleans and labels: words, not True/None
            if shown[c].dtype == bool or shown[c].dtype == object or str(shown[c].dtype) in ("str", "string"):
                shown[c] = shown[c].map(lambda v: "oui" if v is True else "non" if v is False else
                                        ("n.d." if v is None or (isinstance(v, float) and pd.isna(v)) else v))
        sort_col = meta["label"]
        if sort_col in shown.columns:
            shown = shown.sort_values(sort_col, ascending=not meta.get("higher_is_better", True), na_position="last")
        st.markdown(f"**{len(shown)} {ECHELLE_LABEL[echelle].lower()}** (cliquez un en-tête pour trier)")
        for c in shown.columns:  # one decimal, on screen and in the downloads
            if pd.api.types.is_float_dtype(shown[c]):
                shown[c] = shown[c].round(1)
        cfg = {c: st.column_config.NumberColumn(format="localized", width="small")
               for c in shown.columns if pd.api.types.is_numeric_dtype(shown[c])}
        cfg[shown.columns[2]] = st.column_config.NumberColumn(
            format="localized", width="small", help=f"{meta['label']} ({meta['unite']})")
        cfg["Nom"] = st.column_config.TextColumn(width="medium", pinned=True)
        # the code stays in the downloads; on screen the name (pinned) and the mapped figure come first
        st.dataframe(shown, hide_index=True, height=560, width="stretch", column_config=cfg,
                     column_order=[c for c in shown.columns if c != "Code"])
        notes = [f"{meta['label']} ({meta['unite']}), {annee}", f"Source : {meta['source']}"]
        d1, d2, d3 = st.columns(3)
        d1.download_button("CSV", frame_to_csv(shown, notes), file_name=f"couverture_{annee}.csv",
                           mime="text/csv", key="cov_dl_csv")
        d2.download_button("Excel", frame_to_xlsx(shown, "Couverture", notes), file_name=f"couverture_{annee}.xlsx",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="cov_dl_xlsx")
        hl = terr.code if terr.niveau == "commune" else None
        d3.download_button("Carte HTML",  # built only when clicked (self-contained: Leaflet inlined)
                           lambda: map_for(token, echelle, spec, dep, ind, annee, methode, layers, filt, titre, hl,
                                           "inline", per),
                           file_name=f"carte_{annee}.html", mime="text/html", key="cov_dl_html",
                           help="Carte interactive autonome (fonctionne hors ligne, sans l'application).")

with guard("calculer la variation des places PSU"):
    st.subheader("Variation nette des places PSU et trajectoire COG")
    spec_t = spec_for_scale() if terr.niveau != "commune" else territoire_spec(terr)
    traj = trajectoire_cog_psu(inp, 2023, 2027, territoire=spec_t)
    future = traj["annee"] > this_year
    if future.any():  # no observed places yet: « donnée non disponible », not a shortfall
        obs = ["places_creees_psu", "places_fermees_psu", "variation_nette_psu", "variation_nette_psu_qpv",
               "variation_nette_psu_frr_zrr", "ecart"]
        traj.loc[future, obs] = float("nan")
    st.caption(md(traj.attrs.get("libelle", "")) + (f" Années après {this_year} : pas encore observées." if future.any()
                                                else ""))
    # A static picture (same renderer as the committee documents): an interactive chart here would
    # hold the map back by 1.5-2 s on every new tab (the charting bundle loads first).
    png = traj_chart(manifest_token(), spec_t, this_year)
    st.image(png, width="stretch",
             caption="Barres : variation nette des places PSU par an (toutes communes, dont communes avec QPV, "
                     "dont communes FRR / ZRR) ; losanges : trajectoire COG-01-01 rapportée au territoire. "
                     "Mêmes chiffres dans le tableau ci-dessous.")
    tab = traj[["annee", "places_creees_psu", "places_fermees_psu", "variation_nette_psu", "variation_nette_psu_qpv",
                "variation_nette_psu_frr_zrr", "cible_territoire", "ecart"]].rename(columns={
        "annee": "Année", "places_creees_psu": "Places PSU créées", "places_fermees_psu": "Places PSU fermées",
        "variation_nette_psu": "Variation nette", "variation_nette_psu_qpv": "dont QPV",
        "variation_nette_psu_frr_zrr": "dont FRR / ZRR", "cible_territoire": "Cible COG rapportée",
        "ecart": "Écart à la cible"})
    st.dataframe(tab.round(1), hide_index=True, width="stretch",
                 column_config={c: st.column_config.NumberColumn(format="localized") for c in tab.columns
                                if c != "Année"})
