"""The shape of a scenario: its limits, the error it raises, the year series of its fields, and the
primitive checks every field uses (a finite number, a year key, a bounded text, a bounded nesting).
"""
from __future__ import annotations

import math
from typing import Any, Mapping

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
def value_for_year(serie: Any, annee: int, defaut: float | None = None) -> float | None:
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


def is_number(v: Any) -> bool:
    """A finite JSON number (bool excluded; a 400-digit integer is not a usable number)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    try:
        return math.isfinite(float(v))
    except OverflowError:
        return False


def nombre_msg(v: Any) -> str:
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


def est_annee(k: Any) -> bool:
    return isinstance(k, str) and len(k) == 4 and k.isascii() and k.isdigit()


def texte_valide(v: Any, path: str, err: list[str], requis: bool = True, limite: int = MAX_TEXTE) -> bool:
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
