"""Saved scenarios: list, rename, compare two or more side by side."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from planning.formats import fr_euros, fr_frame, fr_horodatage
from pages._baremes_saisis import baremes_en_vigueur
from pages._data import communes_validation
from pages._ui import guard, html_texte, md, require_store, territory_picker
from planning.scenario_compare import compare_results
from data.identite import ROLE_CONSEILLER
from data.scenarios_db import ConflitDeVersion, ScenarioErreur, ScenarioStore
from pages._session import utilisateur_courant
from planning.scenario_format import ScenarioInvalide
from planning.simulation import simulate

st.title("Comparer les scénarios")
require_store()
terr = territory_picker()


@st.cache_resource
def scenario_db() -> ScenarioStore:
    return ScenarioStore()


user = utilisateur_courant()
try:
    db = scenario_db()
    metas = db.list(utilisateur=user)
except ScenarioErreur as exc:
    st.error(f"Base des scénarios indisponible : {md(exc)}")
    st.stop()

if not metas:
    st.info("Aucun scénario enregistré dans votre périmètre. Construisez-en un dans le **Simulateur** puis "
            "enregistrez-le.")
    st.stop()

only_here = st.toggle("Seulement les scénarios du territoire choisi", value=False, key="cmp_only_here")
key_here = terr.cle
if only_here:
    metas = [m for m in metas if m.territoire == key_here]

listing = pd.DataFrame([{"id": m.id, "Nom": m.name, "Territoire": m.territoire,
                         "Département": m.departement or "—", "Version": m.version,
                         "Modifié le": fr_horodatage(m.updated_at), "Auteur": m.auteur or ""}
                        for m in metas])
st.dataframe(fr_frame(listing.drop(columns="id")), hide_index=True, width="stretch")

labels = {m.id: f"{m.name} ({m.territoire})" for m in metas}
chosen = st.multiselect("Scénarios à comparer (deux ou plus ; le premier sert de référence)", list(labels),
                        format_func=labels.get, key="cmp_pick", max_selections=6)

def rename_or_delete() -> None:
    with st.expander("Renommer ou supprimer un scénario"):
        target = st.selectbox("Scénario", [""] + list(labels), format_func=lambda i: labels.get(i, "—"),
                              key="cmp_target")
        new_name = st.text_input("Nouveau nom", key="cmp_new_name", max_chars=120)
        r1, r2 = st.columns(2)
        try:
            if r1.button("Renommer", key="cmp_rename", disabled=not (target and new_name.strip())):
                m = next(x for x in metas if x.id == target)
                db.rename(target, new_name, expected_version=m.version, auteur=None if user.local else user.nom,
                          utilisateur=user)
                st.rerun()
            if r2.button("Supprimer", key="cmp_delete", disabled=not target):
                m = next(x for x in metas if x.id == target)
                db.delete(target, expected_version=m.version, utilisateur=user)
                st.rerun()
        except ConflitDeVersion as exc:
            st.warning(md(exc))
        except ScenarioErreur as exc:
            st.error(md(exc))


if user.peut(ROLE_CONSEILLER):   # the store refuses a lecteur anyway (data/droits.py)
    rename_or_delete()

if len(chosen) < 2:
    st.caption("Choisissez au moins deux scénarios.")
    st.stop()

with guard("comparer les scénarios"):
    results = {}
    for sid in chosen:
        s = db.get(sid, utilisateur=user)
        try:
            results[s.meta.name] = simulate(s.data, baremes=baremes_en_vigueur(terr.departement)[0],
                                            communes=communes_validation())
        except ScenarioInvalide as exc:
            st.error(f"« {md(s.meta.name)} » ne peut pas être calculé : " + " ; ".join(md(e) for e in exc.erreurs))
    if len(results) < 2:
        st.stop()
    cmp_ = compare_results(results)
    st.subheader("Côte à côte (cumul sur la période)")
    st.dataframe(fr_frame(cmp_.summary), hide_index=True, width="stretch")
    ref = cmp_.reference
    st.subheader(f"Écart par année avec « {md(ref)} » (Caf et reste à charge)")
    fig = go.Figure()
    palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00"]
    for i, (name, d) in enumerate(cmp_.differences.groupby("scenario", sort=False)):
        fig.add_bar(x=d["annee"], y=d["ecart_total_caf"], name=f"{html_texte(name)} — Caf", marker_color=palette[i % 5])
        fig.add_scatter(x=d["annee"], y=d["ecart_reste_a_charge"], name=f"{html_texte(name)} — reste à charge",
                        mode="lines+markers", line=dict(color=palette[i % 5], dash="dash"))
    fig.update_layout(barmode="group", height=400, separators=", ", yaxis_title="€ (écart avec la référence)",
                      yaxis_tickformat=",.0f",
                      xaxis=dict(dtick=1), legend=dict(orientation="h", y=-0.2), margin=dict(t=20))
    st.plotly_chart(fig, width="stretch", key="cmp_chart")
    st.markdown("Tableau des écarts (alternative textuelle du graphique)")
    st.dataframe(fr_frame(cmp_.differences.rename(columns={
        "scenario": "Scénario", "annee": "Année", "ecart_total_caf": "Écart Caf (€)",
        "ecart_reste_a_charge": "Écart reste à charge (€)", "ecart_places": "Écart places PSU"})),
        hide_index=True, width="stretch")
    st.caption(f"Total Caf de la référence : {fr_euros(cmp_.totals[ref]['total_caf_territoire'])}.")
