"""CTG funding simulator: PSU and bonuses for a trajectory of places, year by year, with saved scenarios."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from pages._baremes_saisis import baremes_en_vigueur
from pages._data import communes_of, communes_validation, frr_communes, potentiel_financier, qpv_communes, table
from data.identite import ROLE_CONSEILLER
from pages._session import utilisateur_courant
from pages._simulateur_detail import date_fr, lien_bareme, show_bareme_version, show_calculation_detail
from pages._ui import (demo_banner, guard, md, md_lignes, require_store,
                       territory_picker)
from planning.bareme_saisie import statut
from planning.parametres import NATURE_SAISIE
from planning.formats import fr_euros, fr_frame, fr_horodatage, fr_number, fr_parameter_value, fr_ratio
from planning.scenario_edit import (BOOL_FIELDS, SCALAR_FIELDS, apply_structures_frame, message_lisible,
                                    overrides_from_frame, parametres_frame, places_column, scenario_from_store,
                                    structures_frame)
from data.scenarios_db import ConflitDeVersion, ScenarioErreur, ScenarioStore
from planning.scenario_format import ScenarioInvalide
from planning.simulation import simulate
from planning.validation import validate_scenario

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "scenarios"
AMOUNTS = ["psu", "journees_pedagogiques", "bonus_mixite", "bonus_inclusion_handicap", "bonus_attractivite",
           "bonus_territoire_nouvelles", "bonus_territoire_existantes", "bonus_rattrapage", "bonus_trajectoire"]
# Okabe-Ito + greys: distinguishable by colour-blind readers
COLORS = ["#0072B2", "#56B4E9", "#009E73", "#F0E442", "#E69F00", "#D55E00", "#CC79A7", "#999999", "#000000"]

st.title("Simulateur de financement CTG")
require_store()
terr = territory_picker()
demo_banner()
# the barèmes in force for this territory: shipped values + national and local barèmes saisis
BAREMES, _bar_err = baremes_en_vigueur(terr.departement)
if _bar_err:
    st.warning(md(_bar_err))


@st.cache_resource
def scenario_db() -> ScenarioStore:
    return ScenarioStore()


DOWNLOAD_MAX_LIGNES = 1000  # structure-years: beyond, the detailed JSON (≈ 45 kB per line) is for the command line


def set_scenario(data: dict, sid: str | None = None, version: int | None = None, name: str | None = None) -> None:
    st.session_state["sim_data"] = data
    st.session_state["sim_id"] = sid
    st.session_state["sim_version"] = version
    st.session_state["sim_name"] = name or data.get("nom", "Scénario")
    st.session_state["sim_rev"] = st.session_state.get("sim_rev", 0) + 1  # resets the editors


def prefill() -> dict:
    com = communes_of(terr)
    codes = list(com["code_insee"])
    return scenario_from_store(terr.nom, codes, table("structures"), qpv_communes=qpv_communes(),
                               frr_communes=frr_communes(), potentiel_financier=potentiel_financier(codes))


if terr.niveau == "france":
    st.info("Choisissez un département, puis de préférence un EPCI ou un EPT (territoire de la CTG) dans la "
            "barre latérale.")
    st.stop()

if st.session_state.get("sim_terr") != terr.cle:
    st.session_state["sim_terr"] = terr.cle
    with guard("pré-remplir le scénario depuis la liste des structures"):
        set_scenario(prefill())

# -- scenario management --------------------------------------------------------
with guard("compter les places au PSU non renseigné"):
    from planning.scenario_edit import structures_psu_inconnu

    _nr = structures_psu_inconnu(table("structures"), list(communes_of(terr)["code_insee"]),
                            st.session_state.get("sim_data", {}).get("periode", {}).get("debut", 2023))
    if _nr[0]:
        st.warning(f"{fr_number(_nr[0], 0)} crèche(s) du territoire ({fr_number(_nr[1], 0)} places) ont un financement "
                   "PSU « non renseigné » dans la liste des structures : elles ne sont pas pré-remplies ; ajoutez-les "
                   "à la main si elles sont financées par la PSU.", icon=":material/help:")
st.caption(f"Territoire de la CTG : **{md(terr.libelle)}**. Les places PSU existantes sont pré-remplies depuis la "
           "liste des structures ; coûts et heures sont des **valeurs à vérifier** à remplacer par celles de "
           "chaque structure.")
db_error = None
try:
    db = scenario_db()
    saved = db.list(terr.cle, utilisateur=utilisateur_courant())
except ScenarioErreur as exc:
    db, saved, db_error = None, [], str(exc)
if db_error:
    st.error(f"Base des scénarios indisponible : {md(db_error)}")

c1, c2, c3 = st.columns([5, 4, 4])
with c1:
    options = {m.id: f"{m.name} (v{m.version}, {fr_horodatage(m.updated_at)})" for m in saved}
    pick = st.selectbox("Scénarios enregistrés pour ce territoire", [""] + list(options),
                        format_func=lambda i: options.get(i, "—"), key="sim_pick")
    if st.button("Ouvrir", key="sim_open", disabled=not pick):
        with guard("ouvrir le scénario"):
            s = db.get(pick, utilisateur=utilisateur_courant())
            set_scenario(s.data, s.id, s.version, s.meta.name)
            st.rerun()
with c2:
    if st.button("Nouveau scénario pré-rempli", key="sim_new",
                 help="Repart des structures PSU du territoire présentes dans le magasin de données."):
        with guard("pré-remplir le scénario"):
            set_scenario(prefill())
            st.rerun()
with c3:
    ex = {p.name: p for p in sorted(EXAMPLES.glob("*.json"))}
    ex_pick = st.selectbox("Exemples", [""] + list(ex), key="sim_example",
                           format_func=lambda n: n or "—")
    if st.button("Charger l'exemple", key="sim_load_example", disabled=not ex_pick):
        with guard("charger l'exemple"):
            set_scenario(json.loads(ex[ex_pick].read_text(encoding="utf-8")))
            st.rerun()

data: dict = st.session_state["sim_data"]
rev = st.session_state.get("sim_rev", 0)
state = "non enregistré" if not st.session_state.get("sim_id") else f"version {st.session_state['sim_version']}"
st.subheader(f"{md(st.session_state.get('sim_name', 'Scénario'))} — {state}")

# -- territory inputs ---------------------------------------------------------------
with st.expander("Territoire et période", expanded=False):
    t = dict(data.get("territoire", {}))
    a, b, c = st.columns(3)
    debut = a.number_input("Première année", 2018, 2035, int(data["periode"]["debut"]), key=f"sim_debut_{rev}")
    fin = b.number_input("Dernière année", 2018, 2040, int(data["periode"]["fin"]), key=f"sim_fin_{rev}")
    t["places_psu_cofinancees_reference"] = c.number_input(
        "Places PSU cofinancées l'année de référence (toutes structures du territoire)", 0, 100000,
        int(t.get("places_psu_cofinancees_reference", 0)), key=f"sim_ref_{rev}",
        help="Base du bonus trajectoire (croissance des places PSU cofinancées depuis 2023).")
    a, b, c, d = st.columns(4)
    pf = a.number_input("Potentiel financier par habitant (€)", 0.0, 10000.0,
                        float(t.get("potentiel_financier_par_habitant") or 0.0), key=f"sim_pf_{rev}",
                        help="0 = inconnu : montant intermédiaire du bonus territoire. Importez le fichier DGCL "
                             "pour le pré-remplir.")
    t["potentiel_financier_par_habitant"] = pf if pf > 0 else None
    t["qpv"] = b.checkbox("Territoire en QPV", bool(t.get("qpv")), key=f"sim_qpv_{rev}")
    t["frr_zrr"] = c.checkbox("Territoire en FRR / ZRR", bool(t.get("frr_zrr")), key=f"sim_frr_{rev}")
    t["montant_cej_par_place"] = d.number_input("Ancien montant CEJ par place (€)", 0.0, 20000.0,
                                                float(t.get("montant_cej_par_place") or 0.0), key=f"sim_cej_{rev}")
    t = {k: v for k, v in t.items() if v is not None}
    data = {**data, "territoire": t, "periode": {"debut": int(debut), "fin": int(fin)}}

# -- structures and trajectory --------------------------------------------------------
st.markdown("#### Structures et trajectoire de places")
st.caption("Une ligne par structure PSU (existante ou en projet). Places en fonctionnement chaque année : "
           "ouvertures, extensions et fermetures. Ajoutez une ligne pour une structure en projet.")
frame = structures_frame(data)
codes = sorted(set(data["territoire"].get("communes", [])))
col_cfg = {
    "id": st.column_config.TextColumn("Identifiant", width="small"),
    "nom": st.column_config.TextColumn("Structure", required=True),
    "code_insee": st.column_config.SelectboxColumn("Commune (INSEE)", options=codes or None, required=True),
    "gestion": st.column_config.SelectboxColumn("Gestion", options=["publique", "privee"], required=True,
                                                format_func={"publique": "publique", "privee": "privée"}.get),
    "psu": st.column_config.CheckboxColumn("PSU"),
}
for y in range(int(data["periode"]["debut"]), int(data["periode"]["fin"]) + 1):
    col_cfg[places_column(y)] = st.column_config.NumberColumn(f"Places {y}", min_value=0, step=1, format="%d")
for k, label in SCALAR_FIELDS.items():
    col_cfg[k] = st.column_config.NumberColumn(label, min_value=0.0, format="%.2f")
for k, label in BOOL_FIELDS.items():
    col_cfg[k] = st.column_config.CheckboxColumn(label)
edited = st.data_editor(frame, column_config=col_cfg, num_rows="dynamic", hide_index=True,
                        key=f"sim_structs_{rev}_{data['periode']['debut']}_{data['periode']['fin']}", width="stretch")
data = apply_structures_frame(data, edited)

# -- parameters --------------------------------------------------------------------------
with st.expander("Paramètres (barèmes datés) — modifiez une valeur pour ce scénario"):
    st.caption("Valeurs en vigueur à la dernière année de la période. **à vérifier** : valeur par défaut non "
               "officielle (confiance « ? »), à confirmer ; **barème saisi** : valeur du barème de l'année saisie "
               "par un administrateur (source indiquée) ; une valeur modifiée ici vaut pour toutes les années "
               "du scénario et est signalée « saisie de l'utilisateur ».")
    bar = BAREMES
    pframe = parametres_frame(bar, int(data["periode"]["fin"]), data.get("parametres", {}))
    pframe.insert(0, "statut", [statut(r) for r in pframe.to_dict("records")])
    pframe["depuis"] = pd.to_datetime(pframe["depuis"], errors="coerce").dt.strftime("%d/%m/%Y").fillna("saisie")
    pframe = pframe[["statut", "description", "valeur", "valeur_officielle", "unite", "depuis", "source",
                     "parametre", "confiance"]]
    pedit = st.data_editor(
        pframe, hide_index=True, key=f"sim_params_{rev}", width="stretch",
        disabled=[c for c in pframe.columns if c != "valeur"],
        column_config={"statut": st.column_config.TextColumn("Statut", width="small"),
                       "description": st.column_config.TextColumn("Paramètre", width="large"),
                       "valeur": st.column_config.NumberColumn("Valeur du scénario (modifiable)", format="localized"),
                       "valeur_officielle": st.column_config.NumberColumn("Valeur du barème", format="localized"),
                       "unite": "Unité", "depuis": "En vigueur depuis", "source": "Source",
                       "parametre": "Code", "confiance": "Confiance"})
    data = {**data, "parametres": {**{k: v for k, v in data.get("parametres", {}).items()
                                      if k not in set(pframe["parametre"])},
                                   **overrides_from_frame(pedit)}}
    # rules with a choice (not numbers): the reading of the bonus inclusion handicap
    lec_def = bar.definition("bonus.handicap_lecture")
    lec_pv = bar.get_or_none("bonus.handicap_lecture", int(data["periode"]["fin"]))
    if lec_pv is not None:
        courant = data["parametres"].get("bonus.handicap_lecture", lec_pv.valeur)
        lec_options = list(lec_def.choix)
        lecture = st.selectbox(
            "Bonus inclusion handicap : lecture de la formule (à vérifier)", lec_options,
            index=lec_options.index(courant) if courant in lec_options else 0, key=f"sim_lecture_handicap_{rev}",
            format_func=lambda k: lec_def.choix[k] + (" — barème par défaut" if k == lec_pv.valeur else ""),
            help="La formule officielle se lit de deux façons ; la lecture « toutes les places » donne le plafond "
                 "pour un seul enfant dans presque toute crèche, ce que contredisent les montants publiés.")
        params = {k: v for k, v in data["parametres"].items() if k != "bonus.handicap_lecture"}
        if lecture != lec_pv.valeur:
            params["bonus.handicap_lecture"] = lecture
        data = {**data, "parametres": params}
    st.markdown("[Voir toutes les valeurs datées et leurs sources (page Barèmes)](/baremes)")

st.session_state["sim_current"] = data

def show_results(result, data: dict) -> pd.DataFrame:
    """Totals, alerts, the chart by year and its table; returns the frame by structure and year."""
    frames = result.to_frames()
    py, ps = frames["par_annee"], frames["par_structure"]
    from planning.simulation import LIBELLES as labels

    cumul = result.cumul
    last = {"annee": result.annees[-1].annee, "part_caf": result.annees[-1].part_caf,
            "trajectoire": result.annees[-1].trajectoire.to_dict()}
    a_verifier = sorted({p["parametre"] for p in result.parametres_utilises() if p["a_verifier"]})

    st.markdown("#### Résultats")
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(f"Caf, total {data['periode']['debut']}-{data['periode']['fin']}", fr_euros(cumul["total_caf_territoire"]))
    m2.metric("Reste à charge de la collectivité (cumul)", fr_euros(cumul["reste_a_charge_collectivite"]))
    m3.metric("Participations familiales (cumul)", fr_euros(cumul["participations_familiales"]))
    m4.metric(f"Part Caf du coût en {last['annee']}", fr_ratio(last["part_caf"]))
    traj = last["trajectoire"]
    st.info(f"**Bonus trajectoire** — {md(traj['message'])}")
    for a in result.alertes:
        st.warning(md(a))
    for n in result.notes:
        st.caption(md(n))
    saisis: dict[str, set[str]] = {}  # source → parameters
    for p in result.parametres_utilises():
        if p.get("nature") == NATURE_SAISIE:
            saisis.setdefault(p["source"], set()).add(p["parametre"])
    for source, noms in sorted(saisis.items()):
        st.caption(f"Montants calculés avec le **barème saisi** — source : {md(source)} — pour "
                   + ", ".join(md(n) for n in sorted(noms)) + ".")
    if a_verifier:
        descr = {r["parametre"]: r["description"] for r in BAREMES.table(data["periode"]["fin"])}
        st.caption("Montants calculés avec des valeurs **à vérifier** (non officielles, modifiables dans "
                   "« Paramètres ») : " + " ; ".join(md(descr.get(p, p)) for p in a_verifier) + ".")

    fig = go.Figure()
    for i, k in enumerate(AMOUNTS):
        if k in py and py[k].abs().sum() > 0:
            fig.add_bar(x=py["annee"], y=py[k], name=labels.get(k, k), marker_color=COLORS[i % len(COLORS)],
                        hovertemplate="%{x} : %{y:,.0f} €<extra>" + labels.get(k, k) + "</extra>")
    if "bonus_trajectoire_autres_places" in py and py["bonus_trajectoire_autres_places"].sum() > 0:
        fig.add_bar(x=py["annee"], y=py["bonus_trajectoire_autres_places"], name="Bonus trajectoire (autres places)",
                    marker_color="#666666")
    fig.add_scatter(x=py["annee"], y=py["reste_a_charge_collectivite"], name="Reste à charge de la collectivité",
                    mode="lines+markers", line=dict(color="#000000", width=3, dash="dash"), marker_symbol="diamond")
    fig.add_scatter(x=py["annee"], y=py["participations_familiales"], name="Participations familiales",
                    mode="lines+markers", line=dict(color="#D55E00", width=2, dash="dot"), marker_symbol="square")
    fig.update_layout(barmode="stack", height=430, separators=", ", legend=dict(orientation="h", y=-0.2),
                      yaxis_title="€ par an", yaxis_tickformat=",.0f", xaxis=dict(dtick=1), margin=dict(t=30),
                      title="Financement Caf par année (barres) et reste à charge (ligne)")
    st.plotly_chart(fig, width="stretch", key="sim_chart")

    show = pd.DataFrame({"Année": py["annee"].astype(int)})
    if "places_psu_territoire" in py:
        show["Places PSU cofinancées du territoire"] = py["places_psu_territoire"]
    if "croissance_places" in py:
        show["Croissance depuis la référence (%)"] = (100 * py["croissance_places"]).round(1)
    for k in AMOUNTS + ["total_caf_territoire", "participations_familiales", "cout_fonctionnement",
                        "autres_cofinanceurs", "reste_a_charge_collectivite"]:
        if k in py:
            show[labels.get(k, k)] = py[k].round(0)
    show["Part Caf du coût (%)"] = (100 * py["part_caf"]).round(1)
    st.markdown("Tableau par année (€) — alternative textuelle du graphique")
    formats = {c: "entier" for c in show.columns} | {
        "Année": "annee", "Croissance depuis la référence (%)": "decimal1", "Part Caf du coût (%)": "decimal1"}
    st.dataframe(fr_frame(show, formats), hide_index=True, width="stretch")
    return ps


def show_billing_reform(data: dict, ps: pd.DataFrame, y_pick: int, s_pick: str | None) -> None:
    """The 2024 (paliers) and 2025 (linéaire) billing rules side by side for the structure picked."""
    with st.expander("Effet de la réforme du taux de facturation (règle par paliers jusqu'en 2024, linéaire "
                     "depuis 2025)"):
        from planning.psu import comparer_regles_facturation

        if s_pick is not None:
            srow = ps[(ps["annee"] == y_pick) & (ps["structure_id"] == s_pick)].iloc[0]
            sdef = next(s for s in data["structures"] if str(s.get("id")) == s_pick)
            from planning.scenario_format import value_for_year

            tf = st.slider("Taux de facturation", 1.00, 1.30, float(value_for_year(sdef["taux_facturation"], y_pick)),
                           0.01, key="sim_tf")
            cmp_ = comparer_regles_facturation(
                y_pick, prix_revient_horaire=float(value_for_year(sdef["prix_revient_horaire"], y_pick)),
                heures_facturees=float(srow["heures_facturees"]), taux_facturation=tf,
                participations_familiales=float(srow["participations_familiales"]),
                part_regime_general=float(sdef.get("part_regime_general") or BAREMES.value(
                    "psu.part_regime_general_defaut", y_pick)),
                baremes=BAREMES.with_overrides(data.get("parametres") or {}))
            st.write(md(cmp_["message"]))


def history_section(sid: str, ver: int, user, auteur: str | None, ecriture: bool) -> None:
    """Saved versions of the open scenario (Paris time, author, action); restoring one saves it again as
    a new version (the history keeps everything, the audit trail records the restoration)."""
    with st.expander("Historique des versions"):
        try:
            versions = db.history(sid, utilisateur=user)
        except ScenarioErreur as exc:
            st.error(md(exc))
            return
        st.dataframe(fr_frame(pd.DataFrame([{"Version": v.version, "Enregistrée le": fr_horodatage(v.saved_at),
                                             "Auteur": v.auteur or "", "Action": v.action, "Nom": v.name}
                                            for v in reversed(versions)])), hide_index=True, width="stretch")
        anciennes = [v.version for v in versions if v.version != ver]
        if not ecriture or not anciennes:
            return
        h1, h2 = st.columns([2, 3], vertical_alignment="bottom")
        choix = h1.selectbox("Version à restaurer", sorted(anciennes, reverse=True), key=f"sim_restore_pick_{sid}",
                             format_func=lambda n: f"version {n}")
        if h2.button("Restaurer cette version", key="sim_restore",
                     help="Enregistre une nouvelle version identique à celle choisie ; rien n'est effacé."):
            try:
                s = db.restore(sid, choix, expected_version=ver, auteur=auteur, utilisateur=user)
            except ConflitDeVersion as exc:
                st.warning(md(exc))
                return
            except ScenarioErreur as exc:
                st.error(md(exc))
                return
            set_scenario(s.data, s.id, s.version, s.meta.name)
            st.toast(f"Version {choix} restaurée (nouvelle version {s.version}).")
            st.rerun()


def save_section(data: dict, result) -> None:
    """Save, save as, duplicate, delete; download the scenario and the detailed result."""
    st.markdown("#### Enregistrer")
    n1, n2 = st.columns([3, 4])
    name = n1.text_input("Nom du scénario", st.session_state.get("sim_name", data.get("nom", "Scénario")),
                         key=f"sim_name_input_{rev}", max_chars=120)
    b1, b2, b3, b4 = n2.columns(4)
    sid, ver = st.session_state.get("sim_id"), st.session_state.get("sim_version")
    # the barème version used is stored with the scenario: reopening it later says if the barème changed
    payload = {**data, "nom": name, "bareme": {"version": result.bareme_version, "departement": terr.departement}}
    user = utilisateur_courant()
    auteur = None if user.local else user.nom  # service mode: the signed-in person
    ecriture = user.peut(ROLE_CONSEILLER) and user.couvre(terr.departement)
    if not ecriture:   # the store refuses anyway (data/droits.py); say why before a click
        st.caption(md(f"Enregistrement réservé aux conseillers du territoire : vous êtes {user.libelle_roles or 'lecteur'} "
                      f"({user.libelle_departements}). Vous pouvez télécharger le scénario ci-dessous."))
    if db is not None and ecriture:
        try:
            if b1.button("Enregistrer", type="primary", key="sim_save"):
                s = db.update(sid, payload, expected_version=ver, name=name, auteur=auteur, utilisateur=user) \
                    if sid else db.create(name, terr.cle, payload, auteur=auteur, departement=terr.departement,
                                          utilisateur=user)
                set_scenario(s.data, s.id, s.version, s.meta.name)
                st.toast(f"Scénario enregistré (version {s.version}).")
                st.rerun()
            if b2.button("Enregistrer sous…", key="sim_save_as", help="Crée un nouveau scénario avec ce nom."):
                s = db.create(name, terr.cle, payload, auteur=auteur, departement=terr.departement,
                              utilisateur=user)
                set_scenario(s.data, s.id, s.version, s.meta.name)
                st.rerun()
            if b3.button("Dupliquer", key="sim_dup", disabled=not sid):
                s = db.duplicate(sid, auteur=auteur, utilisateur=user)
                set_scenario(s.data, s.id, s.version, s.meta.name)
                st.rerun()
            if b4.button("Supprimer", key="sim_del", disabled=not sid):
                db.delete(sid, expected_version=ver, utilisateur=user)
                set_scenario(prefill())
                st.rerun()
        except ConflitDeVersion as exc:
            st.warning(md(exc))
            if st.button("Recharger la version enregistrée", key="sim_reload"):
                s = db.get(sid, utilisateur=user)
                set_scenario(s.data, s.id, s.version, s.meta.name)
                st.rerun()
        except ScenarioErreur as exc:
            st.error(md(exc))
    if db is not None and sid:
        history_section(sid, ver, user, auteur, ecriture)
    e1, e2 = st.columns(2)
    e1.download_button("Télécharger le scénario (JSON)", json.dumps(payload, ensure_ascii=False, indent=2),
                       file_name="scenario_ctg.json", mime="application/json", key="sim_dl_scenario")
    if result.nb_lignes <= DOWNLOAD_MAX_LIGNES:
        def result_json() -> str:  # built on click only
            import io

            buf = io.StringIO()
            result.ecrire_json(buf)
            return buf.getvalue()

        e2.download_button("Télécharger le résultat détaillé (JSON)", result_json, file_name="resultat_ctg.json",
                           mime="application/json", key="sim_dl_result")
    else:
        e2.caption(f"Résultat détaillé ({fr_number(result.nb_lignes, 0)} lignes structure × année) trop volumineux pour le "
                   "navigateur : téléchargez le scénario puis `python -m planning simulate scenario_ctg.json --json`.")


# -- results ---------------------------------------------------------------------------------
communes_ref = communes_validation()
errors = validate_scenario(data, communes=communes_ref)  # once per rerun; simulate() does not check again
if not data.get("structures"):   # e.g. a département without a structure list: nothing to pre-fill
    st.info("Aucune structure PSU à simuler pour ce territoire : la liste des structures n'en contient pas (ou ce "
            "département n'a pas de liste importée). Ajoutez une ligne par structure, existante ou en projet, dans le "
            "tableau ci-dessus, chargez un exemple, ou importez la liste des structures (page « Import de données »).",
            icon=":material/info:")
    st.stop()
if errors:
    st.error("Le scénario ne peut pas être calculé :\n\n" + md_lignes(message_lisible(e, data) for e in errors))
    st.stop()

with guard("calculer le scénario"):
    try:
        result = simulate(data, baremes=BAREMES, communes=communes_ref, deja_valide=True)
    except ScenarioInvalide as exc:
        st.error("Le scénario ne peut pas être calculé :\n\n" + md_lignes(message_lisible(e, data) for e in exc.erreurs))
        st.stop()
    show_bareme_version(result, data)
    ps = show_results(result, data)
    y_pick, s_pick = show_calculation_detail(result)
    show_billing_reform(data, ps, y_pick, s_pick)
    save_section(data, result)

# -- family calculator ---------------------------------------------------------------------
with st.expander("Calculatrice de participation familiale (barème national)"):
    from planning.participations import ACCUEILS, LIBELLES_ACCUEIL, participation_famille

    f1, f2, f3, f4 = st.columns(4)
    ress = f1.number_input("Ressources mensuelles du foyer (€)", 0.0, 100000.0, 2500.0, key="fam_res")
    nb = f2.number_input("Enfants à charge", 1, 30, 1, key="fam_nb")
    hrs = f3.number_input("Heures d'accueil par mois", 0.0, 300.0, 150.0, key="fam_h")
    accueil = f4.selectbox("Type d'accueil", list(ACCUEILS), format_func=LIBELLES_ACCUEIL.get, key="fam_accueil")
    g1, g2 = st.columns(2)
    when = g1.date_input("Date du contrat", value=pd.Timestamp.today().date(), key="fam_date", format="DD/MM/YYYY",
                         min_value=pd.Timestamp("2018-01-01").date(), max_value=pd.Timestamp("2040-12-31").date())
    aeeh = g2.number_input("Enfants bénéficiaires de l'AEEH dans la famille", 0, int(nb), 0, key="fam_aeeh",
                           help="Chacun fait appliquer le taux d'effort immédiatement inférieur.")
    with guard("calculer la participation"):
        pf_ = participation_famille(when, ressources_mensuelles=ress, nb_enfants=int(nb), heures_mensuelles=hrs,
                                    baremes=BAREMES, aeeh=int(aeeh), accueil=accueil)
        st.write(f"Tarif horaire : **{fr_euros(pf_.tarif_horaire.valeur, 2)}** — montant mensuel : "
                 f"**{fr_euros(pf_.montant_mensuel.valeur, 2)}**")
        st.code("\n".join([pf_.ressources.formule, pf_.taux.formule, pf_.tarif_horaire.formule,
                           pf_.montant_mensuel.formule]), language=None, wrap_lines=True)
        st.dataframe(pd.DataFrame([{
            "Paramètre": p.name, "Barème": lien_bareme(p.name), "Valeur": fr_parameter_value(p.valeur, p.unite),
            "En vigueur depuis": date_fr(p.depuis.isoformat() if p.depuis else None),
            "Statut": statut(p), "Confiance": p.confiance, "Source": p.source,
        } for p in pf_.parametres()]), hide_index=True, width="stretch", key="fam_params",
            column_config={"Barème": st.column_config.LinkColumn("Barème", display_text=r"/baremes\?parametre=(.*)")})
        st.caption("Même calcul en ligne de commande : `python -m planning participation --date AAAA-MM-JJ "
                   "--ressources R --enfants N --accueil collectif --json`.")
