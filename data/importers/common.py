"""Reading and validation shared by every importer.

* ``read_table``: CSV (``;``, ``,``, tab or ``|``, sniffed; UTF-8 with or without BOM,
  UTF-16 with BOM, or Windows-1252 by strict rules) or xlsx, streamed by
  ``readers`` under explicit limits (size, inflated size, rows, columns, cells,
  time); every cell as text, headers normalised (lower case, no accents,
  punctuation → ``_``), header row detected when a file starts with title lines.
* ``Problems``: collects French, located messages (file, spreadsheet line,
  column); ``raise_if_errors`` turns them into an ``ImportValidationError``.
* Cell parsers (codes, numbers, dates, booleans) that report instead of raising;
  numbers are strict (ASCII digits, no ``1_0``, ``%`` only where a column says so).

Line numbers are those a person sees in a spreadsheet: the header is line 1
(or the line where the header was found when title lines precede it).
"""
from __future__ import annotations

import errno
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from ..codes import fold_arrondissement, is_arrondissement, is_valid_commune_code, normalise_insee
from .readers import (NON_ASCII_DIGIT, Limits, column_name, current_context, fr_int, fr_mb, has_context,
                      non_latin_digits, read_csv_rows, read_xlsx_rows, reading_context)

MAX_FILE_MB = Limits.from_env().max_file_mb
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

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Problem":
        ligne = d.get("ligne")
        return cls(str(d.get("fichier", "")), int(ligne) if isinstance(ligne, (int, float)) else None,
                   d.get("colonne") or None, str(d.get("message", "")), d.get("niveau") or ERREUR)


class ImportValidationError(Exception):
    """The file was rejected; ``problems`` lists every error (and warnings found so far)."""

    origine: str | None = None     # file:line of an internal error turned into a French message

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

    def summary(self, max_warnings: int = 15, *, with_warnings: bool = True) -> str:
        lines = [f"Import « {self.kind} » depuis {self.fichier} : {_fr_int(self.rows)} ligne(s) écrite(s) "
                 f"dans {', '.join(self.layers)} (millésime : {self.vintage or 'non précisé'})."]
        if self.encoding:
            lines.append(f"Encodage détecté : {self.encoding}.")
        lines.extend(self.notes)
        if self.warnings and with_warnings:
            lines.append(f"{len(self.warnings)} avertissement(s) :")
            lines.extend(f"  - {w}" for w in self.warnings[:max_warnings])
            if len(self.warnings) > max_warnings:
                lines.append(f"  … et {len(self.warnings) - max_warnings} autre(s) avertissement(s).")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "fichier": self.fichier, "layers": self.layers, "rows": self.rows,
                "vintage": self.vintage, "source": self.source, "encoding": self.encoding,
                "notes": self.notes, "warnings": [w.to_dict() for w in self.warnings]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ImportReport":
        return cls(kind=str(d.get("kind", "")), fichier=str(d.get("fichier", "")), layers=list(d.get("layers", [])),
                   rows=int(d.get("rows", 0)), warnings=[Problem.from_dict(w) for w in d.get("warnings", [])],
                   vintage=str(d.get("vintage", "")), source=str(d.get("source", "")), encoding=d.get("encoding"),
                   notes=list(d.get("notes", [])))


def _fr_int(n: int) -> str:
    return f"{n:,}".replace(",", "\u202f")


class Problems:
    """Collector bound to one file name.

    At most ``max_errors`` errors are collected: the next one stops the check at once
    (an ``ImportValidationError`` listing them plus a last line saying so), so that a
    file of a million bad rows cannot fill the memory with messages.  Warnings beyond
    ``max_warnings`` are counted, not stored.
    """

    def __init__(self, fichier: str, *, max_errors: int | None = None, max_warnings: int | None = None):
        self.fichier = fichier
        self.items: list[Problem] = []
        d = Limits()
        self.max_errors = max_errors or d.max_errors
        self.max_warnings = max_warnings or d.max_warnings
        self._n_errors = 0
        self._n_warnings = 0
        self.dropped_warnings = 0
        self.refused_cells: set[tuple[int | None, str | None]] = set()   # already refused when the file was read

    def error(self, message: str, ligne: int | None = None, colonne: str | None = None) -> None:
        if self._n_errors >= self.max_errors:
            self.items.append(Problem(self.fichier, None, None,
                                      f"plus de {_fr_int(self.max_errors)} erreurs : la vérification s'arrête là — "
                                      "corrigez d'abord celles-ci (souvent une même cause : mauvais fichier, mauvaise "
                                      "colonne ou mauvais type d'import).", ERREUR))
            self._n_errors += 1
            raise ImportValidationError(self.items)
        self._n_errors += 1
        self.items.append(Problem(self.fichier, ligne, colonne, message, ERREUR))

    def warn(self, message: str, ligne: int | None = None, colonne: str | None = None) -> None:
        if self._n_warnings >= self.max_warnings:
            self.dropped_warnings += 1
            return
        self._n_warnings += 1
        self.items.append(Problem(self.fichier, ligne, colonne, message, AVERTISSEMENT))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.niveau == ERREUR]

    @property
    def warnings(self) -> list[Problem]:
        out = [p for p in self.items if p.niveau == AVERTISSEMENT]
        if self.dropped_warnings:
            out.append(Problem(self.fichier, None, None,
                               f"… et {_fr_int(self.dropped_warnings)} autre(s) avertissement(s) non détaillé(s).",
                               AVERTISSEMENT))
        return out

    def fatal(self, message: str, ligne: int | None = None, colonne: str | None = None) -> ImportValidationError:
        self.items.append(Problem(self.fichier, ligne, colonne, message, ERREUR))
        self._n_errors += 1
        return ImportValidationError(self.items)

    def raise_if_errors(self) -> None:
        if self._n_errors or self.errors:
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


_OS_ERRORS = {
    errno.ENOENT: "fichier introuvable — vérifiez le chemin et le nom du fichier.",
    errno.EISDIR: "c'est un dossier, pas un fichier — choisissez le fichier à importer lui-même.",
    errno.ENAMETOOLONG: "nom ou chemin du fichier trop long pour le système — renommez le fichier avec un nom plus "
                        "court.",
    errno.EACCES: "lecture refusée par le système (droits d'accès) — vérifiez les droits du fichier.",
    errno.EPERM: "lecture refusée par le système (droits d'accès) — vérifiez les droits du fichier.",
    errno.ENOTDIR: "chemin invalide (un élément du chemin n'est pas un dossier) — vérifiez le chemin.",
    errno.ELOOP: "chemin invalide (liens symboliques en boucle) — vérifiez le chemin.",
}


def os_error_message(exc: OSError) -> str:
    """French text for a system error on the imported file (never the English ``strerror``)."""
    return _OS_ERRORS.get(exc.errno or -1, "fichier illisible par le système (disque, droits ou nom) — copiez-le "
                                          "ailleurs sous un nom simple et réessayez.")


def check_size(path: Path, probs: Problems, max_mb: float | None = None) -> None:
    """The file exists, is a regular file, is not empty and not over the size limit."""
    limit = current_context().limits.max_file_mb if max_mb is None else max_mb
    try:
        st = path.stat()
    except (OSError, ValueError) as exc:
        raise probs.fatal(os_error_message(exc) if isinstance(exc, OSError) else
                          "nom de fichier invalide (caractère nul) — renommez le fichier.") from None
    import stat as _stat

    if _stat.S_ISDIR(st.st_mode):
        raise probs.fatal(_OS_ERRORS[errno.EISDIR])
    if not _stat.S_ISREG(st.st_mode):
        raise probs.fatal("ce n'est pas un fichier ordinaire (périphérique, tube…) — choisissez un fichier CSV ou "
                          ".xlsx enregistré sur le disque.")
    size = st.st_size
    if size == 0:
        raise probs.fatal("le fichier est vide — exportez-le de nouveau depuis la source.")
    if size > limit * 1024 * 1024:
        raise probs.fatal(f"fichier trop volumineux ({fr_mb(size / 1024 / 1024)} Mo, limite {fr_mb(limit)} Mo) — "
                          "filtrez-le sur votre territoire ou augmentez ATLAS_IMPORT_MAX_MB.")


def decode_bytes(raw: bytes) -> tuple[str, str]:
    """Return (text, encoding label shown to the user), by the strict rules of ``readers.detect_encoding``.

    Raises ``ValueError`` (French message) for a file mixing valid UTF-8 and other bytes.
    """
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16"), "UTF-16 (avec BOM)"
    bom = raw.startswith(b"\xef\xbb\xbf")
    try:
        return (raw[3:].decode("utf-8"), "UTF-8 (avec BOM)") if bom else (raw.decode("utf-8"), "UTF-8")
    except UnicodeDecodeError:
        pass
    mixed = bom
    for line in raw.splitlines():
        if not line.isascii():
            try:
                line.decode("utf-8")
                mixed = True
                break
            except UnicodeDecodeError:
                continue
    if mixed:
        raise ValueError("encodage mélangé : UTF-8 et un autre encodage dans le même fichier — réenregistrez-le en "
                         "« CSV UTF-8 ».")
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


_UNSUPPORTED = {".parquet", ".zip", ".gz", ".pdf", ".ods", ".doc", ".docx", ".pptx", ".odt", ".7z", ".rar"}


def _looks_like_xlsx(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def read_table(path: Path, fichier: str, cols: list[Col], probs: Problems, sheet_hint: str | None = None, *,
               max_data_rows: int | None = None, **_options: Any) -> Table:
    """Read a CSV or xlsx file as text cells, within the limits of the current reading context.

    ``sheet_hint``: name of the sheet to read in a workbook (default: the first one whose first
    30 rows hold the header).  ``max_data_rows``: stop after that many data rows, without error
    (a preview: the Import page's column mapping step reads the head of a file, not all of it).
    ``une_colonne=True``: a CSV of a single column is accepted when that column is one of ``cols``
    (a plain list of codes); otherwise one column means a wrong separator.  Other keyword options
    are accepted (and ignored here) so that callers can pass importer-specific settings.
    """
    if not has_context():     # called outside import_file (a preview): limits for this call only
        with reading_context():
            return read_table(path, fichier, cols, probs, sheet_hint, max_data_rows=max_data_rows, **_options)
    path = Path(path)
    ctx = current_context()
    lim = ctx.limits
    suffix = path.suffix.lower()
    ctx.report(0.0, "Lecture du fichier…", force=True)
    if suffix == ".xls":
        raise probs.fatal("format Excel 97-2003 (.xls) non pris en charge — enregistrez le fichier en .xlsx "
                          "ou en CSV (séparateur « ; »).")
    if suffix in _UNSUPPORTED:
        raise probs.fatal(f"format « {suffix} » non pris en charge — fournissez un fichier CSV ou .xlsx.")
    if suffix in (".xlsx", ".xlsm") or _looks_like_xlsx(path):
        src = read_xlsx_rows(path, probs, lambda rows: _find_header(rows, cols) is not None, sheet_hint)
    else:
        def score(sample: list[list[str]]) -> tuple[int, int]:
            found = _find_header(sample, cols)
            width = len(sample[found]) if found is not None else (len(sample[0]) if sample else 0)
            return (1 if found is not None else 0, width)

        src = read_csv_rows(path, probs, score)
    rows = src.rows
    head: list[tuple[int, list[str]]] = []
    for item in rows:
        head.append(item)
        if len(head) >= HEADER_SCAN_ROWS:
            break
    if not any(any(v.strip() for v in r) for _, r in head):
        raise probs.fatal("le fichier ne contient aucune ligne — exportez-le de nouveau depuis la source.")
    h = _find_header([r for _, r in head], cols)
    if h is None:
        h = next(i for i, (_, r) in enumerate(head) if any(v.strip() for v in r))
    header_line = head[h][0]
    header = [v.strip() for v in head[h][1]]
    preamble = [" ".join(v for v in r if v.strip()) for _, r in head[:h]]
    width = len(header)
    if width > lim.max_columns:
        raise probs.fatal(f"{fr_int(width)} colonnes dans l'en-tête : plus que la limite de {fr_int(lim.max_columns)} "
                          "(ATLAS_IMPORT_MAX_COLONNES) — supprimez les colonnes inutiles.", header_line)
    single_ok = bool(_options.get("une_colonne")) and width == 1 and \
        any(c.matches(normalise_header(header[0])) for c in cols)   # a plain list of codes (SPPE competences)
    if src.kind == "csv" and width <= 1 and not single_ok:
        raise probs.fatal("une seule colonne trouvée : le séparateur n'est ni « ; » ni « , » ni une "
                          "tabulation — réenregistrez le fichier en CSV séparé par des points-virgules.",
                          header_line, None)
    normed: list[str] = []
    headers: dict[str, str] = {}
    position: dict[str, int] = {}
    for j, name in enumerate(header):
        n = normalise_header(name)
        if n and n in headers:
            k = position[n]
            raise probs.fatal(
                f"deux colonnes portent le même nom : « {_short(headers[n])} » ({_col_pos(src.kind, k)}) et "
                f"« {_short(name)} » ({_col_pos(src.kind, j)}) — une fois majuscules, accents et ponctuation "
                "ignorés, l'import ne saurait pas laquelle lire. Renommez ou supprimez l'une des deux.",
                header_line, name)
        if not n:
            n = f"colonne_{j + 1}"
            base, k = n, 2
            while n in headers:
                n = f"{base}_{k}"
                k += 1
        normed.append(n)
        headers[n] = name or f"colonne {j + 1}"
        position[n] = j
    ctx.report(0.05, "Lecture des lignes…", force=True)
    data: list[list[str]] = []
    lines: list[int] = []
    max_rows, max_cells = lim.max_rows, lim.max_cells
    sep = src.separator or ";"
    beyond: list[int] = []        # xlsx rows with values right of the header

    def body():
        yield from head[h + 1:]
        yield from rows

    for i, vals in body():
        if max_data_rows is not None and len(data) >= max_data_rows:
            close = getattr(rows, "close", None)
            if close:
                close()       # the file (or workbook) is closed at once
            break
        joined = "".join(vals)
        if not joined.strip():
            continue
        if len(data) >= max_rows:
            raise probs.fatal(f"plus de {fr_int(max_rows)} lignes de données : limite atteinte à la ligne {fr_int(i)} "
                              "(ATLAS_IMPORT_MAX_LIGNES) — filtrez le fichier sur votre territoire ou découpez-le.", i)
        if (len(data) + 1) * width > max_cells:
            raise probs.fatal(f"plus de {fr_int(max_cells)} cellules ({fr_int(width)} colonnes × "
                              f"{fr_int(len(data) + 1)} lignes) : limite atteinte à la ligne {fr_int(i)} "
                              "(ATLAS_IMPORT_MAX_CELLULES) — supprimez les colonnes inutiles ou découpez le fichier.",
                              i)
        if len(vals) > width:
            extra = [v for v in vals[width:] if v.strip()]
            if extra:
                if src.kind == "csv":
                    probs.error(f"{len(vals)} valeurs pour {width} colonnes d'en-tête — une cellule contient "
                                f"sans doute le séparateur « {sep} » sans guillemets ; corrigez la ligne.", i)
                    continue
                beyond.append(i)
            vals = vals[:width]
        elif len(vals) < width:
            vals = vals + [""] * (width - len(vals))
        for j, v in enumerate(vals if not joined.isascii() and NON_ASCII_DIGIT.search(joined) else ()):
            if not v.isascii() and non_latin_digits(v):
                probs.error(f"nombre « {_short(v)} » écrit avec des chiffres non latins — saisissez-le avec les "
                            "chiffres 0 à 9.", i, headers[normed[j]])
                probs.refused_cells.add((i, headers[normed[j]]))
        data.append(vals)
        lines.append(i)
    if beyond:
        shown = ", ".join(map(str, beyond[:10])) + (" …" if len(beyond) > 10 else "")
        probs.warn(f"{fr_int(len(beyond))} ligne(s) ont des valeurs à droite de la dernière colonne nommée de "
                   f"l'en-tête (colonne {column_name(width - 1) if width else 'A'}) : ces valeurs sans nom de colonne "
                   f"ne sont pas lues (lignes {shown}).", beyond[0])
    if not data:
        raise probs.fatal(f"le fichier ne contient que la ligne d'en-tête (ligne {header_line}) et aucune ligne de "
                          "données — vérifiez l'export (filtre vide ?).", header_line)
    ctx.report(0.7, "Vérification des valeurs…", force=True)
    frame = pd.DataFrame(data, columns=normed, dtype=object)
    del data
    return Table(frame=frame, headers=headers, fichier=fichier, lines=lines, encoding=src.encoding,
                 separator=src.separator, header_line=header_line, preamble=preamble)


def _col_pos(kind: str, j: int) -> str:
    return f"colonne {column_name(j)}" if kind == "xlsx" else f"{j + 1}e colonne"


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
                probs.error(f"{what} « {_short(v)} » : {reason}.", line, label)
            else:
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
