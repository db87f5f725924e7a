"""Cell checks and parsers shared by every importer (codes, numbers, dates, booleans, text), which
report instead of raising, and the référentiel look-ups (unknown codes, arrondissements, duplicates).

Numbers are strict (ASCII digits, no ``1_0``, ``%`` only where a column says so).  Reading a file is
:mod:`data.importers.table`; the messages are :mod:`data.importers.problems`.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from planning.formats import fr_decimal

from ..codes import fold_arrondissement, is_arrondissement, is_valid_commune_code, normalise_insee
from .problems import ImportValidationError, Problem, Problems, shorten
from .readers import non_latin_digits
from .table import Table


# ---------------------------------------------------------------------------
# Cell checks and parsers (report, never raise)
# ---------------------------------------------------------------------------
# Any "<" immediately followed by a letter, "/", "!" or "?" opens a tag for an HTML parser
# (``<svg/onload=…>``, ``<img src=x onerror=…`` left unclosed, ``<!--``, ``</x``); "< 3 ans" does not.
_HTML_RE = re.compile(r"<[a-zA-Z!/?]|\b(?:java|vb)script\s*:", re.I)
_EXCEL_CODE_RE = re.compile(r'^="[^"]*"$')
_NUMBER_LIKE = re.compile(r"^[+-]?\s*[0-9\s.,\u202f\u00a0]+$")


def unsafe_cell(value: str) -> str | None:
    """French reason when a cell looks like a spreadsheet formula or holds HTML, else None."""
    s = value.strip()
    if not s:
        return None
    if _HTML_RE.search(s):
        return f"la cellule « {shorten(s)} » contient une balise HTML — supprimez la balise et gardez le texte seul."
    # '=' and '@' always start a formula; '+'/'-' only when glued to what follows
    # ("- undefined", a list dash, is plain text in the official INSEE grid)
    formula = s[0] in "=@" or (s[0] in "+-" and len(s) > 1 and not s[1].isspace())
    if formula and not _EXCEL_CODE_RE.match(s) and not _NUMBER_LIKE.match(s):
        return (f"la cellule « {shorten(s)} » ressemble à une formule de tableur — supprimez la formule "
                "(ou faites précéder le texte d'une apostrophe dans le tableur).")
    return None


def check_cells(table: Table, columns: Iterable[str], probs: Problems) -> None:
    for col in columns:
        if col not in table.frame.columns:
            continue
        for i, v in enumerate(table.frame[col].tolist()):
            reason = unsafe_cell(v)
            if reason:
                probs.error(reason, table.lines[i], table.label(col))


_MISSING = {"", "nan", "na", "n/a", "nd", "n.d.", "n.d", "s", "secret", "-", "null", "none", "<na>"}


_NUMBER_RE = re.compile(r"""
    [+-]?
    (?: [0-9]{1,3}(?:\ [0-9]{3})+(?:[.,][0-9]+)?      # 1 234 567,89 (spaces as thousands separators)
      | [0-9]{1,3}(?:\.[0-9]{3})+,[0-9]+              # 1.234,5
      | [0-9]{1,3}(?:,[0-9]{3})+\.[0-9]+              # 1,234.5
      | [0-9]+(?:\.[0-9]+)?[eE][+-]?[0-9]{1,3}        # 1.5e3
      | [0-9]+(?:[.,][0-9]*)?                         # 12 · 12,5 · 12.5 · 12,
      | [.,][0-9]+                                    # ,5
    )""", re.X)


def _number(value: object, percent: bool = False) -> tuple[float | None, str | None]:
    """(value, None), (nan, None) for an empty or « non disponible » cell, or (None, French reason)."""
    raw = str(value).strip()
    s = raw.replace("\u202f", " ").replace("\u00a0", " ").replace("\u2212", "-")
    if s.lower() in _MISSING:
        return float("nan"), None
    if s.startswith('="') and s.endswith('"'):
        s = s[2:-1].strip()
    if s.endswith("%"):
        if not percent:
            return None, "le signe « % » n'est pas accepté dans cette colonne — saisissez le nombre seul (ex. 12)"
        s = s[:-1].rstrip()
    if not s.isascii():
        if non_latin_digits(s):
            return None, "nombre écrit avec des chiffres non latins — saisissez-le avec les chiffres 0 à 9"
        return None, None
    if "_" in s:
        return None, "le « _ » n'est pas un séparateur de milliers accepté — écrivez par exemple 10 ou 1 000"
    if not _NUMBER_RE.fullmatch(s):
        return None, None
    if " " in s:
        s = s.replace(" ", "")
    if "," in s and "." in s:
        s = s.replace(".", "").replace(",", ".") if s.rfind(",") > s.rfind(".") else s.replace(",", "")
    elif "," in s:
        s = s.replace(",", ".")
    try:
        x = float(s)
    except ValueError:
        return None, None
    if not np.isfinite(x):
        return None, "nombre hors de portée — vérifiez la cellule"
    return x, None


def parse_number(value: str, *, percent: bool = False) -> float | None:
    """'1 234,5' → 1234.5 ; '' → nan ; None when not a number.

    Strict: ASCII digits only, spaces only as thousands separators (groups of three),
    no ``_``, no ``inf``; ``%`` only with ``percent=True`` (the column is in percent
    units: « 58,3 % » → 58.3).
    """
    return _number(value, percent)[0]


def number_column(table: Table, col: str, probs: Problems, *, minimum: float | None = 0.0,
                  maximum: float | None = None, what: str = "valeur", integer: bool = False,
                  hint: str = "", percent: bool = False) -> list[float]:
    """Numbers of one column; each unreadable or out-of-range cell is an error naming line and column."""
    out: list[float] = []
    label = table.label(col)
    for i, v in enumerate(table.frame[col].tolist()):
        x, reason = _number(v, percent)
        line = table.lines[i]
        if x is None:
            if (line, label) in probs.refused_cells:
                pass
            elif reason:
                probs.error(f"{what} « {shorten(v)} » : {reason}.", line, label)
            else:
                probs.error(f"{what} « {shorten(v)} » n'est pas un nombre — saisissez un nombre (ex. 12 ou 12,5).",
                            line, label)
            out.append(float("nan"))
            continue
        if not np.isnan(x):
            if integer and not float(x).is_integer():
                probs.error(f"{what} « {shorten(v)} » doit être un nombre entier — corrigez la cellule.", line, label)
            elif minimum is not None and x < minimum:
                probs.error(f"{what} négative ou trop faible « {shorten(v)} » (minimum {fr_decimal(minimum)}) — "
                            "corrigez la cellule.", line, label)
            elif maximum is not None and x > maximum:
                probs.error(f"{what} « {shorten(v)} » invraisemblable (maximum {fr_decimal(maximum)}){hint} — "
                            "vérifiez la cellule.", line, label)
        out.append(x)
    return out


def code_column(table: Table, col: str, probs: Problems, *, what: str = "code INSEE") -> list[str]:
    """Normalised commune codes; invalid ones are errors."""
    out = []
    label = table.label(col)
    for i, v in enumerate(table.frame[col].tolist()):
        s = v.strip()
        if s.startswith("=") and not _EXCEL_CODE_RE.match(s):
            probs.error(f"la cellule « {shorten(s)} » ressemble à une formule de tableur — supprimez la formule "
                        "et saisissez le code.", table.lines[i], label)
            out.append("")
            continue
        code = normalise_insee(v)
        if not is_valid_commune_code(code):
            if not code:
                probs.error(f"{what} manquant — renseignez le code à 5 caractères de la commune.",
                            table.lines[i], label)
            else:
                probs.error(f"{what} « {shorten(v)} » invalide — corrigez-le (5 caractères, ex. 01004 ou 2A004).",
                            table.lines[i], label)
        out.append(code)
    return out


_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%Y/%m/%d", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%dT%H:%M:%S",
                 "%Y-%m-%d %H:%M:%S", "%m/%Y", "%Y-%m", "%Y")


_SERIAL_RE = re.compile(r"[1-9][0-9]{4}(?:\.0+)?")
_SERIAL_MIN, _SERIAL_MAX = 10_000, 73_050      # Excel day numbers of 1927-05-18 and 2099-12-31


def parse_date(value: str) -> pd.Timestamp | None:
    """Timestamp, NaT when empty, None when unparseable (ASCII digits only, years 1900-2100).

    A five-digit Excel day number (a date cell exported as a number, e.g. 43831 = 2020-01-01)
    is read as a date only without a leading zero and between 1927 and 2099: ``00001`` is a
    code, never 31 December 1899.
    """
    s = str(value).strip()
    if s.lower() in _MISSING:
        return pd.NaT
    if not s.isascii():
        return None
    from datetime import datetime

    for fmt in _DATE_FORMATS:
        try:
            d = datetime.strptime(s, fmt)
        except ValueError:
            continue
        if 1900 <= d.year <= 2100:
            return pd.Timestamp(d)
        return None
    if _SERIAL_RE.fullmatch(s):
        n = int(float(s))
        if _SERIAL_MIN <= n <= _SERIAL_MAX:
            return pd.Timestamp("1899-12-30") + pd.Timedelta(days=n)
    return None


def date_column(table: Table, col: str, probs: Problems) -> list[pd.Timestamp]:
    out = []
    for i, v in enumerate(table.frame[col].tolist()):
        d = parse_date(v)
        if d is None:
            probs.error(f"date « {shorten(v)} » illisible — écrivez-la au format JJ/MM/AAAA ou AAAA-MM-JJ.",
                        table.lines[i], table.label(col))
            d = pd.NaT
        out.append(d)
    return out


_TRUE = {"oui", "o", "yes", "y", "true", "vrai", "1", "x", "1.0"}
_FALSE = {"non", "n", "no", "false", "faux", "0", "", "0.0"}


def parse_bool(value: str) -> bool | None:
    s = str(value).strip().lower()
    s = "".join(ch for ch in unicodedata.normalize("NFKD", s) if not unicodedata.combining(ch))
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    return None


def year_in(*texts: object) -> int | None:
    """Most recent plausible year (2000-2099) found in the texts."""
    years = []
    for t in texts:
        years += [int(y) for y in re.findall(r"(?<!\d)(20\d{2})(?!\d)", str(t or ""))]
    return max(years) if years else None


# ---------------------------------------------------------------------------
# Référentiel look-ups
# ---------------------------------------------------------------------------
def commune_reference(store) -> pd.DataFrame:
    if not store.has("communes"):
        raise ImportValidationError([Problem(
            "magasin de données", None, None,
            "le référentiel des communes est absent — lancez d'abord `python -m data build-reference`.")])
    return store.read("communes", columns=["code_insee", "nom", "dep", "population"])


def fold_codes(codes: list[str], lines: list[int], probs: Problems, colonne: str) -> list[str]:
    """Fold arrondissements into their commune, with one warning listing them."""
    folded = [fold_arrondissement(c) for c in codes]
    arr = sorted({c for c in codes if is_arrondissement(c)})
    if arr:
        shown = ", ".join(arr[:30]) + (" …" if len(arr) > 30 else "")
        probs.warn(f"{len(arr)} arrondissement(s) municipal(aux) rattaché(s) à leur commune "
                   f"(Paris 75056, Lyon 69123, Marseille 13055) : {shown}.", None, colonne)
    return folded


def drop_unknown(codes: list[str], known: set[str], lines: list[int], probs: Problems, colonne: str,
                 what: str = "code INSEE") -> list[bool]:
    """Mask of rows to keep; each unknown code is a warning naming its line."""
    keep = []
    for code, line in zip(codes, lines):
        ok = (not code) or code in known
        if not ok:
            probs.warn(f"{what} « {code} » inconnu du référentiel (COG 2025) : ligne ignorée — vérifiez le "
                       "code (commune fusionnée ?).", line, colonne)
        keep.append(ok)
    return keep


def report_duplicates(df: pd.DataFrame, key: list[str], value_cols: list[str], lines_col: str, probs: Problems,
                      colonne: str, what: str) -> pd.DataFrame:
    """Drop exact duplicates (warning); same key with different values is an error."""
    if df.empty:
        return df
    dup_key = df.duplicated(key, keep=False)
    if not dup_key.any():
        return df
    exact = df.duplicated(key + value_cols, keep="first")
    for _, row in df[exact].iterrows():
        probs.warn(f"ligne en double ({what} {' / '.join(str(row[k]) for k in key)}) : ignorée.",
                   int(row[lines_col]), colonne)
    df = df[~exact]
    conflict = df[df.duplicated(key, keep=False)]
    for keyval, grp in conflict.groupby(key, sort=True):
        keyval = keyval if isinstance(keyval, tuple) else (keyval,)
        lines = ", ".join(str(int(x)) for x in grp[lines_col])
        probs.error(f"{what} {' / '.join(map(str, keyval))} présent plusieurs fois avec des valeurs "
                    f"différentes (lignes {lines}) — gardez une seule ligne.", int(grp[lines_col].iloc[-1]), colonne)
    return df


def text_column(table: Table, col: str | None) -> list[str]:
    if col is None or col not in table.frame.columns:
        return [""] * len(table.frame)
    return [v.strip() for v in table.frame[col].tolist()]


Builder = Callable[..., Any]


@dataclass
class Built:
    """What a kind's builder hands back to ``import_file``: layers ready to write."""

    layers: dict[str, tuple[Any, Any]]      # name -> (frame, LayerInfo)
    vintage: str
    rows: int
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)


def base_frame(table: Table, code_col: str, probs: Problems, what: str = "code INSEE") -> pd.DataFrame:
    """DataFrame with _ligne, code_orig (normalised) and code_insee (arrondissements folded)."""
    codes = code_column(table, code_col, probs, what=what)
    df = pd.DataFrame({"_ligne": table.lines, "code_orig": codes})
    df["code_insee"] = fold_codes(codes, table.lines, probs, table.label(code_col))
    return df


def fold_frame(df: pd.DataFrame, probs: Problems, colonne: str, value_cols: list[str], how: str) -> pd.DataFrame:
    """Merge arrondissement rows into their commune.

    how='sum': numbers are added (populations, places) unless the commune has its own row;
    how='same': the commune's own row wins, else the first arrondissement (warning when they differ).
    """
    arm = df["code_orig"] != df["code_insee"]
    if not arm.any():
        return df
    own = set(df.loc[~arm, "code_insee"])
    keep = df[~arm]
    extra = []
    for code, grp in df[arm].groupby("code_insee", sort=True):
        if code in own:
            continue
        row = grp.iloc[0].copy()
        if how == "sum":
            for c in value_cols:
                row[c] = grp[c].sum(min_count=1)
        elif len(grp[value_cols].drop_duplicates()) > 1:
            probs.warn(f"les arrondissements de {code} n'ont pas tous la même valeur : celle de la ligne "
                       f"{int(row['_ligne'])} est retenue pour la commune.", int(row["_ligne"]), colonne)
        extra.append(row)
    if extra:
        keep = pd.concat([keep, pd.DataFrame(extra)], ignore_index=True)
    return keep.reset_index(drop=True)
