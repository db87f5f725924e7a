"""Service public de la petite enfance: who must have a schéma pluriannuel and an RPE, who does not yet,
where the zones en tension are and why, demand to 2030, inequality, settings and the diagnostic."""
from __future__ import annotations

import datetime as dt

import streamlit as st

from exports.frames import frame_to_csv, frame_to_xlsx
from pages import _sppe_vue as ui
from pages._data import communes_of
from pages._ui import communes_table, demo_banner, guard, manifest_token, require_store, territory_picker
from planning.formats import fr_int
from planning.sppe import NOTE_INFORMATION, libelle_palier
from planning.territoires import FRANCE, resolve
from planning.zones_tension import est_vrai

st.title("Service public de la petite enfance")
require_store()
terr = territory_picker()
demo_banner()
token = ui.jeton()

c1, c2, c3 = st.columns([2, 5, 2], vertical_alignment="bottom")
quand = c1.date_input("Situation au", dt.date.today(), format="DD/MM/YYYY", key="sppe_date")
paliers = c2.multiselect("Paliers", ["10000", "3500", "toutes"], default=["10000", "3500"], key="sppe_paliers",
                         format_func=lambda p: ("toutes les autorités" if p == "toutes"
                                                else f"plus de {p[:-3]}\u202f{p[-3:]} habitants"))
filtre = c3.toggle("Non remplies", key="sppe_filtre",
                   help="N'affiche que les autorités dont une obligation en vigueur n'est pas remplie.")
c4, c5, c6 = st.columns([4, 3, 2], vertical_alignment="bottom")
mesure = c4.selectbox("Zones en tension : taux comparé", ["eaje", "global"], key="sppe_mesure",
                      format_func={"eaje": "taux EAJE calculé (liste des structures)",
                                   "global": "taux global publié (Cnaf)"}.get)
reference = c5.selectbox("Référence", ["departement", "france", "utilisateur"], key="sppe_ref",
                         format_func={"departement": "taux du département", "france": "taux de la France",
                                      "utilisateur": "valeur saisie"}.get)
saisie = c6.text_input("Valeur saisie", "20", key="sppe_ref_val", disabled=reference != "utilisateur",
                       help="Places pour 100 enfants de moins de 3 ans, de 0 à 200 (virgule décimale : 20,5).")
valeur = ui.nombre_fr(saisie, 0.0, 200.0)
if reference == "utilisateur" and valeur is None:
    c6.error("Nombre de 0 à 200 attendu (ex. 20,5).")
    reference = "departement"

if terr.niveau == "france":
    perimetre = FRANCE
    st.info("Vue France : les chiffres ci-dessous couvrent toutes les communes ; choisissez un département pour la "
            "carte, les zones en tension et la demande.")
else:
    perimetre = resolve(communes_table(manifest_token()), "departement", terr.departement)

with guard("calculer les obligations des autorités organisatrices"):
    res = ui.resultat_sppe(token, perimetre, quand)
    if terr.niveau in ("epci", "ept", "commune"):
        mine = set(communes_of(terr)["code_insee"])
        keep = res.table["communes"].apply(lambda cs: bool(mine & set(cs)))
        res.table = res.table[keep].reset_index(drop=True)
    s = res.seuils
    r = res.resume()
    m = st.columns(5)
    m[0].metric("Autorités organisatrices", fr_int(r["autorites"]),
                help=f"{r['par_type']['commune']} communes et {r['par_type']['epci']} EPCI détenant la compétence")
    m[1].metric(libelle_palier("10000", s).capitalize(), fr_int(r["par_palier"]["10000"]),
                help="schéma pluriannuel et RPE obligatoires")
    m[2].metric(libelle_palier("3500", s).capitalize(), fr_int(r["par_palier"]["3500"]), help="planification")
    nr, dm = r["obligations_non_remplies"], r["donnees_manquantes"]
    m[3].metric("RPE manquant", fr_int(nr["rpe"]),
                help=f"obligation en vigueur depuis le {s.debut_rpe:%d/%m/%Y} ; {dm['rpe']} sans liste de structures")
    m[4].metric("Schéma non adopté", fr_int(nr["schema"]), help=f"{dm['schema']} statut(s) non renseigné(s)")
    if dm["rpe"]:
        st.warning(f"{dm['rpe']} autorité(s) de plus de {fr_int(s.rpe)} habitants sans liste de structures : RPE "
                   "« donnée non disponible » (importez la liste des structures de ce département).",
                   icon=":material/help:")

zones = None
if terr.niveau != "france":
    with guard("classer les zones en tension"):
        zones = ui.zones(token, terr.departement, quand.year, mesure, reference,
                         float(valeur) if reference == "utilisateur" else None)

table = ui.table_autorites(res, zones.communes if zones is not None else None)
show = table[res.table["palier"].isin(paliers).to_numpy()]
if filtre:
    show = show[res.table.loc[res.table["palier"].isin(paliers), "non_remplie"].to_numpy()]

with guard("afficher la carte et le tableau des autorités"):
    left, right = st.columns([3, 2]) if terr.niveau != "france" else (None, st.container())
    if left is not None:
        with left:
            labels = ui.categories_carte(s)
            rows = tuple((c, ui.categorie(row)) for row in res.table.to_dict("records") for c in row["communes"])
            tension = tuple((c, z) for c, z, t in zip(zones.communes["code"], zones.communes["motifs"],
                                                      zones.communes["zone_en_tension"]) if est_vrai(t))
            html = ui.carte(token, terr.departement, rows, tension,
                            f"Autorités organisatrices au {quand:%d/%m/%Y} — {terr.libelle}", labels,
                            res.sources.get("structures", ""))
            st.iframe(html, height=520, alt="Carte des communes selon le palier et les obligations de leur autorité "
                                            "organisatrice, zones en tension hachurées ; même information dans le "
                                            "tableau à droite.")
            st.caption("Hachures noires : zones en tension (offre insuffisante ou accès difficile, voir le tableau des "
                       "zones). Une commune membre d'un EPCI compétent prend la couleur de l'EPCI.")
    with right:
        st.markdown(f"**Autorités ({fr_int(len(show))} affichées)**")
        st.dataframe(show, hide_index=True, width="stretch", height=460)
        notes = [f"Autorités organisatrices au {quand:%d/%m/%Y} — {terr.libelle}", NOTE_INFORMATION]
        st.caption(f"{dm['schema']} statut(s) de schéma non renseigné(s) : à saisir dans « Réglages » ou à importer "
                   "(type « schemas »). " + NOTE_INFORMATION)
        d1, d2 = st.columns(2)
        d1.download_button("CSV", frame_to_csv(table, notes), file_name=f"sppe_{perimetre.code or 'france'}.csv",
                           mime="text/csv", key="sppe_dl_csv")
        d2.download_button("Excel", frame_to_xlsx(table, "Autorités", notes), file_name=f"sppe_{perimetre.code or 'france'}.xlsx",
                           key="sppe_dl_xlsx")

if terr.niveau != "france":
    from pages import _sppe_onglets as sections

    onglets = st.tabs(["Zones en tension", "Demande à l'horizon", "Inégalités", "Réglages", "Diagnostic du schéma"])
    with onglets[0]:
        sections.zones_en_tension(zones, terr)
    with onglets[1]:
        sections.demande(terr, res, quand)
    with onglets[2]:
        sections.inegalites(terr, quand)
    with onglets[3]:
        sections.reglages(terr, res)
    with onglets[4]:
        sections.diagnostic(terr, res, quand)
else:
    from pages import _sppe_onglets as sections

    sections.inegalites(terr, quand)
