"""SDSF departmental pack (CDSF committee): PowerPoint, PDF and xlsx for one département.

Every figure comes from the planning modules (``planning.coverage``, ``planning.rpe``);
this module only lays them out. Statistical secrecy: see :mod:`exports.document`
(children under 3 and assistants maternels are masked between 1 and 4, and the rates
computed from them). Places are never masked (a structure's capacity is not data
about persons).
"""
from __future__ import annotations

import re

import datetime as dt
from typing import Iterable

import numpy as np
import pandas as pd

from planning.formats import fr_date, fr_number, fr_ratio

from .charts import bar_chart, hbar_chart
from .common import slug, sources_table
from .document import (NA, Colonne, Document, Section, Tableau, masque_effectif, MASQUE_EFFECTIF,
                       MASQUE_DERIVE)
from .sdsf_contexte import ContexteSdsf, ExportImpossible, contexte_sdsf
from .sdsf_sppe import sections_sppe

FORMATS = ("pptx", "pdf", "xlsx")
COUCHES = ("communes", "enfants_moins_3", "structures", "qpv", "frr", "grille_densite",
           "caf_couverture_com", "caf_couverture_epci", "caf_couverture_dep")
TAUX_LIB = "places d'EAJE pour 100 enfants de moins de 3 ans"


def _eff(v) -> str:
    """A count of persons as text, masked between 1 and 4."""
    return MASQUE_EFFECTIF if masque_effectif(v) else fr_number(v, 0, na=NA)


def _rate(v, count) -> str:
    return MASQUE_DERIVE if masque_effectif(count) else fr_number(v, 1, na=NA)



def _message_communes(com: pd.DataFrame, depi: pd.Series) -> str:
    """« 12 communes de plus de 3 500 habitants sur 20 sous le taux du département (24,5) »."""
    big = com[com["population"] > 3500]
    below = big[big["taux_eaje"] < depi["taux_eaje"]]
    if not len(big) or not np.isfinite(depi["taux_eaje"]):
        return ""
    return (f"{len(below)} communes de plus de 3 500 habitants sur {len(big)} sous le taux du département "
            f"({fr_number(depi['taux_eaje'], 1, na=NA)} places pour 100 enfants)")


def _message_groupes(grp: pd.DataFrame, lib: str) -> str:
    v = grp["taux_eaje"].dropna()
    if not len(v):
        return ""
    return (f"La couverture EAJE va de {fr_number(v.min(), 1, na=NA)} à {fr_number(v.max(), 1, na=NA)} places pour 100 enfants "
            f"selon les {lib}")



def _colonnes_communes() -> list[Colonne]:
    """Columns of the commune coverage tables (key figures, annex)."""
    return [Colonne("code", "Code INSEE", "code"), Colonne("nom", "Commune"),
            Colonne("population", "Population", "entier"),
            Colonne("enfants_moins_3", "Enfants de moins de 3 ans", "effectif"),
            Colonne("places_psu", "Places EAJE en PSU", "entier"),
            Colonne("places_hors_psu", "Places EAJE hors PSU", "entier"),
            Colonne("taux_eaje", "Taux de couverture EAJE (pour 100 enfants)", "decimal1",
                    masque_si="enfants_moins_3"),
            Colonne("txcouv_caf", "Taux global Caf (pour 100 enfants)", "decimal1"),
            Colonne("places_psu_non_renseigne", "Places EAJE au PSU non renseigné", "entier")]


def _colonnes_groupes(lib_grp: str) -> list[Colonne]:
    """Columns of the full EPCI / EPT indicator table (xlsx annex)."""
    return [Colonne("code", f"Code {lib_grp}", "code"), Colonne("nom", lib_grp),
            Colonne("n_communes", "Communes", "entier"), Colonne("population", "Population", "entier"),
            Colonne("enfants_moins_3", "Enfants de moins de 3 ans", "effectif"),
            Colonne("places_psu", "Places EAJE en PSU", "entier"),
            Colonne("places_hors_psu", "Places EAJE hors PSU", "entier"),
            Colonne("places_mam", "Places en MAM", "entier"),
            Colonne("taux_eaje", "Taux de couverture EAJE (pour 100 enfants)", "decimal1",
                    masque_si="enfants_moins_3"),
            Colonne("nb_rpe", "RPE", "entier"), Colonne("etp_rpe", "ETP d'animation RPE", "decimal1"),
            Colonne("am_rpe", "Assistants maternels (RPE)", "effectif"),
            Colonne("am_par_etp", "Assistants maternels par ETP", "decimal1", masque_si="am_rpe"),
            Colonne("places_psu_non_renseigne", "Places EAJE au PSU non renseigné", "entier")]



def _section_chiffres(c: ContexteSdsf) -> list[Section]:
    """Key figures of the département."""
    (inputs, annee, terr, src_line, nom_dep, depi, rpe, rpes) = (
        c.inputs, c.annee, c.terr, c.src_line, c.nom_dep, c.depi, c.rpe, c.rpes)
    sections: list[Section] = []
    # -- key figures ---------------------------------------------------------
    pts = [
        f"Population : {fr_number(depi['population'], 0, na=NA)} habitants ; enfants de moins de 3 ans : "
        f"{_eff(depi['enfants_moins_3'])} ({inputs.prov('enfants_moins_3').libelle}).",
        f"Places d'EAJE au 31 décembre {annee} : {fr_number(depi['places_eaje'], 0, na=NA)} dont "
        f"{fr_number(depi['places_psu'], 0, na=NA)} en PSU"
        + (f" et {fr_number(depi['places_psu_non_renseigne'], 0, na=NA)} au PSU « non renseigné » (liste sans cette information)"
           if depi.get("places_psu_non_renseigne", 0) > 0 else "") + ".",
        f"Taux de couverture EAJE : {fr_number(depi['taux_eaje'], 1, na=NA)} {TAUX_LIB}.",
        f"Communes de plus de {fr_number(rpe.seuil, 0, na=NA)} habitants avec un RPE situé dans la commune : "
        f"{rpe.phrase_part()}.",
        f"Assistants maternels par ETP d'animation de RPE : {_rate(depi['am_par_etp'], depi['am_rpe'])} "
        f"(cible COG {annee} : {fr_number(rpes['cible_am_par_etp'].iloc[0], 0, na=NA) if len(rpes) else 'n.d.'}).",
    ]
    if np.isfinite(depi.get("txcouv_caf", np.nan)):
        pts.append(f"Taux de couverture global Caf ({int(depi['annee_txcouv_caf'])}) : "
                   f"{fr_number(depi['txcouv_caf'], 1, na=NA)} places pour 100 enfants de moins de 3 ans.")
    sections.append(Section(f"Chiffres clés — {nom_dep}", points=pts, notes=[src_line],
                            message=f"{terr.nom} : {fr_number(depi['taux_eaje'], 1, na=NA)} places d'EAJE pour 100 "
                                    f"enfants de moins de 3 ans au 31 décembre {annee}"))

    return sections


def _section_couverture_communes(c: ContexteSdsf) -> list[Section]:
    """Commune coverage map and the table of communes over 3 500 inhabitants."""
    (store, inputs, annee, fictif, src_struct, src_line, nom_dep, com, depi, geoms) = (
        c.store, c.inputs, c.annee, c.fictif, c.src_struct, c.src_line, c.nom_dep, c.com, c.depi, c.geoms)
    from geo.classes import classify, seuils_couverture
    from geo.static_maps import static_choropleth_png

    sections: list[Section] = []
    # -- coverage maps and tables ---------------------------------------------
    seuils = seuils_couverture(annee)
    cls_kw = dict(method="seuils", seuils=seuils, decimals=1)
    cmap = geoms.merge(com[["code", "taux_eaje", "enfants_moins_3"]], left_on="code_insee", right_on="code",
                       how="left")
    # secrecy: a rate computed from fewer than 5 children is not drawn either
    cmap["taux_carte"] = cmap["taux_eaje"].where(~cmap["enfants_moins_3"].map(masque_effectif))
    cls = classify(cmap["taux_carte"], **cls_kw)
    pts_struct = None
    try:
        s = store.read("structures", columns=["code_insee", "type", "psu", "latitude", "longitude",
                                              "date_fermeture"])
        s = s[s["code_insee"].isin(set(geoms["code_insee"])) & s["date_fermeture"].isna() & (s["type"] != "RPE")]
        pts_struct = s
    except Exception:
        pts_struct = None
    png = static_choropleth_png(
        cmap, "taux_carte", cls, f"Couverture EAJE par commune — {nom_dep}",
        f"{src_struct} — {inputs.prov('enfants_moins_3').libelle}", points=pts_struct,
        legend_title=f"Places d'EAJE pour 100 enfants\nde moins de 3 ans ({annee})",
        subtitle=f"Situation au 31 décembre {annee}", fictif=fictif, figsize=(12.5, 6.4), dpi=110)
    com_cols = _colonnes_communes()
    com_sorted = com.sort_values("population", ascending=False)
    big = com_sorted[com_sorted["population"] > 3500]
    t_big = Tableau.depuis_frame(f"Couverture des communes de plus de 3 500 habitants — {nom_dep}", big,
                                 com_cols, nom_feuille="Communes > 3 500 hab")
    sections.append(Section(
        f"Couverture EAJE par commune ({annee})", image=png, message=_message_communes(com, depi),
        image_alt=f"Carte des communes de {nom_dep} colorées selon le taux de couverture EAJE",
        tableau=t_big,
        notes=["Communes de moins de 5 enfants de moins de 3 ans : taux non cartographié (secret statistique), "
               "hachurées comme « donnée non disponible ».",
               f"Taux : {TAUX_LIB}. Communes de plus de 3 500 habitants dans le tableau ; "
               "toutes les communes dans le classeur xlsx (feuille « Couverture communes ») et en annexe du PDF.",
               src_line]))
    return sections


def _section_couverture_groupes(c: ContexteSdsf) -> list[Section]:
    """EPCI (or EPT) coverage map and table."""
    (annee, fictif, src_struct, src_line, nom_dep, has_ept, lib_grp, grp, geoms) = (
        c.annee, c.fictif, c.src_struct, c.src_line, c.nom_dep, c.has_ept, c.lib_grp, c.grp, c.geoms)
    from geo.classes import classify, seuils_couverture
    from geo.static_maps import static_choropleth_png

    cls_kw = dict(method="seuils", seuils=seuils_couverture(annee), decimals=1)
    sections: list[Section] = []
    # group map
    gg = geoms.dropna(subset=["ept_code" if has_ept else "epci_siren"]).dissolve(
        "ept_code" if has_ept else "epci_siren").reset_index()
    key = "ept_code" if has_ept else "epci_siren"
    gmap = gg.merge(grp[["code", "nom", "taux_eaje", "enfants_moins_3"]], left_on=key, right_on="code", how="left")
    gmap["taux_carte"] = gmap["taux_eaje"].where(~gmap["enfants_moins_3"].map(masque_effectif))
    png_g = static_choropleth_png(
        gmap, "taux_carte", classify(gmap["taux_carte"], **cls_kw), f"Couverture EAJE par {lib_grp} — {nom_dep}",
        src_struct, legend_title=f"Places d'EAJE pour 100 enfants\nde moins de 3 ans ({annee})",
        subtitle=f"Situation au 31 décembre {annee}", fictif=fictif, figsize=(12.5, 6.4), dpi=110)
    grp_cols = [Colonne("nom", lib_grp), Colonne("places_eaje", "Places EAJE", "entier"),
            Colonne("taux_eaje", "Taux EAJE (pour 100 enfants)", "decimal1", masque_si="enfants_moins_3"),
            Colonne("enfants_moins_3", "Enfants < 3 ans", "effectif")]
    t_grp = Tableau.depuis_frame(f"Couverture par {lib_grp} — {nom_dep}", grp, grp_cols, nom_feuille=f"Couverture {lib_grp}")
    straddle = grp["taux_eaje"].isna().sum()
    sections.append(Section(
        f"Couverture EAJE par {lib_grp} ({annee})", image=png_g, message=_message_groupes(grp, lib_grp),
        image_alt=f"Carte des {lib_grp} de {nom_dep} colorées selon le taux de couverture EAJE", tableau=t_grp,
        notes=[f"Taux : {TAUX_LIB}."] + ([f"{straddle} {lib_grp} à cheval sur un département sans liste de "
                                            "structures : n.d. (donnée non disponible)."] if straddle else [])
        + [src_line]))

    return sections


def _section_trajectoire(c: ContexteSdsf) -> list[Section]:
    """PSU places created, closed and net per year against the COG path."""
    (fictif, src_struct, src_line, nom_dep, traj_fin, traj) = (
        c.fictif, c.src_struct, c.src_line, c.nom_dep, c.traj_fin, c.traj)
    sections: list[Section] = []
    # -- places created / closed / net vs COG path -----------------------------
    years = traj["annee"].tolist()
    png_t = bar_chart(
        years, {"Places PSU créées": traj["places_creees_psu"].tolist(),
                "Places PSU fermées": (-traj["places_fermees_psu"]).tolist(),
                "Variation nette": traj["variation_nette_psu"].tolist(),
                "dont QPV": traj["variation_nette_psu_qpv"].tolist(),
                "dont FRR/ZRR": traj["variation_nette_psu_frr_zrr"].tolist()},
        title=f"Places d'EAJE en PSU créées, fermées et variation nette — {nom_dep}",
        subtitle="Losange : trajectoire COG-01-01 rapportée au département (prorata des enfants de moins de 3 ans)",
        ylabel="places", line=("Trajectoire COG-01-01 (département)", traj["cible_territoire"].tolist()),
        fictif=fictif, source=src_struct)
    t_traj = Tableau.depuis_frame(f"Variation des places PSU et trajectoire COG — {nom_dep}", traj, [
        Colonne("annee", "Année", "annee"), Colonne("places_creees_psu", "Places PSU créées", "entier"),
        Colonne("places_fermees_psu", "Places PSU fermées", "entier"),
        Colonne("variation_nette_psu", "Variation nette", "entier"),
        Colonne("variation_nette_psu_qpv", "dont communes avec QPV", "entier"),
        Colonne("variation_nette_psu_frr_zrr", "dont communes FRR/ZRR", "entier"),
        Colonne("cible_territoire", "Trajectoire COG (département)", "decimal1"),
        Colonne("ecart", "Écart à la trajectoire", "decimal1")], nom_feuille="Places PSU et COG")
    tot_net = traj["variation_nette_psu"].sum(min_count=1)
    tot_cib = traj["cible_territoire"].sum(min_count=1)
    sections.append(Section(
        f"Places créées, fermées et nettes par an (2023-{traj_fin})", image=png_t,
        message=f"Variation nette 2023-{traj_fin} : {fr_number(tot_net, 0, na=NA)} places PSU pour une trajectoire COG de "
                f"{fr_number(tot_cib, 0, na=NA)}",
        image_alt="Diagramme en barres des places PSU créées, fermées et nettes par année, avec la trajectoire COG",
        tableau=t_traj,
        points=[f"Variation nette 2023-{traj_fin} : {fr_number(tot_net, 0, na=NA)} places PSU, pour une trajectoire COG "
                f"rapportée au département de {fr_number(tot_cib, 0, na=NA)} places."],
        notes=[traj.attrs.get("libelle", ""), "QPV : communes comptant au moins un quartier prioritaire (QPV 2024) ; "
               "FRR/ZRR : communes classées FRR, FRR+ ou ancienne ZRR en transition.", src_line]))

    return sections


def _sections_rpe(c: ContexteSdsf) -> list[Section]:
    """RPE target of the towns over the threshold, and the towns without an RPE."""
    (annee, src_line, nom_dep, rpe) = (
        c.annee, c.src_line, c.nom_dep, c.rpe)
    sections: list[Section] = []
    # -- RPE target -------------------------------------------------------------
    villes = pd.DataFrame([{
        "code": v.code, "nom": v.nom, "population": v.population,
        "rpe": "Oui" if v.avec_rpe else "Non",
        "ailleurs": ", ".join(r["nom"] for r in v.rpe_ailleurs) if v.couverte_ailleurs else "",
        "epci": v.epci_nom or ""} for v in rpe.villes],
        columns=["code", "nom", "population", "rpe", "ailleurs", "epci"])
    part = rpe.part
    cible_txt = fr_ratio(rpe.cible, 0, na=NA) if rpe.cible is not None else "pas de cible COG cette année"
    rpe_pts = [
        f"Communes de plus de {fr_number(rpe.seuil, 0, na=NA)} habitants avec un RPE situé dans la commune : "
        f"{rpe.nb_avec_rpe} sur {rpe.nb_communes}"
        + (f" ({fr_ratio(part, 1, na=NA)})" if part is not None else "") + f" — cible COG-01-11 {annee} : {cible_txt}.",
        f"Obligation légale au {fr_date(rpe.echeance_legale)} (loi 2023-1196, art. 17).",
        f"Communes sans RPE dans la commune : {len(rpe.sans_rpe)}"
        + (f" dont {len(rpe.couvertes_ailleurs)} couverte(s) depuis une autre commune de l'intercommunalité."
           if rpe.couvertes_ailleurs else "."),
    ]
    if rpe.sans_liste:
        rpe_pts = [rpe.message_donnee_absente, rpe_pts[1]]
    elif rpe.villes_sans_donnee:
        rpe_pts.append(f"{len(rpe.villes_sans_donnee)} commune(s) hors de la liste des structures (non comptées).")
    t_rpe = Tableau.depuis_frame(f"Communes de plus de {fr_number(rpe.seuil, 0, na=NA)} habitants et RPE — {nom_dep}", villes, [
        Colonne("code", "Code INSEE", "code"), Colonne("nom", "Commune"), Colonne("population", "Population", "entier"),
        Colonne("rpe", "RPE dans la commune"), Colonne("ailleurs", "Couverte depuis")],
        nom_feuille=f"RPE communes > {fr_number(rpe.seuil, 0, na=NA)}")
    sections.append(Section(f"Objectif RPE des communes de plus de {fr_number(rpe.seuil, 0, na=NA)} habitants (COG-01-11)",
                            points=rpe_pts, tableau=t_rpe,
                            message=(f"RPE : donnée non disponible pour les communes de plus de {fr_number(rpe.seuil, 0, na=NA)} "
                                     "habitants" if rpe.sans_liste else
                                     f"{rpe.nb_avec_rpe} commune(s) de plus de {fr_number(rpe.seuil, 0, na=NA)} habitants sur "
                                     f"{rpe.nb_communes} ont un RPE dans la commune"),
                            notes=[rpe.cible_source, "Un RPE intercommunal situé dans une autre commune ne compte "
                                   "pas pour l'indicateur (commune « couverte depuis » une autre).", src_line]))
    sans = villes[villes["rpe"] == "Non"]
    t_sans = Tableau.depuis_frame(f"Communes sans RPE — {nom_dep}", sans, [
        Colonne("code", "Code INSEE", "code"), Colonne("nom", "Commune"), Colonne("population", "Population", "entier"),
        Colonne("epci", "Intercommunalité"), Colonne("ailleurs", "RPE dans une autre commune")],
        nom_feuille="Communes sans RPE")
    sections.append(Section(f"Communes de plus de {fr_number(rpe.seuil, 0, na=NA)} habitants sans RPE "
                            f"({'n.d.' if rpe.sans_liste else len(sans)})",
                            message="" if rpe.sans_liste else
                            f"{len(sans)} commune(s) de plus de {fr_number(rpe.seuil, 0, na=NA)} habitants sans RPE dans la commune",
                            points=[] if len(sans) else [rpe.message_donnee_absente if rpe.sans_liste
                                                         else "Toutes les communes concernées ont un RPE."],
                            tableau=t_sans if len(sans) else None, notes=[src_line]))

    return sections


def _section_am(c: ContexteSdsf) -> list[Section]:
    """Assistants maternels per RPE ETP (COG-01-10)."""
    (annee, fictif, src_struct, src_line, nom_dep, depi, rpes) = (
        c.annee, c.fictif, c.src_struct, c.src_line, c.nom_dep, c.depi, c.rpes)
    sections: list[Section] = []
    # -- assistants maternels per RPE ETP ----------------------------------------
    cible_am = float(rpes["cible_am_par_etp"].iloc[0]) if len(rpes) and np.isfinite(
        rpes["cible_am_par_etp"].iloc[0]) else None
    r_sorted = rpes.sort_values("am_par_etp", ascending=False).reset_index(drop=True)
    masked = [masque_effectif(v) for v in r_sorted["nb_assistants_maternels"]]
    png_am = hbar_chart(
        [f"{n}" for n in r_sorted["nom"].str.replace("Relais petite enfance ", "RPE ", regex=False)],
        r_sorted["am_par_etp"].tolist(), title=f"Assistants maternels par ETP d'animation de RPE — {nom_dep}",
        subtitle=f"Situation au 31 décembre {annee}", xlabel="assistants maternels par ETP",
        reference=(f"cible COG-01-10 : {fr_number(cible_am, 0, na=NA)}", cible_am) if cible_am else None,
        fictif=fictif, source=src_struct, masked=masked, figsize=(10.0, max(4.0, 1.6 + 0.28 * len(r_sorted))))
    t_am = Tableau.depuis_frame(f"Assistants maternels par ETP de RPE — {nom_dep}", r_sorted, [
        Colonne("nom", "RPE"), Colonne("commune", "Commune"), Colonne("etp_animation", "ETP d'animation", "decimal1"),
        Colonne("nb_assistants_maternels", "Assistants maternels", "effectif"),
        Colonne("am_par_etp", "Assistants maternels par ETP", "decimal1", masque_si="nb_assistants_maternels")],
        nom_feuille="RPE AM par ETP")
    sections.append(Section(
        "Assistants maternels par ETP d'animation de RPE (COG-01-10)", image=png_am,
        message=f"{_rate(depi['am_par_etp'], depi['am_rpe'])} assistants maternels par ETP d'animation de RPE "
                f"(cible COG {annee} : {fr_number(cible_am, 0, na=NA) if cible_am else 'n.d.'})",
        image_alt="Barres horizontales : assistants maternels par ETP pour chaque RPE, avec la cible COG",
        tableau=t_am,
        points=[f"Département : {_rate(depi['am_par_etp'], depi['am_rpe'])} assistants maternels par ETP "
                f"({fr_number(depi['etp_rpe'], 1, na=NA)} ETP, {len(rpes)} RPE) ; cible COG {annee} : "
                f"{fr_number(cible_am, 0, na=NA) if cible_am else 'n.d.'}."],
        notes=["Cible COG-01-10 : objectifs_cog.assistants_maternels_par_etp_rpe (COG État–Cnaf 2023-2027).",
               src_line]))

    return sections


def _sections_groupes(c: ContexteSdsf) -> list[Section]:
    """One page of key figures per EPCI / EPT."""
    (inputs, annee, spec, src_line, has_ept, niveau_grp, lib_grp, grp, traj_fin, rpe) = (
        c.inputs, c.annee, c.spec, c.src_line, c.has_ept, c.niveau_grp, c.lib_grp, c.grp, c.traj_fin, c.rpe)
    sections: list[Section] = []
    # -- one page per EPCI / EPT ---------------------------------------------------
    from planning.flux import variation_places

    var = variation_places(inputs, 2023, traj_fin, niveau_grp, spec, par_annee=False).set_index("code")
    sans_by_grp: dict[str, list[str]] = {}
    for v in rpe.sans_rpe:
        g = v.ept_code if has_ept else v.epci_siren
        sans_by_grp.setdefault(str(g), []).append(v.nom)
    for _, g in grp.iterrows():
        code = str(g["code"])
        vn = var["variation_nette_psu"].get(code, np.nan) if code in var.index else np.nan
        rows = [
            ("Communes", fr_number(g["n_communes"], 0, na=NA)),
            ("Population", fr_number(g["population"], 0, na=NA)),
            ("Enfants de moins de 3 ans", _eff(g["enfants_moins_3"])),
            ("Places d'EAJE (dont PSU)", f"{fr_number(g['places_eaje'], 0, na=NA)} ({fr_number(g['places_psu'], 0, na=NA)})"),
            ("Places en MAM", fr_number(g["places_mam"], 0, na=NA)),
            (f"Taux de couverture EAJE ({TAUX_LIB})", _rate(g["taux_eaje"], g["enfants_moins_3"])),
            ("Taux global Caf (pour 100 enfants)", fr_number(g["txcouv_caf"], 1, na=NA)),
            (f"Variation nette des places PSU 2023-{traj_fin}", fr_number(vn, 0, na=NA)),
            ("RPE (ETP d'animation)", f"{fr_number(g['nb_rpe'], 0, na=NA)} ({fr_number(g['etp_rpe'], 1, na=NA)})"),
            ("Assistants maternels par ETP de RPE", _rate(g["am_par_etp"], g["am_rpe"])),
            (f"Communes de plus de {fr_number(rpe.seuil, 0, na=NA)} habitants sans RPE",
             ", ".join(sans_by_grp.get(code, [])) or "aucune"),
        ]
        t = Tableau(f"Chiffres clés — {g['nom']}", [Colonne("indicateur", "Indicateur"), Colonne("valeur", "Valeur")],
                    [{"indicateur": a, "valeur": b} for a, b in rows], nom_feuille=f"{lib_grp} {code}")
        sections.append(Section(f"{lib_grp} : {g['nom']}", tableau=t,
                                message=(f"{g['nom']} : {_rate(g['taux_eaje'], g['enfants_moins_3'])} places d'EAJE "
                                         f"pour 100 enfants, {fr_number(g['places_eaje'], 0, na=NA)} places"
                                         if np.isfinite(g["taux_eaje"]) else
                                         f"{g['nom']} : couverture non disponible (commune hors liste des structures)"),
                                notes=[f"Situation au 31 décembre {annee}. « n.d. » : donnée non disponible "
                                       f"({lib_grp} à cheval sur un département sans liste de structures, "
                                       "ou couche non importée).", src_line]))

    return sections


def build_sdsf_document(departement: str, store=None, annee: int | None = None, inputs=None,
                        today: dt.date | None = None) -> Document:
    """The pack as a format-independent :class:`~exports.document.Document`."""
    c = contexte_sdsf(departement, store, annee, inputs, today)
    sections = (_section_chiffres(c) + _section_couverture_communes(c) + _section_couverture_groupes(c)
                + _section_trajectoire(c) + _sections_rpe(c) + _section_am(c))
    sections += sections_sppe(c.store, c.inputs, c.dep, c.nom_dep, c.today, c.fictif, c.geoms, c.src_line)
    sections += _sections_groupes(c)
    (store, today, annee, fictif, src_line, nom_dep, lib_grp, grp) = (
        c.store, c.today, c.annee, c.fictif, c.src_line, c.nom_dep, c.lib_grp, c.grp)
    # -- annex: every commune (PDF and xlsx) -------------------------------------
    com_sorted = c.com.sort_values("population", ascending=False)
    t_all = Tableau.depuis_frame(f"Couverture par commune — {nom_dep}", com_sorted, _colonnes_communes(),
                                 nom_feuille="Couverture communes")
    sections.append(Section(f"Annexe — couverture de toutes les communes ({len(com_sorted)})", tableau=t_all,
                            tableau_dans_pptx=False,
                            points=["Tableau complet : classeur xlsx (feuille « Couverture communes »)."],
                            notes=[src_line]))
    t_grp_full = Tableau.depuis_frame(f"Indicateurs par {lib_grp} — {nom_dep}", grp, _colonnes_groupes(lib_grp),
                                      nom_feuille=f"Indicateurs {lib_grp}")

    doc = Document(
        titre=f"Schéma départemental des services aux familles — {nom_dep}",
        sous_titre=f"Pack du comité départemental (CDSF) — situation au 31 décembre {annee}",
        sections=sections, fictif=fictif, date=today,
        couverture=["Indicateurs de la COG État–Cnaf 2023-2027 : couverture EAJE, trajectoire des places PSU "
                    "(COG-01-01), RPE (COG-01-10, COG-01-11)."],
        sources=sources_table(store, COUCHES), tableaux_annexes=[t_grp_full])
    return doc


def build_sdsf_pack(departement: str, store=None, formats: Iterable[str] = FORMATS, *, annee: int | None = None,
                    inputs=None, today: dt.date | None = None) -> dict[str, bytes]:
    """File name → bytes of the SDSF pack of a département (``formats`` among pptx, pdf, xlsx)."""
    from .pdf_builder import build_pdf
    from .pptx_builder import build_pptx
    from .xlsx import write_workbook

    formats = tuple(f.strip().lower() for f in formats)
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise ExportImpossible(f"Format inconnu : {', '.join(bad)} (formats possibles : pptx, pdf, xlsx).")
    doc = build_sdsf_document(departement, store=store, annee=annee, inputs=inputs, today=today)
    dep = str(departement).strip().upper().zfill(2)
    nom = re.sub(r"\s*\(\w+\)\s*$", "", doc.titre.split("—")[-1])  # « Seine-Saint-Denis (93) » → name only
    base = f"sdsf_{dep}_{slug(nom)}_{doc.date.isoformat()}"
    out: dict[str, bytes] = {}
    if "pptx" in formats:
        out[base + ".pptx"] = build_pptx(doc)
    if "pdf" in formats:
        out[base + ".pdf"] = build_pdf(doc)
    if "xlsx" in formats:
        out[base + ".xlsx"] = write_workbook(doc)
    return out
