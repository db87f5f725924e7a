"""Coverage map: EAJE and RPE coverage by département, EPCI and commune, with QPV and FRR/ZRR layers;
the rates published by the Cnaf (data.caf.fr, global and by mode, with their year) and the births
(INSEE); the map takes the width, the table and the charts (published rates over time against the
département and France, computed against published EAJE rate, births) sit in tabs below; then the
net change of PSU places against the COG path."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st


from data.store import NATURE_FICTIF
from exports.frames import frame_to_csv, frame_to_xlsx
from geo.coverage_map import ECHELLE_LABEL, ECHELLES, coverage_map_html, geometries
from pages._data import coverage_inputs, departements_avec_structures, table
from pages._texte import md
from pages._ui import (children_estimate_note, communes_table, demo_banner, guard, manifest_token, require_store,
                       store, territory_picker)
from planning.carte import MAP_INDICATORS, PERIOD_INDICATORS, indicator_label, valeurs
from planning.carte import meta as carte_meta
from planning.cnaf import serie_caf, serie_naissances
from planning.catalogue import INDICATEURS, reperes_couverture, source_caf
from planning.formats import fr_frame, fr_int
from planning.coverage import tailles
from planning.flux import trajectoire_cog_psu
from planning.stock import ouvertes
from planning.territoires import Territoire, groupement, masque

TABLE_COLUMNS = {
    "code": "Code", "nom": "Nom", "population": "Population", "enfants_moins_3": "Enfants de moins de 3 ans",
    "places_eaje": "Places EAJE", "places_psu": "dont PSU", "places_hors_psu": "dont hors PSU",
    "places_psu_non_renseigne": "dont PSU non renseigné",
    "places_mam": "Places en MAM", "taux_eaje": "Places EAJE pour 100 enfants de moins de 3 ans",
    "taux_eaje_psu": "Places PSU pour 100 enfants", "enfants_par_place": "Enfants par place",
    "nb_rpe": "RPE situés ici", "am_par_etp": "Assistants maternels par ETP de RPE",
    "txcouv_caf": "Taux de couverture global Caf", "annee_txcouv_caf": "Année publiée (Caf)",
    "txcouv_caf_eaje": "Taux EAJE publié (Caf)", "ecart_eaje_caf": "Écart EAJE calculé − publié",
    "naissances": "Naissances", "qpv": "QPV", "classement_frr": "FRR",
    "taille": "Taille", "rang_dans_departement": "Rang dans le département",
}
CAF_CODES = tuple(c for c in INDICATEURS if c.startswith("txcouv_caf"))


st.title("Couverture en EAJE et RPE")
require_store()
terr = territory_picker()
demo_banner()
children_estimate_note()

inp = coverage_inputs()
this_year = dt.date.today().year

has_caf = any(store().has(f"caf_couverture_{k}") for k in ("com", "epci", "dep", "reg", "nat"))
c1, c2, c3, c4 = st.columns([3, 1, 2, 2])
# the France view, and a département the structure list does not cover, open on the published Cnaf rate
covered = set(inp.structures_departements or ())
default_ind = ("txcouv_caf" if has_caf and (terr.niveau == "france" or terr.departement not in covered)
               else MAP_INDICATORS[0])
ind = c1.selectbox("Indicateur", MAP_INDICATORS, index=MAP_INDICATORS.index(default_ind),
                   format_func=indicator_label, key="cov_ind")
annee = int(c2.number_input("Année (au 31 décembre)", 2015, 2035, this_year, key="cov_year"))
periode = (annee, annee)
if ind in PERIOD_INDICATORS:
    periode = st.slider("Période (créations et fermetures du 1er janvier de la première année au 31 décembre de la "
                        "dernière)", 2015, 2035, (2023, annee), key="cov_period")
echelles = ECHELLES[terr.niveau]
scale_label = dict(ECHELLE_LABEL)
if terr.niveau == "france":
    scale_label["commune"] = "Communes publiées (Caf)"
echelle = c3.radio("Échelle de la carte", echelles, format_func=scale_label.get, key=f"cov_scale_{terr.niveau}",
                   horizontal=True, help="France entière : la carte des communes ne montre que les communes dont la "
                                         "Cnaf publie le taux (plus de 10 000 habitants).")
reperes = " et ".join(fr_int(r) for r in reperes_couverture(annee, inp.baremes))  # COG references, dated parameter
methode = c4.radio("Classes", ["seuils", "quantiles"], horizontal=True, key="cov_method",
                   format_func={"seuils": f"Seuils fixes (repères {reperes})", "quantiles": "Quantiles"}.get,
                   help=f"Seuils fixes pour les taux : les repères nationaux {reperes} places pour 100 enfants sont "
                        "des limites de classe. Quantiles : autant de territoires dans chaque classe.")

has = {name: store().has(name) for name in ("qpv", "qpv_polygones", "frr", "zrr", "grille_densite", "structures")}
l1, l2, l3, l4 = st.columns(4)
show_qpv = l1.checkbox("Quartiers prioritaires (QPV)", value=has["qpv"] or has["qpv_polygones"],
                       disabled=not (has["qpv"] or has["qpv_polygones"]) or terr.niveau == "france", key="cov_l_qpv",
                       help="Contours des QPV (ou communes qui en comptent un) : à l'échelle d'un département.")
show_frr = l2.checkbox("FRR / FRR+ / anciennes ZRR en transition", value=False, disabled=not has["frr"],
                       key="cov_l_frr")
show_zrr = l3.checkbox("Ancien zonage ZRR (importé)", value=False, disabled=not has["zrr"], key="cov_l_zrr")
# points only where the list has structures (a département without a list would show an empty layer ticked)
pts_ici = has["structures"] and terr.niveau != "france" and (
    terr.departement is None or terr.departement in departements_avec_structures(manifest_token()))
show_pts = l4.checkbox("Structures (points)", value=pts_ici and echelle == "commune", disabled=not pts_ici,
                       key="cov_l_pts", help=None if pts_ici else "Aucune structure de la liste dans ce territoire.")

filters: dict = {}
if echelle == "commune":
    with st.expander("Filtres des communes"):
        f1, f2, f3, f4 = st.columns(4)
        filters["qpv"] = f1.checkbox("Seulement les communes avec un QPV", key="cov_f_qpv", disabled=not has["qpv"])
        filters["frr"] = f2.checkbox("Seulement les communes FRR / FRR+", key="cov_f_frr", disabled=not has["frr"])
        filters["taille"] = tuple(f3.multiselect("Taille de commune", tailles(annee, inp.baremes), key="cov_f_size"))
        filters["densite"] = tuple(f4.multiselect(
            "Grille de densité INSEE", [1, 2, 3, 4, 5, 6, 7], key="cov_f_dens", disabled=not has["grille_densite"],
            help="1 = grands centres urbains … 7 = rural à habitat très dispersé (grille communale 2025)."))


def territoire_carte() -> Territoire:
    """The territory the map shows: a commune is shown inside its EPT or EPCI."""
    return groupement(communes_table(manifest_token()), terr)


@st.cache_data(show_spinner=False, max_entries=64)
def values_for(token: str, echelle: str, spec: Territoire, annee: int, filt: tuple,
               periode: tuple = ()) -> pd.DataFrame:
    return valeurs(coverage_inputs(), echelle, spec, annee, dict(filt), periode)


def indicator_meta(ind: str, annee: int, periode: tuple) -> dict:
    return carte_meta(ind, coverage_inputs(), annee, periode)


@st.cache_data(show_spinner=False, max_entries=32)
def traj_chart(token: str, spec: Territoire, this_year: int) -> bytes:
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
def map_for(token: str, echelle: str, spec: Territoire, dep: str | None, ind: str, annee: int, methode: str,
            layers: tuple, filt: tuple, titre: str, highlight: str | None, asset_mode: str = "static",
            periode: tuple = ()) -> str:
    s = store()
    vals = values_for(token, echelle, spec, annee, filt, periode)
    if echelle == "commune" and dep is None:   # France view: only the towns with a published value
        vals = vals[vals[ind].notna()]
        geoms = geometries(s, "commune", None, codes=tuple(vals["code"]))
    else:
        geoms = geometries(s, echelle, dep)
    geoms = geoms[geoms["code"].isin(vals["code"])]
    couches: dict = {}
    if ("qpv" in layers or "frr" in layers or "zrr" in layers) and echelle == "commune":
        couches["communes_geo"] = geometries(s, "commune", dep).rename(columns={"code": "code_insee"})
    if "qpv" in layers:
        if s.has("qpv_polygones") and dep:   # contours of the département only (too small on a national map)
            q = s.read("qpv_polygones")
            q_dep = q["dep"] if "dep" in q.columns else q["code_insee"].str[:2]
            couches["qpv_polygones"] = q[q_dep == dep]
        elif echelle == "commune" and dep:
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
    meta_map = dict(indicator_meta(ind, annee, periode), annee_libelle=titre_annee(ind, vals, annee))
    return coverage_map_html(geoms, vals, indicateur=meta_map, annee=annee,
                             methode=methode, titre=titre, couches=couches, structures=pts,
                             structures_fictives=fictif, highlight=[highlight] if highlight else None,
                             asset_mode=asset_mode)


@st.cache_data(show_spinner=False, max_entries=32)
def serie_chart(token: str, territoire: Territoire, colonne: str) -> tuple[bytes | None, pd.DataFrame]:
    from exports.charts import line_chart

    s = serie_caf(coverage_inputs(), territoire, colonne)
    if s.empty:
        return None, pd.DataFrame()
    wide = s.pivot_table(index="annee", columns="serie", values="valeur", aggfunc="first")
    order = [c for c in s.attrs["libelles"] if c in wide.columns]
    wide = wide[order].reindex(range(int(wide.index.min()), int(wide.index.max()) + 1))
    label = {"txcouv": "Taux de couverture global", "txcouv_eaje": "Taux de couverture EAJE"}[colonne]
    png = line_chart(wide.index.tolist(), {c: wide[c].tolist() for c in order},
                     title=f"{label} publié par la Caf", ylabel="places pour 100 enfants de moins de 3 ans",
                     subtitle="Capacité théorique au 31 décembre de chaque année, pour 100 enfants de moins de 3 ans",
                     source="Source : Cnaf, data.caf.fr (txcouv_pe_*)", figsize=(10.0, 4.2), dpi=110)
    return png, wide.reset_index().rename(columns={"annee": "Année"})


def serie_section() -> None:
    col = st.radio("Taux", ["txcouv", "txcouv_eaje"], horizontal=True, key="cov_serie_col",
                   format_func={"txcouv": "Taux de couverture global", "txcouv_eaje": "Taux EAJE (crèches)"}.get)
    png, table_wide = serie_chart(manifest_token(), terr, col)
    s = serie_caf(coverage_inputs(), terr, col)
    if png is None:
        st.info("Aucun taux publié par la Cnaf n'est importé pour ce territoire. Importez les fichiers txcouv_pe_* de "
                "data.caf.fr depuis la page Import (les communes ne sont publiées qu'au-delà de 10 000 habitants).")
        return
    st.image(png, width="stretch", caption="Courbes : taux publiés par la Cnaf pour le territoire, son département et "
                                            "la France ; mêmes chiffres dans le tableau ci-dessous.")
    if s.attrs.get("absentes"):
        st.caption("Non publié ou non importé : " + md(", ".join(s.attrs["absentes"]))
                   + (" (fichier national txcouv_pe_nat à importer)" if "France" in s.attrs["absentes"] else "") + ".")
    st.dataframe(fr_frame(table_wide, {c: "decimal1" for c in table_wide.columns if c != "Année"}),
                 hide_index=True, width="stretch")
    st.caption("Source : " + md(source_caf(coverage_inputs())) + ".")


def ecart_section(vals: pd.DataFrame, annee: int) -> None:
    need = {"taux_eaje", "txcouv_caf_eaje", "annee_txcouv_caf", "ecart_eaje_caf"}
    if not need <= set(vals.columns):
        st.info("Écart non calculable pour cet indicateur.")
        return

    def both_of(v: pd.DataFrame, y: int) -> pd.DataFrame:
        return v[v["taux_eaje"].notna() & v["txcouv_caf_eaje"].notna() & (v["annee_txcouv_caf"] == y)]

    both = both_of(vals, annee)
    published = sorted({int(y) for y in vals["annee_txcouv_caf"].dropna() if int(y) <= annee})
    if both.empty and published:   # the latest year the Cnaf published, computed again for that year
        annee = published[-1]
        both = both_of(values_for(manifest_token(), echelle, spec, annee, filt, ()), annee)
    st.markdown(f"**Taux EAJE calculé à partir de la liste des structures et taux EAJE publié par la Caf, {annee}** "
                "(places pour 100 enfants de moins de 3 ans ; dernière année publiée au plus tard l'année choisie)")
    fictif = store().info("structures") is not None and store().info("structures").nature == NATURE_FICTIF
    if fictif:
        st.caption("Le taux calculé repose sur les **données fictives de démonstration** : l'écart ne dit rien de la "
                   "réalité tant qu'une vraie liste de structures n'est pas importée.")
    if both.empty:
        st.info(f"Aucun territoire de la carte n'a à la fois un taux calculé (liste des structures) et un taux EAJE "
                f"publié par la Caf au plus tard en {annee}.")
        return
    t = both[["nom", "enfants_moins_3", "places_eaje", "taux_eaje", "txcouv_caf_eaje", "ecart_eaje_caf"]].rename(
        columns={"nom": "Nom", "enfants_moins_3": "Enfants de moins de 3 ans", "places_eaje": "Places EAJE (liste)",
                 "taux_eaje": "Taux EAJE calculé", "txcouv_caf_eaje": "Taux EAJE publié (Caf)",
                 "ecart_eaje_caf": "Écart (points)"}).sort_values("Écart (points)")
    st.dataframe(fr_frame(t, {"Taux EAJE calculé": "decimal1", "Taux EAJE publié (Caf)": "decimal1",
                              "Écart (points)": "decimal1"}), hide_index=True, width="stretch")
    st.caption("Écart = taux calculé − taux publié, même année. Le taux publié compte toutes les places d'EAJE "
               "(PSU, hors PSU, micro-crèches Paje) au 31 décembre ; le taux calculé celles de la liste importée, pour "
               "les enfants de moins de 3 ans estimés ici.")


@st.cache_data(show_spinner=False, max_entries=32)
def naissances_chart(token: str, territoire: Territoire) -> tuple[bytes | None, pd.DataFrame]:
    from exports.charts import bar_chart

    inp = coverage_inputs()
    m = masque(inp.base, territoire.niveau, territoire.code).to_numpy()
    d = serie_naissances(inp, m)
    if d.empty or d["naissances"].isna().all():
        return None, d
    png = bar_chart(d["annee"].tolist(), {"Naissances domiciliées": d["naissances"].tolist()},
                    title="Naissances domiciliées par an", ylabel="naissances", value_labels=len(d) <= 12,
                    subtitle="Naissances vivantes dont la mère habite le territoire (état civil)",
                    source="Source : INSEE, état civil", figsize=(10.0, 4.0), dpi=110)
    return png, d


def naissances_section() -> None:
    png, d = naissances_chart(manifest_token(), terr)
    if png is None:
        st.info("Naissances non importées : importez le fichier INSEE des naissances domiciliées par commune "
                "(type « naissances ») depuis la page Import. Elles servent aussi à estimer les enfants de moins de "
                "3 ans (naissances des trois années précédentes).")
        return
    st.image(png, width="stretch", caption="Barres : naissances domiciliées par an ; mêmes chiffres dans le tableau.")
    t = d.rename(columns={"annee": "Année", "naissances": "Naissances",
                          "communes_sans_donnee": "Communes sans donnée"})
    st.dataframe(fr_frame(t), hide_index=True, width="stretch")
    st.caption("Enfants de moins de 3 ans au 1er janvier d'une année ≈ naissances des trois années précédentes "
               "(estimation à partir des naissances domiciliées, INSEE).")


def titre_annee(ind: str, vals: pd.DataFrame, annee: int) -> str:
    """Year of a published figure as the legend says it (« publié pour 2023 »)."""
    col = "annee_txcouv_caf" if ind in CAF_CODES else "annee_naissances" if ind == "naissances" else None
    if col is None or col not in vals.columns:
        return str(annee)
    years = sorted({int(y) for y, v in zip(vals[col], vals[ind]) if pd.notna(y) and pd.notna(v)})
    what = "publié" if ind in CAF_CODES else "naissances"
    if not years:
        return f"aucune donnée publiée au plus tard en {annee}"
    if len(years) == 1:
        return f"{what} {years[0]}" if ind == "naissances" else f"{what} pour {years[0]}"
    return f"{what} {years[0]} à {years[-1]} selon les territoires"


with guard("construire la carte de couverture"):
    spec = territoire_carte()
    if echelle == "commune" and spec.niveau == "france" and ind not in CAF_CODES:
        st.warning("Sur la France entière, la carte des communes ne montre que les taux publiés par la Cnaf (communes "
                   "de plus de 10 000 habitants) : choisissez un « Taux de couverture … publié (Caf) », ou un "
                   "département pour les autres indicateurs.")
        st.stop()
    dep = terr.departement if terr.niveau != "france" else None
    # a disabled checkbox keeps its last value: structures are never drawn on the France view
    layers = tuple(k for k, on in (("qpv", show_qpv and terr.niveau != "france"), ("frr", show_frr), ("zrr", show_zrr),
                                   ("structures", show_pts and terr.niveau != "france")) if on)
    filt = tuple(sorted((k, v) for k, v in filters.items() if v))
    per = tuple(periode) if ind in PERIOD_INDICATORS else ()
    meta = indicator_meta(ind, annee, per)
    token = manifest_token()
    vals = values_for(token, echelle, spec, annee, filt, per)
    if echelle == "commune" and spec.niveau == "france":
        vals = vals[vals[ind].notna()]
    an_lib = titre_annee(ind, vals, annee)
    titre = f"{meta['label']} — {terr.libelle if terr.niveau != 'commune' else terr.nom} ({an_lib})"
    html = map_for(token, echelle, spec, dep, ind, annee, methode, layers, filt, titre,
                   terr.code if terr.niveau == "commune" else None, "static", per)

    st.markdown(f"**{md(meta['label'])}** — {md(meta['unite'])}, {an_lib}. Source : {md(meta['source'])}.")
    if meta.get("description"):
        st.caption(meta["description"])
    if meta.get("enfants"):
        st.caption("Enfants de moins de 3 ans : " + md(meta["enfants"]) + ".")
    if echelle == "commune" and spec.niveau == "france":
        st.caption(f"{int(vals[ind].notna().sum())} communes publiées par la Cnaf (plus de 10 000 habitants ; Paris, "
                   "Lyon et Marseille sont publiées par arrondissement et restent « donnée non disponible »).")
    st.iframe(html, height=620, alt=f"Carte : {titre}. Les mêmes chiffres sont dans le tableau sous la carte.")
    st.caption("Carte : survolez ou parcourez au clavier (Tab) un territoire pour ses chiffres ; la couche "
               "grise hachurée signale une **donnée non disponible** (différente de zéro). La légende se déplie d'un "
               "clic sur son titre. Les mêmes chiffres sont dans le « Tableau » ci-dessous.")
    # one view at a time under the map (only the chosen one is computed: the map is not held back)
    vue = st.radio("Sous la carte", ["Tableau", "Taux publiés par la Caf depuis 2017", "EAJE : calculé et publié",
                                     "Naissances"], horizontal=True, key="cov_vue", label_visibility="collapsed")
    if vue == "Tableau":
        cols = [c for c in TABLE_COLUMNS if c in vals.columns and c != ind
                and not (pd.api.types.is_float_dtype(vals[c]) and vals[c].isna().all())]  # no empty column
        cols.insert(2, ind)  # the mapped figure right after the name
        shown = vals[cols].rename(columns={**TABLE_COLUMNS, ind: meta["label"]})
        for c in shown.columns:  # booleans and labels: words, not True/None
            if shown[c].dtype == bool or shown[c].dtype == object or str(shown[c].dtype) in ("str", "string"):
                shown[c] = shown[c].map(lambda v: "oui" if v is True else "non" if v is False else
                                        ("n.d." if v is None or (isinstance(v, float) and pd.isna(v)) else v))
        sort_col = meta["label"]
        if sort_col in shown.columns:
            shown = shown.sort_values(sort_col, ascending=not meta.get("higher_is_better", True), na_position="last")
        st.markdown(f"**{len(shown)} {scale_label[echelle].lower()}**, du mieux au moins bien placé pour "
                    f"« {md(meta['label'])} »")
        for c in shown.columns:  # one decimal, on screen and in the downloads
            if pd.api.types.is_float_dtype(shown[c]):
                shown[c] = shown[c].round(1)
        # French numbers on screen (text: « 1 234,5 », never « 1,234.5 »); numbers in the downloads
        cfg = {c: st.column_config.TextColumn(width="small") for c in shown.columns}
        cfg[shown.columns[2]] = st.column_config.TextColumn(width="small", help=f"{meta['label']} ({meta['unite']})")
        cfg["Nom"] = st.column_config.TextColumn(width="medium", pinned=True)
        # the code stays in the downloads; on screen the name (pinned) and the mapped figure come first
        st.dataframe(fr_frame(shown, na="n.d."), hide_index=True, height=480, width="stretch", column_config=cfg,
                     column_order=[c for c in shown.columns if c != "Code"])
        notes = [f"{meta['label']} ({meta['unite']}), {an_lib}", f"Source : {meta['source']}"]
        d1, d2, d3, _d4 = st.columns([1, 1, 1, 3])
        # files built only when clicked: the Excel file alone cost ≈ 0,27 s of every rerun (bench_service)
        d1.download_button("CSV", lambda: frame_to_csv(shown, notes), file_name=f"couverture_{annee}.csv",
                           mime="text/csv", key="cov_dl_csv")
        d2.download_button("Excel", lambda: frame_to_xlsx(shown, "Couverture", notes), file_name=f"couverture_{annee}.xlsx",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="cov_dl_xlsx")
        hl = terr.code if terr.niveau == "commune" else None
        d3.download_button("Carte HTML",  # built only when clicked (self-contained: Leaflet inlined)
                           lambda: map_for(token, echelle, spec, dep, ind, annee, methode, layers, filt, titre, hl,
                                           "inline", per),
                           file_name=f"carte_{annee}.html", mime="text/html", key="cov_dl_html",
                           help="Carte interactive autonome (fonctionne hors ligne, sans l'application).")
    elif vue == "Taux publiés par la Caf depuis 2017":
        serie_section()
    elif vue == "EAJE : calculé et publié":
        ecart_section(vals, annee)
    else:
        naissances_section()

with guard("calculer la variation des places PSU"):
    st.subheader("Variation nette des places PSU et trajectoire COG")
    spec_t = terr
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
    st.dataframe(fr_frame(tab), hide_index=True, width="stretch")
