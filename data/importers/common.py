"""Reading and validation shared by every importer.

* ``read_table``: CSV (``;``, ``,`` or tab, sniffed; UTF-8 with or without BOM, or
  Windows-1252) or xlsx (openpyxl), every cell as text, headers normalised
  (lower case, no accents, punctuation → ``_``), header row detected when a file
  starts with title lines.
* ``Problems``: collects French, located messages (file, spreadsheet line,
  column); ``raise_if_errors`` turns them into an ``ImportValidationError``.
* Cell parsers (codes, numbers, dates, booleans) that report instead of raising.

Line numbers are those a person sees in a spreadsheet: the header is line 1
(or the line where the header was found when title lines precede it).
"""
from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from ..codes import fold_arrondissement, is_arrondissement, is_valid_commune_code, normalise_insee

MAX_FILE_MB = float(os.environ.get("ATLAS_IMPORT_MAX_MB", "50"))
HEADER_SCAN_ROWS = 30

ERREUR = "erreur"
AVERTISSEMENT = "avertissement"


# ---------------------------------------------------------------------------
# Problems, errors, report
# ---------------------------------------------------------------------------
@dataclass
class Problem:
    """One located problem in an imported file (message in French)."""

    fichier: str
    ligne: int | None
    colonne: str | None
    message: str
    niveau: str = ERREUR

    def __str__(self) -> str:
        parts = [self.fichier]
        if self.ligne is not None:
            parts.append(f"ligne {self.ligne}")
        if self.colonne:
            parts.append(f"colonne « {self.colonne} »")
        prefix = "Avertissement — " if self.niveau == AVERTISSEMENT else ""
        return f"{prefix}{', '.join(parts)} : {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"fichier": self.fichier, "ligne": self.ligne, "colonne": self.colonne,
                "message": self.message, "niveau": self.niveau}


class ImportValidationError(Exception):
    """The file was rejected; ``problems`` lists every error (and warnings found so far)."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        errors = [p for p in self.problems if p.niveau == ERREUR]
        shown = "\n".join(str(p) for p in errors[:20])
        more = f"\n… et {len(errors) - 20} autres erreurs" if len(errors) > 20 else ""
        super().__init__(f"Import refusé ({len(errors)} erreur(s)), le magasin de données n'a pas été modifié :\n"
                         f"{shown}{more}")

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.niveau == ERREUR]


@dataclass
class ImportReport:
    kind: str
    fichier: str
    layers: list[str]
    rows: int
    warnings: list[Problem] = field(default_factory=list)
    vintage: str = ""
    source: str = ""
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)

    def summary(self, max_warnings: int = 15) -> str:
        lines = [f"Import « {self.kind} » depuis {self.fichier} : {_fr_int(self.rows)} ligne(s) écrite(s) "
                 f"dans {', '.join(self.layers)} (millésime : {self.vintage or 'non précisé'})."]
        if self.encoding:
            lines.append(f"Encodage détecté : {self.encoding}.")
        lines.extend(self.notes)
        if self.warnings:
            lines.append(f"{len(self.warnings)} avertissement(s) :")
            lines.extend(f"  - {w}" for w in self.warnings[:max_warnings])
            if len(self.warnings) > max_warnings:
                lines.append(f"  … et {len(self.warnings) - max_warnings} autre(s) avertissement(s).")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "fichier": self.fichier, "layers": self.layers, "rows": self.rows,
                "vintage": self.vintage, "source": self.source, "encoding": self.encoding,
                "notes": self.notes, "warnings": [w.to_dict() for w in self.warnings]}


def _fr_int(n: int) -> str:
    return f"{n:,}".replace(",", "\u202f")


class Problems:
    """Collector bound to one file name."""

    def __init__(self, fichier: str):
        self.fichier = fichier
        self.items: list[Problem] = []

    def error(self, message: str, ligne: int | None = None, colonne: str | None = None) -> None:
        self.items.append(Problem(self.fichier, ligne, colonne, message, ERREUR))

    def warn(self, message: str, ligne: int | None = None, colonne: str | None = None) -> None:
        self.items.append(Problem(self.fichier, ligne, colonne, message, AVERTISSEMENT))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.niveau == ERREUR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.items if p.niveau == AVERTISSEMENT]

    def fatal(self, message: str, ligne: int | None = None, colonne: str | None = None) -> ImportValidationError:
        self.error(message, ligne, colonne)
        return ImportValidationError(self.items)

    def raise_if_errors(self) -> None:
        if self.errors:
            raise ImportValidationError(self.items)


# ---------------------------------------------------------------------------
# Headers
# ---------------------------------------------------------------------------
def normalise_header(name: object) -> str:
    """'Informations générales - Code INSEE' → 'informations_generales_code_insee'."""
    s = "" if name is None else str(name)
    s = s.replace("\ufeff", "").strip()
    s = unicodedata.normalize("NFKD", s)
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).lower()
    s = re.sub(r"[^a-z0-9]+", "_", s)
    return s.strip("_")


@dataclass
class Col:
    """A logical column: exact aliases (normalised) and optional 'contains' patterns."""

    name: str
    aliases: tuple[str, ...] = ()
    contains: tuple[tuple[str, ...], ...] = ()   # every part of one tuple must appear
    required: bool = True
    regex: str | None = None                     # full-match regex on the normalised header

    def matches(self, header: str) -> bool:
        if header == self.name or header in self.aliases:
            return True
        if self.regex and re.fullmatch(self.regex, header):
            return True
        return any(all(part in header for part in parts) for parts in self.contains)


# ---------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------
@dataclass
class Table:
    """Every cell is a Python str ('' when empty). ``lines[i]`` is the spreadsheet line of row i."""

    frame: pd.DataFrame
    headers: dict[str, str]          # normalised -> as written in the file
    fichier: str
    lines: list[int]
    encoding: str | None = None
    separator: str | None = None
    header_line: int = 1
    preamble: list[str] = field(default_factory=list)   # title lines above the header

    def label(self, norm: str) -> str:
        return self.headers.get(norm, norm)


def check_size(path: Path, probs: Problems, max_mb: float | None = None) -> None:
    limit = MAX_FILE_MB if max_mb is None else max_mb
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise probs.fatal(f"fichier introuvable ou illisible ({exc.strerror}) — vérifiez le chemin.")
    if size == 0:
        raise probs.fatal("le fichier est vide — exportez-le de nouveau depuis la source.")
    if size > limit * 1024 * 1024:
        raise probs.fatal(f"fichier trop volumineux ({size / 1024 / 1024:.1f} Mo, limite {limit:g} Mo) — "
                          "filtrez-le sur votre territoire ou augmentez ATLAS_IMPORT_MAX_MB.".replace(".", ",", 1))


def decode_bytes(raw: bytes) -> tuple[str, str]:
    """Return (text, encoding label shown to the user)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="strict"), "UTF-8 (avec BOM)"
    try:
        return raw.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "ISO-8859-1"


def _find_header(rows: list[list[str]], cols: list[Col]) -> int | None:
    """Index of the first row that holds a required column (by alias)."""
    required = [c for c in cols if c.required] or cols
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        normed = [normalise_header(v) for v in row]
        hits = sum(1 for c in required if any(c.matches(h) for h in normed if h))
        if hits and hits >= max(1, min(2, len(required))):
            return i
    return None


def read_table(path: Path, fichier: str, cols: list[Col], probs: Problems, sheet_hint: str | None = None) -> Table:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        rows, encoding, sep = _read_xlsx_rows(path, cols, probs, sheet_hint), None, None
    elif suffix == ".xls":
        raise probs.fatal("format Excel 97-2003 (.xls) non pris en charge — enregistrez le fichier en .xlsx "
                          "ou en CSV (séparateur « ; »).")
    elif suffix in (".parquet", ".zip", ".gz", ".pdf", ".ods"):
        raise probs.fatal(f"format « {suffix} » non pris en charge — fournissez un fichier CSV ou .xlsx.")
    else:
        raw = path.read_bytes()
        if b"\x00" in raw[:4096]:
            raise probs.fatal("le fichier n'est pas un texte CSV (contenu binaire) — fournissez un CSV ou un .xlsx.")
        text, encoding = decode_bytes(raw)
        rows, sep = _parse_csv(text, cols, probs)
    # drop trailing empty rows, find the header
    if not any(any(str(v).strip() for v in r) for r in rows):
        raise probs.fatal("le fichier ne contient aucune ligne — exportez-le de nouveau depuis la source.")
    h = _find_header(rows, cols)
    if h is None:
        h = next(i for i, r in enumerate(rows) if any(str(v).strip() for v in r))
    header = [str(v).strip() for v in rows[h]]
    preamble = [" ".join(str(v) for v in r if str(v).strip()) for r in rows[:h]]
    width = len(header)
    normed: list[str] = []
    headers: dict[str, str] = {}
    for j, name in enumerate(header):
        n = normalise_header(name) or f"colonne_{j + 1}"
        base, k = n, 2
        while n in headers:
            n = f"{base}_{k}"
            k += 1
        normed.append(n)
        headers[n] = name or f"colonne {j + 1}"
    data: list[list[str]] = []
    lines: list[int] = []
    for i, r in enumerate(rows[h + 1:], start=h + 2):
        vals = [("" if v is None else str(v)) for v in r]
        if not any(v.strip() for v in vals):
            continue
        if len(vals) > width:
            extra = [v for v in vals[width:] if v.strip()]
            if extra:
                probs.error(f"{len(vals)} valeurs pour {width} colonnes d'en-tête — une cellule contient "
                            f"sans doute le séparateur « {sep or ';'} » sans guillemets ; corrigez la ligne.", i)
                continue
            vals = vals[:width]
        vals += [""] * (width - len(vals))
        data.append(vals)
        lines.append(i)
    frame = pd.DataFrame(data, columns=normed, dtype=object) if data else pd.DataFrame(columns=normed, dtype=object)
    return Table(frame=frame, headers=headers, fichier=fichier, lines=lines, encoding=encoding,
                 separator=sep, header_line=h + 1, preamble=preamble)


def _parse_csv(text: str, cols: list[Col], probs: Problems) -> tuple[list[list[str]], str]:
    head = text[:200_000]
    best_sep, best_score = ";", (-1, -1)
    for sep in (";", ",", "\t", "|"):
        try:
            sample = list(csv.reader(io.StringIO(head), delimiter=sep))[:HEADER_SCAN_ROWS]
        except csv.Error:
            continue
        found = _find_header(sample, cols)
        width = len(sample[found]) if found is not None else (len(sample[0]) if sample else 0)
        score = (1 if found is not None else 0, width)
        if score > best_score:
            best_sep, best_score = sep, score
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=best_sep))
    except csv.Error as exc:
        raise probs.fatal(f"CSV illisible ({exc}) — vérifiez les guillemets et le séparateur.")
    if best_score[1] <= 1:
        raise probs.fatal("une seule colonne trouvée : le séparateur n'est ni « ; » ni « , » ni une "
                          "tabulation — réenregistrez le fichier en CSV séparé par des points-virgules.",
                          1, None)
    return rows, best_sep


def _cell_to_str(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "oui" if v else "non"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if hasattr(v, "isoformat"):
        s = v.isoformat()
        return s[:10] if s.endswith("T00:00:00") else s
    return str(v)


def _read_xlsx_rows(path: Path, cols: list[Col], probs: Problems, sheet_hint: str | None = None) -> list[list[str]]:
    try:
        import openpyxl

        wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # zip errors, not an xlsx...
        raise probs.fatal(f"classeur Excel illisible ({type(exc).__name__}) — ouvrez-le et réenregistrez-le "
                          "en .xlsx ou en CSV.")
    try:
        chosen = None
        sheets = wb.worksheets
        if sheet_hint:  # a named sheet first (INSEE workbooks: "COM" after a "Métadonnées" sheet)
            sheets = sorted(sheets, key=lambda ws: ws.title.strip().lower() != sheet_hint.lower())
        for ws in sheets:
            rows = [[_cell_to_str(v) for v in r] for r in ws.iter_rows(values_only=True)]
            if chosen is None:
                chosen = rows
            if _find_header(rows, cols) is not None:
                chosen = rows
                break
        return chosen or []
    finally:
        wb.close()


def resolve_columns(table: Table, cols: list[Col], probs: Problems,
                    mapping: dict[str, str] | None = None) -> dict[str, str]:
    """Map logical names to normalised headers; a missing required column is fatal.

    ``mapping`` (field -> column as written in the file, or its normalised form) is a column
    mapping chosen by the user (Import page, ``--colonnes``): it wins over the aliases.
    """
    found: dict[str, str] = {}
    used: set[str] = set()
    if mapping:
        from .mapping import apply_mapping

        found = apply_mapping(table, cols, mapping, probs)
        used = set(found.values())
    for c in cols:
        if c.name in found:
            continue
        for h in table.frame.columns:
            if h not in used and c.matches(h):
                found[c.name] = h
                used.add(h)
                break
    missing = [c for c in cols if c.required and c.name not in found]
    if missing:
        present = ", ".join(f"« {table.label(h)} »" for h in table.frame.columns) or "aucune"
        expected = "; ".join(f"« {c.name} »" + (f" (ou {', '.join(c.aliases[:4])})" if c.aliases else "")
                             for c in missing)
        if len(table.frame.columns) <= 1:
            msg = (f"une seule colonne trouvée ({present}) : le séparateur n'est sans doute pas le bon — "
                   f"réenregistrez le fichier en CSV séparé par « ; » ou « , ». Colonnes attendues : {expected}.")
        else:
            msg = (f"colonne(s) obligatoire(s) absente(s) : {expected}. Colonnes trouvées : {present}. "
                   "Renommez la colonne ou vérifiez que c'est le bon fichier.")
        raise probs.fatal(msg, table.header_line)
    return found


# ---------------------------------------------------------------------------
# Cell checks and parsers (report, never raise)
# ---------------------------------------------------------------------------
_HTML_RE = re.compile(r"<\s*/?\s*[a-zA-Z][a-zA-Z0-9]*(\s[^<>]*)?/?\s*>|<!--|javascript:", re.I)
_EXCEL_CODE_RE = re.compile(r'^="[^"]*"$')
_NUMBER_LIKE = re.compile(r"^[+-]?\s*[\d\s.,\u202f\u00a0]+$")


def unsafe_cell(value: str) -> str | None:
    """French reason when a cell looks like a spreadsheet formula or holds HTML, else None."""
    s = value.strip()
    if not s:
        return None
    if _HTML_RE.search(s):
        return f"la cellule « {_short(s)} » contient une balise HTML — supprimez la balise et gardez le texte seul."
    # '=' and '@' always start a formula; '+'/'-' only when glued to what follows
    # ("- undefined", a list dash, is plain text in the official INSEE grid)
    formula = s[0] in "=@" or (s[0] in "+-" and len(s) > 1 and not s[1].isspace())
    if formula and not _EXCEL_CODE_RE.match(s) and not _NUMBER_LIKE.match(s):
        return (f"la cellule « {_short(s)} » ressemble à une formule de tableur — supprimez la formule "
                "(ou faites précéder le texte d'une apostrophe dans le tableur).")
    return None


def _short(s: str, n: int = 40) -> str:
    s = s.replace("\n", " ")
    return s if len(s) <= n else s[: n - 1] + "…"


def check_cells(table: Table, columns: Iterable[str], probs: Problems) -> None:
    for col in columns:
        if col not in table.frame.columns:
            continue
        for i, v in enumerate(table.frame[col].tolist()):
            reason = unsafe_cell(v)
            if reason:
                probs.error(reason, table.lines[i], table.label(col))


_MISSING = {"", "nan", "na", "n/a", "nd", "n.d.", "n.d", "s", "secret", "-", "null", "none", "<na>"}


def parse_number(value: str) -> float | None:
    """'1 234,5' → 1234.5 ; '' → nan ; None when not a number."""
    s = str(value).strip().replace("\u202f", "").replace("\u00a0", "").replace(" ", "")
    if s.lower() in _MISSING:
        return float("nan")
    if s.startswith('="') and s.endswith('"'):
        s = s[2:-1]
    if "," in s and "." in s:
        if s.rfind(",") > s.rfind("."):
            s = s.replace(".", "").replace(",", ".")
        else:
            s = s.replace(",", "")
    elif "," in s:
        s = s.replace(",", ".")
    if s.endswith("%"):
        s = s[:-1]
    try:
        return float(s)
    except ValueError:
        return None


def number_column(table: Table, col: str, probs: Problems, *, minimum: float | None = 0.0,
                  maximum: float | None = None, what: str = "valeur", integer: bool = False,
                  hint: str = "") -> list[float]:
    out: list[float] = []
    label = table.label(col)
    for i, v in enumerate(table.frame[col].tolist()):
        x = parse_number(v)
        line = table.lines[i]
        if x is None:
            probs.error(f"{what} « {_short(v)} » n'est pas un nombre — saisissez un nombre (ex. 12 ou 12,5).",
                        line, label)
            out.append(float("nan"))
            continue
        if not np.isnan(x):
            if integer and not float(x).is_integer():
                probs.error(f"{what} « {_short(v)} » doit être un nombre entier — corrigez la cellule.", line, label)
            elif minimum is not None and x < minimum:
                probs.error(f"{what} négative ou trop faible « {_short(v)} » (minimum {_fr_num(minimum)}) — "
                            "corrigez la cellule.", line, label)
            elif maximum is not None and x > maximum:
                probs.error(f"{what} « {_short(v)} » invraisemblable (maximum {_fr_num(maximum)}){hint} — "
                            "vérifiez la cellule.", line, label)
        out.append(x)
    return out


def _fr_num(x: float) -> str:
    if float(x).is_integer():
        return _fr_int(int(x))
    return f"{x:.6g}".replace(".", ",")


def code_column(table: Table, col: str, probs: Problems, *, what: str = "code INSEE") -> list[str]:
    """Normalised commune codes; invalid ones are errors."""
    out = []
    label = table.label(col)
    for i, v in enumerate(table.frame[col].tolist()):
        s = v.strip()
        if s.startswith("=") and not _EXCEL_CODE_RE.match(s):
            probs.error(f"la cellule « {_short(s)} » ressemble à une formule de tableur — supprimez la formule "
                        "et saisissez le code.", table.lines[i], label)
            out.append("")
            continue
        code = normalise_insee(v)
        if not is_valid_commune_code(code):
            if not code:
                probs.error(f"{what} manquant — renseignez le code à 5 caractères de la commune.",
                            table.lines[i], label)
            else:
                probs.error(f"{what} « {_short(v)} » invalide — corrigez-le (5 caractères, ex. 01004 ou 2A004).",
                            table.lines[i], label)
        out.append(code)
    return out


_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%Y/%m/%d", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%dT%H:%M:%S",
                 "%Y-%m-%d %H:%M:%S", "%m/%Y", "%Y-%m", "%Y")


def parse_date(value: str) -> pd.Timestamp | None:
    """Timestamp, NaT when empty, None when unparseable."""
    s = str(value).strip()
    if s.lower() in _MISSING:
        return pd.NaT
    from datetime import datetime

    for fmt in _DATE_FORMATS:
        try:
            d = datetime.strptime(s, fmt)
        except ValueError:
            continue
        if 1900 <= d.year <= 2100:
            return pd.Timestamp(d)
        return None
    # Excel serial numbers (a date cell exported as a number)
    if re.fullmatch(r"\d{5}(\.0+)?", s):
        n = int(float(s))
        if 1 <= n < 80000:
            return pd.Timestamp("1899-12-30") + pd.Timedelta(days=n)
    return None


def date_column(table: Table, col: str, probs: Problems) -> list[pd.Timestamp]:
    out = []
    for i, v in enumerate(table.frame[col].tolist()):
        d = parse_date(v)
        if d is None:
            probs.error(f"date « {_short(v)} » illisible — écrivez-la au format JJ/MM/AAAA ou AAAA-MM-JJ.",
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
