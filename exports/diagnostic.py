"""Diagnostic for the schéma pluriannuel of a commune or an EPCI (décret 2025-253, art. D.214-10-1): an
editable Word document and a PDF with the décret's headings, pre-filled with the atlas figures and their
sources, and « À compléter par la commune » where only the commune knows.

Every figure comes from ``planning`` (:mod:`planning.sppe`, :mod:`planning.sppe_territoire`); this module
lays them out as a :class:`~exports.document.Document` rendered by :mod:`exports.docx_builder` and
:mod:`exports.pdf_builder`.  :class:`Contexte` holds what a batch of diagnostics shares (store, inputs,
SPPE result and zones per département) so that a whole département is produced in one pass.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np
import pandas as pd

from .common import is_fictif, slug, sources_table
from .document import Colonne, Document, Section, Tableau, fr_date, fr_eur, fr_num
from .docx_builder import A_COMPLETER
from .sdsf import ExportImpossible

FORMATS = ("docx", "pdf")
COUCHES = ("communes", "structures", "naissances", "enfants_moins_3", "caf_couverture_com", "caf_couverture_dep",
           "qpv", "frr", "competences", "schemas_pluriannuels")
TITRES = ("1. Offre d'accueil existante", "2. Besoins des familles", "3. Zones d'offre insuffisante ou d'accès difficile",
          "4. Objectifs de développement de l'offre", "5. Besoins en personnel", "6. Investissements",
          "7. Calendrier", "8. Indicateurs d'évaluation")


@dataclass
class Contexte:
    """Data shared by every diagnostic of a batch (loaded once)."""

    store: Any
    quand: dt.date
    inputs: Any = None
    _sppe: dict[str, Any] = field(default_factory=dict)
    _zones: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        from planning.coverage import load_inputs

        self.inputs = self.inputs or load_inputs(self.store)
        self.points = self.store.read("communes", columns=["code_insee", "lon", "lat"])

    def sppe(self, dep: str):
        if dep not in self._sppe:
            from planning.cli_sppe import calculer

            self._sppe[dep] = calculer(self.store, "departement", dep, self.quand)
        return self._sppe[dep]

    def zones(self, dep: str):
        if dep not in self._zones:
            from planning.sppe_territoire import zones_departement

            self._zones[dep] = zones_departement(self.inputs, self.points, self.quand.year, dep)
        return self._zones[dep]


def trouver(ctx: Contexte, code: str) -> tuple[pd.Series, Any]:
    """The authority whose code is ``code`` (INSEE of a commune, or SIREN), or the authority a commune
    belongs to, with the SPPE result of its département."""
    base = ctx.inputs.base
    code = str(code).strip().upper()
    rows = base[(base["code_insee"] == code) | (base["epci_siren"] == code) | (base["ept_code"] == code)]
    if rows.empty:
        raise ExportImpossible(f"Code « {code} » inconnu : code INSEE d'une commune ou SIREN d'un EPCI.")
    dep = rows.sort_values("population", ascending=False)["dep"].iloc[0]
    res = ctx.sppe(dep)
    t = res.table
    hit = t[t["code"] == code]
    if hit.empty:
        hit = t[t["communes"].apply(lambda cs: code in cs)]
    if hit.empty:
        raise ExportImpossible(f"« {code} » n'est pas une autorité organisatrice (l'EPCI ne détient pas la compétence "
                               "petite enfance) : demandez le diagnostic de chacune de ses communes.")
    return hit.iloc[0], res


def _section_autorite(a: pd.Series, res) -> Section:
    from planning.sppe import NOTE_INFORMATION, STATUTS_SCHEMA, libelle_palier

    rpe, sch = a["rpe_dans_le_territoire"], a["schema"]
    present = {True: "oui", False: "non", None: "donnée non disponible (aucune liste de structures)"}[rpe["present"]]
    if rpe["present"] and rpe["depuis"]:
        present += f", depuis le {fr_date(dt.date.fromisoformat(rpe['depuis']))}"
    pts = [f"Autorité organisatrice : {'EPCI' if a['type'] == 'epci' else 'commune'} {a['nom']} ({a['code']}), "
           f"{len(a['communes'])} commune(s), {fr_num(a['population'], 0)} habitants — palier : "
           f"{libelle_palier(a['palier'], res.seuils)}.",
           f"RPE situé dans le territoire : {present} — obligation : {a['rpe_statut']}.",
           f"Schéma pluriannuel : {STATUTS_SCHEMA.get(sch['statut'], 'statut non renseigné')}"
           + (f" ({fr_date(dt.date.fromisoformat(sch['date']))})" if sch["date"] else "")
           + f" — obligation : {a['schema_statut']}.", NOTE_INFORMATION]
    return Section("Autorité organisatrice et obligations", points=pts,
                   notes=[f"Seuils : plus de {fr_num(res.seuils.planification, 0)} habitants (planification), plus de "
                          f"{fr_num(res.seuils.schema, 0)} (schéma pluriannuel, RPE depuis le "
                          f"{fr_date(res.seuils.debut_rpe)}) — loi 2023-1196, art. 17 ; CASF L.214-1-3."])


def _section_offre(ctx: Contexte, a: pd.Series, ind: pd.DataFrame, annee: int, fictif: bool) -> Section:
    from geo.classes import classify, seuils_couverture
    from geo.static_maps import static_choropleth_png

    sub = ind[ind["code"].isin(set(a["communes"]))]
    tot = {k: sub[k].sum(min_count=1) for k in ("places_eaje", "places_psu", "places_hors_psu", "places_mam",
                                                 "nb_rpe", "enfants_moins_3", "population")}
    taux = 100 * tot["places_eaje"] / tot["enfants_moins_3"] if tot["enfants_moins_3"] else np.nan
    rows = [{"mode": "Places d'EAJE (crèches, micro-crèches)", "valeur": tot["places_eaje"]},
            {"mode": "dont financées par la PSU", "valeur": tot["places_psu"]},
            {"mode": "dont hors PSU", "valeur": tot["places_hors_psu"]},
            {"mode": "Places en MAM", "valeur": tot["places_mam"]},
            {"mode": "Relais petite enfance (RPE)", "valeur": tot["nb_rpe"]},
            {"mode": "Enfants de moins de 3 ans", "valeur": tot["enfants_moins_3"]}]
    t = Tableau(f"Offre au 31 décembre {annee}", [Colonne("mode", "Mode d'accueil"),
                                                 Colonne("valeur", "Nombre", "entier")], rows, nom_feuille="Offre")
    pub = sub.dropna(subset=["txcouv_caf"])
    pts = [f"Taux de couverture EAJE calculé : {fr_num(taux, 1)} places pour 100 enfants de moins de 3 ans."]
    if len(pub) == 1 and len(sub) == 1:
        pts.append(f"Taux de couverture global publié par la Cnaf ({int(pub['annee_txcouv_caf'].iloc[0])}) : "
                   f"{fr_num(pub['txcouv_caf'].iloc[0], 1)} (assistants maternels, école, garde à domicile compris).")
    pts.append(f"{A_COMPLETER} : assistants maternels en activité, places en accueil périscolaire des 2-3 ans, "
               "projets en cours.")
    g = ctx.store.read("communes", columns=["code_insee", "nom", "geometry"])
    g = g[g["code_insee"].isin(set(a["communes"]))].merge(sub[["code", "taux_eaje"]], left_on="code_insee",
                                                          right_on="code", how="left")
    cls = classify(g["taux_eaje"], method="seuils", seuils=seuils_couverture(annee), decimals=1)
    s = ctx.inputs.structures
    pts_s = None if s is None else s[s["code_insee"].isin(set(a["communes"])) & s["date_fermeture"].isna()]
    png = static_choropleth_png(g, "taux_eaje", cls, f"Offre EAJE — {a['nom']}", "Atlas Petite Enfance",
                                points=pts_s, legend_title="Places d'EAJE pour 100\nenfants de moins de 3 ans",
                                subtitle=f"31 décembre {annee}", fictif=fictif, figsize=(7.0, 6.0), dpi=100)
    return Section(TITRES[0], points=pts, image=png, tableau=t,
                   image_alt=f"Carte des communes de {a['nom']} selon le taux de couverture EAJE, structures en points",
                   notes=["Places : liste des structures de la Caf (EAJE ouverts au 31 décembre). Taux : places pour "
                          "100 enfants de moins de 3 ans."])


def _section_besoins(b: pd.DataFrame, serie: pd.Series) -> Section:
    a = b.attrs
    hist = pd.DataFrame({"annee": serie.index[-6:], "naissances": serie.values[-6:]})
    t = Tableau("Enfants de moins de 3 ans projetés", [
        Colonne("annee", "Année", "annee"), Colonne("enfants_moins_3", "Enfants de moins de 3 ans", "entier"),
        Colonne("projete", "Projection")],
        [{"annee": r.annee, "enfants_moins_3": r.enfants_moins_3, "projete": "oui" if r.projete else "non"}
         for r in b.itertuples()], nom_feuille="Besoins")
    tend = a.get("tendance")
    pts = ["Naissances domiciliées : " + " ; ".join(f"{int(y)} : {fr_num(v, 0)}" for y, v in hist.values) + ".",
           f"Tendance des naissances sur {a['fenetre']} ans : "
           f"{'non calculable' if tend is None else fr_num(100 * tend, 1) + ' % par an'} (prolongée jusqu'en "
           f"{a['horizon']}).",
           f"{A_COMPLETER} : demandes d'accueil en attente, horaires atypiques, enfants en situation de handicap."]
    return Section(TITRES[1], points=pts, tableau=t,
                   notes=["Enfants de moins de 3 ans de l'année N = naissances N-2 + N-1 + N (INSEE, état civil) ; "
                          "années suivant la dernière publiée : projection (paramètre sppe.besoins_fenetre_tendance)."])


def _section_zones(a: pd.Series, zones) -> Section:
    c = zones.communes[zones.communes["code"].isin(set(a["communes"]))]
    z = c[c["zone_en_tension"].fillna(False).astype(bool)]
    t = Tableau("Communes en tension", [Colonne("code", "Code INSEE", "code"), Colonne("nom", "Commune"),
                                        Colonne("motifs", "Motifs")],
                z[["code", "nom", "motifs"]].to_dict("records"), nom_feuille="Zones")
    pts = [f"{len(z)} commune(s) en tension sur {len(c)} (référence : {zones.libelle_reference}, "
           f"{fr_num(zones.reference, 1)} places pour 100 enfants).",
           f"{A_COMPLETER} : quartiers ou hameaux mal desservis, temps de trajet réels, transports."]
    return Section(TITRES[2], points=pts, tableau=t if len(z) else None, notes=zones.notes)


def _sections_objectifs(b: pd.DataFrame, cible: float, lib: str, annee: int, baremes) -> list[Section]:
    last = b.iloc[-1] if len(b) else None
    a_creer = float(last["places_a_creer"]) if last is not None and np.isfinite(last["places_a_creer"]) else np.nan
    ratio = float(baremes.value("sppe.encadrement_enfants_par_professionnel", annee))
    etp_poste = float(baremes.value("sppe.etp_par_poste_encadrement", annee))
    aide = baremes.value("sppe.aide_investissement_par_place", annee)
    etp = a_creer / ratio * etp_poste if np.isfinite(a_creer) else np.nan
    t = Tableau("Places nécessaires par année", [
        Colonne("annee", "Année", "annee"), Colonne("places_necessaires", "Places nécessaires", "entier"),
        Colonne("places_a_creer", "Places à créer", "entier")],
        b[["annee", "places_necessaires", "places_a_creer"]].to_dict("records"), nom_feuille="Objectifs")
    obj = Section(TITRES[3], tableau=t, points=[
        f"Cible : {fr_num(cible, 1)} places d'EAJE pour 100 enfants de moins de 3 ans ({lib}).",
        f"Places à créer d'ici {int(last['annee']) if last is not None else '?'} : {fr_num(a_creer, 0)}.",
        f"{A_COMPLETER} : objectifs retenus par le conseil (modes d'accueil, publics prioritaires)."])
    pers = Section(TITRES[4], points=[
        f"Estimation : {fr_num(a_creer, 0)} places ÷ {fr_num(ratio, 0)} enfants par professionnel × "
        f"{fr_num(etp_poste, 1)} ETP par poste = {fr_num(etp, 1)} ETP de professionnels auprès des enfants.",
        f"{A_COMPLETER} : direction, référent santé et accueil inclusif, recrutements déjà prévus."],
        notes=["Paramètres : sppe.encadrement_enfants_par_professionnel (décret 2021-1131, confirmé) ; "
               "sppe.etp_par_poste_encadrement (estimation, à vérifier)."])
    inv = Section(TITRES[5], points=[
        f"Aide de la Caf à l'investissement : {fr_num(a_creer, 0)} places × {fr_eur(aide['minimum'])} à "
        f"{fr_eur(aide['maximum'])} = {fr_eur(a_creer * aide['minimum'])} à {fr_eur(a_creer * aide['maximum'])} "
        "(plan Piaje, au plus 80 % de la dépense éligible).",
        f"{A_COMPLETER} : coût des opérations, foncier, autres financeurs."],
        notes=["Paramètre sppe.aide_investissement_par_place (Cnaf, plan Piaje 2024)."])
    return [obj, pers, inv]


def _section_calendrier(b: pd.DataFrame) -> Section:
    prev = 0
    rows = []
    for r in b.itertuples():
        v = r.places_a_creer if np.isfinite(r.places_a_creer) else np.nan
        rows.append({"annee": r.annee, "ouvrir": max(0.0, v - prev) if np.isfinite(v) else np.nan,
                     "action": "à compléter par la commune"})
        prev = max(prev, v) if np.isfinite(v) else prev
    t = Tableau("Calendrier indicatif", [Colonne("annee", "Année", "annee"),
                                         Colonne("ouvrir", "Places à ouvrir dans l'année", "entier"),
                                         Colonne("action", "Opération")], rows, nom_feuille="Calendrier")
    return Section(TITRES[6], tableau=t, points=[
        f"{A_COMPLETER} : opérations (création, extension, relais), maîtrise d'ouvrage, dates de délibération."])


def _section_indicateurs(a: pd.Series, taux: float, annee: int) -> Section:
    rows = [{"indicateur": "Taux de couverture EAJE (places pour 100 enfants de moins de 3 ans)",
             "reference": fr_num(taux, 1), "source": f"Atlas, 31 décembre {annee}"},
            {"indicateur": "Places d'EAJE créées et fermées par an", "reference": "à suivre",
             "source": "liste des structures de la Caf"},
            {"indicateur": "RPE situé dans le territoire", "reference": a["rpe_statut"], "source": "liste des structures"},
            {"indicateur": "Taux de couverture global (Cnaf)", "reference": "voir partie 1", "source": "data.caf.fr"},
            {"indicateur": "Demandes d'accueil non satisfaites", "reference": "à compléter par la commune",
             "source": "commune"}]
    t = Tableau("Indicateurs d'évaluation", [Colonne("indicateur", "Indicateur"), Colonne("reference", "Valeur de départ"),
                                             Colonne("source", "Source")], rows, nom_feuille="Indicateurs")
    return Section(TITRES[7], tableau=t, points=[f"{A_COMPLETER} : valeurs cibles et fréquence du suivi."])


def build_diagnostic_document(ctx: Contexte, code: str, *, cible: str = "departement",
                              valeur: float | None = None) -> Document:
    """The diagnostic of the authority ``code`` (or of the authority a commune belongs to)."""
    from planning import besoins as bz
    from planning import sppe_territoire as T
    from planning.coverage import indicateurs

    a, res = trouver(ctx, code)
    annee = ctx.quand.year
    dep = str(a["dep"])
    fictif = is_fictif(ctx.store)
    ind = indicateurs(ctx.inputs, "commune", annee, ("departement", dep))
    if not set(a["communes"]) <= set(ind["code"]):       # an EPCI straddling two départements
        ind = indicateurs(ctx.inputs, "commune", annee)
    sub = ind[ind["code"].isin(set(a["communes"]))]
    places = sub["places_eaje"].sum(min_count=len(sub))
    enf = sub["enfants_moins_3"].sum(min_count=1)
    taux = 100 * places / enf if enf else np.nan
    c, lib = T.cible(ctx.inputs, annee, "commune" if a["type"] == "commune" else "epci", dep, cible, valeur)
    if c is None:
        c, lib = T.cible(ctx.inputs, annee, "commune", dep, "france", None)
    serie = bz.naissances_territoire(ctx.inputs.naissances, a["communes"])
    b = bz.besoin(serie, places, annee, taux_cible=c, baremes=ctx.inputs.baremes)
    sections = [_section_autorite(a, res), _section_offre(ctx, a, ind, annee, fictif), _section_besoins(b, serie),
                _section_zones(a, ctx.zones(dep)), *_sections_objectifs(b, c, lib, annee, ctx.inputs.baremes),
                _section_calendrier(b), _section_indicateurs(a, taux, annee)]
    return Document(
        titre=f"Diagnostic pour le schéma pluriannuel — {a['nom']}",
        sous_titre=f"Service public de la petite enfance — situation au {fr_date(ctx.quand)}",
        sections=sections, fictif=fictif, date=ctx.quand,
        couverture=["Plan du décret 2025-253 (CASF D.214-10-1). Document pré-rempli par la Caf avec les chiffres "
                    "de l'atlas ; les passages « À compléter par la commune » sont à rédiger par la collectivité."],
        sources=sources_table(ctx.store, COUCHES))


def build_diagnostic(code: str, store=None, *, quand: dt.date | None = None, formats: Iterable[str] = FORMATS,
                     contexte: Contexte | None = None, **kw) -> dict[str, bytes]:
    """File name → bytes (``.docx`` editable, ``.pdf``)."""
    from data.store import Store

    from .docx_builder import build_docx
    from .pdf_builder import build_pdf

    formats = tuple(f.strip().lower() for f in formats)
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise ExportImpossible(f"Format inconnu : {', '.join(bad)} (formats possibles : docx, pdf).")
    ctx = contexte or Contexte(store or Store(), quand or dt.date.today())
    doc = build_diagnostic_document(ctx, code, **kw)
    base = f"diagnostic_schema_{slug(doc.titre.split('—')[-1])}_{str(code).strip()}_{ctx.quand.isoformat()}"
    out: dict[str, bytes] = {}
    if "docx" in formats:
        out[base + ".docx"] = build_docx(doc)
    if "pdf" in formats:
        out[base + ".pdf"] = build_pdf(doc, page_par_section=False)
    return out


def autorites_du_departement(ctx: Contexte, dep: str, paliers: tuple[str, ...] = ("10000", "3500")) -> list[str]:
    """Codes of the authorities of a département that plan (by default over 3 500 inhabitants)."""
    t = ctx.sppe(dep).table
    return t.loc[t["palier"].isin(paliers) & (t["dep"] == dep), "code"].tolist()
