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
