"""The year's barème entered once (issue 11, part 4): which parameters an administrator enters, the
rows of one year prefilled with the values in force, French text of a value and back, and the
validation of what was entered (unit, range, date order, every band present, choices).

Pure: the values are stored by ``data/baremes_db.py``, the files read by ``data/bareme_fichier.py``
and written by ``exports/bareme_modele.py``; the page and ``python -m planning baremes`` compose them.

Text of a value (the grid of the Barèmes page, the spreadsheet template, a string in the YAML file):

* a number with a French or an English decimal mark: ``0,66``, ``814,62``, ``2 800``; a trailing
  ``%`` divides by 100 (``66 %`` = ``0,66``; ``0,0619 %`` = ``0,000619``);
* a list (bands, thresholds): the numbers separated by ``;`` — ``0,87 ; 1,15 ; 1,46``;
* a table: ``clé : valeur`` pairs separated by ``;`` — ``publique : 475 ; privee : 970``;
* a rule: the code of one of its choices (``lineaire``), a yes/no value: ``oui`` / ``non``.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from .parametres import NATURE_SAISIE, Baremes, Parametre, ParametreAbsent, as_date
from .validation import check_override

# Themes of the Cnaf « barème des aides aux partenaires »: what an administrator enters once a year.
# The other files (CTG controls, COG objectives, coverage, SPPE, input defaults) are not part of it.
THEMES_SAISIE = ("psu", "participations", "bonus")
ANNEE_SAISIE_MIN, ANNEE_SAISIE_MAX = 2000, 2040
SOURCE_MAX = 500
SOURCE_A_COMPLETER = "À compléter"  # the template's placeholder: refused as a source


class BaremeInvalide(ValueError):
    """What was entered is refused; ``erreurs`` are French messages naming the parameter (and the line
    or cell of a file).  Nothing is stored."""

    def __init__(self, erreurs: list[str]):
        self.erreurs = list(erreurs)
        super().__init__("Barème refusé, rien n'a été enregistré :\n" + "\n".join(f"- {e}" for e in self.erreurs))


@dataclass(frozen=True)
class LigneSaisie:
    """One row as entered (``valeur`` raw: a text, a number, a list or a table), before validation."""
    parametre: str
    depuis: Any
    valeur: Any
    lieu: str = ""  # « ligne 12 », « cellule C9 », « ligne 3 du tableau »


def parametres_saisissables(bar: Baremes) -> list[str]:
    return [n for n in bar.names() if n.split(".")[0] in THEMES_SAISIE]


# -- text of a value --------------------------------------------------------------------------------

def _nombre_texte(x: Any) -> str:
    if isinstance(x, bool):
        return "oui" if x else "non"
    if isinstance(x, int):
        return str(x)
    return repr(float(x)).replace(".", ",").removesuffix(",0")


def texte_saisie(valeur: Any) -> str:
    """The value as an administrator types it (``0,66``, ``0,87 ; 1,15 ; 1,46``, ``publique : 475 ; privee : 970``)."""
    if isinstance(valeur, Mapping):
        return " ; ".join(f"{k} : {texte_saisie(v)}" for k, v in valeur.items())
    if isinstance(valeur, (list, tuple)):
        return " ; ".join(texte_saisie(v) for v in valeur)
    if isinstance(valeur, str):
        return valeur
    return _nombre_texte(valeur)


_ESPACES = re.compile(r"[\s\u00a0\u202f]+")


def _lire_nombre(texte: str, ref: Any) -> int | float:
    t = _ESPACES.sub("", texte)
    pourcent = t.endswith("%")
    t = t.removesuffix("%")
    if "," in t and "." in t:
        raise ValueError(f"« {texte} » : nombre ambigu (écrivez par exemple 1234,5)")
    t = t.replace(",", ".")
    if not re.fullmatch(r"-?(\d+(\.\d*)?|\.\d+)([eE]-?\d+)?", t):
        raise ValueError(f"« {texte[:40]} » n'est pas un nombre")
    x = float(t) / (100 if pourcent else 1)
    if isinstance(ref, int) and not isinstance(ref, bool) and x.is_integer():
        return int(x)
    return x


def _convertir(x: Any, ref: Any) -> Any:
    """A raw value (text from a cell, or what YAML gave) in the shape of ``ref``."""
    if isinstance(ref, bool):
        if isinstance(x, bool):
            return x
        t = str(x).strip().lower()
        if t in ("oui", "vrai", "true", "1"):
            return True
        if t in ("non", "faux", "false", "0"):
            return False
        raise ValueError(f"« {str(x)[:40]} » : oui ou non attendu")
    if isinstance(ref, (int, float)):
        if isinstance(x, bool):
            raise ValueError("nombre attendu")
        if isinstance(x, (int, float)):
            return int(x) if isinstance(ref, int) and float(x).is_integer() else x
        return _lire_nombre(str(x), ref)
    if isinstance(ref, str):
        return str(x).strip()
    if isinstance(ref, list):
        items = x if isinstance(x, list) else [p for p in str(x).split(";") if p.strip()]
        if ref and all(isinstance(r, str) for r in ref):
            return [str(i).strip() for i in items]
        r0 = ref[0] if ref else 0.0
        return [_convertir(i, r0) for i in items]
    if isinstance(ref, Mapping):
        if isinstance(x, Mapping):
            pairs = list(x.items())
        else:
            pairs = []
            for part in (p for p in str(x).split(";") if p.strip()):
                if ":" not in part:
                    raise ValueError(f"« {part.strip()[:40]} » : « clé : valeur » attendu")
                k, v = part.split(":", 1)
                pairs.append((k.strip(), v.strip()))
        keys = {str(k): k for k in ref}
        out = {}
        for k, v in pairs:
            if str(k).strip() not in keys:
                raise ValueError(f"clé « {str(k)[:30]} » inconnue (clés attendues : {', '.join(map(str, ref))})")
            real = keys[str(k).strip()]
            if real in out:
                raise ValueError(f"clé « {k} » en double")
            out[real] = _convertir(v, ref[real])
        return out
    return x


def lire_valeur(brute: Any, definition: Parametre) -> Any:
    """The value of ``definition`` from what was entered; ValueError with a French reason."""
    if brute is None or (isinstance(brute, str) and not brute.strip()):
        raise ValueError("valeur vide")
    if isinstance(brute, str) and len(brute) > 2000:
        raise ValueError("texte trop long (2 000 caractères au plus)")
    return _convertir(brute, definition.valeurs[-1][1])


def _lire_date(brute: Any, annee: int) -> dt.date:
    if brute is None or (isinstance(brute, str) and not brute.strip()):
        return dt.date(annee, 1, 1)
    if isinstance(brute, (dt.date, dt.datetime)):
        return as_date(brute)
    t = str(brute).strip()
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", t)
    try:
        if m:
            return dt.date(int(m[3]), int(m[2]), int(m[1]))
        return dt.date.fromisoformat(t[:10])
    except ValueError:
        raise ValueError(f"date « {t[:30]} » illisible (JJ/MM/AAAA attendu)") from None


# -- validation ------------------------------------------------------------------------------------

def valider_source(source: Any) -> str:
    texte = " ".join(str(source or "").split())
    if not texte or texte.startswith(SOURCE_A_COMPLETER):
        raise BaremeInvalide(["source : indiquez le texte officiel (lettre circulaire, délibération du CA de la "
                              "Cnaf…) d'où viennent les valeurs"])
    if len(texte) > SOURCE_MAX:
        raise BaremeInvalide([f"source : {len(texte)} caractères, {SOURCE_MAX} au plus"])
    return texte


def valider_annee(annee: Any) -> int:
    try:
        a = int(str(annee).strip())
    except ValueError:
        a = None
    if a is None or not ANNEE_SAISIE_MIN <= a <= ANNEE_SAISIE_MAX:
        raise BaremeInvalide([f"année « {str(annee)[:20]} » : année entre {ANNEE_SAISIE_MIN} et {ANNEE_SAISIE_MAX} "
                              "attendue"])
    return a


def valider_lignes(annee: int, lignes: Iterable[LigneSaisie], bar: Baremes) -> list[tuple[str, dt.date, Any]]:
    """``(parametre, depuis, valeur)`` of every row, or :class:`BaremeInvalide` listing every problem.

    A row's date defaults to 1 January of ``annee`` and must fall in that year; the dates of one parameter
    are strictly increasing in the order given; a value has the shape of the parameter (every band of a
    list, every key of a table, a known choice) and its unit's range (see :func:`check_override`)."""
    annee = valider_annee(annee)
    saisissables = set(parametres_saisissables(bar))
    out: list[tuple[str, dt.date, Any]] = []
    erreurs: list[str] = []
    derniere: dict[str, dt.date] = {}
    for ligne in lignes:
        lieu = f"{ligne.lieu} — " if ligne.lieu else ""
        nom = str(ligne.parametre or "").strip()
        if not nom:
            erreurs.append(f"{lieu}code du paramètre manquant")
            continue
        if nom not in saisissables:
            known = nom in bar.names()
            erreurs.append(f"{lieu}{nom[:80]} : " + ("ne fait pas partie du barème des aides aux partenaires "
                                                     "(thèmes PSU, participations familiales, bonus)" if known
                                                     else "paramètre inconnu"))
            continue
        d = bar.definition(nom)
        try:
            depuis = _lire_date(ligne.depuis, annee)
        except ValueError as e:
            erreurs.append(f"{lieu}{nom} : {e}")
            continue
        if depuis.year != annee:
            erreurs.append(f"{lieu}{nom} : date d'effet {depuis:%d/%m/%Y} hors de l'année {annee}")
            continue
        if nom in derniere and depuis <= derniere[nom]:
            erreurs.append(f"{lieu}{nom} : date d'effet {depuis:%d/%m/%Y} pas après la précédente "
                           f"({derniere[nom]:%d/%m/%Y}) : une valeur par date, dans l'ordre des dates")
            continue
        derniere[nom] = depuis
        try:
            valeur = lire_valeur(ligne.valeur, d)
        except ValueError as e:
            erreurs.append(f"{lieu}{nom} ({d.unite}) : {e}")
            continue
        why = check_override(nom, valeur, bar)
        if why:
            erreurs.append(f"{lieu}{nom} ({d.unite}) : {why}")
            continue
        out.append((nom, depuis, valeur))
    if erreurs:
        raise BaremeInvalide(erreurs)
    if not out:
        raise BaremeInvalide(["aucune valeur saisie"])
    return out


# -- the rows of one year ----------------------------------------------------------------------------

def lignes_annee(bar: Baremes, annee: int) -> list[dict[str, Any]]:
    """The values in force during ``annee`` for every parameter an administrator enters: the value on
    1 January, then every value that starts later in the year (the plafond changes on 1 September in
    some years).  What the page's grid and the exported template are prefilled with."""
    debut, fin = dt.date(annee, 1, 1), dt.date(annee, 12, 31)
    rows = []
    for nom in parametres_saisissables(bar):
        d = bar.definition(nom)
        dates = [debut] + [v[0] for v in d.valeurs if debut < v[0] <= fin]
        for when in dates:
            try:
                pv = bar.get(nom, when)
            except ParametreAbsent:
                continue
            rows.append({"parametre": nom, "description": d.description, "unite": d.unite,
                         "depuis": when, "valeur": pv.valeur, "texte": texte_saisie(pv.valeur),
                         "choix": dict(d.choix), "source": pv.source, "nature": pv.nature,
                         "a_verifier": pv.a_verifier})
    return rows


def statut(pv: Any) -> str:
    """« barème saisi », « à vérifier » or « officiel » for a ParamValue or its ``explain()`` dict."""
    get = pv.get if isinstance(pv, Mapping) else lambda k, default=None: getattr(pv, k, default)
    if get("nature") == NATURE_SAISIE:
        return NATURE_SAISIE
    return "à vérifier" if get("a_verifier") else "officiel"
