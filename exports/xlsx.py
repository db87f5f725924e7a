"""Workbook writer (openpyxl): one sheet per table, French number formats, frozen header.

Each sheet: row 1 the table title, row 2 the demo mention and notes, row 3 the header
(bold, filled, frozen with the rows above, auto-filter), then the data. Numbers are
stored as numbers with a number format (``#,##0.0`` displayed « 1 234,5 » by a French
Excel), texts are neutralised (see :mod:`exports.safe`), masked counts are the text « < 5 ».
A first sheet « À propos » gives the document title, date, sources and notes.
"""
from __future__ import annotations

import io
import re
from typing import Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from planning.formats import fr_date

from .document import NOTE_SECRET, Document, Tableau
from .safe import clean_text, neutralise_cell

HEADER_ROW = 3
_BAD_SHEET = re.compile(r"[\[\]:*?/\\]")
_HEADER_FILL = PatternFill("solid", fgColor="DDE7F0")


def sheet_name(name: str, taken: set[str]) -> str:
    """Valid, unique sheet name (≤ 31 characters, no []:*?/\\, not starting with a quote)."""
    base = _BAD_SHEET.sub(" ", clean_text(name)).strip().strip("'") or "Tableau"
    base = base[:31]
    out, i = base, 2
    while out.lower() in {t.lower() for t in taken}:
        suffix = f" ({i})"
        out = base[: 31 - len(suffix)] + suffix
        i += 1
    taken.add(out)
    return out


def _set(ws, row: int, col: int, value, number_format: str | None = None, **style):
    cell = ws.cell(row=row, column=col)
    v = neutralise_cell(value)
    cell.value = v
    if isinstance(v, str):
        cell.data_type = "s"  # never a formula, even if a value slipped through
    if number_format and not isinstance(v, str):
        cell.number_format = number_format
    for k, s in style.items():
        setattr(cell, k, s)
    return cell


def add_table_sheet(wb: Workbook, t: Tableau, taken: set[str], mention: str = "") -> None:
    ws = wb.create_sheet(sheet_name(t.nom_feuille or t.titre, taken))
    _set(ws, 1, 1, t.titre, font=Font(bold=True, size=12))
    notes = ([mention] if mention else []) + list(t.notes) + ([NOTE_SECRET] if t.a_masque else [])
    _set(ws, 2, 1, " — ".join(notes), font=Font(italic=True, color="8A1C1C" if mention else "333333"))
    widths = []
    for j, c in enumerate(t.colonnes, start=1):
        _set(ws, HEADER_ROW, j, c.libelle, font=Font(bold=True), fill=_HEADER_FILL,
             alignment=Alignment(wrap_text=True, vertical="top"))
        widths.append(max(8, min(45, len(c.libelle) * 0.9 + 2)))
    for i, r in enumerate(t.lignes, start=HEADER_ROW + 1):
        for j, c in enumerate(t.colonnes, start=1):
            v, fmt = t.valeur(r, c)
            cell = _set(ws, i, j, v, fmt)
            if isinstance(v, str) and c.genre not in ("texte", "code"):
                cell.alignment = Alignment(horizontal="right")
            n = len(str(v)) + 2 if v is not None else 0
            widths[j - 1] = max(widths[j - 1], min(60, n))
    for j, c in enumerate(t.colonnes, start=1):
        ws.column_dimensions[get_column_letter(j)].width = c.largeur or widths[j - 1]
    ws.row_dimensions[HEADER_ROW].height = 30
    ws.freeze_panes = ws.cell(row=HEADER_ROW + 1, column=1)
    last = max(HEADER_ROW, HEADER_ROW + len(t.lignes))
    if t.colonnes:
        ws.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(len(t.colonnes))}{last}"


def write_workbook(doc: Document, extra: Sequence[Tableau] = ()) -> bytes:
    """The workbook of a document: « À propos », then one sheet per table."""
    wb = Workbook()
    about = wb.active
    about.title = "À propos"
    taken = {"À propos"}
    lines = [doc.titre, doc.sous_titre, f"Document produit le {fr_date(doc.date)}"]
    if doc.fictif:
        lines.append(doc.mention)
    lines += doc.couverture
    for i, line in enumerate([x for x in lines if x], start=1):
        _set(about, i, 1, line, font=Font(bold=(i == 1), size=13 if i == 1 else 11,
                                          color="8A1C1C" if line == doc.mention else None))
    row = about.max_row + 2
    _set(about, row, 1, "Feuilles", font=Font(bold=True))
    tables = doc.tableaux() + list(extra)
    for t in tables:
        row += 1
        _set(about, row, 1, f"• {t.titre}")
    if any(t.a_masque for t in tables):
        _set(about, row + 2, 1, NOTE_SECRET, font=Font(italic=True))
    about.column_dimensions["A"].width = 110
    for t in tables:
        add_table_sheet(wb, t, taken, doc.mention)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
