"""Validation of a simulator scenario: limits checked first, then every field, with French messages
that name the field path (``structures[2].places_ouvertes.2026 : nombre négatif``).

A scenario that validates can be simulated (:func:`planning.simulation.simulate`); the pages run
:func:`validate_scenario` once per rerun and pass ``deja_valide=True`` to the engine.  Limits of one
scenario: docs/SCENARIOS.md « Limites ».
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping

from .formats import fr_int, fr_number
from .parametres import Baremes, ParametreAbsent
from .scenario_format import (ANNEE_MAX, ANNEE_MIN_ABSOLUE, MAX_ANNEES, MAX_COMMUNES, MAX_LIGNES, MAX_MONTANT,
                              MAX_PLACES, MAX_PROFONDEUR, MAX_STRUCTURES, MAX_TEXTE, est_annee,
                              is_number, montrer, nombre_msg, profondeur_excessive, texte_valide, value_for_year)

GESTIONS = ("publique", "privee")
# Numeric fields of a structure: (name, required, lower bound, upper-bound parameter or fixed maximum)
_CHAMPS_NUMERIQUES = (
    ("prix_revient_horaire", True, "strictement positif", "ctg.controle_prix_revient_horaire_max"),
    ("heures_facturees_par_place", True, "positif", "ctg.controle_heures_par_place_max"),
    ("taux_facturation", True, "strictement positif", "ctg.controle_taux_facturation_max"),
    ("part_regime_general", False, "ratio", None),
    ("participation_horaire_moyenne", False, "positif", 100.0),
    ("participations_familiales", False, "positif", 1e9),
    ("part_enfants_handicap", False, "ratio", None),
    ("cout_annuel_par_place", False, "positif", 1e6),
    ("journees_pedagogiques", False, "positif", 366.0),
    ("montant_cej_par_place", False, "positif", 1e6),
)

# --------------------------------------------------------------------------
# Parameters of the scenario (« parametres ») and of the period
# --------------------------------------------------------------------------
def amount_problem(v: Any) -> str | None:
    """Why an amount or a count is refused (not a finite number, negative, beyond MAX_MONTANT), or None."""
    if not is_number(v):
        return nombre_msg(v)
    if v < 0:
        return "nombre négatif"
    if v > MAX_MONTANT:
        return f"valeur hors limites (au plus {fr_number(MAX_MONTANT, 0)})"
    return None


def check_override(name: str, v: Any, bar: Baremes) -> str | None:
    """None when ``v`` has the shape of parameter ``name`` (numbers finite, in range), else a French reason."""
    p = bar.definition(name)
    ref = p.valeurs[-1][1]
    seen = [val for _, val, _, _ in p.valeurs]

    def same(x: Any, r: Any, all_r: list) -> str | None:
        if isinstance(r, bool):
            return None if isinstance(x, bool) else "true ou false attendu"
        if isinstance(r, (int, float)):
            why = amount_problem(x)
            if why:
                return why
            if "année" in p.unite and (not isinstance(x, int) or not ANNEE_MIN_ABSOLUE <= x <= ANNEE_MAX):
                return f"année entière entre {ANNEE_MIN_ABSOLUE} et {ANNEE_MAX} attendue"
            if p.unite.startswith("ratio") and x > 10:
                return "ratio attendu (ex. 0.8 pour 80 %)"
            return None
        if isinstance(r, str):
            allowed = sorted(p.choix) if p.choix else sorted({a for a in all_r if isinstance(a, str)})
            return None if x in allowed else f"valeur attendue parmi : {', '.join(allowed)}"
        if isinstance(r, list):
            if not isinstance(x, list):
                return "liste attendue (ex. " + json.dumps(r, ensure_ascii=False) + ")"
            if all(isinstance(e, str) for e in r):
                if len(x) > 50 or not all(isinstance(e, str) and len(e) <= MAX_TEXTE for e in x):
                    return "liste de textes attendue"
                return None
            if len(x) != len(r):
                return f"liste de {len(r)} nombres attendue (ex. {json.dumps(r)})"
            for e, re_ in zip(x, r):
                why = same(e, re_, [])
                if why:
                    return why
            if sorted(r) == list(r) and sorted(x) != list(x):
                return "valeurs croissantes attendues"
            return None
        if isinstance(r, Mapping):
            if not isinstance(x, Mapping) or set(x) != set(r):
                return "objet attendu avec les clés " + ", ".join(sorted(map(str, r)))
            for k in r:
                why = same(x[k], r[k], [])
                if why:
                    return f"{k} : {why}"
            return None
        return "valeur non modifiable"

    return same(v, ref, seen)


def baremes_du_scenario(data: Mapping[str, Any], erreurs: list[str] | None = None) -> Baremes:
    overrides = data.get("parametres") or {}
    if not isinstance(overrides, Mapping):
        if erreurs is not None:
            erreurs.append("parametres : doit être un objet {nom du paramètre : valeur}")
        return Baremes()
    base = Baremes()
    known = set(base.names())
    good = {}
    for k, v in overrides.items():
        if k not in known:
            if erreurs is not None:
                shown = montrer(k, 80)
                erreurs.append(f"parametres.{shown} : paramètre inconnu (voir la liste dans planning/baremes/*.yaml)")
            continue
        why = check_override(k, v, base)
        if why:
            if erreurs is not None:
                erreurs.append(f"parametres.{k} : {why}")
            continue
        good[k] = v
    return Baremes(good)


def periode(data: Mapping[str, Any], bar: Baremes) -> tuple[int, int]:
    d, f = bar.value("ctg.periode_defaut", 2023)
    per = data.get("periode") or {}
    if isinstance(per, Mapping):
        d, f = per.get("debut", d), per.get("fin", f)
    return int(d), int(f)


# Parameters needed every simulated year (no value → the year cannot be simulated).
PARAMETRES_REQUIS = ("psu.taux_psu", "psu.prix_plafond_reference", "psu.coefficients_niveau_service",
                     "psu.coefficients_tranche_facturation", "psu.regle_taux_facturation",
                     "psu.part_regime_general_defaut")
# Rules that start on the first date of a key parameter: before it the amount is 0 (the bonus did not
# exist yet) or no alert is computed; once it applies, every member must have a value.
REGLES_DATEES = {
    "journees_pedagogiques": ("journées pédagogiques payées", "psu.journees_pedagogiques_max",
                              ("psu.heures_par_journee_pedagogique",)),
    "bonus_mixite": ("bonus mixité sociale", "bonus.mixite_montant_max",
                     ("bonus.mixite_seuils_participation", "bonus.mixite_montant_intermediaire",
                      "bonus.mixite_montant_min")),
    "bonus_inclusion_handicap": ("bonus inclusion handicap", "bonus.handicap_taux",
                                 ("bonus.handicap_seuils_part_enfants", "bonus.handicap_plafond_par_place",
                                  "bonus.handicap_lecture")),
    "bonus_territoire_nouvelles": ("bonus territoire (places nouvelles)", "bonus.territoire_nouvelles_montant_max",
                                   ("bonus.territoire_seuils_potentiel_financier",
                                    "bonus.territoire_nouvelles_montant_intermediaire",
                                    "bonus.territoire_nouvelles_montant_min")),
    "bonus_territoire_existantes": ("bonus territoire (places existantes)", "bonus.territoire_existantes_plancher",
                                    ("bonus.territoire_existantes_indexation",)),
    "bonus_rattrapage": ("bonus rattrapage", "bonus.rattrapage_montant_max",
                         ("bonus.rattrapage_seuil_cej", "bonus.territoire_seuils_potentiel_financier",
                          "bonus.rattrapage_montant_intermediaire", "bonus.rattrapage_montant_min")),
    "seuil_alerte": ("alerte de cofinancement", "ctg.seuil_alerte_cofinancement", ()),
    "seuil_alerte_outre_mer": ("alerte de cofinancement (outre-mer)", "ctg.seuil_alerte_cofinancement_outre_mer", ()),
}


def en_vigueur(bar: Baremes, name: str, annee: int) -> bool:
    try:
        bar.get(name, annee)
        return True
    except ParametreAbsent:
        return False


def annees_txt(ys: list[int]) -> str:
    return str(ys[0]) if len(ys) == 1 else f"{ys[0]} à {ys[-1]}"


def controle_parametres(bar: Baremes, debut: int, fin: int) -> list[str]:
    """Every parameter the simulator will read over the period has a value: else one French message per
    parameter naming it and the years (checked before any computation, never an error mid-run)."""
    manque: dict[str, list[int]] = {}
    for y in range(debut, fin + 1):
        needed = list(PARAMETRES_REQUIS)
        try:
            regle = bar.value("psu.regle_taux_facturation", y)
            needed.append("psu.seuils_paliers_facturation" if regle == "paliers" else "psu.seuils_lineaire_facturation")
        except ParametreAbsent:
            pass
        for _label, key, members in REGLES_DATEES.values():
            if en_vigueur(bar, key, y):
                needed.extend(members)
        for name in needed:
            if not en_vigueur(bar, name, y):
                manque.setdefault(name, []).append(y)
    out = []
    for name, ys in manque.items():
        first = bar.definition(name).valeurs[0][0] if bar.definition(name).valeurs else None
        depuis = f" (première valeur connue : {first:%d/%m/%Y})" if first else ""
        out.append(f"periode : le paramètre {name} n'a pas de valeur pour {annees_txt(ys)}{depuis} ; "
                   f"commencez la période plus tard ou saisissez sa valeur dans « parametres »")
    return out


@dataclass
class _Context:
    """What the checks of the territory and the structures need to know from the checks before them."""
    bar: Baremes
    debut: int = 2023
    fin: int = 2027
    periode_ok: bool = True
    debut_ctrl: int = 2023
    known_codes: set[str] | None = None
    population: dict[str, Any] = field(default_factory=dict)
    codes_terr: set[str] = field(default_factory=set)


def validate_scenario(data: Any, communes=None) -> list[str]:
    """French error messages naming the field path; an empty list means the scenario can run.

    ``communes``: the référentiel (a frame with ``code_insee``, and ``population`` for the
    plausibility check), read by the caller (:func:`data.entrees.communes_referentiel`); without it
    the INSEE codes are not checked against the référentiel.
    """
    if not isinstance(data, Mapping):
        return ["scénario : le fichier doit contenir un objet JSON { … } (voir docs/SCENARIOS.md)"]
    refus = _refused_at_once(data)
    if refus:
        return refus
    err: list[str] = []
    ctx = _Context(bar=baremes_du_scenario(data, err))
    if "nom" in data and data["nom"] is not None:
        texte_valide(data["nom"], "nom", err, requis=False)
    _check_periode(data, ctx, err)
    _check_territoire(data.get("territoire"), communes, ctx, err)
    sts = data.get("structures")
    if not isinstance(sts, list) or not sts:
        err.append("structures : champ manquant (liste d'au moins une structure)")
        sts = []
    elif ctx.periode_ok and len(sts) * (ctx.fin - ctx.debut + 1) > MAX_LIGNES:
        err.append(f"structures : {fr_int(len(sts))} structures sur {ctx.fin - ctx.debut + 1} ans, c'est trop "
                   f"({fr_int(MAX_LIGNES)} lignes structure × année au plus) : raccourcissez la période ou "
                   "découpez le territoire")
    ids: set[str] = set()
    for i, s in enumerate(sts):
        _check_structure(s, f"structures[{i}]", i, ids, ctx, err)
    return err


def _refused_at_once(data: Mapping[str, Any]) -> list[str]:
    """Limits checked before anything else, so that a huge or hostile file is refused at once."""
    if profondeur_excessive(data):
        return [f"scénario : objets et listes imbriqués sur plus de {MAX_PROFONDEUR} niveaux (voir docs/SCENARIOS.md)"]
    sts = data.get("structures")
    if isinstance(sts, list) and len(sts) > MAX_STRUCTURES:
        return [f"structures : {fr_int(len(sts))} structures, c'est trop ({fr_int(MAX_STRUCTURES)} au plus "
                "par scénario) : découpez le territoire en plusieurs scénarios"]
    terr = data.get("territoire")
    if isinstance(terr, Mapping) and isinstance(terr.get("communes"), list) and len(terr["communes"]) > MAX_COMMUNES:
        return [f"territoire.communes : {fr_int(len(terr['communes']))} communes, c'est trop "
                f"({fr_int(MAX_COMMUNES)} au plus)"]
    return []


def _check_periode(data: Mapping[str, Any], ctx: _Context, err: list[str]) -> None:
    first = ctx.bar.definition("psu.prix_plafond_reference").valeurs[0][0].year
    per = data.get("periode")
    if per is not None:
        if not isinstance(per, Mapping):
            err.append("periode : doit être un objet {\"debut\": 2023, \"fin\": 2027}")
            ctx.periode_ok = False
        else:
            for k in ("debut", "fin"):
                if k in per:
                    v = per[k]
                    if not (isinstance(v, int) and not isinstance(v, bool)):
                        err.append(f"periode.{k} : année entière attendue (ex. 2023)")
                        ctx.periode_ok = False
                    elif not first <= v <= ANNEE_MAX:
                        err.append(f"periode.{k} : {v if abs(v) < 10**6 else 'valeur'} hors des années simulables "
                                   f"({first} à {ANNEE_MAX})")
                        ctx.periode_ok = False
    if ctx.periode_ok:
        ctx.debut, ctx.fin = periode(data, ctx.bar)
        if ctx.debut > ctx.fin:
            err.append(f"periode : début {ctx.debut} après la fin {ctx.fin}")
            ctx.periode_ok = False
        elif ctx.fin - ctx.debut + 1 > MAX_ANNEES:
            err.append(f"periode : {ctx.fin - ctx.debut + 1} années, c'est trop ({MAX_ANNEES} au plus)")
            ctx.periode_ok = False
    if ctx.periode_ok:
        err.extend(controle_parametres(ctx.bar, ctx.debut, ctx.fin))
    ctx.debut_ctrl = min(max(ctx.debut, first), ANNEE_MAX)


def _check_territoire(terr: Any, communes, ctx: _Context, err: list[str]) -> None:
    if not isinstance(terr, Mapping):
        err.append("territoire : champ manquant (objet avec « nom » et « communes »)")
        return
    if communes is not None and len(communes):
        ctx.known_codes = set(communes["code_insee"].astype(str))
        if "population" in communes.columns:
            ctx.population = dict(zip(communes["code_insee"].astype(str), communes["population"]))
    texte_valide(terr.get("nom"), "territoire.nom", err)
    cs = terr.get("communes")
    if not isinstance(cs, list) or not cs:
        err.append("territoire.communes : champ manquant (liste de codes INSEE, ex. [\"89387\"])")
    else:
        for i, c in enumerate(cs):
            if not isinstance(c, str) or len(c) > 10:
                err.append(f"territoire.communes[{i}] : code INSEE attendu sous forme de texte (ex. \"89387\")")
            elif ctx.known_codes is not None and c not in ctx.known_codes:
                err.append(f"territoire.communes[{i}] : commune inconnue « {montrer(c)} » (code INSEE absent du référentiel)")
            else:
                ctx.codes_terr.add(c)
    for k in ("places_psu_cofinancees_reference", "potentiel_financier_par_habitant", "montant_cej_par_place"):
        if k in terr and terr[k] is not None:
            why = amount_problem(terr[k])
            if why:
                err.append(f"territoire.{k} : {why}")
    if terr.get("annee_reference") is not None:
        v = terr["annee_reference"]
        if not (isinstance(v, int) and not isinstance(v, bool)) or not ANNEE_MIN_ABSOLUE <= v <= ANNEE_MAX:
            err.append(f"territoire.annee_reference : année entière entre {ANNEE_MIN_ABSOLUE} et {ANNEE_MAX} "
                       "attendue (ex. 2023)")
    for k in ("qpv", "frr_zrr"):
        if k in terr and not isinstance(terr[k], bool):
            err.append(f"territoire.{k} : true ou false attendu")


def _check_structure(s: Any, p: str, i: int, ids: set[str], ctx: _Context, err: list[str]) -> None:
    if not isinstance(s, Mapping):
        err.append(f"{p} : objet attendu")
        return
    sid = s.get("id", f"S{i + 1}")
    if isinstance(sid, int) and not isinstance(sid, bool) and abs(sid) < 10**12:
        sid = str(sid)
    if texte_valide(sid, f"{p}.id", err, requis=True, limite=120):
        if sid in ids:
            err.append(f"{p}.id : identifiant « {montrer(sid)} » en double")
        ids.add(sid)
    texte_valide(s.get("nom"), f"{p}.nom", err)
    code = s.get("code_insee")
    if not isinstance(code, str) or not code or len(code) > 10:
        err.append(f"{p}.code_insee : champ manquant (code INSEE en texte, ex. \"89387\")")
        code = None
    elif ctx.known_codes is not None and code not in ctx.known_codes:
        err.append(f"{p}.code_insee : commune inconnue « {montrer(code)} » (code INSEE absent du référentiel)")
    elif ctx.codes_terr and code not in ctx.codes_terr:
        err.append(f"{p}.code_insee : la commune « {montrer(code)} » n'est pas dans territoire.communes")
    if not isinstance(s.get("gestion"), str) or s.get("gestion") not in GESTIONS:
        err.append(f"{p}.gestion : « publique » ou « privee » attendu")
    for k in ("fournit_couches", "fournit_repas", "psu", "qpv", "frr_zrr"):
        if k in s and not isinstance(s[k], bool):
            err.append(f"{p}.{k} : true ou false attendu")
    places_ok, premiere = _check_places(s, p, code, ctx, err)
    _check_numbers(s, p, ctx, err)
    if all(s.get(k) is None or (isinstance(s.get(k), Mapping) and not s.get(k))
           for k in ("participation_horaire_moyenne", "participations_familiales")):
        err.append(f"{p}.participation_horaire_moyenne : champ manquant (ou participations_familiales)")
    if ctx.periode_ok and places_ok and premiere is not None:
        _check_first_year(s, p, premiere, err)
    _check_cofinancements(s.get("cofinancements"), p, err)


def _check_places(s: Mapping[str, Any], p: str, code: str | None, ctx: _Context,
                    err: list[str]) -> tuple[bool, int | None]:
    """Checks ``places_ouvertes``; returns (valid, first simulated year with places)."""
    po = s.get("places_ouvertes")
    if po is None:
        err.append(f"{p}.places_ouvertes : champ manquant (ex. {{\"2023\": 20, \"2026\": 30}})")
        return False, None
    if not (isinstance(po, Mapping) or (isinstance(po, (int, float)) and not isinstance(po, bool))):
        err.append(f"{p}.places_ouvertes : nombre ou objet {{année : places}} attendu")
        return False, None
    ratio_max = ctx.bar.value("ctg.controle_places_par_habitant_max", ctx.debut_ctrl)
    items = list(po.items()) if isinstance(po, Mapping) else [(None, po)]
    n_err = len(err)
    for k, v in items:
        path = f"{p}.places_ouvertes" + (f".{k}" if k is not None else "")
        if k is not None and not est_annee(k):
            err.append(f"{p}.places_ouvertes : la clé « {montrer(k, 20)} » doit être une année sur quatre "
                       "chiffres (ex. \"2026\")")
            continue
        if not is_number(v):
            err.append(f"{path} : {nombre_msg(v)}")
        elif v < 0:
            err.append(f"{path} : nombre négatif")
        elif code in ctx.population and v > ratio_max * max(float(ctx.population[code]), 1.0):
            err.append(f"{path} : {fr_number(v, 0)} places pour une commune de "
                       f"{fr_number(ctx.population[code], 0)} habitants, valeur invraisemblable")
        elif v > MAX_PLACES:
            err.append(f"{path} : {fr_number(v, 0)} places, valeur invraisemblable "
                       f"({fr_int(MAX_PLACES)} au plus)")
    places_ok = len(err) == n_err
    premiere = None
    if places_ok and ctx.periode_ok:
        premiere = next((y for y in range(ctx.debut, ctx.fin + 1) if (value_for_year(po, y, 0.0) or 0.0) > 0), None)
    return places_ok, premiere


def _check_numbers(s: Mapping[str, Any], p: str, ctx: _Context, err: list[str]) -> None:
    """The numeric fields of a structure, plain or by year (:data:`_CHAMPS_NUMERIQUES`)."""
    for name, required, kind, maxi in _CHAMPS_NUMERIQUES:
        v = s.get(name)
        if v is None or (isinstance(v, Mapping) and not v):
            if required:
                err.append(f"{p}.{name} : champ manquant" + (" (objet vide)" if v is not None else ""))
            continue
        items = list(v.items()) if isinstance(v, Mapping) else [(None, v)]
        for k, x in items:
            path = f"{p}.{name}" + (f".{k}" if k is not None else "")
            if k is not None and not est_annee(k):
                err.append(f"{p}.{name} : la clé « {montrer(k, 20)} » doit être une année sur quatre chiffres")
                continue
            if not is_number(x):
                err.append(f"{path} : {nombre_msg(x)}")
                continue
            if x < 0:
                err.append(f"{path} : nombre négatif")
            elif kind == "strictement positif" and x == 0:
                err.append(f"{path} : doit être strictement positif")
            elif kind == "ratio" and x > 1:
                err.append(f"{path} : part attendue entre 0 et 1 (ex. 0.97 pour 97 %)")
            elif maxi is not None:
                mx = ctx.bar.value(maxi, ctx.debut_ctrl) if isinstance(maxi, str) else maxi
                if x > mx:
                    extra = " (saisir un ratio, ex. 1.10 pour 110 %)" if name == "taux_facturation" else ""
                    err.append(f"{path} : {fr_number(x, 2)} dépasse le maximum vraisemblable "
                               f"{fr_number(mx, 2)}{extra}")


def _check_first_year(s: Mapping[str, Any], p: str, premiere: int, err: list[str]) -> None:
    """A value by year must exist from the first simulated year in which the structure has places."""
    pf_field = ("participation_horaire_moyenne" if s.get("participation_horaire_moyenne") not in (None, {})
                else "participations_familiales")
    for name in ("prix_revient_horaire", "heures_facturees_par_place", "taux_facturation", pf_field):
        v = s.get(name)
        if isinstance(v, Mapping) and v and all(est_annee(k) for k in v):
            k0 = min(int(k) for k in v)
            if k0 > premiere:
                err.append(f"{p}.{name} : pas de valeur pour {premiere} (première année donnée : {k0}) "
                           f"alors que la structure a des places cette année-là")


def _check_cofinancements(cof: Any, p: str, err: list[str]) -> None:
    if cof is None:
        return
    if not isinstance(cof, Mapping):
        err.append(f"{p}.cofinancements : objet attendu")
        return
    for k in ("autres_part", "autres_montant"):
        if k in cof:
            if not is_number(cof[k]):
                err.append(f"{p}.cofinancements.{k} : {nombre_msg(cof[k])}")
            elif cof[k] < 0:
                err.append(f"{p}.cofinancements.{k} : nombre négatif")
            elif k == "autres_part" and cof[k] > 1:
                err.append(f"{p}.cofinancements.autres_part : part attendue entre 0 et 1")
            elif cof[k] > MAX_MONTANT:
                err.append(f"{p}.cofinancements.{k} : valeur hors limites")
