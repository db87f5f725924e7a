"""CTG one-pager for a scenario: one or two A4 pages (PDF) and the xlsx of the detail.

The amounts come from :func:`planning.simulation.simulate`; the current coverage of
the territory's communes from :func:`planning.coverage.indicateurs`. Parameters with
confidence « ? » (or entered in the scenario) are flagged « à vérifier ».
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

import numpy as np
import pandas as pd

from planning.formats import fr_euros, fr_number
from planning.parametres import NATURE_SAISIE, ParametreAbsent, ParametreInconnu

from .charts import bar_chart
from .common import is_fictif, slug, sources_table
from .document import NA, Colonne, Document, Section, Tableau, masque_effectif
from .sdsf import ExportImpossible, TAUX_LIB

COUCHES = ("communes", "enfants_moins_3", "structures", "qpv", "frr")


def _fmt_param(v: Any) -> str:
    if isinstance(v, bool):
        return "oui" if v else "non"
    if isinstance(v, int) and 1900 <= v <= 2100:
        return str(v)  # a year
    if isinstance(v, (int, float)):
        return fr_number(v, 0 if float(v).is_integer() else (2 if abs(v) >= 1 else 4))
    if isinstance(v, (list, tuple)):
        return " ; ".join(_fmt_param(x) for x in v)
    if isinstance(v, Mapping):
        return " ; ".join(f"{k} : {_fmt_param(x)}" for k, x in v.items())
    return "" if v is None else str(v)


def build_ctg_document(scenario: Mapping[str, Any], store=None, today: dt.date | None = None,
                       annee_couverture: int | None = None, inputs=None, baremes=None):
    """(Document, SimulationResult) of the one-pager; ``baremes``: the barèmes in force for the scenario's
    territory (with the barèmes saisis), the shipped ones when None."""
    from data.entrees import communes_referentiel, load_inputs
    from data.store import Store
    from planning.coverage import indicateurs
    from planning.scenario_format import ScenarioInvalide
    from planning.simulation import simulate

    store = store or Store()
    today = today or dt.date.today()
    try:
        res = simulate(scenario, baremes=baremes, communes=communes_referentiel(store))
    except ScenarioInvalide as exc:
        raise ExportImpossible("Scénario invalide :\n" + "\n".join(f"  - {e}" for e in exc.erreurs)) from None
    frames = res.to_frames()
    par_annee, par_structure = frames["par_annee"], frames["par_structure"]
    fictif = is_fictif(store)
    nom = res.territoire.get("nom") or res.nom
    codes = [str(c) for c in res.territoire["communes"]]
    annee_cov = int(annee_couverture or min(today.year, res.fin))
    inputs = inputs or load_inputs(store)
    com = indicateurs(inputs, "commune", annee_cov)
    com = com[com["code"].isin(codes)].sort_values("population", ascending=False).reset_index(drop=True)
    sections = [
        _section_territoire(res, store, inputs, com, codes, nom, annee_cov, fictif),
        _section_trajectoire(res, par_annee),
        _section_financement(res, par_annee),
        _section_hypotheses(res),
    ]
    doc = Document(
        titre=f"CTG — {nom}", sous_titre=f"{res.nom} — période {res.debut}-{res.fin}", sections=sections,
        fictif=fictif, date=today, sources=sources_table(store, COUCHES),
        tableaux_annexes=_annexes(par_structure, com))
    return doc, res


def _section_territoire(res, store, inputs, com: pd.DataFrame, codes: list[str], nom: str, annee_cov: int,
                        fictif: bool) -> Section:
    """The territory's map and its current coverage."""
    import geopandas as gpd

    from geo.classes import classify, seuils_couverture
    from geo.static_maps import static_choropleth_png

    src_struct = inputs.prov("structures").libelle
    geoms = gpd.read_parquet(store.layer_path("communes"), columns=["code_insee", "nom", "geometry"],
                             filters=[("code_insee", "in", codes)])
    g = geoms.merge(com[["code", "taux_eaje", "enfants_moins_3"]], left_on="code_insee", right_on="code", how="left")
    g["taux_carte"] = g["taux_eaje"].where(~g["enfants_moins_3"].map(masque_effectif))
    cls = classify(g["taux_carte"], method="seuils", seuils=seuils_couverture(annee_cov), decimals=1)
    png = static_choropleth_png(
        g, "taux_carte", cls, f"{nom} : couverture EAJE par commune", src_struct,
        legend_title=f"Places d'EAJE pour\n100 enfants < 3 ans\n({annee_cov})",
        subtitle=f"{len(codes)} communes — 31 décembre {annee_cov}", fictif=fictif,
        figsize=(8.0, 4.2), dpi=130)
    known = com["places_eaje"].notna()
    places = com.loc[known, "places_eaje"].sum()
    enfants = com.loc[known, "enfants_moins_3"].sum()
    taux = 100 * places / enfants if enfants > 0 else np.nan
    cov_pts = [
        f"Population : {fr_number(com['population'].sum(), 0, na=NA)} habitants ; {len(codes)} communes.",
        f"Couverture EAJE au 31 décembre {annee_cov} : {fr_number(taux, 1, na=NA)} {TAUX_LIB} "
        f"({fr_number(places, 0, na=NA)} places)"
        + (f", calculée sur les {int(known.sum())} communes dont les structures sont connues." if not known.all()
           else "."),
        f"Places PSU cofinancées en {res.territoire['annee_reference']} (référence du bonus trajectoire) : "
        f"{fr_number(res.territoire['places_psu_cofinancees_reference'], 0, na=NA)}.",
    ]
    return Section("Le territoire et sa couverture actuelle", points=cov_pts, image=png,
                   image_alt=f"Carte des communes de {nom} colorées selon la couverture EAJE",
                   notes=[f"Sources : {src_struct} ; {inputs.prov('enfants_moins_3').libelle}."])


def _section_trajectoire(res, par_annee: pd.DataFrame) -> Section:
    """Places PSU by year against the first threshold of the bonus trajectoire."""
    from planning.bonus import places_pour_palier

    ref = float(res.territoire["places_psu_cofinancees_reference"])
    try:
        seuils = res.baremes.value("bonus.trajectoire_seuils_croissance", max(res.fin, 2025))
        montants = res.baremes.value("bonus.trajectoire_montants", max(res.fin, 2025))
    except ParametreAbsent:
        seuils, montants = [], []
    years = par_annee["annee"].tolist()
    first = places_pour_palier(ref, seuils[0]) if seuils else None
    png_t = bar_chart(
        years, {"Places PSU du territoire": par_annee["places_psu_territoire"].tolist()},
        title="Trajectoire des places PSU cofinancées", ylabel="places",
        subtitle=(f"Losange : premier palier du bonus trajectoire (+{fr_number(100 * seuils[0], 0, na=NA)} % = "
                  f"{fr_number(first, 0, na=NA)} places)" if seuils else ""),
        line=(f"Seuil du bonus trajectoire ({fr_number(first, 0, na=NA)} places)", [first] * len(years)) if first else None,
        fictif=False, figsize=(9.0, 3.2), dpi=130)
    t_traj = Tableau.depuis_frame("Trajectoire et bonus trajectoire", par_annee.assign(
        croissance_pct=100 * par_annee["croissance_places"],
        palier_pct=(100 * pd.to_numeric(par_annee["palier_trajectoire"], errors="coerce")).map(
            lambda v: "aucun" if pd.isna(v) else v)), [
        Colonne("annee", "Année", "annee"), Colonne("places_psu_territoire", "Places PSU", "entier"),
        Colonne("croissance_pct", "Croissance depuis la référence (%)", "pourcent"),
        Colonne("palier_pct", "Palier atteint (%)", "pourcent"),
        Colonne("places_manquantes", "Places manquantes pour le palier suivant", "entier"),
        Colonne("bonus_trajectoire", "Bonus trajectoire (€)", "euros")], nom_feuille="Trajectoire")
    paliers = " ; ".join(f"+{fr_number(100 * s, 0, na=NA)} % ({fr_number(places_pour_palier(ref, s), 0, na=NA)} places) → {fr_euros(m, na=NA)} par place et par an"
                         for s, m in zip(seuils, montants))
    return Section("Trajectoire et seuil du bonus trajectoire", image=png_t, tableau=t_traj,
                   image_alt="Barres des places PSU par année avec le seuil du bonus trajectoire",
                   points=[f"Paliers : {paliers}." if paliers else "Bonus trajectoire non applicable.",
                           str(par_annee["message_trajectoire"].iloc[-1])])


def _section_financement(res, par_annee: pd.DataFrame) -> Section:
    """What the Caf pays and the reste à charge, by year and in total."""
    money_cols = ["total_caf", "total_caf_territoire", "participations_familiales", "autres_cofinanceurs",
                  "reste_a_charge_collectivite", "cout_fonctionnement"]
    fin = par_annee[["annee"] + money_cols].copy()
    fin["annee"] = fin["annee"].astype(str)
    total = {"annee": f"Total {res.debut}-{res.fin}"} | {k: res.cumul.get(k, fin[k].sum()) for k in money_cols}
    fin = pd.concat([fin, pd.DataFrame([total])], ignore_index=True)
    t_fin = Tableau.depuis_frame("Financement Caf et reste à charge (€)", fin, [
        Colonne("annee", "Année"), Colonne("cout_fonctionnement", "Coût de fonctionnement", "euros"),
        Colonne("total_caf", "Caf (structures du scénario)", "euros"),
        Colonne("total_caf_territoire", "Caf (territoire, y c. bonus trajectoire des autres places)", "euros"),
        Colonne("participations_familiales", "Familles", "euros"),
        Colonne("autres_cofinanceurs", "Autres cofinanceurs", "euros"),
        Colonne("reste_a_charge_collectivite", "Reste à charge de la collectivité", "euros")],
        nom_feuille="Financement")
    fin_pts = [f"La Caf verse {fr_euros(res.cumul['total_caf_territoire'], na=NA)} au total sur {res.debut}-{res.fin} "
               f"(dont {fr_euros(res.cumul['total_caf'], na=NA)} pour les structures du scénario).",
               f"Reste à charge de la collectivité : {fr_euros(res.cumul['reste_a_charge_collectivite'], na=NA)} sur la période."]
    fin_pts += res.alertes[:3]
    return Section("Ce que la Caf verse et le reste à charge", points=fin_pts, tableau=t_fin)


def _section_hypotheses(res) -> Section:
    """One row per parameter: its values over the period by start year, the source of the latest one (its
    first words, which name the text: the whole source is on the Barèmes page and in the JSON result)."""
    params = res.parametres_utilises()
    descr = {}
    for p in params:
        try:
            descr[p["parametre"]] = res.baremes.definition(p["parametre"]).description
        except ParametreInconnu:
            descr[p["parametre"]] = ""
    par_nom: dict[str, list[dict]] = {}
    for p in params:
        par_nom.setdefault(p["parametre"], []).append(p)
    hyp = pd.DataFrame([{
        "parametre": descr.get(nom) or nom,
        "valeur": " ; ".join(_fmt_param(p["valeur"]) + (f" {p['unite']}" if p.get("unite") else "")
                             + (f" (depuis {p['depuis'][:4]})" if p["depuis"] else "") for p in ps),
        "source": _source_courte(ps[-1]["source"]),
        "confiance": "à vérifier" if any(p["a_verifier"] for p in ps) else
        "barème saisi" if ps[-1].get("nature") == NATURE_SAISIE else
        {"C": "confirmé", "P": "partiel"}.get(ps[-1]["confiance"], ps[-1]["confiance"]),
    } for nom, ps in par_nom.items()], columns=["parametre", "valeur", "source", "confiance"])
    n_verif = int(sum(p["a_verifier"] for p in params))
    t_hyp = Tableau.depuis_frame("Hypothèses et sources des paramètres", hyp, [
        Colonne("parametre", "Paramètre"), Colonne("valeur", "Valeur"),
        Colonne("source", "Source"), Colonne("confiance", "Confiance")], nom_feuille="Hypothèses", police_pdf=5.6)
    return Section("Hypothèses et sources", tableau=t_hyp,
                   points=[f"{len(params)} paramètres utilisés, dont {n_verif} « à vérifier » "
                           "(valeur par défaut sans texte officiel trouvé, ou saisie du scénario).",
                           f"Barème utilisé : version {res.bareme_version[:8]}."])


def _annexes(par_structure: pd.DataFrame, com: pd.DataFrame) -> list[Tableau]:
    """Detail by structure and year, and the coverage of the communes (workbook only)."""
    from planning.simulation import LIBELLES

    det_cols = [Colonne("annee", "Année", "annee"), Colonne("structure_id", "Identifiant"), Colonne("nom", "Structure"),
                Colonne("code_insee", "Commune (INSEE)", "code"), Colonne("gestion", "Gestion"),
                Colonne("places", "Places", "decimal1"), Colonne("places_nouvelles", "Places nouvelles", "decimal1"),
                Colonne("heures_facturees", "Heures facturées", "entier")]
    det_cols += [Colonne(k, LIBELLES.get(k, k), "euros") for k in
                 ("psu", "journees_pedagogiques", "bonus_mixite", "bonus_inclusion_handicap", "bonus_attractivite",
                  "bonus_territoire_nouvelles", "bonus_territoire_existantes", "bonus_rattrapage", "bonus_trajectoire",
                  "total_caf", "participations_familiales", "autres_cofinanceurs", "cout_fonctionnement",
                  "reste_a_charge_collectivite") if k in par_structure.columns]
    det = par_structure.assign(part_caf_pct=100 * par_structure["part_caf"])
    det_cols.append(Colonne("part_caf_pct", "Part Caf du coût (%)", "pourcent"))
    t_det = Tableau.depuis_frame("Détail par structure et par année", det, det_cols, nom_feuille="Détail structures")
    t_com = Tableau.depuis_frame("Couverture des communes du territoire", com, [
        Colonne("code", "Code INSEE", "code"), Colonne("nom", "Commune"), Colonne("population", "Population", "entier"),
        Colonne("enfants_moins_3", "Enfants de moins de 3 ans", "effectif"),
        Colonne("places_eaje", "Places EAJE", "entier"),
        Colonne("taux_eaje", "Taux EAJE (pour 100 enfants)", "decimal1", masque_si="enfants_moins_3")],
        nom_feuille="Couverture communes")
    return [t_det, t_com]


def build_ctg_onepager(scenario: Mapping[str, Any], store=None, *, today: dt.date | None = None,
                       inputs=None, baremes=None) -> dict[str, bytes]:
    """File name → bytes: the one-pager PDF (one or two A4 pages) and the xlsx of the detail."""
    from .pdf_builder import build_pdf
    from .xlsx import write_workbook

    doc, _res = build_ctg_document(scenario, store=store, today=today, inputs=inputs, baremes=baremes)
    sources = doc.sources
    doc.sources = None  # the PDF keeps to two pages: sources are in the hypotheses and the xlsx
    pdf = build_pdf(doc, compact=True, page_par_section=False, image_max_h=4.2 * 28.35)
    doc.sources = sources
    base = f"ctg_{slug(doc.titre.split('—', 1)[-1])}_{doc.date.isoformat()}"
    return {base + ".pdf": pdf, base + ".xlsx": write_workbook(doc)}


def _source_courte(source: str, limite: int = 90) -> str:
    """The beginning of a parameter source (which names the text), cut on a word, for the one-page sheet."""
    s = " ".join(str(source).split())
    if len(s) <= limite:
        return s
    coupe = s[:limite].rsplit(" ", 1)[0].rstrip(" ,;:(")
    return coupe + " …"
