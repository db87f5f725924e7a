"""PowerPoint rendering of a :class:`~exports.document.Document` (python-pptx).

16:9 slides readable from the back of a committee room: one message per slide in its title (the
section's ``message``), maps and charts filling the slide, tables of at most ``ROWS_PER_SLIDE`` rows
in 14 pt (the full table goes to the xlsx workbook and the PDF annex, said on the slide).  Editable:
titles are real title placeholders, tables are native PowerPoint tables, charts and maps are pictures
(with alternative text) followed by the native table that carries the same figures.
Every slide carries the demo mention in its footer when the document uses fictitious data.
"""
from __future__ import annotations

import io

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.util import Emu, Inches, Pt

from .document import NOTE_SECRET, Document, Section, Tableau, fr_date
from .safe import clean_text

W, H = Inches(13.333), Inches(7.5)
MARGIN = Inches(0.45)
TOP = Inches(1.25)
BOTTOM = Inches(6.85)
ROUGE = RGBColor(0x8A, 0x1C, 0x1C)
BLEU = RGBColor(0x1F, 0x3A, 0x5F)
GRIS = RGBColor(0x44, 0x44, 0x44)
ROWS_PER_SLIDE = 12
SLIDE_MAX_COLS = 6      # columns of a table on a slide (14 pt): the rest is in the workbook


def _layout(prs, name: str):
    for lay in prs.slide_layouts:
        if lay.name == name:
            return lay
    return prs.slide_layouts[5]


def _text(shape_tf, lines, size=14, bold=False, color=None, bullet=False):
    tf = shape_tf
    tf.word_wrap = True
    first = True
    for line in lines:
        p = tf.paragraphs[0] if first else tf.add_paragraph()
        first = False
        run = p.add_run()
        run.text = clean_text(("• " if bullet else "") + str(line))
        run.font.size = Pt(size)
        run.font.bold = bold
        if color is not None:
            run.font.color.rgb = color
        p.space_after = Pt(6 if bullet else 2)


class _Builder:
    def __init__(self, doc: Document):
        self.doc = doc
        self.prs = Presentation()
        self.prs.slide_width, self.prs.slide_height = W, H
        self.n = 0

    # -- common parts -------------------------------------------------------
    def new_slide(self, title: str):
        slide = self.prs.slides.add_slide(_layout(self.prs, "Title Only"))
        self.n += 1
        t = slide.shapes.title
        t.left, t.top, t.width, t.height = MARGIN, Inches(0.2), W - 2 * MARGIN, Inches(0.8)
        t.text = clean_text(title)
        t.text_frame.word_wrap = True
        for p in t.text_frame.paragraphs:
            p.alignment = 1  # left
            for r in p.runs:
                r.font.size = Pt(28 if len(title) < 60 else 24 if len(title) < 85 else 20)
                r.font.bold = True
                r.font.color.rgb = BLEU
        self.footer(slide)
        return slide

    def footer(self, slide):
        box = slide.shapes.add_textbox(MARGIN, Inches(7.0), W - 2 * MARGIN, Inches(0.4))
        tf = box.text_frame
        p = tf.paragraphs[0]
        if self.doc.fictif:
            r = p.add_run()
            r.text = self.doc.mention + "  ·  "
            r.font.size, r.font.bold, r.font.color.rgb = Pt(11), True, ROUGE
        r = p.add_run()
        r.text = clean_text(f"{self.doc.titre} — {fr_date(self.doc.date)} — {self.n}")
        r.font.size, r.font.color.rgb = Pt(10), GRIS

    def notes(self, slide, notes: list[str], y=None):
        """All notes go to the speaker notes; the slide shows the first two (small, above the footer)."""
        if not notes:
            return
        slide.notes_slide.notes_text_frame.text = clean_text("\n".join(notes))
        shown = list(notes[:2])
        if len(notes) > 2:
            shown.append("Suite des notes (sources, secret statistique) dans les notes de la diapositive.")
        box = slide.shapes.add_textbox(MARGIN, y or Inches(6.3), W - 2 * MARGIN, Inches(0.65))
        box.text_frame.word_wrap = True
        _text(box.text_frame, [n if len(n) <= 230 else n[:227] + "…" for n in shown], size=8, color=GRIS)

    def picture(self, slide, png: bytes, alt: str, left, top, max_w, max_h):
        pic = slide.shapes.add_picture(io.BytesIO(png), left, top)
        ratio = min(max_w / pic.width, max_h / pic.height)
        pic.width, pic.height = int(pic.width * ratio), int(pic.height * ratio)
        pic._element.nvPicPr.cNvPr.set("descr", clean_text(alt))
        return pic

    def table(self, slide, t: Tableau, rows: list[dict], left, top, width, max_h, font=11):
        cols = t.colonnes
        data = [[t.texte(r, c) for c in cols] for r in rows]
        n_rows = len(data) + 1
        row_h = Inches(0.42 if font >= 14 else 0.36 if font >= 11 else 0.3)
        shape = slide.shapes.add_table(n_rows, len(cols), left, top, width, min(max_h, row_h * n_rows))
        tbl = shape.table
        # column widths from the content length
        lens = [max([len(c.libelle) * 0.8] + [len(d[j]) for d in data]) + 2 for j, c in enumerate(cols)]
        tot = sum(lens)
        for j, ln in enumerate(lens):
            tbl.columns[j].width = Emu(int(width * ln / tot))
        for j, c in enumerate(cols):
            self._cell(tbl.cell(0, j), c.libelle, font, bold=True, right=False)
        for i, d in enumerate(data, start=1):
            for j, c in enumerate(cols):
                self._cell(tbl.cell(i, j), d[j], font, right=c.genre not in ("texte", "code"))
        return shape

    @staticmethod
    def _cell(cell, text: str, size: int, bold=False, right=False):
        cell.text = clean_text(text)
        cell.margin_left = cell.margin_right = Inches(0.05)
        cell.margin_top = cell.margin_bottom = Inches(0.02)
        for p in cell.text_frame.paragraphs:
            if right:
                p.alignment = 3  # right
            for r in p.runs:
                r.font.size = Pt(size)
                r.font.bold = bold

    # -- slides -------------------------------------------------------------
    def cover(self):
        d = self.doc
        slide = self.prs.slides.add_slide(_layout(self.prs, "Title Only"))
        self.n += 1
        t = slide.shapes.title
        t.left, t.top, t.width, t.height = MARGIN, Inches(0.4), W - 2 * MARGIN, Inches(1.1)
        t.text = clean_text(d.titre)
        for p in t.text_frame.paragraphs:
            p.alignment = 1
            for r in p.runs:
                r.font.size, r.font.bold, r.font.color.rgb = Pt(32), True, BLEU
        box = slide.shapes.add_textbox(MARGIN, Inches(1.5), W - 2 * MARGIN, Inches(1.2))
        lines = [d.sous_titre, f"Document produit le {fr_date(d.date)}"] + d.couverture
        _text(box.text_frame, [x for x in lines if x], size=16, color=GRIS)
        if d.fictif:
            b = slide.shapes.add_textbox(MARGIN, Inches(2.75), W - 2 * MARGIN, Inches(0.4))
            _text(b.text_frame, [d.mention + " : les structures (crèches, RPE) ne sont pas réelles."],
                  size=14, bold=True, color=ROUGE)
        if d.sources is not None:
            present = [r for r in d.sources.lignes if r.get("nature") != "absente"]
            absent = [r["donnees"] for r in d.sources.lignes if r.get("nature") == "absente"]
            self.table(slide, d.sources, present, MARGIN, Inches(3.3), W - 2 * MARGIN, Inches(3.0), font=9)
            if absent:
                b = slide.shapes.add_textbox(MARGIN, Inches(6.45), W - 2 * MARGIN, Inches(0.45))
                b.text_frame.word_wrap = True
                _text(b.text_frame, ["Non importées (donnée non disponible) : " + ", ".join(absent) + "."],
                      size=9, color=GRIS)
        self.footer(slide)

    def section(self, s: Section):
        """One message per slide, in its title: a picture fills the slide, its table (at most
        ``ROWS_PER_SLIDE`` rows) follows; key figures are one text slide; the rest of a long table goes to
        the xlsx workbook and the PDF annex, said on the slide."""
        title = s.message or s.titre
        t = s.tableau if s.tableau_dans_pptx else None
        if s.image is not None:
            slide = self.new_slide(title)
            self.subtitle(slide, s.titre)
            self.picture(slide, s.image, s.image_alt, MARGIN, TOP, W - 2 * MARGIN, BOTTOM - TOP - Inches(0.35))
            if s.points:
                slide.notes_slide.notes_text_frame.text = clean_text("\n".join(s.points))
            self.notes(slide, list(s.notes) + (["Tableau sur la diapositive suivante."] if t is not None else []),
                       y=Inches(6.55))
            if t is not None:
                self.table_slide(f"{s.titre} — tableau", t, s.notes)
            return
        if s.points:
            slide = self.new_slide(title)
            if s.message:
                self.subtitle(slide, s.titre)
            box = slide.shapes.add_textbox(MARGIN, TOP, W - 2 * MARGIN, Inches(5))
            _text(box.text_frame, s.points[:6], size=20, bullet=True)
            self.notes(slide, list(s.notes) + s.points[6:])
            if t is not None:
                self.table_slide(f"{s.titre} — tableau", t, s.notes)
            return
        if t is not None:
            self.table_slide(title, t, s.notes, sous_titre=s.titre if s.message else "")

    def subtitle(self, slide, text: str):
        box = slide.shapes.add_textbox(MARGIN, Inches(1.0), W - 2 * MARGIN, Inches(0.3))
        _text(box.text_frame, [text], size=12, color=GRIS)

    def table_slide(self, title: str, t: Tableau, notes: list[str], sous_titre: str = ""):
        """The first ``ROWS_PER_SLIDE`` rows, readable from the back of the room; the full table lives in
        the workbook and the PDF annex (said on the slide)."""
        rows = t.lignes
        extra = [NOTE_SECRET] if t.a_masque else []
        slide = self.new_slide(title)
        if sous_titre:
            self.subtitle(slide, sous_titre)
        shown = rows[:ROWS_PER_SLIDE]
        cols = [c for c in t.colonnes if c.genre != "code" or len(t.colonnes) <= 3][:SLIDE_MAX_COLS]
        if len(cols) < len(t.colonnes):
            extra = [f"Colonnes affichées : {len(cols)} sur {len(t.colonnes)} (toutes dans le classeur xlsx)."] + extra
            t = Tableau(t.titre, cols, t.lignes, nom_feuille=t.nom_feuille)
        self.table(slide, t, shown, MARGIN, TOP + Inches(0.15), W - 2 * MARGIN, BOTTOM - TOP - Inches(0.6), font=14)
        if not rows:
            box = slide.shapes.add_textbox(MARGIN, Inches(2), W - 2 * MARGIN, Inches(1))
            _text(box.text_frame, ["Aucune ligne."], size=18)
        if len(rows) > ROWS_PER_SLIDE:
            extra = [f"{ROWS_PER_SLIDE} premières lignes sur {len(rows)} : tableau complet dans le classeur xlsx "
                     f"(feuille « {t.nom_feuille or t.titre} ») et en annexe du PDF."] + extra
        self.notes(slide, extra + list(notes), y=Inches(6.45))


def build_pptx(doc: Document) -> bytes:
    b = _Builder(doc)
    b.cover()
    for s in doc.sections:
        b.section(s)
    buf = io.BytesIO()
    b.prs.save(buf)
    return buf.getvalue()
