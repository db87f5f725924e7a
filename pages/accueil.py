"""Home: what is loaded, its vintage and whether it is real, imported, estimated or fictitious."""
import pandas as pd
import streamlit as st

from data.store import DEMO_LABEL
from pages._texte import md
from planning.formats import fr_date, fr_frame, fr_int, fr_number
from planning.rpe import communes_obligees, echeance_legale, seuil_obligation
from pages._ui import NATURE_BADGE, communes_table, demo_banner, guard, manifest_token, require_store, store, territory_picker

st.title("Atlas Petite Enfance")
st.markdown(
    "Outil des conseillers territoriaux de la Caf pour **planifier l'offre d'accueil du jeune enfant** : "
    "couverture en crèches (EAJE) et en relais petite enfance (RPE) par commune, EPCI et département, "
    "objectif RPE de la COG 2023-2027, simulation du financement d'une trajectoire CTG, documents pour "
    "le comité départemental (SDSF)."
)
require_store()
terr = territory_picker()
demo_banner()

with guard("afficher l'état des données"):
    s = store()
    facts = s.manifest().get("facts", {})
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Communes (COG 2025)", fr_number(facts.get("communes"), 0))
    annee = pd.Timestamp.today().year
    seuil = seuil_obligation(annee)  # the RPE obligation threshold, from its dated parameter
    c2.metric(f"Communes de plus de {fr_int(seuil)} hab.",
              fr_int(len(communes_obligees(communes_table(manifest_token()), annee))))
    c3.metric("EPCI", fr_number(facts.get("epci"), 0))
    c4.metric("Départements", fr_number(facts.get("departements"), 0))

    st.subheader(f"Chiffres clés — {md(terr.libelle)}")
    from pages._data import coverage_inputs
    from planning.catalogue import description
    from planning.coverage import indicateurs

    inp = coverage_inputs()
    row = indicateurs(inp, terr.niveau, annee, territoire=terr)
    row = row[row["code"] == terr.code].iloc[0] if terr.code and (row["code"] == terr.code).any() else row.iloc[0]
    k1, k2, k3, k4 = st.columns(4)
    # a metric tile is narrow: « n.d. » there, the full words in its help and in the caption below
    aide = "n.d. : donnée non disponible (aucune liste de structures ne couvre ce territoire)."
    for col, label, key, dec in ((k1, "Enfants de moins de 3 ans", "enfants_moins_3", 0),
                                 (k2, f"Places d'EAJE au 31/12/{annee}", "places_eaje", 0),
                                 (k3, "Places d'EAJE pour 100 enfants de moins de 3 ans", "taux_eaje", 1),
                                 (k4, "RPE situés sur le territoire", "nb_rpe", 0)):
        v = row[key]
        col.metric(label, fr_number(v, dec, na="n.d."), help=aide if v != v else None)  # v != v: NaN
    nr = row.get("places_psu_non_renseigne", 0)
    if nr == nr and nr > 0:  # not NaN
        st.caption(f"Dont {fr_number(row['places_psu'], 0)} places en PSU, {fr_number(row['places_hors_psu'], 0)} hors PSU et "
                   f"**{fr_number(nr, 0)} au PSU « non renseigné »** (liste des structures sans cette information : "
                   "le financement n'est jamais deviné).")
    st.caption(f"Sources : {md(description('taux_eaje', inp, annee)['source'])}. « n.d. » (donnée non disponible) : la liste "
               "des structures ne couvre pas tout le territoire (par exemple un EPCI à cheval sur un département "
               "sans liste importée).")

    st.subheader("Données chargées")
    rows = []
    for name, info in sorted(s.layers().items()):
        rows.append({
            "Couche": info.label or name,
            "Nature": NATURE_BADGE.get(info.nature, info.nature),
            "Lignes": info.rows,
            "Millésime": info.vintage,
            "Source": info.source,
            "Mise à jour": (info.updated_at or "")[:10],
        })
    st.dataframe(fr_frame(pd.DataFrame(rows)), hide_index=True, width="stretch")
    st.caption(
        "**réel** : référentiel national issu de paquets publics épinglés (sommes de contrôle vérifiées) · "
        "**importé** : fichier officiel importé · **estimation** : valeur calculée en attendant un fichier officiel · "
        f"**fictif** : {DEMO_LABEL}."
    )
    missing = (s.info("communes").extra or {}).get("sans_contour", []) if s.info("communes") else []
    if missing:
        st.caption(f"{len(missing)} communes n'ont pas de contour dans le référentiel (absentes des cartes, "
                   f"présentes dans les tableaux) : {', '.join(missing)}.")

    st.subheader("Par où commencer")
    st.markdown(
        f"- Territoire choisi : **{md(terr.libelle)}** (barre latérale ; le lien de la page garde ce choix).\n"
        "- **Couverture** : carte et tableau des places pour 100 enfants de moins de 3 ans, QPV et FRR.\n"
        f"- **Objectif RPE** : communes de plus de {fr_int(seuil)} habitants avec un RPE (obligation au "
        f"{fr_date(echeance_legale())}).\n"
        "- **Simulateur** : PSU et bonus d'une trajectoire CTG, reste à charge, scénarios enregistrés.\n"
        "- **Documents** : dossier SDSF et fiche CTG (PowerPoint, PDF, Excel).\n"
        "- **Import de données** : QPV, FRR, INSEE, data.caf.fr, DGCL, liste des structures de la Caf."
    )
