"""French number formatting shared by every layer (formulas, maps, screens, documents).

``1234.5`` → « 1 234,5 » with U+202F (narrow no-break space) as thousands separator;
a missing value is « donnée non disponible », never « 0 » or « nan ».
"""
from __future__ import annotations

import numpy as np
import pandas as pd

NNBSP = "\u202f"
NA_LABEL = "donnée non disponible"


def is_missing(x) -> bool:
    if x is None or x is pd.NA or x is pd.NaT:
        return True
    try:
        return bool(np.isnan(x))
    except (TypeError, ValueError):
        return False


def fr_number(x, decimals: int = 1, na: str = NA_LABEL) -> str:
    """``1234.5`` → ``"1 234,5"``; missing → ``na``; never « -0,0 »."""
    if is_missing(x):
        return na
    s = f"{float(x):,.{decimals}f}"
    if s.startswith("-") and float(s.replace(",", "")) == 0:
        s = s[1:]
    return s.replace(",", NNBSP).replace(".", ",")


def fr_int(x, na: str = NA_LABEL) -> str:
    """Whole number: ``12345`` → ``"12 345"``."""
    return fr_number(x, 0, na)


def fr_percent(x, decimals: int = 1, na: str = NA_LABEL) -> str:
    """A value already in percent: ``56.3`` → ``"56,3 %"``."""
    return na if is_missing(x) else f"{fr_number(x, decimals)}{NNBSP}%"


def fr_ratio(x, decimals: int = 1, na: str = NA_LABEL) -> str:
    """A ratio: ``0.563`` → ``"56,3 %"``."""
    return na if is_missing(x) else fr_percent(100 * float(x), decimals)


def fr_euros(x, decimals: int = 0, na: str = NA_LABEL) -> str:
    """``1234.5`` → ``"1 235 €"`` (U+202F before €)."""
    return na if is_missing(x) else f"{fr_number(x, decimals)}{NNBSP}€"


def fr_valeur_parametre(v, unite: str = "", choix: dict | None = None) -> str:
    """A parameter value the French way: ratios as percentages (0.66 → « 66 % », 0.000619 →
    « 0,0619 % »), numbers with French separators, lists joined by « ; », tables « clé : valeur »,
    rules by their label."""
    if isinstance(v, bool):
        return "oui" if v else "non"
    if isinstance(v, str):
        return (choix or {}).get(v, v)
    if isinstance(v, dict):
        return " ; ".join(f"{k} : {fr_valeur_parametre(x, unite, choix)}" for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return " ; ".join(fr_valeur_parametre(x, unite, choix) for x in v)
    if is_missing(v):
        return NA_LABEL
    x = float(v)
    if unite.startswith("ratio"):
        s = f"{100 * x:.4f}".rstrip("0").rstrip(".")
        return s.replace(".", ",") + f"{NNBSP}%"
    if "année" in unite:
        return str(int(x))
    if "€" in unite and (abs(x) < 100 or isinstance(v, float)):
        return fr_number(x, 2)
    if x.is_integer():
        return fr_number(x, 0)
    return fr_number(x, 4).rstrip("0").rstrip(",") if abs(x) < 1 else fr_number(x, 2)
