"""Reading an imported file as a table of text cells: size check, CSV or xlsx rows within the limits,
header found (even below title lines) and normalised, columns resolved by name or alias.

Line numbers are those a person sees in a spreadsheet: the header is line 1 (or the line where the
header was found when title lines precede it).
"""
from __future__ import annotations

import errno
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from planning.formats import fr_decimal, fr_int

from .csv_reader import read_csv_rows
from .problems import Problems, shorten
from .readers import (NON_ASCII_DIGIT, Limits, column_name, current_context, has_context, non_latin_digits,
                      reading_context)
from .xlsx_reader import read_xlsx_rows

MAX_FILE_MB = Limits.from_env().max_file_mb
HEADER_SCAN_ROWS = 30


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
        raise probs.fatal(f"fichier trop volumineux ({fr_decimal(size / 1024 / 1024)} Mo, limite {fr_decimal(limit)} Mo) — "
                          "filtrez-le sur votre territoire ou augmentez ATLAS_IMPORT_MAX_MB.")


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
    ctx = current_context()
    ctx.report(0.0, "Lecture du fichier…", force=True)
    src = _row_source(Path(path), cols, probs, sheet_hint)
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
    _check_width(header, header_line, src.kind, cols, ctx.limits, probs, bool(_options.get("une_colonne")))
    normed, headers = _column_names(header, header_line, src.kind, probs)
    ctx.report(0.05, "Lecture des lignes…", force=True)

    def body():
        yield from head[h + 1:]
        yield from rows

    data, lines = _data_rows(body(), rows, normed, headers, src, ctx.limits, probs, max_data_rows)
    if not data:
        raise probs.fatal(f"le fichier ne contient que la ligne d'en-tête (ligne {header_line}) et aucune ligne de "
                          "données — vérifiez l'export (filtre vide ?).", header_line)
    ctx.report(0.7, "Vérification des valeurs…", force=True)
    frame = pd.DataFrame(data, columns=normed, dtype=object)
    del data
    return Table(frame=frame, headers=headers, fichier=fichier, lines=lines, encoding=src.encoding,
                 separator=src.separator, header_line=header_line, preamble=preamble)


def _row_source(path: Path, cols: list[Col], probs: Problems, sheet_hint: str | None):
    """The rows of a workbook or a CSV file (refused formats named)."""
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise probs.fatal("format Excel 97-2003 (.xls) non pris en charge — enregistrez le fichier en .xlsx "
                          "ou en CSV (séparateur « ; »).")
    if suffix in _UNSUPPORTED:
        raise probs.fatal(f"format « {suffix} » non pris en charge — fournissez un fichier CSV ou .xlsx.")
    if suffix in (".xlsx", ".xlsm") or _looks_like_xlsx(path):
        return read_xlsx_rows(path, probs, lambda rows: _find_header(rows, cols) is not None, sheet_hint)

    def score(sample: list[list[str]]) -> tuple[int, int]:
        found = _find_header(sample, cols)
        width = len(sample[found]) if found is not None else (len(sample[0]) if sample else 0)
        return (1 if found is not None else 0, width)

    return read_csv_rows(path, probs, score)


def _check_width(header: list[str], header_line: int, kind: str, cols: list[Col], lim: Limits, probs: Problems,
                 une_colonne: bool) -> None:
    """Too many columns, or a single one (a wrong separator unless a plain list of codes is expected)."""
    width = len(header)
    if width > lim.max_columns:
        raise probs.fatal(f"{fr_int(width)} colonnes dans l'en-tête : plus que la limite de {fr_int(lim.max_columns)} "
                          "(ATLAS_IMPORT_MAX_COLONNES) — supprimez les colonnes inutiles.", header_line)
    single_ok = une_colonne and width == 1 and \
        any(c.matches(normalise_header(header[0])) for c in cols)   # a plain list of codes (SPPE competences)
    if kind == "csv" and width <= 1 and not single_ok:
        raise probs.fatal("une seule colonne trouvée : le séparateur n'est ni « ; » ni « , » ni une "
                          "tabulation — réenregistrez le fichier en CSV séparé par des points-virgules.",
                          header_line, None)


def _column_names(header: list[str], header_line: int, kind: str, probs: Problems) -> tuple[list[str], dict[str, str]]:
    """Normalised column names (two columns equal once normalised are refused; an empty one gets
    ``colonne_N``), and the header as in the file for each."""
    normed: list[str] = []
    headers: dict[str, str] = {}
    position: dict[str, int] = {}
    for j, name in enumerate(header):
        n = normalise_header(name)
        if n and n in headers:
            k = position[n]
            raise probs.fatal(
                f"deux colonnes portent le même nom : « {shorten(headers[n])} » ({_col_pos(kind, k)}) et "
                f"« {shorten(name)} » ({_col_pos(kind, j)}) — une fois majuscules, accents et ponctuation "
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
    return normed, headers


def _data_rows(body, rows, normed: list[str], headers: dict[str, str], src, lim: Limits, probs: Problems,
               max_data_rows: int | None) -> tuple[list[list[str]], list[int]]:
    """The data rows (blank ones skipped) padded to the header's width, within the row and cell limits."""
    width = len(normed)
    data: list[list[str]] = []
    lines: list[int] = []
    max_rows, max_cells = lim.max_rows, lim.max_cells
    sep = src.separator or ";"
    beyond: list[int] = []        # xlsx rows with values right of the header
    for i, vals in body:
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
                probs.error(f"nombre « {shorten(v)} » écrit avec des chiffres non latins — saisissez-le avec les "
                            "chiffres 0 à 9.", i, headers[normed[j]])
                probs.refused_cells.add((i, headers[normed[j]]))
        data.append(vals)
        lines.append(i)
    if beyond:
        shown = ", ".join(map(str, beyond[:10])) + (" …" if len(beyond) > 10 else "")
        probs.warn(f"{fr_int(len(beyond))} ligne(s) ont des valeurs à droite de la dernière colonne nommée de "
                   f"l'en-tête (colonne {column_name(width - 1) if width else 'A'}) : ces valeurs sans nom de colonne "
                   f"ne sont pas lues (lignes {shown}).", beyond[0])
    return data, lines


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
