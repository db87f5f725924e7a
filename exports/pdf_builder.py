"""PDF rendering of a :class:`~exports.document.Document` (reportlab, A4 portrait).

Fonts: DejaVu Sans shipped with matplotlib (covers « », €, the narrow no-break space
of French numbers). Every text coming from the data goes through
:func:`exports.safe.escape_markup` before it reaches a ``Paragraph``. Each page has a
footer with the demo mention (when the data are fictitious), the title and the page number.
"""
from __future__ import annotations

import io
from pathlib import Path

import matplotlib
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (Image, KeepTogether, LongTable, PageBreak, Paragraph, SimpleDocTemplate,
                                Spacer, TableStyle)

from .document import NOTE_SECRET, Document, Section, Tableau, fr_date
from .safe import escape_markup

_FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
FONT, FONT_BOLD = "DejaVuSans", "DejaVuSans-Bold"
_registered = False


def _fonts() -> None:
    global _registered
    if _registered:
        return
    pdfmetrics.registerFont(TTFont(FONT, str(_FONT_DIR / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(_FONT_DIR / "DejaVuSans-Bold.ttf")))
    from reportlab.lib.fonts import addMapping

    addMapping(FONT, 0, 0, FONT)
    addMapping(FONT, 1, 0, FONT_BOLD)
    addMapping(FONT, 0, 1, FONT)
    addMapping(FONT, 1, 1, FONT_BOLD)
    _registered = True


def _styles(compact: bool) -> dict[str, ParagraphStyle]:
    k = 0.85 if compact else 1.0
    return {
        "titre": ParagraphStyle("titre", fontName=FONT_BOLD, fontSize=20 * k, leading=24 * k,
                                textColor=colors.HexColor("#1F3A5F"), spaceAfter=6),
        "sous": ParagraphStyle("sous", fontName=FONT, fontSize=12 * k, leading=15 * k,
                               textColor=colors.HexColor("#333333"), spaceAfter=4),
        "h": ParagraphStyle("h", fontName=FONT_BOLD, fontSize=14 * k, leading=17 * k,
                            textColor=colors.HexColor("#1F3A5F"), spaceBefore=8 * k, spaceAfter=4 * k),
        "p": ParagraphStyle("p", fontName=FONT, fontSize=10 * k, leading=13 * k),
        "li": ParagraphStyle("li", fontName=FONT, fontSize=10 * k, leading=13 * k, leftIndent=10,
                             bulletIndent=0, spaceAfter=1),
        "note": ParagraphStyle("note", fontName=FONT, fontSize=7.5, leading=9.5,
                               textColor=colors.HexColor("#444444")),
        "demo": ParagraphStyle("demo", fontName=FONT_BOLD, fontSize=11 * k, leading=14 * k,
                               textColor=colors.HexColor("#8A1C1C"), spaceAfter=4),
        "cell": ParagraphStyle("cell", fontName=FONT, fontSize=7.5, leading=9),
        "cellr": ParagraphStyle("cellr", fontName=FONT, fontSize=7.5, leading=9, alignment=TA_RIGHT),
        "head": ParagraphStyle("head", fontName=FONT_BOLD, fontSize=7.5, leading=9),
    }


def pdf_table(t: Tableau, width: float, st: dict[str, ParagraphStyle], rows=None) -> LongTable:
    rows = t.lignes if rows is None else rows
    cols = t.colonnes
    texts = [[t.texte(r, c) for c in cols] for r in rows]
    if t.police_pdf:
        k = t.police_pdf
        st = dict(st, **{n: ParagraphStyle(n + "_s", parent=st[n], fontSize=k, leading=k * 1.2)
                         for n in ("head", "cell", "cellr")})
    data = [[Paragraph(escape_markup(c.libelle), st["head"]) for c in cols]]
    for tr in texts:
        data.append([Paragraph(escape_markup(v), st["cell"] if c.genre in ("texte", "code") else st["cellr"])
                     for v, c in zip(tr, cols)])
    # width: the longest header word (headers wrap between words) or the longest value
    lens = [max([max(len(w) for w in c.libelle.split()) + 1, 6] + [len(x[j]) for x in texts[:300]]) + 2
            for j, c in enumerate(cols)]
    lens = [min(ln, 40) for ln in lens]
    tot = sum(lens) or 1
    widths = [width * ln / tot for ln in lens]
    tbl = LongTable(data, colWidths=widths, repeatRows=1)
    tbl.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDE7F0")),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#999999")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#F5F7FA")]),
        ("TOPPADDING", (0, 0), (-1, -1), 0.8 if t.police_pdf else 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 0.8 if t.police_pdf else 1.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]))
    return tbl


def _image(png: bytes, max_w: float, max_h: float) -> Image:
    ir = ImageReader(io.BytesIO(png))
    w, h = ir.getSize()
    r = min(max_w / w, max_h / h)
    return Image(io.BytesIO(png), width=w * r, height=h * r)


def build_pdf(doc: Document, *, compact: bool = False, page_par_section: bool = True,
              image_max_h: float | None = None) -> bytes:
    """PDF bytes. ``compact``: smaller fonts and margins (one-pager); ``page_par_section``:
    each section starts on a new page."""
    _fonts()
    st = _styles(compact)
    buf = io.BytesIO()
    margin = 1.3 * cm if compact else 1.8 * cm
    pdf = SimpleDocTemplate(buf, pagesize=A4, leftMargin=margin, rightMargin=margin, topMargin=margin,
                            bottomMargin=margin + 0.4 * cm, title=doc.titre, author="Atlas Petite Enfance",
                            subject=doc.sous_titre, lang="fr-FR")
    width = A4[0] - 2 * margin
    img_h = image_max_h or (9.5 * cm if compact else 13 * cm)

    def on_page(canvas, _doc):
        canvas.saveState()
        if doc.fictif:
            canvas.setFont(FONT_BOLD, 9)
            canvas.setFillColor(colors.HexColor("#8A1C1C"))
            canvas.drawString(margin, 1.05 * cm, doc.mention)
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(colors.HexColor("#444444"))
        canvas.drawRightString(A4[0] - margin, 0.6 * cm,
                               f"{doc.titre} — {fr_date(doc.date)} — page {canvas.getPageNumber()}")
        canvas.restoreState()

    story = [Paragraph(escape_markup(doc.titre), st["titre"])]
    for line in [doc.sous_titre, f"Document produit le {fr_date(doc.date)}"] + doc.couverture:
        if line:
            story.append(Paragraph(escape_markup(line), st["sous"]))
    if doc.fictif:
        story.append(Paragraph(escape_markup(doc.mention + " : les structures (crèches, RPE) ne sont pas réelles."),
                               st["demo"]))
    if doc.sources is not None:
        story += [Spacer(1, 6), Paragraph("Sources et millésimes des données", st["h"]),
                  pdf_table(doc.sources, width, st)]
    for i, s in enumerate(doc.sections):
        if page_par_section:
            story.append(PageBreak())
        story += _section(s, st, width, img_h)
    pdf.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buf.getvalue()


def _section(s: Section, st, width: float, img_h: float) -> list:
    head = [Paragraph(escape_markup(s.titre), st["h"])]
    if s.message:
        head.append(Paragraph(f"<b>{escape_markup(s.message)}</b>", st["p"]))
    if s.points:
        head += [Paragraph(escape_markup(p), st["li"], bulletText="•") for p in s.points]
        head.append(Spacer(1, 3))
    if s.image is not None:
        head.append(_image(s.image, width, img_h))
    out = [KeepTogether(head)]
    if s.tableau is not None and s.tableau_dans_pdf:
        out += [Spacer(1, 4), pdf_table(s.tableau, width, st)]
        if s.tableau.a_masque:
            out.append(Paragraph(escape_markup(NOTE_SECRET), st["note"]))
    for n in s.notes:
        out.append(Paragraph(escape_markup(n), st["note"]))
    return out
