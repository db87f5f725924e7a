"""CTG trajectory simulator: scenario model, validation, year-by-year results.

A scenario (JSON, see docs/SCENARIOS.md) describes a CTG territory (its communes,
its co-financed PSU places in the reference year, its wealth) and structures
whose places change over the years.  :func:`simulate` returns, per year and per
structure, the PSU, each bonus, the Caf total, the participations familiales,
the other co-financers and the reste à charge of the collectivité, each amount
with its 'détail du calcul'; plus the bonus trajectoire tier per year and the
cumulative totals over the CTG period.

:func:`simulate_territories` computes PSU and bonuses for many territories at
once (numpy), with the same array helpers as the scalar engine.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from . import bonus as B
from . import psu as P
from .parametres import Baremes, ParametreAbsent
from .participations import participations_structure
from .psu import EPS, Montant, fr_euros, fr_nombre, fr_pct

COMPOSANTES_CAF = (
    "psu", "journees_pedagogiques", "bonus_mixite", "bonus_inclusion_handicap", "bonus_attractivite",
    "bonus_territoire_nouvelles", "bonus_territoire_existantes", "bonus_rattrapage", "bonus_trajectoire",
)
LIBELLES = {
    "psu": "PSU", "journees_pedagogiques": "Journées pédagogiques", "bonus_mixite": "Bonus mixité sociale",
    "bonus_inclusion_handicap": "Bonus inclusion handicap", "bonus_attractivite": "Bonus attractivité",
    "bonus_territoire_nouvelles": "Bonus territoire (places nouvelles)",
    "bonus_territoire_existantes": "Bonus territoire (places existantes)", "bonus_rattrapage": "Bonus rattrapage",
    "bonus_trajectoire": "Bonus trajectoire", "total_caf": "Total Caf",
    "participations_familiales": "Participations familiales", "autres_cofinanceurs": "Autres cofinanceurs",
    "reste_a_charge_collectivite": "Reste à charge de la collectivité", "cout_fonctionnement": "Coût de fonctionnement",
}
GESTIONS = ("publique", "privee")
# Numeric fields of a structure: (name, required, lower bound, upper-bound parameter or None, unit label)
_CHAMPS_NUMERIQUES = (
    ("prix_revient_horaire", True, "strictement positif", "ctg.controle_prix_revient_horaire_max"),
    ("heures_facturees_par_place", True, "positif", "ctg.controle_heures_par_place_max"),
    ("taux_facturation", True, "strictement positif", "ctg.controle_taux_facturation_max"),
    ("part_regime_general", False, "ratio", None),
    ("participation_horaire_moyenne", False, "positif", None),
    ("participations_familiales", False, "positif", None),
    ("part_enfants_handicap", False, "ratio", None),
    ("cout_annuel_par_place", False, "positif", None),
    ("journees_pedagogiques", False, "positif", None),
    ("montant_cej_par_place", False, "positif", None),
)


class ScenarioInvalide(ValueError):
    def __init__(self, erreurs: list[str]):
        super().__init__("\n".join(erreurs))
        self.erreurs = erreurs


# --------------------------------------------------------------------------
# Series: a number, or {year: number} carried forward
# --------------------------------------------------------------------------
def valeur_annee(serie: Any, annee: int, defaut: float | None = None) -> float | None:
    """Value of a field for a year: a plain number, or a {year: value} mapping whose last key ≤ year
    applies (before the first key: ``defaut``)."""
    if serie is None:
        return defaut
    if isinstance(serie, Mapping):
        chosen = defaut
        for k in sorted(serie, key=lambda x: int(x)):
            if int(k) <= annee:
                chosen = serie[k]
        return None if chosen is None else float(chosen)
    return float(serie)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v))


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------
def _load_communes():
    try:
        from data.store import Store

        store = Store()
        if not store.has("communes"):
            return None
        return store.read("communes", columns=["code_insee", "dep", "population"])
    except Exception:  # no store, unreadable layer: skip the check
        return None


def _baremes_for(data: Mapping[str, Any], erreurs: list[str] | None = None) -> Baremes:
    overrides = data.get("parametres") or {}
    if not isinstance(overrides, Mapping):
        if erreurs is not None:
            erreurs.append("parametres : doit être un objet {nom du paramètre : valeur}")
        return Baremes()
    known = set(Baremes().names())
    good = {}
    for k, v in overrides.items():
        if k not in known:
            if erreurs is not None:
                erreurs.append(f"parametres.{k} : paramètre inconnu (voir la liste dans planning/baremes/*.yaml)")
        else:
            good[k] = v
    return Baremes(good)


def _periode(data: Mapping[str, Any], bar: Baremes) -> tuple[int, int]:
    d, f = bar.value("ctg.periode_defaut", 2023)
    per = data.get("periode") or {}
    if isinstance(per, Mapping):
        d, f = per.get("debut", d), per.get("fin", f)
    return int(d), int(f)


def validate_scenario(data: Any, communes=None) -> list[str]:
    """French error messages naming the field path; an empty list means the scenario can run.

    ``communes``: a frame with ``code_insee`` (and ``population`` for the plausibility
    check); by default the store layer ``communes`` when the store exists.
    """
    err: list[str] = []
    if not isinstance(data, Mapping):
        return ["scénario : le fichier doit contenir un objet JSON { … } (voir docs/SCENARIOS.md)"]
    bar = _baremes_for(data, err)
    if communes is None:
        communes = _load_communes()
    known_codes, population = None, {}
    if communes is not None and len(communes):
        known_codes = set(communes["code_insee"].astype(str))
        if "population" in communes.columns:
            population = dict(zip(communes["code_insee"].astype(str), communes["population"]))

    # période
    per = data.get("periode")
    if per is not None:
        if not isinstance(per, Mapping):
            err.append("periode : doit être un objet {\"debut\": 2023, \"fin\": 2027}")
        else:
            for k in ("debut", "fin"):
                if k in per and not (isinstance(per[k], int) and not isinstance(per[k], bool)):
                    err.append(f"periode.{k} : année entière attendue (ex. 2023)")
    try:
        debut, fin = _periode(data, bar)
        first = bar.definition("psu.prix_plafond_reference").valeurs[0][0].year
        if debut > fin:
            err.append(f"periode : début {debut} après la fin {fin}")
        if debut < first:
            err.append(f"periode.debut : {debut} est avant la première année des barèmes ({first})")
        if fin - debut > 20:
            err.append(f"periode : {fin - debut + 1} années, c'est trop (20 au plus)")
    except (TypeError, ValueError):
        debut, fin = 2023, 2027

    # territoire
    terr = data.get("territoire")
    codes_terr: list[str] = []
    if not isinstance(terr, Mapping):
        err.append("territoire : champ manquant (objet avec « nom » et « communes »)")
        terr = {}
    else:
        if not isinstance(terr.get("nom"), str) or not terr.get("nom", "").strip():
            err.append("territoire.nom : champ manquant (texte)")
        cs = terr.get("communes")
        if not isinstance(cs, list) or not cs:
            err.append("territoire.communes : champ manquant (liste de codes INSEE, ex. [\"89387\"])")
        else:
            for i, c in enumerate(cs):
                if not isinstance(c, str):
                    err.append(f"territoire.communes[{i}] : code INSEE attendu sous forme de texte (ex. \"89387\")")
                elif known_codes is not None and c not in known_codes:
                    err.append(f"territoire.communes[{i}] : commune inconnue « {c} » (code INSEE absent du référentiel)")
                else:
                    codes_terr.append(c)
        for k in ("places_psu_cofinancees_reference", "potentiel_financier_par_habitant", "montant_cej_par_place"):
            if k in terr and terr[k] is not None:
                if not _is_number(terr[k]):
                    err.append(f"territoire.{k} : nombre attendu")
                elif terr[k] < 0:
                    err.append(f"territoire.{k} : nombre négatif")
        for k in ("qpv", "frr_zrr"):
            if k in terr and not isinstance(terr[k], bool):
                err.append(f"territoire.{k} : true ou false attendu")

    # structures
    sts = data.get("structures")
    if not isinstance(sts, list) or not sts:
        err.append("structures : champ manquant (liste d'au moins une structure)")
        sts = []
    ids = set()
    ratio_max = bar.value("ctg.controle_places_par_habitant_max", debut)
    for i, s in enumerate(sts):
        p = f"structures[{i}]"
        if not isinstance(s, Mapping):
            err.append(f"{p} : objet attendu")
            continue
        sid = s.get("id", f"S{i + 1}")
        if sid in ids:
            err.append(f"{p}.id : identifiant « {sid} » en double")
        ids.add(sid)
        if not isinstance(s.get("nom"), str) or not s.get("nom", "").strip():
            err.append(f"{p}.nom : champ manquant (texte)")
        code = s.get("code_insee")
        if not isinstance(code, str):
            err.append(f"{p}.code_insee : champ manquant (code INSEE en texte, ex. \"89387\")")
        elif known_codes is not None and code not in known_codes:
            err.append(f"{p}.code_insee : commune inconnue « {code} » (code INSEE absent du référentiel)")
        elif codes_terr and code not in codes_terr:
            err.append(f"{p}.code_insee : la commune « {code} » n'est pas dans territoire.communes")
        if s.get("gestion") not in GESTIONS:
            err.append(f"{p}.gestion : « publique » ou « privee » attendu")
        for k in ("fournit_couches", "fournit_repas", "psu", "qpv", "frr_zrr"):
            if k in s and not isinstance(s[k], bool):
                err.append(f"{p}.{k} : true ou false attendu")
        # places
        po = s.get("places_ouvertes")
        if po is None:
            err.append(f"{p}.places_ouvertes : champ manquant (ex. {{\"2023\": 20, \"2026\": 30}})")
        elif _is_number(po):
            if po < 0:
                err.append(f"{p}.places_ouvertes : nombre négatif")
        elif isinstance(po, Mapping):
            for k, v in po.items():
                try:
                    int(k)
                except (TypeError, ValueError):
                    err.append(f"{p}.places_ouvertes.{k} : la clé doit être une année (ex. \"2026\")")
                    continue
                if not _is_number(v):
                    err.append(f"{p}.places_ouvertes.{k} : nombre attendu")
                elif v < 0:
                    err.append(f"{p}.places_ouvertes.{k} : nombre négatif")
                elif code in population and v > ratio_max * max(float(population[code]), 1.0):
                    err.append(f"{p}.places_ouvertes.{k} : {fr_nombre(v, 0)} places pour une commune de "
                               f"{fr_nombre(population[code], 0)} habitants, valeur invraisemblable")
        else:
            err.append(f"{p}.places_ouvertes : nombre ou objet {{année : places}} attendu")
        # numbers (plain or by year)
        for name, required, kind, max_param in _CHAMPS_NUMERIQUES:
            v = s.get(name)
            if v is None:
                if required:
                    err.append(f"{p}.{name} : champ manquant")
                continue
            items = list(v.items()) if isinstance(v, Mapping) else [(None, v)]
            for k, x in items:
                path = f"{p}.{name}" + (f".{k}" if k is not None else "")
                if k is not None:
                    try:
                        int(k)
                    except (TypeError, ValueError):
                        err.append(f"{path} : la clé doit être une année")
                        continue
                if not _is_number(x):
                    err.append(f"{path} : nombre attendu")
                    continue
                if x < 0:
                    err.append(f"{path} : nombre négatif")
                elif kind == "strictement positif" and x == 0:
                    err.append(f"{path} : doit être strictement positif")
                elif kind == "ratio" and x > 1:
                    err.append(f"{path} : part attendue entre 0 et 1 (ex. 0.97 pour 97 %)")
                elif max_param:
                    mx = bar.value(max_param, debut)
                    if x > mx:
                        extra = " (saisir un ratio, ex. 1.10 pour 110 %)" if name == "taux_facturation" else ""
                        err.append(f"{path} : {fr_nombre(x, 2)} dépasse le maximum vraisemblable "
                                   f"{fr_nombre(mx, 2)}{extra}")
        if s.get("participation_horaire_moyenne") is None and s.get("participations_familiales") is None:
            err.append(f"{p}.participation_horaire_moyenne : champ manquant (ou participations_familiales)")
        cof = s.get("cofinancements")
        if cof is not None:
            if not isinstance(cof, Mapping):
                err.append(f"{p}.cofinancements : objet attendu")
            else:
                for k in ("autres_part", "autres_montant"):
                    if k in cof:
                        if not _is_number(cof[k]):
                            err.append(f"{p}.cofinancements.{k} : nombre attendu")
                        elif cof[k] < 0:
                            err.append(f"{p}.cofinancements.{k} : nombre négatif")
                        elif k == "autres_part" and cof[k] > 1:
                            err.append(f"{p}.cofinancements.autres_part : part attendue entre 0 et 1")
    return err


# --------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------
@dataclass
class LigneStructure:
    annee: int
    structure_id: str
    nom: str
    code_insee: str
    gestion: str
    places: float
    places_nouvelles: float
    places_existantes: float
    heures_facturees: float
    montants: dict[str, Montant]
    part_caf: float
    seuil_alerte: float
    alerte: str | None = None

    def valeur(self, key: str) -> float:
        return float(self.montants[key].valeur)

    def to_dict(self) -> dict[str, Any]:
        return {
            "annee": self.annee, "structure_id": self.structure_id, "nom": self.nom, "code_insee": self.code_insee,
            "gestion": self.gestion, "places": self.places, "places_nouvelles": self.places_nouvelles,
            "places_existantes": self.places_existantes, "heures_facturees": self.heures_facturees,
            "valeurs": {k: m.valeur for k, m in self.montants.items()},
            "part_caf": self.part_caf, "seuil_alerte_cofinancement": self.seuil_alerte, "alerte": self.alerte,
            "detail": {k: m.explain() for k, m in self.montants.items()},
        }


@dataclass
class ResultatAnnee:
    annee: int
    lignes: list[LigneStructure]
    trajectoire: B.PalierTrajectoire
    bonus_trajectoire_autres_places: Montant
    totaux: dict[str, float]
    part_caf: float
    alertes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "annee": self.annee, "totaux": self.totaux, "part_caf": self.part_caf, "alertes": self.alertes,
            "trajectoire": self.trajectoire.to_dict(),
            "bonus_trajectoire_autres_places": self.bonus_trajectoire_autres_places.explain(),
            "structures": [l.to_dict() for l in self.lignes],
        }


@dataclass
class SimulationResult:
    nom: str
    territoire: dict[str, Any]
    debut: int
    fin: int
    outre_mer: bool
    annees: list[ResultatAnnee]
    cumul: dict[str, float]
    alertes: list[str]
    baremes: Baremes

    def parametres_utilises(self) -> list[dict[str, Any]]:
        seen: dict[tuple, dict] = {}

        def walk(m: Montant):
            for p in m.parametres:
                seen.setdefault((p.name, p.depuis), p.explain())
            for d in m.details:
                walk(d)
        for a in self.annees:
            for l in a.lignes:
                for m in l.montants.values():
                    walk(m)
            for p in a.trajectoire.parametres:
                seen.setdefault((p.name, p.depuis), p.explain())
        return sorted(seen.values(), key=lambda d: (d["parametre"], d["depuis"] or ""))

    def to_dict(self) -> dict[str, Any]:
        params = self.parametres_utilises()
        return {
            "scenario": self.nom,
            "territoire": self.territoire,
            "periode": {"debut": self.debut, "fin": self.fin},
            "outre_mer": self.outre_mer,
            "libelles": LIBELLES,
            "annees": [a.to_dict() for a in self.annees],
            "cumul": self.cumul,
            "alertes": self.alertes,
            "parametres": params,
            "parametres_a_verifier": sorted({p["parametre"] for p in params if p["a_verifier"]}),
        }

    def to_frames(self) -> dict[str, Any]:
        """{"par_structure": one row per year × structure, "par_annee": one row per year}."""
        import pandas as pd

        rows = []
        for a in self.annees:
            for l in a.lignes:
                r = {"annee": l.annee, "structure_id": l.structure_id, "nom": l.nom, "code_insee": l.code_insee,
                     "gestion": l.gestion, "places": l.places, "places_nouvelles": l.places_nouvelles,
                     "places_existantes": l.places_existantes, "heures_facturees": l.heures_facturees}
                r.update({k: m.valeur for k, m in l.montants.items()})
                r.update({"part_caf": l.part_caf, "alerte": l.alerte})
                rows.append(r)
        par_structure = pd.DataFrame(rows)
        yrows = []
        for a in self.annees:
            t = a.trajectoire
            r = {"annee": a.annee}
            r.update(a.totaux)
            r.update({"part_caf": a.part_caf, "places_psu_territoire": t.places,
                      "places_psu_reference": t.places_reference, "croissance_places": t.croissance,
                      "palier_trajectoire": t.palier, "palier_suivant": t.palier_suivant,
                      "places_manquantes": t.places_manquantes, "message_trajectoire": t.message})
            yrows.append(r)
        return {"par_structure": par_structure, "par_annee": pd.DataFrame(yrows)}


# --------------------------------------------------------------------------
# Simulation
# --------------------------------------------------------------------------
def _places(s: Mapping[str, Any], annee: int) -> float:
    return float(valeur_annee(s.get("places_ouvertes"), annee, 0.0) or 0.0)


def simulate(scenario: Mapping[str, Any], baremes: Baremes | None = None, communes=None) -> SimulationResult:
    """Run a scenario (the dict read from the JSON file).  Raises :class:`ScenarioInvalide`
    (French messages) when the scenario does not validate."""
    erreurs = validate_scenario(scenario, communes=communes if communes is not None else _load_communes())
    if erreurs:
        raise ScenarioInvalide(erreurs)
    bar = baremes if baremes is not None else _baremes_for(scenario)
    if baremes is not None and scenario.get("parametres"):
        bar = baremes.with_overrides(scenario["parametres"])
    debut, fin = _periode(scenario, bar)
    terr = scenario["territoire"]
    structures = [s for s in scenario["structures"] if s.get("psu", True)]
    communes_terr = [str(c) for c in terr["communes"]]
    outre_mer = any(c.startswith("97") for c in communes_terr)
    ref_pv = bar.get("bonus.trajectoire_annee_reference",
                     max(debut, bar.definition("bonus.trajectoire_annee_reference").valeurs[0][0].year))
    annee_ref = int(terr.get("annee_reference", ref_pv.valeur))
    somme_ref = sum(_places(s, annee_ref) for s in structures)
    base_terr = float(terr.get("places_psu_cofinancees_reference", somme_ref))
    pf_terr = terr.get("potentiel_financier_par_habitant")

    def places_territoire(y: int) -> float:
        return base_terr + sum(_places(s, y) - _places(s, annee_ref) for s in structures)

    annees = list(range(debut, fin + 1))
    places_par_annee = {y: places_territoire(y) for y in sorted(set(annees) | {annee_ref})}
    resultats: list[ResultatAnnee] = []
    alertes_globales: list[str] = []
    for y in annees:
        seuil_name = "ctg.seuil_alerte_cofinancement_outre_mer" if outre_mer else "ctg.seuil_alerte_cofinancement"
        seuil = float(bar.value(seuil_name, y))
        traj = B.palier_trajectoire(y, places_reference=base_terr, places_par_annee=places_par_annee, baremes=bar)
        lignes = []
        for i, s in enumerate(structures):
            places = _places(s, y)
            if places <= 0:
                continue
            lignes.append(_ligne(y, i, s, places, _places(s, annee_ref), annee_ref, terr, pf_terr, traj, seuil, bar))
        autres = max(0.0, places_par_annee[y] - sum(l.places for l in lignes))
        bt_autres = B.bonus_trajectoire(traj, places=autres)
        bt_autres.libelle = "Bonus trajectoire — autres places PSU du territoire (non détaillées)"
        totaux = {k: sum(l.valeur(k) for l in lignes) for k in lignes[0].montants} if lignes else \
            {k: 0.0 for k in (*COMPOSANTES_CAF, "total_caf", "participations_familiales", "cout_fonctionnement",
                              "autres_cofinanceurs", "reste_a_charge_collectivite")}
        totaux["bonus_trajectoire_autres_places"] = bt_autres.valeur
        totaux["total_caf_territoire"] = totaux["total_caf"] + bt_autres.valeur
        totaux["places_detaillees"] = sum(l.places for l in lignes)
        cout = totaux["cout_fonctionnement"]
        part = totaux["total_caf"] / cout if cout > 0 else 0.0
        alertes = [l.alerte for l in lignes if l.alerte]
        if part > seuil + EPS:
            alertes.append(f"{y} : la Caf financerait {fr_pct(part)} du coût de fonctionnement des structures "
                           f"du scénario, au-delà de {fr_pct(seuil, 0)} (réservé aux territoires les plus en "
                           f"difficulté identifiés par le SDSF).")
        alertes_globales.extend(alertes)
        resultats.append(ResultatAnnee(y, lignes, traj, bt_autres, totaux, part, alertes))
    cumul_keys = list(resultats[0].totaux) if resultats else []
    cumul = {k: sum(r.totaux[k] for r in resultats) for k in cumul_keys if k != "places_detaillees"}
    territoire = {
        "nom": terr.get("nom"), "communes": communes_terr, "annee_reference": annee_ref,
        "places_psu_cofinancees_reference": base_terr, "potentiel_financier_par_habitant": pf_terr,
        "qpv": bool(terr.get("qpv", False)), "frr_zrr": bool(terr.get("frr_zrr", False)),
    }
    return SimulationResult(str(scenario.get("nom", terr.get("nom", "Scénario"))), territoire, debut, fin,
                            outre_mer, resultats, cumul, alertes_globales, bar)


def _ligne(y: int, i: int, s: Mapping[str, Any], places: float, places_ref: float, annee_ref: int,
           terr: Mapping[str, Any], pf_terr, traj: B.PalierTrajectoire, seuil: float, bar: Baremes) -> LigneStructure:
    sid = str(s.get("id", f"S{i + 1}"))
    v = lambda k, d=None: valeur_annee(s.get(k), y, d)  # noqa: E731
    prix = v("prix_revient_horaire")
    hpp = v("heures_facturees_par_place")
    taux_fact = v("taux_facturation")
    rg_default = bar.get("psu.part_regime_general_defaut", y)
    rg = v("part_regime_general")
    rg_from_default = rg is None
    if rg is None:
        rg = float(rg_default.valeur)
    niveau = P.niveau_service(s.get("fournit_couches", True), s.get("fournit_repas", True))
    heures = places * hpp
    pf_amount = v("participations_familiales")
    pf_h = v("participation_horaire_moyenne")
    pf = participations_structure(heures_facturees=heures, participation_horaire_moyenne=pf_h, montant=pf_amount)
    if pf_h is None:
        pf_h = pf.valeur / heures if heures > 0 else 0.0
    cout_pp = v("cout_annuel_par_place")
    if cout_pp is None:
        cout_pp = prix * hpp / taux_fact
        cout = Montant("Coût de fonctionnement", cout_pp * places,
                       f"{fr_nombre(prix)} €/h × {fr_nombre(heures, 0)} h facturées ÷ taux de facturation "
                       f"{fr_pct(taux_fact)} = {fr_nombre(heures / taux_fact, 0)} h réalisées → "
                       f"{fr_euros(cout_pp * places)}",
                       {"prix_revient_horaire": prix, "heures_facturees": heures, "taux_facturation": taux_fact})
    else:
        cout = Montant("Coût de fonctionnement", cout_pp * places,
                       f"{fr_euros(cout_pp)} par place (saisi) × {fr_nombre(places, 0)} places = "
                       f"{fr_euros(cout_pp * places)}", {"cout_annuel_par_place": cout_pp, "places": places})
    psu = P.calcul_psu(y, prix_revient_horaire=prix, heures_facturees=heures, taux_facturation=taux_fact,
                       participations_familiales=pf.valeur, part_regime_general=rg, baremes=bar, niveau=niveau)
    if rg_from_default:
        psu.parametres.append(rg_default)
    jp = P.journees_pedagogiques(y, jours=v("journees_pedagogiques", 0.0), places=places, prix_revient_horaire=prix,
                                 taux_facturation=taux_fact, part_regime_general=rg, baremes=bar, niveau=niveau)
    prioritaire = bool(s.get("qpv", terr.get("qpv", False)) or s.get("frr_zrr", terr.get("frr_zrr", False)))
    nouvelles = max(0.0, places - places_ref)
    existantes = places - nouvelles
    cej = v("montant_cej_par_place")
    if cej is None:
        cej = terr.get("montant_cej_par_place")
    m = {
        "psu": psu,
        "journees_pedagogiques": jp,
        "bonus_mixite": B.bonus_mixite(y, participation_horaire_moyenne=pf_h, places=places, baremes=bar),
        "bonus_inclusion_handicap": B.bonus_inclusion_handicap(
            y, part_enfants_handicap=v("part_enfants_handicap", 0.0), cout_par_place=cout_pp, places=places,
            baremes=bar),
        "bonus_attractivite": B.bonus_attractivite(y, gestion=s["gestion"], places=places, baremes=bar),
        "bonus_territoire_nouvelles": B.bonus_territoire_places_nouvelles(
            y, places=nouvelles, potentiel_financier_hab=pf_terr, prioritaire=prioritaire, baremes=bar),
        "bonus_territoire_existantes": B.bonus_territoire_places_existantes(
            y, places=existantes, montant_cej_par_place=cej, annee_reference=annee_ref, baremes=bar),
        "bonus_rattrapage": B.bonus_rattrapage(
            y, places=existantes, montant_cej_par_place=cej, potentiel_financier_hab=pf_terr,
            prioritaire=prioritaire, baremes=bar),
        "bonus_trajectoire": B.bonus_trajectoire(traj, places=places),
    }
    total = sum(x.valeur for x in m.values())
    m["total_caf"] = Montant("Total Caf", total,
                             " + ".join(f"{LIBELLES[k]} {fr_euros(x.valeur)}" for k, x in m.items())
                             + f" = {fr_euros(total)}", {}, [], list(m.values()))
    m["participations_familiales"] = pf
    m["cout_fonctionnement"] = cout
    cof = s.get("cofinancements") or {}
    a_part, a_montant = float(cof.get("autres_part", 0.0)), float(cof.get("autres_montant", 0.0))
    autres = a_part * cout.valeur + a_montant
    m["autres_cofinanceurs"] = Montant("Autres cofinanceurs", autres,
                                       f"{fr_pct(a_part)} du coût {fr_euros(cout.valeur)} + {fr_euros(a_montant)} "
                                       f"= {fr_euros(autres)}", {"autres_part": a_part, "autres_montant": a_montant})
    rac = cout.valeur - total - pf.valeur - autres
    m["reste_a_charge_collectivite"] = Montant(
        "Reste à charge de la collectivité", rac,
        f"coût {fr_euros(cout.valeur)} − Caf {fr_euros(total)} − familles {fr_euros(pf.valeur)} − autres "
        f"cofinanceurs {fr_euros(autres)} = {fr_euros(rac)}", {}, [], [cout, m["total_caf"], pf, m["autres_cofinanceurs"]])
    part = total / cout.valeur if cout.valeur > 0 else 0.0
    alerte = None
    if part > seuil + EPS:
        alerte = (f"{y} — {s.get('nom', sid)} : la Caf financerait {fr_pct(part)} du coût de fonctionnement, "
                  f"au-delà de {fr_pct(seuil, 0)}.")
    elif rac < -EPS:
        alerte = (f"{y} — {s.get('nom', sid)} : les financements dépassent le coût de fonctionnement de "
                  f"{fr_euros(-rac)} (vérifier les saisies).")
    return LigneStructure(y, sid, str(s.get("nom", sid)), str(s.get("code_insee")), s["gestion"], places, nouvelles,
                          existantes, heures, m, part, seuil, alerte)


# --------------------------------------------------------------------------
# Vectorised: many territories at once
# --------------------------------------------------------------------------
_DEFAUTS_VECTEUR = {
    "niveau_service": "couches_et_repas", "part_enfants_handicap": 0.0, "gestion": "publique",
    "potentiel_financier_par_habitant": np.nan, "prioritaire": False, "montant_cej_par_place": np.nan,
    "journees_pedagogiques": 0.0,
}


def simulate_territories(frame, years, baremes: Baremes | None = None):
    """PSU and bonuses for many territories at once; one output row per territory × year.

    ``frame``: one row per territory, each territory seen as one average structure:
    ``territoire``, ``places_reference`` (co-financed PSU places in the reference year),
    ``places_<year>`` (places in that year; missing → last known, else the reference),
    ``prix_revient_horaire``, ``heures_facturees_par_place``, ``taux_facturation``,
    ``participation_horaire_moyenne``, ``part_regime_general``; optional
    ``niveau_service``, ``part_enfants_handicap``, ``gestion``, ``potentiel_financier_par_habitant``,
    ``prioritaire`` (QPV or ZRR/FRR), ``montant_cej_par_place``, ``journees_pedagogiques``.
    """
    import pandas as pd

    bar = baremes or Baremes()
    df = frame.reset_index(drop=True)
    col = lambda k: df[k].to_numpy() if k in df.columns else np.full(len(df), _DEFAUTS_VECTEUR[k])  # noqa: E731
    base = df["places_reference"].to_numpy(float)
    prix = df["prix_revient_horaire"].to_numpy(float)
    hpp = df["heures_facturees_par_place"].to_numpy(float)
    tf = df["taux_facturation"].to_numpy(float)
    pfh = df["participation_horaire_moyenne"].to_numpy(float)
    rg = df["part_regime_general"].to_numpy(float)
    niveau = np.asarray(col("niveau_service"), dtype=object)
    handi = np.asarray(col("part_enfants_handicap"), float)
    gestion = np.asarray(col("gestion"), dtype=object)
    pf_hab = np.asarray(col("potentiel_financier_par_habitant"), float)
    prio = np.asarray(col("prioritaire"), bool)
    cej = np.asarray(col("montant_cej_par_place"), float)
    jours = np.asarray(col("journees_pedagogiques"), float)

    years = sorted(int(y) for y in years)
    ref_year = int(bar.get("bonus.trajectoire_annee_reference",
                           bar.definition("bonus.trajectoire_annee_reference").valeurs[0][0].year).valeur)
    places_by_year: dict[int, np.ndarray] = {}
    last = base.copy()
    for y in sorted(set(years) | {ref_year}):
        c = f"places_{y}"
        if c in df.columns:
            last = np.where(np.isnan(df[c].to_numpy(float)), last, df[c].to_numpy(float))
        places_by_year[y] = last.copy()

    out = []
    for y in years:
        places = places_by_year[y]
        heures = places * hpp
        taux = float(bar.value("psu.taux_psu", y))
        ref = float(bar.value("psu.prix_plafond_reference", y))
        coefs_niv = bar.value("psu.coefficients_niveau_service", y)
        c_niv = np.array([float(coefs_niv[n]) for n in niveau]) if len(niveau) else np.array([])
        regle = bar.value("psu.regle_taux_facturation", y)
        seuils = bar.value("psu.seuils_paliers_facturation", y) if regle == "paliers" \
            else P._seuils_lineaire(y, bar).valeur
        c_tr = P.coefficient_tranche_array(tf, regle, seuils, bar.value("psu.coefficients_tranche_facturation", y))
        retenu = np.minimum(prix, ref * c_niv * c_tr)
        pf_tot = pfh * heures
        psu = P.psu_array(taux, retenu, heures, pf_tot, rg)
        try:
            jmax = float(bar.value("psu.journees_pedagogiques_max", y))
            hpj = float(bar.value("psu.heures_par_journee_pedagogique", y))
            jp = P.psu_array(taux, retenu, np.minimum(jours, jmax) * hpj * places, 0.0, rg)
        except ParametreAbsent:
            jp = np.zeros(len(df))
        s, ms = B._mixite_params(y, bar)
        mix = B.mixite_par_place_array(pfh, s.valeur, [m.valeur for m in ms]) * places
        cout_pp = prix * hpp / tf
        hand = B.handicap_par_place_array(handi, cout_pp, bar.value("bonus.handicap_seuils_part_enfants", y),
                                          bar.value("bonus.handicap_taux", y),
                                          bar.value("bonus.handicap_plafond_par_place", y)) * places
        try:
            att_pp = bar.value("bonus.attractivite_par_place", y)
            attr = np.array([float(att_pp[g]) for g in gestion]) * places
        except ParametreAbsent:
            attr = np.zeros(len(df))
        nouvelles = np.maximum(0.0, places - places_by_year[ref_year])
        existantes = places - nouvelles
        seuils_pf = bar.value("bonus.territoire_seuils_potentiel_financier", y)
        mt_n = [bar.value(f"bonus.territoire_nouvelles_montant_{k}", y) for k in ("max", "intermediaire", "min")]
        tn = B.bande_richesse_array(pf_hab, prio, seuils_pf, mt_n) * nouvelles
        facteur, _ = B.indexation_cumulee(y, ref_year, bar)
        te = B.existantes_par_place_array(cej, bar.value("bonus.territoire_existantes_plancher", y), facteur) * existantes
        mt_r = [bar.value(f"bonus.rattrapage_montant_{k}", y) for k in ("max", "intermediaire", "min")]
        rat = B.rattrapage_par_place_array(cej, pf_hab, prio, bar.value("bonus.rattrapage_seuil_cej", y),
                                           seuils_pf, mt_r) * existantes
        # bonus trajectoire: growth between the reference year and min(year, end year)
        try:
            s_tr = bar.value("bonus.trajectoire_seuils_croissance", y)
            m_tr = bar.value("bonus.trajectoire_montants", y)
            fin = int(bar.value("bonus.trajectoire_annee_fin", y))
            mesure = places_by_year.get(min(y, fin), places)
            with np.errstate(divide="ignore", invalid="ignore"):
                growth = np.where(base > 0, (mesure - base) / np.where(base > 0, base, 1.0), 0.0)
            traj = B.trajectoire_par_place_array(growth, s_tr, m_tr) * places
        except ParametreAbsent:
            with np.errstate(divide="ignore", invalid="ignore"):
                growth = np.where(base > 0, (places - base) / np.where(base > 0, base, 1.0), 0.0)
            traj = np.zeros(len(df))
        total = psu + jp + mix + hand + attr + tn + te + rat + traj
        out.append(pd.DataFrame({
            "territoire": df["territoire"].to_numpy(), "annee": y, "places": places,
            "places_nouvelles": nouvelles, "places_existantes": existantes, "heures_facturees": heures,
            "participations_familiales": pf_tot, "cout_fonctionnement": cout_pp * places,
            "psu": psu, "journees_pedagogiques": jp, "bonus_mixite": mix, "bonus_inclusion_handicap": hand,
            "bonus_attractivite": attr, "bonus_territoire_nouvelles": tn, "bonus_territoire_existantes": te,
            "bonus_rattrapage": rat, "croissance_places": growth, "bonus_trajectoire": traj, "total_caf": total,
        }))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()
