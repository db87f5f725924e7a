"""Word rendering (python-docx) of a :class:`~exports.document.Document`: an editable document with real
headings (« Titre 1 »), native tables, pictures with alternative text, and the « à compléter » passages
highlighted so that a commune finds what only it can fill in.

Word reads no markup in a run: text from the data is written as is (no escaping needed), control
characters are removed (:func:`exports.safe.clean_text`)."""
from __future__ import annotations

import io

from docx import Document as WordDocument
from docx.enum.text import WD_COLOR_INDEX
from docx.shared import Cm, Pt, RGBColor

from .document import NOTE_SECRET, Document, Section, Tableau, fr_date
from .safe import clean_text

A_COMPLETER = "À compléter par la commune"
BLEU = RGBColor(0x1F, 0x3A, 0x5F)
ROUGE = RGBColor(0x8A, 0x1C, 0x1C)


def _paragraphe(doc, text: str, style: str | None = None, size: float | None = None, italic: bool = False):
    p = doc.add_paragraph(style=style)
    run = p.add_run(clean_text(text))
    if size:
        run.font.size = Pt(size)
    run.italic = italic
    if text.startswith(A_COMPLETER):
        run.font.highlight_color = WD_COLOR_INDEX.YELLOW
        run.bold = True
    return p


def _tableau(doc, t: Tableau) -> None:
    cols = t.colonnes
    table = doc.add_table(rows=1, cols=len(cols))
    table.style = "Light Grid Accent 1"
    for j, c in enumerate(cols):
        cell = table.rows[0].cells[j]
        cell.text = clean_text(c.libelle)
        for r in cell.paragraphs[0].runs:
            r.bold = True
            r.font.size = Pt(9)
    for row in t.lignes:
        cells = table.add_row().cells
        for j, c in enumerate(cols):
            cells[j].text = clean_text(t.texte(row, c))
            for r in cells[j].paragraphs[0].runs:
                r.font.size = Pt(9)
            if c.genre not in ("texte", "code"):
                cells[j].paragraphs[0].alignment = 2   # right
    if t.a_masque:
        _paragraphe(doc, NOTE_SECRET, size=8, italic=True)


def _section(doc, s: Section) -> None:
    doc.add_heading(clean_text(s.titre), level=1)
    for p in s.points:
        _paragraphe(doc, p, style="List Bullet")
    if s.image is not None:
        doc.add_picture(io.BytesIO(s.image), width=Cm(16))
        pic = doc.inline_shapes[-1]
        pic._inline.docPr.set("descr", clean_text(s.image_alt))
    if s.tableau is not None and s.tableau_dans_pdf:
        if s.tableau.titre:
            _paragraphe(doc, s.tableau.titre, size=10).runs[0].bold = True
        _tableau(doc, s.tableau)
    for n in s.notes:
        _paragraphe(doc, n, size=8, italic=True)


def build_docx(doc: Document) -> bytes:
    w = WordDocument()
    w.core_properties.title = clean_text(doc.titre)
    w.core_properties.author = "Atlas Petite Enfance"
    w.core_properties.language = "fr-FR"
    for sec in w.sections:
        sec.left_margin = sec.right_margin = Cm(2)
        footer = sec.footer.paragraphs[0]
        if doc.fictif:
            r = footer.add_run(doc.mention + " · ")
            r.bold, r.font.color.rgb, r.font.size = True, ROUGE, Pt(8)
        r = footer.add_run(clean_text(f"{doc.titre} — {fr_date(doc.date)}"))
        r.font.size = Pt(8)
    title = w.add_heading(clean_text(doc.titre), level=0)
    for r in title.runs:
        r.font.color.rgb = BLEU
    for line in [doc.sous_titre, f"Document produit le {fr_date(doc.date)}"] + doc.couverture:
        if line:
            _paragraphe(w, line)
    if doc.fictif:
        p = _paragraphe(w, doc.mention + " : les structures (crèches, RPE) ne sont pas réelles.")
        p.runs[0].bold, p.runs[0].font.color.rgb = True, ROUGE
    for s in doc.sections:
        _section(w, s)
    if doc.sources is not None:
        w.add_heading("Sources et millésimes des données", level=1)
        _tableau(w, doc.sources)
    buf = io.BytesIO()
    w.save(buf)
    return buf.getvalue()
