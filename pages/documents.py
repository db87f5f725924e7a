"""Committee and negotiation documents: SDSF departmental pack and CTG one-pager (pptx, pdf, xlsx)."""
from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import streamlit as st

from exports import build_ctg_onepager, build_sdsf_pack
from exports.sdsf import ExportImpossible
from pages._data import coverage_inputs
from pages._ui import demo_banner, guard, md, require_store, territory_picker
from data.scenarios_db import ScenarioErreur, ScenarioStore
from pages._session import utilisateur_courant

MIME = {"pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "pdf": "application/pdf",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "scenarios"

st.title("Documents pour le comité et la négociation")
require_store()
terr = territory_picker()
demo_banner()
st.markdown(
    "Documents prêts à projeter et à imprimer, produits sur ce poste (sans Internet) à partir des mêmes données "
    "que les écrans : cartes statiques, tableaux en formats français, sources et millésimes en page de garde, "
    "mention « données fictives de démonstration » sur chaque page quand les structures sont fictives, petits "
    "effectifs masqués (« < 5 », secret statistique). Même chose en ligne de commande : "
    f"`python -m exports sdsf --departement {terr.departement or 'DD'} --out DOSSIER`."
)


def offer(files: dict[str, bytes], key: str) -> None:
    cols = st.columns(max(1, len(files)))
    for col, (name, data) in zip(cols, sorted(files.items())):
        ext = name.rsplit(".", 1)[-1]
        col.download_button(f"Télécharger {md(name)}", data, file_name=name, mime=MIME.get(ext), key=f"{key}_{name}")


st.subheader("Dossier départemental SDSF")
if terr.niveau == "france":
    st.info("Choisissez un département dans la barre latérale.")
else:
    c1, c2 = st.columns([2, 1])
    formats = c1.multiselect("Formats", ["pptx", "pdf", "xlsx"], default=["pptx", "pdf", "xlsx"], key="doc_formats",
                             format_func={"pptx": "PowerPoint (modifiable)", "pdf": "PDF", "xlsx": "Excel (tableaux)"}.get)
    annee = int(c2.number_input("Année", 2015, 2035, dt.date.today().year, key="doc_year"))
    if st.button(f"Produire le dossier du département {terr.departement}", type="primary", key="doc_sdsf",
                 disabled=not formats):
        with guard("produire le dossier SDSF"):
            t0 = time.perf_counter()
            try:
                with st.spinner("Cartes, graphiques et tableaux en cours…"):
                    files = build_sdsf_pack(terr.departement, formats=tuple(formats), annee=annee,
                                            inputs=coverage_inputs())
                st.session_state["doc_sdsf_files"] = files
                st.session_state["doc_sdsf_time"] = time.perf_counter() - t0
            except ExportImpossible as exc:
                st.error(md(exc))
    if st.session_state.get("doc_sdsf_files"):
        st.success(f"Dossier produit en {st.session_state['doc_sdsf_time']:.1f} s.".replace(".", ","))
        offer(st.session_state["doc_sdsf_files"], "doc_sdsf_dl")

st.subheader("Fiche CTG (une à deux pages A4)")
sources: dict[str, dict] = {}
if st.session_state.get("sim_current"):
    sources["Scénario en cours dans le simulateur"] = st.session_state["sim_current"]
try:
    for m in ScenarioStore().list(utilisateur=utilisateur_courant()):
        sources[f"Enregistré : {m.name} ({m.territoire})"] = {"__id__": m.id}
except ScenarioErreur as exc:
    st.caption(f"Scénarios enregistrés indisponibles : {md(exc)}")
for p in sorted(EXAMPLES.glob("*.json")):
    sources[f"Exemple : {p.stem}"] = {"__path__": str(p)}
pick = st.selectbox("Scénario", list(sources), key="doc_ctg_pick")
if st.button("Produire la fiche CTG", type="primary", key="doc_ctg"):
    with guard("produire la fiche CTG"):
        src = sources[pick]
        if "__id__" in src:
            scenario = ScenarioStore().get(src["__id__"], utilisateur=utilisateur_courant()).data
        elif "__path__" in src:
            scenario = json.loads(Path(src["__path__"]).read_text(encoding="utf-8"))
        else:
            scenario = src
        try:
            with st.spinner("Fiche en cours…"):
                from data.baremes_db import departement_des_communes
                from pages._baremes_saisis import baremes_en_vigueur

                communes_ctg = (scenario.get("territoire") or {}).get("communes") or []
                bar, _err = baremes_en_vigueur(departement_des_communes(communes_ctg))
                st.session_state["doc_ctg_files"] = build_ctg_onepager(scenario, inputs=coverage_inputs(),
                                                                       baremes=bar)
        except ExportImpossible as exc:
            st.error(md(exc))
if st.session_state.get("doc_ctg_files"):
    offer(st.session_state["doc_ctg_files"], "doc_ctg_dl")
