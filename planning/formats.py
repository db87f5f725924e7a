"""French formatting: the one module every layer uses (formulas, maps, screens, documents, CLIs).

One meaning per function; the name says what the argument is:

=========================  ====================  ===============================
function                   argument              example
=========================  ====================  ===============================
:func:`fr_number`          a number              ``1234.5`` → « 1 234,5 »
:func:`fr_int`             a whole number        ``12345`` → « 12 345 »
:func:`fr_decimal`         a size, a limit       ``2.50`` → « 2,5 », ``2.0`` → « 2 »
:func:`fr_year`            a year                ``2023`` → « 2023 » (never « 2 023 »)
:func:`fr_euros`           an amount in euros    ``1234.5`` → « 1 235 € »
:func:`fr_percent`         a value in percent    ``56.3`` → « 56,3 % »
:func:`fr_ratio`           a ratio               ``0.563`` → « 56,3 % »
:func:`fr_small_ratio`     a small ratio         ``0.000619`` → « 0,0619 % »
:func:`fr_date`            a date                « 1er janvier 2026 »
:func:`fr_parameter_value` a barème value        ratios as percents, lists, tables
:func:`fr_frame`           a table for a screen  every column as French text
=========================  ====================  ===============================

The thousands separator is U+202F (narrow no-break space), and so is the space before « € » and
« % ». A missing value is « donnée non disponible » (:data:`NA_LABEL`), never « 0 », « nan » or
« None »; documents pass their own short ``na`` (« n.d. »).
"""
from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Mapping

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

NNBSP = "\u202f"
NA_LABEL = "donnée non disponible"
DEMO_LABEL = "données fictives de démonstration"   # every layer of nature « fictif » says so

MOIS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
        "novembre", "décembre")


def is_missing(x) -> bool:
    """None, NA, NaT and NaN (a text or any other object is not missing).

    No pandas nor numpy import here: this module is imported by light entry points (the store,
    the import readers), so pandas' NA and NaT are recognised by their type."""
    if x is None or type(x).__name__ in ("NAType", "NaTType"):
        return True
    try:
        return math.isnan(x)
    except (TypeError, ValueError, OverflowError):
        return False


def fr_number(x, decimals: int = 1, na: str = NA_LABEL) -> str:
    """A number: ``1234.5`` → ``"1 234,5"``; missing → ``na``; never « -0,0 »."""
    if is_missing(x):
        return na
    s = f"{float(x):,.{decimals}f}"
    if s.startswith("-") and float(s.replace(",", "")) == 0:
        s = s[1:]
    return s.replace(",", NNBSP).replace(".", ",")


def fr_int(x, na: str = NA_LABEL) -> str:
    """A whole number (rounded): ``12345`` → ``"12 345"``."""
    return fr_number(x, 0, na)


def fr_decimal(x, max_decimals: int = 1, na: str = NA_LABEL) -> str:
    """A number with at most ``max_decimals`` decimals, trailing zeros dropped (sizes, limits):
    ``2.0`` → ``"2"``, ``2.5`` → ``"2,5"``, ``1234.56`` → ``"1 234,6"``."""
    if is_missing(x):
        return na
    s = fr_number(x, max_decimals)
    return s.rstrip("0").rstrip(",") if "," in s else s


def fr_year(x, na: str = NA_LABEL) -> str:
    """A year, without thousands separator: ``2023`` → ``"2023"``."""
    return na if is_missing(x) else str(int(x))


def fr_percent(x, decimals: int = 1, na: str = NA_LABEL) -> str:
    """A value already in percent: ``56.3`` → ``"56,3 %"``."""
    return na if is_missing(x) else f"{fr_number(x, decimals)}{NNBSP}%"


def fr_ratio(x, decimals: int = 1, na: str = NA_LABEL) -> str:
    """A ratio: ``0.563`` → ``"56,3 %"``."""
    return na if is_missing(x) else fr_percent(100 * float(x), decimals)


def fr_small_ratio(x, na: str = NA_LABEL) -> str:
    """A small ratio with up to four decimals of percent, trailing zeros dropped:
    ``0.000619`` → ``"0,0619 %"``, ``0.0005`` → ``"0,05 %"`` (taux d'effort, barème rates)."""
    if is_missing(x):
        return na
    s = f"{100 * float(x):.4f}".rstrip("0").rstrip(".")
    return s.replace(".", ",") + f"{NNBSP}%"


def fr_euros(x, decimals: int = 0, na: str = NA_LABEL) -> str:
    """An amount in euros: ``1234.5`` → ``"1 235 €"``, with 2 decimals ``"1 234,50 €"``."""
    return na if is_missing(x) else f"{fr_number(x, decimals)}{NNBSP}€"


def fr_date(d: dt.date | dt.datetime | None = None) -> str:
    """A date in words: « 26 novembre 2026 », « 1er janvier 2026 » (today when ``None``)."""
    d = d or dt.date.today()
    jour = "1er" if d.day == 1 else str(d.day)
    return f"{jour} {MOIS[d.month - 1]} {d.year}"


def fr_horodatage(d: dt.datetime | None, na: str = NA_LABEL) -> str:
    """A stored instant at Paris time, « 01/12/2026 20:15 » (a naive value is UTC, as SQLite returns it)."""
    if d is None:
        return na
    from zoneinfo import ZoneInfo

    aware = d if d.tzinfo else d.replace(tzinfo=dt.timezone.utc)
    return aware.astimezone(ZoneInfo("Europe/Paris")).strftime("%d/%m/%Y %H:%M")


def fr_parameter_value(v, unite: str = "", choix: dict | None = None) -> str:
    """A barème value the French way: ratios as percentages (0.66 → « 66 % », 0.000619 →
    « 0,0619 % »), years as « 2023 », numbers with French separators, lists joined by « ; »,
    tables « clé : valeur », rules by their label."""
    if isinstance(v, bool):
        return "oui" if v else "non"
    if isinstance(v, str):
        return (choix or {}).get(v, v)
    if isinstance(v, dict):
        return " ; ".join(f"{k} : {fr_parameter_value(x, unite, choix)}" for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return " ; ".join(fr_parameter_value(x, unite, choix) for x in v)
    if is_missing(v):
        return NA_LABEL
    x = float(v)
    if unite.startswith("ratio"):
        return fr_small_ratio(x)
    if "année" in unite:
        return fr_year(x)
    if "€" in unite and (abs(x) < 100 or isinstance(v, float)):
        return fr_number(x, 2)
    if x.is_integer():
        return fr_number(x, 0)
    return fr_number(x, 4).rstrip("0").rstrip(",") if abs(x) < 1 else fr_number(x, 2)


# Kinds of column for :func:`fr_frame` → formatter of one cell.
FORMATS_COLONNE = {
    "texte": lambda v, na: na if is_missing(v) else str(v),
    "entier": lambda v, na: fr_int(v, na),
    "decimal1": lambda v, na: fr_number(v, 1, na),
    "decimal2": lambda v, na: fr_number(v, 2, na),
    "annee": lambda v, na: fr_year(v, na),
    "euros": lambda v, na: fr_euros(v, 0, na),
    "euros2": lambda v, na: fr_euros(v, 2, na),
    "pourcent": lambda v, na: fr_percent(v, 1, na),
    "ratio": lambda v, na: fr_ratio(v, 1, na),
}


def _entiers(s: pd.Series) -> bool:
    """Whole numbers only (an integer dtype, or floats without decimals, NaN aside)."""
    import numpy as np
    import pandas as pd

    if pd.api.types.is_integer_dtype(s):
        return True
    v = pd.to_numeric(s, errors="coerce").dropna().to_numpy(dtype=float)
    return bool(len(v)) and bool(np.all(v == np.round(v)))


def fr_frame(df: pd.DataFrame, formats: Mapping[str, str] | None = None, na: str = "") -> pd.DataFrame:
    """A copy of ``df`` for a screen, every cell French text: each column named in ``formats`` (kind
    from :data:`FORMATS_COLONNE`); other numeric columns as whole numbers when they hold only whole
    numbers, else with one decimal, a column named « Année… » as a year; booleans « oui »/« non »; text columns with missing cells as ``na`` (empty
    by default, never « None »). Sorting such a table sorts text: keep the raw frame for
    computations and downloads."""
    import pandas as pd

    formats = dict(formats or {})
    out = df.copy()
    for col in out.columns:
        kind = formats.get(col)
        if kind is None and pd.api.types.is_numeric_dtype(out[col]) and not pd.api.types.is_bool_dtype(out[col]):
            kind = "annee" if str(col).startswith("Année") else "entier" if _entiers(out[col]) else "decimal1"
        if kind is not None:
            f = FORMATS_COLONNE[kind]
            out[col] = pd.Series([f(v, na) for v in out[col]], index=out.index, dtype=object)
        elif pd.api.types.is_bool_dtype(out[col]):
            out[col] = pd.Series(["oui" if v else "non" for v in out[col]], index=out.index, dtype=object)
        else:
            out[col] = pd.Series([na if is_missing(v) else v for v in out[col]], index=out.index, dtype=object)
    return out
