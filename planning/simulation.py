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

import functools
import json
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

# Limits of one scenario (docs/SCENARIOS.md « Limites »): checked before anything is computed, so that a
# huge or hostile file is refused at once instead of exhausting memory.
ANNEE_MIN_ABSOLUE = 2000          # years in keys, annee_reference… (the period itself starts at the barèmes' start)
ANNEE_MAX = 2040                  # last year a scenario may simulate
MAX_ANNEES = 21                   # years in one period
MAX_STRUCTURES = 2000             # structures in one scenario
MAX_LIGNES = 20000                # structures × years computed (each with its « détail du calcul »)
MAX_COMMUNES = 40000              # communes of the territory (France has about 35 000)
MAX_OCTETS = 5_000_000            # size of a scenario file / of a saved scenario (JSON text, bytes)
MAX_PROFONDEUR = 12               # nesting of objects and lists
MAX_TEXTE = 300                   # characters of a name, an id, a code
MAX_PLACES = 5000                 # places of one structure (when the commune's population is unknown)
MAX_MONTANT = 1e9                 # any amount in euros, any count


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
    """A finite JSON number (bool excluded; a 400-digit integer is not a usable number)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    try:
        return math.isfinite(float(v))
    except OverflowError:
        return False


def _nombre_msg(v: Any) -> str:
    if isinstance(v, int) and not isinstance(v, bool):
        return "nombre trop grand"
    if isinstance(v, float):
        return "nombre fini attendu (NaN et infini refusés)"
    return "nombre attendu"


def montrer(text: Any, n: int = 40) -> str:
    """User text quoted in a message: shortened, control characters (line breaks…) replaced."""
    t = str(text)
    t = t if len(t) <= n else t[:n] + "…"
    return "".join(c if c.isprintable() else "?" for c in t)


def _est_annee(k: Any) -> bool:
    return isinstance(k, str) and len(k) == 4 and k.isascii() and k.isdigit()


def _texte(v: Any, path: str, err: list[str], requis: bool = True, limite: int = MAX_TEXTE) -> bool:
    if v is None or (isinstance(v, str) and not v.strip()):
        if requis:
            err.append(f"{path} : champ manquant (texte)")
        return False
    if not isinstance(v, str):
        err.append(f"{path} : texte attendu")
        return False
    if len(v) > limite:
        err.append(f"{path} : texte trop long ({len(v)} caractères, {limite} au plus)")
        return False
    return True


def profondeur_excessive(data: Any, limite: int = MAX_PROFONDEUR) -> bool:
    """True when objects/lists are nested deeper than ``limite`` (iterative: no recursion error)."""
    pile = [(data, 1)]
    while pile:
        x, d = pile.pop()
        if isinstance(x, Mapping):
            enfants = x.values()
        elif isinstance(x, list):
            enfants = x
        else:
            continue
        if d > limite:
            return True
        pile.extend((c, d + 1) for c in enfants if isinstance(c, (Mapping, list)))
    return False


def fr_entier(n: int) -> str:
    return fr_nombre(n, 0)


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


def _check_override(name: str, v: Any, bar: Baremes) -> str | None:
    """None when ``v`` has the shape of parameter ``name`` (numbers finite, in range), else a French reason."""
    p = bar.definition(name)
    ref = p.valeurs[-1][1]
    seen = [val for _, val, _, _ in p.valeurs]

    def same(x: Any, r: Any, all_r: list) -> str | None:
        if isinstance(r, bool):
            return None if isinstance(x, bool) else "true ou false attendu"
        if isinstance(r, (int, float)):
            if not _is_number(x):
                return _nombre_msg(x)
            if x < 0:
                return "nombre négatif"
            if x > MAX_MONTANT:
                return f"valeur hors limites (au plus {fr_nombre(MAX_MONTANT, 0)})"
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
                return "objet attendu avec les clés " + ", ".join(sorted(r))
            for k in r:
                why = same(x[k], r[k], [])
                if why:
                    return f"{k} : {why}"
            return None
        return "valeur non modifiable"

    return same(v, ref, seen)


def _baremes_for(data: Mapping[str, Any], erreurs: list[str] | None = None) -> Baremes:
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
        why = _check_override(k, v, base)
        if why:
            if erreurs is not None:
                erreurs.append(f"parametres.{k} : {why}")
            continue
        good[k] = v
    return Baremes(good)


def _periode(data: Mapping[str, Any], bar: Baremes) -> tuple[int, int]:
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


def _annees_txt(ys: list[int]) -> str:
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
        out.append(f"periode : le paramètre {name} n'a pas de valeur pour {_annees_txt(ys)}{depuis} ; "
                   f"commencez la période plus tard ou saisissez sa valeur dans « parametres »")
    return out


def validate_scenario(data: Any, communes=None) -> list[str]:
    """French error messages naming the field path; an empty list means the scenario can run.

    ``communes``: a frame with ``code_insee`` (and ``population`` for the plausibility
    check); by default the store layer ``communes`` when the store exists.
    """
    err: list[str] = []
    if not isinstance(data, Mapping):
        return ["scénario : le fichier doit contenir un objet JSON { … } (voir docs/SCENARIOS.md)"]
    if profondeur_excessive(data):
        return [f"scénario : objets et listes imbriqués sur plus de {MAX_PROFONDEUR} niveaux (voir docs/SCENARIOS.md)"]
    sts = data.get("structures")
    if isinstance(sts, list) and len(sts) > MAX_STRUCTURES:
        return [f"structures : {fr_entier(len(sts))} structures, c'est trop ({fr_entier(MAX_STRUCTURES)} au plus "
                "par scénario) : découpez le territoire en plusieurs scénarios"]
    terr = data.get("territoire")
    if isinstance(terr, Mapping) and isinstance(terr.get("communes"), list) and len(terr["communes"]) > MAX_COMMUNES:
        return [f"territoire.communes : {fr_entier(len(terr['communes']))} communes, c'est trop "
                f"({fr_entier(MAX_COMMUNES)} au plus)"]
    bar = _baremes_for(data, err)
    if "nom" in data and data["nom"] is not None:
        _texte(data["nom"], "nom", err, requis=False)

    # période
    first = bar.definition("psu.prix_plafond_reference").valeurs[0][0].year
    per = data.get("periode")
    periode_ok = True
    if per is not None:
        if not isinstance(per, Mapping):
            err.append("periode : doit être un objet {\"debut\": 2023, \"fin\": 2027}")
            periode_ok = False
        else:
            for k in ("debut", "fin"):
                if k in per:
                    v = per[k]
                    if not (isinstance(v, int) and not isinstance(v, bool)):
                        err.append(f"periode.{k} : année entière attendue (ex. 2023)")
                        periode_ok = False
                    elif not first <= v <= ANNEE_MAX:
                        err.append(f"periode.{k} : {v if abs(v) < 10**6 else 'valeur'} hors des années simulables "
                                   f"({first} à {ANNEE_MAX})")
                        periode_ok = False
    debut, fin = 2023, 2027
    if periode_ok:
        debut, fin = _periode(data, bar)
        if debut > fin:
            err.append(f"periode : début {debut} après la fin {fin}")
            periode_ok = False
        elif fin - debut + 1 > MAX_ANNEES:
            err.append(f"periode : {fin - debut + 1} années, c'est trop ({MAX_ANNEES} au plus)")
            periode_ok = False
    if periode_ok:
        err.extend(controle_parametres(bar, debut, fin))
    debut_ctrl = min(max(debut, first), ANNEE_MAX)

    # territoire
    codes_terr: set[str] = set()
    known_codes, population = None, {}
    if not isinstance(terr, Mapping):
        err.append("territoire : champ manquant (objet avec « nom » et « communes »)")
        terr = {}
    else:
        if communes is None:
            communes = _load_communes()
        if communes is not None and len(communes):
            known_codes = set(communes["code_insee"].astype(str))
            if "population" in communes.columns:
                population = dict(zip(communes["code_insee"].astype(str), communes["population"]))
        _texte(terr.get("nom"), "territoire.nom", err)
        cs = terr.get("communes")
        if not isinstance(cs, list) or not cs:
            err.append("territoire.communes : champ manquant (liste de codes INSEE, ex. [\"89387\"])")
        else:
            for i, c in enumerate(cs):
                if not isinstance(c, str) or len(c) > 10:
                    err.append(f"territoire.communes[{i}] : code INSEE attendu sous forme de texte (ex. \"89387\")")
                elif known_codes is not None and c not in known_codes:
                    err.append(f"territoire.communes[{i}] : commune inconnue « {montrer(c)} » (code INSEE absent du référentiel)")
                else:
                    codes_terr.add(c)
        for k in ("places_psu_cofinancees_reference", "potentiel_financier_par_habitant", "montant_cej_par_place"):
            if k in terr and terr[k] is not None:
                if not _is_number(terr[k]):
                    err.append(f"territoire.{k} : {_nombre_msg(terr[k])}")
                elif terr[k] < 0:
                    err.append(f"territoire.{k} : nombre négatif")
                elif terr[k] > MAX_MONTANT:
                    err.append(f"territoire.{k} : valeur hors limites (au plus {fr_nombre(MAX_MONTANT, 0)})")
        if terr.get("annee_reference") is not None:
            v = terr["annee_reference"]
            if not (isinstance(v, int) and not isinstance(v, bool)) or not ANNEE_MIN_ABSOLUE <= v <= ANNEE_MAX:
                err.append(f"territoire.annee_reference : année entière entre {ANNEE_MIN_ABSOLUE} et {ANNEE_MAX} "
                           "attendue (ex. 2023)")
        for k in ("qpv", "frr_zrr"):
            if k in terr and not isinstance(terr[k], bool):
                err.append(f"territoire.{k} : true ou false attendu")

    # structures
    if not isinstance(sts, list) or not sts:
        err.append("structures : champ manquant (liste d'au moins une structure)")
        sts = []
    elif periode_ok and len(sts) * (fin - debut + 1) > MAX_LIGNES:
        err.append(f"structures : {fr_entier(len(sts))} structures sur {fin - debut + 1} ans, c'est trop "
                   f"({fr_entier(MAX_LIGNES)} lignes structure × année au plus) : raccourcissez la période ou "
                   "découpez le territoire")
    ids: set[str] = set()
    ratio_max = bar.value("ctg.controle_places_par_habitant_max", debut_ctrl)
    for i, s in enumerate(sts):
        p = f"structures[{i}]"
        if not isinstance(s, Mapping):
            err.append(f"{p} : objet attendu")
            continue
        sid = s.get("id", f"S{i + 1}")
        if isinstance(sid, int) and not isinstance(sid, bool) and abs(sid) < 10**12:
            sid = str(sid)
        if _texte(sid, f"{p}.id", err, requis=True, limite=120):
            if sid in ids:
                err.append(f"{p}.id : identifiant « {montrer(sid)} » en double")
            ids.add(sid)
        _texte(s.get("nom"), f"{p}.nom", err)
        code = s.get("code_insee")
        if not isinstance(code, str) or not code or len(code) > 10:
            err.append(f"{p}.code_insee : champ manquant (code INSEE en texte, ex. \"89387\")")
            code = None
        elif known_codes is not None and code not in known_codes:
            err.append(f"{p}.code_insee : commune inconnue « {montrer(code)} » (code INSEE absent du référentiel)")
        elif codes_terr and code not in codes_terr:
            err.append(f"{p}.code_insee : la commune « {montrer(code)} » n'est pas dans territoire.communes")
        if not isinstance(s.get("gestion"), str) or s.get("gestion") not in GESTIONS:
            err.append(f"{p}.gestion : « publique » ou « privee » attendu")
        for k in ("fournit_couches", "fournit_repas", "psu", "qpv", "frr_zrr"):
            if k in s and not isinstance(s[k], bool):
                err.append(f"{p}.{k} : true ou false attendu")
        # places
        po = s.get("places_ouvertes")
        places_ok, premiere = False, None
        if po is None:
            err.append(f"{p}.places_ouvertes : champ manquant (ex. {{\"2023\": 20, \"2026\": 30}})")
        elif isinstance(po, Mapping) or (isinstance(po, (int, float)) and not isinstance(po, bool)):
            items = list(po.items()) if isinstance(po, Mapping) else [(None, po)]
            n_err = len(err)
            for k, v in items:
                path = f"{p}.places_ouvertes" + (f".{k}" if k is not None else "")
                if k is not None and not _est_annee(k):
                    err.append(f"{p}.places_ouvertes : la clé « {montrer(k, 20)} » doit être une année sur quatre "
                               "chiffres (ex. \"2026\")")
                    continue
                if not _is_number(v):
                    err.append(f"{path} : {_nombre_msg(v)}")
                elif v < 0:
                    err.append(f"{path} : nombre négatif")
                elif code in population and v > ratio_max * max(float(population[code]), 1.0):
                    err.append(f"{path} : {fr_nombre(v, 0)} places pour une commune de "
                               f"{fr_nombre(population[code], 0)} habitants, valeur invraisemblable")
                elif v > MAX_PLACES:
                    err.append(f"{path} : {fr_nombre(v, 0)} places, valeur invraisemblable "
                               f"({fr_entier(MAX_PLACES)} au plus)")
            places_ok = len(err) == n_err
            if places_ok and periode_ok:
                premiere = next((y for y in range(debut, fin + 1) if (valeur_annee(po, y, 0.0) or 0.0) > 0), None)
        else:
            err.append(f"{p}.places_ouvertes : nombre ou objet {{année : places}} attendu")
        # numbers (plain or by year)
        for name, required, kind, maxi in _CHAMPS_NUMERIQUES:
            v = s.get(name)
            if v is None or (isinstance(v, Mapping) and not v):
                if required:
                    err.append(f"{p}.{name} : champ manquant" + (" (objet vide)" if v is not None else ""))
                continue
            items = list(v.items()) if isinstance(v, Mapping) else [(None, v)]
            for k, x in items:
                path = f"{p}.{name}" + (f".{k}" if k is not None else "")
                if k is not None and not _est_annee(k):
                    err.append(f"{p}.{name} : la clé « {montrer(k, 20)} » doit être une année sur quatre chiffres")
                    continue
                if not _is_number(x):
                    err.append(f"{path} : {_nombre_msg(x)}")
                    continue
                if x < 0:
                    err.append(f"{path} : nombre négatif")
                elif kind == "strictement positif" and x == 0:
                    err.append(f"{path} : doit être strictement positif")
                elif kind == "ratio" and x > 1:
                    err.append(f"{path} : part attendue entre 0 et 1 (ex. 0.97 pour 97 %)")
                elif maxi is not None:
                    mx = bar.value(maxi, debut_ctrl) if isinstance(maxi, str) else maxi
                    if x > mx:
                        extra = " (saisir un ratio, ex. 1.10 pour 110 %)" if name == "taux_facturation" else ""
                        err.append(f"{path} : {fr_nombre(x, 2)} dépasse le maximum vraisemblable "
                                   f"{fr_nombre(mx, 2)}{extra}")
        if all(s.get(k) is None or (isinstance(s.get(k), Mapping) and not s.get(k))
               for k in ("participation_horaire_moyenne", "participations_familiales")):
            err.append(f"{p}.participation_horaire_moyenne : champ manquant (ou participations_familiales)")
        # a value by year must exist from the first simulated year in which the structure has places
        if periode_ok and places_ok and premiere is not None:
            pf_field = ("participation_horaire_moyenne" if s.get("participation_horaire_moyenne") not in (None, {})
                        else "participations_familiales")
            for name in ("prix_revient_horaire", "heures_facturees_par_place", "taux_facturation", pf_field):
                v = s.get(name)
                if isinstance(v, Mapping) and v and all(_est_annee(k) for k in v):
                    k0 = min(int(k) for k in v)
                    if k0 > premiere:
                        err.append(f"{p}.{name} : pas de valeur pour {premiere} (première année donnée : {k0}) "
                                   f"alors que la structure a des places cette année-là")
        cof = s.get("cofinancements")
        if cof is not None:
            if not isinstance(cof, Mapping):
                err.append(f"{p}.cofinancements : objet attendu")
            else:
                for k in ("autres_part", "autres_montant"):
                    if k in cof:
                        if not _is_number(cof[k]):
                            err.append(f"{p}.cofinancements.{k} : {_nombre_msg(cof[k])}")
                        elif cof[k] < 0:
                            err.append(f"{p}.cofinancements.{k} : nombre négatif")
                        elif k == "autres_part" and cof[k] > 1:
                            err.append(f"{p}.cofinancements.autres_part : part attendue entre 0 et 1")
                        elif cof[k] > MAX_MONTANT:
                            err.append(f"{p}.cofinancements.{k} : valeur hors limites")
    return err


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
    return float(valeur_annee(s.get("places_ouvertes"), annee, 0.0) or 0.0)


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
        notes.append(f"Pas d'alerte de cofinancement pour {_annees_txt(sans_seuil)} : le seuil ({seuil_name}) "
                     f"n'est connu qu'à partir de {first} (COG 2023-2027).")
    for y in annees:
        seuil = float(bar.value(seuil_name, y)) if y not in sans_seuil else None
        traj = B.palier_trajectoire(y, places_reference=base_terr, places_par_annee=places_par_annee, baremes=bar)
        lignes = []
        for i, s in enumerate(structures):
            places = _places(s, y)
            if places <= 0:
                continue
            args = (y, i, s, places, places_ref[i], annee_ref, terr, pf_terr, traj, seuil, bar)
            ligne, m = _ligne(*args)
            _collect_all(m, params)
            ligne._recalcul = functools.partial(_montants_seuls, args)
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
                            outre_mer, resultats, cumul, alertes_globales, bar, params, notes)


def _collect_all(m: dict[str, Montant], into: dict) -> None:
    for x in m.values():
        _collect(x, into)


def _montants_seuls(args: tuple) -> dict[str, Montant]:
    return _ligne(*args)[1]


def _absent(libelle: str, y: int, bar: Baremes, key: str, entrees: dict) -> Montant:
    first = bar.definition(key).valeurs[0][0].year
    return Montant(libelle, 0.0, f"pas de {libelle[0].lower() + libelle[1:]} en {y} (en vigueur à partir de {first})",
                   entrees)


def _ligne(y: int, i: int, s: Mapping[str, Any], places: float, places_ref: float, annee_ref: int,
           terr: Mapping[str, Any], pf_terr, traj: B.PalierTrajectoire, seuil: float | None,
           bar: Baremes) -> tuple[LigneStructure, dict[str, Montant]]:
    sid = str(s.get("id", f"S{i + 1}"))

    def regle(name: str) -> bool:
        return en_vigueur(bar, REGLES_DATEES[name][1], y)
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
        "bonus_mixite": B.bonus_mixite(y, participation_horaire_moyenne=pf_h, places=places, baremes=bar)
        if regle("bonus_mixite") else _absent("Bonus mixité sociale", y, bar, REGLES_DATEES["bonus_mixite"][1],
                                               {"participation_horaire_moyenne": pf_h, "places": places}),
        "bonus_inclusion_handicap": B.bonus_inclusion_handicap(
            y, part_enfants_handicap=v("part_enfants_handicap", 0.0), cout_par_place=cout_pp, places=places,
            baremes=bar) if regle("bonus_inclusion_handicap") else _absent(
            "Bonus inclusion handicap", y, bar, REGLES_DATEES["bonus_inclusion_handicap"][1], {"places": places}),
        "bonus_attractivite": B.bonus_attractivite(y, gestion=s["gestion"], places=places, baremes=bar),
        "bonus_territoire_nouvelles": B.bonus_territoire_places_nouvelles(
            y, places=nouvelles, potentiel_financier_hab=pf_terr, prioritaire=prioritaire, baremes=bar)
        if regle("bonus_territoire_nouvelles") else _absent(
            "Bonus territoire — places nouvelles", y, bar, REGLES_DATEES["bonus_territoire_nouvelles"][1],
            {"places_nouvelles": nouvelles}),
        "bonus_territoire_existantes": B.bonus_territoire_places_existantes(
            y, places=existantes, montant_cej_par_place=cej, annee_reference=annee_ref, baremes=bar)
        if regle("bonus_territoire_existantes") else _absent(
            "Bonus territoire — places existantes", y, bar, REGLES_DATEES["bonus_territoire_existantes"][1],
            {"places_existantes": existantes}),
        "bonus_rattrapage": B.bonus_rattrapage(
            y, places=existantes, montant_cej_par_place=cej, potentiel_financier_hab=pf_terr,
            prioritaire=prioritaire, baremes=bar)
        if regle("bonus_rattrapage") else _absent("Bonus rattrapage", y, bar, REGLES_DATEES["bonus_rattrapage"][1],
                                                   {"places_existantes": existantes}),
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
    if seuil is not None and part > seuil + EPS:
        alerte = (f"{y} — {s.get('nom', sid)} : la Caf financerait {fr_pct(part)} du coût de fonctionnement, "
                  f"au-delà de {fr_pct(seuil, 0)}.")
    elif rac < -EPS:
        alerte = (f"{y} — {s.get('nom', sid)} : les financements dépassent le coût de fonctionnement de "
                  f"{fr_euros(-rac)} (vérifier les saisies).")
    ligne = LigneStructure(y, sid, str(s.get("nom", sid)), str(s.get("code_insee")), s["gestion"], places, nouvelles,
                           existantes, heures, {k: x.valeur for k, x in m.items()}, part, seuil, alerte)
    return ligne, m




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
        c_tr = P.coefficient_tranche_array(tf, regle, seuils, P.coefficients_tranche(y, bar, regle)[0])
        retenu = np.minimum(prix, ref * c_niv * c_tr)
        pf_tot = pfh * heures
        psu = P.psu_array(taux, retenu, heures, pf_tot, rg)
        try:
            jmax = float(bar.value("psu.journees_pedagogiques_max", y))
            hpj = float(bar.value("psu.heures_par_journee_pedagogique", y))
            jp = P.psu_array(taux, retenu, np.minimum(jours, jmax) * hpj * places, 0.0, rg)
        except ParametreAbsent:
            jp = np.zeros(len(df))
        zeros = np.zeros(len(df))
        try:
            s, ms = B._mixite_params(y, bar)
            mix = B.mixite_par_place_array(pfh, s.valeur, [m.valeur for m in ms]) * places
        except ParametreAbsent:  # before the bonus existed
            mix = zeros
        cout_pp = prix * hpp / tf
        try:
            hand = B.handicap_par_place_array(handi, cout_pp, bar.value("bonus.handicap_seuils_part_enfants", y),
                                              bar.value("bonus.handicap_taux", y),
                                              bar.value("bonus.handicap_plafond_par_place", y)) \
                * B.handicap_places_financees_array(places, handi, bar.value("bonus.handicap_lecture", y))
        except ParametreAbsent:
            hand = np.zeros(len(df))
        try:
            att_pp = bar.value("bonus.attractivite_par_place", y)
            attr = np.array([float(att_pp[g]) for g in gestion]) * places
        except ParametreAbsent:
            attr = np.zeros(len(df))
        nouvelles = np.maximum(0.0, places - places_by_year[ref_year])
        existantes = places - nouvelles
        try:
            seuils_pf = bar.value("bonus.territoire_seuils_potentiel_financier", y)
            mt_n = [bar.value(f"bonus.territoire_nouvelles_montant_{k}", y) for k in ("max", "intermediaire", "min")]
            tn = B.bande_richesse_array(pf_hab, prio, seuils_pf, mt_n) * nouvelles
            facteur, _ = B.indexation_cumulee(y, ref_year, bar)
            te = B.existantes_par_place_array(cej, bar.value("bonus.territoire_existantes_plancher", y),
                                              facteur) * existantes
        except ParametreAbsent:  # before the bonus territoire (2020)
            seuils_pf, tn, te = None, zeros, zeros
        try:
            mt_r = [bar.value(f"bonus.rattrapage_montant_{k}", y) for k in ("max", "intermediaire", "min")]
            rat = B.rattrapage_par_place_array(cej, pf_hab, prio, bar.value("bonus.rattrapage_seuil_cej", y),
                                               bar.value("bonus.territoire_seuils_potentiel_financier", y),
                                               mt_r) * existantes
        except ParametreAbsent:  # before the bonus rattrapage (2021)
            rat = zeros
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
