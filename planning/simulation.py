"""CTG trajectory simulator: scenario model, validation, year-by-year results.

A scenario (JSON, see docs/SCENARIOS.md) describes a CTG territory (its communes,
its co-financed PSU places in the reference year, its wealth) and structures
whose places change over the years.  :func:`simulate` returns, per year and per
structure, the PSU, each bonus, the Caf total, the participations familiales,
the other co-financers and the reste à charge of the collectivité, each amount
with its 'détail du calcul'; plus the bonus trajectoire tier per year and the
cumulative totals over the CTG period.

This is the one simulation engine (pages, CLI, CTG sheet, benchmark).  It reads no store:
``communes`` (the référentiel, for the INSEE code check) is passed by the caller.
"""
from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from . import bonus as B
from . import psu as P
from .parametres import Baremes
from .participations import participations_structure
from .formats import fr_euros, fr_number, fr_ratio
from .psu import EPS, Montant
from .scenario_format import ScenarioInvalide, value_for_year
from .validation import REGLES_DATEES, annees_txt, baremes_du_scenario, en_vigueur, periode, validate_scenario

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
# --------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------
def fini(v: Any) -> Any:
    """JSON-ready copy: non-finite floats (a growth from 0 places…) become None, numpy → Python."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, (np.floating,)):
        return float(v) if np.isfinite(v) else None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, dict):
        return {k: fini(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [fini(x) for x in v]
    return v


@dataclass
class LigneStructure:
    """One structure in one year.  Only the values are kept in memory; the « détail du calcul »
    (:attr:`montants`, formulas and parameters) is recomputed on demand, so that memory stays small
    and linear in the number of structures × years."""

    annee: int
    structure_id: str
    nom: str
    code_insee: str
    gestion: str
    places: float
    places_nouvelles: float
    places_existantes: float
    heures_facturees: float
    valeurs: dict[str, float]
    part_caf: float
    seuil_alerte: float | None
    alerte: str | None = None
    _recalcul: Any = field(default=None, repr=False, compare=False)

    @property
    def montants(self) -> dict[str, Montant]:
        """The amounts with their détail du calcul (recomputed: not kept between calls)."""
        return self._recalcul()

    def valeur(self, key: str) -> float:
        return float(self.valeurs[key])

    def to_dict(self, montants: dict[str, Montant] | None = None) -> dict[str, Any]:
        m = self.montants if montants is None else montants
        return {
            "annee": self.annee, "structure_id": self.structure_id, "nom": self.nom, "code_insee": self.code_insee,
            "gestion": self.gestion, "places": self.places, "places_nouvelles": self.places_nouvelles,
            "places_existantes": self.places_existantes, "heures_facturees": self.heures_facturees,
            "valeurs": dict(self.valeurs),
            "part_caf": self.part_caf, "seuil_alerte_cofinancement": self.seuil_alerte, "alerte": self.alerte,
            "detail": {k: x.explain() for k, x in m.items()},
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

    def to_dict(self, structures: bool = True) -> dict[str, Any]:
        d = {
            "annee": self.annee, "totaux": self.totaux, "part_caf": self.part_caf, "alertes": self.alertes,
            "trajectoire": self.trajectoire.to_dict(),
            "bonus_trajectoire_autres_places": self.bonus_trajectoire_autres_places.explain(),
        }
        if structures:
            d["structures"] = [l.to_dict() for l in self.lignes]
        return d


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
    _parametres: dict = field(default_factory=dict, repr=False)
    notes: list[str] = field(default_factory=list)

    @property
    def bareme_version(self) -> str:
        """Version of the barème used (shipped and entered dated values, :attr:`Baremes.version`)."""
        return self.baremes.version

    @property
    def nb_lignes(self) -> int:
        return sum(len(a.lignes) for a in self.annees)

    def parametres_utilises(self) -> list[dict[str, Any]]:
        seen = {k: p.explain() for k, p in self._parametres.items()}
        for a in self.annees:
            for p in a.trajectoire.parametres:
                seen.setdefault((p.name, p.depuis), p.explain())
        return sorted(seen.values(), key=lambda d: (d["parametre"], d["depuis"] or ""))

    def _entete(self) -> dict[str, Any]:
        return {
            "scenario": self.nom,
            "territoire": self.territoire,
            "periode": {"debut": self.debut, "fin": self.fin},
            "outre_mer": self.outre_mer,
            "bareme_version": self.bareme_version,
            "libelles": LIBELLES,
        }

    def _pied(self) -> dict[str, Any]:
        params = self.parametres_utilises()
        d = {
            "cumul": self.cumul,
            "alertes": self.alertes,
            "parametres": params,
            "parametres_a_verifier": sorted({p["parametre"] for p in params if p["a_verifier"]}),
        }
        if self.notes:
            d["notes"] = self.notes
        return d

    def to_dict(self) -> dict[str, Any]:
        """The whole result in memory (fine for a few hundred structure-years; for large scenarios
        write it with :meth:`ecrire_json`, which streams one structure at a time)."""
        return fini({**self._entete(), "annees": [a.to_dict() for a in self.annees], **self._pied()})

    def ecrire_json(self, out, indent: int = 2) -> None:
        """Write the same JSON as ``json.dumps(self.to_dict(), indent=indent)``, one structure-year at a time
        (memory does not grow with the output). Always valid JSON: non-finite numbers are written null."""
        def pad(level: int) -> str:
            return "\n" + " " * (indent * level)

        def leaf(v: Any, level: int) -> str:
            return json.dumps(fini(v), ensure_ascii=False, indent=indent, allow_nan=False).replace("\n", pad(level))

        def obj(items: list[tuple[str, Any]], level: int) -> None:
            out.write("{")
            for n, (k, v) in enumerate(items):
                out.write(("," if n else "") + pad(level + 1) + json.dumps(k, ensure_ascii=False) + ": ")
                if callable(v):
                    v(level + 1)
                else:
                    out.write(leaf(v, level + 1))
            out.write(pad(level) + "}")

        def liste(gen, level: int) -> None:
            out.write("[")
            n = 0
            for item in gen:
                out.write(("," if n else "") + pad(level + 1))
                item(level + 1) if callable(item) else out.write(leaf(item, level + 1))
                n += 1
            out.write((pad(level) if n else "") + "]")

        def annee(a: ResultatAnnee):
            items = list(a.to_dict(structures=False).items())
            items.append(("structures", lambda lv: liste((l.to_dict() for l in a.lignes), lv)))
            return lambda lv: obj(items, lv)

        items = list(self._entete().items())
        items.append(("annees", lambda lv: liste((annee(a) for a in self.annees), lv)))
        items += list(self._pied().items())
        obj(items, 0)

    def to_frames(self) -> dict[str, Any]:
        """{"par_structure": one row per year × structure, "par_annee": one row per year}."""
        import pandas as pd

        rows = []
        for a in self.annees:
            for l in a.lignes:
                r = {"annee": l.annee, "structure_id": l.structure_id, "nom": l.nom, "code_insee": l.code_insee,
                     "gestion": l.gestion, "places": l.places, "places_nouvelles": l.places_nouvelles,
                     "places_existantes": l.places_existantes, "heures_facturees": l.heures_facturees}
                r.update(l.valeurs)
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
    return float(value_for_year(s.get("places_ouvertes"), annee, 0.0) or 0.0)


def _collect(m: Montant, into: dict) -> None:
    for p in m.parametres:
        into.setdefault((p.name, p.depuis), p)
    for d in m.details:
        _collect(d, into)


def simulate(scenario: Mapping[str, Any], baremes: Baremes | None = None, communes=None,
             deja_valide: bool = False) -> SimulationResult:
    """Run a scenario (the dict read from the JSON file).  Raises :class:`ScenarioInvalide`
    (French messages) when the scenario does not validate; ``deja_valide=True`` skips the validation
    when the caller has just run :func:`validate_scenario` on the same dict."""
    if not deja_valide:
        erreurs = validate_scenario(scenario, communes=communes)
        if erreurs:
            raise ScenarioInvalide(erreurs)
    bar = baremes if baremes is not None else baremes_du_scenario(scenario)
    if baremes is not None and scenario.get("parametres"):
        bar = baremes.with_overrides(scenario["parametres"])
    debut, fin = periode(scenario, bar)
    terr = scenario["territoire"]
    structures = [s for s in scenario["structures"] if s.get("psu", True)]
    communes_terr = [str(c) for c in terr["communes"]]
    outre_mer = any(c.startswith("97") for c in communes_terr)
    ref_pv = bar.get("bonus.trajectoire_annee_reference",
                     max(debut, bar.definition("bonus.trajectoire_annee_reference").valeurs[0][0].year))
    annee_ref = int(terr["annee_reference"]) if terr.get("annee_reference") is not None else int(ref_pv.valeur)
    somme_ref = sum(_places(s, annee_ref) for s in structures)
    base_terr = float(terr["places_psu_cofinancees_reference"]) \
        if terr.get("places_psu_cofinancees_reference") is not None else float(somme_ref)
    pf_terr = terr.get("potentiel_financier_par_habitant")

    annees = list(range(debut, fin + 1))
    places_ref = [_places(s, annee_ref) for s in structures]
    places_par_annee = {y: base_terr + sum(_places(s, y) - r for s, r in zip(structures, places_ref))
                        for y in sorted(set(annees) | {annee_ref})}
    resultats: list[ResultatAnnee] = []
    alertes_globales: list[str] = []
    params: dict = {}
    notes: list[str] = []
    seuil_name = "ctg.seuil_alerte_cofinancement_outre_mer" if outre_mer else "ctg.seuil_alerte_cofinancement"
    sans_seuil = [y for y in annees if not en_vigueur(bar, seuil_name, y)]
    if sans_seuil:
        first = bar.definition(seuil_name).valeurs[0][0].year
        notes.append(f"Pas d'alerte de cofinancement pour {annees_txt(sans_seuil)} : le seuil ({seuil_name}) "
                     f"n'est connu qu'à partir de {first} (COG 2023-2027).")
    for y in annees:
        seuil = float(bar.value(seuil_name, y)) if y not in sans_seuil else None
        traj = B.palier_trajectoire(y, places_reference=base_terr, places_par_annee=places_par_annee, baremes=bar)
        lignes = []
        for i, s in enumerate(structures):
            places = _places(s, y)
            if places <= 0:
                continue
            entree = _EntreeLigne(y, i, s, places, places_ref[i], annee_ref, terr, pf_terr, traj, seuil, bar)
            ligne, m = _ligne(entree)
            _collect_all(m, params)
            ligne._recalcul = functools.partial(_montants_seuls, entree)
            lignes.append(ligne)
        autres = max(0.0, places_par_annee[y] - sum(l.places for l in lignes))
        bt_autres = B.bonus_trajectoire(traj, places=autres)
        bt_autres.libelle = "Bonus trajectoire — autres places PSU du territoire (non détaillées)"
        totaux = {k: sum(l.valeur(k) for l in lignes) for k in lignes[0].valeurs} if lignes else \
            {k: 0.0 for k in (*COMPOSANTES_CAF, "total_caf", "participations_familiales", "cout_fonctionnement",
                              "autres_cofinanceurs", "reste_a_charge_collectivite")}
        totaux["bonus_trajectoire_autres_places"] = bt_autres.valeur
        totaux["total_caf_territoire"] = totaux["total_caf"] + bt_autres.valeur
        totaux["places_detaillees"] = sum(l.places for l in lignes)
        cout = totaux["cout_fonctionnement"]
        part = totaux["total_caf"] / cout if cout > 0 else 0.0
        alertes = [l.alerte for l in lignes if l.alerte]
        if seuil is not None and part > seuil + EPS:
            alertes.append(f"{y} : la Caf financerait {fr_ratio(part)} du coût de fonctionnement des structures "
                           f"du scénario, au-delà de {fr_ratio(seuil, 0)} (réservé aux territoires les plus en "
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
                            outre_mer, resultats, cumul, alertes_globales, bar, params, notes)


def _collect_all(m: dict[str, Montant], into: dict) -> None:
    for x in m.values():
        _collect(x, into)


def _montants_seuls(e: "_EntreeLigne") -> dict[str, Montant]:
    return _ligne(e)[1]


def _absent(libelle: str, y: int, bar: Baremes, key: str, entrees: dict) -> Montant:
    first = bar.definition(key).valeurs[0][0].year
    return Montant(libelle, 0.0, f"pas de {libelle[0].lower() + libelle[1:]} en {y} (en vigueur à partir de {first})",
                   entrees)


@dataclass(frozen=True)
class _EntreeLigne:
    """What one structure × year line is computed from (kept to recompute its « détail du calcul »)."""
    annee: int
    index: int
    structure: Mapping[str, Any]
    places: float
    places_ref: float
    annee_ref: int
    territoire: Mapping[str, Any]
    pf_terr: Any
    traj: B.PalierTrajectoire
    seuil: float | None
    bar: Baremes

    def v(self, key: str, defaut: float | None = None) -> float | None:
        """A field of the structure for this year (plain number or {year: value})."""
        return value_for_year(self.structure.get(key), self.annee, defaut)


def _ligne(e: _EntreeLigne) -> tuple[LigneStructure, dict[str, Montant]]:
    y, s, places = e.annee, e.structure, e.places
    sid = str(s.get("id", f"S{e.index + 1}"))
    prix, hpp, taux_fact = e.v("prix_revient_horaire"), e.v("heures_facturees_par_place"), e.v("taux_facturation")
    heures = places * hpp
    pf_h = e.v("participation_horaire_moyenne")
    pf = participations_structure(heures_facturees=heures, participation_horaire_moyenne=pf_h,
                                  montant=e.v("participations_familiales"))
    if pf_h is None:
        pf_h = pf.valeur / heures if heures > 0 else 0.0
    cout, cout_pp = _cout_fonctionnement(e, prix, hpp, taux_fact, heures)
    m = _composantes_caf(e, prix, taux_fact, heures, pf, pf_h, cout_pp)
    total = sum(x.valeur for x in m.values())
    m["total_caf"] = Montant("Total Caf", total,
                             " + ".join(f"{LIBELLES[k]} {fr_euros(x.valeur, 2)}" for k, x in m.items())
                             + f" = {fr_euros(total, 2)}", {}, [], list(m.values()))
    m["participations_familiales"] = pf
    m["cout_fonctionnement"] = cout
    cof = s.get("cofinancements") or {}
    a_part, a_montant = float(cof.get("autres_part", 0.0)), float(cof.get("autres_montant", 0.0))
    autres = a_part * cout.valeur + a_montant
    m["autres_cofinanceurs"] = Montant("Autres cofinanceurs", autres,
                                       f"{fr_ratio(a_part)} du coût {fr_euros(cout.valeur, 2)} + {fr_euros(a_montant, 2)} "
                                       f"= {fr_euros(autres, 2)}", {"autres_part": a_part, "autres_montant": a_montant})
    rac = cout.valeur - total - pf.valeur - autres
    m["reste_a_charge_collectivite"] = Montant(
        "Reste à charge de la collectivité", rac,
        f"coût {fr_euros(cout.valeur, 2)} − Caf {fr_euros(total, 2)} − familles {fr_euros(pf.valeur, 2)} − autres "
        f"cofinanceurs {fr_euros(autres, 2)} = {fr_euros(rac, 2)}", {}, [], [cout, m["total_caf"], pf, m["autres_cofinanceurs"]])
    part = total / cout.valeur if cout.valeur > 0 else 0.0
    alerte = None
    if e.seuil is not None and part > e.seuil + EPS:
        alerte = (f"{y} — {s.get('nom', sid)} : la Caf financerait {fr_ratio(part)} du coût de fonctionnement, "
                  f"au-delà de {fr_ratio(e.seuil, 0)}.")
    elif rac < -EPS:
        alerte = (f"{y} — {s.get('nom', sid)} : les financements dépassent le coût de fonctionnement de "
                  f"{fr_euros(-rac, 2)} (vérifier les saisies).")
    nouvelles = max(0.0, places - e.places_ref)
    ligne = LigneStructure(y, sid, str(s.get("nom", sid)), str(s.get("code_insee")), s["gestion"], places, nouvelles,
                           places - nouvelles, heures, {k: x.valeur for k, x in m.items()}, part, e.seuil, alerte)
    return ligne, m


def _cout_fonctionnement(e: _EntreeLigne, prix: float, hpp: float, taux_fact: float,
                         heures: float) -> tuple[Montant, float]:
    """The operating cost: entered per place, else hourly cost × hours actually provided."""
    places = e.places
    cout_pp = e.v("cout_annuel_par_place")
    if cout_pp is None:
        cout_pp = prix * hpp / taux_fact
        return Montant("Coût de fonctionnement", cout_pp * places,
                       f"{fr_number(prix, 2)} €/h × {fr_number(heures, 0)} h facturées ÷ taux de facturation "
                       f"{fr_ratio(taux_fact)} = {fr_number(heures / taux_fact, 0)} h réalisées → "
                       f"{fr_euros(cout_pp * places, 2)}",
                       {"prix_revient_horaire": prix, "heures_facturees": heures, "taux_facturation": taux_fact}), cout_pp
    return Montant("Coût de fonctionnement", cout_pp * places,
                   f"{fr_euros(cout_pp, 2)} par place (saisi) × {fr_number(places, 0)} places = "
                   f"{fr_euros(cout_pp * places, 2)}", {"cout_annuel_par_place": cout_pp, "places": places}), cout_pp


def _composantes_caf(e: _EntreeLigne, prix: float, taux_fact: float, heures: float, pf: Montant, pf_h: float,
                     cout_pp: float) -> dict[str, Montant]:
    """PSU, journées pédagogiques and each bonus of the line (:data:`COMPOSANTES_CAF`, in that order);
    a bonus before its first date is 0 with the reason."""
    y, s, places, bar, terr = e.annee, e.structure, e.places, e.bar, e.territoire

    def regle(name: str) -> bool:
        return en_vigueur(bar, REGLES_DATEES[name][1], y)

    rg_default = bar.get("psu.part_regime_general_defaut", y)
    rg = e.v("part_regime_general")
    rg_from_default = rg is None
    if rg is None:
        rg = float(rg_default.valeur)
    niveau = P.niveau_service(s.get("fournit_couches", True), s.get("fournit_repas", True))
    psu = P.calcul_psu(y, prix_revient_horaire=prix, heures_facturees=heures, taux_facturation=taux_fact,
                       participations_familiales=pf.valeur, part_regime_general=rg, baremes=bar, niveau=niveau)
    if rg_from_default:
        psu.parametres.append(rg_default)
    jp = P.journees_pedagogiques(y, jours=e.v("journees_pedagogiques", 0.0), places=places, prix_revient_horaire=prix,
                                 taux_facturation=taux_fact, part_regime_general=rg, baremes=bar, niveau=niveau)
    prioritaire = bool(s.get("qpv", terr.get("qpv", False)) or s.get("frr_zrr", terr.get("frr_zrr", False)))
    nouvelles = max(0.0, places - e.places_ref)
    existantes = places - nouvelles
    cej = e.v("montant_cej_par_place")
    if cej is None:
        cej = terr.get("montant_cej_par_place")
    return {
        "psu": psu,
        "journees_pedagogiques": jp,
        "bonus_mixite": B.bonus_mixite(y, participation_horaire_moyenne=pf_h, places=places, baremes=bar)
        if regle("bonus_mixite") else _absent("Bonus mixité sociale", y, bar, REGLES_DATEES["bonus_mixite"][1],
                                               {"participation_horaire_moyenne": pf_h, "places": places}),
        "bonus_inclusion_handicap": B.bonus_inclusion_handicap(
            y, part_enfants_handicap=e.v("part_enfants_handicap", 0.0), cout_par_place=cout_pp, places=places,
            baremes=bar) if regle("bonus_inclusion_handicap") else _absent(
            "Bonus inclusion handicap", y, bar, REGLES_DATEES["bonus_inclusion_handicap"][1], {"places": places}),
        "bonus_attractivite": B.bonus_attractivite(y, gestion=s["gestion"], places=places, baremes=bar),
        "bonus_territoire_nouvelles": B.bonus_territoire_places_nouvelles(
            y, places=nouvelles, potentiel_financier_hab=e.pf_terr, prioritaire=prioritaire, baremes=bar)
        if regle("bonus_territoire_nouvelles") else _absent(
            "Bonus territoire — places nouvelles", y, bar, REGLES_DATEES["bonus_territoire_nouvelles"][1],
            {"places_nouvelles": nouvelles}),
        "bonus_territoire_existantes": B.bonus_territoire_places_existantes(
            y, places=existantes, montant_cej_par_place=cej, annee_reference=e.annee_ref, baremes=bar)
        if regle("bonus_territoire_existantes") else _absent(
            "Bonus territoire — places existantes", y, bar, REGLES_DATEES["bonus_territoire_existantes"][1],
            {"places_existantes": existantes}),
        "bonus_rattrapage": B.bonus_rattrapage(
            y, places=existantes, montant_cej_par_place=cej, potentiel_financier_hab=e.pf_terr,
            prioritaire=prioritaire, baremes=bar)
        if regle("bonus_rattrapage") else _absent("Bonus rattrapage", y, bar, REGLES_DATEES["bonus_rattrapage"][1],
                                                   {"places_existantes": existantes}),
        "bonus_trajectoire": B.bonus_trajectoire(e.traj, places=places),
    }
